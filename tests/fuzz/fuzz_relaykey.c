/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for coopnet-relay's key socket: cn_conf_decode() of one message, and what
 * decodes goes into a real key table (relay/keys.c) as the relay would apply it. A message
 * that decodes must encode back to the same bytes; input may hold several 104-byte frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confkey.h"
#include "log.h"
#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct relay r;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_conf_msg m;
	const char *why = NULL;
	uint8_t back[CN_CONF_MSG_LEN];

	if (!ready) {
		log_init("fuzz", LOG_TO_STDERR, false);
		if (relay_keys_init(&r) < 0)
			abort();
		ready = true;
	}
	/* the whole input as one message (any size must be refused cleanly) */
	if (cn_conf_decode(&m, data, size, &why) < 0 && !why)
		abort();
	for (size_t off = 0; off + CN_CONF_MSG_LEN <= size; off += CN_CONF_MSG_LEN) {
		if (cn_conf_decode(&m, data + off, CN_CONF_MSG_LEN, &why) < 0) {
			if (!why)
				abort();
			continue;
		}
		cn_conf_encode(&m, back);
		if (memcmp(back, data + off, CN_CONF_MSG_LEN))
			abort();
		relay_apply(&r, &m, 1000 + (int64_t)(off / CN_CONF_MSG_LEN));
		if (r.n_keys > RELAY_MAX_KEYS)
			abort();
	}
	return 0;
}
