/* SPDX-License-Identifier: MIT */
/* coopnetctl vnics: vNIC NAME, state (as the kernel shows it), addresses, DATA FOLDER, sessions
 * and SERVICE LIST of the running policy. */
#include <stdio.h>

#include "coopnetctl.h"

static void header(void)
{
	printf("%-12s %-11s %-22s %-22s %-8s %s\n", "vnic", "state", "address", "data folder",
	       "sessions", "services");
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

int cmd_vnics(int argc, char **argv, const struct cli_opts *opts)
{
	static const struct cli_list list = { "vnics", CLI_AUTHD, "vnics", "vnics", header, row };
	(void)argv;
	return cli_run_list(argc, opts, &list);
}
