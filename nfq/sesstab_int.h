/* SPDX-License-Identifier: MIT */
/* The live session table's parts shared by sesstab.c (index, entries, changes) and
 * sesstab_bulk.c (expiry heap, sync, scans, listing). Not for other files: use table.h. */
#ifndef COOPNET_NFQ_SESSTAB_INT_H
#define COOPNET_NFQ_SESSTAB_INT_H

#include "table.h"

/* An index slot: SLOT_EMPTY, SLOT_TOMB, or the top 9 bits of the key's hash (a tag: a probe
 * reads the entry only when it matches) above the entry number + 1 (23 bits). */
#define SLOT_EMPTY 0u
#define SLOT_TOMB 0xffffffffu
#define SLOT_IDX_BITS 23
#define SLOT_IDX_MASK ((1u << SLOT_IDX_BITS) - 1)
_Static_assert(TBL_MAX_SESSIONS < SLOT_IDX_MASK - 1, "entry numbers fit a slot");

static inline uint32_t slot_make(uint32_t idx, uint64_t hash)
{
	return (uint32_t)(hash >> (64 - (32 - SLOT_IDX_BITS))) << SLOT_IDX_BITS | (idx + 1);
}

static inline uint32_t slot_idx(uint32_t v)
{
	return (v & SLOT_IDX_MASK) - 1;
}

/* A live slot whose tag matches hash. */
static inline bool slot_match(uint32_t v, uint64_t hash)
{
	return v != SLOT_EMPTY && v != SLOT_TOMB &&
	       v >> SLOT_IDX_BITS == (uint32_t)(hash >> (64 - (32 - SLOT_IDX_BITS)));
}
#define MIN_SLOTS 16u

/* TE_AHEAD: the previous-ID slot holds an ID accepted ahead of a renewal (tbl_accept) */
enum { TE_LIVE = 1, TE_OVER_CONFIG = 2, TE_MARK = 4, TE_AHEAD = 8 };

_Static_assert(sizeof(struct tbl_entry) == 128, "a session entry is 128 bytes");

struct tbl_index {
	uint32_t mask;              /* slots - 1, a power of two */
	_Atomic uint32_t slot[];    /* entry number + 1, SLOT_EMPTY or SLOT_TOMB */
};

struct tbl_pending {
	uint32_t idx;
	uint64_t epoch;
};

struct tbl_heap_el {
	uint32_t expires;
	uint32_t idx;
};

struct svc_set {
	uint32_t mask, count;
	struct svc_entry v[];
};

static inline struct tbl_entry *entry_at(const struct sess_table *t, uint32_t idx)
{
	struct tbl_entry *c = atomic_load_explicit(&t->chunk[idx >> TBL_CHUNK_SHIFT],
						   memory_order_relaxed);

	return &c[idx & (TBL_CHUNK - 1)];
}

/* sesstab.c */
uint64_t tbl_key_hash(const struct sess_table *t, const struct sess_key *k);
/* The slot holding k, or -1; *ins gets the slot where k would go. */
int64_t tbl_find_slot(const struct sess_table *t, const struct tbl_index *ix,
		  const struct sess_key *k, uint32_t *ins);
/* The authd session in slot pos goes: the config one with its key comes back, if any. */
void tbl_drop_authd(struct sess_table *t, int64_t pos);
/* After deletions: a smaller index when mostly empty. */
void tbl_maybe_shrink(struct sess_table *t);

/* sesstab_bulk.c: the expiry heap */
int tbl_heap_reserve(struct sess_table *t, size_t n);
void tbl_heap_remove(struct sess_table *t, struct tbl_entry *e);
/* Put idx in the heap at its expiry, or out of it (config sessions, no expiry). */
void tbl_heap_track(struct sess_table *t, uint32_t idx);

#endif
