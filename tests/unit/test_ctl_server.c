/* SPDX-License-Identifier: MIT */
/*
 * lib/ctl_server.c and ctl_recv's errno contract over real sockets: SOCK_SEQPACKET
 * socketpairs adopted by the server, and a real listening socket in a temporary folder
 * (accept, peer uid refusal from a child that switched to another uid).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

struct fixture {
	struct ctl_server s;
	int opened, closing;
	size_t last_closed;
	bool defer_next;
	bool want[CTL_MAX_CONNS];
};

static struct fixture F;

static json_t *cmd_echo(void *ctx, size_t conn, const json_t *req)
{
	json_t *r = ctl_reply_ok();

	(void)ctx;
	json_object_set_new(r, "conn", json_integer((json_int_t)conn));
	json_object_set(r, "arg", json_object_get(req, "arg"));
	return r;
}

/* A reply larger than any message. */
static json_t *cmd_huge(void *ctx, size_t conn, const json_t *req)
{
	char *big = malloc(CTL_MSG_MAX + 10);
	json_t *r = ctl_reply_ok();

	(void)ctx;
	(void)conn;
	(void)req;
	memset(big, 'x', CTL_MSG_MAX + 9);
	big[CTL_MSG_MAX + 9] = '\0';
	json_object_set_new(r, "data", json_string(big));
	free(big);
	return r;
}

static json_t *cmd_later(void *ctx, size_t conn, const json_t *req)
{
	struct fixture *f = ctx;

	(void)req;
	ctl_server_defer(&f->s, conn);
	return NULL;
}

static json_t *gate(void *ctx, size_t conn, const json_t *req)
{
	(void)ctx;
	(void)conn;
	return json_is_true(json_object_get(req, "gated")) ? ctl_reply_error("gated") : NULL;
}

static void opened(void *ctx, size_t conn)
{
	(void)conn;
	((struct fixture *)ctx)->opened++;
}

static void closing(void *ctx, size_t conn)
{
	struct fixture *f = ctx;

	f->closing++;
	f->last_closed = conn;
}

static const struct ctl_command commands[] = {
	{ "echo", cmd_echo },
	{ "huge", cmd_huge },
	{ "later", cmd_later },
	{ NULL, NULL },
};

static void open_server(int listen_fd, size_t max)
{
	const struct ctl_server_ops ops = {
		.commands = commands,
		.ctx = &F,
		.gate = gate,
		.opened = opened,
		.closing = closing,
	};

	memset(&F, 0, sizeof(F));
	assert_int_equal(ctl_server_open(&F.s, listen_fd, max, &ops), 0);
}

/* A connected pair: the server adopts one end (non-blocking), the test keeps the other. */
static int adopt_pair(int *slot)
{
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
				    sp), 0);
	*slot = ctl_server_adopt(&F.s, sp[0]);
	return sp[1];
}

static void put(int fd, json_t *req)
{
	assert_int_equal(ctl_send(fd, req), 0);
	json_decref(req);
}

static json_t *get(int fd)
{
	char err[256];
	bool closed;
	json_t *r = ctl_recv(fd, &closed, err, sizeof(err));

	if (!r)
		fail_msg("no reply: %s", err);
	return r;
}

static void expect_error(json_t *r, const char *part)
{
	const char *e = json_string_value(json_object_get(r, "error"));

	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(e);
	if (!strstr(e, part))
		fail_msg("error \"%s\" lacks \"%s\"", e, part);
	json_decref(r);
}

/* send one request, let the server handle it, read the reply */
static json_t *call(int fd, size_t slot, json_t *req)
{
	put(fd, req);
	ctl_server_input(&F.s, slot);
	return get(fd);
}

