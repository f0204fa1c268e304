/* SPDX-License-Identifier: MIT */
/*
 * The privileged parent against a hostile engine (authd/parent_msg.c, issue 11 s.2): this
 * test is the engine, on a real socketpair, and sends every kind of malformed, oversized,
 * unexpected and out-of-policy message. The parent must refuse each one, count it, stay up,
 * tell the engine its counts (parent-stats, shown by `coopnetctl stats`), and leave the data
 * plane (a fake coopnet-nfq on a real unix socket, tests/unit/fake_nfq.c) unchanged. A valid
 * request afterwards still reaches the data plane: the refusals are not a parent that ignores
 * everything.
 */
#include <arpa/inet.h>
#include <fcntl.h>
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

#include "clock.h"
#include "ctl.h"
#include "fake_nfq.h"
#include "id.h"
#include "nfqlink.h"
#include "parent_msg.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define VNIC_ADDR "198.19.0.10"

static const char *const POLICY =
	"{ \"provider\": {"
	"    \"vnics\": [ { \"name\": \"vnic1\", \"address\": \"" VNIC_ADDR "\","
	"                   \"data_folder\": \"/srv/vnic1\","
	"                   \"services\": [ { \"name\": \"http\", \"port\": 80 } ] },"
	"                 { \"name\": \"vnic2\", \"address\": \"198.19.0.11\","
	"                   \"data_folder\": \"/srv/vnic2\","
	"                   \"services\": [ { \"name\": \"ssh\", \"port\": 22 } ] } ],"
	"    \"clients\": ["
	"      { \"name\": \"lan\", \"address\": \"198.18.1.0/24\", \"services\": [\"http\"],"
	"        \"keys\": { \"http\": \"" K1 "\" } } ] } }";

struct env {
	char dir[64];
	struct fake_nfq nfq;
	struct nfq_link link;
	struct parent_msg pm;
	int engine;          /* the test's end: the fake engine */
	int parent;
	int reloads;
};

static struct env E;

static void on_reload(void *ctx)
{
	((struct env *)ctx)->reloads++;
}

static void on_applied(void *ctx, bool ok, int revoked, const char *error)
{
	(void)ctx, (void)ok, (void)revoked, (void)error;
}

static const struct parent_msg_ops ops = { .reload = on_reload, .applied = on_applied };

static int setup(void **state)
{
	struct jconf_error err;
	struct policy p;
	int sp[2];

	(void)state;
	memset(&E, 0, sizeof(E));
	snprintf(E.dir, sizeof(E.dir), "/tmp/test_parent.XXXXXX");
	assert_non_null(mkdtemp(E.dir));
	snprintf(E.nfq.path, sizeof(E.nfq.path), "%s/nfq.sock", E.dir);
	nfq_start(&E.nfq);
	assert_int_equal(imsg_pair(sp), 0);
	E.engine = sp[0];
	E.parent = sp[1];
	/* the fake engine reads the parent's answers without waiting */
	assert_int_equal(fcntl(E.engine, F_SETFL, O_NONBLOCK), 0);
	nfq_link_init(&E.link, E.nfq.path, false, E.parent);
	nfq_link_try_up(&E.link);
	assert_true(E.link.up);
	parent_msg_init(&E.pm, E.parent, &E.link, NULL, &ops, &E);
	assert_int_equal(policy_load_buffer(&p, "test", POLICY, strlen(POLICY), POLICY_ROLE_PROVIDER,
					    true, &err), 0);
	parent_msg_set_policy(&E.pm, &p);
	/* the nfq-up the link told the engine */
	{
		char buf[256];
		(void)!recv(E.engine, buf, sizeof(buf), MSG_DONTWAIT);
	}
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	parent_msg_free(&E.pm);
	nfq_stop(&E.nfq);
	json_decref(E.nfq.log);
	close(E.engine);
	close(E.parent);
	snprintf(path, sizeof(path), "%s", E.dir);
	rmdir(path);
	return 0;
}

