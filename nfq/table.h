/* SPDX-License-Identifier: MIT */
/*
 * The session table of coopnet-nfq: one long-lived hash table with O(1) lookup by
 * (family, client, service, port), changed in place by the main thread and read without
 * locks by the queue threads, plus the set of services (family, address, port) the worker
 * serves.
 *
 * Layout (sesstab.c): entries of 128 bytes in chunks of TBL_CHUNK that never move; an
 * open-addressing index of 32-bit entry numbers (linear probing, tombstones); an expiry heap
 * of the authd sessions that expire. A reader loads the index with acquire, follows a slot to
 * an entry, compares the key. The writer
 *   - adds: fills a free entry, then stores its number in a slot (release);
 *   - replaces: updates the ID and expiry of the live entry in place (atomics: a reader sees
 *     the old or the new ID, never a missing session);
 *   - deletes: stores a tombstone in the slot; the entry is reused only after every reader
 *     has passed a quiescent state (rcu.h);
 *   - grows or shrinks the index by building a new one and retiring the old through rcu.h
 *     (O(n), once per O(n) changes: amortised O(1)).
 * Each session changes atomically for the readers; a session-sync of many sessions is
 * applied session by session within one main-loop turn.
 *
 * Config sessions and authd sessions share the table: an authd session replaces a config one
 * with the same key, and deleting or expiring it brings the config one back (the table keeps
 * a sorted copy of the config sessions for that).
 */
#ifndef COOPNET_NFQ_TABLE_H
#define COOPNET_NFQ_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "id.h"
#include "rcu.h"

enum sess_source { SESS_SRC_CONFIG = 0, SESS_SRC_AUTHD = 1 };

struct sess_key {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port;    /* host order */
	uint8_t client[16];
	uint8_t service[16];
};

struct sess_entry {
	struct sess_key key;
	cn_id_t id;
	uint8_t source;   /* enum sess_source */
	uint8_t used;
	char vnic[16];
	uint64_t expires; /* Unix seconds, 0 = never */
	cn_id_t prev_id;     /* the live table's copy (tbl_to_list): previous ID, 0: none */
	uint32_t prev_until; /* Unix seconds: prev_id is accepted before it */
	uint64_t segs[2], bytes[2]; /* tbl_to_list: the entry's counts (kernel mode carries them
				     * into the new elements of a full sync) */
	uint64_t drops[3];          /* tbl_to_list: the entry's drops by reason (TBL_DROP_*) */
};

struct svc_entry {
	uint8_t family;
	uint8_t used;
	uint16_t port;
	uint8_t addr[16];
};

/* A growable list of sessions (not the live table: see the end of this file). */
struct sess_list {
	struct sess_entry *v;
	size_t n, cap;
};

struct svc_list {
	struct svc_entry *v;
	size_t n, cap;
};

void sess_key_make(struct sess_key *k, int family, const uint8_t *client,
		   const uint8_t *service, uint16_t port);

/* Session lists: the config's sessions, a staged sync, a batch of a control request. */
void sess_list_init(struct sess_list *l);
void sess_list_clear(struct sess_list *l); /* frees */
/* Add or replace by key: O(n), for short lists (the config's). -1 on allocation failure. */
int sess_list_put(struct sess_list *l, const struct cn_session *s, enum sess_source src);
/* Without the duplicate check (O(1)): for long lists, followed by sess_list_dedup, which keeps
 * the latest entry of each key and the order of the rest. 0 or -1 (memory). */
int sess_list_append(struct sess_list *l, const struct cn_session *s, enum sess_source src);
int sess_list_push(struct sess_list *l, const struct sess_entry *e);
int sess_list_dedup(struct sess_list *l);
/* dst (not initialised) becomes a copy of src. 0 or -1 (memory, dst empty). */
int sess_list_copy(struct sess_list *dst, const struct sess_list *src);
/* Remove every entry for which match() is true; returns the count removed. */
size_t sess_list_remove_if(struct sess_list *l,
			   bool (*match)(const struct sess_entry *e, const void *arg),
			   const void *arg);
