/* SPDX-License-Identifier: MIT */
/* The status state machine (authd/status.c) with an injected clock: an SS and an SP machine
 * joined by an in-memory network, each test a user-visible promise of docs/protocol.md. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "status_fsm.h"

#define QMAX 64

struct dgram {
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
	struct cn_coop_addr to;
};

struct side {
	struct status_fsm *f;
	struct cn_coop_addr self;
	struct dgram q[QMAX];   /* what it sent, not yet delivered */
	size_t nq;
	unsigned stored;
	struct cn_status_body last;
	struct cn_coop_msg last_msg;
	int reach_calls, last_reach;
	uint8_t health;         /* SP: what fill() reports */
};

static uint64_t mono = 1000, wall = 1795000000000ull;
static struct side ss, sp;
static uint8_t key[CN_KEY_LEN];

static uint64_t now_ms(void *ctx) { (void)ctx; return mono; }
static uint64_t wall_ms(void *ctx) { (void)ctx; return wall; }

static int do_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct side *s = ctx;

	assert_true(s->nq < QMAX);
	memcpy(s->q[s->nq].buf, buf, len);
	s->q[s->nq].len = len;
	s->q[s->nq].to = *to;
	s->nq++;
	return 0;
}

static void fill(void *ctx, const struct status_session *sess, struct cn_status_body *b)
{
	struct side *s = ctx;

	(void)sess;
	if (s == &ss) {
		b->u.client.bytes_c2s = 1000;
		b->u.client.last_seen_ms = wall;
	} else {
		b->u.vnic = (struct cn_status_vnic){ .link = CN_LINK_UP, .health = s->health,
			.check = CN_CHECK_TCP, .weight = 100, .sessions = 1 };
	}
}

static void store(void *ctx, const struct status_session *sess, const struct cn_coop_msg *m,
    const struct cn_status_body *b)
{
	struct side *s = ctx;

	(void)sess;
	s->stored++;
	s->last = *b;
	s->last_msg = *m;
}

static void reach(void *ctx, const struct status_session *sess, bool r)
{
	struct side *s = ctx;

	(void)sess;
	s->reach_calls++;
	s->last_reach = r;
}

static struct status_fsm *make(struct side *s, enum status_role role)
{
	const struct status_ops ops = {
		.ctx = s, .now_ms = now_ms, .wall_ms = wall_ms, .send = do_send, .fill = fill,
		.store = store, .reachability = reach,
	};
	const struct status_timing t = { .interval_ms = 1000, .miss_limit = 3 };

	return status_new(&ops, &t, role, 16);
}

static void addr(struct cn_coop_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = CN_FAM_INET;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[3] = last;
	a->port = port;
}

static void session(struct status_session *s, const struct side *peer, uint8_t kfill)
{
	memset(s, 0, sizeof(*s));
	s->id = 0x4242;
	strcpy(s->service, "www");
	s->peer = peer->self;
	memset(s->key, kfill, sizeof(s->key));
	addr(&s->sender.addr, 9, 0);
	strcpy(s->sender.name, "alice");
}

