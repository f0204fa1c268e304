/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch (authd/vswitch.c): the nft text it renders from a policy and the
 * engine's session requests (no sessions, IPv4 and IPv6 sessions, several vNICs, relay
 * addresses, removal, sync), malformed requests, and vswitch_apply's `nft -f`:
 *  - through a stand-in nft (a shell script on vs->nft) that fails: the error carries its
 *    output, the failure is counted, the temporary file is gone;
 *  - as root, in a private network namespace, with the real nft: every rendered table loads,
 *    and a change the kernel refuses (two vNICs for one client . ID) leaves the previous
 *    table in force, elements and all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../authd/vswitch.h"

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

static const char SMALL_TEXT[] =
	"table inet coopnet_vswitch {}\n"
	"delete table inet coopnet_vswitch\n"
	"table inet coopnet_vswitch {\n"
	"\tset relay4 { type ipv4_addr; elements = { 198.18.2.4 }; }\n"
	"\tset vnic4 { type ipv4_addr; elements = { 198.18.2.21 }; }\n"
	"\tset svc4 { typeof ip daddr . tcp dport; elements = { 198.18.2.21 . 80, 198.18.2.4 . 80 }; }\n"
	"\tmap steer4 { typeof ip saddr . tcp urgptr : ip daddr; }\n"
	"\tset relay6 { type ipv6_addr; }\n"
	"\tset vnic6 { type ipv6_addr; }\n"
	"\tset svc6 { typeof ip6 daddr . tcp dport; }\n"
	"\tmap steer6 { typeof ip6 saddr . tcp urgptr : ip6 daddr; }\n"
	"\tchain steer {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tip daddr @relay4 tcp flags & urg == 0 dnat ip to ip saddr . tcp urgptr map @steer4\n"
	"\t\tip6 daddr @relay6 tcp flags & urg == 0 dnat ip6 to ip6 saddr . tcp urgptr map @steer6\n"
	"\t}\n"
	"\tchain guard {\n"
	"\t\ttype filter hook input priority -150; policy accept;\n"
	"\t\tiif \"lo\" accept\n"
	"\t\tip daddr @relay4 ip daddr . tcp dport @svc4 ct status & dnat == 0 counter drop comment \"no session steers it\"\n"
	"\t\tip6 daddr @relay6 ip6 daddr . tcp dport @svc6 ct status & dnat == 0 counter drop comment \"no session steers it\"\n"
	"\t\tip daddr @vnic4 ct status & dnat == 0 counter drop comment \"vNIC not through the switch\"\n"
	"\t\tip6 daddr @vnic6 ct status & dnat == 0 counter drop comment \"vNIC not through the switch\"\n"
	"\t}\n"
	"}\n";

static char tmpdir[64];
static bool in_netns; /* root, in a private network namespace: the real nft may run */

static void load_policy(struct policy *p, const char *text)
{
	struct jconf_error e;
	char buf[1024];

	if (policy_load_buffer(p, "t.json", text, strlen(text), ROLE_PROVIDER, false, &e) < 0)
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

static const char *render(const struct vswitch *vs)
{
	static char buf[65536];

	assert_true(vswitch_render(vs, buf, sizeof(buf)) > 0);
	return buf;
}

/* the line of text starting (after tabs) with prefix */
static const char *line_of(const char *text, const char *prefix)
{
	static char line[4096];
	const char *p = text;

	while (*p) {
		const char *start = p + strspn(p, "\t"), *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		if (!strncmp(start, prefix, strlen(prefix)) && len < sizeof(line)) {
			memcpy(line, start, len);
			line[len] = '\0';
			return line;
		}
		if (!end)
			break;
		p = end + 1;
	}
	fail_msg("no line \"%s...\" in:\n%s", prefix, text);
	return NULL;
}

static void check_line(const char *text, const char *prefix, const char *want)
{
	const char *got = line_of(text, prefix);

	if (strcmp(got, want))
		fail_msg("got  %s\nwant %s", got, want);
}

/* --- rendering ------------------------------------------------------------------------------ */

static void test_no_sessions_whole_text(void **state)
{
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, SMALL);
	assert_true(vs.enabled);
	assert_string_equal(render(&vs), SMALL_TEXT);
	vswitch_free(&vs);
}

