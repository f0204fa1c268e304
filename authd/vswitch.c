/* SPDX-License-Identifier: MIT */
/* The virtual switch: ID steering to the vNICs in nftables (vswitch.h). */
#include "vswitch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "grow.h"
#include "log.h"

void vswitch_free(struct vswitch *vs)
{
	if (!vs)
		return;
	free(vs->vnics);
	free(vs->svcs);
	sesslist_free(&vs->sess);
	free(vs->held);
	hidx_free(&vs->held_ix);
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
	vs->sess.track = true; /* the plan of the next apply follows the changes */
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

static bool steer_eq(const void *a, const void *b)
{
	return steer_cmp(a, b) == 0;
}

static uint64_t steer_hash(const void *p)
{
	const struct vswitch_steer *s = p;
	uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, s->client, 16);

	h = hidx_bytes_hash(h, &s->id, sizeof(s->id));
	h = hidx_bytes_hash(h, &s->port, sizeof(s->port));
	return hidx_bytes_hash(h, s->vnic, 16);
}

static const struct hidx_type steer_type = { .size = sizeof(struct vswitch_steer),
					     .hash = steer_hash, .eq = steer_eq };

/* The steer element of s, when s names a vNIC of the policy. */
static bool steer_of(const struct vswitch *vs, const struct cn_session *s,
		     struct vswitch_steer *out)
{
	size_t len = s->family == AF_INET ? 4 : 16;

	memset(out, 0, sizeof(*out));
	if (!on_vnic_side(vs, s))
		return false;
	out->family = s->family;
	memcpy(out->client, s->client, len);
	memcpy(out->vnic, s->service, len);
	out->port = s->port;
	out->id = s->id;
	return true;
}

