/* grow.h: the one array-growth helper (doubling, overflow-checked). */
#ifndef COOPNET_GROW_H
#define COOPNET_GROW_H

#include <stddef.h>

/*
 * Room for one more element in array v of *cap elements of size bytes, n of them in use.
 * If n < *cap, returns v. Otherwise reallocates to twice *cap (first when *cap is 0) and
 * stores the new capacity in *cap. Returns the array to use, or NULL with errno = ENOMEM
 * (the capacity would overflow, or no memory) and v still valid and unchanged.
 *
 *	struct item *a = grow(l->v, l->n, &l->cap, sizeof(*a), 16);
 *	if (a == NULL)
 *		return -1;
 *	l->v = a;
 *	l->v[l->n++] = item;
 */
void *grow(void *v, size_t n, size_t *cap, size_t size, size_t first);
/* Room for need elements in all (a reserve before a bulk insert): as grow, doubling from *cap
 * (first when 0) until need fit, with one reallocation. When need already fits it returns v
 * unchanged, which is NULL for an array never allocated (need 0): check need > *cap first. */
void *grow_to(void *v, size_t need, size_t *cap, size_t size, size_t first);

#endif
