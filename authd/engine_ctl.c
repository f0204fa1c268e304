/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands (docs/coopnetctl.md): status, sessions, clients, vnics,
 * auth, revoke, reload, stats, dp-resync, on lib's control-socket server (lib/ctl_server.c). auth and
 * reload answer later (ctl_server_defer), when the exchange or the parent's reload has
 * finished.
 */
#include "engine.h"
#include "engine_status.h"
#include "engine_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "ctl.h"
#include "log.h"
#include "vnic.h"

/* --- commands ------------------------------------------------------------------------------ */

static json_t *roles_json(unsigned roles)
{
	json_t *a = json_array();

	if (roles & POLICY_ROLE_SUPERVISOR)
		json_array_append_new(a, json_string("supervisor"));
	if (roles & POLICY_ROLE_HEADER)
		json_array_append_new(a, json_string("header"));
	if (roles & POLICY_ROLE_PROVIDER)
		json_array_append_new(a, json_string("provider"));
	return a;
}

static json_t *cmd_probe(void *ctx, size_t conn, const json_t *req)
{
	return engine_ctl_probe(ctx, conn, req);
}

static json_t *cmd_status(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	json_t *listen = json_array();
	char buf[CN_COOP_ADDRSTRLEN];
	int n = 0;

	(void)conn;
	(void)req;
	for (size_t i = 0; i < e->n_udp; i++)
		json_array_append_new(listen, json_string(cn_coop_addr_format(&e->udp_addr[i], buf,
									       sizeof(buf))));
	if ((n = db_session_count(e->db, 0)) < 0) {
		json_decref(listen);
		return ctl_reply_error("database: %s", db_error(e->db));
	}
	return json_pack("{s:b, s:o, s:o, s:i, s:i, s:i, s:I, s:s, s:s, s:i, s:s, s:b, s:o}",
			 "ok", 1, "roles", roles_json(e->cfg->roles), "listen", listen,
			 "sessions", n, "pending_ss", e->ss ? (int)auth_ss_pending(e->ss) : 0,
			 "pending_sp", e->sp ? (int)auth_sp_pending(e->sp) : 0,
			 "uptime", (json_int_t)(engine_wall_ms() / 1000) - e->started,
			 "database", e->cfg->database, "user", e->user,
			 "schema_version", db_user_version(e->db),
			 "nfq", !e->cfg->nfq_socket[0] ? "disabled" : e->nfq_up ? "up" : "down",
			 "policy_loaded", e->have_policy, "probes", engine_probe_status(e));
}

static json_t *session_json(const struct engine *e, const struct db_session *s)
{
	json_t *o = cn_session_to_json(&s->s);

	if (o) {
		json_object_set_new(o, "confidential",
				    json_boolean(policy_confidential(&e->pol, s->service_name)));
		json_object_set_new(o, "role", json_string(db_role_name(s->role)));
		json_object_set_new(o, "service_name", json_string(s->service_name));
		json_object_set_new(o, "client_name", json_string(s->client_name));
		json_object_set_new(o, "peer", json_string(s->peer));
		json_object_set_new(o, "created", json_integer(s->created));
		json_object_set_new(o, "refreshed", json_integer(s->refreshed));
	}
	return o;
}

/* A listing's cursor is a rowid of the sessions table (db_session_range): a page reads its
 * rows LIST_BATCH at a time from the cursor on, never the table from its start (that made a
 * listing O(n) per page, O(n^2) in all: issue 11). */
#define LIST_BATCH 64

struct list_arg {
	const struct engine *e;
	struct db_session rows[LIST_BATCH];
	int64_t rowids[LIST_BATCH];
	size_t n, i;
	int r;
};

static int listed(void *arg, size_t *pos, json_t **item)
{
	struct list_arg *la = arg;

	if (la->i == la->n || la->rowids[la->i] < (int64_t)*pos) {
		int n = db_session_range(la->e->db, (int64_t)*pos, la->rows, la->rowids, LIST_BATCH);
		if (n < 0) {
			la->r = -1;
			return -1;
		}
		la->n = (size_t)n;
		la->i = 0;
	}
	if (la->i == la->n)
		return 0;
	*item = session_json(la->e, &la->rows[la->i]);
	*pos = (size_t)la->rowids[la->i++] + 1;
	return *item ? 1 : -1;
}

/* Paged like coopnet-nfq's listing, so thousands of sessions fit the 64 KiB messages; "total"
 * is counted for the first page ("offset" absent or 0) and repeated for the pages after it. */