static void test_disabled_deletes_only(void **state)
{
	static const char NO_RELAY[] =
		"{ \"provider\": { \"vnics\": [ { \"name\": \"web2\", \"address\": \"198.18.2.21\",\n"
		"  \"services\": [ { \"name\": \"web2\", \"port\": 80 } ] } ], \"clients\": [] } }\n";
	struct vswitch vs;

	(void)state;
	setup_switch(&vs, NO_RELAY);
	assert_false(vs.enabled);
	/* the table goes (created empty first so that the delete never fails) */
	assert_string_equal(render(&vs), "table inet coopnet_vswitch {}\n"
					 "delete table inet coopnet_vswitch\n");
	vswitch_free(&vs);
}

static void test_several_vnics_and_relays(void **state)
{
	struct vswitch vs;
	const char *t;

	(void)state;
	setup_switch(&vs, POLICY);
	t = render(&vs);
	check_line(t, "set relay4", "set relay4 { type ipv4_addr; elements = { 198.18.2.3 }; }");
	check_line(t, "set relay6", "set relay6 { type ipv6_addr; elements = { 2001:db8:2::3 }; }");
	check_line(t, "set vnic4",
		   "set vnic4 { type ipv4_addr; elements = { 198.18.2.11, 198.18.2.12 }; }");
	check_line(t, "set vnic6", "set vnic6 { type ipv6_addr; elements = { 2001:db8:2::11 }; }");
	/* each vNIC address with its service ports, and each relay address with every port */
	check_line(t, "set svc4", "set svc4 { typeof ip daddr . tcp dport; elements = { "
		   "198.18.2.11 . 80, 198.18.2.3 . 80, 198.18.2.12 . 8080, 198.18.2.3 . 8080 }; }");
	check_line(t, "set svc6", "set svc6 { typeof ip6 daddr . tcp dport; elements = { "
		   "2001:db8:2::11 . 80, 2001:db8:2::3 . 80, 2001:db8:2::3 . 8080 }; }");
	check_line(t, "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; }");
	check_line(t, "map steer6", "map steer6 { typeof ip6 saddr . tcp urgptr : ip6 daddr; }");
	/* the default queue mark, for coopnet-nfq's queue rule, on both families and directions */
	check_line(t, "ip daddr . tcp dport @svc4 meta mark",
		   "ip daddr . tcp dport @svc4 meta mark set meta mark | 0x10000000");
	check_line(t, "ip6 saddr . tcp sport @svc6 meta mark",
		   "ip6 saddr . tcp sport @svc6 meta mark set meta mark | 0x10000000");
	vswitch_free(&vs);
}

static void test_sessions_v4_v6_removal_sync(void **state)
{
	struct vswitch vs;
	const char *t;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"web1\", \"expires\": 0},"
			     " {\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0102\", \"vnic\": \"docs\", \"expires\": 0},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80, "
			     "\"id\": \"0xbeef\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	assert_int_equal(vs.n_sess, 3);
	t = render(&vs);
	/* client . ID (decimal, as nft prints it) -> the vNIC address the session names */
	check_line(t, "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; "
		   "elements = { 198.18.1.2 . 24897 : 198.18.2.11, 198.18.1.2 . 258 : 198.18.2.12 }; }");
	check_line(t, "map steer6", "map steer6 { typeof ip6 saddr . tcp urgptr : ip6 daddr; "
		   "elements = { 2001:db8:1::2 . 48879 : 2001:db8:2::11 }; }");

	/* the same key again replaces (a renewed ID), it does not add */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x0007\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	assert_int_equal(vs.n_sess, 3);
	assert_non_null(strstr(line_of(render(&vs), "map steer4"), "198.18.1.2 . 7 : 198.18.2.11"));
	assert_null(strstr(line_of(render(&vs), "map steer4"), "24897"));

	/* removal by key; an unknown key changes nothing */
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80}]"), 1);
	check_line(render(&vs), "map steer6", "map steer6 { typeof ip6 saddr . tcp urgptr : ip6 daddr; }");
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80}]"), 0);
	assert_int_equal(vs.n_sess, 2);

	/* sync replaces the whole list */
	assert_int_equal(req(&vs, "session-sync",
			     "[{\"client\": \"198.18.1.9\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x0005\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	check_line(render(&vs), "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; "
		   "elements = { 198.18.1.9 . 5 : 198.18.2.12 }; }");
	assert_int_equal(req(&vs, "session-sync", "[]"), 1);
	assert_int_equal(vs.n_sess, 0);
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
	check_line(render(&vs), "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; }");
	vswitch_free(&vs);
}

