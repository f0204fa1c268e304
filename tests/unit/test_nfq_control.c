/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's control commands (nfq/control.c) through lib's control-socket server, on real
 * SOCK_SEQPACKET socketpairs, with the daemon's real publish and reload (nfq/publish.c) and
 * live session table (nfq/sesstab.c): a command's effect is checked in the table the queue
 * threads read (tbl_lookup), not only in the reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "nfqd.h"

#define CONF_STATIC \
	"{\"role\": \"supervisor\", \"mode\": \"queue\", \"control_socket\": \"/nonexistent\"," \
	" \"services\": [{\"address\": \"198.19.0.10\", \"port\": 80}]," \
	" \"sessions\": [{\"client\": \"198.18.9.9\", \"service\": \"198.19.0.10\", \"port\": 80," \
	" \"id\": \"0x0909\"}]%s}"

static struct nfqd D;
static char conf_path[] = "/tmp/coopnet-test-nfqctl-XXXXXX";

static void write_conf(const char *extra)
{
	FILE *f = fopen(conf_path, "w");

	assert_non_null(f);
	fprintf(f, CONF_STATIC, extra);
	fclose(f);
}

static int setup(void **state)
{
	struct jconf_error err;
	int fd = mkstemp(conf_path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	write_conf("");
	memset(&D, 0, sizeof(D));
	memset(&err, 0, sizeof(err));
	D.config_path = conf_path;
	D.schema = nfq_config_schema(&err);
	if (!D.schema || nfq_config_load(&D.cfg, conf_path, D.schema, &err) < 0)
		return -1;
	rcu_init(&D.sh.rcu, 1);
	if (nfqd_table_init(&D) < 0)
		return -1;
	pthread_mutex_init(&D.sh.miss_lock, NULL);
	D.started = time(NULL);
	ctl_server_init(&D.ctl);
	return nfqctl_start(&D, -1);
}

static int teardown(void **state)
{
	(void)state;
	nfqctl_close(&D);
	rcu_destroy(&D.sh.rcu);
	tbl_free(D.sh.tbl);
	nfq_config_clear(&D.cfg);
	jconf_schema_free(D.schema);
	pthread_mutex_destroy(&D.sh.miss_lock);
	unlink(conf_path);
	strcpy(conf_path, "/tmp/coopnet-test-nfqctl-XXXXXX");
	return 0;
}

/* A connection the server adopted: the test's end, and the slot. */
struct peer {
	int fd;
	size_t slot;
};

static struct peer connect_peer(void)
{
	struct peer p;
	int sp[2], slot;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
				    sp), 0);
	slot = ctl_server_adopt(&D.ctl, sp[0]);
	assert_true(slot >= 0);
	p.fd = sp[1];
	p.slot = (size_t)slot;
	return p;
}

static json_t *call(struct peer p, json_t *req)
{
	char err[256];
	bool closed;
	json_t *r;

	assert_int_equal(ctl_send(p.fd, req), 0);
	json_decref(req);
	ctl_server_input(&D.ctl, p.slot);
	r = ctl_recv(p.fd, &closed, err, sizeof(err));
	if (!r)
		fail_msg("no reply: %s", err);
	return r;
}

static json_t *expect_ok(json_t *r)
{
	if (!json_is_true(json_object_get(r, "ok")))
		fail_msg("refused: %s", json_string_value(json_object_get(r, "error")));
	return r;
}

static void expect_error(json_t *r, const char *part)
{
	const char *e = json_string_value(json_object_get(r, "error"));

	assert_true(json_is_false(json_object_get(r, "ok")));
	if (!e || !strstr(e, part))
		fail_msg("error \"%s\" lacks \"%s\"", e ? e : "(none)", part);
	json_decref(r);
}

