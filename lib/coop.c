/* SPDX-License-Identifier: MIT */
/*
 * The cooperative datagram codec. Layout (big endian), docs/protocol.md has the diagram:
 *
 *    0 magic "CNCP"    4 version   5 ctl flags   6 coop flags (16)   8 length (16)
 *   10 id (16)        12 error (16)             14 vNIC status      15 sender kind
 *   16 timestamp ms (64)   24 nonce_ss (16 bytes)   40 nonce_sp (16 bytes)
 *   56 sender: family, reserved, port (16), addr (16 bytes), name (16 bytes), lifetime (32:
 *      info_vNIC only, else reserved)
 *   96 service (32 bytes)  128 proof (32 bytes)
 *  160 fwd: family, reserved, port (16), addr (16 bytes)
 *  180 dev_len (16)  182 reserved (16)  184 dev part (dev_len bytes)  then mac (32 bytes)
 */#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "coop_int.h"

static const char *const err_names[] = {
	[CN_COOP_OK] = "ok",
	[CN_COOP_E_SHORT] = "short",
	[CN_COOP_E_LONG] = "long",
	[CN_COOP_E_MAGIC] = "magic",
	[CN_COOP_E_VERSION] = "version",
	[CN_COOP_E_LENGTH] = "length",
	[CN_COOP_E_DEV_LEN] = "dev-len",
	[CN_COOP_E_CTL_RESERVED] = "ctl-reserved",
	[CN_COOP_E_COOP_RESERVED] = "coop-reserved",
	[CN_COOP_E_NO_APP] = "no-app",
	[CN_COOP_E_MULTI_APP] = "multi-app",
	[CN_COOP_E_NO_CTL] = "no-ctl",
	[CN_COOP_E_AUTH_FLAGS] = "auth-flags",
	[CN_COOP_E_STATUS_FLAGS] = "status-flags",
	[CN_COOP_E_PROBE_FLAGS] = "probe-flags",
	[CN_COOP_E_VNIC_STATUS] = "vnic-status",
	[CN_COOP_E_SENDER_KIND] = "sender-kind",
	[CN_COOP_E_FAMILY] = "family",
	[CN_COOP_E_ADDR_PAD] = "addr-pad",
	[CN_COOP_E_NAME] = "name",
	[CN_COOP_E_SERVICE] = "service",
	[CN_COOP_E_RESERVED] = "reserved",
	[CN_COOP_E_ERROR_CODE] = "error-code",
	[CN_COOP_E_MISSING] = "missing",
	[CN_COOP_E_UNUSED] = "unused",
	[CN_COOP_E_NOSPACE] = "nospace",
	[CN_COOP_E_GROUP_FLAGS] = "group-flags",
};

static const char *const err_text[] = {
	[CN_COOP_OK] = "no error",
	[CN_COOP_E_SHORT] = "datagram shorter than the fixed part and the MAC (216 bytes)",
	[CN_COOP_E_LONG] = "datagram longer than 1232 bytes",
	[CN_COOP_E_MAGIC] = "not a cooperative datagram (magic is not \"CNCP\")",
	[CN_COOP_E_VERSION] = "unsupported version",
	[CN_COOP_E_LENGTH] = "length field differs from the datagram size",
	[CN_COOP_E_DEV_LEN] = "developer part length does not match the datagram length",
	[CN_COOP_E_CTL_RESERVED] = "a reserved control flag is set",
	[CN_COOP_E_COOP_RESERVED] = "a reserved cooperative flag is set",
	[CN_COOP_E_NO_APP] = "no cooperative flag set",
	[CN_COOP_E_MULTI_APP] = "more than one cooperative flag set",
	[CN_COOP_E_NO_CTL] = "no control flag set",
	[CN_COOP_E_AUTH_FLAGS] = "auth control flags are none of REQ, REP&REQ, REP, RST+error, REP&RST",
	[CN_COOP_E_STATUS_FLAGS] = "status control flags are none of REQ, REP, RST+error",
	[CN_COOP_E_PROBE_FLAGS] = "probe control flags are neither REQ nor REP",
	[CN_COOP_E_VNIC_STATUS] = "vNIC status out of range",
	[CN_COOP_E_SENDER_KIND] = "sender kind out of range or wrong for this message",
	[CN_COOP_E_FAMILY] = "address family is not 0, 4 or 6",
	[CN_COOP_E_ADDR_PAD] = "address bytes beyond the family's length are not zero",
	[CN_COOP_E_NAME] = "name is not printable ASCII padded with NUL bytes",
	[CN_COOP_E_SERVICE] = "service is not [A-Za-z0-9._-]{1,31} padded with NUL bytes",
	[CN_COOP_E_RESERVED] = "a reserved byte is not zero",
	[CN_COOP_E_ERROR_CODE] = "error flag and error code disagree, or code out of range",
	[CN_COOP_E_MISSING] = "a field this message needs is zero",
	[CN_COOP_E_UNUSED] = "a field this message does not use is not zero",
	[CN_COOP_E_NOSPACE] = "buffer too small for the datagram",
	[CN_COOP_E_GROUP_FLAGS] = "group control flags are not REQ",
};

