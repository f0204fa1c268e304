/* SPDX-License-Identifier: MIT */
/* The cooperative datagram codec: round trips of every kind, every decoder error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "coop.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + 1);
}

static void v4(struct cn_coop_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = CN_FAM_INET;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[3] = last;
	a->port = port;
}

/* A valid message of each kind. */
static void sample(struct cn_coop_msg *m, enum cn_coop_kind kind)
{
	switch (kind) {
	case CN_KIND_AUTH_REQ:
		cn_coop_init(m, CN_COOP_AUTH, CN_CTL_REQ);
		m->sender.kind = CN_SENDER_CLIENT;
		v4(&m->sender.addr, 10, 0);
		assert_true(cn_coop_set_name(&m->sender, "alice"));
		break;
	case CN_KIND_AUTH_REPREQ:
		cn_coop_init(m, CN_COOP_AUTH, CN_CTL_REQ | CN_CTL_REP);
		m->id = 0x6141;
		fill(m->nonce_sp, sizeof(m->nonce_sp), 50);
		m->sender.kind = CN_SENDER_VNIC;
		v4(&m->sender.addr, 200, 80);
		assert_true(cn_coop_set_name(&m->sender, "vnic1"));
		m->vnic_status = CN_VNIC_UP;
		break;
	case CN_KIND_AUTH_REP:
		cn_coop_init(m, CN_COOP_AUTH, CN_CTL_REP);
		m->id = 0x6141;
		fill(m->nonce_sp, sizeof(m->nonce_sp), 50);
		break;
	case CN_KIND_AUTH_RST:
		cn_coop_init(m, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
		m->error = CN_AUTHERR_DENIED;
		break;
	case CN_KIND_AUTH_REPRST:
		cn_coop_init(m, CN_COOP_AUTH, CN_CTL_REP | CN_CTL_RST);
		m->id = 0x6141;
		break;
	case CN_KIND_STATUS_REQ:
		cn_coop_init(m, CN_COOP_STATUS, CN_CTL_REQ);
		m->sender.kind = CN_SENDER_CLIENT;
		v4(&m->sender.addr, 10, 0);
		assert_true(cn_coop_set_name(&m->sender, "alice"));
		m->id = 0x6141;
		break;
	case CN_KIND_STATUS_REP:
		cn_coop_init(m, CN_COOP_STATUS, CN_CTL_REP);
		fill(m->nonce_sp, sizeof(m->nonce_sp), 50);
		m->sender.kind = CN_SENDER_VNIC;
		m->sender.addr.family = CN_FAM_INET6;
		m->sender.addr.addr[0] = 0x20;
		m->sender.addr.addr[1] = 0x01;
		m->sender.addr.addr[2] = 0x0d;
		m->sender.addr.addr[3] = 0xb8;
		m->sender.addr.addr[15] = 1;
		m->sender.addr.port = 443;
		assert_true(cn_coop_set_name(&m->sender, "vnic2"));
		m->vnic_status = CN_VNIC_BUSY;
		fill(m->mac, sizeof(m->mac), 90); /* between SPs: group MAC, no proof */
		break;
	case CN_KIND_STATUS_RST:
		cn_coop_init(m, CN_COOP_STATUS, CN_CTL_RST | CN_CTL_ERROR);
		m->error = CN_AUTHERR_INTERNAL;
		fill(m->mac, sizeof(m->mac), 90);
		break;
	case CN_KIND_GROUP: /* only the timestamp and the payload (lib/group.h checks it) */
		cn_coop_init(m, CN_COOP_GROUP, CN_CTL_REQ);
		m->timestamp_ms = 1795000000123ull;
		m->dev_len = 104;
		fill(m->dev, m->dev_len, 4);
		return;
	case CN_KIND_PROBE_REQ:
	case CN_KIND_PROBE_REP:
		cn_coop_init(m, CN_COOP_PROBE, kind == CN_KIND_PROBE_REQ ? CN_CTL_REQ : CN_CTL_REP);
		m->id = 0x1234;
		break;
	case CN_KIND_DEV:
		cn_coop_init(m, CN_COOP_DEV(3), CN_CTL_REQ | CN_CTL_RST);
		m->dev_len = 100;
		fill(m->dev, m->dev_len, 3);
		m->id = 7;
		return;
	default:
		fail();
	}
	m->timestamp_ms = 1795000000123ull;
	fill(m->nonce_ss, sizeof(m->nonce_ss), 10);
	if (kind != CN_KIND_STATUS_RST)
		assert_true(cn_coop_set_service(m, "http"));
	if (kind != CN_KIND_STATUS_REP && kind != CN_KIND_STATUS_RST)
		fill(m->proof, sizeof(m->proof), 70);
}

static void assert_msg_equal(const struct cn_coop_msg *a, const struct cn_coop_msg *b)
{
	assert_memory_equal(a, b, offsetof(struct cn_coop_msg, dev));
	assert_memory_equal(a->dev, b->dev, a->dev_len);
	assert_memory_equal(a->mac, b->mac, sizeof(a->mac));
}

static void roundtrip(enum cn_coop_kind kind)
{
	struct cn_coop_msg m, d;
	uint8_t buf[CN_COOP_MAX_LEN], again[CN_COOP_MAX_LEN];
	size_t len, len2;
	struct cn_coop_diag diag = { 0 };

	sample(&m, kind);
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_OK);
	assert_int_equal(len, CN_COOP_MIN_LEN + m.dev_len);
	assert_int_equal(buf[8] << 8 | buf[9], len);
	assert_memory_equal(buf, "CNCP", 4);
	memset(&d, 0xee, sizeof(d));
	assert_int_equal(cn_coop_decode(&d, buf, len, &diag), CN_COOP_OK);
	assert_int_equal(cn_coop_kind(&d), kind);
	assert_msg_equal(&m, &d);
	assert_int_equal(cn_coop_encode(&d, again, sizeof(again), &len2, NULL), CN_COOP_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(buf, again, len);
}

static void test_roundtrip_all_kinds(void **state)
{
	(void)state;
	for (int k = CN_KIND_AUTH_REQ; k <= CN_KIND_DEV; k++)
		roundtrip((enum cn_coop_kind)k);
}

static void test_forwarded_req_roundtrip(void **state)
{
	struct cn_coop_msg m, d;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	sample(&m, CN_KIND_AUTH_REQ);
	v4(&m.fwd, 1, 4500);
	fill(m.mac, sizeof(m.mac), 5);
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
	assert_msg_equal(&m, &d);
	/* The wire offsets docs/protocol.md gives. */
	assert_int_equal(buf[CN_COOP_OFF_FWD], CN_FAM_INET);
	assert_int_equal(buf[CN_COOP_OFF_FWD + 2] << 8 | buf[CN_COOP_OFF_FWD + 3], 4500);
	assert_memory_equal(buf + CN_COOP_OFF_SERVICE, "http\0", 5);
	assert_memory_equal(buf + CN_COOP_OFF_PROOF, m.proof, 32);
	assert_memory_equal(buf + len - 32, m.mac, 32);
	assert_int_equal(buf[5], CN_CTL_REQ);
	assert_int_equal(buf[7], CN_COOP_AUTH);
}

/* info_vNIC's lifetime (offset 92, 32 bits): carried and proved in Auth-REP&REQ; in any
 * other sender kind the four bytes stay reserved. */
static void test_vnic_lifetime(void **state)
{
	struct cn_coop_msg m, d;
	struct cn_coop_diag diag = { 0 };
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	sample(&m, CN_KIND_AUTH_REPREQ);
	m.sender.lifetime_s = 86400;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_memory_equal(buf + 92, "\x00\x01\x51\x80", 4);
	assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
	assert_int_equal(d.sender.lifetime_s, 86400);
	assert_msg_equal(&m, &d);

	sample(&m, CN_KIND_AUTH_REQ); /* info_client */
	m.sender.lifetime_s = 1;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_E_RESERVED);
	assert_string_equal(diag.field, "sender.reserved");
	sample(&m, CN_KIND_AUTH_REP); /* no sender */
	m.sender.lifetime_s = 1;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_E_RESERVED);
}