/* A valid session of the policy: lan (198.18.1.0/24) to http on vnic1. */
static struct imsg_session good(const char *client)
{
	struct imsg_session s = { .family = AF_INET, .port = 80, .id = 0x6141,
				  .expires = 1795000000 };

	assert_int_equal(inet_pton(AF_INET, client, s.client), 1);
	assert_int_equal(inet_pton(AF_INET, VNIC_ADDR, s.service), 1);
	strcpy(s.vnic, "vnic1");
	strcpy(s.service_name, "http");
	return s;
}

static size_t data_plane_requests(void)
{
	return nfq_count(&E.nfq, "session-add") + nfq_count(&E.nfq, "session-del") +
	       nfq_count(&E.nfq, "session-sync");
}

/* The parent takes the message the fake engine sent; it must stay up. */
static void parent_takes(void)
{
	char err[256];

	assert_int_equal(parent_msg_input(&E.pm, err, sizeof(err)), 0);
	parent_msg_flush(&E.pm);
}

/* What the parent told the engine since the last look: the last parent-stats' counts (-1:
 * none came) and whether nfq-down came. */
struct heard {
	json_int_t refused_msgs, refused_sessions, slow_replies;
	bool nfq_down;
};

static struct heard engine_heard(void)
{
	struct heard h = { .refused_msgs = -1, .refused_sessions = -1, .slow_replies = -1 };
	char err[256];
	bool closed;
	json_t *m;

	while ((m = ctl_recv_max(E.engine, IMSG_MAX, &closed, err, sizeof(err)))) {
		const char *kind = json_string_value(json_object_get(m, "msg")) ?: "";

		if (!strcmp(kind, "nfq-down"))
			h.nfq_down = true;
		if (!strcmp(kind, "parent-stats")) {
			h.refused_msgs = json_integer_value(json_object_get(m, "refused-messages"));
			h.refused_sessions = json_integer_value(json_object_get(m, "refused-sessions"));
			h.slow_replies = json_integer_value(json_object_get(m, "nfq-slow-replies"));
		}
		json_decref(m);
	}
	return h;
}

static void send_raw(const void *buf, size_t len)
{
	assert_int_equal(send(E.engine, buf, len, 0), (ssize_t)len);
}

static void send_sessions(uint32_t type, const struct imsg_session *s, uint32_t n)
{
	assert_int_equal(imsg_send_bin(E.engine, type, s, n, sizeof(*s)), 0);
}

/* Each refused whole, counted once, the parent up, the data plane untouched. */
static void expect_refused(uint64_t *count)
{
	size_t before = data_plane_requests();

	parent_takes();
	(*count)++;
	assert_int_equal(E.pm.refused_msgs, *count);
	assert_int_equal(engine_heard().refused_msgs, (json_int_t)*count);
	/* the fake coopnet-nfq answers in its own thread: give a forwarded request time */
	usleep(20000);
	assert_int_equal(data_plane_requests(), before);
}

