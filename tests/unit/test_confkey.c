/* SPDX-License-Identifier: MIT */
/*
 * Confidential services: the PSK derivation (lib/confkey.c) against libsodium's BLAKE2b
 * computed here independently, every decoder error of the key message, and coopnet-relay's
 * key table (relay/keys.c): replace on renewal with a grace for the old key, lookups bound
 * to the session, DEL, sync.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "confkey.h"
#include "relay.h"

static void ks_fill(uint8_t ks[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		ks[i] = (uint8_t)(seed * 31 + i);
}

/* crypto_kdf_derive_from_key is BLAKE2b keyed with K_s, salt = subkey id (LE) || 0,
 * personal = context || 0 */
static void reference(const uint8_t ks[32], uint64_t id, uint8_t *out, size_t len)
{
	uint8_t salt[16] = { 0 }, personal[16] = { 0 };

	for (int i = 0; i < 8; i++)
		salt[i] = (uint8_t)(id >> (8 * i));
	memcpy(personal, CN_CONF_KDF_CTX, 8);
	assert_int_equal(crypto_generichash_blake2b_salt_personal(out, len, NULL, 0, ks, 32, salt,
								  personal), 0);
}

static void test_derive(void **state)
{
	uint8_t ks[32], ks2[32], psk[32], ident[16], psk2[32], ident2[16], want[32];

	(void)state;
	ks_fill(ks, 1);
	ks_fill(ks2, 2);
	assert_int_equal(cn_conf_derive(ks, psk, ident), 0);
	reference(ks, CN_CONF_KDF_PSK, want, 32);
	assert_memory_equal(psk, want, 32);
	reference(ks, CN_CONF_KDF_IDENT, want, 16);
	assert_memory_equal(ident, want, 16);
	/* the same K_s, the same keys (both ends agree); another K_s (a renewal), others */
	assert_int_equal(cn_conf_derive(ks, psk2, ident2), 0);
	assert_memory_equal(psk, psk2, 32);
	assert_int_equal(cn_conf_derive(ks2, psk2, ident2), 0);
	assert_memory_not_equal(psk, psk2, 32);
	assert_memory_not_equal(ident, ident2, 16);
	/* neither is K_s, and the identity is not the start of the PSK */
	assert_memory_not_equal(psk, ks, 32);
	assert_memory_not_equal(ident, psk, 16);
}

static void sample(struct cn_conf_msg *m, uint8_t type, uint8_t family)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->family = family;
	m->port = 8080;
	m->id = 0xbeef;
	m->expires = 1800000000;
	if (family == AF_INET) {
		inet_pton(AF_INET, "198.18.1.2", m->client);
		inet_pton(AF_INET, "198.18.2.3", m->service);
	} else {
		inet_pton(AF_INET6, "2001:db8:1::2", m->client);
		inet_pton(AF_INET6, "2001:db8:2::3", m->service);
	}
	if (type == CN_CONF_SET) {
		memset(m->ident, 0x11, sizeof(m->ident));
		memset(m->psk, 0x22, sizeof(m->psk));
	}
}

static void round_trip(const struct cn_conf_msg *m)
{
	uint8_t buf[CN_CONF_MSG_LEN];
	struct cn_conf_msg back;
	const char *why = NULL;

	cn_conf_encode(m, buf);
	assert_int_equal(cn_conf_decode(&back, buf, sizeof(buf), &why), 0);
	assert_memory_equal(&back, m, sizeof(back));
}

static void test_round_trips(void **state)
{
	struct cn_conf_msg m;

	(void)state;
	sample(&m, CN_CONF_SET, AF_INET);
	round_trip(&m);
	sample(&m, CN_CONF_SET, AF_INET6);
	round_trip(&m);
	sample(&m, CN_CONF_DEL, AF_INET);
	round_trip(&m);
	memset(&m, 0, sizeof(m));
	for (uint8_t t = CN_CONF_SYNC_BEGIN; t <= CN_CONF_STATS; t++) {
		m.type = t;
		round_trip(&m);
	}
}

/* Encode a valid SET, apply one change, expect the decoder to refuse it with reason. */
static void refused(size_t off, uint8_t val, const char *reason)
{
	struct cn_conf_msg m;
	uint8_t buf[CN_CONF_MSG_LEN];
	const char *why = NULL;

	sample(&m, CN_CONF_SET, AF_INET);
	cn_conf_encode(&m, buf);
	buf[off] = val;
	assert_int_equal(cn_conf_decode(&m, buf, sizeof(buf), &why), -1);
	assert_non_null(why);
	assert_non_null(strstr(why, reason));
}

static void test_decode_errors(void **state)
{
	struct cn_conf_msg m;
	uint8_t buf[CN_CONF_MSG_LEN + 1] = { 0 };
	const char *why = NULL;

	(void)state;
	sample(&m, CN_CONF_SET, AF_INET);
	cn_conf_encode(&m, buf);
	assert_int_equal(cn_conf_decode(&m, buf, CN_CONF_MSG_LEN - 1, &why), -1);
	assert_non_null(strstr(why, "size"));
	assert_int_equal(cn_conf_decode(&m, buf, CN_CONF_MSG_LEN + 1, &why), -1);
	assert_int_equal(cn_conf_decode(&m, buf, 0, &why), -1);
	refused(0, 'X', "magic");
	refused(2, 2, "version");
	refused(3, 0, "type");
	refused(3, 6, "type");
	refused(4, 7, "family");
	refused(5, 1, "reserved");
	refused(11, 1, "reserved");
	refused(103, 1, "reserved");
	refused(24, 1, "beyond");       /* client byte 5 of an IPv4 address */
	refused(51, 1, "beyond");       /* service byte 16 */
	{
		sample(&m, CN_CONF_SET, AF_INET);
		m.port = 0;
		cn_conf_encode(&m, buf);
		assert_int_equal(cn_conf_decode(&m, buf, CN_CONF_MSG_LEN, &why), -1);
		assert_non_null(strstr(why, "port"));
	}
	sample(&m, CN_CONF_DEL, AF_INET);
	cn_conf_encode(&m, buf);
	buf[70] = 1;                    /* a key in a DEL */
	assert_int_equal(cn_conf_decode(&m, buf, CN_CONF_MSG_LEN, &why), -1);
	memset(&m, 0, sizeof(m));
	m.type = CN_CONF_SYNC_END;
	cn_conf_encode(&m, buf);
	buf[30] = 1;                    /* fields in a SYNC */
	assert_int_equal(cn_conf_decode(&m, buf, CN_CONF_MSG_LEN, &why), -1);
	assert_non_null(strstr(why, "no fields"));
}

