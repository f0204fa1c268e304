/* SPDX-License-Identifier: MIT */
/*
 * SP groups in the engine (docs/groups.md):
 *   header:     the choice of an SP for an Auth-REQ (lib/balance.c over the members of
 *               pol.group that host the service, their state from group_view.h), with the
 *               decisions counted per member; a retransmitted REQ (same nonce_ss) avoids
 *               the SP it went to before, which did not answer;
 *   supervisor: failover: a session's SP unreachable (status application) or its vNIC down
 *               -> authenticate the client again through the header; when that succeeds
 *               the sessions on the dead SP go (op_done calls engine_failover_done).
 */
#include "coop_app.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group_view.h"
#include "hidx.h"
#include "log.h"

/* The REQs a header remembers (nonce_ss -> the SP it chose), to send a retransmission to
 * another SP: the last RETRY_SLOTS, twice as many as an SS has exchanges in flight
 * (engine_auth.c, SS_EXCHANGE_SLOTS), since a retransmission comes up to 11.5 s after its REQ
 * and a burst of first REQs passes in between (a ring of 256 forgot the first REQs of a burst
 * of 300 before their retransmissions came, which could then go to the slow SP again). A ring
 * (the oldest replaced) with a lib/hidx index by a keyed hash of the nonce (it comes off the
 * wire: no sender can aim at one probe run), the hash kept in the slot. */
#define RETRY_SLOTS 8192
#define FAILOVER_SLOTS 1024

struct grp_svc {                 /* header: one service's members and balancing state */
	char service[CN_COOP_SERVICE_LEN];
	size_t n;
	uint16_t idx[POL_MAX_MEMBERS];      /* index into pol.group */
	uint8_t bit[POL_MAX_MEMBERS];       /* the service's index in that entry (services_down) */
	struct cn_balance_member m[POL_MAX_MEMBERS];
	uint64_t seen[POL_MAX_MEMBERS];     /* member_view.seen_ms when pending was reset */
	uint32_t pending[POL_MAX_MEMBERS];  /* decisions since its last report (least-load) */
};

struct grp_retry {
	uint8_t nonce[CN_COOP_NONCE_LEN];
	uint64_t hash;                      /* keyed hash of nonce (retry_hash) */
	uint16_t member;                    /* index into pol.group */
	bool used;
};

struct grp_failover {                   /* supervisor: a re-authentication under way */
	struct cn_coop_addr client;
	char service[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr dead;           /* the member's address (data plane) */
	bool used;
};

struct engine_balance {
	struct grp_svc *svc;
	size_t n_svc;
	uint64_t *decisions;                /* per pol.group entry */
	struct grp_retry *retry;            /* RETRY_SLOTS, a ring */
	struct hidx retry_ix;               /* nonce -> slot of the used ones */
	uint8_t retry_key[crypto_shorthash_KEYBYTES];
	size_t next_retry;
	struct grp_failover fo[FAILOVER_SLOTS];
};

static uint64_t retry_elem_hash(const void *elem)
{
	return ((const struct grp_retry *)elem)->hash;
}

static bool retry_eq(const void *a, const void *b)
{
	return !sodium_memcmp(((const struct grp_retry *)a)->nonce,
			      ((const struct grp_retry *)b)->nonce, CN_COOP_NONCE_LEN);
}

static const struct hidx_type retry_type = {
	.size = sizeof(struct grp_retry),
	.hash = retry_elem_hash,
	.eq = retry_eq,
};

static uint64_t retry_hash(const struct engine_balance *g, const uint8_t *nonce)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, nonce, CN_COOP_NONCE_LEN, g->retry_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

void engine_balance_free(struct engine *e)
{
	if (!e->balance)
		return;
	free(e->balance->svc);
	free(e->balance->decisions);
	free(e->balance->retry);
	hidx_free(&e->balance->retry_ix);
	free(e->balance);
	e->balance = NULL;
}

static struct engine_balance *group_get(struct engine *e)
{
	struct engine_balance *g;

