/* SPDX-License-Identifier: MIT */
/* The status state machine (status.h, docs/protocol.md "State machine"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dheap.h"
#include "grow.h"
#include "status_fsm.h"

#define BUCKETS 65536u    /* one chain per ID: only sessions of one ID (other services or
                             peers) share a chain */
#define CHUNK_SLOTS 1024u /* slots are allocated in chunks of this many, on demand */
#define MAX_CANDIDATES 8  /* sessions with one (ID, service) whose key is tried */
#define NIL UINT32_MAX

struct sess {
	bool used;
	bool reachable;
	bool change_pending;     /* its next report carries the change flag (status_changed) */
	bool first_pending;      /* its first report (a REQ) waits for its turn (pace_extra) */
	uint32_t next;           /* bucket chain; of a free slot: the free list */
	struct status_session s;
	uint8_t epoch[CN_COOP_NONCE_LEN];
	uint64_t seq;            /* last sent */
	uint64_t next_send_ms;
	uint64_t last_rx_ms;     /* monotonic: last valid report, or when added */
	uint32_t peer_interval_ms;
	uint64_t rx_tat_us;      /* within_rx_budget: when its next stored report conforms */
	struct cn_status_rx rx;
};

struct status_fsm {
	struct status_ops ops;
	struct status_timing t;
	enum status_role role;
	struct sess **chunk;     /* chunk[k]: slots k * CHUNK_SLOTS ...; see slot() */
	size_t n_chunks, chunk_cap;
	size_t cap, limit, count; /* slots allocated (grow_slots, never shrunk), at most, used */
	uint32_t head[BUCKETS];
	uint32_t free_head;      /* free slots, chained through next: O(1) add */
	struct dheap timers;     /* every used slot, keyed by sess_deadline(): a tick handles
	                            only the due sessions, O(log n) each */
	uint64_t counters[STATUS_EV_KIND_MAX + 1];
	uint64_t extra_tat_us;   /* pace_extra: when the next extra report may go, in us */
};

static const char *const event_names[] = {
	[STATUS_EV_SENT] = "sent",
	[STATUS_EV_CHANGE_SENT] = "change-sent",
	[STATUS_EV_PROBE_SENT] = "probe-sent",
	[STATUS_EV_ANSWERED] = "answered",
	[STATUS_EV_RECEIVED] = "received",
	[STATUS_EV_DECODE_ERROR] = "decode-error",
	[STATUS_EV_BAD_PAYLOAD] = "bad-payload",
	[STATUS_EV_NO_SESSION] = "no-session",
	[STATUS_EV_BAD_PROOF] = "bad-proof",
	[STATUS_EV_STALE] = "stale",
	[STATUS_EV_REPLAY] = "replay",
	[STATUS_EV_TOO_OLD] = "too-old",
	[STATUS_EV_OLD_EPOCH] = "old-epoch",
	[STATUS_EV_PEER_RESTART] = "peer-restart",
	[STATUS_EV_UNREACHABLE] = "unreachable",
	[STATUS_EV_REACHABLE] = "reachable",
	[STATUS_EV_SEND_FAILED] = "send-failed",
	[STATUS_EV_OVER_BUDGET] = "over-budget",
};

const char *status_event_name(enum status_event_kind k)
{
	return (unsigned)k <= STATUS_EV_KIND_MAX ? event_names[k] : "unknown";
}

void status_timing_defaults(struct status_timing *t)
{
	if (t->interval_ms == 0)
		t->interval_ms = 1000; /* failover of a group service < 3 s (docs/groups.md) */
	if (t->interval_ms < CN_STATUS_INTERVAL_MIN_MS)
		t->interval_ms = CN_STATUS_INTERVAL_MIN_MS;
	if (t->interval_ms > CN_STATUS_INTERVAL_MAX_MS)
		t->interval_ms = CN_STATUS_INTERVAL_MAX_MS;
	if (t->miss_limit == 0)
		t->miss_limit = 2;
	if (t->window_ms == 0)
		t->window_ms = 30000;
	if (t->max_reports_per_s == 0)
		t->max_reports_per_s = 20000;
}

static void event(struct status_fsm *f, enum status_event_kind k,
    const struct cn_coop_addr *peer, const char *detail)
{
	f->counters[k]++;
	if (f->ops.event)
		f->ops.event(f->ops.ctx, k, peer, detail);
}

