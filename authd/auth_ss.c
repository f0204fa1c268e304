/* SPDX-License-Identifier: MIT */
/*
 * The SS (supervisor) side of Authentication:
 *
 *   start: send Auth-REQ                                   -> WAIT
 *   WAIT   Auth-REP&REQ (proof ok): send Auth-REP, done OK -> LINGER
 *   WAIT   Auth-RST: done RST                              -> free
 *   WAIT   time-out: resend the same REQ bytes with backoff; after max_tries done TIMEOUT
 *   LINGER a duplicate Auth-REP&REQ (our REP was lost): resend the same REP bytes
 *   LINGER an Auth-REP&REQ of another SP (proof ok, another nonce_sp: a retransmission
 *          reached a header that chose another SP): Auth-RST released to it; the first
 *          answer stays the session, the other SP discards its exchange and its ID
 *   LINGER Auth-RST timeout with a valid proof and both nonces: the SP never got an
 *          Auth-REP and gave up; lost() revokes the success     -> free
 *   LINGER time-out (linger_ms)                            -> free
 *
 * Retransmissions are byte-identical, so the SP recognises them as duplicates of the same
 * exchange (same replay digest) and answers idempotently.
 *
 * The time-out (RFC 6298's estimator over exchange times, Karn's rule: only exchanges
 * answered after one transmission are samples) is srtt + 4 * rttvar, at least rto_ms and at
 * most rto_max_ms, and a waiting exchange's timer follows the estimate as it moves. With
 * plural headers a retransmission goes to the next header only when the current one led to no
 * answer since the REQ went to it; a header that answers others is alive, only slow: the REQ
 * goes to it again (docs/groups.md, "Plural header SPs").
 *
 * Nothing is scanned per datagram or per loop turn (issue 11 section 7: 2,000 exchanges in
 * flight made the old scans of all 4,096 slots the SS engine's largest cost): the exchanges
 * in use are indexed by auth_ss_index.c (by nonce_ss, by (client, service), a free stack, the
 * earliest deadline); auth_ss_tick looks at the exchanges only when the earliest deadline has
 * passed, or when the time-out estimate went down (a deadline moved earlier).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "auth_ss_index.h"

enum ss_state { SS_FREE = 0, SS_WAIT, SS_LINGER };

/* Other SPs' answers remembered per exchange, to count each once: a REQ goes out max_tries
 * (5) times at the defaults, so at most 4 other SPs; beyond, a release counts again. */
#define SS_RELEASED 4

struct ss_exch {
	enum ss_state state;
	uint64_t handle;
	struct auth_ss_request req;
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	uint8_t nonce_sp[CN_COOP_NONCE_LEN];
	cn_id_t id;
	struct cn_coop_addr sp;
	uint8_t reqbuf[AUTH_FSM_BUFLEN];
	size_t reqlen;
	uint8_t repbuf[AUTH_FSM_BUFLEN];
	size_t replen;
	uint32_t tries;
	uint64_t start;                 /* the first transmission (an RTT sample when tries == 1) */
	uint64_t sent;                  /* the last one: the timer runs from it (ss_deadline) */
	uint64_t deadline;              /* LINGER: the end of the linger time */
	uint64_t done_at;               /* LINGER: when it succeeded */
	size_t hi;                      /* req.headers[hi] had the last REQ (n_headers > 0) */
	bool moved;                     /* went through more than one header */
	uint8_t released[SS_RELEASED][CN_COOP_NONCE_LEN]; /* the other SPs' nonce_sp, released */
	uint8_t n_released;
};

struct auth_ss {
	struct auth_ss_ops ops;
	struct auth_timing t;
	struct ss_exch *ex;
	size_t n;
	struct ss_index ix;
	uint64_t next_handle;
	size_t header_ok;               /* the header index that last led to an answer */
	uint64_t answered[AUTH_SS_MAX_HEADERS]; /* when each header last led to an answer */
	bool has_rtt;                   /* srtt and rttvar hold a sample */
	uint32_t srtt, rttvar;          /* ms, RFC 6298 */
};

