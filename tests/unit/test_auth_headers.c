/* SPDX-License-Identifier: MIT */
/*
 * One session per exchange with plural headers and a group of SPs (docs/groups.md, "Plural
 * header SPs"): the SS (198.18.0.1), a header (198.18.0.2) that routes a REQ to sp1
 * (198.18.0.3) and a retransmission of it to sp2 (198.18.0.4), as the balancer avoids the SP
 * that did not answer, and a dead header (198.18.0.9). Real state machines, an injected
 * clock, a queue tests can drop from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_fsm.h"
#include "auth_int.h"

#define MAXQ 64

struct dgram {
	struct cn_coop_addr from, to;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
};

struct sp_side {
	struct auth_sp *sp;
	struct cn_coop_addr a;
	struct cn_replay_mem *rmem;
	struct cn_replay replay;
	size_t commits, unprepared;
};

static struct net {
	uint64_t now, wall;
	struct dgram q[MAXQ];
	size_t nq;
	enum cn_coop_kind drop_kind;    /* drop the next drop_n datagrams of this kind to drop_to */
	int drop_n;
	struct cn_coop_addr drop_to;
	struct cn_coop_msg dropped;     /* the last datagram dropped */
	struct dgram repreq;            /* the last Auth-REP&REQ sent to the SS */
	struct cn_coop_addr a_ss, a_hdr, a_dead;
	size_t to_dead, to_hdr;
	struct auth_ss *ss;
	struct auth_header *hdr;
	struct sp_side sp[2];
	uint8_t kc[CN_KEY_LEN], group[CN_KEY_LEN];
	uint8_t routed[4][CN_COOP_NONCE_LEN]; /* the nonces the header decided before */
	size_t nrouted;
	struct auth_ss_outcome out[8];
	size_t nout;
	size_t ev[AUTH_EV_KIND_MAX + 1];
	bool failover;                  /* start(): the requests are failovers */
} N;

static uint64_t now_ms(void *ctx) { (void)ctx; return N.now; }
static uint64_t wall_ms(void *ctx) { (void)ctx; return N.wall; }

static int push(const struct cn_coop_addr *from, const struct cn_coop_addr *to,
    const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;

	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_OK);
	if (N.drop_n > 0 && cn_coop_kind(&m) == N.drop_kind &&
	    cn_coop_addr_equal(to, &N.drop_to, true)) {
		N.drop_n--;
		N.dropped = m;
		return 0;
	}
	assert_true(N.nq < MAXQ);
	if (cn_coop_kind(&m) == CN_KIND_AUTH_REPREQ) {
		N.repreq.from = *from;
		memcpy(N.repreq.buf, buf, len);
		N.repreq.len = len;
	}
	N.q[N.nq].from = *from;
	N.q[N.nq].to = *to;
	memcpy(N.q[N.nq].buf, buf, len);
	N.q[N.nq++].len = len;
	return 0;
}

static int ss_send(void *c, const struct cn_coop_addr *to, const uint8_t *b, size_t l)
{
	(void)c;
	return push(&N.a_ss, to, b, l);
}

static int hdr_send(void *c, const struct cn_coop_addr *to, const uint8_t *b, size_t l)
{
	(void)c;
	return push(&N.a_hdr, to, b, l);
}

static int sp_send(void *c, const struct cn_coop_addr *to, const uint8_t *b, size_t l)
{
	return push(&((struct sp_side *)c)->a, to, b, l);
}

static void ss_done(void *c, const struct auth_ss_outcome *o)
{
	(void)c;
	assert_true(N.nout < 8);
	N.out[N.nout++] = *o;
}

static void on_event(void *c, const struct auth_event *ev)
{
	(void)c;
	N.ev[ev->kind]++;
}

/* sp1 for a new REQ, sp2 for one decided before (engine_balance.c's retry rule) */
static int route(void *c, const char *service, const uint8_t *nonce, struct cn_coop_addr *sp)
{
	(void)c;
	(void)service;
	for (size_t i = 0; i < N.nrouted; i++)
		if (!memcmp(N.routed[i], nonce, CN_COOP_NONCE_LEN)) {
			*sp = N.sp[1].a;
			return 0;
		}
	assert_true(N.nrouted < 4);
	memcpy(N.routed[N.nrouted++], nonce, CN_COOP_NONCE_LEN);
	*sp = N.sp[0].a;
	return 0;
}

static int lookup(void *c, const char *service, const char *client_name,
    const struct cn_coop_addr *client, struct auth_sp_entry *out)
{
	(void)c;
	(void)client;
	if (strcmp(service, "http") || (strcmp(client_name, "alice") && strcmp(client_name, "bob")))
		return -2;
	memset(out, 0, sizeof(*out));
	memcpy(out->key, N.kc, CN_KEY_LEN);
	return 0;
}

