/* SPDX-License-Identifier: MIT */
/*
 * What coopnet-nfq's queue threads saw of each session (docs/control.md "What the queue
 * threads saw, per session"), as the parent polls it once per status interval
 * (nfq_link_poll_traffic) and sends it in "nfq-traffic" messages: the figures of an SS's
 * info_client and of a provider's load. The copy is kept by coopnet-nfq's entry number (the
 * listing gives each session's; an entry keeps its number while it lives), with a hash index
 * by (ID, client) for the lookups. A poll is staged over its messages ("more": true) and
 * applied with the last: a whole listing replaces the copy, a listing of changes ("delta":
 * true) replaces the entries it lists and drops those it names "gone" (docs/authd.md
 * "Per-session counters"): the work per poll follows what changed, not the sessions held.
 * Two entries may share an (ID, client) (an SS's sessions with two SPs that chose the same
 * ID for one client): a lookup finds the lowest-numbered one, the others wait in its chain.
 *
 * The parent is root and this process is not, but a message between our own processes is
 * still checked field by field: a bad entry refuses the whole poll (counted, logged).
 */
#include "engine_status.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine_probe.h"
#include "grow.h"
#include "hidx.h"
#include "log.h"

#define TRAFFIC_MAX 1048576        /* entries in one poll, as coopnet-nfq's STAGE_MAX_SESSIONS */
#define TRAFFIC_ENTRY_MAX 4194304u /* entry numbers below coopnet-nfq's TBL_MAX_SESSIONS */

struct traffic {
	cn_id_t id;
	uint8_t family;
	bool live;
	bool suspect;       /* the drops condition held at its last poll (check_drops) */
	uint8_t client[16];
	uint32_t dup;       /* the next live entry with this (ID, client): number + 1, 0: none */
	uint32_t listed;    /* the poll that last put it in the suspects' list */
	struct cn_status_client c;
	uint64_t c2s_mark;  /* segs_c2s when segs_s2c last moved (0 before any came back) */
};

struct staged {
	uint32_t entry;
	struct traffic t;
};

struct engine_traffic {
	struct traffic *v;     /* by entry number */
	size_t cap;
	struct hidx by_key;    /* (ID, client) -> the lowest-numbered live entry */
	struct staged *st;     /* the poll being received */
	size_t nst, st_cap;
	uint32_t *gone;
	size_t ngone, gone_cap;
	bool delta;
	bool broken;           /* a message of this poll was refused: the rest is dropped too */
	uint32_t *sus;         /* entries whose drops condition holds (SS) */
	size_t nsus, sus_cap;
	uint32_t polls;
	bool ready; /* a whole poll was taken since the engine started */
	uint64_t st_taken_ms;   /* wall time the poll being received was taken (its "taken_ms") */
	uint64_t seen_until_ms; /* ... of the last poll applied: what the copy tells is true up
	                         * to then, not later (engine_traffic_seen_until) */
	cn_id_t *chg;          /* the IDs whose entries the last poll changed (engine_load.c) */
	size_t nchg, chg_cap;
	bool chg_all;          /* a whole listing, or no room: take every ID as changed */
};

static int cmp(const void *a, const void *b)
{
	const struct traffic *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->client, y->client, sizeof(x->client));
}

static uint64_t key_hash(const void *p)
{
	const struct traffic *t = p;
	uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, &t->id, sizeof(t->id));

	h = hidx_bytes_hash(h, &t->family, 1);
	return hidx_bytes_hash(h, t->client, sizeof(t->client));
}

static bool key_eq(const void *a, const void *b)
{
	return cmp(a, b) == 0;
}

static const struct hidx_type key_type = {
	.size = sizeof(struct traffic), .hash = key_hash, .eq = key_eq,
};

