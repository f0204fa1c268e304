/* SPDX-License-Identifier: MIT */
/*
 * The Authentication state machines, run against each other on a simulated network with an
 * injected clock: SS (198.18.0.1), header SP (198.18.0.2), owning SP (198.18.0.3). Every
 * datagram goes through a queue that tests can drop from, duplicate or capture.
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
#define MAXLOG 256

struct dgram {
	struct cn_coop_addr from, to;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
};

struct net {
	uint64_t now, wall;
	int64_t ss_skew;                /* added to the SS's wall clock */
	struct dgram q[MAXQ];
	size_t nq;
	/* Drop rule: drop the next `drop_n` datagrams of this kind on this hop (to). */
	enum cn_coop_kind drop_kind;
	int drop_n;
	bool drop_to_sp_only;           /* only on the hop that ends at the SP */
	/* Every datagram sent, in order (for captures and counts). */
	struct dgram log[MAXLOG];
	size_t nlog;
	size_t sent[CN_KIND_DEV + 1];
	size_t dropped;

	struct cn_coop_addr a_ss, a_hdr, a_sp;
	struct cn_coop_addr a_dead;     /* a header that never answers: its datagrams are lost */
	size_t to_dead;
	struct auth_ss *ss;
	struct auth_header *hdr;
	struct auth_sp *sp;
	struct cn_replay_mem *rmem;
	struct cn_replay replay;

	uint8_t kc[CN_KEY_LEN];         /* the key the SP stores for (http, alice) */
	uint8_t group[CN_KEY_LEN];
	bool sp_has_http;
	bool commit_fails;
	uint8_t ids_in_use[65536];

	struct auth_ss_outcome outcomes[16];
	size_t nout;
	struct auth_sp_session commits[16];
	size_t ncommit;
	size_t events[AUTH_EV_KIND_MAX + 1];
	bool retry_on_rst;
	uint8_t retry_key[CN_KEY_LEN];
	uint32_t lifetime;              /* what the SP grants (info_vNIC) */
	struct auth_ss_outcome lost[4]; /* successes the SP said it never committed */
	size_t nlost;
};

static struct net N;

static uint64_t now_ms(void *ctx) { return ((struct net *)ctx)->now; }
static uint64_t wall_ms(void *ctx) { return ((struct net *)ctx)->wall; }
static uint64_t ss_wall_ms(void *ctx)
{
	struct net *n = ctx;

	return (uint64_t)((int64_t)n->wall + n->ss_skew);
}

static enum cn_coop_kind kind_of(const uint8_t *buf, size_t len)
{
	struct cn_coop_msg m;

	if (cn_coop_decode(&m, buf, len, NULL) != CN_COOP_OK)
		return CN_KIND_INVALID;
	return cn_coop_kind(&m);
}

static int net_send(struct net *n, const struct cn_coop_addr *from, const struct cn_coop_addr *to,
    const uint8_t *buf, size_t len)
{
	enum cn_coop_kind k = kind_of(buf, len);
	struct dgram *d;

	assert_int_not_equal(k, CN_KIND_INVALID); /* the FSMs only send valid datagrams */
	assert_true(n->nlog < MAXLOG);
	d = &n->log[n->nlog++];
	d->from = *from;
	d->to = *to;
	memcpy(d->buf, buf, len);
	d->len = len;
	n->sent[k]++;
	if (n->drop_n > 0 && k == n->drop_kind &&
	    (!n->drop_to_sp_only || cn_coop_addr_equal(to, &n->a_sp, true))) {
		n->drop_n--;
		n->dropped++;
		return 0;
	}
	assert_true(n->nq < MAXQ);
	n->q[n->nq++] = *d;
	return 0;
}

static int ss_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct net *n = ctx;

	return net_send(n, &n->a_ss, to, buf, len);
}

static int hdr_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct net *n = ctx;

	return net_send(n, &n->a_hdr, to, buf, len);
}

static int sp_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct net *n = ctx;

	return net_send(n, &n->a_sp, to, buf, len);
}

static void start_alice(struct net *n, const uint8_t *key, const struct cn_coop_addr *to,
    const char *service);

static void ss_done(void *ctx, const struct auth_ss_outcome *o)
{
	struct net *n = ctx;

	assert_true(n->nout < 16);
	n->outcomes[n->nout++] = *o;
	if (n->retry_on_rst && o->result == AUTH_FAIL_RST) {
		n->retry_on_rst = false;
		start_alice(n, n->retry_key, &n->a_hdr, "http"); /* from inside done() */
	}
}

static void ss_lost(void *ctx, const struct auth_ss_outcome *o)
{
	struct net *n = ctx;

	assert_true(n->nlost < 4);
	n->lost[n->nlost++] = *o;
}

static void on_event(void *ctx, const struct auth_event *ev)
{
	struct net *n = ctx;

	assert_true(ev->kind <= AUTH_EV_KIND_MAX);
	n->events[ev->kind]++;
}

static int route(void *ctx, const char *service, const uint8_t *nonce, struct cn_coop_addr *sp)
{
	struct net *n = ctx;

	(void)nonce;
	if (strcmp(service, "http") == 0 || strcmp(service, "ssh") == 0) {
		*sp = n->a_sp;
		return 0;
	}
	return -1;
}

static int lookup(void *ctx, const char *service, const char *client_name,
    const struct cn_coop_addr *client, struct auth_sp_entry *out)
{
	struct net *n = ctx;
	struct cn_coop_addr allowed;

	if (strcmp(service, "http") != 0 || !n->sp_has_http)
		return -1;
	assert_int_equal(cn_coop_addr_parse(&allowed, "198.18.1.2"), 0);
	if (strcmp(client_name, "alice") != 0 || !cn_coop_addr_equal(client, &allowed, false))
		return -2;
	memcpy(out->key, n->kc, CN_KEY_LEN);
	out->vnic.kind = CN_SENDER_VNIC;
	assert_int_equal(cn_coop_addr_parse(&out->vnic.addr, "198.19.0.10"), 0);
	out->vnic.addr.port = 80;
	assert_true(cn_coop_set_name(&out->vnic, "vnic1"));
	out->vnic.lifetime_s = n->lifetime;
	out->vnic_status = CN_VNIC_UP;
	return 0;
}

static bool id_in_use(void *ctx, cn_id_t id)
{
	return ((struct net *)ctx)->ids_in_use[id] != 0;
}

static int commit(void *ctx, const struct auth_sp_session *s)
{
	struct net *n = ctx;

	if (n->commit_fails)
		return -1;
	assert_true(n->ncommit < 16);
	n->commits[n->ncommit++] = *s;
	n->ids_in_use[s->id] = 1;
	return 0;
}

static void addr(struct cn_coop_addr *a, const char *text, uint16_t port)
{
	assert_int_equal(cn_coop_addr_parse(a, text), 0);
	a->port = port;
}

