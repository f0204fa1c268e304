/* SPDX-License-Identifier: MIT */
/*
 * The status payload codec and receive window (status.h). Layout (big endian), the diagram
 * is in docs/protocol.md:
 *
 *   0 version  1 kind  2 flags  3 reserved  4 interval ms (32)  8 seq (64)
 *   info_client: 16 last seen ms (64) 24 segs c2s 32 bytes c2s 40 segs s2c 48 bytes s2c
 *                (64 each) 56 drops no-id, wrong-id, expired, other (32 each)
 *   info_vNIC:   16 link 17 health 18 check 19 reserved 20 http (16) 22 weight (16)
 *                24 sessions (32) 28 conns (32) 32 bytes/s (64) 40 check ms (32) 44 since s (32)
 */
#include <string.h>

#include "be.h"
#include "status.h"

static const char *const err_names[] = {
	[CN_STATUS_OK] = "ok",
	[CN_STATUS_E_NOT_STATUS] = "not-status",
	[CN_STATUS_E_NO_PROOF] = "no-proof",
	[CN_STATUS_E_MISSING] = "missing",
	[CN_STATUS_E_SHORT] = "short",
	[CN_STATUS_E_LENGTH] = "length",
	[CN_STATUS_E_VERSION] = "version",
	[CN_STATUS_E_KIND] = "kind",
	[CN_STATUS_E_FLAGS] = "flags",
	[CN_STATUS_E_RESERVED] = "reserved",
	[CN_STATUS_E_INTERVAL] = "interval",
	[CN_STATUS_E_SEQ] = "seq",
	[CN_STATUS_E_LINK] = "link",
	[CN_STATUS_E_HEALTH] = "health",
	[CN_STATUS_E_CHECK] = "check",
	[CN_STATUS_E_HTTP] = "http",
	[CN_STATUS_E_VNIC_STATUS] = "vnic-status",
	[CN_STATUS_E_NOSPACE] = "nospace",
};

static const char *const err_text[] = {
	[CN_STATUS_OK] = "no error",
	[CN_STATUS_E_NOT_STATUS] = "not a Status-REQ or Status-REP",
	[CN_STATUS_E_NO_PROOF] = "status without a session proof (group status is planned)",
	[CN_STATUS_E_MISSING] = "status without the ID or service of its session",
	[CN_STATUS_E_SHORT] = "status payload shorter than its 16-byte header",
	[CN_STATUS_E_LENGTH] = "status payload length is not the one of its kind",
	[CN_STATUS_E_VERSION] = "unknown status payload version",
	[CN_STATUS_E_KIND] = "status payload kind unknown or not the sender kind",
	[CN_STATUS_E_FLAGS] = "reserved status flag set",
	[CN_STATUS_E_RESERVED] = "reserved status byte not zero",
	[CN_STATUS_E_INTERVAL] = "report interval out of range (100 ms to 1 hour)",
	[CN_STATUS_E_SEQ] = "status counter 0",
	[CN_STATUS_E_LINK] = "link state out of range",
	[CN_STATUS_E_HEALTH] = "health out of range",
	[CN_STATUS_E_CHECK] = "check kind out of range, or a verdict without a check",
	[CN_STATUS_E_HTTP] = "HTTP status without an HTTP check, or not 100..599",
	[CN_STATUS_E_VNIC_STATUS] = "vNIC status in the header differs from the payload",
	[CN_STATUS_E_NOSPACE] = "buffer too small",
};

const char *cn_status_err_name(enum cn_status_err err)
{
	return (unsigned)err <= CN_STATUS_E_MAX ? err_names[err] : "unknown";
}

const char *cn_status_strerror(enum cn_status_err err)
{
	return (unsigned)err <= CN_STATUS_E_MAX ? err_text[err] : "unknown error";
}

const char *cn_status_drop_name(enum cn_status_drop d)
{
	static const char *const n[] = { "no-id", "wrong-id", "expired", "other" };

	return (unsigned)d < CN_DROP_MAX ? n[d] : "unknown";
}

const char *cn_link_name(unsigned v)
{
	static const char *const n[] = { "unknown", "up", "down" };

	return v <= CN_LINK_MAX ? n[v] : "invalid";
}

const char *cn_health_name(unsigned v)
{
	static const char *const n[] = { "unknown", "passing", "failing", "none" };

	return v <= CN_HEALTH_MAX ? n[v] : "invalid";
}