static json_t *cmd_sessions(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	struct list_arg *la = calloc(1, sizeof(*la));
	json_t *r = NULL;

	(void)conn;
	if (!la)
		return ctl_reply_error("out of memory");
	la->e = e;
	if (json_integer_value(json_object_get(req, "offset")) == 0 || e->list_total <= 0) {
		e->list_total = db_session_count(e->db, 0);
		la->r = e->list_total < 0 ? -1 : 0;
	}
	if (la->r == 0)
		r = ctl_reply_page((size_t)e->list_total, listed, la, req, "sessions");
	if (la->r < 0) {
		json_decref(r);
		r = ctl_reply_error("database: %s", db_error(e->db));
	}
	explicit_bzero(la, sizeof(*la)); /* the rows hold session keys */
	free(la);
	return r;
}

static void add_clients(json_t *a, const struct pol_client *c, size_t n, const char *role)
{
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array();
		for (size_t k = 0; k < c[i].n_services; k++)
			json_array_append_new(s, json_string(c[i].services[k]));
		/* never a key, never a passcode */
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "role", role, "name",
						   c[i].name, "address", c[i].address, "services", s));
	}
}

static json_t *cmd_clients(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	json_t *a = json_array();

	(void)conn;
	(void)req;
	add_clients(a, e->pol.ss_clients, e->pol.n_ss_clients, "supervisor");
	add_clients(a, e->pol.sp_clients, e->pol.n_sp_clients, "provider");
	/* a provider: the info_client of each session, as its SS reported it */
	if ((e->cfg->roles & POLICY_ROLE_PROVIDER) && engine_ctl_client_status(e, a) < 0) {
		json_decref(a);
		return ctl_reply_error("database: %s", db_error(e->db));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "clients", a);
}

struct vnic_count {
	const char *name;
	int n;
};

static int vnic_count_cb(const struct db_session *s, void *arg)
{
	struct vnic_count *c = arg;

	if (!strcmp(s->s.vnic, c->name))
		c->n++;
	return 0;
}

/* What the kernel shows of a vNIC: "up", "down", "missing", "drift" (a created vNIC whose
 * link differs from the policy until the next reconcile), "not-coopnet" (a link of that name
 * without coopnet's marker), or "external" (coopnet-authd does not create it). */
static const char *vnic_state_name(const struct vnic_state *st, const struct pol_vnic *v)
{
	const struct vnic_link *l;
	uint8_t mac[6];

	if (!v->parent[0])
		return "external";
	if (!st)
		return "unknown";
	l = vnic_state_find(st, v->name);
	if (!l)
		return "missing";
	if (strcmp(l->alias, VNIC_MARKER))
		return "not-coopnet";
	if (v->has_mac)
		memcpy(mac, v->mac, sizeof(mac));
	else
		vnic_mac_derive(v->name, mac);
	if (!l->has_mac || memcmp(l->mac, mac, sizeof(mac)))
		return "drift";
	for (size_t k = 0; k < v->n_addrs; k++) {
		bool found = false;
		for (size_t j = 0; j < l->naddrs && !found; j++)
			found = l->addrs[j].family == v->addrs[k].family &&
				l->addrs[j].prefixlen == v->addrs[k].prefixlen &&
				!memcmp(l->addrs[j].addr, v->addrs[k].addr,
					v->addrs[k].family == AF_INET ? 4 : 16);
		if (!found)
			return "drift";
	}
	return l->up ? "up" : "down";
}

/* The links as the kernel has them; reading rtnetlink needs no privilege. */
static struct vnic_state *read_links(void)
{
	struct vnic_state *st = NULL;
	struct vnic_error err;
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 || vnic_state_read(nl, &st, &err) < 0)
		st = NULL;
	mnl_socket_close(nl);
	return st;
}

