/* SPDX-License-Identifier: MIT */
/* The SS's index of its exchange slots (auth_ss_index.h). */
#include "auth_ss_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hidx.h"

void ss_index_free(struct ss_index *ix)
{
	free(ix->act);
	free(ix->pos);
	free(ix->free);
	free(ix->nonce_next);
	free(ix->pair_next);
	free(ix->nonce_head);
	free(ix->pair_head);
	memset(ix, 0, sizeof(*ix));
}

int ss_index_init(struct ss_index *ix, size_t n)
{
	size_t buckets = 2;

	memset(ix, 0, sizeof(*ix));
	if (n == 0 || n >= SS_NIL / 2) {
		errno = EINVAL;
		return -1;
	}
	while (buckets < 2 * n)
		buckets *= 2;
	ix->act = calloc(n, sizeof(uint32_t));
	ix->pos = malloc(n * sizeof(uint32_t));
	ix->free = malloc(n * sizeof(uint32_t));
	ix->nonce_next = calloc(n, sizeof(uint32_t));
	ix->pair_next = calloc(n, sizeof(uint32_t));
	ix->nonce_head = malloc(buckets * sizeof(uint32_t));
	ix->pair_head = malloc(buckets * sizeof(uint32_t));
	if (!ix->act || !ix->pos || !ix->free || !ix->nonce_next || !ix->pair_next ||
	    !ix->nonce_head || !ix->pair_head) {
		ss_index_free(ix);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ix->pos[i] = SS_NIL;
		ix->free[i] = (uint32_t)(n - 1 - i); /* slot 0 is taken first */
	}
	for (size_t i = 0; i < buckets; i++)
		ix->nonce_head[i] = ix->pair_head[i] = SS_NIL;
	ix->n_free = n;
	ix->mask = buckets - 1;
	ix->next = UINT64_MAX;
	ix->valid = true;
	return 0;
}

uint32_t ss_index_take(struct ss_index *ix)
{
	return ix->n_free ? ix->free[--ix->n_free] : SS_NIL;
}

void ss_index_untake(struct ss_index *ix, uint32_t slot)
{
	ix->free[ix->n_free++] = slot;
}

/* nonce_ss is random (ours): its first bytes are a hash */
static size_t nonce_bucket(const struct ss_index *ix, const uint8_t *nonce)
{
	uint64_t h;

	memcpy(&h, nonce, sizeof(h));
	return (size_t)(h ^ (h >> 31)) & ix->mask;
}

static size_t pair_bucket(const struct ss_index *ix, const struct cn_coop_addr *client,
    const char *service)
{
	uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, &client->family, 1);

	h = hidx_bytes_hash(h, client->addr, sizeof(client->addr));
	h = hidx_bytes_hash(h, service, strlen(service));
	return (size_t)(h ^ (h >> 29)) & ix->mask;
}

static void chain_unlink(uint32_t *head, uint32_t *next, uint32_t slot)
{
	for (uint32_t *l = head; *l != SS_NIL; l = &next[*l])
		if (*l == slot) {
			*l = next[slot];
			return;
		}
}

void ss_index_add(struct ss_index *ix, uint32_t slot, const uint8_t *nonce,
    const struct cn_coop_addr *client, const char *service)
{
	size_t b;

	ix->pos[slot] = (uint32_t)ix->n_act;
	ix->act[ix->n_act++] = slot;
	b = nonce_bucket(ix, nonce);
	ix->nonce_next[slot] = ix->nonce_head[b];
	ix->nonce_head[b] = slot;
	b = pair_bucket(ix, client, service);
	ix->pair_next[slot] = ix->pair_head[b];
	ix->pair_head[b] = slot;
	ss_index_changed(ix);
}

void ss_index_del(struct ss_index *ix, uint32_t slot, const uint8_t *nonce,
    const struct cn_coop_addr *client, const char *service)
{
	uint32_t p = ix->pos[slot], last;

	if (p == SS_NIL)
		return;
	chain_unlink(&ix->nonce_head[nonce_bucket(ix, nonce)], ix->nonce_next, slot);
	chain_unlink(&ix->pair_head[pair_bucket(ix, client, service)], ix->pair_next, slot);
	last = ix->act[--ix->n_act];
	ix->act[p] = last;
	ix->pos[last] = p;
	ix->pos[slot] = SS_NIL;
	ix->free[ix->n_free++] = slot;
	ss_index_changed(ix);
}

bool ss_index_used(const struct ss_index *ix, uint32_t slot)
{
	return ix->pos[slot] != SS_NIL;
}

uint32_t ss_index_by_nonce(const struct ss_index *ix, const uint8_t *nonce)
{
	return ix->nonce_head[nonce_bucket(ix, nonce)];
}

uint32_t ss_index_nonce_next(const struct ss_index *ix, uint32_t slot)
{
	return ix->nonce_next[slot];
}

uint32_t ss_index_by_pair(const struct ss_index *ix, const struct cn_coop_addr *client,
    const char *service)
{
	return ix->pair_head[pair_bucket(ix, client, service)];
}

uint32_t ss_index_pair_next(const struct ss_index *ix, uint32_t slot)
{
	return ix->pair_next[slot];
}

uint64_t ss_index_earliest(struct ss_index *ix, uint64_t (*deadline)(const void *ctx,
    uint32_t slot), const void *ctx)
{
	uint64_t next = UINT64_MAX;

	if (ix->valid)
		return ix->next;
	for (size_t k = 0; k < ix->n_act; k++) {
		uint64_t d = deadline(ctx, ix->act[k]);
		if (d < next)
			next = d;
	}
	ix->next = next;
	ix->valid = true;
	return next;
}
