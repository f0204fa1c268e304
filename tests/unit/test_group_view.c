/* SPDX-License-Identifier: MIT */
/*
 * `coopnetctl group`: the JSON the engine renders (authd/group_json.c: a header's members with
 * the group application's view and its decisions; an SS's group services, their members'
 * state from the sessions' reports, and the SP of each session) and coopnetctl's side
 * (ctl/group_view.c: its arguments, bad ones refused with the value quoted; its tables, from
 * good and from malformed replies). The shape is the one docs/coopnetctl.md documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "ctl/group_view.h"
#include "group_json.h"

static char svcs[2][CN_COOP_SERVICE_LEN] = { "web", "db" };

static void addr(struct cn_coop_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = CN_FAM_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, a->addr), 1);
	a->family = CN_FAM_INET6;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	assert_non_null(s);
	return s;
}

static json_int_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* A header with sp1 (up, web down, 7 decisions) and an unnamed SP never heard of. */
static void test_header(void **state)
{
	struct pol_sp sps[2] = { { .weight = 50, .services = svcs, .n_services = 2,
				   .name = "sp1", .has_public_key = true },
				 { .weight = 30, .services = svcs, .n_services = 1 } };
	struct policy pol = { .header = true, .group = sps, .n_group = 2,
			      .balance = CN_BALANCE_LEAST_LOAD, .group_miss_limit = 3 };
	struct member_view view[2] = { { .state = MEMBER_UP, .load = 12, .seen_ms = 9800,
					 .services_down = 1 } };
	struct group_member_state st[2] = { { .interval_ms = 500, .changed_ms = 4000 } };
	struct group_rx rx = { .n = 2, .view = view, .st = st };
	uint64_t decisions[2] = { 7, 3 };
	json_t *h, *m;

	(void)state;
	addr(&sps[0].addr, "198.18.2.3");
	addr(&sps[1].addr, "2001:db8:2::4");
	h = group_json_header(&pol, &rx, decisions, 10000);
	assert_non_null(h);
	assert_string_equal(jstr(h, "balance"), "least-load");
	assert_true(json_is_true(json_object_get(h, "membership")));
	assert_int_equal(jint(h, "miss_limit"), 3);
	assert_int_equal(json_array_size(json_object_get(h, "members")), 2);
	m = json_array_get(json_object_get(h, "members"), 0);
	assert_string_equal(jstr(m, "name"), "sp1");
	assert_string_equal(jstr(m, "address"), "198.18.2.3");
	assert_string_equal(jstr(m, "state"), "up");
	assert_int_equal(jint(m, "since_ms"), 6000);
	assert_int_equal(jint(m, "heard_ms"), 200);
	assert_int_equal(jint(m, "load"), 12);
	assert_int_equal(jint(m, "weight"), 50);
	assert_int_equal(jint(m, "decisions"), 7);
	assert_int_equal(jint(m, "interval_ms"), 500);
	assert_true(json_is_true(json_object_get(m, "signed")));
	assert_int_equal(json_array_size(json_object_get(m, "services")), 2);
	assert_int_equal(json_array_size(json_object_get(m, "services_down")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "services_down"), 0)),
			    "web");
	m = json_array_get(json_object_get(h, "members"), 1);
	assert_true(json_is_null(json_object_get(m, "name")));
	assert_string_equal(jstr(m, "address"), "2001:db8:2::4");
	assert_string_equal(jstr(m, "state"), "unknown");
	assert_true(json_is_null(json_object_get(m, "since_ms")));
	assert_true(json_is_null(json_object_get(m, "heard_ms")));
	assert_true(json_is_null(json_object_get(m, "load")));
	assert_int_equal(jint(m, "decisions"), 3);
	assert_false(json_is_true(json_object_get(m, "signed")));
	json_decref(h);

	/* without the group application nor decisions: every member unknown, 0 decisions */
	h = group_json_header(&pol, NULL, NULL, 10000);
	assert_false(json_is_true(json_object_get(h, "membership")));
	m = json_array_get(json_object_get(h, "members"), 0);
	assert_string_equal(jstr(m, "state"), "unknown");
	assert_int_equal(jint(m, "decisions"), 0);
	json_decref(h);
	pol.header = false;
	h = group_json_header(&pol, &rx, decisions, 10000);
	assert_true(json_is_null(h));
	json_decref(h);
}

