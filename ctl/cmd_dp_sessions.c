/* SPDX-License-Identifier: MIT */
/* coopnetctl dp-sessions: the session table of coopnet-nfq (the data plane), with where each
 * session came from (config file or coopnet-authd). */
#include <stdio.h>

#include "coopnetctl.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && s[0] ? s : "-";
}

int cmd_dp_sessions(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *reply, *list, *s;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl dp-sessions\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_NFQ, json_pack("{s:s}", "cmd", "sessions"), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	list = json_object_get(reply, "sessions");
	if (!json_is_array(list)) {
		fprintf(stderr, "coopnetctl: coopnet-nfq's reply lacks \"sessions\"\n");
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json) {
		ctl_print_json(list);
	} else {
		printf("%-6s %-7s %-24s %-24s %-5s %-10s %s\n", "source", "id", "client", "service",
		       "port", "vnic", "expires");
		json_array_foreach(list, i, s)
			printf("%-6s %-7s %-24s %-24s %-5" JSON_INTEGER_FORMAT " %-10s %"
			       JSON_INTEGER_FORMAT "\n", str(s, "source"), str(s, "id"),
			       str(s, "client"), str(s, "service"),
			       json_integer_value(json_object_get(s, "port")), str(s, "vnic"),
			       json_integer_value(json_object_get(s, "expires")));
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
