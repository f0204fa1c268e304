/* SPDX-License-Identifier: MIT */
/* The live session table (table.h): lock-free readers, one writer, changes in place. */
#include "sesstab_int.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

/* 64-bit mix (splitmix64 finaliser) over the key, seeded per table so that a remote peer
 * cannot choose addresses that collide. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t hash_bytes(uint64_t seed, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = seed, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = mix(h ^ w);
	}
	w = 0;
	memcpy(&w, b + i, n - i);
	return mix(h ^ w ^ n);
}

static struct tbl_index *index_new(uint32_t slots)
{
	struct tbl_index *ix = calloc(1, sizeof(*ix) + (size_t)slots * sizeof(ix->slot[0]));

	if (ix)
		ix->mask = slots - 1;
	return ix;
}

static void index_free(void *p)
{
	free(p);
}

static void retire(struct sess_table *t, void *p, void (*fn)(void *))
{
	if (t->rcu)
		rcu_retire(t->rcu, p, fn);
	else
		fn(p);
}

static uint64_t unix_now(void)
{
	return (uint64_t)time(NULL);
}

struct sess_table *tbl_new(struct rcu *rcu)
{
	struct sess_table *t = calloc(1, sizeof(*t));
	struct tbl_index *ix;

	if (!t)
		return NULL;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
	t->rcu = rcu;
	t->clock = unix_now;
	t->gen = 1;
	ix = index_new(MIN_SLOTS);
	if (!ix) {
		free(t);
		return NULL;
	}
	atomic_init(&t->index, ix);
	sess_list_init(&t->cfg);
	return t;
}

void tbl_free(struct sess_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < TBL_MAX_CHUNKS; i++)
		free(atomic_load(&t->chunk[i]));
	free(atomic_load(&t->index));
	free(atomic_load(&t->svcs));
	free(t->pend);
	free(t->heap);
	free(t->chg);
	sess_list_clear(&t->cfg);
	free(t);
}

uint64_t tbl_key_hash(const struct sess_table *t, const struct sess_key *k)
{
	return hash_bytes(t->seed, k, sizeof(*k));
}

/* --- readers --------------------------------------------------------------------------- */

const struct tbl_entry *tbl_lookup(const struct sess_table *t, const struct sess_key *k)
{
	const struct tbl_index *ix;
	uint32_t i, probes;
	uint64_t h;

	if (!t)
		return NULL;
	ix = atomic_load_explicit(&t->index, memory_order_acquire);
	h = hash_bytes(t->seed, k, sizeof(*k));
	i = (uint32_t)h & ix->mask;
	/* at most 3/4 of the slots are used: an empty one is always reached; bound it anyway */
	for (probes = 0; probes <= ix->mask; probes++) {
		uint32_t v = atomic_load_explicit(&ix->slot[i], memory_order_acquire);

		if (v == SLOT_EMPTY)
			return NULL;
		if (slot_match(v, h)) {
			const struct tbl_entry *e = entry_at(t, slot_idx(v));

			if (memcmp(&e->key, k, sizeof(*k)) == 0)
				return e;
		}
		i = (i + 1) & ix->mask;
	}
	return NULL;
}

bool tbl_has_services(const struct sess_table *t)
{
	const struct svc_set *s = t ? atomic_load_explicit(&t->svcs, memory_order_acquire) : NULL;

	return s && s->count > 0;
}

bool tbl_has_service(const struct sess_table *t, int family, const uint8_t *addr, uint16_t port)
{
	const struct svc_set *s = t ? atomic_load_explicit(&t->svcs, memory_order_acquire) : NULL;
	struct svc_entry k;
	uint32_t i, probes;

	if (!s || s->count == 0)
		return false;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)family;
	k.used = 1;
	k.port = port;
	memcpy(k.addr, addr, family == AF_INET ? 4 : 16);
	i = (uint32_t)hash_bytes(t->seed, &k, sizeof(k)) & s->mask;
	for (probes = 0; probes <= s->mask; probes++) {
		if (!s->v[i].used)
			return false;
		if (memcmp(&s->v[i], &k, sizeof(k)) == 0)
			return true;
		i = (i + 1) & s->mask;
	}
	return false;
}

/* --- change notes (kernel mode) ------------------------------------------------------- */