const char *cn_coop_err_name(enum cn_coop_err err)
{
	if ((unsigned)err > CN_COOP_E_MAX)
		return "unknown";
	return err_names[err];
}

const char *cn_coop_strerror(enum cn_coop_err err)
{
	if ((unsigned)err > CN_COOP_E_MAX)
		return "unknown error";
	return err_text[err];
}

const char *cn_auth_error_name(uint16_t code)
{
	static const char *const names[] = {
		[CN_AUTHERR_NONE] = "none",
		[CN_AUTHERR_DENIED] = "denied",
		[CN_AUTHERR_UNKNOWN_SERVICE] = "unknown-service",
		[CN_AUTHERR_STALE] = "stale",
		[CN_AUTHERR_RATE_LIMITED] = "rate-limited",
		[CN_AUTHERR_NO_ID] = "no-id",
		[CN_AUTHERR_TIMEOUT] = "timeout",
		[CN_AUTHERR_BAD_EXCHANGE] = "bad-exchange",
		[CN_AUTHERR_INTERNAL] = "internal",
		[CN_AUTHERR_REVOKED] = "revoked",
		[CN_AUTHERR_NO_SP_UP] = "no-sp-up",
		[CN_AUTHERR_RELEASED] = "released",
	};

	if (code > CN_AUTHERR_MAX)
		return "unknown";
	return names[code];
}

const char *cn_coop_kind_name(enum cn_coop_kind kind)
{
	static const char *const names[] = {
		[CN_KIND_INVALID] = "invalid",
		[CN_KIND_AUTH_REQ] = "Auth-REQ",
		[CN_KIND_AUTH_REPREQ] = "Auth-REP&REQ",
		[CN_KIND_AUTH_REP] = "Auth-REP",
		[CN_KIND_AUTH_RST] = "Auth-RST",
		[CN_KIND_AUTH_REPRST] = "Auth-REP&RST",
		[CN_KIND_STATUS_REQ] = "Status-REQ",
		[CN_KIND_STATUS_REP] = "Status-REP",
		[CN_KIND_STATUS_RST] = "Status-RST",
		[CN_KIND_GROUP] = "Group",
		[CN_KIND_PROBE_REQ] = "Probe-REQ",
		[CN_KIND_PROBE_REP] = "Probe-REP",
		[CN_KIND_DEV] = "developer",
	};

	if ((unsigned)kind > CN_KIND_DEV)
		return "invalid";
	return names[kind];
}

