/* SPDX-License-Identifier: MIT */
/*
 * A minimal quiescent-state scheme for the session table (one writer, N readers).
 *
 * Readers (queue threads) call rcu_online() at the top of each batch, which records the
 * current epoch and returns the current snapshot; they hold no snapshot pointer across
 * rcu_online()/rcu_offline() calls. The writer (main thread) swaps the pointer, bumps the
 * epoch, and frees a retired snapshot once every reader is offline or has recorded an
 * epoch at least as new as the swap: such a reader loaded the pointer after the swap.
 * All accesses are sequentially consistent; the cost is two atomic operations per batch.
 */
#ifndef COOPNET_NFQ_RCU_H
#define COOPNET_NFQ_RCU_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define RCU_MAX_READERS 64
#define RCU_MAX_RETIRED 64

struct rcu_reader {
	_Atomic uint64_t seen;   /* 0: offline (holds no snapshot) */
	char pad[56];
};

struct rcu_retired {
	struct sess_table *t;
	uint64_t epoch;
};

struct rcu {
	_Atomic(struct sess_table *) cur;
	_Atomic uint64_t epoch;
	struct rcu_reader readers[RCU_MAX_READERS];
	int nreaders;
	struct rcu_retired retired[RCU_MAX_RETIRED]; /* writer only */
	int nretired;
};

void rcu_init(struct rcu *r, struct sess_table *initial, int nreaders);
/* Reader side. */
const struct sess_table *rcu_online(struct rcu *r, int reader);
void rcu_offline(struct rcu *r, int reader);
/* Writer side: publish t (ownership passes to r), retire the old snapshot. */
void rcu_publish(struct rcu *r, struct sess_table *t);
/* Free every retired snapshot no reader can hold. Returns how many remain retired. */
int rcu_reclaim(struct rcu *r);
/* Free everything (readers stopped). */
void rcu_destroy(struct rcu *r);
/* The current snapshot, for the writer thread itself. */
const struct sess_table *rcu_current(struct rcu *r);

#endif
