/* SPDX-License-Identifier: MIT */
/*
 * The choice of one SP among the members of a group that host a service (docs/groups.md):
 * pure logic, no clock, no socket, no random source of its own (the caller passes one
 * uniform 32-bit number per decision), so that cmocka can replay any sequence.
 *
 *   weighted    smooth weighted round robin (nginx's): over any window of sum(weights)
 *               decisions each member gets exactly its weight, interleaved (A A B A C, not
 *               A A A B C); deterministic, so the decision that follows a lost one goes to
 *               another member
 *   least-load  the member with the lowest load / weight; ties (e.g. no load reported yet)
 *               go by smooth weighted round robin among the tied members
 *   random      each decision on its own, member i with probability weight_i / sum(weights)
 *
 * A member takes part only when eligible (up or unknown, its vNIC for the service up, not
 * avoided) and weight > 0. None: -1, and the caller refuses the Authentication.
 */
#ifndef COOPNET_LIB_BALANCE_H
#define COOPNET_LIB_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cn_balance {
	CN_BALANCE_WEIGHTED = 0,
	CN_BALANCE_LEAST_LOAD,
	CN_BALANCE_RANDOM,
};

#define CN_BALANCE_WEIGHT_MAX 1000

struct cn_balance_member {
	uint32_t weight;   /* 0..CN_BALANCE_WEIGHT_MAX; 0: no new decisions */
	uint32_t load;     /* least-load: live sessions (any unit, compared against weight) */
	bool eligible;
	int64_t current;   /* smooth round robin state, kept by cn_balance_pick; start at 0 */
};

/* The strategy of a policy name ("weighted", "least-load", "random"): 0, or -1. */
int cn_balance_parse(enum cn_balance *out, const char *name);
const char *cn_balance_name(enum cn_balance s);

/* The index of the chosen member of m[0..n), or -1 when no member is eligible with a
 * weight above 0. rnd: a uniform random number (only CN_BALANCE_RANDOM reads it). */
int cn_balance_pick(enum cn_balance s, struct cn_balance_member *m, size_t n, uint32_t rnd);

#endif