static int setup(void **state)
{
	struct net *n = &N;
	struct auth_ss_ops sso = {
		.ctx = n, .now_ms = now_ms, .wall_ms = ss_wall_ms, .send = ss_send,
		.done = ss_done, .event = on_event, .lost = ss_lost,
	};
	struct auth_header_ops ho = {
		.ctx = n, .wall_ms = wall_ms, .send = hdr_send, .route = route, .event = on_event,
	};
	struct auth_sp_ops spo = {
		.ctx = n, .now_ms = now_ms, .wall_ms = wall_ms, .send = sp_send, .lookup = lookup,
		.id_in_use = id_in_use, .commit = commit, .event = on_event,
	};
	struct auth_sp_config cfg = {
		.group_key = N.group, .replay = &N.replay, .rl_burst = 3, .rl_per_min = 1,
	};

	(void)state;
	if (cn_auth_crypto_init() != 0)
		return -1;
	memset(n, 0, sizeof(*n));
	n->now = 1000;
	n->wall = 1795000000000ull;
	addr(&n->a_ss, "198.18.0.1", 4500);
	addr(&n->a_hdr, "198.18.0.2", 4500);
	addr(&n->a_sp, "198.18.0.3", 4500);
	addr(&n->a_dead, "198.18.0.9", 4500);
	n->sp_has_http = true;
	assert_int_equal(cn_auth_derive_key(n->kc, "AAA", 3, "http", "alice", CN_KDF_MIN), 0);
	memset(n->group, 0x47, sizeof(n->group));
	n->rmem = cn_replay_mem_new(1024, 120000);
	cn_replay_mem_bind(n->rmem, &n->replay);
	n->ss = auth_ss_new(&sso, NULL, 8);
	n->hdr = auth_header_new(&ho, NULL, n->group);
	n->sp = auth_sp_new(&spo, &cfg);
	if (n->ss == NULL || n->hdr == NULL || n->sp == NULL || n->rmem == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	auth_ss_free(N.ss);
	auth_header_free(N.hdr);
	auth_sp_free(N.sp);
	cn_replay_mem_free(N.rmem);
	return 0;
}

/* Deliver everything queued (and what that produces), in order. */
static void deliver(struct net *n)
{
	for (int guard = 0; n->nq > 0; guard++) {
		struct dgram d = n->q[0];

		assert_true(guard < 1000);
		memmove(n->q, n->q + 1, (n->nq - 1) * sizeof(n->q[0]));
		n->nq--;
		if (cn_coop_addr_equal(&d.to, &n->a_dead, true)) {
			n->to_dead++;
		} else if (cn_coop_addr_equal(&d.to, &n->a_ss, true)) {
			auth_ss_input(n->ss, &d.from, d.buf, d.len);
		} else if (cn_coop_addr_equal(&d.to, &n->a_hdr, true)) {
			assert_int_not_equal(auth_header_input(n->hdr, &d.from, d.buf, d.len),
			    AUTH_HDR_LOCAL);
		} else if (cn_coop_addr_equal(&d.to, &n->a_sp, true)) {
			auth_sp_input(n->sp, &d.from, d.buf, d.len);
		} else {
			fail_msg("datagram to an unknown address");
		}
	}
}

/* Advance the clock to the next deadline of either side and run the timers. */
static bool advance(struct net *n)
{
	uint64_t a = auth_ss_next_deadline(n->ss), b = auth_sp_next_deadline(n->sp);
	uint64_t next = a < b ? a : b;

	if (next == UINT64_MAX)
		return false;
	if (next > n->now) {
		n->wall += next - n->now;
		n->now = next;
	}
	auth_ss_tick(n->ss);
	auth_sp_tick(n->sp);
	return true;
}

static void run(struct net *n)
{
	deliver(n);
	for (int i = 0; i < 100 && (auth_ss_pending(n->ss) > 0 || auth_sp_pending(n->sp) > 0); i++) {
		assert_true(advance(n));
		deliver(n);
	}
}

static void start_alice(struct net *n, const uint8_t *key, const struct cn_coop_addr *to,
    const char *service)
{
	struct auth_ss_request req;
	uint64_t h;

	memset(&req, 0, sizeof(req));
	addr(&req.client, "198.18.1.2", 0);
	strcpy(req.client_name, "alice");
	strcpy(req.service, service);
	memcpy(req.key, key, CN_KEY_LEN);
	req.header = *to;
	assert_int_equal(auth_ss_start(n->ss, &req, &h), 0);
}

static void assert_success(struct net *n)
{
	const struct auth_ss_outcome *o = &n->outcomes[n->nout - 1];
	const struct auth_sp_session *s = &n->commits[n->ncommit - 1];
	struct cn_coop_addr client;

	assert_int_equal(o->result, AUTH_OK);
	assert_int_not_equal(o->id, 0);
	assert_int_equal(s->id, o->id);
	assert_true(cn_coop_addr_equal(&o->sp, &n->a_sp, true)); /* the owner answered */
	addr(&client, "198.18.1.2", 0);
	assert_true(cn_coop_addr_equal(&s->client, &client, false)); /* bound to the client */
	assert_true(cn_coop_addr_equal(&s->ss, &n->a_ss, true));
	assert_string_equal(s->service, "http");
	assert_string_equal(s->client_name, "alice");
	assert_memory_equal(s->session_key, o->session_key, CN_KEY_LEN);
	assert_string_equal(o->vnic.name, "vnic1");
	assert_int_equal(auth_sp_pending(n->sp), 0);
	assert_int_equal(auth_ss_pending(n->ss), 0);
}

/* Plural headers: the first one is dead; the retransmission after one RTO goes to the
 * second, which answers; the next exchange starts at the second one at once. */
static void start_two_headers(struct net *n)
{
	struct auth_ss_request req;
	uint64_t h;

	memset(&req, 0, sizeof(req));
	addr(&req.client, "198.18.1.2", 0);
	snprintf(req.client_name, sizeof(req.client_name), "alice");
	snprintf(req.service, sizeof(req.service), "http");
	memcpy(req.key, n->kc, CN_KEY_LEN);
	req.headers[0] = n->a_dead;
	req.headers[1] = n->a_hdr;
	req.n_headers = 2;
	assert_int_equal(auth_ss_start(n->ss, &req, &h), 0);
}

static void test_header_failover(void **state)
{
	struct net *n = &N;
	uint64_t t0 = n->now;

	(void)state;
	start_two_headers(n);
	deliver(n);
	assert_int_equal(n->to_dead, 1);
	assert_int_equal(n->nout, 0);
	assert_true(advance(n)); /* one RTO (500 ms by default) */
	deliver(n);
	assert_int_equal(n->nout, 1);
	assert_success(n);
	assert_int_equal(n->now - t0, 500);
	assert_int_equal(n->events[AUTH_EV_HEADER_NEXT], 1);
	assert_int_equal(n->to_dead, 1);
	/* the next exchange goes to the header that worked: no time lost */
	run(n);
	t0 = n->now;
	start_two_headers(n);
	deliver(n);
	assert_int_equal(n->nout, 2);
	assert_int_equal(n->outcomes[1].result, AUTH_OK);
	assert_int_equal(n->now, t0);
	assert_int_equal(n->to_dead, 1);
	assert_int_equal(n->events[AUTH_EV_HEADER_NEXT], 1);
}

/* Both headers dead: the REQ alternates between them and the exchange times out. */
static void test_all_headers_dead(void **state)
{
	struct net *n = &N;
	struct auth_ss_request req;
	uint64_t h;

	(void)state;
	memset(&req, 0, sizeof(req));
	addr(&req.client, "198.18.1.2", 0);
	snprintf(req.client_name, sizeof(req.client_name), "alice");
	snprintf(req.service, sizeof(req.service), "http");
	memcpy(req.key, n->kc, CN_KEY_LEN);
	req.headers[0] = n->a_dead;
	addr(&req.headers[1], "198.18.0.8", 4500);
	req.n_headers = 2;
	n->a_dead = req.headers[0];
	assert_int_equal(auth_ss_start(n->ss, &req, &h), 0);
	deliver(n);
	for (int i = 0; i < 10 && auth_ss_pending(n->ss) > 0; i++) {
		assert_true(advance(n));
		/* the second dead header: its datagrams leave the queue unanswered */
		while (n->nq > 0 && cn_coop_addr_equal(&n->q[0].to, &req.headers[1], true)) {
			memmove(n->q, n->q + 1, (n->nq - 1) * sizeof(n->q[0]));
			n->nq--;
		}
		deliver(n);
	}
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_TIMEOUT);
	assert_int_equal(n->to_dead, 3); /* tries 1, 3, 5 of 5 */
	assert_int_equal(n->events[AUTH_EV_HEADER_NEXT], 4);
	/* more headers than the request holds: refused */
	req.n_headers = AUTH_SS_MAX_HEADERS + 1;
	assert_int_equal(auth_ss_start(n->ss, &req, &h), -1);
}

