/* SPDX-License-Identifier: MIT */
/*
 * The SP (provider) side of Authentication:
 *
 *   Auth-REQ (direct, or forwarded by the header with fwd + group MAC):
 *     group MAC (when forwarded) -> timestamp window -> duplicate of a pending exchange?
 *     (resend its Auth-REP&REQ) -> replay cache -> lookup (service, client) -> proof
 *     (a failure: sp_refuse, the source's tokens) -> record the digest -> allocate a random ID
 *     -> ops.prepare (a first session, or a renewal's new ID, goes to the data plane ahead)
 *     -> send Auth-REP&REQ
 *                                                                        -> PENDING
 *   PENDING Auth-REP (proof ok): commit the session                      -> free
 *   PENDING Auth-RST released (proof ok, both nonces): another SP of the group answered the
 *           SS first; discard (the ID leaves the data plane)              -> free
 *   PENDING time-out: resend Auth-REP&REQ with backoff; after max_tries discard, and tell
 *           the SS with Auth-RST timeout (proof with K_c, both nonces): the SS believes it
 *           has a session (it reported success on Auth-REP&REQ) and must revoke it.
 *
 * Cheap checks come first; the proof (one keyed BLAKE2b) is checked before any rate limit, so
 * a REQ whose proof verifies is never refused because of someone else's failures (an
 * off-path spoofer using the SS's address, or a neighbour behind the same SS). Only input
 * that did not prove itself (stale, unknown service or client, wrong proof) is counted
 * against its source: while the source has tokens it gets an Auth-RST, after that nothing;
 * and all such replies together stay within a small budget per second, so the SP never
 * bounces a spoofed stream 1:1 at the address it claims (docs/security.md, "Spoofed input").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "hidx.h"

struct sp_exch {
	bool used;
	cn_id_t id;
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	uint8_t nonce_sp[CN_COOP_NONCE_LEN];
	uint8_t digest[CN_DIGEST_LEN];   /* of the REQ: a duplicate is recognised by it */
	uint8_t key[CN_KEY_LEN];
	struct auth_sp_session sess;
	struct cn_coop_addr reply_to;
	uint8_t out[AUTH_FSM_BUFLEN];    /* the Auth-REP&REQ, resent verbatim */
	size_t outlen;
	uint32_t tries;
	uint32_t rto;
	uint64_t deadline;
	uint64_t prepared;               /* ops.prepare's tag: in the data plane ahead */
};

struct auth_sp {
	struct auth_sp_ops ops;
	struct auth_sp_config cfg;
	uint8_t gkey[CN_KEY_LEN];
	bool has_gkey;
	struct cn_replay replay;
	struct cn_ratelimit *rl;
	struct auth_budget rst;          /* Auth-RSTs to unauthenticated input */
	struct sp_exch *ex;
	size_t n;
	/* the pending exchanges indexed (issue 11: three scans of every slot per exchange):
	 * by ID (slot + 1, 0: none; IDs are unique among them) and by REQ digest (dig[i] is
	 * ex[i]'s while it is used) */
	uint32_t *slot_of_id;
	uint8_t (*dig)[CN_DIGEST_LEN];
	struct hidx by_digest;
};

static uint64_t dig_hash(const void *p)
{
	return hidx_bytes_hash(HIDX_HASH_INIT, p, CN_DIGEST_LEN);
}

static bool dig_eq(const void *a, const void *b)
{
	return memcmp(a, b, CN_DIGEST_LEN) == 0; /* digests of accepted REQs: not secret */
}

static const struct hidx_type dig_type = { .size = CN_DIGEST_LEN, .hash = dig_hash,
					   .eq = dig_eq };

struct auth_sp *auth_sp_new(const struct auth_sp_ops *ops, const struct auth_sp_config *cfg)
{
	struct auth_sp *sp;

