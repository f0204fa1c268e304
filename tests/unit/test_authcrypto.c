/* SPDX-License-Identifier: MIT */
/* Keys, proofs, group MAC, digests, replay cache, ID allocation, rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authcrypto.h"

static int setup(void **state)
{
	(void)state;
	return cn_auth_crypto_init();
}

/* An encoded, sealed REQ in buf. */
static size_t make_req(uint8_t *buf, const uint8_t key[CN_KEY_LEN])
{
	struct cn_coop_msg m;
	size_t len;

	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REQ);
	m.timestamp_ms = 1795000000000ull;
	cn_auth_nonce(m.nonce_ss);
	m.sender.kind = CN_SENDER_CLIENT;
	assert_int_equal(cn_coop_addr_parse(&m.sender.addr, "198.18.1.2"), 0);
	assert_true(cn_coop_set_name(&m.sender, "alice"));
	assert_true(cn_coop_set_service(&m, "http"));
	memset(m.proof, 1, sizeof(m.proof));
	assert_int_equal(cn_coop_encode(&m, buf, CN_COOP_MAX_LEN, &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_auth_seal_proof(buf, len, key, CN_DIR_SS_TO_SP), 0);
	return len;
}

static void test_derive_key(void **state)
{
	uint8_t a[CN_KEY_LEN], b[CN_KEY_LEN], c[CN_KEY_LEN], d[CN_KEY_LEN], e[CN_KEY_LEN];
	uint8_t s1[16], s2[16];

	(void)state;
	assert_int_equal(cn_auth_derive_key(a, "AAA", 3, "http", "alice", CN_KDF_MIN), 0);
	assert_int_equal(cn_auth_derive_key(b, "AAA", 3, "http", "alice", CN_KDF_MIN), 0);
	assert_memory_equal(a, b, CN_KEY_LEN); /* SS and SP derive the same key */
	assert_int_equal(cn_auth_derive_key(c, "AAA", 3, "http", "bob", CN_KDF_MIN), 0);
	assert_memory_not_equal(a, c, CN_KEY_LEN); /* per-client salt */
	assert_int_equal(cn_auth_derive_key(d, "AAA", 3, "ssh", "alice", CN_KDF_MIN), 0);
	assert_memory_not_equal(a, d, CN_KEY_LEN);
	assert_int_equal(cn_auth_derive_key(e, "AAB", 3, "http", "alice", CN_KDF_MIN), 0);
	assert_memory_not_equal(a, e, CN_KEY_LEN);
	assert_memory_not_equal(a, "AAA", 3);
	/* "http" + "alice" and "httpa" + "lice" must not share a salt. */
	cn_auth_salt(s1, "http", "alice");
	cn_auth_salt(s2, "httpa", "lice");
	assert_memory_not_equal(s1, s2, 16);
	assert_int_equal(cn_auth_derive_key(a, "", 0, "http", "alice", CN_KDF_MIN), -1);
}

static void test_proof(void **state)
{
	uint8_t key[CN_KEY_LEN], other[CN_KEY_LEN], buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	len = make_req(buf, key);
	assert_true(cn_auth_check_proof(buf, len, key, CN_DIR_SS_TO_SP));
	assert_false(cn_auth_check_proof(buf, len, other, CN_DIR_SS_TO_SP));
	/* Reflection: the same bytes are not a valid message of the other direction. */
	assert_false(cn_auth_check_proof(buf, len, key, CN_DIR_SP_TO_SS));
	/* Every byte outside proof, fwd and mac is covered. */
	for (size_t i = 0; i < len; i++) {
		bool hop = (i >= CN_COOP_OFF_FWD && i < CN_COOP_OFF_DEVLEN) || i >= len - 32;

		buf[i] ^= 0x40;
		if (hop)
			assert_true(cn_auth_check_proof(buf, len, key, CN_DIR_SS_TO_SP));
		else if (cn_auth_check_proof(buf, len, key, CN_DIR_SS_TO_SP))
			fail_msg("byte %zu is not covered by the proof", i);
		buf[i] ^= 0x40;
	}
	assert_false(cn_auth_check_proof(buf, len - 1, key, CN_DIR_SS_TO_SP));
	assert_int_equal(cn_auth_seal_proof(buf, 100, key, CN_DIR_SS_TO_SP), -1);
}