	if (e->balance)
		return e->balance;
	if (!(g = calloc(1, sizeof(*g))))
		return NULL;
	g->decisions = calloc(e->pol.n_group + 1, sizeof(uint64_t));
	g->retry = calloc(RETRY_SLOTS, sizeof(*g->retry));
	if (!g->decisions || !g->retry ||
	    hidx_reserve(&g->retry_ix, &retry_type, g->retry, RETRY_SLOTS) < 0) {
		free(g->decisions);
		free(g->retry);
		hidx_free(&g->retry_ix);
		free(g);
		return NULL;
	}
	crypto_shorthash_keygen(g->retry_key);
	e->balance = g;
	return g;
}

static struct grp_svc *svc_get(struct engine *e, struct engine_balance *g, const char *service)
{
	struct grp_svc *n, *s;

	for (size_t i = 0; i < g->n_svc; i++)
		if (!strcmp(g->svc[i].service, service))
			return &g->svc[i];
	n = realloc(g->svc, (g->n_svc + 1) * sizeof(*n));
	if (!n)
		return NULL;
	g->svc = n;
	s = &g->svc[g->n_svc];
	memset(s, 0, sizeof(*s));
	snprintf(s->service, sizeof(s->service), "%s", service);
	for (size_t i = 0; i < e->pol.n_group && s->n < POL_MAX_MEMBERS; i++) {
		for (size_t k = 0; k < e->pol.group[i].n_services; k++) {
			if (strcmp(e->pol.group[i].services[k], service))
				continue;
			s->idx[s->n] = (uint16_t)i;
			s->bit[s->n] = (uint8_t)(k < 64 ? k : 255);
			s->m[s->n++].weight = e->pol.group[i].weight;
			break;
		}
	}
	if (s->n == 0)
		return NULL; /* nobody hosts it: not kept */
	g->n_svc++;
	return s;
}

static bool is_local(const struct engine *e, const struct cn_coop_addr *a)
{
	for (size_t i = 0; i < e->n_udp; i++)
		if (cn_coop_addr_equal(&e->udp_addr[i], a, true))
			return true;
	return false;
}

/* What group_view.h says of member k of s; UNKNOWN (no group application) is eligible. */
static void refresh(struct engine *e, struct grp_svc *s, size_t k)
{
	const struct member_view *v = e->members ? &e->members[s->idx[k]] : NULL;

	s->m[k].eligible = true;
	s->m[k].load = s->pending[k];
	if (!v)
		return;
	if (v->seen_ms != s->seen[k]) {
		s->seen[k] = v->seen_ms; /* a new report counts our decisions in */
		s->pending[k] = 0;
	}
	s->m[k].load = v->load + s->pending[k];
	if (v->state == MEMBER_DOWN ||
	    (s->bit[k] < 64 && (v->services_down >> s->bit[k]) & 1))
		s->m[k].eligible = false;
}

/* The ring slot of nonce, or NULL. */
static struct grp_retry *retry_find(struct engine_balance *g, const uint8_t *nonce)
{
	struct grp_retry key;
	long pos;

	memcpy(key.nonce, nonce, CN_COOP_NONCE_LEN);
	key.hash = retry_hash(g, nonce);
	pos = hidx_find(&g->retry_ix, &retry_type, g->retry, &key);
	return pos < 0 ? NULL : &g->retry[pos];
}

/* A new REQ (its nonce not in the ring): the ring's oldest slot, unindexed and reused. */
static struct grp_retry *retry_add(struct engine_balance *g, const uint8_t *nonce)
{
	size_t slot = g->next_retry++ % RETRY_SLOTS;
	struct grp_retry *r = &g->retry[slot];

