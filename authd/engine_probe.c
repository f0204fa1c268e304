/* SPDX-License-Identifier: MIT */
/*
 * The path probe (docs/probe.md, engine_probe.h). Supervisor: per SP, one probe at a time:
 * the parent sends the probe SYN (IMSG_PROBE_SEND) with a random urgent pointer, the engine
 * a Probe-REQ naming the segment (ports, sequence number), sealed with the session key K_s of
 * a session with that SP; up to PROBE_TRIES tries PROBE_RTO_MS apart; the Probe-REP's value
 * decides preserved, cleared or altered; "not seen" on every try: lost; nothing: no answer.
 * Provider: a Probe-REQ whose proof verifies with the session's key is answered with what
 * the raw socket saw (a ring of the last PROBE_SEEN segments), at once or when the segment
 * arrives, and "not seen" after PROBE_WAIT_MS.
 */
#include "engine_probe.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "coop_app.h"
#include "hex.h"
#include "log.h"
#include "probe.h"

#define PROBE_MAX_SPS   64
#define PROBE_SEEN      64
#define PROBE_MAX_WAIT  32
#define PROBE_TRIES     3
#define PROBE_RTO_MS    1000
#define PROBE_FIRST_MS  200    /* after the first Authentication: let the SP commit first */
#define PROBE_WAIT_MS   800    /* an SP's wait for the segment (< PROBE_RTO_MS) */
#define PROBE_AGAIN_MS  60000  /* drops start a new probe of an SP at most this often
                                  (authd.json "probe": {"again_ms"}) */

struct probe_sp {              /* supervisor: one SP */
	struct cn_coop_addr sp;        /* its cooperative address and port */
	bool running, not_seen;        /* a probe in flight; an answer "not seen" came */
	uint8_t nonce[CN_COOP_NONCE_LEN];
	cn_id_t id;                    /* the session whose key seals it */
	char service[CN_COOP_SERVICE_LEN];
	uint8_t key[CN_KEY_LEN];
	uint16_t sport, urgptr;
	uint32_t seq;
	unsigned tries;
	uint64_t next_ms;
	const char *trigger;
	enum cn_probe_outcome outcome; /* of the last probe that ended */
	uint16_t sent, seen;           /* its urgent pointer sent and seen */
	uint64_t ended_ms, started_ms; /* wall clock */
	uint64_t runs;
};

struct probe_seen_rec {        /* provider: a probe segment that arrived */
	uint16_t sport, dport, urgptr;
	uint32_t seq;
	uint64_t at_ms;
};

struct probe_wait {            /* provider: a Probe-REQ waiting for its segment */
	bool used;
	struct cn_coop_addr from;
	cn_id_t id;
	char service[CN_COOP_SERVICE_LEN];
	uint8_t key[CN_KEY_LEN];
	uint8_t nonce[CN_COOP_NONCE_LEN];
	struct cn_probe_body req;
	uint64_t deadline_ms;
};

struct engine_probe {
	struct probe_sp sps[PROBE_MAX_SPS];
	size_t n_sps;
	struct probe_seen_rec seen[PROBE_SEEN];
	size_t seen_next;
	struct probe_wait wait[PROBE_MAX_WAIT];
};

static struct engine_probe *state(struct engine *e)
{
	if (!e->probe)
		e->probe = calloc(1, sizeof(*e->probe));
	return e->probe;
}

static struct probe_sp *sp_find(struct engine_probe *p, const struct cn_coop_addr *sp,
				bool create)
{
	for (size_t i = 0; i < p->n_sps; i++)
		if (cn_coop_addr_equal(&p->sps[i].sp, sp, true))
			return &p->sps[i];
	if (!create || p->n_sps == PROBE_MAX_SPS)
		return NULL;
	memset(&p->sps[p->n_sps], 0, sizeof(p->sps[0]));
	p->sps[p->n_sps].sp = *sp;
	return &p->sps[p->n_sps++];
}

