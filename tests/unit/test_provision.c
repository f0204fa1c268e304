/* SPDX-License-Identifier: MIT */
/*
 * vNIC provisioning from a policy (authd/provision.c):
 *  - provision_build: the lib/vnic and lib/vhost specs of a policy (pure);
 *  - as root, in a private network namespace with a dummy "wan0" as the parent, against the
 *    real kernel (rtnetlink) and a stand-in apache2 (a shell script whose -t fails on demand):
 *    every bad entry refused with FILE:LINE of the entry and nothing created; the vhost files;
 *    a failed start (Apache check, or a later step such as the virtual switch) goes back to
 *    the host as found, links and vhost files alike; a policy without its `apache` section
 *    removes coopnet's vhost files, and so does a new vhost_dir for the old one.
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

#include "../../authd/provision.h"

static char dir[64];
static bool in_netns;

/* A provider policy: @D@ is the test directory. web1 is dual-stack; docs has a given MAC;
 * ext has no parent (external: not provisioned). extra is spliced into "provider". */
static char *policy_text(const char *vnics, const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{ \"provider\": {\n"                                                  /* 1 */
		 "  \"vnic_parent\": \"wan0\", \"relay\": [\"198.18.2.3\"],\n"           /* 2 */
		 "%s"
		 "  \"vnics\": [\n%s  ],\n"
		 "  \"clients\": []\n"
		 "} }\n", extra, vnics);
	return buf;
}

#define WEB1 \
	"    { \"name\": \"web1\", \"address\": \"198.18.2.11/24\", \"addresses\": [\"2001:db8:2::11/64\"],\n" \
	"      \"data_folder\": \"%s/www\", \"services\": [ { \"name\": \"web1\", \"port\": 80, \"apache\": true } ] }"
#define DOCS \
	"    { \"name\": \"docs\", \"address\": \"%s\", \"mac\": \"%s\", \"parent\": \"%s\",\n" \
	"      \"data_folder\": \"%s\", \"services\": [ { \"name\": \"docs\", \"port\": 8080 } ] }"

/* with the apache section: web1 on line 6, docs on line 8 */
static char *vnics(const char *docs_addr, const char *docs_mac, const char *docs_parent,
		   const char *docs_folder, bool with_docs)
{
	static char buf[4096];
	char www[128], web1[1024], docs[1024];

	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(web1, sizeof(web1), WEB1, dir);
	snprintf(docs, sizeof(docs), DOCS, docs_addr, docs_mac, docs_parent,
		 docs_folder ? docs_folder : www);
	snprintf(buf, sizeof(buf), "%s%s%s\n", web1, with_docs ? ",\n" : "", with_docs ? docs : "");
	return buf;
}

static char *apache_section(void)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "  \"apache\": { \"vhost_dir\": \"%s/vhosts\", \"config\": \"%s/apache2.conf\",\n"
		 "              \"log_dir\": \"%s/log\", \"binary\": \"%s/apache2\" },\n",
		 dir, dir, dir, dir);
	return buf;
}

static void build(struct provision *pr, struct policy *p, const char *text)
{
	struct jconf_error e;
	char err[1024];

	if (policy_load_buffer(p, "t.json", text, strlen(text), POLICY_ROLE_PROVIDER, false, &e) < 0)
		fail_msg("%s\n%s", jconf_error_str(&e, err, sizeof(err)), text);
	assert_int_equal(provision_build(pr, p, "t.json", err, sizeof(err)), 0);
}

/* without the apache section, no service says "apache": true either (the policy refuses) */
static void good(struct provision *pr, bool with_docs, bool with_apache)
{
	char *text = policy_text(vnics("198.18.2.12/24", "02:c0:0e:00:01:12", "wan0", NULL, with_docs),
				 with_apache ? apache_section() : ""), *at;
	struct policy p;

	while (!with_apache && (at = strstr(text, ", \"apache\": true")))
		memmove(at, at + 16, strlen(at + 16) + 1);
	build(pr, &p, text);
	policy_free(&p);
}

/* --- provision_build (pure) ------------------------------------------------------------------ */

