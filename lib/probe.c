/* SPDX-License-Identifier: MIT */
/*
 * The path probe's codecs (probe.h). Payload layout (big endian; diagram in docs/probe.md):
 *
 *   0 version  1 answer  2 dport (16)  4 sport (16)  6 urgptr (16)  8 seq (32)  12 reserved (32)
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>

#include "be.h"
#include "csum.h"
#include "probe.h"

static const char *const err_names[] = {
	[CN_PROBE_OK] = "ok",
	[CN_PROBE_E_NOT_PROBE] = "not-probe",
	[CN_PROBE_E_LENGTH] = "length",
	[CN_PROBE_E_VERSION] = "version",
	[CN_PROBE_E_ANSWER] = "answer",
	[CN_PROBE_E_PORT] = "port",
	[CN_PROBE_E_SEQ] = "seq",
	[CN_PROBE_E_URGPTR] = "urgptr",
	[CN_PROBE_E_RESERVED] = "reserved",
	[CN_PROBE_E_NOSPACE] = "nospace",
};

static const char *const err_text[] = {
	[CN_PROBE_OK] = "no error",
	[CN_PROBE_E_NOT_PROBE] = "not a Probe-REQ or Probe-REP",
	[CN_PROBE_E_LENGTH] = "probe payload is not 16 bytes",
	[CN_PROBE_E_VERSION] = "unknown probe payload version",
	[CN_PROBE_E_ANSWER] = "probe answer out of range or not the message's",
	[CN_PROBE_E_PORT] = "probe segment port 0",
	[CN_PROBE_E_SEQ] = "probe segment sequence number 0",
	[CN_PROBE_E_URGPTR] = "urgent pointer in a probe message that carries none",
	[CN_PROBE_E_RESERVED] = "reserved probe byte not zero",
	[CN_PROBE_E_NOSPACE] = "buffer too small",
};

const char *cn_probe_err_name(enum cn_probe_err err)
{
	return (unsigned)err <= CN_PROBE_E_MAX ? err_names[err] : "unknown";
}

const char *cn_probe_strerror(enum cn_probe_err err)
{
	return (unsigned)err <= CN_PROBE_E_MAX ? err_text[err] : "unknown error";
}

const char *cn_probe_outcome_name(enum cn_probe_outcome o)
{
	static const char *const n[] = {
		[CN_PROBE_NONE] = "none", [CN_PROBE_PENDING] = "pending",
		[CN_PROBE_PRESERVED] = "preserved", [CN_PROBE_CLEARED] = "cleared",
		[CN_PROBE_ALTERED] = "altered", [CN_PROBE_LOST] = "lost",
		[CN_PROBE_NO_ANSWER] = "no-answer",
	};

	return (unsigned)o <= CN_PROBE_OUTCOME_MAX ? n[o] : "unknown";
}

const char *cn_probe_advice(enum cn_probe_outcome o)
{
	switch (o) {
	case CN_PROBE_PRESERVED:
		return "the path keeps the urgent pointer: the overlay can work";
	case CN_PROBE_CLEARED:
		return "a middlebox between SS and SP clears the urgent pointer of segments "
		       "without URG (pf scrub, ASA tcp-map): every overlay segment will be dropped "
		       "at the SP; exempt TCP to the SP from normalization there, or carry the "
		       "overlay through a tunnel";
	case CN_PROBE_ALTERED:
		return "a middlebox between SS and SP rewrites the urgent pointer: overlay segments "
		       "will arrive with a wrong ID and be dropped at the SP; exempt TCP to the SP "
		       "from rewriting there, or carry the overlay through a tunnel";
	case CN_PROBE_LOST:
		return "the SP answered but the probe segment never reached it: a firewall on the "
		       "path drops TCP SYNs to the SP's cooperative port (or the SP cannot open a "
		       "raw socket: see its log); the urgent pointer is untested";
	case CN_PROBE_NO_ANSWER:
		return "the SP did not answer: is its coopnet-authd running and reachable over "
		       "UDP? the urgent pointer is untested";
	default:
		return "";
	}
}

enum cn_probe_outcome cn_probe_judge(uint16_t sent, const struct cn_probe_body *rep)
{
	if (rep->answer != CN_PROBE_SEEN)
		return CN_PROBE_LOST;
	if (rep->urgptr == sent)
		return CN_PROBE_PRESERVED;
	return rep->urgptr == 0 ? CN_PROBE_CLEARED : CN_PROBE_ALTERED;
}

static enum cn_probe_err fail(struct cn_coop_diag *diag, enum cn_probe_err err,
    const char *field, size_t off)
{
	if (diag) {
		diag->field = field;
		diag->offset = off;
	}
	return err;
}

/* ------------------------------------------------------------------ payload */

