/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode: the session elements of the keys that changed (kernelmode.h, kmode_apply).
 * One batch per change-set: for each changed key, destroy its old elements (ids, keys, and ok
 * with the old ID, prev with the old previous ID, the drop_* ones when the session goes;
 * NFT_MSG_DESTROYSETELEM does not fail on a missing element, so an element the kernel never
 * had, e.g. of a session put already expired, is no error) and add the ones of the session now effective in the table (an authd
 * session's, or the config one it hid). A key whose ID stays keeps its elements in ids, ok
 * and keys (one_key). The counts of the ids and ok elements that go are read first, in one
 * GET of up to 64 keys per set (read_counts): a new ID's elements start from them, and they
 * stay in the totals embedded and checked_ok (kmstats.c).
 */
#include <arpa/inet.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "grow.h"
#include "kmode_int.h"
#include "log.h"
#include "nftbatch.h"

#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM 30 /* Linux 6.3 and later; older headers lack it */
#endif

/* By key, then by order: the first of a run of equal keys holds the state before. */
static int chg_cmp(const void *x, const void *y)
{
	const struct tbl_change *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int pend_flush(struct nftb *b, struct kmd_pend *p, uint16_t type, int family)
{
	int rc = 0;

	if (p->s && p->n)
		rc = nftb_add_set_msg(b, p->s, type, family, type == NFT_MSG_NEWSETELEM ?
				      NLM_F_CREATE : 0);
	else if (p->s)
		nftnl_set_free(p->s);
	p->s = NULL;
	p->n = 0;
	return rc;
}

/* The gathered messages of one kind (0 destroy, 1 add), both families, every set. */
static int flush_kind(struct nftb *b, struct kmd_ops *d, int add)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < KS_SVC; k++)
			if (pend_flush(b, &d->p[f][k][add], add ? NFT_MSG_NEWSETELEM :
				       NFT_MSG_DESTROYSETELEM, f ? NFPROTO_IPV6 : NFPROTO_IPV4) < 0)
				return -1;
	return 0;
}

int kmd_put(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d, enum kset k,
	    const struct sess_entry *e, int add)
{
	int fam = e->key.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint16_t type = add ? NFT_MSG_NEWSETELEM : NFT_MSG_DESTROYSETELEM;
	struct kmd_pend *p = &d->p[fam != NFPROTO_IPV4][k][add];
	struct nftnl_set_elem *el;

	if (!p->s && !(p->s = kmode_set_for(cfg, fam, k)))
		return -1;
	el = kmode_elem(cfg, fam, k, e, add, d->now_ms);
	if (!el)
		return -1;
	if (add && kmode_dir(cfg, k) >= 0) /* the count it starts from (kmstats.c, totals) */
		kmd_note_add(d, k, e->segs[kmode_dir(cfg, k)]);
	nftnl_set_elem_add(p->s, el);
	d->sent++;
	if (++p->n < 256)
		return 0;
	/* a full add message: the destroys gathered before it go first */
	if (add && flush_kind(b, d, 0) < 0)
		return -1;
	return pend_flush(b, p, type, fam);
}

int kmd_flush(struct nftb *b, struct kmd_ops *d)
{
	return flush_kind(b, d, 0) < 0 ? -1 : flush_kind(b, d, 1);
}

void kmd_free(struct kmd_ops *d)
{
	for (int a = 0; a < 2; a++)
		for (int f = 0; f < 2; f++)
			for (int k = 0; k < KS_SVC; k++)
				if (d->p[f][k][a].s) {
					nftnl_set_free(d->p[f][k][a].s);
					d->p[f][k][a].s = NULL;
					d->p[f][k][a].n = 0;
				}
}

/* e's elements in ids, ok and keys (prev is put on its own), or in the drop_* sets (drops:
 * destroyed all three, a missing one no error; added only where e has a count to carry,
 * kmode_wants, as the packet path makes the others at a first drop). */
static int put_elems(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d,
		     const struct sess_entry *e, int add, bool drops)
{
	for (int k = drops ? KS_DNOID : 0; k < (drops ? KS_SVC : KS_PREV); k++)
		if ((!add || !drops || kmode_wants(e, (enum kset)k, d->now_ms)) &&
		    kmd_put(b, cfg, d, (enum kset)k, e, add) < 0)
			return -1;
	return 0;
}

/* The counts of the elements of ids and ok, by key and set (sorted), from one dump. */
struct kcount {
	struct sess_key key;
	uint8_t set;
	uint64_t v[2];
};
struct kcounts {
	struct kcount *v;
	size_t n, cap;
	int family;
	enum kset set;
};

