/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's session table (nfq/table.c), its snapshot swap (nfq/rcu.c) and its
 * configuration (nfq/config.c, through lib/jconf with the embedded schema).
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "nfqconf.h"
#include "rcu.h"
#include "table.h"

static void mk(struct cn_session *s, int family, uint32_t n, uint16_t port, cn_id_t id)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	if (family == AF_INET) {
		uint32_t c = htonl(0xc6120000u | (n & 0xffff)); /* 198.18.x.y */
		memcpy(s->client, &c, 4);
		s->service[0] = 198, s->service[1] = 19, s->service[3] = 10;
	} else {
		s->client[0] = 0x20, s->client[1] = 0x01, s->client[2] = 0x0d, s->client[3] = 0xb8;
		memcpy(s->client + 12, &n, 4);
		memcpy(s->service, s->client, 12);
		s->service[15] = 1;
	}
	s->port = port;
	s->id = id;
}

static const struct tbl_entry *find(const struct sess_table *t, const struct cn_session *s)
{
	struct sess_key k;

	sess_key_make(&k, s->family, s->client, s->service, s->port);
	return tbl_lookup(t, &k);
}

static void test_table_many(void **state)
{
	struct sess_list l;
	struct sess_table *t;
	struct cn_session s;
	uint32_t i;

	(void)state;
	sess_list_init(&l);
	for (i = 1; i <= 3000; i++) {
		mk(&s, i % 2 ? AF_INET : AF_INET6, i, (uint16_t)(80 + i % 3), (cn_id_t)i);
		assert_int_equal(sess_list_put(&l, &s, SESS_SRC_AUTHD), 0);
	}
	t = tbl_build(&l, NULL);
	assert_non_null(t);
	assert_int_equal(tbl_count(t), 3000);
	for (i = 1; i <= 3000; i++) {
		const struct tbl_entry *e;

		mk(&s, i % 2 ? AF_INET : AF_INET6, i, (uint16_t)(80 + i % 3), 0);
		e = find(t, &s);
		assert_non_null(e);
		assert_int_equal(tbl_entry_id(e), i);
		/* another port, another family: absent */
		s.port = 443;
		assert_null(find(t, &s));
	}
	tbl_free(t);
	sess_list_clear(&l);
}

static void test_table_replace_and_remove(void **state)
{
	struct sess_list l;
	struct sess_table *t;
	struct cn_session s;

	(void)state;
	sess_list_init(&l);
	mk(&s, AF_INET, 5, 80, 0x6141);
	assert_int_equal(sess_list_put(&l, &s, SESS_SRC_CONFIG), 0);
	s.id = 0x4242;
	strcpy(s.vnic, "vnic1");
	assert_int_equal(sess_list_put(&l, &s, SESS_SRC_AUTHD), 0);
	assert_int_equal(l.n, 1); /* same key: replaced */
	t = tbl_build(&l, NULL);
	assert_int_equal(tbl_entry_id(find(t, &s)), 0x4242);
	assert_string_equal(find(t, &s)->vnic, "vnic1");
	tbl_free(t);
	tbl_free(NULL);
	assert_null(tbl_lookup(NULL, NULL));
	sess_list_clear(&l);
}

static bool odd_id(const struct sess_entry *e, const void *arg)
{
	(void)arg;
	return e->id & 1;
}

static void test_list_remove_if(void **state)
{
	struct sess_list l;
	struct cn_session s, back;
	uint32_t i;

	(void)state;
	sess_list_init(&l);
	for (i = 1; i <= 10; i++) {
		mk(&s, AF_INET6, i, 80, (cn_id_t)i);
		assert_int_equal(sess_list_put(&l, &s, SESS_SRC_AUTHD), 0);
	}
	assert_int_equal(sess_list_remove_if(&l, odd_id, NULL), 5);
	assert_int_equal(l.n, 5);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.v[i].id % 2, 0);
	sess_entry_to_session(&l.v[0], &back);
	assert_int_equal(back.family, AF_INET6);
	assert_int_equal(back.port, 80);
	sess_list_clear(&l);
}

static void test_services(void **state)
{
	struct svc_list sl;
	struct sess_table *t;
	uint8_t a4[16] = {198, 19, 0, 10}, a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	(void)state;
	svc_list_init(&sl);
	t = tbl_build(NULL, &sl);
	assert_false(tbl_has_services(t));
	tbl_free(t);
	assert_int_equal(svc_list_add(&sl, AF_INET, a4, 80), 0);
	assert_int_equal(svc_list_add(&sl, AF_INET6, a6, 8080), 0);
	t = tbl_build(NULL, &sl);
	assert_true(tbl_has_services(t));
	assert_true(tbl_has_service(t, AF_INET, a4, 80));
	assert_false(tbl_has_service(t, AF_INET, a4, 81));
	assert_true(tbl_has_service(t, AF_INET6, a6, 8080));
	assert_false(tbl_has_service(t, AF_INET6, a4, 8080));
	tbl_free(t);
	svc_list_clear(&sl);
}

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

