/* SPDX-License-Identifier: MIT */
/*
 * Load generator for a real coopnet-authd provider: it plays the SS side of Authentication
 * for many LAN clients and keeps a bounded window of exchanges in flight.
 *
 *   bench/auth_load -t SP[:PORT] -p PASSFILE [-b SRC]... [-a FIRST] [-c CLIENTS] [-A PER]
 *                   [-P PREFIX] [-s SERVICE] [-n EXCHANGES] [-w WINDOW] [-T SECONDS]
 *                   [-k min|moderate|interactive]
 *
 * What the SP checks (authd/auth_sp.c, authd/engine_auth.c op_lookup): the proof with the
 * key of (service, client name), and that the client address in info_client lies in that
 * client's policy prefix. The SS's own address (the datagram's source) is only where the
 * answers go and what the wrong-passcode rate limit counts. So, as a real SS does for its
 * LAN, one source address acts for many clients. Client j (0 <= j < CLIENTS * PER) has the
 * address FIRST + j and the name PREFIX<j / PER>: the policy's entry PREFIX<e> must hold the
 * PER addresses FIRST + e * PER ... (bench/auth_daemon.sh writes such a policy). Keys are
 * derived as the SS derives them (cn_auth_derive_key, one passcode file for every client:
 * the salt differs per client name, so the keys differ).
 *
 * Each exchange: Auth-REQ (sealed with K_c) -> wait for Auth-REP&REQ (window, proof with K_c
 * checked) -> Auth-REP (sealed). A client is never in two exchanges at once. The REQ is
 * resent (same bytes) after 0.5, 1, 2, 4 s and given up after the fifth send, as the SS's
 * state machine does; the last 16384 Auth-REPs are kept and sent again when the SP resends
 * its Auth-REP&REQ (a lost Auth-REP), as the SS's linger does. Latency: first send of the REQ to the arrival of the REP&REQ (when the
 * SS reports success). The SP's work on the Auth-REP (the commit) is not in that latency but
 * it is in the rate: the SP reads its socket in order, so a window slot's next REQ is
 * answered only after the slot's previous REP was committed.
 *
 * Last line: LOAD completed N failed F seconds S per_s R p50_us P p99_us Q rst X retrans Y
 * late Z. Exit 0 when nothing failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "benchutil.h"
#include "authcrypto.h"
#include "clock.h"
#include "coop.h"

#define MAX_SRC     16
#define MAX_WINDOW  4096
#define MAX_CLIENTS (1u << 20)
#define RTO_NS      500000000ull
#define RTO_MAX_NS  4000000000ull
#define MAX_TRIES   5
#define WINDOW_MS   30000

struct slot {
	bool busy;
	uint32_t client;
	int src;
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	uint8_t req[CN_COOP_MAX_LEN];
	size_t reqlen;
	uint64_t t0, deadline, rto;
	unsigned tries;
};

/* A finished exchange, kept as the SS keeps it (linger): if its Auth-REP was lost, the SP
 * resends the Auth-REP&REQ and gets the same Auth-REP again. */
#define LINGER 16384
struct lingering {
	uint8_t nonce_ss[CN_COOP_NONCE_LEN];
	uint8_t rep[CN_COOP_MAX_LEN];
	size_t replen;
	int src;
};

struct load {
	/* configuration */
	struct cn_coop_addr target;
	int fd[MAX_SRC];
	size_t n_src;
	uint32_t first;          /* host order */
	size_t n_clients;        /* addresses: entries * per */
	unsigned per;
	char prefix[12];
	char service[CN_COOP_SERVICE_LEN];
	size_t n, window;
	double seconds;
	/* state */
	uint8_t (*keys)[CN_KEY_LEN]; /* one per policy entry */
	uint8_t *busy;               /* per client address */
	struct slot *slots;
	size_t next_client, started, completed, failed, in_flight;
	uint64_t rst, retrans, late, bad, rep_resent;
	struct lingering *linger;
	size_t linger_pos;
	uint64_t *lat;
};

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fprintf(stderr, "usage: auth_load -t SP[:PORT] -p PASSFILE [-b SRC]... [-a FIRST] "
		"[-c CLIENTS] [-A PER] [-P PREFIX] [-s SERVICE] [-n EXCHANGES] [-w WINDOW] "
		"[-T SECONDS] [-k min|moderate|interactive]\n");
	exit(2);
}

