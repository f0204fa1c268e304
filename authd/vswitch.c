/* SPDX-License-Identifier: MIT */
/* The virtual switch: ID steering to the vNICs in nftables (vswitch.h). */
#include "vswitch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void vswitch_free(struct vswitch *vs)
{
	if (!vs)
		return;
	free(vs->vnics);
	free(vs->svcs);
	sesslist_free(&vs->sess);
	free(vs->held);
	memset(vs, 0, sizeof(*vs));
}

static void from_coop(struct vswitch_addr *out, const struct cn_coop_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family == CN_FAM_INET ? AF_INET : AF_INET6;
	memcpy(out->addr, a->addr, out->family == AF_INET ? 4 : 16);
}

static void from_vnic(struct vswitch_addr *out, const struct vnic_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	memcpy(out->addr, a->addr, a->family == AF_INET ? 4 : 16);
}

static bool addr_eq(const struct vswitch_addr *a, const struct vswitch_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

static void add_addr(struct vswitch_addr *v, size_t *n, const struct vswitch_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (addr_eq(&v[i], a))
			return;
	v[(*n)++] = *a;
}

static void add_svc(struct vswitch_svc *v, size_t *n, const struct vswitch_addr *a, uint16_t port)
{
	for (size_t i = 0; i < *n; i++)
		if (addr_eq(&v[i].a, a) && v[i].port == port)
			return;
	v[*n].a = *a;
	v[(*n)++].port = port;
}

int vswitch_set_policy(struct vswitch *vs, const struct policy *p)
{
	size_t nv = 0, ns = 0, maxv = 0, maxs = 0;
	struct vswitch_addr *vn = NULL;
	struct vswitch_svc *sv = NULL;

	vs->enabled = p->provider && p->n_relay > 0;
	vs->mark = p->queue_mark;
	vs->n_relay = 0;
	for (size_t i = 0; vs->enabled && i < p->n_relay; i++)
		from_coop(&vs->relay[vs->n_relay++], &p->relay[i]);
	for (size_t i = 0; vs->enabled && i < p->n_vnics; i++) {
		maxv += 1 + p->vnics[i].n_addrs;
		maxs += (1 + p->vnics[i].n_addrs + p->n_relay) * p->vnics[i].n_services;
	}
	vn = calloc(maxv + 1, sizeof(*vn));
	sv = calloc(maxs + 1, sizeof(*sv));
	if (!vn || !sv) {
		free(vn);
		free(sv);
		return -1;
	}
	for (size_t i = 0; vs->enabled && i < p->n_vnics; i++) {
		const struct pol_vnic *v = &p->vnics[i];
		struct vswitch_addr a[VNIC_MAX_ADDRS + 1];
		size_t na = 0;
		from_coop(&a[na++], &v->addr);
		for (size_t k = 0; k < v->n_addrs; k++)
			from_vnic(&a[na++], &v->addrs[k]);
		for (size_t k = 0; k < na; k++)
			add_addr(vn, &nv, &a[k]);
		for (size_t s = 0; s < v->n_services; s++) {
			for (size_t k = 0; k < na; k++)
				add_svc(sv, &ns, &a[k], v->services[s].port);
			for (size_t r = 0; r < vs->n_relay; r++)
				add_svc(sv, &ns, &vs->relay[r], v->services[s].port);
		}
	}
	free(vs->vnics);
	free(vs->svcs);
	vs->vnics = vn;
	vs->n_vnics = nv;
	vs->svcs = sv;
	vs->n_svcs = ns;
	vs->installed = false; /* the next apply rebuilds the table */
	return 0;
}

/* --- sessions ------------------------------------------------------------------------------ */

int vswitch_session_req(struct vswitch *vs, const json_t *req)
{
	return sesslist_req(&vs->sess, req, "virtual switch");
}

/* --- the steer elements ----------------------------------------------------------------------- */

static bool on_vnic_side(const struct vswitch *vs, const struct cn_session *s)
{
	struct vswitch_addr a = { .family = s->family };

	memcpy(a.addr, s->service, s->family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < vs->n_vnics; i++)
		if (addr_eq(&vs->vnics[i], &a))
			return true;
	return false;
}

static int steer_cmp(const void *pa, const void *pb)
{
	const struct vswitch_steer *a = pa, *b = pb;
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((r = memcmp(a->client, b->client, 16)))
		return r;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->vnic, b->vnic, 16);
}

