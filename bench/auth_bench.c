/* SPDX-License-Identifier: MIT */
/*
 * How many authentications one provider sustains, and how long one exchange takes.
 *
 *   bench/auth_bench [-n EXCHANGES] [-u]
 *
 * In-process (always): a real SS state machine and a real SP state machine exchange real
 * datagrams through memory. "sp" time is only the SP's work (auth_sp_input for Auth-REQ and
 * Auth-REP: decode, window, digest, replay cache lookup + insert, rate-limit lookup, database
 * lookup callback, proof check, random ID allocation, Auth-REP&REQ encode + seal, Auth-REP
 * proof check, session key, commit callback). The SS's work is timed separately.
 * The baseline is the bare crypto of one exchange on the SP (2 proof checks, 1 seal,
 * 1 digest), measured in the same run, so the state machine's overhead reads as a ratio.
 *
 * Over UDP (-u): the SP runs in a thread on a loopback UDP socket (127.0.0.1, nothing leaves
 * the host); the SS sends an exchange and waits for its end before starting the next, so the
 * figure is the exchange latency over the kernel's UDP path, p50 and p99.
 *
 * Last lines: RESULT auth-per-s <n> (SP-only, in-process) and RESULT auth-latency-us <p50>
 * (over UDP with -u, else in-process full exchange).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth_fsm.h"
#include "clock.h"

static uint64_t clk_now(void *ctx) { (void)ctx; return cn_mono_ns() / 1000000ull; }
static uint64_t clk_wall(void *ctx) { (void)ctx; return cn_real_ms(); }

/* ------------------------------------------------------------------ the two sides */

struct mailbox {
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
	struct cn_coop_addr to;
	int full;
};

struct bench {
	struct mailbox to_sp, to_ss;
	struct cn_coop_addr a_ss, a_sp;
	uint8_t kc[CN_KEY_LEN];
	uint8_t live[65536];
	size_t live_count;
	cn_id_t ring[4096];        /* sessions expire FIFO so the ID space never fills */
	size_t ring_pos;
	uint64_t commits, oks, fails;
	uint64_t events[AUTH_EV_KIND_MAX + 1]; /* what the SP reported (ops.event) */
	int udp_fd;                /* -1 in-process */
};

static struct bench B;

static int mb_put(struct mailbox *mb, const struct cn_coop_addr *to, const uint8_t *buf,
    size_t len)
{
	if (mb->full)
		return -1;
	memcpy(mb->buf, buf, len);
	mb->len = len;
	mb->to = *to;
	mb->full = 1;
	return 0;
}

static int ss_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct bench *b = ctx;

	if (b->udp_fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t sl = cn_coop_addr_to_sockaddr(to, &ss);

		return sendto(b->udp_fd, buf, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ?
		    0 : -1;
	}
	return mb_put(&b->to_sp, to, buf, len);
}

static int sp_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	return mb_put(&((struct bench *)ctx)->to_ss, to, buf, len);
}

static void ss_done(void *ctx, const struct auth_ss_outcome *o)
{
	struct bench *b = ctx;

	if (o->result == AUTH_OK)
		b->oks++;
	else
		b->fails++;
}

static int lookup(void *ctx, const char *service, const char *client_name,
    const struct cn_coop_addr *client, struct auth_sp_entry *out)
{
	struct bench *b = ctx;

	(void)client;
	if (strcmp(service, "http") != 0 || strcmp(client_name, "alice") != 0)
		return -1;
	memcpy(out->key, b->kc, CN_KEY_LEN);
	return 0;
}

static bool id_in_use(void *ctx, cn_id_t id)
{
	return ((struct bench *)ctx)->live[id] != 0;
}

static int commit(void *ctx, const struct auth_sp_session *s)
{
	struct bench *b = ctx;
	cn_id_t *slot = &b->ring[b->ring_pos++ % 4096];

	if (*slot != 0)
		b->live[*slot] = 0; /* the oldest session expires */
	*slot = s->id;
	b->live[s->id] = 1;
	__atomic_fetch_add(&b->commits, 1, __ATOMIC_RELEASE); /* read by main in the UDP run */
	return 0;
}

