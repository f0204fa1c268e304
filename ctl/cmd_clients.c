/* SPDX-License-Identifier: MIT */
/* coopnetctl clients: the CLIENT LIST of the running policy (names, addresses, services). */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-10s %-15s %-24s %s\n", "role", "name", "address", "services");
}

static void row(const json_t *c)
{
	json_t *v;
	size_t k;

	printf("%-10s %-15s %-24s ", ctl_str(c, "role"), ctl_str(c, "name"), ctl_str(c, "address"));
	json_array_foreach(json_object_get(c, "services"), k, v)
		printf("%s%s", k ? "," : "", json_string_value(v) ?: "?");
	printf("\n");
}

int cmd_clients(int argc, char **argv, const struct ctl_opts *opts)
{
	static const struct ctl_list list = { "clients", CTL_AUTHD, "clients", "clients", header,
					      row };
	(void)argv;
	return ctl_run_list(argc, opts, &list);
}
