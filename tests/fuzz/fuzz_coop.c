/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the cooperative datagram: decode arbitrary bytes; whatever decodes
 * must re-encode to exactly the same bytes and decode again to the same message.
 *   ./configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_coop
 *   tests/fuzz/fuzz_coop -max_total_time=60 corpus-dir tests/fuzz/corpus/coop
 * Seeds (one valid datagram per kind): tests/fuzz/make_coop_corpus.py
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cn_coop_msg m, m2;
	static uint8_t out[CN_COOP_MAX_LEN];
	struct cn_coop_diag diag;
	size_t len = 0;

	if (cn_coop_decode(&m, data, size, &diag) != CN_COOP_OK) {
		if (diag.field == NULL)
			abort(); /* every error names its field */
		return 0;
	}
	if (cn_coop_encode(&m, out, sizeof(out), &len, NULL) != CN_COOP_OK)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	if (cn_coop_decode(&m2, out, len, NULL) != CN_COOP_OK)
		abort();
	if (memcmp(&m, &m2, offsetof(struct cn_coop_msg, dev)) != 0 ||
	    memcmp(m.dev, m2.dev, m.dev_len) != 0 || memcmp(m.mac, m2.mac, sizeof(m.mac)) != 0)
		abort();
	(void)cn_coop_kind(&m);
	return 0;
}
