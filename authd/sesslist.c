/* SPDX-License-Identifier: MIT */
/* The sessions of the data plane requests, one list per consumer (sesslist.h). */
#include "sesslist.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"

void sesslist_free(struct sesslist *l)
{
	if (!l)
		return;
	free(l->v);
	hidx_free(&l->ix);
	free(l->chg);
	memset(l, 0, sizeof(*l));
}

void sesslist_changes_reset(struct sesslist *l)
{
	l->n_chg = 0;
	l->full = false;
}

static size_t addr_len(const struct cn_session *s)
{
	return s->family == AF_INET ? 4 : 16;
}

static bool same_key(const void *pa, const void *pb)
{
	const struct cn_session *a = pa, *b = pb;
	size_t len = addr_len(a);

	return a->family == b->family && a->port == b->port && !memcmp(a->client, b->client, len) &&
	       !memcmp(a->service, b->service, len);
}

static uint64_t key_hash(const void *p)
{
	const struct cn_session *s = p;
	uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, &s->port, sizeof(s->port));

	h = hidx_bytes_hash(h, s->client, addr_len(s));
	return hidx_bytes_hash(h, s->service, addr_len(s));
}

static const struct hidx_type key_type = { .size = sizeof(struct cn_session),
					   .hash = key_hash, .eq = same_key };

static void log_change(struct sesslist *l, const struct cn_session *old,
		       const struct cn_session *new)
{
	struct sesslist_change *c;

	if (!l->track || l->full)
		return;
	c = grow(l->chg, l->n_chg, &l->cap_chg, sizeof(*c), 64);
	if (!c) {
		l->full = true; /* the consumer looks at the whole list instead */
		return;
	}
	l->chg = c;
	c = &l->chg[l->n_chg++];
	memset(c, 0, sizeof(*c));
	if ((c->has_old = old != NULL))
		c->old = *old;
	if ((c->has_new = new != NULL))
		c->new = *new;
}

static int sess_put(struct sesslist *l, const struct cn_session *s)
{
	long at = hidx_find(&l->ix, &key_type, l->v, s);
	struct cn_session *n;

	if (at >= 0) {
		log_change(l, &l->v[at], s);
		l->v[at] = *s;
		return 0;
	}
	n = grow(l->v, l->n, &l->cap, sizeof(*n), 16);
	if (!n)
		return -1;
	l->v = n;
	l->v[l->n] = *s;
	if (hidx_insert(&l->ix, &key_type, l->v, l->n) < 0)
		return -1;
	log_change(l, NULL, s);
	l->n++;
	return 0;
}

static int sess_del(struct sesslist *l, const struct cn_session *key)
{
	long at = hidx_find(&l->ix, &key_type, l->v, key);

	if (at < 0)
		return 0;
	log_change(l, &l->v[at], NULL);
	hidx_remove(&l->ix, &key_type, l->v, (size_t)at);
	if ((size_t)at != --l->n) {
		l->v[at] = l->v[l->n];
		hidx_move(&l->ix, &key_type, l->v, l->n, (size_t)at);
	}
	return 1;
}

/* {client, service, port}: the key of a session-del */
static int parse_key(struct cn_session *k, const json_t *o)
{
	const char *c = json_string_value(json_object_get(o, "client"));
	const char *s = json_string_value(json_object_get(o, "service"));
	json_int_t port = json_integer_value(json_object_get(o, "port"));

	memset(k, 0, sizeof(*k));
	if (!c || !s || port < 1 || port > 65535)
		return -1;
	k->family = strchr(c, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(k->family, c, k->client) != 1 || inet_pton(k->family, s, k->service) != 1)
		return -1;
	k->port = (uint16_t)port;
	return 0;
}

/* One session of the request, decoded: 1 changed, 0 not, -1 out of memory. */
static int apply(struct sesslist *l, bool del, const struct cn_session *s)
{
	if (del)
		return sess_del(l, s);
	return sess_put(l, s) < 0 ? -1 : 1;
}

/* Element i of the request decoded: from a "sessions" array (a session-del's items are
 * keys) or from "packed" records (lib/ctl.h; a del uses the record's key). -1 when bad, err
 * saying why (empty for a bad key). */
static int decode(struct cn_session *s, bool del, const json_t *arr, const json_t *packed,
		  size_t i, char *err, size_t errlen)
{
	err[0] = 0;
	if (packed)
		return cn_packed_get(packed, i, s, err, errlen);
	if (del)
		return parse_key(s, json_array_get(arr, i));
	return cn_session_from_json(s, json_array_get(arr, i), err, errlen);
}

int sesslist_req(struct sesslist *l, const json_t *req, const char *who)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const json_t *arr = json_object_get(req, "sessions");
	const json_t *packed = json_object_get(req, "packed");
	int changed = 0, r;
	char err[256];
	size_t i, n = 0;
	bool del;

	if (!cmd || !packed == !arr)
		return -1;
	if (packed && cn_packed_count(packed, &n, err, sizeof(err)) < 0) {
		log_warnx("%s: a request from the engine: %s", who, err);
		return -1;
	}
	if (arr && !json_is_array(arr))
		return -1;
	if (arr)
		n = json_array_size(arr);
	del = !strcmp(cmd, "session-del");
	if (!strcmp(cmd, "session-sync")) {
		l->n = 0, changed = 1;
		hidx_clear(&l->ix);
		l->full = true;
	}
	else if (!del && strcmp(cmd, "session-add"))
		return -1;
	for (i = 0; i < n; i++) {
		struct cn_session s;

		if (decode(&s, del, arr, packed, i, err, sizeof(err)) < 0) {
			if (err[0])
				log_warnx("%s: a session from the engine: %s", who, err);
			return -1;
		}
		if ((r = apply(l, del, &s)) < 0)
			return -1;
		changed |= r;
	}
	return changed;
}