static void test_dev_part_max(void **state)
{
	struct cn_coop_msg m, d;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	(void)state;
	sample(&m, CN_KIND_DEV);
	m.dev_len = CN_COOP_DEV_MAX;
	fill(m.dev, m.dev_len, 9);
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(len, CN_COOP_MAX_LEN);
	assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
	assert_msg_equal(&m, &d);
	m.dev_len = CN_COOP_DEV_MAX + 1;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_E_DEV_LEN);
}

/* Encode a valid REQ, let mutate() change bytes, expect err (and field when not NULL). */
struct mutation {
	const char *what;
	enum cn_coop_kind kind;
	void (*mutate)(uint8_t *buf, size_t *len);
	enum cn_coop_err err;
	const char *field;
};

static void m_short(uint8_t *b, size_t *len) { (void)b; *len = CN_COOP_MIN_LEN - 1; }
static void m_long(uint8_t *b, size_t *len) { (void)b; *len = CN_COOP_MAX_LEN + 1; }
static void m_magic(uint8_t *b, size_t *len) { (void)len; b[0] ^= 1; }
static void m_version(uint8_t *b, size_t *len) { (void)len; b[4] = 2; }
static void m_length(uint8_t *b, size_t *len) { (void)len; b[9]++; }
static void m_devlen(uint8_t *b, size_t *len)
{
	/* Two more bytes on the wire, length field updated, dev_len left at 0. */
	memmove(b + *len - 30, b + *len - 32, 32);
	*len += 2;
	b[8] = (uint8_t)(*len >> 8);
	b[9] = (uint8_t)*len;
}
static void m_ctl_res(uint8_t *b, size_t *len) { (void)len; b[5] |= 0x10; }
static void m_coop_res(uint8_t *b, size_t *len) { (void)len; b[7] |= 0x10; }
static void m_group_rep(uint8_t *b, size_t *len) { (void)len; b[5] = CN_CTL_REP; }
static void m_no_app(uint8_t *b, size_t *len) { (void)len; b[6] = b[7] = 0; }
static void m_multi(uint8_t *b, size_t *len) { (void)len; b[7] = 0x03; }
static void m_multi_dev(uint8_t *b, size_t *len) { (void)len; b[6] = 0x03; b[7] = 0; }
static void m_no_ctl(uint8_t *b, size_t *len) { (void)len; b[5] = 0; }
static void m_auth_flags(uint8_t *b, size_t *len) { (void)len; b[5] = CN_CTL_REQ | CN_CTL_RST; }
static void m_status_flags(uint8_t *b, size_t *len)
{
	(void)len;
	b[5] = CN_CTL_REQ | CN_CTL_REP;
}
static void m_vstatus(uint8_t *b, size_t *len) { (void)len; b[14] = 4; }
static void m_skind(uint8_t *b, size_t *len) { (void)len; b[15] = 3; }
static void m_skind_wrong(uint8_t *b, size_t *len) { (void)len; b[15] = CN_SENDER_VNIC; }
static void m_family(uint8_t *b, size_t *len) { (void)len; b[56] = 5; }
static void m_addr_pad(uint8_t *b, size_t *len) { (void)len; b[56 + 4 + 5] = 1; }
static void m_fwd_pad(uint8_t *b, size_t *len) { (void)len; b[160 + 4 + 7] = 1; }
static void m_name(uint8_t *b, size_t *len) { (void)len; b[76] = 0x01; }
static void m_name_tail(uint8_t *b, size_t *len) { (void)len; b[76 + 10] = 'x'; }
static void m_service(uint8_t *b, size_t *len) { (void)len; b[96 + 1] = ' '; }
static void m_res_sender(uint8_t *b, size_t *len) { (void)len; b[57] = 1; }
static void m_res_sender2(uint8_t *b, size_t *len) { (void)len; b[93] = 1; }
static void m_res_fwd(uint8_t *b, size_t *len) { (void)len; b[161] = 1; }
static void m_res2(uint8_t *b, size_t *len) { (void)len; b[183] = 1; }
static void m_error_noflag(uint8_t *b, size_t *len) { (void)len; b[13] = 1; }
static void m_error_zero(uint8_t *b, size_t *len) { (void)len; b[12] = b[13] = 0; }
static void m_error_range(uint8_t *b, size_t *len) { (void)len; b[13] = 99; }
static void m_no_nonce(uint8_t *b, size_t *len) { (void)len; memset(b + 24, 0, 16); }
static void m_no_ts(uint8_t *b, size_t *len) { (void)len; memset(b + 16, 0, 8); }
static void m_no_proof(uint8_t *b, size_t *len) { (void)len; memset(b + 128, 0, 32); }
static void m_no_service(uint8_t *b, size_t *len) { (void)len; memset(b + 96, 0, 32); }
static void m_no_id(uint8_t *b, size_t *len) { (void)len; b[10] = b[11] = 0; }
static void m_id(uint8_t *b, size_t *len) { (void)len; b[11] = 1; }
static void m_nsp(uint8_t *b, size_t *len) { (void)len; b[40] = 1; }
static void m_mac(uint8_t *b, size_t *len) { b[*len - 1] = 1; }
static void m_fwd_only(uint8_t *b, size_t *len) { (void)len; b[160] = 4; b[163] = 1; b[164] = 1; }
static void m_vstatus_rep(uint8_t *b, size_t *len) { (void)len; b[14] = 1; }
static void m_status_both(uint8_t *b, size_t *len) { b[*len - 1] = 1; memset(b + 128, 1, 32); }
static void m_probe_flags(uint8_t *b, size_t *len) { (void)len; b[5] = CN_CTL_REQ | CN_CTL_REP; }

