/* SPDX-License-Identifier: MIT */
/* The coopnet-nfq control socket: docs/control.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "nfqd.h"

static json_t *sess_json(const struct tbl_entry *e)
{
	struct cn_session s;
	json_t *o;

	tbl_entry_to_session(e, &s);
	o = cn_session_to_json(&s);
	if (!o)
		return NULL;
	json_object_set_new(o, "source",
			    json_string(e->source == SESS_SRC_AUTHD ? "authd" : "config"));
	/* queue mode: what the queue threads saw (docs/control.md) */
	json_object_set_new(o, "last_seen", json_integer(atomic_load_explicit(
						 &e->last_seen, memory_order_relaxed)));
	json_object_set_new(o, "traffic", json_pack(
		"{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}}",
		"segments", "in", (json_int_t)atomic_load(&e->segs[0]),
		"out", (json_int_t)atomic_load(&e->segs[1]),
		"bytes", "in", (json_int_t)atomic_load(&e->bytes[0]),
		"out", (json_int_t)atomic_load(&e->bytes[1]),
		"drops", "no_id", (json_int_t)atomic_load(&e->drops[TBL_DROP_NO_ID]),
		"wrong_id", (json_int_t)atomic_load(&e->drops[TBL_DROP_WRONG_ID]),
		"other", (json_int_t)atomic_load(&e->drops[TBL_DROP_OTHER])));
	return o;
}

static json_t *cmd_status(struct nfqd *d, const json_t *req)
{
	json_t *r = ctl_reply_ok();

	(void)req;
	json_object_set_new(r, "role", json_string(nfq_role_name(d->cfg.role)));
	json_object_set_new(r, "mode", json_string(nfq_mode_name(d->cfg.mode)));
	json_object_set_new(r, "queues", json_pack("{s:i, s:i, s:b}", "num", d->cfg.queue_num,
						      "count", d->cfg.queue_count, "fanout",
						      d->cfg.fanout));
	json_object_set_new(r, "sessions",
			    json_integer((json_int_t)tbl_count(d->sh.tbl)));
	json_object_set_new(r, "queue_rule", json_string(queue_expr_name(d->qexpr)));
	json_object_set_new(r, "fail_open", json_boolean(d->cfg.fail_open));
	json_object_set_new(r, "uptime", json_integer((json_int_t)(time(NULL) - d->started)));
	return r;
}

static json_t *cmd_stats(struct nfqd *d, const json_t *req)
{
	uint64_t c[R__COUNT];
	json_t *r = ctl_reply_ok(), *s = json_object();
	int i;

	(void)req;
	workers_counters(&d->w, c);
	if (d->cfg.mode == MODE_KERNEL)
		kmode_counters(&d->cfg, c);
	for (i = 0; i < R__COUNT; i++)
		json_object_set_new(s, nfq_reason_name(i), json_integer((json_int_t)c[i]));
	json_object_set_new(r, "stats", s);
	return r;
}

/* Paged by size (docs/control.md, "Large replies"): from "offset" on (an entry number: entries
 * never move), as many sessions as fit one message; "next" is the offset of the following
 * page when there is one. */
static json_t *cmd_sessions(struct nfqd *d, const json_t *req)
{
	size_t used = 256, pos = 0, at;
	const json_t *off = json_object_get(req, "offset");
	const struct tbl_entry *e;
	json_t *r, *a;

	if (off && (!json_is_integer(off) || json_integer_value(off) < 0))
		return ctl_reply_error("\"offset\" must be an integer >= 0");
	if (off)
		pos = (size_t)json_integer_value(off);
	r = ctl_reply_ok();
	a = json_array();
	if (!r || !a) {
		json_decref(r);
		json_decref(a);
		return NULL;
	}
	for (at = pos; (e = tbl_next(d->sh.tbl, &pos)); at = pos) {
		json_t *o = sess_json(e);
		size_t sz = o ? ctl_json_size(o) + 1 : 0;

		if (!o || (json_array_size(a) > 0 && used + sz > CTL_CHUNK_BUDGET)) {
			json_decref(o);
			json_object_set_new(r, "next", json_integer((json_int_t)at));
			break;
		}
		used += sz;
		json_array_append_new(a, o);
	}
	json_object_set_new(r, "sessions", a);
	json_object_set_new(r, "total", json_integer((json_int_t)tbl_count(d->sh.tbl)));
	return r;
}

