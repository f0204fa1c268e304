/* SPDX-License-Identifier: MIT */
/* The path probe's codecs (lib/probe.c): payload round trips through a sealed datagram, every
 * decoder error, the outcomes, and the probe segment (built checksum checked against an
 * independent sum; parsed back for both families; each rejection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "authcrypto.h"
#include "probe.h"

static const struct cn_probe_body REQ = { .answer = CN_PROBE_ASK, .dport = 7447,
	.sport = 40001, .urgptr = 0, .seq = 0x89abcdefu };

static void sample_msg(struct cn_coop_msg *m, uint8_t ctl)
{
	cn_coop_init(m, CN_COOP_PROBE, ctl);
	m->id = 0x4242;
	m->timestamp_ms = 1795000000123ull;
	memset(m->nonce_ss, 0x33, sizeof(m->nonce_ss));
	assert_true(cn_coop_set_service(m, "http"));
}

static void test_roundtrip(void **state)
{
	static const uint8_t key[CN_KEY_LEN] = { 7 };
	const struct cn_probe_body rep = { .answer = CN_PROBE_SEEN, .dport = 7447,
		.sport = 40001, .urgptr = 0xbeef, .seq = 0x89abcdefu };
	const struct { uint8_t ctl; const struct cn_probe_body *b; enum cn_proof_dir dir; } c[] = {
		{ CN_CTL_REQ, &REQ, CN_DIR_SS_TO_SP }, { CN_CTL_REP, &rep, CN_DIR_SP_TO_SS },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cn_coop_msg m, d;
		struct cn_probe_body b;
		uint8_t buf[CN_COOP_MAX_LEN];
		size_t len;

		sample_msg(&m, c[i].ctl);
		assert_int_equal(cn_probe_to_msg(&m, c[i].b, NULL), CN_PROBE_OK);
		assert_int_equal(m.dev_len, CN_PROBE_LEN);
		memset(m.proof, 1, sizeof(m.proof));
		assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
		assert_int_equal(cn_auth_seal_proof(buf, len, key, c[i].dir), 0);
		assert_true(cn_auth_check_proof(buf, len, key, c[i].dir));
		assert_false(cn_auth_check_proof(buf, len, key, 3 - c[i].dir));
		assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
		assert_int_equal(cn_coop_kind(&d), i ? CN_KIND_PROBE_REP : CN_KIND_PROBE_REQ);
		assert_int_equal(cn_probe_from_msg(&d, &b, NULL), CN_PROBE_OK);
		assert_memory_equal(&b, c[i].b, sizeof(b));
		/* the bytes on the wire, as docs/probe.md draws them */
		assert_int_equal(buf[CN_COOP_OFF_DEV], 1);
		assert_int_equal(buf[CN_COOP_OFF_DEV + 1], c[i].b->answer);
		assert_int_equal(buf[CN_COOP_OFF_DEV + 2] << 8 | buf[CN_COOP_OFF_DEV + 3], 7447);
		assert_int_equal(buf[CN_COOP_OFF_DEV + 6] << 8 | buf[CN_COOP_OFF_DEV + 7],
				 c[i].b->urgptr);
		assert_int_equal(buf[CN_COOP_OFF_DEV + 8], 0x89);
	}
}

struct mut {
	const char *what;
	size_t off;     /* in the payload */
	uint8_t val;
	size_t len;     /* 0: 16 */
	enum cn_probe_err err;
	const char *field;
};