static bool get_u64(const json_t *a, size_t i, uint64_t *out)
{
	const json_t *v = json_array_get(a, i);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* [id, "client", last_seen_s, segs_in, segs_out, bytes_in, bytes_out, no_id, wrong_id, other,
 *  entry] */
#define ENTRY_FIELDS 11

static bool parse_entry(const json_t *a, struct staged *s)
{
	const char *client = json_string_value(json_array_get(a, 1));
	struct traffic *t = &s->t;
	uint64_t x[ENTRY_FIELDS];

	if (!json_is_array(a) || json_array_size(a) != ENTRY_FIELDS || !client)
		return false;
	for (size_t i = 0; i < ENTRY_FIELDS; i++)
		if (i != 1 && !get_u64(a, i, &x[i]))
			return false;
	memset(s, 0, sizeof(*s));
	if (x[0] == 0 || x[0] > UINT16_MAX || x[2] > UINT64_MAX / 1000 || x[7] > UINT32_MAX ||
	    x[8] > UINT32_MAX || x[9] > UINT32_MAX || x[10] >= TRAFFIC_ENTRY_MAX)
		return false;
	if (inet_pton(AF_INET, client, t->client) == 1)
		t->family = CN_FAM_INET;
	else if (inet_pton(AF_INET6, client, t->client) == 1)
		t->family = CN_FAM_INET6;
	else
		return false;
	s->entry = (uint32_t)x[10];
	t->id = (cn_id_t)x[0];
	t->c.last_seen_ms = x[2] * 1000;
	t->c.segs_c2s = x[3];
	t->c.segs_s2c = x[4];
	t->c.bytes_c2s = x[5];
	t->c.bytes_s2c = x[6];
	t->c.drops[CN_DROP_NO_ID] = (uint32_t)x[7];
	t->c.drops[CN_DROP_WRONG_ID] = (uint32_t)x[8];
	t->c.drops[CN_DROP_OTHER] = (uint32_t)x[9];
	return true;
}

static int stage_add(struct engine_traffic *tr, const json_t *arr)
{
	size_t i, need = tr->nst + json_array_size(arr);
	const json_t *a;

	if (need > TRAFFIC_MAX)
		return -1;
	if (need > tr->st_cap) {
		struct staged *v = grow_to(tr->st, need, &tr->st_cap, sizeof(*v), 64);

		if (!v)
			return -1;
		tr->st = v;
	}
	json_array_foreach(arr, i, a)
		if (!parse_entry(a, &tr->st[tr->nst++]))
			return -1;
	return 0;
}

/* "gone": entry numbers (a listing of changes only). */
static int stage_gone(struct engine_traffic *tr, const json_t *arr)
{
	size_t i, need;
	const json_t *a;

	if (!arr)
		return 0;
	need = tr->ngone + json_array_size(arr);
	if (!json_is_array(arr) || !tr->delta || need > TRAFFIC_MAX)
		return -1;
	if (need > tr->gone_cap) {
		uint32_t *v = grow_to(tr->gone, need, &tr->gone_cap, sizeof(*v), 64);

		if (!v)
			return -1;
		tr->gone = v;
	}
	json_array_foreach(arr, i, a) {
		if (!json_is_integer(a) || json_integer_value(a) < 0 ||
		    json_integer_value(a) >= TRAFFIC_ENTRY_MAX)
			return -1;
		tr->gone[tr->ngone++] = (uint32_t)json_integer_value(a);
	}
	return 0;
}

/* --- the copy ------------------------------------------------------------------------- */

static const struct traffic *head_of(const struct engine_traffic *tr, const struct traffic *key)
{
	long h = tr->cap ? hidx_find(&tr->by_key, &key_type, tr->v, key) : -1;

	return h < 0 ? NULL : &tr->v[h];
}

/* Room for entry number k (the new ones zero: not live). */
static int room_for(struct engine_traffic *tr, uint32_t k)
{
	size_t old = tr->cap;
	struct traffic *v;

	if (k < tr->cap)
		return 0;
	v = grow_to(tr->v, (size_t)k + 1, &tr->cap, sizeof(*v), 1024);
	if (!v)
		return -1;
	tr->v = v;
	memset(v + old, 0, (tr->cap - old) * sizeof(*v));
	return 0;
}

/* Entry k (live) leaves the index and its (ID, client) chain. */
static void unlink_entry(struct engine_traffic *tr, uint32_t k)
{
	struct traffic *x = &tr->v[k];
	long h = hidx_find(&tr->by_key, &key_type, tr->v, x);

	if (h == (long)k) {
		hidx_remove(&tr->by_key, &key_type, tr->v, k);
		if (x->dup) /* the next one heads the chain; the index fits it (one out, one in) */
			hidx_insert(&tr->by_key, &key_type, tr->v, x->dup - 1);
	} else if (h >= 0) {
		uint32_t p = (uint32_t)h;

		while (tr->v[p].dup && tr->v[p].dup - 1 != k)
			p = tr->v[p].dup - 1;
		tr->v[p].dup = x->dup;
	}
	x->live = false;
	x->dup = 0;
}

/* Entry k (filled, live) joins the index, or its (ID, client) chain in number order. */
static int link_entry(struct engine_traffic *tr, uint32_t k)
{
	struct traffic *x = &tr->v[k];
	long h = hidx_find(&tr->by_key, &key_type, tr->v, x);
	uint32_t p;

	x->dup = 0;
	if (h < 0)
		return hidx_insert(&tr->by_key, &key_type, tr->v, k);
	if ((uint32_t)h > k) {
		hidx_remove(&tr->by_key, &key_type, tr->v, (size_t)h);
		x->dup = (uint32_t)h + 1;
		return hidx_insert(&tr->by_key, &key_type, tr->v, k);
	}
	p = (uint32_t)h;
	while (tr->v[p].dup && tr->v[p].dup - 1 < k)
		p = tr->v[p].dup - 1;
	x->dup = tr->v[p].dup;
	tr->v[p].dup = k + 1;
	return 0;
}

static void clear_copy(struct engine_traffic *tr)
{
	hidx_clear(&tr->by_key);
	if (tr->cap)
		memset(tr->v, 0, tr->cap * sizeof(*tr->v));
	tr->nsus = 0;
}

/* A session whose SYNs (or segments) went out DROP_SEGS times with nothing back: the path
 * may drop its segments (docs/probe.md, "When"); probe its SP (at most once a minute). */
#define DROP_SEGS 3

static int drops_cb(const struct db_session *s, void *arg)
{
	const struct traffic *t = arg;
	size_t n = t->family == CN_FAM_INET ? 4 : 16;

	if ((s->s.family == AF_INET) != (t->family == CN_FAM_INET) ||
	    memcmp(s->s.client, t->client, n) != 0)
		return 0;
	return 1;
}

struct drops_find {
	const struct traffic *t;
	struct engine *e;
};

static int drops_probe_cb(const struct db_session *s, void *arg)
{
	struct drops_find *f = arg;

	if (!drops_cb(s, (void *)f->t))
		return 0;
	engine_probe_drops(f->e, s);
	return 1;
}

/* The counters are the session's whole life: "none back" means none since the last poll in
 * which segs_s2c moved, so a session that worked before the path broke still counts. t is a
 * session of this poll, o its (ID, client)'s entry in the copy before it (NULL: none). An
 * entry the poll does not list keeps its counters, its mark and so its condition. */
static void drops_mark(const struct engine *e, struct traffic *t, const struct traffic *o)
{
	t->c2s_mark = !o ? (t->c.segs_s2c ? t->c.segs_c2s : 0) :
		      o->c.segs_s2c == t->c.segs_s2c ? o->c2s_mark : t->c.segs_c2s;
	t->suspect = e->ss && t->c.segs_c2s >= t->c2s_mark + DROP_SEGS &&
		     (!o ? t->c.segs_s2c == 0 : o->c.segs_s2c == t->c.segs_s2c);
}

static int sus_cmp(const void *a, const void *b, void *arg)
{
	const struct traffic *v = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = cmp(&v[x], &v[y]);

	return c ? c : x < y ? -1 : x > y;
}

static int sus_add(struct engine_traffic *tr, uint32_t k)
{
	uint32_t *v;

	if (tr->v[k].listed == tr->polls)
		return 0;
	if (!(v = grow(tr->sus, tr->nsus, &tr->sus_cap, sizeof(*v), 16)))
		return -1;
	tr->sus = v;
	tr->sus[tr->nsus++] = k;
	tr->v[k].listed = tr->polls;
	return 0;
}

/* The suspects after this poll: the earlier ones still live and suspect, and the poll's;
 * probed in (ID, client) order, as a walk of the sorted copy would. */
static void check_drops(struct engine *e, struct engine_traffic *tr)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->nsus; i++) {
		uint32_t k = tr->sus[i];

		if (tr->v[k].live && tr->v[k].suspect && tr->v[k].listed != tr->polls) {
			tr->v[k].listed = tr->polls;
			tr->sus[n++] = k;
		}
	}
	tr->nsus = n;
	for (size_t i = 0; i < tr->nst; i++) {
		uint32_t k = tr->st[i].entry;

		if (tr->v[k].live && tr->v[k].suspect && sus_add(tr, k) < 0)
			log_warnx("nfq-traffic: out of memory: a drops probe waits for a later poll");
	}
	if (tr->nsus) /* qsort_r must not see a NULL array (UBSan: fuzz_nfq_traffic) */
		qsort_r(tr->sus, tr->nsus, sizeof(*tr->sus), sus_cmp, tr->v);
	for (size_t i = 0; i < tr->nsus; i++) {
		struct drops_find f = { .t = &tr->v[tr->sus[i]], .e = e };

		db_session_foreach_id(e->db, DB_ROLE_SUPERVISOR, f.t->id, drops_probe_cb, &f);
	}
}