	if (ops == NULL || cfg == NULL || ops->now_ms == NULL || ops->wall_ms == NULL ||
	    ops->send == NULL || ops->lookup == NULL || ops->id_in_use == NULL ||
	    ops->commit == NULL || cfg->replay == NULL || cfg->replay->seen == NULL ||
	    cfg->replay->add == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->ops = *ops;
	sp->cfg = *cfg;
	auth_timing_defaults(&sp->cfg.timing);
	if (sp->cfg.max_pending == 0)
		sp->cfg.max_pending = 1024;
	if (sp->cfg.rl_slots == 0)
		sp->cfg.rl_slots = 4096;
	if (sp->cfg.rl_burst == 0)
		sp->cfg.rl_burst = 5;
	if (sp->cfg.rl_per_min == 0)
		sp->cfg.rl_per_min = 10;
	if (cfg->group_key != NULL) {
		memcpy(sp->gkey, cfg->group_key, CN_KEY_LEN);
		sp->has_gkey = true;
	}
	sp->cfg.group_key = NULL; /* the copy above is the one used */
	sp->replay = *cfg->replay;
	sp->n = sp->cfg.max_pending;
	sp->rl = cn_ratelimit_new(sp->cfg.rl_slots, sp->cfg.rl_burst, sp->cfg.rl_per_min);
	sp->ex = calloc(sp->n, sizeof(*sp->ex));
	sp->slot_of_id = calloc((size_t)UINT16_MAX + 1, sizeof(*sp->slot_of_id));
	sp->dig = calloc(sp->n, sizeof(*sp->dig));
	if (sp->rl == NULL || sp->ex == NULL || sp->slot_of_id == NULL || sp->dig == NULL ||
	    sp->n >= HIDX_MAX || hidx_reserve(&sp->by_digest, &dig_type, sp->dig, sp->n) < 0) {
		auth_sp_free(sp);
		errno = ENOMEM;
		return NULL;
	}
	return sp;
}

void auth_sp_free(struct auth_sp *sp)
{
	if (sp == NULL)
		return;
	if (sp->ex != NULL)
		memset(sp->ex, 0, sp->n * sizeof(*sp->ex));
	free(sp->ex);
	free(sp->slot_of_id);
	free(sp->dig);
	hidx_free(&sp->by_digest);
	cn_ratelimit_free(sp->rl);
	memset(sp->gkey, 0, sizeof(sp->gkey));
	free(sp);
}

static void sp_event(struct auth_sp *sp, enum auth_event_kind kind,
    const struct cn_coop_addr *peer, const char *service, uint16_t error, const char *detail)
{
	auth_emit(sp->ops.event, sp->ops.ctx, kind, peer, service, error, detail);
}

static void sp_send(struct auth_sp *sp, const struct cn_coop_addr *to, const uint8_t *buf,
    size_t len, const char *service)
{
	if (sp->ops.send(sp->ops.ctx, to, buf, len) != 0)
		sp_event(sp, AUTH_EV_SEND_FAILED, to, service, 0, NULL);
}

static void sp_rst(struct auth_sp *sp, const struct cn_coop_addr *to,
    const struct cn_coop_msg *m, uint16_t error, const uint8_t *key)
{
	uint8_t out[AUTH_FSM_BUFLEN];
	size_t len;

	if (auth_build_rst(out, sizeof(out), &len, m, error, key,
	    sp->ops.wall_ms(sp->ops.ctx)) != 0)
		return;
	sp_event(sp, AUTH_EV_RST, to, m->service, error, cn_auth_error_name(error));
	sp_send(sp, to, out, len, m->service);
}

/*
 * Input that did not prove itself: one failure of its source. Answered with an Auth-RST
 * (error) only while the source has tokens and the reply budget allows; else dropped without
 * a word (counted as rate-limited). detail: what the log says, or NULL.
 */
static void sp_refuse(struct auth_sp *sp, const struct cn_coop_addr *src,
    const struct cn_coop_msg *m, enum auth_event_kind kind, uint16_t error, const char *what,
    uint64_t now)
{
	char detail[96];
	unsigned left;

	if (!cn_ratelimit_allow(sp->rl, src, now)) {
		snprintf(detail, sizeof(detail), "%s%sdropped, no reply", what ? what : "",
		    what ? ": " : "");
		sp_event(sp, AUTH_EV_RATE_LIMITED, src, m->service, error, detail);
		return;
	}
	left = cn_ratelimit_fail(sp->rl, src, now);
	snprintf(detail, sizeof(detail), "%s%s%u tries left", what ? what : "", what ? ", " : "",
	    left);
	sp_event(sp, kind, src, m->service, error, detail);
	if (auth_budget_take(&sp->rst, now))
		sp_rst(sp, src, m, error, NULL);
	else
		sp_event(sp, AUTH_EV_RATE_LIMITED, src, m->service, error,
		    "reply budget spent: no Auth-RST");
}

/* A slot taken: in the indexes by ID and by digest. 0, or -1 (no room: cannot happen, the
 * index was reserved for every slot). */
static int sp_index(struct auth_sp *sp, struct sp_exch *e)
{
	size_t pos = (size_t)(e - sp->ex);

	memcpy(sp->dig[pos], e->digest, CN_DIGEST_LEN);
	if (hidx_insert(&sp->by_digest, &dig_type, sp->dig, pos) < 0)
		return -1;
	sp->slot_of_id[e->id] = (uint32_t)pos + 1;
	return 0;
}

static void sp_release(struct auth_sp *sp, struct sp_exch *e)
{
	size_t pos = (size_t)(e - sp->ex);

	if (e->used) {
		hidx_remove(&sp->by_digest, &dig_type, sp->dig, pos);
		if (sp->slot_of_id[e->id] == pos + 1)
			sp->slot_of_id[e->id] = 0;
	}
	memset(e, 0, sizeof(*e));
}

/* An exchange that ends without a commit: its session leaves the data plane again. */
static void sp_discard(struct auth_sp *sp, struct sp_exch *e)
{
	if (e->prepared && sp->ops.unprepare != NULL)
		sp->ops.unprepare(sp->ops.ctx, &e->sess);
	sp_release(sp, e);
}

bool auth_sp_id_pending(const struct auth_sp *sp, cn_id_t id)
{
	return sp->slot_of_id[id] != 0;
}

static bool sp_id_in_use(void *ctx, cn_id_t id)
{
	struct auth_sp *sp = ctx;

	return auth_sp_id_pending(sp, id) || sp->ops.id_in_use(sp->ops.ctx, id);
}

static struct sp_exch *sp_find_digest(struct auth_sp *sp, const uint8_t d[CN_DIGEST_LEN])
{
	long pos = hidx_find(&sp->by_digest, &dig_type, sp->dig, d);