/* client . ID . port -> vNIC address of every session that names a vNIC, sorted, no duplicate. A
 * session naming another address (an SS-side session, one left from an older policy) is
 * never steered anywhere. */
static int steer_wanted(const struct vswitch *vs, struct vswitch_steer **out, size_t *n)
{
	struct vswitch_steer *v = calloc(vs->sess.n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < vs->sess.n; i++) {
		const struct cn_session *s = &vs->sess.v[i];
		size_t len = s->family == AF_INET ? 4 : 16;

		if (!on_vnic_side(vs, s))
			continue;
		v[k].family = s->family;
		memcpy(v[k].client, s->client, len);
		memcpy(v[k].vnic, s->service, len);
		v[k].port = s->port;
		v[k++].id = s->id;
	}
	qsort(v, k, sizeof(*v), steer_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || steer_cmp(&v[*n - 1], &v[i]))
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

void vswitch_change_free(struct vswitch_change *c)
{
	if (!c)
		return;
	free(c->del);
	free(c->add);
	free(c->want);
	memset(c, 0, sizeof(*c));
}

/* A merge of two sorted lists: held but not wanted goes, wanted but not held comes. */
int vswitch_plan(const struct vswitch *vs, struct vswitch_change *c)
{
	size_t i = 0, j = 0;

	memset(c, 0, sizeof(*c));
	if (steer_wanted(vs, &c->want, &c->n_want) < 0)
		return -1;
	c->del = calloc(vs->n_held + 1, sizeof(*c->del));
	c->add = calloc(c->n_want + 1, sizeof(*c->add));
	if (!c->del || !c->add) {
		vswitch_change_free(c);
		return -1;
	}
	while (i < vs->n_held || j < c->n_want) {
		int r = i == vs->n_held ? 1 : j == c->n_want ? -1 :
			steer_cmp(&vs->held[i], &c->want[j]);

		if (r < 0)
			c->del[c->n_del++] = vs->held[i++];
		else if (r > 0)
			c->add[c->n_add++] = c->want[j++];
		else
			i++, j++;
	}
	return 0;
}

void vswitch_hold(struct vswitch *vs, struct vswitch_change *c)
{
	free(vs->held);
	vs->held = c->want;
	vs->n_held = c->n_want;
	c->want = NULL;
	vswitch_change_free(c);
	vs->installed = true;
}

/* --- loading ------------------------------------------------------------------------------- */

static int refused(struct vswitch *vs, char *err, size_t size, const char *what)
{
	vs->failed++;
	snprintf(err, size, "virtual switch: the kernel refused the %s (the previous table "
		 "stays): %s", what, errno == ENOSPC ? "too many elements for one batch" :
		 strerror(errno));
	return -1;
}

int vswitch_apply(struct vswitch *vs, char *err, size_t size)
{
	struct vswitch_change c;

	if (!vs->enabled) {
		if (vswitch_nft_delete() < 0)
			return refused(vs, err, size, "removal of the table");
		vs->installed = false;
		vs->n_held = 0;
		vs->applied++;
		return 0;
	}
	if (vswitch_plan(vs, &c) < 0) {
		snprintf(err, size, "virtual switch: out of memory");
		return -1;
	}
	if (!vs->installed) {
		if (vswitch_nft_table(vs, c.want, c.n_want) < 0) {
			vswitch_change_free(&c);
			return refused(vs, err, size, "table");
		}
	} else if (c.n_del + c.n_add == 0) {
		vswitch_change_free(&c);
		return 0; /* nothing the kernel holds changes */
	} else if (vswitch_nft_elems(&c) < 0) {
		vswitch_change_free(&c);
		return refused(vs, err, size, "session change");
	}
	vswitch_hold(vs, &c);
	vs->applied++;
	return 0;
}