/* What the copy held of staged session s: its entry when it held the same (ID, client) there,
 * else the first entry of that (ID, client) (a session listed under another number), NULL. */
static const struct traffic *old_of(const struct engine_traffic *tr, const struct staged *s)
{
	if (s->entry < tr->cap && tr->v[s->entry].live && cmp(&tr->v[s->entry], &s->t) == 0)
		return &tr->v[s->entry];
	return head_of(tr, &s->t);
}

/* An ID whose entries this poll changes (what a lookup by (ID, client) finds may differ). */
static void changed(struct engine_traffic *tr, cn_id_t id)
{
	cn_id_t *v;

	if (tr->chg_all)
		return;
	if (!(v = grow(tr->chg, tr->nchg, &tr->chg_cap, sizeof(*v), 64))) {
		tr->chg_all = true;
		return;
	}
	tr->chg = v;
	tr->chg[tr->nchg++] = id;
}

/* The staged poll into the copy: the marks against the copy before it, then what went, then
 * what the poll lists. -1: out of memory (the copy is then empty until a whole poll). */
static int apply(struct engine *e, struct engine_traffic *tr)
{
	tr->nchg = 0;
	tr->chg_all = !tr->delta;
	for (size_t i = 0; i < tr->nst; i++)
		drops_mark(e, &tr->st[i].t, old_of(tr, &tr->st[i]));
	if (!tr->delta)
		clear_copy(tr);
	for (size_t i = 0; i < tr->ngone; i++)
		if (tr->gone[i] < tr->cap && tr->v[tr->gone[i]].live) {
			changed(tr, tr->v[tr->gone[i]].id);
			unlink_entry(tr, tr->gone[i]);
		}
	for (size_t i = 0; i < tr->nst; i++) {
		uint32_t k = tr->st[i].entry;

		if (room_for(tr, k) < 0)
			return -1;
		changed(tr, tr->st[i].t.id);
		if (tr->v[k].live) {
			changed(tr, tr->v[k].id);
			unlink_entry(tr, k);
		}
		tr->st[i].t.listed = tr->v[k].listed;
		tr->v[k] = tr->st[i].t;
		tr->v[k].live = true;
		if (link_entry(tr, k) < 0)
			return -1;
	}
	tr->polls++;
	check_drops(e, tr);
	return 0;
}