static void test_dispatch(void **state)
{
	int slot, fd;
	json_t *r;

	(void)state;
	open_server(-1, 4);
	fd = adopt_pair(&slot);
	assert_int_equal(slot, 0);
	assert_int_equal(F.opened, 1);
	r = call(fd, slot, json_pack("{s:s, s:i}", "cmd", "echo", "arg", 7));
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "arg")), 7);
	json_decref(r);
	expect_error(call(fd, slot, json_pack("{s:s}", "cmd", "ech")), "unknown command \"ech\"");
	expect_error(call(fd, slot, json_pack("{s:i}", "cmd", 3)), "request without \"cmd\"");
	expect_error(call(fd, slot, json_pack("{s:s, s:b}", "cmd", "echo", "gated", 1)), "gated");
	/* nothing to read: nothing happens, the connection stays */
	ctl_server_input(&F.s, slot);
	assert_true(F.s.conns[slot].fd >= 0);
	assert_int_equal(F.closing, 0);
	close(fd);
	ctl_server_close(&F.s);
	assert_int_equal(F.closing, 1);
}

/* Oversized, truncated and non-object messages get an error reply; the connection stays. */
static void test_bad_messages(void **state)
{
	static const char *bad[] = { "{\"cmd\": \"echo\"", "[1, 2]", "\"cmd\"", "{\"a\":1,\"a\":2}" };
	char *big = malloc(CTL_MSG_MAX + 100);
	int slot, fd;
	json_t *r;

	(void)state;
	open_server(-1, 4);
	fd = adopt_pair(&slot);
	memset(big, ' ', CTL_MSG_MAX + 100);
	memcpy(big, "{\"cmd\": \"echo\"}", 15);
	assert_int_equal(send(fd, big, CTL_MSG_MAX + 100, 0), CTL_MSG_MAX + 100);
	ctl_server_input(&F.s, slot);
	expect_error(get(fd), "exceeds 65536");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(send(fd, bad[i], strlen(bad[i]), 0), (ssize_t)strlen(bad[i]));
		ctl_server_input(&F.s, slot);
		expect_error(get(fd), "bad control message");
	}
	r = call(fd, slot, json_pack("{s:s}", "cmd", "echo"));
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(F.closing, 0);
	free(big);
	close(fd);
	ctl_server_close(&F.s);
}

/* A closed peer frees its slot (the daemon hears of it first); the slot is used again. */
static void test_closed_peer(void **state)
{
	int slot, slot2, fd, fd2;

	(void)state;
	open_server(-1, 1);
	fd = adopt_pair(&slot);
	close(fd);
	ctl_server_input(&F.s, slot);
	assert_int_equal(F.closing, 1);
	assert_int_equal(F.last_closed, slot);
	assert_int_equal(F.s.conns[slot].fd, -1);
	fd2 = adopt_pair(&slot2);
	assert_int_equal(slot2, slot);
	close(fd2);
	ctl_server_close(&F.s);
}

static void test_slot_exhaustion(void **state)
{
	int fds[3], slots[3];
	json_t *r;

	(void)state;
	open_server(-1, 2);
	for (int i = 0; i < 3; i++)
		fds[i] = adopt_pair(&slots[i]);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
	assert_int_equal(slots[2], -1);
	assert_int_equal(F.opened, 2);
	/* the third peer got an answer, then the end of the connection */
	expect_error(get(fds[2]), "too many control connections");
	{
		char c;
		assert_int_equal(recv(fds[2], &c, 1, 0), 0);
	}
	/* the admitted ones still work */
	r = call(fds[1], (size_t)slots[1], json_pack("{s:s}", "cmd", "echo"));
	assert_int_equal(json_integer_value(json_object_get(r, "conn")), 1);
	json_decref(r);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	ctl_server_close(&F.s);
}

/* A deferred reply: other requests on that connection are refused until it is answered. */
static void test_deferred(void **state)
{
	int slot, fd;
	json_t *r;

	(void)state;
	open_server(-1, 4);
	fd = adopt_pair(&slot);
	put(fd, json_pack("{s:s}", "cmd", "later"));
	ctl_server_input(&F.s, slot);
	assert_true(F.s.conns[slot].deferred);
	expect_error(call(fd, slot, json_pack("{s:s}", "cmd", "echo")),
		     "one request at a time on a connection");
	ctl_server_answer(&F.s, slot, json_pack("{s:b, s:s}", "ok", 1, "late", "yes"));
	r = get(fd);
	assert_string_equal(json_string_value(json_object_get(r, "late")), "yes");
	json_decref(r);
	r = call(fd, slot, json_pack("{s:s}", "cmd", "echo"));
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* an answer for a connection that waits for none is dropped */
	ctl_server_answer(&F.s, slot, ctl_reply_ok());
	ctl_server_input(&F.s, slot);
	assert_int_equal(F.closing, 0);
	close(fd);
	ctl_server_close(&F.s);
}