/* Seal m with key in direction dir and send it to `to`. */
static void send_sealed(struct engine *e, struct cn_coop_msg *m, const uint8_t *key,
			enum cn_proof_dir dir, const struct cn_coop_addr *to)
{
	uint8_t buf[CN_COOP_MAX_LEN];
	struct cn_coop_diag diag = { 0 };
	size_t len;

	memset(m->proof, 1, sizeof(m->proof)); /* non-zero for the encoder; sealed below */
	if (cn_coop_encode(m, buf, sizeof(buf), &len, &diag) != CN_COOP_OK ||
	    cn_auth_seal_proof(buf, len, key, dir) < 0) {
		log_warnx("path probe: cannot encode (%s)", diag.field ? diag.field : "?");
		return;
	}
	engine_op_send(e, to, buf, len);
}

/* --- supervisor -------------------------------------------------------------------------- */

static void try_send(struct engine *e, struct probe_sp *p)
{
	struct imsg_probe seg = { .family = p->sp.family == CN_FAM_INET ? AF_INET : AF_INET6,
				  .dport = p->sp.port, .sport = p->sport, .urgptr = p->urgptr,
				  .seq = p->seq };
	struct cn_probe_body b = { .answer = CN_PROBE_ASK, .dport = p->sp.port, .sport = p->sport,
				   .seq = p->seq };
	struct cn_coop_msg m;

	memcpy(seg.dst, p->sp.addr, sizeof(seg.dst));
	if (imsg_send_bin(e->parent_fd, IMSG_PROBE_SEND, &seg, 1, sizeof(seg)) < 0)
		log_warnx("path probe: cannot reach the parent");
	cn_coop_init(&m, CN_COOP_PROBE, CN_CTL_REQ);
	m.id = p->id;
	m.timestamp_ms = engine_wall_ms();
	memcpy(m.nonce_ss, p->nonce, sizeof(m.nonce_ss));
	memcpy(m.service, p->service, sizeof(m.service));
	if (cn_probe_to_msg(&m, &b, NULL) == CN_PROBE_OK)
		send_sealed(e, &m, p->key, CN_DIR_SS_TO_SP, &p->sp);
	p->tries++;
	p->next_ms = engine_now_ms() + PROBE_RTO_MS;
}

static void answer_ctl(struct engine *e, const struct probe_sp *p);

static void finish(struct engine *e, struct probe_sp *p, enum cn_probe_outcome o, uint16_t seen)
{
	static const int counter[] = {
		[CN_PROBE_PRESERVED] = CNT_PROBE_PRESERVED, [CN_PROBE_CLEARED] = CNT_PROBE_CLEARED,
		[CN_PROBE_ALTERED] = CNT_PROBE_ALTERED, [CN_PROBE_LOST] = CNT_PROBE_LOST,
		[CN_PROBE_NO_ANSWER] = CNT_PROBE_NO_ANSWER,
	};
	char sp[CN_COOP_ADDRSTRLEN];

	p->running = false;
	p->outcome = o;
	p->sent = p->urgptr;
	p->seen = o == CN_PROBE_CLEARED || o == CN_PROBE_ALTERED || o == CN_PROBE_PRESERVED ?
		  seen : 0;
	p->ended_ms = engine_wall_ms();
	sodium_memzero(p->key, sizeof(p->key));
	e->counters[counter[o]]++;
	cn_coop_addr_format(&p->sp, sp, sizeof(sp));
	if (o == CN_PROBE_PRESERVED)
		log_info("path probe to SP %s: urgent pointer preserved (0x%04x sent, 0x%04x "
			 "seen): %s", sp, p->sent, p->seen, cn_probe_advice(o));
	else if (o == CN_PROBE_CLEARED || o == CN_PROBE_ALTERED)
		log_warnx("path probe to SP %s: urgent pointer %s (0x%04x sent, 0x%04x seen): %s",
			  sp, cn_probe_outcome_name(o), p->sent, p->seen, cn_probe_advice(o));
	else
		log_warnx("path probe to SP %s: %s after %u tries: %s", sp,
			  cn_probe_outcome_name(o), p->tries, cn_probe_advice(o));
	answer_ctl(e, p);
}