static const struct mutation mutations[] = {
	{ "short", CN_KIND_AUTH_REQ, m_short, CN_COOP_E_SHORT, NULL },
	{ "long", CN_KIND_AUTH_REQ, m_long, CN_COOP_E_LONG, NULL },
	{ "magic", CN_KIND_AUTH_REQ, m_magic, CN_COOP_E_MAGIC, "magic" },
	{ "version", CN_KIND_AUTH_REQ, m_version, CN_COOP_E_VERSION, "version" },
	{ "length", CN_KIND_AUTH_REQ, m_length, CN_COOP_E_LENGTH, "length" },
	{ "dev_len", CN_KIND_AUTH_REQ, m_devlen, CN_COOP_E_DEV_LEN, "dev_len" },
	{ "ctl reserved", CN_KIND_AUTH_REQ, m_ctl_res, CN_COOP_E_CTL_RESERVED, "ctl" },
	{ "coop reserved", CN_KIND_AUTH_REQ, m_coop_res, CN_COOP_E_COOP_RESERVED, "coop" },
	{ "no app", CN_KIND_AUTH_REQ, m_no_app, CN_COOP_E_NO_APP, "coop" },
	{ "auth+status", CN_KIND_AUTH_REQ, m_multi, CN_COOP_E_MULTI_APP, "coop" },
	{ "two dev apps", CN_KIND_DEV, m_multi_dev, CN_COOP_E_MULTI_APP, "coop" },
	{ "no ctl", CN_KIND_AUTH_REQ, m_no_ctl, CN_COOP_E_NO_CTL, "ctl" },
	{ "auth req+rst", CN_KIND_AUTH_REQ, m_auth_flags, CN_COOP_E_AUTH_FLAGS, "ctl" },
	{ "status req+rep", CN_KIND_STATUS_REQ, m_status_flags, CN_COOP_E_STATUS_FLAGS, "ctl" },
	{ "vnic status", CN_KIND_AUTH_REPREQ, m_vstatus, CN_COOP_E_VNIC_STATUS, "vnic_status" },
	{ "sender kind 3", CN_KIND_AUTH_REQ, m_skind, CN_COOP_E_SENDER_KIND, "sender.kind" },
	{ "REQ with info_vNIC", CN_KIND_AUTH_REQ, m_skind_wrong, CN_COOP_E_SENDER_KIND,
	  "sender.kind" },
	{ "family", CN_KIND_AUTH_REQ, m_family, CN_COOP_E_FAMILY, "sender.addr" },
	{ "ipv4 padding", CN_KIND_AUTH_REQ, m_addr_pad, CN_COOP_E_ADDR_PAD, "sender.addr" },
	{ "fwd none with data", CN_KIND_AUTH_REQ, m_fwd_pad, CN_COOP_E_ADDR_PAD, "fwd" },
	{ "name control char", CN_KIND_AUTH_REQ, m_name, CN_COOP_E_NAME, "sender.name" },
	{ "name bytes after NUL", CN_KIND_AUTH_REQ, m_name_tail, CN_COOP_E_NAME, "sender.name" },
	{ "service space", CN_KIND_AUTH_REQ, m_service, CN_COOP_E_SERVICE, "service" },
	{ "sender reserved", CN_KIND_AUTH_REQ, m_res_sender, CN_COOP_E_RESERVED,
	  "sender.reserved" },
	{ "sender tail reserved", CN_KIND_AUTH_REQ, m_res_sender2, CN_COOP_E_RESERVED,
	  "sender.reserved" },
	{ "fwd reserved", CN_KIND_AUTH_REQ, m_res_fwd, CN_COOP_E_RESERVED, "fwd.reserved" },
	{ "reserved", CN_KIND_AUTH_REQ, m_res2, CN_COOP_E_RESERVED, "reserved" },
	{ "error without flag", CN_KIND_AUTH_REQ, m_error_noflag, CN_COOP_E_ERROR_CODE, "error" },
	{ "RST error 0", CN_KIND_AUTH_RST, m_error_zero, CN_COOP_E_ERROR_CODE, "error" },
	{ "RST error 99", CN_KIND_AUTH_RST, m_error_range, CN_COOP_E_ERROR_CODE, "error" },
	{ "REQ no nonce", CN_KIND_AUTH_REQ, m_no_nonce, CN_COOP_E_MISSING, "nonce_ss" },
	{ "REQ no timestamp", CN_KIND_AUTH_REQ, m_no_ts, CN_COOP_E_MISSING, "timestamp" },
	{ "REQ no proof", CN_KIND_AUTH_REQ, m_no_proof, CN_COOP_E_MISSING, "proof" },
	{ "REQ no service", CN_KIND_AUTH_REQ, m_no_service, CN_COOP_E_MISSING, "service" },
	{ "REP&REQ no id", CN_KIND_AUTH_REPREQ, m_no_id, CN_COOP_E_MISSING, "id" },
	{ "REQ with id", CN_KIND_AUTH_REQ, m_id, CN_COOP_E_UNUSED, "id" },
	{ "REQ with nonce_sp", CN_KIND_AUTH_REQ, m_nsp, CN_COOP_E_UNUSED, "nonce_sp" },
	{ "REQ mac without fwd", CN_KIND_AUTH_REQ, m_mac, CN_COOP_E_MISSING, "fwd" },
	{ "REQ fwd without mac", CN_KIND_AUTH_REQ, m_fwd_only, CN_COOP_E_MISSING, "mac" },
	{ "REP with mac", CN_KIND_AUTH_REP, m_mac, CN_COOP_E_UNUSED, "mac" },
	{ "REP with vnic status", CN_KIND_AUTH_REP, m_vstatus_rep, CN_COOP_E_UNUSED,
	  "vnic_status" },
	{ "RST with id", CN_KIND_AUTH_RST, m_id, CN_COOP_E_UNUSED, "id" },
	{ "status proof and mac", CN_KIND_STATUS_REQ, m_status_both, CN_COOP_E_UNUSED, "mac" },
	{ "group rep", CN_KIND_GROUP, m_group_rep, CN_COOP_E_GROUP_FLAGS, "ctl" },
	{ "group with id", CN_KIND_GROUP, m_id, CN_COOP_E_UNUSED, "id" },
	{ "group with mac", CN_KIND_GROUP, m_mac, CN_COOP_E_UNUSED, "mac" },
	{ "group no timestamp", CN_KIND_GROUP, m_no_ts, CN_COOP_E_MISSING, "timestamp" },
	{ "probe req+rep", CN_KIND_PROBE_REQ, m_probe_flags, CN_COOP_E_PROBE_FLAGS, "ctl" },
	{ "probe without ID", CN_KIND_PROBE_REP, m_no_id, CN_COOP_E_MISSING, "id" },
	{ "probe with a mac", CN_KIND_PROBE_REQ, m_mac, CN_COOP_E_UNUSED, "mac" },
};

