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
	       ctl_str(s, "source"), ctl_str(s, "id"), ctl_str(s, "client"), ctl_str(s, "service"),
	       ctl_int(s, "port"), ctl_str(s, "vnic"), ctl_int(s, "expires"));
}

int cmd_dp_sessions(int argc, char **argv, const struct ctl_opts *opts)
{
	static const struct ctl_list list = { "dp-sessions", CTL_NFQ, "sessions", "sessions",
					      header, row };
	(void)argv;
	return ctl_run_list(argc, opts, &list);
}