/* A retired object is kept while a reader that may hold it is online. */
static void test_rcu_grace(void **state)
{
	struct rcu r;
	uint64_t e;

	(void)state;
	freed = 0;
	rcu_init(&r, 2);
	rcu_online(&r, 0);                     /* reader 0 may hold the first object */
	rcu_retire(&r, malloc(8), count_free);
	assert_int_equal(rcu_reclaim(&r), 1);  /* kept: reader 0 is inside */
	rcu_offline(&r, 0);
	assert_int_equal(rcu_reclaim(&r), 0);  /* freed (ASan would report a leak otherwise) */
	assert_int_equal(freed, 1);

	rcu_online(&r, 1);
	e = rcu_bump(&r);
	assert_false(rcu_past(&r, e));
	rcu_retire(&r, malloc(8), count_free);
	assert_int_equal(r.nretired, 1);
	rcu_online(&r, 1);                     /* a new read section started after: past */
	assert_true(rcu_past(&r, e));
	assert_int_equal(rcu_reclaim(&r), 0);
	rcu_offline(&r, 1);
	rcu_retire(&r, malloc(8), count_free); /* nobody online: freed at once */
	assert_int_equal(r.nretired, 0);
	assert_int_equal(freed, 3);
	rcu_destroy(&r);
}

/* ---- configuration ---- */

static int load(struct nfq_config *c, const char *text, char *msg, size_t len)
{
	struct jconf_error err;
	struct jconf_schema *s;
	int r;

	memset(&err, 0, sizeof(err));
	s = nfq_config_schema(&err);
	assert_non_null(s);
	r = nfq_config_load_buffer(c, "t.json", text, strlen(text), s, &err);
	if (r < 0)
		jconf_error_str(&err, msg, len);
	jconf_schema_free(s);
	return r;
}

static void test_config_defaults(void **state)
{
	struct nfq_config c;
	char msg[600];

	(void)state;
	assert_int_equal(load(&c, "{\"role\": \"supervisor\"}", msg, sizeof(msg)), 0);
	assert_int_equal(c.role, NFQ_ROLE_SUPERVISOR);
	assert_int_equal(c.mode, MODE_QUEUE);
	assert_false(c.fail_open); /* fail closed unless asked */
	assert_int_equal(c.queue_count, 1);
	assert_int_equal(c.nhooks, 1);
	assert_int_equal(c.hooks[0], NF_INET_FORWARD);
	assert_true(c.rule_install);
	assert_int_equal(c.miss_hold_max, MISS_HOLD_MAX); /* half of the default queue or less */
	assert_true(c.miss_hold_max <= c.queue_maxlen / 2);
	nfq_config_clear(&c);
	/* a shorter queue: at most half of it held by default */
	assert_int_equal(load(&c, "{\"role\": \"supervisor\", \"queue\": {\"maxlen\": 300}}",
			      msg, sizeof(msg)), 0);
	assert_int_equal(c.miss_hold_max, 150);
	nfq_config_clear(&c);
	assert_int_equal(load(&c, "{\"role\": \"supervisor\", \"miss_hold_max\": 16,"
			      " \"queue\": {\"maxlen\": 32}}", msg, sizeof(msg)), 0);
	assert_int_equal(c.miss_hold_max, 16);
	nfq_config_clear(&c);

	assert_int_equal(load(&c, "{\"role\": \"provider\", \"mode\": \"kernel\", \"strip\": true,"
			      " \"queue\": {\"num\": 3, \"count\": 2},"
			      " \"services\": [{\"address\": \"2001:db8::1\", \"port\": 80}],"
			      " \"sessions\": [{\"client\": \"198.18.1.2\", \"service\":"
			      " \"198.19.0.10\", \"port\": 80, \"id\": \"aA\"}]}",
			      msg, sizeof(msg)), 0);
	assert_int_equal(c.role, NFQ_ROLE_PROVIDER);
	assert_int_equal(c.mode, MODE_KERNEL);
	assert_true(c.strip);
	assert_int_equal(c.queue_num, 3);
	assert_int_equal(c.nhooks, 2);
	assert_int_equal(c.services.n, 1);
	assert_int_equal(c.sessions.n, 1);
	assert_int_equal(c.sessions.v[0].id, 0x6141);
	nfq_config_clear(&c);
}

