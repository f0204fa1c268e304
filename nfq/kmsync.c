/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode: the full set sync (kmode_sync), at reload and whenever the table's changes
 * were not all noted or their batch failed.
 *
 * One nft batch holds at most 4 MiB (lib/nftbatch.c), the elements of about 20,000 sessions,
 * so a full sync cannot be one transaction. It is a difference sent in bounded batches:
 *   1. read back the elements the kernel holds (ids, ok, keys, prev and the drop_* sets of
 *      both families, with their counters and timeouts);
 *   2. compare them with the elements the table wants (its effective, live sessions, and the
 *      previous ID of each one within its renewal grace);
 *   3. send only what differs, in the order of the session key: all of one key's operations
 *      (destroys, then adds) in one batch; a new batch when less than KSYNC_ROOM is left.
 * What a reader of the sets sees between two batches: every key either as before the sync or
 * as after it, never in between and never without its elements. A session valid before and
 * after the sync (even with a new ID: its old and new elements change in one batch) keeps
 * passing throughout; nothing is flushed. A session the sync removes stays until its key's
 * batch (milliseconds later). If a batch fails, the ones before it stay applied (each of
 * their keys complete) and kmode_sync returns -1; the next sync compares again from the
 * kernel's content. The sets have one writer, this thread, so nothing changes them between
 * the read and the batches. A dump the kernel gives inconsistently (an element twice, as many
 * missed, when its hash table resizes during the walk) is read again (read_kernel_whole).
 *
 * Counters (kmstats.c): an element that stays is not touched, so its counter goes on. A key
 * whose ID changes gets new ids and ok elements that start from the counts the dump read from
 * its old ones (its drop_* elements, keyed without the ID, stay); a key the kernel lacks
 * starts from its entry's counts (tbl_to_list: the last refresh's, 0 for a new session).
 * The counts of the ids and ok elements that go, and those new ones start from, are noted
 * for the totals embedded and checked_ok (kmstats.c), batch by batch.
 *
 * prev (the renewal grace): its elements carry a timeout and the kernel removes them when it
 * runs out, so it cannot be compared by key alone nor refilled. A prev element the kernel
 * holds with the ID the table wants is kept as it is, with the time it has left: it was added
 * with a timeout counted to the table's end of the grace (prev_until), so it already ends when
 * the table's grace does, and adding it again would only cost two operations. Only when the
 * two ends differ by more than PREV_SLACK_MS (the grace was restarted by changes whose batch
 * failed, e.g. a renewal back and forth) is it replaced by one with the table's time left. A
 * prev element the table does not want (grace over, a newer renewal, session gone) is
 * destroyed; one the kernel lacks (e.g. the batch of the renewal failed) is added with the
 * grace left. The dump does not list elements the kernel already expired.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "grow.h"
#include "kmode_int.h"
#include "log.h"
#include "nftbatch.h"

/* Room a key's operations may need: every gathered message flushed (2 kinds x 2 families x 7
 * sets = 28, each of at most 256 elements, about 30 KiB, and never more than 64 KiB) plus
 * those the key's own operations fill. */
#define KSYNC_ROOM (2u * 1024 * 1024)
/* How far the end of a prev element's timeout may be from the table's end of the grace and
 * still be the same (the kernel counts in jiffies, the table in seconds). */
#define PREV_SLACK_MS 1000

/* One element of set `set`: held by the kernel (want 0) or wanted by the table (want 1). */
struct kitem {
	struct sess_key key;
	cn_id_t id;    /* ids: the map's data; ok, prev: the key's ID; keys, drop_*: 0 */
	uint8_t set;   /* enum kset */
	uint8_t want;
	union {
		const struct sess_entry *e; /* wanted: its session (in a or b2, during the sync) */
		uint64_t v[2];              /* held: ids, ok: the counter (packets, bytes); prev:
					     * the milliseconds it has left */
	} u;
};

struct kitems {
	struct kitem *v;
	size_t n, cap;
	int family;    /* NFPROTO_* of the set being read */
	uint8_t set;
};

static int push(struct kitems *l, const struct kitem *it)
{
	struct kitem *v = grow(l->v, l->n, &l->cap, sizeof(*v), 1024);

	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = *it;
	return 0;
}