struct auth_ss *auth_ss_new(const struct auth_ss_ops *ops, const struct auth_timing *timing,
    size_t max_exchanges)
{
	struct auth_ss *ss;

	if (ops == NULL || ops->now_ms == NULL || ops->wall_ms == NULL || ops->send == NULL ||
	    ops->done == NULL || max_exchanges == 0 || max_exchanges >= SS_NIL / 2) {
		errno = EINVAL;
		return NULL;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	if ((ss->ex = calloc(max_exchanges, sizeof(*ss->ex))) == NULL ||
	    ss_index_init(&ss->ix, max_exchanges) < 0) {
		free(ss->ex);
		free(ss);
		errno = ENOMEM;
		return NULL;
	}
	ss->n = max_exchanges;
	ss->ops = *ops;
	if (timing != NULL)
		ss->t = *timing;
	auth_timing_defaults(&ss->t);
	ss->next_handle = 1;
	return ss;
}

void auth_ss_free(struct auth_ss *ss)
{
	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->n; i++)
		memset(ss->ex[i].req.key, 0, CN_KEY_LEN);
	free(ss->ex);
	ss_index_free(&ss->ix);
	free(ss);
}

/* --- the index of the exchanges in use (auth_ss_index.c) ---------------------------------- */

static uint32_t slot_of(const struct auth_ss *ss, const struct ss_exch *e)
{
	return (uint32_t)(e - ss->ex);
}

/* An exchange's deadline may have changed: the earliest is taken again when asked for. */
static void index_changed(struct auth_ss *ss)
{
	ss_index_changed(&ss->ix);
}

/* A slot taken from the free stack goes into use (its nonce_ss and req are set). */
static void index_add(struct auth_ss *ss, struct ss_exch *e)
{
	ss_index_add(&ss->ix, slot_of(ss, e), e->nonce_ss, &e->req.client, e->req.service);
}

/* A slot in use goes back to the free stack (before its fields are wiped). */
static void index_del(struct auth_ss *ss, struct ss_exch *e)
{
	ss_index_del(&ss->ix, slot_of(ss, e), e->nonce_ss, &e->req.client, e->req.service);
}

static void ss_event(struct auth_ss *ss, enum auth_event_kind kind,
    const struct cn_coop_addr *peer, const char *service, uint16_t error, const char *detail)
{
	auth_emit(ss->ops.event, ss->ops.ctx, kind, peer, service, error, detail);
}

static void ss_send(struct auth_ss *ss, const struct cn_coop_addr *to, const uint8_t *buf,
    size_t len, const char *service)
{
	if (ss->ops.send(ss->ops.ctx, to, buf, len) != 0)
		ss_event(ss, AUTH_EV_SEND_FAILED, to, service, 0, NULL);
}

static void ss_release(struct auth_ss *ss, struct ss_exch *e)
{
	index_del(ss, e);
	memset(e, 0, sizeof(*e)); /* also wipes the key */
}

/* The first retransmission time-out now: rto_ms until a sample exists, then srtt + 4 *
 * rttvar, within rto_ms .. rto_max_ms. */
static uint32_t ss_rto(const struct auth_ss *ss)
{
	uint64_t r;

	if (!ss->has_rtt)
		return ss->t.rto_ms;
	r = ss->srtt + 4 * (uint64_t)ss->rttvar;
	if (r < ss->t.rto_ms)
		r = ss->t.rto_ms;
	return r > ss->t.rto_max_ms ? ss->t.rto_max_ms : (uint32_t)r;
}

/* When a waiting exchange times out: its last transmission plus the current estimate,
 * backed off once per retransmission (Karn). A first transmission whose header led to an
 * answer since (alive) also gets the time an SP may hold its answer by design
 * (AUTH_SP_HOLD_MS): asked again sooner, the header would choose another SP for a client
 * whose SP is only waiting for its data plane. A silent header is left after one RTO. */
static uint64_t ss_deadline(const struct auth_ss *ss, const struct ss_exch *e)
{
	uint32_t rto = ss_rto(ss);

	if (e->state == SS_LINGER)
		return e->deadline;
	if (e->tries == 1 && !e->req.failover && ss->answered[e->hi] > e->sent &&
	    rto < (uint64_t)AUTH_SP_HOLD_MS + ss->t.rto_ms)
		rto = AUTH_SP_HOLD_MS + ss->t.rto_ms;
	for (uint32_t i = 1; i < e->tries; i++)
		rto = auth_backoff(&ss->t, rto);
	return e->sent + rto;
}

