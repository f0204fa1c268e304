/* SPDX-License-Identifier: MIT */
/*
 * The engine's side of the state machines (authd/auth_fsm.h): their clock, their sockets,
 * the policy and database lookups they ask for, and what happens when an exchange ends.
 */
#include "coop_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "log.h"

#define REPLAY_SLACK_S 2
/* An SS's exchanges in flight (and lingering) at once: one per new client of a morning rush,
 * as many as its coopnet-nfq holds SYNs (miss_hold_max, 2,048 per queue thread by default;
 * docs/nfq.md). 832 bytes each (auth_ss.c's struct ss_exch): 3.3 MB. */
#define SS_EXCHANGE_SLOTS 4096

uint64_t engine_op_now(void *ctx)
{
	(void)ctx;
	return engine_now_ms();
}

uint64_t engine_op_wall(void *ctx)
{
	(void)ctx;
	return engine_wall_ms();
}

static void op_event(void *ctx, const struct auth_event *ev)
{
	engine_auth_event(ctx, ev);
}

/* Send from the first socket of the destination's family. */
int engine_op_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len)
{
	struct engine *e = ctx;
	struct sockaddr_storage ss;
	socklen_t sl = cn_coop_addr_to_sockaddr(to, &ss);

	for (size_t i = 0; sl && i < e->n_udp; i++) {
		if (e->udp_addr[i].family != to->family)
			continue;
		/* in a batched turn: held until the turn commits, then sent with sendmmsg */
		return engine_udp_send(e, i, (struct sockaddr *)&ss, sl, buf, len);
	}
	e->counters[CNT_UDP_ERRORS]++;
	return -1;
}

void engine_auth_event(struct engine *e, const struct auth_event *ev)
{
	char peer[CN_COOP_ADDRSTRLEN] = "?";

	if ((int)ev->kind >= 0 && ev->kind <= AUTH_EV_KIND_MAX)
		e->counters[ev->kind]++;
	if (ev->peer)
		cn_coop_addr_format(ev->peer, peer, sizeof(peer));
	switch (ev->kind) {
	case AUTH_EV_BAD_PROOF:
	case AUTH_EV_RATE_LIMITED:
	case AUTH_EV_REPLAY:
	case AUTH_EV_BAD_MAC:
	case AUTH_EV_STALE:
	case AUTH_EV_UNKNOWN_CLIENT:
	case AUTH_EV_UNKNOWN_SERVICE:
		/* what an administrator must see: never a key, never a passcode; input from
		 * outside, so a flood is summarised (lib/logrl.h) */
		if (!engine_log_allow(e, ev->kind))
			break;
		log_warnx("%s from %s%s%s%s%s", auth_event_name(ev->kind), peer,
			  ev->service ? " for " : "", ev->service ? ev->service : "",
			  ev->detail ? ": " : "", ev->detail ? ev->detail : "");
		break;
	default:
		log_debug("%s %s%s%s%s%s", auth_event_name(ev->kind), peer,
			  ev->service ? " for " : "", ev->service ? ev->service : "",
			  ev->detail ? ": " : "", ev->detail ? ev->detail : "");
	}
}

bool engine_log_allow(struct engine *e, enum auth_event_kind kind)
{
	uint64_t ended;
	bool ok = log_rl_allow(&e->log_rl[kind], engine_now_ms(), &ended);

	if (ended)
		log_warnx("%s: %" PRIu64 " similar line(s) suppressed", auth_event_name(kind), ended);
	return ok;
}

void engine_log_flush(struct engine *e)
{
	uint64_t now = engine_now_ms(), ended;

	for (int k = 0; k <= AUTH_EV_KIND_MAX; k++)
		if ((ended = log_rl_flush(&e->log_rl[k], now)))
			log_warnx("%s: %" PRIu64 " similar line(s) suppressed",
				  auth_event_name((enum auth_event_kind)k), ended);
}

/* --- the replay cache in the database -------------------------------------------------- */

static bool replay_seen(void *ctx, const uint8_t digest[CN_DIGEST_LEN], uint64_t ts_ms)
{
	struct engine *e = ctx;
	int r = db_replay_seen(e->db, digest, CN_DIGEST_LEN);

	(void)ts_ms;
	if (r < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("replay cache: %s", db_error(e->db));
		return true; /* fail closed */
	}
	return r == 1;
}