void sess_entry_to_session(const struct sess_entry *e, struct cn_session *out);

void svc_list_init(struct svc_list *l);
void svc_list_clear(struct svc_list *l);
int svc_list_add(struct svc_list *l, int family, const uint8_t *addr, uint16_t port);

/* --- the live table (sesstab.c) ------------------------------------------------------ */

#define TBL_CHUNK_SHIFT 12
#define TBL_CHUNK (1u << TBL_CHUNK_SHIFT)      /* entries per chunk (512 KiB) */
#define TBL_MAX_CHUNKS 1024
#define TBL_MAX_SESSIONS (TBL_CHUNK * TBL_MAX_CHUNKS) /* 4,194,304 */

/* How long a session's previous ID stays valid after a renewal (segments in flight). */
#define TBL_RENEW_GRACE_S 30
/* How long an ID accepted ahead of its renewal (tbl_accept) stays accepted at most: longer
 * than an SP's exchange (its Auth-REP&REQ retransmissions, about 11.5 s with the default
 * timing), so that the commit or the withdrawal comes first; a provider that dies meanwhile
 * leaves nothing behind for longer. */
#define TBL_ACCEPT_S 30

/* One session. The readers use key, ids, expires and prev_until, and add to the counters
 * at the end; the rest is the main thread's. */
struct tbl_entry {
	struct sess_key key;       /* fixed while the entry is live */
	_Atomic uint32_t ids;      /* ID | previous ID << 16 (0: none) */
	_Atomic uint32_t expires;  /* Unix seconds, 0 = never (later than 2106: never) */
	_Atomic uint32_t prev_until; /* Unix seconds: the previous ID is accepted before it */
	uint32_t heap;             /* position in the expiry heap + 1 (0: none); free: next free */
	uint8_t source;            /* enum sess_source */
	uint8_t flags;             /* TE_* */
	uint16_t pad;
	char vnic[16];
	/* what the queue threads saw (relaxed atomics; kept on a renewal): [0] client ->
	 * service, [1] service -> client */
	_Atomic uint32_t last_seen;   /* Unix seconds of the last accepted segment, 0: none */
	_Atomic uint32_t segs[2];
	_Atomic uint32_t drops[3];    /* TBL_DROP_* */
	/* main thread only: the generation of the entry's last change that a listing with
	 * "changed_since" reports (tbl_gen_pass; docs/nfq.md "Only what changed"): a new
	 * session, a new ID, a removal (the entry no longer live), counters that moved */
	uint32_t gen;
	_Atomic uint64_t bytes[2];
	uint64_t sig; /* main thread only: a hash of the counters when gen was last stamped */
};

enum { TBL_DROP_NO_ID, TBL_DROP_WRONG_ID, TBL_DROP_OTHER };

/* A change of the session with key: what it was before (kernel mode's incremental set update). */
struct tbl_change {
	struct sess_key key;
	uint32_t seq;    /* order of the notes: the first of a key holds its state before */
	uint32_t old_id; /* 0x10000 | ID when a session was there, 0 when none */
	uint32_t old_prev; /* 0x10000 | its previous ID (renewal grace) when it had one, else 0 */
};

/* Notes kept per change-set before the caller falls back to a full sync. */
#define TBL_MAX_CHANGES 4096

struct svc_set;
struct tbl_index;
struct tbl_pending;
struct tbl_heap_el;

