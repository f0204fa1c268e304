/* SPDX-License-Identifier: MIT */
/* What the benchmark programs share (bench/benchutil.c). */
#ifndef COOPNET_BENCHUTIL_H
#define COOPNET_BENCHUTIL_H

/* The decimal number v of option -opt, in lo..hi; otherwise "PROG: -OPT "V": want a number
 * LO..HI" on stderr and exit 2 (a sign, a suffix, an empty value or an overflow is refused). */
unsigned long bench_parse_num(const char *prog, const char *opt, const char *v,
			      unsigned long lo, unsigned long hi);

#endif
