/* SPDX-License-Identifier: MIT */
/* The coopnet-nfq control socket's commands (docs/control.md); the server is lib/ctl_server.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	/* what the queue threads saw, or kernel mode's element counters (docs/control.md) */
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

static json_t *cmd_status(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	json_t *r = ctl_reply_ok();

	(void)conn;
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
	json_object_set_new(r, "instance", json_string(d->instance));
	return r;
}

static void kstats(struct nfqd *d);

static json_t *cmd_stats(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	uint64_t c[R__COUNT];
	json_t *r = ctl_reply_ok(), *s = json_object();
	int i;

	(void)conn;
	(void)req;
	workers_counters(&d->w, c);
	kstats(d); /* kernel mode: embedded and checked_ok are the elements' counts */
	if (d->cfg.mode == MODE_KERNEL)
		kmode_counters(&d->cfg, c);
	for (i = 0; i < R__COUNT; i++)
		json_object_set_new(s, nfq_reason_name(i), json_integer((json_int_t)c[i]));
	json_object_set_new(r, "stats", s);
	return r;
}

/* The listing's cursor is an entry number of the table (tbl_next: entries never move, so a
 * listing stays in place while sessions change; the cursor skips free slots). */
static int listed(void *arg, size_t *pos, json_t **item)
{
	const struct nfqd *d = arg;
	const struct tbl_entry *e = tbl_next(d->sh.tbl, pos);

	if (!e)
		return 0;
	*item = sess_json(e);
	return *item ? 1 : -1;
}

/* Kernel mode: the per-session counters from the sets' elements, on a listing's first page
 * ("offset" absent or 0) and on `stats`, spaced by nfqd_kstats_next (at least a second, and
 * NFQD_KSTATS_SPACING times the last refresh's duration; with 16,384 sessions and more the
 * refresh reads by key in slices, one per main-loop turn: nfqd_kstats_step). Not on every page: the kernel's set
 * dump restarts its hash walk for each message it fills (nft_rhash_walk skips what it sent),
 * so one dump is O(n^2), and with pages a second apart a listing of 30,000 sessions dumped
 * the sets once per page (issue 11, perf: rhashtable_walk_next). Nor every time asked: the
 * parent's `stats` every 2 s kept the main thread dumping at 60,000 sessions (adds at 43/s). */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kstats(struct nfqd *d)
{
	uint64_t now;

	if (d->cfg.mode != MODE_KERNEL || d->qexpr == QEXPR_NONE)
		return;
	now = mono_ms();
	if (d->kstats_ms && now < d->kstats_next_ms)
		return;
	if (d->kstats_pass)
		return; /* the slices of the last one still run */
	d->kstats_ms = now;
	if (kmode_stats_begin(&d->cfg, d->sh.tbl) == 1) {
		d->kstats_pass = true; /* 16,384 sessions and more: nfqd_kstats_step */
		d->kstats_took_ms = 0;
		return;
	}
	d->kstats_next_ms = nfqd_kstats_next(now, mono_ms() - now);
}

void nfqd_kstats_step(struct nfqd *d)
{
	uint64_t t0;

	if (!d->kstats_pass)
		return;
	t0 = mono_ms();
	if (kmode_stats_step(&d->cfg, d->sh.tbl, NFQD_KSTATS_SLICE) != 1)
		d->kstats_pass = false;
	d->kstats_took_ms += mono_ms() - t0;
	if (!d->kstats_pass) /* spaced by the main thread's time in it, not the wall time */
		d->kstats_next_ms = nfqd_kstats_next(mono_ms(), d->kstats_took_ms);
}

/* A listing of what changed (docs/control.md "Only what changed"): the entries stamped after
 * since, each with its number; one removed since is {"entry": n, "gone": true}. since 0:
 * every live session, with its number (a whole listing that starts a cursor). */
struct changed_list {
	const struct nfqd *d;
	uint32_t since;
};

static int listed_changed(void *arg, size_t *pos, json_t **item)
{
	const struct changed_list *c = arg;
	const struct tbl_entry *e;
	bool gone = false;

	if (c->since)
		e = tbl_next_changed(c->d->sh.tbl, pos, c->since, &gone);
	else
		e = tbl_next(c->d->sh.tbl, pos);
	if (!e)
		return 0;
	if (gone)
		*item = json_pack("{s:I, s:b}", "entry", (json_int_t)(*pos - 1), "gone", 1);
	else if ((*item = sess_json(e)))
		json_object_set_new(*item, "entry", json_integer((json_int_t)(*pos - 1)));
	return *item ? 1 : -1;
}