/* A reply too large for one message becomes an error that says so. */
static void test_reply_too_large(void **state)
{
	int slot, fd;

	(void)state;
	open_server(-1, 4);
	fd = adopt_pair(&slot);
	expect_error(call(fd, slot, json_pack("{s:s}", "cmd", "huge")), "exceeds a control message");
	close(fd);
	ctl_server_close(&F.s);
}

static bool want(void *ctx, size_t conn)
{
	return ((struct fixture *)ctx)->want[conn];
}

static void test_broadcast(void **state)
{
	int fds[3], slots[3];
	json_t *ev = json_pack("{s:s}", "event", "x");
	char c;

	(void)state;
	open_server(-1, 4);
	for (int i = 0; i < 3; i++)
		fds[i] = adopt_pair(&slots[i]);
	F.want[slots[0]] = F.want[slots[2]] = true;
	assert_int_equal(ctl_server_broadcast(&F.s, ev, want), 2);
	json_decref(get(fds[0]));
	json_decref(get(fds[2]));
	assert_int_equal(recv(fds[1], &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	json_decref(ev);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	ctl_server_close(&F.s);
}

/* The errno contract of lib/ctl.h, the same for ctl_recv and ctl_recv_max. */
static void test_recv_contract(void **state)
{
	char err[256];
	bool closed;
	int sp[2];

	(void)state;
	for (int variant = 0; variant < 2; variant++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp), 0);
#define RECV() (variant ? ctl_recv_max(sp[0], 100, &closed, err, sizeof(err)) : \
		ctl_recv(sp[0], &closed, err, sizeof(err)))
		assert_null(RECV());
		assert_false(closed);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_int_equal(send(sp[1], "{x", 2, 0), 2);
		assert_null(RECV());
		assert_false(closed);
		assert_int_equal(errno, EBADMSG);
		if (variant) {
			char big[200];
			memset(big, ' ', sizeof(big));
			big[0] = '{';
			big[sizeof(big) - 1] = '}';
			assert_int_equal(send(sp[1], big, sizeof(big), 0), (ssize_t)sizeof(big));
			assert_null(RECV());
			assert_false(closed);
			assert_int_equal(errno, EMSGSIZE);
		}
		assert_int_equal(send(sp[1], "{}", 2, 0), 2);
		json_t *m = RECV();
		assert_non_null(m);
		json_decref(m);
		close(sp[1]);
		assert_null(RECV());
		assert_true(closed);
		assert_int_equal(errno, 0);
		assert_string_equal(err, "connection closed");
#undef RECV
		close(sp[0]);
	}
}

static char sockdir[] = "/tmp/coopnet-test-ctl-XXXXXX";

static void sock_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", sockdir, name);
}

/* A real listening socket: connections are accepted through the server's one fd. */
static void test_listen_accept(void **state)
{
	char path[108];
	int lfd, fd;
	json_t *r;

	(void)state;
	sock_path(path, sizeof(path), "a.sock");
	lfd = ctl_listen(path, 0600);
	assert_true(lfd >= 0);
	open_server(lfd, 4);
	fd = ctl_connect(path);
	assert_true(fd >= 0);
	put(fd, json_pack("{s:s, s:s}", "cmd", "echo", "arg", "hi"));
	/* the accept, then the request: each a run of the server */
	for (int i = 0; i < 20 && F.opened == 0; i++)
		ctl_server_run(&F.s);
	ctl_server_run(&F.s);
	r = get(fd);
	assert_string_equal(json_string_value(json_object_get(r, "arg")), "hi");
	json_decref(r);
	close(fd);
	ctl_server_run(&F.s);
	assert_int_equal(F.closing, 1);
	ctl_server_close(&F.s);
	unlink(path);
}