enum cn_coop_kind cn_coop_kind(const struct cn_coop_msg *m)
{
	if (m->coop == CN_COOP_AUTH) {
		switch (m->ctl) {
		case CN_CTL_REQ: return CN_KIND_AUTH_REQ;
		case CN_CTL_REQ | CN_CTL_REP: return CN_KIND_AUTH_REPREQ;
		case CN_CTL_REP: return CN_KIND_AUTH_REP;
		case CN_CTL_RST | CN_CTL_ERROR: return CN_KIND_AUTH_RST;
		case CN_CTL_REP | CN_CTL_RST: return CN_KIND_AUTH_REPRST;
		default: return CN_KIND_INVALID;
		}
	}
	if (m->coop == CN_COOP_STATUS) {
		switch (m->ctl) {
		case CN_CTL_REQ: return CN_KIND_STATUS_REQ;
		case CN_CTL_REP: return CN_KIND_STATUS_REP;
		case CN_CTL_RST | CN_CTL_ERROR: return CN_KIND_STATUS_RST;
		default: return CN_KIND_INVALID;
		}
	}
	if (m->coop == CN_COOP_GROUP)
		return m->ctl == CN_CTL_REQ ? CN_KIND_GROUP : CN_KIND_INVALID;
	if (m->coop == CN_COOP_PROBE)
		return m->ctl == CN_CTL_REQ ? CN_KIND_PROBE_REQ :
		       m->ctl == CN_CTL_REP ? CN_KIND_PROBE_REP : CN_KIND_INVALID;
	if (m->coop != 0 && (m->coop & ~CN_COOP_DEV_MASK) == 0 && (m->coop & (m->coop - 1)) == 0)
		return CN_KIND_DEV;
	return CN_KIND_INVALID;
}

void cn_coop_init(struct cn_coop_msg *m, uint16_t coop, uint8_t ctl)
{
	memset(m, 0, sizeof(*m));
	m->coop = coop;
	m->ctl = ctl;
}

/* ------------------------------------------------------------------ field checks */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static bool addr_is_zero(const struct cn_coop_addr *a)
{
	return a->family == 0 && a->port == 0 && all_zero(a->addr, sizeof(a->addr));
}

static enum cn_coop_err check_addr(const struct cn_coop_addr *a, const char *field, size_t off,
    struct cn_coop_diag *diag)
{
	switch (a->family) {
	case CN_FAM_NONE:
		if (!addr_is_zero(a))
			return cn_coop_fail(diag, CN_COOP_E_ADDR_PAD, field, off);
		return CN_COOP_OK;
	case CN_FAM_INET:
		if (!all_zero(a->addr + 4, 12))
			return cn_coop_fail(diag, CN_COOP_E_ADDR_PAD, field, off + 8);
		return CN_COOP_OK;
	case CN_FAM_INET6:
		return CN_COOP_OK;
	default:
		return cn_coop_fail(diag, CN_COOP_E_FAMILY, field, off);
	}
}

/* NUL padded: at most size - 1 bytes of class, then only NUL bytes. Empty allowed here. */
static bool padded_ok(const char *s, size_t size, bool service)
{
	size_t n = strnlen(s, size);

	if (n == size)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (service) {
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
				return false;
		} else if (c < 0x21 || c > 0x7e) {
			return false;
		}
	}
	return all_zero(s + n, size - n);
}

bool cn_coop_padded_ok(const char *s, size_t size, bool service)
{
	return padded_ok(s, size, service);
}

bool cn_coop_service_valid(const char *service)
{
	char buf[CN_COOP_SERVICE_LEN];
	size_t n;

	if (service == NULL)
		return false;
	n = strnlen(service, sizeof(buf));
	if (n == 0 || n == sizeof(buf))
		return false;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, service, n);
	return padded_ok(buf, sizeof(buf), true);
}

bool cn_coop_set_name(struct cn_coop_sender *s, const char *name)
{
	size_t n = strnlen(name, CN_COOP_NAME_LEN);

	if (n == CN_COOP_NAME_LEN)
		return false;
	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, name, n);
	return padded_ok(s->name, sizeof(s->name), false);
}

bool cn_coop_set_service(struct cn_coop_msg *m, const char *service)
{
	if (!cn_coop_service_valid(service))
		return false;
	memset(m->service, 0, sizeof(m->service));
	memcpy(m->service, service, strlen(service));
	return true;
}

/* ------------------------------------------------------------------ semantic rules */

/* Which fields a kind needs (MISSING when zero) and which it must leave zero (UNUSED). */
#define F_ID       0x0001u
#define F_NSS      0x0002u
#define F_NSP      0x0004u
#define F_TS       0x0008u
#define F_SERVICE  0x0010u
#define F_PROOF    0x0020u
#define F_SENDER   0x0040u
#define F_VSTATUS  0x0080u
#define F_FWD      0x0100u
#define F_MAC      0x0200u