static void test_decoder_errors(void **state)
{
	bool seen[CN_COOP_E_MAX + 1] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *mu = &mutations[i];
		uint8_t buf[CN_COOP_MAX_LEN + 8];
		struct cn_coop_msg m, d;
		struct cn_coop_diag diag = { NULL, 0 };
		size_t len;
		enum cn_coop_err err;

		memset(buf, 0, sizeof(buf));
		sample(&m, mu->kind);
		assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
		assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
		mu->mutate(buf, &len);
		err = cn_coop_decode(&d, buf, len, &diag);
		if (err != mu->err)
			fail_msg("%s: got %s, want %s", mu->what, cn_coop_err_name(err),
			    cn_coop_err_name(mu->err));
		if (mu->field != NULL && (diag.field == NULL || strcmp(diag.field, mu->field) != 0))
			fail_msg("%s: field %s, want %s", mu->what, diag.field ? diag.field : "(null)",
			    mu->field);
		seen[err] = true;
	}
	/* Every decoder error has a test (OK and NOSPACE are not decoder errors). */
	for (int e = CN_COOP_E_SHORT; e <= CN_COOP_E_MAX; e++)
		if (e != CN_COOP_E_NOSPACE && !seen[e])
			fail_msg("no test for %s", cn_coop_err_name((enum cn_coop_err)e));
}

