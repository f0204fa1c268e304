/* SPDX-License-Identifier: MIT */
/* The fuzz targets' check of a promise: a broken one aborts, which libFuzzer reports with the
 * input that broke it. */
#ifndef COOPNET_FUZZCHECK_H
#define COOPNET_FUZZCHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

#endif
