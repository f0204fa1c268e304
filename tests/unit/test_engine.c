/* SPDX-License-Identifier: MIT */
/*
 * coopnet-authd's engine driven whole, in one process, with an injected clock:
 *
 *   test (plays the privileged parent: policy, reload; runs the real parent's nfqlink.c)
 *     |  socketpair SOCK_SEQPACKET (the real parent <-> engine channel)
 *   engine "ss" (supervisor)  <-- UDP 127.0.0.1 -->  engine "sp" (header + provider)
 *     |  nfqlink -> unix SOCK_SEQPACKET                |  nfqlink -> unix SOCK_SEQPACKET
 *   fake coopnet-nfq "ss" (thread)                   fake coopnet-nfq "sp" (thread)
 *
 * The fake coopnet-nfq answers the commands of docs/control.md and records every request;
 * it can push session-miss events on a subscribed connection. The control commands are sent
 * over the engine's real control socket. Nothing leaves the loopback interface.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "confkey.h"
#include "ctl.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "nfqlink.h"
#include "parent_msg.h"
#include "fake_nfq.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define KG "9999999999999999999999999999999999999999999999999999999999999999"
#define CLIENT1 "198.18.1.2"
#define SERVICE "198.19.0.10"

/* --- the injected clock -------------------------------------------------------------- */

static uint64_t T_now = 5000000, T_wall = 1795000000000ULL;
static uint64_t fake_now(void) { return T_now; }
static uint64_t fake_wall(void) { return T_wall; }

/* --- a fake coopnet-nfq -------------------------------------------------------------- */

static bool nfq_event(struct fake_nfq *f, json_t *ev)
{
	int r = -1;

	pthread_mutex_lock(&f->mu);
	if (f->sub_fd >= 0)
		r = ctl_send(f->sub_fd, ev);
	pthread_mutex_unlock(&f->mu);
	json_decref(ev);
	return r == 0;
}

/* --- a node: an engine, the parent's side, its fake coopnet-nfq ------------------------ */

struct node {
	struct authd_config cfg;
	struct engine *e;
	struct nfq_link link;
	struct parent_msg pm;     /* the real parent's side of the engine's messages */
	int pfd;                  /* the parent's end of the socketpair */
	int efd;                  /* the engine's end */
	int ctl_fd, udp_fd;
	bool open;
	struct fake_nfq nfq;
	char *policy;             /* the document the parent sends (also on reload) */
	bool hold_reload;         /* leave a reload request unanswered */
	bool reload_fail;         /* answer a reload with reload-failed */
	int reloads;              /* reload requests seen */
	json_t *applied;          /* the last policy-applied */
	bool drop_rep;            /* a lossy link: Auth-REP datagrams to this node are lost */
	bool hold_parent;         /* the parent handles none of the engine's messages (busy) */
	int dropped;
};

static char DIR_[64];
static struct node SS, SP;

static void node_init(struct node *n, const char *name, unsigned roles)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(n, 0, sizeof(*n));
	n->cfg.roles = roles;
	n->cfg.kdf = CN_KDF_MIN;
	snprintf(n->cfg.database, sizeof(n->cfg.database), "%s/%s.db", DIR_, name);
	snprintf(n->cfg.control_socket, sizeof(n->cfg.control_socket), "%s/%s.ctl", DIR_, name);
	snprintf(n->cfg.nfq_socket, sizeof(n->cfg.nfq_socket), "%s/%s.nfq", DIR_, name);
	snprintf(n->nfq.path, sizeof(n->nfq.path), "%s", n->cfg.nfq_socket);
	n->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(n->udp_fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(n->udp_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(n->udp_fd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(cn_coop_addr_from_sockaddr(&n->cfg.listen[0], (struct sockaddr *)&sin,
						    sl), 0);
	n->cfg.n_listen = 1;
	n->cfg.port = n->cfg.listen[0].port;
	n->pfd = n->efd = n->ctl_fd = -1;
}

static uint16_t node_port(const struct node *n)
{
	return n->cfg.listen[0].port;
}

static void node_send_policy(struct node *n, bool reload);

static void node_reload(void *ctx)
{
	struct node *n = ctx;

	n->reloads++;
	if (n->reload_fail)
		imsg_send(n->pfd, json_pack("{s:s, s:s}", "msg", "reload-failed",
					    "error", "test.json:1:2: bad"));
	else if (!n->hold_reload)
		node_send_policy(n, true);
}

static void node_applied(void *ctx, bool ok, int revoked, const char *error)
{
	struct node *n = ctx;

	json_decref(n->applied);
	n->applied = json_pack("{s:b, s:i, s:s}", "ok", ok, "revoked", revoked, "error", error);
}

static const struct parent_msg_ops node_ops = {
	.reload = node_reload,
	.applied = node_applied,
};

static void node_open(struct node *n)
{
	struct engine_init init;
	char err[256];
	int sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	n->pfd = sp[0];
	n->efd = sp[1];
	n->ctl_fd = ctl_listen(n->cfg.control_socket, 0666);
	assert_true(n->ctl_fd >= 0);
	init = (struct engine_init){
		.cfg = &n->cfg, .parent_fd = n->efd, .ctl_fd = n->ctl_fd,
		.udp_fd = { n->udp_fd }, .udp_addr = { n->cfg.listen[0] }, .n_udp = 1,
		.user = "test",
	};
	n->e = calloc(1, sizeof(*n->e));
	assert_non_null(n->e);
	assert_int_equal(engine_open(n->e, &init, err, sizeof(err)), 0);
	nfq_link_init(&n->link, n->cfg.nfq_socket, n->cfg.roles & POLICY_ROLE_SUPERVISOR, n->pfd);
	parent_msg_init(&n->pm, n->pfd, &n->link, NULL, &node_ops, n);
	n->open = true;
}

static void node_close(struct node *n)
{
	if (!n->open)
		return;
	engine_close(n->e);
	parent_msg_free(&n->pm);
	free(n->e);
	n->e = NULL;
	if (n->link.sub_fd >= 0)
		close(n->link.sub_fd);
	close(n->pfd);
	close(n->efd); /* n->ctl_fd: closed by engine_close, which owns it */
	unlink(n->cfg.control_socket);
	n->open = false;
}

static void node_free(struct node *n)
{
	node_close(n);
	nfq_stop(&n->nfq);
	json_decref(n->nfq.log);
	json_decref(n->applied);
	if (n->udp_fd >= 0)
		close(n->udp_fd);
	free(n->policy);
	memset(n, 0, sizeof(*n));
}

static void node_set_policy(struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void node_set_policy(struct node *n, const char *fmt, ...)
{
	va_list ap;

	free(n->policy);
	va_start(ap, fmt);
	assert_true(vasprintf(&n->policy, fmt, ap) > 0);
	va_end(ap);
}

/* What the real parent does: load the document, send the resolved form. */
static void node_send_policy(struct node *n, bool reload)
{
	struct jconf_error err;
	struct policy p;
	char buf[1024];
	json_t *doc;

	if (policy_load_buffer(&p, "test policy", n->policy, strlen(n->policy), n->cfg.roles,
			       false, &err) < 0)
		fail_msg("policy: %s", jconf_error_str(&err, buf, sizeof(buf)));
	doc = policy_to_json(&p);
	assert_non_null(doc);
	parent_msg_set_policy(&n->pm, &p); /* what the parent checks the engine's sessions by */
	assert_int_equal(imsg_send(n->pfd, json_pack("{s:s, s:o, s:b}", "msg", "policy", "policy",
						     doc, "reload", reload)), 0);
}

static struct node *const NODES[] = { &SS, &SP };

/* The parent's loop for one node, without blocking: the engine's messages through the real
 * parent's checks (authd/parent_msg.c) and nfqlink.c. */
static void parent_turn(struct node *n)
{
	struct pollfd p[2] = { { n->pfd, POLLIN, 0 }, { n->link.sub_fd, POLLIN, 0 } };
	char err[256];

	while (poll(p, n->link.sub_fd >= 0 ? 2 : 1, 0) > 0) {
		if (p[0].revents)
			assert_int_equal(parent_msg_drain(&n->pm, err, sizeof(err)), 0);
		if (n->link.sub_fd >= 0 && p[1].revents)
			nfq_link_event(&n->link);
		p[1].fd = n->link.sub_fd;
		p[0].revents = p[1].revents = 0;
	}
	if (!n->link.up && n->nfq.running)
		nfq_link_try_up(&n->link);
}

/* Discard the Auth-REPs queued on n's UDP socket (before the engine reads them), wherever
 * they are in the queue: the SS's Auth-REP waits for its data plane (engine_gate.c), so other
 * datagrams of its turn (status) go ahead of it. The others are delivered again, in their
 * order, from the socket of the node that sent them (the same source address and port). */
static void drop_reps(struct node *n)
{
	static uint8_t buf[64][CN_COOP_MAX_LEN];
	size_t len[64], k = 0;
	struct node *from[64];
	struct cn_coop_msg m;

	while (k < 64) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		ssize_t r = recvfrom(n->udp_fd, buf[k], sizeof(buf[k]), MSG_DONTWAIT,
				     (struct sockaddr *)&sin, &sl);

		if (r < 0)
			break;
		if (cn_coop_decode(&m, buf[k], (size_t)r, NULL) == CN_COOP_OK &&
		    cn_coop_kind(&m) == CN_KIND_AUTH_REP) {
			n->dropped++;
			continue;
		}
		from[k] = NULL;
		for (size_t i = 0; i < sizeof(NODES) / sizeof(NODES[0]); i++)
			if (NODES[i]->open && node_port(NODES[i]) == ntohs(sin.sin_port))
				from[k] = NODES[i];
		assert_non_null(from[k]); /* only the nodes talk on the loopback here */
		len[k++] = (size_t)r;
	}
	for (size_t i = 0; i < k; i++) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(node_port(n)),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_int_equal(sendto(from[i]->udp_fd, buf[i], len[i], 0, (struct sockaddr *)&to,
					sizeof(to)), (ssize_t)len[i]);
	}
}

static void pump_once(void)
{
	for (size_t i = 0; i < sizeof(NODES) / sizeof(NODES[0]); i++) {
		struct node *n = NODES[i];
		if (!n->open)
			continue;
		if (n->drop_rep)
			drop_reps(n);
		engine_step(n->e, 0);
		if (!n->hold_parent)
			parent_turn(n);
		engine_step(n->e, 0);
	}
	poll(NULL, 0, 1);
}

/* Pump until expr holds (at most ~3 s of real time), then assert it. */
#define PUMP_UNTIL(expr) do { \
	for (int pu_i = 0; pu_i < 3000 && !(expr); pu_i++) \
		pump_once(); \
	assert_true(expr); \
} while (0)

static void pump(int n)
{
	for (int i = 0; i < n; i++)
		pump_once();
}

