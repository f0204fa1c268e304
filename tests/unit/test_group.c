/* SPDX-License-Identifier: MIT */
/*
 * Group messages (lib/group.{h,c}, lib/group_sign.c) and a header's member view
 * (authd/group_fsm.c) with an injected clock: the codec round trip and every decoder error;
 * forged sender, wrong key, replay, stale, removed member; the member states and the miss
 * limit. Each test is a promise of docs/protocol.md "The group application".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "group_fsm.h"

#define WALL0 1795000000000ull

static uint8_t pk[3][CN_GROUP_PK_LEN], sk[3][CN_GROUP_SK_LEN];
static char svcs[2][CN_COOP_SERVICE_LEN] = { "web", "db" };
static struct pol_sp sps[2];
static struct policy pol;
static struct group_rx rx;
static struct cn_replay_mem *mem;
static struct cn_replay replay;
static uint64_t seq = 100;

static void keys(void)
{
	uint8_t seed[CN_GROUP_SEED_LEN];

	for (int i = 0; i < 3; i++) {
		memset(seed, 0x10 + i, sizeof(seed));
		assert_int_equal(cn_group_keypair(pk[i], sk[i], seed), 0);
	}
}

/* The header's policy: sp1 (key 0) and sp2 (key 1), each hosting web and db. */
static int setup(void **state)
{
	(void)state;
	keys();
	memset(&pol, 0, sizeof(pol));
	memset(sps, 0, sizeof(sps));
	memset(&rx, 0, sizeof(rx));
	for (int i = 0; i < 2; i++) {
		snprintf(sps[i].name, sizeof(sps[i].name), "sp%d", i + 1);
		memcpy(sps[i].public_key, pk[i], CN_GROUP_PK_LEN);
		sps[i].has_public_key = true;
		sps[i].services = svcs;
		sps[i].n_services = 2;
	}
	pol.header = true;
	pol.group = sps;
	pol.n_group = 2;
	pol.group_miss_limit = 3;
	pol.group_window_ms = 5000;
	mem = cn_replay_mem_new(1024, 60000);
	cn_replay_mem_bind(mem, &replay);
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	group_rx_free(&rx);
	cn_replay_mem_free(mem);
	return 0;
}

static void msg(struct cn_group_msg *g, const char *name, uint8_t type, uint8_t web, uint8_t db)
{
	memset(g, 0, sizeof(*g));
	g->type = type;
	g->interval_ms = 500;
	g->seq = ++seq;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->load = 7;
	if (type == CN_GROUP_LEAVE)
		return;
	g->n_services = 2;
	strcpy(g->svc[0].name, "web");
	g->svc[0].status = web;
	strcpy(g->svc[1].name, "db");
	g->svc[1].status = db;
}

/* Encode and sign with key k; the decoded datagram in *m. */
static size_t build(uint8_t *buf, struct cn_coop_msg *m, const struct cn_group_msg *g, int k,
		    uint64_t wall)
{
	size_t len;

	assert_int_equal(cn_group_encode(g, wall, buf, CN_GROUP_DGRAM_MAX, &len), CN_GROUP_OK);
	assert_int_equal(cn_group_seal(buf, len, sk[k]), 0);
	assert_int_equal(cn_coop_decode(m, buf, len, NULL), CN_COOP_OK);
	return len;
}

static enum group_ev deliver(const struct cn_group_msg *g, int k, uint64_t now, uint64_t wall)
{
	static uint8_t buf[CN_GROUP_DGRAM_MAX];
	static struct cn_coop_msg m;
	size_t len = build(buf, &m, g, k, wall);

	return group_rx_input(&rx, &pol, buf, len, &m, now, wall);
}

