/* SPDX-License-Identifier: MIT */
/*
 * Time to the first page for many clients at once, from one process (bench/first_page.sh).
 *
 *   bench/page_load -t ADDR:PORT -a FIRST -n CLIENTS [-u PATH] [-T SECONDS]
 *
 * Client i (0 <= i < CLIENTS) is its own source address FIRST + i (IPv4; the addresses must
 * be local: bench/first_page.sh adds them to the client's namespace). Every socket is opened
 * and bound first (IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect, per address), then
 * every client connects in one tight loop (nonblocking), sends "GET PATH HTTP/1.0" and reads
 * the answer, all in one epoll loop. A client's time runs from just before its connect() to
 * the last byte of the page (Content-Length bytes of body after a "200" status line; without
 * a Content-Length, the server's close). The connect loop's own length is reported
 * (spread_ms) so that a reader sees how "at once" the start was.
 *
 * Success (every client got its page within -T seconds, default 30): one line
 *   PAGES served N p50_ms A p90_ms B p99_ms C max_ms D within_1s K spread_ms S wall_ms W
 *         retrans R
 * (wall_ms: from the first connect() to the last page; retrans: the sum of TCP_INFO
 * tcpi_total_retrans over the clients, SYNs included), exit 0.
 * Otherwise a message naming the first failed client and the counts, no figures, exit 1
 * (exit 2 for a bad argument).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"
#include "clock.h"

#define MAX_CLIENTS 20000
#define MAX_SECONDS 600
#define MAX_PATH    200
#define HDR_MAX     1024 /* status line and headers; a longer head fails the client */

enum cstate { C_CONNECTING, C_READING, C_DONE, C_FAILED };

struct client {
	int fd;
	enum cstate st;
	uint64_t t0, t1;
	size_t hlen;            /* bytes of head kept */
	bool head_done;
	long long clen;         /* Content-Length, -1 when absent */
	long long body;         /* body bytes read */
	unsigned retrans;
	char head[HDR_MAX];
};

struct run {
	struct sockaddr_in target;
	uint32_t first;         /* host order */
	size_t n;
	char path[MAX_PATH + 1];
	double seconds;
	char req[MAX_PATH + 128];
	size_t reqlen;
	struct client *c;
	int ep;
	size_t done, failed;
	size_t first_failed;
	char why[160];
	uint64_t spread_ns;
	uint64_t start_ns;      /* the first connect() */
};

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fprintf(stderr, "usage: page_load -t ADDR:PORT -a FIRST -n CLIENTS [-u PATH] [-T SECONDS]\n");
	exit(2);
}

/* "198.18.2.2:8081" */
static void parse_target(struct sockaddr_in *out, const char *v)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : 0;

	if (!colon || hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, v, hl);
	host[hl] = '\0';
	out->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		goto bad;
	out->sin_port = htons((uint16_t)bench_parse_num("page_load", "t", colon + 1, 1, 65535));
	return;
bad:
	fprintf(stderr, "page_load: -t \"%s\": want IPv4ADDRESS:PORT\n", v);
	exit(2);
}

static void parse_first(uint32_t *out, const char *v)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1) {
		fprintf(stderr, "page_load: -a \"%s\": want an IPv4 address\n", v);
		exit(2);
	}
	*out = ntohl(a.s_addr);
}

/* an absolute path of printable characters without spaces: it goes into the request line */
static void parse_path(char *out, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > MAX_PATH || v[0] != '/')
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~')
			goto bad;
	memcpy(out, v, n + 1);
	return;
bad:
	fprintf(stderr, "page_load: -u \"%s\": want /PATH (1..%d printable characters, no spaces)\n",
		v, MAX_PATH);
	exit(2);
}

static void parse_args(struct run *R, int argc, char **argv)
{
	bool have_t = false, have_a = false;
	int o;

	while ((o = getopt(argc, argv, "t:a:n:u:T:h")) != -1) {
		switch (o) {
		case 't': parse_target(&R->target, optarg); have_t = true; break;
		case 'a': parse_first(&R->first, optarg); have_a = true; break;
		case 'n': R->n = bench_parse_num("page_load", "n", optarg, 1, MAX_CLIENTS); break;
		case 'u': parse_path(R->path, optarg); break;
		case 'T': R->seconds = (double)bench_parse_num("page_load", "T", optarg, 1, MAX_SECONDS); break;
		default: usage();
		}
	}
	if (optind != argc || !have_t || !have_a || R->n == 0)
		usage();
	if ((uint64_t)R->first + R->n - 1 > UINT32_MAX) {
		fprintf(stderr, "page_load: -a + -n runs past 255.255.255.255\n");
		exit(2);
	}
}

