/* SPDX-License-Identifier: MIT */
/*
 * The SS side of Authentication with thousands of exchanges at once (authd/auth_ss.c, issue
 * 11 section 7: 2,000 new LAN clients at the same instant): every answer finds its own
 * exchange through the nonce index in any order, a start finds the exchange of its (client,
 * service) in flight, slots are reused, a full table takes the oldest lingering slot or
 * refuses, the earliest deadline is the one a scan of every exchange gives, and
 * auth_ss_recent() tells a session miss that needs no new exchange. The SP's answers are
 * real Auth-REP&REQs sealed with each client's key (lib/authcrypto.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth_fsm.h"
#include "auth_int.h"
#include "authcrypto.h"
#include "coop.h"

#define SLOTS 3000
#define CLIENTS 2500

struct sent {
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	struct cn_coop_addr client;
};

static struct {
	uint64_t now, wall;
	struct auth_ss *ss;
	struct cn_coop_addr header;
	uint8_t key[CN_KEY_LEN];
	struct sent *sent;          /* every Auth-REQ sent, in order */
	size_t n_sent;
	uint64_t *handle_of;        /* client i's handle */
	size_t *ok_for;             /* per client: successes done() reported */
	size_t n_done, n_ok;
	uint64_t last_handle;
} T;

static uint64_t now_ms(void *ctx) { (void)ctx; return T.now; }
static uint64_t wall_ms(void *ctx) { (void)ctx; return T.wall; }

static size_t client_no(const struct cn_coop_addr *a)
{
	return ((size_t)a->addr[2] << 8 | a->addr[3]) - 1;
}

static int on_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;

	(void)ctx;
	(void)to;
	assert_int_equal(cn_coop_decode(&m, buf, len, NULL), CN_COOP_OK);
	if (cn_coop_kind(&m) != CN_KIND_AUTH_REQ)
		return 0; /* an Auth-REP */
	assert_true(T.n_sent < 4 * CLIENTS);
	memcpy(T.sent[T.n_sent].nonce_ss, m.nonce_ss, CN_COOP_NONCE_LEN);
	T.sent[T.n_sent++].client = m.sender.addr;
	return 0;
}

static void on_done(void *ctx, const struct auth_ss_outcome *o)
{
	(void)ctx;
	T.n_done++;
	if (o->result == AUTH_OK) {
		size_t c = client_no(&o->client);

		assert_true(c < CLIENTS);
		assert_int_equal(o->handle, T.handle_of[c]); /* its own exchange, not another's */
		T.ok_for[c]++;
		T.n_ok++;
	}
}

static void client(struct cn_coop_addr *a, size_t i)
{
	memset(a, 0, sizeof(*a));
	a->family = CN_FAM_INET;
	a->addr[0] = 198;
	a->addr[1] = 18;
	a->addr[2] = (uint8_t)((i + 1) >> 8);
	a->addr[3] = (uint8_t)((i + 1) & 255);
}

static int start(size_t i, const char *service)
{
	struct auth_ss_request req;
	int r;

	memset(&req, 0, sizeof(req));
	client(&req.client, i);
	strcpy(req.client_name, "lan");
	strcpy(req.service, service);
	memcpy(req.key, T.key, CN_KEY_LEN);
	req.header = T.header;
	r = auth_ss_start(T.ss, &req, &T.last_handle);
	if (r == 0 && i < CLIENTS && !strcmp(service, "http"))
		T.handle_of[i] = T.last_handle;
	return r;
}

/* The SP's answer to sent Auth-REQ k: an Auth-REP&REQ echoing its nonce. */
static int answer(size_t k, cn_id_t id)
{
	struct cn_coop_msg r;
	uint8_t out[CN_COOP_MAX_LEN];
	size_t len;

	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_REQ | CN_CTL_REP);
	r.id = id;
	r.timestamp_ms = T.wall;
	memcpy(r.nonce_ss, T.sent[k].nonce_ss, CN_COOP_NONCE_LEN);
	memset(r.nonce_sp, (int)(k & 0xff) | 1, CN_COOP_NONCE_LEN);
	strcpy(r.service, "http");
	auth_tag_placeholder(r.proof);
	assert_int_equal(cn_coop_encode(&r, out, sizeof(out), &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_auth_seal_proof(out, len, T.key, CN_DIR_SP_TO_SS), 0);
	return auth_ss_input(T.ss, &T.header, out, len);
}