/* "198.18.0.2" or "198.18.0.2:7447" */
static void parse_target(struct cn_coop_addr *out, const char *v)
{
	char host[64];
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : strlen(v);

	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (cn_coop_addr_parse(out, host) != 0 || out->family != CN_FAM_INET)
		goto bad;
	out->port = colon ? (uint16_t)bench_parse_num("auth_load", "t", colon + 1, 1, 65535) : 7447;
	return;
bad:
	fprintf(stderr, "auth_load: -t \"%s\": want an IPv4 address[:port]\n", v);
	exit(2);
}

static int open_src(const char *src, const struct cn_coop_addr *target)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage to;
	socklen_t tl = cn_coop_addr_to_sockaddr(target, &to);
	int buf = 1 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || (src && inet_pton(AF_INET, src, &sin.sin_addr) != 1)) {
		fprintf(stderr, "auth_load: -b \"%s\": want an IPv4 address\n", src ? src : "");
		exit(2);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	/* connected: only the SP's answers reach this socket */
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, tl) != 0) {
		fprintf(stderr, "auth_load: bind %s / connect: %s\n", src ? src : "0.0.0.0",
			strerror(errno));
		exit(1);
	}
	return fd;
}

static int read_passcode(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f || !fgets(out, (int)size, f)) {
		fprintf(stderr, "auth_load: %s: cannot read the passcode\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n ? 0 : -1;
}

static void client_name(const struct load *L, size_t entry, char *out, size_t size)
{
	snprintf(out, size, "%s%zu", L->prefix, entry);
}

static int derive_keys(struct load *L, const char *pass, enum cn_kdf_cost cost)
{
	size_t entries = L->n_clients / L->per;
	char name[40];

	L->keys = sodium_malloc(entries * CN_KEY_LEN);
	if (!L->keys)
		return -1;
	for (size_t e = 0; e < entries; e++) {
		client_name(L, e, name, sizeof(name));
		if (cn_auth_derive_key(L->keys[e], pass, strlen(pass), L->service, name, cost) != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ exchanges */

static void send_req(struct load *L, struct slot *s)
{
	if (send(L->fd[s->src], s->req, s->reqlen, 0) != (ssize_t)s->reqlen)
		L->bad++; /* counted; the retransmission timer covers a lost send */
}

static int start(struct load *L, struct slot *s, uint64_t now)
{
	struct cn_coop_msg m;
	uint32_t c = 0;
	size_t tries;

	for (tries = 0; tries < L->n_clients; tries++) {
		c = (uint32_t)(L->next_client++ % L->n_clients);
		if (!L->busy[c])
			break;
	}
	if (tries == L->n_clients)
		return -1;
	cn_coop_init(&m, CN_COOP_AUTH, CN_CTL_REQ);
	m.timestamp_ms = cn_real_ms();
	cn_auth_nonce(m.nonce_ss);
	m.sender.kind = CN_SENDER_CLIENT;
	m.sender.addr.family = CN_FAM_INET;
	{
		uint32_t a = htonl(L->first + c);
		memcpy(m.sender.addr.addr, &a, 4);
	}
	{
		char name[40];
		client_name(L, c / L->per, name, sizeof(name));
		if (!cn_coop_set_name(&m.sender, name)) {
			fprintf(stderr, "auth_load: client name \"%s\" is too long\n", name);
			exit(2);
		}
	}
	cn_coop_set_service(&m, L->service);
	memset(m.proof, 0xa5, sizeof(m.proof)); /* a non-zero placeholder: sealed below */
	if (cn_coop_encode(&m, s->req, sizeof(s->req), &s->reqlen, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(s->req, s->reqlen, L->keys[c / L->per], CN_DIR_SS_TO_SP) != 0) {
		fprintf(stderr, "auth_load: cannot encode an Auth-REQ\n");
		exit(1);
	}
	s->busy = true;
	s->client = c;
	s->src = (int)(L->started % L->n_src);
	memcpy(s->nonce_ss, m.nonce_ss, sizeof(s->nonce_ss));
	s->t0 = now;
	s->rto = RTO_NS;
	s->deadline = now + s->rto;
	s->tries = 1;
	L->busy[c] = 1;
	L->started++;
	L->in_flight++;
	send_req(L, s);
	return 0;
}

static void finish(struct load *L, struct slot *s, bool ok, uint64_t now)
{
	if (ok)
		L->lat[L->completed++] = now - s->t0;
	else
		L->failed++;
	L->busy[s->client] = 0;
	L->in_flight--;
	s->busy = false;
}

static struct slot *find(struct load *L, const uint8_t nonce_ss[CN_COOP_NONCE_LEN])
{
	for (size_t i = 0; i < L->window; i++)
		if (L->slots[i].busy && sodium_memcmp(L->slots[i].nonce_ss, nonce_ss,
						      CN_COOP_NONCE_LEN) == 0)
			return &L->slots[i];
	return NULL;
}

/* Auth-REP&REQ: check it as the SS does, answer with Auth-REP. */
static void on_repreq(struct load *L, struct slot *s, const uint8_t *buf, size_t len,
		      const struct cn_coop_msg *m, uint64_t now)
{
	const uint8_t *key = L->keys[s->client / L->per];
	struct cn_coop_msg r;
	uint8_t out[CN_COOP_MAX_LEN];
	size_t olen;

	if (strcmp(m->service, L->service) != 0 || !cn_auth_time_ok(m->timestamp_ms, cn_real_ms(),
	    WINDOW_MS) || !cn_auth_check_proof(buf, len, key, CN_DIR_SP_TO_SS)) {
		L->bad++;
		return; /* as the SS: ignore it, the REQ timer runs on */
	}
	cn_coop_init(&r, CN_COOP_AUTH, CN_CTL_REP);
	r.id = m->id;
	r.timestamp_ms = cn_real_ms();
	memcpy(r.nonce_ss, s->nonce_ss, sizeof(r.nonce_ss));
	memcpy(r.nonce_sp, m->nonce_sp, sizeof(r.nonce_sp));
	cn_coop_set_service(&r, L->service);
	memset(r.proof, 0xa5, sizeof(r.proof));
	if (cn_coop_encode(&r, out, sizeof(out), &olen, NULL) != CN_COOP_OK ||
	    cn_auth_seal_proof(out, olen, key, CN_DIR_SS_TO_SP) != 0 ||
	    send(L->fd[s->src], out, olen, 0) != (ssize_t)olen) {
		L->bad++;
		finish(L, s, false, now);
		return;
	}
	{
		struct lingering *g = &L->linger[L->linger_pos++ % LINGER];

		memcpy(g->nonce_ss, s->nonce_ss, sizeof(g->nonce_ss));
		memcpy(g->rep, out, olen);
		g->replen = olen;
		g->src = s->src;
	}
	finish(L, s, true, now);
}

/* The SP resent its Auth-REP&REQ: our Auth-REP was lost. Send the same one again. */
static void answer_again(struct load *L, const struct cn_coop_msg *m)
{
	size_t n = L->linger_pos < LINGER ? L->linger_pos : LINGER;

	for (size_t i = 0; i < n; i++) {
		struct lingering *g = &L->linger[i];

		if (sodium_memcmp(g->nonce_ss, m->nonce_ss, CN_COOP_NONCE_LEN) == 0) {
			if (send(L->fd[g->src], g->rep, g->replen, 0) == (ssize_t)g->replen)
				L->rep_resent++;
			return;
		}
	}
}

static void input(struct load *L, int fd)
{
	uint8_t buf[CN_COOP_MAX_LEN + 1];

	for (int k = 0; k < 64; k++) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct cn_coop_msg m;
		enum cn_coop_kind kind;
		struct slot *s;
		uint64_t now;

		if (len < 0)
			return;
		now = cn_mono_ns();
		if (cn_coop_decode(&m, buf, (size_t)len, NULL) != CN_COOP_OK) {
			L->bad++;
			continue;
		}
		kind = cn_coop_kind(&m);
		if ((s = find(L, m.nonce_ss)) == NULL) {
			L->late++; /* a resent REP&REQ after we finished, or an RST timeout */
			if (kind == CN_KIND_AUTH_REPREQ)
				answer_again(L, &m);
			continue;
		}
		if (kind == CN_KIND_AUTH_REPREQ) {
			on_repreq(L, s, buf, (size_t)len, &m, now);
		} else if (kind == CN_KIND_AUTH_RST) {
			if (L->rst++ < 5)
				fprintf(stderr, "auth_load: Auth-RST %s for client %u\n",
					cn_auth_error_name(m.error), (unsigned)s->client);
			finish(L, s, false, now);
		} else {
			L->bad++;
		}
	}
}

static void timers(struct load *L, uint64_t now)
{
	for (size_t i = 0; i < L->window; i++) {
		struct slot *s = &L->slots[i];

		if (!s->busy || s->deadline > now)
			continue;
		if (s->tries >= MAX_TRIES) {
			finish(L, s, false, now);
			continue;
		}
		s->tries++;
		s->rto = s->rto * 2 > RTO_MAX_NS ? RTO_MAX_NS : s->rto * 2;
		s->deadline = now + s->rto;
		L->retrans++;
		send_req(L, s);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void run(struct load *L)
{
	struct pollfd pfd[MAX_SRC];
	uint64_t t_start = cn_mono_ns(), t_stop = t_start + (uint64_t)(L->seconds * 1e9);
	uint64_t t_end = t_start, drain_until = 0;

	for (size_t i = 0; i < L->n_src; i++)
		pfd[i] = (struct pollfd){ .fd = L->fd[i], .events = POLLIN };
	for (;;) {
		uint64_t now = cn_mono_ns();
		bool more = L->started < L->n && now < t_stop;

		for (size_t i = 0; more && L->started < L->n && i < L->window &&
		     L->in_flight < L->window; i++)
			if (!L->slots[i].busy && start(L, &L->slots[i], now) != 0)
				break;
		if (L->in_flight == 0 && !more)
			break;
		if (!more) {
			if (!drain_until)
				drain_until = now + 3000000000ull; /* bounded: give up on the rest */
			else if (now > drain_until)
				break;
		}
		if (poll(pfd, (nfds_t)L->n_src, 10) < 0 && errno != EINTR) {
			perror("auth_load: poll");
			exit(1);
		}
		for (size_t i = 0; i < L->n_src; i++)
			if (pfd[i].revents & POLLIN)
				input(L, pfd[i].fd);
		now = cn_mono_ns();
		timers(L, now);
		if (L->completed)
			t_end = now;
	}
	L->failed += L->in_flight; /* still open after the drain */
	{
		double secs = (double)(t_end - t_start) / 1e9;
		double per_s = secs > 0 ? (double)L->completed / secs : 0;
		double p50 = 0, p99 = 0;

		if (L->completed) {
			qsort(L->lat, L->completed, sizeof(*L->lat), cmp_u64);
			p50 = (double)L->lat[L->completed / 2] / 1000.0;
			p99 = (double)L->lat[L->completed * 99 / 100] / 1000.0;
		}
		printf("auth_load: %zu exchanges completed, %zu failed in %.2f s (window %zu, "
		       "%zu client addresses, %zu source(s)): %.0f/s; latency p50 %.1f us, "
		       "p99 %.1f us; %llu Auth-RST, %llu REQ resent, %llu late, %llu REP resent, "
		       "%llu bad\n",
		       L->completed, L->failed, secs, L->window, L->n_clients, L->n_src, per_s, p50,
		       p99, (unsigned long long)L->rst, (unsigned long long)L->retrans,
		       (unsigned long long)L->late, (unsigned long long)L->rep_resent,
		       (unsigned long long)L->bad);
		printf("LOAD completed %zu failed %zu seconds %.3f per_s %.0f p50_us %.1f "
		       "p99_us %.1f rst %llu retrans %llu late %llu\n", L->completed, L->failed,
		       secs, per_s, p50, p99, (unsigned long long)L->rst,
		       (unsigned long long)L->retrans, (unsigned long long)L->late);
	}
}

/* Long (about 85 lines): options, then the run's steps in order; nothing here is reused. */
int main(int argc, char **argv)
{
	static struct load L;
	const char *src[MAX_SRC], *passfile = NULL, *first = "198.18.128.0";
	enum cn_kdf_cost cost = CN_KDF_MIN;
	char pass[1100];
	struct in_addr fa;
	size_t entries = 1000;
	bool have_target = false;
	int c;

	L.per = 1;
	L.n = 100000;
	L.window = 64;
	L.seconds = 20;
	snprintf(L.prefix, sizeof(L.prefix), "c");
	snprintf(L.service, sizeof(L.service), "http");
	while ((c = getopt(argc, argv, "t:p:b:a:c:A:P:s:n:w:T:k:")) != -1) {
		switch (c) {
		case 't': parse_target(&L.target, optarg); have_target = true; break;
		case 'p': passfile = optarg; break;
		case 'b':
			if (L.n_src == MAX_SRC)
				usage();
			src[L.n_src++] = optarg;
			break;
		case 'a': first = optarg; break;
		case 'c': entries = bench_parse_num("auth_load", "c", optarg, 1, 4096); break;
		case 'A': L.per = (unsigned)bench_parse_num("auth_load", "A", optarg, 1, 256); break;
		case 'P':
			if (strlen(optarg) > 6)
				usage();
			snprintf(L.prefix, sizeof(L.prefix), "%s", optarg);
			break;
		case 's':
			if (!cn_coop_service_valid(optarg))
				usage();
			snprintf(L.service, sizeof(L.service), "%s", optarg);
			break;
		case 'n': L.n = bench_parse_num("auth_load", "n", optarg, 1, 100000000); break;
		case 'w': L.window = bench_parse_num("auth_load", "w", optarg, 1, MAX_WINDOW); break;
		case 'T': L.seconds = (double)bench_parse_num("auth_load", "T", optarg, 1, 600); break;
		case 'k':
			cost = !strcmp(optarg, "min") ? CN_KDF_MIN : !strcmp(optarg, "moderate") ?
			    CN_KDF_MODERATE : !strcmp(optarg, "interactive") ? CN_KDF_INTERACTIVE :
			    (usage(), CN_KDF_MIN);
			break;
		default: usage();
		}
	}
	if (!have_target || !passfile || optind != argc || inet_pton(AF_INET, first, &fa) != 1)
		usage();
	L.first = ntohl(fa.s_addr);
	L.n_clients = entries * L.per;
	if (L.n_clients > MAX_CLIENTS || L.window > L.n_clients) {
		fprintf(stderr, "auth_load: the window (%zu) must not exceed the client addresses "
			"(%zu): a client is in one exchange at a time\n", L.window, L.n_clients);
		return 2;
	}
	if (cn_auth_crypto_init() != 0 || read_passcode(passfile, pass, sizeof(pass)) != 0)
		return 1;
	if (derive_keys(&L, pass, cost) != 0) {
		fprintf(stderr, "auth_load: key derivation failed\n");
		return 1;
	}
	sodium_memzero(pass, sizeof(pass));
	if (L.n_src == 0)
		src[L.n_src++] = NULL;
	for (size_t i = 0; i < L.n_src; i++)
		L.fd[i] = open_src(src[i], &L.target);
	L.busy = calloc(L.n_clients, 1);
	L.slots = calloc(L.window, sizeof(*L.slots));
	L.lat = calloc(L.n, sizeof(*L.lat));
	L.linger = calloc(LINGER, sizeof(*L.linger));
	if (!L.busy || !L.slots || !L.lat || !L.linger) {
		fprintf(stderr, "auth_load: out of memory\n");
		return 1;
	}
	run(&L);
	for (size_t i = 0; i < L.n_src; i++)
		close(L.fd[i]);
	sodium_free(L.keys);
	free(L.busy);
	free(L.slots);
	free(L.lat);
	free(L.linger);
	return L.failed == 0 && L.completed > 0 ? 0 : 1;
}
