/* SPDX-License-Identifier: MIT */
/* The live session table (table.h): the expiry heap, sync, scans and listing. */
#include <stdlib.h>
#include <string.h>

#include "sesstab_int.h"
#include "grow.h"

/* --- the expiry heap (authd sessions with an expiry) ----------------------------------- */

static void heap_set(struct sess_table *t, size_t pos, struct tbl_heap_el el)
{
	t->heap[pos] = el;
	entry_at(t, el.idx)->heap = (uint32_t)pos + 1;
}

static void heap_up(struct sess_table *t, size_t pos)
{
	struct tbl_heap_el el = t->heap[pos];

	while (pos > 0 && t->heap[(pos - 1) / 2].expires > el.expires) {
		heap_set(t, pos, t->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	heap_set(t, pos, el);
}

static void heap_down(struct sess_table *t, size_t pos)
{
	struct tbl_heap_el el = t->heap[pos];
	size_t c;

	while ((c = 2 * pos + 1) < t->nheap) {
		if (c + 1 < t->nheap && t->heap[c + 1].expires < t->heap[c].expires)
			c++;
		if (t->heap[c].expires >= el.expires)
			break;
		heap_set(t, pos, t->heap[c]);
		pos = c;
	}
	heap_set(t, pos, el);
}

int tbl_heap_reserve(struct sess_table *t, size_t n)
{
	struct tbl_heap_el *v;

	if (t->nheap + n <= t->heap_cap)
		return 0; /* (grow_to would return the array, NULL while none is allocated) */
	v = grow_to(t->heap, t->nheap + n, &t->heap_cap, sizeof(*v), 64);
	if (!v)
		return -1;
	t->heap = v;
	return 0;
}

void tbl_heap_remove(struct sess_table *t, struct tbl_entry *e)
{
	size_t pos;

	if (!e->heap)
		return;
	pos = e->heap - 1;
	e->heap = 0;
	if (pos == --t->nheap)
		return;
	heap_set(t, pos, t->heap[t->nheap]);
	heap_up(t, pos);
	heap_down(t, entry_at(t, t->heap[t->nheap].idx)->heap - 1);
}

/* Put idx in the heap at its expiry, or out of it (config sessions, no expiry). Room was
 * reserved by tbl_reserve. */
void tbl_heap_track(struct sess_table *t, uint32_t idx)
{
	struct tbl_entry *e = entry_at(t, idx);
	uint32_t exp = tbl_entry_expires(e);

	if (e->source != SESS_SRC_AUTHD || exp == 0) {
		tbl_heap_remove(t, e);
		return;
	}
	if (e->heap) {
		t->heap[e->heap - 1].expires = exp;
		heap_up(t, e->heap - 1);
		heap_down(t, e->heap - 1);
		return;
	}
	heap_set(t, t->nheap, (struct tbl_heap_el){.expires = exp, .idx = idx});
	heap_up(t, t->nheap++);
}

/* Calls fn on every live authd entry (by slot). A deletion leaves a tombstone, so the scan
 * of this index stays valid (no rebuild happens inside). */
static void each_authd(struct sess_table *t, void (*fn)(struct sess_table *t, int64_t pos,
							 struct tbl_entry *x, void *arg),
		       void *arg)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	uint32_t i;

	for (i = 0; i <= ix->mask; i++) {
		uint32_t v = atomic_load_explicit(&ix->slot[i], memory_order_relaxed);
		struct tbl_entry *x;

		if (v == SLOT_EMPTY || v == SLOT_TOMB)
			continue;
		x = entry_at(t, slot_idx(v));
		if (x->source == SESS_SRC_AUTHD)
			fn(t, i, x, arg);
	}
}

static void unmark(struct sess_table *t, int64_t pos, struct tbl_entry *x, void *arg)
{
	(void)t, (void)pos, (void)arg;
	x->flags &= (uint8_t)~TE_MARK;
}

static void sweep_unmarked(struct sess_table *t, int64_t pos, struct tbl_entry *x, void *arg)
{
	if ((x->flags & (TE_MARK | TE_AHEAD)) == (TE_MARK | TE_AHEAD)) {
		/* kept, but not what it accepted ahead: the sync did not make that its ID */
		tbl_withdraw(t, &x->key, (cn_id_t)(atomic_load_explicit(&x->ids,
						   memory_order_relaxed) >> 16));
		return;
	}
	if (x->flags & TE_MARK)
		return;
	tbl_drop_authd(t, pos);
	++*(size_t *)arg;
}

int tbl_sync_authd(struct sess_table *t, const struct sess_list *l, size_t *removed)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	size_t i, fresh = 0, gone = 0;
	uint32_t ins;

	for (i = 0; i < l->n; i++)
		if (tbl_find_slot(t, ix, &l->v[i].key, &ins) < 0)
			fresh++;
	if (tbl_reserve(t, fresh) < 0 || tbl_heap_reserve(t, l->n) < 0)
		return -1;
	each_authd(t, unmark, NULL);
	for (i = 0; i < l->n; i++) {
		struct sess_entry e = l->v[i];

		e.source = SESS_SRC_AUTHD;
		tbl_put(t, &e); /* reserved: cannot fail */
	}
	each_authd(t, sweep_unmarked, &gone);
	tbl_maybe_shrink(t);
	if (removed)
		*removed = gone;
	return 0;
}

struct del_if_arg {
	bool (*match)(const struct tbl_entry *e, const void *arg);
	const void *arg;
	size_t n;
};

static void del_matching(struct sess_table *t, int64_t pos, struct tbl_entry *x, void *arg)
{
	struct del_if_arg *a = arg;

	if (!a->match(x, a->arg))
		return;
	tbl_drop_authd(t, pos);
	a->n++;
}

