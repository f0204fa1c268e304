/* SPDX-License-Identifier: MIT */
/* Load balancing strategies over the members of a group (balance.h). */
#include "balance.h"

#include <string.h>

static const char *const names[] = {
	[CN_BALANCE_WEIGHTED] = "weighted",
	[CN_BALANCE_LEAST_LOAD] = "least-load",
	[CN_BALANCE_RANDOM] = "random",
};

int cn_balance_parse(enum cn_balance *out, const char *name)
{
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(names[i], name)) {
			*out = (enum cn_balance)i;
			return 0;
		}
	}
	return -1;
}

const char *cn_balance_name(enum cn_balance s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static bool takes_part(const struct cn_balance_member *m)
{
	return m->eligible && m->weight > 0 && m->weight <= CN_BALANCE_WEIGHT_MAX;
}

/* Smooth weighted round robin among the members with take[i] set. */
static int smooth(struct cn_balance_member *m, size_t n, const bool *take)
{
	int64_t total = 0;
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!take[i])
			continue;
		m[i].current += m[i].weight;
		total += m[i].weight;
		if (best < 0 || m[i].current > m[best].current)
			best = (int)i;
	}
	if (best >= 0)
		m[best].current -= total;
	return best;
}

/* load_a / weight_a < load_b / weight_b, without division (weights are above 0). */
static int cmp_load(const struct cn_balance_member *a, const struct cn_balance_member *b)
{
	uint64_t l = (uint64_t)a->load * b->weight, r = (uint64_t)b->load * a->weight;

	return l < r ? -1 : l > r;
}

static int least_load(struct cn_balance_member *m, size_t n, bool *take)
{
	int low = -1;

	for (size_t i = 0; i < n; i++)
		if (take[i] && (low < 0 || cmp_load(&m[i], &m[low]) < 0))
			low = (int)i;
	for (size_t i = 0; low >= 0 && i < n; i++)
		take[i] = take[i] && cmp_load(&m[i], &m[low]) == 0;
	return smooth(m, n, take);
}

static int weighted_random(const struct cn_balance_member *m, size_t n, const bool *take,
			   uint32_t rnd)
{
	uint64_t total = 0, r;

	for (size_t i = 0; i < n; i++)
		if (take[i])
			total += m[i].weight;
	if (total == 0)
		return -1;
	r = ((uint64_t)rnd * total) >> 32; /* uniform in [0, total) up to total / 2^32 */
	for (size_t i = 0; i < n; i++) {
		if (!take[i])
			continue;
		if (r < m[i].weight)
			return (int)i;
		r -= m[i].weight;
	}
	return -1; /* not reached */
}

int cn_balance_pick(enum cn_balance s, struct cn_balance_member *m, size_t n, uint32_t rnd)
{
	bool take[64];

	if (!m || n == 0 || n > sizeof(take) / sizeof(take[0]))
		return -1;
	for (size_t i = 0; i < n; i++)
		take[i] = takes_part(&m[i]);
	switch (s) {
	case CN_BALANCE_WEIGHTED:
		return smooth(m, n, take);
	case CN_BALANCE_LEAST_LOAD:
		return least_load(m, n, take);
	case CN_BALANCE_RANDOM:
		return weighted_random(m, n, take, rnd);
	}
	return -1;
}