struct kind_rule {
	unsigned need;    /* must be non-zero */
	unsigned allow;   /* may be non-zero (need is implied) */
	uint8_t sender;   /* bit mask of allowed sender kinds (1 << kind) */
};

static const struct kind_rule rules[] = {
	[CN_KIND_AUTH_REQ] = { F_NSS | F_TS | F_SERVICE | F_PROOF | F_SENDER,
		F_FWD | F_MAC, 1u << CN_SENDER_CLIENT },
	[CN_KIND_AUTH_REPREQ] = { F_ID | F_NSS | F_NSP | F_TS | F_SERVICE | F_PROOF,
		F_SENDER | F_VSTATUS, (1u << CN_SENDER_NONE) | (1u << CN_SENDER_VNIC) },
	[CN_KIND_AUTH_REP] = { F_ID | F_NSS | F_NSP | F_TS | F_SERVICE | F_PROOF,
		0, 1u << CN_SENDER_NONE },
	[CN_KIND_AUTH_RST] = { F_NSS | F_TS,
		F_NSP | F_SERVICE | F_PROOF, 1u << CN_SENDER_NONE },
	/* the acknowledgement of a revocation: echoes its ID, service and nonce_ss */
	[CN_KIND_AUTH_REPRST] = { F_ID | F_NSS | F_TS | F_SERVICE | F_PROOF,
		0, 1u << CN_SENDER_NONE },
	/* status reports (lib/status.h): nonce_ss is the sender's epoch; nonce_sp stays for a
	 * request/answer pair of the planned group status */
	[CN_KIND_STATUS_REQ] = { F_NSS | F_TS | F_SENDER,
		F_ID | F_SERVICE | F_PROOF | F_MAC | F_VSTATUS,
		(1u << CN_SENDER_CLIENT) | (1u << CN_SENDER_VNIC) },
	[CN_KIND_STATUS_REP] = { F_NSS | F_TS | F_SENDER,
		F_NSP | F_ID | F_SERVICE | F_PROOF | F_MAC | F_VSTATUS,
		(1u << CN_SENDER_CLIENT) | (1u << CN_SENDER_VNIC) },
	[CN_KIND_STATUS_RST] = { F_NSS | F_TS,
		F_NSP | F_ID | F_SERVICE | F_PROOF | F_MAC, 1u << CN_SENDER_NONE },
	/* group messages (lib/group.h): the timestamp, and a payload signed by its sender in the
	 * developer part; everything else zero (the mac too: the signature authenticates) */
	[CN_KIND_GROUP] = { F_TS, 0, 1u << CN_SENDER_NONE },
	/* the path probe (lib/probe.h): nonce_ss names the probe, the proof is K_s's */
	[CN_KIND_PROBE_REQ] = { F_ID | F_NSS | F_TS | F_SERVICE | F_PROOF,
		0, 1u << CN_SENDER_NONE },
	[CN_KIND_PROBE_REP] = { F_ID | F_NSS | F_TS | F_SERVICE | F_PROOF,
		0, 1u << CN_SENDER_NONE },
};

static unsigned present_fields(const struct cn_coop_msg *m)
{
	unsigned f = 0;

	if (m->id != 0)
		f |= F_ID;
	if (!all_zero(m->nonce_ss, sizeof(m->nonce_ss)))
		f |= F_NSS;
	if (!all_zero(m->nonce_sp, sizeof(m->nonce_sp)))
		f |= F_NSP;
	if (m->timestamp_ms != 0)
		f |= F_TS;
	if (m->service[0] != '\0')
		f |= F_SERVICE;
	if (!all_zero(m->proof, sizeof(m->proof)))
		f |= F_PROOF;
	if (m->sender.kind != CN_SENDER_NONE || !addr_is_zero(&m->sender.addr) ||
	    !all_zero(m->sender.name, sizeof(m->sender.name)))
		f |= F_SENDER;
	if (m->vnic_status != 0)
		f |= F_VSTATUS;
	if (!addr_is_zero(&m->fwd))
		f |= F_FWD;
	if (!all_zero(m->mac, sizeof(m->mac)))
		f |= F_MAC;
	return f;
}

