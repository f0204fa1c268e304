/* SPDX-License-Identifier: MIT */
/* coopnetctl stats [nfq|authd]: the data plane's counters (default, as before), or
 * coopnet-authd's (events of the state machines, sessions, errors), one line per reason. */
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

int cmd_stats(int argc, char **argv, const struct cli_opts *opts)
{
	enum cli_target target = CLI_NFQ;
	json_t *reply, *stats;
	int rc;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "nfq") && strcmp(argv[1], "authd"))) {
		fprintf(stderr, "usage: coopnetctl stats [nfq|authd]\n");
		return CLI_EXIT_USAGE;
	}
	if (argc == 2 && !strcmp(argv[1], "authd"))
		target = CLI_AUTHD;
	rc = cli_request(opts, target, json_pack("{s:s}", "cmd", "stats"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	stats = json_object_get(reply, "stats");
	if (!json_is_object(stats)) {
		fprintf(stderr, "coopnetctl: the stats reply lacks \"stats\"\n");
		json_decref(reply);
		return CLI_EXIT_BAD_REPLY;
	}
	if (opts->json)
		cli_print_json(stats);
	else
		print_counters(target == CLI_NFQ ? "data plane (coopnet-nfq):" :
			       "authentication (coopnet-authd):", stats);
	json_decref(reply);
	return CLI_EXIT_OK;
}
