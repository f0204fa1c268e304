/* SPDX-License-Identifier: MIT */
/*
 * The SS's DNAT of group services (authd/ssnat.c) and the group fields of the policy
 * (authd/policy_members.c): elements from sessions (only members' addresses, the newest session
 * of a client wins, deletions), and, as root in a private network namespace, the real
 * nftables table: the whole table, then one element replaced in place on a failover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns_setup.h"
#include "policy.h"
#include "ssnat.h"

#define KEY "\"0000000000000000000000000000000000000000000000000000000000000001\""
#define CLIENTS \
	"\"clients\": [ { \"name\": \"office\", \"address\": \"198.18.1.0/24\", " \
	"\"services\": [\"web\"], \"keys\": { \"web\": " KEY " } }, " \
	"{ \"name\": \"office6\", \"address\": \"2001:db8:1::/64\", " \
	"\"services\": [\"web6\"], \"keys\": { \"web6\": " KEY " } } ]"
#define GROUP \
	"{ \"supervisor\": { \"headers\": [ { \"address\": \"198.18.2.2\" } ], \"services\": [ " \
	"{ \"name\": \"web\", \"address\": \"198.19.0.10\", \"port\": 80, \"members\": [ " \
	"  { \"sp\": \"198.18.2.3\" }, { \"sp\": \"198.18.2.4\" }, { \"sp\": \"198.18.2.5\" } ] }, " \
	"{ \"name\": \"web6\", \"address\": \"2001:db8:19::10\", \"port\": 80, \"members\": [ " \
	"  { \"sp\": \"198.18.2.3\", \"address\": \"2001:db8:2::3\" }, " \
	"  { \"sp\": \"198.18.2.4\", \"address\": \"2001:db8:2::4\" } ] } ], " CLIENTS " } }"

static int load(struct policy *p, const char *text, unsigned roles, struct jconf_error *e)
{
	return policy_load_buffer(p, "t.json", text, strlen(text), roles, false, e);
}

static void setup(struct ssnat *sn, struct policy *p)
{
	struct jconf_error e;

	memset(sn, 0, sizeof(*sn));
	if (load(p, GROUP, POLICY_ROLE_SUPERVISOR, &e) < 0)
		fail_msg("%s", e.msg);
}

static int req(struct ssnat *sn, const char *cmd, const char *sessions)
{
	json_t *arr = json_loads(sessions, 0, NULL), *r;
	int ret;

	assert_non_null(arr);
	r = json_pack("{s:s, s:o}", "cmd", cmd, "sessions", arr);
	ret = ssnat_session_req(sn, r);
	json_decref(r);
	return ret;
}

/* The svcs part of ssnat_policy without the kernel (pure tests). */
static void svcs_only(struct ssnat *sn, const struct policy *p)
{
	struct ssnat_change c;

	sn->n_svcs = 0;
	sn->svcs = calloc(p->n_services, sizeof(*sn->svcs));
	assert_non_null(sn->svcs);
	for (size_t i = 0; i < p->n_services; i++) {
		const struct pol_service *s = &p->services[i];
		struct ssnat_svc *o = &sn->svcs[sn->n_svcs++];

		o->family = s->addr.family == CN_FAM_INET ? AF_INET : AF_INET6;
		memcpy(o->vaddr, s->addr.addr, 16);
		o->port = s->addr.port;
		o->members = calloc(s->n_members, 16);
		for (size_t k = 0; k < s->n_members; k++)
			memcpy(o->members[k], s->members[k].addr.addr, 16);
		o->n_members = s->n_members;
	}
	sn->enabled = true;
	(void)c;
}

static void test_policy_members(void **state)
{
	struct policy p;

	(void)state;
	setup(&(struct ssnat){ 0 }, &p);
	assert_int_equal(p.services[0].n_members, 3);
	assert_int_equal(p.services[1].n_members, 2);
	assert_non_null(policy_member_by_sp(&p.services[1], &p.services[0].members[0].sp));
	assert_int_equal(p.services[1].members[1].addr.family, CN_FAM_INET6);
	/* the engine gets them back from the resolved JSON */
	json_t *j = policy_to_json(&p);
	char *text = json_dumps(j, 0);
	assert_non_null(strstr(text, "\"members\": [{\"sp\": \"198.18.2.3\", \"address\": \"198.18.2.3\"}"));
	free(text);
	json_decref(j);
	policy_free(&p);
}