struct sess_table {
	_Atomic(struct tbl_index *) index;
	_Atomic(struct tbl_entry *) chunk[TBL_MAX_CHUNKS];
	_Atomic(struct svc_set *) svcs;
	uint64_t seed;
	struct rcu *rcu;            /* NULL: no concurrent readers, frees at once */
	/* main thread only */
	uint32_t count;             /* live sessions */
	uint32_t used;              /* index slots not empty (live + tombstones) */
	uint32_t hwm;               /* entries ever handed out */
	uint32_t free_head;         /* entry number + 1 of the first free entry, 0: none */
	struct tbl_pending *pend;   /* deleted entries waiting for their grace period (FIFO) */
	size_t npend, pend_head, pend_cap;
	struct tbl_heap_el *heap;   /* authd sessions that expire, earliest first */
	size_t nheap, heap_cap;
	struct sess_list cfg;       /* copy of the config sessions, sorted by key */
	uint64_t (*clock)(void);    /* Unix seconds (renewal grace); tests set their own */
	/* kernel mode: the keys changed since tbl_changes_clear (tbl_changes_track) */
	struct tbl_change *chg;
	size_t nchg, chg_cap;
	bool chg_on, chg_lost;      /* tracking; more than TBL_MAX_CHANGES (or no memory) */
	uint32_t gen;               /* stamps of the changes since the last tbl_gen_pass (>= 1) */
};

/* A new empty table. Deleted entries and old indexes wait for rcu's readers (rcu may be
 * NULL for a table without concurrent readers). NULL on allocation failure. */
struct sess_table *tbl_new(struct rcu *rcu);
void tbl_free(struct sess_table *t); /* NULL-safe; readers stopped */
/* A table with these sessions and services (tests, fuzzing). NULL on failure. */
struct sess_table *tbl_build(const struct sess_list *sessions, const struct svc_list *svcs);

/* Readers (inside rcu_online/rcu_offline). NULL when absent; t may be NULL (empty). */
const struct tbl_entry *tbl_lookup(const struct sess_table *t, const struct sess_key *k);
bool tbl_has_service(const struct sess_table *t, int family, const uint8_t *addr, uint16_t port);
/* True when the table lists any service at all (an empty list means "every queued flow"). */
bool tbl_has_services(const struct sess_table *t);
static inline cn_id_t tbl_entry_id(const struct tbl_entry *e)
{
	return (cn_id_t)(atomic_load_explicit(&e->ids, memory_order_relaxed) & 0xffff);
}
/* Does e accept a segment carrying got at now: its ID, or its previous one within
 * TBL_RENEW_GRACE_S of a renewal? */
static inline bool tbl_entry_accepts(const struct tbl_entry *e, cn_id_t got, uint64_t now)
{
	uint32_t ids = atomic_load_explicit(&e->ids, memory_order_acquire);

	if (got == (ids & 0xffff))
		return true;
	return got != 0 && got == (ids >> 16) &&
	       now < atomic_load_explicit(&e->prev_until, memory_order_relaxed);
}
/* The previous ID (0: none) and the end of its grace (Unix seconds). */
static inline cn_id_t tbl_entry_prev(const struct tbl_entry *e, uint32_t *until)
{
	*until = atomic_load_explicit(&e->prev_until, memory_order_relaxed);
	return (cn_id_t)(atomic_load_explicit(&e->ids, memory_order_acquire) >> 16);
}
static inline uint32_t tbl_entry_expires(const struct tbl_entry *e)
{
	return atomic_load_explicit(&e->expires, memory_order_relaxed);
}

/* Writer (main thread). */
/* Make sure the next n puts need no allocation (all-or-nothing batches). 0 or -1 (memory,
 * or more than TBL_MAX_SESSIONS). */
int tbl_reserve(struct sess_table *t, size_t n);
/* Add or replace e (its source says which). An authd session hides a config one with the
 * same key; a config put under an authd session only records that it is there. A new ID for
 * a live session (a renewal) keeps the old one valid for TBL_RENEW_GRACE_S. 0 or -1
 * (memory or full; nothing changed). O(1) amortised, O(log n) with an expiry. */
int tbl_put(struct sess_table *t, const struct sess_entry *e);
/* A renewal ahead (an SP from its Auth-REP&REQ to its commit): the authd session with key k
 * also accepts id for at most TBL_ACCEPT_S, without writing it (its current ID stays the one
 * written). It takes the place of the previous ID (the second accepted one): the grace of
 * the ID before ends then. The commit is a tbl_put of id: id becomes the current one, the old
 * current one the previous one for TBL_RENEW_GRACE_S. 1 when set, 0 when there is no such
 * authd session or id is its current ID already. */