static void test_group_mac_and_digest(void **state)
{
	uint8_t key[CN_KEY_LEN], g[CN_KEY_LEN], g2[CN_KEY_LEN], buf[CN_COOP_MAX_LEN];
	uint8_t d1[CN_DIGEST_LEN], d2[CN_DIGEST_LEN], d3[CN_DIGEST_LEN];
	size_t len;

	(void)state;
	memset(key, 7, sizeof(key));
	memset(g, 9, sizeof(g));
	memset(g2, 10, sizeof(g2));
	len = make_req(buf, key);
	assert_int_equal(cn_auth_digest(d1, buf, len), 0);
	/* What a header does: set fwd and seal the MAC. */
	buf[CN_COOP_OFF_FWD] = CN_FAM_INET;
	buf[CN_COOP_OFF_FWD + 4] = 198;
	assert_int_equal(cn_auth_seal_mac(buf, len, g), 0);
	assert_true(cn_auth_check_mac(buf, len, g));
	assert_false(cn_auth_check_mac(buf, len, g2));
	assert_true(cn_auth_check_proof(buf, len, key, CN_DIR_SS_TO_SP));
	assert_int_equal(cn_auth_digest(d2, buf, len), 0);
	assert_memory_equal(d1, d2, CN_DIGEST_LEN); /* same REQ whichever way it came */
	buf[CN_COOP_OFF_FWD + 5] = 18; /* the MAC covers fwd */
	assert_false(cn_auth_check_mac(buf, len, g));
	len = make_req(buf, key); /* a new nonce: a new digest */
	assert_int_equal(cn_auth_digest(d3, buf, len), 0);
	assert_memory_not_equal(d1, d3, CN_DIGEST_LEN);
}

static void test_session_key(void **state)
{
	uint8_t kc[CN_KEY_LEN], n1[16], n2[16], a[CN_KEY_LEN], b[CN_KEY_LEN];

	(void)state;
	memset(kc, 3, sizeof(kc));
	memset(n1, 1, sizeof(n1));
	memset(n2, 2, sizeof(n2));
	cn_auth_session_key(a, kc, n1, n2, 0x6141);
	cn_auth_session_key(b, kc, n1, n2, 0x6142);
	assert_memory_not_equal(a, b, CN_KEY_LEN);
	assert_memory_not_equal(a, kc, CN_KEY_LEN);
}

static void test_time_window(void **state)
{
	(void)state;
	assert_true(cn_auth_time_ok(1000, 1000, 0));
	assert_true(cn_auth_time_ok(31000, 1000, 30000));
	assert_false(cn_auth_time_ok(31001, 1000, 30000));
	assert_true(cn_auth_time_ok(1000, 31000, 30000));
	assert_false(cn_auth_time_ok(1000, 31001, 30000));
	assert_false(cn_auth_time_ok(UINT64_MAX, 0, 30000));
}

struct used_ids {
	uint8_t used[65536];
	unsigned calls;
};

static bool in_use(void *ctx, cn_id_t id)
{
	struct used_ids *u = ctx;

	u->calls++;
	assert_int_not_equal(id, 0); /* 0 is never even proposed */
	return u->used[id] != 0;
}

