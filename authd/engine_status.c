/* SPDX-License-Identifier: MIT */
/*
 * The status application in the engine (docs/protocol.md "The status application";
 * authd/coop_app.h): one state machine per role (authd/status_fsm.h), fed the datagrams the
 * dispatch decoded, told of every session committed and removed, its reports stored in the
 * turn's transaction (authd/status_db.h), its events counted for `coopnetctl stats`.
 *
 * The figures it sends: an SP's info_vNIC from the policy (weight), the kernel (link state of
 * a vNIC coopnet-authd creates), its own session counts and health checks (engine_health.c);
 * an SS's info_client from coopnet-nfq's per-session counters when the data plane has them
 * (engine_status_client), else zero (last_seen 0: "none seen").
 */
#include "coop_app.h"
#include "engine_status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "health.h"
#include "log.h"
#include "status_db.h"

/* Live sessions per role the status application reports on. Its slots are allocated as
 * sessions come (260 bytes each with the timer heap's node): 65 MiB at this limit. A provider
 * holds at most 65,535 (one ID each); a supervisor's sessions across its SPs can be more. */
#define STATUS_MAX_SESSIONS 262144u
#define LINK_CACHE_MS 1000

/* --- the ops of both machines -------------------------------------------------------------- */

static void op_store(void *ctx, const struct status_session *s, const struct cn_coop_msg *m,
		     const struct cn_status_body *b)
{
	struct engine *e = ctx;
	enum status_role role = b->kind == CN_SENDER_VNIC ? STATUS_SS : STATUS_SP;

	/* the SP's vNIC for a group service failed its health check: another SP */
	if (role == STATUS_SS && m->vnic_status == CN_VNIC_DOWN)
		engine_failover_start(e, &s->sender.addr, s->service, &s->peer);
	if (engine_tx_write(e) < 0)
		return;
	if (status_db_store(e->db, role, s, m, b, (int64_t)engine_wall_ms()) < 0) {
		engine_tx_check(e);
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("status: %s", db_error(e->db));
	}
}

static void reachability(struct engine *e, enum status_role role, const struct status_session *s,
			 bool reachable)
{
	char peer[CN_COOP_ADDRSTRLEN], id[CN_ID_STRLEN];

	log_info("status: %s %s for %s (ID %s) is %s", role == STATUS_SS ? "SP" : "SS",
		 cn_coop_addr_format(&s->peer, peer, sizeof(peer)), s->service,
		 cn_id_format_hex(s->id, id, sizeof(id)), reachable ? "reachable again" :
		 "unreachable");
	if (engine_tx_write(e) < 0)
		return;
	if (status_db_reachability(e->db, role, s, reachable, (int64_t)engine_wall_ms()) < 0) {
		engine_tx_check(e);
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("status: %s", db_error(e->db));
	}
}

static void op_reach_ss(void *ctx, const struct status_session *s, bool reachable)
{
	reachability(ctx, STATUS_SS, s, reachable);
	if (!reachable) /* a group service moves to another SP (docs/groups.md) */
		engine_failover_start(ctx, &s->sender.addr, s->service, &s->peer);
}

static void op_reach_sp(void *ctx, const struct status_session *s, bool reachable)
{
	reachability(ctx, STATUS_SP, s, reachable);
}

/* Counted by the machine (status_counter: `stats`); refused input stays silent but a debug
 * line. */
static void op_event(void *ctx, enum status_event_kind k, const struct cn_coop_addr *peer,
		     const char *detail)
{
	char p[CN_COOP_ADDRSTRLEN] = "?";

	(void)ctx;
	if (peer)
		cn_coop_addr_format(peer, p, sizeof(p));
	log_debug("status: %s %s%s%s", status_event_name(k), p, detail ? " " : "",
		  detail ? detail : "");
}

/* SS: what the data plane saw of the session. */
static void op_fill_client(void *ctx, const struct status_session *s, struct cn_status_body *b)
{
	struct engine *e = ctx;

	memset(&b->u.client, 0, sizeof(b->u.client));
	engine_traffic_find(e, s->id, &s->sender.addr, &b->u.client); /* else zero: none seen */
}

/* --- the SP's figures ------------------------------------------------------------------------ */

static struct svc_count *count_find(struct engine_status *st, const char *service, bool create)
{
	struct svc_count *n;