static void test_decoder_errors(void **state)
{
	static const struct mut mu[] = {
		{ "short", 0, 1, 15, CN_PROBE_E_LENGTH, "length" },
		{ "long", 0, 1, 17, CN_PROBE_E_LENGTH, "length" },
		{ "version", 0, 2, 0, CN_PROBE_E_VERSION, "version" },
		{ "answer 3", 1, 3, 0, CN_PROBE_E_ANSWER, "answer" },
		{ "dport 0", 2, 0, 0, CN_PROBE_E_PORT, "dport" },
		{ "sport 0", 4, 0, 0, CN_PROBE_E_PORT, "sport" },
		{ "urgptr in a REQ", 7, 1, 0, CN_PROBE_E_URGPTR, "urgptr" },
		{ "reserved", 15, 1, 0, CN_PROBE_E_RESERVED, "reserved" },
	};
	bool seen[CN_PROBE_E_MAX + 1] = { false };
	struct cn_probe_body b;
	struct cn_coop_diag diag;
	uint8_t buf[32], good[CN_PROBE_LEN];
	size_t len;

	(void)state;
	assert_int_equal(cn_probe_body_encode(&REQ, good, sizeof(good), &len, NULL), CN_PROBE_OK);
	for (size_t i = 0; i < sizeof(mu) / sizeof(mu[0]); i++) {
		enum cn_probe_err err;

		memset(buf, 0, sizeof(buf));
		memcpy(buf, good, sizeof(good));
		if (mu[i].off == 2 || mu[i].off == 4)
			buf[mu[i].off + 1] = 0;
		buf[mu[i].off] = mu[i].val;
		diag = (struct cn_coop_diag){ 0 };
		err = cn_probe_body_decode(&b, buf, mu[i].len ? mu[i].len : CN_PROBE_LEN, &diag);
		if (err != mu[i].err || !diag.field || strcmp(diag.field, mu[i].field))
			fail_msg("%s: got %s (%s)", mu[i].what, cn_probe_err_name(err),
				 diag.field ? diag.field : "-");
		seen[err] = true;
	}
	/* sequence number 0 */
	memcpy(buf, good, sizeof(good));
	memset(buf + 8, 0, 4);
	assert_int_equal(cn_probe_body_decode(&b, buf, CN_PROBE_LEN, NULL), CN_PROBE_E_SEQ);
	seen[CN_PROBE_E_SEQ] = true;
	/* header rules: a REQ with a REP's answer, a status datagram */
	{
		struct cn_coop_msg m;
		struct cn_probe_body rep = REQ;

		sample_msg(&m, CN_CTL_REQ);
		rep.answer = CN_PROBE_NOT_SEEN;
		assert_int_equal(cn_probe_to_msg(&m, &rep, NULL), CN_PROBE_E_ANSWER);
		assert_int_equal(cn_probe_to_msg(&m, &REQ, NULL), CN_PROBE_OK);
		m.dev[1] = CN_PROBE_SEEN;
		diag = (struct cn_coop_diag){ 0 };
		assert_int_equal(cn_probe_from_msg(&m, &b, &diag), CN_PROBE_E_ANSWER);
		assert_int_equal(diag.offset, CN_COOP_OFF_DEV + 1);
		m.dev[1] = 0;
		m.dev[0] = 9;
		assert_int_equal(cn_probe_from_msg(&m, &b, &diag), CN_PROBE_E_VERSION);
		assert_int_equal(diag.offset, CN_COOP_OFF_DEV);
		m.coop = CN_COOP_STATUS;
		assert_int_equal(cn_probe_from_msg(&m, &b, NULL), CN_PROBE_E_NOT_PROBE);
		seen[CN_PROBE_E_NOT_PROBE] = true;
	}
	assert_int_equal(cn_probe_body_encode(&REQ, buf, 15, &len, NULL), CN_PROBE_E_NOSPACE);
	seen[CN_PROBE_E_NOSPACE] = true;
	for (int e = 1; e <= CN_PROBE_E_MAX; e++) {
		if (!seen[e])
			fail_msg("no test for %s", cn_probe_err_name((enum cn_probe_err)e));
		assert_string_not_equal(cn_probe_strerror((enum cn_probe_err)e), "unknown error");
	}
}

static void test_judge(void **state)
{
	struct cn_probe_body r = REQ;

	(void)state;
	r.answer = CN_PROBE_SEEN;
	r.urgptr = 0x1234;
	assert_int_equal(cn_probe_judge(0x1234, &r), CN_PROBE_PRESERVED);
	r.urgptr = 0;
	assert_int_equal(cn_probe_judge(0x1234, &r), CN_PROBE_CLEARED);
	r.urgptr = 0x1235;
	assert_int_equal(cn_probe_judge(0x1234, &r), CN_PROBE_ALTERED);
	r.answer = CN_PROBE_NOT_SEEN;
	r.urgptr = 0;
	assert_int_equal(cn_probe_judge(0x1234, &r), CN_PROBE_LOST);
	assert_string_equal(cn_probe_outcome_name(CN_PROBE_NO_ANSWER), "no-answer");
	assert_string_equal(cn_probe_outcome_name(CN_PROBE_CLEARED), "cleared");
	assert_non_null(strstr(cn_probe_advice(CN_PROBE_CLEARED), "clears the urgent pointer"));
}

