/* SPDX-License-Identifier: MIT */
/* coopnetctl revoke ID|CLIENT: end sessions now; coopnet-nfq drops them within a second. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coopnetctl.h"
#include "lib/id.h"

static bool is_address(const char *text)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

int cmd_revoke(int argc, char **argv, const struct cli_opts *opts)
{
	json_t *req;
	cn_id_t id;

	if (argc != 2) {
		fprintf(stderr, "usage: coopnetctl revoke ID|CLIENT  (ID: \"aA\" or 0x6141; CLIENT: "
			"an IP address)\n");
		return CLI_EXIT_USAGE;
	}
	/* an address first: "a." is a valid two-character ID but no address */
	if (is_address(argv[1]))
		req = json_pack("{s:s, s:s}", "cmd", "revoke", "client", argv[1]);
	else if (cn_id_parse(&id, argv[1]) == CN_ID_PARSE_OK)
		req = json_pack("{s:s, s:s}", "cmd", "revoke", "id", argv[1]);
	else {
		fprintf(stderr, "coopnetctl: \"%s\" is neither an ID nor an IP address\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return cli_request_revoked(opts, req, "revoked ", " session(s)");
}