static json_t *session(unsigned i, unsigned id)
{
	char client[32], idtext[16];

	snprintf(client, sizeof(client), "198.18.%u.%u", i / 250, i % 250 + 1);
	snprintf(idtext, sizeof(idtext), "0x%04x", id);
	return json_pack("{s:s, s:s, s:i, s:s}", "client", client, "service", "198.19.0.10",
			 "port", 80, "id", idtext);
}

/* The ID the queue threads see for client, or 0. */
static cn_id_t published_id(const char *client)
{
	uint8_t c[16] = {0}, s[16] = {0};
	struct sess_key k;
	const struct tbl_entry *e;

	assert_int_equal(inet_pton(AF_INET, client, c), 1);
	assert_int_equal(inet_pton(AF_INET, "198.19.0.10", s), 1);
	sess_key_make(&k, AF_INET, c, s, 80);
	e = tbl_lookup(D.sh.tbl, &k);
	return e ? tbl_entry_id(e) : 0;
}

/* The authd sessions in the table (a walk with its cursor). */
static size_t authd_count(void)
{
	const struct tbl_entry *e;
	size_t pos = 0, n = 0;

	while ((e = tbl_next(D.sh.tbl, &pos)))
		n += e->source == SESS_SRC_AUTHD;
	return n;
}

static json_t *add_req(unsigned from, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = from; i < from + n; i++)
		json_array_append_new(a, session(i, 0x100 + i));
	return json_pack("{s:s, s:o}", "cmd", "session-add", "sessions", a);
}

static void test_status_and_stats(void **state)
{
	struct peer p = connect_peer();
	json_t *r;

	(void)state;
	r = expect_ok(call(p, json_pack("{s:s}", "cmd", "status")));
	assert_string_equal(json_string_value(json_object_get(r, "role")), "supervisor");
	assert_string_equal(json_string_value(json_object_get(r, "mode")), "queue");
	assert_int_equal(json_integer_value(json_object_get(r, "sessions")), 1);
	json_decref(r);
	r = expect_ok(call(p, json_pack("{s:s}", "cmd", "stats")));
	assert_true(json_object_size(json_object_get(r, "stats")) > 0);
	assert_true(json_is_integer(json_object_get(json_object_get(r, "stats"),
						     nfq_reason_name(0))));
	json_decref(r);
	expect_error(call(p, json_pack("{s:s}", "cmd", "session-list")),
		     "unknown command \"session-list\"");
	close(p.fd);
}

/* Kernel mode's counter refresh (a dump of the sets, O(n^2) in their size): at most once a
 * second, and never more than 1/NFQD_KSTATS_SPACING of the time however long a dump takes. */
static void test_kstats_spacing(void **state)
{
	(void)state;
	assert_int_equal(nfqd_kstats_next(5000, 0), 6000);
	assert_int_equal(nfqd_kstats_next(5000, 2), 6000);     /* 1,000 sessions: once a second */
	assert_int_equal(nfqd_kstats_next(5000, 49), 6000);
	assert_int_equal(nfqd_kstats_next(5000, 51), 5000 + 51 * NFQD_KSTATS_SPACING);
	assert_int_equal(nfqd_kstats_next(5000, 1500), 5000 + 1500 * NFQD_KSTATS_SPACING);
	/* a dump of 1.5 s: the next one 30 s later, so at most 5 % of the main thread */
	assert_true((1500.0 / (nfqd_kstats_next(5000, 1500) - 5000)) <= 0.05);
	assert_true(nfqd_kstats_next(UINT64_MAX - 10, 5) == UINT64_MAX);  /* saturates */
	assert_true(nfqd_kstats_next(0, UINT64_MAX / 2) == UINT64_MAX);
}

