/* SPDX-License-Identifier: MIT */
/*
 * The queue rule, installed and removed by coopnet-nfq itself with libnftnl, in its own
 * tables `ip <table>` and `ip6 <table>`: one base chain per configured hook, one rule
 *
 *     meta mark & MARK_QUEUE == MARK_QUEUE  queue to NUM..NUM+COUNT-1 [fanout]
 *
 * The rule sets in nft-rules/ decide what carries MARK_QUEUE; they stay in force while the
 * worker restarts. The native `queue` expression is used where the kernel has nft_queue,
 * else the xtables NFQUEUE target (revision 3) through nft_compat. Every change is one
 * netlink batch (one transaction).
 */
#ifndef COOPNET_NFQ_NFTRULE_H
#define COOPNET_NFQ_NFTRULE_H

#include <stdbool.h>
#include <stdint.h>

#include "nfqconf.h"

/* QEXPR_KERNEL_ONLY: a provider in kernel mode, whose rules queue nothing. */
enum queue_expr { QEXPR_NONE, QEXPR_NATIVE, QEXPR_COMPAT, QEXPR_KERNEL_ONLY };

const char *queue_expr_name(enum queue_expr e);

/* Install (replacing the tables if a crashed run left them). In kernel mode the same batch
 * holds the sets, counters and rules of kernelmode.h, filled with the sessions of a and b. Returns the flavour used, or
 * QEXPR_NONE with a logged error. */
enum queue_expr nftrule_install(const struct nfq_config *cfg, const struct sess_list *a,
				const struct sess_list *b);
/* Remove both tables. 0 or -1 (logged). */
int nftrule_remove(const struct nfq_config *cfg);

struct nftb;
struct nftnl_expr;
/* tcp urgptr set <sreg> (a payload write with checksum fix-up), NULL on allocation failure. */
struct nftnl_expr *nft_write_urgptr(uint32_t sreg);
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


#endif