static void test_build_specs(void **state)
{
	struct provision pr;
	char a[VNIC_ADDRSTRLEN], m[18];

	(void)state;
	good(&pr, true, true);
	assert_true(pr.enabled);
	assert_int_equal(pr.n, 2);
	assert_string_equal(pr.specs[0].name, "web1");
	assert_string_equal(pr.specs[0].parent, "wan0");
	assert_false(pr.specs[0].mac_set);
	assert_int_equal(pr.specs[0].naddrs, 2);
	assert_string_equal(vnic_addr_format(&pr.specs[0].addrs[0], a, sizeof(a)), "198.18.2.11/24");
	assert_string_equal(vnic_addr_format(&pr.specs[0].addrs[1], a, sizeof(a)), "2001:db8:2::11/64");
	assert_int_equal(pr.lines[0], 6);
	assert_string_equal(pr.specs[1].name, "docs");
	assert_true(pr.specs[1].mac_set);
	assert_string_equal(vnic_mac_format(pr.specs[1].mac, m, sizeof(m)), "02:c0:0e:00:01:12");
	assert_int_equal(pr.lines[1], 8);
	/* one vhost: web1's Apache service, on its two addresses, DocumentRoot = data folder */
	assert_int_equal(pr.n_vhosts, 1);
	assert_string_equal(pr.vhosts[0].name, "web1");
	assert_int_equal(pr.vhosts[0].port, 80);
	assert_int_equal(pr.vhosts[0].naddrs, 2);
	assert_string_equal(pr.vhosts[0].docroot, pr.specs[0].data_folder);
	assert_true(pr.apache);
	assert_true(pr.reload);
	assert_non_null(strstr(pr.vhost_dir, "/vhosts"));
	assert_non_null(strstr(pr.binary, "/apache2"));
	provision_free(&pr);
	provision_free(&pr); /* twice: NULL-safe, empty */
}

static void test_build_nothing_to_provision(void **state)
{
	static const char EXTERNAL[] =
		"{ \"provider\": { \"vnics\": [ { \"name\": \"ext\", \"address\": \"198.18.2.30\",\n"
		"  \"services\": [ { \"name\": \"ext\", \"port\": 80 } ] } ], \"clients\": [] } }\n";
	static const char HEADER[] =
		"{ \"group_key\": \"4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e\",\n"
		"  \"header\": { \"group\": [ { \"address\": \"198.18.2.3\", \"services\": [\"web1\"] } ] } }\n";
	struct jconf_error e;
	struct provision pr;
	struct policy p;
	char err[256];

	(void)state;
	build(&pr, &p, EXTERNAL);
	assert_false(pr.enabled);
	assert_int_equal(pr.n, 0);
	provision_free(&pr);
	policy_free(&p);
	assert_int_equal(policy_load_buffer(&p, "h.json", HEADER, strlen(HEADER), POLICY_ROLE_HEADER, false, &e), 0);
	assert_int_equal(provision_build(&pr, &p, "h.json", err, sizeof(err)), 0);
	assert_false(pr.enabled);
	assert_false(pr.apache);
	provision_free(&pr);
	policy_free(&p);
}

