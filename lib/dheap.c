/* SPDX-License-Identifier: MIT */
/* dheap.h: a binary min-heap of (key, slot) nodes with a slot -> position index. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "dheap.h"

int dheap_init(struct dheap *h, size_t cap)
{
	h->node = NULL;
	h->pos = NULL;
	h->n = h->cap = 0;
	if (cap == 0 || cap >= DHEAP_NONE) {
		errno = EINVAL;
		return -1;
	}
	h->node = calloc(cap, sizeof(*h->node));
	h->pos = malloc(cap * sizeof(*h->pos));
	if (!h->node || !h->pos) {
		dheap_fini(h);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < cap; i++)
		h->pos[i] = DHEAP_NONE;
	h->cap = cap;
	return 0;
}

void dheap_fini(struct dheap *h)
{
	free(h->node);
	free(h->pos);
	h->node = NULL;
	h->pos = NULL;
	h->n = h->cap = 0;
}

int dheap_grow(struct dheap *h, size_t cap)
{
	struct dheap_node *node;
	uint32_t *pos;

	if (cap <= h->cap)
		return 0;
	if (cap >= DHEAP_NONE || cap > SIZE_MAX / sizeof(*node)) {
		errno = EINVAL;
		return -1;
	}
	/* node first: if pos fails, the larger node array is harmless (cap unchanged) */
	if (!(node = realloc(h->node, cap * sizeof(*node)))) {
		errno = ENOMEM;
		return -1;
	}
	h->node = node;
	if (!(pos = realloc(h->pos, cap * sizeof(*pos)))) {
		errno = ENOMEM;
		return -1;
	}
	h->pos = pos;
	for (size_t i = h->cap; i < cap; i++)
		pos[i] = DHEAP_NONE;
	h->cap = cap;
	return 0;
}

/* Put nd at index i and record where its slot is. */
static void place(struct dheap *h, size_t i, struct dheap_node nd)
{
	h->node[i] = nd;
	h->pos[nd.slot] = (uint32_t)i;
}

/* Move the node at i towards the root while its parent's key is larger (a hole walks up). */
static void sift_up(struct dheap *h, size_t i)
{
	struct dheap_node nd = h->node[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->node[parent].key <= nd.key)
			break;
		place(h, i, h->node[parent]);
		i = parent;
	}
	place(h, i, nd);
}

/* Move the node at i towards the leaves while a child's key is smaller. */
static void sift_down(struct dheap *h, size_t i)
{
	struct dheap_node nd = h->node[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->node[c + 1].key < h->node[c].key)
			c++;
		if (nd.key <= h->node[c].key)
			break;
		place(h, i, h->node[c]);
		i = c;
	}
	place(h, i, nd);
}

/* The node at i has a new key: restore the order in whichever direction it moved. */
static void fix(struct dheap *h, size_t i)
{
	if (i > 0 && h->node[i].key < h->node[(i - 1) / 2].key)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void dheap_set(struct dheap *h, uint32_t slot, uint64_t key)
{
	uint32_t i;

	if (slot >= h->cap)
		return;
	i = h->pos[slot];
	if (i == DHEAP_NONE) {
		place(h, h->n++, (struct dheap_node){ .key = key, .slot = slot });
		sift_up(h, h->n - 1);
		return;
	}
	h->node[i].key = key;
	fix(h, i);
}

void dheap_remove(struct dheap *h, uint32_t slot)
{
	uint32_t i;

	if (!dheap_contains(h, slot))
		return;
	i = h->pos[slot];
	h->pos[slot] = DHEAP_NONE;
	if (i == --h->n)
		return;
	/* the last node fills the hole, then moves up or down from there */
	place(h, i, h->node[h->n]);
	fix(h, i);
}
