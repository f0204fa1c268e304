/* SPDX-License-Identifier: MIT */
/*
 * The control command "group" (`coopnetctl group`, docs/coopnetctl.md: the JSON shape): one
 * view of the SP group from where this host stands:
 *   header: the members of its group, their state and since when, load, services down
 *           (the group application's view) and the decisions this header made for each;
 *   member: an SP with provider.membership: what it sends its headers;
 *   ss:     its group services, their members (state from the status reports of the
 *           sessions that use them); each session with the SP it uses is the paged
 *           listing "group-sessions" (an SS has more than one message holds);
 *   counters: the group's counters of `coopnetctl stats authd`.
 * The rendering is authd/group_json.c's (pure, tests/unit/test_group_view.c); this file
 * gathers its inputs from the engine and its database.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine_status.h"
#include "group_json.h"
#include "log.h"

#define GV_MAX_SESSIONS 100000  /* a bound on one reply (the control socket pages lists) */

struct gv_gather {
	struct engine *e;
	struct gv_session *rows;
	size_t n, cap;
	bool oom;
};

static int session_cb(const struct db_session *s, void *arg)
{
	struct gv_gather *g = arg;
	const struct pol_service *svc = policy_service_by_name(&g->e->pol, s->service_name);
	struct gv_session *r;
	size_t len = s->s.family == AF_INET ? 4 : 16;

	if (!svc || !svc->n_members)
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct gv_session *n;

		if (cap > GV_MAX_SESSIONS)
			cap = GV_MAX_SESSIONS;
		n = cap > g->cap ? realloc(g->rows, cap * sizeof(*n)) : NULL;
		if (!n) {
			g->oom = true;
			return 1; /* stop */
		}
		g->rows = n;
		g->cap = cap;
	}
	r = &g->rows[g->n++];
	memset(r, 0, sizeof(*r));
	inet_ntop(s->s.family, s->s.client, r->client, sizeof(r->client));
	snprintf(r->service, sizeof(r->service), "%s", s->service_name);
	cn_id_format_hex(s->s.id, r->id, sizeof(r->id));
	snprintf(r->sp, sizeof(r->sp), "%s", s->peer);
	r->member.family = s->s.family == AF_INET ? CN_FAM_INET : CN_FAM_INET6;
	memcpy(r->member.addr, s->s.service, len);
	r->state = GV_UNKNOWN;
	r->since_ms = r->load = r->report_age_ms = -1;
	return 0;
}

/* rows by the key of a status report: SP, service name, ID */
static int row_cmp(const void *a, const void *b)
{
	const struct gv_session *x = a, *y = b;
	int c = strcmp(x->sp, y->sp);

	if (!c)
		c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->id, y->id);
}

/* The status report of the session's SP (db_vnic_status), into its row (rows sorted). */
static int report_cb(const struct db_vnic_status *v, void *arg)
{
	struct gv_gather *g = arg;
	int64_t now = (int64_t)engine_wall_ms();
	struct gv_session key, *r;

	snprintf(key.sp, sizeof(key.sp), "%s", v->sp);
	snprintf(key.service, sizeof(key.service), "%s", v->service);
	cn_id_format_hex(v->id, key.id, sizeof(key.id));
	r = g->n ? bsearch(&key, g->rows, g->n, sizeof(*r), row_cmp) : NULL;
	if (!r)
		return 0; /* a report of a session that is not a group service's */
	r->load = v->v.sessions;
	r->report_age_ms = v->received_ms > 0 && now >= v->received_ms ? now - v->received_ms : -1;
	if (!v->reachable) {
		r->state = GV_UNREACHABLE;
		r->since_ms = v->reach_changed_ms > 0 && now >= v->reach_changed_ms ?
			      now - v->reach_changed_ms : -1;
		return 0;
	}
	r->state = v->vnic_status == CN_VNIC_UP ? GV_UP : v->vnic_status == CN_VNIC_DOWN ?
		   GV_DOWN : v->vnic_status == CN_VNIC_BUSY ? GV_BUSY : GV_UNKNOWN;
	r->since_ms = v->v.since_s == CN_STATUS_SINCE_UNKNOWN ? -1 : (int64_t)v->v.since_s * 1000;
	return 0;
}

