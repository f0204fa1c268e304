/* SPDX-License-Identifier: MIT */
/* The SS's DNAT of group services: sessions -> map elements (ssnat.h). */
#include "ssnat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void free_svcs(struct ssnat_svc *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].members);
	free(v);
}

void ssnat_free(struct ssnat *sn)
{
	if (!sn)
		return;
	free_svcs(sn->svcs, sn->n_svcs);
	sesslist_free(&sn->sess);
	free(sn->held);
	memset(sn, 0, sizeof(*sn));
}

static int af_of(uint8_t fam)
{
	return fam == CN_FAM_INET ? AF_INET : AF_INET6;
}

static int build_svcs(const struct policy *p, struct ssnat_svc **out, size_t *n)
{
	struct ssnat_svc *v = calloc(p->n_services + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return -1;
	for (size_t i = 0; p->supervisor && i < p->n_services; i++) {
		const struct pol_service *s = &p->services[i];
		struct ssnat_svc *o = &v[*n];

		if (!s->n_members)
			continue;
		o->members = calloc(s->n_members, sizeof(*o->members));
		if (!o->members) {
			free_svcs(v, *n);
			return -1;
		}
		o->family = af_of(s->addr.family);
		memcpy(o->vaddr, s->addr.addr, 16);
		o->port = s->addr.port;
		for (size_t k = 0; k < s->n_members; k++)
			memcpy(o->members[k], s->members[k].addr.addr, 16);
		o->n_members = s->n_members;
		(*n)++;
	}
	*out = v;
	return 0;
}

int ssnat_policy(struct ssnat *sn, const struct policy *p, char *err, size_t size)
{
	struct ssnat_svc *v;
	struct ssnat_change c;
	size_t n;

	if (build_svcs(p, &v, &n) < 0) {
		snprintf(err, size, "SS DNAT: out of memory");
		return -1;
	}
	if (n == 0 && !sn->installed) {
		free_svcs(sn->svcs, sn->n_svcs);
		sn->svcs = v;
		sn->n_svcs = 0;
		sn->enabled = false;
		return 0;
	}
	struct ssnat_svc *old = sn->svcs;
	size_t n_old = sn->n_svcs;

	sn->svcs = v;
	sn->n_svcs = n;
	if (ssnat_plan(sn, &c) < 0 ||
	    (n ? ssnat_nft_table(v, n, c.want, c.n_want) : ssnat_nft_delete()) < 0) {
		snprintf(err, size, "SS DNAT: the kernel refused the table of %s (the previous "
			 "one stays): %s", SSNAT_TABLE, strerror(errno));
		ssnat_change_free(&c);
		sn->svcs = old;
		sn->n_svcs = n_old;
		free_svcs(v, n);
		sn->failed++;
		return -1;
	}
	free_svcs(old, n_old);
	free(sn->held);
	sn->held = n ? c.want : NULL;
	sn->n_held = n ? c.n_want : 0;
	if (n)
		c.want = NULL;
	ssnat_change_free(&c);
	sn->enabled = n > 0;
	sn->installed = n > 0;
	sn->applied++;
	return 0;
}

/* --- sessions (the same requests as the virtual switch's) ------------------------------------ */

int ssnat_session_req(struct ssnat *sn, const json_t *req)
{
	return sesslist_req(&sn->sess, req, "SS DNAT");
}

/* --- the elements ----------------------------------------------------------------------------- */

/* The group service whose member the session names, or NULL. */
static const struct ssnat_svc *svc_of(const struct ssnat *sn, const struct cn_session *s)
{
	size_t len = s->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < sn->n_svcs; i++) {
		const struct ssnat_svc *v = &sn->svcs[i];

		if (v->family != s->family || v->port != s->port)
			continue;
		for (size_t k = 0; k < v->n_members; k++)
			if (!memcmp(v->members[k], s->service, len))
				return v;
	}
	return NULL;
}

static int key_cmp(const struct ssnat_elem *a, const struct ssnat_elem *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((r = memcmp(a->client, b->client, 16)) || (r = memcmp(a->vaddr, b->vaddr, 16)))
		return r;
	return a->port == b->port ? 0 : a->port < b->port ? -1 : 1;
}

