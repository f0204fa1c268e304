/* SPDX-License-Identifier: MIT */
/*
 * The held SYNs of one queue thread (supervisor): first SYNs to an overlay service that found
 * no session, kept (their packet ids; the kernel keeps the packets queued) until coopnet-authd
 * adds the session or their deadline passes (docs/nfq.md, "Held SYNs").
 *
 * A fixed pool of cap entries, allocated once (no allocation per packet):
 *   - a hash index (lib/hidx.c) by session key over the first held SYN of each key, the others
 *     of the key chained behind it (a client that opens several connections at once), so a
 *     table change for one key finds its SYNs in O(1 + SYNs of the key);
 *   - a list in deadline order: every SYN of a worker waits the same miss_hold_ms, so arrival
 *     order is deadline order and the list is a FIFO (an out-of-order deadline is still put in
 *     its place, walking back from the tail); the expired ones are taken from the head.
 * Memory: cap * sizeof(struct held_syn) (about 590 bytes: the 512-byte copy of the SYN) plus
 * the index (8 to 16 bytes per entry).
 */
#ifndef COOPNET_NFQ_HELD_H
#define COOPNET_NFQ_HELD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hidx.h"
#include "packet.h"
#include "table.h"

#define HELD_COPY 512         /* bytes of a SYN kept: one with options fits easily */
#define HELD_MAX_CAP 65536    /* nfqconf's bound on miss_hold_max */

struct held_syn {
	struct sess_key key;  /* first member: the index's hash and eq read only the key */
	uint32_t pkt_id;      /* the kernel's packet id */
	uint32_t mark;
	uint64_t deadline_ms; /* monotonic */
	int32_t prev, next;   /* the deadline list; next: the free list when unused */
	int32_t knext;        /* next held SYN with the same key, -1: none */
	uint32_t seq;         /* the SYN's sequence number and source port: its retransmission */
	uint16_t sport;       /* has the same (held_add) */
	uint8_t used;
	uint8_t csum;         /* enum cn_csum_state */
	uint16_t len;
	uint8_t buf[HELD_COPY];
};

struct held_table {
	struct held_syn *v;   /* cap entries; owned */
	struct hidx ix;       /* key -> first held SYN of the key; owned */
	uint32_t cap, n;
	int32_t head, tail;   /* deadline list, earliest first; -1: empty */
	int32_t free;         /* free list; -1: full */
};

/* What to do with one held SYN: return true when it is done (a verdict was given: it leaves
 * the table), false to keep it held. */
typedef bool (*held_fn)(void *ctx, struct held_syn *s);

/* An empty table of cap entries (1..HELD_MAX_CAP), its index sized once. 0, or -1 (memory,
 * or a bad cap; h zeroed). */
int held_init(struct held_table *h, uint32_t cap);
void held_free(struct held_table *h); /* NULL-safe, also on a zeroed table */

/* Hold a SYN of key k (plen <= HELD_COPY). 0 when held; 1 when it is a retransmission of a
 * SYN held already (same key, source port and sequence number: the client's TCP sent it again
 * meanwhile; the held one goes out, so this copy is not held); -1 when the table is full or
 * plen too long. Nothing held on 1 and -1: the caller drops the packet and counts it. */
int held_add(struct held_table *h, const struct sess_key *k, uint32_t pkt_id, uint32_t mark,
	     uint64_t deadline_ms, enum cn_csum_state csum, const uint8_t *pl, size_t plen);
/* The table changed for key k: fn decides each held SYN of k (arrival order). Returns how many
 * left. O(1 + SYNs of k). */
size_t held_key_changed(struct held_table *h, const struct sess_key *k, held_fn fn, void *ctx);
/* Every SYN whose deadline is at or before now leaves, earliest first: fn gives its verdict
 * (its return value is ignored). Returns how many left. O(1 + expired).
 * fn may rewrite s->buf (nfq_decide writes the ID there) but must not change the table. */
size_t held_expire(struct held_table *h, uint64_t now_ms, held_fn fn, void *ctx);
/* fn decides every held SYN (the changes were not all noted). Returns how many left. */
size_t held_recheck_all(struct held_table *h, held_fn fn, void *ctx);
/* The earliest deadline, UINT64_MAX when nothing is held. */
uint64_t held_next_deadline(const struct held_table *h);
static inline uint32_t held_count(const struct held_table *h)
{
	return h->n;
}

/*
 * The notes that release held SYNs (heldnotes.c): the main thread posts the keys of every
 * change-set of the session table (nfqd_publish, from the table's change notes) and wakes the
 * queue threads (one eventfd each); a queue thread takes the keys it has not seen and
 * re-decides only the SYNs held for them. A ring of HELD_NOTES keys: a thread that fell
 * further behind, or a change-set whose keys were not all noted, re-decides everything it
 * holds (rare: O(held) once).
 */
#define HELD_NOTES 4096

struct held_notes {
	pthread_mutex_t lock;
	_Atomic uint64_t seq;  /* keys noted so far, +1 per "everything" (written under lock) */
	uint64_t all_seq;      /* a reader that has not seen up to here re-decides everything */
	struct sess_key k[HELD_NOTES];
	int nwake;
	int wake_fd[];         /* one eventfd per queue thread (nonblocking) */
};

/* Notes for nthreads queue threads (1..65536). NULL on failure (memory, eventfd). */
struct held_notes *held_notes_new(int nthreads);
void held_notes_free(struct held_notes *n); /* NULL-safe; closes the eventfds */
/* A change-set: the keys of c[0..count), or "everything" when lost. Wakes every thread when
 * there is anything to note. n may be NULL (no queue threads). */
void held_notes_post(struct held_notes *n, const struct tbl_change *c, size_t count, bool lost);
/* Reader (one queue thread, its own *seen, 0 at start): the keys noted since *seen into out
 * (room for HELD_NOTES). Returns the count (0: nothing new, lock-free), or -1: re-decide
 * everything. *seen moves to the end. */
long held_notes_take(struct held_notes *n, uint64_t *seen, struct sess_key *out);

#endif