/* --- against the kernel, in a namespace of our own ------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool link_exists(const char *name)
{
	return sh("ip link show %s >/dev/null 2>&1", name) == 0;
}

/* "ip -br addr" of the macvlans: name, state, addresses */
static char *links(void)
{
	static char buf[4096];
	FILE *f = popen("ip -br link show type macvlan; ip -br addr show type macvlan", "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static char *listing(void)
{
	static char buf[4096];
	char cmd[256];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "cd '%s/vhosts' && for f in $(ls); do echo \"== $f\"; cat \"$f\"; done", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static void remove_vnics(void)
{
	sh("for l in web1 docs; do ip link del $l 2>/dev/null; done; rm -f '%s'/vhosts/coopnet-* '%s/fail'",
	   dir, dir);
}

static int ns_setup(void **state)
{
	(void)state;
	if (!in_netns)
		return 0;
	remove_vnics();
	return 0;
}

static void test_errors_name_the_entry(void **state)
{
	static const struct { const char *addr, *mac, *parent, *folder, *want; } bad[] = {
		{ "198.19.9.5/24", "02:c0:0e:00:01:12", "wan0", NULL,
		  "t.json:8: provider.vnics: vnic \"docs\": address 198.19.9.5/24 is outside parent \"wan0\" subnets 198.18.2.0/24" },
		{ "198.18.2.11/24", "02:c0:0e:00:01:12", "wan0", NULL,
		  "t.json:8: provider.vnics: vnic \"docs\": address 198.18.2.11 is also used by vnic \"web1\"" },
		{ "198.18.2.3/24", "02:c0:0e:00:01:12", "wan0", NULL,
		  "t.json:8: provider.vnics: vnic \"docs\": address 198.18.2.3 is already used by interface \"wan0\"" },
		{ "198.18.2.12/24", "02:c0:0e:00:01:12", "nosuch0", NULL,
		  "t.json:8: provider.vnics: vnic \"docs\": parent interface \"nosuch0\" does not exist" },
		{ "198.18.2.12/24", "02:c0:0e:00:01:12", "wan0", "/nonexistent/folder",
		  "t.json:8: provider.vnics: vnic \"docs\": data folder \"/nonexistent/folder\" does not exist" },
		{ "198.18.2.12/24", "02:00:00:00:00:01", "wan0", NULL,
		  "t.json:8: provider.vnics: vnic \"docs\": MAC 02:00:00:00:00:01 is already used by interface \"wan0\"" },
	};
	struct provision next, none;
	struct policy p;
	char err[2048];

	(void)state;
	if (!in_netns)
		skip();
	memset(&none, 0, sizeof(none));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&next, &p, policy_text(vnics(bad[i].addr, bad[i].mac, bad[i].parent,
						   bad[i].folder, true), apache_section()));
		assert_int_equal(provision_apply(&next, &none, err, sizeof(err)), -1);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			fail_msg("case %zu:\n got  %s\n want %s", i, err, bad[i].want);
		/* nothing half-applied: web1, valid, was not created either */
		assert_false(link_exists("web1"));
		assert_false(link_exists("docs"));
		provision_free(&next);
		policy_free(&p);
	}
}

static void test_apply_writes_vnics_and_vhost(void **state)
{
	struct provision next, none;
	char err[2048], *l;

	(void)state;
	if (!in_netns)
		skip();
	memset(&none, 0, sizeof(none));
	good(&next, true, true);
	if (provision_apply(&next, &none, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	l = links();
	assert_non_null(strstr(l, "web1@wan0"));
	assert_non_null(strstr(l, "02:c0:0e:00:01:12"));
	assert_non_null(strstr(l, "198.18.2.11/24 2001:db8:2::11/64"));
	l = listing();
	assert_non_null(strstr(l, "== coopnet-web1.conf\n# coopnet:vhost web1"));
	assert_non_null(strstr(l, "Listen 198.18.2.11:80\nListen [2001:db8:2::11]:80\n"));
	assert_null(strstr(l, "coopnet-docs.conf")); /* docs has no Apache service */
	/* a second run changes nothing */
	assert_int_equal(provision_apply(&next, &next, err, sizeof(err)), 0);
	provision_free(&next);
}

/* The start: the host as found is what a failed start goes back to. */
static void test_failed_start_leaves_nothing(void **state)
{
	struct provision next, found;
	char err[2048], flag[128];

	(void)state;
	if (!in_netns)
		skip();
	good(&next, true, true);
	assert_int_equal(provision_snapshot(&found, &next, err, sizeof(err)), 0);
	assert_true(found.snapshot);
	assert_int_equal(found.n, 0);
	assert_int_equal(found.n_saved, 0);
	/* Apache's check fails: the vNICs this start created go, no vhost file stays */
	snprintf(flag, sizeof(flag), "%s/fail", dir);
	fclose(fopen(flag, "w"));
	assert_int_equal(provision_apply(&next, &found, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.json: provider.apache: apache config check"));
	assert_false(link_exists("web1"));
	assert_false(link_exists("docs"));
	assert_string_equal(listing(), "");
	unlink(flag);
	provision_free(&found);
	provision_free(&next);
}

static void test_failed_start_restores_previous_run(void **state)
{
	struct provision first, next, found, none;
	char err[2048], before_links[4096], before_files[4096];
	struct policy p;

	(void)state;
	if (!in_netns)
		skip();
	/* an earlier run of the daemon left web1 (and its vhost) */
	memset(&none, 0, sizeof(none));
	good(&first, false, true);
	assert_int_equal(provision_apply(&first, &none, err, sizeof(err)), 0);
	provision_free(&first);
	snprintf(before_links, sizeof(before_links), "%s", links());
	snprintf(before_files, sizeof(before_files), "%s", listing());
	/* the new start moves web1 to another address and adds docs: applied... */
	build(&next, &p, policy_text(vnics("198.18.2.12/24", "02:c0:0e:00:01:12", "wan0", NULL, true),
				     apache_section()));
	policy_free(&p);
	next.specs[0].addrs[0].addr[3] = 41; /* 198.18.2.41 */
	next.vhosts[0].addrs[0].addr[3] = 41;
	assert_int_equal(provision_snapshot(&found, &next, err, sizeof(err)), 0);
	assert_int_equal(found.n, 1);
	assert_int_equal(found.n_saved, 1);
	if (provision_apply(&next, &found, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(link_exists("docs"));
	assert_non_null(strstr(listing(), "Listen 198.18.2.41:80"));
	/* ...then a later step of the start fails (the virtual switch): authd.c goes back to
	 * the host as found */
	if (provision_apply(&found, &next, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(links(), before_links);
	assert_string_equal(listing(), before_files);
	provision_free(&found);
	provision_free(&next);
}

static void test_apache_section_removed(void **state)
{
	struct provision with, without, moved, none;
	char err[2048], *l;
	struct policy p;

	(void)state;
	if (!in_netns)
		skip();
	memset(&none, 0, sizeof(none));
	good(&with, true, true);
	assert_int_equal(provision_apply(&with, &none, err, sizeof(err)), 0);
	sh("echo 'Listen 1.2.3.4:81' > '%s/vhosts/other.conf'", dir); /* foreign: stays */
	assert_non_null(strstr(listing(), "coopnet-web1.conf"));
	/* the policy loses its apache section: coopnet's files go, the vNICs stay */
	good(&without, true, false);
	if (provision_apply(&without, &with, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	l = listing();
	assert_null(strstr(l, "coopnet-web1.conf"));
	assert_non_null(strstr(l, "== other.conf"));
	assert_true(link_exists("web1"));
	/* and back */
	if (provision_apply(&with, &without, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_non_null(strstr(listing(), "coopnet-web1.conf"));
	/* another vhost_dir: the old one is emptied of coopnet's files */
	sh("mkdir -p '%s/vhosts2'", dir);
	build(&moved, &p, policy_text(vnics("198.18.2.12/24", "02:c0:0e:00:01:12", "wan0", NULL, true),
				      apache_section()));
	policy_free(&p);
	strcat(moved.vhost_dir, "2");
	if (provision_apply(&moved, &with, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_null(strstr(listing(), "coopnet-web1.conf"));
	assert_int_equal(sh("test -f '%s/vhosts2/coopnet-web1.conf'", dir), 0);
	sh("rm -rf '%s/vhosts2' '%s/vhosts/other.conf'", dir, dir);
	provision_free(&moved);
	provision_free(&without);
	provision_free(&with);
}

static int group_setup(void **state)
{
	FILE *f;
	char path[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_provision.XXXXXX");
	if (!mkdtemp(dir) || sh("mkdir -p '%s/www' '%s/vhosts' '%s/log'", dir, dir, dir) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/apache2", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	/* stands in for apache2: -t fails while DIR/fail exists */
	fprintf(f, "#!/bin/sh\n"
		   "if [ \"$1\" = -t ] && [ -e '%s/fail' ]; then echo 'AH00526: Syntax error'; exit 1; fi\n"
		   "echo 'Syntax OK'\n", dir);
	fclose(f);
	chmod(path, 0755);
	/* the kernel only in a namespace of our own: a veth as the parent (the eth0 of an SP) */
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		   sh("ip link add wan0 address 02:00:00:00:00:01 type veth peer name wan0p && "
		      "ip link set wan0p up && ip link set wan0 up && "
		      "ip addr add 198.18.2.3/24 dev wan0 && ip addr add 2001:db8:2::3/64 dev wan0 nodad") == 0;
	if (!in_netns)
		fprintf(stderr, "# not root or no unshare(CLONE_NEWNET): kernel tests skipped\n");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return sh("rm -rf '%s'", dir) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_specs),
		cmocka_unit_test(test_build_nothing_to_provision),
		cmocka_unit_test_setup(test_errors_name_the_entry, ns_setup),
		cmocka_unit_test_setup(test_apply_writes_vnics_and_vhost, ns_setup),
		cmocka_unit_test_setup(test_failed_start_leaves_nothing, ns_setup),
		cmocka_unit_test_setup(test_failed_start_restores_previous_run, ns_setup),
		cmocka_unit_test_setup(test_apache_section_removed, ns_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
