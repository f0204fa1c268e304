/* SPDX-License-Identifier: MIT */
/* The status payload (lib/status.c): round trips through a sealed datagram, every decoder
 * error, the receive window (replays, old counters, a restarted peer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authcrypto.h"
#include "status.h"

static void sample_body(struct cn_status_body *b, uint8_t kind)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->interval_ms = 10000;
	b->seq = 0x0102030405060708ull;
	if (kind == CN_SENDER_CLIENT) {
		b->u.client = (struct cn_status_client){
			.last_seen_ms = 1795000000999ull, .segs_c2s = 11, .bytes_c2s = 1111,
			.segs_s2c = 22, .bytes_s2c = 0x1122334455ull,
			.drops = { 1, 2, 3, 0xfffffffeu },
		};
	} else {
		b->flags = CN_STATUS_F_CHANGE;
		b->u.vnic = (struct cn_status_vnic){
			.link = CN_LINK_UP, .health = CN_HEALTH_FAILING, .check = CN_CHECK_HTTP,
			.http_code = 500, .weight = 100, .sessions = 7,
			.conns = CN_STATUS_CONNS_UNKNOWN, .bytes_per_s = 123456789, .check_ms = 12,
			.since_s = 3,
		};
	}
}

static void sample_msg(struct cn_coop_msg *m, const struct cn_status_body *b)
{
	cn_coop_init(m, CN_COOP_STATUS, CN_CTL_REP);
	m->id = 0x4242;
	m->timestamp_ms = 1795000001000ull;
	memset(m->nonce_ss, 0xab, sizeof(m->nonce_ss));
	m->sender.addr.family = CN_FAM_INET;
	m->sender.addr.addr[0] = 198;
	m->sender.addr.addr[1] = 18;
	m->sender.addr.addr[3] = 9;
	assert_true(cn_coop_set_name(&m->sender, "alice"));
	assert_true(cn_coop_set_service(m, "www"));
	memset(m->proof, 1, sizeof(m->proof)); /* sealed after encoding */
	assert_int_equal(cn_status_to_msg(m, b, NULL), CN_STATUS_OK);
}

static void round_trip(uint8_t kind)
{
	uint8_t key[CN_KEY_LEN], buf[CN_COOP_MAX_LEN];
	struct cn_status_body b, got;
	struct cn_coop_msg m, dec;
	size_t len;

	memset(key, 7, sizeof(key));
	sample_body(&b, kind);
	sample_msg(&m, &b);
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(len, CN_COOP_MIN_LEN + (kind == CN_SENDER_CLIENT ? 72 : 48));
	assert_int_equal(cn_auth_seal_proof(buf, len, key, CN_DIR_SS_TO_SP), 0);
	assert_true(cn_auth_check_proof(buf, len, key, CN_DIR_SS_TO_SP));
	assert_false(cn_auth_check_proof(buf, len, key, CN_DIR_SP_TO_SS));
	assert_int_equal(cn_coop_decode(&dec, buf, len, NULL), CN_COOP_OK);
	assert_int_equal(cn_status_from_msg(&dec, &got, NULL), CN_STATUS_OK);
	assert_memory_equal(&got, &b, sizeof(got));
	assert_int_equal(dec.vnic_status, kind == CN_SENDER_VNIC ? CN_VNIC_DOWN : 0);
	/* the bytes of the payload, as docs/protocol.md lists them */
	assert_int_equal(buf[CN_COOP_OFF_DEV], 1);
	assert_int_equal(buf[CN_COOP_OFF_DEV + 1], kind);
	assert_int_equal(buf[CN_COOP_OFF_DEV + 4 + 2], 0x27); /* 10000 = 0x2710 */
	assert_int_equal(buf[CN_COOP_OFF_DEV + 15], 0x08);
	if (kind == CN_SENDER_VNIC) {
		assert_int_equal(buf[CN_COOP_OFF_DEV + 20], 0x01); /* 500 = 0x01f4 */
		assert_int_equal(buf[CN_COOP_OFF_DEV + 21], 0xf4);
		assert_int_equal(buf[CN_COOP_OFF_DEV + 28], 0xff);
	} else {
		assert_int_equal(buf[CN_COOP_OFF_DEV + 71], 0xfe);
	}
}

