/* SPDX-License-Identifier: MIT */
/* coopnetctl clients: the CLIENT LIST of the running policy (names, addresses, services); on a
 * provider, the info_client its SSs reported per session. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* A provider's row: the info_client its SS reported for one session. */
static void session_row(const json_t *c)
{
	const json_t *d = json_object_get(c, "drops");
	json_int_t age = cli_int(c, "age_ms");

	printf("%-6s %-24s %-15s %-12s %-12" JSON_INTEGER_FORMAT " %-12" JSON_INTEGER_FORMAT
	       " %-14" JSON_INTEGER_FORMAT " %-8" JSON_INTEGER_FORMAT " ", cli_str(c, "id"),
	       cli_str(c, "client"), cli_str(c, "name"), cli_str(c, "service"),
	       cli_int(c, "bytes_c2s"), cli_int(c, "bytes_s2c"), cli_int(c, "last_seen_ms") / 1000,
	       cli_int(d, "no-id") + cli_int(d, "wrong-id") + cli_int(d, "expired") +
	       cli_int(d, "other"));
	if (age >= 0)
		printf("%-7.1f ", (double)age / 1000);
	else
		printf("%-7s ", "-");
	printf("%s\n", json_is_true(json_object_get(c, "reachable")) ? "yes" : "NO");
}

static void print(const json_t *items)
{
	const json_t *c;
	bool any = false;
	size_t i;

	header();
	json_array_foreach(items, i, c)
		if (strcmp(cli_str(c, "role"), "session"))
			row(c);
	json_array_foreach(items, i, c)
		if (!strcmp(cli_str(c, "role"), "session")) {
			if (!any)
				printf("\n%-6s %-24s %-15s %-12s %-12s %-12s %-14s %-8s %-7s %s\n",
				       "id", "client", "name", "service", "bytes_in", "bytes_out",
				       "last_seen", "drops", "age(s)", "reachable");
			any = true;
			session_row(c);
		}
}

int cmd_clients(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = {
		.name = "clients", .target = CLI_AUTHD, .cmd = "clients", .key = "clients",
		.header = header, .row = row, .print = print,
	};
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
