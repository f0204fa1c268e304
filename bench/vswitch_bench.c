/* SPDX-License-Identifier: MIT */
/*
 * One session change on the virtual switch (authd/vswitch.c), timed: the switch of a provider
 * policy (one relay address, one vNIC) holding N sessions, then R rounds of one session-add and
 * one session-del, each a vswitch_session_req + vswitch_apply as the parent does it. Runs in
 * the caller's network namespace (bench/vswitch.sh gives it a private one) and changes the
 * real kernel. Prints "changes N p50_us mean_us max_us"; exits non-zero with a message when a
 * change fails (no figure from a partial run).
 *
 *   bench/vswitch_bench SESSIONS ROUNDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vswitch.h"

static const char POLICY[] =
	"{ \"provider\": { \"relay\": [\"198.18.2.4\"],\n"
	"    \"vnics\": [ { \"name\": \"web2\", \"address\": \"198.18.2.21\", \"data_folder\": \"/srv/web2\",\n"
	"        \"services\": [ { \"name\": \"web2\", \"port\": 80 } ] } ],\n"
	"    \"clients\": [ { \"name\": \"office\", \"address\": \"198.18.128.0/17\", \"services\": [\"web2\"],\n"
	"        \"keys\": { \"web2\": \"4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e\" } } ]\n"
	"} }\n";

static json_t *session(unsigned i, unsigned id, int with_id)
{
	char client[INET_ADDRSTRLEN], idbuf[8];
	struct in_addr a = { .s_addr = htonl(0xc6128000u + (i % 32768)) }; /* 198.18.128.0/17 */

	inet_ntop(AF_INET, &a, client, sizeof(client));
	snprintf(idbuf, sizeof(idbuf), "0x%04x", id);
	if (!with_id)
		return json_pack("{s:s, s:s, s:i}", "client", client, "service", "198.18.2.21",
				 "port", 80);
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "client", client, "service",
			 "198.18.2.21", "port", 80, "id", idbuf, "vnic", "web2", "expires", 0);
}

static void change(struct vswitch *vs, const char *cmd, json_t *sessions)
{
	json_t *req = json_pack("{s:s, s:o}", "cmd", cmd, "sessions", sessions);
	char err[4096];

	if (!req || vswitch_session_req(vs, req) < 0) {
		fprintf(stderr, "vswitch_bench: %s refused\n", cmd);
		exit(1);
	}
	json_decref(req);
	if (vswitch_apply(vs, err, sizeof(err)) < 0) {
		fprintf(stderr, "vswitch_bench: %s: %s\n", cmd, err);
		exit(1);
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct jconf_error e;
	struct vswitch vs = { 0 };
	struct policy p;
	char buf[1024];
	unsigned n, rounds;
	double *t, sum = 0;
	json_t *all;

	if (argc != 3 || (n = (unsigned)atoi(argv[1])) > 60000 || (rounds = (unsigned)atoi(argv[2])) < 1 ||
	    rounds > 10000) {
		fprintf(stderr, "usage: vswitch_bench SESSIONS(0..60000) ROUNDS(1..10000)\n");
		return 2;
	}
	if (policy_load_buffer(&p, "bench.json", POLICY, strlen(POLICY), POLICY_ROLE_PROVIDER, false, &e) < 0) {
		fprintf(stderr, "vswitch_bench: %s\n", jconf_error_str(&e, buf, sizeof(buf)));
		return 1;
	}
	if (vswitch_set_policy(&vs, &p) < 0) {
		fprintf(stderr, "vswitch_bench: out of memory\n");
		return 1;
	}
	policy_free(&p);
	all = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(all, session(i, 1 + i, 1));
	change(&vs, "session-sync", all);
	t = calloc(2 * rounds, sizeof(*t));
	if (!t)
		return 1;
	for (unsigned r = 0; r < rounds; r++) {
		json_t *one = json_array();
		double t0 = now_us();

		/* a client outside the N: its ID is the next free one */
		json_array_append_new(one, session(n + 1 + r % 100, n + 1 + r % 100, 1));
		change(&vs, "session-add", one);
		t[2 * r] = now_us() - t0;
		one = json_array();
		json_array_append_new(one, session(n + 1 + r % 100, 0, 0));
		t0 = now_us();
		change(&vs, "session-del", one);
		t[2 * r + 1] = now_us() - t0;
	}
	for (unsigned i = 0; i < 2 * rounds; i++)
		sum += t[i];
	qsort(t, 2 * rounds, sizeof(*t), cmp_double);
	printf("changes %u p50_us %.0f mean_us %.0f max_us %.0f\n", 2 * rounds, t[rounds],
	       sum / (2 * rounds), t[2 * rounds - 1]);
	free(t);
	vswitch_free(&vs);
	return 0;
}