/* --- codec --------------------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	uint8_t buf[CN_GROUP_DGRAM_MAX], again[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g, d;
	struct cn_coop_msg m;
	size_t len, len2;

	(void)state;
	for (uint8_t t = CN_GROUP_JOIN; t <= CN_GROUP_LEAVE; t++) {
		msg(&g, "sp1", t, CN_VNIC_UP, CN_VNIC_DOWN);
		len = build(buf, &m, &g, 0, WALL0);
		assert_int_equal(len, CN_COOP_MIN_LEN + CN_GROUP_HDR_LEN +
				 g.n_services * CN_GROUP_SVC_LEN + CN_GROUP_SIG_LEN);
		assert_int_equal(cn_coop_kind(&m), CN_KIND_GROUP);
		assert_int_equal(m.timestamp_ms, WALL0);
		assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_OK);
		assert_memory_equal(&g, &d, sizeof(g));
		assert_true(cn_group_verify(buf, len, pk[0]));
		assert_false(cn_group_verify(buf, len, pk[1]));
		/* encode(decode(x)) == x, signature aside (Ed25519 is deterministic: equal too) */
		assert_int_equal(cn_group_encode(&d, WALL0, again, sizeof(again), &len2), CN_GROUP_OK);
		assert_int_equal(cn_group_seal(again, len2, sk[0]), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(buf, again, len);
	}
	/* the largest message fits one unfragmented datagram */
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	g.n_services = CN_GROUP_MAX_SERVICES;
	for (int i = 0; i < CN_GROUP_MAX_SERVICES; i++) {
		snprintf(g.svc[i].name, sizeof(g.svc[i].name), "service-%02d", i);
		g.svc[i].status = CN_VNIC_UP;
	}
	assert_int_equal(cn_group_encode(&g, WALL0, buf, sizeof(buf), &len), CN_GROUP_OK);
	assert_int_equal(len, CN_GROUP_DGRAM_MAX);
	assert_true(len <= CN_COOP_MAX_LEN);
	assert_int_equal(cn_group_encode(&g, WALL0, buf, len - 1, &len2), CN_GROUP_E_NOSPACE);
	assert_int_equal(cn_group_encode(&g, 0, buf, sizeof(buf), &len2), CN_GROUP_E_TIMESTAMP);
}

/* Decode a good heartbeat, change one payload byte (offset off) or the length, expect err. */
static void bad(size_t off, uint8_t value, int dlen, enum cn_group_err want)
{
	uint8_t buf[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g, d;
	struct cn_coop_msg m;

	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 2);
	build(buf, &m, &g, 0, WALL0);
	if (off != SIZE_MAX)
		m.dev[off] = value;
	m.dev_len = (uint16_t)(m.dev_len + dlen);
	assert_int_equal(cn_group_decode(&d, &m), want);
	assert_string_not_equal(cn_group_err_name(want), "unknown");
}