static int count_cb(const struct nftb_elem *el, void *arg)
{
	struct kcounts *l = arg;
	struct kcount c = {.set = (uint8_t)l->set, .v = {el->packets, el->bytes}}, *v;
	cn_id_t id;

	if (kmode_elem_parse(l->family, l->set, el, &c.key, &id) < 0)
		return -1;
	if (!(v = grow(l->v, l->n, &l->cap, sizeof(*v), 1024)))
		return -1;
	l->v = v;
	l->v[l->n++] = c;
	return 0;
}

static int kcount_cmp(const void *x, const void *y)
{
	const struct kcount *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	return c ? c : (a->set > b->set) - (a->set < b->set);
}

static bool goes(const struct sess_table *t, const struct tbl_change *c, uint64_t now);

/* The counts of the ids and ok elements of the keys that go (goes: old ID), read by key in
 * GETs of up to 64 (nftb_get_elems: O(1) a key; a dump of the sets was O(n^2) in their size on
 * this kernel, about a CPU second at 60,000 sessions, for each batch of expiries). For every
 * change-set, however few keys go: a GET of one key each cost two requests a renewal, a
 * tenth of coopnet-nfq's CPU on a provider under load (docs/performance.md, "Packed session-add;
 * a renewal's counts in one request per set"); a mass expiry of 65,536 sessions is 2,048 GETs, not
 * 131,072. */