/* session-add publishes; a bad session refuses the whole message and publishes nothing. */
static void test_session_add(void **state)
{
	struct peer p = connect_peer();
	json_t *r, *req;

	(void)state;
	r = expect_ok(call(p, add_req(0, 2)));
	assert_int_equal(json_integer_value(json_object_get(r, "added")), 2);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.1"), 0x100);
	assert_int_equal(published_id("198.18.0.2"), 0x101);
	assert_int_equal(published_id("198.18.9.9"), 0x0909); /* the config's stays */
	req = add_req(10, 2);
	json_object_set_new(json_array_get(json_object_get(req, "sessions"), 1), "port",
			    json_integer(0));
	expect_error(call(p, req), "session 1: \"port\" must be an integer from 1 to 65535");
	assert_int_equal(published_id("198.18.0.11"), 0);
	assert_int_equal(authd_count(), 2);
	close(p.fd);
}

/* The sessions of add_req(from, n), with IDs from id, as a request with "packed" records. */
static json_t *packed_req(const char *cmd, unsigned from, unsigned n, unsigned id)
{
	struct cn_session v[8];
	char err[256];

	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		json_t *o = session(from + i, id + i);

		assert_int_equal(cn_session_from_json(&v[i], o, err, sizeof(err)), 0);
		json_decref(o);
	}
	return json_pack("{s:s, s:o}", "cmd", cmd, "packed", cn_sessions_pack_json(v, n));
}

/* session-add, -accept and -withdraw take "packed" records (what coopnet-authd's parent
 * sends), alone or in a batch; a bad record refuses the whole message; session-del takes
 * keys only, and a request gives one form. */
static void test_session_add_packed(void **state)
{
	struct peer p = connect_peer();
	char *digits;
	json_t *r, *req;

	(void)state;
	r = expect_ok(call(p, packed_req("session-add", 0, 2, 0x100)));
	assert_int_equal(json_integer_value(json_object_get(r, "added")), 2);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.1"), 0x100);
	assert_int_equal(published_id("198.18.0.2"), 0x101);
	r = expect_ok(call(p, packed_req("session-accept", 0, 1, 0x300)));
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), 1);
	json_decref(r);
	r = expect_ok(call(p, packed_req("session-withdraw", 0, 1, 0x300)));
	assert_int_equal(json_integer_value(json_object_get(r, "withdrawn")), 1);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.1"), 0x100);
	r = expect_ok(call(p, json_pack("{s:s, s:[o, o]}", "cmd", "session-batch", "requests",
					packed_req("session-add", 2, 1, 0x102),
					packed_req("session-accept", 2, 1, 0x202))));
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 2);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.3"), 0x102);

	/* a record with port 0 (bytes 2-3, digits 4-7) in the second session: nothing added */
	req = packed_req("session-add", 10, 2, 0x110);
	digits = strdup(json_string_value(json_object_get(req, "packed")));
	assert_non_null(digits);
	memcpy(digits + 2 * CN_SESSION_PACKED + 4, "0000", 4);
	json_object_set_new(req, "packed", json_string(digits));
	free(digits);
	expect_error(call(p, req), "session 1: ");
	assert_int_equal(published_id("198.18.0.11"), 0);
	req = packed_req("session-add", 10, 1, 0x110);
	json_object_set_new(req, "packed", json_string("00"));
	expect_error(call(p, req), "\"packed\" must be a string of 128 hexadecimal digits");
	req = packed_req("session-add", 10, 1, 0x110);
	json_object_set_new(req, "sessions", json_array());
	expect_error(call(p, req), "give \"sessions\" or \"packed\", not both");
	expect_error(call(p, packed_req("session-del", 0, 1, 0x100)),
		     "\"packed\" is for whole sessions");
	expect_error(call(p, json_pack("{s:s, s:[o]}", "cmd", "session-batch", "requests",
				       packed_req("session-del", 0, 1, 0x100))),
		     "request 0: \"packed\" is for whole sessions");
	assert_int_equal(published_id("198.18.0.1"), 0x100);
	assert_int_equal(published_id("198.18.0.11"), 0);
	assert_int_equal(authd_count(), 3);
	close(p.fd);
}

