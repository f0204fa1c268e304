/* SPDX-License-Identifier: MIT */
/*
 * The unprivileged engine: one epoll loop over the UDP sockets, the control socket and its
 * connections, the parent's socketpair and a signalfd. Timers are the state machines'
 * deadlines (the epoll timeout) plus a one-second housekeeping tick (expiry, replay cache,
 * retries of the configured authentications).
 */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "coop_app.h"
#include "engine_status.h"
#include "engine_probe.h"
#include "ctl.h"
#include "log.h"
#include "sandbox.h"


static const char *const counter_names[CNT_MAX - AUTH_EV_KIND_MAX - 1] = {
	"auth-ok", "auth-failed", "sessions-added", "sessions-revoked", "sessions-expired",
	"session-miss", "nfq-requests", "db-errors", "udp-errors", "ctl-refused",
	"sessions-revoked-by-peer", "sessions-renewed", "revoke-unacked", "turn-rollbacks",
	"held-dropped", "coop-unknown", "profile-write-failed", "parent-refused-messages",
	"parent-refused-sessions", "nfq-traffic-bad", "link-state-bad", "nfq-stats-bad", "metrics-scrapes",
	"probe-preserved", "probe-cleared",
	"probe-altered", "probe-lost", "probe-no-answer", "probe-answered", "probe-refused",
	"dp-gated", "dp-gate-timeouts",
	"balance-retry-avoided", "failovers", "balance-decisions", "sessions-idle-expired",
	"session-miss-refused",
	"balance-repeats",
	"session-miss-recent", "nfq-slow-replies", "status-unreported", "turns-moderated",
};

const char *engine_counter_name(int i)
{
	if (i <= AUTH_EV_KIND_MAX)
		return auth_event_name((enum auth_event_kind)i);
	return counter_names[i - AUTH_EV_KIND_MAX - 1];
}

/* The clock seam: tests replace both clocks (engine_set_clock); NULL is the real clock. */
static uint64_t (*clock_now)(void);
static uint64_t (*clock_wall)(void);

void engine_set_clock(uint64_t (*now_ms)(void), uint64_t (*wall_ms)(void))
{
	clock_now = now_ms;
	clock_wall = wall_ms;
}

uint64_t engine_now_ms(void)
{
	return clock_now ? clock_now() : cn_mono_ms();
}

uint64_t engine_wall_ms(void)
{
	return clock_wall ? clock_wall() : cn_real_ms();
}

/* --- sessions: database first, then the data plane ---------------------------------------- */

/* A session as the parent takes it (authd/imsg.h): every byte defined. key_only: a
 * session-del, which names the session by its key. */
void engine_session_msg(struct imsg_session *m, const struct db_session *s, bool key_only)
{
	memset(m, 0, sizeof(*m));
	m->family = (uint8_t)s->s.family;
	m->port = s->s.port;
	memcpy(m->client, s->s.client, s->s.family == AF_INET ? 4 : 16);
	memcpy(m->service, s->s.service, s->s.family == AF_INET ? 4 : 16);
	if (key_only)
		return;
	m->id = s->s.id;
	snprintf(m->vnic, sizeof(m->vnic), "%s", s->s.vnic);
	snprintf(m->service_name, sizeof(m->service_name), "%s", s->service_name);
	m->expires = s->s.expires;
}

/* The parent checks it against its policy, forwards it to coopnet-nfq and feeds the virtual
 * switch (provider.relay) with it. */
bool engine_data_plane(const struct engine *e)
{
	return e->cfg->nfq_socket[0] || e->pol.n_relay;
}

static void nfq_request(struct engine *e, uint32_t type, const struct db_session *s)
{
	struct imsg_session m;

	if (!engine_data_plane(e))
		return;
	e->counters[CNT_NFQ_REQUESTS]++;
	engine_session_msg(&m, s, type == IMSG_SESSION_DEL);
	/* in a batched turn: held until the write it reports is committed (engine_turn.c) */
	engine_parent_send(e, type, &m);
}

static void db_failed(struct engine *e)
{
	engine_tx_check(e);
	e->counters[CNT_DB_ERRORS]++;
	log_warnx("database: %s", db_error(e->db));
}

