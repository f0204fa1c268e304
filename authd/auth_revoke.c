/* SPDX-License-Identifier: MIT */
/*
 * Revocation between the two ends of a session (auth_fsm.h, docs/protocol.md):
 *
 *   revoker: auth_rv_send: Auth-RST revoked (ID, service, fresh nonce_ss, proof K_s) -> OUT
 *   OUT      Auth-REP&RST echoing ID, service, nonce_ss, proof K_s (other direction):
 *            result(acked)                                                    -> free
 *   OUT      time-out: resend the same bytes with backoff; after max_tries result(!acked)
 *   peer:    Auth-RST revoked: window -> duplicate (same digest as one answered: the same
 *            Auth-REP&RST again) -> replay cache -> the K_s of the live sessions (ID,
 *            service), else of our own revocations in flight for them -> proof -> record
 *            the digest -> revoked() -> Auth-REP&RST                          -> ANSWERED
 *   ANSWERED kept linger_ms for retransmissions                                 -> free
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

#define RV_MAX_KEYS 8 /* sessions that may share (ID, service) on an SS: one per SP */

struct rv_out {
	bool used;
	cn_id_t id;
	char service[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr to;
	uint8_t key[CN_KEY_LEN];
	uint8_t nonce[CN_COOP_NONCE_LEN];
	uint8_t buf[AUTH_FSM_BUFLEN];
	size_t len;
	uint32_t tries;
	uint32_t rto;
	uint64_t deadline;
};

struct rv_ans {
	bool used;
	uint8_t digest[CN_DIGEST_LEN];
	struct cn_coop_addr to;
	uint8_t buf[AUTH_FSM_BUFLEN];
	size_t len;
	uint64_t deadline;
};

struct auth_rv {
	struct auth_rv_ops ops;
	struct auth_rv_config cfg;
	struct cn_replay replay;
	struct rv_out *out;
	struct rv_ans *ans;
	size_t n;
};

static enum cn_proof_dir other_dir(enum cn_proof_dir d)
{
	return d == CN_DIR_SP_TO_SS ? CN_DIR_SS_TO_SP : CN_DIR_SP_TO_SS;
}

bool auth_rv_wants(const struct cn_coop_msg *m)
{
	enum cn_coop_kind kind = cn_coop_kind(m);

	return kind == CN_KIND_AUTH_REPRST ||
	    (kind == CN_KIND_AUTH_RST && m->error == CN_AUTHERR_REVOKED);
}

struct auth_rv *auth_rv_new(const struct auth_rv_ops *ops, const struct auth_rv_config *cfg)
{
	struct auth_rv *rv;