static void test_encoder_bounds(void **state)
{
	struct cn_coop_msg m;
	uint8_t buf[CN_COOP_MIN_LEN + 16];
	size_t len = 12345;

	(void)state;
	sample(&m, CN_KIND_AUTH_REQ);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(cn_coop_encode(&m, buf, CN_COOP_MIN_LEN - 1, &len, NULL),
	    CN_COOP_E_NOSPACE);
	assert_int_equal(len, 12345);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x5a); /* nothing written */
	assert_int_equal(cn_coop_encode(&m, buf, CN_COOP_MIN_LEN, &len, NULL), CN_COOP_OK);
	assert_int_equal(buf[CN_COOP_MIN_LEN], 0x5a);

	/* The encoder refuses what the decoder would refuse. */
	m.ctl |= 0x80;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_E_CTL_RESERVED);
	sample(&m, CN_KIND_AUTH_REQ);
	m.id = 5;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_E_UNUSED);
}

static void test_names(void **state)
{
	(void)state;
	for (int e = 0; e <= CN_COOP_E_MAX; e++) {
		assert_non_null(cn_coop_err_name((enum cn_coop_err)e));
		assert_string_not_equal(cn_coop_err_name((enum cn_coop_err)e), "unknown");
		assert_string_not_equal(cn_coop_strerror((enum cn_coop_err)e), "unknown error");
		for (int f = 0; f < e; f++)
			assert_string_not_equal(cn_coop_err_name((enum cn_coop_err)e),
			    cn_coop_err_name((enum cn_coop_err)f));
	}
	assert_string_equal(cn_coop_err_name((enum cn_coop_err)1000), "unknown");
	assert_string_equal(cn_auth_error_name(CN_AUTHERR_UNKNOWN_SERVICE), "unknown-service");
	assert_string_equal(cn_auth_error_name(500), "unknown");
	assert_string_equal(cn_coop_kind_name(CN_KIND_AUTH_REPREQ), "Auth-REP&REQ");
}

