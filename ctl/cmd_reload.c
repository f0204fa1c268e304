/* SPDX-License-Identifier: MIT */
/* coopnetctl reload: coopnet-authd re-reads its policy (as SIGHUP); a bad one is refused whole. */
#include <stdio.h>

#include "coopnetctl.h"

int cmd_reload(int argc, char **argv, const struct cli_opts *opts)
{
	struct cli_opts o = *opts;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl reload\n");
		return CLI_EXIT_USAGE;
	}
	/* deriving keys from passcodes (Argon2id) takes a moment per client */
	if (o.timeout_ms < 30000)
		o.timeout_ms = 30000;
	return cli_request_revoked(&o, json_pack("{s:s}", "cmd", "reload"), "policy reloaded; ",
				   " session(s) revoked");
}