static void row(struct gv_session *r, const char *client, const char *sp, const char *member,
		enum gv_state st, int64_t since)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->client, sizeof(r->client), "%s", client);
	snprintf(r->service, sizeof(r->service), "web");
	snprintf(r->id, sizeof(r->id), "aA");
	snprintf(r->sp, sizeof(r->sp), "%s", sp);
	addr(&r->member, member);
	r->state = st;
	r->since_ms = since;
	r->load = st == GV_UP ? 4 : -1;
	r->report_age_ms = -1;
}

/* An SS: web on sp1 (two sessions, one unreachable for 5 s) and sp2 (one up); a service
 * without members is no group service. */
static void test_ss(void **state)
{
	struct pol_member mem[2];
	struct pol_service svc[2] = { { .name = "web", .members = mem, .n_members = 2 },
				      { .name = "plain" } };
	struct policy pol = { .supervisor = true, .services = svc, .n_services = 2 };
	struct gv_session rows[3];
	json_t *ss, *s, *m, *r;

	(void)state;
	addr(&svc[0].addr, "198.19.0.10");
	svc[0].addr.port = 80;
	addr(&mem[0].sp, "198.18.2.3");
	addr(&mem[0].addr, "198.18.2.3");
	addr(&mem[1].sp, "198.18.2.4");
	addr(&mem[1].addr, "198.18.3.4");
	row(&rows[0], "198.18.4.10", "198.18.2.3:7447", "198.18.2.3", GV_UP, 60000);
	row(&rows[1], "198.18.4.11", "198.18.2.3:7447", "198.18.2.3", GV_UNREACHABLE, 5000);
	row(&rows[2], "198.18.4.12", "198.18.2.4:7447", "198.18.3.4", GV_UP, 1000);
	ss = group_json_ss(&pol, rows, 3);
	assert_non_null(ss);
	assert_int_equal(json_array_size(json_object_get(ss, "services")), 1);
	s = json_array_get(json_object_get(ss, "services"), 0);
	assert_string_equal(jstr(s, "name"), "web");
	assert_string_equal(jstr(s, "address"), "198.19.0.10");
	assert_int_equal(jint(s, "port"), 80);
	m = json_array_get(json_object_get(s, "members"), 0);
	assert_string_equal(jstr(m, "sp"), "198.18.2.3");
	assert_string_equal(jstr(m, "state"), "unreachable"); /* the worst of its sessions */
	assert_int_equal(jint(m, "since_ms"), 5000);
	assert_int_equal(jint(m, "sessions"), 2);
	m = json_array_get(json_object_get(s, "members"), 1);
	assert_string_equal(jstr(m, "address"), "198.18.3.4");
	assert_string_equal(jstr(m, "state"), "up");
	assert_int_equal(jint(m, "sessions"), 1);
	json_decref(ss);
	ss = group_json_sessions(rows, 3);
	assert_int_equal(json_array_size(ss), 3);
	r = json_array_get(ss, 2);
	assert_string_equal(jstr(r, "client"), "198.18.4.12");
	assert_string_equal(jstr(r, "sp"), "198.18.2.4:7447");
	assert_string_equal(jstr(r, "address"), "198.18.3.4");
	assert_string_equal(jstr(r, "state"), "up");
	assert_int_equal(jint(r, "load"), 4);
	assert_true(json_is_null(json_object_get(r, "report_ms")));
	json_decref(ss);

	/* no session: every member unknown with 0 sessions */
	ss = group_json_ss(&pol, NULL, 0);
	m = json_array_get(json_object_get(json_array_get(json_object_get(ss, "services"), 0),
					   "members"), 0);
	assert_string_equal(jstr(m, "state"), "unknown");
	assert_int_equal(jint(m, "sessions"), 0);
	json_decref(ss);
	svc[0].n_members = 0;
	ss = group_json_ss(&pol, NULL, 0);
	assert_true(json_is_null(ss));
	json_decref(ss);
}

static char *render(const char *json)
{
	json_error_t e;
	json_t *r = json_loads(json, 0, &e);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(r);
	assert_non_null(f);
	cli_group_print(f, r);
	fclose(f);
	json_decref(r);
	return out;
}