static void test_policy_errors(void **state)
{
	static const struct { const char *text; unsigned roles; const char *msg; } bad[] = {
		{ "{ \"supervisor\": { \"headers\": [ { \"address\": \"198.18.2.2\" } ], "
		  "\"services\": [ { \"name\": \"web\", \"address\": \"198.19.0.10\", \"port\": 80, "
		  "\"members\": [ { \"sp\": \"198.18.2.3\", \"address\": \"2001:db8::3\" } ] } ], "
		  "\"clients\": [] } }", POLICY_ROLE_SUPERVISOR, "of the service address's family" },
		{ "{ \"supervisor\": { \"headers\": [ { \"address\": \"198.18.2.2\" } ], "
		  "\"services\": [ { \"name\": \"web\", \"address\": \"198.19.0.10\", \"port\": 80, "
		  "\"members\": [ { \"sp\": \"198.18.2.3\" }, { \"sp\": \"198.18.2.3\" } ] } ], "
		  "\"clients\": [] } }", POLICY_ROLE_SUPERVISOR, "listed twice" },
		{ "{ \"supervisor\": { \"headers\": [ { \"address\": \"198.18.2.2\" } ], "
		  "\"services\": [ { \"name\": \"web\", \"address\": \"198.19.0.10\", \"port\": 80, "
		  "\"members\": [ { \"sp\": \"198.18.2.3\" } ] }, "
		  "{ \"name\": \"b\", \"address\": \"198.18.2.3\", \"port\": 80 } ], "
		  "\"clients\": [] } }", POLICY_ROLE_SUPERVISOR, "those of service \"b\"" },
		{ "{ \"group_key\": " KEY ", \"header\": { \"balance\": \"round-robin\", \"group\": "
		  "[ { \"address\": \"198.18.2.3\", \"services\": [\"web\"] } ] } }",
		  POLICY_ROLE_HEADER, "round-robin" },
		{ "{ \"group_key\": " KEY ", \"header\": { \"group\": [ { \"address\": "
		  "\"198.18.2.3\", \"weight\": 1001, \"services\": [\"web\"] } ] } }",
		  POLICY_ROLE_HEADER, "weight" },
	};
	struct jconf_error e;
	struct policy p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(&p, bad[i].text, bad[i].roles, &e), -1);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, bad[i].msg);
		assert_string_equal(e.file, "t.json");
		assert_true(e.line == 1 && e.column > 1); /* at the bad value */
	}
	assert_int_equal(load(&p, "{ \"group_key\": " KEY ", \"header\": { \"balance\": "
			      "\"least-load\", \"group\": [ { \"address\": \"198.18.2.3\", "
			      "\"weight\": 30, \"services\": [\"web\"] }, { \"address\": "
			      "\"198.18.2.4\", \"services\": [\"web\"] } ] } }", POLICY_ROLE_HEADER,
			      &e), 0);
	assert_int_equal(p.balance, CN_BALANCE_LEAST_LOAD);
	assert_int_equal(p.group[0].weight, 30);
	assert_int_equal(p.group[1].weight, POL_DEFAULT_WEIGHT);
	policy_free(&p);
}

static bool holds(const struct ssnat_elem *v, size_t n, const char *client, const char *real)
{
	for (size_t i = 0; i < n; i++) {
		char c[64], r[64];

		inet_ntop(v[i].family, v[i].client, c, sizeof(c));
		inet_ntop(v[i].family, v[i].real, r, sizeof(r));
		if (!strcmp(c, client) && !strcmp(r, real))
			return true;
	}
	return false;
}

static void test_plan(void **state)
{
	struct ssnat sn;
	struct policy p;
	struct ssnat_change c;

	(void)state;
	setup(&sn, &p);
	svcs_only(&sn, &p);
	assert_int_equal(req(&sn, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.3\", \"port\": 80, "
			     "\"id\": \"0x0001\", \"vnic\": \"w\", \"expires\": 100},"
			     " {\"client\": \"198.18.1.3\", \"service\": \"198.18.2.9\", \"port\": 80, "
			     "\"id\": \"0x0002\", \"vnic\": \"w\", \"expires\": 100},"
			     " {\"client\": \"198.18.1.4\", \"service\": \"198.18.2.4\", \"port\": 8080, "
			     "\"id\": \"0x0003\", \"vnic\": \"w\", \"expires\": 100},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::4\", \"port\": 80, "
			     "\"id\": \"0x0004\", \"vnic\": \"w\", \"expires\": 100}]"), 1);
	assert_int_equal(ssnat_plan(&sn, &c), 0);
	/* no member (198.18.2.9), or another port (8080): never DNATed */
	assert_int_equal(c.n_want, 2);
	assert_true(holds(c.want, c.n_want, "198.18.1.2", "198.18.2.3"));
	assert_true(holds(c.want, c.n_want, "2001:db8:1::2", "2001:db8:2::4"));
	sn.held = c.want, sn.n_held = c.n_want, c.want = NULL;
	ssnat_change_free(&c);

	/* failover: a newer session on another member replaces the element (del + add) */
	assert_int_equal(req(&sn, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.5\", \"port\": 80, "
			     "\"id\": \"0x0009\", \"vnic\": \"w\", \"expires\": 200}]"), 1);
	assert_int_equal(ssnat_plan(&sn, &c), 0);
	assert_int_equal(c.n_del, 1);
	assert_int_equal(c.n_add, 1);
	assert_true(holds(c.del, 1, "198.18.1.2", "198.18.2.3"));
	assert_true(holds(c.add, 1, "198.18.1.2", "198.18.2.5"));
	ssnat_change_free(&c);
	/* the old one is deleted: nothing else changes */
	assert_int_equal(req(&sn, "session-del",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.3\", \"port\": 80}]"), 1);
	assert_int_equal(ssnat_plan(&sn, &c), 0);
	assert_int_equal(c.n_want, 2);
	assert_true(holds(c.want, c.n_want, "198.18.1.2", "198.18.2.5"));
	ssnat_change_free(&c);
	assert_int_equal(req(&sn, "session-bogus", "[]"), -1);
	ssnat_free(&sn);
	policy_free(&p);
}