static int setup(void **state)
{
	struct status_session s;

	(void)state;
	mono = 1000;
	memset(&ss, 0, sizeof(ss));
	memset(&sp, 0, sizeof(sp));
	addr(&ss.self, 1, 7447);
	addr(&sp.self, 2, 7447);
	sp.health = CN_HEALTH_PASSING;
	memset(key, 0x33, sizeof(key));
	assert_non_null(ss.f = make(&ss, STATUS_SS));
	assert_non_null(sp.f = make(&sp, STATUS_SP));
	session(&s, &sp, 0x33);
	assert_int_equal(status_add(ss.f, &s), 0);
	session(&s, &ss, 0x33);
	assert_int_equal(status_add(sp.f, &s), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	status_free(ss.f);
	status_free(sp.f);
	return 0;
}

/* Deliver everything from's queue to to; returns how many were accepted. */
static int deliver(struct side *from, struct side *to)
{
	size_t n = from->nq;
	int ok = 0;

	from->nq = 0;
	for (size_t i = 0; i < n; i++)
		ok += status_input(to->f, &from->self, from->q[i].buf, from->q[i].len) == 0;
	return ok;
}

static void advance(uint64_t ms)
{
	mono += ms;
	wall += ms;
	status_tick(ss.f);
	status_tick(sp.f);
}

static void test_start_and_answer(void **state)
{
	(void)state;
	/* each side sent a Status-REQ when it got the session */
	assert_int_equal(ss.nq, 1);
	assert_int_equal(sp.nq, 1);
	assert_int_equal(ss.q[0].buf[5], CN_CTL_REQ);
	assert_true(cn_coop_addr_equal(&ss.q[0].to, &sp.self, true));
	assert_int_equal(deliver(&ss, &sp), 1);
	assert_int_equal(sp.stored, 1);
	assert_int_equal(sp.last.kind, CN_SENDER_CLIENT);
	assert_int_equal(sp.last.u.client.bytes_c2s, 1000);
	assert_string_equal(sp.last_msg.sender.name, "alice");
	/* the SP answered the REQ with a REP at once (its own REQ is still queued too) */
	assert_int_equal(sp.nq, 2);
	assert_int_equal(sp.q[1].buf[5], CN_CTL_REP);
	assert_int_equal(status_counter(sp.f, STATUS_EV_ANSWERED), 1);
	assert_int_equal(deliver(&sp, &ss), 2);
	assert_int_equal(ss.stored, 2);
	assert_int_equal(ss.last.kind, CN_SENDER_VNIC);
	assert_int_equal(ss.last_msg.vnic_status, CN_VNIC_UP);
	assert_int_equal(ss.nq, 1); /* SS answered the SP's REQ */
}

/* The receive budget, per session (STATUS_RX_BURST at once, then STATUS_RX_PER_INTERVAL per
 * interval the peer announces): a peer that sends more than that for one session has the rest
 * accepted (reachability, timers) but neither stored nor answered, counted over-budget;
 * another session's reports keep their own budget. */
static void test_rx_budget(void **state)
{
	struct status_session s;
	struct dgram req, mail_req;
	int i;

	(void)state;
	/* a second session between the same two, of another service */
	session(&s, &sp, 0x33);
	s.id = 0x4243;
	strcpy(s.service, "mail");
	assert_int_equal(status_add(ss.f, &s), 0);
	session(&s, &ss, 0x33);
	s.id = 0x4243;
	strcpy(s.service, "mail");
	assert_int_equal(status_add(sp.f, &s), 0);
	assert_int_equal(sp.nq, 2); /* the SP's first reports, REQs: www, then mail */
	req = sp.q[0];
	mail_req = sp.q[1];
	sp.nq = ss.nq = 0;

	/* STATUS_RX_BURST change reports of www at once, delivered before its REQ: all stored */
	for (i = 0; i < STATUS_RX_BURST; i++)
		assert_int_equal(status_changed(sp.f, "www"), 1);
	assert_int_equal(deliver(&sp, &ss), STATUS_RX_BURST);
	assert_int_equal(ss.stored, STATUS_RX_BURST);
	assert_int_equal(status_counter(ss.f, STATUS_EV_OVER_BUDGET), 0);
	/* then the REQ: accepted, but past the budget, so neither stored nor answered */
	assert_int_equal(status_input(ss.f, &sp.self, req.buf, req.len), 0);
	assert_int_equal(status_counter(ss.f, STATUS_EV_RECEIVED), STATUS_RX_BURST + 1);
	assert_int_equal(ss.stored, STATUS_RX_BURST);
	assert_int_equal(status_counter(ss.f, STATUS_EV_OVER_BUDGET), 1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_ANSWERED), 0);
	assert_int_equal(ss.nq, 0);
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 1);
	/* the other session's REQ has its own budget: stored and answered */
	assert_int_equal(status_input(ss.f, &sp.self, mail_req.buf, mail_req.len), 0);
	assert_int_equal(ss.stored, STATUS_RX_BURST + 1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_ANSWERED), 1);
	assert_int_equal(ss.nq, 1);

	/* the SP announces 1000 ms: one more report of www fits every 500 ms */
	mono += 1000 / STATUS_RX_PER_INTERVAL;
	wall += 1000 / STATUS_RX_PER_INTERVAL;
	assert_int_equal(status_changed(sp.f, "www"), 1);
	assert_int_equal(status_changed(sp.f, "www"), 1);
	assert_int_equal(deliver(&sp, &ss), 2);
	assert_int_equal(ss.stored, STATUS_RX_BURST + 2);
	assert_int_equal(status_counter(ss.f, STATUS_EV_OVER_BUDGET), 2);
}

static void test_periodic(void **state)
{
	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	deliver(&ss, &sp);
	assert_int_equal(status_next_deadline(ss.f), 2000);
	advance(999);
	assert_int_equal(ss.nq, 0); /* not yet */
	advance(1);
	assert_int_equal(ss.nq, 1);
	assert_int_equal(ss.q[0].buf[5], CN_CTL_REP);
	assert_int_equal(sp.nq, 1);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(deliver(&ss, &sp), 1);
		assert_int_equal(deliver(&sp, &ss), 1);
		advance(1000);
	}
	assert_int_equal(status_counter(ss.f, STATUS_EV_SENT), 6);
	assert_int_equal(status_counter(sp.f, STATUS_EV_SENT), 6);
	assert_int_equal(ss.last.seq, 7); /* REQ, REP answer, then 5 periodic */
	/* a late loop does not burst: one report, then the schedule continues from now */
	ss.nq = 0;
	mono += 5500;
	wall += 5500;
	status_tick(ss.f);
	assert_int_equal(ss.nq, 1);
	assert_int_equal(status_next_deadline(ss.f) - mono, 1000);
}

static void test_change_sent_at_once(void **state)
{
	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	deliver(&ss, &sp);
	advance(100);
	assert_int_equal(sp.nq, 0);
	sp.health = CN_HEALTH_FAILING;
	assert_int_equal(status_changed(sp.f, "www"), 1);
	assert_int_equal(status_changed(sp.f, "other"), 0);
	assert_int_equal(sp.nq, 1);
	assert_int_equal(deliver(&sp, &ss), 1);
	assert_int_equal(ss.last_msg.vnic_status, CN_VNIC_DOWN);
	assert_int_equal(ss.last.u.vnic.health, CN_HEALTH_FAILING);
	assert_true(ss.last.flags & CN_STATUS_F_CHANGE);
	/* the next periodic report is one interval after the change */
	advance(999);
	assert_int_equal(sp.nq, 0);
	advance(1);
	assert_int_equal(sp.nq, 1);
}