static json_t *cmd_vnics(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	json_t *a = json_array();
	char buf[VNIC_ADDRSTRLEN];
	struct vnic_state *st = read_links();

	(void)conn;
	(void)req;
	for (size_t i = 0; i < e->pol.n_vnics; i++) {
		const struct pol_vnic *v = &e->pol.vnics[i];
		struct vnic_count cnt = { v->name, 0 };
		json_t *s = json_array(), *addrs = json_array(), *o;
		uint8_t mac[6];
		for (size_t k = 0; k < v->n_services; k++)
			json_array_append_new(s, json_pack("{s:s, s:i, s:b}", "name", v->services[k].name,
							   "port", v->services[k].port, "apache",
							   v->services[k].apache));
		if (v->parent[0])
			for (size_t k = 0; k < v->n_addrs; k++)
				json_array_append_new(addrs, json_string(vnic_addr_format(&v->addrs[k],
										 buf, sizeof(buf))));
		else
			json_array_append_new(addrs, json_string(cn_coop_addr_format(&v->addr, buf,
									 sizeof(buf))));
		db_session_foreach(e->db, 0, vnic_count_cb, &cnt);
		o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:i}", "name", v->name, "state",
			      vnic_state_name(st, v), "address", cn_coop_addr_format(&v->addr, buf,
			      sizeof(buf)), "addresses", addrs, "data_folder", v->data_folder,
			      "services", s, "sessions", cnt.n);
		if (o && v->parent[0]) {
			if (v->has_mac)
				memcpy(mac, v->mac, sizeof(mac));
			else
				vnic_mac_derive(v->name, mac);
			json_object_set_new(o, "parent", json_string(v->parent));
			json_object_set_new(o, "mac", json_string(vnic_mac_format(mac, buf, sizeof(buf))));
		}
		json_array_append_new(a, o);
	}
	vnic_state_free(st);
	/* a supervisor: the info_vNIC its SPs reported, one row per session */
	if ((e->cfg->roles & POLICY_ROLE_SUPERVISOR) && engine_ctl_vnic_status(e, a) < 0) {
		json_decref(a);
		return ctl_reply_error("database: %s", db_error(e->db));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "vnics", a);
}

static json_t *cmd_stats(void *ctx, size_t conn, const json_t *req)
{
	json_t *s = engine_stats_json(ctx);

	(void)conn;
	(void)req;
	return s ? json_pack("{s:b, s:o}", "ok", 1, "stats", s) : NULL;
}

/* The snapshot lib/metrics.c renders; coopnetctl metrics renders it (docs/metrics.md). */
static json_t *cmd_metrics(void *ctx, size_t conn, const json_t *req)
{
	json_t *m = engine_metrics_snapshot(ctx);

	(void)conn;
	(void)req;
	return m ? json_pack("{s:b, s:o}", "ok", 1, "metrics", m) :
		   ctl_reply_error("metrics: database or memory");
}

/* auth: the client defaults to the one configured for the service in "authenticate" */
static json_t *cmd_auth(void *ctx, size_t i, const json_t *req)
{
	struct engine *e = ctx;
	const char *service = json_string_value(json_object_get(req, "service"));
	const char *client = json_string_value(json_object_get(req, "client"));
	struct cn_coop_addr addr;
	char err[256];

	if (!service)
		return ctl_reply_error("auth needs \"service\"");
	if (!client) {
		for (size_t k = 0; k < e->pol.n_start && !client; k++) {
			if (!strcmp(e->pol.start[k].service, service)) {
				addr = e->pol.start[k].client;
				client = "";
			}
		}
		if (!client)
			return ctl_reply_error("auth %s: give the client address (no "
					       "\"authenticate\" entry names one)", service);
	} else if (cn_coop_addr_parse(&addr, client) < 0) {
		return ctl_reply_error("\"%s\" is not an IP address", client);
	}
	if (engine_auth_start(e, &addr, service, &e->ctl_conns[i].auth_handle, err,
			      sizeof(err)) < 0)
		return ctl_reply_error("%s", err);
	e->ctl_conns[i].auth_pending = true;
	ctl_server_defer(&e->ctl, i);
	return NULL; /* answered by engine_ctl_auth_done */
}

struct match {
	bool by_id;
	cn_id_t id;
	struct cn_coop_addr client;
	struct engine *e;
	int n;
};

static int revoke_cb(const struct db_session *s, void *arg)
{
	struct match *m = arg;
	bool hit;

	if (m->by_id) {
		hit = s->s.id == m->id;
	} else {
		int fam = m->client.family == CN_FAM_INET ? AF_INET : AF_INET6;
		hit = s->s.family == fam &&
		      !memcmp(s->s.client, m->client.addr, fam == AF_INET ? 4 : 16);
	}
	if (hit && engine_session_remove(m->e, s, CNT_SESSIONS_REVOKED) == 0)
		m->n++;
	return 0;
}

