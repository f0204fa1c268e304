/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode's per-session counters (kernelmode.h, docs/nfq.md "Per-session counters"). The
 * sets ids and ok carry a counter per element (a set expression: the kernel adds one to each
 * element and counts at every lookup that matches), so each session has, per direction, the
 * segments and bytes of the rule that decided them:
 *   provider:   ok (client -> service, checked) is direction 0, ids (replies, ID written) 1;
 *   supervisor: ids (client -> service, ID written) is direction 0, ok (replies) 1.
 * Drops by reason the same way: the sets drop_noid, drop_wrong and drop_other hold, with a
 * counter, the key of each session that dropped a segment for that reason: the drop rule of
 * the reason goes (after every other condition) to its drop chain, whose dynset makes the
 * element at the first drop and counts each one (kmrules.c), as the queue threads count them
 * (no ID; another ID; URG set: TBL_DROP_*). A session without an element has dropped
 * nothing for that reason: a refresh finds none and leaves the entry's count as it is.
 * kmode_stats_refresh reads these sets (a dump of each; from 16,384 sessions on the table's
 * sessions' elements by key, O(1) each, as a dump is O(n^2) on this kernel; nfq's main loop
 * does that in slices: kmode_stats_begin, kmode_stats_step) and writes the figures into the
 * table's entries (the queue threads never count a kernel-mode session: the kernel decides its
 * segments), which the `sessions` listing shows as in queue mode. last_seen is the time of the
 * refresh that first saw a count of ids or ok grow (a refresh runs at most once a second, when
 * a listing or `stats` asks, spaced by its cost: nfqd_kstats_next; a drop does not make a
 * session look alive). When a key's ID changes (a renewal, a
 * full sync), its new elements of ids and ok start from the old ones' counts (kmdelta.c:
 * read_counts before the batch; kmsync.c: the counts its dump read), and a key whose ID
 * stays keeps its elements; the drop_* elements are keyed without the ID and stay through a
 * renewal. Not counted per session here: the segments accepted with a previous ID during a
 * renewal's grace (set prev has no counter).
 * The same element counts give `stats` its totals embedded and checked_ok (`totals` below):
 * the rules that decide a live session's segments carry no named counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <time.h>

#include "kmode_int.h"
#include "log.h"
#include "nftbatch.h"

int kmode_dir(const struct nfq_config *cfg, enum kset k)
{
	bool sp = cfg->role == NFQ_ROLE_PROVIDER;

	if (k == KS_OK)
		return sp ? 0 : 1;
	if (k == KS_IDS)
		return sp ? 1 : 0;
	return -1;
}

int kmode_drop_reason(enum kset k)
{
	return k == KS_DNOID ? TBL_DROP_NO_ID : k == KS_DWRONG ? TBL_DROP_WRONG_ID :
	       k == KS_DOTHER ? TBL_DROP_OTHER : -1;
}

/* The totals `embedded` and `checked_ok` of the rules that decide a live session's segments
 * (docs/nfq.md "Counters"): those rules count on their element of ids or ok only, with no
 * named counter of their own (an indirect call less per segment, docs/performance.md). A
 * total is the sum of the set's element counts plus `base`: the counts of the elements
 * removed (read before their removal) minus the counts elements were added with (a new ID's
 * elements start from the old ones', kmdelta.c, kmsync.c), so it counts exactly the
 * segments the rules decided since the install, whatever sessions come and go. `shown` is
 * that figure at the last refresh, never lower than before (a segment counted between the
 * read of an element and its removal is lost, so the sum could step back by it). Main
 * thread only, as every caller of kmode_*. Index: 0 ids, 1 ok. */
static struct {
	uint64_t base[2];   /* modulo 2^64: removed - added with */
	uint64_t staged[2]; /* the install batch's, until it is committed */
	uint64_t shown[2];
} totals;

static uint64_t totals_gen; /* changes of the base (a refresh in slices: kmode_stats_step) */

static int total_index(enum kset k)
{
	return k == KS_IDS ? 0 : k == KS_OK ? 1 : -1;
}

void kmd_note_add(struct kmd_ops *d, enum kset k, uint64_t packets)
{
	int i = total_index(k);

	if (i >= 0)
		d->base[i] -= packets;
}

void kmd_note_removed(struct kmd_ops *d, enum kset k, uint64_t packets)
{
	int i = total_index(k);

	if (i >= 0)
		d->base[i] += packets;
}

void kmode_totals_commit(const struct kmd_ops *d)
{
	totals_gen++;
	totals.base[0] += d->base[0];
	totals.base[1] += d->base[1];
}

void kmode_totals_stage(const struct kmd_ops *d)
{
	totals.staged[0] += d->base[0];
	totals.staged[1] += d->base[1];
}

void kmode_totals_reset(void)
{
	totals_gen++;
	memset(&totals, 0, sizeof(totals));
}

