/* SPDX-License-Identifier: MIT */
/* What the benchmark programs share (benchutil.h). */
#include "benchutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

unsigned long bench_parse_num(const char *prog, const char *opt, const char *v,
			      unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || v[0] == '+' || x < lo || x > hi) {
		fprintf(stderr, "%s: -%s \"%s\": want a number %lu..%lu\n", prog, opt, v, lo, hi);
		exit(2);
	}
	return x;
}
