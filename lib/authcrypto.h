/* SPDX-License-Identifier: MIT */
/*
 * The cryptography of Authentication (libsodium). See docs/security.md for the reasons.
 *
 * Keys
 *   client key  K_c = crypto_pwhash(passcode, salt(service, client name)), Argon2id. The
 *               passcode is never stored by an SP and never sent: an SP stores K_c only; an
 *               SS may store the passcode (policy) or K_c. The salt is derived, so both sides
 *               compute the same key without a round trip, and it differs per (service,
 *               client): one table of precomputed keys cannot serve two clients.
 *   group key   K_g: 32 random bytes shared by the SPs of one group (header + members).
 *   session key K_s = BLAKE2b(K_c; "coopnet session v1" | nonce_ss | nonce_sp | id): keys
 *               the status messages of one session.
 *
 * Tags (both keyed BLAKE2b-256, crypto_generichash)
 *   proof (auth_data.proof): end to end, SS <-> owning SP, key K_c (or K_s), over the whole
 *         datagram with proof, fwd and mac zeroed, prefixed with a label that names the
 *         direction, so a message can not be reflected back as the other side's.
 *   mac   (trailer): one hop between SPs, key K_g, over the whole datagram but the mac itself.
 *         A header SP adds fwd + mac when it forwards a REQ; it never needs K_c.
 *
 * All comparisons of tags are constant time (sodium_memcmp / crypto_verify_32).
 */
#ifndef COOPNET_AUTHCRYPTO_H
#define COOPNET_AUTHCRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coop.h"

#define CN_KEY_LEN    32
#define CN_DIGEST_LEN 32

/* sodium_init(); 0, or -1 when libsodium can not start (fail closed). Idempotent. */
int cn_auth_crypto_init(void);

/* Cost of the passcode KDF. INTERACTIVE (production: Argon2id, 2 passes, 64 MiB) or MIN
 * (tests and benchmarks only: 1 pass, 8 KiB). */
enum cn_kdf_cost {
	CN_KDF_INTERACTIVE = 0,
	CN_KDF_MODERATE = 1,
	CN_KDF_MIN = 2,
};

/* The salt for (service, client name): BLAKE2b-128 keyed with a fixed label. */
void cn_auth_salt(uint8_t salt[16], const char *service, const char *client_name);

/* K_c from a passcode. 0, or -1 (out of memory, or passcode longer than 1024 bytes). */
int cn_auth_derive_key(uint8_t key[CN_KEY_LEN], const char *passcode, size_t passcode_len,
    const char *service, const char *client_name, enum cn_kdf_cost cost);

/* K_s for the status messages of one session. */
void cn_auth_session_key(uint8_t out[CN_KEY_LEN], const uint8_t kc[CN_KEY_LEN],
    const uint8_t nonce_ss[CN_COOP_NONCE_LEN], const uint8_t nonce_sp[CN_COOP_NONCE_LEN],
    cn_id_t id);

/* Who wrote a proof: it is part of what is authenticated. */
enum cn_proof_dir {
	CN_DIR_SS_TO_SP = 1,
	CN_DIR_SP_TO_SS = 2,
};

/* Compute the proof over an encoded datagram (buf, len as cn_coop_encode made it) and write
 * it into buf at CN_COOP_OFF_PROOF. -1 when len is not a valid datagram length. */
int cn_auth_seal_proof(uint8_t *buf, size_t len, const uint8_t key[CN_KEY_LEN],
    enum cn_proof_dir dir);
/* true when the proof in buf is the one key makes (constant time). */
bool cn_auth_check_proof(const uint8_t *buf, size_t len, const uint8_t key[CN_KEY_LEN],
    enum cn_proof_dir dir);

/* The same for the group MAC (the last CN_COOP_TAG_LEN bytes). */
int cn_auth_seal_mac(uint8_t *buf, size_t len, const uint8_t gkey[CN_KEY_LEN]);
bool cn_auth_check_mac(const uint8_t *buf, size_t len, const uint8_t gkey[CN_KEY_LEN]);