static void test_unreachable_after_n(void **state)
{
	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	ss.nq = 0; /* the SS's answer is lost */
	/* from now on the SP is silent: its reports are dropped */
	for (int i = 0; i < 2; i++) {
		advance(1000);
		sp.nq = 0;
	}
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 1);
	assert_int_equal(ss.reach_calls, 0);
	advance(1000); /* 3 intervals since the last valid report */
	sp.nq = 0;
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 0);
	assert_int_equal(ss.reach_calls, 1);
	assert_int_equal(ss.last_reach, 0);
	assert_int_equal(status_counter(ss.f, STATUS_EV_UNREACHABLE), 1);
	/* while unreachable the SS probes with Status-REQs */
	ss.nq = 0;
	advance(1000);
	sp.nq = 0;
	assert_int_equal(ss.nq, 1);
	assert_int_equal(ss.q[0].buf[5], CN_CTL_REQ);
	/* the SP is back: the probe gets an answer at once and the SS marks it reachable */
	assert_int_equal(deliver(&ss, &sp), 1);
	assert_int_equal(sp.nq, 1);
	assert_int_equal(deliver(&sp, &ss), 1);
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 1);
	assert_int_equal(ss.reach_calls, 2);
	assert_int_equal(ss.last_reach, 1);
}

static void test_replay_refused(void **state)
{
	struct dgram copy;

	(void)state;
	copy = ss.q[0];
	assert_int_equal(deliver(&ss, &sp), 1);
	sp.nq = 0;
	assert_int_equal(status_input(sp.f, &ss.self, copy.buf, copy.len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_REPLAY), 1);
	assert_int_equal(sp.stored, 1);
	assert_int_equal(sp.nq, 0); /* never answered */
}

static void test_bad_proof_and_strangers(void **state)
{
	struct dgram d;

	(void)state;
	d = ss.q[0];
	ss.nq = 0;
	d.buf[CN_COOP_OFF_PROOF] ^= 1;
	sp.nq = 0;
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, d.len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_BAD_PROOF), 1);
	/* a payload byte changed: the proof covers it */
	d.buf[CN_COOP_OFF_PROOF] ^= 1;
	d.buf[CN_COOP_OFF_DEV + 30] ^= 1;
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, d.len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_BAD_PROOF), 2);
	d.buf[CN_COOP_OFF_DEV + 30] ^= 1;
	/* another ID: no session */
	d.buf[11] ^= 1;
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, d.len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_NO_SESSION), 1);
	d.buf[11] ^= 1;
	/* garbage */
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, 100), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_DECODE_ERROR), 1);
	/* an info_vNIC sent to an SP (our own kind reflected back) */
	assert_int_equal(status_input(sp.f, &ss.self, sp.q[0].buf, sp.q[0].len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_BAD_PAYLOAD), 1);
	/* stale: the same datagram, our clock 31 s later */
	wall += 31000;
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, d.len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_STALE), 1);
	wall -= 31000;
	assert_int_equal(sp.stored, 0);
	assert_int_equal(sp.nq, 0); /* nothing refused was answered */
	/* and the genuine one still goes through */
	assert_int_equal(status_input(sp.f, &ss.self, d.buf, d.len), 0);
}

static void test_wrong_key(void **state)
{
	struct status_session s;
	struct side other;

	(void)state;
	/* a session with the same ID and service but another K_s (another SS's session) */
	memset(&other, 0, sizeof(other));
	addr(&other.self, 3, 7447);
	assert_non_null(other.f = make(&other, STATUS_SS));
	session(&s, &sp, 0x44);
	assert_int_equal(status_add(other.f, &s), 0);
	assert_int_equal(status_input(sp.f, &other.self, other.q[0].buf, other.q[0].len), -1);
	assert_int_equal(status_counter(sp.f, STATUS_EV_BAD_PROOF), 1);
	status_free(other.f);
}

static void test_peer_restart(void **state)
{
	struct status_session s;
	struct dgram old;

	(void)state;
	deliver(&ss, &sp);
	old = sp.q[1]; /* the SP's answer, epoch 1 */
	deliver(&sp, &ss);
	assert_int_equal(ss.stored, 2);
	/* the SP restarts: a new machine, the session given again, seq from 1, new epoch */
	status_free(sp.f);
	sp.nq = 0;
	mono += 10; /* the SP is down for 10 ms */
	wall += 10;
	assert_non_null(sp.f = make(&sp, STATUS_SP));
	session(&s, &ss, 0x33);
	assert_int_equal(status_add(sp.f, &s), 0);
	assert_int_equal(deliver(&sp, &ss), 1);
	assert_int_equal(ss.stored, 3);
	assert_int_equal(ss.last.seq, 1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_PEER_RESTART), 1);
	/* the old epoch's report, replayed, is refused */
	assert_int_equal(status_input(ss.f, &sp.self, old.buf, old.len), -1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_OLD_EPOCH), 1);
	/* and the restarted SP's reports keep flowing */
	ss.nq = 0;
	advance(1000);
	assert_int_equal(deliver(&sp, &ss), 1);
	assert_int_equal(ss.last.seq, 2); /* 1 the REQ, 2 the first periodic report */
}

