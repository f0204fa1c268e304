/* SPDX-License-Identifier: MIT */
/* coopnetctl stats: the data plane's counters, one line per reason. */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"

static void print_counters(const char *title, const json_t *stats)
{
	const char *key;
	json_t *value;

	printf("%s\n", title);
	json_object_foreach((json_t *)stats, key, value) {
		if (json_is_integer(value))
			printf("  %-24s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(value));
	}
}

int cmd_stats(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *reply, *stats;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl stats\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_NFQ, json_pack("{s:s}", "cmd", "stats"), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	stats = json_object_get(reply, "stats");
	if (!json_is_object(stats)) {
		fprintf(stderr, "coopnetctl: coopnet-nfq's stats reply lacks \"stats\"\n");
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json)
		ctl_print_json(stats);
	else
		print_counters("data plane (coopnet-nfq):", stats);
	json_decref(reply);
	return CTL_EXIT_OK;
}