static const struct {
	unsigned flag;
	const char *name;
	size_t offset;
} field_info[] = {
	{ F_ID, "id", OFF_ID },
	{ F_NSS, "nonce_ss", OFF_NSS },
	{ F_NSP, "nonce_sp", OFF_NSP },
	{ F_TS, "timestamp", OFF_TS },
	{ F_SERVICE, "service", OFF_SERVICE },
	{ F_PROOF, "proof", OFF_PROOF },
	{ F_SENDER, "sender", OFF_SENDER },
	{ F_VSTATUS, "vnic_status", OFF_VSTATUS },
	{ F_FWD, "fwd", OFF_FWD },
	{ F_MAC, "mac", 0 /* at the end: offset filled by the caller */ },
};

/* An Auth-RST revoked names a session: it needs what the other RSTs may not carry. */
static const struct kind_rule revoke_rule = { F_ID | F_NSS | F_TS | F_SERVICE | F_PROOF,
	0, 1u << CN_SENDER_NONE };

/* An Auth-RST released names one SP's pending exchange: both nonces, proved with K_c. */
static const struct kind_rule released_rule = { F_NSS | F_NSP | F_TS | F_SERVICE | F_PROOF,
	0, 1u << CN_SENDER_NONE };

static enum cn_coop_err check_kind(const struct cn_coop_msg *m, enum cn_coop_kind kind,
    struct cn_coop_diag *diag)
{
	const struct kind_rule *r = kind == CN_KIND_AUTH_RST && m->error == CN_AUTHERR_REVOKED ?
	    &revoke_rule : kind == CN_KIND_AUTH_RST && m->error == CN_AUTHERR_RELEASED ?
	    &released_rule : &rules[kind];
	unsigned have = present_fields(m);
	size_t mac_off = CN_COOP_FIXED_LEN + m->dev_len;

	for (size_t i = 0; i < sizeof(field_info) / sizeof(field_info[0]); i++) {
		unsigned f = field_info[i].flag;
		size_t off = f == F_MAC ? mac_off : field_info[i].offset;

		if ((r->need & f) && !(have & f))
			return cn_coop_fail(diag, CN_COOP_E_MISSING, field_info[i].name, off);
		if (!((r->need | r->allow) & f) && (have & f))
			return cn_coop_fail(diag, CN_COOP_E_UNUSED, field_info[i].name, off);
	}
	if (!(r->sender & (1u << m->sender.kind)))
		return cn_coop_fail(diag, CN_COOP_E_SENDER_KIND, "sender.kind", OFF_SKIND);
	if (m->sender.kind != CN_SENDER_NONE && m->sender.addr.family == CN_FAM_NONE)
		return cn_coop_fail(diag, CN_COOP_E_MISSING, "sender.addr", OFF_SENDER);
	if (kind == CN_KIND_AUTH_REQ && m->sender.name[0] == '\0')
		return cn_coop_fail(diag, CN_COOP_E_MISSING, "sender.name", OFF_SNAME);
	/* A forwarded REQ carries both the origin and the header's MAC, never one alone. */
	if (kind == CN_KIND_AUTH_REQ && !(have & F_FWD) != !(have & F_MAC))
		return cn_coop_fail(diag, CN_COOP_E_MISSING, (have & F_FWD) ? "mac" : "fwd",
		    (have & F_FWD) ? mac_off : OFF_FWD);
	if (kind == CN_KIND_AUTH_REQ && (have & F_FWD) && m->fwd.port == 0)
		return cn_coop_fail(diag, CN_COOP_E_MISSING, "fwd.port", OFF_FWD + 2);
	/* Status: authenticated by exactly one of proof (K_s, SS <-> SP) and mac (K_g, SPs). */
	if (kind >= CN_KIND_STATUS_REQ && kind <= CN_KIND_STATUS_RST) {
		if (!(have & (F_PROOF | F_MAC)))
			return cn_coop_fail(diag, CN_COOP_E_MISSING, "proof|mac", OFF_PROOF);
		if ((have & F_PROOF) && (have & F_MAC))
			return cn_coop_fail(diag, CN_COOP_E_UNUSED, "mac", mac_off);
		if ((have & F_PROOF) && !(have & F_ID))
			return cn_coop_fail(diag, CN_COOP_E_MISSING, "id", OFF_ID);
	}
	return CN_COOP_OK;
}

