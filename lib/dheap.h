/* SPDX-License-Identifier: MIT */
/*
 * dheap: a deadline min-heap over the slots of a caller's fixed-size array. Each slot
 * 0..cap-1 is in the heap at most once, with a uint64_t key (a deadline); the heap keeps an
 * index array from slot to heap position, so a slot's key can be changed and a slot removed
 * from the middle in O(log n), and the earliest deadline read in O(1). Equal keys come out in
 * no particular order.
 *
 *	dheap_init(&h, max_slots);
 *	dheap_set(&h, slot, deadline);           // insert, or move to a new deadline
 *	while (dheap_top_key(&h) <= now) {       // UINT64_MAX when empty
 *		uint32_t s = dheap_top(&h);
 *		... handle s, then dheap_set(&h, s, its next deadline) or dheap_remove(&h, s)
 *	}
 *
 * Used by authd/status_fsm.c (each session's next report or reachability mark; it grows the
 * heap with its slots) and authd/auth_sp.c (the pending exchanges' time-outs).
 */
#ifndef COOPNET_DHEAP_H
#define COOPNET_DHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHEAP_NONE UINT32_MAX

struct dheap_node {
	uint64_t key;
	uint32_t slot;
};

struct dheap {
	struct dheap_node *node; /* node[0..n-1]: the heap; node[0] the earliest */
	uint32_t *pos;           /* pos[slot]: its index in node, or DHEAP_NONE */
	size_t n, cap;
};

/* Room for slots 0..cap-1 (1 <= cap < DHEAP_NONE). 0, or -1 (EINVAL, ENOMEM). */
int dheap_init(struct dheap *h, size_t cap);
void dheap_fini(struct dheap *h); /* frees the arrays; h may be zeroed or inited */
/* Room for slots 0..cap-1 (a larger cap; a smaller or equal one changes nothing), the heap's
 * nodes kept. 0, or -1 with errno EINVAL (cap >= DHEAP_NONE) or ENOMEM (h unchanged, still
 * valid). */
int dheap_grow(struct dheap *h, size_t cap);

/* Insert slot with key, or change its key when it is in the heap already. slot < cap. */
void dheap_set(struct dheap *h, uint32_t slot, uint64_t key);
/* Take slot out (nothing when it is not in). */
void dheap_remove(struct dheap *h, uint32_t slot);

static inline bool dheap_contains(const struct dheap *h, uint32_t slot)
{
	return slot < h->cap && h->pos[slot] != DHEAP_NONE;
}
/* The earliest key, UINT64_MAX when empty; its slot, DHEAP_NONE when empty. */
static inline uint64_t dheap_top_key(const struct dheap *h)
{
	return h->n ? h->node[0].key : UINT64_MAX;
}
static inline uint32_t dheap_top(const struct dheap *h)
{
	return h->n ? h->node[0].slot : DHEAP_NONE;
}
static inline size_t dheap_size(const struct dheap *h)
{
	return h->n;
}

#endif