/* Every refusal the SP makes (an Auth-RST, an overload, a replay, ...) is counted here: a run
 * in which any exchange was refused prints no figures (check_refusals). */
static void sp_event(void *ctx, const struct auth_event *ev)
{
	struct bench *b = ctx;

	if ((unsigned)ev->kind <= AUTH_EV_KIND_MAX)
		b->events[ev->kind]++;
}

/* Hand the datagram the SS sent to the SP, and the other way round (no network). */
static void deliver_to_sp(struct auth_sp *sp)
{
	B.to_sp.full = 0;
	auth_sp_input(sp, &B.a_ss, B.to_sp.buf, B.to_sp.len);
}

static void deliver_to_ss(struct auth_ss *ss)
{
	B.to_ss.full = 0;
	auth_ss_input(ss, &B.a_sp, B.to_ss.buf, B.to_ss.len);
}

static struct auth_sp *make_sp(const struct cn_replay *replay,
    int (*send)(void *, const struct cn_coop_addr *, const uint8_t *, size_t))
{
	const struct auth_sp_ops ops = {
		.ctx = &B, .now_ms = clk_now, .wall_ms = clk_wall, .send = send,
		.lookup = lookup, .id_in_use = id_in_use, .commit = commit, .event = sp_event,
	};
	const struct auth_sp_config cfg = { .replay = replay, .max_pending = 64 };

	return auth_sp_new(&ops, &cfg);
}

/* 0 when the SP refused nothing; else a message naming what it refused, and -1. */
static int check_refusals(const char *run)
{
	static const enum auth_event_kind bad[] = {
		AUTH_EV_RST, AUTH_EV_OVERLOADED, AUTH_EV_NO_ID, AUTH_EV_REPLAY, AUTH_EV_STALE,
		AUTH_EV_BAD_PROOF, AUTH_EV_DECODE_ERROR, AUTH_EV_SEND_FAILED,
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (B.events[bad[i]] == 0)
			continue;
		fprintf(stderr, "auth_bench: %s: the SP reported %llu %s\n", run,
		    (unsigned long long)B.events[bad[i]], auth_event_name(bad[i]));
		r = -1;
	}
	return r;
}

static struct auth_ss *make_ss(void)
{
	const struct auth_ss_ops ops = {
		.ctx = &B, .now_ms = clk_now, .wall_ms = clk_wall, .send = ss_send,
		.done = ss_done, .event = NULL, .lost = NULL,
	};

	return auth_ss_new(&ops, NULL, 4);
}

static void request(struct auth_ss_request *req, const struct cn_coop_addr *to)
{
	memset(req, 0, sizeof(*req));
	cn_coop_addr_parse(&req->client, "198.18.1.2");
	strcpy(req->client_name, "alice");
	strcpy(req->service, "http");
	memcpy(req->key, B.kc, CN_KEY_LEN);
	req->header = *to;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ baseline */

/* The bare crypto an SP does per exchange: check a proof, digest, seal a proof, check one. */
static double baseline_per_s(size_t n)
{
	uint8_t buf[CN_COOP_MAX_LEN], d[CN_DIGEST_LEN];
	struct cn_coop_msg m;
	size_t len;
	uint64_t t0;
	volatile bool sink = false;

	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REQ);
	m.timestamp_ms = cn_real_ms();
	cn_auth_nonce(m.nonce_ss);
	m.sender.kind = CN_SENDER_CLIENT;
	cn_coop_addr_parse(&m.sender.addr, "198.18.1.2");
	cn_coop_set_name(&m.sender, "alice");
	cn_coop_set_service(&m, "http");
	memset(m.proof, 1, sizeof(m.proof));
	cn_coop_encode(&m, buf, sizeof(buf), &len, NULL);
	cn_auth_seal_proof(buf, len, B.kc, CN_DIR_SS_TO_SP);
	t0 = cn_mono_ns();
	for (size_t i = 0; i < n; i++) {
		sink ^= cn_auth_check_proof(buf, len, B.kc, CN_DIR_SS_TO_SP);
		cn_auth_digest(d, buf, len);
		cn_auth_seal_proof(buf, len, B.kc, CN_DIR_SP_TO_SS);
		sink ^= cn_auth_check_proof(buf, len, B.kc, CN_DIR_SS_TO_SP);
		buf[30] ^= d[0];
	}
	(void)sink;
	return (double)n * 1e9 / (double)(cn_mono_ns() - t0);
}