static void test_print(void **state)
{
	char *out;

	(void)state;
	out = render("{\"ok\": true, \"version\": 1, \"header\": {\"balance\": \"weighted\", "
		     "\"membership\": true, \"miss_limit\": 3, \"members\": [{\"name\": \"sp1\", "
		     "\"address\": \"198.18.2.3\", \"state\": \"up\", \"since_ms\": 61000, "
		     "\"heard_ms\": 200, \"load\": 5, \"weight\": 50, \"decisions\": 9, "
		     "\"services_down\": [\"web\", \"db\"]}]}, \"member\": null, "
		     "\"ss\": {\"services\": [{\"name\": \"web\", \"address\": \"198.19.0.10\", "
		     "\"port\": 80, \"members\": [{\"sp\": \"198.18.2.3\", \"address\": "
		     "\"198.18.2.3\", \"state\": \"unreachable\", \"since_ms\": 1500, "
		     "\"sessions\": 2}]}], \"sessions\": [{\"client\": \"198.18.4.10\", \"service\": "
		     "\"web\", \"id\": \"aA\", \"sp\": \"198.18.2.3:7447\", \"state\": \"up\", "
		     "\"since_ms\": null, \"load\": 3}]}, \"counters\": {\"failovers\": 2}}");
	assert_non_null(strstr(out, "header: balance weighted, membership on, miss limit 3\n"));
	assert_non_null(strstr(out, "  sp1          198.18.2.3                 up       61.0s    "
				    "0.2s     5      50     9         web,db\n"));
	assert_non_null(strstr(out, "service web at 198.19.0.10 port 80:\n"));
	assert_non_null(strstr(out, "  198.18.2.3                 198.18.2.3                 "
				    "unreachable  1.5s     2\n"));
	assert_non_null(strstr(out, "  198.18.4.10                web          aA     "
				    "198.18.2.3:7447            up           -        3\n"));
	assert_non_null(strstr(out, "counters: failovers 2\n"));
	assert_null(strstr(out, "heartbeat every")); /* member: null */
	free(out);

	out = render("{\"ok\": true, \"version\": 1, \"header\": null, \"member\": {\"name\": "
		     "\"sp2\", \"interval_ms\": 500, \"load\": 1, \"sent_ms\": 100, \"public_key\": "
		     "\"ab\", \"headers\": [\"2001:db8:2::1\"], \"services\": [{\"name\": \"http\", "
		     "\"status\": \"up\"}]}, \"ss\": null, \"counters\": {}}");
	assert_non_null(strstr(out, "member sp2, heartbeat every 500 ms, load 1, last sent 0.1s "
				    "ago, public key ab\n  header 2001:db8:2::1\n  service http up\n"));
	free(out);

	/* nothing of a group, then a malformed reply: dashes, no crash */
	out = render("{\"ok\": true, \"version\": 1, \"header\": null, \"member\": null, "
		     "\"ss\": null}");
	assert_non_null(strstr(out, "no group"));
	free(out);
	out = render("{\"ok\": true, \"header\": {\"members\": [{\"name\": 5, \"since_ms\": "
		     "\"x\", \"services_down\": 3}, 7]}, \"member\": {\"headers\": [1]}, "
		     "\"ss\": {\"services\": 3, \"sessions\": [null]}, \"counters\": [1]}");
	assert_non_null(strstr(out, "  -            -                          -        -"));
	assert_non_null(strstr(out, "  header ?\n"));
	free(out);
}

static void test_args(void **state)
{
	struct cli_group_args a;
	char err[256];
	char *none[] = { "group" }, *kg[] = { "group", "keygen", "/tmp/k" };
	char *bad[] = { "group", "members" }, *kg0[] = { "group", "keygen" };
	char *kg2[] = { "group", "keygen", "a", "b" }, *kge[] = { "group", "keygen", "" };

	(void)state;
	assert_int_equal(cli_group_parse(&a, 1, none, err, sizeof(err)), 0);
	assert_int_equal(a.action, CLI_GROUP_VIEW);
	assert_int_equal(cli_group_parse(&a, 3, kg, err, sizeof(err)), 0);
	assert_int_equal(a.action, CLI_GROUP_KEYGEN);
	assert_string_equal(a.keyfile, "/tmp/k");
	assert_int_equal(cli_group_parse(&a, 2, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown argument \"members\""));
	assert_non_null(strstr(err, "usage: coopnetctl group [keygen FILE]"));
	assert_int_equal(cli_group_parse(&a, 2, kg0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "keygen takes one FILE"));
	assert_int_equal(cli_group_parse(&a, 4, kg2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not \"b\""));
	assert_int_equal(cli_group_parse(&a, 3, kge, err, sizeof(err)), -1);
	assert_int_equal(a.action, CLI_GROUP_VIEW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_ss),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