static int replay_add(void *ctx, const uint8_t digest[CN_DIGEST_LEN], uint64_t ts_ms)
{
	struct engine *e = ctx;
	/* past ts + window the message is refused as stale: the digest can go then */
	int64_t expires = (int64_t)((ts_ms + e->timing.window_ms) / 1000) + REPLAY_SLACK_S;

	if (engine_tx_write(e) < 0)
		return -1; /* fail closed: the state machine answers nothing that needs it */
	if (db_replay_check_add(e->db, digest, CN_DIGEST_LEN, expires) < 0) {
		engine_tx_check(e);
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("replay cache: %s", db_error(e->db));
		return -1;
	}
	engine_tx_digest(e, digest);
	return 0;
}

/* --- provider -------------------------------------------------------------------------- */

static int op_lookup(void *ctx, const char *service, const char *client_name,
		     const struct cn_coop_addr *client, struct auth_sp_entry *out)
{
	struct engine *e = ctx;
	const struct pol_client *cl;
	const struct pol_vnic *vn;
	const uint8_t *key;
	uint16_t port;

	vn = policy_vnic_for(&e->pol, service, &port);
	if (!vn)
		return -1;
	cl = policy_sp_client_by_name(&e->pol, client_name);
	if (!cl || !pol_prefix_contains(&cl->prefix, client) || !policy_client_allows(cl, service))
		return -2;
	key = policy_client_key(cl, service);
	if (!key)
		return -2;
	memset(out, 0, sizeof(*out));
	memcpy(out->key, key, CN_KEY_LEN);
	out->vnic.kind = CN_SENDER_VNIC;
	if (!policy_vnic_addr(vn, client->family, &out->vnic.addr))
		out->vnic.addr = vn->addr; /* no address of the client's family: commit refuses */
	out->vnic.addr.port = port;
	cn_coop_set_name(&out->vnic, vn->name);
	out->vnic.lifetime_s = e->pol.id_lifetime; /* the SS expires its copy with it */
	/* the summary of the info_vNIC the status application would send now */
	{
		struct cn_status_vnic v;

		engine_status_vnic(e, service, &v);
		out->vnic_status = (uint8_t)cn_status_vnic_summary(&v);
	}
	return 0;
}

static bool op_id_in_use(void *ctx, cn_id_t id)
{
	struct engine *e = ctx;
	int r = db_id_in_use(e->db, id);

	if (r < 0) {
		e->counters[CNT_DB_ERRORS]++;
		return true; /* never risk a duplicate */
	}
	return r == 1;
}

static int to_af(uint8_t fam)
{
	return fam == CN_FAM_INET ? AF_INET : AF_INET6;
}

static void coop_to_bytes(const struct cn_coop_addr *a, uint8_t out[16])
{
	memcpy(out, a->addr, 16);
}

/* What both roles store alike for a session: the client, the peer (SS or SP), names, times
 * and K_s. The caller sets the service address, port and expiry. */
static void session_record(struct db_session *d, enum db_role role,
			   const struct cn_coop_addr *client, const struct cn_coop_addr *peer,
			   const char *service, const char *client_name, const char *vnic,
			   cn_id_t id, const uint8_t *session_key, int64_t now)
{
	memset(d, 0, sizeof(*d));
	d->role = role;
	d->s.family = to_af(client->family);
	coop_to_bytes(client, d->s.client);
	d->s.id = id;
	snprintf(d->s.vnic, sizeof(d->s.vnic), "%s", vnic);
	cn_coop_addr_format(peer, d->peer, sizeof(d->peer));
	snprintf(d->service_name, sizeof(d->service_name), "%s", service);
	snprintf(d->client_name, sizeof(d->client_name), "%s", client_name);
	d->created = d->refreshed = now;
	memcpy(d->session_key, session_key, sizeof(d->session_key));
	d->has_key = true;
}

