/* SPDX-License-Identifier: MIT */
/* coopnetctl auth SERVICE [CLIENT]: run one Authentication now (supervisor) and wait for it. */
#include <stdio.h>

#include "coopnetctl.h"

/* An exchange with every retry takes up to about 15 s (docs/protocol.md). */
#define AUTH_TIMEOUT_MS 30000

int cmd_auth(int argc, char **argv, const struct cli_opts *opts)
{
	struct cli_opts o = *opts;
	json_t *req, *reply, *s;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: coopnetctl auth SERVICE [CLIENT]\n");
		return CLI_EXIT_USAGE;
	}
	req = json_pack("{s:s, s:s}", "cmd", "auth", "service", argv[1]);
	if (argc == 3)
		json_object_set_new(req, "client", json_string(argv[2]));
	if (o.timeout_ms < AUTH_TIMEOUT_MS)
		o.timeout_ms = AUTH_TIMEOUT_MS;
	rc = cli_request(&o, CLI_AUTHD, req, &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	s = json_object_get(reply, "session");
	if (opts->json)
		cli_print_json(s);
	else
		printf("authenticated: ID %s for %s -> %s:%" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(s, "id")) ?: "?",
		       json_string_value(json_object_get(s, "client")) ?: "?",
		       json_string_value(json_object_get(s, "service")) ?: "?",
		       json_integer_value(json_object_get(s, "port")));
	json_decref(reply);
	return CLI_EXIT_OK;
}
