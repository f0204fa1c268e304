/* SPDX-License-Identifier: MIT */
/*
 * The SP side of Authentication with thousands of pending exchanges (authd/auth_sp.c, issue 11
 * section 3): their retransmission deadlines are kept in a heap (lib/dheap.c), so each
 * Auth-REP&REQ must still go out again exactly when its time-out passes (rto_ms plus
 * AUTH_SP_FIRST_EXTRA_MS the first time, then backed off), the exchange must end with an Auth-RST timeout exactly after max_tries, an exchange
 * completed by its Auth-REP must never send again, and auth_sp_next_deadline() must be the
 * earliest of them. The Auth-REQs and Auth-REPs come from a real SS machine (authd/auth_ss.c),
 * sealed with the clients' key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth_fsm.h"
#include "auth_int.h"
#include "authcrypto.h"
#include "coop.h"

#define CLIENTS 2000
#define RTO 500u

struct xch {
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	cn_id_t id;
	bool accepted, committed, timed_out;
	unsigned sends;         /* Auth-REP&REQs the SP sent for it */
	uint32_t rto;           /* the model's time-out after the last send */
	uint64_t next_due;      /* the model's: when the SP must act on it next */
	uint8_t last[CN_COOP_MAX_LEN]; /* its last Auth-REP&REQ (to hand to the SS) */
	size_t last_len;
};

static struct {
	uint64_t now, wall;
	struct auth_ss *ss;
	struct auth_sp *sp;
	struct cn_replay_mem *rmem;
	struct cn_replay replay;
	struct auth_timing t;
	struct cn_coop_addr a_ss, a_sp;
	uint8_t key[CN_KEY_LEN];
	struct xch x[CLIENTS];
	size_t by_id[65536];    /* ID -> client + 1 */
	uint8_t req[CN_COOP_MAX_LEN], rep[CN_COOP_MAX_LEN]; /* the SS's last REQ / REP */
	size_t req_len, rep_len;
	size_t commits;
} T;

static uint64_t now_ms(void *ctx) { (void)ctx; return T.now; }
static uint64_t wall_ms(void *ctx) { (void)ctx; return T.wall; }

static int ss_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;

	(void)ctx;
	(void)to;
	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_OK);
	if (cn_coop_kind(&m) == CN_KIND_AUTH_REQ) {
		memcpy(T.req, buf, len);
		T.req_len = len;
	} else if (cn_coop_kind(&m) == CN_KIND_AUTH_REP) {
		memcpy(T.rep, buf, len);
		T.rep_len = len;
	}
	return 0;
}

static void ss_done(void *ctx, const struct auth_ss_outcome *o)
{
	(void)ctx;
	(void)o;
}

static size_t by_nonce(const uint8_t *nonce_ss)
{
	for (size_t c = 0; c < CLIENTS; c++)
		if (T.x[c].accepted && !memcmp(T.x[c].nonce_ss, nonce_ss, CN_COOP_NONCE_LEN))
			return c;
	fail();
	return 0;
}

/* Every datagram of the SP against the model: on time, never early, never for an exchange
 * that ended. */
static int sp_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;
	struct xch *x;

	(void)ctx;
	(void)to;
	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_OK);
	if (cn_coop_kind(&m) == CN_KIND_AUTH_RST) {
		assert_int_equal(m.error, CN_AUTHERR_TIMEOUT);
		x = &T.x[by_nonce(m.nonce_ss)];
		assert_false(x->committed);
		assert_false(x->timed_out);
		assert_int_equal(x->sends, T.t.max_tries);
		assert_int_equal(T.now, x->next_due);
		x->timed_out = true;
		x->next_due = UINT64_MAX;
		return 0;
	}
	assert_int_equal(cn_coop_kind(&m), CN_KIND_AUTH_REPREQ);
	if (T.by_id[m.id] == 0) { /* the first: the answer to a new REQ */
		x = &T.x[by_nonce(m.nonce_ss)];
		assert_int_equal(x->sends, 0);
		x->id = m.id;
		T.by_id[m.id] = (size_t)(x - T.x) + 1;
		x->rto = T.t.rto_ms;
		x->next_due = T.now + x->rto + AUTH_SP_FIRST_EXTRA_MS; /* the gates may hold */
	} else {
		x = &T.x[T.by_id[m.id] - 1];
		assert_false(x->committed);
		assert_false(x->timed_out);
		assert_int_equal(T.now, x->next_due); /* neither early nor late */
		x->rto = auth_backoff(&T.t, x->rto);
		x->next_due = T.now + x->rto;
	}
	x->sends++;
	assert_true(x->sends <= T.t.max_tries);
	memcpy(x->last, buf, len);
	x->last_len = len;
	return 0;
}

