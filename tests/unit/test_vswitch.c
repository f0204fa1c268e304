/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch (authd/vswitch.c, vswitch_nft.c): what it takes from a policy, the steer
 * elements it plans from the engine's session requests (no sessions, IPv4 and IPv6 sessions,
 * several vNICs, renewal, removal, sync, sessions outside the vNICs), malformed requests; and,
 * as root in a private network namespace, what the kernel holds after each batch (listed with
 * the real nft): the whole table as a policy gives it, a session change made by element (the
 * table is not recreated), and a change the kernel refuses (two vNICs for one client . ID)
 * leaving the previous table in force, elements and all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../authd/vswitch.h"
#include "netns_setup.h"

/* sp1 of examples/: two vNICs (web1 dual-stack), two relay addresses (one IPv6) */
static const char POLICY[] =
	"{ \"provider\": {\n"
	"    \"relay\": [\"198.18.2.3\", \"2001:db8:2::3\"], \"vnic_parent\": \"wan0\",\n"
	"    \"vnics\": [\n"
	"      { \"name\": \"web1\", \"address\": \"198.18.2.11/24\", \"addresses\": [\"2001:db8:2::11/64\"],\n"
	"        \"data_folder\": \"/srv/web1\",\n"
	"        \"services\": [ { \"name\": \"web1\", \"port\": 80 } ] },\n"
	"      { \"name\": \"docs\", \"address\": \"198.18.2.12/24\", \"data_folder\": \"/srv/docs\",\n"
	"        \"services\": [ { \"name\": \"docs\", \"port\": 8080 } ] }\n"
	"    ],\n"
	"    \"clients\": [ { \"name\": \"office\", \"address\": \"198.18.1.0/24\",\n"
	"                   \"services\": [\"web1\", \"docs\"], \"keys\": {\n"
	"        \"web1\": \"4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e\",\n"
	"        \"docs\": \"4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e\" } } ]\n"
	"} }\n";

/* one IPv4 vNIC, one relay, no queue mark: small enough to compare whole */
static const char SMALL[] =
	"{ \"provider\": { \"relay\": [\"198.18.2.4\"], \"queue_mark\": 0,\n"
	"    \"vnics\": [ { \"name\": \"web2\", \"address\": \"198.18.2.21\", \"data_folder\": \"/srv/web2\",\n"
	"        \"services\": [ { \"name\": \"web2\", \"port\": 80 } ] } ],\n"
	"    \"clients\": [ { \"name\": \"office\", \"address\": \"198.18.1.2\", \"services\": [\"web2\"],\n"
	"        \"keys\": { \"web2\": \"4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e\" } } ]\n"
	"} }\n";

/* what `nft list` shows of the table the SMALL policy gives, before any session */
static const char SMALL_LISTED[] =
	"table inet coopnet_vswitch {\n"
	"\tset relay4 {\n\t\ttype ipv4_addr\n\t\telements = { 198.18.2.4 }\n\t}\n\n"
	"\tset vnic4 {\n\t\ttype ipv4_addr\n\t\telements = { 198.18.2.21 }\n\t}\n\n"
	"\tset svc4 {\n\t\ttype ipv4_addr . inet_service\n"
	"\t\telements = { 198.18.2.4 . 80,\n\t\t\t     198.18.2.21 . 80 }\n\t}\n\n"
	"\tmap steer4 {\n\t\ttype ipv4_addr . inet_service . inet_service : ipv4_addr\n\t}\n\n"
	"\tset relay6 {\n\t\ttype ipv6_addr\n\t}\n\n"
	"\tset vnic6 {\n\t\ttype ipv6_addr\n\t}\n\n"
	"\tset svc6 {\n\t\ttype ipv6_addr . inet_service\n\t}\n\n"
	"\tmap steer6 {\n\t\ttype ipv6_addr . inet_service . inet_service : ipv6_addr\n\t}\n\n"
	"\tchain steer {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tip daddr @relay4 tcp flags ! urg dnat ip to ip saddr . tcp urgptr . tcp dport map @steer4\n"
	"\t\tip6 daddr @relay6 tcp flags ! urg dnat ip6 to ip6 saddr . tcp urgptr . tcp dport map @steer6\n"
	"\t}\n\n"
	"\tchain guard {\n"
	"\t\ttype filter hook input priority mangle; policy accept;\n"
	"\t\tiifname \"lo\" accept\n"
	"\t\tip daddr @relay4 ip daddr . tcp dport @svc4 ct status ! dnat counter packets 0 bytes 0 drop comment \"no session steers it\"\n"
	"\t\tip6 daddr @relay6 ip6 daddr . tcp dport @svc6 ct status ! dnat counter packets 0 bytes 0 drop comment \"no session steers it\"\n"
	"\t\tip daddr @vnic4 ct status ! dnat counter packets 0 bytes 0 drop comment \"vNIC not through the switch\"\n"
	"\t\tip6 daddr @vnic6 ct status ! dnat counter packets 0 bytes 0 drop comment \"vNIC not through the switch\"\n"
	"\t\tip daddr @vnic4 ip daddr . tcp dport != @svc4 counter packets 0 bytes 0 drop comment \"not a service of the vNIC\"\n"
	"\t\tip6 daddr @vnic6 ip6 daddr . tcp dport != @svc6 counter packets 0 bytes 0 drop comment \"not a service of the vNIC\"\n"
	"\t}\n"
	"}\n";

