/* SPDX-License-Identifier: MIT */
/* coopnetctl sessions: the sessions in coopnet-authd's database. */
#include <stdio.h>

#include "coopnetctl.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && s[0] ? s : "-";
}

int cmd_sessions(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *reply, *list, *s;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl sessions\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_AUTHD, json_pack("{s:s}", "cmd", "sessions"), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	list = json_object_get(reply, "sessions");
	if (!json_is_array(list)) {
		fprintf(stderr, "coopnetctl: coopnet-authd's reply lacks \"sessions\"\n");
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json) {
		ctl_print_json(list);
	} else {
		printf("%-10s %-6s %-24s %-24s %-5s %-8s %-10s %s\n", "role", "id", "client",
		       "service", "port", "name", "vnic", "expires");
		json_array_foreach(list, i, s)
			printf("%-10s %-6s %-24s %-24s %-5" JSON_INTEGER_FORMAT " %-8s %-10s %"
			       JSON_INTEGER_FORMAT "\n", str(s, "role"), str(s, "id"), str(s, "client"),
			       str(s, "service"), json_integer_value(json_object_get(s, "port")),
			       str(s, "service_name"), str(s, "vnic"),
			       json_integer_value(json_object_get(s, "expires")));
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