static int lookup(void *ctx, const char *service, const char *client_name,
    const struct cn_coop_addr *client, struct auth_sp_entry *out)
{
	(void)ctx;
	(void)service;
	(void)client_name;
	(void)client;
	memcpy(out->key, T.key, CN_KEY_LEN);
	out->vnic.kind = CN_SENDER_VNIC;
	assert_int_equal(cn_coop_addr_parse(&out->vnic.addr, "198.19.0.10"), 0);
	out->vnic.addr.port = 80;
	assert_true(cn_coop_set_name(&out->vnic, "vnic1"));
	out->vnic_status = CN_VNIC_UP;
	return 0;
}

/* An ID given once in this test is never given again (a committed one is a live session;
 * the model finds exchanges by ID). */
static bool id_in_use(void *ctx, cn_id_t id)
{
	(void)ctx;
	return T.by_id[id] != 0;
}

static int commit(void *ctx, const struct auth_sp_session *s)
{
	(void)ctx;
	(void)s;
	T.commits++;
	return 0;
}

static void client_addr(struct cn_coop_addr *a, size_t i)
{
	memset(a, 0, sizeof(*a));
	a->family = CN_FAM_INET;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[2] = (uint8_t)(1 + ((i + 1) >> 8));
	a->addr[3] = (uint8_t)((i + 1) & 255);
}

/* Client c's Auth-REQ, made by the SS and taken by the SP now. */
static void start(size_t c)
{
	struct auth_ss_request req;
	struct cn_coop_msg m;
	uint64_t handle;

	memset(&req, 0, sizeof(req));
	client_addr(&req.client, c);
	strcpy(req.client_name, "lan");
	strcpy(req.service, "http");
	memcpy(req.key, T.key, CN_KEY_LEN);
	req.header = T.a_sp;
	T.req_len = 0;
	assert_int_equal(auth_ss_start(T.ss, &req, &handle), 0);
	assert_true(T.req_len > 0);
	assert_int_equal(cn_coop_decode(&m, T.req, T.req_len, NULL), CN_COOP_OK);
	memcpy(T.x[c].nonce_ss, m.nonce_ss, CN_COOP_NONCE_LEN);
	T.x[c].accepted = true;
	assert_int_equal(auth_sp_input(T.sp, &T.a_ss, T.req, T.req_len), 0);
	assert_int_equal(T.x[c].sends, 1);
}

/* Client c's exchange completed: its last Auth-REP&REQ to the SS, the SS's Auth-REP back. */
static void complete(size_t c)
{
	struct xch *x = &T.x[c];

	T.rep_len = 0;
	assert_int_equal(auth_ss_input(T.ss, &T.a_sp, x->last, x->last_len), 0);
	assert_true(T.rep_len > 0);
	assert_int_equal(auth_sp_input(T.sp, &T.a_ss, T.rep, T.rep_len), 0);
	x->committed = true;
	x->next_due = UINT64_MAX;
}

static uint64_t model_deadline(void)
{
	uint64_t d = UINT64_MAX;

	for (size_t c = 0; c < CLIENTS; c++)
		if (T.x[c].accepted && T.x[c].next_due < d)
			d = T.x[c].next_due;
	return d;
}

/* The engine's loop, 1 ms steps, for ms: a tick whenever the SP's deadline has passed. */
static void run(uint64_t ms)
{
	for (uint64_t end = T.now + ms; T.now < end;) {
		T.now++;
		T.wall++;
		if (T.now < auth_sp_next_deadline(T.sp))
			continue;
		auth_sp_tick(T.sp);
		assert_true(auth_sp_next_deadline(T.sp) > T.now);
		assert_int_equal(auth_sp_next_deadline(T.sp), model_deadline());
	}
}