static void test_malformed_messages(void **state)
{
	struct imsg_hdr h;
	struct imsg_session s[2];
	struct imsg_applied a;
	static uint8_t big[IMSG_BIN_MAX + 4096];
	uint64_t refused = 0;
	uint8_t one = 1;

	(void)state;
	/* shorter than a header */
	send_raw(&one, 1);
	expect_refused(&refused);
	/* a type the parent does not take, and one from the parent's own direction */
	h = (struct imsg_hdr){ .type = 99, .n = 0 };
	send_raw(&h, sizeof(h));
	expect_refused(&refused);
	h = (struct imsg_hdr){ .type = 0, .n = 0 };
	send_raw(&h, sizeof(h));
	expect_refused(&refused);
	/* larger than any message: cut by the receive buffer, refused by its real length */
	memset(big, 0, sizeof(big));
	h = (struct imsg_hdr){ .type = IMSG_SESSION_ADD, .n = IMSG_SESSIONS_MAX + 40 };
	memcpy(big, &h, sizeof(h));
	send_raw(big, sizeof(big));
	expect_refused(&refused);
	/* n that does not match the length; n = 0; n above the maximum */
	s[0] = good("198.18.1.2");
	h = (struct imsg_hdr){ .type = IMSG_SESSION_ADD, .n = 2 };
	memcpy(big, &h, sizeof(h));
	memcpy(big + sizeof(h), &s[0], sizeof(s[0]));
	send_raw(big, sizeof(h) + sizeof(s[0]));
	expect_refused(&refused);
	h.n = 0;
	send_raw(&h, sizeof(h));
	expect_refused(&refused);
	/* a session cut short */
	h.n = 1;
	memcpy(big, &h, sizeof(h));
	send_raw(big, sizeof(h) + sizeof(s[0]) - 1);
	expect_refused(&refused);
	/* a message without payload carrying one */
	h = (struct imsg_hdr){ .type = IMSG_RELOAD, .n = 1 };
	memcpy(big, &h, sizeof(h));
	send_raw(big, sizeof(h) + 4);
	expect_refused(&refused);
	assert_int_equal(E.reloads, 0);
	/* policy-applied: ok not 0/1, error without a NUL, negative revoked */
	memset(&a, 0, sizeof(a));
	a.ok = 7;
	assert_int_equal(imsg_send_bin(E.engine, IMSG_POLICY_APPLIED, &a, 1, sizeof(a)), 0);
	expect_refused(&refused);
	a.ok = 0;
	memset(a.error, 'x', sizeof(a.error));
	assert_int_equal(imsg_send_bin(E.engine, IMSG_POLICY_APPLIED, &a, 1, sizeof(a)), 0);
	expect_refused(&refused);
	memset(&a, 0, sizeof(a));
	a.revoked = -1;
	assert_int_equal(imsg_send_bin(E.engine, IMSG_POLICY_APPLIED, &a, 1, sizeof(a)), 0);
	expect_refused(&refused);
	/* sync parts and ends outside a sync */
	s[0] = good("198.18.1.2");
	send_sessions(IMSG_SYNC_PART, s, 1);
	expect_refused(&refused);
	assert_int_equal(imsg_send_bin(E.engine, IMSG_SYNC_END, NULL, 0, 0), 0);
	expect_refused(&refused);
	/* a barrier: token 0, a token above 2^63-1, two tokens */
	{
		struct imsg_barrier b[2] = { { .token = 0 }, { .token = 1 } };

		assert_int_equal(imsg_send_bin(E.engine, IMSG_BARRIER, &b[0], 1, sizeof(b[0])), 0);
		expect_refused(&refused);
		b[0].token = UINT64_MAX;
		assert_int_equal(imsg_send_bin(E.engine, IMSG_BARRIER, &b[0], 1, sizeof(b[0])), 0);
		expect_refused(&refused);
		assert_int_equal(imsg_send_bin(E.engine, IMSG_BARRIER, b, 2, sizeof(b[0])), 0);
		expect_refused(&refused);
	}
	assert_int_equal(E.pm.refused_sessions, 0);
}

/* A barrier after sessions: answered with its token once they are forwarded. */
static void test_barrier(void **state)
{
	struct imsg_session s = good("198.18.1.2");
	struct imsg_barrier b = { .token = 42 };
	char err[256];
	bool closed, seen = false;
	json_t *m;

	(void)state;
	send_sessions(IMSG_SESSION_ADD, &s, 1);
	assert_int_equal(imsg_send_bin(E.engine, IMSG_BARRIER, &b, 1, sizeof(b)), 0);
	parent_takes();
	assert_int_equal(nfq_count(&E.nfq, "session-add"), 1); /* forwarded, answered */
	parent_takes();
	while ((m = ctl_recv_max(E.engine, IMSG_MAX, &closed, err, sizeof(err)))) {
		if (!strcmp(json_string_value(json_object_get(m, "msg")) ?: "", "dp-barrier")) {
			assert_int_equal(json_integer_value(json_object_get(m, "token")), 42);
			seen = true;
		}
		json_decref(m);
	}
	assert_true(seen);
	assert_int_equal(E.pm.refused_msgs, 0);
}