/* A renewal replaces the session of the same key: the reports and status row of the one it
 * replaces go with it. A provider's renewed ID comes from memory, and its peer and service
 * from the status machine; the row is read only when the machine does not have it. true: s's
 * reports are set up already (they took over the renewed session's schedule). */
static bool renewal_status(struct engine *e, const struct db_session *s)
{
	struct db_session old;
	bool carried = false;
	cn_id_t old_id;
	int r;

	if (s->role == DB_ROLE_PROVIDER) {
		if (db_session_id(e->db, s->role, &s->s, &old_id) != 1 || old_id == s->s.id)
			return false;
		if ((r = engine_status_renewed(e, old_id, s, &carried)) != 0) {
			if (r < 0)
				db_failed(e);
			return carried;
		}
	}
	if (db_session_get(e->db, s->role, &s->s, &old) == 1 && old.s.id != s->s.id) {
		engine_status_remove(e, &old);
		if (db_status_del(e->db, old.role, old.peer, old.s.id, old.service_name) < 0)
			db_failed(e);
	}
	sodium_memzero(&old, sizeof(old));
	return false;
}

int engine_session_store(struct engine *e, const struct db_session *s)
{
	bool reports_set;

	if (engine_tx_write(e) < 0)
		return -1;
	reports_set = renewal_status(e, s);
	if (db_session_put(e->db, s) < 0) {
		db_failed(e);
		if (reports_set) /* not stored: no reports for it */
			engine_status_remove(e, s);
		return -1;
	}
	e->counters[CNT_SESSIONS_ADDED]++;
	if (!reports_set)
		engine_status_add(e, s);
	engine_probe_session(e, s);
	if (!e->dp_prepared)
		nfq_request(e, IMSG_SESSION_ADD, s);
	relaylink_session(e, s, true);
	return 0;
}

int engine_session_remove(struct engine *e, const struct db_session *s, int counter)
{
	return engine_session_drop(e, s, counter, true);
}

int engine_session_drop(struct engine *e, const struct db_session *s, int counter,
			bool tell_peer)
{
	char id[CN_ID_STRLEN], client[INET6_ADDRSTRLEN];

	if (counter != CNT_SESSIONS_EXPIRED &&
	    (engine_tx_write(e) < 0 || db_session_del(e->db, s->role, &s->s) < 0)) {
		db_failed(e);
		return -1;
	}
	/* a drop is rare: commit it now, before the data plane and the peer hear of it (a
	 * rolled-back drop must not have revoked the peer's copy) */
	if (counter != CNT_SESSIONS_EXPIRED && engine_flush(e) < 0)
		return -1;
	e->counters[counter]++;
	engine_status_remove(e, s);
	inet_ntop(s->s.family, s->s.client, client, sizeof(client));
	log_info("session %s of %s for %s %s", cn_id_format_hex(s->s.id, id, sizeof(id)), client,
		 s->service_name, counter == CNT_SESSIONS_EXPIRED ? "expired" :
		 counter == CNT_SESSIONS_IDLE ? "expired: idle (no segment seen for idle_time)" :
		 counter == CNT_SESSIONS_PEER_REVOKED ? "revoked by the peer" : "revoked");
	nfq_request(e, IMSG_SESSION_DEL, s);
	relaylink_session(e, s, false);
	if (tell_peer)
		engine_revoke_peer(e, s);
	return 0;
}

struct sync_state {
	struct engine *e;
	struct imsg_session part[IMSG_SESSIONS_MAX];
	uint32_t n;
	size_t total;
	int r;
};

static void sync_flush(struct sync_state *st)
{
	if (st->n && imsg_send_bin(st->e->parent_fd, IMSG_SYNC_PART, st->part, st->n,
				   sizeof(st->part[0])) < 0)
		st->r = -1;
	st->n = 0;
}

static int sync_cb(const struct db_session *s, void *arg)
{
	struct sync_state *st = arg;

	if (st->total == IMSG_SYNC_MAX)
		return 1; /* the parent takes no more: the rest waits for expiry */
	engine_session_msg(&st->part[st->n++], s, false);
	st->total++;
	if (st->n == IMSG_SESSIONS_MAX)
		sync_flush(st);
	return st->r;
}

