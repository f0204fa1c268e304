/* SPDX-License-Identifier: MIT */
/* coopnetctl vnics: vNIC NAME, state (as the kernel shows it), addresses, DATA FOLDER, sessions
 * and SERVICE LIST of the running policy; on a supervisor, the status its SPs reported. */
#include <stdbool.h>
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-12s %-11s %-22s %-22s %-8s %s\n", "vnic", "state", "address", "data folder",
	       "sessions", "services");
}

/* A supervisor's row: the info_vNIC an SP reported for one session. */
static void status_row(const json_t *v)
{
	json_t *since = json_object_get(v, "since_s");
	json_int_t age = cli_int(v, "age_ms");

	printf("%-12s %-8s %-22s %-6s %-6s %-5s %-8s %-4" JSON_INTEGER_FORMAT " %-6"
	       JSON_INTEGER_FORMAT " %-8" JSON_INTEGER_FORMAT " ", cli_str(v, "vnic"),
	       cli_str(v, "status"), cli_str(v, "sp"), cli_str(v, "id"), cli_str(v, "link"),
	       cli_str(v, "check"), cli_str(v, "health"), cli_int(v, "http_code"),
	       cli_int(v, "weight"), cli_int(v, "sessions"));
	if (age >= 0)
		printf("%-7.1f ", (double)age / 1000);
	else
		printf("%-7s ", "-");
	printf("%-9s %s", json_is_true(json_object_get(v, "reachable")) ? "yes" : "NO",
	       cli_str(v, "service"));
	if (json_is_integer(since))
		printf(" (health since %" JSON_INTEGER_FORMAT " s)", json_integer_value(since));
	printf("\n");
}

static void row(const json_t *vn)
{
	json_t *addrs = json_object_get(vn, "addresses"), *a, *s;
	size_t j, k;

	printf("%-12s %-11s %-22s %-22s %-8" JSON_INTEGER_FORMAT " ", cli_str(vn, "name"),
	       cli_str(vn, "state"),
	       json_string_value(json_array_get(addrs, 0)) ?: cli_str(vn, "address"),
	       cli_str(vn, "data_folder"), cli_int(vn, "sessions"));
	json_array_foreach(json_object_get(vn, "services"), k, s)
		printf("%s%s/%" JSON_INTEGER_FORMAT "%s", k ? "," : "", cli_str(s, "name"),
		       cli_int(s, "port"), json_is_true(json_object_get(s, "apache")) ? "(apache)" : "");
	printf("\n");
	json_array_foreach(addrs, j, a)
		if (j > 0)
			printf("%-12s %-11s %s\n", "", "", json_string_value(a) ?: "?");
	if (json_object_get(vn, "parent"))
		printf("%-12s %-11s on %s, mac %s\n", "", "", cli_str(vn, "parent"),
		       cli_str(vn, "mac"));
}

static void status_header(void)
{
	printf("%-12s %-8s %-22s %-6s %-6s %-5s %-8s %-4s %-6s %-8s %-7s %-9s %s\n", "vnic",
	       "status", "sp", "id", "link", "check", "health", "http", "weight", "sessions",
	       "age(s)", "reachable", "service");
}

/* Policy vNICs (a provider) first, then reported ones (a supervisor: rows with "sp"). */
static void print(const json_t *items)
{
	const json_t *v;
	bool any = false;
	size_t i;

	json_array_foreach(items, i, v)
		if (!json_object_get(v, "sp")) {
			if (!any)
				header();
			any = true;
			row(v);
		}
	any = false;
	json_array_foreach(items, i, v)
		if (json_object_get(v, "sp")) {
			if (!any)
				status_header();
			any = true;
			status_row(v);
		}
}

int cmd_vnics(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = {
		.name = "vnics", .target = CLI_AUTHD, .cmd = "vnics", .key = "vnics",
		.header = header, .row = row, .print = print,
	};
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
