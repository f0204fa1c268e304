/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode: the session elements of the keys that changed (kernelmode.h, kmode_apply).
 * One batch per change-set: for each changed key, destroy its old elements (ids, keys, and ok
 * with the old ID; NFT_MSG_DESTROYSETELEM does not fail on a missing element, so an element
 * the kernel never had, e.g. of a session put already expired, is no error) and add the ones
 * of the session now effective in the table (an authd session's, or the config one it hid).
 */
#include <arpa/inet.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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

/* One set's messages of one kind being filled, 256 elements to a message. */
struct pend {
	struct nftnl_set *s;
	size_t n;
};

static int pend_flush(struct nftb *b, struct pend *p, uint16_t type, int family)
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

static int pend_add(struct nftb *b, const struct nfq_config *cfg, int family, enum kset k,
		    struct pend *p, uint16_t type, const struct sess_entry *e, uint64_t now_ms)
{
	struct nftnl_set_elem *el;

	if (!p->s && !(p->s = kmode_set_for(cfg, family, k)))
		return -1;
	el = kmode_elem(cfg, family, k, e, type == NFT_MSG_NEWSETELEM, now_ms);
	if (!el)
		return -1;
	nftnl_set_elem_add(p->s, el);
	if (++p->n == 256)
		return pend_flush(b, p, type, family);
	return 0;
}

/* [family 0/1][set][0 destroy, 1 add] */
struct delta {
	struct pend p[2][KS_SVC][2];
	size_t sent;
	uint64_t now_ms;
};

/* e's elements in ids, ok and keys; prev: only its element in prev (the previous ID). */
static int put_elems(struct nftb *b, const struct nfq_config *cfg, struct delta *d,
		     const struct sess_entry *e, int add, bool prev)
{
	int fam = e->key.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6, k;
	uint16_t type = add ? NFT_MSG_NEWSETELEM : NFT_MSG_DESTROYSETELEM;

	for (k = prev ? KS_PREV : 0; k < (prev ? KS_SVC : KS_PREV); k++) {
		if (pend_add(b, cfg, fam, (enum kset)k, &d->p[fam != NFPROTO_IPV4][k][add], type,
			     e, d->now_ms) < 0)
			return -1;
		d->sent++;
	}
	return 0;
}

/* A session that stays (renewal, new expiry): its new elements start from the counts of the
 * old ones (kmstats.c), read before the batch replaces them. */
static int carry(const struct nfq_config *cfg, struct sess_entry *e, cn_id_t old_id)
{
	int fam = e->key.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	static const enum kset sets[] = {KS_IDS, KS_OK};
	struct sess_entry o = *e;

	o.id = old_id;
	for (size_t i = 0; i < 2; i++) {
		int dir = kmode_dir(cfg, sets[i]);

		if (kmode_elem_get(cfg, fam, sets[i], &o, &e->segs[dir], &e->bytes[dir]) < 0)
			return -1;
	}
	return 0;
}

/* The elements of one changed key: the old ones out (with the previous ID's), the effective
 * session's in (with its previous ID's for the grace left, if any). */
static int one_key(struct nftb *b, const struct nfq_config *cfg, struct delta *d,
		   const struct sess_table *t, const struct tbl_change *c)
{
	const struct tbl_entry *x = tbl_lookup(t, &c->key);
	struct sess_entry e = {.key = c->key};
	uint64_t now = d->now_ms / 1000;

	if (c->old_id) {
		e.id = (cn_id_t)(c->old_id & 0xffff);
		if (put_elems(b, cfg, d, &e, 0, false) < 0)
			return -1;
	}
	if (c->old_prev) {
		e.prev_id = (cn_id_t)(c->old_prev & 0xffff);
		if (put_elems(b, cfg, d, &e, 0, true) < 0)
			return -1;
	}
	if (!x || (tbl_entry_expires(x) && tbl_entry_expires(x) <= now))
		return 0; /* gone, or expired (as in the full sync) */
	if (c->old_id && carry(cfg, &e, (cn_id_t)(c->old_id & 0xffff)) < 0)
		return -1;
	e.id = tbl_entry_id(x);
	e.prev_id = tbl_entry_prev(x, &e.prev_until);
	if (put_elems(b, cfg, d, &e, 1, false) < 0)
		return -1;
	return kmode_prev_left_ms(&e, d->now_ms) ? put_elems(b, cfg, d, &e, 1, true) : 0;
}

static int build(struct nftb *b, const struct nfq_config *cfg, struct delta *d,
		 const struct sess_table *t, const struct tbl_change *v, size_t n)
{
	size_t i;
	int f, k, a;

	d->now_ms = kmode_now_ms();
	for (i = 0; i < n; i++) {
		if (i > 0 && !memcmp(&v[i].key, &v[i - 1].key, sizeof(v[i].key)))
			continue;
		if (one_key(b, cfg, d, t, &v[i]) < 0)
			return -1;
	}
	/* all destroys before all adds: a key both loses and gets an element */
	for (a = 0; a < 2; a++)
		for (f = 0; f < 2; f++)
			for (k = 0; k < KS_SVC; k++)
				if (pend_flush(b, &d->p[f][k][a], a ? NFT_MSG_NEWSETELEM :
					       NFT_MSG_DESTROYSETELEM,
					       f ? NFPROTO_IPV6 : NFPROTO_IPV4) < 0)
					return -1;
	return 0;
}

int kmode_apply(const struct nfq_config *cfg, const struct sess_table *t,
		const struct tbl_change *changes, size_t n, size_t *sent)
{
	struct tbl_change *v = malloc((n ? n : 1) * sizeof(*v));
	struct delta d = {.sent = 0};
	struct nftb *b = NULL;
	int rc = -1, f, k, a;

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
		b = NULL;
	}
	for (a = 0; a < 2; a++) /* left over after a failure */
		for (f = 0; f < 2; f++)
			for (k = 0; k < KS_SVC; k++)
				if (d.p[f][k][a].s)
					nftnl_set_free(d.p[f][k][a].s);
	nftb_abort(b);
	free(v);
	if (rc == 0)
		*sent = d.sent;
	return rc;
}