/* A dumped element into a kitem. */
static int read_elem(const struct nftb_elem *el, void *arg)
{
	struct kitems *l = arg;
	struct kitem it = {.set = l->set, .want = 0};

	if (kmode_elem_parse(l->family, (enum kset)l->set, el, &it.key, &it.id) < 0)
		return -1; /* not the set this worker created */
	if (l->set == KS_PREV) {
		it.u.v[0] = el->expires_ms;
	} else {
		it.u.v[0] = el->packets;
		it.u.v[1] = el->bytes;
	}
	return push(l, &it);
}

/* From this many elements of ids in one family on, the other sets of that family are read by
 * key (below, a dump of each: cheaper at that size; see read_kernel). */
static size_t by_key_from = 16384;

void kmode_sync_by_key_from(size_t n)
{
	by_key_from = n;
}

/* The elements of set k of family whose keys are those of the ids elements v[from, to) (read
 * by read_kernel; ok: with the ID of each), by key: nftb_get_elems, O(1) a key. */
static int read_by_key(const struct nfq_config *cfg, struct kitems *l, size_t from, size_t to,
		       int family, enum kset k)
{
	uint32_t klen = kmode_key_len(family, k);
	uint8_t *keys = malloc((to - from) * klen + 1), key[64];
	size_t missing = 0;
	int rc;

	if (!keys)
		return -1;
	for (size_t i = from; i < to; i++) {
		struct sess_entry e = {.key = l->v[i].key, .id = l->v[i].id};

		kmode_elem_key(key, family, k, &e);
		memcpy(keys + (i - from) * klen, key, klen);
	}
	l->family = family;
	l->set = (uint8_t)k;
	rc = nftb_get_elems(family, cfg->rule_table, kmode_set_names[k], keys, klen, to - from,
			    read_elem, l, &missing);
	free(keys);
	if (rc == 0 && missing && kmode_drop_reason(k) < 0) /* put again: the table's elements */
		log_debug("kernel mode: full sync, %zu key(s) of ids without an element in %s",
			  missing, kmode_set_names[k]);
	return rc;
}

static int dump(const struct nfq_config *cfg, struct kitems *l, int family, enum kset k)
{
	l->family = family;
	l->set = (uint8_t)k;
	return nftb_dump_set(family, cfg->rule_table, kmode_set_names[k], read_elem, l);
}

/* What the kernel holds. A dump of a hash set restarts its walk for each message of 32 KiB on
 * this kernel, so dumping n elements costs O(n^2) (about 0.6 CPU s per set at 60,000). ids
 * and prev are dumped: they find every key the kernel holds (also those the table lacks) and
 * the IDs of prev, which no other set tells. From by_key_from elements of ids on, ok, keys
 * and the drop_* sets (these only while their last read found as many: kmode_read_by_key,
 * as they hold only the sessions that dropped something) are then read by key, for the keys
 * of ids (ok: with the ID ids maps
 * the key to): each batch this worker commits carries all of a key's operations (install,
 * kmode_apply's one_key, send_diff below), and in each the key is in ids with ID x and has
 * its ok element with x and its keys element, or has none of them; so these are all the
 * elements those sets can hold. (prev: only the sessions in a renewal grace. drop_*: only
 * keys that dropped a segment, made by the drop chains after a lookup in keys; one the packet
 * path made in the instant its session went, after that batch's destroys, is found by a dump,
 * the usual read of these sparse sets, and destroyed; read by key it is not found, and keeps
 * its count until the key's session comes back or the worker restarts: a stale count, never
 * a decision.) */
