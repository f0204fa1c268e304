/* SPDX-License-Identifier: MIT */
/*
 * A minimal quiescent-state scheme for the session table (one writer, N readers).
 *
 * Readers (queue threads) call rcu_online() at the top of each batch, which records the
 * current epoch; they hold no pointer into the table across rcu_offline()/rcu_online().
 * The writer (main thread) unlinks an object, then bumps the epoch (rcu_bump) and keeps the
 * new epoch with the object; the object may be freed or reused once every reader is offline
 * or has recorded an epoch at least as new (rcu_past): such a reader started after the
 * unlink. A seq_cst fence after the reader's epoch store and one after the writer's bump
 * order each side's store before its loads (rcu.c, rcu_online); the cost is two atomic
 * stores and one fence per batch on the reader side.
 *
 * The table (table.h) keeps its own queue of retired entries with their epochs; bigger
 * objects (a replaced hash index or service set) go to rcu_retire() and are freed by
 * rcu_reclaim().
 */
#ifndef COOPNET_NFQ_RCU_H
#define COOPNET_NFQ_RCU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RCU_MAX_READERS 64

struct rcu_reader {
	_Atomic uint64_t seen;   /* 0: offline (holds nothing) */
	char pad[56];
};

struct rcu_retired {
	void *p;
	void (*free_fn)(void *p);
	uint64_t epoch;
};

struct rcu {
	_Atomic uint64_t epoch;
	struct rcu_reader readers[RCU_MAX_READERS];
	int nreaders;
	struct rcu_retired *retired; /* writer only; FIFO in epoch order */
	size_t nretired, cap;
};

void rcu_init(struct rcu *r, int nreaders);
/* Reader side. */
void rcu_online(struct rcu *r, int reader);
void rcu_offline(struct rcu *r, int reader);
/* Writer side: after an unlink, the epoch the unlinked object must wait for. */
uint64_t rcu_bump(struct rcu *r);
/* True when no reader can still hold an object retired at epoch. */
bool rcu_past(struct rcu *r, uint64_t epoch);
/* Free p with free_fn once no reader can hold it (unlinked already). If the retired list
 * cannot grow, waits (bounded) for the readers, then frees; never frees under a reader:
 * leaks instead if they stay inside. */
void rcu_retire(struct rcu *r, void *p, void (*free_fn)(void *p));
/* Free every retired object no reader can hold. Returns how many remain. */
size_t rcu_reclaim(struct rcu *r);
/* Free everything retired (readers stopped). */
void rcu_destroy(struct rcu *r);

#endif