static json_t *cmd_revoke(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	const char *id = json_string_value(json_object_get(req, "id"));
	const char *client = json_string_value(json_object_get(req, "client"));
	struct match m = { .e = e };
	enum cn_id_parse_err pe;

	(void)conn;
	if (!!id == !!client)
		return ctl_reply_error("revoke needs exactly one of \"id\" and \"client\"");
	if (id) {
		m.by_id = true;
		if ((pe = cn_id_parse(&m.id, id)) != CN_ID_PARSE_OK)
			return ctl_reply_error("\"%s\": %s", id, cn_id_parse_strerror(pe));
	} else if (cn_coop_addr_parse(&m.client, client) < 0) {
		return ctl_reply_error("\"%s\" is not an IP address", client);
	}
	/* through an index (the ID; the primary key for a client), not a walk of the table */
	if (id ? db_session_foreach_id(e->db, DB_ROLE_PROVIDER, m.id, revoke_cb, &m) < 0 ||
		 db_session_foreach_id(e->db, DB_ROLE_SUPERVISOR, m.id, revoke_cb, &m) < 0 :
		 db_session_foreach_client(e->db, m.client.family == CN_FAM_INET ? AF_INET :
					   AF_INET6, m.client.addr, revoke_cb, &m) < 0)
		return ctl_reply_error("database: %s", db_error(e->db));
	if (m.n == 0)
		return ctl_reply_error("no session matches %s", id ? id : client);
	return json_pack("{s:b, s:i}", "ok", 1, "revoked", m.n);
}

static json_t *cmd_reload(void *ctx, size_t i, const json_t *req)
{
	struct engine *e = ctx;

	(void)req;
	for (size_t k = 0; k < CTL_MAX_CONNS; k++)
		if (e->ctl_conns[k].reload_pending)
			return ctl_reply_error("a reload is already running");
	if (imsg_send_bin(e->parent_fd, IMSG_RELOAD, NULL, 0, 0) < 0)
		return ctl_reply_error("cannot reach the privileged parent");
	e->ctl_conns[i].reload_pending = true;
	ctl_server_defer(&e->ctl, i);
	return NULL; /* answered by engine_ctl_reload_done */
}

/* dp-resync: every session of the database to coopnet-nfq again, as after a reconnect */
static json_t *cmd_dp_resync(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	int n = 0;

	(void)conn;
	(void)req;
	if (!e->cfg->nfq_socket[0])
		return ctl_reply_error("no data plane: \"nfq_socket\" is empty in authd.json");
	if (!e->nfq_up)
		return ctl_reply_error("coopnet-nfq is down: the sync follows when it answers again "
				       "(tried every second)");
	if ((n = db_session_count(e->db, 0)) < 0)
		return ctl_reply_error("database: %s", db_error(e->db));
	engine_nfq_sync(e);
	return json_pack("{s:b, s:i}", "ok", 1, "sessions", n);
}

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "metrics", cmd_metrics },
	{ "sessions", cmd_sessions },
	{ "clients", cmd_clients },
	{ "vnics", cmd_vnics },
	{ "group", engine_ctl_group },
	{ "group-sessions", engine_ctl_group_sessions },
	{ "auth", cmd_auth },
	{ "revoke", cmd_revoke },
	{ "reload", cmd_reload },
	{ "probe", cmd_probe },
	{ "dp-resync", cmd_dp_resync },
	{ NULL, NULL },
};

static json_t *gate(void *ctx, size_t conn, const json_t *req)
{
	(void)conn;
	(void)req;
	return ((struct engine *)ctx)->have_policy ? NULL : ctl_reply_error("no policy loaded yet");
}

/* A closed connection forgets what it waited for: its answer, when it comes, is dropped. */
static void conn_reset(void *ctx, size_t conn)
{
	struct engine *e = ctx;

	memset(&e->ctl_conns[conn], 0, sizeof(e->ctl_conns[conn]));
}

int engine_ctl_open(struct engine *e, int listen_fd)
{
	const struct ctl_server_ops ops = {
		.commands = commands,
		.ctx = e,
		.gate = gate,
		.opened = conn_reset,
		.closing = conn_reset,
	};

	return ctl_server_open(&e->ctl, listen_fd, AUTHD_MAX_CTL_CLIENTS, &ops);
}

void engine_ctl_auth_done(struct engine *e, uint64_t handle, json_t *r)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct engine_ctl_conn *c = &e->ctl_conns[i];

		if (c->auth_pending && c->auth_handle == handle) {
			c->auth_pending = false;
			ctl_server_answer(&e->ctl, i, r);
			return;
		}
	}
	json_decref(r);
}

void engine_ctl_reload_done(struct engine *e, json_t *r)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
		struct engine_ctl_conn *c = &e->ctl_conns[i];

		if (c->reload_pending) {
			c->reload_pending = false;
			ctl_server_answer(&e->ctl, i, r);
			return;
		}
	}
	json_decref(r);
}