static bool id_in_use(void *c, cn_id_t id)
{
	(void)c;
	(void)id;
	return false;
}

static int commit(void *c, const struct auth_sp_session *s)
{
	(void)s;
	((struct sp_side *)c)->commits++;
	return 0;
}

static uint64_t prepare(void *c, const struct auth_sp_session *s)
{
	(void)c;
	(void)s;
	return 1; /* in the data plane ahead */
}

static void unprepare(void *c, const struct auth_sp_session *s)
{
	(void)s;
	((struct sp_side *)c)->unprepared++;
}

static void addr(struct cn_coop_addr *a, const char *text)
{
	assert_int_equal(cn_coop_addr_parse(a, text), 0);
	a->port = 4500;
}

static int setup(void **state)
{
	struct auth_ss_ops so = { .ctx = &N, .now_ms = now_ms, .wall_ms = wall_ms,
				  .send = ss_send, .done = ss_done, .event = on_event };
	struct auth_header_ops ho = { .ctx = &N, .wall_ms = wall_ms, .send = hdr_send,
				      .route = route, .event = on_event };

	(void)state;
	if (cn_auth_crypto_init() != 0)
		return -1;
	memset(&N, 0, sizeof(N));
	N.now = 1000;
	N.wall = 1795000000000ull;
	addr(&N.a_ss, "198.18.0.1");
	addr(&N.a_hdr, "198.18.0.2");
	addr(&N.sp[0].a, "198.18.0.3");
	addr(&N.sp[1].a, "198.18.0.4");
	addr(&N.a_dead, "198.18.0.9");
	memset(N.kc, 0x4b, sizeof(N.kc));
	memset(N.group, 0x47, sizeof(N.group));
	for (int i = 0; i < 2; i++) {
		struct sp_side *s = &N.sp[i];
		struct auth_sp_ops po = { .ctx = s, .now_ms = now_ms, .wall_ms = wall_ms,
					  .send = sp_send, .lookup = lookup, .id_in_use = id_in_use,
					  .commit = commit, .prepare = prepare,
					  .unprepare = unprepare, .event = on_event };
		struct auth_sp_config cfg = { .group_key = N.group, .replay = &s->replay };

		s->rmem = cn_replay_mem_new(64, 120000);
		if (s->rmem == NULL)
			return -1;
		cn_replay_mem_bind(s->rmem, &s->replay);
		po.ctx = s;
		if ((s->sp = auth_sp_new(&po, &cfg)) == NULL)
			return -1;
	}
	N.ss = auth_ss_new(&so, NULL, 8);
	N.hdr = auth_header_new(&ho, NULL, N.group);
	return N.ss && N.hdr ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	auth_ss_free(N.ss);
	auth_header_free(N.hdr);
	for (int i = 0; i < 2; i++) {
		auth_sp_free(N.sp[i].sp);
		cn_replay_mem_free(N.sp[i].rmem);
	}
	return 0;
}

static void deliver(void)
{
	for (int guard = 0; N.nq > 0; guard++) {
		struct dgram d = N.q[0];

		assert_true(guard < 200);
		memmove(N.q, N.q + 1, (N.nq - 1) * sizeof(N.q[0]));
		N.nq--;
		if (cn_coop_addr_equal(&d.to, &N.a_dead, true))
			N.to_dead++;
		else if (cn_coop_addr_equal(&d.to, &N.a_ss, true))
			auth_ss_input(N.ss, &d.from, d.buf, d.len);
		else if (cn_coop_addr_equal(&d.to, &N.a_hdr, true))
			N.to_hdr++, auth_header_input(N.hdr, &d.from, d.buf, d.len);
		else if (cn_coop_addr_equal(&d.to, &N.sp[0].a, true))
			auth_sp_input(N.sp[0].sp, &d.from, d.buf, d.len);
		else if (cn_coop_addr_equal(&d.to, &N.sp[1].a, true))
			auth_sp_input(N.sp[1].sp, &d.from, d.buf, d.len);
		else
			fail_msg("datagram to an unknown address");
	}
}

/* the clock to the SS's next deadline (not the SPs': they wait for their Auth-REP longer) */
static void advance_ss(void)
{
	uint64_t next = auth_ss_next_deadline(N.ss);

	assert_true(next != UINT64_MAX);
	if (next > N.now) {
		N.wall += next - N.now;
		N.now = next;
	}
	auth_ss_tick(N.ss);
}