/* The provider's record of s, as committed (and as prepared ahead of the commit). */
static void provider_record(const struct engine *e, const struct auth_sp_session *s,
			    struct db_session *d, int64_t now)
{
	session_record(d, DB_ROLE_PROVIDER, &s->client, &s->ss, s->service, s->client_name,
		       s->vnic.name, s->id, s->session_key, now);
	coop_to_bytes(&s->vnic.addr, d->s.service);
	d->s.port = s->vnic.addr.port;
	d->s.expires = e->pol.id_lifetime ? (uint64_t)now + e->pol.id_lifetime : 0;
}

/*
 * A first session for (client, service, port) goes to the data plane when the REQ is
 * accepted, and its Auth-REP&REQ waits for it (engine_gate.c): the SS releases the client's
 * held SYN after its Auth-REP, which must find the SP's data plane ready. A renewal (a session
 * of the key exists with another ID) goes there as accepted ahead (session-accept): the data
 * plane accepts the new ID, which the SS writes from its receipt of the REP&REQ on, and goes
 * on writing the old one until the commit's session-add. The tag is the data-plane epoch: a
 * session-sync in between replaces what went ahead (a first session: the commit adds it
 * again; a renewal's commit always sends its session-add).
 */
/* op_prepare's tag of a renewal accepted ahead (the data-plane epochs count up from 1) */
#define PREPARED_AHEAD UINT64_MAX

static uint64_t op_prepare(void *ctx, const struct auth_sp_session *s)
{
	struct engine *e = ctx;
	struct db_session d;
	bool ahead = false;
	cn_id_t old_id = 0;
	int r;

	if (!engine_data_plane(e) || s->client.family != s->vnic.addr.family)
		return 0;
	provider_record(e, s, &d, (int64_t)(engine_wall_ms() / 1000));
	r = db_session_id(e->db, DB_ROLE_PROVIDER, &d.s, &old_id);
	if (r == 0)
		engine_gate_prepare(e, &d, IMSG_SESSION_ADD);
	else if ((ahead = r == 1 && old_id != d.s.id))
		engine_gate_prepare(e, &d, IMSG_SESSION_ACCEPT);
	sodium_memzero(&d, sizeof(d));
	/* a renewal's tag is never an epoch: its commit always sends the session-add */
	return r == 0 ? e->dp_epoch : r == 1 && ahead ? PREPARED_AHEAD : 0;
}

/* The exchange ended without a commit: a first session out of the data plane again, unless a
 * session of the key was stored meanwhile; a renewal's ID accepted ahead withdrawn (the data
 * plane drops it only while it is still the one accepted ahead: not after a commit of it by
 * another exchange). */
static void op_unprepare(void *ctx, const struct auth_sp_session *s)
{
	struct engine *e = ctx;
	struct db_session d;
	struct imsg_session m;
	cn_id_t old_id = 0;
	int r;

	engine_gate_disarm(e); /* its REP&REQ may never have been sent */
	provider_record(e, s, &d, 0);
	r = db_session_id(e->db, DB_ROLE_PROVIDER, &d.s, &old_id);
	if (r == 0 || (r == 1 && old_id != d.s.id && engine_data_plane(e))) {
		engine_session_msg(&m, &d, r == 0);
		e->counters[CNT_NFQ_REQUESTS]++;
		engine_parent_send(e, r == 0 ? IMSG_SESSION_DEL : IMSG_SESSION_WITHDRAW, &m);
	}
	sodium_memzero(&d, sizeof(d));
}

static int op_commit(void *ctx, const struct auth_sp_session *s)
{
	struct engine *e = ctx;
	int64_t now = (int64_t)(engine_wall_ms() / 1000);
	struct db_session d;
	char peer[CN_COOP_ADDRSTRLEN], id[CN_ID_STRLEN], client[CN_COOP_ADDRSTRLEN];
	int r;

	if (s->client.family != s->vnic.addr.family) {
		log_warnx("commit: client and vNIC of different families");
		return -1;
	}
	provider_record(e, s, &d, now);
	cn_coop_addr_format(&s->ss, peer, sizeof(peer));
	/* in the data plane already (no session-sync replaced its table since): no second add */
	e->dp_prepared = s->prepared && s->prepared == e->dp_epoch;
	r = engine_session_store(e, &d);
	e->dp_prepared = false;
	if (r == 0)
		engine_tx_session(e, &d); /* stored again alone if the turn rolls back */
	sodium_memzero(&d, sizeof(d));
	if (r < 0)
		return -1;
	e->counters[CNT_AUTH_OK]++;
	log_info("session %s: client %s (%s) for %s on %s, via %s",
		 cn_id_format_hex(s->id, id, sizeof(id)),
		 cn_coop_addr_format(&s->client, client, sizeof(client)), s->client_name,
		 s->service, s->vnic.name, peer);
	return 0;
}

