/* SPDX-License-Identifier: MIT */
/* lib/rndpool.c: libsodium's random bytes served from a pool: one getrandom(2) per 4 KiB,
 * no byte served twice, the pool emptied by a stir and in a fork's child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "rndpool.h"

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || rndpool_install() < 0)
		return -1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 80,000 bytes in 8-byte draws: 20 pool fills (not 10,000 system calls), all draws distinct */
static void test_pool_serves_once(void **state)
{
	enum { N = 10000 };
	uint64_t *v = calloc(N, sizeof(*v));
	size_t before;

	(void)state;
	assert_non_null(v);
	assert_string_equal(randombytes_implementation_name(), "coopnet-rndpool");
	rndpool_discard();
	before = rndpool_fills();
	for (size_t i = 0; i < N; i++)
		randombytes_buf(&v[i], sizeof(v[i]));
	assert_int_equal(rndpool_fills() - before, (N * sizeof(v[0]) + RNDPOOL_SIZE - 1) / RNDPOOL_SIZE);
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t i = 1; i < N; i++)
		assert_true(v[i] != v[i - 1]);
	free(v);
}

/* a draw across the end of the pool takes the rest and the start of the next fill */
static void test_pool_straddle(void **state)
{
	uint8_t a[RNDPOOL_SIZE - 3], b[8], zero[8] = { 0 };
	size_t before;

	(void)state;
	rndpool_discard();
	before = rndpool_fills();
	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	assert_int_equal(rndpool_fills() - before, 2);
	assert_memory_not_equal(b, zero, sizeof(b));
	/* a draw of the pool's size or more goes to the source: no fill */
	before = rndpool_fills();
	{
		uint8_t big[RNDPOOL_SIZE + 100];

		randombytes_buf(big, sizeof(big));
	}
	assert_int_equal(rndpool_fills(), before);
}

/* randombytes_stir() empties the pool: the next draw fills it again */
static void test_pool_stir(void **state)
{
	uint8_t x[16];
	size_t before;

	(void)state;
	randombytes_buf(x, sizeof(x));
	before = rndpool_fills();
	randombytes_buf(x, sizeof(x));
	assert_int_equal(rndpool_fills(), before);
	randombytes_stir();
	randombytes_buf(x, sizeof(x));
	assert_int_equal(rndpool_fills(), before + 1);
}

/* uniform draws stay below their bound (libsodium's rejection sampling over the pool) */
static void test_pool_uniform(void **state)
{
	unsigned seen[7] = { 0 };

	(void)state;
	for (int i = 0; i < 7000; i++) {
		uint32_t r = randombytes_uniform(7);

		assert_true(r < 7);
		seen[r]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i] > 500); /* 1,000 expected each */
}

/* parent and child of a fork never serve the same bytes (the pool is emptied in the child) */
static void test_pool_fork(void **state)
{
	uint8_t mine[32], theirs[32], warm[8];
	int fd[2], status;
	pid_t pid;

	(void)state;
	randombytes_buf(warm, sizeof(warm)); /* the pool holds bytes when we fork */
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t c[32];

		randombytes_buf(c, sizeof(c));
		_exit(write(fd[1], c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : 1);
	}
	randombytes_buf(mine, sizeof(mine));
	assert_int_equal(read(fd[0], theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(mine, theirs, sizeof(mine));
	close(fd[0]);
	close(fd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_serves_once),
		cmocka_unit_test(test_pool_straddle),
		cmocka_unit_test(test_pool_stir),
		cmocka_unit_test(test_pool_uniform),
		cmocka_unit_test(test_pool_fork),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
