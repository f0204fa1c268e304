/* SPDX-License-Identifier: MIT */
/* coopnetctl revoke ID|CLIENT: end sessions now; coopnet-nfq drops them within a second. */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"
#include "lib/id.h"

int cmd_revoke(int argc, char **argv, const struct ctl_opts *opts)
{
	json_t *req, *reply;
	cn_id_t id;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: coopnetctl revoke ID|CLIENT  (ID: \"aA\" or 0x6141; CLIENT: "
			"an IP address)\n");
		return CTL_EXIT_USAGE;
	}
	/* an address has a dot or a colon; "aA" and 0x6141 have neither */
	if (strchr(argv[1], '.') || strchr(argv[1], ':'))
		req = json_pack("{s:s, s:s}", "cmd", "revoke", "client", argv[1]);
	else if (cn_id_parse(&id, argv[1]) == CN_ID_PARSE_OK)
		req = json_pack("{s:s, s:s}", "cmd", "revoke", "id", argv[1]);
	else {
		fprintf(stderr, "coopnetctl: \"%s\" is neither an ID nor an IP address\n", argv[1]);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, CTL_AUTHD, req, &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (opts->json)
		ctl_print_json(reply);
	else
		printf("revoked %" JSON_INTEGER_FORMAT " session(s)\n",
		       json_integer_value(json_object_get(reply, "revoked")));
	json_decref(reply);
	return CTL_EXIT_OK;
}
