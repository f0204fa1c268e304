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
 *   set prev { client . service . port . id }       a renewed session's previous ID, each
 *                                                   element with its grace as its timeout
 *   sets drop_noid, drop_wrong, drop_other { client . service . port }
 *                                                   flows with a session, each element with
 *                                                   a counter: the session's drops by reason
 *   counters checked_prev, passed, dropped_no_id, dropped_wrong_id,
 *            dropped_unknown_flow, dropped_urgent (read by `stats`; embedded and checked_ok
 *            are the element counts of ids and ok, kmstats.c)
 * After a session change, one batch with only the elements of the keys that changed
 * (kmode_apply): the kernel switches from the old content to the new in one transaction. At
 * start the install batch holds the sessions (up to KMODE_INSTALL_MAX; more: a full sync right
 * after). At reload, or when changes were lost, a full sync (kmode_sync, kmsync.c): the
 * difference between the kernel's elements and the table's, in bounded batches, each key's
 * change within one batch, so between batches every key is as before or as after, never
 * missing (100,000 sessions and more; one batch holds at most 4 MiB). Elements that stay keep
 * their counters (ids, ok, drop_*) and their timeout (prev); a key whose ID changes carries its
 * counts into its new elements (drop_*, keyed without the ID, stay).
 */
#ifndef COOPNET_NFQ_KERNELMODE_H
#define COOPNET_NFQ_KERNELMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logic.h"
#include "nfqconf.h"
#include "table.h"

struct nftb;
struct nftnl_expr;
struct mnl_socket;

/* The copy of the rule file's service set, one per family (kmsvc.c). */
struct svc_copy {
	uint8_t *keys; /* n keys of klen bytes, sorted */
	size_t n, cap;
	uint32_t klen;
	bool ok;       /* the dump succeeded (a missing set is an empty copy) */
};

/* Kernel mode's state, owned by struct nfqd: the copy last written and the ruleset generation
 * it was read at. */
struct kmode_svc {
	struct svc_copy last[2];
	bool have_last[2];
	uint32_t gen;     /* the ruleset's generation read just before the copy */
	bool have_gen;
	bool gen_failing; /* the last generation read failed (logged once) */
	uint64_t reads;   /* reads of the rule file's sets (counted; test_nfq_kmode reads them) */
	uint64_t writes;  /* batches that rewrote @svc */
};

/* Install-time parts of the queue-rule batch (nftrule.c): sets, counters and the drop chains
 * (kmode_add_drop_chains) of one family. */
int kmode_add_objects(struct nftb *b, const struct nfq_config *cfg, int family);
/* The rules of the base chain on hook; q (owned) is the queue expression for session misses. */
int kmode_add_rules(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain,
		    int hook, struct nftnl_expr *q);
/* Flush the session sets of family and add the sessions of lists a and b (b wins on a
 * key), in batch b: for the install batch, at most KMODE_INSTALL_MAX sessions. */
int kmode_add_elements(struct nftb *b, const struct nfq_config *cfg, int family,
		       const struct sess_list *a, const struct sess_list *b2);
/* Sessions the install batch carries (kmode_add_elements) before it leaves them to kmode_sync:
 * each takes at most about 700 bytes in the seven sets (IPv6 keys, the counters of ids, ok and
 * the drop_* sets, prev's timeout; a drop_* element only for a drop count to carry), and a
 * batch holds 4 MiB. */
#define KMODE_INSTALL_MAX 4096
/* Every set of both families brought to the sessions of a and b (b wins on a key): read the
 * kernel's elements (ids and prev dumped; the other sets dumped too below 16,384 elements of
 * ids, else read by key for the keys of ids: O(n) where a dump is O(n^2)), send the difference in bounded batches, one key's change in one batch
 * (kmsync.c). 0, or -1 (logged; batches sent before the failure stay, each key complete). */
int kmode_sync(const struct nfq_config *cfg, const struct sess_list *a, const struct sess_list *b2);
/* The elements of the keys in changes (notes of the session table t, tbl_changes): one
 * batch that destroys each key's old elements and adds those of its session now in t (none
 * if gone or expired). O(m log m) for m notes, whatever the table's size. *sent gets the
 * element operations sent. 0, or -1 (the caller then does a full kmode_sync). */
