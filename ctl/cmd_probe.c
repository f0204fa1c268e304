/* SPDX-License-Identifier: MIT */
/* coopnetctl probe SP: probe the path to an SP now (supervisor) and wait for the outcome
 * (docs/probe.md). Exit 0 when the urgent pointer is preserved, 1 for any other outcome. */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"

/* Three tries a second apart and the last wait: about 3.2 s. */
#define PROBE_TIMEOUT_MS 10000

int cmd_probe(int argc, char **argv, const struct cli_opts *opts)
{
	struct cli_opts o = *opts;
	const char *outcome;
	json_t *reply;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: coopnetctl probe SP  (its address, e.g. 198.18.2.3)\n");
		return CLI_EXIT_USAGE;
	}
	if (o.timeout_ms < PROBE_TIMEOUT_MS)
		o.timeout_ms = PROBE_TIMEOUT_MS;
	rc = cli_request(&o, CLI_AUTHD, json_pack("{s:s, s:s}", "cmd", "probe", "sp", argv[1]),
			 &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	outcome = json_string_value(json_object_get(reply, "outcome"));
	if (!outcome) {
		json_decref(reply);
		return CLI_EXIT_BAD_REPLY;
	}
	if (opts->json)
		cli_print_json(reply);
	else
		printf("path to SP %s: %s (urgent pointer 0x%04x sent, 0x%04x seen)\n%s\n",
		       json_string_value(json_object_get(reply, "sp")) ?: "?", outcome,
		       (unsigned)json_integer_value(json_object_get(reply, "sent")),
		       (unsigned)json_integer_value(json_object_get(reply, "seen")),
		       json_string_value(json_object_get(reply, "advice")) ?: "");
	rc = strcmp(outcome, "preserved") ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
	json_decref(reply);
	return rc;
}