static int setup(void **state)
{
	struct auth_ss_ops sso = {
		.ctx = NULL, .now_ms = now_ms, .wall_ms = wall_ms, .send = ss_send, .done = ss_done,
	};
	struct auth_sp_ops spo = {
		.ctx = NULL, .now_ms = now_ms, .wall_ms = wall_ms, .send = sp_send, .lookup = lookup,
		.id_in_use = id_in_use, .commit = commit,
	};
	struct auth_sp_config cfg = { .replay = &T.replay, .max_pending = CLIENTS };
	/* the SS never retransmits here (it is not ticked); it keeps its exchanges long */
	struct auth_timing sst = { .rto_ms = 60000, .rto_max_ms = 60000, .linger_ms = 600000 };

	(void)state;
	if (cn_auth_crypto_init() != 0)
		return -1;
	memset(&T, 0, sizeof(T));
	T.now = 1000;
	T.wall = 1795000000000ull;
	T.t = (struct auth_timing){ .rto_ms = RTO };
	auth_timing_defaults(&T.t);
	cfg.timing = T.t;
	assert_int_equal(cn_coop_addr_parse(&T.a_ss, "198.18.0.1"), 0);
	assert_int_equal(cn_coop_addr_parse(&T.a_sp, "198.18.0.3"), 0);
	T.a_ss.port = T.a_sp.port = 4500;
	memset(T.key, 0x5a, sizeof(T.key));
	T.rmem = cn_replay_mem_new(4 * CLIENTS, 600000);
	if (T.rmem == NULL)
		return -1;
	cn_replay_mem_bind(T.rmem, &T.replay);
	T.ss = auth_ss_new(&sso, &sst, CLIENTS);
	T.sp = auth_sp_new(&spo, &cfg);
	return T.ss && T.sp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	auth_sp_free(T.sp);
	auth_ss_free(T.ss);
	cn_replay_mem_free(T.rmem);
	return 0;
}

/* 2,000 exchanges started over most of a second (two per millisecond, then one), a third of them completed at
 * random moments (their slots leave the heap from anywhere), the freed slots taken again by
 * later exchanges (slot order unrelated to deadline order): every retransmission and every
 * time-out exactly on time, nothing from a completed exchange, the next deadline exact. */
static void test_many_on_time(void **state)
{
	uint64_t r = 0x2545f4914f6cdd1dull;
	size_t first = CLIENTS * 3 / 4, completed = 0;

	(void)state;
	assert_int_equal(auth_sp_next_deadline(T.sp), UINT64_MAX);
	for (size_t c = 0; c < first; c++) {
		if (c % 2 == 0)
			run(1);
		start(c);
	}
	assert_int_equal(auth_sp_next_deadline(T.sp), model_deadline());
	/* past the first retransmissions (from 2.5 s), completing one exchange in three (random) */
	for (int round = 0; round < 120; round++) {
		run(25);
		for (int k = 0; k < 5; k++) {
			size_t c;

			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			c = (size_t)(r % first);
			if (!T.x[c].committed && !T.x[c].timed_out) {
				complete(c);
				completed++;
			}
		}
		assert_int_equal(auth_sp_next_deadline(T.sp), model_deadline());
	}
	assert_int_equal(T.commits, completed);
	assert_true(completed > 300);
	/* the rest start now, in the slots the completed ones left */
	for (size_t c = first; c < CLIENTS; c++) {
		run(1);
		start(c);
	}
	assert_int_equal(auth_sp_next_deadline(T.sp), model_deadline());
	/* until every exchange ended: the give-up time is 2,000 + 500+1000+2000+4000+4000 ms */
	run(20000);
	assert_int_equal(auth_sp_next_deadline(T.sp), UINT64_MAX);
	for (size_t c = 0; c < CLIENTS; c++) {
		assert_true(T.x[c].accepted);
		assert_true(T.x[c].committed != T.x[c].timed_out);
		if (T.x[c].timed_out)
			assert_int_equal(T.x[c].sends, T.t.max_tries);
	}
	assert_int_equal(auth_sp_pending(T.sp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_on_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