	if (ops == NULL || cfg == NULL || ops->now_ms == NULL || ops->wall_ms == NULL ||
	    ops->send == NULL || ops->keys == NULL || ops->revoked == NULL ||
	    cfg->replay == NULL || cfg->replay->seen == NULL || cfg->replay->add == NULL ||
	    (cfg->dir != CN_DIR_SS_TO_SP && cfg->dir != CN_DIR_SP_TO_SS)) {
		errno = EINVAL;
		return NULL;
	}
	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return NULL;
	rv->ops = *ops;
	rv->cfg = *cfg;
	auth_timing_defaults(&rv->cfg.timing);
	rv->n = cfg->max_pending ? cfg->max_pending : 256;
	rv->replay = *cfg->replay;
	rv->cfg.replay = NULL; /* the copy above is the one used */
	rv->out = calloc(rv->n, sizeof(*rv->out));
	rv->ans = calloc(rv->n, sizeof(*rv->ans));
	if (rv->out == NULL || rv->ans == NULL) {
		auth_rv_free(rv);
		errno = ENOMEM;
		return NULL;
	}
	return rv;
}

void auth_rv_free(struct auth_rv *rv)
{
	if (rv == NULL)
		return;
	if (rv->out != NULL)
		memset(rv->out, 0, rv->n * sizeof(*rv->out)); /* wipes the keys */
	free(rv->out);
	free(rv->ans);
	free(rv);
}

static void rv_event(struct auth_rv *rv, enum auth_event_kind kind,
    const struct cn_coop_addr *peer, const char *service, const char *detail)
{
	auth_emit(rv->ops.event, rv->ops.ctx, kind, peer, service, CN_AUTHERR_REVOKED, detail);
}

static void rv_send(struct auth_rv *rv, const struct cn_coop_addr *to, const uint8_t *buf,
    size_t len, const char *service)
{
	if (rv->ops.send(rv->ops.ctx, to, buf, len) != 0)
		rv_event(rv, AUTH_EV_SEND_FAILED, to, service, NULL);
}

/* Encode and seal a revocation (ack false) or its acknowledgement (ack true). */
static int rv_build(struct auth_rv *rv, uint8_t *buf, size_t *len, bool ack, cn_id_t id,
    const char *service, const uint8_t nonce[CN_COOP_NONCE_LEN], const uint8_t *key)
{
	struct cn_coop_msg m;

	cn_coop_init(&m, CN_COOP_AUTH, ack ? (CN_CTL_REP | CN_CTL_RST) :
	    (CN_CTL_RST | CN_CTL_ERROR));
	m.error = ack ? CN_AUTHERR_NONE : CN_AUTHERR_REVOKED;
	m.id = id;
	m.timestamp_ms = rv->ops.wall_ms(rv->ops.ctx);
	memcpy(m.nonce_ss, nonce, CN_COOP_NONCE_LEN);
	if (!cn_coop_set_service(&m, service))
		return -1;
	auth_tag_placeholder(m.proof);
	if (cn_coop_encode(&m, buf, AUTH_FSM_BUFLEN, len, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(buf, *len, key, rv->cfg.dir) != 0)
		return -1;
	return 0;
}

static struct rv_out *rv_find_out(struct auth_rv *rv, const struct cn_coop_addr *to, cn_id_t id,
    const char *service)
{
	for (size_t i = 0; i < rv->n; i++) {
		struct rv_out *o = &rv->out[i];

		if (o->used && o->id == id && strcmp(o->service, service) == 0 &&
		    (to == NULL || cn_coop_addr_equal(&o->to, to, true)))
			return o;
	}
	return NULL;
}

int auth_rv_send(struct auth_rv *rv, const struct cn_coop_addr *to, cn_id_t id,
    const char *service, const uint8_t key[CN_KEY_LEN])
{
	struct rv_out *o = NULL;

	if (id == CN_ID_NONE || !cn_coop_service_valid(service) || to == NULL ||
	    (to->family != CN_FAM_INET && to->family != CN_FAM_INET6) || to->port == 0) {
		errno = EINVAL;
		return -1;
	}
	if (rv_find_out(rv, to, id, service) != NULL)
		return 0;
	for (size_t i = 0; i < rv->n && o == NULL; i++)
		if (!rv->out[i].used)
			o = &rv->out[i];
	if (o == NULL) {
		errno = ENOSPC;
		return -1;
	}
	memset(o, 0, sizeof(*o));
	cn_auth_nonce(o->nonce);
	if (rv_build(rv, o->buf, &o->len, false, id, service, o->nonce, key) != 0) {
		memset(o, 0, sizeof(*o));
		errno = EINVAL;
		return -1;
	}
	o->used = true;
	o->id = id;
	memcpy(o->service, service, strlen(service) + 1);
	o->to = *to;
	memcpy(o->key, key, CN_KEY_LEN);
	o->tries = 1;
	o->rto = rv->cfg.timing.rto_ms;
	o->deadline = rv->ops.now_ms(rv->ops.ctx) + o->rto;
	rv_event(rv, AUTH_EV_REVOKE_SENT, to, service, NULL);
	rv_send(rv, to, o->buf, o->len, service);
	return 0;
}

static void rv_out_done(struct auth_rv *rv, struct rv_out *o, bool acked)
{
	cn_id_t id = o->id;
	struct cn_coop_addr to = o->to;
	char service[CN_COOP_SERVICE_LEN];

	memcpy(service, o->service, sizeof(service));
	memset(o, 0, sizeof(*o));
	if (rv->ops.result != NULL)
		rv->ops.result(rv->ops.ctx, id, service, &to, acked);
}

/* Auth-REP&RST: the peer acknowledges one of ours. */
static int rv_on_ack(struct auth_rv *rv, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len, const struct cn_coop_msg *m)
{
	for (size_t i = 0; i < rv->n; i++) {
		struct rv_out *o = &rv->out[i];

		if (!o->used || o->id != m->id || strcmp(o->service, m->service) != 0 ||
		    !cn_auth_equal(o->nonce, m->nonce_ss, CN_COOP_NONCE_LEN))
			continue;
		/* the nonce is ours and fresh: the proof is what makes it the peer's answer */
		if (!cn_auth_check_proof(buf, len, o->key, other_dir(rv->cfg.dir))) {
			rv_event(rv, AUTH_EV_BAD_PROOF, from, m->service, "Auth-REP&RST");
			return -1;
		}
		rv_event(rv, AUTH_EV_REVOKE_ACKED, from, m->service, NULL);
		rv_out_done(rv, o, true);
		return 0;
	}
	rv_event(rv, AUTH_EV_NO_EXCHANGE, from, m->service, "Auth-REP&RST");
	return -1;
}

static struct rv_ans *rv_ans_slot(struct auth_rv *rv)
{
	struct rv_ans *oldest = NULL;

	for (size_t i = 0; i < rv->n; i++) {
		if (!rv->ans[i].used)
			return &rv->ans[i];
		if (oldest == NULL || rv->ans[i].deadline < oldest->deadline)
			oldest = &rv->ans[i];
	}
	return oldest; /* the replay cache still refuses what it forgets here */
}

/* Which key proves m: a live session's, else one of our own revocations in flight (both
 * sides revoked the same session at once: theirs acknowledges ours). */
static bool rv_key_for(struct auth_rv *rv, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len, const struct cn_coop_msg *m, uint8_t key[CN_KEY_LEN], bool *live,
    struct rv_out **crossed)
{
	uint8_t keys[RV_MAX_KEYS][CN_KEY_LEN];
	size_t n = rv->ops.keys(rv->ops.ctx, m->id, m->service, from, keys, RV_MAX_KEYS);
	enum cn_proof_dir dir = other_dir(rv->cfg.dir);
	bool found = false;

	*crossed = NULL;
	for (size_t i = 0; i < n && i < RV_MAX_KEYS && !found; i++) {
		if (cn_auth_check_proof(buf, len, keys[i], dir)) {
			memcpy(key, keys[i], CN_KEY_LEN);
			found = *live = true;
		}
	}
	memset(keys, 0, sizeof(keys));
	for (size_t i = 0; i < rv->n; i++) {
		struct rv_out *o = &rv->out[i];

		if (o->used && o->id == m->id && strcmp(o->service, m->service) == 0 &&
		    cn_auth_check_proof(buf, len, o->key, dir)) {
			if (!found)
				memcpy(key, o->key, CN_KEY_LEN);
			found = true;
			*crossed = o;
			break;
		}
	}
	return found;
}

void auth_rv_forget(struct auth_rv *rv, const uint8_t digest[CN_DIGEST_LEN])
{
	for (size_t i = 0; i < rv->n; i++)
		if (rv->ans[i].used && cn_auth_equal(rv->ans[i].digest, digest, CN_DIGEST_LEN))
			memset(&rv->ans[i], 0, sizeof(rv->ans[i]));
}

/* Auth-RST revoked from the peer. */
static int rv_on_revoke(struct auth_rv *rv, const struct cn_coop_addr *from,
    const uint8_t *buf, size_t len, const struct cn_coop_msg *m)
{
	uint8_t digest[CN_DIGEST_LEN], key[CN_KEY_LEN];
	struct rv_out *crossed;
	struct rv_ans *a;
	bool live = false;

	if (!cn_auth_time_ok(m->timestamp_ms, rv->ops.wall_ms(rv->ops.ctx),
	    rv->cfg.timing.window_ms)) {
		rv_event(rv, AUTH_EV_STALE, from, m->service, "Auth-RST revoked");
		return -1;
	}
	if (cn_auth_digest(digest, buf, len) != 0)
		return -1;
	for (size_t i = 0; i < rv->n; i++) {
		a = &rv->ans[i];
		if (a->used && cn_auth_equal(a->digest, digest, CN_DIGEST_LEN)) {
			/* our acknowledgement was lost: the same answer again */
			rv_event(rv, AUTH_EV_DUPLICATE, from, m->service, "Auth-RST revoked");
			rv_send(rv, &a->to, a->buf, a->len, m->service);
			return 0;
		}
	}
	if (cn_replay_seen(&rv->replay, digest, m->timestamp_ms)) {
		rv_event(rv, AUTH_EV_REPLAY, from, m->service, "Auth-RST revoked");
		return -1;
	}
	if (!rv_key_for(rv, from, buf, len, m, key, &live, &crossed)) {
		/* no session of ours has a key that makes this proof: forged, or the session is
		 * gone already (the revoker gives up after max_tries) */
		rv_event(rv, AUTH_EV_BAD_PROOF, from, m->service, "Auth-RST revoked: no session");
		return -1;
	}
	if (cn_replay_add(&rv->replay, digest, m->timestamp_ms) != 0) {
		memset(key, 0, sizeof(key));
		return -1; /* fail closed: not applied, not acknowledged; the peer retries */
	}
	a = rv_ans_slot(rv);
	memset(a, 0, sizeof(*a));
	if (rv_build(rv, a->buf, &a->len, true, m->id, m->service, m->nonce_ss, key) != 0) {
		memset(key, 0, sizeof(key));
		return -1;
	}
	a->used = true;
	memcpy(a->digest, digest, sizeof(a->digest));
	a->to = *from;
	a->deadline = rv->ops.now_ms(rv->ops.ctx) + rv->cfg.timing.linger_ms;
	if (live)
		rv->ops.revoked(rv->ops.ctx, m->id, m->service, key, from);
	memset(key, 0, sizeof(key));
	if (!a->used)
		return -1; /* revoked() could not make it durable and forgot it: no answer */
	rv_event(rv, AUTH_EV_REVOKED, from, m->service, crossed ? "crossed our own" : NULL);
	if (crossed != NULL)
		rv_out_done(rv, crossed, true);
	rv_send(rv, &a->to, a->buf, a->len, m->service);
	return 0;
}

int auth_rv_input(struct auth_rv *rv, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len)
{
	struct cn_coop_msg m;
	struct auth_dgram d;
	enum cn_coop_err err;

	if ((err = auth_dgram_decode(&d, &m, buf, len, NULL)) != CN_COOP_OK) {
		rv_event(rv, AUTH_EV_DECODE_ERROR, from, NULL, cn_coop_err_name(err));
		return -1;
	}
	return auth_rv_handle(rv, from, &d);
}

int auth_rv_handle(struct auth_rv *rv, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	if (!auth_rv_wants(d->m)) {
		rv_event(rv, AUTH_EV_UNEXPECTED, from, d->m->service, cn_coop_kind_name(d->kind));
		return -1;
	}
	if (d->kind == CN_KIND_AUTH_REPRST)
		return rv_on_ack(rv, from, d->raw, d->len, d->m);
	return rv_on_revoke(rv, from, d->raw, d->len, d->m);
}

void auth_rv_tick(struct auth_rv *rv)
{
	uint64_t now = rv->ops.now_ms(rv->ops.ctx);

	for (size_t i = 0; i < rv->n; i++) {
		struct rv_ans *a = &rv->ans[i];
		struct rv_out *o = &rv->out[i];

		if (a->used && a->deadline <= now)
			memset(a, 0, sizeof(*a));
		if (!o->used || o->deadline > now)
			continue;
		if (o->tries >= rv->cfg.timing.max_tries) {
			rv_event(rv, AUTH_EV_TIMEOUT, &o->to, o->service, "no Auth-REP&RST");
			rv_out_done(rv, o, false);
			continue;
		}
		o->tries++;
		o->rto = auth_backoff(&rv->cfg.timing, o->rto);
		o->deadline = now + o->rto;
		rv_event(rv, AUTH_EV_RETRANSMIT, &o->to, o->service, "Auth-RST revoked");
		rv_send(rv, &o->to, o->buf, o->len, o->service);
	}
}

uint64_t auth_rv_next_deadline(const struct auth_rv *rv)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < rv->n; i++) {
		if (rv->out[i].used && rv->out[i].deadline < next)
			next = rv->out[i].deadline;
		if (rv->ans[i].used && rv->ans[i].deadline < next)
			next = rv->ans[i].deadline;
	}
	return next;
}

size_t auth_rv_pending(const struct auth_rv *rv)
{
	size_t n = 0;

	for (size_t i = 0; i < rv->n; i++)
		n += rv->out[i].used;
	return n;
}