static void start(const char *name, const char *client, bool plural)
{
	struct auth_ss_request r;
	uint64_t h;

	memset(&r, 0, sizeof(r));
	assert_int_equal(cn_coop_addr_parse(&r.client, client), 0);
	snprintf(r.client_name, sizeof(r.client_name), "%s", name);
	snprintf(r.service, sizeof(r.service), "http");
	memcpy(r.key, N.kc, CN_KEY_LEN);
	r.header = N.a_hdr;
	if (plural) {
		r.headers[0] = N.a_hdr;
		r.headers[1] = N.a_dead;
		r.n_headers = 2;
	}
	r.failover = N.failover;
	assert_int_equal(auth_ss_start(N.ss, &r, &h), 0);
}

/* alice's Authentication through the header to sp1, whose first Auth-REP&REQ is lost: sp1
 * holds the exchange open. */
static void start_with_repreq_lost(void)
{
	N.drop_kind = CN_KIND_AUTH_REPREQ;
	N.drop_to = N.a_ss;
	N.drop_n = 1;
	start("alice", "198.18.1.2", false);
	deliver();
	assert_int_equal(auth_sp_pending(N.sp[0].sp), 1);
}

/*
 * sp1's Auth-REP&REQ is late (lost once: it resends it after its own first time-out); the SS's
 * retransmission meanwhile reached the header, which chose sp2; both answer. The SS keeps the
 * first answer and releases the other SP: one session over both SPs, the other's ID out of
 * its data plane at once (not after its give-up time), both ends counted.
 */
static void test_second_sp_released(void **state)
{
	(void)state;
	start_with_repreq_lost();
	N.now += 500;
	N.wall += 500;
	auth_ss_tick(N.ss);       /* the REQ again: the header chooses sp2 */
	auth_sp_tick(N.sp[0].sp); /* not yet: sp1 allows for both gates first (auth_fsm.h) */
	assert_int_equal(N.ev[AUTH_EV_RETRANSMIT], 1); /* the SS's */
	N.now += AUTH_SP_FIRST_EXTRA_MS;
	N.wall += AUTH_SP_FIRST_EXTRA_MS;
	auth_sp_tick(N.sp[0].sp); /* sp1's REP&REQ again */
	deliver();
	assert_int_equal(N.nout, 1);
	assert_int_equal(N.out[0].result, AUTH_OK);
	assert_int_equal(N.sp[0].commits + N.sp[1].commits, 1);
	assert_int_equal(auth_sp_pending(N.sp[0].sp) + auth_sp_pending(N.sp[1].sp), 0);
	assert_int_equal(N.sp[0].unprepared + N.sp[1].unprepared, 1);
	/* the SS's release and the SP's discard */
	assert_int_equal(N.ev[AUTH_EV_RELEASED], 2);
	/* the session is the SP that committed */
	assert_true(cn_coop_addr_equal(&N.out[0].sp, &N.sp[N.sp[0].commits ? 0 : 1].a, true));
	/* the released SP's REP&REQ again (our Auth-RST was lost): the RST again, counted once */
	assert_int_equal(auth_ss_input(N.ss, &N.repreq.from, N.repreq.buf, N.repreq.len), 0);
	assert_int_equal(N.nq, 1);
	assert_int_equal(N.ev[AUTH_EV_RELEASED], 2);
	assert_int_equal(N.ev[AUTH_EV_DUPLICATE], 1);
	deliver(); /* that SP has nothing left to release */
	assert_int_equal(N.ev[AUTH_EV_NO_EXCHANGE], 1);
	assert_int_equal(N.nout, 1);
}

/* An Auth-RST released for sp1's pending exchange (its nonces from its REP&REQ), proved
 * with key in direction dir; another nonce_sp when other_nsp. The SP's answer. */