/* The SS's sessions of group services with their SP's report; 0, or -1 with err. */
static int gather(struct engine *e, struct gv_gather *g, char *err, size_t errlen)
{
	*g = (struct gv_gather){ .e = e };
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, session_cb, g) < 0) {
		snprintf(err, errlen, "database: %s", db_error(e->db));
		free(g->rows);
		return -1;
	}
	if (g->n && !g->oom) {
		/* one report per session: found by bsearch, not a scan per report */
		qsort(g->rows, g->n, sizeof(*g->rows), row_cmp);
		if (db_vnic_status_foreach(e->db, report_cb, g) < 0) {
			snprintf(err, errlen, "database: %s", db_error(e->db));
			free(g->rows);
			return -1;
		}
	}
	if (g->oom) {
		snprintf(err, errlen, "more than %d sessions of group services, or out of memory",
			 GV_MAX_SESSIONS);
		free(g->rows);
		return -1;
	}
	return 0;
}

static json_t *ss_json(struct engine *e, char *err, size_t errlen)
{
	struct gv_gather g;
	json_t *o;

	if (!e->pol.supervisor)
		return json_null();
	if (gather(e, &g, err, errlen) < 0)
		return NULL;
	o = group_json_ss(&e->pol, g.rows, g.n);
	free(g.rows);
	return o;
}

/* group-sessions: the SS's sessions of group services, each with its SP, paged. */
json_t *engine_ctl_group_sessions(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	char err[256];
	struct gv_gather g;
	json_t *a, *r;

	(void)conn;
	if (!e->pol.supervisor)
		return ctl_reply_error("this host is not a supervisor (SS)");
	if (gather(e, &g, err, sizeof(err)) < 0)
		return ctl_reply_error("%s", err);
	a = group_json_sessions(g.rows, g.n);
	free(g.rows);
	if (!a)
		return ctl_reply_error("out of memory");
	r = ctl_reply_array_page(a, req, "sessions");
	json_decref(a);
	return r;
}

/* The group's counters, the same numbers as `coopnetctl stats authd`. */
static json_t *counters_json(const struct engine *e)
{
	static const int cnt[] = { CNT_BALANCE_DECISIONS, CNT_GROUP_RETRY_AVOIDED, CNT_FAILOVERS,
				   AUTH_EV_HEADER_NEXT, AUTH_EV_NO_SP_UP, CNT_BALANCE_REPEATS,
				   AUTH_EV_HEADER_KEPT, AUTH_EV_RELEASED };
	json_t *o = json_object();

	for (size_t i = 0; o && i < sizeof(cnt) / sizeof(cnt[0]); i++)
		json_object_set_new(o, engine_counter_name(cnt[i]),
				    json_integer((json_int_t)e->counters[cnt[i]]));
	return o;
}

json_t *engine_ctl_group(void *ctx, size_t conn, const json_t *req)
{
	struct engine *e = ctx;
	char err[256] = "out of memory";
	json_t *h, *m, *ss, *c;

	(void)conn;
	(void)req;
	h = group_json_header(&e->pol, engine_member_rx(e), engine_balance_decisions(e),
			      engine_now_ms());
	m = engine_member_json(e);
	ss = ss_json(e, err, sizeof(err));
	c = counters_json(e);
	if (!h || !m || !ss || !c) {
		json_decref(h);
		json_decref(m);
		json_decref(ss);
		json_decref(c);
		return ctl_reply_error("%s", err);
	}
	return json_pack("{s:b, s:i, s:o, s:o, s:o, s:o}", "ok", 1, "version", GROUP_VIEW_VERSION,
			 "header", h, "member", m, "ss", ss, "counters", c);
}