/* A peer with another uid gets "permission denied" and is counted; root gets answered. */
static void test_peer_uid_refused(void **state)
{
	char path[108];
	int lfd, status = 0, pfd[2];
	pid_t pid;
	char buf[512] = "";
	ssize_t n;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to switch to another uid */
	sock_path(path, sizeof(path), "u.sock");
	lfd = ctl_listen(path, 0666); /* so that the other uid may connect at all */
	assert_true(lfd >= 0);
	open_server(lfd, 4);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_t *req = json_pack("{s:s}", "cmd", "echo"), *r;
		char err[256];
		char *text;

		close(pfd[0]);
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		r = ctl_call(path, req, 5000, err, sizeof(err));
		text = r ? json_dumps(r, JSON_COMPACT) : strdup(err);
		(void)!write(pfd[1], text, strlen(text));
		_exit(0);
	}
	close(pfd[1]);
	for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		ctl_server_run(&F.s);
		usleep(10000);
	}
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	if (!strstr(buf, "permission denied"))
		fail_msg("the other uid got: %s", buf);
	assert_int_equal(F.s.refused, 1);
	assert_int_equal(F.opened, 0);
	ctl_server_close(&F.s);
	unlink(path);
}

/* The pager over a cursor that skips (like a hash table's free slots): only even cursors hold
 * an item; item fail_at cannot be made (out of memory), which fails the page, not a crash. */
struct sparse {
	size_t end, fail_at;
};

static int sparse_next(void *arg, size_t *pos, json_t **item)
{
	const struct sparse *sp = arg;

	*pos += *pos % 2;
	if (*pos >= sp->end)
		return 0;
	if (*pos == sp->fail_at)
		return -1;
	*item = json_pack("{s:I, s:s}", "n", (json_int_t)*pos, "pad",
			  "................................................................");
	*pos += 1;
	return 1;
}

static void test_pager_cursor(void **state)
{
	struct sparse failing = { 100, 50 }, big = { 20000, SIZE_MAX };
	json_t *req = json_pack("{s:s, s:i}", "cmd", "x", "offset", 3), *r, *items;
	size_t pos = 0, seen = 0, expect = 0;
	bool more;

	(void)state;
	assert_null(ctl_chunk(sparse_next, &failing, &pos, CTL_CHUNK_BUDGET, &more));
	assert_null(ctl_reply_page(50, sparse_next, &failing, req, "items"));
	json_decref(req);
	/* every item once, in order, from cursor 0 through "next", each page one message */
	for (json_int_t off = 0, pages = 0;; pages++) {
		json_t *next;
		size_t i;
		json_t *v;

		assert_true(pages < 100);
		req = json_pack("{s:s, s:I}", "cmd", "x", "offset", off);
		r = ctl_reply_page(10000, sparse_next, &big, req, "items");
		json_decref(req);
		assert_non_null(r);
		assert_true(ctl_json_size(r) <= CTL_MSG_MAX);
		assert_int_equal(json_integer_value(json_object_get(r, "total")), 10000);
		items = json_object_get(r, "items");
		json_array_foreach(items, i, v) {
			assert_int_equal(json_integer_value(json_object_get(v, "n")), expect);
			expect += 2;
			seen++;
		}
		next = json_object_get(r, "next");
		if (!next) {
			json_decref(r);
			break;
		}
		off = json_integer_value(next);
		json_decref(r);
	}
	assert_int_equal(seen, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_closed_peer),
		cmocka_unit_test(test_slot_exhaustion),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_reply_too_large),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_recv_contract),
		cmocka_unit_test(test_listen_accept),
		cmocka_unit_test(test_peer_uid_refused),
		cmocka_unit_test(test_pager_cursor),
	};

	int rc;

	if (!mkdtemp(sockdir) || chmod(sockdir, 0755) < 0) /* 0755: the other uid connects too */
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(sockdir);
	return rc;
}