static void ss_estimate(struct auth_ss *ss, uint32_t r);

/* An exchange answered after one transmission: its time is a sample (RFC 6298, 2.2-2.3). */
static void ss_sample(struct auth_ss *ss, uint64_t rtt_ms)
{
	uint32_t r = rtt_ms > UINT32_MAX / 8 ? UINT32_MAX / 8 : (uint32_t)rtt_ms;

	ss_estimate(ss, r);
	index_changed(ss); /* the waiting exchanges' deadlines follow the estimate */
}

static void ss_estimate(struct auth_ss *ss, uint32_t r)
{

	if (!ss->has_rtt) {
		ss->srtt = r;
		ss->rttvar = r / 2;
		ss->has_rtt = true;
		return;
	}
	ss->rttvar = (3 * ss->rttvar + (ss->srtt > r ? ss->srtt - r : r - ss->srtt)) / 4;
	ss->srtt = (7 * ss->srtt + r) / 8;
}

/* An answer (REP&REQ, or an RST that echoes our nonce) came for e in WAIT: its header is
 * alive; its time a sample when the REQ went out once. */
static void ss_answered(struct auth_ss *ss, struct ss_exch *e)
{
	uint64_t now = ss->ops.now_ms(ss->ops.ctx);

	if (!e->moved)
		ss->answered[e->hi] = now; /* hi is 0 with one header (or the SP directly) */
	index_changed(ss);             /* a live header gives its waiting exchanges more time */
	if (e->tries == 1)
		ss_sample(ss, now - e->start);
}

/* The outcome of exchange e as far as its request goes: handle, result, client, service. */
static void ss_outcome(struct auth_ss_outcome *o, const struct ss_exch *e,
    enum auth_result result)
{
	memset(o, 0, sizeof(*o));
	o->handle = e->handle;
	o->result = result;
	o->client = e->req.client;
	memcpy(o->client_name, e->req.client_name, sizeof(o->client_name));
	memcpy(o->service, e->req.service, sizeof(o->service));
}

static void ss_finish(struct auth_ss *ss, struct ss_exch *e, enum auth_result result,
    uint16_t error, bool rst_auth)
{
	struct auth_ss_outcome o;

	ss_outcome(&o, e, result);
	o.error = error;
	o.rst_authenticated = rst_auth;
	/* Free the slot first: done() may start a new exchange for the same pair at once. */
	ss_release(ss, e);
	ss->ops.done(ss->ops.ctx, &o);
}

/* A success done() reported is void: tell lost() and forget the exchange. */
static void ss_lost(struct auth_ss *ss, struct ss_exch *e)
{
	struct auth_ss_outcome o;

	ss_outcome(&o, e, AUTH_FAIL_RST);
	o.error = CN_AUTHERR_TIMEOUT;
	o.rst_authenticated = true;
	o.id = e->id;
	o.sp = e->sp;
	ss_release(ss, e);
	if (ss->ops.lost != NULL)
		ss->ops.lost(ss->ops.ctx, &o);
}

/* The exchange for (client, service) in state st, or NULL; SS_FREE: in either state, the
 * most recent first (a chain is newest first). */
static struct ss_exch *ss_pair(const struct auth_ss *ss, const struct cn_coop_addr *client,
    const char *service, enum ss_state st)
{
	for (uint32_t i = ss_index_by_pair(&ss->ix, client, service); i != SS_NIL;
	     i = ss_index_pair_next(&ss->ix, i)) {
		struct ss_exch *e = &ss->ex[i];

		if ((st == SS_FREE || e->state == st) &&
		    cn_coop_addr_equal(&e->req.client, client, false) &&
		    strcmp(e->req.service, service) == 0)
			return e;
	}
	return NULL;
}

static struct ss_exch *ss_slot(struct auth_ss *ss, const struct auth_ss_request *req)
{
	struct ss_exch *e, *oldest_linger = NULL;

