/* SPDX-License-Identifier: MIT */
/*
 * The group message payload (lib/group.h), big endian:
 *   0 version (1)   1 type   2 n_services   3 reserved (0)
 *   4 interval_ms (32)   8 seq (64)   16 name (16, NUL padded)   32 load (32)
 *   36 reserved (32, 0)  40 services: n x (name 32 NUL padded, status 1)
 *   40 + 33 n: Ed25519 signature (64)
 */
#include "group.h"

#include <string.h>

#include "be.h"

static const char *const err_names[] = {
	[CN_GROUP_OK] = "ok",
	[CN_GROUP_E_NOT_GROUP] = "not-group",
	[CN_GROUP_E_SHORT] = "short",
	[CN_GROUP_E_LENGTH] = "length",
	[CN_GROUP_E_VERSION] = "version",
	[CN_GROUP_E_TYPE] = "type",
	[CN_GROUP_E_RESERVED] = "reserved",
	[CN_GROUP_E_INTERVAL] = "interval",
	[CN_GROUP_E_SEQ] = "seq",
	[CN_GROUP_E_NAME] = "name",
	[CN_GROUP_E_SERVICES] = "services",
	[CN_GROUP_E_SERVICE] = "service",
	[CN_GROUP_E_STATUS] = "status",
	[CN_GROUP_E_DUPLICATE] = "duplicate",
	[CN_GROUP_E_NOSPACE] = "nospace",
	[CN_GROUP_E_TIMESTAMP] = "timestamp",
};

const char *cn_group_err_name(enum cn_group_err err)
{
	if ((unsigned)err > CN_GROUP_E_MAX)
		return "unknown";
	return err_names[err];
}

const char *cn_group_type_name(unsigned type)
{
	static const char *const names[] = {
		[0] = "invalid", [CN_GROUP_JOIN] = "join", [CN_GROUP_HEARTBEAT] = "heartbeat",
		[CN_GROUP_LEAVE] = "leave",
	};

	return type <= CN_GROUP_TYPE_MAX ? names[type] : "invalid";
}

static size_t payload_len(unsigned n_services)
{
	return CN_GROUP_HDR_LEN + (size_t)n_services * CN_GROUP_SVC_LEN + CN_GROUP_SIG_LEN;
}

enum cn_group_err cn_group_validate(const struct cn_group_msg *g)
{
	if (g->type == 0 || g->type > CN_GROUP_TYPE_MAX)
		return CN_GROUP_E_TYPE;
	if (g->interval_ms < CN_GROUP_INTERVAL_MIN_MS || g->interval_ms > CN_GROUP_INTERVAL_MAX_MS)
		return CN_GROUP_E_INTERVAL;
	if (g->seq == 0)
		return CN_GROUP_E_SEQ;
	if (g->name[0] == '\0' || !cn_coop_padded_ok(g->name, sizeof(g->name), true))
		return CN_GROUP_E_NAME;
	if (g->n_services > CN_GROUP_MAX_SERVICES ||
	    (g->type == CN_GROUP_LEAVE && g->n_services != 0))
		return CN_GROUP_E_SERVICES;
	for (unsigned i = 0; i < g->n_services; i++) {
		const struct cn_group_svc *s = &g->svc[i];

		if (s->name[0] == '\0' || !cn_coop_padded_ok(s->name, sizeof(s->name), true))
			return CN_GROUP_E_SERVICE;
		if (s->status > CN_VNIC_STATUS_MAX)
			return CN_GROUP_E_STATUS;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(g->svc[j].name, s->name))
				return CN_GROUP_E_DUPLICATE;
	}
	return CN_GROUP_OK;
}

enum cn_group_err cn_group_decode(struct cn_group_msg *out, const struct cn_coop_msg *m)
{
	const uint8_t *p = m->dev;

	if (m->coop != CN_COOP_GROUP || cn_coop_kind(m) != CN_KIND_GROUP)
		return CN_GROUP_E_NOT_GROUP;
	if (m->dev_len < CN_GROUP_MIN_LEN)
		return CN_GROUP_E_SHORT;
	memset(out, 0, sizeof(*out));
	if (p[0] != CN_GROUP_VERSION)
		return CN_GROUP_E_VERSION;
	out->type = p[1];
	out->n_services = p[2];
	if (out->n_services > CN_GROUP_MAX_SERVICES)
		return CN_GROUP_E_SERVICES;
	if (m->dev_len != payload_len(out->n_services))
		return CN_GROUP_E_LENGTH;
	if (p[3] != 0 || be_get32(p + 36) != 0)
		return CN_GROUP_E_RESERVED;
	out->interval_ms = be_get32(p + 4);
	out->seq = be_get64(p + 8);
	memcpy(out->name, p + 16, CN_COOP_NAME_LEN);
	out->load = be_get32(p + 32);
	for (unsigned i = 0; i < out->n_services; i++) {
		const uint8_t *s = p + CN_GROUP_HDR_LEN + i * CN_GROUP_SVC_LEN;

		memcpy(out->svc[i].name, s, CN_COOP_SERVICE_LEN);
		out->svc[i].status = s[CN_COOP_SERVICE_LEN];
	}
	return cn_group_validate(out);
}

enum cn_group_err cn_group_encode(const struct cn_group_msg *g, uint64_t wall_ms,
    uint8_t *buf, size_t size, size_t *len)
{
	struct cn_coop_msg m;
	enum cn_group_err err = cn_group_validate(g);
	uint8_t *p = m.dev;

	if (err != CN_GROUP_OK)
		return err;
	if (wall_ms == 0)
		return CN_GROUP_E_TIMESTAMP;
	cn_coop_init(&m, CN_COOP_GROUP, CN_CTL_REQ);
	m.timestamp_ms = wall_ms;
	m.dev_len = (uint16_t)payload_len(g->n_services);
	p[0] = CN_GROUP_VERSION;
	p[1] = g->type;
	p[2] = g->n_services;
	be_put32(p + 4, g->interval_ms);
	be_put64(p + 8, g->seq);
	memcpy(p + 16, g->name, CN_COOP_NAME_LEN);
	be_put32(p + 32, g->load);
	for (unsigned i = 0; i < g->n_services; i++) {
		uint8_t *s = p + CN_GROUP_HDR_LEN + i * CN_GROUP_SVC_LEN;

		memcpy(s, g->svc[i].name, CN_COOP_SERVICE_LEN);
		s[CN_COOP_SERVICE_LEN] = g->svc[i].status;
	}
	/* the signature (zero here) is cn_group_seal's */
	if (cn_coop_encode(&m, buf, size, len, NULL) != CN_COOP_OK)
		return CN_GROUP_E_NOSPACE; /* the only failure left: validated above */
	return CN_GROUP_OK;
}
