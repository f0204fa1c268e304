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

	printf("%-12s %-11s %-22s %-22s %-8" JSON_INTEGER_FORMAT " ", ctl_str(vn, "name"),
	       ctl_str(vn, "state"),
	       json_string_value(json_array_get(addrs, 0)) ?: ctl_str(vn, "address"),
	       ctl_str(vn, "data_folder"), ctl_int(vn, "sessions"));
	json_array_foreach(json_object_get(vn, "services"), k, s)
		printf("%s%s/%" JSON_INTEGER_FORMAT "%s", k ? "," : "", ctl_str(s, "name"),
		       ctl_int(s, "port"), json_is_true(json_object_get(s, "apache")) ? "(apache)" : "");
	printf("\n");
	json_array_foreach(addrs, j, a)
		if (j > 0)
			printf("%-12s %-11s %s\n", "", "", json_string_value(a) ?: "?");
	if (json_object_get(vn, "parent"))
		printf("%-12s %-11s on %s, mac %s\n", "", "", ctl_str(vn, "parent"),
		       ctl_str(vn, "mac"));
}

int cmd_vnics(int argc, char **argv, const struct ctl_opts *opts)
{
	static const struct ctl_list list = { "vnics", CTL_AUTHD, "vnics", "vnics", header, row };
	(void)argv;
	return ctl_run_list(argc, opts, &list);
}