/* ------------------------------------------------------------------ clients */

static void fail_client(struct run *R, size_t i, const char *what, int err)
{
	struct client *c = &R->c[i];
	struct in_addr a = { .s_addr = htonl(R->first + (uint32_t)i) };
	char src[INET_ADDRSTRLEN];

	if (c->st == C_DONE || c->st == C_FAILED)
		return;
	c->st = C_FAILED;
	R->failed++;
	if (R->failed == 1) {
		inet_ntop(AF_INET, &a, src, sizeof(src));
		R->first_failed = i;
		snprintf(R->why, sizeof(R->why), "client %s: %s%s%s", src, what, err ? ": " : "",
			 err ? strerror(err) : "");
	}
	if (c->fd >= 0) {
		close(c->fd); /* leaves the epoll set with it */
		c->fd = -1;
	}
}

static void finish(struct run *R, size_t i)
{
	struct client *c = &R->c[i];
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	c->t1 = cn_mono_ns();
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
		c->retrans = ti.tcpi_total_retrans;
	c->st = C_DONE;
	R->done++;
	close(c->fd);
	c->fd = -1;
}

static int open_client(struct run *R, size_t i)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(R->first + (uint32_t)i) };
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	R->c[i].fd = fd;
	R->c[i].clen = -1;
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    epoll_ctl(R->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	return 0;
}

/* The head is complete: "HTTP/1.x 200" and the Content-Length, if any. */
static int parse_head(struct client *c, size_t end)
{
	const char *h = c->head, *p;

	c->head[end] = '\0';
	if (strncmp(h, "HTTP/1.", 7) != 0 || strncmp(h + 8, " 200", 4) != 0)
		return -1;
	for (p = strstr(h, "\r\n"); p && p + 2 < h + end; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0) {
			char *e;
			errno = 0;
			c->clen = strtoll(p + 17, &e, 10);
			if (errno || c->clen < 0 || (*e != '\r' && *e != ' '))
				return -1;
		}
	}
	return 0;
}

/* Bytes of the answer: the head first (kept up to HDR_MAX), the body only counted. */
static int take(struct client *c, const char *buf, size_t n)
{
	if (!c->head_done) {
		size_t room = HDR_MAX - 1 - c->hlen, k = n < room ? n : room;
		char *end;

		memcpy(c->head + c->hlen, buf, k);
		c->hlen += k;
		c->head[c->hlen] = '\0';
		end = strstr(c->head, "\r\n\r\n");
		if (!end)
			return c->hlen == HDR_MAX - 1 ? -1 : 0;
		size_t hend = (size_t)(end - c->head) + 4, before = c->hlen - k;
		c->head_done = true;
		if (parse_head(c, hend - 2) != 0)
			return -1;
		c->body += (long long)(n - (hend - before));
		return 0;
	}
	c->body += (long long)n;
	return 0;
}

static void on_writable(struct run *R, size_t i)
{
	struct client *c = &R->c[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
		fail_client(R, i, "connect", err ? err : errno);
		return;
	}
	if (send(c->fd, R->req, R->reqlen, MSG_NOSIGNAL) != (ssize_t)R->reqlen) {
		fail_client(R, i, "send the request", errno);
		return;
	}
	c->st = C_READING;
	if (epoll_ctl(R->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		fail_client(R, i, "epoll_ctl", errno);
}

static void on_readable(struct run *R, size_t i)
{
	struct client *c = &R->c[i];
	char buf[16384];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			fail_client(R, i, "read", errno);
			return;
		}
		if (n == 0) { /* the server closed */
			if (!c->head_done || (c->clen >= 0 && c->body != c->clen))
				fail_client(R, i, "the page ended early", 0);
			else
				finish(R, i);
			return;
		}
		if (take(c, buf, (size_t)n) != 0) {
			fail_client(R, i, "not an HTTP 200 answer", 0);
			return;
		}
		if (c->head_done && c->clen >= 0 && c->body >= c->clen) {
			if (c->body > c->clen)
				fail_client(R, i, "more body than Content-Length", 0);
			else
				finish(R, i);
			return;
		}
	}
}

/* ------------------------------------------------------------------ run */