/* Every session of the database to the data plane: a begin, parts, an end (authd/imsg.h). */
void engine_nfq_sync(struct engine *e)
{
	struct sync_state *st;

	if (!engine_data_plane(e))
		return;
	st = calloc(1, sizeof(*st));
	if (!st) {
		log_warnx("session-sync: out of memory");
		return;
	}
	st->e = e;
	e->dp_epoch++; /* what went ahead of its commit is replaced by this sync */
	e->counters[CNT_NFQ_REQUESTS]++;
	if (imsg_send_bin(e->parent_fd, IMSG_SYNC_BEGIN, NULL, 0, 0) < 0 ||
	    db_session_foreach(e->db, 0, sync_cb, st) < 0 || (sync_flush(st), st->r < 0)) {
		/* no end: the data plane keeps what it had; the parent discards the parts at the
		 * next begin */
		log_warnx("session-sync: %s", st->r < 0 ? "send failed" : db_error(e->db));
		goto out;
	}
	if (st->total == IMSG_SYNC_MAX)
		log_warnx("session-sync: more than %u sessions, the rest not sent", IMSG_SYNC_MAX);
	log_info("session-sync: %zu session(s) to the data plane", st->total);
	if (imsg_send_bin(e->parent_fd, IMSG_SYNC_END, NULL, 0, 0) == 0)
		e->syncs_sent++;
out:
	sodium_memzero(st, sizeof(*st));
	free(st);
}

static int expired_cb(const struct db_session *s, void *arg)
{
	engine_session_remove(arg, s, CNT_SESSIONS_EXPIRED);
	return 0;
}

void engine_expire(struct engine *e)
{
	int64_t now = (int64_t)(engine_wall_ms() / 1000);
	int64_t idle = e->pol.provider ? e->pol.idle_time : 0;
	int r;

	/* the drops held as a turn's (engine_turn.c): a second's expiries reach the parent in
	 * messages of up to 128 sessions, one data-plane request each, not one per session */
	e->batching = true;
	r = db_session_expire(e->db, now, idle, expired_cb, e);
	e->batching = false;
	engine_flush(e);
	if (r < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("expiry: %s", db_error(e->db));
	}
	engine_ss_idle_expire(e, now); /* an SS's own idle_time, from its data plane's last_seen */
	/* replay digests are kept twice the window past their timestamp (engine_auth.c) */
	if (db_replay_prune(e->db, now) < 0)
		log_warnx("replay cache: %s", db_error(e->db));
}

/* --- policy ---------------------------------------------------------------------------------- */

