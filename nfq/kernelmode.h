/* SPDX-License-Identifier: MIT */
/*
 * `kernel` data-plane mode: coopnet-nfq keeps nft maps and sets in its own tables (ip/ip6
 * <queue_rule.table>) in step with its session table, and the kernel writes and checks the
 * ID (a payload write with checksum fix-up, a set lookup). Only what the kernel cannot decide
 * reaches the queue: a supervisor's first SYN without a session (session miss).
 *
 * Per family, in the worker's table:
 *   map ids  { client . service . port : id }      the ID to write
 *   set ok   { client . service . port . id }       segments that carry the right ID
 *   set keys { client . service . port }            flows with a session
 *   counters embedded, checked_ok, passed, dropped_no_id, dropped_wrong_id,
 *            dropped_unknown_flow (read by `stats`)
 * Each update is one batch: flush and refill the three sets, so the kernel switches from the
 * old content to the new in one transaction.
 */
#ifndef COOPNET_NFQ_KERNELMODE_H
#define COOPNET_NFQ_KERNELMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "logic.h"
#include "nfqconf.h"
#include "table.h"

struct nftb;
struct nftnl_expr;

/* Install-time parts of the queue-rule batch (nftrule.c): sets and counters of one family. */
int kmode_add_objects(struct nftb *b, const struct nfq_config *cfg, int family);
/* The rules of one base chain; q (owned) is the queue expression for session misses. */
int kmode_add_rules(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain,
		    struct nftnl_expr *q);
/* Flush the three sets of family and add the sessions of lists a and b (b wins on a key). */
int kmode_add_elements(struct nftb *b, const struct nfq_config *cfg, int family,
		       const struct sess_list *a, const struct sess_list *b2);
/* One batch: every set of both families brought to the sessions of a and b. */
int kmode_sync(const struct nfq_config *cfg, const struct sess_list *a, const struct sess_list *b2);
/* Add the kernel's counters into c. */
void kmode_counters(const struct nfq_config *cfg, uint64_t c[R__COUNT]);

#endif
