/* SPDX-License-Identifier: MIT */
/* The status state machine (authd/status.c) with an injected clock: an SS and an SP machine
 * joined by an in-memory network, each test a user-visible promise of docs/protocol.md. */
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

static void test_sessions(void **state)
{
	struct status_session s;

	(void)state;
	session(&s, &sp, 0x33);
	assert_int_equal(status_add(ss.f, &s), -1); /* EEXIST */
	s.id = 0;
	assert_int_equal(status_add(ss.f, &s), -1);
	assert_int_equal(status_count(ss.f), 1);
	assert_int_equal(status_remove(ss.f, 0x4242, "www", &sp.self), 0);
	assert_int_equal(status_remove(ss.f, 0x4242, "www", &sp.self), -1);
	assert_int_equal(status_count(ss.f), 0);
	/* the SP's report for the removed session finds none */
	assert_int_equal(status_input(ss.f, &sp.self, sp.q[0].buf, sp.q[0].len), -1);
	assert_int_equal(status_counter(ss.f, STATUS_EV_NO_SESSION), 1);
	status_tick(ss.f);
	assert_int_equal(status_next_deadline(ss.f), UINT64_MAX);
	assert_string_equal(status_event_name(STATUS_EV_OLD_EPOCH), "old-epoch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_and_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_sent_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_after_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_proof_and_strangers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	};

	if (cn_auth_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
