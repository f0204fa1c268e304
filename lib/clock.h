/* SPDX-License-Identifier: MIT */
/* clock.h: the monotonic and wall clocks, in the units the code uses. */
#ifndef COOPNET_CLOCK_H
#define COOPNET_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: intervals, deadlines. */
static inline uint64_t cn_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t cn_mono_ms(void)
{
	return cn_mono_ns() / 1000000ull;
}

/* CLOCK_REALTIME in milliseconds since the Unix epoch: timestamps on the wire. */
static inline uint64_t cn_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

#endif