static void test_success_via_header(void **state)
{
	struct net *n = &N;

	(void)state;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
	assert_int_equal(n->events[AUTH_EV_FORWARDED], 1);
	assert_int_equal(n->sent[CN_KIND_AUTH_REQ], 2); /* SS->header, header->SP */
	assert_int_equal(n->sent[CN_KIND_AUTH_REPREQ], 1);
	assert_int_equal(n->sent[CN_KIND_AUTH_REP], 1);
	/* The passcode is nowhere on the wire, nor the key. */
	for (size_t i = 0; i < n->nlog; i++) {
		assert_null(memmem(n->log[i].buf, n->log[i].len, "AAA", 3));
		assert_null(memmem(n->log[i].buf, n->log[i].len, n->kc, 8));
	}
	/* After the linger time nothing is left. */
	while (advance(n))
		deliver(n);
	assert_int_equal(auth_ss_next_deadline(n->ss), UINT64_MAX);
}

static void test_success_direct(void **state)
{
	struct net *n = &N;

	(void)state;
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
	assert_int_equal(n->events[AUTH_EV_FORWARDED], 0);
}

static void lose_one(struct net *n, enum cn_coop_kind kind, bool to_sp_only)
{
	n->drop_kind = kind;
	n->drop_n = 1;
	n->drop_to_sp_only = to_sp_only;
	start_alice(n, n->kc, &n->a_hdr, "http");
	run(n);
	assert_int_equal(n->dropped, 1);
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
}

static void test_loss_req(void **state)
{
	(void)state;
	lose_one(&N, CN_KIND_AUTH_REQ, false); /* SS -> header */
	assert_int_equal(N.events[AUTH_EV_RETRANSMIT], 1);
}

static void test_loss_forwarded_req(void **state)
{
	(void)state;
	lose_one(&N, CN_KIND_AUTH_REQ, true); /* header -> SP */
	assert_int_equal(N.events[AUTH_EV_FORWARDED], 2);
}

static void test_loss_repreq(void **state)
{
	(void)state;
	lose_one(&N, CN_KIND_AUTH_REPREQ, false);
	/* Answered again: either the SS's retransmitted REQ (a duplicate) or the SP's timer. */
	assert_true(N.events[AUTH_EV_DUPLICATE] + N.events[AUTH_EV_RETRANSMIT] >= 1);
	assert_true(N.sent[CN_KIND_AUTH_REPREQ] >= 2);
}

static void test_loss_rep(void **state)
{
	(void)state;
	lose_one(&N, CN_KIND_AUTH_REP, false);
	/* The SP resent REP&REQ, the lingering SS resent the same REP. */
	assert_int_equal(N.sent[CN_KIND_AUTH_REP], 2);
	assert_int_equal(N.sent[CN_KIND_AUTH_REPREQ], 2);
	assert_int_equal(N.events[AUTH_EV_DUPLICATE], 1);
	assert_memory_equal(N.outcomes[0].session_key, N.commits[0].session_key, CN_KEY_LEN);
}

static void test_ss_timeout_backoff(void **state)
{
	struct net *n = &N;
	uint64_t t[8];
	size_t nt = 0;
	uint64_t start = n->now;

	(void)state;
	n->drop_kind = CN_KIND_AUTH_REQ;
	n->drop_n = 1000;
	start_alice(n, n->kc, &n->a_hdr, "http");
	t[nt++] = n->now - start;
	while (auth_ss_pending(n->ss) > 0) {
		size_t before = n->sent[CN_KIND_AUTH_REQ];

		assert_true(advance(n));
		if (n->sent[CN_KIND_AUTH_REQ] > before) {
			assert_true(nt < 8);
			t[nt++] = n->now - start;
		}
	}
	/* 5 transmissions at 0, 0.5, 1.5, 3.5, 7.5 s; given up at 11.5 s (cap 4 s). */
	assert_int_equal(nt, 5);
	assert_int_equal(t[1], 500);
	assert_int_equal(t[2], 1500);
	assert_int_equal(t[3], 3500);
	assert_int_equal(t[4], 7500);
	assert_int_equal(n->now - start, 11500);
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_TIMEOUT);
	assert_int_equal(n->events[AUTH_EV_TIMEOUT], 1);
	assert_int_equal(n->ncommit, 0);
}

/* Every Auth-REP is lost: the SS reported success, the SP never committed. The SP gives up
 * after max_tries and says so with an authenticated Auth-RST timeout; the lingering SS takes
 * it and reports the success lost (the daemon revokes the session it stored). */
static void test_sp_timeout_discards(void **state)
{
	struct net *n = &N;
	uint64_t start = n->now;

	(void)state;
	n->drop_kind = CN_KIND_AUTH_REP;
	n->drop_n = 1000;
	start_alice(n, n->kc, &n->a_hdr, "http");
	run(n);
	assert_int_equal(n->ncommit, 0);
	assert_int_equal(auth_sp_pending(n->sp), 0);
	assert_int_equal(n->sent[CN_KIND_AUTH_REPREQ], 5); /* max_tries, then discarded */
	assert_true(n->events[AUTH_EV_TIMEOUT] >= 1);
	assert_int_equal(n->outcomes[0].result, AUTH_OK);
	assert_int_equal(n->nout, 1);
	/* the SP gave up at 13.5 s (0.5 + 2 s for both gates, then 1, 2, 4, 4) and sent one
	 * Auth-RST timeout */
	assert_int_equal(n->now - start, 13500);
	assert_int_equal(n->sent[CN_KIND_AUTH_RST], 1);
	assert_int_equal(n->nlost, 1);
	assert_int_equal(n->lost[0].handle, n->outcomes[0].handle);
	assert_int_equal(n->lost[0].id, n->outcomes[0].id);
	assert_int_equal(n->lost[0].error, CN_AUTHERR_TIMEOUT);
	assert_true(n->lost[0].rst_authenticated);
	assert_string_equal(n->lost[0].service, "http");
	assert_true(cn_coop_addr_equal(&n->lost[0].client, &n->outcomes[0].client, false));
	/* the exchange is gone: nothing lingers */
	assert_int_equal(auth_ss_next_deadline(n->ss), UINT64_MAX);
}

/* Only the SP that holds K_c can void a success: an Auth-RST timeout for a lingering exchange
 * without a proof, with a wrong one, with another error code or another nonce_sp is dropped. */
static void test_rst_timeout_needs_proof(void **state)
{
	struct net *n = &N;
	struct cn_coop_msg repreq, echo;
	uint8_t bad[CN_KEY_LEN], buf[AUTH_FSM_BUFLEN];
	size_t len, i;

	(void)state;
	start_alice(n, n->kc, &n->a_hdr, "http");
	run(n);
	assert_success(n);
	for (i = 0; i < n->nlog; i++)
		if (kind_of(n->log[i].buf, n->log[i].len) == CN_KIND_AUTH_REPREQ)
			break;
	assert_true(i < n->nlog);
	assert_int_equal(cn_coop_decode(&repreq, n->log[i].buf, n->log[i].len, NULL), CN_COOP_OK);
	memset(&echo, 0, sizeof(echo));
	memcpy(echo.nonce_ss, repreq.nonce_ss, sizeof(echo.nonce_ss));
	memcpy(echo.nonce_sp, repreq.nonce_sp, sizeof(echo.nonce_sp));
	strcpy(echo.service, "http");
	assert_int_equal(cn_auth_derive_key(bad, "AAB", 3, "http", "alice", CN_KDF_MIN), 0);

	/* no proof (an on-path attacker who saw both nonces) */
	assert_int_equal(auth_build_rst(buf, sizeof(buf), &len, &echo, CN_AUTHERR_TIMEOUT, NULL,
	    n->wall), 0);
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	/* a wrong key */
	assert_int_equal(auth_build_rst(buf, sizeof(buf), &len, &echo, CN_AUTHERR_TIMEOUT, bad,
	    n->wall), 0);
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	assert_int_equal(n->events[AUTH_EV_BAD_PROOF], 1);
	/* the right key, but another error */
	assert_int_equal(auth_build_rst(buf, sizeof(buf), &len, &echo, CN_AUTHERR_INTERNAL, n->kc,
	    n->wall), 0);
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	/* the right key, another nonce_sp */
	echo.nonce_sp[0] ^= 1;
	assert_int_equal(auth_build_rst(buf, sizeof(buf), &len, &echo, CN_AUTHERR_TIMEOUT, n->kc,
	    n->wall), 0);
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	assert_int_equal(n->nlost, 0);
	/* what the SP sends: taken */
	echo.nonce_sp[0] ^= 1;
	assert_int_equal(auth_build_rst(buf, sizeof(buf), &len, &echo, CN_AUTHERR_TIMEOUT, n->kc,
	    n->wall), 0);
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), 0);
	assert_int_equal(n->nlost, 1);
	assert_int_equal(n->lost[0].id, n->outcomes[0].id);
	/* once: the exchange is gone */
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	assert_int_equal(n->nlost, 1);
}

