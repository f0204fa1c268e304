/* grow.c: the one array-growth helper, see grow.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

void *grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap : (first ? first : 1);
	if (*cap) {
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