/* session-del by keys, by ID and by client; config sessions are not the authd's to remove. */
static void test_session_del(void **state)
{
	struct peer p = connect_peer();
	json_t *r;

	(void)state;
	json_decref(expect_ok(call(p, add_req(0, 4))));
	r = expect_ok(call(p, json_pack("{s:s, s:s}", "cmd", "session-del", "id", "0x0100")));
	assert_int_equal(json_integer_value(json_object_get(r, "removed")), 1);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.1"), 0);
	r = expect_ok(call(p, json_pack("{s:s, s:s}", "cmd", "session-del", "client",
					"198.18.0.2")));
	assert_int_equal(json_integer_value(json_object_get(r, "removed")), 1);
	json_decref(r);
	r = expect_ok(call(p, json_pack("{s:s, s:[{s:s, s:s, s:i}]}", "cmd", "session-del",
					"sessions", "client", "198.18.0.3", "service",
					"198.19.0.10", "port", 80)));
	assert_int_equal(json_integer_value(json_object_get(r, "removed")), 1);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.3"), 0);
	assert_int_equal(published_id("198.18.0.4"), 0x103);
	r = expect_ok(call(p, json_pack("{s:s, s:s}", "cmd", "session-del", "id", "0x0909")));
	assert_int_equal(json_integer_value(json_object_get(r, "removed")), 0);
	json_decref(r);
	assert_int_equal(published_id("198.18.9.9"), 0x0909);
	expect_error(call(p, json_pack("{s:s}", "cmd", "session-del")), "needs \"sessions\"");
	expect_error(call(p, json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}", "cmd", "session-del",
				       "sessions", "client", "198.18.0.4", "service", "198.19.0.10",
				       "port", 80, "id", "0x0103")),
		     "session 0: give only client, service and port");
	expect_error(call(p, json_pack("{s:s, s:s}", "cmd", "session-del", "sessions", "x")),
		     "must be an array of {client, service, port}");
	expect_error(call(p, json_pack("{s:s, s:i}", "cmd", "session-add", "sessions", 1)),
		     "must be an array of session objects");
	assert_int_equal(published_id("198.18.0.4"), 0x103);
	expect_error(call(p, json_pack("{s:s, s:s}", "cmd", "session-del", "client", "x")),
		     "\"x\" is not an IP address");
	close(p.fd);
}

/* session-batch: its requests in order, with one publish; one bad request refuses the whole
 * batch (nothing of it applied). */
static void test_session_batch(void **state)
{
	struct peer p = connect_peer();
	json_t *r, *reqs;

	(void)state;
	reqs = json_pack("[o, {s:s, s:[o]}, {s:s, s:[{s:s, s:s, s:i}]}]", add_req(0, 2),
			 "cmd", "session-accept", "sessions", session(0, 0x200),
			 "cmd", "session-del", "sessions", "client", "198.18.0.2", "service",
			 "198.19.0.10", "port", 80);
	r = expect_ok(call(p, json_pack("{s:s, s:o}", "cmd", "session-batch", "requests", reqs)));
	assert_int_equal(json_integer_value(json_object_get(r, "applied")), 4);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.1"), 0x100); /* accepted ahead, still 0x100 */
	assert_int_equal(published_id("198.18.0.2"), 0);     /* added, then removed */
	assert_int_equal(authd_count(), 1);

	/* request 1 is bad: request 0's additions are not applied either */
	reqs = json_pack("[o, {s:s, s:s}]", add_req(10, 2), "cmd", "session-del", "id", "0x0100");
	expect_error(call(p, json_pack("{s:s, s:o}", "cmd", "session-batch", "requests", reqs)),
		     "request 1: session-del needs \"sessions\" in a batch");
	assert_int_equal(published_id("198.18.0.11"), 0);
	reqs = json_pack("[o, {s:s}]", add_req(10, 2), "cmd", "session-sync");
	expect_error(call(p, json_pack("{s:s, s:o}", "cmd", "session-batch", "requests", reqs)),
		     "request 1: \"cmd\" must be session-add, session-del, session-accept or "
		     "session-withdraw");
	reqs = add_req(10, 2);
	json_object_set_new(json_array_get(json_object_get(reqs, "sessions"), 1), "port",
			    json_integer(0));
	reqs = json_pack("[o]", reqs);
	expect_error(call(p, json_pack("{s:s, s:o}", "cmd", "session-batch", "requests", reqs)),
		     "request 0: session 1: \"port\" must be an integer");
	assert_int_equal(published_id("198.18.0.11"), 0);
	expect_error(call(p, json_pack("{s:s, s:[]}", "cmd", "session-batch", "requests")),
		     "\"requests\" must be an array of 1 to 256 requests");
	expect_error(call(p, json_pack("{s:s}", "cmd", "session-batch")),
		     "\"requests\" must be an array");
	assert_int_equal(authd_count(), 1);
	close(p.fd);
}

