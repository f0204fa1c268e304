/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode's own parts, shared by its files (kernelmode.h is the interface):
 *   kmrules.c  the rules of the worker's chain (decision table in nft expressions)
 *   kmsets.c   the sets and counters, the session elements (full set sync), the counter read
 *   kmdelta.c  the session elements of the keys that changed (one batch per change-set), and
 *              the element operations both it and kmsync.c gather (struct kmd_ops)
 *   kmsync.c   the full set sync: the kernel's elements against the table's, in bounded batches
 *   kmsvc.c    the copy of the rule file's service set (@svc) and the nftables events
 */
#ifndef COOPNET_NFQ_KMODE_INT_H
#define COOPNET_NFQ_KMODE_INT_H

#include <stdint.h>
#include <linux/netfilter/nf_tables.h>

#include "kernelmode.h"

#define R(i) (NFT_REG32_00 + (i))

enum kset { KS_IDS, KS_OK, KS_KEYS, KS_SVC, KS__COUNT };

extern const char *const kmode_set_names[KS__COUNT];
/* Registers per address: 1 (IPv4) or 4 (IPv6). */
unsigned kmode_nregs(int family);
/* The batch-local id of a set (lookups in the batch that creates it). */
uint32_t kmode_set_id(int family, enum kset k);
/* Bytes of the set's key: each field in its own 4-byte register slot. */
uint32_t kmode_key_len(int family, enum kset k);
/* A set message of the worker's table (name and family set), NULL on allocation failure. */
struct nftnl_set *kmode_set_for(const struct nfq_config *cfg, int family, enum kset k);

/* Element operations being gathered into a batch (kmdelta.c): per family, set and kind
 * (0 destroy, 1 add), 256 elements to a message. Every destroy put before an add reaches the
 * batch before that add (a map's key with a new ID: its old element goes first). */
struct kmd_pend {
	struct nftnl_set *s;
	size_t n;
};
struct kmd_ops {
	struct kmd_pend p[2][KS_SVC][2];
	size_t sent; /* element operations put */
};
/* One element operation: e's element of set k (k < KS_SVC), destroyed or added. */
int kmd_put(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d, enum kset k,
	    const struct sess_entry *e, int add);
/* Queue what is gathered: all destroys, then all adds. 0 or -1. */
int kmd_flush(struct nftb *b, struct kmd_ops *d);
/* Free what a failure left gathered. */
void kmd_free(struct kmd_ops *d);

#endif
