/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics from the unprivileged engine (docs/metrics.md): the snapshot that
 * lib/metrics.c renders (the engine's counters, coopnet-nfq's as the parent last polled them,
 * sessions and exchanges by role, the status application's view of each SP's vNIC services),
 * the control command `metrics` that hands it to coopnetctl, and the HTTP endpoint
 * (libmicrohttpd, driven by the engine's epoll loop: no thread) on the socket the parent
 * bound for authd.json's "metrics". The HTTP side answers GET /metrics only (404 for any other
 * path, 405 for any other method), with a bounded number of connections (max_connections;
 * half of them from one address, so that one client cannot starve the others), a 10-second
 * connection time-out and a 16 KiB memory limit per connection (a longer request is refused).
 */
#include "engine.h"
#include "engine_status.h"

#include <string.h>
#include <sys/epoll.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

#define NFQ_STATS_KEYS_MAX 64

/* --- the snapshot ------------------------------------------------------------------------- */

json_t *engine_stats_json(struct engine *e)
{
	json_t *s = json_object();

	if (!s)
		return NULL;
	e->counters[CNT_CTL_REFUSED] = e->ctl.refused; /* counted by the server */
	for (int i = 0; i < CNT_MAX; i++)
		json_object_set_new(s, engine_counter_name(i), json_integer((json_int_t)e->counters[i]));
	engine_status_stats(e, s);
	engine_member_stats(e, s);
	return s;
}

struct role_count {
	json_int_t supervisor, provider;
};

struct vnic_agg {
	char sp[56], service[32], vnic[16];
	const char *state;
	int64_t received_ms;
};

struct vnic_rows {
	struct vnic_agg v[METRICS_VNICS_MAX];
	size_t n;
	bool truncated;
};

/* One row per (SP, service, vNIC): the newest report of the sessions that share it. */
static int vnic_row(const struct db_vnic_status *r, void *arg)
{
	struct vnic_rows *rows = arg;
	struct vnic_agg *a = NULL;

	for (size_t i = 0; i < rows->n && !a; i++)
		if (!strcmp(rows->v[i].sp, r->sp) && !strcmp(rows->v[i].service, r->service) &&
		    !strcmp(rows->v[i].vnic, r->vnic))
			a = &rows->v[i];
	if (!a) {
		if (rows->n == METRICS_VNICS_MAX) {
			rows->truncated = true;
			return 0;
		}
		a = &rows->v[rows->n++];
		memset(a, 0, sizeof(*a));
		a->received_ms = -1;
		snprintf(a->sp, sizeof(a->sp), "%s", r->sp);
		snprintf(a->service, sizeof(a->service), "%s", r->service);
		snprintf(a->vnic, sizeof(a->vnic), "%s", r->vnic);
	} else if (r->received_ms <= a->received_ms) {
		return 0;
	}
	a->received_ms = r->received_ms;
	a->state = r->reachable ? engine_vnic_status_name(r->vnic_status) : "unreachable";
	return 0;
}

static json_t *vnics_json(struct engine *e, bool *truncated)
{
	static struct vnic_rows rows; /* ~60 KiB: off the stack; one engine per process */
	int64_t now = (int64_t)engine_wall_ms();
	json_t *a = json_array();

	rows.n = 0;
	rows.truncated = false;
	if (!a || db_vnic_status_foreach(e->db, vnic_row, &rows) < 0) {
		json_decref(a);
		return NULL;
	}
	for (size_t i = 0; i < rows.n; i++) {
		const struct vnic_agg *v = &rows.v[i];
		json_int_t age = v->received_ms > 0 && now >= v->received_ms ?
				 (json_int_t)(now - v->received_ms) : -1;

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I}", "sp", v->sp,
						   "service", v->service, "vnic", v->vnic,
						   "state", v->state, "age_ms", age));
	}
	*truncated = rows.truncated;
	return a;
}