/* When the parent started the listing ("taken_ms" of the first message: wall ms, set by
 * nfq_link_poll_traffic). Missing, 0 or later than now (a clock step): now, the time the
 * message arrived, which is later than the listing and so the engine's old reading. */
static uint64_t poll_taken(const json_t *msg)
{
	const json_t *t = json_object_get(msg, "taken_ms");
	uint64_t now = engine_wall_ms();

	if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
	    (uint64_t)json_integer_value(t) > now)
		return now;
	return (uint64_t)json_integer_value(t);
}

/* {"msg": "nfq-traffic", "first": bool, "more": bool, "sessions": [...], "delta": bool,
 *  "gone": [entry, ...], "taken_ms": wall ms}: "delta" (on the first message) makes it a
 *  listing of changes. */
bool engine_nfq_traffic(struct engine *e, const json_t *msg)
{
	const json_t *arr = json_object_get(msg, "sessions");
	struct engine_traffic *tr;

	if (!e->status)
		return false; /* before the first policy: the next poll */
	if (!e->status->traffic && !(e->status->traffic = calloc(1, sizeof(*tr))))
		return false;
	tr = e->status->traffic;
	if (json_is_true(json_object_get(msg, "first"))) {
		tr->nst = tr->ngone = 0;
		tr->delta = json_is_true(json_object_get(msg, "delta"));
		tr->broken = false;
		tr->st_taken_ms = poll_taken(msg);
	}
	if (tr->broken)
		return false;
	if (!json_is_array(arr) || stage_add(tr, arr) < 0 ||
	    stage_gone(tr, json_object_get(msg, "gone")) < 0) {
		e->counters[CNT_NFQ_TRAFFIC_BAD]++;
		log_warnx("nfq-traffic from the parent: a bad entry or too many: this poll is dropped");
		tr->nst = tr->ngone = 0;
		tr->broken = true; /* a listing of changes lost: the copy lags until a whole one */
		return false;
	}
	if (json_is_true(json_object_get(msg, "more")))
		return false;
	if (tr->delta && !tr->ready) {
		tr->nst = tr->ngone = 0;
		return false; /* changes to a copy this engine never had: the next whole poll */
	}
	if (apply(e, tr) < 0) {
		log_warnx("nfq-traffic: out of memory: the copy waits for the next whole poll");
		clear_copy(tr);
		tr->ready = false;
		tr->nst = tr->ngone = 0;
		return false;
	}
	tr->ready = true;
	tr->seen_until_ms = tr->st_taken_ms;
	tr->nst = tr->ngone = 0;
	return true;
}

