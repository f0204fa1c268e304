/* SPDX-License-Identifier: MIT */
/*
 * `kernel` data-plane mode: the worker keeps nft maps and sets in step with its session
 * table and the kernel writes and checks the ID; only what the kernel cannot decide (a
 * supervisor's first SYN without a session) reaches the queue.
 */
#ifndef COOPNET_NFQ_KERNELMODE_H
#define COOPNET_NFQ_KERNELMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqconf.h"
#include "logic.h"
#include "table.h"

struct kmode {
	bool active;
};

/* Create the kernel-mode table with its maps and rules (one batch). 0 or -1 (logged). */
int kmode_setup(struct kmode *k, const struct nfq_config *cfg);
/* Replace the maps' contents with the sessions of t (one batch). 0 or -1 (logged). */
int kmode_sync(struct kmode *k, const struct nfq_config *cfg, const struct sess_list *a,
	       const struct sess_list *b);
/* Add the kernel's counters into c. */
void kmode_counters(const struct kmode *k, const struct nfq_config *cfg, uint64_t c[R__COUNT]);
void kmode_teardown(struct kmode *k, const struct nfq_config *cfg);

#endif
