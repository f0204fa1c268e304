/* SPDX-License-Identifier: MIT */
/* Health checks (authd/health.c) against real sockets on loopback: a listener that answers,
 * one that accepts and never answers, a closed port, HTTP 200 and 500, rise and fall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "health.h"

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A listening socket on 127.0.0.1, port in *sin. */
static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

/* An HTTP server thread answering every request with the status in `code`. */
struct server {
	int fd;
	atomic_int code;
	atomic_bool stop;
	atomic_int served;
	pthread_t th;
};

static void serve_one(struct server *s, int c)
{
	char buf[1024], resp[128];
	size_t got = 0;
	int n;

	/* read the request head (bounded in size and time) */
	for (int i = 0; i < 50 && got < sizeof(buf) - 1; i++) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((r = read(c, buf + got, sizeof(buf) - 1 - got)) <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	if (!strncmp(buf, "GET /health HTTP/1.0\r\n", 22) && strstr(buf, "\r\nHost: "))
		atomic_fetch_add(&s->served, 1);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
		     atomic_load(&s->code));
	(void)!write(c, resp, (size_t)n);
	close(c);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) >= 0)
			serve_one(s, c);
	}
	return NULL;
}

static void server_start(struct server *s, struct sockaddr_in *sin, int code)
{
	s->fd = listener(sin);
	atomic_store(&s->code, code);
	atomic_store(&s->stop, false);
	atomic_store(&s->served, 0);
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->fd);
}

/* Run h until it has finished `checks` more checks (at most limit_ms). Returns how many
 * times the verdict changed. */
static int run_checks(struct health *h, int checks, uint64_t limit_ms)
{
	uint64_t end = mono() + limit_ms, target = health_last(h)->checks + (uint64_t)checks;
	int changes = 0;

	while (health_last(h)->checks < target && mono() < end) {
		short ev;
		int fd = health_fd(h, &ev);
		uint64_t now = mono(), dl = health_next_deadline(h);
		int wait = dl > now ? (int)(dl - now) : 0;
		struct pollfd p = { .fd = fd, .events = ev };

		poll(fd >= 0 ? &p : NULL, fd >= 0, wait > 20 ? 20 : wait);
		changes += health_run(h, mono());
	}
	assert_int_equal(health_last(h)->checks, target);
	return changes;
}

static struct health *make(uint8_t check, const struct sockaddr_in *sin, uint32_t rise,
    uint32_t fall)
{
	struct health_cfg c = { .check = check, .interval_ms = 250, .timeout_ms = 200,
				.rise = rise, .fall = fall };
	struct health *h;

	strcpy(c.path, "/health");
	h = health_new(&c, (const struct sockaddr *)sin, sizeof(*sin), mono());
	assert_non_null(h);
	assert_int_equal(health_verdict(h), CN_HEALTH_UNKNOWN);
	return h;
}

static void test_tcp_pass(void **state)
{
	struct sockaddr_in sin;
	int fd = listener(&sin);
	struct health *h = make(CN_CHECK_TCP, &sin, 2, 3);

	(void)state;
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	assert_true(health_last(h)->ok);
	assert_int_equal(health_last(h)->http_code, 0);
	health_free(h);
	close(fd);
}

static void test_tcp_refused(void **state)
{
	struct sockaddr_in sin;
	int fd = listener(&sin);
	struct health *h;

	(void)state;
	close(fd); /* nobody listens on that port now */
	h = make(CN_CHECK_TCP, &sin, 2, 3);
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	assert_string_equal(health_last(h)->why, "refused");
	health_free(h);
}

static void test_http_hang(void **state)
{
	struct sockaddr_in sin;
	int fd = listener(&sin); /* the kernel accepts; nobody ever answers */
	struct health *h = make(CN_CHECK_HTTP, &sin, 1, 1);

	(void)state;
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	assert_string_equal(health_last(h)->why, "timeout");
	assert_true(health_last(h)->ms >= 200);
	/* a TCP check of the same listener passes: the connect works, the service does not */
	health_free(h);
	h = make(CN_CHECK_TCP, &sin, 1, 1);
	run_checks(h, 1, 5000);
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	health_free(h);
	close(fd);
}

static void test_http_500(void **state)
{
	struct sockaddr_in sin;
	struct server s;
	struct health *h;

	(void)state;
	server_start(&s, &sin, 500);
	h = make(CN_CHECK_HTTP, &sin, 1, 1);
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	assert_int_equal(health_last(h)->http_code, 500);
	assert_string_equal(health_last(h)->why, "status");
	assert_int_equal(atomic_load(&s.served), 1); /* the GET it sent was well formed */
	server_stop(&s);
	health_free(h);
}