/* Each malformed field of a session refuses its whole message. */
static void test_malformed_sessions(void **state)
{
	struct imsg_session s[2];
	uint64_t refused = 0;

	(void)state;
	for (int k = 0; k < 13; k++) {
		s[0] = good("198.18.1.2");
		s[1] = good("198.18.1.3");
		switch (k) {
		case 0: s[1].family = 7; break;
		case 1: s[1].zero0 = 1; break;
		case 2: s[1].zero1 = 1; break;
		case 3: s[1].client[5] = 1; break;           /* IPv4 with bytes past the 4th */
		case 4: s[1].service[15] = 1; break;
		case 5: s[1].port = 0; break;
		case 6: s[1].id = 0; break;
		case 7: memset(s[1].vnic, 'v', sizeof(s[1].vnic)); break; /* no NUL */
		case 8: s[1].service_name[10] = 'x'; break;  /* junk after the NUL */
		case 9: strcpy(s[1].vnic, "a b\n"); break;   /* not printable */
		case 10: s[1].expires = UINT64_MAX; break;
		case 11: memset(s[1].client, 0, 4); break;  /* unspecified */
		case 12: s[1].service_name[0] = 0; break;
		}
		send_sessions(IMSG_SESSION_ADD, s, 2);
		expect_refused(&refused);
	}
	/* a session-del carrying more than a key */
	s[0] = good("198.18.1.2");
	send_sessions(IMSG_SESSION_DEL, s, 1);
	expect_refused(&refused);
	/* a malformed part aborts the sync: its end is then refused, nothing replaced */
	assert_int_equal(imsg_send_bin(E.engine, IMSG_SYNC_BEGIN, NULL, 0, 0), 0);
	parent_takes();
	s[0].family = 3;
	send_sessions(IMSG_SYNC_PART, s, 1);
	expect_refused(&refused);
	assert_int_equal(imsg_send_bin(E.engine, IMSG_SYNC_END, NULL, 0, 0), 0);
	expect_refused(&refused);
}

/* Well-formed sessions outside the parent's policy: dropped, counted, not forwarded. */
static void test_outside_policy(void **state)
{
	struct imsg_session s;
	struct heard h;
	uint64_t n = 0;

	(void)state;
	for (int k = 0; k < 6; k++) {
		s = good("198.18.1.2");
		switch (k) {
		case 0: s = good("198.18.2.2"); break;        /* client outside every entry */
		case 1: strcpy(s.service_name, "ftp"); break; /* no such service */
		case 2: strcpy(s.vnic, "vnic2"); break;       /* another vNIC */
		case 3: s.port = 8080; break;                 /* not the service's port */
		case 4: inet_pton(AF_INET, "198.19.0.11", s.service); break; /* vnic2's address */
		case 5: strcpy(s.service_name, "ssh"); strcpy(s.vnic, "vnic2"); s.port = 22;
			inet_pton(AF_INET, "198.19.0.11", s.service); break; /* no client may */
		}
		send_sessions(IMSG_SESSION_ADD, &s, 1);
		parent_takes();
		n++;
		assert_int_equal(E.pm.refused_sessions, n);
		h = engine_heard();
		assert_int_equal(h.refused_msgs, 0);
		assert_int_equal(h.refused_sessions, (json_int_t)n);
	}
	/* a del of a session the parent never let the engine add: nothing to remove */
	s = good("198.18.1.9");
	s.id = 0, s.expires = 0;
	memset(s.vnic, 0, sizeof(s.vnic));
	memset(s.service_name, 0, sizeof(s.service_name));
	send_sessions(IMSG_SESSION_DEL, &s, 1);
	parent_takes();
	usleep(20000);
	assert_int_equal(data_plane_requests(), 0);
	assert_int_equal(E.pm.refused_msgs, 0);
}