static void test_round_trip_client(void **state) { (void)state; round_trip(CN_SENDER_CLIENT); }
static void test_round_trip_vnic(void **state) { (void)state; round_trip(CN_SENDER_VNIC); }

/* ------------------------------------------------------------------ payload errors */

struct body_case {
	const char *name;
	uint8_t kind;
	size_t off;      /* byte to set (SIZE_MAX: none) */
	uint8_t val;
	ptrdiff_t dlen;  /* change of the length */
	enum cn_status_err err;
	const char *field;
};

static const struct body_case body_cases[] = {
	{ "short", CN_SENDER_CLIENT, SIZE_MAX, 0, -60, CN_STATUS_E_SHORT, "length" },
	{ "long", CN_SENDER_CLIENT, SIZE_MAX, 0, 1, CN_STATUS_E_LENGTH, "length" },
	{ "vnic length", CN_SENDER_VNIC, SIZE_MAX, 0, -1, CN_STATUS_E_LENGTH, "length" },
	{ "version", CN_SENDER_CLIENT, 0, 2, 0, CN_STATUS_E_VERSION, "version" },
	{ "kind 0", CN_SENDER_CLIENT, 1, 0, 0, CN_STATUS_E_KIND, "kind" },
	{ "kind 3", CN_SENDER_CLIENT, 1, 3, 0, CN_STATUS_E_KIND, "kind" },
	{ "kind swapped", CN_SENDER_CLIENT, 1, CN_SENDER_VNIC, 0, CN_STATUS_E_LENGTH, "length" },
	{ "flags", CN_SENDER_CLIENT, 2, 0x02, 0, CN_STATUS_E_FLAGS, "flags" },
	{ "reserved 3", CN_SENDER_VNIC, 3, 1, 0, CN_STATUS_E_RESERVED, "reserved" },
	{ "reserved 19", CN_SENDER_VNIC, 19, 1, 0, CN_STATUS_E_RESERVED, "reserved" },
	{ "interval 0", CN_SENDER_CLIENT, 6, 0, 0, CN_STATUS_E_INTERVAL, "interval" },
	{ "interval huge", CN_SENDER_CLIENT, 4, 0x80, 0, CN_STATUS_E_INTERVAL, "interval" },
	{ "link", CN_SENDER_VNIC, 16, 3, 0, CN_STATUS_E_LINK, "link" },
	{ "health", CN_SENDER_VNIC, 17, 4, 0, CN_STATUS_E_HEALTH, "health" },
	{ "check", CN_SENDER_VNIC, 18, 3, 0, CN_STATUS_E_CHECK, "check" },
	{ "verdict without check", CN_SENDER_VNIC, 18, CN_CHECK_NONE, 0, CN_STATUS_E_CHECK, "check" },
	{ "http 600", CN_SENDER_VNIC, 20, 2, 0, CN_STATUS_E_HTTP, "http_code" },
	{ "http with tcp", CN_SENDER_VNIC, 18, CN_CHECK_TCP, 0, CN_STATUS_E_HTTP, "http_code" },
};

static void test_body_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		const struct body_case *c = &body_cases[i];
		uint8_t buf[CN_STATUS_MAX_LEN + 8] = { 0 };
		struct cn_status_body b, out;
		struct cn_coop_diag d = { 0 };
		size_t len;

		sample_body(&b, c->kind);
		assert_int_equal(cn_status_body_encode(&b, buf, sizeof(buf), &len, NULL), CN_STATUS_OK);
		assert_int_equal(cn_status_body_decode(&out, buf, len, NULL), CN_STATUS_OK);
		if (c->off != SIZE_MAX)
			buf[c->off] = c->val;
		len = (size_t)((ptrdiff_t)len + c->dlen);
		print_message("case %s\n", c->name);
		assert_int_equal(cn_status_body_decode(&out, buf, len, &d), c->err);
		assert_string_equal(d.field, c->field);
	}
}