	return pos >= 0 && sp->ex[pos].used ? &sp->ex[pos] : NULL;
}

void auth_sp_forget(struct auth_sp *sp, const uint8_t digest[CN_DIGEST_LEN])
{
	struct sp_exch *e = sp_find_digest(sp, digest);

	if (e != NULL)
		sp_discard(sp, e);
}

static struct sp_exch *sp_free_slot(struct auth_sp *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		if (!sp->ex[i].used)
			return &sp->ex[i];
	return NULL;
}

/* Build and send the Auth-REP&REQ of a new exchange. */
static int sp_answer(struct auth_sp *sp, struct sp_exch *e, const struct cn_coop_msg *req,
    const struct auth_sp_entry *ent)
{
	struct cn_coop_msg r;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_REQ | CN_CTL_REP);
	r.id = e->id;
	r.timestamp_ms = sp->ops.wall_ms(sp->ops.ctx);
	memcpy(r.nonce_ss, req->nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, e->nonce_sp, sizeof(r.nonce_sp));
	memcpy(r.service, req->service, sizeof(r.service));
	if (ent->vnic.kind == CN_SENDER_VNIC) {
		r.sender = ent->vnic; /* with the lifetime the SP grants */
		r.vnic_status = ent->vnic_status;
	}
	auth_tag_placeholder(r.proof);
	if (cn_coop_encode(&r, e->out, sizeof(e->out), &e->outlen, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(e->out, e->outlen, ent->key, CN_DIR_SP_TO_SS) != 0)
		return -1;
	sp_send(sp, &e->reply_to, e->out, e->outlen, req->service);
	return 0;
}

/* The Auth-REQ is authentic and the client known (ent): take a slot, record the digest, give
 * an ID and answer. Wipes ent. */
static int sp_accept(struct auth_sp *sp, const struct cn_coop_addr *src,
    const struct cn_coop_msg *m, const uint8_t digest[CN_DIGEST_LEN],
    struct auth_sp_entry *ent, uint64_t now)
{
	struct sp_exch *e;
	int r;