/* The session with key k changes; before, it was x's (NULL: none). */
static void note(struct sess_table *t, const struct sess_key *k, const struct tbl_entry *x)
{
	if (!t->chg_on || t->chg_lost)
		return;
	if (t->nchg == t->chg_cap) {
		struct tbl_change *v = NULL;

		/* capacities 16, 32, ... TBL_MAX_CHANGES (a power of two): no room beyond */
		if (t->nchg < TBL_MAX_CHANGES)
			v = grow(t->chg, t->nchg, &t->chg_cap, sizeof(*v), 16);
		if (!v) {
			t->chg_lost = true;
			return;
		}
		t->chg = v;
	}
	t->chg[t->nchg] = (struct tbl_change){
		.key = *k, .seq = (uint32_t)t->nchg,
		.old_id = x ? 0x10000u | tbl_entry_id(x) : 0,
		.old_prev = x && (atomic_load_explicit(&x->ids, memory_order_relaxed) >> 16) ?
			    0x10000u | (atomic_load_explicit(&x->ids, memory_order_relaxed) >> 16) : 0};
	t->nchg++;
}

/* --- entries --------------------------------------------------------------------------- */

size_t tbl_reclaim(struct sess_table *t)
{
	while (t->pend_head < t->npend && (!t->rcu || rcu_past(t->rcu, t->pend[t->pend_head].epoch))) {
		struct tbl_entry *e = entry_at(t, t->pend[t->pend_head++].idx);

		e->heap = t->free_head;
		t->free_head = t->pend[t->pend_head - 1].idx + 1;
	}
	if (t->pend_head == t->npend)
		t->pend_head = t->npend = 0;
	return t->npend - t->pend_head;
}

/* An unlinked entry: reused after its grace period. */
static void entry_retire(struct sess_table *t, uint32_t idx)
{
	if (t->npend == t->pend_cap) {
		struct tbl_pending *v = NULL;

		if (t->pend_head > 0) { /* compact first */
			memmove(t->pend, t->pend + t->pend_head,
				(t->npend - t->pend_head) * sizeof(*t->pend));
			t->npend -= t->pend_head;
			t->pend_head = 0;
		} else if ((v = grow(t->pend, t->npend, &t->pend_cap, sizeof(*v), 256))) {
			t->pend = v;
		} else {
			/* no memory to remember it: never reuse it (a leak of one entry) */
			return;
		}
	}
	t->pend[t->npend++] = (struct tbl_pending){
		.idx = idx, .epoch = t->rcu ? rcu_bump(t->rcu) : 0};
	if (!t->rcu)
		tbl_reclaim(t);
}

/* Entries free now, up to need (counting fresh ones in allocated chunks). */
static size_t free_entries(const struct sess_table *t, size_t need)
{
	size_t n = 0;
	uint32_t f = t->free_head;

	while (f && n < need) {
		n++;
		f = entry_at(t, f - 1)->heap;
	}
	return n;
}

static int chunks_reserve(struct sess_table *t, size_t n)
{
	size_t fresh = n - free_entries(t, n), end = (size_t)t->hwm + fresh, c;

	if (end > TBL_MAX_SESSIONS)
		return -1;
	for (c = t->hwm / TBL_CHUNK; c < (end + TBL_CHUNK - 1) / TBL_CHUNK; c++) {
		struct tbl_entry *v;

		if (atomic_load_explicit(&t->chunk[c], memory_order_relaxed))
			continue;
		v = calloc(TBL_CHUNK, sizeof(*v));
		if (!v)
			return -1;
		atomic_store_explicit(&t->chunk[c], v, memory_order_release);
	}
	return 0;
}

static uint32_t entry_alloc(struct sess_table *t)
{
	uint32_t idx;

	if (t->free_head) {
		idx = t->free_head - 1;
		t->free_head = entry_at(t, idx)->heap;
		entry_at(t, idx)->heap = 0;
		return idx;
	}
	return t->hwm++;
}

/* --- the index ------------------------------------------------------------------------- */

/* The slot holding k, or -1; *ins gets the slot where k would go (first tombstone or the
 * empty slot that ended the probe). */
int64_t tbl_find_slot(const struct sess_table *t, const struct tbl_index *ix,
			 const struct sess_key *k, uint32_t *ins)
{
	uint64_t h = hash_bytes(t->seed, k, sizeof(*k));
	uint32_t i = (uint32_t)h & ix->mask, probes;
	bool have_ins = false;

	for (probes = 0; probes <= ix->mask; probes++) {
		uint32_t v = atomic_load_explicit(&ix->slot[i], memory_order_relaxed);

		if (v == SLOT_EMPTY) {
			if (!have_ins)
				*ins = i;
			return -1;
		}
		if (v == SLOT_TOMB) {
			if (!have_ins)
				*ins = i, have_ins = true;
		} else if (slot_match(v, h) && !memcmp(&entry_at(t, slot_idx(v))->key, k, sizeof(*k))) {
			return i;
		}
		i = (i + 1) & ix->mask;
	}
	return -1; /* not reached: the index always has empty slots */
}