static void load_policy(struct policy *p, const char *text)
{
	struct jconf_error e;
	char buf[1024];

	if (policy_load_buffer(p, "t.json", text, strlen(text), POLICY_ROLE_PROVIDER, false, &e) < 0)
		fail_msg("%s", jconf_error_str(&e, buf, sizeof(buf)));
}

static void setup_switch(struct vswitch *vs, const char *text)
{
	struct policy p;

	memset(vs, 0, sizeof(*vs));
	load_policy(&p, text);
	assert_int_equal(vswitch_set_policy(vs, &p), 0);
	policy_free(&p);
}

/* cmd over sessions given as JSON text */
static int req(struct vswitch *vs, const char *cmd, const char *sessions)
{
	json_error_t je;
	json_t *arr = json_loads(sessions, 0, &je), *r;
	int ret;

	if (!arr)
		fail_msg("test JSON: %s", je.text);
	r = json_pack("{s:s, s:o}", "cmd", cmd, "sessions", arr);
	ret = vswitch_session_req(vs, r);
	json_decref(r);
	return ret;
}

/* The same request with the sessions as "packed" records (the parent's session-sync). */
static int req_packed(struct vswitch *vs, const char *cmd, const char *sessions)
{
	json_t *arr = json_loads(sessions, 0, NULL), *v, *r;
	struct cn_session sv[8];
	char err[256];
	size_t i;
	int ret;

	assert_non_null(arr);
	assert_true(json_array_size(arr) <= 8);
	json_array_foreach(arr, i, v)
		if (cn_session_from_json(&sv[i], v, err, sizeof(err)) < 0)
			fail_msg("test session: %s", err);
	r = json_pack("{s:s, s:o}", "cmd", cmd, "packed",
		      cn_sessions_pack_json(sv, json_array_size(arr)));
	json_decref(arr);
	ret = vswitch_session_req(vs, r);
	json_decref(r);
	return ret;
}

/* "a, b, c" of the addresses of one family, in order */
static const char *addrs_text(const struct vswitch_addr *v, size_t n, int family)
{
	static char buf[4096];
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? ", " : "", inet_ntop(family, v[i].addr, a, sizeof(a)));
	return buf;
}

static const char *svcs_text(const struct vswitch *vs, int family)
{
	static char buf[4096];
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < vs->n_svcs; i++)
		if (vs->svcs[i].a.family == family)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s . %u",
				 buf[0] ? ", " : "",
				 inet_ntop(family, vs->svcs[i].a.addr, a, sizeof(a)),
				 vs->svcs[i].port);
	return buf;
}

/* "client . ID . port : vNIC, ..." (ID in decimal, as nft prints it) */
static const char *steer_text(const struct vswitch_steer *v, size_t n)
{
	static char bufs[3][4096];
	static int which;
	char *buf = bufs[which++ % 3], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), 4096 - strlen(buf), "%s%s . %u . %u : %s",
			 buf[0] ? ", " : "", inet_ntop(v[i].family, v[i].client, a, sizeof(a)),
			 v[i].id, v[i].port, inet_ntop(v[i].family, v[i].vnic, b, sizeof(b)));
	return buf;
}

