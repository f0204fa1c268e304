/* SPDX-License-Identifier: MIT */
/* coopnetctl vnics: vNIC NAME, address, DATA FOLDER and SERVICE LIST of the running policy. */
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
		printf("%-15s %-24s %-24s %s\n", "vnic", "address", "data folder", "services");
		json_array_foreach(list, i, vn) {
			printf("%-15s %-24s %-24s ", json_string_value(json_object_get(vn, "name")),
			       json_string_value(json_object_get(vn, "address")),
			       json_string_value(json_object_get(vn, "data_folder")));
			json_array_foreach(json_object_get(vn, "services"), k, s)
				printf("%s%s/%" JSON_INTEGER_FORMAT, k ? "," : "",
				       json_string_value(json_object_get(s, "name")),
				       json_integer_value(json_object_get(s, "port")));
			printf("\n");
		}
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
