/* SPDX-License-Identifier: MIT */
/* coopnetctl sessions: the sessions in coopnet-authd's database. */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-10s %-6s %-24s %-24s %-5s %-8s %-10s %-12s %-13s %s\n", "role", "id", "client",
	       "service", "port", "name", "vnic", "expires", "confidential", "peer");
}

static void row(const json_t *s)
{
	/* peer: the SP of a supervisor's session (for a group service, the member it uses) */
	printf("%-10s %-6s %-24s %-24s %-5" JSON_INTEGER_FORMAT " %-8s %-10s %-12"
	       JSON_INTEGER_FORMAT " %-13s %s\n", cli_str(s, "role"), cli_str(s, "id"),
	       cli_str(s, "client"), cli_str(s, "service"), cli_int(s, "port"),
	       cli_str(s, "service_name"), cli_str(s, "vnic"), cli_int(s, "expires"),
	       json_is_true(json_object_get(s, "confidential")) ? "yes (TLS)" : "no",
	       cli_str(s, "peer"));
}

int cmd_sessions(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = {
		.name = "sessions", .target = CLI_AUTHD, .cmd = "sessions", .key = "sessions",
		.header = header, .row = row,
	};
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
