/* SPDX-License-Identifier: MIT */
/* The held SYNs of one queue thread (held.h): a fixed pool, indexed by key, in deadline order. */
#include "held.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The index reads only the key: struct held_syn starts with it, so a struct sess_key * is a
 * valid lookup key (a pointer to a struct is a pointer to its first member). */
static uint64_t key_hash(const void *p)
{
	return hidx_bytes_hash(HIDX_HASH_INIT, p, sizeof(struct sess_key));
}

static bool key_eq(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sess_key)) == 0;
}

static const struct hidx_type held_type = {
	.size = sizeof(struct held_syn),
	.hash = key_hash,
	.eq = key_eq,
};

int held_init(struct held_table *h, uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	h->head = h->tail = h->free = -1;
	if (cap == 0 || cap > HELD_MAX_CAP) {
		errno = EINVAL;
		return -1;
	}
	h->v = calloc(cap, sizeof(*h->v));
	/* sized once for cap keys: no insert ever grows it (no allocation per packet) */
	if (!h->v || hidx_reserve(&h->ix, &held_type, h->v, cap) < 0) {
		held_free(h);
		errno = ENOMEM;
		return -1;
	}
	h->cap = cap;
	for (uint32_t i = cap; i-- > 0;) {
		h->v[i].next = h->free;
		h->free = (int32_t)i;
	}
	return 0;
}

void held_free(struct held_table *h)
{
	if (!h)
		return;
	free(h->v);
	hidx_free(&h->ix);
	memset(h, 0, sizeof(*h));
	h->head = h->tail = h->free = -1;
}

/* Put entry i into the deadline list: after the last entry whose deadline is not later. */
static void list_insert(struct held_table *h, int32_t i)
{
	struct held_syn *s = &h->v[i];
	int32_t after = h->tail;

	while (after >= 0 && h->v[after].deadline_ms > s->deadline_ms)
		after = h->v[after].prev;
	s->prev = after;
	s->next = after >= 0 ? h->v[after].next : h->head;
	if (s->next >= 0)
		h->v[s->next].prev = i;
	else
		h->tail = i;
	if (after >= 0)
		h->v[after].next = i;
	else
		h->head = i;
}

static void list_unlink(struct held_table *h, int32_t i)
{
	struct held_syn *s = &h->v[i];

	if (s->prev >= 0)
		h->v[s->prev].next = s->next;
	else
		h->head = s->next;
	if (s->next >= 0)
		h->v[s->next].prev = s->prev;
	else
		h->tail = s->prev;
}

int held_add(struct held_table *h, const struct sess_key *k, uint32_t pkt_id, uint32_t mark,
	     uint64_t deadline_ms, enum cn_csum_state csum, const uint8_t *pl, size_t plen)
{
	struct held_syn *s;
	long first;
	int32_t i;

	struct cn_pkt p;
	uint32_t seq = 0;
	uint16_t sport = 0;

	if (plen > HELD_COPY || (plen && !pl))
		return -1;
	if (plen && cn_pkt_parse(&p, pl, plen) == CN_PKT_OK && p.l4_off + 8 <= plen) {
		sport = p.sport;
		seq = (uint32_t)pl[p.l4_off + 4] << 24 | (uint32_t)pl[p.l4_off + 5] << 16 |
		      (uint32_t)pl[p.l4_off + 6] << 8 | pl[p.l4_off + 7];
	}
	first = hidx_find(&h->ix, &held_type, h->v, k);
	for (i = (int32_t)first; sport && i >= 0; i = h->v[i].knext)
		if (h->v[i].sport == sport && h->v[i].seq == seq)
			return 1;
	if (h->free < 0)
		return -1;
	i = h->free;
	s = &h->v[i];
	h->free = s->next;
	s->key = *k;
	s->pkt_id = pkt_id;
	s->mark = mark;
	s->deadline_ms = deadline_ms;
	s->csum = (uint8_t)csum;
	s->len = (uint16_t)plen;
	if (plen)
		memcpy(s->buf, pl, plen);
	s->used = 1;
	s->knext = -1;
	s->sport = sport;
	s->seq = seq;
	if (first < 0) {
		/* cannot fail: the index was sized for cap keys */
		hidx_insert(&h->ix, &held_type, h->v, (size_t)i);
	} else {
		int32_t j = (int32_t)first;

		while (h->v[j].knext >= 0) /* the key's SYNs in arrival order */
			j = h->v[j].knext;
		h->v[j].knext = i;
	}
	list_insert(h, i);
	h->n++;
	return 0;
}

/* Entry i leaves: out of its key's chain (and the index, when it was the first), out of the
 * deadline list, onto the free list. */
static void held_remove(struct held_table *h, int32_t i)
{
	struct held_syn *s = &h->v[i];
	long first = hidx_find(&h->ix, &held_type, h->v, &s->key);

	if (first == i) {
		if (s->knext >= 0)
			hidx_move(&h->ix, &held_type, h->v, (size_t)i, (size_t)s->knext);
		else
			hidx_remove(&h->ix, &held_type, h->v, (size_t)i);
	} else if (first >= 0) {
		int32_t j = (int32_t)first;

		while (h->v[j].knext >= 0 && h->v[j].knext != i)
			j = h->v[j].knext;
		if (h->v[j].knext == i)
			h->v[j].knext = s->knext;
	}
	list_unlink(h, i);
	s->used = 0;
	s->next = h->free;
	h->free = i;
	h->n--;
}

size_t held_key_changed(struct held_table *h, const struct sess_key *k, held_fn fn, void *ctx)
{
	long first = h->n ? hidx_find(&h->ix, &held_type, h->v, k) : -1;
	int32_t i = (int32_t)first, next;
	size_t gone = 0;

	for (; i >= 0; i = next) {
		next = h->v[i].knext;
		if (fn(ctx, &h->v[i])) {
			held_remove(h, i);
			gone++;
		}
	}
	return gone;
}

size_t held_expire(struct held_table *h, uint64_t now_ms, held_fn fn, void *ctx)
{
	size_t gone = 0;

	while (h->head >= 0 && h->v[h->head].deadline_ms <= now_ms) {
		int32_t i = h->head;

		fn(ctx, &h->v[i]);
		held_remove(h, i);
		gone++;
	}
	return gone;
}

size_t held_recheck_all(struct held_table *h, held_fn fn, void *ctx)
{
	int32_t i, next;
	size_t gone = 0;

	for (i = h->head; i >= 0; i = next) {
		next = h->v[i].next;
		if (fn(ctx, &h->v[i])) {
			held_remove(h, i);
			gone++;
		}
	}
	return gone;
}

uint64_t held_next_deadline(const struct held_table *h)
{
	return h->head >= 0 ? h->v[h->head].deadline_ms : UINT64_MAX;
}