/* The replay digest of a datagram: BLAKE2b-256 of the end-to-end part (proof included; fwd
 * and mac zeroed), so the same REQ is recognised whichever header forwarded it. */
int cn_auth_digest(uint8_t out[CN_DIGEST_LEN], const uint8_t *buf, size_t len);

/* |msg_ms - now_ms| <= window_ms */
bool cn_auth_time_ok(uint64_t msg_ms, uint64_t now_ms, uint64_t window_ms);

/* Random nonce (randombytes_buf). */
void cn_auth_nonce(uint8_t nonce[CN_COOP_NONCE_LEN]);

/*
 * ID allocation: random in 1..65535 (randombytes_uniform), never 0. in_use(ctx, id) tells
 * whether the SP already has a live (or pending) session with that ID. Tries at most
 * max_tries random IDs; then scans from a random start so that a nearly full space still
 * finds a free ID. CN_ID_NONE when every ID is in use.
 */
typedef bool (*cn_id_in_use_fn)(void *ctx, cn_id_t id);
cn_id_t cn_auth_alloc_id(cn_id_in_use_fn in_use, void *ctx, unsigned max_tries);

/* true when a and b (n bytes) are equal, in constant time. */
bool cn_auth_equal(const void *a, const void *b, size_t n);

/*
 * Replay cache: digests of accepted messages with their timestamp. The daemon persists it
 * (sqlite); tests use the in-memory one. A digest only needs to be kept while its timestamp
 * is inside the window: older messages are refused as stale anyway.
 *   seen(ctx, digest, ts_ms): true when the digest is in the cache. On an internal error an
 *                             implementation returns true (fail closed).
 *   add(ctx, digest, ts_ms):  0, or -1 (full, database error); the caller then refuses.
 */
struct cn_replay {
	void *ctx;
	bool (*seen)(void *ctx, const uint8_t digest[CN_DIGEST_LEN], uint64_t ts_ms);
	int (*add)(void *ctx, const uint8_t digest[CN_DIGEST_LEN], uint64_t ts_ms);
};

static inline bool cn_replay_seen(const struct cn_replay *r, const uint8_t d[CN_DIGEST_LEN],
    uint64_t ts_ms)
{
	return r->seen(r->ctx, d, ts_ms);
}

static inline int cn_replay_add(const struct cn_replay *r, const uint8_t d[CN_DIGEST_LEN],
    uint64_t ts_ms)
{
	return r->add(r->ctx, d, ts_ms);
}

/* In-memory replay cache: open addressing, capacity entries (rounded up to a power of two).
 * Entries with ts_ms + keep_ms < the newest timestamp added are reused. */
struct cn_replay_mem;
struct cn_replay_mem *cn_replay_mem_new(size_t capacity, uint64_t keep_ms);
void cn_replay_mem_free(struct cn_replay_mem *m);
/* Fill r with the callbacks of m. */
void cn_replay_mem_bind(struct cn_replay_mem *m, struct cn_replay *r);
size_t cn_replay_mem_count(const struct cn_replay_mem *m);
/* Drop entries older than now_ms - keep_ms; returns how many were dropped. */
size_t cn_replay_mem_prune(struct cn_replay_mem *m, uint64_t now_ms);

/*
 * Token bucket per source address, for wrong proofs. Fixed table (no allocation after new);
 * when full, the least recently used bucket is reused (a flood of sources can only make an
 * attacker's bucket forget, never block an honest source that did not fail).
 *   burst: tokens a source starts with; per_min: tokens refilled per minute.
 */
struct cn_ratelimit;
struct cn_ratelimit *cn_ratelimit_new(size_t slots, unsigned burst, unsigned per_min);
void cn_ratelimit_free(struct cn_ratelimit *rl);
/* true when src still has a token (does not take one). */
bool cn_ratelimit_allow(struct cn_ratelimit *rl, const struct cn_coop_addr *src,
    uint64_t now_ms);
/* A failure from src: take one token. Returns the tokens left. */
unsigned cn_ratelimit_fail(struct cn_ratelimit *rl, const struct cn_coop_addr *src,
    uint64_t now_ms);

#endif
