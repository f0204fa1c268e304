/* SPDX-License-Identifier: MIT */
#include "rcu.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

void rcu_init(struct rcu *r, struct sess_table *initial, int nreaders)
{
	int i;

	memset(r, 0, sizeof(*r));
	atomic_init(&r->cur, initial);
	atomic_init(&r->epoch, 1);
	r->nreaders = nreaders > RCU_MAX_READERS ? RCU_MAX_READERS : nreaders;
	for (i = 0; i < RCU_MAX_READERS; i++)
		atomic_init(&r->readers[i].seen, 0);
}

const struct sess_table *rcu_online(struct rcu *r, int reader)
{
	atomic_store(&r->readers[reader].seen, atomic_load(&r->epoch));
	return atomic_load(&r->cur);
}

void rcu_offline(struct rcu *r, int reader)
{
	atomic_store(&r->readers[reader].seen, 0);
}

const struct sess_table *rcu_current(struct rcu *r)
{
	return atomic_load(&r->cur);
}

static bool readers_past(struct rcu *r, uint64_t epoch)
{
	int i;

	for (i = 0; i < r->nreaders; i++) {
		uint64_t s = atomic_load(&r->readers[i].seen);

		if (s != 0 && s < epoch)
			return false;
	}
	return true;
}

int rcu_reclaim(struct rcu *r)
{
	int i, j;

	for (i = 0, j = 0; i < r->nretired; i++) {
		if (readers_past(r, r->retired[i].epoch)) {
			tbl_free(r->retired[i].t);
			continue;
		}
		r->retired[j++] = r->retired[i];
	}
	r->nretired = j;
	return j;
}

void rcu_publish(struct rcu *r, struct sess_table *t)
{
	struct sess_table *old = atomic_exchange(&r->cur, t);
	uint64_t e = atomic_fetch_add(&r->epoch, 1) + 1;
	struct timespec ts = {0, 1000000};
	int tries;

	if (!old)
		return;
	/* The retired list is bounded: if it is full, wait (bounded) for the readers, which
	 * pass a quiescent state at least every poll timeout. */
	for (tries = 0; r->nretired >= RCU_MAX_RETIRED && tries < 5000; tries++) {
		if (rcu_reclaim(r) < RCU_MAX_RETIRED)
			break;
		nanosleep(&ts, NULL);
	}
	if (r->nretired >= RCU_MAX_RETIRED) {
		/* readers are stuck: leaking is safer than freeing under them */
		return;
	}
	r->retired[r->nretired].t = old;
	r->retired[r->nretired].epoch = e;
	r->nretired++;
	rcu_reclaim(r);
}

void rcu_destroy(struct rcu *r)
{
	int i;

	for (i = 0; i < r->nretired; i++)
		tbl_free(r->retired[i].t);
	r->nretired = 0;
	tbl_free(atomic_exchange(&r->cur, NULL));
}