/* Slot i (< f->cap). Slots never move: a chunk stays where it was allocated until
 * status_free, so a struct sess pointer stays valid while callbacks add sessions. */
static inline struct sess *slot(const struct status_fsm *f, uint32_t i)
{
	return &f->chunk[i / CHUNK_SLOTS][i % CHUNK_SLOTS];
}

/* Slots from..cap-1 (unused, zeroed) become the free list, in order. */
static void chain_free(struct status_fsm *f, size_t from)
{
	for (size_t i = from; i < f->cap; i++)
		slot(f, (uint32_t)i)->next = i + 1 < f->cap ? (uint32_t)(i + 1) : NIL;
	f->free_head = from < f->cap ? (uint32_t)from : NIL;
}

/* No free slot: one more chunk of slots (and room in the timer heap), up to the limit. 0, or
 * -1 with errno ENOSPC (at the limit) or ENOMEM (nothing changed but a larger heap or chunk
 * table, both harmless). */
static int grow_slots(struct status_fsm *f)
{
	size_t old = f->cap, want = old + CHUNK_SLOTS < f->limit ? old + CHUNK_SLOTS : f->limit;
	struct sess **table, *c;

	if (old >= f->limit) {
		errno = ENOSPC;
		return -1;
	}
	if (dheap_grow(&f->timers, want) < 0)
		return -1;
	if (!(table = grow(f->chunk, f->n_chunks, &f->chunk_cap, sizeof(*f->chunk), 16)))
		return -1;
	f->chunk = table;
	if (!(c = calloc(CHUNK_SLOTS, sizeof(*c)))) {
		errno = ENOMEM;
		return -1;
	}
	f->chunk[f->n_chunks++] = c;
	f->cap = want;
	chain_free(f, old);
	return 0;
}

struct status_fsm *status_new(const struct status_ops *ops, const struct status_timing *t,
    enum status_role role, size_t max_sessions)
{
	struct status_fsm *f;

	if (!ops || !ops->now_ms || !ops->wall_ms || !ops->send || !ops->fill || !ops->store ||
	    (role != STATUS_SS && role != STATUS_SP) || max_sessions == 0 ||
	    max_sessions >= NIL)
		return NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->limit = max_sessions;
	if (dheap_init(&f->timers, max_sessions < CHUNK_SLOTS ? max_sessions : CHUNK_SLOTS) < 0 ||
	    grow_slots(f) < 0) {
		status_free(f);
		return NULL;
	}
	f->ops = *ops;
	if (t)
		f->t = *t;
	status_timing_defaults(&f->t);
	f->role = role;
	for (size_t i = 0; i < BUCKETS; i++)
		f->head[i] = NIL;
	return f;
}

void status_free(struct status_fsm *f)
{
	if (!f)
		return;
	for (size_t k = 0; k < f->n_chunks; k++) {
		explicit_bzero(f->chunk[k], CHUNK_SLOTS * sizeof(*f->chunk[k])); /* the keys */
		free(f->chunk[k]);
	}
	free(f->chunk);
	dheap_fini(&f->timers);
	free(f);
}

/* ------------------------------------------------------------------ lookup */

static bool same(const struct sess *x, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer)
{
	return x->s.id == id && !strncmp(x->s.service, service, sizeof(x->s.service)) &&
	       (!peer || cn_coop_addr_equal(&x->s.peer, peer, true));
}

static uint32_t find(const struct status_fsm *f, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer)
{
	for (uint32_t i = f->head[id % BUCKETS]; i != NIL; i = slot(f, i)->next)
		if (same(slot(f, i), id, service, peer))
			return i;
	return NIL;
}

const struct status_session *status_find_id(const struct status_fsm *f, cn_id_t id)
{
	for (uint32_t i = f->head[id % BUCKETS]; i != NIL; i = slot(f, i)->next)
		if (slot(f, i)->s.id == id)
			return &slot(f, i)->s;
	return NULL;
}

/* ------------------------------------------------------------------ sending */

static uint8_t own_kind(const struct status_fsm *f)
{
	return f->role == STATUS_SS ? CN_SENDER_CLIENT : CN_SENDER_VNIC;
}

static enum cn_proof_dir own_dir(const struct status_fsm *f)
{
	return f->role == STATUS_SS ? CN_DIR_SS_TO_SP : CN_DIR_SP_TO_SS;
}