int tbl_accept(struct sess_table *t, const struct sess_key *k, cn_id_t id);
/* The renewal ended without a commit: the accepted id of key k goes (fail closed). 1 when it
 * went, 0 when k's session does not hold id as accepted-ahead. */
int tbl_withdraw(struct sess_table *t, const struct sess_key *k, cn_id_t id);
/* Delete the authd session with key k: the config one with the key comes back, if any.
 * True when one was deleted. */
bool tbl_del(struct sess_table *t, const struct sess_key *k);
/* Replace the config sessions by cfg (a copy is kept): the difference is applied. 0 or -1
 * (memory; the table is unchanged). */
int tbl_set_config(struct sess_table *t, const struct sess_list *cfg);
/* Replace the services (a new set, published; the old one retired). 0 or -1 (memory). */
int tbl_set_services(struct sess_table *t, const struct svc_list *svcs);
/* Make the authd sessions exactly those of l (l deduplicated; config ones stay): puts every
 * one of l, deletes the authd sessions not in it; an ID accepted ahead (tbl_accept) goes
 * unless l makes it the current one (the sync carries what the database holds, and a
 * renewal in flight is not in it). 0 or -1 (memory; nothing changed).
 * *removed (may be NULL) gets the count deleted. O(n + |l|). */
int tbl_sync_authd(struct sess_table *t, const struct sess_list *l, size_t *removed);
/* Delete the authd sessions match() selects (a full scan: O(n)). Returns the count. */
size_t tbl_del_if(struct sess_table *t, bool (*match)(const struct tbl_entry *e, const void *arg),
		  const void *arg);
/* Delete at most max authd sessions expired at now (earliest first). Returns the count;
 * *more (may be NULL) says whether expired ones remain. O(log n) each. */
size_t tbl_expire(struct sess_table *t, uint64_t now, size_t max, bool *more);
/* Hand deleted entries whose grace period is over back to the free list. Returns how many
 * still wait. */
size_t tbl_reclaim(struct sess_table *t);
/* Live sessions. */
static inline size_t tbl_count(const struct sess_table *t)
{
	return t ? t->count : 0;
}
/* The first live entry with number >= *pos, or NULL at the end; *pos is set past it. Entries
 * never move: a listing by number stays in place while sessions change. */
const struct tbl_entry *tbl_next(const struct sess_table *t, size_t *pos);
void tbl_entry_to_session(const struct tbl_entry *e, struct cn_session *out);
/* Generations (a listing of what changed, docs/nfq.md "Only what changed"): a new session, a
 * new ID and a removal stamp their entry with t->gen at once; tbl_gen_pass stamps the live
 * entries whose counters moved since it last looked (a hash of them: the queue threads add
 * to the counters without telling anyone, kernel mode's refresh writes them), then returns
 * t->gen and advances it. Every change after that pass gets a later stamp: a listing of the
 * entries stamped after the value returned misses nothing. O(entries), memory only. */
uint32_t tbl_gen_pass(struct sess_table *t);
/* As tbl_next, over the entries stamped after since, live or not: *gone says whether the
 * entry was removed (its number, free or reused later, is all it still tells). */
const struct tbl_entry *tbl_next_changed(const struct sess_table *t, size_t *pos,
					 uint32_t since, bool *gone);
/* Note every change of a key's session (ID, presence) from now on (on) or not. */
void tbl_changes_track(struct sess_table *t, bool on);
/* The notes since the last clear; NULL with *lost true when some were not kept. */
const struct tbl_change *tbl_changes(const struct sess_table *t, size_t *n, bool *lost);
void tbl_changes_clear(struct sess_table *t);
/* Every live session into l (initialised by the caller): kernel mode's full sync. */
int tbl_to_list(const struct sess_table *t, struct sess_list *l);

#endif