/* Mirror the policy into the profile tables. 0, or -1 with the reason in why. */
static int profile_to_db(struct engine *e, char *why, size_t whylen)
{
	const struct policy *p = &e->pol;
	size_t nv = p->n_vnics, ns = 0, nc = p->n_sp_clients + p->n_ss_clients;
	struct db_vnic *v = calloc(nv + 1, sizeof(*v));
	struct db_service *s;
	struct db_client *c = calloc(nc + 1, sizeof(*c));
	char (*addrs)[INET6_ADDRSTRLEN] = calloc(nv + 1, sizeof(*addrs));
	char (*svcs)[512] = calloc(nc + 1, sizeof(*svcs));
	uint8_t (*hash)[32] = calloc(nc + 1, sizeof(*hash));
	struct db_profile prof;
	int rc = -1;

	for (size_t i = 0; i < nv; i++)
		ns += p->vnics[i].n_services;
	s = calloc(ns + 1, sizeof(*s));
	if (!v || !s || !c || !addrs || !svcs || !hash) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	ns = 0;
	for (size_t i = 0; i < nv; i++) {
		const struct pol_vnic *vn = &p->vnics[i];
		struct cn_coop_addr a = vn->addr;
		a.port = 0;
		cn_coop_addr_format(&a, addrs[i], sizeof(addrs[i]));
		v[i] = (struct db_vnic){ vn->name, addrs[i], vn->data_folder };
		for (size_t k = 0; k < vn->n_services; k++)
			s[ns++] = (struct db_service){ vn->name, vn->services[k].name, addrs[i],
						       vn->services[k].port };
	}
	for (size_t i = 0; i < nc; i++) {
		const struct pol_client *cl = i < p->n_sp_clients ? &p->sp_clients[i] :
					      &p->ss_clients[i - p->n_sp_clients];
		size_t off = 0;
		/* PASSCODE column: a hash of the derived keys, enough to tell a change */
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, sizeof(hash[i]));
		for (size_t k = 0; k < cl->n_keys; k++)
			crypto_generichash_update(&st, cl->keys[k].key, sizeof(cl->keys[k].key));
		crypto_generichash_final(&st, hash[i], sizeof(hash[i]));
		for (size_t k = 0; k < cl->n_services; k++)
			off += (size_t)snprintf(svcs[i] + off, off < sizeof(svcs[i]) ? sizeof(svcs[i]) - off : 0,
						"%s%s", k ? "," : "", cl->services[k]);
		c[i] = (struct db_client){ .address = cl->address, .key_hash = hash[i],
			.key_hash_len = sizeof(hash[i]), .services = svcs[i], .name = cl->name,
			.role = i < p->n_sp_clients ? DB_ROLE_PROVIDER : DB_ROLE_SUPERVISOR };
	}
	prof = (struct db_profile){ v, nv, s, ns, c, nc };
	if (db_set_profile(e->db, &prof) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		snprintf(why, whylen, "%s", db_error(e->db));
	} else {
		rc = 0;
	}
out:
	free(v);
	free(s);
	free(c);
	free(addrs);
	free(svcs);
	free(hash);
	return rc;
}

static void policy_applied(struct engine *e, bool ok, int revoked, const char *error)
{
	struct imsg_applied a = { .ok = ok, .revoked = revoked };

	memcpy(a.error, error, strnlen(error, sizeof(a.error) - 1)); /* a long one cut */
	imsg_send_bin(e->parent_fd, IMSG_POLICY_APPLIED, &a, 1, sizeof(a));
}

/* Apply a resolved policy from the parent. A bad one changes nothing. */
static void apply_policy(void *ctx, const json_t *msg)
{
	struct engine *e = ctx;
	const json_t *doc = json_object_get(msg, "policy");
	bool reload = json_is_true(json_object_get(msg, "reload"));
	struct jconf_error err;
	struct policy next, old;
	char *text, ebuf[1024], why[600];
	int revoked = 0;
	bool profile_ok;

	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text || policy_load_buffer(&next, "policy (from the parent)", text, strlen(text),
					e->cfg->roles, true, &err) < 0) {
		if (text)
			jconf_error_str(&err, ebuf, sizeof(ebuf));
		else
			snprintf(ebuf, sizeof(ebuf), "policy message without a policy");
		log_warnx("policy refused: %s", ebuf);
		if (text)
			sodium_memzero(text, strlen(text));
		free(text);
		policy_applied(e, false, 0, ebuf);
		engine_ctl_reload_done(e, ctl_reply_error("%s", ebuf));
		return;
	}
	sodium_memzero(text, strlen(text));
	free(text);
	old = e->pol;
	e->pol = next;
	e->have_policy = true;
	free(e->start);
	e->start = calloc(e->pol.n_start + 1, sizeof(*e->start));
	if (engine_apps_setup(e) < 0)
		fatalx("cannot set up the state machines");
	profile_ok = profile_to_db(e, why, sizeof(why)) == 0;
	if (reload) {
		revoked = engine_revoke_disallowed(e, &old);
		relaylink_sync(e);   /* a service may have become confidential or plain */
	}
	policy_free(&old);
	if (!profile_ok) {
		/* Authentication runs on the policy in memory; the database's vnics, services and
		 * clients tables are stale until a reload writes them */
		e->counters[CNT_PROFILE_WRITE_FAILED]++;
		log_warnx("error: policy in force, but its profile was not written to the database "
			  "(%s): the vnics/services/clients tables are stale; fix the cause and run "
			  "coopnetctl reload", why);
	} else {
		log_info("policy %s: %zu vNIC(s), %zu SP client(s), %zu SS client(s), %zu group SP(s)",
			 reload ? "reloaded" : "loaded", e->pol.n_vnics, e->pol.n_sp_clients,
			 e->pol.n_ss_clients, e->pol.n_group);
	}
	if (reload && revoked)
		log_info("reload revoked %d session(s)", revoked);
	policy_applied(e, true, revoked, "");
	engine_ctl_reload_done(e, json_pack("{s:b, s:i}", "ok", 1, "revoked", revoked));
	/* the parent's virtual switch starts from the database's sessions (also after a restart) */
	if (e->pol.n_relay)
		engine_nfq_sync(e);
	engine_start_entries(e);
}