/* ------------------------------------------------------------------ figures */

/* Everything a run measures; printed by main only once every part has succeeded. */
struct figures {
	double base_per_s;                  /* bare crypto */
	size_t n;
	double sp_ns, ss_ns, sp_per_s;      /* in-process, per exchange */
	double p50_us, p99_us;              /* in-process full exchange */
	size_t udp_n;                       /* 0: no UDP run */
	double udp_p50_us, udp_p99_us, udp_per_s;
};

/* ------------------------------------------------------------------ in-process */

/* The SS cannot start the next exchange: the previous one is still waiting (the SP answered
 * nothing: see the SP's events), or the start was refused. */
static int start_failed(size_t i)
{
	fprintf(stderr, "auth_bench: exchange %zu could not start (%s): the previous one got no "
	    "answer\n", i, strerror(errno));
	return -1;
}

/*
 * The replay cache holds every digest of the run (2 n: the run is shorter than keep_ms, so
 * pruning frees nothing). It probes at most 64 slots per insert: sized for 2 n it ran at 76%
 * load, an insert now and then found no slot, and the SP refused that REQ with Auth-RST
 * internal (counted as "overloaded"). 4 n keeps the load under 40%.
 * The timed stages of one run in order, each beside its baseline;
 * split, the timing windows would be spread over helpers and harder to check.
 */
static int in_process(size_t n, struct figures *f)
{
	struct cn_replay_mem *rm = cn_replay_mem_new(n * 4 + 1024, 120000);
	struct cn_replay replay;
	struct auth_sp *sp;
	struct auth_ss *ss;
	struct auth_ss_request req;
	uint64_t *lat = calloc(n, sizeof(*lat));
	uint64_t sp_ns = 0, ss_ns = 0, t0, t1;

	if (rm == NULL || lat == NULL)
		return -1;
	cn_replay_mem_bind(rm, &replay);
	B.udp_fd = -1;
	sp = make_sp(&replay, sp_send);
	ss = make_ss();
	if (sp == NULL || ss == NULL)
		return -1;
	request(&req, &B.a_sp);
	for (size_t i = 0; i < n; i++) {
		uint64_t h;

		t0 = cn_mono_ns();
		if (auth_ss_start(ss, &req, &h) != 0)
			return start_failed(i);
		t1 = cn_mono_ns();
		ss_ns += t1 - t0;
		/* REQ -> SP */
		deliver_to_sp(sp);
		t0 = cn_mono_ns();
		sp_ns += t0 - t1;
		/* REP&REQ -> SS, which sends REP */
		deliver_to_ss(ss);
		t1 = cn_mono_ns();
		ss_ns += t1 - t0;
		deliver_to_sp(sp);
		t0 = cn_mono_ns();
		sp_ns += t0 - t1;
		if ((i & 1023) == 1023)
			cn_replay_mem_prune(rm, cn_real_ms());
	}
	if (B.commits != n || B.oks != n) {
		fprintf(stderr, "in-process: %llu commits, %llu ok for %zu exchanges\n",
		    (unsigned long long)B.commits, (unsigned long long)B.oks, n);
		return -1;
	}
	f->n = n;
	f->sp_ns = (double)sp_ns / (double)n;
	f->ss_ns = (double)ss_ns / (double)n;
	f->sp_per_s = (double)n * 1e9 / (double)sp_ns;

	/* Full exchange latency, one at a time, SS + SP work (no network). */
	for (size_t i = 0; i < n; i++) {
		uint64_t h;

		t0 = cn_mono_ns();
		if (auth_ss_start(ss, &req, &h) != 0)
			return start_failed(n + i);
		deliver_to_sp(sp);
		deliver_to_ss(ss);
		deliver_to_sp(sp);
		lat[i] = cn_mono_ns() - t0;
		if ((i & 1023) == 1023)
			cn_replay_mem_prune(rm, cn_real_ms());
	}
	if (B.commits != 2 * n || B.oks != 2 * n) {
		fprintf(stderr, "in-process latency: %llu commits, %llu ok for %zu exchanges\n",
		    (unsigned long long)B.commits - n, (unsigned long long)B.oks - n, n);
		return -1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	f->p50_us = (double)lat[n / 2] / 1000.0;
	f->p99_us = (double)lat[n * 99 / 100] / 1000.0;
	auth_sp_free(sp);
	auth_ss_free(ss);
	cn_replay_mem_free(rm);
	free(lat);
	return 0;
}

/* ------------------------------------------------------------------ over UDP */

struct udp_sp {
	int fd;
	struct auth_sp *sp;
	volatile int stop;
};

static int udp_server_fd = -1; /* the SP thread's socket */

static int udp_sp_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = cn_coop_addr_to_sockaddr(to, &ss);

	(void)ctx;
	return sendto(udp_server_fd, buf, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ?
	    0 : -1;
}

static void *udp_sp_main(void *arg)
{
	struct udp_sp *u = arg;
	uint8_t buf[CN_COOP_MAX_LEN + 1];

	while (!u->stop) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct cn_coop_addr from;
		ssize_t r = recvfrom(u->fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);

		if (r < 0)
			continue; /* SO_RCVTIMEO: look at stop */
		if (cn_coop_addr_from_sockaddr(&from, (struct sockaddr *)&ss, sl) != 0)
			continue;
		auth_sp_input(u->sp, &from, buf, (size_t)r);
	}
	return NULL;
}

