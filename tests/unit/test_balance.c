/* SPDX-License-Identifier: MIT */
/* lib/balance.c: the three strategies over 10,000 decisions, ineligible members skipped,
 * nobody eligible refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "balance.h"

#define DECISIONS 10000

/* xorshift32: a fixed sequence, so a failure replays */
static uint32_t next_rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void run(enum cn_balance s, struct cn_balance_member *m, size_t n, unsigned *count)
{
	uint32_t seed = 2463534242u;

	memset(count, 0, n * sizeof(*count));
	for (int i = 0; i < DECISIONS; i++) {
		int k = cn_balance_pick(s, m, n, next_rnd(&seed));
		assert_true(k >= 0 && (size_t)k < n);
		count[k]++;
	}
}

/* every eligible member's share within 5% (relative) of its weight's share */
static void assert_shares(const struct cn_balance_member *m, size_t n, const unsigned *count)
{
	double total = 0;

	for (size_t i = 0; i < n; i++)
		if (m[i].eligible)
			total += m[i].weight;
	for (size_t i = 0; i < n; i++) {
		double want = m[i].eligible ? DECISIONS * m[i].weight / total : 0;
		if (!m[i].eligible || m[i].weight == 0) {
			assert_int_equal(count[i], 0);
			continue;
		}
		assert_true(count[i] >= want * 0.95 && count[i] <= want * 1.05);
	}
}

static void members(struct cn_balance_member *m, const uint32_t *w, size_t n)
{
	memset(m, 0, n * sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].weight = w[i];
		m[i].eligible = true;
	}
}

static void test_distribution(void **state)
{
	static const uint32_t w[] = { 50, 30, 20 };
	const enum cn_balance strat[] = { CN_BALANCE_WEIGHTED, CN_BALANCE_RANDOM,
					  CN_BALANCE_LEAST_LOAD };
	struct cn_balance_member m[3];
	unsigned count[3];

	(void)state;
	for (size_t s = 0; s < 3; s++) {
		members(m, w, 3); /* least-load with no load reported: ties, weighted */
		run(strat[s], m, 3, count);
		assert_shares(m, 3, count);
	}
}

static void test_smooth_exact_and_interleaved(void **state)
{
	static const uint32_t w[] = { 5, 1, 1 };
	struct cn_balance_member m[3];
	int seq[7], runs = 0;

	(void)state;
	members(m, w, 3);
	for (int i = 0; i < 7; i++)
		seq[i] = cn_balance_pick(CN_BALANCE_WEIGHTED, m, 3, 0);
	/* nginx's sequence for 5,1,1: a a b a c a a */
	assert_int_equal(seq[0], 0);
	assert_int_equal(seq[2], 1);
	assert_int_equal(seq[4], 2);
	for (int i = 1; i < 7; i++)
		runs += seq[i] == 0 && seq[i - 1] == 0;
	assert_true(runs <= 2);
}

static void test_skips_ineligible(void **state)
{
	static const uint32_t w[] = { 50, 30, 20, 0 };
	const enum cn_balance strat[] = { CN_BALANCE_WEIGHTED, CN_BALANCE_RANDOM,
					  CN_BALANCE_LEAST_LOAD };
	struct cn_balance_member m[4];
	unsigned count[4];

	(void)state;
	for (size_t s = 0; s < 3; s++) {
		members(m, w, 4);
		m[0].eligible = false; /* down: the rest share 30:20, weight 0 gets none */
		run(strat[s], m, 4, count);
		assert_int_equal(count[0], 0);
		assert_int_equal(count[3], 0);
		assert_shares(m, 4, count);
	}
}

static void test_all_down_refused(void **state)
{
	static const uint32_t w[] = { 50, 30, 20 };
	const enum cn_balance strat[] = { CN_BALANCE_WEIGHTED, CN_BALANCE_RANDOM,
					  CN_BALANCE_LEAST_LOAD };
	struct cn_balance_member m[3];

	(void)state;
	for (size_t s = 0; s < 3; s++) {
		members(m, w, 3);
		for (size_t i = 0; i < 3; i++)
			m[i].eligible = false;
		assert_int_equal(cn_balance_pick(strat[s], m, 3, 12345), -1);
		m[1].eligible = true;
		assert_int_equal(cn_balance_pick(strat[s], m, 3, 12345), 1);
	}
	assert_int_equal(cn_balance_pick(CN_BALANCE_WEIGHTED, m, 0, 0), -1);
	assert_int_equal(cn_balance_pick(CN_BALANCE_WEIGHTED, NULL, 3, 0), -1);
}

static void test_least_load(void **state)
{
	static const uint32_t w[] = { 200, 100 };
	struct cn_balance_member m[2];

	(void)state;
	members(m, w, 2);
	m[0].load = 30; /* 30 / 200 = 0.15 */
	m[1].load = 10; /* 10 / 100 = 0.10: the lowest relative load */
	assert_int_equal(cn_balance_pick(CN_BALANCE_LEAST_LOAD, m, 2, 0), 1);
	m[1].load = 20; /* 0.20 */
	assert_int_equal(cn_balance_pick(CN_BALANCE_LEAST_LOAD, m, 2, 0), 0);
	m[0].eligible = false;
	assert_int_equal(cn_balance_pick(CN_BALANCE_LEAST_LOAD, m, 2, 0), 1);
}

static void test_names(void **state)
{
	enum cn_balance s;

	(void)state;
	assert_int_equal(cn_balance_parse(&s, "least-load"), 0);
	assert_int_equal(s, CN_BALANCE_LEAST_LOAD);
	assert_string_equal(cn_balance_name(s), "least-load");
	assert_int_equal(cn_balance_parse(&s, "roundrobin"), -1);
	assert_int_equal(cn_balance_parse(&s, NULL), -1);
	assert_string_equal(cn_balance_name((enum cn_balance)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_smooth_exact_and_interleaved),
		cmocka_unit_test(test_skips_ineligible),
		cmocka_unit_test(test_all_down_refused),
		cmocka_unit_test(test_least_load),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
