/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { OPT_VERSION = 0x100 };

void cli_print_version(const char *prog)
{
	printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
}

static void usage(const struct cli_daemon_spec *s, FILE *f, int code)
{
	fprintf(f, "usage: %s [-dnv] [-c FILE]\n"
		"  -c, --config FILE  configuration (default %s); -f FILE is the same\n"
		"  -n, --check        %s\n"
		"  -d, --foreground   %s\n"
		"  -v, --verbose      debug logging\n"
		"      --version      print the version and exit\n"
		"  -h, --help         this text\n"
		"See %s(8).\n", s->prog, s->default_config, s->check_help, s->foreground_help,
		s->prog);
	exit(code);
}

void cli_daemon_parse(struct cli_daemon_opts *out, const struct cli_daemon_spec *spec,
		      int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*out = (struct cli_daemon_opts){ .config = spec->default_config };
	while ((c = getopt_long(argc, argv, "c:f:ndvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'f':
			out->config = optarg;
			break;
		case 'n':
			out->check = true;
			break;
		case 'd':
			out->foreground = true;
			break;
		case 'v':
			out->verbose = true;
			break;
		case OPT_VERSION:
			cli_print_version(spec->prog);
			exit(0);
		case 'h':
			usage(spec, stdout, 0);
			break;
		default:
			usage(spec, stderr, 2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", spec->prog, argv[optind]);
		usage(spec, stderr, 2);
	}
	if (!out->config[0]) {
		fprintf(stderr, "%s: --config \"\": give a file name\n", spec->prog);
		usage(spec, stderr, 2);
	}
}
