/* SPDX-License-Identifier: MIT */
/* lib/log.c: lines held (log_hold) leave in writes of whole lines, in order, at most 4,096
 * bytes each; nothing before log_flush; exit writes what is held. stderr is a SOCK_SEQPACKET
 * socket here, so that every write(2) arrives as one packet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static int peer = -1, saved = -1;

static int setup(void **state)
{
	int sv[2];

	(void)state;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (saved < 0 || dup2(sv[0], STDERR_FILENO) < 0)
		return -1;
	close(sv[0]);
	peer = sv[1];
	log_init("t", LOG_TO_STDERR, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_hold(false);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(peer);
	return 0;
}

/* the next write on stderr, or 0 bytes if none is waiting */
static size_t next_write(char *buf, size_t size)
{
	ssize_t n = recv(peer, buf, size, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	assert_true(n > 0);
	return (size_t)n;
}

/* every write read into all (whole lines, at most 4,096 bytes each); the number of writes */
static int drain(char *all, size_t size, size_t *len)
{
	char buf[8192];
	size_t n;
	int writes = 0;

	*len = 0;
	while ((n = next_write(buf, sizeof(buf))) > 0) {
		assert_true(n <= 4096);
		assert_int_equal(buf[n - 1], '\n');
		assert_true(*len + n < size);
		memcpy(all + *len, buf, n);
		*len += n;
		writes++;
	}
	all[*len] = '\0';
	return writes;
}

static void test_held_until_flush(void **state)
{
	static char all[65536];
	char want[64];
	size_t len;
	const char *p;

	(void)state;
	log_hold(true);
	for (int i = 0; i < 300; i++)
		log_info("session %d added", i);
	/* more than fits one write (about 6,000 bytes): whole lines, at most 4,096 bytes a write */
	log_flush();
	assert_in_range(drain(all, sizeof(all), &len), 2, 10);
	p = all;
	for (int i = 0; i < 300; i++) { /* all of them, in order, each once */
		snprintf(want, sizeof(want), "t: session %d added\n", i);
		assert_memory_equal(p, want, strlen(want));
		p += strlen(want);
	}
	assert_int_equal(p - all, (long)len);
	/* a few lines: nothing until the flush, then one write */
	log_warnx("one");
	errno = EPERM;
	log_warn("two");
	assert_int_equal(drain(all, sizeof(all), &len), 0);
	log_flush();
	assert_int_equal(drain(all, sizeof(all), &len), 1);
	assert_string_equal(all, "t: one\nt: two: Operation not permitted\n");
}

static void test_long_line_cut(void **state)
{
	static char all[65536];
	char big[2000];
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_hold(true);
	for (int i = 0; i < 5; i++)
		log_info("%s", big); /* vlog keeps 1,023 bytes of a message */
	log_flush();
	assert_int_equal(drain(all, sizeof(all), &len), 2);
	assert_int_equal(len, 5 * (strlen("t: ") + 1023 + 1));
}

static void test_not_held(void **state)
{
	char all[4096];
	size_t len;

	(void)state;
	log_hold(false);
	log_info("a");
	log_info("b");
	/* one write a line, at once */
	assert_int_equal(drain(all, sizeof(all), &len), 2);
	assert_string_equal(all, "t: a\nt: b\n");
}

static void test_exit_writes_held(void **state)
{
	char all[4096];
	size_t len;
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		log_hold(true);
		log_info("last words");
		exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(drain(all, sizeof(all), &len), 1);
	assert_string_equal(all, "t: last words\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_until_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_writes_held, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