/* A renewal on the SP (status_renew, as the engine does for a provider's renewal): the new
 * ID takes the old session's place and schedule without a Status-REQ of its own; the SS's
 * REQ for the new ID is checked under the new key and answered at once; the periodic
 * reports go on at the old schedule, for the new ID. An unreachable session, an unknown ID,
 * a taken ID and ID 0 are refused. */
static void test_renewal_keeps_schedule(void **state)
{
	struct status_session s;

	(void)state;
	deliver(&ss, &sp);
	deliver(&sp, &ss);
	deliver(&ss, &sp);
	assert_int_equal(status_next_deadline(sp.f), 2000);
	advance(300);
	sp.nq = ss.nq = 0;
	session(&s, &ss, 0x44);
	s.id = 0x5151;
	assert_int_equal(status_renew(sp.f, 0x4242, &s), 0);
	assert_int_equal(sp.nq, 0); /* no REQ at once */
	assert_null(status_find_id(sp.f, 0x4242));
	assert_non_null(status_find_id(sp.f, 0x5151));
	assert_int_equal(status_count(sp.f), 1);
	assert_int_equal(status_next_deadline(sp.f), 2000);
	/* the SS renews the plain way: its REQ goes at once, under the new key */
	assert_int_equal(status_remove(ss.f, 0x4242, "www", &sp.self), 0);
	session(&s, &sp, 0x44);
	s.id = 0x5151;
	assert_int_equal(status_add(ss.f, &s), 0);
	assert_int_equal(ss.nq, 1);
	assert_int_equal(deliver(&ss, &sp), 1);
	assert_int_equal(sp.nq, 1); /* answered at once */
	assert_int_equal(sp.q[0].buf[5], CN_CTL_REP);
	assert_int_equal(deliver(&sp, &ss), 1);
	ss.nq = 0;
	/* the SP's next periodic report at the old schedule, accepted for the new ID */
	advance(699);
	assert_int_equal(sp.nq, 0);
	advance(1);
	assert_int_equal(sp.nq, 1);
	assert_int_equal(deliver(&sp, &ss), 1);
	assert_int_equal(status_reachable(ss.f, 0x5151, "www", &sp.self), 1);

	/* refusals */
	session(&s, &ss, 0x55);
	s.id = 0x6161;
	assert_int_equal(status_renew(sp.f, 0x4242, &s), -1); /* the old ID is gone */
	assert_int_equal(errno, ENOENT);
	assert_int_equal(status_add(sp.f, &s), 0);
	assert_int_equal(status_renew(sp.f, 0x5151, &s), -1); /* 0x6161 is taken */
	assert_int_equal(errno, EEXIST);
	s.id = 0;
	assert_int_equal(status_renew(sp.f, 0x5151, &s), -1);
	assert_int_equal(errno, EINVAL);
	/* the SS goes silent: once unreachable, a renewal is a new session (REQ at once) */
	for (int i = 0; i < 4; i++) {
		advance(1000);
		ss.nq = 0;
	}
	assert_int_equal(status_reachable(sp.f, 0x5151, "www", &ss.self), 0);
	s.id = 0x7171;
	assert_int_equal(status_renew(sp.f, 0x5151, &s), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(status_find_id(sp.f, 0x5151)); /* untouched */
}

static void test_sessions(void **state)
{
	struct status_session s;

	(void)state;
	session(&s, &sp, 0x33);
	assert_int_equal(status_add(ss.f, &s), -1); /* EEXIST */
	s.id = 0;
	assert_int_equal(status_add(ss.f, &s), -1);
	assert_int_equal(status_count(ss.f), 1);
	/* found by its ID alone, with the peer and service it was added with */
	assert_non_null(status_find_id(ss.f, 0x4242));
	assert_int_equal(status_find_id(ss.f, 0x4242)->id, 0x4242);
	assert_string_equal(status_find_id(ss.f, 0x4242)->service, "www");
	assert_true(cn_coop_addr_equal(&status_find_id(ss.f, 0x4242)->peer, &sp.self, true));
	assert_null(status_find_id(ss.f, 0x4243));
	assert_int_equal(status_remove(ss.f, 0x4242, "www", &sp.self), 0);
	assert_null(status_find_id(ss.f, 0x4242));
	assert_int_equal(status_remove(ss.f, 0x4242, "www", &sp.self), -1);
	assert_int_equal(status_count(ss.f), 0);
	/* the SP's report for the removed session finds none */
	assert_int_equal(status_input(ss.f, &sp.self, sp.q[0].buf, sp.q[0].len), -1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_NO_SESSION), 1);
	status_tick(ss.f);
	assert_int_equal(status_next_deadline(ss.f), UINT64_MAX);
	assert_string_equal(status_event_name(STATUS_EV_OLD_EPOCH), "old-epoch");
}

/* ------------------------------------------------------------------ growth */