/* After all that, valid requests still reach the data plane, checked field by field. */
static void test_valid_after_refusals(void **state)
{
	struct imsg_session s[3], key;
	struct imsg_hdr h = { .type = 42 };
	json_t *r;

	(void)state;
	send_raw(&h, sizeof(h));
	parent_takes();
	s[0] = good("198.18.1.2");
	s[1] = good("198.18.7.7");              /* outside: dropped, the others go */
	s[2] = good("198.18.1.3");
	send_sessions(IMSG_SESSION_ADD, s, 3);
	parent_takes();
	for (int i = 0; i < 100 && nfq_count(&E.nfq, "session-add") < 1; i++)
		usleep(10000);
	r = nfq_last(&E.nfq, "session-add");
	assert_non_null(r);
	/* as packed records, like the sync below: no object per session to build or parse */
	assert_true(json_is_string(json_object_get(r, "packed")));
	assert_null(json_object_get(r, "packed-error"));
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 1), "client")), "198.18.1.3");
	json_decref(r);
	assert_int_equal(E.pm.refused_sessions, 1);
	assert_int_equal(E.pm.refused_msgs, 1);
	/* a del of one it added goes through */
	key = s[0];
	key.id = 0, key.expires = 0;
	memset(key.vnic, 0, sizeof(key.vnic));
	memset(key.service_name, 0, sizeof(key.service_name));
	send_sessions(IMSG_SESSION_DEL, &key, 1);
	parent_takes();
	for (int i = 0; i < 100 && nfq_count(&E.nfq, "session-del") < 1; i++)
		usleep(10000);
	assert_int_equal(nfq_count(&E.nfq, "session-del"), 1);
	/* a sync: begin, part, end -> one session-sync of the policy's sessions */
	assert_int_equal(imsg_send_bin(E.engine, IMSG_SYNC_BEGIN, NULL, 0, 0), 0);
	parent_takes();
	send_sessions(IMSG_SYNC_PART, s, 3);
	parent_takes();
	assert_int_equal(imsg_send_bin(E.engine, IMSG_SYNC_END, NULL, 0, 0), 0);
	parent_takes();
	for (int i = 0; i < 100 && nfq_count(&E.nfq, "session-sync") < 1; i++)
		usleep(10000);
	r = nfq_last(&E.nfq, "session-sync");
	assert_non_null(r);
	/* as packed records (lib/ctl.h), which the fake decodes into "sessions" */
	assert_true(json_is_string(json_object_get(r, "packed")));
	assert_null(json_object_get(r, "packed-error"));
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 2);
	json_decref(r);
	/* reload: no payload, reaches the parent's handler */
	assert_int_equal(imsg_send_bin(E.engine, IMSG_RELOAD, NULL, 0, 0), 0);
	parent_takes();
	assert_int_equal(E.reloads, 1);
}

/* The engine gone: the only case in which the parent stops. */
static void test_engine_gone(void **state)
{
	char err[256];

	(void)state;
	close(E.engine);
	E.engine = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(parent_msg_input(&E.pm, err, sizeof(err)), -1);
}

/* The messages the engine's socket holds are handled before their requests go out, as one
 * session-batch (coopnet-nfq applies it in one nft batch); a barrier behind them is answered
 * after that batch; one request alone goes as it is. */
