/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what coopnetctl group takes from coopnet-authd: the reply (any JSON a
 * daemon, or something at its socket, may send) rendered as tables (ctl/group_view.c). Every
 * field of any type, missing or nested wrongly must print ("-" or "?"), never crash. The first
 * byte also splits the rest into arguments for cli_group_parse: a refusal must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/group_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void args(const uint8_t *data, size_t size)
{
	char buf[256], *argv[8] = { "group" }, err[256] = "";
	struct cli_group_args a;
	int argc = 1;
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;

	memcpy(buf, data, n);
	buf[n] = '\0';
	for (char *p = buf, *tok; argc < 8 && (tok = strsep(&p, " ")); )
		argv[argc++] = tok;
	if (cli_group_parse(&a, argc, argv, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
	} else if (a.action == CLI_GROUP_KEYGEN && (!a.keyfile || !a.keyfile[0])) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *r;
	FILE *f;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		args(data + 1, size - 1);
		return 0;
	}
	r = json_loadb((const char *)data + 1, size - 1, 0, &e);
	if (!r)
		return 0;
	f = fopen("/dev/null", "w");
	if (!f)
		abort();
	cli_group_print(f, r);
	fclose(f);
	json_decref(r);
	return 0;
}