/* The SP's lifetime reaches the SS in info_vNIC (proved with the rest). */
static void test_lifetime_to_ss(void **state)
{
	struct net *n = &N;

	(void)state;
	n->lifetime = 3600;
	start_alice(n, n->kc, &n->a_hdr, "http");
	run(n);
	assert_success(n);
	assert_int_equal(n->outcomes[0].vnic.lifetime_s, 3600);
}

/* The SS lingers long enough for the SP's give-up, whatever the timing. */
static void test_linger_covers_sp_giveup(void **state)
{
	struct auth_timing t = { .rto_ms = 1000, .rto_max_ms = 30000, .max_tries = 6 };

	(void)state;
	auth_timing_defaults(&t);
	/* 2 (both gates) + 1 + 2 + 4 + 8 + 16 + 30 = 63 s */
	assert_true(t.linger_ms >= 63000);
	memset(&t, 0, sizeof(t));
	auth_timing_defaults(&t);
	assert_true(t.linger_ms >= 13500); /* 11.5 s + AUTH_SP_FIRST_EXTRA_MS */
}

static void test_duplicates_idempotent(void **state)
{
	struct net *n = &N;
	struct dgram req, rep;

	(void)state;
	start_alice(n, n->kc, &n->a_sp, "http");
	req = n->q[0];
	n->q[n->nq++] = req; /* the network duplicates the REQ */
	deliver(n);
	assert_int_equal(n->ncommit, 1);
	assert_int_equal(n->events[AUTH_EV_DUPLICATE] >= 1, 1);
	assert_int_equal(n->sent[CN_KIND_AUTH_REPREQ], 2); /* the same answer twice */
	assert_memory_equal(n->log[1].buf, n->log[2].buf, n->log[1].len);
	/* A duplicated REP after the commit changes nothing. */
	for (size_t i = 0; i < n->nlog; i++)
		if (kind_of(n->log[i].buf, n->log[i].len) == CN_KIND_AUTH_REP)
			rep = n->log[i];
	assert_int_equal(auth_sp_input(n->sp, &rep.from, rep.buf, rep.len), -1);
	assert_int_equal(n->ncommit, 1);
	assert_int_equal(n->nout, 1);
}

static void test_replay_after_success(void **state)
{
	struct net *n = &N;
	struct dgram req, fwd;
	size_t sends;

	(void)state;
	start_alice(n, n->kc, &n->a_hdr, "http");
	req = n->q[0];
	deliver(n);
	assert_int_equal(n->ncommit, 1);
	fwd = n->log[1];
	assert_int_equal(kind_of(fwd.buf, fwd.len), CN_KIND_AUTH_REQ);
	sends = n->nlog;
	/* The same REQ bytes again, through the header and straight to the SP. */
	n->wall += 1000;
	n->now += 1000;
	assert_int_equal(auth_header_input(n->hdr, &req.from, req.buf, req.len),
	    AUTH_HDR_FORWARDED);
	deliver(n);
	assert_int_equal(auth_sp_input(n->sp, &fwd.from, fwd.buf, fwd.len), -1);
	assert_int_equal(auth_sp_input(n->sp, &req.from, req.buf, req.len), -1);
	assert_int_equal(n->events[AUTH_EV_REPLAY], 3);
	assert_int_equal(n->ncommit, 1);
	assert_int_equal(auth_sp_pending(n->sp), 0);
	/* Only the header's forward was sent: the SP answers a replay with nothing. */
	assert_int_equal(n->nlog, sends + 1);
	/* From another host (the attacker), after the window: refused as stale. */
	n->wall += 60000;
	{
		struct cn_coop_addr evil;

		addr(&evil, "198.18.0.66", 4500);
		assert_int_equal(auth_sp_input(n->sp, &evil, req.buf, req.len), -1);
	}
	assert_int_equal(n->events[AUTH_EV_STALE], 1);
	assert_int_equal(n->ncommit, 1);
}

/* An Auth-REQ from the SS's address, changed at byte off (a forgery: its proof fails). */
static void forge(struct net *n, const struct dgram *req, size_t off, uint32_t salt)
{
	struct dgram d = *req;

	if (off == 76) { /* the client's name: printable, NUL padded */
		memset(d.buf + off, 0, CN_COOP_NAME_LEN);
		snprintf((char *)d.buf + off, CN_COOP_NAME_LEN, "x%u", salt);
	}
	else
		memcpy(d.buf + off, &salt, sizeof(salt));
	auth_sp_input(n->sp, &n->a_ss, d.buf, d.len);
}

static void test_wrong_passcode_rate_limited(void **state)
{
	struct net *n = &N;
	uint8_t bad[CN_KEY_LEN];
	struct dgram req;
	size_t rsts;

	(void)state;
	assert_int_equal(cn_auth_derive_key(bad, "AAB", 3, "http", "alice", CN_KDF_MIN), 0);
	for (int i = 0; i < 3; i++) {
		start_alice(n, bad, &n->a_hdr, "http");
		deliver(n);
		assert_int_equal(n->outcomes[i].result, AUTH_FAIL_RST);
		assert_int_equal(n->outcomes[i].error, CN_AUTHERR_DENIED);
	}
	assert_int_equal(n->events[AUTH_EV_BAD_PROOF], 3);
	/* Out of tokens (burst 3): the right passcode still gets in at once, its proof is
	 * checked before any limit (someone else's failures never lock a valid proof out). */
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
	/* A fourth wrong proof from the same source: dropped without a reply. */
	for (size_t i = 0; i < n->nlog; i++)
		if (kind_of(n->log[i].buf, n->log[i].len) == CN_KIND_AUTH_REQ &&
		    cn_coop_addr_equal(&n->log[i].to, &n->a_hdr, true))
			req = n->log[i]; /* the genuine one from the SS, forged below */
	rsts = n->sent[CN_KIND_AUTH_RST];
	forge(n, &req, 24, 1);
	assert_int_equal(n->events[AUTH_EV_RATE_LIMITED], 1);
	assert_int_equal(n->events[AUTH_EV_BAD_PROOF], 3);
	assert_int_equal(n->sent[CN_KIND_AUTH_RST], rsts);
	/* A minute later one token is back (1 per minute): a wrong proof is answered again
	 * (the wall clock stays: the forged REQ is not stale). */
	n->now += 60000;
	forge(n, &req, 24, 2);
	assert_int_equal(n->events[AUTH_EV_BAD_PROOF], 4);
	assert_int_equal(n->sent[CN_KIND_AUTH_RST], rsts + 1);
}

/* 2,000 forged REQs with the SS's address (wrong proofs, unknown clients), from one source
 * and from many: a handful of Auth-RSTs, and the SS's genuine Authentication gets in at once. */