/* A machine whose slots grow past the first chunk of 1,024: the sessions in the new slots are
 * found by the peer's reports, reach their limit with ENOSPC, and a callback that adds a
 * session while the machine walks its slots (which allocates a chunk and grows the timer heap
 * under the walk) leaves it consistent. */
static struct {
	struct status_fsm *f;
	unsigned sends, stored, reach_calls;
	bool add_on_reach;
} big;

static int big_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	(void)len;
	big.sends++;
	return 0;
}

static void big_fill(void *ctx, const struct status_session *sess, struct cn_status_body *b)
{
	(void)ctx;
	(void)sess;
	b->u.vnic = (struct cn_status_vnic){ .link = CN_LINK_UP, .health = CN_HEALTH_PASSING,
		.check = CN_CHECK_TCP, .weight = 100, .sessions = 1 };
}

static void big_store(void *ctx, const struct status_session *sess, const struct cn_coop_msg *m,
    const struct cn_status_body *b)
{
	(void)ctx;
	(void)m;
	(void)b;
	assert_int_equal(sess->id, 0x4242);
	big.stored++;
}

static void big_session(struct status_session *s, cn_id_t id)
{
	session(s, &ss, (uint8_t)id);
	s->id = id;
}

static void big_reach(void *ctx, const struct status_session *sess, bool r)
{
	struct status_session s;

	(void)ctx;
	(void)sess;
	assert_false(r);
	big.reach_calls++;
	if (big.add_on_reach) { /* the slots are full: this add grows them */
		big.add_on_reach = false;
		big_session(&s, 60000);
		assert_int_equal(status_add(big.f, &s), 0);
	}
}

static void test_grown_slots(void **state)
{
	const struct status_ops ops = {
		.ctx = &big, .now_ms = now_ms, .wall_ms = wall_ms, .send = big_send, .fill = big_fill,
		.store = big_store, .reachability = big_reach,
	};
	/* unpaced: every first report at once (the pace: test_first_paced) */
	const struct status_timing t = { .interval_ms = 1000, .miss_limit = 3,
					 .max_reports_per_s = UINT32_MAX };
	struct status_session s;

	(void)state;
	memset(&big, 0, sizeof(big));
	assert_non_null(big.f = status_new(&ops, &t, STATUS_SP, 4096));
	/* 2,047 sessions, then the SS's own (0x4242, key 0x33) in a slot past the first 1,024 */
	for (cn_id_t id = 1; id < 2048; id++) {
		big_session(&s, id);
		assert_int_equal(status_add(big.f, &s), 0);
	}
	session(&s, &ss, 0x33);
	assert_int_equal(status_add(big.f, &s), 0);
	assert_int_equal(status_count(big.f), 2048);
	assert_int_equal(big.sends, 2048);
	/* the SS's Status-REQ (setup queued it) is authenticated by that session, and answered */
	assert_int_equal(status_input(big.f, &ss.self, ss.q[0].buf, ss.q[0].len), 0);
	assert_int_equal(big.stored, 1);
	assert_int_equal(status_counter(big.f, STATUS_EV_ANSWERED), 1);
	/* three intervals of silence: every session is marked unreachable and probes; the first
	 * mark adds a session (the slots are full: a new chunk) */
	big.add_on_reach = true;
	mono += 3000;
	wall += 3000;
	status_tick(big.f);
	assert_false(big.add_on_reach);
	assert_int_equal(big.reach_calls, 2048);
	assert_int_equal(status_counter(big.f, STATUS_EV_UNREACHABLE), 2048);
	assert_int_equal(status_count(big.f), 2049);
	/* every session's report went: the 2,049 first ones, the answer, 2,048 probes */
	assert_int_equal(big.sends, 2049 + 1 + 2048);
	assert_int_equal(status_reachable(big.f, 60000, "www", &ss.self), 1);
	assert_int_equal(status_reachable(big.f, 0x4242, "www", &ss.self), 0);
	/* up to the limit, then ENOSPC; a removal makes room again */
	for (cn_id_t id = 2048; status_count(big.f) < 4096; id++) {
		big_session(&s, id);
		assert_int_equal(status_add(big.f, &s), 0);
	}
	big_session(&s, 5000);
	errno = 0;
	assert_int_equal(status_add(big.f, &s), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(status_remove(big.f, 60000, "www", &ss.self), 0);
	assert_int_equal(status_add(big.f, &s), 0);
	status_free(big.f);
}

/* ------------------------------------------------------------------ pacing */

/* More sessions than max_reports_per_s allows at the configured interval: each session's
 * interval stretches to count / rate, the reports say so, and the peer's unreachable mark
 * waits miss_limit of the stretched intervals. */
static struct {
	unsigned sends;
	uint8_t buf[CN_COOP_MAX_LEN]; /* the last report of session 0x4242 */
	size_t len;
} paced;

static int paced_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;

	(void)ctx;
	(void)to;
	paced.sends++;
	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_OK);
	if (m.id == 0x4242) {
		memcpy(paced.buf, buf, len);
		paced.len = len;
	}
	return 0;
}

static uint32_t carried_interval(void)
{
	struct cn_coop_msg m;
	struct cn_status_body b;

	assert_int_equal(cn_coop_decode(&m, paced.buf, paced.len, NULL), CN_COOP_OK);
	assert_int_equal(cn_status_from_msg(&m, &b, NULL), CN_STATUS_OK);
	return b.interval_ms;
}

