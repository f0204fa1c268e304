/* SPDX-License-Identifier: MIT */
/*
 * The status application's cost, state machines only (authd/status_fsm.c, lib/status.c):
 * an SS machine and an SP machine with N sessions each (default 5,000), joined in memory,
 * run for a simulated minute at the default interval (10 s) with an injected clock.
 *
 *   bench/status_bench [-n SESSIONS] [-s SIMULATED_SECONDS] [-i INTERVAL_MS] [-t STEP_MS] [-S]
 *
 * -t: the simulated event loop's step (default 100 ms): each step ticks both machines and
 * delivers what they sent. -S: the sessions start spread evenly over one interval (as they do
 * on a daemon, one Authentication after another), and a machine is ticked only when its
 * status_next_deadline() has passed, as the engine's loop does (authd/engine_status.c); with
 * -t 1 this is the engine's timer cost for many live sessions (docs/performance.md "Status
 * application": measured with callgrind, --toggle-collect=status_tick).
 *
 * Prints datagrams and bytes per session per minute each way (UDP payload; add 28 bytes of
 * IPv4+UDP header per datagram on the wire), and the SP machine's CPU: its time to send
 * and take every report, as a ratio to a baseline measured in the same run (sealing and
 * checking the same number of proofs over the same bytes, the crypto alone), and as a share
 * of one core at that interval. Not counted: the daemon's socket calls and database writes
 * (bench/status_daemon.sh measures the daemon). The machines are not paced here (-n above
 * 20,000 at 1 s would be, in the engine).
 *
 * Exit 1, without figures, when a session did not get every report or a peer went
 * unreachable: a partial run says nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "status_fsm.h"

struct side {
	struct status_fsm *f;
	struct side *peer;
	struct cn_coop_addr self;
	uint64_t dgrams, bytes, stored, unreachable;
	uint64_t cpu_ns;            /* time spent in this side's machine */
	uint8_t (*q)[CN_COOP_MAX_LEN];
	size_t *qlen, nq, qmax;
};

static uint64_t mono_ms = 1000, wall_ms = 1795000000000ull;

static uint64_t cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t op_now(void *ctx) { (void)ctx; return mono_ms; }
static uint64_t op_wall(void *ctx) { (void)ctx; return wall_ms; }

static int op_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct side *s = ctx;

	(void)to;
	if (s->nq == s->qmax)
		return -1;
	memcpy(s->q[s->nq], buf, len);
	s->qlen[s->nq++] = len;
	s->dgrams++;
	s->bytes += len;
	return 0;
}

static void op_fill(void *ctx, const struct status_session *ss, struct cn_status_body *b)
{
	(void)ctx;
	(void)ss;
	b->u.client.bytes_c2s = 1000; /* the SS's figures; for the SP, the vNIC's below */
	b->u.vnic = (struct cn_status_vnic){ .link = CN_LINK_UP, .health = CN_HEALTH_PASSING,
		.check = CN_CHECK_HTTP, .http_code = 200, .weight = 100, .sessions = 1,
		.conns = CN_STATUS_CONNS_UNKNOWN };
}

static void op_store(void *ctx, const struct status_session *ss, const struct cn_coop_msg *m,
    const struct cn_status_body *b)
{
	(void)ss;
	(void)m;
	(void)b;
	((struct side *)ctx)->stored++;
}

static void op_reach(void *ctx, const struct status_session *ss, bool r)
{
	(void)ss;
	if (!r)
		((struct side *)ctx)->unreachable++;
}

/* Deliver s's queue to its peer, timing the peer's machine. */
static void deliver(struct side *s)
{
	uint64_t t0 = cpu_now();

	for (size_t i = 0; i < s->nq; i++)
		status_input(s->peer->f, &s->self, s->q[i], s->qlen[i]);
	s->peer->cpu_ns += cpu_now() - t0;
	s->nq = 0;
}

static void tick(struct side *s, bool gated)
{
	uint64_t t0;

	if (gated && mono_ms < status_next_deadline(s->f))
		return;
	t0 = cpu_now();
	status_tick(s->f);
	s->cpu_ns += cpu_now() - t0;
}

static int make(struct side *s, enum status_role role, size_t n, uint32_t interval, uint8_t last)
{
	const struct status_ops ops = { .ctx = s, .now_ms = op_now, .wall_ms = op_wall,
		.send = op_send, .fill = op_fill, .store = op_store, .reachability = op_reach };
	/* unpaced: the machines' cost at the interval asked for, whatever N (the engine paces
	 * past 20,000 reports a second, docs/protocol.md "Pacing") */
	const struct status_timing t = { .interval_ms = interval, .max_reports_per_s = UINT32_MAX };

	s->f = status_new(&ops, &t, role, n);
	s->qmax = 2 * n + 16;
	s->q = calloc(s->qmax, sizeof(*s->q));
	s->qlen = calloc(s->qmax, sizeof(*s->qlen));
	s->self.family = CN_FAM_INET;
	s->self.addr[0] = 198;
	s->self.addr[1] = 18;
	s->self.addr[3] = last;
	s->self.port = 7447;
	return s->f && s->q && s->qlen ? 0 : -1;
}

