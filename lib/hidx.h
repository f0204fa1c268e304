/* SPDX-License-Identifier: MIT */
/*
 * hidx: a hash index over an array the caller owns (open addressing, linear probing, load at
 * most 1/2, deletion by backward shift: no tombstones). The index stores positions into the
 * array, not elements; the caller's type says how to hash an element and when two are the
 * same key. Lookup, insert and remove are O(1) expected, growth doubles.
 *
 *	static const struct hidx_type t = { .size = sizeof(struct item), .hash = item_hash,
 *					    .eq = item_eq };
 *	long pos = hidx_find(&ix, &t, arr, &key);        // -1: absent
 *	arr[n] = item; hidx_insert(&ix, &t, arr, n++);   // key not present yet
 *	hidx_remove(&ix, &t, arr, pos);                  // before arr[pos] changes
 *	arr[pos] = arr[--n]; hidx_move(&ix, &t, arr, n, pos);  // swap-remove: repoint the last
 *
 * Used by authd/sesslist.c (the parent's session lists) and authd/vswitch.c (the steer
 * elements the kernel holds). At most HIDX_MAX positions.
 */
#ifndef COOPNET_HIDX_H
#define COOPNET_HIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIDX_MAX (1u << 30)

struct hidx_type {
	size_t size;                               /* of one array element */
	uint64_t (*hash)(const void *elem);        /* of its key */
	bool (*eq)(const void *a, const void *b);  /* same key */
};

struct hidx {
	uint32_t *slot; /* position + 1; 0: empty. Owned; free with hidx_free */
	size_t cap, n;  /* cap: 0 or a power of two */
};

/* Position of the element whose key equals key's, or -1. */
long hidx_find(const struct hidx *h, const struct hidx_type *t, const void *arr, const void *key);
/* Index arr[pos] (its key must not be indexed yet). 0, or -1 (ENOMEM, or pos >= HIDX_MAX). */
int hidx_insert(struct hidx *h, const struct hidx_type *t, const void *arr, size_t pos);
/* Room for n entries without growing (a bulk insert). 0 or -1 (ENOMEM). */
int hidx_reserve(struct hidx *h, const struct hidx_type *t, const void *arr, size_t n);
/* Unindex arr[pos] (still holding the element that was indexed). 0, or -1 when not there. */
int hidx_remove(struct hidx *h, const struct hidx_type *t, const void *arr, size_t pos);
/* The element indexed at from now sits at to (arr[to] holds it). 0, or -1 when not there. */
int hidx_move(struct hidx *h, const struct hidx_type *t, const void *arr, size_t from, size_t to);
void hidx_clear(struct hidx *h);  /* keeps the memory */
void hidx_free(struct hidx *h);   /* NULL-safe */

/* Over n bytes, eight at a time (multiply-fold mixing), chained from h: a hash for
 * struct hidx_type.hash. Not keyed (as FNV-1a before it was not): an index whose keys the
 * network chooses must be bounded in size or hold only verified keys, as every user does. */
uint64_t hidx_bytes_hash(uint64_t h, const void *p, size_t n);
#define HIDX_HASH_INIT 1469598103934665603ull

#endif