/* Parse the "sessions" array into out (all or nothing). */
static int parse_session_array(struct sess_list *out, const json_t *req, char *err,
			       size_t errlen)
{
	const json_t *arr = json_object_get(req, "sessions");
	json_t *v;
	size_t i;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "\"sessions\" must be an array of session objects");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct cn_session s;
		char msg[256];

		if (cn_session_from_json(&s, v, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "session %zu: %s", i, msg);
			return -1;
		}
		if (sess_list_append(out, &s, SESS_SRC_AUTHD) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (sess_list_dedup(out) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static json_t *changed(struct nfqd *d, size_t count, const char *field)
{
	json_t *r = ctl_reply_ok();

	nfqd_publish(d);
	json_object_set_new(r, field, json_integer((json_int_t)count));
	return r;
}

static json_t *cmd_session_add(struct nfqd *d, const json_t *req)
{
	struct sess_list add;
	char err[300];
	size_t i;

	sess_list_init(&add);
	if (parse_session_array(&add, req, err, sizeof(err)) < 0) {
		sess_list_clear(&add);
		return ctl_reply_error("%s", err);
	}
	/* all or nothing: with the room reserved, no put fails */
	if (tbl_reserve(d->sh.tbl, add.n) < 0) {
		sess_list_clear(&add);
		return ctl_reply_error("out of memory, or more than %u sessions", TBL_MAX_SESSIONS);
	}
	for (i = 0; i < add.n; i++)
		tbl_put(d->sh.tbl, &add.v[i]);
	i = add.n;
	sess_list_clear(&add);
	return changed(d, i, "added");
}

/* One message, or one chunk of a chunked sync staged on this connection (stage.h): the
 * table changes only with the last chunk. */
static json_t *cmd_session_sync(struct nfqd *d, struct ctl_client *c, const json_t *req)
{
	struct sess_list next;
	char err[300];
	json_t *r;
	size_t n;
	int rc;

	sess_list_init(&next);
	rc = stage_feed(&c->stage, req, &next, err, sizeof(err));
	if (rc < 0)
		return ctl_reply_error("session-sync refused, the running table stays: %s", err);
	if (rc == 0) {
		r = ctl_reply_ok();
		json_object_set_new(r, "staged", json_integer((json_int_t)c->stage.l.n));
		json_object_set_new(r, "more", json_true());
		return r;
	}
	rc = tbl_sync_authd(d->sh.tbl, &next, NULL);
	n = next.n;
	sess_list_clear(&next);
	if (rc < 0)
		return ctl_reply_error("session-sync refused, the running table stays: out of "
				       "memory, or more than %u sessions", TBL_MAX_SESSIONS);
	return changed(d, n, "sessions");
}

/* What session-del removes. */
struct del_match {
	enum { DEL_ID, DEL_CLIENT } kind;
	cn_id_t id;
	int family;
	uint8_t client[16];
};

static bool del_match_fn(const struct tbl_entry *e, const void *arg)
{
	const struct del_match *m = arg;

	if (m->kind == DEL_ID)
		return tbl_entry_id(e) == m->id;
	return e->key.family == m->family && !memcmp(e->key.client, m->client, 16);
}

/* {client, service, port} objects: parsed as sessions with a placeholder ID. */
static int parse_del_keys(struct sess_list *out, const json_t *arr, char *err, size_t errlen)
{
	json_t *v, *copy;
	size_t i;
	int r;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "\"sessions\" must be an array of {client, service, port}");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct cn_session s;
		char msg[256];

		if (!json_is_object(v) || json_object_get(v, "id")) {
			snprintf(err, errlen, "session %zu: give only client, service and port", i);
			return -1;
		}
		copy = json_copy(v);
		json_object_set_new(copy, "id", json_string("0x1"));
		r = cn_session_from_json(&s, copy, msg, sizeof(msg));
		json_decref(copy);
		if (r < 0) {
			snprintf(err, errlen, "session %zu: %s", i, msg);
			return -1;
		}
		if (sess_list_append(out, &s, SESS_SRC_AUTHD) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static json_t *cmd_session_del(struct nfqd *d, const json_t *req)
{
	struct sess_list keys;
	struct del_match m;
	const json_t *v;
	char err[300];
	size_t removed = 0, i;

	memset(&m, 0, sizeof(m));
	sess_list_init(&keys);
	if ((v = json_object_get(req, "sessions"))) {
		if (parse_del_keys(&keys, v, err, sizeof(err)) < 0) {
			sess_list_clear(&keys);
			return ctl_reply_error("%s", err);
		}
		/* by key: O(1) each */
		for (i = 0; i < keys.n; i++)
			removed += tbl_del(d->sh.tbl, &keys.v[i].key);
		sess_list_clear(&keys);
		return changed(d, removed, "removed");
	} else if ((v = json_object_get(req, "id"))) {
		enum cn_id_parse_err e = cn_id_parse(&m.id, json_string_value(v));

		if (e != CN_ID_PARSE_OK)
			return ctl_reply_error("\"id\": %s", cn_id_parse_strerror(e));
		m.kind = DEL_ID;
	} else if ((v = json_object_get(req, "client"))) {
		const char *s = json_string_value(v);

		m.kind = DEL_CLIENT;
		if (s && inet_pton(AF_INET, s, m.client) == 1)
			m.family = AF_INET;
		else if (s && inet_pton(AF_INET6, s, m.client) == 1)
			m.family = AF_INET6;
		else
			return ctl_reply_error("\"client\": \"%s\" is not an IP address",
					       s ? s : "(not a string)");
	} else {
		return ctl_reply_error("session-del needs \"sessions\", \"id\" or \"client\"");
	}
	/* by ID or client: one scan of the table */
	removed = tbl_del_if(d->sh.tbl, del_match_fn, &m);
	return changed(d, removed, "removed");
}

static json_t *cmd_reload(struct nfqd *d, const json_t *req)
{
	char msg[700];

	(void)req;
	if (nfqd_reload(d, msg, sizeof(msg)) < 0)
		return ctl_reply_error("%s", msg);
	return ctl_reply_ok();
}

static const struct {
	const char *name;
	json_t *(*fn)(struct nfqd *d, const json_t *req);
} commands[] = {
	{"status", cmd_status},
	{"stats", cmd_stats},
	{"sessions", cmd_sessions},
	{"session-add", cmd_session_add},
	{"session-del", cmd_session_del},
	{"reload", cmd_reload},
};

static json_t *dispatch(struct nfqd *d, struct ctl_client *c, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	size_t i;

	if (!cmd)
		return ctl_reply_error("the request has no \"cmd\" string");
	if (!strcmp(cmd, "subscribe")) {
		c->subscribed = true;
		return ctl_reply_ok();
	}
	if (!strcmp(cmd, "session-sync"))
		return cmd_session_sync(d, c, req);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(d, req);
	return ctl_reply_error("unknown command \"%s\"", cmd);
}

void ctl_accept_client(struct nfqd *d)
{
	uid_t uid;
	int fd;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("control: accept");
		return;
	}
	if (ctl_peer_uid(fd, &uid) < 0 || (uid != 0 && uid != geteuid())) {
		log_warnx("control: refused a peer with uid %u", (unsigned)uid);
		close(fd);
		return;
	}
	if (d->nclients >= MAX_CLIENTS) {
		json_t *r = ctl_reply_error("too many control connections (%d)", MAX_CLIENTS);

		ctl_send(fd, r);
		json_decref(r);
		close(fd);
		return;
	}
	d->clients[d->nclients].fd = fd;
	d->clients[d->nclients].subscribed = false;
	stage_init(&d->clients[d->nclients].stage);
	d->nclients++;
}

static bool handle_client(struct nfqd *d, struct ctl_client *c)
{
	char err[256];
	bool closed = false;
	json_t *req, *reply;

	req = ctl_recv(c->fd, &closed, err, sizeof(err));
	if (!req) {
		if (closed)
			return false;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		reply = ctl_reply_error("%s", err);
		ctl_send(c->fd, reply);
		json_decref(reply);
		return errno != EMSGSIZE && errno != 0 ? false : true;
	}
	reply = dispatch(d, c, req);
	json_decref(req);
	if (!reply)
		reply = ctl_reply_error("out of memory");
	if (ctl_send(c->fd, reply) < 0) {
		json_decref(reply);
		return false;
	}
	json_decref(reply);
	return true;
}

bool ctl_handle_client(struct nfqd *d, struct ctl_client *c)
{
	if (handle_client(d, c))
		return true;
	/* gone before the last chunk of a sync: nothing of it is applied */
	if (c->stage.open)
		log_warnx("control: a connection closed in the middle of a session-sync (%zu "
			  "chunk(s), %zu session(s) staged): discarded", c->stage.chunks,
			  c->stage.l.n);
	stage_discard(&c->stage);
	return false;
}

void ctl_broadcast_misses(struct nfqd *d)
{
	struct sess_key k;
	int i;

	while (workers_pop_miss(&d->sh, &k)) {
		char client[INET6_ADDRSTRLEN], service[INET6_ADDRSTRLEN];
		json_t *ev;

		inet_ntop(k.family, k.client, client, sizeof(client));
		inet_ntop(k.family, k.service, service, sizeof(service));
		ev = json_pack("{s:s, s:s, s:s, s:i}", "event", "session-miss", "client", client,
			       "service", service, "port", (int)k.port);
		if (!ev)
			continue;
		log_debug("session miss: %s -> %s port %u", client, service, k.port);
		for (i = 0; i < d->nclients; i++)
			if (d->clients[i].subscribed && ctl_send(d->clients[i].fd, ev) < 0)
				log_debug("control: event to a slow subscriber lost");
		json_decref(ev);
	}
}

void ctl_close_all(struct nfqd *d)
{
	int i;

	for (i = 0; i < d->nclients; i++) {
		close(d->clients[i].fd);
		stage_discard(&d->clients[i].stage);
	}
	d->nclients = 0;
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->cfg.control_socket);
		d->ctl_fd = -1;
	}
}