/* Advance both clocks by ms, one housekeeping second at a time, pumping in between. */
static void advance(uint64_t ms)
{
	while (ms) {
		uint64_t d = ms > 250 ? 250 : ms;
		T_now += d;
		T_wall += d;
		ms -= d;
		pump(3);
	}
}

/* --- the control socket ---------------------------------------------------------------- */

static int node_ctl_open(struct node *n)
{
	int fd = ctl_connect(n->cfg.control_socket);

	assert_true(fd >= 0);
	return fd;
}

static json_t *node_ctl_wait(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char err[256];
	bool closed;

	for (int i = 0; i < 3000; i++) {
		if (poll(&p, 1, 0) > 0)
			return ctl_recv(fd, &closed, err, sizeof(err));
		pump_once();
	}
	return NULL;
}

static void node_ctl_put(int fd, json_t *req)
{
	assert_non_null(req);
	assert_int_equal(ctl_send(fd, req), 0);
	json_decref(req);
}

static json_t *node_ctl_on(int fd, json_t *req)
{
	assert_non_null(req);
	assert_int_equal(ctl_send(fd, req), 0);
	json_decref(req);
	return node_ctl_wait(fd);
}

/* One request on a fresh connection. */
static json_t *node_ctl(struct node *n, json_t *req)
{
	int fd = node_ctl_open(n);
	json_t *r = node_ctl_on(fd, req);

	close(fd);
	assert_non_null(r);
	return r;
}

static json_t *cmd(struct node *n, const char *c)
{
	return node_ctl(n, json_pack("{s:s}", "cmd", c));
}

static void expect_error(json_t *r, const char *text)
{
	const char *e;

	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "ok")));
	e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	if (!strstr(e, text))
		fail_msg("error \"%s\" does not say \"%s\"", e, text);
	json_decref(r);
}

static json_t *expect_ok(json_t *r)
{
	assert_non_null(r);
	if (!json_is_true(json_object_get(r, "ok")))
		fail_msg("not ok: %s", json_string_value(json_object_get(r, "error")) ?: "?");
	return r;
}

static json_t *auth(struct node *n, const char *service, const char *client)
{
	return node_ctl(n, client ? json_pack("{s:s, s:s, s:s}", "cmd", "auth", "service", service,
					 "client", client) :
			       json_pack("{s:s, s:s}", "cmd", "auth", "service", service));
}

static json_int_t stat_of(struct node *n, const char *name)
{
	json_t *r = expect_ok(cmd(n, "stats"));
	json_t *v = json_object_get(json_object_get(r, "stats"), name);
	json_int_t x;

	assert_true(json_is_integer(v));
	x = json_integer_value(v);
	json_decref(r);
	return x;
}

/* The node's metrics as coopnetctl metrics prints them (the `metrics` snapshot, rendered). */
static char *metrics_text(struct node *n)
{
	json_t *r = expect_ok(cmd(n, "metrics"));
	struct metrics_buf b;
	char *t;

	metrics_buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b, json_object_get(r, "metrics")), 0);
	t = strdup(b.p);
	metrics_buf_free(&b);
	json_decref(r);
	return t;
}

static size_t n_sessions(struct node *n)
{
	json_t *r = expect_ok(cmd(n, "sessions"));
	size_t k = json_array_size(json_object_get(r, "sessions"));

	json_decref(r);
	return k;
}

/* The ID in the sessions array of a session-add / session-sync request (index i). */
static const char *req_id(json_t *req, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(req, "sessions"),
								 i), "id"));
}

/* --- fixtures -------------------------------------------------------------------------- */

/* text inserted into n's policy right after the first occurrence of anchor */
static void policy_insert_after(struct node *n, const char *anchor, const char *text)
{
	char *at = strstr(n->policy, anchor), *out;

	assert_non_null(at);
	at += strlen(anchor);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - n->policy), n->policy, text, at) > 0);
	free(n->policy);
	n->policy = out;
}

static void ss_policy(struct node *n, const char *extra)
{
	node_set_policy(n,
		"{ \"supervisor\": {"
		"  \"headers\": [ { \"address\": \"127.0.0.1\", \"port\": %u } ],"
		"  \"services\": [ { \"name\": \"http\", \"address\": \"" SERVICE "\", \"port\": 80 },"
		"                  { \"name\": \"ssh\", \"address\": \"198.19.0.11\", \"port\": 22 } ],"
		"  \"clients\": ["
		"    { \"name\": \"lan1\", \"address\": \"" CLIENT1 "\", \"services\": [\"http\"],"
		"      \"keys\": { \"http\": \"" K1 "\" } },"
		"    { \"name\": \"lan2\", \"address\": \"198.18.1.3\", \"services\": [\"http\"],"
		"      \"keys\": { \"http\": \"" K1 "\" } },"
		"    { \"name\": \"lan3\", \"address\": \"198.18.1.4\", \"services\": [\"http\", \"ssh\"],"
		"      \"keys\": { \"http\": \"" K1 "\", \"ssh\": \"" K1 "\" } } ]%s } }",
		node_port(&SP), extra);
}

static unsigned sp_idle; /* the SP's idle_time (0: none); setup() resets it */

static void sp_policy(struct node *n, unsigned lifetime, bool with_lan1)
{
	node_set_policy(n,
		"{ \"group_key\": \"" KG "\","
		"  \"header\": { \"group\": [ { \"address\": \"127.0.0.1\", \"port\": %u,"
		"                              \"services\": [\"http\"] } ] },"
		"  \"provider\": {"
		"    \"vnics\": [ { \"name\": \"vnic1\", \"address\": \"" SERVICE "\","
		"                   \"data_folder\": \"/srv/vnic1\","
		"                   \"services\": [ { \"name\": \"http\", \"port\": 80,"
		"                                   \"health\": { \"check\": \"none\" } } ] } ],"
		"    \"clients\": ["
		"      { \"name\": \"%s\", \"address\": \"198.18.1.0/24\", \"services\": [\"http\"],"
		"        \"keys\": { \"http\": \"" K1 "\" } },"
		"      { \"name\": \"lan2\", \"address\": \"198.18.1.3\", \"services\": [\"http\"],"
		"        \"keys\": { \"http\": \"" K2 "\" } } ],"
		"    \"id_lifetime\": %u, \"idle_time\": %u } }",
		node_port(&SP), with_lan1 ? "lan1" : "other", lifetime, sp_idle);
}

/* Both nodes open, policies applied, each link up to its fake coopnet-nfq. */
static void start_pair(const char *ss_extra, unsigned lifetime)
{
	ss_policy(&SS, ss_extra);
	sp_policy(&SP, lifetime, true);
	nfq_start(&SS.nfq);
	nfq_start(&SP.nfq);
	node_open(&SS);
	node_open(&SP);
	node_send_policy(&SP, false);
	node_send_policy(&SS, false);
	PUMP_UNTIL(SS.applied && SP.applied && SS.link.up && SP.link.up);
}

/* One session: the SS authenticates CLIENT1 for http and the SP holds it; its ID. */
static unsigned long session_up(void)
{
	json_t *r = expect_ok(auth(&SS, "http", CLIENT1));
	unsigned long id = strtoul(json_string_value(json_object_get(json_object_get(r, "session"),
								      "id")), NULL, 16);

	json_decref(r);
	PUMP_UNTIL(n_sessions(&SP) == 1);
	return id;
}

static int setup(void **state)
{
	(void)state;
	snprintf(DIR_, sizeof(DIR_), "/tmp/cn-test-engine.XXXXXX");
	if (!mkdtemp(DIR_))
		return -1;
	chmod(DIR_, 0755); /* the permission test connects as nobody */
	sp_idle = 0;
	node_init(&SS, "ss", POLICY_ROLE_SUPERVISOR);
	node_init(&SP, "sp", POLICY_ROLE_HEADER | POLICY_ROLE_PROVIDER);
	return 0;
}

/* test_turn_rollback_*: the COMMITs of this database that fail (__wrap_db_commit) */
static struct authd_db *fail_commit_db;
static int fail_commit_skip, fail_commit_n;

static int teardown(void **state)
{
	char cmdline[128];

	(void)state;
	fail_commit_db = NULL;
	fail_commit_skip = fail_commit_n = 0;
	node_free(&SS);
	node_free(&SP);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", DIR_);
	return system(cmdline) == 0 ? 0 : -1;
}

/* --- tests: control commands ------------------------------------------------------------ */

static void test_requests_refused(void **state)
{
	int fd;

	(void)state;
	ss_policy(&SS, "");
	node_open(&SS);
	/* before the parent sent a policy */
	expect_error(cmd(&SS, "status"), "no policy loaded yet");
	node_send_policy(&SS, false);
	PUMP_UNTIL(SS.applied);
	assert_true(json_is_true(json_object_get(SS.applied, "ok")));
	expect_error(node_ctl(&SS, json_pack("{s:s}", "command", "status")), "request without \"cmd\"");
	expect_error(cmd(&SS, "stat"), "unknown command \"stat\"");
	/* not a JSON object */
	fd = node_ctl_open(&SS);
	assert_int_equal(send(fd, "[1, 2", 5, 0), 5);
	expect_error(node_ctl_wait(fd), "");
	/* the connection stays usable */
	json_decref(expect_ok(node_ctl_on(fd, json_pack("{s:s}", "cmd", "status"))));
	close(fd);
}