enum cn_coop_err cn_coop_validate(const struct cn_coop_msg *m, struct cn_coop_diag *diag)
{
	enum cn_coop_err err;
	enum cn_coop_kind kind;

	if (m->ctl & CN_CTL_RESERVED)
		return cn_coop_fail(diag, CN_COOP_E_CTL_RESERVED, "ctl", OFF_CTL);
	if (m->coop & CN_COOP_RESERVED)
		return cn_coop_fail(diag, CN_COOP_E_COOP_RESERVED, "coop", OFF_COOP);
	if (m->coop == 0)
		return cn_coop_fail(diag, CN_COOP_E_NO_APP, "coop", OFF_COOP);
	if (m->coop & (m->coop - 1))
		return cn_coop_fail(diag, CN_COOP_E_MULTI_APP, "coop", OFF_COOP);
	if (m->ctl == 0)
		return cn_coop_fail(diag, CN_COOP_E_NO_CTL, "ctl", OFF_CTL);
	if (m->dev_len > CN_COOP_DEV_MAX)
		return cn_coop_fail(diag, CN_COOP_E_DEV_LEN, "dev_len", OFF_DEVLEN);
	if (m->vnic_status > CN_VNIC_STATUS_MAX)
		return cn_coop_fail(diag, CN_COOP_E_VNIC_STATUS, "vnic_status", OFF_VSTATUS);
	if (m->sender.kind > CN_SENDER_VNIC)
		return cn_coop_fail(diag, CN_COOP_E_SENDER_KIND, "sender.kind", OFF_SKIND);
	if ((err = check_addr(&m->sender.addr, "sender.addr", OFF_SENDER, diag)) != CN_COOP_OK)
		return err;
	if (!padded_ok(m->sender.name, sizeof(m->sender.name), false))
		return cn_coop_fail(diag, CN_COOP_E_NAME, "sender.name", OFF_SNAME);
	if (m->sender.kind == CN_SENDER_NONE &&
	    (!addr_is_zero(&m->sender.addr) || m->sender.name[0] != '\0'))
		return cn_coop_fail(diag, CN_COOP_E_UNUSED, "sender", OFF_SENDER);
	/* the lifetime is info_vNIC's only; for the other sender kinds the bytes are reserved */
	if (m->sender.lifetime_s != 0 && m->sender.kind != CN_SENDER_VNIC)
		return cn_coop_fail(diag, CN_COOP_E_RESERVED, "sender.reserved", OFF_SRES);
	if (!padded_ok(m->service, sizeof(m->service), true))
		return cn_coop_fail(diag, CN_COOP_E_SERVICE, "service", OFF_SERVICE);
	if ((err = check_addr(&m->fwd, "fwd", OFF_FWD, diag)) != CN_COOP_OK)
		return err;
	if (!(m->ctl & CN_CTL_ERROR) != (m->error == 0))
		return cn_coop_fail(diag, CN_COOP_E_ERROR_CODE, "error", OFF_ERROR);

	kind = cn_coop_kind(m);
	if (m->coop == CN_COOP_AUTH && kind == CN_KIND_INVALID)
		return cn_coop_fail(diag, CN_COOP_E_AUTH_FLAGS, "ctl", OFF_CTL);
	if (m->coop == CN_COOP_STATUS && kind == CN_KIND_INVALID)
		return cn_coop_fail(diag, CN_COOP_E_STATUS_FLAGS, "ctl", OFF_CTL);
	if (m->coop == CN_COOP_GROUP && kind == CN_KIND_INVALID)
		return cn_coop_fail(diag, CN_COOP_E_GROUP_FLAGS, "ctl", OFF_CTL);
	if (m->coop == CN_COOP_PROBE && kind == CN_KIND_INVALID)
		return cn_coop_fail(diag, CN_COOP_E_PROBE_FLAGS, "ctl", OFF_CTL);
	if (kind == CN_KIND_DEV)
		return CN_COOP_OK; /* a developer's application defines its own rules */
	if (m->error > CN_AUTHERR_MAX)
		return cn_coop_fail(diag, CN_COOP_E_ERROR_CODE, "error", OFF_ERROR);
	return check_kind(m, kind, diag);
}