/* RFC 1071, byte by byte: independent of lib/csum.c */
static uint16_t naive_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void test_segment(void **state)
{
	const uint8_t s4[4] = { 198, 18, 0, 1 }, d4[4] = { 198, 18, 2, 3 };
	uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, d6[16] = { 0x20, 0x01, 0x0d, 0xb8,
		[14] = 2, [15] = 3 };
	uint8_t tcp[CN_PROBE_TCP_LEN], pkt[64], pseudo[40];
	struct cn_probe_seen seen;

	(void)state;
	assert_int_equal(cn_probe_seg_build(tcp, sizeof(tcp), AF_INET, s4, d4, 40001, 7447,
					    0x89abcdefu, 0xbeef), 0);
	assert_int_equal(tcp[13], 0x02); /* SYN, URG clear */
	assert_int_equal(tcp[18] << 8 | tcp[19], 0xbeef);
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, s4, 4);
	memcpy(pseudo + 4, d4, 4);
	pseudo[9] = 6;
	pseudo[11] = 20;
	assert_int_equal(naive_sum(tcp, 20, naive_sum(pseudo, 12, 0)), 0xffff);
	/* as the SP's IPv4 raw socket hands it over: with the IPv4 header */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[9] = 6;
	memcpy(pkt + 12, s4, 4);
	memcpy(pkt + 20, tcp, 20);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 40), CN_SEG_OK);
	assert_int_equal(seen.sport, 40001);
	assert_int_equal(seen.dport, 7447);
	assert_int_equal(seen.seq, 0x89abcdefu);
	assert_int_equal(seen.urgptr, 0xbeef);
	assert_memory_equal(seen.src, s4, 4);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 39), CN_SEG_E_SHORT);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 19), CN_SEG_E_SHORT);
	pkt[6] = 0x20; /* more fragments */
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 40), CN_SEG_E_FRAGMENT);
	pkt[6] = 0;
	pkt[9] = 17;
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 40), CN_SEG_E_IP);
	pkt[9] = 6;
	pkt[0] = 0x44;
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 40), CN_SEG_E_IP);
	pkt[0] = 0x46; /* 24-byte header: the TCP header does not fit */
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET, pkt, 40), CN_SEG_E_SHORT);
	pkt[0] = 0x45;
	/* IPv6: from the TCP header */
	assert_int_equal(cn_probe_seg_build(tcp, sizeof(tcp), AF_INET6, s6, d6, 40001, 7447, 5,
					    0), 0);
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, s6, 16);
	memcpy(pseudo + 16, d6, 16);
	pseudo[35] = 20;
	pseudo[39] = 6;
	assert_int_equal(naive_sum(tcp, 20, naive_sum(pseudo, 40, 0)), 0xffff);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET6, tcp, 20), CN_SEG_OK);
	assert_int_equal(seen.urgptr, 0);
	assert_int_equal(seen.seq, 5);
	tcp[13] = 0x12; /* SYN+ACK: not a probe */
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET6, tcp, 20), CN_SEG_E_NOT_SYN);
	tcp[12] = 0x40;
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET6, tcp, 20), CN_SEG_E_TCP);
	tcp[12] = 0x60;
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET6, tcp, 20), CN_SEG_E_SHORT);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_INET6, tcp, 19), CN_SEG_E_SHORT);
	assert_int_equal(cn_probe_seg_parse(&seen, AF_UNIX, tcp, 20), CN_SEG_E_IP);
	assert_int_equal(cn_probe_seg_build(tcp, 19, AF_INET, s4, d4, 1, 1, 1, 1), -1);
	assert_int_equal(cn_probe_seg_build(tcp, 20, AF_UNIX, s4, d4, 1, 1, 1, 1), -1);
	assert_string_equal(cn_probe_seg_err_name(CN_SEG_E_NOT_SYN), "not-syn");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decoder_errors),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