void kmode_totals_installed(void)
{
	totals_gen++;
	memcpy(totals.base, totals.staged, sizeof(totals.base));
	memset(totals.staged, 0, sizeof(totals.staged));
}

void kmode_totals(uint64_t *embedded, uint64_t *checked)
{
	*embedded = totals.shown[0];
	*checked = totals.shown[1];
}

/* How many elements each drop_* set held at its last read, per family. They hold only the
 * sessions that dropped something for their reason (kmrules.c), usually few, and a read by key
 * costs a GET for each key the set lacks (nftb_get_elems stops at a missing key: 60,000 empty
 * reads took a full sync from 0.85 to 1.8 s), so they are dumped until a read finds as many
 * elements as the reader's by-key threshold. */
static size_t drop_held[2][3];

bool kmode_read_by_key(int family, enum kset k, size_t from)
{
	int why = kmode_drop_reason(k);

	return why < 0 || drop_held[family != NFPROTO_IPV4][why] >= from;
}

void kmode_drop_held(int family, enum kset k, size_t n)
{
	int why = kmode_drop_reason(k);

	if (why >= 0)
		drop_held[family != NFPROTO_IPV4][why] = n;
}

struct refresh {
	struct sess_table *t;
	int family, dir, why; /* why: the drop reason, when dir is -1 */
	enum kset set;
	uint32_t now;
	uint64_t sum[2];      /* the element counts of ids and ok (total_index) */
	size_t got;           /* elements of the set read so far */
};

/* One element of a dump: its counter into its session's entry. */
static int elem_cb(const struct nftb_elem *el, void *data)
{
	struct refresh *r = data;
	struct tbl_entry *x;
	struct sess_key k;
	cn_id_t id;

	if (kmode_elem_parse(r->family, r->set, el, &k, &id) < 0)
		return -1;
	r->got++;
	if (total_index(r->set) >= 0 && el->counter)
		r->sum[total_index(r->set)] += el->packets;
	x = (struct tbl_entry *)tbl_lookup(r->t, &k); /* the main thread owns the counters here */
	if (!el->counter || !x)
		return 0;
	if (r->dir < 0) {
		atomic_store_explicit(&x->drops[r->why], (uint32_t)el->packets,
				      memory_order_relaxed);
		return 0;
	}
	if (el->packets > atomic_load_explicit(&x->segs[r->dir], memory_order_relaxed))
		atomic_store_explicit(&x->last_seen, r->now, memory_order_relaxed);
	atomic_store_explicit(&x->segs[r->dir], (uint32_t)el->packets, memory_order_relaxed);
	atomic_store_explicit(&x->bytes[r->dir], el->bytes, memory_order_relaxed);
	return 0;
}

/* Keys of one set asked for at a time (nftb_get_elems splits them into its requests). */
#define REFRESH_KEYS 4096

/* From this many sessions on, the refresh reads the elements by key; below, one dump of each
 * set is cheaper (measured on this machine: 3,000 elements by key 14 ms, a dump 1.9 ms; 60,000
 * by key 0.22 CPU s, a dump 0.60 and growing as n^2: they cross near 17,000). */
static size_t by_key_from = 16384;

void kmode_stats_by_key_from(size_t n)
{
	by_key_from = n;
}

static const int fams[] = {NFPROTO_IPV4, NFPROTO_IPV6};
static const enum kset sets[] = {KS_IDS, KS_OK, KS_DNOID, KS_DWRONG, KS_DOTHER};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

/* The elements of set r->set of family r->family of the table's sessions from entry *pos on,
 * by key, at most budget keys: nftb_get_elems, O(1) a key in the kernel (a dump restarts its
 * hash walk for each message: 60,000 elements took 136 messages and 2.7 times the CPU of these
 * GETs on this machine). A session whose elements are not there (expired, or a change not
 * yet applied) is skipped. 1 when sessions of the set remain (*pos past the last one read),
 * 0 at the end of the table, -1 on error. */
static int refresh_set(const struct nfq_config *cfg, struct sess_table *t, struct refresh *r,
		       uint8_t *keys, size_t *pos, size_t budget)
{
	int af = r->family == NFPROTO_IPV4 ? AF_INET : AF_INET6;
	uint32_t klen = kmode_key_len(r->family, r->set);
	const struct tbl_entry *x;
	size_t n = 0, missing;

	budget = budget < REFRESH_KEYS ? budget : REFRESH_KEYS;
	do {
		x = tbl_next(t, pos);
		if (x && x->key.family == af) {
			struct sess_entry e = {.key = x->key, .id = tbl_entry_id(x)};
			uint8_t key[64];

			kmode_elem_key(key, r->family, r->set, &e);
			memcpy(keys + n++ * klen, key, klen);
		}
	} while (x && n < budget);
	if (n && nftb_get_elems(r->family, cfg->rule_table, kmode_set_names[r->set], keys, klen,
				n, elem_cb, r, &missing) < 0)
		return -1;
	return x ? 1 : 0;
}