static void test_spoofed_flood(void **state)
{
	struct net *n = &N;
	struct dgram req, orig;
	struct cn_coop_addr other;
	size_t rsts;

	(void)state;
	n->drop_kind = CN_KIND_AUTH_REQ; /* keep a genuine REQ to forge from, undelivered */
	n->drop_n = 1;
	start_alice(n, n->kc, &n->a_sp, "http");
	req = n->log[n->nlog - 1];
	orig = req;
	assert_int_equal(kind_of(req.buf, req.len), CN_KIND_AUTH_REQ);
	rsts = n->sent[CN_KIND_AUTH_RST];
	for (uint32_t i = 0; i < 1000; i++)
		forge(n, &req, 24, i + 1);          /* nonce_ss: a wrong proof */
	for (uint32_t i = 0; i < 1000; i++)
		forge(n, &req, 76, i + 1);          /* the client's name: unknown client */
	assert_int_equal(n->sent[CN_KIND_AUTH_RST] - rsts, 3); /* the source's burst */
	assert_int_equal(n->events[AUTH_EV_RATE_LIMITED], 1997);
	/* spoofed sources all different: the reply budget (20) bounds the Auth-RSTs in all */
	for (uint32_t i = 0; i < 500; i++) {
		addr(&other, "198.18.0.9", (uint16_t)(1000 + i));
		other.addr[3] = (uint8_t)i;
		other.addr[2] = (uint8_t)(i >> 8);
		memcpy(req.buf + 24, &i, sizeof(i));
		auth_sp_input(n->sp, &other, req.buf, req.len);
	}
	assert_true(n->sent[CN_KIND_AUTH_RST] - rsts <= 3 + 20);
	n->nq = 0; /* the Auth-RSTs went to the forged sources */
	/* the genuine REQ of the SS (held back until now): answered at once, and completed */
	assert_int_equal(auth_sp_input(n->sp, &n->a_ss, orig.buf, orig.len), 0);
	deliver(n);
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
}

static void test_unknown_client(void **state)
{
	struct net *n = &N;
	struct auth_ss_request req;
	uint64_t h;

	(void)state;
	memset(&req, 0, sizeof(req));
	addr(&req.client, "198.18.1.99", 0); /* not alice's address */
	strcpy(req.client_name, "alice");
	strcpy(req.service, "http");
	memcpy(req.key, n->kc, CN_KEY_LEN);
	req.header = n->a_hdr;
	assert_int_equal(auth_ss_start(n->ss, &req, &h), 0);
	deliver(n);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[0].error, CN_AUTHERR_DENIED);
	assert_int_equal(n->events[AUTH_EV_UNKNOWN_CLIENT], 1);
	assert_int_equal(n->ncommit, 0);
}

static void test_stale_timestamp(void **state)
{
	struct net *n = &N;

	(void)state;
	n->ss_skew = -31000; /* the SS's clock is 31 s behind */
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[0].error, CN_AUTHERR_STALE);
	assert_int_equal(n->events[AUTH_EV_STALE], 1);
	assert_int_equal(n->ncommit, 0);
	/* Straight to the SP: the SP checks the window too. */
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(n->outcomes[1].error, CN_AUTHERR_STALE);
	/* Within the window it works. */
	n->ss_skew = 29000;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->ncommit, 1);
}

static void test_reserved_bits(void **state)
{
	struct net *n = &N;
	struct dgram req;

	(void)state;
	start_alice(n, n->kc, &n->a_sp, "http");
	req = n->q[0];
	n->nq = 0;
	req.buf[5] |= 0x80; /* a reserved control flag */
	assert_int_equal(auth_sp_input(n->sp, &req.from, req.buf, req.len), -1);
	req.buf[5] &= 0x7f;
	req.buf[7] |= 0x08; /* a reserved cooperative flag */
	assert_int_equal(auth_sp_input(n->sp, &req.from, req.buf, req.len), -1);
	assert_int_equal(auth_header_input(n->hdr, &req.from, req.buf, req.len), AUTH_HDR_DROPPED);
	assert_int_equal(n->events[AUTH_EV_DECODE_ERROR], 3);
	assert_int_equal(n->nlog, 1); /* nothing answered */
	/* A flipped bit that the decoder accepts is caught by the proof. */
	req.buf[7] &= (uint8_t)~0x08;
	req.buf[100] = 'X'; /* the service name */
	assert_int_equal(auth_sp_input(n->sp, &req.from, req.buf, req.len), -1);
	assert_int_equal(n->ncommit, 0);
}

static void test_unknown_service(void **state)
{
	struct net *n = &N;

	(void)state;
	start_alice(n, n->kc, &n->a_hdr, "ftp");
	deliver(n);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[0].error, CN_AUTHERR_UNKNOWN_SERVICE);
	assert_false(n->outcomes[0].rst_authenticated);
	assert_int_equal(n->events[AUTH_EV_UNKNOWN_SERVICE], 1);
	/* Routed by the header but not hosted by the SP (stale group list). */
	n->sp_has_http = false;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->outcomes[1].error, CN_AUTHERR_UNKNOWN_SERVICE);
}

