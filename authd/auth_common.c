/* SPDX-License-Identifier: MIT */
/* What the three Authentication state machines share. */
#include <string.h>

#include "auth_int.h"

static const char *const event_names[] = {
	[AUTH_EV_DECODE_ERROR] = "decode-error",
	[AUTH_EV_UNEXPECTED] = "unexpected",
	[AUTH_EV_BAD_PROOF] = "bad-proof",
	[AUTH_EV_BAD_MAC] = "bad-mac",
	[AUTH_EV_UNKNOWN_CLIENT] = "unknown-client",
	[AUTH_EV_UNKNOWN_SERVICE] = "unknown-service",
	[AUTH_EV_STALE] = "stale",
	[AUTH_EV_REPLAY] = "replay",
	[AUTH_EV_RATE_LIMITED] = "rate-limited",
	[AUTH_EV_NO_EXCHANGE] = "no-exchange",
	[AUTH_EV_RETRANSMIT] = "retransmit",
	[AUTH_EV_DUPLICATE] = "duplicate",
	[AUTH_EV_TIMEOUT] = "timeout",
	[AUTH_EV_RST] = "rst",
	[AUTH_EV_FORWARDED] = "forwarded",
	[AUTH_EV_NO_ID] = "no-id",
	[AUTH_EV_SEND_FAILED] = "send-failed",
	[AUTH_EV_REVOKE_SENT] = "revoke-sent",
	[AUTH_EV_REVOKED] = "revoked",
	[AUTH_EV_REVOKE_ACKED] = "revoke-acked",
	[AUTH_EV_OVERLOADED] = "overloaded",
	[AUTH_EV_HEADER_NEXT] = "header-next",
	[AUTH_EV_NO_SP_UP] = "no-sp-up",
	[AUTH_EV_RELEASED] = "released",
	[AUTH_EV_HEADER_KEPT] = "header-kept",
};

const char *auth_event_name(enum auth_event_kind kind)
{
	if ((unsigned)kind > AUTH_EV_KIND_MAX)
		return "unknown";
	return event_names[kind];
}

const char *auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK: return "ok";
	case AUTH_FAIL_RST: return "rst";
	case AUTH_FAIL_TIMEOUT: return "timeout";
	case AUTH_FAIL_CANCELLED: return "cancelled";
	}
	return "unknown";
}

void auth_timing_defaults(struct auth_timing *t)
{
	if (t->rto_ms == 0)
		t->rto_ms = 500;
	if (t->rto_max_ms == 0)
		t->rto_max_ms = 4000;
	if (t->rto_max_ms < t->rto_ms)
		t->rto_max_ms = t->rto_ms;
	if (t->max_tries == 0)
		t->max_tries = 5;
	if (t->window_ms == 0)
		t->window_ms = 30000;
	if (t->linger_ms == 0) {
		/* The SP gives up max_tries RTOs (the first one AUTH_SP_FIRST_EXTRA_MS longer)
		 * after its first Auth-REP&REQ; its Auth-RST timeout must still find the
		 * lingering exchange (docs/protocol.md). */
		uint64_t giveup = AUTH_SP_FIRST_EXTRA_MS;
		uint32_t rto = t->rto_ms;
		for (uint32_t i = 0; i < t->max_tries; i++) {
			giveup += rto;
			rto = auth_backoff(t, rto);
		}
		t->linger_ms = giveup * 2 > 20000 ? (giveup * 2 > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)(giveup * 2)) : 20000;
	}
}

uint32_t auth_backoff(const struct auth_timing *t, uint32_t rto)
{
	uint64_t next = (uint64_t)rto * 2;

	return next > t->rto_max_ms ? t->rto_max_ms : (uint32_t)next;
}

void auth_emit(void (*event)(void *, const struct auth_event *), void *ctx,
    enum auth_event_kind kind, const struct cn_coop_addr *peer, const char *service,
    uint16_t error, const char *detail)
{
	struct auth_event ev = {
		.kind = kind, .peer = peer, .service = service, .error = error, .detail = detail,
	};

	if (event != NULL)
		event(ctx, &ev);
}

enum cn_coop_err auth_dgram_decode(struct auth_dgram *d, struct cn_coop_msg *m,
    const uint8_t *buf, size_t len, const uint8_t *gkey)
{
	static const uint8_t zero[CN_COOP_TAG_LEN];
	enum cn_coop_err err = cn_coop_decode(m, buf, len, NULL);

	if (err != CN_COOP_OK)
		return err;
	d->m = m;
	d->kind = cn_coop_kind(m);
	d->raw = buf;
	d->len = len;
	d->has_mac = !cn_auth_equal(m->mac, zero, CN_COOP_TAG_LEN);
	d->mac_ok = d->has_mac && gkey != NULL && cn_auth_check_mac(buf, len, gkey);
	return CN_COOP_OK;
}

void auth_tag_placeholder(uint8_t tag[CN_COOP_TAG_LEN])
{
	memset(tag, 0xa5, CN_COOP_TAG_LEN);
}

int auth_build_rst(uint8_t *buf, size_t size, size_t *len, const struct cn_coop_msg *m,
    uint16_t error, const uint8_t *key, uint64_t wall_ms)
{
	struct cn_coop_msg r;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
	r.error = error;
	r.timestamp_ms = wall_ms;
	memcpy(r.nonce_ss, m->nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, m->nonce_sp, sizeof(r.nonce_sp));
	memcpy(r.service, m->service, sizeof(r.service));
	if (key != NULL)
		auth_tag_placeholder(r.proof);
	if (cn_coop_encode(&r, buf, size, len, NULL) != CN_COOP_OK)
		return -1;
	if (key != NULL && cn_auth_seal_proof(buf, *len, key, CN_DIR_SP_TO_SS) != 0)
		return -1;
	return 0;
}

bool auth_budget_take(struct auth_budget *b, uint64_t now_ms)
{
	const uint64_t cap = AUTH_UNAUTH_RST_BURST * 1000ull;

	if (!b->started) {
		b->started = true;
		b->units = cap;
	} else if (now_ms > b->last_ms) {
		b->units += (now_ms - b->last_ms) * AUTH_UNAUTH_RST_PER_S;
		if (b->units > cap)
			b->units = cap;
	}
	b->last_ms = now_ms;
	if (b->units < 1000)
		return false;
	b->units -= 1000;
	return true;
}
