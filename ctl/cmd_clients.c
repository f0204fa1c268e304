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

	printf("%-10s %-15s %-24s ", cli_str(c, "role"), cli_str(c, "name"), cli_str(c, "address"));
	json_array_foreach(json_object_get(c, "services"), k, v)
		printf("%s%s", k ? "," : "", json_string_value(v) ?: "?");
	printf("\n");
}

int cmd_clients(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = { "clients", CLI_AUTHD, "clients", "clients", header,
					      row };
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
