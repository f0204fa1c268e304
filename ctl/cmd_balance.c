/* SPDX-License-Identifier: MIT */
/* coopnetctl balance: a header SP's members, their state and load (the group application's
 * view, "unknown" without it), weight and the balancing decisions made for each. */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-40s %-8s %-6s %-6s %s\n", "sp", "state", "weight", "load", "decisions");
}

static void row(const json_t *s)
{
	char load[24] = "-";

	if (json_object_get(s, "load"))
		snprintf(load, sizeof(load), "%" JSON_INTEGER_FORMAT, cli_int(s, "load"));
	printf("%-40s %-8s %-6" JSON_INTEGER_FORMAT " %-6s %" JSON_INTEGER_FORMAT "\n",
	       cli_str(s, "sp"), cli_str(s, "state"), cli_int(s, "weight"), load,
	       cli_int(s, "decisions"));
}

int cmd_balance(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = {
		.name = "balance", .target = CLI_AUTHD, .cmd = "balance", .key = "members",
		.header = header, .row = row,
	};
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
