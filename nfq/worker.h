/* SPDX-License-Identifier: MIT */
/*
 * The NFQUEUE side of coopnet-nfq: one thread per queue, each on its own netlink socket,
 * reading packets in batches, deciding with nfq_decide() on the live session table,
 * and answering with batched verdicts where the packet is unmodified.
 */
#ifndef COOPNET_NFQ_WORKER_H
#define COOPNET_NFQ_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "logic.h"
#include "rcu.h"
#include "table.h"

#define MISS_RING 4096 /* session misses awaiting the main thread (a burst of new clients) */

struct nfq_thread;
struct held_notes;

struct nfq_shared {
	struct rcu rcu;
	struct sess_table *tbl;     /* the live table (read inside rcu_online/offline) */
	struct nfq_logic_cfg lcfg;
	uint32_t mark_done;
	uint32_t mark_write;
	uint32_t miss_hold_ms;
	uint32_t held_max;          /* held SYNs per queue thread (miss_hold_max) */
	struct held_notes *notes;   /* keys changed, main -> queue threads (workers_start's) */
	uint32_t maxlen;
	bool fail_open;
	_Atomic bool stop;
	/* session-miss events, queue threads -> main thread */
	int event_fd;
	pthread_mutex_t miss_lock;
	struct sess_key miss[MISS_RING];
	unsigned miss_head, miss_len;
	uint64_t miss_lost;
};

struct nfq_workers {
	struct nfq_shared *sh;
	struct nfq_thread *t;
	int n;
};

int workers_start(struct nfq_workers *w, struct nfq_shared *sh, uint16_t first, uint16_t count);
/* Signal the threads to stop, join them, close their sockets. NULL-safe on a zeroed w. */
void workers_stop(struct nfq_workers *w);
/* Sum of every thread's counters. */
void workers_counters(const struct nfq_workers *w, uint64_t out[R__COUNT]);
/* Kernel-side drops for our queues (/proc/net/netfilter/nfnetlink_queue): queue full plus
 * failed deliveries to the socket. */
uint64_t workers_overruns(const struct nfq_workers *w);
/* Pop one session miss (main thread). false when empty. */
bool workers_pop_miss(struct nfq_shared *sh, struct sess_key *out);

#endif