/* A new policy keeps the sessions; a vNIC that left stops being steered to. */
static void test_policy_change_keeps_sessions(void **state)
{
	struct vswitch vs;
	struct policy p;

	(void)state;
	setup_switch(&vs, POLICY);
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.21\", \"port\": 80, "
			     "\"id\": \"0x0003\", \"vnic\": \"web2\", \"expires\": 0}]"), 1);
	check_line(render(&vs), "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; }");
	load_policy(&p, SMALL);
	assert_int_equal(vswitch_set_policy(&vs, &p), 0);
	policy_free(&p);
	assert_int_equal(vs.n_sess, 1);
	check_line(render(&vs), "map steer4", "map steer4 { typeof ip saddr . tcp urgptr : ip daddr; "
		   "elements = { 198.18.1.2 . 3 : 198.18.2.21 }; }");
	assert_null(strstr(render(&vs), "mark_in")); /* queue_mark 0: no marking chains */
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
		assert_int_equal(vs.n_sess, 0);
	}
	r = json_pack("{s:s}", "cmd", "session-add"); /* no "sessions" */
	assert_int_equal(vswitch_session_req(&vs, r), -1);
	json_decref(r);
	r = json_pack("{s:[]}", "sessions"); /* no "cmd" */
	assert_int_equal(vswitch_session_req(&vs, r), -1);
	json_decref(r);
	vswitch_free(&vs);
}

static void test_render_buffer_too_small(void **state)
{
	struct vswitch vs;
	char buf[4096];
	int len;

	(void)state;
	setup_switch(&vs, POLICY);
	len = vswitch_render(&vs, buf, sizeof(buf));
	assert_true(len > 0);
	for (size_t size = 1; size <= (size_t)len; size += 97)
		assert_int_equal(vswitch_render(&vs, buf, size), -1);
	assert_int_equal(vswitch_render(&vs, buf, (size_t)len), -1); /* no room for the NUL */
	assert_int_equal(vswitch_render(&vs, buf, (size_t)len + 1), len);
	vswitch_free(&vs);
}

/* --- loading with nft -f ---------------------------------------------------------------------- */

/* A stand-in nft: logs its argv and a copy of the file, fails while a flag file exists. */
static void fake_nft(char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/nft", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
		   "echo \"$*\" >> '%s/nft.calls'\n"
		   "cp \"$2\" '%s/nft.last'\n"
		   "if [ -e '%s/fail' ]; then echo 'Error: Could not process rule: File exists' >&2; exit 1; fi\n",
		tmpdir, tmpdir, tmpdir);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static bool temp_files_left(void)
{
	DIR *d = opendir("/run");
	struct dirent *e;
	bool left = false;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "coopnet-vswitch.", 16))
			left = true;
	closedir(d);
	return left;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_apply_through_stand_in(void **state)
{
	struct vswitch vs;
	char err[4096], flag[128], *last;

	(void)state;
	if (access("/run", W_OK) < 0)
		skip(); /* vswitch_apply writes its file under /run, as the daemon (root) does */
	setup_switch(&vs, SMALL);
	fake_nft(vs.nft, sizeof(vs.nft));
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), 0);
	assert_int_equal(vs.applied, 1);
	last = slurp(strcat(strcpy(flag, tmpdir), "/nft.last"));
	assert_non_null(last);
	assert_string_equal(last, SMALL_TEXT); /* exactly what vswitch_render gives */
	assert_non_null(strstr(slurp(strcat(strcpy(flag, tmpdir), "/nft.calls")), "-f /run/coopnet-vswitch."));

	snprintf(flag, sizeof(flag), "%s/fail", tmpdir);
	fclose(fopen(flag, "w"));
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), -1);
	assert_int_equal(vs.failed, 1);
	assert_int_equal(vs.applied, 1);
	assert_non_null(strstr(err, "nft -f refused the table (the previous one stays)"));
	assert_non_null(strstr(err, "File exists"));
	assert_false(temp_files_left());
	unlink(flag);

	/* nft missing altogether: an error, not a crash */
	snprintf(vs.nft, sizeof(vs.nft), "%s/no-such-nft", tmpdir);
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), -1);
	assert_int_equal(vs.failed, 2);
	assert_false(temp_files_left());
	vswitch_free(&vs);
}