/* The interval between one session's periodic reports: the configured one, or longer when the
 * live sessions would make more than max_reports_per_s periodic reports a second together
 * (count / rate). Each report carries the interval it was sent with and the next report of
 * that session follows it by the same interval, so the peer's unreachable mark (miss_limit of
 * the intervals its last report said) stretches with it. */
static uint32_t report_interval(const struct status_fsm *f)
{
	uint64_t paced = ((uint64_t)f->count * 1000 + f->t.max_reports_per_s - 1) /
			 f->t.max_reports_per_s;

	if (paced <= f->t.interval_ms)
		return f->t.interval_ms;
	return paced > CN_STATUS_INTERVAL_MAX_MS ? CN_STATUS_INTERVAL_MAX_MS : (uint32_t)paced;
}

/* Build, seal and send one report of x. ctl: CN_CTL_REQ or CN_CTL_REP. */
static int send_report(struct status_fsm *f, struct sess *x, uint8_t ctl, uint8_t flags,
    enum status_event_kind why)
{
	uint32_t iv = report_interval(f);
	struct cn_status_body b = { .kind = own_kind(f), .flags = flags, .interval_ms = iv,
				    .seq = x->seq + 1 };
	struct cn_coop_msg m;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;

	f->ops.fill(f->ops.ctx, &x->s, &b);
	b.kind = own_kind(f); /* fill() only gives the figures */
	b.flags = flags;
	b.interval_ms = iv;
	b.seq = x->seq + 1;
	cn_coop_init(&m, CN_COOP_STATUS, ctl);
	m.id = x->s.id;
	m.timestamp_ms = f->ops.wall_ms(f->ops.ctx);
	memcpy(m.nonce_ss, x->epoch, sizeof(m.nonce_ss));
	m.sender = x->s.sender;
	m.sender.lifetime_s = 0;
	memcpy(m.service, x->s.service, sizeof(m.service));
	memset(m.proof, 0xff, sizeof(m.proof)); /* sealed below */
	if (cn_status_to_msg(&m, &b, NULL) != CN_STATUS_OK ||
	    cn_coop_encode(&m, buf, sizeof(buf), &len, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(buf, len, x->s.key, own_dir(f)) < 0) {
		event(f, STATUS_EV_SEND_FAILED, &x->s.peer, "encode");
		return -1;
	}
	x->seq++;
	if (f->ops.send(f->ops.ctx, &x->s.peer, buf, len) < 0) {
		event(f, STATUS_EV_SEND_FAILED, &x->s.peer, "send");
		return -1;
	}
	event(f, why, &x->s.peer, NULL);
	return 0;
}

static uint64_t sess_deadline(const struct status_fsm *f, const struct sess *x)
{
	uint64_t d = x->next_send_ms;

	if (x->reachable) {
		uint64_t r = x->last_rx_ms + (uint64_t)f->t.miss_limit * x->peer_interval_ms;
		if (r < d)
			d = r;
	}
	return d;
}

/* Slot i's deadline changed (or it is new): its place in the timer heap. */
static void schedule(struct status_fsm *f, uint32_t i)
{
	dheap_set(&f->timers, i, sess_deadline(f, slot(f, i)));
}

/* The generic cell rate algorithm on a virtual clock (*tat_us, the theoretical arrival time of
 * the next cell): burst cells at once, then one every step_us. gcra_at: when the next cell
 * conforms (now_us if it does now); gcra_take: count one. */
static uint64_t gcra_at(const uint64_t *tat_us, uint64_t now_us, uint64_t step_us, uint32_t burst)
{
	uint64_t tau = (uint64_t)(burst - 1) * step_us;
	uint64_t tat = *tat_us < now_us ? now_us : *tat_us;

	return tat > now_us + tau ? tat - tau : now_us;
}

static void gcra_take(uint64_t *tat_us, uint64_t now_us, uint64_t step_us)
{
	if (*tat_us < now_us)
		*tat_us = now_us;
	*tat_us += step_us;
}

/* Reports outside the periodic schedule (a session's first report, change reports) share one
 * pace: a tenth of a second's worth of max_reports_per_s at once, then one every
 * 1 / max_reports_per_s, across calls (gcra_*, extra_tat_us). So a restart with 60,000
 * sessions, or a health change of a vNIC holding them, does not send them in one burst that
 * the peer's receive buffer drops. Returns when the report may go (ms): now, or the time to
 * schedule it at. */
static uint64_t pace_extra(struct status_fsm *f, uint64_t now)
{
	uint32_t rate = f->t.max_reports_per_s, burst = rate / 10 ? rate / 10 : 1;
	uint64_t step = 1000000 / rate ? 1000000 / rate : 1;
	uint64_t at_us = gcra_at(&f->extra_tat_us, now * 1000, step, burst);

	gcra_take(&f->extra_tat_us, now * 1000, step);
	return (at_us + 999) / 1000;
}

/* An accepted report within its session's receive budget (x->rx_tat_us)? Then it is counted
 * against it. STATUS_RX_BURST at once, then STATUS_RX_PER_INTERVAL per interval the peer's
 * reports announce (its configured or stretched interval, at least
 * CN_STATUS_INTERVAL_MIN_MS; ours before its first): an honest peer sends one periodic
 * report per interval, a change now and then, and a REQ at the start or while we seem
 * unreachable to it. */
static bool within_rx_budget(struct status_fsm *f, struct sess *x, uint64_t now)
{
	uint32_t interval = x->peer_interval_ms ? x->peer_interval_ms : f->t.interval_ms;
	uint64_t now_us = now * 1000, step = (uint64_t)interval * 1000 / STATUS_RX_PER_INTERVAL;

	if (gcra_at(&x->rx_tat_us, now_us, step, STATUS_RX_BURST) > now_us)
		return false;
	gcra_take(&x->rx_tat_us, now_us, step);
	return true;
}

/* ------------------------------------------------------------------ sessions */

int status_add(struct status_fsm *f, const struct status_session *s)
{
	uint64_t now = f->ops.now_ms(f->ops.ctx);
	struct sess *x = NULL;
	uint32_t i;

	if (s->id == 0 || !cn_coop_service_valid(s->service)) {
		errno = EINVAL;
		return -1;
	}
	if (find(f, s->id, s->service, &s->peer) != NIL) {
		errno = EEXIST;
		return -1;
	}
	if (f->free_head == NIL && grow_slots(f) < 0)
		return -1;
	i = f->free_head;
	x = slot(f, i);
	f->free_head = x->next;
	memset(x, 0, sizeof(*x));
	x->used = true;
	x->reachable = true; /* until miss_limit intervals pass without a report */
	x->s = *s;
	x->s.sender.kind = own_kind(f);
	cn_auth_nonce(x->epoch);
	x->peer_interval_ms = f->t.interval_ms;
	x->next = f->head[s->id % BUCKETS];
	f->head[s->id % BUCKETS] = i;
	f->count++;
	x->next_send_ms = pace_extra(f, now);
	/* the peer has miss_limit of its intervals to answer from when it is asked */
	x->last_rx_ms = x->next_send_ms;
	if (x->next_send_ms <= now) {
		x->next_send_ms = now + report_interval(f);
		send_report(f, x, CN_CTL_REQ, 0, STATUS_EV_PROBE_SENT);
	} else {
		x->first_pending = true;
	}
	schedule(f, i);
	return 0;
}

/* The chain link that points at slot i (which is in its ID's chain). */
static uint32_t *link_to(struct status_fsm *f, uint32_t i)
{
	uint32_t *link = &f->head[slot(f, i)->s.id % BUCKETS];

	while (*link != i)
		link = &slot(f, *link)->next;
	return link;
}

int status_renew(struct status_fsm *f, cn_id_t old_id, const struct status_session *s)
{
	uint32_t i;
	struct sess *x;

	if (s->id == 0 || !cn_coop_service_valid(s->service)) {
		errno = EINVAL;
		return -1;
	}
	i = find(f, old_id, s->service, &s->peer);
	if (i == NIL || !slot(f, i)->reachable) {
		errno = ENOENT;
		return -1;
	}
	if (s->id != old_id && find(f, s->id, s->service, &s->peer) != NIL) {
		errno = EEXIST;
		return -1;
	}
	x = slot(f, i);
	*link_to(f, i) = x->next;
	/* the schedule (timer, next_send_ms, last_rx_ms, reachable, pending flags) stays */
	explicit_bzero(&x->s, sizeof(x->s));
	x->s = *s;
	x->s.sender.kind = own_kind(f);
	cn_auth_nonce(x->epoch);
	x->seq = 0;
	x->rx_tat_us = 0;
	memset(&x->rx, 0, sizeof(x->rx));
	x->next = f->head[s->id % BUCKETS];
	f->head[s->id % BUCKETS] = i;
	return 0;
}

int status_remove(struct status_fsm *f, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer)
{
	uint32_t i = find(f, id, service, peer);
	struct sess *x;

	if (i == NIL) {
		errno = ENOENT;
		return -1;
	}
	x = slot(f, i);
	*link_to(f, i) = x->next;
	dheap_remove(&f->timers, i);
	explicit_bzero(x, sizeof(*x));
	x->next = f->free_head;
	f->free_head = i;
	f->count--;
	return 0;
}

size_t status_changed(struct status_fsm *f, const char *service)
{
	uint64_t now = f->ops.now_ms(f->ops.ctx);
	size_t n = 0;

	for (size_t i = 0; i < f->cap; i++) {
		struct sess *x = slot(f, (uint32_t)i);
		uint64_t at;

		if (!x->used || (service && strncmp(x->s.service, service, sizeof(x->s.service))))
			continue;
		if (x->first_pending)
			continue; /* its first report, still to go, carries the figures of then */
		at = pace_extra(f, now);
		if (at <= now) {
			if (send_report(f, x, x->reachable ? CN_CTL_REP : CN_CTL_REQ,
					CN_STATUS_F_CHANGE, STATUS_EV_CHANGE_SENT) == 0)
				n++;
			x->next_send_ms = now + report_interval(f);
		} else {
			/* at its turn, or with its periodic report if that comes first (which
			 * then carries the change) */
			x->change_pending = true;
			if (at < x->next_send_ms)
				x->next_send_ms = at;
		}
		schedule(f, (uint32_t)i);
	}
	return n;
}

/* ------------------------------------------------------------------ timers */

/* Slot i is due. */
static void tick_one(struct status_fsm *f, uint32_t i, uint64_t now)
{
	struct sess *x = slot(f, i);

	if (x->reachable &&
	    now >= x->last_rx_ms + (uint64_t)f->t.miss_limit * x->peer_interval_ms) {
		x->reachable = false;
		event(f, STATUS_EV_UNREACHABLE, &x->s.peer, x->s.service);
		if (f->ops.reachability)
			f->ops.reachability(f->ops.ctx, &x->s, false);
		if (!x->used) /* removed by the callback */
			return;
	}
	if (now >= x->next_send_ms) {
		uint32_t iv = report_interval(f); /* what the report carries */
		bool change = x->change_pending, first = x->first_pending;

		x->change_pending = x->first_pending = false;
		/* the first report, and while the peer is silent every report, asks the peer to
		 * answer at once */
		send_report(f, x, x->reachable && !first ? CN_CTL_REP : CN_CTL_REQ,
			    change ? CN_STATUS_F_CHANGE : 0,
			    change ? STATUS_EV_CHANGE_SENT :
			    x->reachable && !first ? STATUS_EV_SENT : STATUS_EV_PROBE_SENT);
		x->next_send_ms += iv;
		if (x->next_send_ms <= now) /* the loop was late: no burst to catch up */
			x->next_send_ms = now + iv;
	}
}

/* Only the due sessions, earliest first. tick_one moves a due session's deadline past now
 * (it is marked unreachable, or its report goes out and next_send_ms moves on), so each is
 * handled once; the bound only guards against callbacks that re-add sessions forever. */
void status_tick(struct status_fsm *f)
{
	uint64_t now = f->ops.now_ms(f->ops.ctx);

	for (size_t k = 0; k < f->cap && dheap_top_key(&f->timers) <= now; k++) {
		uint32_t i = dheap_top(&f->timers);

		tick_one(f, i, now);
		if (slot(f, i)->used) /* a callback may have removed it (and its heap node) */
			schedule(f, i);
	}
}

uint64_t status_next_deadline(const struct status_fsm *f)
{
	return dheap_top_key(&f->timers);
}

/* ------------------------------------------------------------------ input */

/* The slot of the session among those with m's ID and service whose key verifies the proof,
 * or NIL. */
static uint32_t authenticate(struct status_fsm *f, const struct cn_coop_msg *m,
    const uint8_t *buf, size_t len, const struct cn_coop_addr *from)
{
	enum cn_proof_dir peer_dir = f->role == STATUS_SS ? CN_DIR_SP_TO_SS : CN_DIR_SS_TO_SP;
	unsigned tried = 0;

	for (uint32_t i = f->head[m->id % BUCKETS]; i != NIL && tried < MAX_CANDIDATES;
	     i = slot(f, i)->next) {
		struct sess *x = slot(f, i);

		if (!same(x, m->id, m->service, NULL))
			continue;
		tried++;
		if (cn_auth_check_proof(buf, len, x->s.key, peer_dir))
			return i;
	}
	event(f, tried ? STATUS_EV_BAD_PROOF : STATUS_EV_NO_SESSION, from, m->service);
	return NIL;
}

static const enum status_event_kind rx_event[] = {
	[CN_RX_REPLAY] = STATUS_EV_REPLAY,
	[CN_RX_TOO_OLD] = STATUS_EV_TOO_OLD,
	[CN_RX_OLD_EPOCH] = STATUS_EV_OLD_EPOCH,
};

/* The checks after the proof: time window, receive window. */
static int fresh(struct status_fsm *f, struct sess *x, const struct cn_coop_msg *m,
    const struct cn_status_body *b, const struct cn_coop_addr *from)
{
	enum cn_status_rx_verdict v;

	if (!cn_auth_time_ok(m->timestamp_ms, f->ops.wall_ms(f->ops.ctx), f->t.window_ms)) {
		event(f, STATUS_EV_STALE, from, m->service);
		return -1;
	}
	v = cn_status_rx_check(&x->rx, m->nonce_ss, b->seq, m->timestamp_ms);
	if (v != CN_RX_ACCEPT && v != CN_RX_NEW_EPOCH) {
		event(f, rx_event[v], from, m->service);
		return -1;
	}
	if (v == CN_RX_NEW_EPOCH && x->rx.init)
		event(f, STATUS_EV_PEER_RESTART, from, m->service);
	cn_status_rx_accept(&x->rx, m->nonce_ss, b->seq, m->timestamp_ms);
	return 0;
}

int status_input(struct status_fsm *f, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len)
{
	struct cn_coop_msg m;

	if (cn_coop_decode(&m, buf, len, NULL) != CN_COOP_OK) {
		event(f, STATUS_EV_DECODE_ERROR, from, NULL);
		return -1;
	}
	return status_input_msg(f, from, &m, buf, len);
}

int status_input_msg(struct status_fsm *f, const struct cn_coop_addr *from,
    const struct cn_coop_msg *mp, const uint8_t *buf, size_t len)
{
	const struct cn_coop_msg m = *mp;
	struct cn_status_body b;
	struct sess *x;
	uint32_t i;
	bool over;

	if (cn_status_from_msg(&m, &b, NULL) != CN_STATUS_OK ||
	    b.kind == own_kind(f)) { /* a report of our own kind: reflected, or the wrong role */
		event(f, STATUS_EV_BAD_PAYLOAD, from, NULL);
		return -1;
	}
	if ((i = authenticate(f, &m, buf, len, from)) == NIL ||
	    fresh(f, x = slot(f, i), &m, &b, from) < 0)
		return -1;
	x->last_rx_ms = f->ops.now_ms(f->ops.ctx);
	x->peer_interval_ms = b.interval_ms;
	event(f, STATUS_EV_RECEIVED, from, m.service);
	over = !within_rx_budget(f, x, x->last_rx_ms);
	if (over)
		event(f, STATUS_EV_OVER_BUDGET, from, m.service);
	else
		f->ops.store(f->ops.ctx, &x->s, &m, &b);
	if (!x->used) /* removed by the callback */
		return 0;
	if (!x->reachable) {
		x->reachable = true;
		event(f, STATUS_EV_REACHABLE, &x->s.peer, x->s.service);
		if (f->ops.reachability)
			f->ops.reachability(f->ops.ctx, &x->s, true);
		if (!x->used)
			return 0;
	}
	if (m.ctl == CN_CTL_REQ && !over)
		send_report(f, x, CN_CTL_REP, 0, STATUS_EV_ANSWERED);
	schedule(f, i);
	return 0;
}

/* ------------------------------------------------------------------ queries */

uint64_t status_counter(const struct status_fsm *f, enum status_event_kind k)
{
	return (unsigned)k <= STATUS_EV_KIND_MAX ? f->counters[k] : 0;
}

size_t status_count(const struct status_fsm *f)
{
	return f->count;
}

int status_reachable(const struct status_fsm *f, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer)
{
	uint32_t i = find(f, id, service, peer);

	return i == NIL ? -1 : slot(f, i)->reachable;
}
