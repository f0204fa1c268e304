/* SPDX-License-Identifier: MIT */
/* lib/hidx.c: a hash index of positions into the caller's array, checked against a linear
 * search after every step of random inserts, swap-removes and lookups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hidx.h"

struct item {
	uint32_t key;
	uint32_t payload;
};

static uint64_t item_hash(const void *p)
{
	const struct item *a = p;

	return hidx_bytes_hash(HIDX_HASH_INIT, &a->key, sizeof(a->key));
}

/* every key in one home slot: the worst case of the probing and of the backward shift */
static uint64_t same_hash(const void *p)
{
	(void)p;
	return 7;
}

static bool item_eq(const void *a, const void *b)
{
	return ((const struct item *)a)->key == ((const struct item *)b)->key;
}

static const struct hidx_type T = { .size = sizeof(struct item), .hash = item_hash,
				    .eq = item_eq };
static const struct hidx_type T_COLLIDE = { .size = sizeof(struct item), .hash = same_hash,
					    .eq = item_eq };

static long linear(const struct item *v, size_t n, uint32_t key)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].key == key)
			return (long)i;
	return -1;
}

static void test_empty(void **state)
{
	struct hidx h = { 0 };
	struct item k = { .key = 1 };

	(void)state;
	assert_int_equal(hidx_find(&h, &T, NULL, &k), -1);
	assert_int_equal(hidx_remove(&h, &T, &k, 0), -1);
	assert_int_equal(hidx_move(&h, &T, &k, 0, 0), -1);
	hidx_clear(&h);
	hidx_free(&h);
	hidx_free(NULL);
}

/* insert, find, swap-remove against the linear truth */
static void run_random(const struct hidx_type *t, size_t max, unsigned rounds)
{
	struct item *v = calloc(max, sizeof(*v));
	struct hidx h = { 0 };
	size_t n = 0;

	assert_non_null(v);
	srand(11);
	for (unsigned r = 0; r < rounds; r++) {
		uint32_t key = (uint32_t)rand() % (uint32_t)(max * 2);
		long at = linear(v, n, key);
		struct item k = { .key = key };

		assert_int_equal(hidx_find(&h, t, v, &k), at);
		if (at < 0 && n < max && rand() % 3) {
			v[n] = (struct item){ .key = key, .payload = r };
			assert_int_equal(hidx_insert(&h, t, v, n), 0);
			n++;
		} else if (at >= 0) {
			assert_int_equal(hidx_remove(&h, t, v, (size_t)at), 0);
			if ((size_t)at != --n) {
				v[at] = v[n];
				assert_int_equal(hidx_move(&h, t, v, n, (size_t)at), 0);
			}
		}
		assert_int_equal(h.n, n);
		assert_true(h.cap == 0 || h.n * 2 <= h.cap);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(hidx_find(&h, t, v, &v[i]), (long)i);
	hidx_free(&h);
	free(v);
}

static void test_random(void **state)
{
	(void)state;
	run_random(&T, 5000, 200000);
}

static void test_collisions(void **state)
{
	(void)state;
	run_random(&T_COLLIDE, 200, 20000);
}

static void test_growth_and_reserve(void **state)
{
	struct item v[1000] = { { 0 } };
	struct hidx h = { 0 };

	(void)state;
	assert_int_equal(hidx_reserve(&h, &T, v, 100), 0);
	assert_int_equal(h.cap, 256);
	for (size_t i = 0; i < 1000; i++) {
		v[i] = (struct item){ .key = (uint32_t)i * 7919u };
		assert_int_equal(hidx_insert(&h, &T, v, i), 0);
	}
	assert_int_equal(h.n, 1000);
	assert_int_equal(h.cap, 2048);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(hidx_find(&h, &T, v, &v[i]), (long)i);
	hidx_clear(&h);
	assert_int_equal(h.n, 0);
	assert_int_equal(hidx_find(&h, &T, v, &v[3]), -1);
	assert_int_equal(h.cap, 2048);  /* memory kept */
	hidx_free(&h);
	assert_null(h.slot);
}

static void test_limits(void **state)
{
	struct item v[1] = { { .key = 1 } };
	struct hidx h = { 0 };

	(void)state;
	errno = 0;
	assert_int_equal(hidx_insert(&h, &T, v, HIDX_MAX), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(hidx_reserve(&h, &T, v, (size_t)HIDX_MAX + 1), -1);
	assert_int_equal(h.n, 0);
	/* removing or moving a position that is not indexed changes nothing */
	assert_int_equal(hidx_insert(&h, &T, v, 0), 0);
	{
		struct item w[2] = { { .key = 1 }, { .key = 2 } };
		assert_int_equal(hidx_remove(&h, &T, w, 1), -1);
		assert_int_equal(hidx_move(&h, &T, w, 1, 0), -1);
	}
	assert_int_equal(h.n, 1);
	assert_int_equal(hidx_find(&h, &T, v, &v[0]), 0);
	hidx_free(&h);
}

/* Distinct values among the low 17 bits of n hashes (a table of 2^17 slots at load 1/2). */
static size_t homes_used(const uint8_t *keys, size_t len, size_t n)
{
	static uint8_t seen[1u << 17];
	size_t used = 0;

	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, keys + i * len, len);
		uint32_t s = (uint32_t)(h & ((1u << 17) - 1));

		used += !seen[s];
		seen[s] = 1;
	}
	return used;
}

/* The keys the daemons index differ in a few bytes (a counter; an IPv4 address in a 16-byte
 * field; a session key: family, client, service, port; the last bytes of a digest): their
 * low bits must still spread as random ones would. 65,536 random keys in 2^17 slots use
 * 51,572 on average; a hash that ignored a word or the tail would use a few hundred. */
static void test_hash_spread(void **state)
{
	enum { N = 1 << 16, MAXLEN = 35 };
	static uint8_t keys[N * MAXLEN];
	const size_t len[] = { 4, 16, 35, 32 };
	const size_t at[] = { 0, 2, 3, 30 }; /* where the two bytes that differ sit */

	(void)state;
	for (size_t k = 0; k < sizeof(len) / sizeof(len[0]); k++) {
		memset(keys, 0, sizeof(keys));
		for (uint32_t i = 0; i < N; i++) {
			uint8_t *key = keys + (size_t)i * len[k];

			key[0] = len[k] == 35 ? 2 : 198; /* AF_INET, or 198.18.i */
			key[1] = len[k] == 35 ? 198 : 18;
			key[at[k]] = (uint8_t)(i >> 8);
			key[at[k] + 1] = (uint8_t)i;
		}
		assert_true(homes_used(keys, len[k], N) > 49000);
	}
}

/* The length takes part: a key and the same key with a zero byte more are not one key. */
static void test_hash_length(void **state)
{
	const uint8_t z[16] = { 'a' };

	(void)state;
	for (size_t n = 1; n < sizeof(z); n++)
		assert_true(hidx_bytes_hash(HIDX_HASH_INIT, z, n) !=
			    hidx_bytes_hash(HIDX_HASH_INIT, z, n + 1));
	assert_true(hidx_bytes_hash(HIDX_HASH_INIT, z, 8) != HIDX_HASH_INIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_growth_and_reserve),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_hash_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