static bool is_held(const struct vswitch *vs, const struct vswitch_steer *x)
{
	return hidx_find(&vs->held_ix, &steer_type, vs->held, x) >= 0;
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
	for (size_t i = 0; i < vs->sess.n; i++)
		k += steer_of(vs, &vs->sess.v[i], &v[k]);
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

/* Held but not wanted goes (want is sorted: a binary search), wanted but not held comes. */
int vswitch_plan(const struct vswitch *vs, struct vswitch_change *c)
{
	memset(c, 0, sizeof(*c));
	if (steer_wanted(vs, &c->want, &c->n_want) < 0)
		return -1;
	c->del = calloc(vs->n_held + 1, sizeof(*c->del));
	c->add = calloc(c->n_want + 1, sizeof(*c->add));
	if (!c->del || !c->add) {
		vswitch_change_free(c);
		return -1;
	}
	for (size_t i = 0; i < vs->n_held; i++)
		if (!bsearch(&vs->held[i], c->want, c->n_want, sizeof(*c->want), steer_cmp))
			c->del[c->n_del++] = vs->held[i];
	qsort(c->del, c->n_del, sizeof(*c->del), steer_cmp);
	for (size_t j = 0; j < c->n_want; j++)
		if (!is_held(vs, &c->want[j]))
			c->add[c->n_add++] = c->want[j];
	return 0;
}

static long find_in(const struct vswitch_steer *v, size_t n, const struct vswitch_steer *x)
{
	for (size_t i = 0; i < n; i++)
		if (!steer_cmp(&v[i], x))
			return (long)i;
	return -1;
}

/* One change of a key, netted against the earlier changes of the same log (del and add hold
 * a request's changes: at most a few hundred, so a linear search). */
static void plan_one(const struct vswitch *vs, struct vswitch_change *c,
		     const struct vswitch_steer *old, const struct vswitch_steer *new)
{
	long k;

	if (old && new && !steer_cmp(old, new))
		return;
	if (old) {
		if ((k = find_in(c->add, c->n_add, old)) >= 0)
			c->add[k] = c->add[--c->n_add]; /* added in this log: never reached the kernel */
		else if (is_held(vs, old) && find_in(c->del, c->n_del, old) < 0)
			c->del[c->n_del++] = *old;
	}
	if (new) {
		if ((k = find_in(c->del, c->n_del, new)) >= 0)
			c->del[k] = c->del[--c->n_del]; /* deleted in this log: stays */
		else if (!is_held(vs, new) && find_in(c->add, c->n_add, new) < 0)
			c->add[c->n_add++] = *new;
	}
}

int vswitch_plan_changes(const struct vswitch *vs, struct vswitch_change *c)
{
	const struct sesslist *l = &vs->sess;

	memset(c, 0, sizeof(*c));
	c->del = calloc(l->n_chg + 1, sizeof(*c->del));
	c->add = calloc(l->n_chg + 1, sizeof(*c->add));
	if (!c->del || !c->add) {
		vswitch_change_free(c);
		return -1;
	}
	for (size_t i = 0; i < l->n_chg; i++) {
		struct vswitch_steer o, n;
		bool ho = l->chg[i].has_old && steer_of(vs, &l->chg[i].old, &o);
		bool hn = l->chg[i].has_new && steer_of(vs, &l->chg[i].new, &n);

		plan_one(vs, c, ho ? &o : NULL, hn ? &n : NULL);
	}
	return 0;
}

static int held_reindex(struct vswitch *vs)
{
	hidx_clear(&vs->held_ix);
	if (hidx_reserve(&vs->held_ix, &steer_type, vs->held, vs->n_held) < 0)
		return -1;
	for (size_t i = 0; i < vs->n_held; i++)
		if (hidx_insert(&vs->held_ix, &steer_type, vs->held, i) < 0)
			return -1;
	return 0;
}

static int held_del(struct vswitch *vs, const struct vswitch_steer *x)
{
	long at = hidx_find(&vs->held_ix, &steer_type, vs->held, x);

	if (at < 0)
		return 0;
	hidx_remove(&vs->held_ix, &steer_type, vs->held, (size_t)at);
	if ((size_t)at != --vs->n_held) {
		vs->held[at] = vs->held[vs->n_held];
		return hidx_move(&vs->held_ix, &steer_type, vs->held, vs->n_held, (size_t)at);
	}
	return 0;
}

static int held_add(struct vswitch *vs, const struct vswitch_steer *x)
{
	struct vswitch_steer *n = grow(vs->held, vs->n_held, &vs->cap_held, sizeof(*n), 64);

	if (!n)
		return -1;
	vs->held = n;
	vs->held[vs->n_held] = *x;
	if (hidx_insert(&vs->held_ix, &steer_type, vs->held, vs->n_held) < 0)
		return -1;
	vs->n_held++;
	return 0;
}

int vswitch_hold(struct vswitch *vs, struct vswitch_change *c)
{
	int r = 0;

	vs->installed = true;
	if (c->want) {
		free(vs->held);
		vs->held = c->want;
		vs->n_held = vs->cap_held = c->n_want;
		c->want = NULL;
		r = held_reindex(vs);
	} else {
		for (size_t i = 0; !r && i < c->n_del; i++)
			r = held_del(vs, &c->del[i]);
		for (size_t i = 0; !r && i < c->n_add; i++)
			r = held_add(vs, &c->add[i]);
	}
	vswitch_change_free(c);
	if (r < 0) {
		/* what the kernel holds is no longer known here: rebuild the table next time */
		vs->n_held = 0;
		hidx_clear(&vs->held_ix);
		vs->installed = false;
	}
	return r;
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
	int r;

	if (!vs->enabled) {
		if (vswitch_nft_delete() < 0)
			return refused(vs, err, size, "removal of the table");
		vs->installed = false;
		vs->n_held = 0;
		hidx_clear(&vs->held_ix);
		sesslist_changes_reset(&vs->sess);
		vs->applied++;
		return 0;
	}
	/* a session change: only the keys it touched, unless the log or held cannot be trusted */
	r = vs->installed && !vs->replan && !vs->sess.full ? vswitch_plan_changes(vs, &c) :
	    vswitch_plan(vs, &c);
	sesslist_changes_reset(&vs->sess);
	if (r < 0) {
		vs->replan = true;
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
		vs->replan = false;
		return 0; /* nothing the kernel holds changes */
	} else if (vswitch_nft_elems(&c) < 0) {
		vswitch_change_free(&c);
		vs->replan = true; /* the changes stay undone: the next plan compares everything */
		return refused(vs, err, size, "session change");
	}
	vs->replan = false;
	if (vswitch_hold(vs, &c) < 0)
		log_warnx("virtual switch: out of memory recording the steer elements: the table "
			  "is rebuilt at the next change");
	vs->applied++;
	return 0;
}