/* A new index of slots slots with every live entry; the old one is retired. */
static int index_rebuild(struct sess_table *t, uint32_t slots)
{
	struct tbl_index *old = atomic_load_explicit(&t->index, memory_order_relaxed);
	struct tbl_index *ix = index_new(slots);
	uint32_t i, ins = 0;

	if (!ix)
		return -1;
	for (i = 0; i <= old->mask; i++) {
		uint32_t v = atomic_load_explicit(&old->slot[i], memory_order_relaxed);

		if (v == SLOT_EMPTY || v == SLOT_TOMB)
			continue;
		tbl_find_slot(t, ix, &entry_at(t, slot_idx(v))->key, &ins);
		atomic_store_explicit(&ix->slot[ins], v, memory_order_relaxed);
	}
	atomic_store_explicit(&t->index, ix, memory_order_release);
	t->used = t->count;
	retire(t, old, index_free);
	return 0;
}

static uint32_t slots_for(size_t n)
{
	uint32_t s = MIN_SLOTS;

	while (s < 2 * n && s < (1u << 31))
		s <<= 1;
	return s;
}

int tbl_reserve(struct sess_table *t, size_t n)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);

	if (n > TBL_MAX_SESSIONS || t->count + n > TBL_MAX_SESSIONS)
		return -1;
	if (chunks_reserve(t, n) < 0 || tbl_heap_reserve(t, n) < 0)
		return -1;
	/* at most 3/4 of the slots in use (tombstones count); a rebuild leaves at most 1/2, so
	 * the next one is Omega(n) changes away */
	if (((uint64_t)t->used + n) * 4 > ((uint64_t)ix->mask + 1) * 3)
		return index_rebuild(t, slots_for(t->count + n));
	return 0;
}

/* --- changes --------------------------------------------------------------------------- */

static uint32_t clamp_expires(uint64_t expires)
{
	return expires > UINT32_MAX ? 0 : (uint32_t)expires;
}

/* The values of e into x (live, key already set). renewal: a live session gets e's ID, and
 * a different old one stays valid for the grace time. */
static void entry_set(struct sess_table *t, uint32_t idx, const struct sess_entry *e,
		      bool renewal)
{
	struct tbl_entry *x = entry_at(t, idx);
	uint32_t old = atomic_load_explicit(&x->ids, memory_order_relaxed) & 0xffff;

	if (renewal && old != e->id) {
		/* the time first: a reader that sees the new pair sees a valid window */
		atomic_store_explicit(&x->prev_until,
				      clamp_expires(t->clock() + TBL_RENEW_GRACE_S),
				      memory_order_relaxed);
		atomic_store_explicit(&x->ids, e->id | old << 16, memory_order_release);
	} else if (!renewal) {
		atomic_store_explicit(&x->ids, e->id, memory_order_relaxed);
	}
	if (!renewal || old != e->id) {
		x->flags &= (uint8_t)~TE_AHEAD; /* promoted (or replaced): a previous ID now */
		x->gen = t->gen; /* a new session or ID: the next listing of changes has it */
	}
	atomic_store_explicit(&x->expires, clamp_expires(e->expires), memory_order_relaxed);
	x->source = e->source;
	memcpy(x->vnic, e->vnic, sizeof(x->vnic));
	x->vnic[sizeof(x->vnic) - 1] = '\0';
	tbl_heap_track(t, idx);
}

/* A new session's counters (the entry may be a reused one: no reader holds it). */
static void stats_clear(struct tbl_entry *x)
{
	int i;

	atomic_store_explicit(&x->last_seen, 0, memory_order_relaxed);
	for (i = 0; i < 2; i++) {
		atomic_store_explicit(&x->segs[i], 0, memory_order_relaxed);
		atomic_store_explicit(&x->bytes[i], 0, memory_order_relaxed);
	}
	for (i = 0; i < 3; i++)
		atomic_store_explicit(&x->drops[i], 0, memory_order_relaxed);
}

static uint32_t slot_entry(const struct sess_table *t, int64_t pos)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);

	return slot_idx(atomic_load_explicit(&ix->slot[pos], memory_order_relaxed));
}

/* Does putting e over the live entry x leave kernel mode's elements as they are (no note)?
 * The same source and ID (so the same IDs and grace: entry_set changes neither), live before
 * and after (an expired entry's elements are gone). Only its expiry or vNIC changes: a
 * session-sync of the sessions the table holds notes nothing, where it noted every key and,
 * beyond TBL_MAX_CHANGES, made a full sync (a dump of every set: O(n^2) on this kernel, longer
 * than the parent's time-out at 30,000 sessions on a loaded machine). */