static void test_decoder_errors(void **state)
{
	uint8_t buf[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g, d;
	struct cn_coop_msg m;
	size_t len;

	(void)state;
	bad(0, 2, 0, CN_GROUP_E_VERSION);
	bad(1, 0, 0, CN_GROUP_E_TYPE);
	bad(1, 4, 0, CN_GROUP_E_TYPE);
	bad(1, CN_GROUP_LEAVE, 0, CN_GROUP_E_SERVICES);     /* a leave lists no service */
	bad(2, 3, 0, CN_GROUP_E_LENGTH);                    /* count says 3, 2 present */
	bad(2, CN_GROUP_MAX_SERVICES + 1, 0, CN_GROUP_E_SERVICES);
	bad(3, 1, 0, CN_GROUP_E_RESERVED);
	bad(39, 1, 0, CN_GROUP_E_RESERVED);
	bad(4, 1, 0, CN_GROUP_E_INTERVAL);                  /* 0x010001f4 ms: too long */
	bad(SIZE_MAX, 0, -1, CN_GROUP_E_LENGTH);
	bad(SIZE_MAX, 0, 1, CN_GROUP_E_LENGTH);
	bad(16, 0, 0, CN_GROUP_E_NAME);                     /* empty name */
	bad(17, ' ', 0, CN_GROUP_E_NAME);
	bad(20, 'x', 0, CN_GROUP_E_NAME);                   /* bytes after the NUL */
	bad(40, 0, 0, CN_GROUP_E_SERVICE);                  /* empty service name */
	bad(41, '/', 0, CN_GROUP_E_SERVICE);
	bad(40 + 32, 4, 0, CN_GROUP_E_STATUS);
	bad(73 + 31, 'x', 0, CN_GROUP_E_SERVICE);           /* the name's last byte not NUL */
	/* interval 99 ms: too short */
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	build(buf, &m, &g, 0, WALL0);
	m.dev[6] = 0;
	m.dev[7] = 99;
	assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_E_INTERVAL);
	/* seq 0 */
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	build(buf, &m, &g, 0, WALL0);
	memset(m.dev + 8, 0, 8);
	assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_E_SEQ);
	/* the same service twice */
	build(buf, &m, &g, 0, WALL0);
	memcpy(m.dev + 40 + 33, m.dev + 40, 33);
	assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_E_DUPLICATE);
	/* too short for the header and the signature */
	build(buf, &m, &g, 0, WALL0);
	m.dev_len = CN_GROUP_MIN_LEN - 1;
	assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_E_SHORT);
	/* not a group datagram */
	build(buf, &m, &g, 0, WALL0);
	m.coop = CN_COOP_DEV(1);
	assert_int_equal(cn_group_decode(&d, &m), CN_GROUP_E_NOT_GROUP);
	/* the datagram decoder: group with another control flag; a mac set */
	len = build(buf, &m, &g, 0, WALL0);
	buf[5] = CN_CTL_REP;
	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_E_GROUP_FLAGS);
	build(buf, &m, &g, 0, WALL0);
	m.mac[0] = 1;
	assert_int_equal(cn_coop_validate(&m, NULL), CN_COOP_E_UNUSED);
	build(buf, &m, &g, 0, WALL0);
	m.id = 5;
	assert_int_equal(cn_coop_validate(&m, NULL), CN_COOP_E_UNUSED);
	/* the encoder refuses what the decoder refuses */
	msg(&g, "sp 1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(cn_group_encode(&g, WALL0, buf, sizeof(buf), &(size_t){ 0 }),
			 CN_GROUP_E_NAME);
	assert_string_equal(cn_group_err_name(CN_GROUP_E_MAX + 1), "unknown");
	for (int e = 0; e <= CN_GROUP_E_MAX; e++)
		assert_string_not_equal(cn_group_err_name(e), "unknown");
}

/* A datagram whose signed bytes changed, or whose signature changed, does not verify. */
static void test_signature_tamper(void **state)
{
	uint8_t buf[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g;
	struct cn_coop_msg m;
	size_t len;

	(void)state;
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	len = build(buf, &m, &g, 0, WALL0);
	for (size_t off = 0; off < len - CN_COOP_TAG_LEN; off += 7) {
		buf[off] ^= 0x01;
		assert_false(cn_group_verify(buf, len, pk[0]));
		buf[off] ^= 0x01;
	}
	assert_true(cn_group_verify(buf, len, pk[0]));
	assert_false(cn_group_verify(buf, CN_COOP_MIN_LEN, pk[0]));
	assert_int_equal(cn_group_seal(buf, 10, sk[0]), -1);
}

/* --- the header's view --------------------------------------------------------------------- */

static void test_join_up_and_miss_down(void **state)
{
	struct cn_group_msg g;
	uint64_t now = 10000;

	(void)state;
	assert_int_equal(rx.n, 2);
	assert_int_equal(rx.view[0].state, MEMBER_UNKNOWN);
	assert_int_equal(group_rx_deadline(&rx), UINT64_MAX);
	msg(&g, "sp1", CN_GROUP_JOIN, CN_VNIC_UP, CN_VNIC_DOWN);
	assert_int_equal(deliver(&g, 0, now, WALL0), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[0].state, MEMBER_UP);
	assert_int_equal(rx.view[0].load, 7);
	assert_int_equal(rx.view[0].seen_ms, now);
	assert_int_equal(rx.view[0].services_down, 2); /* bit 1: db */
	assert_int_equal(rx.view[1].state, MEMBER_UNKNOWN);
	assert_int_equal(rx.counters[GROUP_EV_JOIN], 1);
	assert_int_equal(rx.counters[GROUP_EV_UP], 1);
	/* heartbeats every 500 ms keep it up */
	for (int i = 1; i <= 10; i++) {
		now += 500;
		group_rx_tick(&rx, now);
		msg(&g, "sp1", CN_GROUP_HEARTBEAT, CN_VNIC_UP, CN_VNIC_UP);
		assert_int_equal(deliver(&g, 0, now, WALL0 + (uint64_t)i * 500), GROUP_EV_ACCEPTED);
		assert_int_equal(rx.view[0].state, MEMBER_UP);
	}
	assert_int_equal(rx.view[0].services_down, 0);
	/* silence: up until 3 x 500 ms, down at 1,500 ms */
	assert_int_equal(group_rx_deadline(&rx), now + 1500);
	group_rx_tick(&rx, now + 1499);
	assert_int_equal(rx.view[0].state, MEMBER_UP);
	group_rx_tick(&rx, now + 1500);
	assert_int_equal(rx.view[0].state, MEMBER_DOWN);
	assert_int_equal(rx.st[0].changed_ms, now + 1500);
	assert_int_equal(rx.counters[GROUP_EV_DOWN], 1);
	assert_int_equal(group_rx_deadline(&rx), UINT64_MAX);
	/* back: up again */
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, CN_VNIC_UP, CN_VNIC_UP);
	assert_int_equal(deliver(&g, 0, now + 5000, WALL0 + 10000), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[0].state, MEMBER_UP);
	assert_int_equal(rx.counters[GROUP_EV_UP], 2);
}

