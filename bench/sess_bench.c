/* SPDX-License-Identifier: MIT */
/*
 * The session-table benchmark driver (bench/sessions.sh): against a running coopnet-nfq,
 * through its control socket,
 *   1. session-sync N sessions (chunked) and read the worker's RSS before and after;
 *   2. K single-session session-add requests of new keys, one at a time, then K session-del
 *      requests of the same keys: the latency of each round trip and the rate.
 * Prints one line "name N sync_s add_per_s add_p50_us add_p99_us del_per_s del_p50_us
 * del_p99_us bytes_per_session" and exits 0; or, when an operation does not answer within
 * the deadline, "name N timeout WHAT SECONDS" and exits 3; any other failure: a message on
 * stderr, exit 1, nothing on stdout.
 *
 *   sess_bench NAME SOCKET PID N K DEADLINE_S
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

static int fd = -1;
static double deadline_s;
static const char *name;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "sess_bench %s: %s\n", name, what);
	exit(1);
}

/* Session number i: client 198.18.x.y (i's low 16 bits), service 198.19.0.10, port 1000 +
 * i / 65536 (test addresses only); ID from i, never 0. */
static json_t *session(uint32_t i)
{
	char client[32], id[8];

	snprintf(client, sizeof(client), "198.18.%u.%u", (i >> 8) & 0xff, i & 0xff);
	snprintf(id, sizeof(id), "0x%04x", 1 + i % 0xfffe);
	return json_pack("{s:s, s:s, s:i, s:s}", "client", client, "service", "198.19.0.10",
			 "port", (int)(1000 + (i >> 16)), "id", id);
}

/* One request and its reply within the deadline; exits on failure, returns false on
 * timeout. */
static bool call(json_t *req, const char *what)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool closed = false;
	char err[256];
	json_t *r;
	int n;

	if (ctl_send(fd, req) < 0)
		die("send failed (is coopnet-nfq running?)");
	json_decref(req);
	n = poll(&p, 1, (int)(deadline_s * 1000));
	if (n == 0) {
		printf("%s timeout %s %.0f\n", name, what, deadline_s);
		return false;
	}
	r = ctl_recv(fd, &closed, err, sizeof(err));
	if (!r)
		die(closed ? "coopnet-nfq closed the control connection" : err);
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "sess_bench %s: %s refused: %s\n", name, what,
			json_string_value(json_object_get(r, "error")));
		exit(1);
	}
	json_decref(r);
	return true;
}

static long rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (!f)
		die("the worker's /proc/PID/status is gone");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	if (kib < 0)
		die("no VmRSS");
	return kib;
}

static bool sync_n(uint32_t n)
{
	uint32_t i = 0;

	do {
		json_t *arr = json_array(), *req;
		size_t used = 64;

		while (i < n) {
			json_t *s = session(i);
			size_t sz = ctl_json_size(s) + 1;

			if (used + sz > CTL_CHUNK_BUDGET) {
				json_decref(s);
				break;
			}
			used += sz;
			json_array_append_new(arr, s);
			i++;
		}
		req = json_pack("{s:s, s:o, s:b}", "cmd", "session-sync", "sessions", arr, "more",
				i < n);
		if (!call(req, "session-sync"))
			return false;
	} while (i < n);
	return true;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* K one-session requests of cmd on sessions base..base+k-1: latencies into lat. */
static bool ops(const char *cmd, uint32_t base, uint32_t k, double *lat, double *total)
{
	double t0 = now_s();
	uint32_t j;

	for (j = 0; j < k; j++) {
		json_t *s = session(base + j), *req;
		double t = now_s();

		if (!strcmp(cmd, "session-del"))
			json_object_del(s, "id");
		req = json_pack("{s:s, s:[o]}", "cmd", cmd, "sessions", s);
		if (!call(req, cmd))
			return false;
		lat[j] = (now_s() - t) * 1e6;
	}
	*total = now_s() - t0;
	qsort(lat, k, sizeof(*lat), cmp_d);
	return true;
}

int main(int argc, char **argv)
{
	double *add, *del, t, sync_s, add_s, del_s;
	uint32_t n, k;
	long pid, before, after;

	if (argc != 7) {
		fprintf(stderr, "usage: sess_bench NAME SOCKET PID N K DEADLINE_S\n");
		return 2;
	}
	name = argv[1];
	pid = strtol(argv[3], NULL, 10);
	n = (uint32_t)strtoul(argv[4], NULL, 10);
	k = (uint32_t)strtoul(argv[5], NULL, 10);
	deadline_s = strtod(argv[6], NULL);
	if (k == 0 || n > 4000000 || deadline_s <= 0)
		die("bad arguments");
	fd = ctl_connect(argv[2]);
	if (fd < 0)
		die("cannot connect to the control socket");
	add = calloc(k, sizeof(*add));
	del = calloc(k, sizeof(*del));
	if (!add || !del)
		die("out of memory");
	before = rss_kib(pid);
	t = now_s();
	if (!sync_n(n))
		return 3;
	sync_s = now_s() - t;
	after = rss_kib(pid);
	/* new keys: numbers past n */
	if (!ops("session-add", n, k, add, &add_s) || !ops("session-del", n, k, del, &del_s))
		return 3;
	printf("%s %" PRIu32 " %.3f %.0f %.0f %.0f %.0f %.0f %.0f %.1f\n", name, n, sync_s,
	       k / add_s, add[k / 2], add[(size_t)(k * 0.99)], k / del_s, del[k / 2],
	       del[(size_t)(k * 0.99)], n ? (double)(after - before) * 1024.0 / n : 0.0);
	free(add);
	free(del);
	close(fd);
	return 0;
}
