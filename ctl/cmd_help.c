/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"

int cmd_help(int argc, char **argv, const struct cli_opts *opts)
{
	int w = 0; /* the longest command name: the columns line up */

	(void)argc;
	(void)argv;
	printf("usage: coopnetctl [--json] [--socket PATH] [--nfq-socket PATH] [--timeout MS] "
	       "COMMAND [ARGS]\n"
	       "       coopnetctl --version\n\n"
	       "  --json        print the daemon's reply as JSON\n"
	       "  --socket      coopnet-authd's control socket (now %s)\n"
	       "  --nfq-socket  coopnet-nfq's control socket (now %s)\n"
	       "  --timeout     how long to wait for a reply, in ms (now %d)\n\n"
	       "commands:\n",
	       opts->authd_socket, opts->nfq_socket, opts->timeout_ms);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if ((int)strlen(c->name) > w)
			w = (int)strlen(c->name);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		printf("  %-*s %-17s %s\n", w, c->name, c->args, c->summary);
	printf("\nexit codes: 0 done, 1 refused by the daemon, 2 usage error, "
	       "3 daemon unreachable, 4 bad reply, 5 dp-compare: differences\n");
	return CLI_EXIT_OK;
}