/* The parent reached coopnet-nfq after it had received "syncs" session-syncs of this engine.
 * One sent since then reached it after the link was up and went to the worker (or the link
 * went down again, and another nfq-up follows): a second one would only repeat it, which at
 * tens of thousands of sessions costs the worker seconds (a restart's policy-load sync
 * followed by this one). Otherwise the worker gets every session now. */
static void on_nfq_up(void *ctx, const json_t *msg)
{
	struct engine *e = ctx;
	const json_t *k = json_object_get(msg, "syncs");

	e->nfq_up = true;
	if (json_is_integer(k) && json_integer_value(k) >= 0 &&
	    e->syncs_sent > (uint64_t)json_integer_value(k)) {
		log_info("session-sync: not repeated, the data plane got one after it came up");
		return;
	}
	engine_nfq_sync(e);
}

static void on_nfq_down(void *ctx, const json_t *msg)
{
	(void)msg;
	((struct engine *)ctx)->nfq_up = false;
	((struct engine *)ctx)->dp_epoch++; /* requests sent while down are lost */
}

static void on_dp_barrier(void *ctx, const json_t *msg)
{
	json_int_t t = json_integer_value(json_object_get(msg, "token"));

	if (t > 0)
		engine_gate_release(ctx, (uint64_t)t);
}

static void on_session_miss(void *ctx, const json_t *msg)
{
	engine_session_miss(ctx, msg);
}

static void on_parent_stats(void *ctx, const json_t *msg)
{
	struct engine *e = ctx;

	e->counters[CNT_PARENT_REFUSED_MSGS] =
		(uint64_t)json_integer_value(json_object_get(msg, "refused-messages"));
	e->counters[CNT_PARENT_REFUSED_SESSIONS] =
		(uint64_t)json_integer_value(json_object_get(msg, "refused-sessions"));
	e->counters[CNT_NFQ_SLOW_REPLIES] =
		(uint64_t)json_integer_value(json_object_get(msg, "nfq-slow-replies"));
}

static void on_reload_failed(void *ctx, const json_t *msg)
{
	engine_ctl_reload_done(ctx, ctl_reply_error("%s", json_string_value(
				       json_object_get(msg, "error")) ?: "reload failed"));
}

static void on_probe_seen(void *ctx, const json_t *msg)
{
	engine_probe_seen(ctx, msg);
}

static void on_nfq_traffic(void *ctx, const json_t *msg)
{
	if (engine_nfq_traffic(ctx, msg))
		engine_load_update(ctx); /* provider: the load figure of info_vNIC */
}

static void on_link_state(void *ctx, const json_t *msg)
{
	engine_link_state(ctx, msg);
}

static void on_nfq_stats(void *ctx, const json_t *msg)
{
	engine_nfq_stats(ctx, msg);
}

/* What the parent sends (authd/authd.h lists the messages). */
static const struct imsg_handler from_parent[] = {
	{ .msg = "policy", .fn = apply_policy },
	{ .msg = "nfq-up", .fn = on_nfq_up },
	{ .msg = "nfq-down", .fn = on_nfq_down },
	{ .msg = "session-miss", .fn = on_session_miss },
	{ .msg = "reload-failed", .fn = on_reload_failed },
	{ .msg = "parent-stats", .fn = on_parent_stats },
	{ .msg = "nfq-traffic", .fn = on_nfq_traffic },
	{ .msg = "link-state", .fn = on_link_state },
	{ .msg = "nfq-stats", .fn = on_nfq_stats },
	{ .msg = "probe-seen", .fn = on_probe_seen },
	{ .msg = "dp-barrier", .fn = on_dp_barrier },
};