/* --- header ---------------------------------------------------------------------------- */

/* The balancer over the SPs that host the service (engine_balance.c, docs/groups.md). */
static int op_route(void *ctx, const char *service, const uint8_t nonce_ss[CN_COOP_NONCE_LEN],
		    struct cn_coop_addr *sp)
{
	return engine_balance_route(ctx, service, nonce_ss, sp);
}

/* --- supervisor ------------------------------------------------------------------------ */

/* The member of a group service that authenticated the session, when of the client's family:
 * a session from any other SP is refused (fail closed: the DNAT only goes where the
 * policy says). */
static const struct pol_member *group_member(const struct engine *e, const struct pol_service *svc,
					     const struct auth_ss_outcome *o)
{
	const struct pol_member *mb = policy_member_by_sp(svc, &o->sp);

	(void)e;
	if (!mb || mb->addr.family != o->client.family) {
		char sp[CN_COOP_ADDRSTRLEN];

		log_warnx("group service %s: %s is no member of it for this client's family: "
			  "session refused", svc->name, cn_coop_addr_format(&o->sp, sp, sizeof(sp)));
		return NULL;
	}
	return mb;
}

static void op_done(void *ctx, const struct auth_ss_outcome *o)
{
	struct engine *e = ctx;
	const struct pol_service *svc = policy_service_by_name(&e->pol, o->service);
	char client[CN_COOP_ADDRSTRLEN], sp[CN_COOP_ADDRSTRLEN], id[CN_ID_STRLEN];
	int64_t now = (int64_t)(engine_wall_ms() / 1000);
	struct db_session d, old;
	bool renewed, stored;
	json_t *reply;

	for (size_t i = 0; i < e->pol.n_start; i++) {
		if (e->start[i].handle != o->handle)
			continue;
		e->start[i].handle = 0;
		if (o->result != AUTH_OK) {
			e->start[i].backoff_ms = e->start[i].backoff_ms ? e->start[i].backoff_ms * 2 : 2000;
			if (e->start[i].backoff_ms > 60000)
				e->start[i].backoff_ms = 60000;
			e->start[i].next_try_ms = engine_now_ms() + e->start[i].backoff_ms;
		} else {
			e->start[i].backoff_ms = 0;
		}
	}
	cn_coop_addr_format(&o->client, client, sizeof(client));
	cn_coop_addr_format(&o->sp, sp, sizeof(sp));
	if (o->result != AUTH_OK && svc && svc->n_members)
		engine_failover_done(e, &o->client, o->service, false);
	if (o->result != AUTH_OK) {
		e->counters[CNT_AUTH_FAILED]++;
		log_warnx("authentication of %s for %s failed: %s%s%s", client, o->service,
			  auth_result_name(o->result), o->result == AUTH_FAIL_RST ? ": " : "",
			  o->result == AUTH_FAIL_RST ? cn_auth_error_name(o->error) : "");
		reply = ctl_reply_error("%s%s", o->result == AUTH_FAIL_RST ? "Auth-RST: " :
					o->result == AUTH_FAIL_TIMEOUT ? "no answer: " : "",
					o->result == AUTH_FAIL_RST ? cn_auth_error_name(o->error) :
					auth_result_name(o->result));
		if (reply) {
			json_object_set_new(reply, "result", json_string(auth_result_name(o->result)));
			json_object_set_new(reply, "reason", json_string(o->result == AUTH_FAIL_RST ?
					    cn_auth_error_name(o->error) : ""));
		}
		engine_ctl_auth_done(e, o->handle, reply);
		return;
	}
	session_record(&d, DB_ROLE_SUPERVISOR, &o->client, &o->sp, o->service, o->client_name,
		       o->vnic.name, o->id, o->session_key, now);
	/* the SS's data plane matches what its LAN clients dial: the policy's address; for a
	 * group service, the member's address its connections are DNATed to (docs/groups.md) */
	if (svc && svc->n_members) {
		const struct pol_member *mb = group_member(e, svc, o);

		if (!mb) {
			engine_failover_done(e, &o->client, o->service, false);
			sodium_memzero(&d, sizeof(d));
			e->counters[CNT_AUTH_FAILED]++;
			engine_ctl_auth_done(e, o->handle, ctl_reply_error("authenticated by %s, "
					     "which is no member of group service \"%s\" (policy "
					     "supervisor.services[].members)", sp, o->service));
			return;
		}
		coop_to_bytes(&mb->addr, d.s.service);
		d.s.port = svc->addr.port;
	} else if (svc && svc->addr.family == o->client.family) {
		coop_to_bytes(&svc->addr, d.s.service);
		d.s.port = svc->addr.port;
	} else {
		coop_to_bytes(&o->vnic.addr, d.s.service);
		d.s.port = o->vnic.addr.port;
	}
	/* the SP's lifetime, counted from now: the SP commits later, so the SS's copy never
	 * outlives the SP's */
	d.s.expires = o->vnic.lifetime_s ? (uint64_t)now + o->vnic.lifetime_s : 0;
	cn_coop_addr_format(&o->sp, sp, sizeof(sp));
	renewed = d.s.port != 0 && db_session_get(e->db, DB_ROLE_SUPERVISOR, &d.s, &old) == 1;
	sodium_memzero(&old, sizeof(old));
	stored = d.s.port != 0 && engine_session_store(e, &d) == 0;
	/* the control client's answer says "stored": commit the turn first */
	if (stored && engine_flush(e) < 0)
		stored = false;
	sodium_memzero(d.session_key, sizeof(d.session_key));
	/* after the new session: its DNAT element replaces the old one in one batch, with no
	 * moment without one (a SYN then would be a session-miss) */
	if (svc && svc->n_members)
		engine_failover_done(e, &o->client, o->service, stored);
	if (!stored) {
		e->counters[CNT_AUTH_FAILED]++;
		engine_ctl_auth_done(e, o->handle, ctl_reply_error("authenticated, but the session "
								   "could not be stored"));
		return;
	}
	e->counters[CNT_AUTH_OK]++;
	if (renewed)
		e->counters[CNT_SESSIONS_RENEWED]++;
	log_info("%s %s for %s: ID %s from %s", renewed ? "renewed" : "authenticated", client,
		 o->service, cn_id_format_hex(o->id, id, sizeof(id)), sp);
	engine_ctl_auth_done(e, o->handle, json_pack("{s:b, s:o}", "ok", 1, "session",
						     cn_session_to_json(&d.s)));
}