static void test_names_and_services(void **state)
{
	struct cn_coop_sender s;
	struct cn_coop_msg m;

	(void)state;
	assert_true(cn_coop_service_valid("http"));
	assert_true(cn_coop_service_valid("svc-1.a_b"));
	assert_false(cn_coop_service_valid(""));
	assert_false(cn_coop_service_valid("a b"));
	assert_false(cn_coop_service_valid("0123456789012345678901234567890123"));
	assert_true(cn_coop_service_valid("0123456789012345678901234567890")); /* 31 */
	assert_false(cn_coop_service_valid("01234567890123456789012345678901")); /* 32 */
	assert_true(cn_coop_set_name(&s, "012345678901234"));
	assert_false(cn_coop_set_name(&s, "0123456789012345"));
	assert_false(cn_coop_set_name(&s, "a b"));
	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REQ);
	assert_false(cn_coop_set_service(&m, "x/y"));
}

static void test_addr(void **state)
{
	struct cn_coop_addr a, b;
	struct sockaddr_storage ss;
	char buf[CN_COOP_ADDRSTRLEN];
	socklen_t sl;

	(void)state;
	assert_int_equal(cn_coop_addr_parse(&a, "198.18.0.1"), 0);
	a.port = 4500;
	assert_string_equal(cn_coop_addr_format(&a, buf, sizeof(buf)), "198.18.0.1:4500");
	sl = cn_coop_addr_to_sockaddr(&a, &ss);
	assert_int_not_equal(sl, 0);
	assert_int_equal(cn_coop_addr_from_sockaddr(&b, (struct sockaddr *)&ss, sl), 0);
	assert_true(cn_coop_addr_equal(&a, &b, true));
	assert_int_equal(cn_coop_addr_parse(&a, "2001:db8::1"), 0);
	a.port = 53;
	assert_string_equal(cn_coop_addr_format(&a, buf, sizeof(buf)), "[2001:db8::1]:53");
	sl = cn_coop_addr_to_sockaddr(&a, &ss);
	assert_int_equal(cn_coop_addr_from_sockaddr(&b, (struct sockaddr *)&ss, sl), 0);
	assert_true(cn_coop_addr_equal(&a, &b, true));
	b.port = 54;
	assert_false(cn_coop_addr_equal(&a, &b, true));
	assert_true(cn_coop_addr_equal(&a, &b, false));
	assert_int_equal(cn_coop_addr_parse(&a, "198.18.0.300"), -1);
	assert_int_equal(a.family, CN_FAM_NONE);
}