static void parent_input(struct engine *e)
{
	char err[256];

	if (imsg_dispatch(e->parent_fd, from_parent, sizeof(from_parent) / sizeof(from_parent[0]),
			  e, "parent", err, sizeof(err)) < 0) {
		log_warnx("parent: %s; exiting", err);
		e->quit = true;
	}
}

/* --- the loop ---------------------------------------------------------------------------- */

static void signal_input(struct engine *e)
{
	struct signalfd_siginfo si;

	while (read(e->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_debug("engine: signal %u, exiting", si.ssi_signo);
			e->quit = true;
		}
	}
}

static int add_fd(struct engine *e, int fd, enum ev_kind kind, size_t i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_TAG(kind, i) };

	return epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int timeout_ms(struct engine *e)
{
	uint64_t now = engine_now_ms(), next = e->last_housekeeping_ms + 1000;
	uint64_t d = engine_apps_deadline(e);

	if (d < next)
		next = d;
	if ((d = engine_gate_deadline(e)) < next)
		next = d;
	return next <= now ? 0 : (int)(next - now);
}

static void dispatch(struct engine *e, uint64_t tag)
{
	size_t i = (uint32_t)tag;

	switch ((enum ev_kind)(tag >> 32)) {
	case EV_PARENT:
		parent_input(e);
		break;
	case EV_SIGNAL:
		signal_input(e);
		break;
	case EV_CTL:
		ctl_server_run(&e->ctl);
		break;
	case EV_HEALTH:
		e->batching = true;
		engine_health_input(e, i);
		e->batching = false;
		break;
	case EV_METRICS:
		engine_metrics_run(e);
		break;
	case EV_UDP:
		if (e->have_policy) {
			e->batching = true;
			engine_udp_input(e, i);
			e->batching = false;
		}
		else {
			uint8_t junk[1];
			(void)!recv(e->udp_fd[i], junk, sizeof(junk), 0);
		}
		break;
	}
}

static void housekeeping(struct engine *e)
{
	uint64_t now = engine_now_ms();

	if (now < e->last_housekeeping_ms + 1000)
		return;
	e->last_housekeeping_ms = now;
	engine_log_flush(e);
	engine_metrics_run(e); /* its connections' time-outs */
	if (!e->have_policy)
		return;
	engine_expire(e);
	engine_start_entries(e);
	relaylink_tick(e);
}

void engine_step(struct engine *e, int max_wait_ms)
{
	struct epoll_event evs[32];
	int t = timeout_ms(e), n;

	if (max_wait_ms >= 0 && max_wait_ms < t)
		t = max_wait_ms;
	log_flush(); /* the lines held since the last sleep (log_hold) */
	n = epoll_wait(e->epfd, evs, 32, t);
	if (n < 0 && errno != EINTR)
		fatal("epoll_wait");
	/* The UDP input and the timers are batched (engine_turn.c); everything else (control
	 * commands, the parent, housekeeping) first commits and sends what the turn holds, then
	 * writes and answers one by one as before. */
	for (int k = 0; k < n; k++)
		if ((evs[k].data.u64 >> 32) == EV_UDP) {
			engine_turn_moderate(e);
			break;
		}
	for (int k = 0; k < n && !e->quit; k++) {
		if ((evs[k].data.u64 >> 32) != EV_UDP)
			engine_flush(e);
		dispatch(e, evs[k].data.u64);
	}
	if (e->have_policy) {
		e->batching = true;
		engine_apps_tick(e);
		e->batching = false;
	}
	engine_flush(e); /* before the loop sleeps */
	engine_turn_end(e);
	engine_gate_tick(e);
	housekeeping(e);
}