static void test_seq_zero(void **state)
{
	uint8_t buf[CN_STATUS_MAX_LEN];
	struct cn_status_body b, out;
	struct cn_coop_diag d;
	size_t len;

	(void)state;
	sample_body(&b, CN_SENDER_CLIENT);
	assert_int_equal(cn_status_body_encode(&b, buf, sizeof(buf), &len, NULL), CN_STATUS_OK);
	memset(buf + 8, 0, 8);
	assert_int_equal(cn_status_body_decode(&out, buf, len, &d), CN_STATUS_E_SEQ);
	assert_int_equal(d.offset, 8);
	/* the encoder refuses what the decoder refuses, and never writes past size */
	b.seq = 0;
	assert_int_equal(cn_status_body_encode(&b, buf, sizeof(buf), &len, NULL), CN_STATUS_E_SEQ);
	b.seq = 1;
	assert_int_equal(cn_status_body_encode(&b, buf, 71, &len, NULL), CN_STATUS_E_NOSPACE);
	assert_string_equal(cn_status_err_name(CN_STATUS_E_NOSPACE), "nospace");
	sample_body(&b, CN_SENDER_VNIC);
	b.u.vnic.http_code = 99;
	assert_int_equal(cn_status_body_encode(&b, buf, sizeof(buf), &len, &d), CN_STATUS_E_HTTP);
	assert_string_equal(d.field, "http_code");
	assert_string_equal(cn_status_err_name((enum cn_status_err)99), "unknown");
}

/* ------------------------------------------------------------------ header rules */

static void test_header_errors(void **state)
{
	struct cn_status_body b, out;
	struct cn_coop_msg m;
	struct cn_coop_diag d;

	(void)state;
	sample_body(&b, CN_SENDER_VNIC);
	sample_msg(&m, &b);
	assert_int_equal(cn_status_from_msg(&m, &out, NULL), CN_STATUS_OK);

	m.vnic_status = CN_VNIC_UP; /* says up, the payload says failing */
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_VNIC_STATUS);
	assert_string_equal(d.field, "vnic_status");
	sample_msg(&m, &b);
	m.sender.kind = CN_SENDER_CLIENT;
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_KIND);
	sample_msg(&m, &b);
	memset(m.proof, 0, sizeof(m.proof));
	memset(m.mac, 1, sizeof(m.mac));
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_NO_PROOF);
	sample_msg(&m, &b);
	m.id = 0;
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_MISSING);
	assert_string_equal(d.field, "id");
	sample_msg(&m, &b);
	m.service[0] = '\0';
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_MISSING);
	assert_string_equal(d.field, "service");
	sample_msg(&m, &b);
	m.nonce_sp[15] = 1;
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_RESERVED);
	assert_string_equal(d.field, "nonce_sp");
	sample_msg(&m, &b);
	m.coop = CN_COOP_AUTH;
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_NOT_STATUS);
	sample_msg(&m, &b);
	m.ctl = CN_CTL_RST | CN_CTL_ERROR;
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_NOT_STATUS);
	m.coop = CN_COOP_AUTH; /* the encoder side refuses to build a non-status report */
	assert_int_equal(cn_status_to_msg(&m, &b, &d), CN_STATUS_E_NOT_STATUS);
	sample_msg(&m, &b);
	m.dev[1] = 9; /* payload error: offset counted from the datagram's start */
	assert_int_equal(cn_status_from_msg(&m, &out, &d), CN_STATUS_E_KIND);
	assert_int_equal(d.offset, CN_COOP_OFF_DEV + 1);
}

