/* SPDX-License-Identifier: MIT */
/*
 * The header's choice for a retransmitted Auth-REQ (authd/engine_balance.c): another SP than
 * the one the same nonce_ss went to, also after a burst of other REQs in between (an SS has up
 * to 4,096 exchanges in flight; a ring of 256 REQs forgot the first ones of a 300-client burst
 * and sent their retransmissions to the slow SP again: balance.test's stalled SP).
 * engine_balance.c alone, linked with stand-ins for what its failover part calls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "engine.h"

/* engine_balance.c's failover part calls these; the route under test never does */
int engine_auth_start_opt(struct engine *e, const struct cn_coop_addr *client,
			  const char *service, bool failover, uint64_t *handle, char *err,
			  size_t errlen)
{
	(void)e, (void)client, (void)service, (void)failover, (void)handle, (void)err, (void)errlen;
	fail_msg("engine_auth_start_opt called");
	return -1;
}

int engine_session_drop(struct engine *e, const struct db_session *s, int counter,
			bool tell_peer)
{
	(void)e, (void)s, (void)counter, (void)tell_peer;
	fail_msg("engine_session_drop called");
	return -1;
}

static char web[1][CN_COOP_SERVICE_LEN] = { "web" };

/* a header (no SP itself) with three members of web, weights 50/30/20 */
static struct engine *header_new(void)
{
	static const uint16_t w[3] = { 50, 30, 20 };
	struct engine *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->pol.group = calloc(3, sizeof(*e->pol.group));
	assert_non_null(e->pol.group);
	e->pol.n_group = 3;
	e->pol.balance = CN_BALANCE_WEIGHTED;
	for (size_t i = 0; i < 3; i++) {
		struct pol_sp *m = &e->pol.group[i];

		m->addr.family = CN_FAM_INET;
		memcpy(m->addr.addr, (uint8_t[4]){ 198, 18, 2, (uint8_t)(3 + i) }, 4);
		m->addr.port = 4500;
		m->weight = w[i];
		m->services = web;
		m->n_services = 1;
	}
	return e;
}

static void header_free(struct engine *e)
{
	engine_balance_free(e);
	free(e->pol.group);
	free(e);
}

static int member_of(const struct engine *e, const struct cn_coop_addr *sp)
{
	for (size_t i = 0; i < e->pol.n_group; i++)
		if (cn_coop_addr_equal(&e->pol.group[i].addr, sp, true))
			return (int)i;
	return -1;
}

static int route(struct engine *e, const uint8_t *nonce)
{
	struct cn_coop_addr sp;

	assert_int_equal(engine_balance_route(e, "web", nonce, &sp), 0);
	return member_of(e, &sp);
}

/* A burst of n REQs, then each one's retransmission (same nonces, oldest first): every
 * retransmission goes to another SP than its REQ and counts as avoided and a repeat. */
static void burst_then_retransmit(size_t n)
{
	struct engine *e = header_new();
	uint8_t (*nonce)[CN_COOP_NONCE_LEN] = calloc(n, CN_COOP_NONCE_LEN);
	int *first = calloc(n, sizeof(int));

	assert_non_null(nonce);
	assert_non_null(first);
	for (size_t i = 0; i < n; i++) {
		randombytes_buf(nonce[i], CN_COOP_NONCE_LEN);
		first[i] = route(e, nonce[i]);
		assert_true(first[i] >= 0);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(route(e, nonce[i]), first[i]);
	assert_int_equal(e->counters[CNT_GROUP_RETRY_AVOIDED], n);
	assert_int_equal(e->counters[CNT_BALANCE_REPEATS], n);
	assert_int_equal(e->counters[CNT_BALANCE_DECISIONS], 2 * n);
	free(first);
	free(nonce);
	header_free(e);
}

static void test_retransmit_avoids(void **state)
{
	(void)state;
	burst_then_retransmit(10);
}

/* 300 clients at once (balance.test's burst), and as many REQs as an SS has exchanges */
static void test_retransmit_after_burst(void **state)
{
	(void)state;
	burst_then_retransmit(300);
	burst_then_retransmit(4096);
	burst_then_retransmit(8192);
}

/* Far more REQs than it remembers (50,000): the last 8,192 (RETRY_SLOTS) still avoided, each
 * once (the ring's oldest slots left their chains intact), every decision counted. */
static void test_retransmit_forgotten(void **state)
{
	enum { ALL = 50000, KEPT = 8192 };
	struct engine *e = header_new();
	uint8_t (*nonce)[CN_COOP_NONCE_LEN] = calloc(ALL, CN_COOP_NONCE_LEN);
	int *first = calloc(ALL, sizeof(int));

	(void)state;
	assert_non_null(nonce);
	assert_non_null(first);
	for (size_t i = 0; i < ALL; i++) {
		randombytes_buf(nonce[i], CN_COOP_NONCE_LEN);
		first[i] = route(e, nonce[i]);
	}
	for (size_t i = ALL - KEPT; i < ALL; i++)
		assert_int_not_equal(route(e, nonce[i]), first[i]);
	assert_int_equal(e->counters[CNT_GROUP_RETRY_AVOIDED], KEPT);
	route(e, nonce[ALL - KEPT - 1]); /* forgotten: a new decision, not a repeat */
	assert_int_equal(e->counters[CNT_BALANCE_REPEATS], KEPT);
	assert_int_equal(e->counters[CNT_BALANCE_DECISIONS], ALL + KEPT + 1);
	free(first);
	free(nonce);
	header_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmit_avoids),
		cmocka_unit_test(test_retransmit_after_burst),
		cmocka_unit_test(test_retransmit_forgotten),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