/* A chunked sync, listed page by page: every session once, each page one message. */
static void test_sync_and_paged_listing(void **state)
{
	struct peer p = connect_peer();
	/* clients 198.18.0.1 to 198.18.7.250: none has the config session's key (an authd
	 * session with it would hide that one, and list once: nfq/table.h) */
	unsigned n = 2000, chunk = 250, seen_authd = 0, seen_config = 0;
	json_int_t offset = 0;
	json_t *r;
	int pages = 0;

	(void)state;
	for (unsigned from = 0; from < n; from += chunk) {
		json_t *a = json_array();

		for (unsigned i = from; i < from + chunk; i++)
			json_array_append_new(a, session(i, 0x100 + i));
		r = expect_ok(call(p, json_pack("{s:s, s:o, s:b}", "cmd", "session-sync",
						"sessions", a, "more", from + chunk < n)));
		if (from + chunk < n) {
			assert_int_equal(json_integer_value(json_object_get(r, "staged")),
					 from + chunk);
			assert_int_equal(published_id("198.18.0.1"), 0); /* staged, not applied */
		} else {
			assert_int_equal(json_integer_value(json_object_get(r, "sessions")), n);
		}
		json_decref(r);
	}
	assert_int_equal(published_id("198.18.7.250"), 0x100 + 1999);
	for (;;) {
		json_t *page, *v, *next;
		size_t i;

		r = expect_ok(call(p, offset ? json_pack("{s:s, s:I}", "cmd", "sessions", "offset",
							 offset) :
					   json_pack("{s:s}", "cmd", "sessions")));
		assert_true(ctl_json_size(r) <= CTL_MSG_MAX);
		assert_int_equal(json_integer_value(json_object_get(r, "total")), n + 1);
		page = json_object_get(r, "sessions");
		assert_true(json_array_size(page) > 0);
		json_array_foreach(page, i, v) {
			const char *src = json_string_value(json_object_get(v, "source"));

			if (!strcmp(src, "config"))
				seen_config++;
			else
				seen_authd++;
		}
		pages++;
		next = json_object_get(r, "next");
		if (!next) {
			json_decref(r);
			break;
		}
		assert_int_equal(json_integer_value(next), offset + (json_int_t)json_array_size(page));
		offset = json_integer_value(next);
		json_decref(r);
		assert_true(pages < 100);
	}
	assert_int_equal(seen_config, 1);
	assert_int_equal(seen_authd, n);
	assert_true(pages > 1);
	expect_error(call(p, json_pack("{s:s, s:i}", "cmd", "sessions", "offset", -1)),
		     "\"offset\" must be an integer >= 0");
	close(p.fd);
}

