/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl metrics [authd|nfq]: the Prometheus text (docs/metrics.md), rendered here by the
 * renderer coopnet-authd's HTTP endpoint uses (lib/metrics.c). authd (the default): the
 * engine's snapshot (its counters, coopnet-nfq's as last polled, gauges); nfq: coopnet-nfq's
 * `stats` alone, for a host without coopnet-authd (e.g. for node_exporter's textfile
 * collector). --json prints the snapshot instead.
 */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"
#include "lib/metrics.h"

static int fetch(const struct cli_opts *opts, bool nfq, json_t **snap)
{
	json_t *reply, *m;
	int rc;

	*snap = NULL;
	rc = cli_request(opts, nfq ? CLI_NFQ : CLI_AUTHD,
			 json_pack("{s:s}", "cmd", nfq ? "stats" : "metrics"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	m = json_object_get(reply, nfq ? "stats" : "metrics");
	if (!json_is_object(m)) {
		fprintf(stderr, "coopnetctl: the reply lacks \"%s\"\n", nfq ? "stats" : "metrics");
		json_decref(reply);
		return CLI_EXIT_BAD_REPLY;
	}
	*snap = nfq ? json_pack("{s:O}", "nfq", m) : json_incref(m);
	json_decref(reply);
	return *snap ? CLI_EXIT_OK : CLI_EXIT_BAD_REPLY;
}

int cmd_metrics(int argc, char **argv, const struct cli_opts *opts)
{
	struct metrics_buf b;
	json_t *snap;
	int rc;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "nfq") && strcmp(argv[1], "authd"))) {
		fprintf(stderr, "usage: coopnetctl metrics [authd|nfq]\n");
		return CLI_EXIT_USAGE;
	}
	rc = fetch(opts, argc == 2 && !strcmp(argv[1], "nfq"), &snap);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json) {
		cli_print_json(snap);
		json_decref(snap);
		return CLI_EXIT_OK;
	}
	metrics_buf_init(&b, METRICS_TEXT_MAX);
	if (metrics_render(&b, snap) < 0) {
		fprintf(stderr, "coopnetctl: the metrics do not fit %u bytes\n", METRICS_TEXT_MAX);
		rc = CLI_EXIT_BAD_REPLY;
	} else if (b.len) {
		fwrite(b.p, 1, b.len, stdout);
	}
	metrics_buf_free(&b);
	json_decref(snap);
	return rc;
}
