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

#endif