static void test_forged_forward_and_rst(void **state)
{
	struct net *n = &N;
	struct dgram fwd;
	uint8_t buf[CN_COOP_MAX_LEN];
	struct cn_coop_msg m;
	size_t len;

	(void)state;
	n->drop_kind = CN_KIND_AUTH_REQ;
	n->drop_n = 1;
	n->drop_to_sp_only = true;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	fwd = n->log[1];
	/* Redirect the answer to a victim: the group MAC no longer matches. */
	fwd.buf[CN_COOP_OFF_FWD + 7] = 77;
	assert_int_equal(auth_sp_input(n->sp, &fwd.from, fwd.buf, fwd.len), -1);
	assert_int_equal(n->events[AUTH_EV_BAD_MAC], 1);
	/* An RST with the right nonce but a forged proof does not end the exchange. */
	assert_int_equal(cn_coop_decode(&m, n->log[0].buf, n->log[0].len, NULL), CN_COOP_OK);
	{
		struct cn_coop_msg r;

		cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
		r.error = CN_AUTHERR_DENIED;
		r.timestamp_ms = n->wall;
		memcpy(r.nonce_ss, m.nonce_ss, 16);
		memset(r.proof, 0x33, 32);
		assert_int_equal(cn_coop_encode(&r, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	}
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	assert_int_equal(n->events[AUTH_EV_BAD_PROOF], 1);
	assert_int_equal(n->nout, 0);
	/* An RST for a nonce we never used is ignored too. */
	buf[24] ^= 1;
	assert_int_equal(auth_ss_input(n->ss, &n->a_sp, buf, len), -1);
	assert_int_equal(n->events[AUTH_EV_NO_EXCHANGE], 1);
	run(n); /* the retransmission still succeeds */
	assert_int_equal(n->ncommit, 1);
	assert_success(n);
}

static void test_retry_after_rst(void **state)
{
	struct net *n = &N;
	uint8_t bad[CN_KEY_LEN];

	(void)state;
	memset(bad, 1, sizeof(bad));
	n->retry_on_rst = true;
	memcpy(n->retry_key, n->kc, CN_KEY_LEN);
	start_alice(n, bad, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->nout, 2);
	assert_int_equal(n->outcomes[0].result, AUTH_FAIL_RST);
	assert_success(n);
}

static void test_ids_unique_and_busy(void **state)
{
	struct net *n = &N;
	struct auth_ss_request req;
	uint64_t h;

	(void)state;
	/* Every ID but two is taken by live sessions: the SP finds a free one. */
	memset(n->ids_in_use, 1, sizeof(n->ids_in_use));
	n->ids_in_use[0x6141] = 0;
	n->ids_in_use[0x0102] = 0;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_true(n->commits[0].id == 0x6141 || n->commits[0].id == 0x0102);
	/* Same (client, service) twice at once: EBUSY. */
	n->drop_kind = CN_KIND_AUTH_REQ;
	n->drop_n = 1;
	start_alice(n, n->kc, &n->a_hdr, "ssh");
	memset(&req, 0, sizeof(req));
	addr(&req.client, "198.18.1.2", 0);
	strcpy(req.client_name, "alice");
	strcpy(req.service, "ssh");
	req.header = n->a_hdr;
	assert_int_equal(auth_ss_start(n->ss, &req, &h), -1);
	/* Bad requests: EINVAL. */
	strcpy(req.service, "bad service");
	assert_int_equal(auth_ss_start(n->ss, &req, &h), -1);
	assert_int_equal(auth_ss_cancel(n->ss, 9999), -1);
	/* No free ID at all: Auth-RST no-id. */
	n->ids_in_use[0x6141] = n->ids_in_use[0x0102] = 1;
	assert_int_equal(auth_ss_cancel(n->ss, 2), 0);
	assert_int_equal(n->outcomes[1].result, AUTH_FAIL_CANCELLED);
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->outcomes[2].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[2].error, CN_AUTHERR_NO_ID);
	assert_true(n->outcomes[2].rst_authenticated);
}

static void test_commit_failure(void **state)
{
	struct net *n = &N;

	(void)state;
	n->commit_fails = true;
	start_alice(n, n->kc, &n->a_hdr, "http");
	deliver(n);
	assert_int_equal(n->ncommit, 0);
	assert_int_equal(auth_sp_pending(n->sp), 0);
	assert_int_equal(n->sent[CN_KIND_AUTH_RST], 1); /* told, with a proof */
}

static int replay_add_fails(void *ctx, const uint8_t digest[CN_DIGEST_LEN], uint64_t ts_ms)
{
	(void)ctx;
	(void)digest;
	(void)ts_ms;
	return -1;
}

/* The SP under load (issue 11: bench/auth_bench reached this with an uninitialised event
 * callback): a valid REQ finds no free exchange slot, or its replay digest cannot be
 * recorded. Either way the SS gets an authenticated Auth-RST internal, nothing is
 * committed, the refusal is counted as "overloaded", and a NULL event callback is safe. */
static void test_sp_overloaded(void **state)
{
	struct net *n = &N;
	struct auth_sp_ops spo = {
		.ctx = n, .now_ms = now_ms, .wall_ms = wall_ms, .send = sp_send, .lookup = lookup,
		.id_in_use = id_in_use, .commit = commit, .event = on_event,
	};
	struct auth_sp_config cfg = { .replay = &n->replay, .max_pending = 1 };
	struct cn_replay failing = { .ctx = n->rmem, .seen = n->replay.seen,
				     .add = replay_add_fails };

	(void)state;
	auth_sp_free(n->sp);
	assert_non_null(n->sp = auth_sp_new(&spo, &cfg));
	/* exchange 1 takes the only slot; its Auth-REP&REQ is lost, so the slot stays taken */
	n->drop_kind = CN_KIND_AUTH_REPREQ;
	n->drop_n = 1;
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(auth_sp_pending(n->sp), 1);
	/* the SS gives up on it and asks again: a valid REQ, and no slot for it */
	assert_int_equal(auth_ss_cancel(n->ss, 1), 0);
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(n->events[AUTH_EV_OVERLOADED], 1);
	assert_int_equal(n->nout, 2);
	assert_int_equal(n->outcomes[1].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[1].error, CN_AUTHERR_INTERNAL);
	assert_true(n->outcomes[1].rst_authenticated); /* not a forgery: the SP's proof */
	assert_int_equal(n->ncommit, 0);
	assert_int_equal(auth_sp_pending(n->sp), 1); /* exchange 1 keeps its slot */

	/* the replay cache refuses the digest, and the SP has no event callback at all */
	auth_sp_free(n->sp);
	spo.event = NULL;
	cfg.replay = &failing;
	assert_non_null(n->sp = auth_sp_new(&spo, &cfg));
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(n->nout, 3);
	assert_int_equal(n->outcomes[2].result, AUTH_FAIL_RST);
	assert_int_equal(n->outcomes[2].error, CN_AUTHERR_INTERNAL);
	assert_int_equal(n->ncommit, 0);
	assert_int_equal(auth_sp_pending(n->sp), 0);
}

/* Issue 11: the SP's pending exchanges indexed by ID and digest follow the slots: the ID of
 * an exchange waiting for its Auth-REP is pending, it is found by the resent REP&REQ's
 * answer, and it is free again once committed or given up. */
static void test_sp_index_follows_slots(void **state)
{
	struct net *n = &N;
	cn_id_t id;

	(void)state;
	n->drop_kind = CN_KIND_AUTH_REP; /* the SS's Auth-REP is lost: the exchange stays */
	n->drop_n = 1;
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(n->nout, 1);
	assert_int_equal(n->outcomes[0].result, AUTH_OK);
	id = n->outcomes[0].id;
	assert_int_equal(auth_sp_pending(n->sp), 1);
	assert_true(auth_sp_id_pending(n->sp, id));
	assert_false(auth_sp_id_pending(n->sp, (cn_id_t)(id ^ 1)));
	assert_int_equal(n->ncommit, 0);
	/* the SP resends its REP&REQ, the SS answers again: found by ID, committed, freed */
	run(n);
	assert_int_equal(n->ncommit, 1);
	assert_int_equal(n->commits[0].id, id);
	assert_int_equal(auth_sp_pending(n->sp), 0);
	assert_false(auth_sp_id_pending(n->sp, id));
	/* an exchange the SP gives up on (every REP lost) frees its ID too */
	n->drop_kind = CN_KIND_AUTH_REP;
	n->drop_n = 100;
	start_alice(n, n->kc, &n->a_sp, "http");
	deliver(n);
	assert_int_equal(auth_sp_pending(n->sp), 1);
	id = n->outcomes[1].id;
	assert_true(auth_sp_id_pending(n->sp, id));
	for (int i = 0; i < 100 && auth_sp_pending(n->sp) > 0; i++) {
		if (!advance(n))
			break;
		deliver(n);
	}
	assert_int_equal(auth_sp_pending(n->sp), 0);
	assert_false(auth_sp_id_pending(n->sp, id));
	assert_int_equal(n->ncommit, 1);
}

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k <= AUTH_EV_KIND_MAX; k++)
		assert_string_not_equal(auth_event_name((enum auth_event_kind)k), "unknown");
	assert_string_equal(auth_result_name(AUTH_FAIL_TIMEOUT), "timeout");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* ------------------------------------------------------------------ revocation */

/* Two ends of sessions, each with an auth_rv, on a lossy link of their own. */
struct rv_side {
	struct auth_rv *rv;
	struct cn_coop_addr addr;
	struct cn_replay_mem *rmem;
	struct cn_replay replay;
	struct { cn_id_t id; uint8_t key[CN_KEY_LEN]; bool live; } sess[4];
	int revoked;          /* revoked() calls */
	uint8_t revoked_key[CN_KEY_LEN];
	int acked, unacked;
};

static struct {
	uint64_t now, wall;
	struct rv_side ss, sp;
	struct dgram q[MAXQ];
	size_t nq;
	struct dgram last_revoke;  /* the last Auth-RST revoked sent (a capture) */
	int drop_revokes, drop_acks;
	size_t events[AUTH_EV_KIND_MAX + 1];
	size_t revokes_sent, acks_sent;
} R;

static uint64_t rv_now(void *ctx) { (void)ctx; return R.now; }
static uint64_t rv_wall(void *ctx) { (void)ctx; return R.wall; }

static int rv_send_op(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct rv_side *me = ctx;
	struct dgram *d;
	enum cn_coop_kind k = kind_of(buf, len);

	assert_true(k == CN_KIND_AUTH_RST || k == CN_KIND_AUTH_REPRST);
	if (k == CN_KIND_AUTH_RST) {
		R.revokes_sent++;
		R.last_revoke.from = me->addr;
		R.last_revoke.to = *to;
		memcpy(R.last_revoke.buf, buf, len);
		R.last_revoke.len = len;
		if (R.drop_revokes > 0) {
			R.drop_revokes--;
			return 0;
		}
	} else {
		R.acks_sent++;
		if (R.drop_acks > 0) {
			R.drop_acks--;
			return 0;
		}
	}
	assert_true(R.nq < MAXQ);
	d = &R.q[R.nq++];
	d->from = me->addr;
	d->to = *to;
	memcpy(d->buf, buf, len);
	d->len = len;
	return 0;
}