/* Start a probe of the SP of session s (a supervisor's); NULL when it cannot. */
static struct probe_sp *start(struct engine *e, const struct db_session *s, const char *trigger,
			      uint64_t delay_ms)
{
	struct engine_probe *st = state(e);
	struct cn_coop_addr sp;
	struct probe_sp *p;

	if (!st || s->role != DB_ROLE_SUPERVISOR || !s->has_key ||
	    cn_coop_addr_parse_port(&sp, s->peer) < 0 || !(p = sp_find(st, &sp, true)))
		return NULL;
	if (p->running)
		return p; /* one at a time: the running one answers */
	p->running = true;
	p->not_seen = false;
	p->tries = 0;
	p->trigger = trigger;
	p->runs++;
	p->id = s->s.id;
	memcpy(p->service, s->service_name, sizeof(p->service) - 1);
	p->service[sizeof(p->service) - 1] = 0;
	memcpy(p->key, s->session_key, sizeof(p->key));
	cn_auth_nonce(p->nonce);
	p->urgptr = (uint16_t)(1 + randombytes_uniform(65535)); /* never 0: "cleared" must differ */
	p->sport = (uint16_t)(32768 + randombytes_uniform(28232));
	p->seq = 1 + randombytes_uniform(UINT32_MAX);
	p->started_ms = engine_wall_ms();
	p->next_ms = engine_now_ms() + delay_ms;
	return p;
}

void engine_probe_session(struct engine *e, const struct db_session *s)
{
	struct cn_coop_addr sp;

	if (s->role != DB_ROLE_SUPERVISOR || cn_coop_addr_parse_port(&sp, s->peer) < 0 || !state(e) ||
	    sp_find(e->probe, &sp, false))
		return; /* not the first session with this SP */
	start(e, s, "first authentication", PROBE_FIRST_MS);
}

void engine_probe_drops(struct engine *e, const struct db_session *s)
{
	struct cn_coop_addr sp;
	struct probe_sp *p;
	uint64_t again;

	if (s->role != DB_ROLE_SUPERVISOR || cn_coop_addr_parse_port(&sp, s->peer) < 0 || !state(e))
		return;
	p = sp_find(e->probe, &sp, false);
	again = e->cfg->probe_again_ms ? e->cfg->probe_again_ms : PROBE_AGAIN_MS;
	if (p && (p->running || engine_wall_ms() < p->ended_ms + again))
		return;
	start(e, s, "drops", 0);
}

/* Why a Probe-REP answers no probe of ours, or NULL when it does. */
static const char *rep_refusal(const struct engine *e, const struct probe_sp *p,
			       const struct auth_dgram *d, const struct cn_probe_body *b)
{
	if (!p || !p->running)
		return "no probe of that SP running";
	if (cn_probe_from_msg(d->m, (struct cn_probe_body *)b, NULL) != CN_PROBE_OK)
		return "bad payload";
	if (d->m->id != p->id || !cn_auth_equal(d->m->nonce_ss, p->nonce, sizeof(p->nonce)))
		return "another probe's ID or nonce";
	if (!cn_auth_check_proof(d->raw, d->len, p->key, CN_DIR_SP_TO_SS))
		return "bad proof";
	if (!cn_auth_time_ok(d->m->timestamp_ms, engine_wall_ms(), e->timing.window_ms))
		return "stale";
	if (b->seq != p->seq || b->sport != p->sport || b->dport != p->sp.port)
		return "another segment";
	return NULL;
}