static void test_leave_is_down_at_once(void **state)
{
	struct cn_group_msg g;

	(void)state;
	msg(&g, "sp2", CN_GROUP_JOIN, 1, 1);
	assert_int_equal(deliver(&g, 1, 1000, WALL0), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[1].state, MEMBER_UP);
	msg(&g, "sp2", CN_GROUP_LEAVE, 0, 0);
	assert_int_equal(deliver(&g, 1, 1100, WALL0 + 100), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[1].state, MEMBER_DOWN);
	assert_int_equal(rx.counters[GROUP_EV_LEAVE], 1);
}

/* sp2's key signing as sp1, an outsider's key, a name nobody has: nothing changes. */
static void test_forged_sender(void **state)
{
	struct cn_group_msg g;

	(void)state;
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 1, 1000, WALL0), GROUP_EV_BAD_SIGNATURE);
	assert_int_equal(deliver(&g, 2, 1000, WALL0), GROUP_EV_BAD_SIGNATURE);
	assert_int_equal(rx.view[0].state, MEMBER_UNKNOWN);
	assert_int_equal(rx.counters[GROUP_EV_BAD_SIGNATURE], 2);
	msg(&g, "sp9", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 2, 1000, WALL0), GROUP_EV_UNKNOWN_SENDER);
	assert_int_equal(rx.counters[GROUP_EV_ACCEPTED], 0);
	/* a member without a public key in the policy takes no message either */
	sps[1].has_public_key = false;
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	msg(&g, "sp2", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 1, 1000, WALL0), GROUP_EV_UNKNOWN_SENDER);
}