const char *cn_check_name(unsigned v)
{
	static const char *const n[] = { "none", "tcp", "http" };

	return v <= CN_CHECK_MAX ? n[v] : "invalid";
}

const char *cn_status_rx_name(enum cn_status_rx_verdict v)
{
	static const char *const n[] = { "accept", "new-epoch", "replay", "too-old", "old-epoch" };

	return (unsigned)v <= CN_RX_OLD_EPOCH ? n[v] : "unknown";
}

static enum cn_status_err fail(struct cn_coop_diag *diag, enum cn_status_err err,
    const char *field, size_t off)
{
	if (diag) {
		diag->field = field;
		diag->offset = off;
	}
	return err;
}

/* ------------------------------------------------------------------ bytes */

/* ------------------------------------------------------------------ rules */

static size_t kind_len(uint8_t kind)
{
	return kind == CN_SENDER_CLIENT ? CN_STATUS_CLIENT_LEN :
	       kind == CN_SENDER_VNIC ? CN_STATUS_VNIC_LEN : 0;
}

static enum cn_status_err check_vnic(const struct cn_status_vnic *v, struct cn_coop_diag *diag)
{
	if (v->link > CN_LINK_MAX)
		return fail(diag, CN_STATUS_E_LINK, "link", 16);
	if (v->health > CN_HEALTH_MAX)
		return fail(diag, CN_STATUS_E_HEALTH, "health", 17);
	if (v->check > CN_CHECK_MAX)
		return fail(diag, CN_STATUS_E_CHECK, "check", 18);
	/* a verdict (passing, failing) comes from a check; "none" means there is none */
	if ((v->health == CN_HEALTH_NONE) != (v->check == CN_CHECK_NONE))
		return fail(diag, CN_STATUS_E_CHECK, "check", 18);
	if (v->http_code != 0 && (v->check != CN_CHECK_HTTP || v->http_code < 100 ||
				  v->http_code > 599))
		return fail(diag, CN_STATUS_E_HTTP, "http_code", 20);
	return CN_STATUS_OK;
}

enum cn_status_err cn_status_body_validate(const struct cn_status_body *b,
    struct cn_coop_diag *diag)
{
	if (kind_len(b->kind) == 0)
		return fail(diag, CN_STATUS_E_KIND, "kind", 1);
	if (b->flags & CN_STATUS_F_RESERVED)
		return fail(diag, CN_STATUS_E_FLAGS, "flags", 2);
	if (b->interval_ms < CN_STATUS_INTERVAL_MIN_MS || b->interval_ms > CN_STATUS_INTERVAL_MAX_MS)
		return fail(diag, CN_STATUS_E_INTERVAL, "interval", 4);
	if (b->seq == 0)
		return fail(diag, CN_STATUS_E_SEQ, "seq", 8);
	return b->kind == CN_SENDER_VNIC ? check_vnic(&b->u.vnic, diag) : CN_STATUS_OK;
}

/* ------------------------------------------------------------------ encode / decode */

static void put_client(uint8_t *p, const struct cn_status_client *c)
{
	be_put64(p + 16, c->last_seen_ms);
	be_put64(p + 24, c->segs_c2s);
	be_put64(p + 32, c->bytes_c2s);
	be_put64(p + 40, c->segs_s2c);
	be_put64(p + 48, c->bytes_s2c);
	for (int i = 0; i < CN_DROP_MAX; i++)
		be_put32(p + 56 + 4 * i, c->drops[i]);
}

static void get_client(struct cn_status_client *c, const uint8_t *p)
{
	c->last_seen_ms = be_get(p + 16, 8);
	c->segs_c2s = be_get(p + 24, 8);
	c->bytes_c2s = be_get(p + 32, 8);
	c->segs_s2c = be_get(p + 40, 8);
	c->bytes_s2c = be_get(p + 48, 8);
	for (int i = 0; i < CN_DROP_MAX; i++)
		c->drops[i] = (uint32_t)be_get(p + 56 + 4 * i, 4);
}