static int setup(void **state)
{
	struct auth_ss_ops ops = {
		.ctx = NULL, .now_ms = now_ms, .wall_ms = wall_ms, .send = on_send, .done = on_done,
	};
	struct auth_timing t = { .rto_ms = 500, .linger_ms = 20000 };

	(void)state;
	if (cn_auth_crypto_init() != 0)
		return -1;
	memset(&T, 0, sizeof(T));
	T.now = 1000;
	T.wall = 1795000000000ull;
	T.header.family = CN_FAM_INET;
	T.header.port = 4500;
	memcpy(T.header.addr, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	memset(T.key, 0x5a, sizeof(T.key));
	T.sent = calloc(4 * CLIENTS, sizeof(*T.sent));
	T.handle_of = calloc(CLIENTS, sizeof(*T.handle_of));
	T.ok_for = calloc(CLIENTS, sizeof(*T.ok_for));
	T.ss = auth_ss_new(&ops, &t, SLOTS);
	return T.sent && T.handle_of && T.ok_for && T.ss ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	auth_ss_free(T.ss);
	free(T.sent);
	free(T.handle_of);
	free(T.ok_for);
	return 0;
}

/* 2,500 exchanges in flight, answered in a shuffled order: each answer completes its own
 * exchange once; a duplicate answer completes nothing more; a start of a pair in flight is
 * EBUSY, of another service not. */
static void test_answers_in_any_order(void **state)
{
	size_t order[CLIENTS];

	(void)state;
	for (size_t i = 0; i < CLIENTS; i++) {
		assert_int_equal(start(i, "http"), 0);
		T.now++; /* deadlines spread over 2.5 s */
	}
	assert_int_equal(T.n_sent, CLIENTS);
	assert_int_equal(auth_ss_pending(T.ss), CLIENTS);
	assert_int_equal(start(7, "http"), -1);              /* in flight: EBUSY */
	assert_int_equal(start(7, "ssh"), 0);                /* another service */
	assert_int_equal(auth_ss_cancel(T.ss, T.last_handle), 0);
	srand(11);
	for (size_t i = 0; i < CLIENTS; i++)
		order[i] = i;
	for (size_t i = CLIENTS - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	for (size_t i = 0; i < CLIENTS; i++)
		assert_int_equal(answer(order[i], (cn_id_t)(order[i] + 1)), 0);
	assert_int_equal(T.n_ok, CLIENTS);
	for (size_t i = 0; i < CLIENTS; i++)
		assert_int_equal(T.ok_for[i], 1);
	assert_int_equal(auth_ss_pending(T.ss), 0);
	/* a duplicate (our Auth-REP lost): answered again from the lingering exchange, no second
	 * success */
	assert_int_equal(answer(order[3], (cn_id_t)(order[3] + 1)), 0);
	assert_int_equal(T.n_ok, CLIENTS);
	/* a nonce nobody sent */
	memset(T.sent[T.n_sent].nonce_ss, 0xee, CN_COOP_NONCE_LEN);
	assert_int_equal(answer(T.n_sent, 9), -1);
}

/* Finished exchanges linger: a new exchange for the same pair may start (a renewal); a full
 * table takes the oldest lingering slot; with every slot waiting, ENOSPC. */
static void test_full_table(void **state)
{
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < SLOTS - 1; i++)
		assert_int_equal(start(i % CLIENTS, i < CLIENTS ? "http" : "ssh"), 0);
	for (size_t k = 0; k < 100; k++)  /* clients 0..99 of http succeed and linger */
		assert_int_equal(answer(k, (cn_id_t)(k + 1)), 0);
	assert_int_equal(start(0, "http"), 0);                /* lingering: a renewal may start */
	assert_int_equal(start(CLIENTS - 1, "smtp"), 0);     /* takes the oldest lingering slot */
	n = auth_ss_pending(T.ss);
	assert_int_equal(n, SLOTS - 1 - 100 + 2);
	while (auth_ss_pending(T.ss) < SLOTS) /* the other 98 lingering slots */
		assert_int_equal(start(n++ % CLIENTS, "imap"), 0);
	assert_int_equal(start(CLIENTS - 2, "pop3"), -1);     /* every slot waits */
	/* a cancelled one frees its slot at once */
	assert_int_equal(auth_ss_cancel(T.ss, T.last_handle), 0);
	assert_int_equal(start(CLIENTS - 2, "pop3"), 0);
}

/* The earliest deadline follows every change, and a tick before it does nothing. */
static void test_deadlines(void **state)
{
	uint64_t t0 = T.now, d;

	(void)state;
	assert_int_equal(auth_ss_next_deadline(T.ss), UINT64_MAX);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(start(i, "http"), 0);
		T.now++;
	}
	assert_int_equal(auth_ss_next_deadline(T.ss), t0 + 500); /* the first REQ + rto_ms */
	T.now = t0 + 499;
	auth_ss_tick(T.ss);
	assert_int_equal(T.n_sent, 1000);                    /* nothing due yet */
	assert_int_equal(answer(0, 1), 0);                   /* the first one is answered */
	/* answered after one transmission: a sample (499 ms), and the header is alive, so the
	 * others wait AUTH_SP_HOLD_MS more before a retransmission */
	d = auth_ss_next_deadline(T.ss);
	assert_true(d > t0 + 500);
	T.now = d - 1;
	auth_ss_tick(T.ss);
	assert_int_equal(T.n_sent, 1000);
	T.now = d;
	auth_ss_tick(T.ss);
	assert_true(T.n_sent > 1000);                        /* the next one retransmitted */
	assert_true(auth_ss_next_deadline(T.ss) > d);
	/* every success lingers 20 s: after that the table is empty again */
	for (size_t k = 1; k < 1000; k++)
		assert_int_equal(answer(k, (cn_id_t)(k + 1)), 0);
	assert_int_equal(auth_ss_pending(T.ss), 0);
	T.now += 20001;
	auth_ss_tick(T.ss);
	assert_int_equal(auth_ss_next_deadline(T.ss), UINT64_MAX);
}