static size_t rv_keys_op(void *ctx, cn_id_t id, const char *service,
    const struct cn_coop_addr *from, uint8_t (*keys)[CN_KEY_LEN], size_t max)
{
	struct rv_side *me = ctx;
	size_t n = 0;

	(void)from;
	if (strcmp(service, "http") != 0)
		return 0;
	for (size_t i = 0; i < 4 && n < max; i++)
		if (me->sess[i].live && me->sess[i].id == id)
			memcpy(keys[n++], me->sess[i].key, CN_KEY_LEN);
	return n;
}

static void rv_revoked_op(void *ctx, cn_id_t id, const char *service,
    const uint8_t key[CN_KEY_LEN], const struct cn_coop_addr *from)
{
	struct rv_side *me = ctx;

	(void)service;
	(void)from;
	me->revoked++;
	memcpy(me->revoked_key, key, CN_KEY_LEN);
	for (size_t i = 0; i < 4; i++)
		if (me->sess[i].live && me->sess[i].id == id &&
		    memcmp(me->sess[i].key, key, CN_KEY_LEN) == 0)
			me->sess[i].live = false;
}

static void rv_result_op(void *ctx, cn_id_t id, const char *service,
    const struct cn_coop_addr *to, bool acked)
{
	struct rv_side *me = ctx;

	(void)id;
	(void)service;
	(void)to;
	if (acked)
		me->acked++;
	else
		me->unacked++;
}

static void rv_event_op(void *ctx, const struct auth_event *ev)
{
	(void)ctx;
	R.events[ev->kind]++;
}

static void rv_side_init(struct rv_side *s, const char *addr, enum cn_proof_dir dir)
{
	struct auth_rv_ops ops = {
		.ctx = s, .now_ms = rv_now, .wall_ms = rv_wall, .send = rv_send_op,
		.keys = rv_keys_op, .revoked = rv_revoked_op, .result = rv_result_op,
		.event = rv_event_op,
	};
	struct auth_rv_config cfg = { .dir = dir };

	assert_int_equal(cn_coop_addr_parse(&s->addr, addr), 0);
	s->addr.port = 7447;
	s->rmem = cn_replay_mem_new(256, 120000);
	assert_non_null(s->rmem);
	cn_replay_mem_bind(s->rmem, &s->replay);
	cfg.replay = &s->replay;
	s->rv = auth_rv_new(&ops, &cfg);
	assert_non_null(s->rv);
}

/* One session (ID 0x6141, http) known to both ends with the same K_s. */
static int rv_setup(void **state)
{
	(void)state;
	memset(&R, 0, sizeof(R));
	R.now = 1000;
	R.wall = 1795000000000ull;
	rv_side_init(&R.ss, "198.18.0.1", CN_DIR_SS_TO_SP);
	rv_side_init(&R.sp, "198.18.0.3", CN_DIR_SP_TO_SS);
	for (int i = 0; i < 2; i++) {
		struct rv_side *s = i ? &R.sp : &R.ss;
		s->sess[0].id = 0x6141;
		memset(s->sess[0].key, 0x42, CN_KEY_LEN);
		s->sess[0].live = true;
	}
	return 0;
}

static int rv_teardown(void **state)
{
	(void)state;
	auth_rv_free(R.ss.rv);
	auth_rv_free(R.sp.rv);
	cn_replay_mem_free(R.ss.rmem);
	cn_replay_mem_free(R.sp.rmem);
	return 0;
}

static void rv_deliver(void)
{
	for (int guard = 0; R.nq > 0 && guard < 100; guard++) {
		struct dgram d = R.q[0];
		struct rv_side *to = cn_coop_addr_equal(&d.to, &R.ss.addr, true) ? &R.ss : &R.sp;

		memmove(R.q, R.q + 1, (R.nq - 1) * sizeof(R.q[0]));
		R.nq--;
		auth_rv_input(to->rv, &d.from, d.buf, d.len);
	}
}

static void rv_advance(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		R.now += 100;
		R.wall += 100;
		auth_rv_tick(R.ss.rv);
		auth_rv_tick(R.sp.rv);
		rv_deliver();
	}
}

/* The SP revokes (e.g. coopnetctl revoke): its local copy is gone; the SS's goes at once. */
static void test_revoke_sp_to_ss(void **state)
{
	uint8_t key[CN_KEY_LEN];

	(void)state;
	memset(key, 0x42, sizeof(key));
	R.sp.sess[0].live = false;
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0); /* once */
	assert_int_equal(R.revokes_sent, 1);
	assert_int_equal(auth_rv_pending(R.sp.rv), 1);
	rv_deliver();
	assert_int_equal(R.ss.revoked, 1);
	assert_false(R.ss.sess[0].live);
	assert_memory_equal(R.ss.revoked_key, key, CN_KEY_LEN);
	assert_int_equal(R.sp.acked, 1);
	assert_int_equal(auth_rv_pending(R.sp.rv), 0);
	assert_int_equal(R.events[AUTH_EV_REVOKED], 1);
	assert_int_equal(R.events[AUTH_EV_REVOKE_ACKED], 1);
	/* nothing more to send: no timers but the kept acknowledgement */
	rv_advance(60000);
	assert_int_equal(R.revokes_sent, 1);
	assert_int_equal(auth_rv_next_deadline(R.sp.rv), UINT64_MAX);
	assert_int_equal(auth_rv_next_deadline(R.ss.rv), UINT64_MAX);
}

/* The same from the SS to the SP (a revoke on the SS reaches the SP). */
static void test_revoke_ss_to_sp(void **state)
{
	uint8_t key[CN_KEY_LEN];

	(void)state;
	memset(key, 0x42, sizeof(key));
	R.ss.sess[0].live = false;
	assert_int_equal(auth_rv_send(R.ss.rv, &R.sp.addr, 0x6141, "http", key), 0);
	rv_deliver();
	assert_int_equal(R.sp.revoked, 1);
	assert_false(R.sp.sess[0].live);
	assert_int_equal(R.ss.acked, 1);
}

/* Lost revocations are resent (same bytes, backoff 0.5 s, 1 s); a lost acknowledgement
 * makes the peer answer the retransmission again without revoking twice. */
static void test_revoke_retries(void **state)
{
	uint8_t key[CN_KEY_LEN], first[CN_COOP_MAX_LEN];

	(void)state;
	memset(key, 0x42, sizeof(key));
	R.drop_revokes = 2;
	R.drop_acks = 1;
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	memcpy(first, R.last_revoke.buf, R.last_revoke.len);
	rv_advance(400);
	assert_int_equal(R.revokes_sent, 1);
	rv_advance(100);                       /* 0.5 s: second, lost */
	assert_int_equal(R.revokes_sent, 2);
	assert_memory_equal(R.last_revoke.buf, first, R.last_revoke.len);
	rv_advance(1000);                      /* 1.5 s: third, arrives; its ack is lost */
	assert_int_equal(R.revokes_sent, 3);
	assert_int_equal(R.ss.revoked, 1);
	assert_int_equal(R.sp.acked, 0);
	rv_advance(2000);                      /* 3.5 s: fourth: a duplicate, answered again */
	assert_int_equal(R.revokes_sent, 4);
	assert_int_equal(R.ss.revoked, 1);
	assert_int_equal(R.events[AUTH_EV_DUPLICATE], 1);
	assert_int_equal(R.sp.acked, 1);
	assert_int_equal(R.sp.unacked, 0);
	assert_int_equal(R.events[AUTH_EV_RETRANSMIT], 3);
}

/* No answer at all: max_tries (5) transmissions, then result(!acked), 11.5 s after. */
static void test_revoke_gives_up(void **state)
{
	uint8_t key[CN_KEY_LEN];

	(void)state;
	memset(key, 0x42, sizeof(key));
	R.drop_revokes = 100;
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	rv_advance(11400);
	assert_int_equal(R.revokes_sent, 5);
	assert_int_equal(R.sp.unacked, 0);
	rv_advance(100);
	assert_int_equal(R.revokes_sent, 5);
	assert_int_equal(R.sp.unacked, 1);
	assert_int_equal(auth_rv_pending(R.sp.rv), 0);
	assert_true(R.ss.sess[0].live);
}