static void test_status_clients_vnics_stats(void **state)
{
	json_t *r, *c;
	char *text;
	size_t i;

	(void)state;
	start_pair("", 0);
	r = expect_ok(cmd(&SS, "status"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "roles"), 0)),
			    "supervisor");
	assert_int_equal(json_integer_value(json_object_get(r, "sessions")), 0);
	assert_string_equal(json_string_value(json_object_get(r, "nfq")), "up");
	assert_true(json_is_true(json_object_get(r, "policy_loaded")));
	assert_string_equal(json_string_value(json_object_get(r, "database")), SS.cfg.database);
	assert_int_equal(json_integer_value(json_object_get(r, "schema_version")), DB_SCHEMA_VERSION);
	json_decref(r);
	r = expect_ok(cmd(&SP, "status"));
	assert_int_equal(json_array_size(json_object_get(r, "roles")), 2);
	json_decref(r);

	r = expect_ok(cmd(&SS, "clients"));
	assert_int_equal(json_array_size(json_object_get(r, "clients")), 3);
	json_array_foreach(json_object_get(r, "clients"), i, c)
		assert_null(json_object_get(c, "keys"));
	text = json_dumps(r, 0);
	assert_null(strstr(text, K1)); /* never a key */
	free(text);
	json_decref(r);

	r = expect_ok(cmd(&SP, "vnics"));
	c = json_array_get(json_object_get(r, "vnics"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "vnic1");
	assert_string_equal(json_string_value(json_object_get(c, "address")), SERVICE);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(c, "services"), 0), "port")), 80);
	json_decref(r);
	r = expect_ok(cmd(&SS, "vnics"));
	assert_int_equal(json_array_size(json_object_get(r, "vnics")), 0);
	json_decref(r);

	assert_int_equal(stat_of(&SS, "auth-ok"), 0);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	assert_int_equal(stat_of(&SS, "auth-ok"), 1);
	PUMP_UNTIL(n_sessions(&SP) == 1);
	assert_int_equal(stat_of(&SP, "auth-ok"), 1);
	assert_int_equal(stat_of(&SP, "sessions-added"), 1);
	r = expect_ok(cmd(&SS, "status"));
	assert_int_equal(json_integer_value(json_object_get(r, "sessions")), 1);
	json_decref(r);

	/* metrics: every counter of `stats` has a HELP of its own, and the gauges by role */
	{
		const char *key;
		json_t *v;

		r = expect_ok(cmd(&SS, "stats"));
		json_object_foreach(json_object_get(r, "stats"), key, v)
			if (!metrics_counter_help("authd", key))
				fail_msg("counter \"%s\" has no HELP in lib/metrics_help.c", key);
		json_decref(r);
		text = metrics_text(&SS);
		assert_non_null(strstr(text, "\ncoopnet_authd_auth_ok_total 1\n"));
		assert_non_null(strstr(text, "\ncoopnet_authd_sessions{role=\"supervisor\"} 1\n"));
		assert_non_null(strstr(text, "\ncoopnet_authd_pending_exchanges{role=\"supervisor\"} 0\n"));
		assert_non_null(strstr(text, "\ncoopnet_authd_nfq_up 1\n"));
		assert_non_null(strstr(text, "\ncoopnet_authd_policy_loaded 1\n"));
		assert_null(strstr(text, "role=\"provider\"")); /* not an SP */
		free(text);
		text = metrics_text(&SP);
		assert_non_null(strstr(text, "\ncoopnet_authd_sessions{role=\"provider\"} 1\n"));
		assert_non_null(strstr(text, "\ncoopnet_authd_sessions_added_total 1\n"));
		free(text);
	}
}

/* Success: the session reaches both databases and both data planes with the same ID. */
static void test_auth_pushes_session_add(void **state)
{
	json_t *r, *a, *s;
	const char *id;

	(void)state;
	start_pair("", 0);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 0);
	r = expect_ok(auth(&SS, "http", CLIENT1));
	s = json_object_get(r, "session");
	id = json_string_value(json_object_get(s, "id"));
	assert_non_null(id);
	assert_string_equal(json_string_value(json_object_get(s, "client")), CLIENT1);
	assert_string_equal(json_string_value(json_object_get(s, "service")), SERVICE);
	assert_int_equal(json_integer_value(json_object_get(s, "port")), 80);

	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	a = nfq_last(&SS.nfq, "session-add");
	assert_string_equal(req_id(a, 0), id);
	json_decref(a);
	a = nfq_last(&SP.nfq, "session-add");
	assert_string_equal(req_id(a, 0), id);
	s = json_array_get(json_object_get(a, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "client")), CLIENT1);
	assert_string_equal(json_string_value(json_object_get(s, "vnic")), "vnic1");
	json_decref(a);

	a = expect_ok(cmd(&SP, "sessions"));
	s = json_array_get(json_object_get(a, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "id")), id);
	assert_string_equal(json_string_value(json_object_get(s, "role")), "provider");
	assert_string_equal(json_string_value(json_object_get(s, "client_name")), "lan1");
	json_decref(a);
	json_decref(r);
	/* a first session: the SP's Auth-REP&REQ waited for the parent's barrier (the session in
	 * its data plane), one session-add only (none again at the commit) */
	assert_int_equal(stat_of(&SP, "dp-gated"), 1);
	assert_int_equal(stat_of(&SP, "dp-gate-timeouts"), 0);
	assert_int_equal(nfq_count(&SP.nfq, "session-add"), 1);
}

/* Moderation under load (authd/engine_turn.c): four steps in a row that read datagrams, each
 * within 2 ms of the last, make the next step that finds datagrams wait before it reads
 * (counted); three such steps after a pause (an Authentication at idle takes two) do not. Any
 * datagram read counts, one the decoder refuses too. */
static void step_with_datagram(int fd)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(node_port(&SP)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	engine_step(SP.e, 0);
}

static void test_moderation(void **state)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	json_int_t before;

	(void)state;
	assert_true(fd >= 0);
	start_pair("", 0);
	poll(NULL, 0, 10);
	before = stat_of(&SP, "turns-moderated");
	for (int i = 0; i < 3; i++)
		step_with_datagram(fd);
	assert_int_equal(stat_of(&SP, "turns-moderated"), before);
	for (int i = 0; i < 9; i++) /* a run of twelve: several wait, even on a loaded machine */
		step_with_datagram(fd);
	assert_true(stat_of(&SP, "turns-moderated") > before);
	/* a pause ends the run */
	poll(NULL, 0, 10);
	before = stat_of(&SP, "turns-moderated");
	for (int i = 0; i < 3; i++)
		step_with_datagram(fd);
	assert_int_equal(stat_of(&SP, "turns-moderated"), before);
	assert_true(stat_of(&SP, "decode-error") >= 15);
	close(fd);
}

static void test_auth_errors(void **state)
{
	json_t *r;
	int fd1, fd2;

	(void)state;
	start_pair("", 0);
	expect_error(node_ctl(&SS, json_pack("{s:s}", "cmd", "auth")), "auth needs \"service\"");
	expect_error(auth(&SS, "http", NULL), "give the client address");
	expect_error(auth(&SS, "http", "not-an-address"), "\"not-an-address\" is not an IP address");
	expect_error(auth(&SS, "gopher", CLIENT1), "unknown service \"gopher\"");
	expect_error(auth(&SS, "http", "198.18.9.9"), "the policy does not let 198.18.9.9 use");
	expect_error(auth(&SP, "http", CLIENT1), "this host is not a supervisor");

	/* the SP refuses: lan2's key differs (wrong passcode), ssh is hosted by nobody */
	r = auth(&SS, "http", "198.18.1.3");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "denied");
	expect_error(r, "Auth-RST: denied");
	r = auth(&SS, "ssh", "198.18.1.4");
	assert_string_equal(json_string_value(json_object_get(r, "result")), "rst");
	expect_error(r, "Auth-RST: unknown-service");
	assert_int_equal(stat_of(&SS, "auth-failed"), 2);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 0);

	/* one exchange per (client, service); one request at a time on a connection. The SP
	 * is stopped so that the exchange stays in flight until the SS gives up. */
	node_close(&SP);
	fd1 = node_ctl_open(&SS);
	node_ctl_put(fd1, json_pack("{s:s, s:s, s:s}", "cmd", "auth", "service", "http", "client",
			       CLIENT1));
	pump(20);
	expect_error(node_ctl_on(fd1, json_pack("{s:s}", "cmd", "status")),
		     "one request at a time on a connection");
	fd2 = node_ctl_open(&SS);
	expect_error(node_ctl_on(fd2, json_pack("{s:s, s:s, s:s}", "cmd", "auth", "service", "http",
					   "client", CLIENT1)), "already running");
	close(fd2);
	advance(15000); /* 5 transmissions, 11.5 s */
	r = node_ctl_wait(fd1);
	assert_string_equal(json_string_value(json_object_get(r, "result")), "timeout");
	expect_error(r, "no answer: timeout");
	close(fd1);
}

static void test_revoke(void **state)
{
	json_t *r, *d;
	const char *id;
	char idbuf[16];

	(void)state;
	start_pair("", 0);
	r = expect_ok(auth(&SS, "http", CLIENT1));
	snprintf(idbuf, sizeof(idbuf), "%s",
		 json_string_value(json_object_get(json_object_get(r, "session"), "id")));
	id = idbuf;
	json_decref(r);
	PUMP_UNTIL(n_sessions(&SP) == 1);

	expect_error(cmd(&SS, "revoke"), "exactly one of \"id\" and \"client\"");
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s, s:s}", "cmd", "revoke", "id", id, "client",
					CLIENT1)), "exactly one of");
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "id", "0x0")), "\"0x0\"");
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", "nope")),
		     "\"nope\" is not an IP address");
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", "198.18.1.99")),
		     "no session matches 198.18.1.99");

	/* revoke reaches the data plane without waiting for a tick: the clock does not move */
	r = expect_ok(node_ctl(&SP, json_pack("{s:s, s:s}", "cmd", "revoke", "id", id)));
	assert_int_equal(json_integer_value(json_object_get(r, "revoked")), 1);
	json_decref(r);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-del") == 1);
	r = nfq_last(&SP.nfq, "session-del");
	d = json_array_get(json_object_get(r, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "client")), CLIENT1);
	assert_string_equal(json_string_value(json_object_get(d, "service")), SERVICE);
	assert_int_equal(json_integer_value(json_object_get(d, "port")), 80);
	assert_null(json_object_get(d, "id")); /* a key, not a session */
	json_decref(r);
	assert_int_equal(n_sessions(&SP), 0);

	/* the SP tells the SS (Auth-RST revoked): the SS's copy leaves its database and data
	 * plane at once, and the SS acknowledges (Auth-REP&RST) */
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 1);
	r = nfq_last(&SS.nfq, "session-del");
	d = json_array_get(json_object_get(r, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "client")), CLIENT1);
	json_decref(r);
	assert_int_equal(n_sessions(&SS), 0);
	assert_int_equal(stat_of(&SS, "sessions-revoked-by-peer"), 1);
	assert_int_equal(stat_of(&SS, "revoked"), 1);
	PUMP_UNTIL(stat_of(&SP, "revoke-acked") == 1);
	assert_int_equal(stat_of(&SP, "sessions-revoked"), 1);
	assert_int_equal(stat_of(&SP, "sessions-revoked-by-peer"), 0);
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1)),
		     "no session matches");

	/* and the other way: a revoke on the SS reaches the SP */
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	r = expect_ok(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1)));
	assert_int_equal(json_integer_value(json_object_get(r, "revoked")), 1);
	json_decref(r);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 2);
	assert_int_equal(n_sessions(&SS), 0);
	assert_int_equal(stat_of(&SS, "sessions-revoked"), 1);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-del") == 2);
	assert_int_equal(n_sessions(&SP), 0);
	assert_int_equal(stat_of(&SP, "sessions-revoked-by-peer"), 1);
	PUMP_UNTIL(stat_of(&SS, "revoke-acked") == 1);
	/* nothing was retransmitted, nothing is left to send */
	advance(15000);
	assert_int_equal(stat_of(&SS, "retransmit") + stat_of(&SP, "retransmit"), 0);
	assert_int_equal(stat_of(&SS, "revoke-unacked") + stat_of(&SP, "revoke-unacked"), 0);
}

/* A revocation the other side never acknowledges (its daemon is gone) is sent max_tries
 * times, then counted as unacknowledged. */