static void test_rise_fall(void **state)
{
	struct sockaddr_in sin;
	struct server s;
	struct health *h;

	(void)state;
	server_start(&s, &sin, 200);
	h = make(CN_CHECK_HTTP, &sin, 2, 3);
	assert_int_equal(run_checks(h, 1, 5000), 1); /* the first result decides */
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	assert_int_equal(health_last(h)->http_code, 200);
	atomic_store(&s.code, 500);
	assert_int_equal(run_checks(h, 2, 5000), 0); /* 2 failures: fall is 3 */
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	assert_false(health_last(h)->ok);
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	atomic_store(&s.code, 302); /* a redirect passes, as HAProxy's default */
	assert_int_equal(run_checks(h, 1, 5000), 0); /* 1 pass: rise is 2 */
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	assert_int_equal(run_checks(h, 1, 5000), 1);
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	assert_true(health_last(h)->changed_ms > 0);
	server_stop(&s);
	health_free(h);
}

static void test_expect_status(void **state)
{
	struct health_cfg c = { .check = CN_CHECK_HTTP, .interval_ms = 250, .timeout_ms = 200,
				.expect_status = 204 };
	struct sockaddr_in sin;
	struct server s;
	struct health *h;

	(void)state;
	server_start(&s, &sin, 200);
	h = health_new(&c, (const struct sockaddr *)&sin, sizeof(sin), mono());
	assert_non_null(h);
	run_checks(h, 1, 5000);
	assert_int_equal(health_verdict(h), CN_HEALTH_FAILING);
	atomic_store(&s.code, 204);
	run_checks(h, 2, 5000);
	assert_int_equal(health_verdict(h), CN_HEALTH_PASSING);
	server_stop(&s);
	health_free(h);
}

static void test_cfg(void **state)
{
	struct health_cfg c = { .check = CN_CHECK_HTTP };
	const char *why = NULL;

	(void)state;
	assert_true(health_cfg_defaults(&c, &why));
	assert_int_equal(c.interval_ms, 5000);
	assert_int_equal(c.timeout_ms, 2000);
	assert_int_equal(c.rise, 2);
	assert_int_equal(c.fall, 3);
	assert_string_equal(c.path, "/");
	c = (struct health_cfg){ .check = CN_CHECK_NONE };
	assert_false(health_cfg_defaults(&c, &why));
	c = (struct health_cfg){ .check = CN_CHECK_TCP, .interval_ms = 1000, .timeout_ms = 1000 };
	assert_false(health_cfg_defaults(&c, &why));
	assert_string_equal(why, "timeout_ms must be above 0 and below interval_ms");
	c = (struct health_cfg){ .check = CN_CHECK_HTTP };
	strcpy(c.path, "/a b");
	assert_false(health_cfg_defaults(&c, &why));
	c = (struct health_cfg){ .check = CN_CHECK_HTTP };
	strcpy(c.host, "evil\r\nX: y");
	assert_false(health_cfg_defaults(&c, &why));
	c = (struct health_cfg){ .check = CN_CHECK_HTTP, .expect_status = 42 };
	assert_false(health_cfg_defaults(&c, &why));
}

static void test_link_state(void **state)
{
	(void)state;
	assert_int_equal(health_link_from_operstate("up\n"), CN_LINK_UP);
	assert_int_equal(health_link_from_operstate("down\n"), CN_LINK_DOWN);
	assert_int_equal(health_link_from_operstate("lowerlayerdown"), CN_LINK_DOWN);
	assert_int_equal(health_link_from_operstate("notpresent\n"), CN_LINK_DOWN);
	assert_int_equal(health_link_from_operstate("unknown\n"), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_from_operstate("dormant"), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_from_operstate("upx"), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_from_operstate(""), CN_LINK_UNKNOWN);
	/* the kernel's own: lo has no carrier notion ("unknown"), a missing link is down */
	assert_int_equal(health_link_state("lo"), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_state("cn-nosuchlink"), CN_LINK_DOWN);
	assert_int_equal(health_link_state("../lo"), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_state(".."), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_state(""), CN_LINK_UNKNOWN);
	assert_int_equal(health_link_state("a-name-too-long-for-linux"), CN_LINK_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_pass),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_http_hang),
		cmocka_unit_test(test_http_500),
		cmocka_unit_test(test_rise_fall),
		cmocka_unit_test(test_expect_status),
		cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_link_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
