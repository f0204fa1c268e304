/* SPDX-License-Identifier: MIT */
/*
 * The signature of a group message (lib/group.h): Ed25519 (libsodium) over the datagram's
 * bytes before the signature, which ends the developer part; the mac after it is zero.
 */
#include "group.h"

#include <sodium.h>

/* The signature's offset in a datagram of len bytes, 0 when len cannot hold one. */
static size_t sig_offset(size_t len)
{
	if (len < CN_COOP_MIN_LEN + CN_GROUP_MIN_LEN || len > CN_COOP_MAX_LEN)
		return 0;
	return len - CN_COOP_TAG_LEN - CN_GROUP_SIG_LEN;
}

int cn_group_seal(uint8_t *buf, size_t len, const uint8_t sk[CN_GROUP_SK_LEN])
{
	size_t off = sig_offset(len);

	if (off == 0 || sodium_init() < 0)
		return -1;
	return crypto_sign_detached(buf + off, NULL, buf, off, sk) == 0 ? 0 : -1;
}

bool cn_group_verify(const uint8_t *buf, size_t len, const uint8_t pk[CN_GROUP_PK_LEN])
{
	size_t off = sig_offset(len);

	if (off == 0 || sodium_init() < 0)
		return false;
	return crypto_sign_verify_detached(buf + off, buf, off, pk) == 0;
}

int cn_group_keypair(uint8_t pk[CN_GROUP_PK_LEN], uint8_t sk[CN_GROUP_SK_LEN],
    const uint8_t seed[CN_GROUP_SEED_LEN])
{
	if (sodium_init() < 0)
		return -1;
	return crypto_sign_seed_keypair(pk, sk, seed) == 0 ? 0 : -1;
}

int cn_group_digest(uint8_t out[32], const uint8_t *buf, size_t len)
{
	return crypto_generichash(out, 32, buf, len, NULL, 0) == 0 ? 0 : -1;
}
