/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for coopnet-authd's configuration and policy parsers
 * (authd/config.c, authd/policy_*.c).
 * The first byte chooses what the rest is parsed as:
 *   bits 0-2  roles (POLICY_ROLE_* bits; 0 parses the rest as authd.json instead)
 *   bit 3     resolved (refuse passcode_file / group_key_file, as the engine does)
 *   bit 4     schema off: only the C code's own bounds stand between the input and the
 *             fixed arrays (policy_check_schema(false), as tests/unit/test_policy does)
 * A policy that loads is turned into its resolved JSON (policy_to_json, what the parent sends
 * the engine) and loaded again as resolved: that must succeed, or the engine would refuse a
 * policy the parent accepted. Errors must name a position and a message.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_policy -max_total_time=60 tests/fuzz/corpus/policy
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct jconf_error *err)
{
	char buf[2048];

	jconf_error_str(err, buf, sizeof(buf));
	if (!buf[0] || !err->msg[0]) {
		fprintf(stderr, "an error without a message\n");
		abort();
	}
}

static void lookups(const struct policy *p)
{
	struct cn_coop_addr a;
	uint16_t port;

	for (size_t i = 0; i < p->n_ss_clients; i++)
		for (size_t k = 0; k < p->ss_clients[i].n_services; k++) {
			if (!policy_client_allows(&p->ss_clients[i], p->ss_clients[i].services[k]))
				abort();
			(void)policy_service_by_name(p, p->ss_clients[i].services[k]);
		}
	for (size_t i = 0; i < p->n_vnics; i++) {
		(void)policy_vnic_addr(&p->vnics[i], CN_FAM_INET, &a);
		(void)policy_vnic_addr(&p->vnics[i], CN_FAM_INET6, &a);
		for (size_t k = 0; k < p->vnics[i].n_services; k++)
			if (!policy_vnic_for(p, p->vnics[i].services[k].name, &port))
				abort();
	}
	for (size_t i = 0; i < p->n_services; i++)
		(void)policy_service_by_addr(p, &p->services[i].addr);
}

/* The resolved form must load again as the engine loads it. */
static void roundtrip(const struct policy *p, unsigned roles)
{
	struct jconf_error err;
	struct policy again;
	json_t *doc = policy_to_json(p);
	char *text;

	if (!doc)
		return; /* out of memory */
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return;
	if (policy_load_buffer(&again, "resolved", text, strlen(text), roles, true, &err) < 0) {
		char buf[2048];
		fprintf(stderr, "the resolved policy does not load again: %s\n%s\n",
			jconf_error_str(&err, buf, sizeof(buf)), text);
		abort();
	}
	if (again.n_vnics != p->n_vnics || again.n_sp_clients != p->n_sp_clients ||
	    again.n_ss_clients != p->n_ss_clients || again.n_group != p->n_group) {
		fprintf(stderr, "the resolved policy lost entries\n");
		abort();
	}
	policy_free(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authd_config cfg;
	struct jconf_error err;
	struct policy p;
	unsigned roles;
	bool resolved;

	if (size < 1)
		return 0;
	roles = data[0] & 7u;
	resolved = data[0] & 8u;
	policy_check_schema(!(data[0] & 16u));
	data++, size--;
	if (roles == 0) {
		if (config_load_buffer(&cfg, "authd.json", (const char *)data, size, &err) < 0)
			check_error(&err);
		return 0;
	}
	if (policy_load_buffer(&p, "policy.json", (const char *)data, size, roles, resolved,
			       &err) < 0) {
		check_error(&err);
		return 0;
	}
	lookups(&p);
	/* only a policy without file references has a resolved form without reading files */
	if (resolved)
		roundtrip(&p, roles);
	policy_free(&p);
	return 0;
}