static void test_revoke_unacked(void **state)
{
	(void)state;
	start_pair("", 0);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	node_close(&SS);
	json_decref(expect_ok(node_ctl(&SP, json_pack("{s:s, s:s}", "cmd", "revoke", "client",
						 CLIENT1))));
	assert_int_equal(stat_of(&SP, "revoke-sent"), 1);
	advance(11000);
	assert_int_equal(stat_of(&SP, "revoke-unacked"), 0);
	advance(1000);
	assert_int_equal(stat_of(&SP, "retransmit"), 4);
	assert_int_equal(stat_of(&SP, "revoke-unacked"), 1);
}

/* Revoked by the SP, an "authenticate" entry of the SS is authenticated again at once. */
static void test_revoke_reauth_at_start(void **state)
{
	json_t *r;
	char first[16];

	(void)state;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 0);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	r = nfq_last(&SP.nfq, "session-add");
	snprintf(first, sizeof(first), "%s", req_id(r, 0));
	json_decref(r);
	json_decref(expect_ok(node_ctl(&SP, json_pack("{s:s, s:s}", "cmd", "revoke", "client",
						 CLIENT1))));
	/* the clock does not move: no housekeeping tick is needed */
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 1);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 2 && nfq_count(&SP.nfq, "session-add") == 2);
	r = nfq_last(&SP.nfq, "session-add");
	assert_string_not_equal(req_id(r, 0), first);
	json_decref(r);
	assert_int_equal(n_sessions(&SS), 1);
	assert_int_equal(n_sessions(&SP), 1);
}

/* Renewal: an "authenticate" entry with a 10 s lifetime is authenticated again at 8 s
 * (80%). The data plane switches IDs with a session-add on the same key: no session-del on
 * either side, nothing ever expires, the SP holds one session (the new ID) at the end. */
static void test_renewal(void **state)
{
	json_t *r;
	char first[16], second[16];

	(void)state;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 10);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	r = nfq_last(&SS.nfq, "session-add");
	snprintf(first, sizeof(first), "%s", req_id(r, 0));
	json_decref(r);
	advance(7000);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 1);
	advance(1000);                                   /* 8 s */
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 2 && nfq_count(&SP.nfq, "session-add") == 2);
	r = nfq_last(&SS.nfq, "session-add");
	snprintf(second, sizeof(second), "%s", req_id(r, 0));
	json_decref(r);
	assert_string_not_equal(first, second);
	r = nfq_last(&SP.nfq, "session-add");
	assert_string_equal(req_id(r, 0), second);       /* both ends use the new ID */
	json_decref(r);
	assert_int_equal(nfq_count(&SS.nfq, "session-del") + nfq_count(&SP.nfq, "session-del"), 0);
	assert_int_equal(n_sessions(&SS), 1);
	assert_int_equal(n_sessions(&SP), 1);
	assert_int_equal(stat_of(&SS, "sessions-renewed"), 1);
	/* again and again, never a gap */
	advance(20000);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 4);
	assert_int_equal(nfq_count(&SS.nfq, "session-del") + nfq_count(&SP.nfq, "session-del"), 0);
	assert_int_equal(stat_of(&SS, "sessions-expired") + stat_of(&SP, "sessions-expired"), 0);
	assert_int_equal(stat_of(&SS, "sessions-renewed"), 3);
	assert_int_equal(stat_of(&SP, "revoke-sent") + stat_of(&SS, "revoke-sent"), 0);
}


/* The position in f's request log of the first request cmd whose first session has id, or -1. */
static long nfq_index(struct fake_nfq *f, const char *cmd, const char *id)
{
	long found = -1;
	size_t i;
	json_t *r;

	pthread_mutex_lock(&f->mu);
	json_array_foreach(f->log, i, r)
		if (found < 0 && !strcmp(json_string_value(json_object_get(r, "cmd")) ?: "", cmd) &&
		    req_id(r, 0) && !strcmp(req_id(r, 0), id))
			found = (long)i;
	pthread_mutex_unlock(&f->mu);
	return found;
}

/* Renewal without loss (docs/authd.md, "Renewal of `authenticate` entries"): the SP's data
 * plane accepts the new ID ahead (session-accept) before its Auth-REP&REQ leaves, and the
 * commit's session-add comes after; the SS's Auth-REP leaves only once its own data plane has
 * the new session: while the SS's parent answers nothing, the SP commits nothing. */
static void test_renewal_gates(void **state)
{
	json_t *r;
	char first[16], second[16];
	uint64_t sp_gated, ss_gated;

	(void)state;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 10);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	r = nfq_last(&SP.nfq, "session-add");
	snprintf(first, sizeof(first), "%s", req_id(r, 0));
	json_decref(r);
	sp_gated = stat_of(&SP, "dp-gated");
	ss_gated = stat_of(&SS, "dp-gated");
	assert_int_equal(ss_gated, 1); /* the first session's Auth-REP waited too */
	advance(7000);
	SS.hold_parent = true;       /* the SS's data plane does not get the new session */
	advance(1000);               /* 8 s: the renewal */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-accept") == 1);
	pump(50);
	r = nfq_last(&SP.nfq, "session-accept");
	snprintf(second, sizeof(second), "%s", req_id(r, 0));
	json_decref(r);
	assert_string_not_equal(first, second);
	/* the SP accepts the new ID, still writes the old one; no commit without the Auth-REP */
	assert_int_equal(nfq_count(&SP.nfq, "session-add"), 1);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 1);
	assert_int_equal(stat_of(&SP, "dp-gated"), sp_gated + 1);
	assert_int_equal(stat_of(&SS, "dp-gated"), ss_gated + 1);
	assert_int_equal(nfq_count(&SP.nfq, "session-withdraw"), 0);
	/* the SS's parent applies the session-add, then answers the barrier: the Auth-REP goes */
	SS.hold_parent = false;
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-add") == 2);
	assert_true(nfq_index(&SS.nfq, "session-add", second) >= 0);
	assert_true(nfq_index(&SP.nfq, "session-accept", second) <
		    nfq_index(&SP.nfq, "session-add", second));
	assert_int_equal(nfq_count(&SP.nfq, "session-withdraw"), 0);
	assert_int_equal(stat_of(&SP, "dp-gate-timeouts") + stat_of(&SS, "dp-gate-timeouts"), 0);
	assert_int_equal(nfq_count(&SS.nfq, "session-del") + nfq_count(&SP.nfq, "session-del"), 0);
}

/* A renewal whose Auth-REPs are all lost: the SP gives up (Auth-RST timeout) and withdraws the
 * ID it accepted ahead (session-withdraw, fail closed); its session stays the old one. */
static void test_renewal_lost_withdraws(void **state)
{
	json_t *r;
	char first[16], second[16];

	(void)state;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 100);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	r = nfq_last(&SP.nfq, "session-add");
	snprintf(first, sizeof(first), "%s", req_id(r, 0));
	json_decref(r);
	SP.drop_rep = true;
	advance(80000);              /* 80 % of 100 s: the give-up, 13.5 s on, is before the end */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-accept") == 1);
	r = nfq_last(&SP.nfq, "session-accept");
	snprintf(second, sizeof(second), "%s", req_id(r, 0));
	json_decref(r);
	assert_string_not_equal(first, second);
	assert_int_equal(nfq_count(&SP.nfq, "session-withdraw"), 0);
	advance(14000);              /* past the SP's fifth time-out (13.5 s) */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-withdraw") == 1);
	r = nfq_last(&SP.nfq, "session-withdraw");
	assert_string_equal(req_id(r, 0), second);
	json_decref(r);
	assert_true(SP.dropped >= 5);
	assert_int_equal(nfq_count(&SP.nfq, "session-add"), 1); /* never committed */
	assert_int_equal(stat_of(&SP, "timeout"), 1);
}

/* --- the profile tables (issue 9) ------------------------------------------------------ */

static int count_rows(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	int n = -1;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* --- the status application (issue 9) -------------------------------------------------- */

/* A session's reports reach both databases (info_vNIC on the SS, info_client on the SP) and
 * the counters; a renewal moves them to the new ID; an SP that stops answering is marked
 * unreachable on the SS after miss_limit intervals; a revocation removes the rows. */
static void test_status_reports(void **state)
{
	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	SS.cfg.status.miss_limit = SP.cfg.status.miss_limit = 3;
	start_pair("", 0);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	advance(1500);
	PUMP_UNTIL(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status "
			      "WHERE received > 0 AND reachable = 1 AND vnic = 'vnic1' AND "
			      "vnic_status = 1 AND weight = 100 AND sessions = 1") == 1 &&
		   count_rows(SP.cfg.database, "SELECT count(*) FROM client_status "
			      "WHERE received > 0 AND reachable = 1 AND client = '" CLIENT1 "'") == 1);
	assert_true(stat_of(&SS, "status-received") > 0);
	assert_true(stat_of(&SP, "status-received") > 0);
	/* what coopnetctl shows: the SS's vnics, the SP's clients with a session row */
	{
		json_t *r = expect_ok(cmd(&SS, "vnics")), *v;

		assert_int_equal(json_array_size(json_object_get(r, "vnics")), 1);
		v = json_array_get(json_object_get(r, "vnics"), 0);
		assert_string_equal(json_string_value(json_object_get(v, "vnic")), "vnic1");
		assert_string_equal(json_string_value(json_object_get(v, "status")), "up");
		assert_string_equal(json_string_value(json_object_get(v, "health")), "none");
		assert_int_equal(json_integer_value(json_object_get(v, "weight")), 100);
		assert_true(json_is_true(json_object_get(v, "reachable")));
		assert_true(json_integer_value(json_object_get(v, "age_ms")) >= 0);
		json_decref(r);
		/* the same report in the metrics: state up, an age */
		{
			char *t = metrics_text(&SS);
			assert_non_null(strstr(t, "service=\"http\",vnic=\"vnic1\",state=\"up\"} 1\n"));
			assert_non_null(strstr(t, "service=\"http\",vnic=\"vnic1\",state=\"unreachable\"} 0\n"));
			assert_non_null(strstr(t, "coopnet_sp_vnic_report_age_seconds{sp=\""));
			free(t);
		}
		r = expect_ok(cmd(&SP, "clients"));
		v = json_array_get(json_object_get(r, "clients"), 2); /* after lan1 and lan2 */
		assert_string_equal(json_string_value(json_object_get(v, "role")), "session");
		assert_string_equal(json_string_value(json_object_get(v, "client")), CLIENT1);
		assert_true(json_is_true(json_object_get(v, "reachable")));
		json_decref(r);
	}
	assert_int_equal(stat_of(&SS, "status-bad-proof") + stat_of(&SP, "status-bad-proof"), 0);
	assert_int_equal(stat_of(&SS, "coop-unknown") + stat_of(&SP, "coop-unknown"), 0);
	/* periodic: a few intervals later the SS has taken more */
	{
		json_int_t before = stat_of(&SS, "status-received");
		advance(3000);
		assert_true(stat_of(&SS, "status-received") >= before + 2);
	}
	/* the SP goes silent (its engine closed): unreachable after 3 of its intervals */
	node_close(&SP);
	advance(2000);
	assert_int_equal(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status "
				    "WHERE reachable = 0"), 0);
	advance(2500);
	assert_int_equal(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status "
				    "WHERE reachable = 0 AND reach_changed > 0"), 1);
	assert_int_equal(stat_of(&SS, "status-unreachable"), 1);
	{
		char *t = metrics_text(&SS);
		assert_non_null(strstr(t, "service=\"http\",vnic=\"vnic1\",state=\"unreachable\"} 1\n"));
		assert_non_null(strstr(t, "service=\"http\",vnic=\"vnic1\",state=\"up\"} 0\n"));
		assert_non_null(strstr(t, "\ncoopnet_authd_status_unreachable_total 1\n"));
		free(t);
	}
	/* revoked on the SS: the row goes with the session */
	json_decref(expect_ok(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1))));
	assert_int_equal(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status"), 0);
}