	if (r->used)
		hidx_remove(&g->retry_ix, &retry_type, g->retry, slot);
	memcpy(r->nonce, nonce, CN_COOP_NONCE_LEN);
	r->hash = retry_hash(g, nonce);
	r->used = true;
	/* room for RETRY_SLOTS was reserved in group_get: no allocation, no failure */
	hidx_insert(&g->retry_ix, &retry_type, g->retry, slot);
	return r;
}

/* 0 with *sp, 1 when it is this host, -1 unknown service, -2 no member up (auth_fsm.h). */
int engine_balance_route(struct engine *e, const char *service, const uint8_t *nonce,
		       struct cn_coop_addr *sp)
{
	struct engine_balance *g = group_get(e);
	struct grp_svc *s = g ? svc_get(e, g, service) : NULL;
	struct grp_retry *r;
	bool avoided = false;
	int k;

	if (!s)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		refresh(e, s, i);
	r = retry_find(g, nonce);
	if (r)
		e->counters[CNT_BALANCE_REPEATS]++; /* a retransmission reached this header again */
	for (size_t i = 0; r && i < s->n; i++) {
		/* the SP this REQ went to did not answer: another one, if any is eligible */
		if (s->idx[i] == r->member && s->m[i].eligible) {
			s->m[i].eligible = false;
			k = cn_balance_pick(e->pol.balance, s->m, s->n, randombytes_random());
			s->m[i].eligible = true;
			if (k >= 0) {
				avoided = true;
				e->counters[CNT_GROUP_RETRY_AVOIDED]++;
				goto chosen;
			}
		}
	}
	k = cn_balance_pick(e->pol.balance, s->m, s->n, randombytes_random());
	if (k < 0)
		return -2;
chosen:
	(void)avoided;
	s->pending[k]++;
	g->decisions[s->idx[k]]++;
	e->counters[CNT_BALANCE_DECISIONS]++;
	if (!r)
		r = retry_add(g, nonce);
	r->member = s->idx[k];
	if (is_local(e, &e->pol.group[s->idx[k]].addr) && e->sp)
		return 1;
	*sp = e->pol.group[s->idx[k]].addr;
	return 0;
}

/* `coopnetctl group`: the decisions this header made for each entry of pol.group, or NULL. */
const uint64_t *engine_balance_decisions(const struct engine *e)
{
	return e->balance ? e->balance->decisions : NULL;
}

/* --- supervisor: failover ----------------------------------------------------------------- */

static struct grp_failover *fo_find(struct engine_balance *g, const struct cn_coop_addr *client,
				    const char *service)
{
	for (size_t i = 0; i < FAILOVER_SLOTS; i++)
		if (g->fo[i].used && cn_coop_addr_equal(&g->fo[i].client, client, false) &&
		    !strcmp(g->fo[i].service, service))
			return &g->fo[i];
	return NULL;
}

/* The SP of a session (status: unreachable, or its vNIC down) is gone: authenticate the
 * client again; the header chooses another SP (a retransmission never goes to the same
 * one twice, and gmsg's view marks it down). */
void engine_failover_start(struct engine *e, const struct cn_coop_addr *client,
			   const char *service, const struct cn_coop_addr *sp_peer)
{
	const struct pol_service *svc = policy_service_by_name(&e->pol, service);
	const struct pol_member *dead = svc ? policy_member_by_sp(svc, sp_peer) : NULL;
	struct engine_balance *g = group_get(e);
	struct grp_failover *f;
	char err[256], c[CN_COOP_ADDRSTRLEN];
	uint64_t handle;

	if (!dead || svc->n_members < 2 || !g)
		return; /* not a group service: nowhere else to go */
	f = fo_find(g, client, service);
	for (size_t i = 0; !f && i < FAILOVER_SLOTS; i++)
		if (!g->fo[i].used)
			f = &g->fo[i];
	if (!f)
		return;
	f->used = true;
	f->client = *client;
	f->client.port = 0;
	snprintf(f->service, sizeof(f->service), "%s", service);
	f->dead = dead->addr;
	cn_coop_addr_format(client, c, sizeof(c));
	if (engine_auth_start_opt(e, &f->client, service, true, &handle, err, sizeof(err)) < 0) {
		log_debug("failover of %s for %s: %s", c, service, err);
		if (!strstr(err, "already running"))
			f->used = false;
		return;
	}
	log_info("failover: %s for %s leaves its SP, authenticating again", c, service);
}

struct drop_arg {
	struct engine *e;
	const struct cn_coop_addr *client;
	const char *service;
	const struct cn_coop_addr *dead;
	int n;
};

static int drop_cb(const struct db_session *s, void *arg)
{
	struct drop_arg *a = arg;
	size_t len = s->s.family == AF_INET ? 4 : 16;

	if (strcmp(s->service_name, a->service) ||
	    s->s.family != (a->client->family == CN_FAM_INET ? AF_INET : AF_INET6) ||
	    memcmp(s->s.client, a->client->addr, len) || memcmp(s->s.service, a->dead->addr, len))
		return 0;
	if (engine_session_drop(a->e, s, CNT_SESSIONS_REVOKED, true) == 0)
		a->n++;
	return 0;
}

/* a.n: the client has a session of the service on another member than the dead one */
static int moved_cb(const struct db_session *s, void *arg)
{
	struct drop_arg *a = arg;
	size_t len = s->s.family == AF_INET ? 4 : 16;

	if (!strcmp(s->service_name, a->service) &&
	    s->s.family == (a->client->family == CN_FAM_INET ? AF_INET : AF_INET6) &&
	    !memcmp(s->s.client, a->client->addr, len) && memcmp(s->s.service, a->dead->addr, len))
		a->n = 1;
	return 0;
}

/* An Authentication of a group service ended: after a failover, the sessions on the dead
 * SP go (their open connections are lost with it; new ones use the new session). */
void engine_failover_done(struct engine *e, const struct cn_coop_addr *client,
			  const char *service, bool ok)
{
	struct grp_failover *f = e->balance ? fo_find(e->balance, client, service) : NULL;
	struct drop_arg a = { .e = e, .client = client, .service = service };

	if (!f)
		return;
	f->used = false;
	if (!ok)
		return; /* the next report (or probe) that misses tries again */
	a.dead = &f->dead;
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, moved_cb, &a) < 0)
		e->counters[CNT_DB_ERRORS]++;
	if (!a.n) {
		/* the header chose the same SP again (without the group application it does not
		 * know that the SP's vNIC is down): the new session has the old one's key, keep it */
		log_info("failover of %s: the header chose the same SP again", service);
		return;
	}
	a.n = 0;
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, drop_cb, &a) < 0)
		e->counters[CNT_DB_ERRORS]++;
	e->counters[CNT_FAILOVERS]++;
}

struct newest_arg {
	const struct cn_coop_addr *client;
	const char *service;
	struct db_session *out;
	int found;
};

static int newest_cb(const struct db_session *s, void *arg)
{
	struct newest_arg *a = arg;
	size_t len = s->s.family == AF_INET ? 4 : 16;

	if (strcmp(s->service_name, a->service) ||
	    s->s.family != (a->client->family == CN_FAM_INET ? AF_INET : AF_INET6) ||
	    memcmp(s->s.client, a->client->addr, len))
		return 0;
	if (!a->found || s->refreshed > a->out->refreshed) {
		*a->out = *s;
		a->found = 1;
	}
	return 0;
}

/* The client's newest session of a group service (its key names the member's address, not
 * the service's): 1, 0 none, -1 database error. */
int engine_failover_find(struct engine *e, const struct cn_coop_addr *client,
			 const char *service, struct db_session *out)
{
	struct newest_arg a = { .client = client, .service = service, .out = out };

	memset(out, 0, sizeof(*out));
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, newest_cb, &a) < 0)
		return -1;
	return a.found;
}