/* A forged revocation (any key but K_s), one reflected back to its sender, and one with a
 * changed ID or byte revoke nothing. */
static void test_revoke_forged(void **state)
{
	uint8_t wrong[CN_KEY_LEN], key[CN_KEY_LEN];
	struct dgram d;

	(void)state;
	memset(wrong, 0x43, sizeof(wrong));
	memset(key, 0x42, sizeof(key));
	R.drop_revokes = 1;
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", wrong), 0);
	d = R.last_revoke;
	assert_int_equal(auth_rv_input(R.ss.rv, &d.from, d.buf, d.len), -1);
	assert_int_equal(R.ss.revoked, 0);
	assert_true(R.ss.sess[0].live);
	assert_int_equal(R.events[AUTH_EV_BAD_PROOF], 1);

	/* the SS's own revocation (with the right K_s) sent back to it: direction differs */
	R.drop_revokes = 1;
	assert_int_equal(auth_rv_send(R.ss.rv, &R.sp.addr, 0x6141, "http", key), 0);
	d = R.last_revoke;
	assert_int_equal(auth_rv_input(R.ss.rv, &R.sp.addr, d.buf, d.len), -1);
	assert_true(R.ss.sess[0].live);

	/* every byte flipped in turn: refused (decoder, window or proof) */
	R.drop_revokes = 1;
	R.sp.sess[0].live = true;
	auth_rv_free(R.sp.rv);
	cn_replay_mem_free(R.sp.rmem);
	rv_side_init(&R.sp, "198.18.0.3", CN_DIR_SP_TO_SS); /* forget the pending one */
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	d = R.last_revoke;
	for (size_t i = 0; i < d.len; i++) {
		struct dgram x = d;

		x.buf[i] ^= 0x01;
		assert_int_equal(auth_rv_input(R.ss.rv, &x.from, x.buf, x.len), -1);
	}
	assert_int_equal(R.ss.revoked, 0);
	assert_true(R.ss.sess[0].live);
	/* the genuine bytes work */
	assert_int_equal(auth_rv_input(R.ss.rv, &d.from, d.buf, d.len), 0);
	assert_int_equal(R.ss.revoked, 1);
}

/* A captured revocation replayed after its acknowledgement was forgotten: the replay cache
 * refuses it, even when a new session took the same ID with the same key (a worst case the
 * session key normally rules out). Outside the window: stale. */
static void test_revoke_replay_and_stale(void **state)
{
	uint8_t key[CN_KEY_LEN];
	struct dgram d;

	(void)state;
	memset(key, 0x42, sizeof(key));
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	d = R.last_revoke;
	rv_deliver();
	assert_int_equal(R.ss.revoked, 1);
	rv_advance(28000);                      /* past linger (27 s): the answer is forgotten */
	R.ss.sess[0].live = true;
	assert_int_equal(auth_rv_input(R.ss.rv, &d.from, d.buf, d.len), -1);
	assert_int_equal(R.events[AUTH_EV_REPLAY], 1);
	assert_int_equal(R.ss.revoked, 1);
	assert_true(R.ss.sess[0].live);
	rv_advance(10000);                      /* 38 s after: outside the 30 s window */
	assert_int_equal(auth_rv_input(R.ss.rv, &d.from, d.buf, d.len), -1);
	assert_int_equal(R.events[AUTH_EV_STALE], 1);
	assert_true(R.ss.sess[0].live);
}

/* Both ends revoke the same session at once: each takes the other's revocation as the
 * acknowledgement of its own; nothing is retried. */
static void test_revoke_crossed(void **state)
{
	uint8_t key[CN_KEY_LEN];

	(void)state;
	memset(key, 0x42, sizeof(key));
	R.ss.sess[0].live = R.sp.sess[0].live = false;
	assert_int_equal(auth_rv_send(R.ss.rv, &R.sp.addr, 0x6141, "http", key), 0);
	assert_int_equal(auth_rv_send(R.sp.rv, &R.ss.addr, 0x6141, "http", key), 0);
	rv_deliver();
	assert_int_equal(R.ss.acked, 1);
	assert_int_equal(R.sp.acked, 1);
	assert_int_equal(R.ss.revoked + R.sp.revoked, 0); /* neither had a live one left */
	rv_advance(15000);
	assert_int_equal(R.revokes_sent, 2);
	assert_int_equal(R.ss.unacked + R.sp.unacked, 0);
}

/* The codec: an Auth-RST revoked needs the ID, service and proof; other RSTs may not carry
 * an ID; Auth-REP&RST decodes. */
static void test_revoke_codec(void **state)
{
	struct cn_coop_msg m, d;
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
	struct cn_coop_diag diag;

	(void)state;
	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_RST | CN_CTL_ERROR);
	m.error = CN_AUTHERR_REVOKED;
	m.timestamp_ms = 1;
	memset(m.nonce_ss, 1, sizeof(m.nonce_ss));
	assert_true(cn_coop_set_service(&m, "http"));
	memset(m.proof, 7, sizeof(m.proof));
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_E_MISSING);
	assert_string_equal(diag.field, "id");
	m.id = 0x6141;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
	assert_int_equal(d.id, 0x6141);
	assert_true(auth_rv_wants(&d));
	memset(m.nonce_sp, 2, sizeof(m.nonce_sp));
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_E_UNUSED);
	memset(m.nonce_sp, 0, sizeof(m.nonce_sp));
	memset(m.proof, 0, sizeof(m.proof));
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_E_MISSING);
	assert_string_equal(diag.field, "proof");
	m.error = CN_AUTHERR_DENIED;
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, &diag), CN_COOP_E_UNUSED);
	assert_string_equal(diag.field, "id");
	assert_string_equal(cn_auth_error_name(CN_AUTHERR_REVOKED), "revoked");
	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REP | CN_CTL_RST);
	m.id = 0x6141;
	m.timestamp_ms = 1;
	memset(m.nonce_ss, 1, sizeof(m.nonce_ss));
	assert_true(cn_coop_set_service(&m, "http"));
	memset(m.proof, 7, sizeof(m.proof));
	assert_int_equal(cn_coop_encode(&m, buf, sizeof(buf), &len, NULL), CN_COOP_OK);
	assert_int_equal(cn_coop_decode(&d, buf, len, NULL), CN_COOP_OK);
	assert_int_equal(cn_coop_kind(&d), CN_KIND_AUTH_REPRST);
	assert_string_equal(cn_coop_kind_name(CN_KIND_AUTH_REPRST), "Auth-REP&RST");
}

#define TR(f) cmocka_unit_test_setup_teardown(f, rv_setup, rv_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rst_timeout_needs_proof),
		T(test_header_failover),
		T(test_all_headers_dead),
		T(test_lifetime_to_ss),
		T(test_linger_covers_sp_giveup),
		T(test_success_via_header),
		T(test_success_direct),
		T(test_loss_req),
		T(test_loss_forwarded_req),
		T(test_loss_repreq),
		T(test_loss_rep),
		T(test_ss_timeout_backoff),
		T(test_sp_timeout_discards),
		T(test_duplicates_idempotent),
		T(test_replay_after_success),
		T(test_wrong_passcode_rate_limited),
		T(test_spoofed_flood),
		T(test_unknown_client),
		T(test_stale_timestamp),
		T(test_reserved_bits),
		T(test_unknown_service),
		T(test_forged_forward_and_rst),
		T(test_retry_after_rst),
		T(test_ids_unique_and_busy),
		T(test_commit_failure),
		T(test_sp_overloaded),
	T(test_sp_index_follows_slots),
		T(test_names),
		TR(test_revoke_sp_to_ss),
		TR(test_revoke_ss_to_sp),
		TR(test_revoke_retries),
		TR(test_revoke_gives_up),
		TR(test_revoke_forged),
		TR(test_revoke_replay_and_stale),
		TR(test_revoke_crossed),
		TR(test_revoke_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
