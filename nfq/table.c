/* SPDX-License-Identifier: MIT */
#include "table.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void sess_key_make(struct sess_key *k, int family, const uint8_t *client,
		   const uint8_t *service, uint16_t port)
{
	size_t alen = family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)family;
	k->port = port;
	memcpy(k->client, client, alen);
	memcpy(k->service, service, alen);
}

void sess_list_init(struct sess_list *l)
{
	memset(l, 0, sizeof(*l));
}

void sess_list_clear(struct sess_list *l)
{
	free(l->v);
	sess_list_init(l);
}

static void entry_make(struct sess_entry *e, const struct cn_session *s, enum sess_source src)
{
	memset(e, 0, sizeof(*e));
	sess_key_make(&e->key, s->family, s->client, s->service, s->port);
	e->id = s->id;
	e->source = (uint8_t)src;
	e->used = 1;
	memcpy(e->vnic, s->vnic, sizeof(e->vnic));
	e->vnic[sizeof(e->vnic) - 1] = '\0';
	e->expires = s->expires;
}

int sess_list_put(struct sess_list *l, const struct cn_session *s, enum sess_source src)
{
	struct sess_entry e;
	size_t i;

	entry_make(&e, s, src);
	for (i = 0; i < l->n; i++) {
		if (memcmp(&l->v[i].key, &e.key, sizeof(e.key)) == 0) {
			l->v[i] = e;
			return 0;
		}
	}
	return sess_list_push(l, &e);
}

int sess_list_push(struct sess_list *l, const struct sess_entry *e)
{
	struct sess_entry *v = grow(l->v, l->n, &l->cap, sizeof(*v), 16);

	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = *e;
	return 0;
}

int sess_list_copy(struct sess_list *dst, const struct sess_list *src)
{
	sess_list_init(dst);
	if (!src->n)
		return 0;
	dst->v = reallocarray(NULL, src->n, sizeof(*dst->v));
	if (!dst->v)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

int sess_list_append(struct sess_list *l, const struct cn_session *s, enum sess_source src)
{
	struct sess_entry e;

	entry_make(&e, s, src);
	return sess_list_push(l, &e);
}

/* sess_list_dedup's order (qsort_r, ctx the list): indices by key, then by position */
static int dedup_cmp(const void *a, const void *b, void *ctx)
{
	const struct sess_list *l = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(&l->v[i].key, &l->v[j].key, sizeof(struct sess_key));

	return c ? c : (i > j) - (i < j);
}

int sess_list_dedup(struct sess_list *l)
{
	size_t *idx, i, j;
	bool *drop;

	if (l->n < 2)
		return 0;
	idx = calloc(l->n, sizeof(*idx));
	drop = calloc(l->n, sizeof(*drop));
	if (!idx || !drop) {
		free(idx);
		free(drop);
		return -1;
	}
	for (i = 0; i < l->n; i++)
		idx[i] = i;
	qsort_r(idx, l->n, sizeof(*idx), dedup_cmp, l);
	/* in each run of equal keys every entry but the last (latest) one goes */
	for (i = 0; i + 1 < l->n; i++)
		if (!memcmp(&l->v[idx[i]].key, &l->v[idx[i + 1]].key, sizeof(struct sess_key)))
			drop[idx[i]] = true;
	for (i = 0, j = 0; i < l->n; i++)
		if (!drop[i])
			l->v[j++] = l->v[i];
	l->n = j;
	free(idx);
	free(drop);
	return 0;
}

size_t sess_list_remove_if(struct sess_list *l,
			   bool (*match)(const struct sess_entry *e, const void *arg),
			   const void *arg)
{
	size_t i, j, removed = 0;

	for (i = 0, j = 0; i < l->n; i++) {
		if (match(&l->v[i], arg)) {
			removed++;
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return removed;
}

void sess_entry_to_session(const struct sess_entry *e, struct cn_session *out)
{
	memset(out, 0, sizeof(*out));
	out->family = e->key.family;
	memcpy(out->client, e->key.client, 16);
	memcpy(out->service, e->key.service, 16);
	out->port = e->key.port;
	out->id = e->id;
	memcpy(out->vnic, e->vnic, sizeof(out->vnic));
	out->expires = e->expires;
}

void svc_list_init(struct svc_list *l)
{
	memset(l, 0, sizeof(*l));
}

void svc_list_clear(struct svc_list *l)
{
	free(l->v);
	svc_list_init(l);
}

int svc_list_add(struct svc_list *l, int family, const uint8_t *addr, uint16_t port)
{
	struct svc_entry e, *v = grow(l->v, l->n, &l->cap, sizeof(*v), 8);

	if (!v)
		return -1;
	l->v = v;
	memset(&e, 0, sizeof(e));
	e.family = (uint8_t)family;
	e.port = port;
	e.used = 1;
	memcpy(e.addr, addr, family == AF_INET ? 4 : 16);
	l->v[l->n++] = e;
	return 0;
}