size_t tbl_del_if(struct sess_table *t, bool (*match)(const struct tbl_entry *e, const void *arg),
		  const void *arg)
{
	struct del_if_arg a = {.match = match, .arg = arg};

	each_authd(t, del_matching, &a);
	tbl_maybe_shrink(t);
	return a.n;
}

size_t tbl_expire(struct sess_table *t, uint64_t now, size_t max, bool *more)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	size_t n = 0;
	uint32_t ins;

	while (t->nheap > 0 && t->heap[0].expires <= now && n < max) {
		struct tbl_entry *x = entry_at(t, t->heap[0].idx);

		tbl_drop_authd(t, tbl_find_slot(t, ix, &x->key, &ins));
		n++;
	}
	if (more)
		*more = t->nheap > 0 && t->heap[0].expires <= now;
	tbl_maybe_shrink(t);
	return n;
}

/* --- change notes (kernel mode; sesstab.c notes them) ----------------------------------- */

void tbl_changes_track(struct sess_table *t, bool on)
{
	t->chg_on = on;
	tbl_changes_clear(t);
}

const struct tbl_change *tbl_changes(const struct sess_table *t, size_t *n, bool *lost)
{
	*n = t->nchg;
	*lost = t->chg_lost;
	return t->chg_lost ? NULL : t->chg;
}

void tbl_changes_clear(struct sess_table *t)
{
	t->nchg = 0;
	t->chg_lost = false;
	if (t->chg_cap > 256) { /* a big change-set does not keep its memory */
		free(t->chg);
		t->chg = NULL;
		t->chg_cap = 0;
	}
}

const struct tbl_entry *tbl_next(const struct sess_table *t, size_t *pos)
{
	for (; *pos < t->hwm; (*pos)++) {
		const struct tbl_entry *x = entry_at(t, (uint32_t)*pos);

		if (x->flags & TE_LIVE) {
			(*pos)++;
			return x;
		}
	}
	return NULL;
}

/* The counters of x, hashed: a pass stamps x when they differ from the last pass's. */
static uint64_t counters_sig(const struct tbl_entry *x)
{
	uint64_t v[8] = {
		atomic_load_explicit(&x->last_seen, memory_order_relaxed),
		atomic_load_explicit(&x->segs[0], memory_order_relaxed),
		atomic_load_explicit(&x->segs[1], memory_order_relaxed),
		atomic_load_explicit(&x->bytes[0], memory_order_relaxed),
		atomic_load_explicit(&x->bytes[1], memory_order_relaxed),
		atomic_load_explicit(&x->drops[0], memory_order_relaxed),
		atomic_load_explicit(&x->drops[1], memory_order_relaxed),
		atomic_load_explicit(&x->drops[2], memory_order_relaxed),
	};
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < 8; i++) {
		h ^= v[i] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
		h *= 0xff51afd7ed558ccdULL;
	}
	return h;
}

uint32_t tbl_gen_pass(struct sess_table *t)
{
	uint32_t g = t->gen;

	for (uint32_t i = 0; i < t->hwm; i++) {
		struct tbl_entry *x = entry_at(t, i);
		uint64_t s;

		if (!(x->flags & TE_LIVE))
			continue;
		s = counters_sig(x);
		if (s != x->sig) {
			x->sig = s;
			x->gen = g;
		}
	}
	t->gen = g + 1 ? g + 1 : 1; /* 2^32 passes: over a century at one a second */
	return g;
}

const struct tbl_entry *tbl_next_changed(const struct sess_table *t, size_t *pos,
					 uint32_t since, bool *gone)
{
	for (; *pos < t->hwm; (*pos)++) {
		const struct tbl_entry *x = entry_at(t, (uint32_t)*pos);

		if (x->gen > since) {
			*gone = !(x->flags & TE_LIVE);
			(*pos)++;
			return x;
		}
	}
	return NULL;
}

void tbl_entry_to_session(const struct tbl_entry *e, struct cn_session *out)
{
	memset(out, 0, sizeof(*out));
	out->family = e->key.family;
	memcpy(out->client, e->key.client, 16);
	memcpy(out->service, e->key.service, 16);
	out->port = e->key.port;
	out->id = tbl_entry_id(e);
	memcpy(out->vnic, e->vnic, sizeof(out->vnic));
	out->expires = tbl_entry_expires(e);
}

int tbl_to_list(const struct sess_table *t, struct sess_list *l)
{
	const struct tbl_entry *x;
	size_t pos = 0;

	while ((x = tbl_next(t, &pos))) {
		struct sess_entry e = {.key = x->key, .id = tbl_entry_id(x), .source = x->source,
				       .used = 1, .expires = tbl_entry_expires(x)};

		e.prev_id = tbl_entry_prev(x, &e.prev_until);
		for (int d = 0; d < 2; d++) {
			e.segs[d] = atomic_load_explicit(&x->segs[d], memory_order_relaxed);
			e.bytes[d] = atomic_load_explicit(&x->bytes[d], memory_order_relaxed);
		}
		for (int r = 0; r < 3; r++)
			e.drops[r] = atomic_load_explicit(&x->drops[r], memory_order_relaxed);
		memcpy(e.vnic, x->vnic, sizeof(e.vnic));
		if (sess_list_push(l, &e) < 0)
			return -1;
	}
	return 0;
}

struct sess_table *tbl_build(const struct sess_list *sessions, const struct svc_list *svcs)
{
	struct sess_table *t = tbl_new(NULL);
	size_t i;

	if (!t || tbl_set_services(t, svcs) < 0) {
		tbl_free(t);
		return NULL;
	}
	for (i = 0; sessions && i < sessions->n; i++) {
		if (tbl_put(t, &sessions->v[i]) < 0) {
			tbl_free(t);
			return NULL;
		}
	}
	return t;
}