static bool same_elements(const struct sess_table *t, const struct tbl_entry *x,
			  const struct sess_entry *e)
{
	uint64_t now = t->clock();
	uint32_t was = tbl_entry_expires(x);

	return x->source == e->source && tbl_entry_id(x) == e->id && (!was || was > now) &&
	       (!e->expires || e->expires > now);
}

int tbl_put(struct sess_table *t, const struct sess_entry *e)
{
	struct tbl_index *ix;
	struct tbl_entry *x;
	uint32_t ins = 0, idx;
	int64_t pos;

	if (tbl_reserve(t, 1) < 0)
		return -1;
	ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	pos = tbl_find_slot(t, ix, &e->key, &ins);
	if (pos >= 0) {
		idx = slot_entry(t, pos);
		x = entry_at(t, idx);
		x->flags |= TE_MARK;
		if (e->source == SESS_SRC_CONFIG && x->source == SESS_SRC_AUTHD) {
			x->flags |= TE_OVER_CONFIG; /* hidden until the authd one goes */
			return 0;
		}
		if (e->source == SESS_SRC_AUTHD && x->source == SESS_SRC_CONFIG)
			x->flags |= TE_OVER_CONFIG;
		if (!same_elements(t, x, e))
			note(t, &e->key, x);
		entry_set(t, idx, e, true);
		return 0;
	}
	note(t, &e->key, NULL);
	idx = entry_alloc(t);
	x = entry_at(t, idx);
	x->key = e->key;
	x->flags = TE_LIVE | TE_MARK;
	x->heap = 0;
	atomic_store_explicit(&x->ids, 0, memory_order_relaxed);
	atomic_store_explicit(&x->prev_until, 0, memory_order_relaxed);
	stats_clear(x);
	entry_set(t, idx, e, false);
	if (atomic_load_explicit(&ix->slot[ins], memory_order_relaxed) == SLOT_EMPTY)
		t->used++;
	/* publish: a reader that finds the slot sees the whole entry */
	atomic_store_explicit(&ix->slot[ins], slot_make(idx, tbl_key_hash(t, &e->key)),
			      memory_order_release);
	t->count++;
	return 0;
}

/* The live authd entry of k, or NULL. */
static struct tbl_entry *authd_entry(struct sess_table *t, const struct sess_key *k)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	uint32_t ins;
	int64_t pos = tbl_find_slot(t, ix, k, &ins);
	struct tbl_entry *x = pos < 0 ? NULL : entry_at(t, slot_entry(t, pos));

	return x && x->source == SESS_SRC_AUTHD ? x : NULL;
}

int tbl_accept(struct sess_table *t, const struct sess_key *k, cn_id_t id)
{
	struct tbl_entry *x = authd_entry(t, k);
	uint32_t cur;

	if (!x || id == 0 || tbl_entry_id(x) == id)
		return 0;
	note(t, k, x);
	cur = atomic_load_explicit(&x->ids, memory_order_relaxed) & 0xffff;
	/* the time first, as for a renewal: a reader that sees the new pair sees a valid window */
	atomic_store_explicit(&x->prev_until, clamp_expires(t->clock() + TBL_ACCEPT_S),
			      memory_order_relaxed);
	atomic_store_explicit(&x->ids, cur | (uint32_t)id << 16, memory_order_release);
	x->flags |= TE_AHEAD;
	return 1;
}

int tbl_withdraw(struct sess_table *t, const struct sess_key *k, cn_id_t id)
{
	struct tbl_entry *x = authd_entry(t, k);
	uint32_t ids;

	if (!x || !(x->flags & TE_AHEAD))
		return 0;
	ids = atomic_load_explicit(&x->ids, memory_order_relaxed);
	if (id == 0 || ids >> 16 != id)
		return 0;
	note(t, k, x);
	atomic_store_explicit(&x->ids, ids & 0xffff, memory_order_release);
	atomic_store_explicit(&x->prev_until, 0, memory_order_relaxed);
	x->flags &= (uint8_t)~TE_AHEAD;
	return 1;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct sess_entry *)a)->key, &((const struct sess_entry *)b)->key,
		      sizeof(struct sess_key));
}

static const struct sess_entry *config_find(const struct sess_table *t, const struct sess_key *k)
{
	struct sess_entry probe = {.key = *k};

	return t->cfg.n ? bsearch(&probe, t->cfg.v, t->cfg.n, sizeof(probe), key_cmp) : NULL;
}