/* The plan against what the switch holds, as "del [...] add [...] want [...]". */
static const char *plan(const struct vswitch *vs)
{
	static char buf[8192];
	struct vswitch_change c;

	assert_int_equal(vswitch_plan(vs, &c), 0);
	snprintf(buf, sizeof(buf), "del [%s] add [%s] want [%s]", steer_text(c.del, c.n_del),
		 steer_text(c.add, c.n_add), steer_text(c.want, c.n_want));
	vswitch_change_free(&c);
	return buf;
}

/* What vswitch_apply records after a committed batch, without a kernel: held = want. */
static void pretend_applied(struct vswitch *vs)
{
	struct vswitch_change c;

	assert_int_equal(vswitch_plan(vs, &c), 0);
	vswitch_hold(vs, &c);
}

/* --- what the switch takes from a policy -------------------------------------------------- */

static void test_disabled_without_relay(void **state)
{
	static const char NO_RELAY[] =
		"{ \"provider\": { \"vnics\": [ { \"name\": \"web2\", \"address\": \"198.18.2.21\",\n"
		"  \"services\": [ { \"name\": \"web2\", \"port\": 80 } ] } ], \"clients\": [] } }\n";
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, SMALL);
	assert_true(vs.enabled);
	assert_int_equal(vs.mark, 0);
	vswitch_free(&vs);
	setup_switch(&vs, NO_RELAY);
	assert_false(vs.enabled);
	vswitch_free(&vs);
}

static void test_several_vnics_and_relays(void **state)
{
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_string_equal(addrs_text(vs.relay, vs.n_relay, AF_INET), "198.18.2.3");
	assert_string_equal(addrs_text(vs.relay, vs.n_relay, AF_INET6), "2001:db8:2::3");
	assert_string_equal(addrs_text(vs.vnics, vs.n_vnics, AF_INET), "198.18.2.11, 198.18.2.12");
	assert_string_equal(addrs_text(vs.vnics, vs.n_vnics, AF_INET6), "2001:db8:2::11");
	/* each vNIC address with its service ports, and each relay address with every port */
	assert_string_equal(svcs_text(&vs, AF_INET), "198.18.2.11 . 80, 198.18.2.3 . 80, "
			    "198.18.2.12 . 8080, 198.18.2.3 . 8080");
	assert_string_equal(svcs_text(&vs, AF_INET6),
			    "2001:db8:2::11 . 80, 2001:db8:2::3 . 80, 2001:db8:2::3 . 8080");
	assert_int_equal(vs.mark, 0x10000000); /* the default queue mark */
	vswitch_free(&vs);
}

/* --- the steer elements planned from sessions ------------------------------------------------ */