static enum cn_probe_err validate(const struct cn_probe_body *b, struct cn_coop_diag *diag)
{
	if (b->answer > CN_PROBE_ANSWER_MAX)
		return fail(diag, CN_PROBE_E_ANSWER, "answer", 1);
	if (b->dport == 0)
		return fail(diag, CN_PROBE_E_PORT, "dport", 2);
	if (b->sport == 0)
		return fail(diag, CN_PROBE_E_PORT, "sport", 4);
	if (b->answer != CN_PROBE_SEEN && b->urgptr != 0)
		return fail(diag, CN_PROBE_E_URGPTR, "urgptr", 6);
	if (b->seq == 0)
		return fail(diag, CN_PROBE_E_SEQ, "seq", 8);
	return CN_PROBE_OK;
}

enum cn_probe_err cn_probe_body_encode(const struct cn_probe_body *b, uint8_t *buf,
    size_t size, size_t *outlen, struct cn_coop_diag *diag)
{
	enum cn_probe_err err = validate(b, diag);

	if (err != CN_PROBE_OK)
		return err;
	if (size < CN_PROBE_LEN)
		return fail(diag, CN_PROBE_E_NOSPACE, "buffer", size);
	memset(buf, 0, CN_PROBE_LEN);
	buf[0] = CN_PROBE_VERSION;
	buf[1] = b->answer;
	be_put16(buf + 2, b->dport);
	be_put16(buf + 4, b->sport);
	be_put16(buf + 6, b->urgptr);
	be_put32(buf + 8, b->seq);
	*outlen = CN_PROBE_LEN;
	return CN_PROBE_OK;
}

enum cn_probe_err cn_probe_body_decode(struct cn_probe_body *out, const uint8_t *buf,
    size_t len, struct cn_coop_diag *diag)
{
	if (len != CN_PROBE_LEN)
		return fail(diag, CN_PROBE_E_LENGTH, "length", len);
	if (buf[0] != CN_PROBE_VERSION)
		return fail(diag, CN_PROBE_E_VERSION, "version", 0);
	if (buf[12] | buf[13] | buf[14] | buf[15])
		return fail(diag, CN_PROBE_E_RESERVED, "reserved", 12);
	memset(out, 0, sizeof(*out));
	out->answer = buf[1];
	out->dport = (uint16_t)be_get(buf + 2, 2);
	out->sport = (uint16_t)be_get(buf + 4, 2);
	out->urgptr = (uint16_t)be_get(buf + 6, 2);
	out->seq = (uint32_t)be_get(buf + 8, 4);
	return validate(out, diag);
}

static bool answer_fits(enum cn_coop_kind k, uint8_t answer)
{
	return k == CN_KIND_PROBE_REQ ? answer == CN_PROBE_ASK : answer != CN_PROBE_ASK;
}

enum cn_probe_err cn_probe_from_msg(const struct cn_coop_msg *m, struct cn_probe_body *out,
    struct cn_coop_diag *diag)
{
	enum cn_coop_kind k = cn_coop_kind(m);
	enum cn_probe_err err;

	if (m->coop != CN_COOP_PROBE || (k != CN_KIND_PROBE_REQ && k != CN_KIND_PROBE_REP))
		return fail(diag, CN_PROBE_E_NOT_PROBE, "ctl", 5);
	err = cn_probe_body_decode(out, m->dev, m->dev_len, diag);
	if (err != CN_PROBE_OK) {
		if (diag)
			diag->offset += CN_COOP_OFF_DEV;
		return err;
	}
	if (!answer_fits(k, out->answer))
		return fail(diag, CN_PROBE_E_ANSWER, "answer", CN_COOP_OFF_DEV + 1);
	return CN_PROBE_OK;
}

