/* SPDX-License-Identifier: MIT */
/*
 * The command line both daemons share (coopnet-authd(8), coopnet-nfq(8)):
 *   -c, --config FILE   (-f FILE: the same, kept for older scripts)
 *   -n, --check   -d, --foreground   -v, --verbose   --version   -h, --help
 * One parser, one usage text, so the two daemons cannot drift apart.
 */
#ifndef COOPNET_CLI_H
#define COOPNET_CLI_H

#include <stdbool.h>

struct cli_daemon_spec {
	const char *prog;            /* "coopnet-authd" */
	const char *default_config;  /* used when no -c is given */
	const char *check_help;      /* what -n checks */
	const char *foreground_help; /* what -d changes */
};

struct cli_daemon_opts {
	const char *config;
	bool check, foreground, verbose;
};

/* Fills out from argv. --help and --version print to stdout and exit 0; a bad option or an
 * extra argument prints the usage to stderr and exits 2. */
void cli_daemon_parse(struct cli_daemon_opts *out, const struct cli_daemon_spec *spec,
		      int argc, char **argv);

/* "PROG (coopnet) VERSION" on stdout. */
void cli_print_version(const char *prog);

#endif