json_t *engine_metrics_snapshot(struct engine *e)
{
	struct role_count rc = { 0 };
	json_t *snap = json_object(), *sessions = json_object(), *pending = json_object();
	bool truncated = false;

	if (!snap || !sessions || !pending)
		goto fail;
	json_object_set_new(snap, "authd", engine_stats_json(e));
	json_object_set_new(snap, "policy_loaded", json_boolean(e->have_policy));
	json_object_set_new(snap, "start_time", json_integer((json_int_t)e->started));
	if (e->cfg->nfq_socket[0]) {
		json_object_set_new(snap, "nfq_up", json_boolean(e->nfq_up));
		if (e->nfq_up && e->nfq_stats)
			json_object_set(snap, "nfq", e->nfq_stats);
	}
	/* counted from an index: a scrape does not read every session (issue 11) */
	if ((rc.supervisor = db_session_count(e->db, DB_ROLE_SUPERVISOR)) < 0 ||
	    (rc.provider = db_session_count(e->db, DB_ROLE_PROVIDER)) < 0)
		goto fail;
	if (e->cfg->roles & POLICY_ROLE_SUPERVISOR) {
		json_object_set_new(sessions, "supervisor", json_integer(rc.supervisor));
		json_object_set_new(pending, "supervisor",
				    json_integer(e->ss ? (json_int_t)auth_ss_pending(e->ss) : 0));
		json_object_set_new(snap, "vnics", vnics_json(e, &truncated));
		json_object_set_new(snap, "vnics_truncated", json_boolean(truncated));
	}
	if (e->cfg->roles & POLICY_ROLE_PROVIDER) {
		json_object_set_new(sessions, "provider", json_integer(rc.provider));
		json_object_set_new(pending, "provider",
				    json_integer(e->sp ? (json_int_t)auth_sp_pending(e->sp) : 0));
	}
	if (e->mhd) {
		const union MHD_DaemonInfo *i = MHD_get_daemon_info(e->mhd,
			MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (i)
			json_object_set_new(snap, "http_connections",
					    json_integer((json_int_t)i->num_connections));
	}
	json_object_set_new(snap, "sessions", sessions);
	json_object_set_new(snap, "pending", pending);
	return snap;
fail:
	json_decref(snap);
	json_decref(sessions);
	json_decref(pending);
	return NULL;
}

/* {"msg": "nfq-stats", "stats": {"embedded": 1, ...}}: coopnet-nfq's `stats`, polled by the
 * parent. Checked like any message between our processes: an object of at most 64 counters,
 * names [a-z0-9_-], values integers >= 0; anything else refuses the whole poll (counted). */
void engine_nfq_stats(struct engine *e, const json_t *msg)
{
	const json_t *st = json_object_get(msg, "stats");
	char name[128];
	const char *key;
	json_t *v;

	if (!json_is_object(st) || json_object_size(st) > NFQ_STATS_KEYS_MAX)
		goto bad;
	json_object_foreach((json_t *)st, key, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    metrics_name(name, sizeof(name), "", key, "") < 0)
			goto bad;
	json_decref(e->nfq_stats);
	e->nfq_stats = json_deep_copy(st);
	return;
bad:
	e->counters[CNT_NFQ_STATS_BAD]++;
	log_warnx("nfq-stats from the parent: not an object of counters: this poll is dropped");
}

/* --- the HTTP endpoint ---------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, const char *type,
			      char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error_page(struct MHD_Connection *c, unsigned code, const char *text)
{
	char *body = strdup(text);

	return body ? answer(c, code, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct engine *e = cls;
	struct metrics_buf b;
	json_t *snap;
	int route = metrics_route(method, url);

	(void)version, (void)upload_data, (void)upload_size, (void)req_cls;
	if (route == 404)
		return error_page(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	if (route == 405)
		return error_page(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	e->counters[CNT_METRICS_SCRAPES]++;
	metrics_buf_init(&b, METRICS_TEXT_MAX);
	snap = engine_metrics_snapshot(e);
	if (!snap || metrics_render(&b, snap) < 0 || !b.p) {
		json_decref(snap);
		metrics_buf_free(&b);
		return error_page(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n");
	}
	json_decref(snap);
	return answer(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, b.p, b.len); /* takes b.p */
}

/* libmicrohttpd's format strings: checked as printf formats (clang -Wformat-nonliteral) */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("metrics http: %s", msg);
}

int engine_metrics_open(struct engine *e, int listen_fd)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_TAG(EV_METRICS, 0) };
	unsigned max = e->cfg->metrics.max_connections ? e->cfg->metrics.max_connections : 8;

	if (!e->cfg->metrics.enabled || listen_fd < 0)
		return 0;
	e->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				  on_request, e,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, max,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (max + 1) / 2,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
				  MHD_OPTION_END);
	if (!e->mhd)
		return -1;
	info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || epoll_ctl(e->epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
		MHD_stop_daemon(e->mhd);
		e->mhd = NULL;
		return -1;
	}
	return 0;
}

/* Ready connections, and the connection time-outs (the loop calls it every second too). */
void engine_metrics_run(struct engine *e)
{
	if (e->mhd)
		MHD_run(e->mhd);
}

void engine_metrics_close(struct engine *e)
{
	if (e->mhd)
		MHD_stop_daemon(e->mhd);
	e->mhd = NULL;
	json_decref(e->nfq_stats);
	e->nfq_stats = NULL;
}