	if (ss_pair(ss, &req->client, req->service, SS_WAIT) != NULL) {
		errno = EBUSY;
		return NULL;
	}
	if (ss_index_full(&ss->ix)) {
		for (size_t k = 0; k < ss_index_n(&ss->ix); k++) {
			e = &ss->ex[ss_index_list(&ss->ix)[k]];
			if (e->state == SS_LINGER &&
			    (oldest_linger == NULL || e->deadline < oldest_linger->deadline))
				oldest_linger = e;
		}
		if (oldest_linger == NULL) {
			errno = ENOSPC;
			return NULL;
		}
		ss_release(ss, oldest_linger);
	}
	return &ss->ex[ss_index_take(&ss->ix)];
}

static bool endpoint_valid(const struct cn_coop_addr *a)
{
	return (a->family == CN_FAM_INET || a->family == CN_FAM_INET6) && a->port != 0;
}

static bool request_valid(const struct auth_ss_request *req)
{
	struct cn_coop_sender s;

	if (req->n_headers > AUTH_SS_MAX_HEADERS)
		return false;
	for (size_t i = 0; i < req->n_headers; i++)
		if (!endpoint_valid(&req->headers[i]))
			return false;
	return (req->client.family == CN_FAM_INET || req->client.family == CN_FAM_INET6) &&
	    (req->n_headers > 0 || endpoint_valid(&req->header)) &&
	    req->client_name[0] != '\0' &&
	    memchr(req->client_name, '\0', sizeof(req->client_name)) != NULL &&
	    cn_coop_set_name(&s, req->client_name) &&
	    memchr(req->service, '\0', sizeof(req->service)) != NULL &&
	    cn_coop_service_valid(req->service);
}

int auth_ss_start(struct auth_ss *ss, const struct auth_ss_request *req, uint64_t *handle)
{
	struct cn_coop_msg m;
	struct ss_exch *e;

	if (!request_valid(req)) {
		errno = EINVAL;
		return -1;
	}
	if ((e = ss_slot(ss, req)) == NULL)
		return -1;

	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REQ);
	m.timestamp_ms = ss->ops.wall_ms(ss->ops.ctx);
	cn_auth_nonce(m.nonce_ss);
	m.sender.kind = CN_SENDER_CLIENT;
	m.sender.addr = req->client;
	m.sender.addr.port = 0;
	cn_coop_set_name(&m.sender, req->client_name);
	cn_coop_set_service(&m, req->service);
	auth_tag_placeholder(m.proof);
	if (cn_coop_encode(&m, e->reqbuf, sizeof(e->reqbuf), &e->reqlen, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(e->reqbuf, e->reqlen, req->key, CN_DIR_SS_TO_SP) != 0) {
		memset(e, 0, sizeof(*e));
		ss_index_untake(&ss->ix, slot_of(ss, e)); /* never went into use */
		errno = EINVAL;
		return -1;
	}
	e->state = SS_WAIT;
	e->handle = ss->next_handle++;
	e->req = *req;
	e->req.client.port = 0;
	memcpy(e->nonce_ss, m.nonce_ss, sizeof(e->nonce_ss));
	e->tries = 1;
	e->start = e->sent = ss->ops.now_ms(ss->ops.ctx);
	*handle = e->handle;
	if (req->n_headers > 0) {
		e->hi = ss->header_ok % req->n_headers;
		e->req.header = req->headers[e->hi];
	}
	index_add(ss, e);
	ss_send(ss, &e->req.header, e->reqbuf, e->reqlen, req->service);
	return 0;
}

static struct ss_exch *ss_find(struct auth_ss *ss, const struct cn_coop_msg *m)
{
	for (uint32_t i = ss_index_by_nonce(&ss->ix, m->nonce_ss); i != SS_NIL;
	     i = ss_index_nonce_next(&ss->ix, i))
		if (cn_auth_equal(ss->ex[i].nonce_ss, m->nonce_ss, CN_COOP_NONCE_LEN))
			return &ss->ex[i];
	return NULL;
}