/* Tick f (and the SS side's machine) at 1 ms steps for ms milliseconds. */
static void paced_run(struct status_fsm *f, uint64_t ms)
{
	for (uint64_t end = mono + ms; mono < end;) {
		mono++;
		wall++;
		if (mono >= status_next_deadline(f))
			status_tick(f);
	}
}

/* An SP machine of up to limit sessions reporting into paced (100 reports a second at most,
 * 1 s interval, miss_limit 3). */
static struct status_fsm *paced_machine(size_t limit)
{
	const struct status_ops ops = {
		.ctx = &paced, .now_ms = now_ms, .wall_ms = wall_ms, .send = paced_send,
		.fill = big_fill, .store = big_store,
	};
	const struct status_timing t = { .interval_ms = 1000, .miss_limit = 3,
					 .max_reports_per_s = 100 };
	struct status_fsm *f;

	memset(&paced, 0, sizeof(paced));
	assert_non_null(f = status_new(&ops, &t, STATUS_SP, limit));
	return f;
}

static void test_paced(void **state)
{
	struct status_fsm *f;
	struct status_session s;
	unsigned before;

	(void)state;
	f = paced_machine(1000);
	/* 299 sessions and the SS's own (0x4242) over one second: 300 at 100 a second is 3 s */
	for (cn_id_t id = 1; id < 300; id++) {
		big_session(&s, id);
		assert_int_equal(status_add(f, &s), 0);
		paced_run(f, 3);
	}
	session(&s, &ss, 0x33);
	assert_int_equal(status_add(f, &s), 0);
	/* the first reports are paced too (test_first_paced): 300 at 100 a second, the last one
	 * (0x4242's) about 2.9 s after the first add */
	paced_run(f, 2100);
	assert_int_equal(carried_interval(), 3000); /* the first report (REQ) says it already */
	paced_run(f, 4000); /* the reports scheduled at the shorter intervals go */
	before = paced.sends;
	paced_run(f, 9000);
	/* 300 sessions, one report each per 3 s: 900 in 9 s (without pacing: 2,700) */
	assert_in_range(paced.sends - before, 850, 950);
	assert_int_equal(carried_interval(), 3000);
	/* the SS takes the stretched interval from the report: not unreachable after 3 of its
	 * own 1 s intervals, but after 3 of the 3 s ones */
	assert_int_equal(status_input(ss.f, &sp.self, paced.buf, paced.len), 0);
	mono += 8000;
	wall += 8000;
	ss.nq = 0;
	status_tick(ss.f);
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 1);
	mono += 1000;
	wall += 1000;
	ss.nq = 0;
	status_tick(ss.f);
	assert_int_equal(status_reachable(ss.f, 0x4242, "www", &sp.self), 0);
	/* fewer sessions: back to the configured interval */
	for (cn_id_t id = 1; id < 300; id++) {
		big_session(&s, id);
		assert_int_equal(status_remove(f, id, s.service, &s.peer), 0);
	}
	paced_run(f, 4000);
	assert_int_equal(carried_interval(), 1000);
	status_free(f);
}

/* A paced_machine() with 50 sessions (0.5 s of reports at 100 a second: the interval is not
 * stretched) added at once, the SS's own (0x4242) last. */
static struct status_fsm *fifty_sessions(void)
{
	struct status_fsm *f = paced_machine(100);
	struct status_session s;

	for (cn_id_t id = 1; id < 50; id++) {
		big_session(&s, id);
		assert_int_equal(status_add(f, &s), 0);
	}
	session(&s, &ss, 0x33);
	assert_int_equal(status_add(f, &s), 0);
	return f;
}

/* A change of a service with more sessions than a tenth of a second's worth of reports: that
 * many go at once, the rest at the pace of max_reports_per_s, each flagged as a change, and
 * each session's periodic reports go on one interval after its change report. */
static void test_change_paced(void **state)
{
	struct status_fsm *f;
	uint64_t t0;

	(void)state;
	f = fifty_sessions();
	paced_run(f, 500); /* the first reports (paced: 10 at once, 40 over 0.4 s) go */
	assert_int_equal(paced.sends, 50);
	paced.sends = 0;
	t0 = mono;
	/* 10 at once (a tenth of 100 a second), 40 after them at 10 ms each */
	assert_int_equal(status_changed(f, "www"), 10);
	assert_int_equal(paced.sends, 10);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 10);
	paced_run(f, 380);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 10 + 38);
	paced_run(f, 20);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 50);
	assert_int_equal(paced.sends, 50);
	assert_int_equal(mono - t0, 400);
	/* the last one (0x4242) carried the change flag */
	{
		struct cn_coop_msg m;
		struct cn_status_body b;

		assert_int_equal(cn_coop_decode(&m, paced.buf, paced.len, NULL), CN_COOP_OK);
		assert_int_equal(cn_status_from_msg(&m, &b, NULL), CN_STATUS_OK);
		assert_true(b.flags & CN_STATUS_F_CHANGE);
	}
	/* then periodic reports, unflagged, one interval after each change report: none
	 * before t0 + 1000, all 50 by t0 + 1400 */
	paced_run(f, 599);
	assert_int_equal(paced.sends, 50);
	paced_run(f, 402);
	assert_int_equal(paced.sends, 100);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 50);
	status_free(f);
}