	for (size_t i = 0; i < st->n_counts; i++)
		if (!strncmp(st->counts[i].service, service, sizeof(st->counts[i].service)))
			return &st->counts[i];
	if (!create)
		return NULL;
	n = realloc(st->counts, (st->n_counts + 1) * sizeof(*n));
	if (!n)
		return NULL;
	st->counts = n;
	n = &st->counts[st->n_counts++];
	memset(n, 0, sizeof(*n));
	snprintf(n->service, sizeof(n->service), "%s", service);
	return n;
}

static const struct pol_vservice *vservice(const struct engine *e, const char *service,
					   const struct pol_vnic **vnic)
{
	for (size_t i = 0; i < e->pol.n_vnics; i++)
		for (size_t k = 0; k < e->pol.vnics[i].n_services; k++)
			if (!strcmp(e->pol.vnics[i].services[k].name, service)) {
				*vnic = &e->pol.vnics[i];
				return &e->pol.vnics[i].services[k];
			}
	return NULL;
}

/* The link of a vNIC coopnet-authd creates, read at most once a second; an external vNIC's
 * address lives on an interface the policy does not name: unknown. */
static uint8_t link_of(struct engine *e, const struct pol_vnic *v)
{
	struct engine_status *st = e->status;
	uint64_t now = engine_now_ms();

	uint8_t link;

	if (!v->parent[0])
		return CN_LINK_UNKNOWN;
	/* the parent reads it (engine_link.c): the engine's chroot has no /sys */
	if (engine_link_find(e, v->name, &link))
		return link;
	/* an engine without a chroot (relay_socket set) reads it itself; else unknown, never a
	 * false "down" */
	if (access("/sys/class/net", F_OK) < 0)
		return CN_LINK_UNKNOWN;
	if (strcmp(st->link_name, v->name) || now >= st->link_read_ms + LINK_CACHE_MS ||
	    now < st->link_read_ms) {
		snprintf(st->link_name, sizeof(st->link_name), "%s", v->name);
		st->link = health_link_state(v->name);
		st->link_read_ms = now;
	}
	return st->link;
}

void engine_status_vnic(struct engine *e, const char *service, struct cn_status_vnic *out)
{
	const struct pol_vnic *v = NULL;
	const struct pol_vservice *vs = vservice(e, service, &v);
	const struct svc_count *c = e->status ? count_find(e->status, service, false) : NULL;

	memset(out, 0, sizeof(*out));
	out->health = CN_HEALTH_NONE;
	out->check = CN_CHECK_NONE;
	out->conns = CN_STATUS_CONNS_UNKNOWN;
	out->since_s = CN_STATUS_SINCE_UNKNOWN;
	out->sessions = c ? c->n : 0;
	out->bytes_per_s = c ? c->bytes_per_s : 0; /* engine_load.c */
	if (!vs)
		return; /* gone from the policy: weight 0, busy */
	out->weight = vs->weight;
	out->link = e->status ? link_of(e, v) : CN_LINK_UNKNOWN;
	engine_health_fill(e, v, vs, out);
}

static void op_fill_vnic(void *ctx, const struct status_session *s, struct cn_status_body *b)
{
	engine_status_vnic(ctx, s->service, &b->u.vnic);
}

/* --- sessions ---------------------------------------------------------------------------------- */

static uint8_t fam(int af)
{
	return af == AF_INET ? CN_FAM_INET : CN_FAM_INET6;
}

/* The machine's view of a stored session; -1 when it has no key or a bad peer. */
static int to_status(const struct db_session *d, struct status_session *s)
{
	memset(s, 0, sizeof(*s));
	if (!d->has_key || cn_coop_addr_parse_port(&s->peer, d->peer) < 0 ||
	    !cn_coop_service_valid(d->service_name))
		return -1;
	s->id = d->s.id;
	snprintf(s->service, sizeof(s->service), "%s", d->service_name);
	memcpy(s->key, d->session_key, sizeof(s->key));
	s->sender.addr.family = fam(d->s.family);
	if (d->role == DB_ROLE_SUPERVISOR) {
		memcpy(s->sender.addr.addr, d->s.client, sizeof(d->s.client));
		cn_coop_set_name(&s->sender, d->client_name);
	} else {
		memcpy(s->sender.addr.addr, d->s.service, sizeof(d->s.service));
		s->sender.addr.port = d->s.port;
		cn_coop_set_name(&s->sender, d->s.vnic);
	}
	return 0;
}

static struct status_fsm *machine(struct engine *e, enum db_role role)
{
	if (!e->status)
		return NULL;
	return role == DB_ROLE_SUPERVISOR ? e->status->ss : e->status->sp;
}