static void test_sessions_v4_v6_removal_sync(void **state)
{
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_string_equal(plan(&vs), "del [] add [] want []");
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"web1\", \"expires\": 0},"
			     " {\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0102\", \"vnic\": \"docs\", \"expires\": 0},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80, "
			     "\"id\": \"0xbeef\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	assert_int_equal(vs.sess.n, 3);
	/* client . ID -> the vNIC address the session names; nothing held yet: all added */
	assert_string_equal(plan(&vs),
		"del [] add [198.18.1.2 . 258 . 8080 : 198.18.2.12, 198.18.1.2 . 24897 . 80 : 198.18.2.11, "
		"2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11] want [198.18.1.2 . 258 . 8080 : 198.18.2.12, "
		"198.18.1.2 . 24897 . 80 : 198.18.2.11, 2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11]");
	pretend_applied(&vs);
	assert_string_equal(plan(&vs), "del [] add [] want [198.18.1.2 . 258 . 8080 : 198.18.2.12, "
			    "198.18.1.2 . 24897 . 80 : 198.18.2.11, 2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11]");

	/* the same key again replaces (a renewed ID): one element goes, one comes */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x0007\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	assert_int_equal(vs.sess.n, 3);
	assert_string_equal(plan(&vs), "del [198.18.1.2 . 24897 . 80 : 198.18.2.11] "
			    "add [198.18.1.2 . 7 . 80 : 198.18.2.11] want [198.18.1.2 . 7 . 80 : 198.18.2.11, "
			    "198.18.1.2 . 258 . 8080 : 198.18.2.12, 2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11]");
	pretend_applied(&vs);

	/* removal by key; an unknown key changes nothing */
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80}]"), 1);
	assert_string_equal(plan(&vs), "del [2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11] add [] "
			    "want [198.18.1.2 . 7 . 80 : 198.18.2.11, 198.18.1.2 . 258 . 8080 : 198.18.2.12]");
	pretend_applied(&vs);
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80}]"), 0);
	assert_int_equal(vs.sess.n, 2);

	/* sync replaces the whole list */
	assert_int_equal(req(&vs, "session-sync",
			     "[{\"client\": \"198.18.1.9\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0005\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	assert_string_equal(plan(&vs), "del [198.18.1.2 . 7 . 80 : 198.18.2.11, 198.18.1.2 . 258 . 8080 : "
			    "198.18.2.12] add [198.18.1.9 . 5 . 8080 : 198.18.2.12] "
			    "want [198.18.1.9 . 5 . 8080 : 198.18.2.12]");
	pretend_applied(&vs);
	/* the same sync as packed records: the same list */
	assert_int_equal(req_packed(&vs, "session-sync",
			     "[{\"client\": \"198.18.1.9\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0005\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	assert_string_equal(plan(&vs), "del [] add [] want [198.18.1.9 . 5 . 8080 : 198.18.2.12]");
	pretend_applied(&vs);
	assert_int_equal(req_packed(&vs, "session-sync", "[]"), 1);
	assert_int_equal(vs.sess.n, 0);
	assert_string_equal(plan(&vs), "del [198.18.1.9 . 5 . 8080 : 198.18.2.12] add [] want []");
	pretend_applied(&vs);
	assert_int_equal(req_packed(&vs, "session-sync",
			     "[{\"client\": \"198.18.1.9\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0005\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	pretend_applied(&vs);
	assert_int_equal(req(&vs, "session-sync", "[]"), 1);
	assert_int_equal(vs.sess.n, 0);
	assert_string_equal(plan(&vs), "del [198.18.1.9 . 5 . 8080 : 198.18.2.12] add [] want []");
	vswitch_free(&vs);
}

/* A session naming an address that is no vNIC of the policy (e.g. an SS-side session, or one
 * left from an older policy) is never steered anywhere. */
static void test_session_outside_vnics_not_steered(void **state)
{
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.99\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"expires\": 0}]"), 1);
	assert_string_equal(plan(&vs), "del [] add [] want []");
	vswitch_free(&vs);
}

/* A new policy keeps the sessions and makes the next apply rebuild the table; a vNIC that
 * left stops being steered to, one that came is steered to. */
static void test_policy_change_keeps_sessions(void **state)
{
	struct vswitch vs;
	struct policy p;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.21\", \"port\": 80, "
			     "\"id\": \"0x0003\", \"vnic\": \"web2\", \"expires\": 0}]"), 1);
	assert_string_equal(plan(&vs), "del [] add [] want []");
	pretend_applied(&vs);
	load_policy(&p, SMALL);
	assert_int_equal(vswitch_set_policy(&vs, &p), 0);
	policy_free(&p);
	assert_false(vs.installed);
	assert_int_equal(vs.sess.n, 1);
	assert_string_equal(plan(&vs), "del [] add [198.18.1.2 . 3 . 80 : 198.18.2.21] "
			    "want [198.18.1.2 . 3 . 80 : 198.18.2.21]");
	vswitch_free(&vs);
}

static void test_malformed_requests(void **state)
{
	static const struct { const char *cmd, *sessions; } bad[] = {
		{ "session-add", "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 0, \"id\": \"0x1\"}]" },
		{ "session-add", "[{\"client\": \"198.18.1.2\", \"service\": \"2001:db8::1\", \"port\": 80, \"id\": \"0x1\"}]" },
		{ "session-add", "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, \"id\": \"0x0\"}]" },
		{ "session-add", "[{\"client\": \"nope\", \"service\": \"198.18.2.11\", \"port\": 80, \"id\": \"0x1\"}]" },
		{ "session-del", "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\"}]" },
		{ "session-del", "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 70000}]" },
		{ "session-del", "[{\"client\": \"198.18.1.2:1\", \"service\": \"198.18.2.11\", \"port\": 80}]" },
		{ "session-frob", "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80}]" },
	};
	struct vswitch vs;
	json_t *r;

	(void)state;
	setup_switch(&vs, POLICY);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (req(&vs, bad[i].cmd, bad[i].sessions) != -1)
			fail_msg("accepted %s %s", bad[i].cmd, bad[i].sessions);
		assert_int_equal(vs.sess.n, 0);
	}
	r = json_pack("{s:s}", "cmd", "session-add"); /* no "sessions" */
	assert_int_equal(vswitch_session_req(&vs, r), -1);
	json_decref(r);
	r = json_pack("{s:[]}", "sessions"); /* no "cmd" */
	assert_int_equal(vswitch_session_req(&vs, r), -1);
	json_decref(r);
	vswitch_free(&vs);
}