static int elem_cmp(const void *pa, const void *pb)
{
	const struct ssnat_elem *a = pa, *b = pb;
	int r = key_cmp(a, b);

	return r ? r : memcmp(a->real, b->real, 16);
}

struct cand {
	struct ssnat_elem e;
	uint64_t exp;
};

/* by key, then the latest expiry first */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int r = key_cmp(&a->e, &b->e);

	if (r)
		return r;
	if (a->exp != b->exp)
		return a->exp > b->exp ? -1 : 1;
	return memcmp(a->e.real, b->e.real, 16);
}

/* One element per key: the session with the latest expiry (0: none, the latest of all). */
static int wanted(const struct ssnat *sn, struct ssnat_elem **out, size_t *n)
{
	struct cand *c = calloc(sn->sess.n + 1, sizeof(*c));
	struct ssnat_elem *v = calloc(sn->sess.n + 1, sizeof(*v));
	size_t nc = 0;

	*n = 0;
	if (!v || !c) {
		free(v);
		free(c);
		return -1;
	}
	for (size_t i = 0; i < sn->sess.n; i++) {
		const struct cn_session *s = &sn->sess.v[i];
		const struct ssnat_svc *svc = svc_of(sn, s);
		size_t len = s->family == AF_INET ? 4 : 16;

		if (!svc)
			continue;
		c[nc].e.family = s->family;
		c[nc].e.port = s->port;
		memcpy(c[nc].e.client, s->client, len);
		memcpy(c[nc].e.vaddr, svc->vaddr, len);
		memcpy(c[nc].e.real, s->service, len);
		c[nc++].exp = s->expires ? s->expires : UINT64_MAX;
	}
	qsort(c, nc, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < nc; i++)
		if (*n == 0 || key_cmp(&v[*n - 1], &c[i].e))
			v[(*n)++] = c[i].e;
	free(c);
	*out = v; /* sorted by key, one per key: sorted by elem_cmp too */
	return 0;
}

void ssnat_change_free(struct ssnat_change *c)
{
	if (!c)
		return;
	free(c->del);
	free(c->add);
	free(c->want);
	memset(c, 0, sizeof(*c));
}

int ssnat_plan(const struct ssnat *sn, struct ssnat_change *c)
{
	size_t i = 0, j = 0;

	memset(c, 0, sizeof(*c));
	if (wanted(sn, &c->want, &c->n_want) < 0)
		return -1;
	c->del = calloc(sn->n_held + 1, sizeof(*c->del));
	c->add = calloc(c->n_want + 1, sizeof(*c->add));
	if (!c->del || !c->add) {
		ssnat_change_free(c);
		return -1;
	}
	while (i < sn->n_held || j < c->n_want) {
		int r = i == sn->n_held ? 1 : j == c->n_want ? -1 :
			elem_cmp(&sn->held[i], &c->want[j]);

		if (r < 0)
			c->del[c->n_del++] = sn->held[i++];
		else if (r > 0)
			c->add[c->n_add++] = c->want[j++];
		else
			i++, j++;
	}
	return 0;
}

int ssnat_apply(struct ssnat *sn, char *err, size_t size)
{
	struct ssnat_change c;

	if (!sn->enabled || !sn->installed)
		return 0;
	if (ssnat_plan(sn, &c) < 0) {
		snprintf(err, size, "SS DNAT: out of memory");
		return -1;
	}
	if (c.n_del + c.n_add == 0) {
		ssnat_change_free(&c);
		return 0;
	}
	if (ssnat_nft_elems(&c) < 0) {
		sn->failed++;
		snprintf(err, size, "SS DNAT: the kernel refused a session change (the previous "
			 "elements stay): %s", errno == ENOSPC ? "too many elements for one batch" :
			 strerror(errno));
		ssnat_change_free(&c);
		return -1;
	}
	free(sn->held);
	sn->held = c.want;
	sn->n_held = c.n_want;
	c.want = NULL;
	ssnat_change_free(&c);
	sn->applied++;
	return 0;
}
