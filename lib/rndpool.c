/* SPDX-License-Identifier: MIT */
/* Random bytes from a pool in front of getrandom(2): rndpool.h. */
#include "rndpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include <sodium.h>

static struct {
	uint8_t buf[RNDPOOL_SIZE];
	size_t left; /* unserved bytes: buf[RNDPOOL_SIZE - left, RNDPOOL_SIZE) */
	size_t fills;
	bool installed;
} pool;

void rndpool_discard(void)
{
	sodium_memzero(pool.buf, sizeof(pool.buf));
	pool.left = 0;
}

size_t rndpool_fills(void)
{
	return pool.fills;
}

/* One getrandom(2) for the whole pool (libsodium's source asks 256 bytes a call: 16 calls
 * for 4 KiB); a short read or an error (EINTR, ENOSYS) falls back to libsodium's source for
 * the rest, which aborts rather than return fewer bytes. */
static void fill(void)
{
	ssize_t r = getrandom(pool.buf, sizeof(pool.buf), 0);
	size_t got = r > 0 ? (size_t)r : 0;

	if (got < sizeof(pool.buf))
		randombytes_sysrandom_implementation.buf(pool.buf + got, sizeof(pool.buf) - got);
	pool.left = sizeof(pool.buf);
	pool.fills++;
}

static void pool_buf(void *const out, const size_t size)
{
	uint8_t *o = out;
	size_t n = size;

	if (n >= RNDPOOL_SIZE) { /* a large draw goes straight to the source */
		randombytes_sysrandom_implementation.buf(out, size);
		return;
	}
	while (n > 0) {
		size_t k, at;

		if (pool.left == 0)
			fill();
		k = n < pool.left ? n : pool.left;
		at = RNDPOOL_SIZE - pool.left;
		memcpy(o, pool.buf + at, k);
		sodium_memzero(pool.buf + at, k); /* served once, then gone */
		pool.left -= k;
		o += k;
		n -= k;
	}
}

static uint32_t pool_random(void)
{
	uint32_t r;

	pool_buf(&r, sizeof(r));
	return r;
}

static const char *pool_name(void)
{
	return "coopnet-rndpool";
}

static int pool_close(void)
{
	rndpool_discard();
	return 0;
}

static struct randombytes_implementation pool_impl = {
	.implementation_name = pool_name,
	.random = pool_random,
	.stir = rndpool_discard,
	.uniform = NULL, /* libsodium's unbiased uniform over .random */
	.buf = pool_buf,
	.close = pool_close,
};

int rndpool_install(void)
{
	if (!pool.installed) {
		if (pthread_atfork(NULL, NULL, rndpool_discard) != 0)
			return -1;
		pool.installed = true;
	}
	randombytes_sysrandom_implementation.stir(); /* its source chosen now (before a sandbox) */
	rndpool_discard();
	return randombytes_set_implementation(&pool_impl) == 0 ? 0 : -1;
}
