/* SPDX-License-Identifier: MIT */
/*
 * Driver of tests/netns/vswitch-port.test: the virtual switch (authd/vswitch.c) of a provider
 * policy, loaded into the kernel of the caller's network namespace with the given sessions,
 * exactly as coopnet-authd's parent does it (vswitch_set_policy, session-add, vswitch_apply).
 * The table stays after exit (it is not owned by the process).
 *
 *   vswitch-tool POLICY.json SESSIONS-JSON-ARRAY
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(1 << 20);

	if (!f || !buf) {
		fprintf(stderr, "vswitch-tool: %s: cannot read\n", path);
		exit(1);
	}
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct vswitch vs = { .enabled = false };
	struct jconf_error e;
	struct policy p;
	json_error_t je;
	json_t *arr, *req;
	char err[4096], *text;
	size_t len;

	if (argc != 3) {
		fprintf(stderr, "usage: vswitch-tool POLICY.json SESSIONS-JSON-ARRAY\n");
		return 2;
	}
	text = slurp(argv[1], &len);
	if (policy_load_buffer(&p, argv[1], text, len, POLICY_ROLE_PROVIDER, false, &e) < 0) {
		fprintf(stderr, "vswitch-tool: %s\n", jconf_error_str(&e, err, sizeof(err)));
		return 1;
	}
	free(text);
	arr = json_loads(argv[2], 0, &je);
	if (!arr || vswitch_set_policy(&vs, &p) < 0) {
		fprintf(stderr, "vswitch-tool: sessions: %s\n", arr ? "out of memory" : je.text);
		return 1;
	}
	policy_free(&p);
	req = json_pack("{s:s, s:o}", "cmd", "session-add", "sessions", arr);
	if (!req || vswitch_session_req(&vs, req) < 0 || vswitch_apply(&vs, err, sizeof(err)) < 0) {
		fprintf(stderr, "vswitch-tool: %s\n", req ? err : "out of memory");
		return 1;
	}
	json_decref(req);
	vswitch_free(&vs);
	return 0;
}