/* info_client from coopnet-nfq's counters: the parent's "nfq-traffic" reaches the SP's
 * client_status in the next report; a bad entry drops the whole poll (counted). */
static void test_status_traffic(void **state)
{
	json_t *r, *s;
	unsigned long id;

	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair("", 0);
	id = session_up();
	/* first an empty poll (a data plane without sessions yet): taken, not refused (it once
	 * passed NULL to qsort: fuzz_nfq_traffic under UBSan); the figures of the next arrive */
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[]}", "msg", "nfq-traffic",
		"first", 1, "more", 0, "sessions")), 0);
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]]}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
		(json_int_t)1795000000, (json_int_t)12, (json_int_t)10, (json_int_t)1480,
		(json_int_t)31200, (json_int_t)0, (json_int_t)1, (json_int_t)2, 0)), 0);
	advance(1500);
	PUMP_UNTIL(count_rows(SP.cfg.database, "SELECT count(*) FROM client_status WHERE "
			      "bytes_c2s = 1480 AND bytes_s2c = 31200 AND segs_c2s = 12 AND "
			      "segs_s2c = 10 AND last_seen = 1795000000000 AND drop_wrong_id = 1 AND "
			      "drop_other = 2") == 1);
	/* a bad entry (ID 0): the poll is refused whole, the last good figures stay */
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[i, s, i, i, i, i, i, i, i, i, i]]}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", 0, CLIENT1, 0, 0, 0, 0, 0,
		0, 0, 0, 0)), 0);
	PUMP_UNTIL(stat_of(&SS, "nfq-traffic-bad") == 1);
	advance(1500);
	assert_int_equal(count_rows(SP.cfg.database, "SELECT count(*) FROM client_status WHERE "
				    "bytes_s2c = 31200"), 1);
	r = expect_ok(cmd(&SP, "clients"));
	s = json_array_get(json_object_get(r, "clients"), 2);
	assert_int_equal(json_integer_value(json_object_get(s, "bytes_s2c")), 31200);
	json_decref(r);
}

/* info_vNIC's load: the SP's own coopnet-nfq counters (its parent's "nfq-traffic") become the
 * service's bytes per second (growth of the sum over the time between two polls), which the
 * SS stores; a sum that shrank gives 0. */
static json_t *traffic_msg(unsigned long id, json_int_t in, json_int_t out)
{
	return json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]]}", "msg",
			 "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
			 (json_int_t)1795000000, (json_int_t)10, (json_int_t)10, in, out,
			 (json_int_t)0, (json_int_t)0, (json_int_t)0, 0);
}

static void test_status_load(void **state)
{
	unsigned long id;

	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair("", 0);
	id = session_up();
	assert_int_equal(imsg_send(SP.pfd, traffic_msg(id, 1000, 9000)), 0);
	advance(2000);
	assert_int_equal(imsg_send(SP.pfd, traffic_msg(id, 3000, 27000)), 0);
	advance(1500); /* 20,000 bytes in 2 s */
	PUMP_UNTIL(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status WHERE "
			      "bytes_per_s = 10000") == 1);
	assert_int_equal(imsg_send(SP.pfd, traffic_msg(id, 10, 10)), 0); /* shrank */
	advance(1500);
	PUMP_UNTIL(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status WHERE "
			      "bytes_per_s = 0") == 1);
}

/* After a renewal the reports go with the new ID only; after a restart of the SS engine its
 * stored session reports again. */
static void test_status_renewal_restart(void **state)
{
	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 10);
	PUMP_UNTIL(n_sessions(&SS) == 1 && n_sessions(&SP) == 1);
	advance(8500); /* renewed at 8 s */
	assert_int_equal(stat_of(&SS, "sessions-renewed"), 1);
	advance(1500);
	assert_int_equal(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status v, sessions s "
				    "WHERE s.role = 'supervisor' AND s.id = v.id AND v.received > 0"), 1);
	assert_int_equal(count_rows(SS.cfg.database, "SELECT count(*) FROM vnic_status"), 1);
	assert_int_equal(count_rows(SP.cfg.database, "SELECT count(*) FROM client_status c, sessions s "
				    "WHERE s.role = 'provider' AND s.id = c.id AND c.received > 0"), 1);
	/* the SP's renewed session kept its report schedule: its only Status-REQ was the first
	 * session's (the SS's REQ for the new ID was answered) */
	assert_int_equal(stat_of(&SP, "status-probe-sent"), 1);
	/* the renewed session's row went with it (the SP finds it from its status machine) */
	assert_int_equal(count_rows(SP.cfg.database, "SELECT count(*) FROM client_status"), 1);
	assert_int_equal(stat_of(&SP, "db-errors"), 0);
	/* the SP's first Status-REQ leaves with its Auth-REP and may reach the SS before the SS
	 * stores the session: at most one no-session per session (two sessions so far) */
	assert_true(stat_of(&SS, "status-no-session") <= 2);
	/* restart the SS's engine: its stored session reports again (a new epoch to the SP) */
	node_close(&SS);
	node_open(&SS);
	node_send_policy(&SS, false);
	advance(250); /* the new epoch's timestamp is later than the last report's (a real clock) */
	PUMP_UNTIL(stat_of(&SS, "status-received") > 0);
	assert_true(stat_of(&SP, "status-peer-restart") >= 1);
}

/* Two client entries on one prefix ("office" for http, "admins" for ssh) are written to the
 * profile tables; a profile write that fails is counted (profile-write-failed) and leaves the
 * previous profile whole. */
static void test_profile_overlap_and_failure(void **state)
{
	const char *db = SP.cfg.database;
	sqlite3 *h;

	(void)state;
	node_set_policy(&SP,
		"{ \"group_key\": \"" KG "\","
		"  \"header\": { \"group\": [ { \"address\": \"127.0.0.1\", \"port\": %u,"
		"                              \"services\": [\"http\", \"ssh\"] } ] },"
		"  \"provider\": {"
		"    \"vnics\": [ { \"name\": \"vnic1\", \"address\": \"" SERVICE "\","
		"                   \"data_folder\": \"/srv/vnic1\","
		"                   \"services\": [ { \"name\": \"http\", \"port\": 80, \"health\": { \"check\": \"none\" } },"
		"                                 { \"name\": \"ssh\", \"port\": 22, \"health\": { \"check\": \"none\" } } ] } ],"
		"    \"clients\": ["
		"      { \"name\": \"office\", \"address\": \"198.18.1.0/24\", \"services\": [\"http\"],"
		"        \"keys\": { \"http\": \"" K1 "\" } },"
		"      { \"name\": \"admins\", \"address\": \"198.18.1.0/24\", \"services\": [\"ssh\"],"
		"        \"keys\": { \"ssh\": \"" K2 "\" } } ] } }", node_port(&SP));
	node_open(&SP);
	node_send_policy(&SP, false);
	PUMP_UNTIL(SP.applied);
	assert_true(json_is_true(json_object_get(SP.applied, "ok")));
	assert_int_equal(stat_of(&SP, "profile-write-failed"), 0);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM clients WHERE address = "
				    "'198.18.1.0/24' AND role = 'provider'"), 2);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM services"), 2);
	/* the paper's row for vnic1 lists both clients and both services */
	assert_int_equal(count_rows(db, "SELECT count(*) FROM profiled_status WHERE vnic_name = "
				    "'vnic1' AND client_list = 'admins@198.18.1.0/24,office@198.18.1.0/24' "
				    "AND service_list = 'http/80,ssh/22'"), 1);

	/* the next write fails (an administrator's trigger stands for a full disk) */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TRIGGER boom BEFORE INSERT ON clients BEGIN "
				      "SELECT RAISE(ABORT, 'refused by the test'); END;", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(h);
	json_decref(SP.applied);
	SP.applied = NULL;
	node_send_policy(&SP, true);
	PUMP_UNTIL(SP.applied);
	assert_int_equal(stat_of(&SP, "profile-write-failed"), 1);
	/* nothing half-written: the previous profile is still there */
	assert_int_equal(count_rows(db, "SELECT count(*) FROM clients"), 2);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM vnics"), 1);
}

static void test_reload(void **state)
{
	json_t *r;
	int fd1;

	(void)state;
	start_pair("", 0);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);

	/* same policy: nothing revoked */
	r = expect_ok(cmd(&SP, "reload"));
	assert_int_equal(json_integer_value(json_object_get(r, "revoked")), 0);
	json_decref(r);
	assert_int_equal(SP.reloads, 1);

	/* the parent refused the new document: the running policy stays */
	SP.reload_fail = true;
	expect_error(cmd(&SP, "reload"), "test.json:1:2: bad");
	SP.reload_fail = false;
	assert_int_equal(n_sessions(&SP), 1);

	/* a second reload while one runs */
	SP.hold_reload = true;
	fd1 = node_ctl_open(&SP);
	node_ctl_put(fd1, json_pack("{s:s}", "cmd", "reload"));
	PUMP_UNTIL(SP.reloads == 3);
	expect_error(cmd(&SP, "reload"), "a reload is already running");
	/* the engine refuses a policy that names a secret file (it cannot read one) */
	assert_int_equal(imsg_send(SP.pfd, json_pack("{s:s, s:{s:s, s:{s:[{s:s, s:[s]}]}}, s:b}",
		"msg", "policy", "policy", "group_key_file", "/etc/coopnet/group.key", "header",
		"group", "address", "127.0.0.1", "services", "http", "reload", 1)), 0);
	expect_error(node_ctl_wait(fd1), "");
	close(fd1);
	SP.hold_reload = false;
	assert_int_equal(n_sessions(&SP), 1);

	/* a policy without lan1: its session is revoked and leaves the data plane */
	sp_policy(&SP, 0, false);
	r = expect_ok(cmd(&SP, "reload"));
	assert_int_equal(json_integer_value(json_object_get(r, "revoked")), 1);
	json_decref(r);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-del") == 1);
	assert_int_equal(n_sessions(&SP), 0);
}