/* Take the entry in slot pos out of the table. */
static void unlink_slot(struct sess_table *t, int64_t pos)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	uint32_t idx = slot_entry(t, pos);
	struct tbl_entry *x = entry_at(t, idx);

	note(t, &x->key, x);
	tbl_heap_remove(t, x);
	x->flags = 0;
	x->gen = t->gen; /* the next listing of changes reports it gone */
	atomic_store_explicit(&ix->slot[pos], SLOT_TOMB, memory_order_release);
	t->count--;
	entry_retire(t, idx);
}

/* After deletions: a smaller index when mostly empty (a failure keeps the bigger one). Not
 * inside a batch, whose reservation it would undo. */
void tbl_maybe_shrink(struct sess_table *t)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);

	if (ix->mask + 1 > MIN_SLOTS && (uint64_t)t->count * 8 < (uint64_t)ix->mask + 1)
		index_rebuild(t, slots_for(t->count));
}

/* The authd session in slot pos goes: the config one with its key comes back, if any. */
void tbl_drop_authd(struct sess_table *t, int64_t pos)
{
	uint32_t idx = slot_entry(t, pos);
	struct tbl_entry *x = entry_at(t, idx);
	const struct sess_entry *c;

	if ((x->flags & TE_OVER_CONFIG) && (c = config_find(t, &x->key))) {
		x->flags &= (uint8_t)~TE_OVER_CONFIG;
		note(t, &x->key, x);
		entry_set(t, idx, c, false);
		return;
	}
	unlink_slot(t, pos);
}

bool tbl_del(struct sess_table *t, const struct sess_key *k)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	uint32_t ins;
	int64_t pos = tbl_find_slot(t, ix, k, &ins);

	if (pos < 0 || entry_at(t, slot_entry(t, pos))->source != SESS_SRC_AUTHD)
		return false;
	tbl_drop_authd(t, pos);
	tbl_maybe_shrink(t);
	return true;
}

/* A config session no longer in the config: gone, or no longer under an authd one. */
static void config_gone(struct sess_table *t, const struct sess_key *k)
{
	struct tbl_index *ix = atomic_load_explicit(&t->index, memory_order_relaxed);
	uint32_t ins;
	int64_t pos = tbl_find_slot(t, ix, k, &ins);
	struct tbl_entry *x;

	if (pos < 0)
		return;
	x = entry_at(t, slot_entry(t, pos));
	if (x->source == SESS_SRC_AUTHD)
		x->flags &= (uint8_t)~TE_OVER_CONFIG;
	else
		unlink_slot(t, pos);
}

int tbl_set_config(struct sess_table *t, const struct sess_list *cfg)
{
	struct sess_list next;
	size_t i;

	if (sess_list_copy(&next, cfg) < 0 || sess_list_dedup(&next) < 0 ||
	    tbl_reserve(t, next.n) < 0) {
		sess_list_clear(&next);
		return -1;
	}
	if (next.n > 0) /* an empty list has no array: qsort and bsearch take no NULL */
		qsort(next.v, next.n, sizeof(*next.v), key_cmp);
	for (i = 0; i < t->cfg.n; i++)
		if (next.n == 0 || !bsearch(&t->cfg.v[i], next.v, next.n, sizeof(*next.v), key_cmp))
			config_gone(t, &t->cfg.v[i].key);
	sess_list_clear(&t->cfg);
	t->cfg = next;
	for (i = 0; i < next.n; i++) {
		next.v[i].source = SESS_SRC_CONFIG;
		tbl_put(t, &next.v[i]); /* reserved: cannot fail */
	}
	tbl_maybe_shrink(t);
	return 0;
}

int tbl_set_services(struct sess_table *t, const struct svc_list *svcs)
{
	uint32_t slots = 16, i;
	struct svc_set *s;
	size_t n = svcs ? svcs->n : 0, j;

	while (slots < 2 * n && slots < (1u << 30))
		slots <<= 1;
	s = calloc(1, sizeof(*s) + slots * sizeof(s->v[0]));
	if (!s)
		return -1;
	s->mask = slots - 1;
	for (j = 0; j < n; j++) {
		struct svc_entry k = svcs->v[j];

		k.used = 1;
		i = (uint32_t)hash_bytes(t->seed, &k, sizeof(k)) & s->mask;
		while (s->v[i].used && memcmp(&s->v[i], &k, sizeof(k)) != 0)
			i = (i + 1) & s->mask;
		if (!s->v[i].used)
			s->count++;
		s->v[i] = k;
	}
	retire(t, atomic_exchange(&t->svcs, s), index_free);
	return 0;
}
