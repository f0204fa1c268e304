/* SPDX-License-Identifier: MIT */
/* coopnetctl: the administrator's command line for coopnet-authd and coopnet-nfq. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coopnetctl.h"

const struct cli_command cli_commands[] = {
	{ "help", "", "this text", cmd_help },
	{ "stats", "[nfq|authd]", "counters per reason (coopnet-nfq, or coopnet-authd)",
	  cmd_stats },
	{ "metrics", "[authd|nfq]", "the counters and gauges as Prometheus text", cmd_metrics },
	{ "status", "", "coopnet-authd: roles, sockets, sessions, data-plane link", cmd_status },
	{ "sessions", "", "coopnet-authd: the sessions (ID LIST) in its database", cmd_sessions },
	{ "clients", "", "coopnet-authd: the CLIENT LIST of its policy", cmd_clients },
	{ "vnics", "", "coopnet-authd: vNICs, data folders and services", cmd_vnics },
	{ "group", "[keygen FILE]", "coopnet-authd: the SP group: a header's members (state, "
	  "since when, load, decisions), an SP's membership, an SS's group services and the SP of "
	  "each session; keygen: a new signing key", cmd_group },
	{ "auth", "SERVICE [CLIENT]", "coopnet-authd (SS): authenticate now", cmd_auth },
	{ "revoke", "ID|CLIENT", "coopnet-authd: end sessions (data plane too)", cmd_revoke },
	{ "reload", "", "coopnet-authd: re-read the policy (as SIGHUP)", cmd_reload },
	{ "probe", "SP", "coopnet-authd (SS): probe the path to SP for the urgent pointer "
	  "(exit 0: preserved)", cmd_probe },
	{ "dp-sessions", "", "coopnet-nfq: its session table (config and authd)",
	  cmd_dp_sessions },
	{ "dp-compare", "", "the data plane's sessions against coopnet-authd's database",
	  cmd_dp_compare },
	{ "dp-resync", "", "coopnet-authd: send every session to coopnet-nfq again",
	  cmd_dp_resync },
	/* older names, kept as aliases (docs/coopnetctl.md) */
	{ "balance", "", "alias of group", cmd_group },
	{ "membership", "[keygen FILE]", "alias of group", cmd_group },
	{ NULL, NULL, NULL, NULL },
};

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int parse_timeout(int *out, const char *value)
{
	char *end;
	long ms;

	errno = 0;
	ms = strtol(value, &end, 10);
	if (errno || *end || ms < 1 || ms > 600000) {
		fprintf(stderr, "coopnetctl: --timeout \"%s\": give milliseconds from 1 to 600000\n",
			value);
		return -1;
	}
	*out = (int)ms;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "nfq-socket", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts opts = {
		.authd_socket = COOPNET_RUNDIR "/authd.sock",
		.nfq_socket = COOPNET_RUNDIR "/nfq.sock",
		.timeout_ms = 3000,
	};
	const struct cli_command *cmd;
	int c;

	/* "+": stop at the command name, so a command's own options stay its own */
	while ((c = getopt_long(argc, argv, "+js:q:t:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opts.json = true;
			break;
		case 's':
			opts.authd_socket = optarg;
			break;
		case 'q':
			opts.nfq_socket = optarg;
			break;
		case 't':
			if (parse_timeout(&opts.timeout_ms, optarg) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(0, NULL, &opts);
		case 'V':
			cli_print_version("coopnetctl");
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "coopnetctl: try 'coopnetctl help'\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cmd_help(0, NULL, &opts);
		return CLI_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "coopnetctl: unknown command \"%s\"; try 'coopnetctl help'\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(argc - optind, argv + optind, &opts);
}
