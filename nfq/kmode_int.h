/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode's own parts, shared by its files (kernelmode.h is the interface):
 *   kmrules.c  the rules of the worker's chain (decision table in nft expressions)
 *   kmsets.c   the sets and counters, the session elements (full set sync), the counter read
 *   kmstats.c  the per-session counters of the elements of ids and ok
 *   kmdelta.c  the session elements of the keys that changed (one batch per change-set)
 *   kmsvc.c    the copy of the rule file's service set (@svc) and the nftables events
 */
#ifndef COOPNET_NFQ_KMODE_INT_H
#define COOPNET_NFQ_KMODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/netfilter/nf_tables.h>

#include "kernelmode.h"

struct nftnl_set_elem;
struct nftnl_expr;

#define R(i) (NFT_REG32_00 + (i))

/* ids, ok, keys: the current session elements; prev: {client . service . port . id} of a
 * session's previous ID for the renewal grace, each element with its own timeout; svc: the copy
 * of the rule file's service set. */
enum kset { KS_IDS, KS_OK, KS_KEYS, KS_PREV, KS_SVC, KS__COUNT };

extern const char *const kmode_set_names[KS__COUNT];
/* Registers per address: 1 (IPv4) or 4 (IPv6). */
unsigned kmode_nregs(int family);
/* The batch-local id of a set (lookups in the batch that creates it). */
uint32_t kmode_set_id(int family, enum kset k);
/* Bytes of the set's key: each field in its own 4-byte register slot. */
uint32_t kmode_key_len(int family, enum kset k);
/* A set message of the worker's table (name and family set), NULL on allocation failure. */
struct nftnl_set *kmode_set_for(const struct nfq_config *cfg, int family, enum kset k);

/* Unix time in milliseconds (the renewal grace's end is compared with it, as the queue
 * threads compare seconds: an element lives until the same instant). */
uint64_t kmode_now_ms(void);
/* Milliseconds of e's renewal grace left at now_ms, 0: none (no previous ID, or over). */
uint64_t kmode_prev_left_ms(const struct sess_entry *e, uint64_t now_ms);
/* The element of e in set k (ids, ok, keys or prev: its previous ID, with the grace left as
 * the timeout); add: with the map's data and the timeout, else the key only. NULL: memory. */
struct nftnl_set_elem *kmode_elem(const struct nfq_config *cfg, int family, enum kset k,
				  const struct sess_entry *e, bool add, uint64_t now_ms);
/* kmstats.c: the direction set k's element counts (0: client -> service, 1: back), -1: none */
int kmode_dir(const struct nfq_config *cfg, enum kset k);
/* A counter expression starting at pk packets, by bytes. NULL: memory. */
struct nftnl_expr *kmode_counter_expr(uint64_t pk, uint64_t by);
/* The counter of e's element in set k (one GET). 0, 1 (no such element), -1 (error). */
int kmode_elem_get(const struct nfq_config *cfg, int family, enum kset k,
		   const struct sess_entry *e, uint64_t *pk, uint64_t *by);

#endif