/* Auth-REP&REQ in WAIT: answer with Auth-REP and report success. */
static int ss_on_repreq(struct auth_ss *ss, struct ss_exch *e, const struct cn_coop_addr *from,
    const struct cn_coop_msg *m)
{
	struct cn_coop_msg r;
	struct auth_ss_outcome o;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_REP);
	r.id = m->id;
	r.timestamp_ms = ss->ops.wall_ms(ss->ops.ctx);
	memcpy(r.nonce_ss, e->nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, m->nonce_sp, sizeof(r.nonce_sp));
	cn_coop_set_service(&r, e->req.service);
	auth_tag_placeholder(r.proof);
	if (cn_coop_encode(&r, e->repbuf, sizeof(e->repbuf), &e->replen, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(e->repbuf, e->replen, e->req.key, CN_DIR_SS_TO_SP) != 0)
		return -1;
	ss_answered(ss, e);
	e->id = m->id;
	e->sp = *from;
	ss->header_ok = e->hi; /* the next exchange starts at the header that worked */
	memcpy(e->nonce_sp, m->nonce_sp, sizeof(e->nonce_sp));
	ss_send(ss, from, e->repbuf, e->replen, e->req.service);

	ss_outcome(&o, e, AUTH_OK);
	o.id = m->id;
	o.sp = *from;
	cn_auth_session_key(o.session_key, e->req.key, e->nonce_ss, e->nonce_sp, e->id);
	o.vnic = m->sender;
	e->state = SS_LINGER;
	e->deadline = ss->ops.now_ms(ss->ops.ctx) + ss->t.linger_ms;
	e->done_at = e->deadline - ss->t.linger_ms;
	index_changed(ss);
	ss->ops.done(ss->ops.ctx, &o);
	memset(o.session_key, 0, sizeof(o.session_key));
	return 0;
}

/*
 * LINGER: an Auth-REP&REQ with a valid proof but another nonce_sp: a second SP took the same
 * REQ (a retransmission reached a header that chose another SP) and holds an ID for it.
 * The first answer is the session; the other SP is told to discard its exchange (Auth-RST
 * released: both nonces, proof with K_c), again for each of its retransmissions.
 */
