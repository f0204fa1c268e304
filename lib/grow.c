/* grow.c: the one array-growth helper, see grow.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

void *grow_to(void *v, size_t need, size_t *cap, size_t size, size_t first)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return v;
	ncap = *cap ? *cap : (first ? first : 1);
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			goto nomem;
		ncap *= 2;
	}
	if (size == 0 || ncap > SIZE_MAX / size)
		goto nomem;
	/* realloc, not reallocarray: the unit tests inject failures with --wrap=realloc */
	nv = realloc(v, ncap * size);
	if (nv == NULL)
		goto nomem;
	*cap = ncap;
	return nv;
nomem:
	errno = ENOMEM;
	return NULL;
}

void *grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n == SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	return grow_to(v, n + 1, cap, size, first);
}