static void test_requests_batched(void **state)
{
	struct imsg_session a = good("198.18.1.2"), b = good("198.18.1.3");
	struct imsg_barrier bar = { .token = 7 };
	char err[256], buf[512];
	cn_id_t id;
	json_t *r;
	ssize_t n;

	(void)state;
	send_sessions(IMSG_SESSION_ADD, &a, 1);
	send_sessions(IMSG_SESSION_ACCEPT, &a, 1);
	send_sessions(IMSG_SESSION_ADD, &b, 1);
	assert_int_equal(imsg_send_bin(E.engine, IMSG_BARRIER, &bar, 1, sizeof(bar)), 0);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	/* the call is synchronous: the fake coopnet-nfq has logged it before it answered */
	assert_int_equal(E.nfq.batches, 1);
	assert_int_equal(nfq_count(&E.nfq, "session-add"), 2);
	assert_int_equal(nfq_count(&E.nfq, "session-accept"), 1);
	r = nfq_last(&E.nfq, "session-add");
	assert_true(json_is_string(json_object_get(r, "packed")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 0), "client")), "198.18.1.3");
	json_decref(r);
	/* a renewal ahead is packed too, and carries the ID */
	r = nfq_last(&E.nfq, "session-accept");
	assert_true(json_is_string(json_object_get(r, "packed")));
	assert_null(json_object_get(r, "packed-error"));
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 1);
	assert_int_equal(cn_id_parse(&id, json_string_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 0), "id"))), CN_ID_PARSE_OK);
	assert_int_equal(id, a.id);
	json_decref(r);
	n = recv(E.engine, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "dp-barrier"));
	/* one alone: no batch */
	a.id = 0, a.expires = 0;
	memset(a.vnic, 0, sizeof(a.vnic));
	memset(a.service_name, 0, sizeof(a.service_name));
	send_sessions(IMSG_SESSION_DEL, &a, 1);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_int_equal(E.nfq.batches, 1);
	assert_int_equal(nfq_count(&E.nfq, "session-del"), 1);
}

/* A batch holds at most 256 sessions (one control message): five messages of 100 go as two
 * batches of two and the fifth alone. */
static void test_batch_bounded(void **state)
{
	struct imsg_session s[100];
	char err[256], client[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(client, sizeof(client), "198.18.1.%d", i + 1);
		s[i] = good(client);
	}
	for (int m = 0; m < 5; m++)
		send_sessions(IMSG_SESSION_ADD, s, 100);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_int_equal(E.nfq.batches, 2);
	assert_int_equal(nfq_count(&E.nfq, "session-add"), 5);
	assert_int_equal(E.pm.refused_sessions, 0);
}

/* A coopnet-nfq that refuses session-batch (an older one): the batch's requests go again one
 * by one, and arrive. */
static void test_batch_refused(void **state)
{
	struct imsg_session a = good("198.18.1.2"), b = good("198.18.1.3");
	char err[256];

	(void)state;
	E.nfq.refuse = "session-batch";
	send_sessions(IMSG_SESSION_ADD, &a, 1);
	send_sessions(IMSG_SESSION_ADD, &b, 1);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_int_equal(E.nfq.batches, 1);
	assert_int_equal(nfq_count(&E.nfq, "session-add"), 2);
	assert_true(E.link.up);
	E.nfq.refuse = NULL;
}

/* A worker busy for longer than a second (a large change on a loaded machine) answers late:
 * the parent waits for that reply, counts it, keeps the link up and sends nothing again; the
 * next request goes on the same connection and gets its own reply. Before, the late reply
 * took the link down and the engine's answer to it was a session-sync of every session. */
static void test_slow_reply_waited(void **state)
{
	struct imsg_session a = good("198.18.1.2"), b = good("198.18.1.3");
	char err[256];
	struct heard h;

	(void)state;
	E.nfq.slow = "session-add";
	E.nfq.slow_ms = 1300;
	send_sessions(IMSG_SESSION_ADD, &a, 1);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_true(E.link.up);
	assert_int_equal(E.link.slow_replies, 1);
	h = engine_heard();
	assert_int_equal(h.slow_replies, 1); /* nfq-slow-replies, for coopnetctl stats */
	assert_false(h.nfq_down);
	E.nfq.slow = NULL;
	send_sessions(IMSG_SESSION_ADD, &b, 1);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_true(E.link.up);
	assert_int_equal(nfq_count(&E.nfq, "session-add"), 2);
	h = engine_heard();
	assert_int_equal(h.slow_replies, -1); /* no new slow reply: no new stats */
	assert_false(h.nfq_down);
}