void engine_status_add(struct engine *e, const struct db_session *d)
{
	struct status_fsm *f = machine(e, d->role);
	struct status_session s;
	struct svc_count *c;
	char id[CN_ID_STRLEN];

	if (!f)
		return;
	if (to_status(d, &s) < 0) {
		log_debug("status: session %s has no key or peer: not reported",
			  cn_id_format_hex(d->s.id, id, sizeof(id)));
		return;
	}
	if (status_add(f, &s) < 0) {
		int err = errno;

		if (err == ENOSPC || err == ENOMEM) {
			/* past the limit, or no memory to grow: one line per power of two, not per
			 * session (a restore of many would log one line each) */
			uint64_t n = ++e->counters[CNT_STATUS_UNREPORTED];
			char why[48] = "no memory for its slot";

			if (err == ENOSPC)
				snprintf(why, sizeof(why), "more than %u live sessions",
					 STATUS_MAX_SESSIONS);
			if (log_sampled(n))
				log_warnx("status: session %s: not reported: %s (%llu so far, counter "
					  "status-unreported)", cn_id_format_hex(d->s.id, id, sizeof(id)),
					  why, (unsigned long long)n);
		} else if (err != EEXIST) { /* EEXIST: stored again after a rolled-back turn */
			log_warnx("status: session %s: %s", cn_id_format_hex(d->s.id, id, sizeof(id)),
				  strerror(err));
		}
	} else if (d->role == DB_ROLE_PROVIDER && (c = count_find(e->status, s.service, true))) {
		c->n++;
	}
	sodium_memzero(&s, sizeof(s));
}

/* Stop the reports of (id, service, peer) in f, and a provider's count of service with them. */
static void stop_reports(struct engine *e, struct status_fsm *f, enum db_role role, cn_id_t id,
			 const char *service, const struct cn_coop_addr *peer)
{
	struct svc_count *c;

	if (status_remove(f, id, service, peer) < 0)
		return;
	if (role == DB_ROLE_PROVIDER && (c = count_find(e->status, service, false)) && c->n > 0)
		c->n--;
}

void engine_status_remove(struct engine *e, const struct db_session *d)
{
	struct status_fsm *f = machine(e, d->role);
	struct cn_coop_addr peer;

	if (f && cn_coop_addr_parse_port(&peer, d->peer) == 0)
		stop_reports(e, f, d->role, d->s.id, d->service_name, &peer);
}

/* The provider's session of ID old_id is renewed as d (another ID). The status machine
 * knows the old session's peer and service (an SP's live IDs are unique), so its row is not
 * read (issue 11: that read was 6 % of the engine's CPU per renewal). While the SS is
 * reachable, d takes the old session's report schedule (status_renew: no Status-REQ of its
 * own per renewal); else the old one's reports stop and d's start with engine_status_add.
 * The old ID's status row goes either way. *carried: d's reports are set up.
 * 1: done; 0: the machine does not have the old session (status off, a session without a
 * key): the caller reads the row; -1: the row's delete failed. */
int engine_status_renewed(struct engine *e, cn_id_t old_id, const struct db_session *d,
			  bool *carried)
{
	struct status_fsm *f = machine(e, DB_ROLE_PROVIDER);
	const struct status_session *old = f ? status_find_id(f, old_id) : NULL;
	char peer[CN_COOP_ADDRSTRLEN], service[CN_COOP_SERVICE_LEN + 1];
	struct status_session s;
	struct cn_coop_addr peer_addr;
	int r;

	*carried = false;
	if (!old)
		return 0;
	/* as status_db.c wrote them: the peer formatted, the service up to its NUL */
	cn_coop_addr_format(&old->peer, peer, sizeof(peer));
	snprintf(service, sizeof(service), "%.*s", (int)sizeof(old->service), old->service);
	peer_addr = old->peer;
	if (to_status(d, &s) == 0 && status_renew(f, old_id, &s) == 0)
		*carried = true;
	else
		stop_reports(e, f, DB_ROLE_PROVIDER, old_id, service, &peer_addr);
	sodium_memzero(&s, sizeof(s));
	r = db_status_del(e->db, DB_ROLE_PROVIDER, peer, old_id, service);
	return r < 0 ? -1 : 1;
}

/* The health of the sessions of service changed: report at once. */
void engine_status_changed(struct engine *e, const char *service)
{
	if (e->status && e->status->sp)
		status_changed(e->status->sp, service);
}

/* --- the application ----------------------------------------------------------------------- */