static void test_replay_and_stale(void **state)
{
	static uint8_t buf[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g;
	struct cn_coop_msg m;
	struct group_rx fresh;
	size_t len;

	(void)state;
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	len = build(buf, &m, &g, 0, WALL0);
	assert_int_equal(group_rx_input(&rx, &pol, buf, len, &m, 1000, WALL0), GROUP_EV_ACCEPTED);
	/* the same bytes again: refused by the sequence number */
	assert_int_equal(group_rx_input(&rx, &pol, buf, len, &m, 1100, WALL0), GROUP_EV_REPLAY);
	/* an older seq, freshly signed by the real member (a reordered datagram) */
	g.seq -= 1;
	assert_int_equal(deliver(&g, 0, 1200, WALL0), GROUP_EV_REPLAY);
	/* a restarted header (its in-memory counters gone) still refuses the capture: the
	 * persistent replay cache */
	memset(&fresh, 0, sizeof(fresh));
	assert_int_equal(group_rx_rebuild(&fresh, &pol, &replay), 0);
	assert_int_equal(group_rx_input(&fresh, &pol, buf, len, &m, 5, WALL0 + 1000),
			 GROUP_EV_REPLAY);
	assert_int_equal(fresh.view[0].state, MEMBER_UNKNOWN);
	group_rx_free(&fresh);
	/* outside the window: stale, before or after */
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	len = build(buf, &m, &g, 0, WALL0);
	assert_int_equal(group_rx_input(&rx, &pol, buf, len, &m, 1300, WALL0 + 5001),
			 GROUP_EV_STALE);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	len = build(buf, &m, &g, 0, WALL0 + 5001);
	assert_int_equal(group_rx_input(&rx, &pol, buf, len, &m, 1300, WALL0), GROUP_EV_STALE);
	assert_int_equal(rx.counters[GROUP_EV_REPLAY], 2);
	assert_int_equal(rx.counters[GROUP_EV_STALE], 2);
	/* a join starts a new counter (the member restarted) */
	msg(&g, "sp1", CN_GROUP_JOIN, 1, 1);
	g.seq = 1;
	assert_int_equal(deliver(&g, 0, 1400, WALL0), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.st[0].last_seq, 1);
}

/* A member removed from the policy: refused after the reload as "removed"; the one kept keeps
 * its state; put back, it is accepted again. */
static void test_removed_member(void **state)
{
	struct cn_group_msg g;

	(void)state;
	msg(&g, "sp1", CN_GROUP_JOIN, 1, 1);
	assert_int_equal(deliver(&g, 0, 1000, WALL0), GROUP_EV_ACCEPTED);
	msg(&g, "sp2", CN_GROUP_JOIN, 1, 2);
	assert_int_equal(deliver(&g, 1, 1000, WALL0), GROUP_EV_ACCEPTED);
	/* reload without sp1: sp2 moves to index 0 and keeps its state */
	pol.group = &sps[1];
	pol.n_group = 1;
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	assert_int_equal(rx.n, 1);
	assert_int_equal(rx.view[0].state, MEMBER_UP);
	assert_int_equal(rx.view[0].services_down, 2);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 0, 1100, WALL0 + 100), GROUP_EV_REMOVED);
	assert_int_equal(rx.counters[GROUP_EV_REMOVED], 1);
	/* put back */
	pol.group = sps;
	pol.n_group = 2;
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	assert_int_equal(rx.view[0].state, MEMBER_UNKNOWN);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 0, 1200, WALL0 + 200), GROUP_EV_ACCEPTED);
	/* a key change is a new member: the old key's messages no longer verify */
	memcpy(sps[0].public_key, pk[2], CN_GROUP_PK_LEN);
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	assert_int_equal(rx.view[0].state, MEMBER_UNKNOWN);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 0, 1300, WALL0 + 300), GROUP_EV_BAD_SIGNATURE);
	assert_int_equal(deliver(&g, 2, 1300, WALL0 + 300), GROUP_EV_ACCEPTED);
}

/* A service the member does not report, or reports busy, counts as down; unknown does not. */
static void test_services_down(void **state)
{
	struct cn_group_msg g;

	(void)state;
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, CN_VNIC_BUSY, CN_VNIC_UNKNOWN);
	assert_int_equal(deliver(&g, 0, 1000, WALL0), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[0].services_down, 1);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, CN_VNIC_UP, CN_VNIC_UP);
	g.n_services = 1; /* db not reported */
	assert_int_equal(deliver(&g, 0, 1100, WALL0), GROUP_EV_ACCEPTED);
	assert_int_equal(rx.view[0].services_down, 2);
	/* a bad payload with a good signature is refused before anything */
	assert_int_equal(group_rx_input(&rx, &pol, NULL, 0, &(struct cn_coop_msg){ 0 }, 1, WALL0),
			 GROUP_EV_BAD_PAYLOAD);
}

/* Not a header: no view to keep. */
static void test_not_header(void **state)
{
	struct cn_group_msg g;

	(void)state;
	pol.header = false;
	assert_int_equal(group_rx_rebuild(&rx, &pol, &replay), 0);
	assert_int_equal(rx.n, 0);
	msg(&g, "sp1", CN_GROUP_HEARTBEAT, 1, 1);
	assert_int_equal(deliver(&g, 0, 1000, WALL0), GROUP_EV_NOT_HEADER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decoder_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_up_and_miss_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_is_down_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_and_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_header, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