static void test_stats(void **state)
{
	struct cn_conf_stats s, back;
	uint8_t buf[CN_CONF_STATS_LEN];

	(void)state;
	for (int i = 0; i < CN_CONF_C_MAX; i++)
		s.c[i] = (uint64_t)i * 0x0102030405ULL;
	cn_conf_stats_encode(&s, buf);
	assert_int_equal(cn_conf_stats_decode(&back, buf, sizeof(buf)), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	assert_int_equal(cn_conf_stats_decode(&back, buf, sizeof(buf) - 1), -1);
	buf[1] = 'R';
	assert_int_equal(cn_conf_stats_decode(&back, buf, sizeof(buf)), -1);
	assert_string_equal(cn_conf_counter_name(CN_CONF_C_HANDSHAKE_FAILED), "handshake-failed");
	assert_string_equal(cn_conf_counter_name(CN_CONF_C_MAX), "?");
}

/* --- the relay's key table ---------------------------------------------------------------- */

static void tuple_of(struct relay_tuple *t, const struct cn_conf_msg *m)
{
	memset(t, 0, sizeof(*t));
	t->family = m->family;
	t->port = m->port;
	memcpy(t->client, m->client, 16);
	memcpy(t->service, m->service, 16);
}

static void test_key_table(void **state)
{
	static struct relay r;
	struct cn_conf_msg a, b, other, ctl;
	struct relay_tuple ta, to;
	struct relay_key k;
	int64_t now = 1000;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(relay_keys_init(&r), 0);
	sample(&a, CN_CONF_SET, AF_INET);
	a.expires = 0;
	tuple_of(&ta, &a);
	b = a;                          /* the renewal: same session, another key */
	memset(b.ident, 0x33, sizeof(b.ident));
	memset(b.psk, 0x44, sizeof(b.psk));
	other = a;                      /* another client */
	other.client[3] = 9;
	memset(other.ident, 0x55, sizeof(other.ident));
	tuple_of(&to, &other);

	assert_false(relay_key_for_tuple(&r, &ta, &k, now));
	relay_apply(&r, &a, now);
	relay_apply(&r, &other, now);
	assert_true(relay_key_for_tuple(&r, &ta, &k, now));
	assert_memory_equal(k.psk, a.psk, 32);
	/* an identity is only good for its own session (client, service, port) */
	assert_true(relay_key_for_ident(&r, a.ident, 16, &ta, &k, now));
	assert_false(relay_key_for_ident(&r, a.ident, 16, &to, &k, now));
	assert_false(relay_key_for_ident(&r, a.ident, 15, &ta, &k, now));

	/* renewal: the new key is current; the old one is still found by identity (SP) for
	 * RELAY_PREV_GRACE_S, then not */
	relay_apply(&r, &b, now);
	assert_true(relay_key_for_tuple(&r, &ta, &k, now));
	assert_memory_equal(k.psk, b.psk, 32);
	assert_true(relay_key_for_ident(&r, a.ident, 16, &ta, &k, now + 1));
	assert_false(relay_key_for_ident(&r, a.ident, 16, &ta, &k, now + RELAY_PREV_GRACE_S));
	assert_true(relay_key_for_ident(&r, b.ident, 16, &ta, &k, now + RELAY_PREV_GRACE_S));
	assert_int_equal(r.st.c[CN_CONF_C_KEYS_LIVE], 3);

	/* DEL forgets every key of the session, not the other client's */
	sample(&ctl, CN_CONF_DEL, AF_INET);
	relay_apply(&r, &ctl, now);
	assert_false(relay_key_for_tuple(&r, &ta, &k, now));
	assert_false(relay_key_for_ident(&r, a.ident, 16, &ta, &k, now));
	assert_false(relay_key_for_ident(&r, b.ident, 16, &ta, &k, now));
	assert_true(relay_key_for_tuple(&r, &to, &k, now));
	assert_int_equal(r.st.c[CN_CONF_C_KEYS_LIVE], 1);

	/* a sync that lists only a: other goes, a comes back */
	memset(&ctl, 0, sizeof(ctl));
	ctl.type = CN_CONF_SYNC_BEGIN;
	relay_apply(&r, &ctl, now);
	relay_apply(&r, &a, now);
	ctl.type = CN_CONF_SYNC_END;
	relay_apply(&r, &ctl, now);
	assert_true(relay_key_for_tuple(&r, &ta, &k, now));
	assert_false(relay_key_for_tuple(&r, &to, &k, now));
	assert_int_equal(r.st.c[CN_CONF_C_KEYS_LIVE], 1);

	/* an expired key is not used */
	a.expires = now + 5;
	relay_apply(&r, &a, now);
	assert_true(relay_key_for_tuple(&r, &ta, &k, now + 4));
	assert_false(relay_key_for_tuple(&r, &ta, &k, now + 5));
	relay_keys_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_key_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
