/* SPDX-License-Identifier: MIT */
/*
 * What coopnet-nfq's queue threads saw of each session (docs/control.md "What the queue
 * threads saw, per session"), as the parent polls it once per status interval
 * (nfq_link_poll_traffic) and sends it in "nfq-traffic" messages: the figures of an SS's
 * info_client. Kept as one array sorted by (ID, client) and replaced whole by each poll:
 * chunks ("more": true) are staged, the last one swaps.
 *
 * The parent is root and this process is not, but a message between our own processes is
 * still checked field by field: a bad entry refuses the whole poll (counted, logged).
 */
#include "engine_status.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine_probe.h"
#include "log.h"

#define TRAFFIC_MAX 1048576 /* entries, as coopnet-nfq's STAGE_MAX_SESSIONS */

struct traffic {
	cn_id_t id;
	uint8_t family;
	uint8_t client[16];
	struct cn_status_client c;
	uint64_t c2s_mark;  /* segs_c2s when segs_s2c last moved (0 before any came back) */
};

struct traffic_tab {
	struct traffic *v;
	size_t n, cap;
};

struct engine_traffic {
	struct traffic_tab cur, stage;
	bool ready; /* a whole poll was taken since the engine started */
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

static bool get_u64(const json_t *a, size_t i, uint64_t *out)
{
	const json_t *v = json_array_get(a, i);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* [id, "client", last_seen_s, segs_in, segs_out, bytes_in, bytes_out, no_id, wrong_id, other] */
static bool parse_entry(const json_t *a, struct traffic *t)
{
	const char *client = json_string_value(json_array_get(a, 1));
	uint64_t x[10];

	if (!json_is_array(a) || json_array_size(a) != 10 || !client)
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 1 && !get_u64(a, i, &x[i]))
			return false;
	memset(t, 0, sizeof(*t));
	if (x[0] == 0 || x[0] > UINT16_MAX || x[2] > UINT64_MAX / 1000 || x[7] > UINT32_MAX ||
	    x[8] > UINT32_MAX || x[9] > UINT32_MAX)
		return false;
	if (inet_pton(AF_INET, client, t->client) == 1)
		t->family = CN_FAM_INET;
	else if (inet_pton(AF_INET6, client, t->client) == 1)
		t->family = CN_FAM_INET6;
	else
		return false;
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

static int stage_add(struct traffic_tab *tab, const json_t *arr)
{
	struct traffic_tab stage = *tab;
	int r = 0;

	size_t i;
	const json_t *a;

	if (stage.n + json_array_size(arr) > TRAFFIC_MAX)
		return -1;
	if (stage.n + json_array_size(arr) > stage.cap) {
		size_t cap = (stage.n + json_array_size(arr)) * 2;
		struct traffic *v = realloc(stage.v, cap * sizeof(*v));

		if (!v)
			return -1;
		stage.v = v;
		stage.cap = cap;
	}
	json_array_foreach(arr, i, a)
		if (!parse_entry(a, &stage.v[stage.n++])) {
			r = -1;
			break;
		}
	*tab = stage;
	return r;
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
 * which segs_s2c moved, so a session that worked before the path broke still counts. */
static void check_drops(struct engine *e, struct traffic_tab *cur, const struct traffic_tab *old)
{
	for (size_t i = 0; i < cur->n; i++) {
		struct traffic *t = &cur->v[i];
		const struct traffic *o = old->n ? bsearch(t, old->v, old->n, sizeof(*t), cmp) : NULL;
		struct drops_find f = { .t = t, .e = e };

		t->c2s_mark = !o ? (t->c.segs_s2c ? t->c.segs_c2s : 0) :
			      o->c.segs_s2c == t->c.segs_s2c ? o->c2s_mark : t->c.segs_c2s;
		if (e->ss && t->c.segs_c2s >= t->c2s_mark + DROP_SEGS &&
		    (!o ? t->c.segs_s2c == 0 : o->c.segs_s2c == t->c.segs_s2c))
			db_session_foreach_id(e->db, DB_ROLE_SUPERVISOR, t->id, drops_probe_cb, &f);
	}
}

/* {"msg": "nfq-traffic", "first": bool, "more": bool, "sessions": [...]} */
bool engine_nfq_traffic(struct engine *e, const json_t *msg)
{
	const json_t *arr = json_object_get(msg, "sessions");
	struct engine_traffic *t;
	struct traffic_tab x;

	if (!e->status)
		return false; /* before the first policy: the next poll */
	if (!e->status->traffic && !(e->status->traffic = calloc(1, sizeof(*t))))
		return false;
	t = e->status->traffic;
	if (json_is_true(json_object_get(msg, "first")))
		t->stage.n = 0;
	if (!json_is_array(arr) || stage_add(&t->stage, arr) < 0) {
		e->counters[CNT_NFQ_TRAFFIC_BAD]++;
		log_warnx("nfq-traffic from the parent: a bad entry or too many: this poll is dropped");
		t->stage.n = 0;
		return false;
	}
	if (json_is_true(json_object_get(msg, "more")))
		return false;
	if (t->stage.n) /* an empty poll has no array: qsort must not see NULL */
		qsort(t->stage.v, t->stage.n, sizeof(*t->stage.v), cmp);
	x = t->cur;
	t->cur = t->stage;
	t->stage = x;
	t->ready = true;
	check_drops(e, &t->cur, &t->stage); /* the previous poll, until the next one stages */
	t->stage.n = 0;
	return true;
}

bool engine_traffic_find(const struct engine *e, cn_id_t id, const struct cn_coop_addr *client,
			 struct cn_status_client *out)
{
	const struct engine_traffic *t = e->status ? e->status->traffic : NULL;
	struct traffic key = { .id = id, .family = client->family }, *hit;

	if (!t || !t->cur.n)
		return false;
	memcpy(key.client, client->addr, sizeof(key.client));
	if (client->family == CN_FAM_INET)
		memset(key.client + 4, 0, sizeof(key.client) - 4);
	hit = bsearch(&key, t->cur.v, t->cur.n, sizeof(*t->cur.v), cmp);
	if (!hit)
		return false;
	*out = hit->c;
	return true;
}

bool engine_traffic_ready(const struct engine *e)
{
	return e->status && e->status->traffic && e->status->traffic->ready;
}

void engine_traffic_free(struct engine *e)
{
	struct engine_traffic *t = e->status ? e->status->traffic : NULL;

	if (!t)
		return;
	free(t->cur.v);
	free(t->stage.v);
	free(t);
	e->status->traffic = NULL;
}