/* A session's first report (a Status-REQ) takes its turn in the same pace as change reports:
 * 50 sessions added at once at 100 reports a second send 10 REQs at once and the other 40 over
 * the next 0.4 s (a restart with 60,000 sessions does not send them in one burst). The peer
 * has miss_limit intervals from its own REQ to answer, not from the add. A change while first
 * reports wait sends no second report of those sessions; the others' change reports queue
 * behind the first reports. */
static void test_first_paced(void **state)
{
	struct status_fsm *f;
	struct status_session s;
	struct cn_coop_msg m;
	uint64_t t0 = mono;

	(void)state;
	f = fifty_sessions();
	session(&s, &ss, 0x33); /* 0x4242's, for status_reachable */
	assert_int_equal(paced.sends, 10);
	assert_int_equal(status_counter(f, STATUS_EV_PROBE_SENT), 10);
	assert_int_equal(paced.len, 0); /* 0x4242's waits */
	/* a change now: the 10 that reported queue behind the 40 first reports */
	assert_int_equal(status_changed(f, NULL), 0);
	paced_run(f, 399);
	assert_int_equal(status_counter(f, STATUS_EV_PROBE_SENT), 49);
	paced_run(f, 1);
	assert_int_equal(status_counter(f, STATUS_EV_PROBE_SENT), 50);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 0);
	assert_int_equal(cn_coop_decode(&m, paced.buf, paced.len, NULL), CN_COOP_OK);
	assert_int_equal(m.ctl, CN_CTL_REQ);
	assert_int_equal(mono - t0, 400);
	paced_run(f, 100);
	assert_int_equal(status_counter(f, STATUS_EV_CHANGE_SENT), 10);
	assert_int_equal(paced.sends, 60);
	/* 0x4242 asked at t0 + 400: reachable until miss_limit (3) intervals after that */
	paced_run(f, 2899);
	assert_int_equal(status_reachable(f, 0x4242, "www", &s.peer), 1);
	paced_run(f, 1);
	assert_int_equal(status_reachable(f, 0x4242, "www", &s.peer), 0);
	status_free(f);
}

/* ------------------------------------------------------------------ many sessions */

/* MANY sessions whose deadlines are spread over an interval and whose slots are shuffled
 * (removed and given again in a random order), ticked the way the engine ticks: only when
 * status_next_deadline() has passed, at 1 ms steps. Each report must go out exactly when it is
 * due (never early, never late, never twice in an interval), each unreachable mark exactly
 * miss_limit intervals after the session started, and a removed session never again. */
#define MANY 3000
#define MANY_INTERVAL 1000u
#define MANY_MISS 3u

static struct {
	uint64_t next_due[MANY + 1];   /* by ID: when its next periodic report is due */
	uint64_t reach_due[MANY + 1];  /* when it must be marked unreachable; 0: marked */
	bool live[MANY + 1], changing;
	unsigned sent[MANY + 1];
} many;

static void many_fill(void *ctx, const struct status_session *sess, struct cn_status_body *b)
{
	cn_id_t id = sess->id;

	(void)ctx;
	(void)b;
	assert_true(id >= 1 && id <= MANY);
	assert_true(many.live[id]); /* a removed session never sends */
	many.sent[id]++;
	if (many.changing || many.next_due[id] == 0) { /* a change, or the REQ of status_add */
		many.next_due[id] = mono + MANY_INTERVAL;
		return;
	}
	assert_int_equal(mono, many.next_due[id]); /* neither early nor late */
	many.next_due[id] += MANY_INTERVAL;
}

static void many_reach(void *ctx, const struct status_session *sess, bool r)
{
	(void)ctx;
	assert_false(r);
	assert_true(many.live[sess->id]);
	assert_int_equal(mono, many.reach_due[sess->id]);
	many.reach_due[sess->id] = 0;
}

static int many_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	(void)len;
	return 0;
}

static void many_store(void *ctx, const struct status_session *sess, const struct cn_coop_msg *m,
    const struct cn_status_body *b)
{
	(void)ctx;
	(void)sess;
	(void)m;
	(void)b;
	fail(); /* nothing is delivered in these tests */
}

/* The earliest thing the model expects, as status_next_deadline() must say. */
static uint64_t many_model_deadline(void)
{
	uint64_t d = UINT64_MAX;

	for (cn_id_t id = 1; id <= MANY; id++) {
		if (!many.live[id])
			continue;
		if (many.next_due[id] < d)
			d = many.next_due[id];
		if (many.reach_due[id] && many.reach_due[id] < d)
			d = many.reach_due[id];
	}
	return d;
}

static void many_session(struct status_session *s, cn_id_t id)
{
	session(s, &sp, (uint8_t)id);
	s->id = id;
}

static void many_add(struct status_fsm *f, cn_id_t id)
{
	struct status_session s;

	many_session(&s, id);
	many.live[id] = true;
	many.next_due[id] = 0;
	many.reach_due[id] = mono + (uint64_t)MANY_MISS * MANY_INTERVAL;
	assert_int_equal(status_add(f, &s), 0);
	assert_int_equal(many.sent[id], 1);
	many.sent[id] = 0;
}