/* The SP never committed a session we stored (it gave up waiting for our Auth-REP, which was
 * lost every time, and said so with an authenticated Auth-RST timeout): revoke ours. */
static int lost_cb(const struct db_session *s, void *arg)
{
	const struct auth_ss_outcome *o = ((void **)arg)[1];
	struct engine *e = ((void **)arg)[0];

	if (s->s.id == o->id && s->s.family == to_af(o->client.family) &&
	    !memcmp(s->s.client, o->client.addr, s->s.family == AF_INET ? 4 : 16) &&
	    !strcmp(s->service_name, o->service))
		engine_session_drop(e, s, CNT_SESSIONS_REVOKED, false); /* the SP has none */
	return 0;
}

static void op_lost(void *ctx, const struct auth_ss_outcome *o)
{
	struct engine *e = ctx;
	char client[CN_COOP_ADDRSTRLEN], id[CN_ID_STRLEN];
	void *arg[2] = { e, (void *)(uintptr_t)o };

	log_warnx("the SP never got our Auth-REP for %s %s (ID %s): revoking the session",
		  cn_coop_addr_format(&o->client, client, sizeof(client)), o->service,
		  cn_id_format_hex(o->id, id, sizeof(id)));
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, lost_cb, arg) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("database: %s", db_error(e->db));
	}
}

/* --- the handlers of the Authentication application (authd/coop_app.h) ------------------- */