int kmode_apply(const struct nfq_config *cfg, const struct sess_table *t,
		const struct tbl_change *changes, size_t n, size_t *sent);
/* The copy of the rule file's service set (inet coopnet overlay4/6 or protected4/6) in the
 * worker's set @svc: brought in step with the rule file (one batch, only when it changed).
 * 0, or -1 (the old copy stays). */
int kmode_svc_sync(struct kmode_svc *st, const struct nfq_config *cfg);
/* Follow the rule file: read the ruleset's generation (nftb_generation) and, when it is not
 * the one the copy was read at, the rule file's sets (kmode_svc_sync). The generation moves at
 * every committed batch of any table, so a busy gateway reads the two small sets at most once
 * per check. Not the nftables event group: while any socket listens to it, the kernel builds
 * a notification of every element that any batch adds or removes (nf_tables_setelem_notify),
 * the virtual switch's and the worker's own sessions included (docs/performance.md). The
 * price is the copy's lag, up to KMODE_SVC_FOLLOW_MS, during which a newly declared service
 * is dropped by the guard (fail closed). 0, or -1 (the old copy stays; the next check reads
 * again; while the generation cannot be read, logged once, the 5 s safety net's
 * kmode_svc_sync is what follows the rule file). */
#define KMODE_SVC_FOLLOW_MS 100
int kmode_svc_follow(struct kmode_svc *st, const struct nfq_config *cfg);
void kmode_svc_free(struct kmode_svc *st); /* frees the copy; NULL-safe members */
/* The key bytes of e into key (64 bytes): client . service . port [. id], each field in its
 * own 4-byte register slot. Returns the length. */
uint32_t kmode_make_key(uint8_t *key, int family, const struct sess_entry *e, bool with_id);
/* For each entry i of a then b: is it the last with its key, so that b wins over a? One
 * sort: O(n log n) (a search per entry was O(n^2) per change). Owned by the caller (free);
 * NULL when out of memory. */
bool *kmode_effective(const struct sess_list *a, const struct sess_list *b);
/* Two copies of the service set hold the same keys (then no batch). */
bool kmode_same_copy(const struct svc_copy *a, const struct svc_copy *b);
/* The per-session counters of the sets' elements into t's entries (segments and bytes each
 * way, last_seen: this refresh when a count grew, drops by reason): kmstats.c. 0 or -1
 * (logged). O(n) by key from 16,384 sessions on; below, a dump of each set (O(n^2) in this
 * kernel, but cheaper at that size). */
int kmode_stats_refresh(const struct nfq_config *cfg, struct sess_table *t);
/* The same in slices, so that the main thread answers between them (60,000 sessions: about
 * a second of CPU in all): begin reads at once and returns 0 below 16,384 sessions (a dump),
 * else starts a pass (1; one already running: 1); each step reads at most budget keys (the
 * table may change between steps: entries are found by key) and returns 1 while the pass goes
 * on, 0 when it ended, -1 on error (logged; the pass ends). The totals embedded and checked_ok
 * take a pass only if no batch changed the sets during it. end frees the pass's buffer. */
int kmode_stats_begin(const struct nfq_config *cfg, struct sess_table *t);
int kmode_stats_step(const struct nfq_config *cfg, struct sess_table *t, size_t budget);
void kmode_stats_end(void);
/* Tests: the table size from which kmode_stats_refresh reads the elements by key instead of
 * dumping the sets (default 16,384; 0: always by key). */
void kmode_stats_by_key_from(size_t n);
/* Tests: the number of ids elements (one family) from which kmode_sync reads ok, keys and
 * the drop_* sets by key for the keys of ids instead of dumping them (default 16,384; 0:
 * always by key). */
void kmode_sync_by_key_from(size_t n);
/* Tests: the most elements each drop_* set takes, from the next install on (default
 * KMODE_DROP_SET_SIZE, kmode_int.h). */
void kmode_drop_set_size(uint32_t n);
/* The totals embedded and checked_ok (kmstats.c) start again with each install: reset before
 * its batch is built, installed once it is committed (the counts its elements start from). */
void kmode_totals_reset(void);
void kmode_totals_installed(void);
/* Add the kernel's counters into c: the named counters, and embedded and checked_ok from the
 * totals of the last kmode_stats_refresh. */
void kmode_counters(const struct nfq_config *cfg, uint64_t c[R__COUNT]);

#endif