static void check_error(const char *text, const char *want)
{
	struct nfq_config c;
	char msg[600];

	if (load(&c, text, msg, sizeof(msg)) == 0)
		fail_msg("accepted: %s", text);
	if (!strstr(msg, want))
		fail_msg("error \"%s\" lacks \"%s\"", msg, want);
}

static void test_config_errors(void **state)
{
	(void)state;
	check_error("{}", "t.json:1:");
	check_error("{\"role\": \"router\"}", "t.json:1:10:");
	check_error("{\"role\": \"provider\",\n \"queue\": {\"count\": 0}}", "t.json:2:");
	check_error("{\"role\": \"provider\", \"bogus\": 1}", "bogus");
	check_error("{\"role\": \"provider\",\n  \"sessions\": [{\"client\": \"198.18.1.2\", "
		    "\"service\": \"2001:db8::1\", \"port\": 80, \"id\": \"aA\"}]}",
		    "not of the same family");
	check_error("{\"role\": \"provider\", \"sessions\": [{\"client\": \"198.18.1.2\", "
		    "\"service\": \"198.19.0.1\", \"port\": 80, \"id\": \"0x0\"}]}", "id");
	check_error("{\"role\": \"provider\", \"sessions\": ["
		    "{\"client\": \"198.18.1.2\", \"service\": \"198.19.0.1\", \"port\": 80, \"id\": \"aA\"},"
		    "{\"client\": \"198.18.1.2\", \"service\": \"198.19.0.1\", \"port\": 80, \"id\": \"bB\"}]}",
		    "duplicate");
	check_error("{\"role\": \"provider\", \"queue_rule\": {\"mark_queue\": 3, \"mark_done\": 2}}",
		    "separate bits");
	check_error("{\"role\": \"provider\", \"control_socket\": \"relative.sock\"}",
		    "absolute path");
	check_error("{\"role\": \"provider\", \"queue\": {\"num\": 65535, \"count\": 2}}",
		    "past 65535");
	check_error("{\"role\": \"provider\",", "t.json:1:");
	check_error("{\"role\": \"supervisor\",\n \"miss_hold_max\": 3000}",
		    "t.json:2:19: \"miss_hold_max\" 3000 is more than half of \"queue.maxlen\" (4096)");
	check_error("{\"role\": \"supervisor\", \"miss_hold_max\": 0}", "miss_hold_max");
	check_error("{\"role\": \"supervisor\", \"miss_hold_max\": 65537}", "miss_hold_max");
}

/* Every fixed array of the configuration checks its own bound with the schema off (NULL):
 * the queue rule's hooks[NFQ_HOOK_MAX], rule_table[33], control_socket[108]. */
static void check_bound(const char *text, const char *want)
{
	struct nfq_config c;
	struct jconf_error err;
	char msg[1024];

	memset(&err, 0, sizeof(err));
	assert_int_equal(nfq_config_load_buffer(&c, "t.json", text, strlen(text), NULL, &err), -1);
	jconf_error_str(&err, msg, sizeof(msg));
	if (strncmp(msg, "t.json:1:", 9) != 0 || err.column < 1 || !strstr(msg, want))
		fail_msg("error \"%s\" lacks t.json:1:COLUMN or \"%s\"", msg, want);
}

static void test_config_own_bounds(void **state)
{
	char doc[1024], name[200];

	(void)state;
	check_bound("{\"role\": \"provider\", \"queue_rule\": {\"hooks\": [\"prerouting\", \"input\", "
		    "\"forward\", \"output\", \"postrouting\"]}}", "1 to 3 hook names");
	memset(name, 'x', 40);
	name[40] = '\0';
	snprintf(doc, sizeof(doc), "{\"role\": \"provider\", \"queue_rule\": {\"table\": \"%s\"}}",
		 name);
	check_bound(doc, "\"table\" must be a name of 1 to 32 characters");
	name[0] = '/';
	memset(name + 1, 's', 150);
	name[151] = '\0';
	snprintf(doc, sizeof(doc), "{\"role\": \"provider\", \"control_socket\": \"%s\"}", name);
	check_bound(doc, "at most 107 characters");
	check_bound("{\"role\": \"supervisor\", \"miss_hold_max\": 70000}", "miss_hold_max");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_table_replace_and_remove),
		cmocka_unit_test(test_list_remove_if),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_rcu_grace),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_own_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
