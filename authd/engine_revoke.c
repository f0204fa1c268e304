/* SPDX-License-Identifier: MIT */
/*
 * Revocation (docs/authd.md, "Revocation"): between the two ends of a session (the
 * revocation state machine's side in the engine: the keys of our sessions, what happens when
 * the peer revokes one, a revocation it never acknowledged), and after a reload (the sessions
 * the new policy no longer allows).
 */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* --- revocation between the two ends of a session ---------------------------------------- */

void engine_revoke_peer(struct engine *e, const struct db_session *s)
{
	struct cn_coop_addr to;
	char id[CN_ID_STRLEN];

	if (!e->rv || !s->has_key)
		return; /* a session from before schema 3: the peer's copy expires on its own */
	if (cn_coop_addr_parse_port(&to, s->peer) < 0) {
		log_warnx("revoke: session %s has no peer address (\"%s\")",
			  cn_id_format_hex(s->s.id, id, sizeof(id)), s->peer);
		return;
	}
	if (auth_rv_send(e->rv, &to, s->s.id, s->service_name, s->session_key) < 0)
		log_warnx("revoke: cannot tell %s about %s: %s", s->peer,
			  cn_id_format_hex(s->s.id, id, sizeof(id)), strerror(errno));
}

static enum db_role my_role(const struct engine *e)
{
	return e->ss ? DB_ROLE_SUPERVISOR : DB_ROLE_PROVIDER;
}

struct rv_keys {
	const char *service;
	uint8_t (*keys)[CN_KEY_LEN];
	size_t max, n;
	const uint8_t *key;          /* rv_revoked: the session with this key */
	struct engine *e;
};

static int rv_keys_cb(const struct db_session *s, void *arg)
{
	struct rv_keys *k = arg;

	if (s->has_key && !strcmp(s->service_name, k->service) && k->n < k->max)
		memcpy(k->keys[k->n++], s->session_key, CN_KEY_LEN);
	return 0;
}

static size_t rv_op_keys(void *ctx, cn_id_t id, const char *service,
			 const struct cn_coop_addr *from, uint8_t (*keys)[CN_KEY_LEN], size_t max)
{
	struct engine *e = ctx;
	struct rv_keys k = { .service = service, .keys = keys, .max = max };

	(void)from; /* the proof with K_s decides, not the address (NAT, several sockets) */
	if (db_session_foreach_id(e->db, my_role(e), id, rv_keys_cb, &k) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("revoke: %s", db_error(e->db));
		return 0;
	}
	return k.n;
}

static int rv_revoked_cb(const struct db_session *s, void *arg)
{
	struct rv_keys *k = arg;

	if (s->has_key && !strcmp(s->service_name, k->service) &&
	    cn_auth_equal(s->session_key, k->key, CN_KEY_LEN)) {
		engine_session_drop(k->e, s, CNT_SESSIONS_PEER_REVOKED, false);
		return 1;
	}
	return 0;
}

static void rv_op_revoked(void *ctx, cn_id_t id, const char *service,
			  const uint8_t key[CN_KEY_LEN], const struct cn_coop_addr *from)
{
	struct engine *e = ctx;
	struct rv_keys k = { .service = service, .key = key, .e = e };
	char peer[CN_COOP_ADDRSTRLEN];

	log_info("%s revoked the session for %s", cn_coop_addr_format(from, peer, sizeof(peer)),
		 service);
	if (db_session_foreach_id(e->db, my_role(e), id, rv_revoked_cb, &k) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("revoke: %s", db_error(e->db));
	}
	/* authenticate at start again at once (an entry whose session is gone) */
	if (e->ss)
		engine_start_entries(e);
}

static void rv_op_result(void *ctx, cn_id_t id, const char *service,
			 const struct cn_coop_addr *to, bool acked)
{
	struct engine *e = ctx;
	char peer[CN_COOP_ADDRSTRLEN], ids[CN_ID_STRLEN];

	if (acked)
		return;
	e->counters[CNT_REVOKE_UNACKED]++;
	log_warnx("%s never acknowledged the revocation of %s for %s",
		  cn_coop_addr_format(to, peer, sizeof(peer)), cn_id_format_hex(id, ids, sizeof(ids)),
		  service);
}

