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
/* The rules of the base chain on hook; q (owned) is the queue expression for session misses. */
int kmode_add_rules(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain,
		    int hook, struct nftnl_expr *q);
/* Flush the three sets of family and add the sessions of lists a and b (b wins on a key). */
int kmode_add_elements(struct nftb *b, const struct nfq_config *cfg, int family,
		       const struct sess_list *a, const struct sess_list *b2);
/* One batch: every set of both families brought to the sessions of a and b. */
int kmode_sync(const struct nfq_config *cfg, const struct sess_list *a, const struct sess_list *b2);
/* The write rule of the mark path (both modes), in the queue rule's own chain, before the
 * queue: the worker answers a segment whose ID the kernel must write with NF_REPEAT and a
 * mark carrying mark_write and the ID; the kernel runs the chain again and this rule
 *   meta mark & mark_write == mark_write  tcp urgptr set (meta mark & 0xffff)
 *   meta mark set meta mark & ~(mark_write | 0xffff)  accept
 * writes it (payload write with checksum fix-up; the 16 bits in network order). No second
 * base chain, so no extra hook traversal for every other packet. */
int nft_add_write_rule(struct nftb *b, const struct nfq_config *cfg, int family,
		       const char *chain);
/* fail_open only, in its own base chain right after the queue rule's: a segment the queue
 * let through unanswered (queue full, NFQA_CFG_F_FAIL_OPEN / bypass) reaches the next chain
 * still marked "to be queued" and not "decided"; without this the rule file's guard would
 * drop it and fail_open would mean nothing:
 *   meta mark & (mark_queue | mark_done) == mark_queue  meta mark set meta mark | mark_done  counter
 * It goes with the worker's table: a killed worker still fails closed. */
int nft_add_failopen_rule(struct nftb *b, const struct nfq_config *cfg, int family,
			  const char *chain);
/* The copy of the rule file's service set (inet coopnet overlay4/6 or protected4/6) in the
 * worker's set @svc: brought in step with the rule file (one batch, only when it changed).
 * 0, or -1 (the old copy stays). */
int kmode_svc_sync(const struct nfq_config *cfg);
/* nftables events (NFNLGRP_NFTABLES): the socket's fd to poll, or -1. */
int kmode_events_open(void);
/* Drain the events; true if one names table inet coopnet (or some were lost). */
bool kmode_events_read(void);
void kmode_events_close(void); /* also frees the copy */
/* Add the kernel's counters into c. */
void kmode_counters(const struct nfq_config *cfg, uint64_t c[R__COUNT]);

#endif
