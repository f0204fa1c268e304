/* SPDX-License-Identifier: MIT */
/*
 * Keys, tags, replay cache and rate limit of Authentication (see authcrypto.h and
 * docs/security.md).
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "authcrypto.h"

#define MAX_PASSCODE 1024

static const char label_salt[] = "coopnet salt v1";
static const char label_session[] = "coopnet session v1";
static const char label_proof[] = "coopnet proof v1";
static const char label_group[] = "coopnet group v1";
static const char label_digest[] = "coopnet digest v1";

int cn_auth_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

bool cn_auth_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

void cn_auth_salt(uint8_t salt[16], const char *service, const char *client_name)
{
	crypto_generichash_state st;
	uint8_t sep = 0;
	uint8_t key[crypto_generichash_KEYBYTES_MIN];

	/* A fixed key (the label) separates this use of BLAKE2b from every other one. */
	memset(key, 0, sizeof(key));
	memcpy(key, label_salt, sizeof(label_salt) - 1);
	crypto_generichash_init(&st, key, sizeof(key), 16);
	crypto_generichash_update(&st, (const uint8_t *)service, strlen(service));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)client_name, strlen(client_name));
	crypto_generichash_final(&st, salt, 16);
}

int cn_auth_derive_key(uint8_t key[CN_KEY_LEN], const char *passcode, size_t passcode_len,
    const char *service, const char *client_name, enum cn_kdf_cost cost)
{
	uint8_t salt[crypto_pwhash_SALTBYTES];
	unsigned long long ops;
	size_t mem;

	_Static_assert(crypto_pwhash_SALTBYTES == 16, "salt size");
	if (passcode_len == 0 || passcode_len > MAX_PASSCODE) {
		errno = EINVAL;
		return -1;
	}
	switch (cost) {
	case CN_KDF_INTERACTIVE:
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case CN_KDF_MODERATE:
		ops = crypto_pwhash_OPSLIMIT_MODERATE;
		mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	case CN_KDF_MIN:
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = crypto_pwhash_MEMLIMIT_MIN;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	cn_auth_salt(salt, service, client_name);
	if (crypto_pwhash(key, CN_KEY_LEN, passcode, passcode_len, salt, ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void cn_auth_session_key(uint8_t out[CN_KEY_LEN], const uint8_t kc[CN_KEY_LEN],
    const uint8_t nonce_ss[CN_COOP_NONCE_LEN], const uint8_t nonce_sp[CN_COOP_NONCE_LEN],
    cn_id_t id)
{
	crypto_generichash_state st;
	uint8_t idb[2] = { (uint8_t)(id >> 8), (uint8_t)id };

	crypto_generichash_init(&st, kc, CN_KEY_LEN, CN_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label_session, sizeof(label_session));
	crypto_generichash_update(&st, nonce_ss, CN_COOP_NONCE_LEN);
	crypto_generichash_update(&st, nonce_sp, CN_COOP_NONCE_LEN);
	crypto_generichash_update(&st, idb, sizeof(idb));
	crypto_generichash_final(&st, out, CN_KEY_LEN);
}

/* A valid datagram length: the decoder's bounds and the length field (so the tag offsets
 * computed from len are the ones the codec used). */
static bool len_ok(const uint8_t *buf, size_t len)
{
	if (len < CN_COOP_MIN_LEN || len > CN_COOP_MAX_LEN)
		return false;
	return (size_t)((buf[8] << 8) | buf[9]) == len;
}

/* The end-to-end part: the datagram with proof, fwd and mac zeroed. */
static void e2e_copy(uint8_t *tmp, const uint8_t *buf, size_t len)
{
	memcpy(tmp, buf, len);
	memset(tmp + CN_COOP_OFF_PROOF, 0, CN_COOP_TAG_LEN);
	memset(tmp + CN_COOP_OFF_FWD, 0, CN_COOP_OFF_DEVLEN - CN_COOP_OFF_FWD);
	memset(tmp + len - CN_COOP_TAG_LEN, 0, CN_COOP_TAG_LEN);
}

static void proof_of(uint8_t out[CN_COOP_TAG_LEN], const uint8_t *buf, size_t len,
    const uint8_t key[CN_KEY_LEN], enum cn_proof_dir dir)
{
	uint8_t tmp[CN_COOP_MAX_LEN];
	uint8_t d = (uint8_t)dir;
	crypto_generichash_state st;

	e2e_copy(tmp, buf, len);
	crypto_generichash_init(&st, key, CN_KEY_LEN, CN_COOP_TAG_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label_proof, sizeof(label_proof));
	crypto_generichash_update(&st, &d, 1);
	crypto_generichash_update(&st, tmp, len);
	crypto_generichash_final(&st, out, CN_COOP_TAG_LEN);
}

int cn_auth_seal_proof(uint8_t *buf, size_t len, const uint8_t key[CN_KEY_LEN],
    enum cn_proof_dir dir)
{
	if (!len_ok(buf, len))
		return -1;
	proof_of(buf + CN_COOP_OFF_PROOF, buf, len, key, dir);
	return 0;
}

bool cn_auth_check_proof(const uint8_t *buf, size_t len, const uint8_t key[CN_KEY_LEN],
    enum cn_proof_dir dir)
{
	uint8_t want[CN_COOP_TAG_LEN];

	if (!len_ok(buf, len))
		return false;
	proof_of(want, buf, len, key, dir);
	return crypto_verify_32(want, buf + CN_COOP_OFF_PROOF) == 0;
}

static void mac_of(uint8_t out[CN_COOP_TAG_LEN], const uint8_t *buf, size_t len,
    const uint8_t gkey[CN_KEY_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, gkey, CN_KEY_LEN, CN_COOP_TAG_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label_group, sizeof(label_group));
	crypto_generichash_update(&st, buf, len - CN_COOP_TAG_LEN);
	crypto_generichash_final(&st, out, CN_COOP_TAG_LEN);
}

int cn_auth_seal_mac(uint8_t *buf, size_t len, const uint8_t gkey[CN_KEY_LEN])
{
	if (!len_ok(buf, len))
		return -1;
	mac_of(buf + len - CN_COOP_TAG_LEN, buf, len, gkey);
	return 0;
}

bool cn_auth_check_mac(const uint8_t *buf, size_t len, const uint8_t gkey[CN_KEY_LEN])
{
	uint8_t want[CN_COOP_TAG_LEN];

	if (!len_ok(buf, len))
		return false;
	mac_of(want, buf, len, gkey);
	return crypto_verify_32(want, buf + len - CN_COOP_TAG_LEN) == 0;
}

int cn_auth_digest(uint8_t out[CN_DIGEST_LEN], const uint8_t *buf, size_t len)
{
	uint8_t tmp[CN_COOP_MAX_LEN];
	crypto_generichash_state st;

	if (!len_ok(buf, len))
		return -1;
	e2e_copy(tmp, buf, len);
	/* The proof stays in: it is what makes two REQs with equal fields differ. */
	memcpy(tmp + CN_COOP_OFF_PROOF, buf + CN_COOP_OFF_PROOF, CN_COOP_TAG_LEN);
	crypto_generichash_init(&st, NULL, 0, CN_DIGEST_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label_digest, sizeof(label_digest));
	crypto_generichash_update(&st, tmp, len);
	crypto_generichash_final(&st, out, CN_DIGEST_LEN);
	return 0;
}

bool cn_auth_time_ok(uint64_t msg_ms, uint64_t now_ms, uint64_t window_ms)
{
	uint64_t d = msg_ms > now_ms ? msg_ms - now_ms : now_ms - msg_ms;

	return d <= window_ms;
}

void cn_auth_nonce(uint8_t nonce[CN_COOP_NONCE_LEN])
{
	randombytes_buf(nonce, CN_COOP_NONCE_LEN);
}

cn_id_t cn_auth_alloc_id(cn_id_in_use_fn in_use, void *ctx, unsigned max_tries)
{
	cn_id_t id;

	for (unsigned i = 0; i < max_tries; i++) {
		id = (cn_id_t)(randombytes_uniform(0xffff) + 1);
		if (!in_use(ctx, id))
			return id;
	}
	/* Nearly full: walk the whole space once from a random point. */
	id = (cn_id_t)(randombytes_uniform(0xffff) + 1);
	for (unsigned i = 0; i < 0xffff; i++) {
		if (!in_use(ctx, id))
			return id;
		id = id == 0xffff ? 1 : (cn_id_t)(id + 1);
	}
	return CN_ID_NONE;
}

/* ------------------------------------------------------------------ replay cache */

struct replay_slot {
	uint8_t digest[CN_DIGEST_LEN];
	uint64_t ts_ms;
	bool used;
};

struct cn_replay_mem {
	struct replay_slot *slots;
	size_t mask;
	size_t count;
	uint64_t keep_ms;
	uint64_t newest_ms;
};

/* Linear probing is bounded so that a full table costs a fixed time, not a scan. */
#define REPLAY_PROBES 64

struct cn_replay_mem *cn_replay_mem_new(size_t capacity, uint64_t keep_ms)
{
	struct cn_replay_mem *m;
	size_t n = 16;

	while (n < capacity && n < ((size_t)1 << 30))
		n <<= 1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->slots = calloc(n, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	m->mask = n - 1;
	m->keep_ms = keep_ms;
	return m;
}

void cn_replay_mem_free(struct cn_replay_mem *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static size_t replay_home(const struct cn_replay_mem *m, const uint8_t d[CN_DIGEST_LEN])
{
	uint64_t h;

	memcpy(&h, d, sizeof(h)); /* a digest is uniformly random already */
	return (size_t)h & m->mask;
}

static bool replay_expired(const struct cn_replay_mem *m, const struct replay_slot *s)
{
	return s->ts_ms + m->keep_ms < m->newest_ms;
}

static bool replay_mem_seen(void *ctx, const uint8_t d[CN_DIGEST_LEN], uint64_t ts_ms)
{
	struct cn_replay_mem *m = ctx;
	size_t i = replay_home(m, d);

	(void)ts_ms;
	for (size_t n = 0; n < REPLAY_PROBES && n <= m->mask; n++, i = (i + 1) & m->mask) {
		const struct replay_slot *s = &m->slots[i];

		if (!s->used)
			return false;
		if (sodium_memcmp(s->digest, d, CN_DIGEST_LEN) == 0)
			return true;
	}
	return false;
}

static int replay_mem_add(void *ctx, const uint8_t d[CN_DIGEST_LEN], uint64_t ts_ms)
{
	struct cn_replay_mem *m = ctx;
	size_t i = replay_home(m, d);

	if (ts_ms > m->newest_ms)
		m->newest_ms = ts_ms;
	for (size_t n = 0; n < REPLAY_PROBES && n <= m->mask; n++, i = (i + 1) & m->mask) {
		struct replay_slot *s = &m->slots[i];

		/* An expired slot is reused in place, so probe chains never break. */
		if (!s->used || replay_expired(m, s)) {
			if (!s->used)
				m->count++;
			memcpy(s->digest, d, CN_DIGEST_LEN);
			s->ts_ms = ts_ms;
			s->used = true;
			return 0;
		}
	}
	errno = ENOSPC;
	return -1;
}

void cn_replay_mem_bind(struct cn_replay_mem *m, struct cn_replay *r)
{
	r->ctx = m;
	r->seen = replay_mem_seen;
	r->add = replay_mem_add;
}

size_t cn_replay_mem_count(const struct cn_replay_mem *m)
{
	return m->count;
}

size_t cn_replay_mem_prune(struct cn_replay_mem *m, uint64_t now_ms)
{
	struct replay_slot *old = m->slots;
	size_t n = m->mask + 1, dropped = 0;
	struct replay_slot *fresh;

	if (now_ms > m->newest_ms)
		m->newest_ms = now_ms;
	/* Rebuild rather than delete in place: deleting would break linear-probe chains. */
	if ((fresh = calloc(n, sizeof(*fresh))) == NULL)
		return 0;
	m->slots = fresh;
	m->count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!old[i].used)
			continue;
		if (old[i].ts_ms + m->keep_ms < now_ms || replay_mem_add(m, old[i].digest,
		    old[i].ts_ms) != 0)
			dropped++;
	}
	free(old);
	return dropped;
}

/* ------------------------------------------------------------------ rate limit */

struct rl_slot {
	uint8_t family;
	uint8_t addr[16];
	bool used;
	uint64_t units;   /* 1 token = 60000 units: refill is elapsed_ms * per_min, exact */
	uint64_t last_ms;
};

struct cn_ratelimit {
	struct rl_slot *slots;
	size_t mask;
	unsigned burst;
	unsigned per_min;
	uint8_t hkey[crypto_shorthash_KEYBYTES]; /* random: sources can not aim at one slot */
};

#define RL_WAYS 8
#define RL_UNIT 60000u

struct cn_ratelimit *cn_ratelimit_new(size_t slots, unsigned burst, unsigned per_min)
{
	struct cn_ratelimit *rl;
	size_t n = RL_WAYS;

	while (n < slots && n < ((size_t)1 << 24))
		n <<= 1;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->slots = calloc(n, sizeof(*rl->slots))) == NULL) {
		free(rl);
		return NULL;
	}
	rl->mask = n - 1;
	rl->burst = burst;
	rl->per_min = per_min;
	crypto_shorthash_keygen(rl->hkey);
	return rl;
}

void cn_ratelimit_free(struct cn_ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

static void rl_refill(const struct cn_ratelimit *rl, struct rl_slot *s, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)rl->burst * RL_UNIT;

	if (now_ms > s->last_ms) {
		s->units += (now_ms - s->last_ms) * rl->per_min;
		if (s->units > cap)
			s->units = cap;
	}
	s->last_ms = now_ms;
}

/* The bucket of src among RL_WAYS slots; create (evicting the least recently touched) when
 * create is set. NULL when absent and !create. */
static struct rl_slot *rl_find(struct cn_ratelimit *rl, const struct cn_coop_addr *src,
    uint64_t now_ms, bool create)
{
	uint8_t key[17];
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t hv;
	size_t base;
	struct rl_slot *victim = NULL;

	key[0] = src->family;
	memcpy(key + 1, src->addr, 16);
	crypto_shorthash(h, key, sizeof(key), rl->hkey);
	memcpy(&hv, h, sizeof(hv));
	base = (size_t)hv & rl->mask & ~(size_t)(RL_WAYS - 1);
	for (size_t i = 0; i < RL_WAYS; i++) {
		struct rl_slot *s = &rl->slots[base + i];

		if (s->used && s->family == src->family && memcmp(s->addr, src->addr, 16) == 0) {
			rl_refill(rl, s, now_ms);
			return s;
		}
		if (victim == NULL || !s->used || (victim->used && s->last_ms < victim->last_ms))
			victim = s;
	}
	if (!create)
		return NULL;
	victim->used = true;
	victim->family = src->family;
	memcpy(victim->addr, src->addr, 16);
	victim->units = (uint64_t)rl->burst * RL_UNIT;
	victim->last_ms = now_ms;
	return victim;
}

bool cn_ratelimit_allow(struct cn_ratelimit *rl, const struct cn_coop_addr *src,
    uint64_t now_ms)
{
	struct rl_slot *s = rl_find(rl, src, now_ms, false);

	return s == NULL || s->units >= RL_UNIT;
}

unsigned cn_ratelimit_fail(struct cn_ratelimit *rl, const struct cn_coop_addr *src,
    uint64_t now_ms)
{
	struct rl_slot *s = rl_find(rl, src, now_ms, true);

	if (s->units >= RL_UNIT)
		s->units -= RL_UNIT;
	return (unsigned)(s->units / RL_UNIT);
}
