/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the path probe's codecs (lib/probe.c): the payload alone and inside a
 * cooperative datagram (every accepted payload encodes back to the same bytes), and the
 * received segment of both families (no input reads out of bounds; an accepted one is a SYN
 * without ACK whose fields are the bytes at their offsets).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void segment(const uint8_t *data, size_t size, int family)
{
	struct cn_probe_seen s;
	size_t off;

	if (cn_probe_seg_parse(&s, family, data, size) != CN_SEG_OK)
		return;
	off = family == AF_INET ? (size_t)(data[0] & 0x0f) * 4 : 0;
	if ((s.flags & 0x12) != 0x02 || s.urgptr != (data[off + 18] << 8 | data[off + 19]) ||
	    s.sport != (data[off] << 8 | data[off + 1]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_probe_body b;
	struct cn_coop_msg m;
	uint8_t out[CN_PROBE_LEN];
	size_t len;

	if (cn_probe_body_decode(&b, data, size, NULL) == CN_PROBE_OK) {
		if (cn_probe_body_encode(&b, out, sizeof(out), &len, NULL) != CN_PROBE_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
		(void)cn_probe_judge((uint16_t)size, &b);
	}
	if (cn_coop_decode(&m, data, size, NULL) == CN_COOP_OK &&
	    cn_probe_from_msg(&m, &b, NULL) == CN_PROBE_OK) {
		if (cn_probe_body_encode(&b, out, sizeof(out), &len, NULL) != CN_PROBE_OK ||
		    len != m.dev_len || memcmp(out, m.dev, len) != 0)
			abort();
	}
	segment(data, size, AF_INET);
	segment(data, size, AF_INET6);
	return 0;
}
