/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the status payload (lib/status.c), alone and inside a cooperative
 * datagram: no input crashes or reads out of bounds; every accepted payload encodes back to
 * the same bytes; the receive window never accepts the same (epoch, seq) twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static void window(const uint8_t *data, size_t size)
{
	struct cn_status_rx rx = { 0 };
	uint8_t epoch[CN_COOP_NONCE_LEN] = { 0 };

	/* each 3 bytes: epoch byte, seq (8 bits), ts step */
	for (size_t i = 0; i + 3 <= size && i < 3 * 256; i += 3) {
		uint64_t ts = (uint64_t)data[i + 2] * 10;
		enum cn_status_rx_verdict v;

		epoch[0] = data[i] & 3;
		v = cn_status_rx_check(&rx, epoch, data[i + 1], ts);
		if (v == CN_RX_ACCEPT || v == CN_RX_NEW_EPOCH) {
			cn_status_rx_accept(&rx, epoch, data[i + 1], ts);
			if (cn_status_rx_check(&rx, epoch, data[i + 1], ts) != CN_RX_REPLAY)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_status_body b;
	struct cn_coop_msg m;
	uint8_t out[CN_STATUS_MAX_LEN];
	size_t len;

	if (cn_status_body_decode(&b, data, size, NULL) == CN_STATUS_OK) {
		if (cn_status_body_encode(&b, out, sizeof(out), &len, NULL) != CN_STATUS_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
	}
	if (cn_coop_decode(&m, data, size, NULL) == CN_COOP_OK &&
	    cn_status_from_msg(&m, &b, NULL) == CN_STATUS_OK) {
		if (cn_status_body_encode(&b, out, sizeof(out), &len, NULL) != CN_STATUS_OK ||
		    len != m.dev_len || memcmp(out, m.dev, len) != 0)
			abort();
	}
	window(data, size);
	return 0;
}
