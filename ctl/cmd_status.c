/* SPDX-License-Identifier: MIT */
/* coopnetctl status: coopnet-authd's roles, sockets, sessions and data-plane link. */
#include <stdio.h>

#include "coopnetctl.h"

int cmd_status(int argc, char **argv, const struct cli_opts *opts)
{
	json_t *reply, *v;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl status\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_request(opts, CLI_AUTHD, json_pack("{s:s}", "cmd", "status"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_EXIT_OK;
	}
	printf("roles:     ");
	json_array_foreach(json_object_get(reply, "roles"), i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\nlisten:    ");
	json_array_foreach(json_object_get(reply, "listen"), i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\nsessions:  %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(reply, "sessions")));
	printf("pending:   %" JSON_INTEGER_FORMAT " as SS, %" JSON_INTEGER_FORMAT " as SP\n",
	       json_integer_value(json_object_get(reply, "pending_ss")),
	       json_integer_value(json_object_get(reply, "pending_sp")));
	printf("data plane: %s\n", json_string_value(json_object_get(reply, "nfq")) ?: "?");
	printf("database:  %s (schema %" JSON_INTEGER_FORMAT ")\n",
	       json_string_value(json_object_get(reply, "database")) ?: "?",
	       json_integer_value(json_object_get(reply, "schema_version")));
	printf("engine as: %s\nuptime:    %" JSON_INTEGER_FORMAT " s\n",
	       json_string_value(json_object_get(reply, "user")) ?: "?",
	       json_integer_value(json_object_get(reply, "uptime")));
	/* the path probes of a supervisor (docs/probe.md) */
	json_array_foreach(json_object_get(reply, "probes"), i, v)
		printf("path probe: SP %s %s (urgent pointer 0x%04x sent, 0x%04x seen; %s)\n",
		       json_string_value(json_object_get(v, "sp")) ?: "?",
		       json_string_value(json_object_get(v, "outcome")) ?: "?",
		       (unsigned)json_integer_value(json_object_get(v, "sent")),
		       (unsigned)json_integer_value(json_object_get(v, "seen")),
		       json_string_value(json_object_get(v, "trigger")) ?: "?");
	json_decref(reply);
	return CLI_EXIT_OK;
}