/* A connection gone before the last chunk: the stage is dropped, the table stays. */
static void test_sync_abandoned(void **state)
{
	struct peer p = connect_peer(), q;
	json_t *r;

	(void)state;
	json_decref(expect_ok(call(p, add_req(0, 1))));
	r = expect_ok(call(p, json_pack("{s:s, s:[o], s:b}", "cmd", "session-sync", "sessions",
					session(7, 0x777), "more", 1)));
	json_decref(r);
	assert_true(D.conns[p.slot].stage.open);
	close(p.fd);
	ctl_server_input(&D.ctl, p.slot);
	assert_int_equal(D.ctl.conns[p.slot].fd, -1);
	assert_false(D.conns[p.slot].stage.open);
	assert_int_equal(published_id("198.18.0.1"), 0x100);
	assert_int_equal(published_id("198.18.0.8"), 0);
	/* the slot, used again, starts with no stage */
	q = connect_peer();
	assert_int_equal(q.slot, p.slot);
	r = expect_ok(call(q, json_pack("{s:s, s:[o]}", "cmd", "session-sync", "sessions",
					session(7, 0x777))));
	assert_int_equal(json_integer_value(json_object_get(r, "sessions")), 1);
	json_decref(r);
	assert_int_equal(published_id("198.18.0.8"), 0x777);
	assert_int_equal(published_id("198.18.0.1"), 0); /* replaced by the sync */
	close(q.fd);
}

/* session-miss events go to subscribed connections only. */
static void test_subscribe_misses(void **state)
{
	struct peer sub = connect_peer(), other = connect_peer();
	uint8_t c[16] = {0}, s[16] = {0};
	char err[256];
	bool closed;
	json_t *ev;

	(void)state;
	json_decref(expect_ok(call(sub, json_pack("{s:s}", "cmd", "subscribe"))));
	inet_pton(AF_INET, "198.18.5.5", c);
	inet_pton(AF_INET, "198.19.0.10", s);
	sess_key_make(&D.sh.miss[0], AF_INET, c, s, 80);
	D.sh.miss_head = 0;
	D.sh.miss_len = 1;
	nfqctl_broadcast_misses(&D);
	ev = ctl_recv(sub.fd, &closed, err, sizeof(err));
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "session-miss");
	assert_string_equal(json_string_value(json_object_get(ev, "client")), "198.18.5.5");
	assert_int_equal(json_integer_value(json_object_get(ev, "port")), 80);
	json_decref(ev);
	assert_null(ctl_recv(other.fd, &closed, err, sizeof(err)));
	assert_false(closed);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(sub.fd);
	close(other.fd);
}

/* reload re-reads the file: static sessions apply live, a role change is refused. */
static void test_reload(void **state)
{
	struct peer p = connect_peer();

	(void)state;
	write_conf(", \"log\": {\"verbose\": false}");
	json_decref(expect_ok(call(p, json_pack("{s:s}", "cmd", "reload"))));
	{
		FILE *f = fopen(conf_path, "w");

		assert_non_null(f);
		fputs("{\"role\": \"supervisor\", \"mode\": \"queue\", \"control_socket\": "
		      "\"/nonexistent\", \"services\": [{\"address\": \"198.19.0.10\", \"port\": "
		      "80}], \"sessions\": [{\"client\": \"198.18.8.8\", \"service\": "
		      "\"198.19.0.10\", \"port\": 80, \"id\": \"0x0808\"}]}", f);
		fclose(f);
	}
	json_decref(expect_ok(call(p, json_pack("{s:s}", "cmd", "reload"))));
	assert_int_equal(published_id("198.18.8.8"), 0x0808);
	assert_int_equal(published_id("198.18.9.9"), 0);
	{
		FILE *f = fopen(conf_path, "w");

		assert_non_null(f);
		fputs("{\"role\": \"provider\", \"control_socket\": \"/nonexistent\"}", f);
		fclose(f);
	}
	expect_error(call(p, json_pack("{s:s}", "cmd", "reload")),
		     "changing \"role\" needs a restart");
	assert_int_equal(published_id("198.18.8.8"), 0x0808);
	close(p.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_add_packed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_and_paged_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_abandoned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test(test_kstats_spacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