/* --- what the kernel holds (root, private network namespace) ---------------------------------- */

static int nft_list(char *out, size_t size, const char *what)
{
	char cmd[256];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "nft %s inet coopnet_vswitch 2>&1", what);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

/* the table's handle: it changes when the table is created anew */
static long table_handle(void)
{
	char out[16384], *h;

	assert_int_equal(nft_list(out, sizeof(out), "-a list table"), 0);
	h = strstr(out, "# handle ");
	assert_non_null(h);
	return strtol(h + 9, NULL, 10);
}

static void apply_ok(struct vswitch *vs)
{
	char err[4096];

	if (vswitch_apply(vs, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_kernel_whole_table(void **state)
{
	struct vswitch vs;
	char listed[16384];

	(void)state;
	if (!in_netns)
		skip();
	setup_switch(&vs, SMALL);
	apply_ok(&vs);
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_string_equal(listed, SMALL_LISTED);
	vswitch_free(&vs);
	vs.enabled = false;
	apply_ok(&vs); /* removes the table */
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), -1);
}

static void test_kernel_by_element_keeps_previous(void **state)
{
	struct vswitch vs;
	char err[4096], listed[16384], before[16384];
	long handle;

	(void)state;
	if (!in_netns)
		skip();
	setup_switch(&vs, POLICY);
	apply_ok(&vs);
	assert_int_equal(vs.applied, 1);
	handle = table_handle();
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_non_null(strstr(listed, "ip daddr . tcp dport @svc4 meta mark set meta mark | 0x10000000"));
	assert_non_null(strstr(listed, "ip6 saddr . tcp sport @svc6 meta mark set meta mark | 0x10000000"));

	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"web1\", \"expires\": 0},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80, "
			     "\"id\": \"0xbeef\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	apply_ok(&vs);
	assert_int_equal(vs.applied, 2);
	assert_int_equal(table_handle(), handle); /* by element: the same table */
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_non_null(strstr(listed, "elements = { 198.18.1.2 . 24897 . 80 : 198.18.2.11 }"));
	assert_non_null(strstr(listed, "elements = { 2001:db8:1::2 . 48879 . 80 : 2001:db8:2::11 }"));
	assert_non_null(strstr(listed, "counter packets 0 bytes 0 drop comment \"vNIC not through the switch\""));
	memcpy(before, listed, sizeof(before));

	/* nothing changes for the kernel: no batch */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	apply_ok(&vs);
	assert_int_equal(vs.applied, 2);

	/* the same client . ID . port steered to two vNICs: the kernel refuses the whole batch */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"docs\", \"expires\": 0},"
			     " {\"client\": \"198.18.1.7\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0009\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), -1);
	assert_int_equal(vs.failed, 1);
	assert_non_null(strstr(err, "the previous table stays"));
	assert_non_null(strstr(err, "File exists"));
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_string_equal(listed, before); /* not even the good element of that batch */
	assert_int_equal(vs.n_held, 2);

	/* the bad session goes: the next change succeeds, and brings the good one */
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 80}]"), 1);
	apply_ok(&vs);
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_non_null(strstr(listed, "198.18.1.2 . 24897 . 80 : 198.18.2.11"));
	assert_non_null(strstr(listed, "198.18.1.7 . 9 . 8080 : 198.18.2.12"));
	/* a renewed ID: the old element goes in the same batch */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x0007\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	apply_ok(&vs);
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), 0);
	assert_null(strstr(listed, "24897"));
	assert_non_null(strstr(listed, "198.18.1.2 . 7 . 80 : 198.18.2.11"));
	assert_int_equal(table_handle(), handle);

	/* a policy without relay removes the table */
	vs.enabled = false;
	apply_ok(&vs);
	assert_int_equal(nft_list(listed, sizeof(listed), "list table"), -1);
	apply_ok(&vs); /* twice: no error */
	vswitch_free(&vs);
}