static void unexpected(struct engine *e, const struct cn_coop_addr *from,
		       const struct auth_dgram *d)
{
	struct auth_event ev = {
		.kind = AUTH_EV_UNEXPECTED, .peer = from, .service = d->m->service,
		.detail = cn_coop_kind_name(d->kind),
	};

	engine_auth_event(e, &ev); /* a valid message of a kind this role does not take */
}

/* Auth-REP, and an Auth-REQ the header leaves to this host: the provider's. */
static void on_auth_to_sp(struct engine *e, const struct cn_coop_addr *from,
			  const struct auth_dgram *d)
{
	if (e->sp)
		auth_sp_handle(e->sp, from, d);
	else
		unexpected(e, from, d);
}

/* Straight from an SS: the header routes it (to this host's provider when it hosts the
 * service); forwarded by a header (fwd set, its mac verified at the entry): the provider. */
static void on_auth_req(struct engine *e, const struct cn_coop_addr *from,
			const struct auth_dgram *d)
{
	if (e->hdr && (d->m->fwd.family == CN_FAM_NONE || !e->sp) &&
	    auth_header_handle(e->hdr, from, d) != AUTH_HDR_LOCAL)
		return;
	on_auth_to_sp(e, from, d);
}

/* Auth-REP&REQ and the Auth-RSTs of an exchange: the supervisor's. */
static void on_auth_to_ss(struct engine *e, const struct cn_coop_addr *from,
			  const struct auth_dgram *d)
{
	if (e->ss)
		auth_ss_handle(e->ss, from, d);
	else
		unexpected(e, from, d);
}

/* Auth-REP&REQ: the supervisor's Auth-REP (the only datagram it answers with) waits in the
 * data-plane gate (engine_gate.c) until the session-add of the session it stores is applied:
 * the SP writes the new ID from its commit of that Auth-REP on, and the SS's data plane must
 * know it by then. A REP&REQ that stores nothing (a duplicate: the same Auth-REP again, once
 * the requests before it are applied) or answers nothing leaves the gate disarmed. */
static void on_auth_repreq(struct engine *e, const struct cn_coop_addr *from,
			   const struct auth_dgram *d)
{
	if (e->ss && engine_data_plane(e))
		engine_gate_arm(e);
	on_auth_to_ss(e, from, d);
	engine_gate_disarm(e);
}

/* Auth-RST revoked and Auth-REP&RST: revocation between the two ends of a session. */
static void on_auth_revoke(struct engine *e, const struct cn_coop_addr *from,
			   const struct auth_dgram *d)
{
	if (e->rv)
		auth_rv_handle(e->rv, from, d);
	else
		unexpected(e, from, d);
}

/* Auth-RST: revoked to the revoker; released (SS -> SP: another SP answered first) to the
 * provider; the rest (the answers to an SS's REQ) to the supervisor. */
static void on_auth_rst(struct engine *e, const struct cn_coop_addr *from,
			const struct auth_dgram *d)
{
	if (auth_rv_wants(d->m))
		on_auth_revoke(e, from, d);
	else if (d->m->error == CN_AUTHERR_RELEASED)
		on_auth_to_sp(e, from, d);
	else
		on_auth_to_ss(e, from, d);
}

static void auth_tick(struct engine *e)
{
	if (e->ss)
		auth_ss_tick(e->ss);
	if (e->sp)
		auth_sp_tick(e->sp);
	if (e->rv)
		auth_rv_tick(e->rv);
}

static uint64_t auth_deadline(const struct engine *e)
{
	uint64_t d = UINT64_MAX, x;

	if (e->ss && (x = auth_ss_next_deadline(e->ss)) < d)
		d = x;
	if (e->sp && (x = auth_sp_next_deadline(e->sp)) < d)
		d = x;
	if (e->rv && (x = auth_rv_next_deadline(e->rv)) < d)
		d = x;
	return d;
}

/* --- setup ------------------------------------------------------------------------------ */

static void auth_free(struct engine *e)
{
	engine_balance_free(e);
	auth_ss_free(e->ss);
	auth_header_free(e->hdr);
	auth_sp_free(e->sp);
	auth_rv_free(e->rv);
	e->ss = NULL;
	e->hdr = NULL;
	e->sp = NULL;
	e->rv = NULL;
}