static void test_control_limits(void **state)
{
	int fds[AUTHD_MAX_CTL_CLIENTS], fd;
	pid_t pid;
	int st;

	(void)state;
	start_pair("", 0);
	for (size_t i = 0; i < AUTHD_MAX_CTL_CLIENTS; i++) {
		fds[i] = node_ctl_open(&SS);
		pump(2);
	}
	fd = node_ctl_open(&SS);
	expect_error(node_ctl_wait(fd), "too many control connections");
	close(fd);
	for (size_t i = 0; i < AUTHD_MAX_CTL_CLIENTS; i++)
		close(fds[i]);
	pump(5);

	if (geteuid() != 0) {
		print_message("not root: the SO_PEERCRED check is not tested\n");
		return;
	}
	/* another user: refused (the socket file's mode 0666 here lets it connect at all) */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		json_t *req = json_pack("{s:s}", "cmd", "status"), *r;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		r = ctl_call(SS.cfg.control_socket, req, 3000, err, sizeof(err));
		if (!r)
			fprintf(stderr, "as nobody: %s\n", err);
		_exit(r && json_is_false(json_object_get(r, "ok")) &&
		      strstr(json_string_value(json_object_get(r, "error")) ?: "",
			     "permission denied") ? 0 : 1);
	}
	for (int i = 0; i < 3000 && waitpid(pid, &st, WNOHANG) == 0; i++)
		pump_once();
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(stat_of(&SS, "ctl-refused"), 1);
}

/* db_session_foreach fails on demand (-Wl,--wrap) */
static bool fail_foreach;
int __real_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb, void *arg);
int __wrap_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb, void *arg);
int __wrap_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb, void *arg)
{
	if (fail_foreach)
		return -1;
	return __real_db_session_foreach(db, role, cb, arg);
}

/* and the lookups without a walk (the listing, status, revoke by client) */
int __real_db_session_count(struct authd_db *db, enum db_role role);
int __wrap_db_session_count(struct authd_db *db, enum db_role role);
int __wrap_db_session_count(struct authd_db *db, enum db_role role)
{
	return fail_foreach ? -1 : __real_db_session_count(db, role);
}

int __real_db_session_range(struct authd_db *db, int64_t from, struct db_session *rows,
			    int64_t *rowids, size_t max);
int __wrap_db_session_range(struct authd_db *db, int64_t from, struct db_session *rows,
			    int64_t *rowids, size_t max);
int __wrap_db_session_range(struct authd_db *db, int64_t from, struct db_session *rows,
			    int64_t *rowids, size_t max)
{
	return fail_foreach ? -1 : __real_db_session_range(db, from, rows, rowids, max);
}

int __real_db_session_foreach_client(struct authd_db *db, int family, const uint8_t *client,
				     db_session_cb cb, void *arg);
int __wrap_db_session_foreach_client(struct authd_db *db, int family, const uint8_t *client,
				     db_session_cb cb, void *arg);
int __wrap_db_session_foreach_client(struct authd_db *db, int family, const uint8_t *client,
				     db_session_cb cb, void *arg)
{
	return fail_foreach ? -1 : __real_db_session_foreach_client(db, family, client, cb, arg);
}

/* The turn's COMMIT fails (-Wl,--wrap=db_commit) for one node, the next fail_commit_n times. */
int __real_db_commit(struct authd_db *db);
int __wrap_db_commit(struct authd_db *db);
int __wrap_db_commit(struct authd_db *db)
{
	if (db == fail_commit_db && fail_commit_skip > 0) {
		fail_commit_skip--;
	} else if (db == fail_commit_db && fail_commit_n > 0) {
		fail_commit_n--;
		db_rollback(db); /* as a COMMIT that fails (disk full, I/O error) ends it */
		return -1;
	}
	return __real_db_commit(db);
}

static int replay_rows(struct node *n)
{
	return count_rows(n->cfg.database, "SELECT count(*) FROM replay");
}

/* The SP's turn that records the REQ's replay digest does not commit: its Auth-REP&REQ is
 * held and dropped, the exchange forgotten. The SS's retransmitted REQ is then judged
 * afresh (not answered from memory, not refused as a replay) and the exchange completes. */
static void test_turn_rollback_req(void **state)
{
	int fd;

	(void)state;
	start_pair("", 0);
	fail_commit_db = SP.e->db;
	fail_commit_n = 1;
	fd = node_ctl_open(&SS);
	node_ctl_put(fd, json_pack("{s:s, s:s, s:s}", "cmd", "auth", "service", "http", "client",
			      CLIENT1));
	PUMP_UNTIL(stat_of(&SP, "turn-rollbacks") == 1);
	pump(5);
	assert_true(stat_of(&SP, "held-dropped") >= 1);      /* the Auth-REP&REQ */
	assert_int_equal(replay_rows(&SP), 0);
	assert_int_equal(stat_of(&SS, "auth-ok"), 0);        /* nothing reached the SS */
	advance(1000);                                       /* the SS resends its REQ */
	json_decref(expect_ok(node_ctl_wait(fd)));
	close(fd);
	fail_commit_db = NULL;
	assert_true(stat_of(&SS, "retransmit") >= 1);
	assert_int_equal(stat_of(&SP, "duplicate"), 0);      /* not answered from memory */
	assert_int_equal(stat_of(&SP, "replay"), 0);         /* judged afresh */
	PUMP_UNTIL(n_sessions(&SP) == 1);
	assert_int_equal(replay_rows(&SP), 1);
	assert_int_equal(stat_of(&SP, "turn-rollbacks"), 1);
	assert_int_equal(stat_of(&SP, "auth-ok"), 1);
	assert_int_equal(nfq_count(&SP.nfq, "session-add"), 1);
}

/* The SP's turn that commits the session (Auth-REP) does not commit: its session-add is
 * dropped, and the session is stored again alone, then pushed: the SS believes in it. */
static void test_turn_rollback_rep(void **state)
{
	(void)state;
	start_pair("", 0);
	fail_commit_db = SP.e->db;
	fail_commit_skip = 1; /* the REQ's turn commits, the REP's does not */
	fail_commit_n = 1;
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	fail_commit_db = NULL;
	assert_int_equal(stat_of(&SP, "turn-rollbacks"), 1);
	assert_true(stat_of(&SP, "held-dropped") >= 1);      /* the first session-add */
	assert_int_equal(stat_of(&SP, "auth-ok"), 1);
	assert_int_equal(stat_of(&SP, "sessions-added"), 1);
	/* the one ahead of the commit (engine_gate.c), then the retried store's */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-add") == 2);
}

static void test_database_errors(void **state)
{
	(void)state;
	start_pair("", 0);
	fail_foreach = true;
	expect_error(cmd(&SS, "status"), "database: ");
	expect_error(cmd(&SS, "sessions"), "database: ");
	expect_error(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1)),
		     "database: ");
	fail_foreach = false;
	json_decref(expect_ok(cmd(&SS, "status")));
}

/* Issue 11: 250 sessions written while the engine runs (as restored from a database): the
 * listing pages from a cursor (each session once, "total" on the first page), and the 250
 * expiring in one second reach coopnet-nfq as two session-dels, not 250. */
static void test_listing_pages_and_batched_expiry(void **state)
{
	char sql[256], seen[256] = { 0 };
	json_t *r, *off = NULL, *req;
	size_t pages = 0, listed = 0, syncs, dels, i;
	sqlite3 *h;

	(void)state;
	start_pair("", 0);
	assert_int_equal(sqlite3_open(SP.cfg.database, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	for (i = 1; i <= 250; i++) {
		/* a long peer: 250 of them do not fit one page */
		snprintf(sql, sizeof(sql), "INSERT INTO sessions VALUES ('provider', 4, '198.18.1.%zu', "
			 "'" SERVICE "', 80, %zu, 'vnic1', 'http', 'lan1', '[2001:db8:ffff:ffff:ffff:"
			 "ffff:ffff:%zx]:7447', 1, 1, %llu, x'', 1)", i, i, i,
			 (unsigned long long)(T_wall / 1000 + 5));
		assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	do {
		req = json_pack("{s:s}", "cmd", "sessions");
		if (off)
			json_object_set(req, "offset", off);
		r = expect_ok(node_ctl(&SP, req));
		if (!off)
			assert_int_equal(json_integer_value(json_object_get(r, "total")), 250);
		for (i = 0; i < json_array_size(json_object_get(r, "sessions")); i++) {
			const char *c = json_string_value(json_object_get(json_array_get(
				json_object_get(r, "sessions"), i), "client"));
			unsigned last = (unsigned)atoi(strrchr(c, '.') + 1);
			assert_true(last >= 1 && last <= 250);
			assert_int_equal(seen[last], 0);
			seen[last] = 1;
			listed++;
		}
		json_decref(off);
		off = json_incref(json_object_get(r, "next"));
		json_decref(r);
		pages++;
	} while (off && pages < 10);
	assert_int_equal(listed, 250);
	assert_true(pages >= 2);
	/* into the data plane (the parent's sessions), then all expire at one tick */
	syncs = nfq_count(&SP.nfq, "session-sync");
	dels = nfq_count(&SP.nfq, "session-del");
	json_decref(expect_ok(cmd(&SP, "dp-resync")));
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-sync") == syncs + 1);
	advance(6000);
	PUMP_UNTIL(n_sessions(&SP) == 0);
	assert_int_equal(stat_of(&SP, "sessions-expired"), 250);
	/* held as a turn's requests (engine_turn.c, 128 a turn): two, 128 and 122 */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-del") == dels + 2);
	r = nfq_last(&SP.nfq, "session-del");
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 122);
	json_decref(r);
}

/* --- tests: the data plane ---------------------------------------------------------------- */

/* Expiry on the SP: session-del at the first housekeeping tick after it, within 1 s. */
static void test_expiry_pushes_session_del(void **state)
{
	(void)state;
	start_pair("", 10);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	/* the SP commits at T_wall: expires = floor(T_wall/1000) + 10 */
	advance(9000);
	assert_int_equal(nfq_count(&SP.nfq, "session-del"), 0);
	assert_int_equal(n_sessions(&SP), 1);
	advance(1000);
	assert_int_equal(nfq_count(&SP.nfq, "session-del"), 1);
	assert_int_equal(n_sessions(&SP), 0);
	/* the SS's copy ends at the same second; whichever side sees it first tells the other */
	assert_int_equal(stat_of(&SP, "sessions-expired") + stat_of(&SP, "sessions-revoked-by-peer"),
			 1);
	PUMP_UNTIL(n_sessions(&SS) == 0);
}

/* The SP's idle expiry (the SS has no idle_time of its own here): the SP's revocation takes
 * the SS's copy out of its data plane in the same second. */
static void test_idle_expiry_reaches_ss(void **state)
{
	(void)state;
	sp_idle = 5;
	start_pair("", 0);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(n_sessions(&SP) == 1);
	advance(4000);
	assert_int_equal(n_sessions(&SS), 1);
	advance(1000);
	assert_int_equal(stat_of(&SP, "sessions-expired"), 1);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 1);
	assert_int_equal(n_sessions(&SS), 0);
	assert_int_equal(stat_of(&SS, "sessions-revoked-by-peer"), 1);
	PUMP_UNTIL(stat_of(&SP, "revoke-acked") == 1);
}

/* Idle expiry on the SP counts from the last segment the SS's data plane saw (info_client
 * last_seen), not from the Authentication: traffic keeps the session; silence ends it. */
static void test_idle_from_last_seen(void **state)
{
	unsigned long id;

	(void)state;
	sp_idle = 5;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair("", 0);
	id = session_up();
	/* traffic seen at 4 s: the session lives to 9 s */
	advance(3000);
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]]}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
		(json_int_t)(T_wall / 1000 + 1), (json_int_t)1, (json_int_t)1, (json_int_t)60,
		(json_int_t)60, (json_int_t)0, (json_int_t)0, (json_int_t)0, 0)), 0);
	advance(3000); /* 6 s: past idle_time from the Authentication */
	assert_int_equal(stat_of(&SP, "sessions-expired"), 0);
	assert_int_equal(n_sessions(&SP), 1);
	advance(4000); /* 10 s: idle since 4 s */
	assert_int_equal(stat_of(&SP, "sessions-expired"), 1);
}