static json_t *sessions_changed(struct nfqd *d, const json_t *req, const json_t *since)
{
	struct changed_list c = {.d = d};
	bool first = json_integer_value(json_object_get(req, "offset")) == 0;
	uint32_t gen = 0;
	json_t *r;

	if (!json_is_integer(since) || json_integer_value(since) < 0 ||
	    json_integer_value(since) > UINT32_MAX)
		return ctl_reply_error("\"changed_since\" must be an integer from 0 to %u",
				       UINT32_MAX);
	c.since = (uint32_t)json_integer_value(since);
	if (first) {
		kstats(d);
		gen = tbl_gen_pass(d->sh.tbl);
	}
	r = ctl_reply_page(tbl_count(d->sh.tbl), listed_changed, &c, req, "sessions");
	if (r && first)
		json_object_set_new(r, "generation", json_integer((json_int_t)gen));
	if (r)
		json_object_set_new(r, "instance", json_string(d->instance));
	return r;
}

/* Paged by size (docs/control.md, "Large replies"), built page by page. */
static json_t *cmd_sessions(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	const json_t *since = json_object_get(req, "changed_since");

	(void)conn;
	if (since)
		return sessions_changed(d, req, since);
	if (json_integer_value(json_object_get(req, "offset")) == 0) /* absent, or 0 */
		kstats(d);
	return ctl_reply_page(tbl_count(d->sh.tbl), listed, d, req, "sessions");
}

/* One item of a "sessions" array; keys_only: a {client, service, port} object (session-del),
 * parsed as a session with a placeholder ID. */