static void on_status(struct engine *e, const struct cn_coop_addr *from,
		      const struct auth_dgram *d)
{
	/* a host with both roles: info_vNIC is for its supervisor, info_client its provider */
	struct status_fsm *f = !e->status ? NULL : d->m->sender.kind == CN_SENDER_VNIC ?
			       e->status->ss : e->status->sp;

	if (!f) {
		struct auth_event ev = { .kind = AUTH_EV_UNEXPECTED, .peer = from,
					 .service = d->m->service, .detail = cn_coop_kind_name(d->kind) };
		engine_auth_event(e, &ev);
		return;
	}
	status_input_msg(f, from, d->m, d->raw, d->len);
}

static int readd_cb(const struct db_session *d, void *arg)
{
	engine_status_add(arg, d);
	return 0;
}

static struct status_fsm *new_machine(struct engine *e, enum status_role role)
{
	const struct status_timing t = {
		.interval_ms = e->cfg->status.interval_ms, .miss_limit = e->cfg->status.miss_limit,
		.window_ms = e->cfg->timing.window_ms,
	};
	const struct status_ops ops = {
		.ctx = e, .now_ms = engine_op_now, .wall_ms = engine_op_wall, .send = engine_op_send,
		.fill = role == STATUS_SS ? op_fill_client : op_fill_vnic, .store = op_store,
		.reachability = role == STATUS_SS ? op_reach_ss : op_reach_sp, .event = op_event,
	};

	return status_new(&ops, &t, role, STATUS_MAX_SESSIONS);
}

/* Once: the machines, and the sessions stored before a restart (those with a key). After a
 * reload: the health checks of the new policy. */
static int status_setup(struct engine *e)
{
	struct engine_status *st = e->status;

	if (!st) {
		if (!(st = e->status = calloc(1, sizeof(*st))))
			return -1;
		if (((e->cfg->roles & POLICY_ROLE_SUPERVISOR) && !(st->ss = new_machine(e, STATUS_SS))) ||
		    ((e->cfg->roles & POLICY_ROLE_PROVIDER) && !(st->sp = new_machine(e, STATUS_SP))))
			return -1;
		if (db_session_foreach(e->db, 0, readd_cb, e) < 0) {
			e->counters[CNT_DB_ERRORS]++;
			log_warnx("status: stored sessions: %s", db_error(e->db));
		}
	}
	return engine_health_setup(e);
}

static void status_app_free(struct engine *e)
{
	if (!e->status)
		return;
	engine_health_free(e);
	engine_traffic_free(e);
	engine_load_free(e);
	engine_link_free(e);
	status_free(e->status->ss);
	status_free(e->status->sp);
	free(e->status->counts);
	free(e->status);
	e->status = NULL;
}

static void status_tick_all(struct engine *e)
{
	uint64_t now = engine_now_ms();

	if (!e->status)
		return;
	if (e->status->ss && now >= status_next_deadline(e->status->ss))
		status_tick(e->status->ss);
	if (e->status->sp && now >= status_next_deadline(e->status->sp))
		status_tick(e->status->sp);
	engine_health_tick(e);
}

static uint64_t status_deadline(const struct engine *e)
{
	uint64_t d = UINT64_MAX, x;

	if (!e->status)
		return d;
	if (e->status->ss && (x = status_next_deadline(e->status->ss)) < d)
		d = x;
	if (e->status->sp && (x = status_next_deadline(e->status->sp)) < d)
		d = x;
	if ((x = engine_health_deadline(e)) < d)
		d = x;
	return d;
}

void engine_status_stats(const struct engine *e, json_t *stats)
{
	char name[48];

	for (int k = 0; k <= STATUS_EV_KIND_MAX; k++) {
		uint64_t n = 0;

		if (e->status && e->status->ss)
			n += status_counter(e->status->ss, (enum status_event_kind)k);
		if (e->status && e->status->sp)
			n += status_counter(e->status->sp, (enum status_event_kind)k);
		snprintf(name, sizeof(name), "status-%s", status_event_name((enum status_event_kind)k));
		json_object_set_new(stats, name, json_integer((json_int_t)n));
	}
}

/* The status application: cooperative flag status (docs/protocol.md). */
const struct coop_app coop_app_status = {
	.name = "status",
	.coop = CN_COOP_STATUS,
	.on = {
		[CN_KIND_STATUS_REQ] = on_status,
		[CN_KIND_STATUS_REP] = on_status,
	},
	.setup = status_setup,
	.free = status_app_free,
	.tick = status_tick_all,
	.deadline = status_deadline,
};