/* auth_ss_recent: in flight, or succeeded within the given time. */
static void test_recent(void **state)
{
	struct cn_coop_addr c0, c1, c2;

	(void)state;
	client(&c0, 0);
	client(&c1, 1);
	client(&c2, 2);
	assert_false(auth_ss_recent(T.ss, &c0, "http", 5000));
	assert_int_equal(start(0, "http"), 0);
	assert_int_equal(start(1, "http"), 0);
	assert_true(auth_ss_recent(T.ss, &c0, "http", 5000)); /* in flight */
	assert_false(auth_ss_recent(T.ss, &c0, "ssh", 5000));
	assert_false(auth_ss_recent(T.ss, &c2, "http", 5000));
	assert_int_equal(answer(0, 1), 0);
	T.now += 4999;
	assert_true(auth_ss_recent(T.ss, &c0, "http", 5000)); /* succeeded 4,999 ms ago */
	T.now += 1;
	assert_false(auth_ss_recent(T.ss, &c0, "http", 5000)); /* 5 s: authenticate again */
	assert_int_equal(start(0, "http"), 0);                  /* a new exchange of the pair */
	assert_true(auth_ss_recent(T.ss, &c0, "http", 5000));
	assert_int_equal(auth_ss_cancel(T.ss, T.last_handle), 0);
	assert_false(auth_ss_recent(T.ss, &c0, "http", 5000)); /* cancelled; the old one is old */
	assert_true(auth_ss_recent(T.ss, &c1, "http", 5000));  /* still waiting (retransmitted) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answers_in_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
