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
	memset(l, 0, sizeof(*l));
}

static bool same_key(const struct cn_session *a, const struct cn_session *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && !memcmp(a->client, b->client, len) &&
	       !memcmp(a->service, b->service, len);
}

static int sess_put(struct sesslist *l, const struct cn_session *s)
{
	struct cn_session *n;

	for (size_t i = 0; i < l->n; i++) {
		if (same_key(&l->v[i], s)) {
			l->v[i] = *s;
			return 0;
		}
	}
	n = grow(l->v, l->n, &l->cap, sizeof(*n), 16);
	if (!n)
		return -1;
	l->v = n;
	l->v[l->n++] = *s;
	return 0;
}

static int sess_del(struct sesslist *l, const struct cn_session *key)
{
	for (size_t i = 0; i < l->n; i++) {
		if (same_key(&l->v[i], key)) {
			l->v[i] = l->v[--l->n];
			return 1;
		}
	}
	return 0;
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

/* One element of the request: 1 changed, 0 not, -1 bad. */
static int apply_one(struct sesslist *l, bool del, const json_t *v, const char *who)
{
	struct cn_session s;
	char err[256];

	if (del)
		return parse_key(&s, v) < 0 ? -1 : sess_del(l, &s);
	if (cn_session_from_json(&s, v, err, sizeof(err)) < 0) {
		log_warnx("%s: a session from the engine: %s", who, err);
		return -1;
	}
	return sess_put(l, &s) < 0 ? -1 : 1;
}

int sesslist_req(struct sesslist *l, const json_t *req, const char *who)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *arr = json_object_get(req, "sessions"), *v;
	int changed = 0, r;
	bool del;
	size_t i;

	if (!cmd || !json_is_array(arr))
		return -1;
	del = !strcmp(cmd, "session-del");
	if (!strcmp(cmd, "session-sync"))
		l->n = 0, changed = 1;
	else if (!del && strcmp(cmd, "session-add"))
		return -1;
	json_array_foreach(arr, i, v) {
		if ((r = apply_one(l, del, v, who)) < 0)
			return -1;
		changed |= r;
	}
	return changed;
}