static void test_summary(void **state)
{
	struct cn_status_vnic v = { .link = CN_LINK_UP, .health = CN_HEALTH_PASSING,
				    .check = CN_CHECK_TCP, .weight = 1 };

	(void)state;
	assert_int_equal(cn_status_vnic_summary(&v), CN_VNIC_UP);
	v.weight = 0;
	assert_int_equal(cn_status_vnic_summary(&v), CN_VNIC_BUSY);
	v.link = CN_LINK_DOWN;
	assert_int_equal(cn_status_vnic_summary(&v), CN_VNIC_DOWN);
	v = (struct cn_status_vnic){ .link = CN_LINK_UP, .health = CN_HEALTH_UNKNOWN, .weight = 1 };
	assert_int_equal(cn_status_vnic_summary(&v), CN_VNIC_UNKNOWN);
	v.health = CN_HEALTH_NONE;
	assert_int_equal(cn_status_vnic_summary(&v), CN_VNIC_UP);
}

/* ------------------------------------------------------------------ receive window */

static void test_window(void **state)
{
	uint8_t e1[16], e2[16];
	struct cn_status_rx rx = { 0 };

	(void)state;
	memset(e1, 1, sizeof(e1));
	memset(e2, 2, sizeof(e2));
	assert_int_equal(cn_status_rx_check(&rx, e1, 5, 1000), CN_RX_NEW_EPOCH);
	cn_status_rx_accept(&rx, e1, 5, 1000);
	assert_int_equal(cn_status_rx_check(&rx, e1, 5, 1000), CN_RX_REPLAY);
	assert_int_equal(cn_status_rx_check(&rx, e1, 6, 1100), CN_RX_ACCEPT);
	assert_int_equal(cn_status_rx_check(&rx, e1, 4, 900), CN_RX_ACCEPT); /* reordered */
	cn_status_rx_accept(&rx, e1, 70, 2000);
	assert_int_equal(cn_status_rx_check(&rx, e1, 70, 2000), CN_RX_REPLAY);
	assert_int_equal(cn_status_rx_check(&rx, e1, 7, 1200), CN_RX_ACCEPT); /* 63 below */
	assert_int_equal(cn_status_rx_check(&rx, e1, 6, 1100), CN_RX_TOO_OLD); /* 64 below */
	cn_status_rx_accept(&rx, e1, 7, 1200);
	assert_int_equal(cn_status_rx_check(&rx, e1, 7, 1200), CN_RX_REPLAY);
	assert_int_equal(rx.last_ts_ms, 2000);
	/* the peer restarts: a new epoch with a later timestamp starts again at 1 */
	assert_int_equal(cn_status_rx_check(&rx, e2, 1, 1500), CN_RX_OLD_EPOCH);
	assert_int_equal(cn_status_rx_check(&rx, e2, 1, 2001), CN_RX_NEW_EPOCH);
	cn_status_rx_accept(&rx, e2, 1, 2001);
	assert_int_equal(cn_status_rx_check(&rx, e2, 2, 2002), CN_RX_ACCEPT);
	/* the old epoch's messages, replayed, are older than what was accepted */
	assert_int_equal(cn_status_rx_check(&rx, e1, 71, 2000), CN_RX_OLD_EPOCH);
	/* a jump of more than the window forgets the bitmap */
	cn_status_rx_accept(&rx, e2, 1000, 3000);
	assert_int_equal(cn_status_rx_check(&rx, e2, 999, 2999), CN_RX_ACCEPT);
	assert_int_equal(cn_status_rx_check(&rx, e2, 1000, 3000), CN_RX_REPLAY);
	assert_string_equal(cn_status_rx_name(CN_RX_OLD_EPOCH), "old-epoch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_client),
		cmocka_unit_test(test_round_trip_vnic),
		cmocka_unit_test(test_body_errors),
		cmocka_unit_test(test_seq_zero),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_window),
	};

	if (cn_auth_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