static int ss_release_other(struct auth_ss *ss, struct ss_exch *e,
    const struct cn_coop_addr *from, const struct cn_coop_msg *m)
{
	uint8_t out[AUTH_FSM_BUFLEN];
	struct cn_coop_msg r;
	bool known = false;
	size_t len;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
	r.error = CN_AUTHERR_RELEASED;
	r.timestamp_ms = ss->ops.wall_ms(ss->ops.ctx);
	memcpy(r.nonce_ss, e->nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, m->nonce_sp, sizeof(r.nonce_sp));
	cn_coop_set_service(&r, e->req.service);
	auth_tag_placeholder(r.proof);
	if (cn_coop_encode(&r, out, sizeof(out), &len, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(out, len, e->req.key, CN_DIR_SS_TO_SP) != 0) {
		ss_event(ss, AUTH_EV_SEND_FAILED, from, e->req.service, 0, "encode Auth-RST released");
		return -1;
	}
	for (size_t i = 0; i < e->n_released; i++)
		if (cn_auth_equal(e->released[i], m->nonce_sp, CN_COOP_NONCE_LEN))
			known = true;
	if (known) {
		/* it resent its REP&REQ: our Auth-RST released was lost or is late */
		ss_event(ss, AUTH_EV_DUPLICATE, from, e->req.service, 0, "Auth-REP&REQ released");
	} else {
		if (e->n_released < SS_RELEASED)
			memcpy(e->released[e->n_released++], m->nonce_sp, CN_COOP_NONCE_LEN);
		ss_event(ss, AUTH_EV_RELEASED, from, e->req.service, CN_AUTHERR_RELEASED,
		    "another SP answered first");
	}
	ss_send(ss, from, out, len, e->req.service);
	return 0;
}

int auth_ss_input(struct auth_ss *ss, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len)
{
	struct cn_coop_msg msg;
	struct auth_dgram d;
	enum cn_coop_err err;

	if ((err = auth_dgram_decode(&d, &msg, buf, len, NULL)) != CN_COOP_OK) {
		ss_event(ss, AUTH_EV_DECODE_ERROR, from, NULL, 0, cn_coop_err_name(err));
		return -1;
	}
	return auth_ss_handle(ss, from, &d);
}

int auth_ss_handle(struct auth_ss *ss, const struct cn_coop_addr *from,
    const struct auth_dgram *d)
{
	const struct cn_coop_msg *m = d->m;
	enum cn_coop_kind kind = d->kind;
	struct ss_exch *e;
	bool proof_ok;

	if (kind != CN_KIND_AUTH_REPREQ && kind != CN_KIND_AUTH_RST) {
		ss_event(ss, AUTH_EV_UNEXPECTED, from, m->service, 0, cn_coop_kind_name(kind));
		return -1;
	}
	if ((e = ss_find(ss, m)) == NULL ||
	    (m->service[0] != '\0' && strcmp(m->service, e->req.service) != 0)) {
		ss_event(ss, AUTH_EV_NO_EXCHANGE, from, m->service, 0, cn_coop_kind_name(kind));
		return -1;
	}
	/* An RST is fresh because it echoes our new nonce; checking its timestamp would hide
	 * the very error (stale: our clock is wrong) it reports. */
	if (kind != CN_KIND_AUTH_RST &&
	    !cn_auth_time_ok(m->timestamp_ms, ss->ops.wall_ms(ss->ops.ctx), ss->t.window_ms)) {
		ss_event(ss, AUTH_EV_STALE, from, e->req.service, 0, cn_coop_kind_name(kind));
		return -1;
	}
	proof_ok = cn_auth_check_proof(d->raw, d->len, e->req.key, CN_DIR_SP_TO_SS);

	if (kind == CN_KIND_AUTH_RST) {
		/* Unauthenticated RSTs (a header's unknown-service, an SP that has no key for us)
		 * are taken when they echo our nonce: only an on-path attacker knows it, and it
		 * could drop our packets anyway. A proof that is present must verify. */
		bool has_proof = !cn_auth_equal(m->proof, (uint8_t[CN_COOP_TAG_LEN]){ 0 },
		    CN_COOP_TAG_LEN);

		if (e->state == SS_LINGER && has_proof && proof_ok &&
		    m->error == CN_AUTHERR_TIMEOUT &&
		    cn_auth_equal(m->nonce_sp, e->nonce_sp, CN_COOP_NONCE_LEN)) {
			ss_event(ss, AUTH_EV_RST, from, e->req.service, m->error,
			    "the SP gave up waiting for Auth-REP: session lost");
			ss_lost(ss, e);
			return 0;
		}
		if (e->state != SS_WAIT || (has_proof && !proof_ok)) {
			ss_event(ss, has_proof && !proof_ok ? AUTH_EV_BAD_PROOF : AUTH_EV_NO_EXCHANGE,
			    from, e->req.service, m->error, "Auth-RST");
			return -1;
		}
		ss_event(ss, AUTH_EV_RST, from, e->req.service, m->error, cn_auth_error_name(m->error));
		ss_answered(ss, e);
		ss_finish(ss, e, AUTH_FAIL_RST, m->error, proof_ok);
		return 0;
	}

	if (!proof_ok) {
		ss_event(ss, AUTH_EV_BAD_PROOF, from, e->req.service, 0, "Auth-REP&REQ");
		return -1;
	}
	if (e->state == SS_LINGER) {
		if (!cn_auth_equal(m->nonce_sp, e->nonce_sp, CN_COOP_NONCE_LEN))
			return ss_release_other(ss, e, from, m);
		if (m->id != e->id) {
			ss_event(ss, AUTH_EV_NO_EXCHANGE, from, e->req.service, 0, "Auth-REP&REQ");
			return -1;
		}
		/* Our Auth-REP was lost: the SP asks again. Same bytes, same answer. */
		ss_event(ss, AUTH_EV_DUPLICATE, from, e->req.service, 0, "Auth-REP&REQ");
		ss_send(ss, &e->sp, e->repbuf, e->replen, e->req.service);
		return 0;
	}
	if (ss_on_repreq(ss, e, from, m) != 0) {
		ss_event(ss, AUTH_EV_SEND_FAILED, from, e->req.service, 0, "encode Auth-REP");
		return -1;
	}
	return 0;
}

/* Plural headers, at a time-out: a header that led to an answer since e's REQ last went to
 * it (sent) is alive (our REQ or its answer was lost, or it is slow): the REQ goes to it again, and never
 * makes a second balancing decision elsewhere for that. A header silent since then: the
 * next one. */
static void ss_next_header(struct auth_ss *ss, struct ss_exch *e, uint64_t sent)
{
	if (e->req.n_headers < 2)
		return;
	if (ss->answered[e->hi] > sent) {
		ss_event(ss, AUTH_EV_HEADER_KEPT, &e->req.header, e->req.service, 0, "Auth-REQ");
		return;
	}
	e->hi = (e->hi + 1) % e->req.n_headers;
	e->req.header = e->req.headers[e->hi];
	e->moved = true;
	ss_event(ss, AUTH_EV_HEADER_NEXT, &e->req.header, e->req.service, 0, "Auth-REQ");
}

/* One exchange at tick time: its time-out, if due. */
static void ss_tick_one(struct auth_ss *ss, struct ss_exch *e, uint64_t now)
{
	if (ss_deadline(ss, e) > now)
		return;
	if (e->state == SS_LINGER) {
		ss_release(ss, e);
		return;
	}
	if (e->tries >= ss->t.max_tries) {
		ss_event(ss, AUTH_EV_TIMEOUT, &e->req.header, e->req.service, 0, "no Auth-REP&REQ");
		ss_finish(ss, e, AUTH_FAIL_TIMEOUT, 0, false);
		return;
	}
	e->tries++;
	ss_next_header(ss, e, e->sent);
	e->sent = now;
	index_changed(ss);
	ss_event(ss, AUTH_EV_RETRANSMIT, &e->req.header, e->req.service, 0, "Auth-REQ");
	ss_send(ss, &e->req.header, e->reqbuf, e->reqlen, e->req.service);
}

/*
 * Only when the earliest deadline has passed. The exchanges in use are taken by handle from a
 * copy of the list: done() may start or cancel exchanges, which reorders it; one started
 * meanwhile is new and not due.
 */
void auth_ss_tick(struct auth_ss *ss)
{
	uint64_t now = ss->ops.now_ms(ss->ops.ctx);
	size_t n = ss_index_n(&ss->ix);
	uint32_t *slots;
	uint64_t *handles;

	if (n == 0 || now < auth_ss_next_deadline(ss))
		return;
	slots = malloc(n * sizeof(*slots));
	handles = malloc(n * sizeof(*handles));
	if (slots != NULL && handles != NULL) { /* without memory: at the next tick */
		memcpy(slots, ss_index_list(&ss->ix), n * sizeof(*slots));
		for (size_t k = 0; k < n; k++)
			handles[k] = ss->ex[slots[k]].handle;
		for (size_t k = 0; k < n; k++) {
			struct ss_exch *e = &ss->ex[slots[k]];

			if (ss_index_used(&ss->ix, slots[k]) && e->handle == handles[k])
				ss_tick_one(ss, e, now);
		}
	}
	free(slots);
	free(handles);
}

static uint64_t slot_deadline(const void *ctx, uint32_t slot)
{
	const struct auth_ss *ss = ctx;

	return ss_deadline(ss, &ss->ex[slot]);
}

/* The earliest deadline of the exchanges in use, taken again only after a change (the
 * engine asks once per loop turn). The kept value is a cache of the table, not of the
 * caller's view of it: it is filled in here, through a const pointer to a table that was
 * allocated writable (auth_ss_new). */
uint64_t auth_ss_next_deadline(const struct auth_ss *ss)
{
	return ss_index_earliest((struct ss_index *)&ss->ix, slot_deadline, ss);
}

int auth_ss_cancel(struct auth_ss *ss, uint64_t handle)
{
	for (size_t k = 0; k < ss_index_n(&ss->ix); k++) {
		struct ss_exch *e = &ss->ex[ss_index_list(&ss->ix)[k]];

		if (e->state == SS_WAIT && e->handle == handle) {
			ss_finish(ss, e, AUTH_FAIL_CANCELLED, 0, false);
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

size_t auth_ss_pending(const struct auth_ss *ss)
{
	size_t n = 0;

	for (size_t k = 0; k < ss_index_n(&ss->ix); k++)
		n += ss->ex[ss_index_list(&ss->ix)[k]].state == SS_WAIT;
	return n;
}

bool auth_ss_recent(const struct auth_ss *ss, const struct cn_coop_addr *client,
    const char *service, uint32_t within_ms)
{
	const struct ss_exch *e = ss_pair(ss, client, service, SS_FREE);

	if (e == NULL)
		return false;
	if (e->state == SS_WAIT)
		return true;
	return ss->ops.now_ms(ss->ops.ctx) < e->done_at + within_ms;
}