static void timing_from_config(struct engine *e)
{
	memset(&e->timing, 0, sizeof(e->timing));
	e->timing.rto_ms = e->cfg->timing.rto_ms;
	e->timing.rto_max_ms = e->cfg->timing.rto_max_ms;
	e->timing.max_tries = e->cfg->timing.max_tries;
	e->timing.window_ms = e->cfg->timing.window_ms;
	auth_timing_defaults(&e->timing);
}

/* Build the state machines the roles need. The SS keeps its exchanges over a reload; the
 * header and the SP are rebuilt only when the group key changed (the SP's pending
 * exchanges and rate limits are lost then, which a key change warrants anyway). */
static int auth_setup(struct engine *e)
{
	bool key_changed = e->pol.has_group_key != e->has_group_key ||
			   (e->pol.has_group_key &&
			    !cn_auth_equal(e->pol.group_key, e->group_key, CN_KEY_LEN));

	timing_from_config(e);
	engine_balance_free(e); /* the balancer's members follow the new policy */
	e->replay = (struct cn_replay){ .ctx = e, .seen = replay_seen, .add = replay_add };
	if ((e->cfg->roles & POLICY_ROLE_SUPERVISOR) && !e->ss) {
		const struct auth_ss_ops ops = {
			.ctx = e, .now_ms = engine_op_now, .wall_ms = engine_op_wall, .send = engine_op_send,
			.done = op_done, .event = op_event, .lost = op_lost,
		};
		e->ss = auth_ss_new(&ops, &e->timing, SS_EXCHANGE_SLOTS);
		if (!e->ss)
			return -1;
	}
	if (key_changed || (!e->hdr && (e->cfg->roles & POLICY_ROLE_HEADER)) ||
	    (!e->sp && (e->cfg->roles & POLICY_ROLE_PROVIDER))) {
		auth_header_free(e->hdr);
		auth_sp_free(e->sp);
		e->hdr = NULL;
		e->sp = NULL;
		memcpy(e->group_key, e->pol.group_key, CN_KEY_LEN);
		e->has_group_key = e->pol.has_group_key;
	}
	if ((e->cfg->roles & POLICY_ROLE_PROVIDER) && !e->sp) {
		const struct auth_sp_ops ops = {
			.ctx = e, .now_ms = engine_op_now, .wall_ms = engine_op_wall, .send = engine_op_send,
			.lookup = op_lookup, .id_in_use = op_id_in_use, .commit = op_commit,
			.prepare = op_prepare, .unprepare = op_unprepare, .event = op_event,
		};
		struct auth_sp_config c = { .timing = e->timing,
					    .group_key = e->has_group_key ? e->group_key : NULL,
					    .replay = &e->replay };
		e->sp = auth_sp_new(&ops, &c);
		if (!e->sp)
			return -1;
	}
	if ((e->cfg->roles & POLICY_ROLE_HEADER) && !e->hdr) {
		const struct auth_header_ops ops = {
			.ctx = e, .wall_ms = engine_op_wall, .send = engine_op_send, .route = op_route,
			.event = op_event,
		};
		e->hdr = auth_header_new(&ops, &e->timing, e->group_key);
		if (!e->hdr)
			return -1;
	}
	/* the ends of a session: a supervisor and a provider (a header alone has none) */
	if ((e->cfg->roles & (POLICY_ROLE_SUPERVISOR | POLICY_ROLE_PROVIDER)) && !e->rv)
		return engine_revoke_setup(e);
	return 0;
}

/* The Authentication application: cooperative flag auth (docs/protocol.md). */
const struct coop_app coop_app_auth = {
	.name = "auth",
	.coop = CN_COOP_AUTH,
	.on = {
		[CN_KIND_AUTH_REQ] = on_auth_req,
		[CN_KIND_AUTH_REPREQ] = on_auth_repreq,
		[CN_KIND_AUTH_REP] = on_auth_to_sp,
		[CN_KIND_AUTH_RST] = on_auth_rst,       /* revoked: on_auth_revoke */
		[CN_KIND_AUTH_REPRST] = on_auth_revoke,
	},
	.setup = auth_setup,
	.free = auth_free,
	.tick = auth_tick,
	.deadline = auth_deadline,
};