static void many_remove(struct status_fsm *f, cn_id_t id)
{
	struct status_session s;

	many_session(&s, id);
	assert_int_equal(status_remove(f, id, s.service, &s.peer), 0);
	many.live[id] = false;
}

/* A random permutation of 1..MANY (Fisher-Yates with a fixed xorshift: repeatable). */
static void shuffle(cn_id_t *ids)
{
	uint64_t r = 0x9e3779b97f4a7c15ull;

	for (cn_id_t i = 0; i < MANY; i++)
		ids[i] = i + 1;
	for (size_t i = MANY - 1; i > 0; i--) {
		size_t j;
		cn_id_t t;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		j = (size_t)(r % (i + 1));
		t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
}

/* Run the engine's loop from now for ms milliseconds; returns the number of ticks. */
static unsigned many_run(struct status_fsm *f, uint64_t ms)
{
	unsigned ticks = 0;

	for (uint64_t end = mono + ms; mono < end;) {
		mono++;
		wall++;
		if (mono < status_next_deadline(f))
			continue;
		status_tick(f);
		ticks++;
		/* nothing due is left behind, and the machine's next deadline is the model's */
		assert_true(status_next_deadline(f) > mono);
		assert_int_equal(status_next_deadline(f), many_model_deadline());
	}
	return ticks;
}

static struct status_fsm *many_make(void)
{
	const struct status_ops ops = {
		.ctx = &many, .now_ms = now_ms, .wall_ms = wall_ms, .send = many_send,
		.fill = many_fill, .store = many_store, .reachability = many_reach,
	};
	/* unpaced: the model sends each first report when the session is added */
	const struct status_timing t = { .interval_ms = MANY_INTERVAL, .miss_limit = MANY_MISS,
					 .max_reports_per_s = UINT32_MAX };
	static cn_id_t ids[MANY];
	struct status_fsm *f;

	memset(&many, 0, sizeof(many));
	assert_non_null(f = status_new(&ops, &t, STATUS_SS, MANY));
	/* fill every slot, then free them in a random order so that the sessions given next
	 * take the slots in an order unrelated to their deadlines */
	for (cn_id_t id = 1; id <= MANY; id++)
		many_add(f, id);
	shuffle(ids);
	for (size_t i = 0; i < MANY; i++)
		many_remove(f, ids[i]);
	assert_int_equal(status_next_deadline(f), UINT64_MAX);
	/* MANY sessions started over one interval, about three per millisecond */
	for (size_t i = 0; i < MANY; i++) {
		mono = 5000 + (uint64_t)i * MANY_INTERVAL / MANY;
		many_add(f, (cn_id_t)(i + 1));
	}
	assert_int_equal(status_next_deadline(f), many_model_deadline());
	return f;
}

static void test_many_on_time(void **state)
{
	struct status_fsm *f;
	uint64_t start;
	unsigned ticks;

	(void)state;
	f = many_make();
	start = mono;
	ticks = many_run(f, 5 * MANY_INTERVAL);
	/* one report per session per interval, the unreachable marks after MANY_MISS intervals */
	for (cn_id_t id = 1; id <= MANY; id++) {
		assert_int_equal(many.sent[id], 5);
		assert_int_equal(many.reach_due[id], 0);
	}
	assert_int_equal(status_counter(f, STATUS_EV_UNREACHABLE), MANY);
	/* the deadlines are spread over every millisecond of the interval: a tick each */
	assert_true(ticks >= 5 * MANY_INTERVAL - 5);
	assert_int_equal(mono - start, 5 * MANY_INTERVAL);
	status_free(f);
}

static void test_many_removed_never_fire(void **state)
{
	struct status_fsm *f;
	unsigned removed = 0;

	(void)state;
	f = many_make();
	many_run(f, 1500);
	/* every third session goes, whatever its place in the heap; then a change re-times the
	 * rest of one service at once */
	for (cn_id_t id = 1; id <= MANY; id += 3, removed++)
		many_remove(f, id);
	assert_int_equal(status_count(f), MANY - removed);
	assert_int_equal(status_next_deadline(f), many_model_deadline());
	many_run(f, 250);
	many.changing = true;
	assert_int_equal(status_changed(f, NULL), MANY - removed);
	many.changing = false;
	assert_int_equal(status_next_deadline(f), many_model_deadline());
	memset(many.sent, 0, sizeof(many.sent));
	many_run(f, 4 * MANY_INTERVAL);
	for (cn_id_t id = 1; id <= MANY; id++)
		assert_int_equal(many.sent[id], many.live[id] ? 4 : 0);
	/* and the rest still go, one by one, down to none */
	for (cn_id_t id = 1; id <= MANY; id++)
		if (many.live[id])
			many_remove(f, id);
	assert_int_equal(status_next_deadline(f), UINT64_MAX);
	status_tick(f);
	status_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_and_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_sent_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_after_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_proof_and_strangers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_keeps_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grown_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_paced, setup, teardown),
		cmocka_unit_test(test_many_on_time),
		cmocka_unit_test(test_many_removed_never_fire),
	};

	if (cn_auth_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