enum cn_probe_err cn_probe_to_msg(struct cn_coop_msg *m, const struct cn_probe_body *b,
    struct cn_coop_diag *diag)
{
	enum cn_coop_kind k = cn_coop_kind(m);
	size_t len = 0;
	enum cn_probe_err err;

	if (m->coop != CN_COOP_PROBE || (k != CN_KIND_PROBE_REQ && k != CN_KIND_PROBE_REP))
		return fail(diag, CN_PROBE_E_NOT_PROBE, "ctl", 5);
	if (!answer_fits(k, b->answer))
		return fail(diag, CN_PROBE_E_ANSWER, "answer", CN_COOP_OFF_DEV + 1);
	err = cn_probe_body_encode(b, m->dev, sizeof(m->dev), &len, diag);
	if (err != CN_PROBE_OK)
		return err;
	m->dev_len = (uint16_t)len;
	return CN_PROBE_OK;
}

/* ------------------------------------------------------------------ the segment */

int cn_probe_seg_build(uint8_t *buf, size_t size, int family, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t seq, uint16_t urgptr)
{
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	uint8_t pseudo[8] = { 0 };
	uint64_t sum;
	uint16_t c;

	if (alen == 0 || size < CN_PROBE_TCP_LEN)
		return -1;
	memset(buf, 0, CN_PROBE_TCP_LEN);
	be_put16(buf, sport);
	be_put16(buf + 2, dport);
	be_put32(buf + 4, seq);
	buf[12] = 5 << 4;   /* data offset: 20 bytes */
	buf[13] = 0x02;     /* SYN; URG clear */
	be_put16(buf + 14, 1024);
	be_put16(buf + 18, urgptr);
	/* pseudo-header: addresses, then (IPv4) zero, protocol, length or (IPv6) length, zero,
	 * next header; the same 16-bit sum either way */
	be_put16(pseudo + 2, CN_PROBE_TCP_LEN);
	pseudo[7] = IPPROTO_TCP;
	sum = cn_csum_add(0, src, alen);
	sum = cn_csum_add(sum, dst, alen);
	sum = cn_csum_add(sum, pseudo, sizeof(pseudo));
	sum = cn_csum_add(sum, buf, CN_PROBE_TCP_LEN);
	c = (uint16_t)~cn_csum_fold(sum); /* native order, as the words lay in memory */
	memcpy(buf + 16, &c, 2);
	return 0;
}

const char *cn_probe_seg_err_name(enum cn_probe_seg_err err)
{
	static const char *const n[] = { "ok", "short", "ip", "fragment", "tcp", "not-syn" };

	return (unsigned)err <= CN_SEG_E_MAX ? n[err] : "unknown";
}

enum cn_probe_seg_err cn_probe_seg_parse(struct cn_probe_seen *out, int family,
    const uint8_t *buf, size_t len)
{
	size_t ihl = 0, doff;
	const uint8_t *t;

	if (family == AF_INET) {
		if (len < 20)
			return CN_SEG_E_SHORT;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((buf[0] >> 4) != 4 || ihl < 20 || buf[9] != IPPROTO_TCP)
			return CN_SEG_E_IP;
		if (be_get(buf + 6, 2) & 0x3fff)
			return CN_SEG_E_FRAGMENT;
		if (len < ihl + 20)
			return CN_SEG_E_SHORT;
		memset(out->src, 0, sizeof(out->src));
		memcpy(out->src, buf + 12, 4);
	} else if (family != AF_INET6) {
		return CN_SEG_E_IP;
	} else if (len < 20) {
		return CN_SEG_E_SHORT;
	}
	t = buf + ihl;
	doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20)
		return CN_SEG_E_TCP;
	if (len < ihl + doff)
		return CN_SEG_E_SHORT;
	if ((t[13] & 0x12) != 0x02)
		return CN_SEG_E_NOT_SYN;
	out->sport = (uint16_t)be_get(t, 2);
	out->dport = (uint16_t)be_get(t + 2, 2);
	out->seq = (uint32_t)be_get(t + 4, 4);
	out->flags = t[13];
	out->urgptr = (uint16_t)be_get(t + 18, 2);
	return CN_SEG_OK;
}
