/* SPDX-License-Identifier: MIT */
/*
 * The header SP: routes an Auth-REQ to the SP of its group that hosts the requested service.
 * It holds no client key and checks no proof: it only adds the original sender (fwd) and the
 * group MAC, so the owning SP knows where to answer and that a member of the group forwarded
 * it. An unknown service gets an (unauthenticated) Auth-RST that echoes the SS's nonce.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

struct auth_header {
	struct auth_header_ops ops;
	struct auth_timing t;
	uint8_t gkey[CN_KEY_LEN];
	struct auth_budget rst;      /* its Auth-RSTs answer unauthenticated input: bounded */
};

struct auth_header *auth_header_new(const struct auth_header_ops *ops,
    const struct auth_timing *timing, const uint8_t group_key[CN_KEY_LEN])
{
	struct auth_header *h;

	if (ops == NULL || ops->wall_ms == NULL || ops->send == NULL || ops->route == NULL ||
	    group_key == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->ops = *ops;
	if (timing != NULL)
		h->t = *timing;
	auth_timing_defaults(&h->t);
	memcpy(h->gkey, group_key, CN_KEY_LEN);
	return h;
}

void auth_header_free(struct auth_header *h)
{
	if (h == NULL)
		return;
	memset(h->gkey, 0, sizeof(h->gkey));
	free(h);
}

static void hdr_event(struct auth_header *h, enum auth_event_kind kind,
    const struct cn_coop_addr *peer, const char *service, uint16_t error, const char *detail)
{
	auth_emit(h->ops.event, h->ops.ctx, kind, peer, service, error, detail);
}

static void hdr_rst(struct auth_header *h, const struct cn_coop_addr *to,
    const struct cn_coop_msg *m, uint16_t error)
{
	uint8_t out[AUTH_FSM_BUFLEN];
	size_t len;

	uint64_t now = h->ops.wall_ms(h->ops.ctx);

	if (!auth_budget_take(&h->rst, now)) {
		hdr_event(h, AUTH_EV_RATE_LIMITED, to, m->service, error,
		    "reply budget spent: no Auth-RST");
		return;
	}
	if (auth_build_rst(out, sizeof(out), &len, m, error, NULL, now) != 0)
		return;
	hdr_event(h, AUTH_EV_RST, to, m->service, error, cn_auth_error_name(error));
	if (h->ops.send(h->ops.ctx, to, out, len) != 0)
		hdr_event(h, AUTH_EV_SEND_FAILED, to, m->service, error, "Auth-RST");
}

enum auth_header_action auth_header_input(struct auth_header *h, const struct cn_coop_addr *from,
    const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;
	struct auth_dgram d;
	enum cn_coop_err err;

	if ((err = auth_dgram_decode(&d, &m, buf, len, NULL)) != CN_COOP_OK) {
		hdr_event(h, AUTH_EV_DECODE_ERROR, from, NULL, 0, cn_coop_err_name(err));
		return AUTH_HDR_DROPPED;
	}
	return auth_header_handle(h, from, &d);
}

enum auth_header_action auth_header_handle(struct auth_header *h,
    const struct cn_coop_addr *from, const struct auth_dgram *d)
{
	const struct cn_coop_msg *m = d->m;
	const uint8_t *buf = d->raw;
	size_t len = d->len;
	uint8_t out[CN_COOP_MAX_LEN];
	struct cn_coop_addr sp;
	int r;

	/* Only a REQ straight from an SS: a forwarded one is never forwarded again (loops). */
	if (d->kind != CN_KIND_AUTH_REQ || m->fwd.family != CN_FAM_NONE) {
		hdr_event(h, AUTH_EV_UNEXPECTED, from, m->service, 0,
		    d->kind == CN_KIND_AUTH_REQ ? "forwarded Auth-REQ" : cn_coop_kind_name(d->kind));
		return AUTH_HDR_DROPPED;
	}
	if (!cn_auth_time_ok(m->timestamp_ms, h->ops.wall_ms(h->ops.ctx), h->t.window_ms)) {
		hdr_event(h, AUTH_EV_STALE, from, m->service, CN_AUTHERR_STALE, NULL);
		hdr_rst(h, from, m, CN_AUTHERR_STALE);
		return AUTH_HDR_REJECTED;
	}
	memset(&sp, 0, sizeof(sp));
	r = h->ops.route(h->ops.ctx, m->service, m->nonce_ss, &sp);
	if (r == 1)
		return AUTH_HDR_LOCAL;
	if (r == -2) {
		hdr_event(h, AUTH_EV_NO_SP_UP, from, m->service, CN_AUTHERR_NO_SP_UP, NULL);
		hdr_rst(h, from, m, CN_AUTHERR_NO_SP_UP);
		return AUTH_HDR_REJECTED;
	}
	if (r != 0) {
		hdr_event(h, AUTH_EV_UNKNOWN_SERVICE, from, m->service, CN_AUTHERR_UNKNOWN_SERVICE,
		    NULL);
		hdr_rst(h, from, m, CN_AUTHERR_UNKNOWN_SERVICE);
		return AUTH_HDR_REJECTED;
	}

	/* Forward: the SS's bytes unchanged but for fwd (its address) and the group MAC. The
	 * proof does not cover fwd or mac, so it still verifies at the owning SP. */
	memcpy(out, buf, len);
	out[CN_COOP_OFF_FWD] = from->family;
	out[CN_COOP_OFF_FWD + 1] = 0;
	out[CN_COOP_OFF_FWD + 2] = (uint8_t)(from->port >> 8);
	out[CN_COOP_OFF_FWD + 3] = (uint8_t)from->port;
	memcpy(out + CN_COOP_OFF_FWD + 4, from->addr, 16);
	if (cn_auth_seal_mac(out, len, h->gkey) != 0)
		return AUTH_HDR_DROPPED;
	hdr_event(h, AUTH_EV_FORWARDED, &sp, m->service, 0, NULL);
	if (h->ops.send(h->ops.ctx, &sp, out, len) != 0)
		hdr_event(h, AUTH_EV_SEND_FAILED, &sp, m->service, 0, "forward");
	return AUTH_HDR_FORWARDED;
}
