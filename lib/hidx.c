/* SPDX-License-Identifier: MIT */
/* A hash index of positions into a caller's array (hidx.h). */
#include "hidx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The high and low halves of a 64 x 64 -> 128 bit product, folded: every bit of a and b
 * reaches every bit of the result (the mixing step of wyhash and of "mum" hashing). */
static uint64_t fold_mul(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else /* a 32-bit target: the low half, its high bits folded down (weaker, still spread) */
	uint64_t r = a * b;

	return r ^ r >> 29 ^ r >> 47;
#endif
}

/* Eight bytes per step: a 32-byte digest in four multiplies, where FNV-1a byte by byte took
 * 32 dependent ones (issue 11: the engine's indexes hash a key per lookup, insert and
 * backward shift). A tail of 1 to 7 bytes is read as two overlapping words, or three
 * bytes, as wyhash does (no call to memcpy for a variable length), and its length picks the
 * multiplier, so "a" and "a\0" differ. */
uint64_t hidx_bytes_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = fold_mul(h ^ w, 0x9e3779b97f4a7c15ull);
	}
	if (n >= 4) {
		uint32_t lo, hi;

		memcpy(&lo, b, 4);
		memcpy(&hi, b + n - 4, 4);
		w = lo | (uint64_t)hi << 32;
	} else if (n) {
		w = b[0] | (uint64_t)b[n >> 1] << 8 | (uint64_t)b[n - 1] << 16;
	} else {
		return h;
	}
	return fold_mul(h ^ w, 0xbf58476d1ce4e5b9ull + n);
}

static const void *at(const struct hidx_type *t, const void *arr, size_t pos)
{
	return (const uint8_t *)arr + pos * t->size;
}

static size_t home(const struct hidx *h, uint64_t hash)
{
	hash ^= hash >> 29;
	return (size_t)hash & (h->cap - 1);
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static size_t probe(const struct hidx *h, const struct hidx_type *t, const void *arr,
		    const void *key)
{
	size_t i = home(h, t->hash(key));

	while (h->slot[i] && !t->eq(at(t, arr, h->slot[i] - 1), key))
		i = (i + 1) & (h->cap - 1);
	return i;
}

/* The slot whose value is pos + 1 (the element at arr[at_pos] has its key). */
static long slot_of(const struct hidx *h, const struct hidx_type *t, const void *arr,
		    size_t pos, size_t at_pos)
{
	size_t i;

	if (!h->cap)
		return -1;
	i = home(h, t->hash(at(t, arr, at_pos)));
	for (size_t k = 0; k < h->cap && h->slot[i]; k++, i = (i + 1) & (h->cap - 1))
		if (h->slot[i] == pos + 1)
			return (long)i;
	return -1;
}

long hidx_find(const struct hidx *h, const struct hidx_type *t, const void *arr, const void *key)
{
	size_t i;

	if (!h->cap)
		return -1;
	i = probe(h, t, arr, key);
	return h->slot[i] ? (long)h->slot[i] - 1 : -1;
}

static int rehash(struct hidx *h, const struct hidx_type *t, const void *arr, size_t cap)
{
	struct hidx n = { .slot = calloc(cap, sizeof(*h->slot)), .cap = cap, .n = h->n };

	if (!n.slot) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < h->cap; i++) {
		if (h->slot[i]) {
			size_t j = home(&n, t->hash(at(t, arr, h->slot[i] - 1)));
			while (n.slot[j])
				j = (j + 1) & (cap - 1);
			n.slot[j] = h->slot[i];
		}
	}
	free(h->slot);
	*h = n;
	return 0;
}

int hidx_reserve(struct hidx *h, const struct hidx_type *t, const void *arr, size_t n)
{
	size_t cap = h->cap ? h->cap : 16;

	if (n > HIDX_MAX) {
		errno = ENOMEM;
		return -1;
	}
	while (n * 2 > cap) /* load factor at most 1/2 */
		cap *= 2;
	return cap == h->cap ? 0 : rehash(h, t, arr, cap);
}

int hidx_insert(struct hidx *h, const struct hidx_type *t, const void *arr, size_t pos)
{
	if (pos >= HIDX_MAX) {
		errno = ENOMEM;
		return -1;
	}
	if (hidx_reserve(h, t, arr, h->n + 1) < 0)
		return -1;
	h->slot[probe(h, t, arr, at(t, arr, pos))] = (uint32_t)pos + 1;
	h->n++;
	return 0;
}

/* Empty slot i, then move up every later entry of the run that may sit in an earlier slot. */
static void shift_back(struct hidx *h, const struct hidx_type *t, const void *arr, size_t i)
{
	size_t j = i;

	h->slot[i] = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & (h->cap - 1);
		if (!h->slot[j])
			return;
		k = home(h, t->hash(at(t, arr, h->slot[j] - 1)));
		/* the entry at j may move to i when its home k is not in the cyclic range (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->slot[i] = h->slot[j];
		h->slot[j] = 0;
		i = j;
	}
}

int hidx_remove(struct hidx *h, const struct hidx_type *t, const void *arr, size_t pos)
{
	long i = slot_of(h, t, arr, pos, pos);

	if (i < 0)
		return -1;
	shift_back(h, t, arr, (size_t)i);
	h->n--;
	return 0;
}

int hidx_move(struct hidx *h, const struct hidx_type *t, const void *arr, size_t from, size_t to)
{
	long i;

	if (to >= HIDX_MAX)
		return -1;
	if ((i = slot_of(h, t, arr, from, to)) < 0)
		return -1;
	h->slot[i] = (uint32_t)to + 1;
	return 0;
}

void hidx_clear(struct hidx *h)
{
	if (h->cap)
		memset(h->slot, 0, h->cap * sizeof(*h->slot));
	h->n = 0;
}

void hidx_free(struct hidx *h)
{
	if (!h)
		return;
	free(h->slot);
	memset(h, 0, sizeof(*h));
}