static void put_vnic(uint8_t *p, const struct cn_status_vnic *v)
{
	p[16] = v->link;
	p[17] = v->health;
	p[18] = v->check;
	p[19] = 0;
	be_put16(p + 20, v->http_code);
	be_put16(p + 22, v->weight);
	be_put32(p + 24, v->sessions);
	be_put32(p + 28, v->conns);
	be_put64(p + 32, v->bytes_per_s);
	be_put32(p + 40, v->check_ms);
	be_put32(p + 44, v->since_s);
}

static void get_vnic(struct cn_status_vnic *v, const uint8_t *p)
{
	v->link = p[16];
	v->health = p[17];
	v->check = p[18];
	v->http_code = (uint16_t)be_get(p + 20, 2);
	v->weight = (uint16_t)be_get(p + 22, 2);
	v->sessions = (uint32_t)be_get(p + 24, 4);
	v->conns = (uint32_t)be_get(p + 28, 4);
	v->bytes_per_s = be_get(p + 32, 8);
	v->check_ms = (uint32_t)be_get(p + 40, 4);
	v->since_s = (uint32_t)be_get(p + 44, 4);
}

enum cn_status_err cn_status_body_encode(const struct cn_status_body *b, uint8_t *buf,
    size_t size, size_t *outlen, struct cn_coop_diag *diag)
{
	enum cn_status_err err;
	size_t len;

	if ((err = cn_status_body_validate(b, diag)) != CN_STATUS_OK)
		return err;
	len = kind_len(b->kind);
	if (size < len)
		return fail(diag, CN_STATUS_E_NOSPACE, "buffer", size);
	memset(buf, 0, len);
	buf[0] = CN_STATUS_VERSION;
	buf[1] = b->kind;
	buf[2] = b->flags;
	be_put32(buf + 4, b->interval_ms);
	be_put64(buf + 8, b->seq);
	if (b->kind == CN_SENDER_CLIENT)
		put_client(buf, &b->u.client);
	else
		put_vnic(buf, &b->u.vnic);
	*outlen = len;
	return CN_STATUS_OK;
}

enum cn_status_err cn_status_body_decode(struct cn_status_body *out, const uint8_t *buf,
    size_t len, struct cn_coop_diag *diag)
{
	if (len < CN_STATUS_HDR_LEN)
		return fail(diag, CN_STATUS_E_SHORT, "length", len);
	if (buf[0] != CN_STATUS_VERSION)
		return fail(diag, CN_STATUS_E_VERSION, "version", 0);
	if (kind_len(buf[1]) == 0)
		return fail(diag, CN_STATUS_E_KIND, "kind", 1);
	if (len != kind_len(buf[1]))
		return fail(diag, CN_STATUS_E_LENGTH, "length", len);
	if (buf[3] != 0)
		return fail(diag, CN_STATUS_E_RESERVED, "reserved", 3);
	if (buf[1] == CN_SENDER_VNIC && buf[19] != 0)
		return fail(diag, CN_STATUS_E_RESERVED, "reserved", 19);
	memset(out, 0, sizeof(*out));
	out->kind = buf[1];
	out->flags = buf[2];
	out->interval_ms = (uint32_t)be_get(buf + 4, 4);
	out->seq = be_get(buf + 8, 8);
	if (out->kind == CN_SENDER_CLIENT)
		get_client(&out->u.client, buf);
	else
		get_vnic(&out->u.vnic, buf);
	return cn_status_body_validate(out, diag);
}

/* ------------------------------------------------------------------ with the datagram */

enum cn_vnic_status cn_status_vnic_summary(const struct cn_status_vnic *v)
{
	if (v->link == CN_LINK_DOWN || v->health == CN_HEALTH_FAILING)
		return CN_VNIC_DOWN;
	if (v->health == CN_HEALTH_UNKNOWN)
		return CN_VNIC_UNKNOWN;
	if (v->weight == 0)
		return CN_VNIC_BUSY;
	return CN_VNIC_UP;
}

static bool is_report(const struct cn_coop_msg *m)
{
	enum cn_coop_kind k = cn_coop_kind(m);

	return k == CN_KIND_STATUS_REQ || k == CN_KIND_STATUS_REP;
}

