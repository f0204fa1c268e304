/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for coopnet-nfq's configuration parser (nfq/nfqconf.c). The first byte
 * chooses the schema (bit 0 set: none, so the C code's own bounds are all that stands between
 * the input and the fixed buffers); the rest is the document. A document that loads must
 * hold what the parser promises (bounded counts, NUL-terminated strings, a known role and
 * mode); a refusal must carry a message.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_nfqconf -max_total_time=60 tests/fuzz/corpus/nfqconf
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfqconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jconf_schema *schema;

static void check_loaded(const struct nfq_config *cfg)
{
	if (memchr(cfg->control_socket, 0, sizeof(cfg->control_socket)) == NULL ||
	    memchr(cfg->rule_table, 0, sizeof(cfg->rule_table)) == NULL ||
	    cfg->nhooks < 0 || cfg->nhooks > NFQ_HOOK_MAX ||
	    !nfq_role_name(cfg->role) || !nfq_mode_name(cfg->mode)) {
		fprintf(stderr, "a loaded configuration breaks a bound\n");
		abort();
	}
	for (int i = 0; i < cfg->nhooks; i++)
		(void)nfq_hook_name(cfg->hooks[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfq_config cfg;
	struct jconf_error err;
	char buf[2048];

	if (size < 1)
		return 0;
	if (!schema) {
		schema = nfq_config_schema(&err);
		if (!schema)
			abort();
	}
	if (nfq_config_load_buffer(&cfg, "nfq.json", (const char *)data + 1, size - 1,
				   (data[0] & 1) ? NULL : schema, &err) < 0) {
		jconf_error_str(&err, buf, sizeof(buf));
		if (!err.msg[0]) {
			fprintf(stderr, "an error without a message\n");
			abort();
		}
		return 0;
	}
	check_loaded(&cfg);
	nfq_config_clear(&cfg);
	return 0;
}
