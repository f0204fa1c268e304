/* SPDX-License-Identifier: MIT */
/* coopnetctl vnics: vNIC NAME, state (as the kernel shows it), addresses, DATA FOLDER, sessions
 * and SERVICE LIST of the running policy. */
#include <stdio.h>

#include "coopnetctl.h"

int cmd_vnics(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *reply, *list, *vn, *s;
	size_t i, k;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl vnics\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_AUTHD, json_pack("{s:s}", "cmd", "vnics"), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	list = json_object_get(reply, "vnics");
	if (!json_is_array(list)) {
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json) {
		ctl_print_json(list);
	} else {
		printf("%-12s %-11s %-22s %-22s %-8s %s\n", "vnic", "state", "address",
		       "data folder", "sessions", "services");
		json_array_foreach(list, i, vn) {
			json_t *addrs = json_object_get(vn, "addresses"), *a;
			size_t j;
			printf("%-12s %-11s %-22s %-22s %-8" JSON_INTEGER_FORMAT " ",
			       json_string_value(json_object_get(vn, "name")) ?: "?",
			       json_string_value(json_object_get(vn, "state")) ?: "?",
			       json_string_value(json_array_get(addrs, 0)) ?:
			       json_string_value(json_object_get(vn, "address")) ?: "?",
			       json_string_value(json_object_get(vn, "data_folder")) ?: "",
			       json_integer_value(json_object_get(vn, "sessions")));
			json_array_foreach(json_object_get(vn, "services"), k, s)
				printf("%s%s/%" JSON_INTEGER_FORMAT "%s", k ? "," : "",
				       json_string_value(json_object_get(s, "name")),
				       json_integer_value(json_object_get(s, "port")),
				       json_is_true(json_object_get(s, "apache")) ? "(apache)" : "");
			printf("\n");
			json_array_foreach(addrs, j, a)
				if (j > 0)
					printf("%-12s %-11s %s\n", "", "", json_string_value(a) ?: "?");
			if (json_object_get(vn, "parent"))
				printf("%-12s %-11s on %s, mac %s\n", "", "",
				       json_string_value(json_object_get(vn, "parent")) ?: "?",
				       json_string_value(json_object_get(vn, "mac")) ?: "?");
		}
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