static int nft_list(char *out, size_t size)
{
	FILE *f = popen("nft list table inet coopnet_vswitch 2>&1", "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

static void test_apply_real_nft_keeps_previous(void **state)
{
	struct vswitch vs;
	char err[4096], listed[16384], before[16384];

	(void)state;
	if (!in_netns)
		skip();
	setup_switch(&vs, POLICY);
	/* every case renders a table the real nft loads */
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), 0);
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.11\", \"port\": 80, "
			     "\"id\": \"0x6141\", \"vnic\": \"web1\", \"expires\": 0},"
			     " {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::11\", \"port\": 80, "
			     "\"id\": \"0xbeef\", \"vnic\": \"web1\", \"expires\": 0}]"), 1);
	if (vswitch_apply(&vs, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(nft_list(listed, sizeof(listed)), 0);
	assert_non_null(strstr(listed, "198.18.1.2 . 24897 : 198.18.2.11"));
	assert_non_null(strstr(listed, "2001:db8:1::2 . 48879 : 2001:db8:2::11"));
	assert_non_null(strstr(listed, "counter packets 0 bytes 0 drop comment \"vNIC not through the switch\""));
	memcpy(before, listed, sizeof(before));

	/* the same client . ID steered to two vNICs: the kernel refuses the whole transaction */
	assert_int_equal(req(&vs, "session-add",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 8080, "
			     "\"id\": \"0x6141\", \"vnic\": \"docs\", \"expires\": 0}]"), 1);
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the previous one stays"));
	assert_non_null(strstr(err, "File exists"));
	assert_int_equal(nft_list(listed, sizeof(listed)), 0);
	assert_string_equal(listed, before);

	/* the bad session goes: the next apply succeeds again */
	assert_int_equal(req(&vs, "session-del",
			     "[{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.12\", \"port\": 8080}]"), 1);
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), 0);

	/* a policy without relay removes the table */
	vs.enabled = false;
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), 0);
	assert_int_equal(nft_list(listed, sizeof(listed)), -1);
	assert_int_equal(vswitch_apply(&vs, err, sizeof(err)), 0); /* twice: no error */
	vswitch_free(&vs);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_vswitch.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* the real nft only in a namespace of our own: never the host's rule set */
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		   access("/usr/sbin/nft", X_OK) == 0;
	if (!in_netns)
		fprintf(stderr, "# not root or no unshare(CLONE_NEWNET): real nft tests skipped\n");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_sessions_whole_text),
		cmocka_unit_test(test_disabled_deletes_only),
		cmocka_unit_test(test_several_vnics_and_relays),
		cmocka_unit_test(test_sessions_v4_v6_removal_sync),
		cmocka_unit_test(test_session_outside_vnics_not_steered),
		cmocka_unit_test(test_policy_change_keeps_sessions),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_render_buffer_too_small),
		cmocka_unit_test(test_apply_through_stand_in),
		cmocka_unit_test(test_apply_real_nft_keeps_previous),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