/* An SS's own idle_time (supervisor.idle_time) counts from the later of the Authentication
 * and the last segment its data plane saw (the parent's nfq-traffic poll, last_seen), only
 * once a whole poll came in since the start; the session leaves the SS's database and data
 * plane (session-del), is counted, and the SP's copy is revoked. The SP has no idle time. */
static void test_ss_idle_from_last_seen(void **state)
{
	unsigned long id;

	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair(", \"idle_time\": 5", 0);
	id = session_up();
	/* 6 s: past idle_time from the Authentication, but no poll yet (an engine that just
	 * started does not know what its data plane saw): nothing ends */
	advance(6000);
	assert_int_equal(n_sessions(&SS), 1);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 0);
	/* a segment seen at 6 s: the session lives to 11 s */
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]]}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
		(json_int_t)(T_wall / 1000), (json_int_t)1, (json_int_t)1, (json_int_t)60,
		(json_int_t)60, (json_int_t)0, (json_int_t)0, (json_int_t)0, 0)), 0);
	advance(4500); /* 10.5 s */
	assert_int_equal(n_sessions(&SS), 1);
	assert_int_equal(nfq_count(&SS.nfq, "session-del"), 0);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 0);
	/* 11.5 s, 20 s: idle_time past the last segment seen, but no poll was taken since 6 s
	 * (skipped: coopnet-nfq slow, the machine loaded): what the data plane saw after 6 s is
	 * unknown, and a busy session must not end on it */
	advance(1000);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 0);
	advance(8500);
	assert_int_equal(n_sessions(&SS), 1);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 0);
	/* a poll at 20 s: still nothing since 6 s: idle, it ends */
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]], s:I}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
		(json_int_t)(T_wall / 1000 - 14), (json_int_t)1, (json_int_t)1, (json_int_t)60,
		(json_int_t)60, (json_int_t)0, (json_int_t)0, (json_int_t)0, 0, "taken_ms",
		(json_int_t)T_wall)), 0);
	advance(1000);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 1);
	assert_int_equal(stat_of(&SS, "sessions-expired"), 0);
	assert_int_equal(n_sessions(&SS), 0);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 1);
	PUMP_UNTIL(n_sessions(&SP) == 0);
	assert_int_equal(stat_of(&SP, "sessions-revoked-by-peer"), 1);
}

/* an nfq-traffic poll of the SS: its session id seen last at Unix second `at` */
static void ss_seen(unsigned long id, uint64_t at)
{
	assert_int_equal(imsg_send(SS.pfd, json_pack("{s:s, s:b, s:b, s:[[I, s, I, I, I, I, I, I, I, I, i]]}",
		"msg", "nfq-traffic", "first", 1, "more", 0, "sessions", (json_int_t)id, CLIENT1,
		(json_int_t)at, (json_int_t)1, (json_int_t)1, (json_int_t)60,
		(json_int_t)60, (json_int_t)0, (json_int_t)0, (json_int_t)0, 0)), 0);
}

/* the SS's record of its session's last activity (sessions.active) */
static long long ss_active(void)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	long long v;

	assert_int_equal(sqlite3_open(SS.cfg.database, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT active FROM sessions WHERE role = "
					    "'supervisor'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* The SS's idle expiry reads a session only when its recorded activity is idle_time old
 * (engine_idle.c): one that the data plane saw since has that time recorded and is read
 * again idle_time after it, as often as it stays busy; it ends idle_time after its last
 * segment, not earlier (the record is never above what was seen), once a poll taken after
 * that tells it. */
static void test_ss_idle_busy_read_again(void **state)
{
	unsigned long id;
	uint64_t t0;

	(void)state;
	SS.cfg.status.interval_ms = SP.cfg.status.interval_ms = 1000;
	start_pair(", \"idle_time\": 5", 0);
	id = session_up();
	t0 = T_wall / 1000;
	assert_int_equal(ss_active(), (long long)t0);  /* the Authentication */
	advance(4000);
	ss_seen(id, t0 + 4);
	advance(1500);                                  /* due at t0 + 5: seen at t0 + 4 */
	assert_int_equal(ss_active(), (long long)(t0 + 4));
	advance(3000);
	ss_seen(id, t0 + 8);
	advance(1000);                                  /* due at t0 + 9: seen at t0 + 8 */
	assert_int_equal(ss_active(), (long long)(t0 + 8));
	advance(3000);                                  /* t0 + 12.5 */
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 0);
	assert_int_equal(n_sessions(&SS), 1);
	advance(1000);                                  /* t0 + 13.5: idle since t0 + 8, */
	assert_int_equal(n_sessions(&SS), 1);           /* but no poll told so since t0 + 9 */
	ss_seen(id, t0 + 8);                            /* a poll taken at t0 + 13.5 */
	advance(1000);
	assert_int_equal(stat_of(&SS, "sessions-idle-expired"), 1);
	assert_int_equal(n_sessions(&SS), 0);
}

/* The SS's copy carries the SP's lifetime and leaves the SS's data plane when it ends. */
static void test_ss_expiry(void **state)
{
	json_t *r;
	uint64_t exp;

	(void)state;
	start_pair("", 10);
	r = expect_ok(auth(&SS, "http", CLIENT1));
	exp = (uint64_t)json_integer_value(json_object_get(json_object_get(r, "session"), "expires"));
	json_decref(r);
	assert_int_equal(exp, T_wall / 1000 + 10);
	r = nfq_last(&SS.nfq, "session-add");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 0), "expires")), exp);
	json_decref(r);
	advance(9000);
	assert_int_equal(nfq_count(&SS.nfq, "session-del"), 0);
	advance(1000);
	assert_int_equal(nfq_count(&SS.nfq, "session-del"), 1);
	assert_int_equal(n_sessions(&SS), 0);
	assert_int_equal(stat_of(&SS, "sessions-expired"), 1);
}

/* Every Auth-REP lost: the SS stored and pushed a session the SP never committed. When the
 * SP gives up it sends Auth-RST timeout; the SS revokes its session (session-del). */
static void test_lost_rep_revokes(void **state)
{
	(void)state;
	start_pair("", 0);
	SP.drop_rep = true;
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1);
	assert_int_equal(n_sessions(&SS), 1);
	advance(13000);
	assert_int_equal(nfq_count(&SS.nfq, "session-del"), 0);
	advance(1000); /* the SP's fifth time-out is at 13.5 s (0.5 + 2 s for both gates, 1, 2, 4, 4) */
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-del") == 1);
	assert_true(SP.dropped >= 5);
	assert_int_equal(n_sessions(&SS), 0);
	assert_int_equal(n_sessions(&SP), 0);
	/* the SP's data plane had it ahead of the commit (engine_gate.c), and lost it again
	 * when the SP gave up */
	assert_int_equal(nfq_count(&SP.nfq, "session-add"), 1);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-del") == 1);
	assert_int_equal(stat_of(&SS, "sessions-revoked"), 1);
	assert_int_equal(stat_of(&SP, "timeout"), 1);
}

/* Wrong passcodes are rate-limited per source (the SS's address): burst 5, 10 a minute; the
 * limit counts failures only, a proof that verifies always gets in. */
static void test_rate_limit(void **state)
{
	(void)state;
	start_pair("", 0);
	for (int i = 0; i < 5; i++)
		expect_error(auth(&SS, "http", "198.18.1.3"), "Auth-RST: denied");
	assert_int_equal(stat_of(&SP, "bad-proof"), 5);
	/* the SS's source is out of tokens, yet a neighbour whose proof verifies gets in at
	 * once: the proof is checked first, the limit applies to failures only (the next
	 * failure is dropped without a reply: test_auth_fsm's test_spoofed_flood) */
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	assert_int_equal(stat_of(&SP, "rate-limited"), 0);
	assert_int_equal(nfq_count(&SS.nfq, "session-add"), 1);
}

/* session-sync: at start (a restarted engine with sessions in its database), and when the
 * link to coopnet-nfq comes back after a failure. */
static void test_session_sync(void **state)
{
	json_t *r, *s;
	char id[16];

	(void)state;
	start_pair("", 0);
	/* the first link-up: an empty sync */
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-sync") == 1);
	s = nfq_last(&SP.nfq, "session-sync");
	assert_int_equal(json_array_size(json_object_get(s, "sessions")), 0);
	json_decref(s);
	r = expect_ok(auth(&SS, "http", CLIENT1));
	snprintf(id, sizeof(id), "%s",
		 json_string_value(json_object_get(json_object_get(r, "session"), "id")));
	json_decref(r);
	PUMP_UNTIL(n_sessions(&SP) == 1);

	/* restart: a new engine on the same database */
	node_close(&SP);
	node_open(&SP);
	node_send_policy(&SP, false);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-sync") == 2);
	s = nfq_last(&SP.nfq, "session-sync");
	assert_int_equal(json_array_size(json_object_get(s, "sessions")), 1);
	assert_string_equal(req_id(s, 0), id);
	json_decref(s);

	/* coopnet-nfq goes away: the next push fails, the link is down; it comes back: sync */
	nfq_stop(&SS.nfq);
	json_decref(expect_ok(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1))));
	PUMP_UNTIL(!SS.link.up);
	r = expect_ok(cmd(&SS, "status"));
	assert_string_equal(json_string_value(json_object_get(r, "nfq")), "down");
	json_decref(r);
	json_decref(expect_ok(auth(&SS, "http", CLIENT1)));
	nfq_start(&SS.nfq);
	PUMP_UNTIL(SS.link.up && nfq_count(&SS.nfq, "session-sync") == 2);
	s = nfq_last(&SS.nfq, "session-sync");
	assert_int_equal(json_array_size(json_object_get(s, "sessions")), 1);
	json_decref(s);
}