	/* Under load: every slot holds an exchange waiting for its Auth-REP, or the replay
	 * cache cannot take the digest (full, or the database failed). Fail closed, counted. */
	if ((e = sp_free_slot(sp)) == NULL) {
		sp_event(sp, AUTH_EV_OVERLOADED, src, m->service, CN_AUTHERR_INTERNAL,
		    "no exchange slot free");
		sp_rst(sp, src, m, CN_AUTHERR_INTERNAL, ent->key);
		memset(ent, 0, sizeof(*ent));
		return -1;
	}
	/* Recorded before answering: the same bytes are never accepted twice. */
	if (cn_replay_add(&sp->replay, digest, m->timestamp_ms) != 0) {
		sp_event(sp, AUTH_EV_OVERLOADED, src, m->service, CN_AUTHERR_INTERNAL,
		    "replay digest not recorded");
		sp_rst(sp, src, m, CN_AUTHERR_INTERNAL, ent->key);
		memset(ent, 0, sizeof(*ent));
		return -1;
	}
	e->id = cn_auth_alloc_id(sp_id_in_use, sp, 32);
	if (e->id == CN_ID_NONE) {
		sp_event(sp, AUTH_EV_NO_ID, src, m->service, CN_AUTHERR_NO_ID, NULL);
		sp_rst(sp, src, m, CN_AUTHERR_NO_ID, ent->key);
		memset(ent, 0, sizeof(*ent));
		return -1;
	}
	memcpy(e->digest, digest, sizeof(e->digest));
	if (sp_index(sp, e) < 0) {
		sp_event(sp, AUTH_EV_OVERLOADED, src, m->service, CN_AUTHERR_INTERNAL,
		    "exchange index full");
		sp_rst(sp, src, m, CN_AUTHERR_INTERNAL, ent->key);
		memset(ent, 0, sizeof(*ent));
		memset(e, 0, sizeof(*e));
		return -1;
	}
	e->used = true;
	memcpy(e->nonce_ss, m->nonce_ss, sizeof(e->nonce_ss));
	cn_auth_nonce(e->nonce_sp);
	memcpy(e->key, ent->key, sizeof(e->key));
	e->reply_to = *src;
	e->sess.id = e->id;
	e->sess.client = m->sender.addr;
	memcpy(e->sess.client_name, m->sender.name, sizeof(e->sess.client_name));
	memcpy(e->sess.service, m->service, sizeof(e->sess.service));
	e->sess.ss = *src;
	e->sess.vnic = ent->vnic;
	e->tries = 1;
	e->rto = sp->cfg.timing.rto_ms;
	e->deadline = now + e->rto + AUTH_SP_FIRST_EXTRA_MS; /* both gates may hold (auth_fsm.h) */
	if (sp->ops.prepare != NULL)
		e->prepared = sp->ops.prepare(sp->ops.ctx, &e->sess);
	r = sp_answer(sp, e, m, ent);
	memset(ent, 0, sizeof(*ent));
	if (r != 0) {
		sp_discard(sp, e);
		return -1;
	}
	return 0;
}

static int sp_on_req(struct auth_sp *sp, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	const struct cn_coop_msg *m = d->m;
	const uint8_t *buf = d->raw;
	size_t len = d->len;
	const struct cn_coop_addr *src = from;
	uint8_t digest[CN_DIGEST_LEN];
	struct auth_sp_entry ent;
	struct sp_exch *e;
	uint64_t now = sp->ops.now_ms(sp->ops.ctx);
	char detail[64];
	int r;

	if (m->fwd.family != CN_FAM_NONE) {
		if (!sp->has_gkey || !d->mac_ok) {
			sp_event(sp, AUTH_EV_BAD_MAC, from, m->service, 0,
			    sp->has_gkey ? "forwarded Auth-REQ" : "no group key");
			return -1;
		}
		src = &m->fwd; /* the SS, as the header saw it */
	}
	if (!cn_auth_time_ok(m->timestamp_ms, sp->ops.wall_ms(sp->ops.ctx),
	    sp->cfg.timing.window_ms)) {
		sp_refuse(sp, src, m, AUTH_EV_STALE, CN_AUTHERR_STALE, NULL, now);
		return -1;
	}
	if (cn_auth_digest(digest, buf, len) != 0)
		return -1;
	if ((e = sp_find_digest(sp, digest)) != NULL) {
		/* A retransmitted REQ (our REP&REQ was lost, or is late): same answer. */
		sp_event(sp, AUTH_EV_DUPLICATE, src, m->service, 0, "Auth-REQ");
		sp_send(sp, &e->reply_to, e->out, e->outlen, m->service);
		return 0;
	}
	if (cn_replay_seen(&sp->replay, digest, m->timestamp_ms)) {
		/* No answer: a replayer learns nothing, and we reflect nothing. */
		sp_event(sp, AUTH_EV_REPLAY, src, m->service, 0, "Auth-REQ");
		return -1;
	}
	memset(&ent, 0, sizeof(ent));
	r = sp->ops.lookup(sp->ops.ctx, m->service, m->sender.name, &m->sender.addr, &ent);
	if (r == -1) {
		sp_refuse(sp, src, m, AUTH_EV_UNKNOWN_SERVICE, CN_AUTHERR_UNKNOWN_SERVICE, NULL,
		    now);
		return -1;
	}
	if (r != 0 || !cn_auth_check_proof(buf, len, ent.key, CN_DIR_SS_TO_SP)) {
		/* Unknown client and wrong passcode look the same from outside (DENIED). */
		snprintf(detail, sizeof(detail), "client %.*s", (int)sizeof(m->sender.name),
		    m->sender.name);
		sp_refuse(sp, src, m, r != 0 ? AUTH_EV_UNKNOWN_CLIENT : AUTH_EV_BAD_PROOF,
		    CN_AUTHERR_DENIED, detail, now);
		memset(&ent, 0, sizeof(ent));
		return -1;
	}
	return sp_accept(sp, src, m, digest, &ent, now);
}

static int sp_on_rep(struct auth_sp *sp, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	const struct cn_coop_msg *m = d->m;
	struct sp_exch *e = NULL;
	struct auth_sp_session s;
	int r;

	if (sp->slot_of_id[m->id] != 0) { /* the one pending exchange with this ID */
		struct sp_exch *x = &sp->ex[sp->slot_of_id[m->id] - 1];

		if (x->used && x->id == m->id &&
		    cn_auth_equal(x->nonce_ss, m->nonce_ss, CN_COOP_NONCE_LEN) &&
		    cn_auth_equal(x->nonce_sp, m->nonce_sp, CN_COOP_NONCE_LEN))
			e = x;
	}
	if (e == NULL || strcmp(e->sess.service, m->service) != 0) {
		sp_event(sp, AUTH_EV_NO_EXCHANGE, from, m->service, 0, "Auth-REP");
		return -1;
	}
	if (!cn_auth_check_proof(d->raw, d->len, e->key, CN_DIR_SS_TO_SP)) {
		sp_event(sp, AUTH_EV_BAD_PROOF, from, m->service, 0, "Auth-REP");
		return -1;
	}
	if (!cn_auth_time_ok(m->timestamp_ms, sp->ops.wall_ms(sp->ops.ctx),
	    sp->cfg.timing.window_ms)) {
		sp_event(sp, AUTH_EV_STALE, from, m->service, 0, "Auth-REP");
		return -1;
	}
	s = e->sess;
	s.prepared = e->prepared;
	cn_auth_session_key(s.session_key, e->key, e->nonce_ss, e->nonce_sp, e->id);
	r = sp->ops.commit(sp->ops.ctx, &s);
	if (r != 0) {
		struct cn_coop_msg echo = *m;

		sp_rst(sp, &e->reply_to, &echo, CN_AUTHERR_INTERNAL, e->key);
	}
	memset(&s, 0, sizeof(s));
	if (r == 0)
		sp_release(sp, e);
	else
		sp_discard(sp, e);
	return r == 0 ? 0 : -1;
}

/* Auth-RST released from the SS: it took another SP's answer to this REQ (docs/groups.md,
 * "Plural header SPs"). Only the pending exchange both nonces name, with a proof by its
 * client key: nothing else can be discarded by it. */
static int sp_on_released(struct auth_sp *sp, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	const struct cn_coop_msg *m = d->m;
	struct sp_exch *e = NULL;

	for (size_t i = 0; i < sp->n && e == NULL; i++)
		if (sp->ex[i].used &&
		    cn_auth_equal(sp->ex[i].nonce_ss, m->nonce_ss, CN_COOP_NONCE_LEN) &&
		    cn_auth_equal(sp->ex[i].nonce_sp, m->nonce_sp, CN_COOP_NONCE_LEN))
			e = &sp->ex[i];
	if (e == NULL || strcmp(e->sess.service, m->service) != 0) {
		sp_event(sp, AUTH_EV_NO_EXCHANGE, from, m->service, 0, "Auth-RST released");
		return -1;
	}
	if (!cn_auth_check_proof(d->raw, d->len, e->key, CN_DIR_SS_TO_SP)) {
		sp_event(sp, AUTH_EV_BAD_PROOF, from, m->service, 0, "Auth-RST released");
		return -1;
	}
	if (!cn_auth_time_ok(m->timestamp_ms, sp->ops.wall_ms(sp->ops.ctx),
	    sp->cfg.timing.window_ms)) {
		sp_event(sp, AUTH_EV_STALE, from, m->service, 0, "Auth-RST released");
		return -1;
	}
	sp_event(sp, AUTH_EV_RELEASED, from, m->service, CN_AUTHERR_RELEASED,
	    "the SS took another SP's answer");
	sp_discard(sp, e);
	return 0;
}

int auth_sp_input(struct auth_sp *sp, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len)
{
	struct cn_coop_msg m;
	struct auth_dgram d;
	enum cn_coop_err err;

	err = auth_dgram_decode(&d, &m, buf, len, sp->has_gkey ? sp->gkey : NULL);
	if (err != CN_COOP_OK) {
		sp_event(sp, AUTH_EV_DECODE_ERROR, from, NULL, 0, cn_coop_err_name(err));
		return -1;
	}
	return auth_sp_handle(sp, from, &d);
}

int auth_sp_handle(struct auth_sp *sp, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	if (d->kind == CN_KIND_AUTH_REQ)
		return sp_on_req(sp, from, d);
	if (d->kind == CN_KIND_AUTH_REP)
		return sp_on_rep(sp, from, d);
	if (d->kind == CN_KIND_AUTH_RST && d->m->error == CN_AUTHERR_RELEASED)
		return sp_on_released(sp, from, d);
	sp_event(sp, AUTH_EV_UNEXPECTED, from, d->m->service, 0, cn_coop_kind_name(d->kind));
	return -1;
}

void auth_sp_tick(struct auth_sp *sp)
{
	uint64_t now = sp->ops.now_ms(sp->ops.ctx);

	for (size_t i = 0; i < sp->n; i++) {
		struct sp_exch *e = &sp->ex[i];

		if (!e->used || e->deadline > now)
			continue;
		if (e->tries >= sp->cfg.timing.max_tries) {
			struct cn_coop_msg echo;

			sp_event(sp, AUTH_EV_TIMEOUT, &e->reply_to, e->sess.service, 0,
			    "no Auth-REP");
			memset(&echo, 0, sizeof(echo));
			memcpy(echo.nonce_ss, e->nonce_ss, sizeof(echo.nonce_ss));
			memcpy(echo.nonce_sp, e->nonce_sp, sizeof(echo.nonce_sp));
			memcpy(echo.service, e->sess.service, sizeof(echo.service));
			sp_rst(sp, &e->reply_to, &echo, CN_AUTHERR_TIMEOUT, e->key);
			sp_discard(sp, e);
			continue;
		}
		e->tries++;
		e->rto = auth_backoff(&sp->cfg.timing, e->rto);
		e->deadline = now + e->rto;
		sp_event(sp, AUTH_EV_RETRANSMIT, &e->reply_to, e->sess.service, 0, "Auth-REP&REQ");
		sp_send(sp, &e->reply_to, e->out, e->outlen, e->sess.service);
	}
}

uint64_t auth_sp_next_deadline(const struct auth_sp *sp)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < sp->n; i++)
		if (sp->ex[i].used && sp->ex[i].deadline < next)
			next = sp->ex[i].deadline;
	return next;
}

size_t auth_sp_pending(const struct auth_sp *sp)
{
	size_t n = 0;

	for (size_t i = 0; i < sp->n; i++)
		n += sp->ex[i].used;
	return n;
}
