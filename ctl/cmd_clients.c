/* SPDX-License-Identifier: MIT */
/* coopnetctl clients: the CLIENT LIST of the running policy (names, addresses, services). */
#include <stdio.h>

#include "coopnetctl.h"

int cmd_clients(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *reply, *list, *c, *v;
	size_t i, k;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl clients\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_AUTHD, json_pack("{s:s}", "cmd", "clients"), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	list = json_object_get(reply, "clients");
	if (!json_is_array(list)) {
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json) {
		ctl_print_json(list);
	} else {
		printf("%-10s %-15s %-24s %s\n", "role", "name", "address", "services");
		json_array_foreach(list, i, c) {
			printf("%-10s %-15s %-24s ", json_string_value(json_object_get(c, "role")),
			       json_string_value(json_object_get(c, "name")),
			       json_string_value(json_object_get(c, "address")));
			json_array_foreach(json_object_get(c, "services"), k, v)
				printf("%s%s", k ? "," : "", json_string_value(v));
			printf("\n");
		}
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