static void start_all(struct run *R)
{
	uint64_t s0 = cn_mono_ns();

	R->start_ns = s0;
	for (size_t i = 0; i < R->n; i++) {
		struct client *c = &R->c[i];

		c->t0 = cn_mono_ns();
		if (connect(c->fd, (struct sockaddr *)&R->target, sizeof(R->target)) != 0 &&
		    errno != EINPROGRESS)
			fail_client(R, i, "connect", errno);
	}
	R->spread_ns = cn_mono_ns() - s0;
}

static void loop(struct run *R)
{
	uint64_t deadline = cn_mono_ns() + (uint64_t)(R->seconds * 1e9);
	struct epoll_event ev[256];

	while (R->done + R->failed < R->n) {
		uint64_t now = cn_mono_ns();
		int k;

		if (now >= deadline)
			return;
		k = epoll_wait(R->ep, ev, 256, (int)((deadline - now) / 1000000 + 1));
		if (k < 0 && errno != EINTR) {
			fail_client(R, 0, "epoll_wait", errno);
			return;
		}
		for (int j = 0; j < k; j++) {
			size_t i = (size_t)ev[j].data.u64;

			if (R->c[i].st == C_CONNECTING)
				on_writable(R, i);
			else if (R->c[i].st == C_READING)
				on_readable(R, i);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double rank_ms(const uint64_t *v, size_t n, double p) /* nearest rank */
{
	size_t r = (size_t)(p * (double)n + 0.999999);

	return (double)v[(r ? r : 1) - 1] / 1e6;
}

static int report(struct run *R)
{
	uint64_t *v = calloc(R->n, sizeof(*v));
	size_t within = 0;
	unsigned long long retrans = 0;
	uint64_t last = 0;

	if (!v) {
		fprintf(stderr, "page_load: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < R->n; i++) {
		v[i] = R->c[i].t1 - R->c[i].t0;
		within += v[i] < 1000000000ull;
		retrans += R->c[i].retrans;
		if (R->c[i].t1 > last)
			last = R->c[i].t1;
	}
	qsort(v, R->n, sizeof(*v), cmp_u64);
	printf("PAGES served %zu p50_ms %.1f p90_ms %.1f p99_ms %.1f max_ms %.1f within_1s %zu "
	       "spread_ms %.1f wall_ms %.1f retrans %llu\n", R->n, rank_ms(v, R->n, 0.5),
	       rank_ms(v, R->n, 0.9), rank_ms(v, R->n, 0.99), (double)v[R->n - 1] / 1e6, within,
	       (double)R->spread_ns / 1e6, (double)(last - R->start_ns) / 1e6, retrans);
	free(v);
	return 0;
}

static int raise_nofile(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= n + 16)
		return 0;
	if (rl.rlim_max < n + 16)
		rl.rlim_max = n + 16; /* needs CAP_SYS_RESOURCE (root) */
	rl.rlim_cur = n + 16;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
	struct run R = { .path = "/page", .seconds = 30, .ep = -1 };
	int rc = 1;

	parse_args(&R, argc, argv);
	R.reqlen = (size_t)snprintf(R.req, sizeof(R.req),
				    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: page_load\r\n\r\n",
				    R.path, inet_ntoa(R.target.sin_addr));
	if (raise_nofile(R.n) != 0) {
		fprintf(stderr, "page_load: cannot allow %zu open files: %s (run as root or lower -n)\n",
			R.n + 16, strerror(errno));
		return 1;
	}
	R.c = calloc(R.n, sizeof(*R.c));
	R.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!R.c || R.ep < 0) {
		fprintf(stderr, "page_load: cannot allocate %zu clients: %s\n", R.n, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < R.n; i++)
		R.c[i].fd = -1;
	for (size_t i = 0; i < R.n; i++) {
		if (open_client(&R, i) != 0) {
			struct in_addr a = { .s_addr = htonl(R.first + (uint32_t)i) };
			fprintf(stderr, "page_load: client %s: socket/bind: %s (is the address local?)\n",
				inet_ntoa(a), strerror(errno));
			goto out;
		}
	}
	start_all(&R);
	loop(&R);
	if (R.done == R.n) {
		rc = report(&R);
	} else {
		size_t late = R.n - R.done - R.failed;
		fprintf(stderr, "page_load: %zu of %zu clients got their page, %zu failed, %zu had none "
			"after %.0f s%s%s: no figures\n", R.done, R.n, R.failed, late, R.seconds,
			R.failed ? "; first failure: " : "", R.failed ? R.why : "");
	}
out:
	for (size_t i = 0; i < R.n; i++)
		if (R.c[i].fd >= 0)
			close(R.c[i].fd);
	close(R.ep);
	free(R.c);
	return rc;
}