/* "addr:port" back to an address (sessions.peer, a probe's "sp"): what cn_coop_addr_format
 * writes parses back to the same address and port; anything else is refused with *out zeroed. */
static void test_addr_port(void **state)
{
	static const char *const good[] = { "198.18.0.1:4500", "[2001:db8::1]:53",
					    "198.19.255.254:65535", "[2001:db8:0:1::7]:1" };
	static const char *const bad[] = {
		"198.18.0.1:0", "198.18.0.1:65536", "198.18.0.1:", "198.18.0.1:x",
		"198.18.0.1:80x", "198.18.0.1:-1", "198.18.0.1:+80", "198.18.0.1: 80",
		"198.18.0.1:18446744073709551616", /* strtoul's ERANGE */
		"198.18.0.1:99999999999999999999", "198.18.0.1", ":80", "",
		"[2001:db8::1:80", "2001:db8::1]:80", "[2001:db8::1]80", "[]:80", "[:80",
		"2001:db8::1:80", /* an IPv6 address without brackets: ambiguous */
		"[198.18.0.1]:80", "198.18.0.300:80", "host.example:80",
		"[2001:db8:1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb]:80",
	};
	struct cn_coop_addr a, b;
	char buf[CN_COOP_ADDRSTRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cn_coop_addr_parse_port(&a, good[i]) < 0)
			fail_msg("refused %s", good[i]);
		assert_string_equal(cn_coop_addr_format(&a, buf, sizeof(buf)), good[i]);
		assert_int_equal(cn_coop_addr_parse_port(&b, buf), 0);
		assert_true(cn_coop_addr_equal(&a, &b, true));
	}
	assert_int_equal(cn_coop_addr_parse_port(&a, "198.18.0.1:4500"), 0);
	assert_int_equal(a.family, CN_FAM_INET);
	assert_int_equal(a.port, 4500);
	assert_int_equal(cn_coop_addr_parse_port(&a, "[2001:db8::1]:53"), 0);
	assert_int_equal(a.family, CN_FAM_INET6);
	assert_int_equal(a.port, 53);
	assert_int_equal(a.addr[0], 0x20);
	assert_int_equal(a.addr[15], 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0xa5, sizeof(a));
		if (cn_coop_addr_parse_port(&a, bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(a.family, CN_FAM_NONE);
		assert_int_equal(a.port, 0);
	}
	assert_int_equal(cn_coop_addr_parse_port(&a, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_kinds),
		cmocka_unit_test(test_forwarded_req_roundtrip),
		cmocka_unit_test(test_vnic_lifetime),
		cmocka_unit_test(test_dev_part_max),
		cmocka_unit_test(test_decoder_errors),
		cmocka_unit_test(test_encoder_bounds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_and_services),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
