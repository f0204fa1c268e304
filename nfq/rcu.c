/* SPDX-License-Identifier: MIT */
#include "rcu.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void rcu_init(struct rcu *r, int nreaders)
{
	int i;

	memset(r, 0, sizeof(*r));
	atomic_init(&r->epoch, 1);
	r->nreaders = nreaders > RCU_MAX_READERS ? RCU_MAX_READERS : nreaders;
	for (i = 0; i < RCU_MAX_READERS; i++)
		atomic_init(&r->readers[i].seen, 0);
}

/*
 * The handshake with the writer is a store then a load on each side: the reader stores seen
 * and then loads the table (index, slots); the writer unlinks (a release store), bumps the
 * epoch and later loads every seen (rcu_past). A reader whose epoch is older than the bump
 * must either be seen by the writer or see the unlink. In C11 neither a seq_cst store
 * followed by an acquire load nor a release store followed by seq_cst operations orders the
 * store before the load (StoreLoad); only a seq_cst fence on both sides does: either the
 * reader's fence comes first in the total order, and the writer's load of seen finds this
 * epoch (or a later value), or the writer's comes first, and the reader's loads find the
 * unlink. x86 orders it anyway (the seq_cst store was an xchg, a full barrier), weaker CPUs
 * (POWER) would not: the fence makes it hold wherever C11 does, at the cost of the barrier
 * the store had. The fence in rcu_bump is the writer's.
 */
void rcu_online(struct rcu *r, int reader)
{
	atomic_store_explicit(&r->readers[reader].seen, atomic_load(&r->epoch),
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

void rcu_offline(struct rcu *r, int reader)
{
	atomic_store(&r->readers[reader].seen, 0);
}

uint64_t rcu_bump(struct rcu *r)
{
	uint64_t e = atomic_fetch_add(&r->epoch, 1) + 1;

	/* the unlink before this (a store) against rcu_past's loads of seen: see rcu_online */
	atomic_thread_fence(memory_order_seq_cst);
	return e;
}

bool rcu_past(struct rcu *r, uint64_t epoch)
{
	int i;

	for (i = 0; i < r->nreaders; i++) {
		uint64_t s = atomic_load(&r->readers[i].seen);

		if (s != 0 && s < epoch)
			return false;
	}
	return true;
}

size_t rcu_reclaim(struct rcu *r)
{
	size_t i, j;

	/* epochs grow along the list: stop at the first one still held */
	for (i = 0; i < r->nretired && rcu_past(r, r->retired[i].epoch); i++)
		r->retired[i].free_fn(r->retired[i].p);
	for (j = 0; i < r->nretired; i++, j++)
		r->retired[j] = r->retired[i];
	r->nretired = j;
	return j;
}

/* No room to remember it: wait (bounded) for the readers, which pass a quiescent state at
 * least every poll timeout, and free it; leak it if they stay inside. */
static void wait_and_free(struct rcu *r, void *p, void (*free_fn)(void *p), uint64_t e)
{
	struct timespec ts = {0, 1000000};
	int tries;

	for (tries = 0; tries < 5000 && !rcu_past(r, e); tries++)
		nanosleep(&ts, NULL);
	if (rcu_past(r, e))
		free_fn(p);
}

void rcu_retire(struct rcu *r, void *p, void (*free_fn)(void *p))
{
	uint64_t e = rcu_bump(r);
	struct rcu_retired *v;

	if (!p)
		return;
	v = grow(r->retired, r->nretired, &r->cap, sizeof(*v), 16);
	if (!v) {
		wait_and_free(r, p, free_fn, e);
		return;
	}
	r->retired = v;
	r->retired[r->nretired++] = (struct rcu_retired){.p = p, .free_fn = free_fn, .epoch = e};
	rcu_reclaim(r);
}

void rcu_destroy(struct rcu *r)
{
	size_t i;

	for (i = 0; i < r->nretired; i++)
		r->retired[i].free_fn(r->retired[i].p);
	free(r->retired);
	r->retired = NULL;
	r->nretired = r->cap = 0;
}
