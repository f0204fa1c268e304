/* SPDX-License-Identifier: MIT */
/* coopnetctl group: its arguments and its table, apart from the socket (tested alone). */
#ifndef COOPNETCTL_GROUP_VIEW_H
#define COOPNETCTL_GROUP_VIEW_H

#include <jansson.h>
#include <stdio.h>

enum cli_group_action { CLI_GROUP_VIEW, CLI_GROUP_KEYGEN };

struct cli_group_args {
	enum cli_group_action action;
	const char *keyfile;      /* keygen: the new private key file (argv's) */
};

/* argv[0] is the command's name. 0, or -1 with a sentence in err quoting the bad value. */
int cli_group_parse(struct cli_group_args *out, int argc, char *const *argv, char *err,
		    size_t errlen);
/* The reply of {"cmd": "group"} as tables. */
void cli_group_print(FILE *f, const json_t *reply);

#endif
