/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode's own parts, shared by its files (kernelmode.h is the interface):
 *   kmrules.c  the rules of the worker's chain (decision table in nft expressions)
 *   kmsets.c   the sets and counters, the install batch's session elements, the one builder
 *              of a session element (kmode_elem) and its reader (kmode_elem_parse)
 *   kmstats.c  the per-session counters of the elements of ids, ok and the drop_* sets
 *   kmrules.c  also the drop chains, which make a session's drop_* element at its first drop
 *   kmdelta.c  the session elements of the keys that changed (one batch per change-set), and
 *              the element operations both it and kmsync.c gather (struct kmd_ops)
 *   kmsync.c   the full set sync: the kernel's elements against the table's, in bounded batches
 *   kmsvc.c    the copy of the rule file's service set (@svc), following the ruleset's generation
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
 * session's previous ID for the renewal grace, each element with its own timeout; drop_noid,
 * drop_wrong, drop_other: {client . service . port} of the sessions that dropped a segment
 * for that reason, each element with a counter (the session's drops by reason, kmstats.c):
 * the drop chains of that reason (drop_noid_fwd, drop_noid_back, ...) make the element at
 * the session's first such drop (dynset) and count it, and the worker puts one only to carry a count it holds
 * (kmode_wants); svc: the copy of the rule file's service set. */
enum kset { KS_IDS, KS_OK, KS_KEYS, KS_PREV, KS_DNOID, KS_DWRONG, KS_DOTHER, KS_SVC, KS__COUNT };

/* The most elements a drop_* set takes (the table's most sessions, TBL_MAX_SESSIONS): past it
 * a first drop is still dropped and counted by reason, not per session (kmrules.c). */
#define KMODE_DROP_SET_SIZE ((uint32_t)TBL_MAX_SESSIONS)

extern const char *const kmode_set_names[KS__COUNT];
/* kmrules.c: the regular drop chains of family, one per reason and direction (after the sets
 * and counters they use, before the rules that go to them). */
struct nftb;
int kmode_add_drop_chains(struct nftb *b, const struct nfq_config *cfg, int family);
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
/* Has session e an element in set k (k < KS_SVC) at now_ms: not expired, for prev a grace
 * left, for a drop_* set a count of that reason to carry (else the packet path makes the
 * element at the first drop). The install batch, the full sync and kmode_apply decide with
 * it. */
bool kmode_wants(const struct sess_entry *e, enum kset k, uint64_t now_ms);
/* The key bytes of e's element in set k (64 bytes; prev: e->prev_id as the ID). Its length. */
uint32_t kmode_elem_key(uint8_t *key, int family, enum kset k, const struct sess_entry *e);
/* The element of e in set k (k < KS_SVC; prev: its previous ID, e->prev_id, in the key).
 * add: with the map's data (ids), e's counts of kmode_dir's direction as its counter (ids,
 * ok) and the grace left at now_ms as its timeout (prev); else the key only (a destroy, a
 * GET). The one builder of session elements (the install batch, kmd_put). NULL: memory. */
struct nftnl_set_elem *kmode_elem(const struct nfq_config *cfg, int family, enum kset k,
				  const struct sess_entry *e, bool add, uint64_t now_ms);
/* An element of set k of family read back (nftb_dump_set, nftb_get_elem) into its session
 * key and ID (ids: the map's data; ok, prev: the key's; keys: 0). 0, or -1 with errno EPROTO
 * (not the layout this worker creates). */
struct nftb_elem;
int kmode_elem_parse(int family, enum kset k, const struct nftb_elem *el, struct sess_key *key,
		     cn_id_t *id);
/* kmstats.c: the direction set k's element counts (0: client -> service, 1: back), -1: none */
int kmode_dir(const struct nfq_config *cfg, enum kset k);
/* kmstats.c: the drop reason (TBL_DROP_*) set k's element counts, -1: none */
int kmode_drop_reason(enum kset k);
/* kmstats.c: may set k of family be read by key by a reader that does so from `from`
 * elements on? Always for ids, ok and keys; a drop_* set only while its last read found at
 * least `from` elements (else a dump: few sessions dropped anything). kmode_drop_held notes
 * how many elements a read of a drop_* set found. */
bool kmode_read_by_key(int family, enum kset k, size_t from);
void kmode_drop_held(int family, enum kset k, size_t n);

/* Element operations being gathered into a batch (kmdelta.c): per family, set and kind
 * (0 destroy, 1 add), 256 elements to a message. Every destroy put before an add reaches the
 * batch before that add (a map's key with a new ID: its old element goes first). */
struct kmd_pend {
	struct nftnl_set *s;
	size_t n;
};
struct kmd_ops {
	struct kmd_pend p[2][KS_SVC][2];
	size_t sent;     /* element operations put */
	uint64_t now_ms; /* kmode_now_ms() of the batch: prev's timeouts count from it */
	uint64_t base[2]; /* the batch's change to the totals' base (kmstats.c): ids, ok */
};
/* One element operation: e's element of set k (k < KS_SVC, kmode_elem), destroyed or added. */
int kmd_put(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d, enum kset k,
	    const struct sess_entry *e, int add);
/* The totals embedded and checked_ok (kmstats.c): an element of ids or ok added with packets
 * (kmd_put notes its adds), or removed with packets (read before the batch, by its caller);
 * other sets: nothing. */
void kmd_note_add(struct kmd_ops *d, enum kset k, uint64_t packets);
void kmd_note_removed(struct kmd_ops *d, enum kset k, uint64_t packets);
/* The notes of d into the totals, once its batch is committed; kmode_totals_stage: into the
 * install batch's (kernelmode.h, kmode_totals_installed). */
void kmode_totals_commit(const struct kmd_ops *d);
void kmode_totals_stage(const struct kmd_ops *d);
/* The totals at the last complete kmode_stats_refresh: never lower than before. */
void kmode_totals(uint64_t *embedded, uint64_t *checked);
/* Queue what is gathered: all destroys, then all adds. 0 or -1. */
int kmd_flush(struct nftb *b, struct kmd_ops *d);
/* Free what a failure left gathered. */
void kmd_free(struct kmd_ops *d);

#endif