static bool zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The header rules a status report adds to the datagram's own. */
static enum cn_status_err check_header(const struct cn_coop_msg *m, struct cn_coop_diag *diag)
{
	if (m->coop != CN_COOP_STATUS || !is_report(m))
		return fail(diag, CN_STATUS_E_NOT_STATUS, "ctl", 5);
	if (zero(m->proof, sizeof(m->proof)) || !zero(m->mac, sizeof(m->mac)))
		return fail(diag, CN_STATUS_E_NO_PROOF, "proof", CN_COOP_OFF_PROOF);
	if (m->id == 0)
		return fail(diag, CN_STATUS_E_MISSING, "id", 10);
	if (m->service[0] == '\0')
		return fail(diag, CN_STATUS_E_MISSING, "service", CN_COOP_OFF_SERVICE);
	if (!zero(m->nonce_sp, sizeof(m->nonce_sp))) /* a report has no second nonce */
		return fail(diag, CN_STATUS_E_RESERVED, "nonce_sp", 40);
	return CN_STATUS_OK;
}

enum cn_status_err cn_status_from_msg(const struct cn_coop_msg *m, struct cn_status_body *out,
    struct cn_coop_diag *diag)
{
	enum cn_status_err err;
	uint8_t want;

	if ((err = check_header(m, diag)) != CN_STATUS_OK)
		return err;
	err = cn_status_body_decode(out, m->dev, m->dev_len, diag);
	if (err != CN_STATUS_OK) {
		if (diag)
			diag->offset += CN_COOP_OFF_DEV;
		return err;
	}
	if (out->kind != m->sender.kind)
		return fail(diag, CN_STATUS_E_KIND, "kind", CN_COOP_OFF_DEV + 1);
	want = out->kind == CN_SENDER_VNIC ? (uint8_t)cn_status_vnic_summary(&out->u.vnic) : 0;
	if (m->vnic_status != want)
		return fail(diag, CN_STATUS_E_VNIC_STATUS, "vnic_status", 14);
	return CN_STATUS_OK;
}

enum cn_status_err cn_status_to_msg(struct cn_coop_msg *m, const struct cn_status_body *b,
    struct cn_coop_diag *diag)
{
	size_t len = 0;
	enum cn_status_err err;

	if (m->coop != CN_COOP_STATUS || !is_report(m))
		return fail(diag, CN_STATUS_E_NOT_STATUS, "ctl", 5);
	err = cn_status_body_encode(b, m->dev, sizeof(m->dev), &len, diag);
	if (err != CN_STATUS_OK)
		return err;
	m->dev_len = (uint16_t)len;
	m->sender.kind = b->kind;
	m->vnic_status = b->kind == CN_SENDER_VNIC ? (uint8_t)cn_status_vnic_summary(&b->u.vnic) : 0;
	return CN_STATUS_OK;
}

/* ------------------------------------------------------------------ receive window */

enum cn_status_rx_verdict cn_status_rx_check(const struct cn_status_rx *rx,
    const uint8_t epoch[CN_COOP_NONCE_LEN], uint64_t seq, uint64_t ts_ms)
{
	uint64_t back;

	if (!rx->init)
		return CN_RX_NEW_EPOCH;
	if (memcmp(rx->epoch, epoch, CN_COOP_NONCE_LEN) != 0)
		return ts_ms > rx->last_ts_ms ? CN_RX_NEW_EPOCH : CN_RX_OLD_EPOCH;
	if (seq > rx->top)
		return CN_RX_ACCEPT;
	back = rx->top - seq;
	if (back >= CN_STATUS_WINDOW)
		return CN_RX_TOO_OLD;
	return (rx->seen >> back) & 1u ? CN_RX_REPLAY : CN_RX_ACCEPT;
}

void cn_status_rx_accept(struct cn_status_rx *rx, const uint8_t epoch[CN_COOP_NONCE_LEN],
    uint64_t seq, uint64_t ts_ms)
{
	if (!rx->init || memcmp(rx->epoch, epoch, CN_COOP_NONCE_LEN) != 0) {
		rx->init = true;
		memcpy(rx->epoch, epoch, CN_COOP_NONCE_LEN);
		rx->top = seq;
		rx->seen = 1;
	} else if (seq > rx->top) {
		uint64_t shift = seq - rx->top;

		rx->seen = shift >= CN_STATUS_WINDOW ? 1 : (rx->seen << shift) | 1u;
		rx->top = seq;
	} else {
		rx->seen |= (uint64_t)1 << (rx->top - seq);
	}
	if (ts_ms > rx->last_ts_ms)
		rx->last_ts_ms = ts_ms;
}
