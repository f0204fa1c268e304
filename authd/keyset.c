/* SPDX-License-Identifier: MIT */
/* A set of session keys (keyset.h). */
#include "keyset.h"

#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(const struct session_key *k)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over the packed fields */

	h = (h ^ k->family) * 1099511628211ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ k->client[i]) * 1099511628211ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ k->service[i]) * 1099511628211ull;
	h = (h ^ (k->port & 0xff)) * 1099511628211ull;
	h = (h ^ (k->port >> 8)) * 1099511628211ull;
	return h ^ (h >> 29);
}

static bool key_eq(const struct session_key *a, const struct session_key *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->client, b->client, 16) && !memcmp(a->service, b->service, 16);
}

/* The slot holding k, or the free slot where it would go. cap > 0. */
static size_t find(const struct keyset *s, const struct session_key *k)
{
	size_t i = (size_t)key_hash(k) & (s->cap - 1);

	while (s->slot[i].family && !key_eq(&s->slot[i], k))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct keyset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct keyset n = { .slot = calloc(cap, sizeof(*s->slot)), .cap = cap };

	if (!n.slot)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].family)
			n.slot[find(&n, &s->slot[i])] = s->slot[i];
	n.n = s->n;
	free(s->slot);
	*s = n;
	return 0;
}

int keyset_add(struct keyset *s, const struct session_key *k, size_t max)
{
	size_t i;

	if (!k->family)
		return -1;
	if (s->cap) {
		i = find(s, k);
		if (s->slot[i].family)
			return 0;
	}
	if (s->n >= max)
		return -1;
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0) /* load factor at most 1/2 */
		return -1;
	s->slot[find(s, k)] = *k;
	s->n++;
	return 1;
}

bool keyset_has(const struct keyset *s, const struct session_key *k)
{
	return s->cap && k->family && s->slot[find(s, k)].family;
}

int keyset_del(struct keyset *s, const struct session_key *k)
{
	size_t i, j, home;

	if (!s->cap || !k->family)
		return 0;
	i = find(s, k);
	if (!s->slot[i].family)
		return 0;
	/* backward shift: move up every entry of the run that the hole would cut off */
	for (j = (i + 1) & (s->cap - 1); s->slot[j].family; j = (j + 1) & (s->cap - 1)) {
		home = (size_t)key_hash(&s->slot[j]) & (s->cap - 1);
		if (((j - home) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	memset(&s->slot[i], 0, sizeof(s->slot[i]));
	s->n--;
	return 1;
}

void keyset_clear(struct keyset *s)
{
	if (s->cap)
		memset(s->slot, 0, s->cap * sizeof(*s->slot));
	s->n = 0;
}

void keyset_free(struct keyset *s)
{
	if (!s)
		return;
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