static int read_kernel(const struct nfq_config *cfg, struct kitems *l)
{
	static const int families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	static const enum kset rest[] = {KS_OK, KS_KEYS, KS_DNOID, KS_DWRONG, KS_DOTHER};

	for (size_t f = 0; f < 2; f++) {
		size_t from = l->n, to;
		int rc = dump(cfg, l, families[f], KS_IDS);

		to = l->n;
		if (rc == 0)
			rc = dump(cfg, l, families[f], KS_PREV);
		for (size_t k = 0; k < sizeof(rest) / sizeof(rest[0]) && rc == 0; k++) {
			size_t before = l->n;

			rc = to - from >= by_key_from &&
			     kmode_read_by_key(families[f], rest[k], by_key_from) ?
			     read_by_key(cfg, l, from, to, families[f], rest[k]) :
			     dump(cfg, l, families[f], rest[k]);
			if (rc == 0)
				kmode_drop_held(families[f], rest[k], l->n - before);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* read_kernel, read again while a dump comes back inconsistent (nftb_dump_set's EAGAIN: an
 * element twice and as many missed, during a resize of the kernel's hash table, which a
 * batch of many additions or removals starts; it ends within milliseconds). Taken as it is,
 * such a view would destroy the element read twice (the second copy has no wanted
 * partner). */
#define KSYNC_READS 6

static int read_kernel_whole(const struct nfq_config *cfg, struct kitems *l)
{
	for (int attempt = 1;; attempt++) {
		struct timespec pause = {.tv_nsec = 10 * 1000 * 1000L * attempt};

		l->n = 0;
		if (read_kernel(cfg, l) == 0)
			return 0;
		if (errno != EAGAIN || attempt == KSYNC_READS)
			break;
		log_debug("kernel mode: full sync, a dump of table %s changed order while read "
			  "(its hash table resized); reading again", cfg->rule_table);
		nanosleep(&pause, NULL);
	}
	log_warn("kernel mode: reading the sets of table %s%s", cfg->rule_table,
		 errno == EAGAIN ? " (each dump inconsistent: the kernel kept resizing a set)" :
		 "");
	return -1;
}

/* The elements of the effective, live sessions of a then b2 at now_ms. */
static int read_wanted(const struct sess_list *a, const struct sess_list *b2, uint64_t now_ms,
		       struct kitems *l)
{
	bool *keep = kmode_effective(a, b2);
	int rc = 0;

	if (!keep)
		return -1;
	for (size_t i = 0; i < a->n + b2->n && rc == 0; i++) {
		const struct sess_entry *e = i < a->n ? &a->v[i] : &b2->v[i - a->n];

		if (!keep[i])
			continue;
		for (int k = 0; k < KS_SVC && rc == 0; k++)
			if (kmode_wants(e, (enum kset)k, now_ms))
				rc = push(l, &(struct kitem){
					.key = e->key, .set = (uint8_t)k, .want = 1, .u.e = e,
					.id = k == KS_PREV ? e->prev_id :
					      k == KS_IDS || k == KS_OK ? e->id : 0});
	}
	free(keep);
	return rc;
}

/* By key, set, ID, then kernel before table: an element both hold is a pair of neighbours. */
static int kitem_cmp(const void *x, const void *y)
{
	const struct kitem *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c)
		return c;
	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return (a->want > b->want) - (a->want < b->want);
}

static bool same_elem(const struct kitem *a, const struct kitem *b)
{
	return a->set == b->set && a->id == b->id && !memcmp(&a->key, &b->key, sizeof(a->key));
}

/* Is v[j] one of a pair that stays: the kernel's element (held) and the table's (wanted) the
 * same, and for prev about the same end (see the top of this file). */
static bool stays(const struct kitem *v, size_t n, size_t j, uint64_t now_ms)
{
	const struct kitem *h, *w;
	uint64_t left;

	if (v[j].want ? j == 0 : j + 1 >= n)
		return false;
	h = v[j].want ? &v[j - 1] : &v[j];
	w = h + 1;
	if (h->want || !w->want || !same_elem(h, w))
		return false;
	if (h->set != KS_PREV)
		return true;
	left = kmode_prev_left_ms(w->u.e, now_ms);
	return h->u.v[0] <= left + PREV_SLACK_MS && left <= h->u.v[0] + PREV_SLACK_MS;
}

/* A wanted ids or ok element of a key whose ID changes: the counts of the kernel's element
 * of that set that goes (v[0..n): the key's items). */
static void carry(const struct nfq_config *cfg, const struct kitem *v, size_t n, uint64_t now_ms,
		  const struct kitem *w, struct sess_entry *e)
{
	int dir = kmode_dir(cfg, (enum kset)w->set);

	for (size_t j = 0; j < n && dir >= 0; j++)
		if (!v[j].want && v[j].set == w->set && !stays(v, n, j, now_ms)) {
			e->segs[dir] = v[j].u.v[0];
			e->bytes[dir] = v[j].u.v[1];
		}
}

/* Does the table want an element of this key, v[0..n) (a live session: it always wants ids)? */
static bool key_live(const struct kitem *v, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (v[j].want)
			return true;
	return false;
}

/* A drop_* element the kernel holds that the table does not want (read_wanted: it wants one
 * only to carry a count) stays while its session lives: the packet path made it at the
 * session's first drop of that reason, and its count is newer than the table's. */
static bool drop_stays(const struct kitem *v, size_t j, bool live)
{
	return !v[j].want && live && kmode_drop_reason((enum kset)v[j].set) >= 0;
}

/* The operations of one key, v[0..n): what only the kernel holds out, then what only the
 * table wants in. */
static int put_key(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d,
		   const struct kitem *v, size_t n)
{
	bool live = key_live(v, n);

	for (int add = 0; add < 2; add++) {
		for (size_t j = 0; j < n; j++) {
			struct sess_entry e = {.key = v[j].key, .id = v[j].id, .prev_id = v[j].id};

			if (v[j].want != add || stays(v, n, j, d->now_ms) ||
			    drop_stays(v, j, live))
				continue;
			if (add) {
				e = *v[j].u.e;
				carry(cfg, v, n, d->now_ms, &v[j], &e);
			} else if (v[j].set != KS_PREV) { /* its count stays in the totals */
				kmd_note_removed(d, (enum kset)v[j].set, v[j].u.v[0]);
			}
			if (kmd_put(b, cfg, d, (enum kset)v[j].set, &e, add) < 0)
				return -1;
		}
	}
	return 0;
}

/* One batch out; its notes of the totals (kmstats.c) count once it is committed. */
static int commit(struct nftb *b, struct kmd_ops *d)
{
	if (kmd_flush(b, d) < 0) {
		nftb_abort(b);
		return -1;
	}
	if (nftb_commit(b) < 0)
		return -1;
	kmode_totals_commit(d);
	memset(d->base, 0, sizeof(d->base));
	return 0;
}

/* Send the difference of sorted v[0..n), a new batch when the room runs low. */
static int send_diff(const struct nfq_config *cfg, const struct kitem *v, size_t n,
		     uint64_t now_ms, size_t *ops, unsigned *batches)
{
	struct kmd_ops d = {.sent = 0, .now_ms = now_ms};
	struct nftb *b = nftb_begin();
	size_t i = 0, j;
	int rc = 0;

	if (!b)
		return -1;
	while (i < n && rc == 0) {
		for (j = i + 1; j < n && !memcmp(&v[j].key, &v[i].key, sizeof(v[i].key)); j++)
			;
		if (nftb_room(b) < KSYNC_ROOM) {
			rc = commit(b, &d); /* frees b */
			*batches += rc == 0;
			b = rc == 0 ? nftb_begin() : NULL;
			if (!b)
				rc = -1;
		}
		if (rc == 0)
			rc = put_key(b, cfg, &d, &v[i], j - i);
		i = j;
	}
	if (rc == 0) {
		rc = commit(b, &d);
		*batches += rc == 0;
	} else {
		nftb_abort(b);
	}
	kmd_free(&d);
	*ops = d.sent;
	return rc;
}

int kmode_sync(const struct nfq_config *cfg, const struct sess_list *a, const struct sess_list *b2)
{
	struct kitems l = {.v = NULL};
	uint64_t now_ms = kmode_now_ms();
	unsigned batches = 0;
	size_t ops = 0;
	int rc = -1;

	if (read_kernel_whole(cfg, &l) < 0 || read_wanted(a, b2, now_ms, &l) < 0) {
		log_warn("kernel mode: full sync");
		goto out;
	}
	qsort(l.v, l.n, sizeof(*l.v), kitem_cmp);
	rc = send_diff(cfg, l.v, l.n, now_ms, &ops, &batches);
	if (rc < 0)
		log_warn("kernel mode: full sync, batch %u", batches + 1);
	else
		log_debug("kernel mode: full sync, %zu element operation(s) in %u batch(es)", ops,
			  batches);
out:
	free(l.v);
	return rc;
}