static void on_rep(struct engine *e, const struct cn_coop_addr *from, const struct auth_dgram *d)
{
	struct engine_probe *st = e->probe;
	struct probe_sp *p = st ? sp_find(st, from, false) : NULL;
	struct cn_probe_body b;
	const char *why = rep_refusal(e, p, d, &b);

	if (why) {
		e->counters[CNT_PROBE_REFUSED]++;
		log_debug("path probe: a Probe-REP dropped: %s", why);
		return;
	}
	if (b.answer == CN_PROBE_NOT_SEEN) {
		p->not_seen = true; /* the next try resends the segment; after the last: lost */
		return;
	}
	finish(e, p, cn_probe_judge(p->urgptr, &b), b.urgptr);
}

/* --- provider ---------------------------------------------------------------------------- */

struct key_find {
	const struct auth_dgram *d;
	uint8_t key[CN_KEY_LEN];
	bool found;
};

static int key_cb(const struct db_session *s, void *arg)
{
	struct key_find *k = arg;

	if (!s->has_key || strncmp(s->service_name, k->d->m->service, CN_COOP_SERVICE_LEN) ||
	    !cn_auth_check_proof(k->d->raw, k->d->len, s->session_key, CN_DIR_SS_TO_SP))
		return 0;
	memcpy(k->key, s->session_key, sizeof(k->key));
	k->found = true;
	return 1;
}

static void answer(struct engine *e, const struct probe_wait *w, const struct probe_seen_rec *r)
{
	struct cn_probe_body b = w->req;
	struct cn_coop_msg m;

	b.answer = r ? CN_PROBE_SEEN : CN_PROBE_NOT_SEEN;
	b.urgptr = r ? r->urgptr : 0;
	cn_coop_init(&m, CN_COOP_PROBE, CN_CTL_REP);
	m.id = w->id;
	m.timestamp_ms = engine_wall_ms();
	memcpy(m.nonce_ss, w->nonce, sizeof(m.nonce_ss));
	memcpy(m.service, w->service, sizeof(m.service));
	if (cn_probe_to_msg(&m, &b, NULL) != CN_PROBE_OK)
		return;
	send_sealed(e, &m, w->key, CN_DIR_SP_TO_SS, &w->from);
	e->counters[CNT_PROBE_ANSWERED]++;
}

static const struct probe_seen_rec *seen_find(const struct engine_probe *st,
					      const struct cn_probe_body *q)
{
	for (size_t i = 0; i < PROBE_SEEN; i++) {
		const struct probe_seen_rec *r = &st->seen[i];

		if (r->at_ms && r->seq == q->seq && r->sport == q->sport && r->dport == q->dport)
			return r;
	}
	return NULL;
}

static void on_req(struct engine *e, const struct cn_coop_addr *from, const struct auth_dgram *d)
{
	struct engine_probe *st = state(e);
	struct key_find k = { .d = d };
	struct probe_wait w = { .used = true, .from = *from };
	const struct probe_seen_rec *r;

	const char *why = !st || !(e->cfg->roles & POLICY_ROLE_PROVIDER) ? "not a provider" :
		cn_probe_from_msg(d->m, &w.req, NULL) != CN_PROBE_OK ? "bad payload" :
		!cn_auth_time_ok(d->m->timestamp_ms, engine_wall_ms(), e->timing.window_ms) ?
		"stale" : db_session_foreach_id(e->db, DB_ROLE_PROVIDER, d->m->id, key_cb, &k) < 0 ?
		"database" : !k.found ? "no session of that ID and service whose key makes its proof" :
		NULL;

	if (why) {
		e->counters[CNT_PROBE_REFUSED]++;
		log_debug("path probe: a Probe-REQ dropped: %s", why);
		sodium_memzero(&k, sizeof(k));
		return;
	}
	w.id = d->m->id;
	memcpy(w.service, d->m->service, sizeof(w.service));
	memcpy(w.key, k.key, sizeof(w.key));
	memcpy(w.nonce, d->m->nonce_ss, sizeof(w.nonce));
	sodium_memzero(&k, sizeof(k));
	if ((r = seen_find(st, &w.req))) {
		answer(e, &w, r);
	} else {
		size_t i;

		for (i = 0; i < PROBE_MAX_WAIT; i++) /* a retransmitted REQ: wait once */
			if (st->wait[i].used && !memcmp(st->wait[i].nonce, w.nonce, sizeof(w.nonce)))
				break;
		for (size_t j = 0; i == PROBE_MAX_WAIT && j < PROBE_MAX_WAIT; j++)
			if (!st->wait[j].used) {
				w.deadline_ms = engine_now_ms() + PROBE_WAIT_MS;
				st->wait[j] = w;
				break;
			}
	}
	sodium_memzero(&w, sizeof(w));
}