static void refresh_set_init(const struct nfq_config *cfg, struct refresh *r, size_t set)
{
	r->family = fams[set / NSETS];
	r->set = sets[set % NSETS];
	r->dir = kmode_dir(cfg, r->set);
	r->why = kmode_drop_reason(r->set);
	r->got = 0;
}

/* A pass over every set read (see `totals`): the totals, unless the sets changed meanwhile. */
static void totals_from(const struct refresh *r)
{
	for (int i = 0; i < 2; i++) {
		/* below 0 only if someone else removed or reset elements: then not higher */
		int64_t v = (int64_t)(r->sum[i] + totals.base[i]);

		if (v > 0 && (uint64_t)v > totals.shown[i])
			totals.shown[i] = (uint64_t)v;
	}
}

/* A pass over every set (both families): where it is, and the totals' generation it started
 * in (totals_gen counts the changes of the totals' base: a set changed during the pass, so
 * its sum mixes before and after and is not used). One walk for both uses: a whole refresh
 * runs a pass of its own to the end in one call (kmode_stats_refresh), a refresh in slices
 * keeps one across main-loop turns (kmode_stats_begin, kmode_stats_step). Below by_key_from
 * sessions (when the pass starts) each set is one dump, one step. */
struct pass {
	struct refresh r;
	size_t set, pos;
	uint64_t gen;
	bool by_key;
	uint8_t *keys;
};

static int pass_start(const struct nfq_config *cfg, struct sess_table *t, struct pass *p)
{
	uint8_t *keys = p->keys;

	memset(p, 0, sizeof(*p));
	p->keys = keys;
	p->by_key = tbl_count(t) >= by_key_from;
	if (p->by_key && !p->keys && !(p->keys = malloc((size_t)REFRESH_KEYS * 64))) {
		log_warnx("kernel mode: reading the session counters: out of memory");
		return -1;
	}
	p->r.t = t;
	p->gen = totals_gen;
	refresh_set_init(cfg, &p->r, 0);
	return 0;
}

/* At most budget keys of the pass (a whole set when it dumps). 1: sets remain; 0: the pass
 * ended (the totals taken unless the sets changed meanwhile); -1: an error ended it. */
static int pass_step(const struct nfq_config *cfg, struct sess_table *t, struct pass *p,
		     size_t budget)
{
	int rc;

	p->r.t = t;
	p->r.now = (uint32_t)time(NULL);
	if (p->by_key && kmode_read_by_key(p->r.family, p->r.set, by_key_from))
		rc = refresh_set(cfg, t, &p->r, p->keys, &p->pos, budget);
	else
		rc = nftb_dump_set(p->r.family, cfg->rule_table, kmode_set_names[p->r.set],
				   elem_cb, &p->r) < 0 ? -1 : 0;
	if (rc < 0) {
		/* EAGAIN: the dump gave an element twice (nftb_dump_set), its sums are wrong; the
		 * counters it stored are each one the kernel held, so only the totals wait for
		 * the next pass */
		if (errno == EAGAIN)
			log_debug("kernel mode: set %s resized while read; its totals wait for the "
				  "next pass", kmode_set_names[p->r.set]);
		else
			log_warn("kernel mode: reading the session counters of set %s",
				 kmode_set_names[p->r.set]);
		return -1;
	}
	if (rc == 0)
		kmode_drop_held(p->r.family, p->r.set, p->r.got);
	if (rc == 0 && ++p->set < 2 * NSETS) {
		p->pos = 0;
		refresh_set_init(cfg, &p->r, p->set);
		return 1;
	}
	if (rc)
		return 1;
	if (p->gen == totals_gen)
		totals_from(&p->r);
	return 0;
}

int kmode_stats_refresh(const struct nfq_config *cfg, struct sess_table *t)
{
	struct pass p = {.keys = NULL};
	int rc = pass_start(cfg, t, &p);

	if (rc == 0)
		while ((rc = pass_step(cfg, t, &p, SIZE_MAX)) == 1)
			;
	free(p.keys);
	return rc < 0 ? -1 : 0;
}

/* The refresh in slices (kmode_stats_begin, kmode_stats_step). */
static struct pass pass;
static bool pass_active;

int kmode_stats_begin(const struct nfq_config *cfg, struct sess_table *t)
{
	if (tbl_count(t) < by_key_from)
		return kmode_stats_refresh(cfg, t) < 0 ? -1 : 0;
	if (pass_active)
		return 1;
	if (pass_start(cfg, t, &pass) < 0)
		return -1;
	pass_active = true;
	return 1;
}

int kmode_stats_step(const struct nfq_config *cfg, struct sess_table *t, size_t budget)
{
	int rc;

	if (!pass_active)
		return 0;
	rc = pass_step(cfg, t, &pass, budget);
	if (rc != 1)
		pass_active = false;
	return rc;
}

void kmode_stats_end(void)
{
	free(pass.keys);
	memset(&pass, 0, sizeof(pass));
	pass_active = false;
}

