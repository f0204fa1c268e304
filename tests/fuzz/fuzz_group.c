/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for group messages (lib/group.c, authd/group_fsm.c): a datagram is
 * decoded as the engine does (cn_coop_decode, then the group payload), never crashes or reads
 * out of bounds; every accepted payload encodes back to the same bytes (the signature aside,
 * which the encoder leaves zero); and the header's checks never accept an input that was not
 * signed by the member's key (the fuzzer cannot forge Ed25519: any acceptance is a bug).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "group_fsm.h"

static struct policy pol;
static struct pol_sp sp;
static struct group_rx rx;
static char svcs[1][CN_COOP_SERVICE_LEN] = { "web" };

static void init(void)
{
	uint8_t seed[CN_GROUP_SEED_LEN], sk[CN_GROUP_SK_LEN];

	memset(seed, 0x42, sizeof(seed));
	cn_group_keypair(sp.public_key, sk, seed);
	memcpy(sp.name, "sp1", 4);
	sp.has_public_key = true;
	sp.services = svcs;
	sp.n_services = 1;
	pol.header = true;
	pol.group = &sp;
	pol.n_group = 1;
	if (group_rx_rebuild(&rx, &pol, NULL) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t out[CN_GROUP_DGRAM_MAX];
	struct cn_coop_msg m;
	struct cn_group_msg g;
	size_t len;

	if (!ready) {
		init();
		ready = true;
	}
	if (cn_coop_decode(&m, data, size, NULL) != CN_COOP_OK)
		return 0;
	if (cn_group_decode(&g, &m) == CN_GROUP_OK) {
		if (cn_group_encode(&g, m.timestamp_ms, out, sizeof(out), &len) != CN_GROUP_OK ||
		    len != size ||
		    memcmp(out, data, size - CN_COOP_TAG_LEN - CN_GROUP_SIG_LEN) != 0 ||
		    memcmp(out + size - CN_COOP_TAG_LEN, data + size - CN_COOP_TAG_LEN,
			   CN_COOP_TAG_LEN) != 0)
			abort();
	}
	if (group_rx_input(&rx, &pol, data, size, &m, 1000, m.timestamp_ms) == GROUP_EV_ACCEPTED)
		abort();
	return 0;
}