static int released_to_sp1(const uint8_t *key, int dir, bool other_nsp)
{
	uint8_t buf[CN_COOP_MAX_LEN];
	struct cn_coop_msg r;
	size_t len;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
	r.error = CN_AUTHERR_RELEASED;
	r.timestamp_ms = N.wall;
	memcpy(r.nonce_ss, N.dropped.nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, N.dropped.nonce_sp, sizeof(r.nonce_sp));
	r.nonce_sp[0] ^= other_nsp;
	cn_coop_set_service(&r, "http");
	auth_tag_placeholder(r.proof);
	assert_int_equal(cn_coop_encode(&r, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_auth_seal_proof(buf, len, key, dir), 0);
	return auth_sp_input(N.sp[0].sp, &N.a_ss, buf, len);
}

/* An Auth-RST released discards only the exchange both nonces name, with a proof by its
 * client key in the SS's direction. */
static void test_release_needs_proof(void **state)
{
	uint8_t other[CN_KEY_LEN];

	(void)state;
	start_with_repreq_lost();
	memset(other, 0x13, sizeof(other));
	assert_int_equal(released_to_sp1(other, CN_DIR_SS_TO_SP, false), -1);
	assert_int_equal(N.ev[AUTH_EV_BAD_PROOF], 1);
	assert_int_equal(released_to_sp1(N.kc, CN_DIR_SP_TO_SS, false), -1);
	assert_int_equal(N.ev[AUTH_EV_BAD_PROOF], 2);
	assert_int_equal(released_to_sp1(N.kc, CN_DIR_SS_TO_SP, true), -1);
	assert_int_equal(N.ev[AUTH_EV_NO_EXCHANGE], 1);
	assert_int_equal(auth_sp_pending(N.sp[0].sp), 1);
	assert_int_equal(N.sp[0].unprepared, 0);
	assert_int_equal(N.ev[AUTH_EV_RELEASED], 0);
	assert_int_equal(released_to_sp1(N.kc, CN_DIR_SS_TO_SP, false), 0);
	assert_int_equal(auth_sp_pending(N.sp[0].sp), 0);
	assert_int_equal(N.sp[0].unprepared, 1);
	assert_int_equal(N.ev[AUTH_EV_RELEASED], 1);
}

/*
 * Plural headers: a REQ whose answer is late goes to the same header again when that header
 * led to an answer since the REQ went to it (alive: no decision at a second header), and
 * to the next header only when it led to none (dead: one RTO, test_auth_fsm.c). Through a
 * live header the first time-out also waits for the time an SP may hold its answer
 * (AUTH_SP_HOLD_MS, its data-plane gate) before the header chooses another SP.
 */
static void test_live_header_kept(void **state)
{
	uint64_t t0 = N.now;

	(void)state;
	N.drop_kind = CN_KIND_AUTH_REQ; /* alice's forwarded REQ is lost on the way to sp1 */
	N.drop_to = N.sp[0].a;
	N.drop_n = 1;
	start("alice", "198.18.1.2", true);
	deliver();
	N.now += 100;
	N.wall += 100;
	start("bob", "198.18.1.3", true); /* answered at once through the same header */
	deliver();
	assert_int_equal(N.nout, 1);
	assert_int_equal(auth_ss_next_deadline(N.ss), t0 + AUTH_SP_HOLD_MS + 500);
	advance_ss(); /* alice's time-out */
	deliver();
	assert_int_equal(N.to_dead, 0);
	assert_int_equal(N.to_hdr, 3);
	assert_int_equal(N.ev[AUTH_EV_HEADER_KEPT], 1);
	assert_int_equal(N.ev[AUTH_EV_HEADER_NEXT], 0);
	assert_int_equal(N.nout, 2);
	assert_int_equal(N.out[1].result, AUTH_OK);
}

/* A failover (an SP of the group known dead): the first time-out is one RTO even through a
 * live header, so the header's choice of the dead SP costs no more. */
static void test_failover_no_hold(void **state)
{
	uint64_t t0 = N.now;

	(void)state;
	N.drop_kind = CN_KIND_AUTH_REQ;
	N.drop_to = N.sp[0].a;
	N.drop_n = 1;
	N.failover = true;
	start("alice", "198.18.1.2", true);
	deliver();
	N.now += 100;
	N.wall += 100;
	start("bob", "198.18.1.3", true);
	deliver();
	assert_int_equal(auth_ss_next_deadline(N.ss), t0 + 500);
	advance_ss();
	deliver();
	assert_int_equal(N.ev[AUTH_EV_HEADER_KEPT], 1);
	assert_int_equal(N.nout, 2);
}

/* The time-out follows the measured exchange times (RFC 6298: srtt + 4 * rttvar), at least
 * rto_ms, at most rto_max_ms, and a waiting exchange's timer follows the estimate. */
static void test_rto_follows_exchange_times(void **state)
{
	uint64_t t;

	(void)state;
	start("alice", "198.18.1.2", false);
	assert_int_equal(auth_ss_next_deadline(N.ss), N.now + 500);
	N.now += 900; /* the answer takes 900 ms: no retransmission before (no tick) */
	N.wall += 900;
	deliver();
	assert_int_equal(N.nout, 1);
	t = N.now;
	start("bob", "198.18.1.3", false);
	assert_int_equal(auth_ss_next_deadline(N.ss), t + 900 + 4 * 450);
	/* a sample of 10 s: capped at rto_max_ms (4 s) */
	N.now += 10000;
	N.wall += 10000;
	deliver();
	assert_int_equal(N.nout, 2);
	N.drop_kind = CN_KIND_AUTH_REQ;
	N.drop_to = N.a_hdr;
	N.drop_n = 1;
	t = N.now;
	start("alice", "198.18.1.2", false);
	assert_int_equal(auth_ss_next_deadline(N.ss), t + 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_sp_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_needs_proof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_header_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_no_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto_follows_exchange_times, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