static int udp_socket(struct cn_coop_addr *bound)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		perror("udp socket");
		return -1;
	}
	cn_coop_addr_from_sockaddr(bound, (struct sockaddr *)&ss, sl);
	return fd;
}

static int over_udp(size_t n, struct figures *f)
{
	struct cn_replay_mem *rm = cn_replay_mem_new(n * 2 + 1024, 120000);
	struct cn_replay replay;
	struct udp_sp u = { .fd = -1 };
	struct auth_ss *ss;
	struct auth_ss_request req;
	struct cn_coop_addr a_sp, a_ss;
	uint64_t *lat = calloc(n, sizeof(*lat));
	uint8_t buf[CN_COOP_MAX_LEN + 1];
	pthread_t th;
	uint64_t t_all;
	size_t done = 0;

	if (rm == NULL || lat == NULL)
		return -1;
	cn_replay_mem_bind(rm, &replay);
	if ((u.fd = udp_socket(&a_sp)) < 0 || (B.udp_fd = udp_socket(&a_ss)) < 0)
		return -1;
	udp_server_fd = u.fd;
	/* The SP answers on its own socket. Only the SP thread touches the SP state machine and
	 * the replay cache; the commit counter is read after the join. */
	u.sp = make_sp(&replay, udp_sp_send);
	ss = make_ss();
	if (u.sp == NULL || ss == NULL)
		return -1;
	if (pthread_create(&th, NULL, udp_sp_main, &u) != 0)
		return -1;
	request(&req, &a_sp);
	B.oks = B.fails = B.commits = 0;
	t_all = cn_mono_ns();
	for (size_t i = 0; i < n; i++) {
		uint64_t h, t0 = cn_mono_ns(), before = B.oks + B.fails;

		if (auth_ss_start(ss, &req, &h) != 0)
			break;
		/* Wait for the end of this exchange (bounded: the SS's own time-outs). */
		for (int k = 0; k < 100 && B.oks + B.fails == before; k++) {
			struct sockaddr_storage from;
			socklen_t sl = sizeof(from);
			struct cn_coop_addr src;
			ssize_t r = recvfrom(B.udp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			    &sl);

			if (r < 0) {
				auth_ss_tick(ss);
				continue;
			}
			cn_coop_addr_from_sockaddr(&src, (struct sockaddr *)&from, sl);
			auth_ss_input(ss, &src, buf, (size_t)r);
		}
		lat[done++] = cn_mono_ns() - t0;
	}
	t_all = cn_mono_ns() - t_all;
	/* The last REP may still be in flight: give the SP up to 2 s to commit it. */
	for (int k = 0; k < 40 && __atomic_load_n(&B.commits, __ATOMIC_ACQUIRE) < done; k++)
		usleep(50000);
	u.stop = 1;
	pthread_join(th, NULL);
	qsort(lat, done, sizeof(*lat), cmp_u64);
	f->udp_n = done;
	f->udp_p50_us = done ? (double)lat[done / 2] / 1000.0 : 0;
	f->udp_p99_us = done ? (double)lat[done * 99 / 100] / 1000.0 : 0;
	f->udp_per_s = (double)done * 1e9 / (double)t_all;
	if (B.fails != 0 || done != n || B.commits != n)
		fprintf(stderr, "auth_bench: udp: %zu of %zu exchanges, %llu ok, %llu failed, "
		    "%llu committed\n", done, n, (unsigned long long)B.oks,
		    (unsigned long long)B.fails, (unsigned long long)B.commits);
	close(u.fd);
	close(B.udp_fd);
	auth_sp_free(u.sp);
	auth_ss_free(ss);
	cn_replay_mem_free(rm);
	free(lat);
	return B.fails == 0 && done == n && B.commits == n ? 0 : -1;
}

