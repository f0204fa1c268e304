/* SPDX-License-Identifier: MIT */
/* coopnetctl sessions: the sessions in coopnet-authd's database. */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-10s %-6s %-24s %-24s %-5s %-8s %-10s %-12s %s\n", "role", "id", "client",
	       "service", "port", "name", "vnic", "expires", "confidential");
}

static void row(const json_t *s)
{
	printf("%-10s %-6s %-24s %-24s %-5" JSON_INTEGER_FORMAT " %-8s %-10s %-12"
	       JSON_INTEGER_FORMAT " %s\n", ctl_str(s, "role"), ctl_str(s, "id"),
	       ctl_str(s, "client"), ctl_str(s, "service"), ctl_int(s, "port"),
	       ctl_str(s, "service_name"), ctl_str(s, "vnic"), ctl_int(s, "expires"),
	       json_is_true(json_object_get(s, "confidential")) ? "yes (TLS)" : "no");
}

int cmd_sessions(int argc, char **argv, const struct ctl_opts *opts)
{
	static const struct ctl_list list = { "sessions", CTL_AUTHD, "sessions", "sessions",
					      header, row };
	(void)argv;
	return ctl_run_list(argc, opts, &list);
}