static void setup_fds(struct engine *e)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);   /* the parent handles reloads */
	sigaddset(&mask, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	sigdelset(&mask, SIGHUP);
	sigdelset(&mask, SIGPIPE);
	e->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->sig_fd < 0 || e->epfd < 0)
		fatal("signalfd/epoll");
	if (add_fd(e, e->parent_fd, EV_PARENT, 0) < 0 || add_fd(e, e->sig_fd, EV_SIGNAL, 0) < 0 ||
	    add_fd(e, ctl_server_fd(&e->ctl), EV_CTL, 0) < 0)
		fatal("epoll_ctl");
	for (size_t i = 0; i < e->n_udp; i++)
		if (add_fd(e, e->udp_fd[i], EV_UDP, i) < 0)
			fatal("epoll_ctl");
	if (engine_metrics_open(e, e->metrics_fd) < 0)
		fatalx("metrics: the HTTP endpoint cannot start (libmicrohttpd)");
}

static void init_state(struct engine *e, const struct engine_init *init)
{
	memset(e, 0, sizeof(*e));
	e->cfg = init->cfg;
	e->parent_fd = init->parent_fd;
	e->n_udp = init->n_udp;
	memcpy(e->udp_fd, init->udp_fd, sizeof(e->udp_fd));
	memcpy(e->udp_addr, init->udp_addr, sizeof(e->udp_addr));
	e->metrics_fd = init->cfg->metrics.enabled ? init->metrics_fd : -1;
	if (engine_ctl_open(e, init->ctl_fd) < 0) /* it owns the listening socket now */
		fatal("control socket: epoll");
	e->relay_fd = -1;
	e->started = (int64_t)(engine_wall_ms() / 1000);
	e->dp_epoch = 1;
}

int engine_open(struct engine *e, const struct engine_init *init, char *err, size_t errlen)
{
	init_state(e, init);
	snprintf(e->user, sizeof(e->user), "%s", init->user ? init->user : "");
	e->db = db_open(e->cfg->database, err, errlen);
	if (!e->db)
		return -1;
	setup_fds(e);
	return 0;
}

void engine_close(struct engine *e)
{
	engine_flush(e);
	engine_turn_free(e);
	engine_gate_free(e);
	engine_apps_free(e);
	relaylink_close(e);
	engine_metrics_close(e);
	ctl_server_close(&e->ctl);
	db_close(e->db);
	e->db = NULL;
	policy_free(&e->pol);
	free(e->start);
	e->start = NULL;
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->sig_fd >= 0)
		close(e->sig_fd);
	e->epfd = e->sig_fd = -1;
}

void engine_main(const struct engine_init *init)
{
	static struct engine e; /* one per process; static keeps it off the stack */
	char err[512];
	uid_t uid;
	gid_t gid;

	char dir[4096], db[300] = "/";
	bool root = geteuid() == 0;  /* else a test as a user: no chroot, nothing to drop */
	bool relay = init->cfg->relay_socket[0] != 0;

	init_state(&e, init);
	if (privsep_lookup_user(init->user, &uid, &gid, e.user, sizeof(e.user)) < 0)
		exit(1);
	/* chroot into the state directory, drop root, then open the database inside it
	 * (authd/sandbox.c) */
	/* coopnet-relay's key socket lies outside the state directory and the engine
	 * reconnects to it (relaylink.c): with "relay_socket" set, no chroot (planned: the
	 * parent passes that connection in) */
	if (relay) {
		log_warnx("relay_socket is set: the engine runs without chroot (it connects to %s)",
			  e.cfg->relay_socket);
		root = false;
	}
	if (privsep_split_db(e.cfg->database, dir, sizeof(dir), db + 1, sizeof(db) - 1) < 0 ||
	    sandbox_prepare() < 0 || (root && sandbox_chroot(dir) < 0) ||
	    privsep_drop(uid, gid, e.user) < 0)
		exit(1);
	e.db = db_open(root ? db : e.cfg->database, err, sizeof(err));
	if (!e.db)
		fatalx("database %s: %s", e.cfg->database, err);
	setup_fds(&e);
	if (sandbox_seccomp(relay) < 0)
		exit(1);
	log_debug("engine: running as %s (uid %u), chrooted in %s", e.user, (unsigned)uid, dir);
	/* a turn's log lines (one per session) leave in one write before the loop sleeps */
	log_hold(true);
	while (!e.quit)
		engine_step(&e, -1);
	engine_close(&e);
	exit(0);
}