bool engine_traffic_find(const struct engine *e, cn_id_t id, const struct cn_coop_addr *client,
			 struct cn_status_client *out)
{
	const struct engine_traffic *t = e->status ? e->status->traffic : NULL;
	struct traffic key = { .id = id, .family = client->family };
	const struct traffic *hit;

	if (!t)
		return false;
	memcpy(key.client, client->addr, sizeof(key.client));
	if (client->family == CN_FAM_INET)
		memset(key.client + 4, 0, sizeof(key.client) - 4);
	if (!(hit = head_of(t, &key)))
		return false;
	*out = hit->c;
	return true;
}

bool engine_traffic_changes(const struct engine *e, const cn_id_t **ids, size_t *n)
{
	const struct engine_traffic *t = e->status ? e->status->traffic : NULL;

	if (!t || t->chg_all)
		return false;
	*ids = t->chg;
	*n = t->nchg;
	return true;
}

bool engine_traffic_ready(const struct engine *e)
{
	return e->status && e->status->traffic && e->status->traffic->ready;
}

uint64_t engine_traffic_seen_until(const struct engine *e)
{
	return engine_traffic_ready(e) ? e->status->traffic->seen_until_ms : 0;
}

void engine_traffic_free(struct engine *e)
{
	struct engine_traffic *t = e->status ? e->status->traffic : NULL;

	if (!t)
		return;
	hidx_free(&t->by_key);
	free(t->v);
	free(t->st);
	free(t->gone);
	free(t->sus);
	free(t->chg);
	free(t);
	e->status->traffic = NULL;
}