static void rv_op_event(void *ctx, const struct auth_event *ev)
{
	engine_auth_event(ctx, ev);
}

/* The revocation state machine of a supervisor or a provider (engine_auth.c calls it). */
int engine_revoke_setup(struct engine *e)
{
	const struct auth_rv_ops ops = {
		.ctx = e, .now_ms = engine_op_now, .wall_ms = engine_op_wall,
		.send = engine_op_send, .keys = rv_op_keys, .revoked = rv_op_revoked,
		.result = rv_op_result, .event = rv_op_event,
	};
	const struct auth_rv_config c = {
		.timing = e->timing,
		.dir = (e->cfg->roles & POLICY_ROLE_SUPERVISOR) ? CN_DIR_SS_TO_SP : CN_DIR_SP_TO_SS,
		.replay = &e->replay,
	};

	e->rv = auth_rv_new(&ops, &c);
	return e->rv ? 0 : -1;
}

/* --- revocation after a reload ----------------------------------------------------------- */

struct revoke_ctx {
	struct engine *e;
	const struct policy *old;
	int n;
};

static bool same_key(const struct pol_client *a, const struct pol_client *b, const char *svc)
{
	const uint8_t *ka = a ? policy_client_key(a, svc) : NULL;
	const uint8_t *kb = b ? policy_client_key(b, svc) : NULL;

	return ka && kb && cn_auth_equal(ka, kb, CN_KEY_LEN);
}

static struct cn_coop_addr session_addr(const struct db_session *s, const uint8_t *a,
					uint16_t port)
{
	struct cn_coop_addr r;

	memset(&r, 0, sizeof(r));
	r.family = s->s.family == AF_INET ? CN_FAM_INET : CN_FAM_INET6;
	memcpy(r.addr, a, s->s.family == AF_INET ? 4 : 16);
	r.port = port;
	return r;
}

/* Would the current policy issue this session again, with the same key? */
static bool still_allowed(const struct engine *e, const struct policy *old,
			  const struct db_session *s)
{
	const struct policy *p = &e->pol;
	struct cn_coop_addr client = session_addr(s, s->s.client, 0);
	struct cn_coop_addr service = session_addr(s, s->s.service, s->s.port);
	const struct pol_client *now_c, *old_c;

	if (s->role == DB_ROLE_PROVIDER) {
		uint16_t port;
		const struct pol_vnic *vn = policy_vnic_for(p, s->service_name, &port);
		struct cn_coop_addr va;
		if (!vn)
			return false;
		if (!policy_vnic_addr(vn, service.family, &va))
			return false;
		va.port = port;
		now_c = policy_sp_client_by_name(p, s->client_name);
		old_c = policy_sp_client_by_name(old, s->client_name);
		return cn_coop_addr_equal(&va, &service, true) && now_c &&
		       pol_prefix_contains(&now_c->prefix, &client) &&
		       policy_client_allows(now_c, s->service_name) &&
		       same_key(now_c, old_c, s->service_name);
	}
	{
		const struct pol_service *svc = policy_service_by_name(p, s->service_name);
		if (!svc || !cn_coop_addr_equal(&svc->addr, &service, true))
			return false;
		now_c = policy_client_for(p->ss_clients, p->n_ss_clients, &client, s->service_name);
		old_c = policy_client_for(old->ss_clients, old->n_ss_clients, &client,
					  s->service_name);
		return now_c && same_key(now_c, old_c, s->service_name);
	}
}

static int revoke_cb(const struct db_session *s, void *arg)
{
	struct revoke_ctx *c = arg;

	if (!still_allowed(c->e, c->old, s) &&
	    engine_session_remove(c->e, s, CNT_SESSIONS_REVOKED) == 0)
		c->n++;
	return 0;
}

int engine_revoke_disallowed(struct engine *e, const struct policy *old)
{
	struct revoke_ctx c = { .e = e, .old = old, .n = 0 };

	if (db_session_foreach(e->db, 0, revoke_cb, &c) < 0)
		log_warnx("reload: %s", db_error(e->db));
	return c.n;
}