/* The crypto alone: `count` times, seal one datagram of `len` bytes and check one. */
static uint64_t baseline_ns(uint64_t count, size_t len)
{
	uint8_t buf[CN_COOP_MAX_LEN] = { 0 }, key[CN_KEY_LEN] = { 1 };
	uint64_t t0 = cpu_now();
	unsigned ok = 0;

	buf[8] = (uint8_t)(len >> 8);
	buf[9] = (uint8_t)len;
	for (uint64_t i = 0; i < count; i++) {
		buf[20] = (uint8_t)i;
		cn_auth_seal_proof(buf, len, key, CN_DIR_SP_TO_SS);
		ok += cn_auth_check_proof(buf, len, key, CN_DIR_SP_TO_SS);
	}
	if (ok != count)
		return 0;
	return cpu_now() - t0;
}

/* Long (about 80 lines): the benchmark's rows in the order they are printed. */
int main(int argc, char **argv)
{
	size_t n = 5000;
	unsigned secs = 60;
	uint32_t interval = 10000, step = 100;
	bool spread = false;
	struct side ss = { 0 }, sp = { 0 };
	uint64_t base, expect;
	int opt;

	while ((opt = getopt(argc, argv, "n:s:i:t:S")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 's')
			secs = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'i')
			interval = (uint32_t)strtoul(optarg, NULL, 10);
		else if (opt == 't')
			step = (uint32_t)strtoul(optarg, NULL, 10);
		else if (opt == 'S')
			spread = true;
		else
			return fprintf(stderr, "usage: %s [-n SESSIONS] [-s SECONDS] [-i INTERVAL_MS] "
				       "[-t STEP_MS] [-S]\n",
				       argv[0]), 2;
	}
	if (n == 0 || n > 65535 || secs == 0 || secs > 86400 || interval < CN_STATUS_INTERVAL_MIN_MS ||
	    interval > CN_STATUS_INTERVAL_MAX_MS || (uint64_t)secs * 1000 < interval ||
	    step == 0 || step > interval || (secs * 1000u) % step || (spread && (secs * 1000u) % interval) ||
	    cn_auth_crypto_init() < 0 ||
	    make(&ss, STATUS_SS, n, interval, 1) < 0 || make(&sp, STATUS_SP, n, interval, 2) < 0)
		return fprintf(stderr, "status_bench: bad arguments (the run must last at least one interval) or out of memory\n"), 1;
	ss.peer = &sp;
	sp.peer = &ss;
	for (size_t i = 0; i < n; i++) {
		struct status_session s = { .id = (cn_id_t)(i + 1) };
		uint64_t at = 1000 + (spread ? (uint64_t)i * interval / n : 0);

		wall_ms += at - mono_ms;
		mono_ms = at;

		strcpy(s.service, "www");
		memset(s.key, (int)(i & 0xff), sizeof(s.key));
		s.sender.addr = ss.self;
		s.sender.addr.port = 0;
		strcpy(s.sender.name, "lan");
		s.peer = sp.self;
		if (status_add(ss.f, &s) < 0)
			return fprintf(stderr, "status_bench: SS add failed\n"), 1;
		s.peer = ss.self;
		s.sender.addr.port = 80;
		strcpy(s.sender.name, "vnic1");
		if (status_add(sp.f, &s) < 0)
			return fprintf(stderr, "status_bench: SP add failed\n"), 1;
	}
	/* the start-up exchange (REQs and their answers) is not part of the steady minute */
	deliver(&ss);
	deliver(&sp);
	deliver(&ss);
	ss.dgrams = ss.bytes = sp.dgrams = sp.bytes = ss.stored = sp.stored = 0;
	ss.cpu_ns = sp.cpu_ns = 0;
	for (unsigned ms = 0; ms < secs * 1000u; ms += step) {
		mono_ms += step;
		wall_ms += step;
		tick(&ss, spread);
		tick(&sp, spread);
		deliver(&ss);
		deliver(&sp);
	}
	expect = (uint64_t)n * (secs * 1000u / interval);
	if (ss.unreachable || sp.unreachable || ss.stored != expect || sp.stored != expect) {
		fprintf(stderr, "status_bench: incomplete run (stored SS %llu SP %llu of %llu, "
			"unreachable %llu/%llu)\n", (unsigned long long)ss.stored,
			(unsigned long long)sp.stored, (unsigned long long)expect,
			(unsigned long long)ss.unreachable, (unsigned long long)sp.unreachable);
		return 1;
	}
	/* the SP seals each report it sends and checks each one it takes */
	base = baseline_ns(sp.dgrams, (size_t)(sp.bytes / sp.dgrams));
	if (base == 0)
		return fprintf(stderr, "status_bench: baseline failed\n"), 1;
	printf("sessions %zu%s, interval %u ms, step %u ms, simulated %u s\n", n,
	       spread ? " (spread over an interval)" : "", interval, step, secs);
	printf("SS->SP info_client: %.2f datagrams, %.0f bytes per session per minute\n",
	       (double)ss.dgrams / (double)n * 60.0 / secs, (double)ss.bytes / (double)n * 60.0 / secs);
	printf("SP->SS info_vNIC:   %.2f datagrams, %.0f bytes per session per minute\n",
	       (double)sp.dgrams / (double)n * 60.0 / secs, (double)sp.bytes / (double)n * 60.0 / secs);
	printf("SP machine CPU: %.3f s for %u s (%.2f%% of one core); %.2fx the crypto alone "
	       "(%.3f s in the same run)\n", (double)sp.cpu_ns / 1e9, secs,
	       100.0 * (double)sp.cpu_ns / 1e9 / secs, (double)sp.cpu_ns / (double)base,
	       (double)base / 1e9);
	status_free(ss.f);
	status_free(sp.f);
	return 0;
}