static int parse_item(struct cn_session *s, json_t *v, bool keys_only, char *msg,
		      size_t msglen)
{
	json_t *copy;
	int r;

	if (!keys_only)
		return cn_session_from_json(s, v, msg, msglen);
	if (!json_is_object(v) || json_object_get(v, "id")) {
		snprintf(msg, msglen, "give only client, service and port");
		return -1;
	}
	copy = json_copy(v);
	if (!copy || json_object_set_new(copy, "id", json_string("0x1")) < 0) {
		json_decref(copy);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	r = cn_session_from_json(s, copy, msg, msglen);
	json_decref(copy);
	return r;
}

/* Session i of a request: record i of "packed", or item i of the "sessions" array. */
static int parse_nth(struct cn_session *s, const json_t *arr, const json_t *packed, size_t i,
		     bool keys_only, char *msg, size_t msglen)
{
	if (packed)
		return cn_packed_get(packed, i, s, msg, msglen);
	return parse_item(s, json_array_get(arr, i), keys_only, msg, msglen);
}

/* The sessions of a request into out (all or nothing): "sessions", an array of session
 * objects, or "packed" records (lib/ctl.h; what coopnet-authd's parent sends), one of the
 * two; keys_only (session-del): a "sessions" array of {client, service, port} objects. */
static int parse_sessions(struct sess_list *out, const json_t *req, bool keys_only, char *err,
			  size_t errlen)
{
	const json_t *arr = json_object_get(req, "sessions");
	const json_t *packed = json_object_get(req, "packed");
	char msg[256];
	size_t i, n;

	if (packed && keys_only) {
		snprintf(err, errlen, "\"packed\" is for whole sessions: give the keys as "
			 "\"sessions\", an array of {client, service, port}");
		return -1;
	}
	if (packed && arr) {
		snprintf(err, errlen, "give \"sessions\" or \"packed\", not both");
		return -1;
	}
	if (packed && cn_packed_count(packed, &n, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	if (!packed && !json_is_array(arr)) {
		snprintf(err, errlen, "\"sessions\" must be an array of %s",
			 keys_only ? "{client, service, port}" : "session objects");
		return -1;
	}
	if (!packed)
		n = json_array_size(arr);
	for (i = 0; i < n; i++) {
		struct cn_session s;

		if (parse_nth(&s, arr, packed, i, keys_only, msg, sizeof(msg)) < 0) {
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

/*
 * session-batch (docs/control.md): session-add, session-del (by "sessions"), session-accept
 * and session-withdraw requests, applied in their order with one publish for all (in kernel
 * mode one nft batch, where each request alone costs one: coopnet-authd's parent sends the
 * requests of one engine turn as one). Every request is parsed before any is applied, and the
 * room for every addition reserved: all or nothing.
 */
#define BATCH_MAX 256

enum batch_op { BATCH_ADD, BATCH_DEL, BATCH_ACCEPT, BATCH_WITHDRAW };

static const char *const batch_cmds[] = {
	[BATCH_ADD] = "session-add", [BATCH_DEL] = "session-del",
	[BATCH_ACCEPT] = "session-accept", [BATCH_WITHDRAW] = "session-withdraw",
};

struct batch_item {
	enum batch_op op;
	struct sess_list l;
};

static int batch_parse(struct batch_item *it, const json_t *r, char *err, size_t errlen)
{
	const char *cmd = json_string_value(json_object_get(r, "cmd"));
	size_t k;

	for (k = 0; k < sizeof(batch_cmds) / sizeof(batch_cmds[0]); k++)
		if (cmd && !strcmp(cmd, batch_cmds[k]))
			break;
	if (k == sizeof(batch_cmds) / sizeof(batch_cmds[0])) {
		snprintf(err, errlen, "\"cmd\" must be session-add, session-del, session-accept or "
			 "session-withdraw");
		return -1;
	}
	it->op = (enum batch_op)k;
	if (!json_object_get(r, "sessions") && !json_object_get(r, "packed")) {
		snprintf(err, errlen, "%s needs \"sessions\"%s", cmd,
			 it->op == BATCH_DEL ? " in a batch (not \"id\" or \"client\")" :
					       " or \"packed\"");
		return -1;
	}
	return parse_sessions(&it->l, r, it->op == BATCH_DEL, err, errlen);
}

static size_t batch_apply(struct nfqd *d, const struct batch_item *it)
{
	size_t n = 0;

	for (size_t i = 0; i < it->l.n; i++) {
		const struct sess_entry *e = &it->l.v[i];

		switch (it->op) {
		case BATCH_ADD:
			tbl_put(d->sh.tbl, e);
			n++;
			break;
		case BATCH_DEL:
			n += tbl_del(d->sh.tbl, &e->key);
			break;
		case BATCH_ACCEPT:
			n += (size_t)tbl_accept(d->sh.tbl, &e->key, e->id);
			break;
		case BATCH_WITHDRAW:
			n += (size_t)tbl_withdraw(d->sh.tbl, &e->key, e->id);
			break;
		}
	}
	return n;
}

static json_t *cmd_session_add(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	struct sess_list add;
	char err[300];
	size_t n;

	(void)conn;
	sess_list_init(&add);
	if (parse_sessions(&add, req, false, err, sizeof(err)) < 0) {
		sess_list_clear(&add);
		return ctl_reply_error("%s", err);
	}
	/* all or nothing: with the room reserved, no put fails */
	if (tbl_reserve(d->sh.tbl, add.n) < 0) {
		sess_list_clear(&add);
		return ctl_reply_error("out of memory, or more than %u sessions", TBL_MAX_SESSIONS);
	}
	n = batch_apply(d, &(struct batch_item){.op = BATCH_ADD, .l = add});
	sess_list_clear(&add);
	return changed(d, n, "added");
}

/* session-accept (a renewal ahead: the ID accepted, not written, docs/nfq.md "Renewal") and
 * session-withdraw (it ended without a commit). Each session names its key and the ID. */
static json_t *ahead(struct nfqd *d, const json_t *req, bool accept)
{
	struct sess_list l;
	char err[300];
	size_t n;

	sess_list_init(&l);
	if (parse_sessions(&l, req, false, err, sizeof(err)) < 0) {
		sess_list_clear(&l);
		return ctl_reply_error("%s", err);
	}
	n = batch_apply(d, &(struct batch_item){.op = accept ? BATCH_ACCEPT : BATCH_WITHDRAW,
						 .l = l});
	sess_list_clear(&l);
	return changed(d, n, accept ? "accepted" : "withdrawn");
}

static json_t *cmd_session_accept(void *ctx, size_t conn, const json_t *req)
{
	(void)conn;
	return ahead(ctx, req, true);
}

static json_t *cmd_session_withdraw(void *ctx, size_t conn, const json_t *req)
{
	(void)conn;
	return ahead(ctx, req, false);
}

/* One message, or one chunk of a chunked sync staged on this connection (stage.h): the
 * table changes only with the last chunk. */
static json_t *cmd_session_sync(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	struct nfqctl_conn *c = &d->conns[conn];
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

static json_t *cmd_session_del(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	struct sess_list keys;
	struct del_match m;
	const json_t *v;
	char err[300];
	size_t removed = 0;

	(void)conn;
	memset(&m, 0, sizeof(m));
	sess_list_init(&keys);
	if (json_object_get(req, "sessions") || json_object_get(req, "packed")) {
		if (parse_sessions(&keys, req, true, err, sizeof(err)) < 0) {
			sess_list_clear(&keys);
			return ctl_reply_error("%s", err);
		}
		/* by key: O(1) each */
		removed = batch_apply(d, &(struct batch_item){.op = BATCH_DEL, .l = keys});
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

static json_t *cmd_session_batch(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	const json_t *reqs = json_object_get(req, "requests");
	size_t n = json_array_size(reqs), adds = 0, applied = 0, i;
	struct batch_item *items;
	json_t *reply = NULL;
	char err[300];

	(void)conn;
	if (!json_is_array(reqs) || n == 0 || n > BATCH_MAX)
		return ctl_reply_error("\"requests\" must be an array of 1 to %d requests", BATCH_MAX);
	items = calloc(n, sizeof(*items));
	if (!items)
		return ctl_reply_error("out of memory");
	for (i = 0; i < n; i++)
		sess_list_init(&items[i].l);
	for (i = 0; i < n && !reply; i++) {
		if (batch_parse(&items[i], json_array_get(reqs, i), err, sizeof(err)) < 0)
			reply = ctl_reply_error("request %zu: %s", i, err);
		else if (items[i].op == BATCH_ADD)
			adds += items[i].l.n;
	}
	if (!reply && tbl_reserve(d->sh.tbl, adds) < 0)
		reply = ctl_reply_error("out of memory, or more than %u sessions", TBL_MAX_SESSIONS);
	if (!reply) {
		for (i = 0; i < n; i++)
			applied += batch_apply(d, &items[i]);
		reply = changed(d, applied, "applied");
	}
	for (i = 0; i < n; i++)
		sess_list_clear(&items[i].l);
	free(items);
	return reply;
}

static json_t *cmd_reload(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;
	char msg[700];

	(void)conn;
	(void)req;
	if (nfqd_reload(d, msg, sizeof(msg)) < 0)
		return ctl_reply_error("%s", msg);
	return ctl_reply_ok();
}

static json_t *cmd_subscribe(void *ctx, size_t conn, const json_t *req)
{
	struct nfqd *d = ctx;

	(void)req;
	d->conns[conn].subscribed = true;
	return ctl_reply_ok();
}

static const struct ctl_command commands[] = {
	{ "status", cmd_status },
	{ "stats", cmd_stats },
	{ "sessions", cmd_sessions },
	{ "session-add", cmd_session_add },
	{ "session-del", cmd_session_del },
	{ "session-sync", cmd_session_sync },
	{ "subscribe", cmd_subscribe },
	{ "reload", cmd_reload },
	{ "session-accept", cmd_session_accept },
	{ "session-withdraw", cmd_session_withdraw },
	{ "session-batch", cmd_session_batch },
	{ NULL, NULL },
};

static void conn_opened(void *ctx, size_t conn)
{
	struct nfqd *d = ctx;

	d->conns[conn].subscribed = false;
	stage_init(&d->conns[conn].stage);
}

/* Gone before the last chunk of a sync: nothing of it is applied. */
static void conn_closing(void *ctx, size_t conn)
{
	struct nfqctl_conn *c = &((struct nfqd *)ctx)->conns[conn];

	if (c->stage.open)
		log_warnx("control: a connection closed in the middle of a session-sync (%zu "
			  "chunk(s), %zu session(s) staged): discarded", c->stage.chunks,
			  c->stage.l.n);
	stage_discard(&c->stage);
	c->subscribed = false;
}

int nfqctl_start(struct nfqd *d, int listen_fd)
{
	const struct ctl_server_ops ops = {
		.commands = commands,
		.ctx = d,
		.opened = conn_opened,
		.closing = conn_closing,
	};

	return ctl_server_open(&d->ctl, listen_fd, NFQCTL_MAX_CONNS, &ops);
}

static bool subscribed(void *ctx, size_t conn)
{
	return ((struct nfqd *)ctx)->conns[conn].subscribed;
}

void nfqctl_broadcast_misses(struct nfqd *d)
{
	struct sess_key k;

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
		ctl_server_broadcast(&d->ctl, ev, subscribed);
		json_decref(ev);
	}
}

void nfqctl_close(struct nfqd *d)
{
	bool listening = d->ctl.listen_fd >= 0;

	ctl_server_close(&d->ctl);
	if (listening)
		unlink(d->cfg.control_socket);
}