static int nft_list(char *out, size_t size)
{
	FILE *f = popen("nft list table inet " SSNAT_TABLE " 2>&1", "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

static void test_kernel(void **state)
{
	struct ssnat sn;
	struct policy p, none;
	struct jconf_error e;
	char err[1024], listed[16384];

	(void)state;
	if (!in_netns)
		skip();
	setup(&sn, &p);
	if (ssnat_policy(&sn, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(nft_list(listed, sizeof(listed)), 0);
	assert_non_null(strstr(listed, "dnat ip to ip saddr . ip daddr . tcp dport map @dnat4"));
	assert_non_null(strstr(listed, "dnat ip6 to ip6 saddr . ip6 daddr . tcp dport map @dnat6"));
	assert_non_null(strstr(listed, "elements = { 198.19.0.10 . 80 }"));
	assert_non_null(strstr(listed, "ip daddr . tcp dport @vsvc4 counter packets 0 bytes 0 drop"));

	assert_int_equal(req(&sn, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.3\", \"port\": 80, "
			     "\"id\": \"0x0001\", \"vnic\": \"w\", \"expires\": 100},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::4\", \"port\": 80, "
			     "\"id\": \"0x0004\", \"vnic\": \"w\", \"expires\": 100}]"), 1);
	if (ssnat_apply(&sn, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(nft_list(listed, sizeof(listed)), 0);
	assert_non_null(strstr(listed, "198.18.1.2 . 198.19.0.10 . 80 : 198.18.2.3"));
	assert_non_null(strstr(listed, "2001:db8:1::2 . 2001:db8:19::10 . 80 : 2001:db8:2::4"));
	/* failover: the same key to another member, one batch */
	assert_int_equal(req(&sn, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.4\", \"port\": 80, "
			     "\"id\": \"0x0002\", \"vnic\": \"w\", \"expires\": 200}]"), 1);
	if (ssnat_apply(&sn, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(nft_list(listed, sizeof(listed)), 0);
	assert_non_null(strstr(listed, "198.18.1.2 . 198.19.0.10 . 80 : 198.18.2.4"));
	assert_null(strstr(listed, ": 198.18.2.3"));
	assert_int_equal(sn.applied, 3);

	/* a policy without group services removes the table */
	assert_int_equal(load(&none, "{ \"supervisor\": { \"headers\": [ { \"address\": "
			      "\"198.18.2.2\" } ], \"services\": [], \"clients\": [] } }",
			      POLICY_ROLE_SUPERVISOR, &e), 0);
	if (ssnat_policy(&sn, &none, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(nft_list(listed, sizeof(listed)), -1);
	assert_false(sn.enabled);
	policy_free(&none);
	ssnat_free(&sn);
	policy_free(&p);
}

/* `nft list map inet coopnet_ssnat dnat4`: how many elements point at a member */
static int count_dnat4(void)
{
	FILE *f = popen("nft list map inet " SSNAT_TABLE " dnat4 | grep -o ' : 198.18.2.[345]' | "
			"wc -l", "r");
	int n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

/* More elements than one netlink message holds (NFTB_ELEMS_PER_MSG): every one reaches the
 * kernel, added and deleted. */
static void test_kernel_many(void **state)
{
	enum { N = 600 };
	struct ssnat sn;
	struct policy p;
	char err[1024], client[32];
	json_t *arr = json_array(), *r;

	(void)state;
	if (!in_netns)
		skip();
	setup(&sn, &p);
	if (ssnat_policy(&sn, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (int i = 0; i < N; i++) {
		snprintf(client, sizeof(client), "198.18.%d.%d", 4 + i / 250, 1 + i % 250);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "client", client,
						     "service", i % 2 ? "198.18.2.3" : "198.18.2.5",
						     "port", 80, "id", "0x0001", "vnic", "w",
						     "expires", 100));
	}
	r = json_pack("{s:s, s:o}", "cmd", "session-sync", "sessions", arr);
	assert_int_equal(ssnat_session_req(&sn, r), 1);
	json_decref(r);
	if (ssnat_apply(&sn, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(count_dnat4(), N);
	/* the whole table anew (a policy reload) with all of them */
	if (ssnat_policy(&sn, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(count_dnat4(), N);
	assert_int_equal(req(&sn, "session-sync", "[]"), 1);
	if (ssnat_apply(&sn, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(count_dnat4(), 0);
	ssnat_free(&sn);
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_members),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_kernel_many),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