/* A provider with a virtual switch ("relay") sends a session-sync when its policy is loaded
 * (the switch starts from the database); a link to coopnet-nfq that came up before that sync
 * reached the parent (its nfq-up is read after the policy) needs no second one (at 60,000 sessions a repeat costs the worker
 * seconds: docs/performance.md). After the link went down, the sync still follows. */
static void test_session_sync_once(void **state)
{
	json_t *s;

	(void)state;
	ss_policy(&SS, "");
	sp_policy(&SP, 0, true);
	policy_insert_after(&SP, "\"provider\": {", " \"relay\": [\"198.18.0.30\"],");
	nfq_start(&SS.nfq);
	nfq_start(&SP.nfq);
	node_open(&SS);
	node_open(&SP);
	node_send_policy(&SS, false);
	/* as in coopnet-authd: the parent reaches coopnet-nfq before the engine reads its policy */
	node_send_policy(&SP, false);
	nfq_link_try_up(&SP.link);
	assert_true(SP.link.up);
	PUMP_UNTIL(SS.applied && SP.applied && SS.link.up);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-sync") >= 1);
	pump(50);
	assert_int_equal(nfq_count(&SP.nfq, "session-sync"), 1);
	session_up();

	/* restart: a new engine and parent on the same database, one sync with the session */
	node_close(&SP);
	node_open(&SP);
	node_send_policy(&SP, false);
	nfq_link_try_up(&SP.link);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-sync") >= 2);
	pump(50);
	assert_int_equal(nfq_count(&SP.nfq, "session-sync"), 2);
	s = nfq_last(&SP.nfq, "session-sync");
	assert_int_equal(json_array_size(json_object_get(s, "sessions")), 1);
	json_decref(s);

	/* the worker goes away: the next push fails, the link is down; it comes back: a sync */
	nfq_stop(&SP.nfq);
	json_decref(expect_ok(node_ctl(&SP, json_pack("{s:s, s:s}", "cmd", "revoke", "client",
						      CLIENT1))));
	PUMP_UNTIL(!SP.link.up);
	nfq_start(&SP.nfq);
	PUMP_UNTIL(SP.link.up && nfq_count(&SP.nfq, "session-sync") == 3);
	s = nfq_last(&SP.nfq, "session-sync");
	assert_int_equal(json_array_size(json_object_get(s, "sessions")), 0);
	json_decref(s);
}

/* A supervisor subscribes; a session-miss starts an Authentication, whose session-add
 * follows. A miss for an address that is no service, or malformed, starts nothing. */
static void test_session_miss(void **state)
{
	json_t *a;

	(void)state;
	start_pair("", 0);
	assert_int_equal(nfq_count(&SS.nfq, "subscribe"), 1);
	assert_int_equal(nfq_count(&SP.nfq, "subscribe"), 0);
	PUMP_UNTIL(SS.nfq.sub_fd >= 0);

	assert_true(nfq_event(&SS.nfq, json_pack("{s:s, s:s, s:s, s:i}", "event", "session-miss",
		"client", CLIENT1, "service", "198.19.9.9", "port", 80)));
	assert_true(nfq_event(&SS.nfq, json_pack("{s:s, s:s, s:s, s:i}", "event", "session-miss",
		"client", CLIENT1, "service", SERVICE, "port", 0)));
	PUMP_UNTIL(stat_of(&SS, "session-miss") == 2);
	pump(20);
	assert_int_equal(stat_of(&SS, "auth-ok") + stat_of(&SS, "auth-failed"), 0);

	assert_true(nfq_event(&SS.nfq, json_pack("{s:s, s:s, s:s, s:i}", "event", "session-miss",
		"client", CLIENT1, "service", SERVICE, "port", 80)));
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1);
	a = nfq_last(&SS.nfq, "session-add");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(a, "sessions"), 0), "client")), CLIENT1);
	json_decref(a);
	PUMP_UNTIL(nfq_count(&SP.nfq, "session-add") == 1);
	assert_int_equal(stat_of(&SS, "session-miss"), 3);
}

/* "authenticate" entries run at start without any command. */
static void test_authenticate_at_start(void **state)
{
	(void)state;
	start_pair(", \"authenticate\": [ { \"service\": \"http\", \"client\": \"" CLIENT1 "\" } ]", 0);
	PUMP_UNTIL(nfq_count(&SS.nfq, "session-add") == 1 && nfq_count(&SP.nfq, "session-add") == 1);
	/* auth without a client takes the entry's */
	json_decref(expect_ok(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1))));
	json_decref(expect_ok(auth(&SS, "http", NULL)));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* --- confidential services: the keys to coopnet-relay (relaylink.c) ----------------------- */

struct fake_relay {
	int lfd, fd;
};

static void relay_listen(struct fake_relay *fr, struct node *n, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(n->cfg.relay_socket, sizeof(n->cfg.relay_socket), "%s/%s.relay", DIR_, name);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", n->cfg.relay_socket);
	fr->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fr->lfd >= 0);
	assert_int_equal(bind(fr->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fr->lfd, 4), 0);
	fr->fd = -1;
}

static bool relay_next(struct fake_relay *fr, struct cn_conf_msg *m)
{
	uint8_t buf[CN_CONF_MSG_LEN + 1];
	ssize_t len;

	if (fr->fd < 0)
		fr->fd = accept4(fr->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fr->fd < 0)
		return false;
	len = recv(fr->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len <= 0)
		return false;
	assert_int_equal(cn_conf_decode(m, buf, (size_t)len, NULL), 0);
	return true;
}

/* The next message of this type (others skipped); the clock moves so that housekeeping
 * (re)connects. */
static void relay_expect(struct fake_relay *fr, uint8_t type, struct cn_conf_msg *m)
{
	for (int i = 0; i < 200; i++) {
		while (relay_next(fr, m))
			if (m->type == type)
				return;
		advance(50);
	}
	fail_msg("no key message of type %u", type);
}

static void mark_confidential(struct node *n)
{
	policy_insert_after(n, "\"port\": 80", ", \"confidential\": true");
}

static void test_confidential_keys(void **state)
{
	struct fake_relay rss, rsp;
	struct cn_conf_msg a, b;
	uint8_t client[16] = { 0 }, service[16] = { 0 }, zero[CN_CONF_PSK_LEN] = { 0 };
	json_t *r, *s;
	char id[16];

	(void)state;
	relay_listen(&rss, &SS, "ss");
	relay_listen(&rsp, &SP, "sp");
	ss_policy(&SS, "");
	sp_policy(&SP, 0, true);
	mark_confidential(&SS);
	mark_confidential(&SP);
	nfq_start(&SS.nfq);
	nfq_start(&SP.nfq);
	node_open(&SS);
	node_open(&SP);
	node_send_policy(&SP, false);
	node_send_policy(&SS, false);
	PUMP_UNTIL(SS.applied && SP.applied && SS.link.up && SP.link.up);
	/* each engine connects and sends its (empty) list */
	relay_expect(&rss, CN_CONF_SYNC_END, &a);
	relay_expect(&rsp, CN_CONF_SYNC_END, &a);

	r = expect_ok(auth(&SS, "http", CLIENT1));
	snprintf(id, sizeof(id), "%s",
		 json_string_value(json_object_get(json_object_get(r, "session"), "id")));
	json_decref(r);
	relay_expect(&rss, CN_CONF_SET, &a);
	relay_expect(&rsp, CN_CONF_SET, &b);
	/* both ends derived the same PSK and identity from their own K_s, for the same session */
	assert_memory_not_equal(a.psk, zero, sizeof(zero));
	assert_memory_equal(a.psk, b.psk, CN_CONF_PSK_LEN);
	assert_memory_equal(a.ident, b.ident, CN_CONF_IDENT_LEN);
	inet_pton(AF_INET, CLIENT1, client);
	inet_pton(AF_INET, SERVICE, service);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.client, client, 16);
	assert_memory_equal(a.service, service, 16);
	assert_memory_equal(b.client, client, 16);
	assert_int_equal(a.port, 80);
	assert_int_equal(a.id, b.id);
	assert_int_equal(a.id, strtoul(id, NULL, 16));

	r = expect_ok(cmd(&SS, "sessions"));
	s = json_array_get(json_object_get(r, "sessions"), 0);
	assert_true(json_is_true(json_object_get(s, "confidential")));
	json_decref(r);

	/* a renewal (a new exchange: a new K_s) gives a new key */
	r = expect_ok(auth(&SS, "http", CLIENT1));
	json_decref(r);
	relay_expect(&rss, CN_CONF_SET, &b);
	assert_memory_not_equal(a.psk, b.psk, CN_CONF_PSK_LEN);
	assert_memory_not_equal(a.ident, b.ident, CN_CONF_IDENT_LEN);

	/* revocation: DEL at both ends */
	r = expect_ok(node_ctl(&SS, json_pack("{s:s, s:s}", "cmd", "revoke", "client", CLIENT1)));
	json_decref(r);
	relay_expect(&rss, CN_CONF_DEL, &a);
	assert_memory_equal(a.client, client, 16);
	assert_memory_equal(a.psk, zero, sizeof(zero));
	relay_expect(&rsp, CN_CONF_DEL, &b);
	assert_memory_equal(b.service, service, 16);
	close(rss.fd);
	close(rss.lfd);
	close(rsp.fd);
	close(rsp.lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_requests_refused),
		T(test_status_clients_vnics_stats),
		T(test_auth_pushes_session_add),
		T(test_moderation),
		T(test_auth_errors),
		T(test_revoke),
		T(test_revoke_unacked),
		T(test_revoke_reauth_at_start),
		T(test_renewal),
		T(test_renewal_gates),
		T(test_renewal_lost_withdraws),
		T(test_status_reports),
		T(test_status_renewal_restart),
		T(test_status_traffic),
		T(test_status_load),
		T(test_idle_expiry_reaches_ss),
		T(test_idle_from_last_seen),
		T(test_reload),
		T(test_control_limits),
		T(test_database_errors),
		T(test_listing_pages_and_batched_expiry),
		T(test_turn_rollback_req),
		T(test_turn_rollback_rep),
		T(test_expiry_pushes_session_del),
		T(test_ss_expiry),
		T(test_ss_idle_from_last_seen),
		T(test_ss_idle_busy_read_again),
		T(test_lost_rep_revokes),
		T(test_rate_limit),
		T(test_session_sync),
		T(test_session_sync_once),
		T(test_session_miss),
		T(test_authenticate_at_start),
		T(test_profile_overlap_and_failure),
		T(test_confidential_keys),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init("test_engine", LOG_TO_STDERR, getenv("TEST_VERBOSE") != NULL);
	if (cn_auth_crypto_init() < 0)
		return 1;
	engine_set_clock(fake_now, fake_wall);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
