/* SPDX-License-Identifier: MIT */
/* coopnetctl dp-sessions: the session table of coopnet-nfq (the data plane), with where each
 * session came from (config file or coopnet-authd). */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-6s %-7s %-24s %-24s %-5s %-10s %s\n", "source", "id", "client", "service",
	       "port", "vnic", "expires");
}

static void row(const json_t *s)
{
	printf("%-6s %-7s %-24s %-24s %-5" JSON_INTEGER_FORMAT " %-10s %" JSON_INTEGER_FORMAT "\n",
	       cli_str(s, "source"), cli_str(s, "id"), cli_str(s, "client"), cli_str(s, "service"),
	       cli_int(s, "port"), cli_str(s, "vnic"), cli_int(s, "expires"));
}

int cmd_dp_sessions(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = {
		.name = "dp-sessions", .target = CLI_NFQ, .cmd = "sessions", .key = "sessions",
		.header = header, .row = row,
	};
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