void engine_probe_seen(struct engine *e, const json_t *msg)
{
	struct engine_probe *st = state(e);
	const char *hexs = json_string_value(json_object_get(msg, "bytes"));
	json_int_t fam = json_integer_value(json_object_get(msg, "family"));
	uint8_t buf[CN_PROBE_RAW_MAX];
	struct cn_probe_seen s;
	struct probe_seen_rec *r;
	size_t n;
	enum cn_probe_seg_err err;

	if (!st || !hexs || (fam != 4 && fam != 6) || (n = strlen(hexs)) % 2 ||
	    n / 2 > sizeof(buf)) {
		if (st)
			e->counters[CNT_PROBE_REFUSED]++;
		return;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = cn_hex_value(hexs[2 * i]), lo = cn_hex_value(hexs[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			e->counters[CNT_PROBE_REFUSED]++;
			return;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	err = cn_probe_seg_parse(&s, fam == 4 ? AF_INET : AF_INET6, buf, n / 2);
	if (err != CN_SEG_OK) {
		e->counters[CNT_PROBE_REFUSED]++;
		log_debug("path probe: a segment from the raw socket refused: %s",
			  cn_probe_seg_err_name(err));
		return;
	}
	r = &st->seen[st->seen_next++ % PROBE_SEEN];
	*r = (struct probe_seen_rec){ .sport = s.sport, .dport = s.dport, .urgptr = s.urgptr,
				      .seq = s.seq, .at_ms = engine_now_ms() };
	for (size_t i = 0; i < PROBE_MAX_WAIT; i++) {
		struct probe_wait *w = &st->wait[i];

		if (w->used && w->req.seq == r->seq && w->req.sport == r->sport &&
		    w->req.dport == r->dport) {
			answer(e, w, r);
			sodium_memzero(w, sizeof(*w));
		}
	}
}

/* --- timers, status, the command ------------------------------------------------------------ */

static void probe_tick(struct engine *e)
{
	struct engine_probe *st = e->probe;
	uint64_t now = engine_now_ms();

	if (!st)
		return;
	for (size_t i = 0; i < st->n_sps; i++) {
		struct probe_sp *p = &st->sps[i];

		if (!p->running || now < p->next_ms)
			continue;
		if (p->tries >= PROBE_TRIES)
			finish(e, p, p->not_seen ? CN_PROBE_LOST : CN_PROBE_NO_ANSWER, 0);
		else
			try_send(e, p);
	}
	for (size_t i = 0; i < PROBE_MAX_WAIT; i++) {
		struct probe_wait *w = &st->wait[i];

		if (w->used && now >= w->deadline_ms) {
			answer(e, w, NULL);
			sodium_memzero(w, sizeof(*w));
		}
	}
}

static uint64_t probe_deadline(const struct engine *e)
{
	const struct engine_probe *st = e->probe;
	uint64_t d = UINT64_MAX;

	for (size_t i = 0; st && i < st->n_sps; i++)
		if (st->sps[i].running && st->sps[i].next_ms < d)
			d = st->sps[i].next_ms;
	for (size_t i = 0; st && i < PROBE_MAX_WAIT; i++)
		if (st->wait[i].used && st->wait[i].deadline_ms < d)
			d = st->wait[i].deadline_ms;
	return d;
}

static void probe_free(struct engine *e)
{
	if (e->probe)
		sodium_memzero(e->probe, sizeof(*e->probe));
	free(e->probe);
	e->probe = NULL;
}

static json_t *sp_json(const struct probe_sp *p)
{
	char sp[CN_COOP_ADDRSTRLEN];
	enum cn_probe_outcome o = p->running ? CN_PROBE_PENDING : p->outcome;

	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:s}",
			 "sp", cn_coop_addr_format(&p->sp, sp, sizeof(sp)),
			 "outcome", cn_probe_outcome_name(o),
			 "last", cn_probe_outcome_name(p->outcome), "sent", p->sent, "seen", p->seen,
			 "started_ms", (json_int_t)p->started_ms, "ended_ms", (json_int_t)p->ended_ms,
			 "runs", (json_int_t)p->runs, "trigger", p->trigger ? p->trigger : "");
}

json_t *engine_probe_status(const struct engine *e)
{
	json_t *a = json_array();

	for (size_t i = 0; a && e->probe && i < e->probe->n_sps; i++)
		json_array_append_new(a, sp_json(&e->probe->sps[i]));
	return a;
}

static void answer_ctl(struct engine *e, const struct probe_sp *p)
{
	size_t slot = (size_t)(p - e->probe->sps);

	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct engine_ctl_conn *c = &e->ctl_conns[i];
		json_t *o;

		if (!c->probe_pending || c->probe_slot != slot)
			continue;
		c->probe_pending = false;
		o = sp_json(p);
		if (o) {
			json_object_set_new(o, "ok", json_true());
			json_object_set_new(o, "advice", json_string(cn_probe_advice(p->outcome)));
		}
		ctl_server_answer(&e->ctl, i, o);
	}
}

