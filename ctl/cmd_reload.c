/* SPDX-License-Identifier: MIT */
/* coopnetctl reload: coopnet-authd re-reads its policy (as SIGHUP); a bad one is refused whole. */
#include <stdio.h>

#include "coopnetctl.h"

int cmd_reload(int argc, char **argv, const struct cli_opts *opts)
{
	struct cli_opts o = *opts;
	json_t *reply;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl reload\n");
		return CLI_EXIT_USAGE;
	}
	/* deriving keys from passcodes (Argon2id) takes a moment per client */
	if (o.timeout_ms < 30000)
		o.timeout_ms = 30000;
	rc = cli_request(&o, CLI_AUTHD, json_pack("{s:s}", "cmd", "reload"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json)
		cli_print_json(reply);
	else
		printf("policy reloaded; %" JSON_INTEGER_FORMAT " session(s) revoked\n",
		       json_integer_value(json_object_get(reply, "revoked")));
	json_decref(reply);
	return CLI_EXIT_OK;
}