/* A worker that does not answer within the limit (one that hangs): the link goes down and the
 * engine is told (its answer is a session-sync once the worker is back). */
static void test_no_reply_within_limit(void **state)
{
	struct imsg_session a = good("198.18.1.2");
	char err[256];

	(void)state;
	E.link.reply_limit_ms = 1200;
	E.nfq.slow = "session-add";
	E.nfq.slow_ms = 1700;
	send_sessions(IMSG_SESSION_ADD, &a, 1);
	assert_int_equal(parent_msg_drain(&E.pm, err, sizeof(err)), 0);
	assert_false(E.link.up);
	assert_int_equal(E.link.call_fd, -1);
	assert_true(engine_heard().nfq_down);
	E.nfq.slow = NULL;
}

/* The retry schedule while the link is down: every 100 ms for 5 s from the moment it went
 * down (a restarted worker is found a tenth of a second after it listens), then every second;
 * a failed try while down does not restart the fast period, a new loss does. */
static void test_retry_schedule(void **state)
{
	uint64_t before = cn_mono_ms(), at;

	(void)state;
	nfq_link_down(&E.link, "test");
	assert_false(E.link.up);
	assert_true(engine_heard().nfq_down);
	at = E.link.down_at_ms;
	assert_true(at >= before && at <= cn_mono_ms());
	assert_int_equal(nfq_link_retry_ms(&E.link, at), NFQ_RETRY_FAST_MS);
	assert_int_equal(nfq_link_retry_ms(&E.link, at + NFQ_RETRY_FAST_FOR_MS - 1), NFQ_RETRY_FAST_MS);
	assert_int_equal(nfq_link_retry_ms(&E.link, at + NFQ_RETRY_FAST_FOR_MS), NFQ_RETRY_MS);
	assert_int_equal(nfq_link_retry_ms(&E.link, at + 3600000), NFQ_RETRY_MS);
	/* down again while down (a try or a call that failed): the period still counts from the loss */
	E.link.down_at_ms = 7;
	nfq_link_down(&E.link, "test");
	assert_int_equal(E.link.down_at_ms, 7);
	/* back up, then lost again: a new fast period */
	nfq_link_try_up(&E.link);
	assert_true(E.link.up);
	before = cn_mono_ms();
	nfq_link_down(&E.link, "test");
	assert_true(E.link.down_at_ms >= before);
	assert_int_equal(nfq_link_retry_ms(&E.link, cn_mono_ms()), NFQ_RETRY_FAST_MS);
	/* a worker going away (killed, its exit under way): the try's connection closes
	 * unanswered after 150 ms; the next try still comes after 100 ms */
	E.nfq.slow = "status";
	E.nfq.slow_ms = 150;
	E.nfq.hang_up = true;
	nfq_link_try_up(&E.link);
	assert_false(E.link.up);
	assert_int_equal(nfq_link_retry_ms(&E.link, cn_mono_ms()), NFQ_RETRY_FAST_MS);
	E.nfq.hang_up = false;
	/* a worker that does not answer (hung): the try waits NFQ_TIMEOUT_MS, the next comes a
	 * second later, not after 100 ms */
	E.nfq.slow = "status";
	E.nfq.slow_ms = NFQ_TIMEOUT_MS + 200;
	nfq_link_try_up(&E.link);
	assert_false(E.link.up);
	assert_int_equal(nfq_link_retry_ms(&E.link, cn_mono_ms()), NFQ_RETRY_MS);
	/* answering at once again: up; lost again: fast tries, whatever the last try took */
	E.nfq.slow = NULL;
	nfq_link_try_up(&E.link);
	assert_true(E.link.up);
	E.link.last_try_slow = true; /* as after a slow but successful try */
	nfq_link_down(&E.link, "test");
	assert_int_equal(nfq_link_retry_ms(&E.link, cn_mono_ms()), NFQ_RETRY_FAST_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_barrier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_after_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reply_waited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reply_within_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_schedule, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