struct sp_session {
	struct cn_coop_addr want;
	bool with_port, found;
	struct db_session s;
};

static int sp_session_cb(const struct db_session *s, void *arg)
{
	struct sp_session *q = arg;
	struct cn_coop_addr a;

	if (!s->has_key || cn_coop_addr_parse_port(&a, s->peer) < 0 ||
	    !cn_coop_addr_equal(&a, &q->want, q->with_port))
		return 0;
	q->s = *s;
	q->found = true;
	return 1;
}

json_t *engine_ctl_probe(struct engine *e, size_t conn, const json_t *req)
{
	const char *text = json_string_value(json_object_get(req, "sp"));
	struct sp_session q = { .found = false };
	struct probe_sp *p;

	if (!e->ss)
		return ctl_reply_error("this host is not a supervisor: probes start on an SS");
	if (!text)
		return ctl_reply_error("probe needs \"sp\": the SP's address");
	if (cn_coop_addr_parse(&q.want, text) < 0 && cn_coop_addr_parse_port(&q.want, text) < 0)
		return ctl_reply_error("\"%s\" is not an address (198.18.2.3, 2001:db8::3 or "
				       "[2001:db8::3]:7447)", text);
	q.with_port = q.want.port != 0;
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, sp_session_cb, &q) < 0)
		return ctl_reply_error("database: %s", db_error(e->db));
	if (!q.found)
		return ctl_reply_error("no session with SP %s: the probe is sealed with a session's "
				       "key; authenticate a client of that SP first", text);
	p = start(e, &q.s, "command", 0);
	sodium_memzero(&q, sizeof(q));
	if (!p)
		return ctl_reply_error("too many SPs probed (%d)", PROBE_MAX_SPS);
	e->ctl_conns[conn].probe_pending = true;
	e->ctl_conns[conn].probe_slot = (size_t)(p - e->probe->sps);
	ctl_server_defer(&e->ctl, conn);
	return NULL; /* answered by answer_ctl when the probe ends */
}

/* The path probe: cooperative flag probe (docs/probe.md). */
const struct coop_app coop_app_probe = {
	.name = "probe",
	.coop = CN_COOP_PROBE,
	.on = {
		[CN_KIND_PROBE_REQ] = on_req,
		[CN_KIND_PROBE_REP] = on_rep,
	},
	.free = probe_free,
	.tick = probe_tick,
	.deadline = probe_deadline,
};