static int read_counts(const struct nfq_config *cfg, const struct sess_table *t,
		       const struct tbl_change *v, size_t n, uint64_t now, struct kcounts *l)
{
	static const int fams[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	static const enum kset sets[] = {KS_IDS, KS_OK};
	uint8_t *keys = malloc(n * 64), key[64];
	size_t missing;
	int rc = 0;

	if (!keys)
		return -1;
	for (size_t f = 0; f < 2 && rc == 0; f++)
		for (size_t k = 0; k < 2 && rc == 0; k++) {
			uint32_t klen = kmode_key_len(fams[f], sets[k]);
			size_t m = 0;

			for (size_t i = 0; i < n; i++) {
				struct sess_entry o = {.key = v[i].key,
						       .id = (cn_id_t)(v[i].old_id & 0xffff)};

				if ((i > 0 && !memcmp(&v[i].key, &v[i - 1].key, sizeof(v[i].key))) ||
				    (v[i].key.family == AF_INET) != (fams[f] == NFPROTO_IPV4) ||
				    !goes(t, &v[i], now))
					continue;
				kmode_elem_key(key, fams[f], sets[k], &o);
				memcpy(keys + m++ * klen, key, klen);
			}
			l->family = fams[f];
			l->set = sets[k];
			rc = nftb_get_elems(fams[f], cfg->rule_table, kmode_set_names[sets[k]], keys,
					    klen, m, count_cb, l, &missing);
		}
	free(keys);
	if (rc == 0 && l->n)
		qsort(l->v, l->n, sizeof(*l->v), kcount_cmp);
	return rc;
}

/* The counts of a key's ids and ok elements with the old ID, read before the batch removes
 * them (an element the kernel lacks: 0): the totals' base (kmstats.c) and, for a key whose ID
 * changes, what its new elements start from. From pre (read_counts). */
static void read_old(const struct nfq_config *cfg, struct kmd_ops *d, const struct kcounts *pre,
		     struct sess_entry *o)
{
	static const enum kset sets[] = {KS_IDS, KS_OK};

	for (size_t i = 0; i < 2; i++) {
		int dir = kmode_dir(cfg, sets[i]);
		struct kcount want = {.key = o->key, .set = (uint8_t)sets[i]}, *c;

		/* none read (every element missing): v is NULL, which bsearch must not get */
		c = pre->n ? bsearch(&want, pre->v, pre->n, sizeof(*pre->v), kcount_cmp) : NULL;
		o->segs[dir] = c ? c->v[0] : 0;
		o->bytes[dir] = c ? c->v[1] : 0;
		kmd_note_removed(d, sets[i], o->segs[dir]);
	}
}

/* The elements of one changed key (c: its first note, the state before the change-set).
 * ids, ok, keys: a session that keeps its ID (a new expiry, a renewal to the same ID) keeps
 * its elements untouched, so their counters go on; one whose ID changes loses the old ones
 * and gets new ones that start from their counts (read_old); one gone or expired loses them
 * (their counts kept in the totals: read_old).
 * drop_*: keyed without the ID, so a renewal keeps them with their counters: out when the
 * session goes; when ids, ok and keys get new elements, in (again) for each reason the entry
 * has a count of (what a session put back after a failed batch carries); an add of an element
 * the set holds (no NLM_F_EXCL) leaves it as it is, counter included. The packet path makes
 * the others at the session's first drop (kmrules.c).
 * prev: the old previous ID's element out, the current one's in for the grace left. It is put
 * again even when the previous ID is the same: a renewal back and forth within one
 * change-set gives it a new grace end, and the element's timeout counts to the table's end
 * (prev_until) either way. */
static int one_key(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d,
		   const struct sess_table *t, const struct tbl_change *c,
		   const struct kcounts *pre)
{
	const struct tbl_entry *x = tbl_lookup(t, &c->key);
	struct sess_entry old = {.key = c->key, .id = (cn_id_t)(c->old_id & 0xffff),
				 .prev_id = (cn_id_t)(c->old_prev & 0xffff)};
	struct sess_entry e = {.key = c->key};
	uint64_t now = d->now_ms / 1000;
	bool live = x && !(tbl_entry_expires(x) && tbl_entry_expires(x) <= now);

	if (live) { /* (an expired one: gone, as in the full sync) */
		e.id = tbl_entry_id(x);
		e.prev_id = tbl_entry_prev(x, &e.prev_until);
		for (int r = 0; r < 3; r++) /* what a drop_* element the kernel lacks starts from */
			e.drops[r] = atomic_load_explicit(&x->drops[r], memory_order_relaxed);
	}
	if (c->old_prev && kmd_put(b, cfg, d, KS_PREV, &old, 0) < 0)
		return -1;
	if (!c->old_id || !live || old.id != e.id) {
		if (c->old_id)
			read_old(cfg, d, pre, &old);
		if (c->old_id && (put_elems(b, cfg, d, &old, 0, false) < 0 ||
				  (!live && put_elems(b, cfg, d, &old, 0, true) < 0)))
			return -1;
		if (live) { /* a new ID: its counts go on from the old one's (0: a new key) */
			memcpy(e.segs, old.segs, sizeof(e.segs));
			memcpy(e.bytes, old.bytes, sizeof(e.bytes));
		}
		if (live && (put_elems(b, cfg, d, &e, 1, false) < 0 ||
			     put_elems(b, cfg, d, &e, 1, true) < 0))
			return -1;
	}
	if (live && kmode_prev_left_ms(&e, d->now_ms) && kmd_put(b, cfg, d, KS_PREV, &e, 1) < 0)
		return -1;
	return 0;
}

/* Does the key of c lose its ids and ok elements (read_old)? */
static bool goes(const struct sess_table *t, const struct tbl_change *c, uint64_t now)
{
	const struct tbl_entry *x = tbl_lookup(t, &c->key);

	return c->old_id && (!x || (tbl_entry_expires(x) && tbl_entry_expires(x) <= now) ||
			     tbl_entry_id(x) != (cn_id_t)(c->old_id & 0xffff));
}

static int build(struct nftb *b, const struct nfq_config *cfg, struct kmd_ops *d,
		 const struct sess_table *t, const struct tbl_change *v, size_t n)
{
	struct kcounts pre = {.v = NULL};
	size_t i, going = 0;
	int rc = 0;

	d->now_ms = kmode_now_ms();
	for (i = 0; i < n; i++)
		going += (i == 0 || memcmp(&v[i].key, &v[i - 1].key, sizeof(v[i].key))) &&
			 goes(t, &v[i], d->now_ms / 1000);
	if (going && read_counts(cfg, t, v, n, d->now_ms / 1000, &pre) < 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0 && !memcmp(&v[i].key, &v[i - 1].key, sizeof(v[i].key)))
			continue;
		rc = one_key(b, cfg, d, t, &v[i], &pre);
	}
	free(pre.v);
	/* all destroys before all adds: a key both loses and gets an element */
	return rc < 0 ? -1 : kmd_flush(b, d);
}

int kmode_apply(const struct nfq_config *cfg, const struct sess_table *t,
		const struct tbl_change *changes, size_t n, size_t *sent)
{
	struct tbl_change *v = malloc((n ? n : 1) * sizeof(*v));
	struct kmd_ops d = {.sent = 0};
	struct nftb *b = NULL;
	int rc = -1;

	*sent = 0;
	if (!v)
		return -1;
	if (n == 0) {
		free(v);
		return 0;
	}
	memcpy(v, changes, n * sizeof(*v));
	qsort(v, n, sizeof(*v), chg_cmp);
	b = nftb_begin();
	if (b && build(b, cfg, &d, t, v, n) == 0) {
		rc = nftb_commit(b) < 0 ? -1 : 0; /* frees b */
		if (rc < 0)
			log_warn("kernel mode: updating %zu session element(s)", d.sent);
		else
			kmode_totals_commit(&d);
		b = NULL;
	}
	kmd_free(&d); /* left over after a failure */
	nftb_abort(b);
	free(v);
	if (rc == 0)
		*sent = d.sent;
	return rc;
}