static void print_figures(const struct figures *f)
{
	printf("baseline (SP crypto only: 2 proof checks, 1 seal, 1 digest): %.0f/s\n",
	    f->base_per_s);
	printf("in-process: %zu exchanges; SP %.0f ns each (%.0f/s), SS %.0f ns each\n", f->n,
	    f->sp_ns, f->sp_per_s, f->ss_ns);
	printf("in-process full exchange: p50 %.1f us, p99 %.1f us\n", f->p50_us, f->p99_us);
	printf("SP state machine vs bare crypto: %.2f of the baseline rate\n",
	    f->sp_per_s / f->base_per_s);
	if (f->udp_n)
		printf("udp loopback: %zu exchanges, all committed; p50 %.1f us, p99 %.1f us; "
		    "%.0f sequential exchanges/s\n", f->udp_n, f->udp_p50_us, f->udp_p99_us,
		    f->udp_per_s);
	printf("RESULT auth-per-s %.0f\n", f->sp_per_s);
	printf("RESULT auth-latency-us %.1f\n", f->udp_n ? f->udp_p50_us : f->p50_us);
}

int main(int argc, char **argv)
{
	size_t n = 50000;
	bool udp = false;
	struct figures f = { .udp_n = 0 };
	int c;

	while ((c = getopt(argc, argv, "n:u")) != -1) {
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'u': udp = true; break;
		default:
			fprintf(stderr, "usage: auth_bench [-n EXCHANGES] [-u]\n");
			return 2;
		}
	}
	if (n < 100 || n > 10000000) {
		fprintf(stderr, "auth_bench: -n must be 100..10000000\n");
		return 2;
	}
	if (cn_auth_crypto_init() != 0)
		return 1;
	memset(&B, 0, sizeof(B));
	B.udp_fd = -1;
	cn_coop_addr_parse(&B.a_ss, "198.18.0.1");
	B.a_ss.port = 4500;
	cn_coop_addr_parse(&B.a_sp, "198.18.0.3");
	B.a_sp.port = 4500;
	if (cn_auth_derive_key(B.kc, "AAA", 3, "http", "alice", CN_KDF_MIN) != 0)
		return 1;

	f.base_per_s = baseline_per_s(n);
	/* both run, so the refusals are reported even when the run failed */
	int run_failed = in_process(n, &f) != 0;
	int refused = check_refusals("in-process") != 0;
	if (run_failed || refused) {
		fprintf(stderr, "auth_bench: in-process run failed: no figures\n");
		return 1;
	}
	if (udp) {
		run_failed = over_udp(n / 5 < 20000 ? n / 5 : 20000, &f) != 0;
		refused = check_refusals("udp") != 0;
	}
	if (udp && (run_failed || refused)) {
		fprintf(stderr, "auth_bench: udp run failed: no figures\n");
		return 1;
	}
	print_figures(&f);
	return 0;
}