static void test_alloc_id(void **state)
{
	static struct used_ids u;
	cn_id_t id, prev = 0;
	unsigned same = 0;

	(void)state;
	memset(&u, 0, sizeof(u));
	for (int i = 0; i < 2000; i++) {
		id = cn_auth_alloc_id(in_use, &u, 32);
		assert_int_not_equal(id, CN_ID_NONE);
		assert_int_equal(u.used[id], 0); /* unique among the live ones */
		u.used[id] = 1;
		same += id == (cn_id_t)(prev + 1); /* not sequential */
		prev = id;
	}
	assert_true(same < 10);
	/* All but one in use: the scan finds it. */
	memset(u.used, 1, sizeof(u.used));
	u.used[12345] = 0;
	assert_int_equal(cn_auth_alloc_id(in_use, &u, 32), 12345);
	u.used[12345] = 1;
	assert_int_equal(cn_auth_alloc_id(in_use, &u, 32), CN_ID_NONE);
}

static void test_replay_mem(void **state)
{
	struct cn_replay_mem *m = cn_replay_mem_new(16, 60000);
	struct cn_replay r;
	uint8_t d[CN_DIGEST_LEN];

	(void)state;
	assert_non_null(m);
	cn_replay_mem_bind(m, &r);
	for (int i = 0; i < 16; i++) {
		memset(d, i + 1, sizeof(d));
		assert_false(cn_replay_seen(&r, d, 1000));
		assert_int_equal(cn_replay_add(&r, d, 1000 + (uint64_t)i), 0);
		assert_true(cn_replay_seen(&r, d, 1000));
	}
	assert_int_equal(cn_replay_mem_count(m), 16);
	/* Full of live entries: refuse (the caller then refuses the message: fail closed). */
	memset(d, 99, sizeof(d));
	assert_int_equal(cn_replay_add(&r, d, 2000), -1);
	assert_false(cn_replay_seen(&r, d, 2000));
	/* Time passes: old entries are reused, in place or by prune. */
	assert_int_equal(cn_replay_add(&r, d, 100000), 0);
	assert_true(cn_replay_seen(&r, d, 100000));
	assert_int_equal(cn_replay_mem_prune(m, 100000), 15);
	assert_int_equal(cn_replay_mem_count(m), 1);
	assert_true(cn_replay_seen(&r, d, 100000));
	memset(d, 1, sizeof(d));
	assert_false(cn_replay_seen(&r, d, 100000));
	cn_replay_mem_free(m);
	cn_replay_mem_free(NULL);
}

static void test_ratelimit(void **state)
{
	struct cn_ratelimit *rl = cn_ratelimit_new(64, 3, 6); /* 3 at once, one per 10 s */
	struct cn_coop_addr a, b;

	(void)state;
	assert_non_null(rl);
	assert_int_equal(cn_coop_addr_parse(&a, "198.18.0.66"), 0);
	assert_int_equal(cn_coop_addr_parse(&b, "198.18.0.67"), 0);
	assert_true(cn_ratelimit_allow(rl, &a, 0));
	assert_int_equal(cn_ratelimit_fail(rl, &a, 0), 2);
	assert_int_equal(cn_ratelimit_fail(rl, &a, 0), 1);
	assert_true(cn_ratelimit_allow(rl, &a, 0));
	assert_int_equal(cn_ratelimit_fail(rl, &a, 0), 0);
	assert_false(cn_ratelimit_allow(rl, &a, 0));
	assert_true(cn_ratelimit_allow(rl, &b, 0)); /* per source */
	assert_false(cn_ratelimit_allow(rl, &a, 9999));
	assert_true(cn_ratelimit_allow(rl, &a, 10000)); /* refilled one token */
	assert_int_equal(cn_ratelimit_fail(rl, &a, 10000), 0);
	assert_false(cn_ratelimit_allow(rl, &a, 10000));
	assert_true(cn_ratelimit_allow(rl, &a, 3600000));
	cn_ratelimit_free(rl);
	cn_ratelimit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_key),
		cmocka_unit_test(test_proof),
		cmocka_unit_test(test_group_mac_and_digest),
		cmocka_unit_test(test_session_key),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_alloc_id),
		cmocka_unit_test(test_replay_mem),
		cmocka_unit_test(test_ratelimit),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