/* The plan of a request's changes (the change log, O(changes)) leaves the switch holding
 * exactly what the full plan (every session) wants: random adds, renewals and deletes of a
 * few keys, several per request, some outside the vNICs, against a switch installed first. */
static int steer_sort_cmp(const void *pa, const void *pb)
{
	return memcmp(pa, pb, sizeof(struct vswitch_steer));
}

static void test_plan_changes_matches_full_plan(void **state)
{
	static const char *const svc[] = { "198.18.2.11", "198.18.2.12", "198.18.2.99" };
	static const unsigned port[] = { 80, 8080, 80 };
	static const char *const vnic[] = { "web1", "docs", "none" };
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, POLICY);
	pretend_applied(&vs); /* installed: the next plans follow the log */
	srand(7);
	for (int round = 0; round < 300; round++) {
		char body[4096] = "[";
		int n = 1 + rand() % 6, del = rand() % 3 == 0;
		struct vswitch_change c, full;
		struct vswitch_steer *h;

		for (int i = 0; i < n; i++) {
			int k = rand() % 3, cl = rand() % 4;
			size_t len = strlen(body);

			if (del)
				snprintf(body + len, sizeof(body) - len, "%s{\"client\": \"198.18.1.%d\", "
					 "\"service\": \"%s\", \"port\": %u}", i ? ", " : "", cl + 1,
					 svc[k], port[k]);
			else
				snprintf(body + len, sizeof(body) - len, "%s{\"client\": \"198.18.1.%d\", "
					 "\"service\": \"%s\", \"port\": %u, \"id\": \"0x%x\", "
					 "\"vnic\": \"%s\", \"expires\": 0}", i ? ", " : "", cl + 1,
					 svc[k], port[k], 1 + rand() % 3, vnic[k]);
		}
		strcat(body, "]");
		assert_true(req(&vs, del ? "session-del" : "session-add", body) >= 0);
		assert_int_equal(vswitch_plan_changes(&vs, &c), 0);
		/* nothing deleted that is not held, nothing added that is */
		for (size_t i = 0; i < c.n_del; i++) {
			bool held = false;
			for (size_t j = 0; j < vs.n_held; j++)
				held |= !memcmp(&vs.held[j], &c.del[i], sizeof(c.del[i]));
			assert_true(held);
		}
		for (size_t i = 0; i < c.n_add; i++)
			for (size_t j = 0; j < vs.n_held; j++)
				assert_memory_not_equal(&vs.held[j], &c.add[i], sizeof(c.add[i]));
		sesslist_changes_reset(&vs.sess);
		assert_int_equal(vswitch_hold(&vs, &c), 0);
		assert_int_equal(vswitch_plan(&vs, &full), 0);
		assert_int_equal(full.n_del + full.n_add, 0); /* held == what every session wants */
		h = calloc(vs.n_held + 1, sizeof(*h));
		assert_non_null(h);
		memcpy(h, vs.held, vs.n_held * sizeof(*h));
		qsort(h, vs.n_held, sizeof(*h), steer_sort_cmp);
		qsort(full.want, full.n_want, sizeof(*full.want), steer_sort_cmp);
		assert_int_equal(vs.n_held, full.n_want);
		assert_memory_equal(h, full.want, vs.n_held * sizeof(*h));
		free(h);
		vswitch_change_free(&full);
	}
	vswitch_free(&vs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled_without_relay),
		cmocka_unit_test(test_several_vnics_and_relays),
		cmocka_unit_test(test_sessions_v4_v6_removal_sync),
		cmocka_unit_test(test_session_outside_vnics_not_steered),
		cmocka_unit_test(test_policy_change_keeps_sessions),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_kernel_whole_table),
		cmocka_unit_test(test_plan_changes_matches_full_plan),
		cmocka_unit_test(test_kernel_by_element_keeps_previous),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
