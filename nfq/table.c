/* SPDX-License-Identifier: MIT */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

static uint32_t slots_for(size_t n)
{
	uint32_t s = 16;

	while (s < 2 * n && s < (1u << 30))
		s <<= 1;
	return s;
}

static void sess_insert(struct sess_table *t, const struct sess_entry *e)
{
	uint32_t i = (uint32_t)hash_bytes(t->seed, &e->key, sizeof(e->key)) & t->mask;

	while (t->slots[i].used && memcmp(&t->slots[i].key, &e->key, sizeof(e->key)) != 0)
		i = (i + 1) & t->mask;
	if (!t->slots[i].used)
		t->count++;
	t->slots[i] = *e;
	t->slots[i].used = 1;
}

static void svc_insert(struct sess_table *t, const struct svc_entry *e)
{
	struct svc_entry k = *e;
	uint32_t i;

	k.used = 1;
	i = (uint32_t)hash_bytes(t->seed, &k, sizeof(k)) & t->svc_mask;
	while (t->svcs[i].used && memcmp(&t->svcs[i], &k, sizeof(k)) != 0)
		i = (i + 1) & t->svc_mask;
	if (!t->svcs[i].used)
		t->svc_count++;
	t->svcs[i] = k;
}

struct sess_table *tbl_build(const struct sess_list *sessions, const struct svc_list *svcs)
{
	struct sess_table *t;
	uint32_t n;
	size_t i;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
	n = slots_for(sessions ? sessions->n : 0);
	t->mask = n - 1;
	t->slots = calloc(n, sizeof(*t->slots));
	n = slots_for(svcs ? svcs->n : 0);
	t->svc_mask = n - 1;
	t->svcs = calloc(n, sizeof(*t->svcs));
	if (!t->slots || !t->svcs) {
		tbl_free(t);
		return NULL;
	}
	for (i = 0; sessions && i < sessions->n; i++)
		sess_insert(t, &sessions->v[i]);
	for (i = 0; svcs && i < svcs->n; i++)
		svc_insert(t, &svcs->v[i]);
	return t;
}

void tbl_free(struct sess_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->svcs);
	free(t);
}

const struct sess_entry *tbl_lookup(const struct sess_table *t, const struct sess_key *k)
{
	uint32_t i, probes;

	if (!t || t->count == 0)
		return NULL;
	i = (uint32_t)hash_bytes(t->seed, k, sizeof(*k)) & t->mask;
	/* load factor <= 1/2: an empty slot is always reached; bound it anyway */
	for (probes = 0; probes <= t->mask; probes++) {
		const struct sess_entry *e = &t->slots[i];

		if (!e->used)
			return NULL;
		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

bool tbl_has_services(const struct sess_table *t)
{
	return t && t->svc_count > 0;
}

bool tbl_has_service(const struct sess_table *t, int family, const uint8_t *addr, uint16_t port)
{
	struct svc_entry k;
	uint32_t i, probes;

	if (!t || t->svc_count == 0)
		return false;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)family;
	k.used = 1;
	k.port = port;
	memcpy(k.addr, addr, family == AF_INET ? 4 : 16);
	i = (uint32_t)hash_bytes(t->seed, &k, sizeof(k)) & t->svc_mask;
	for (probes = 0; probes <= t->svc_mask; probes++) {
		if (!t->svcs[i].used)
			return false;
		if (memcmp(&t->svcs[i], &k, sizeof(k)) == 0)
			return true;
		i = (i + 1) & t->svc_mask;
	}
	return false;
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
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct sess_entry *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
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

/* qsort context for sess_list_dedup: indices ordered by key, then by position */
static const struct sess_list *dedup_list;

static int dedup_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = memcmp(&dedup_list->v[i].key, &dedup_list->v[j].key, sizeof(struct sess_key));

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
	dedup_list = l; /* main thread only */
	qsort(idx, l->n, sizeof(*idx), dedup_cmp);
	dedup_list = NULL;
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
	struct svc_entry e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct svc_entry *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	memset(&e, 0, sizeof(e));
	e.family = (uint8_t)family;
	e.port = port;
	e.used = 1;
	memcpy(e.addr, addr, family == AF_INET ? 4 : 16);
	l->v[l->n++] = e;
	return 0;
}
