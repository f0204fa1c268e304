/* SPDX-License-Identifier: MIT */
/*
 * lib/vnic.c: MAC derivation, parsing, plan building (every drift, stale, foreign, idempotent),
 * every validation error, netlink messages parsed back, and rollback after a failure on the
 * Nth message (mnl_socket_sendto/recvfrom wrapped by a small fake kernel).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnic.h"

/* ------------------------------------------------------------ fixtures */

static char tmpdir[64], folder1[128], folder2[128], afile[128];

static int setup_dirs(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_vnic.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(folder1, sizeof(folder1), "%s/web1", tmpdir);
	snprintf(folder2, sizeof(folder2), "%s/web2", tmpdir);
	snprintf(afile, sizeof(afile), "%s/file", tmpdir);
	if (mkdir(folder1, 0755) < 0 || mkdir(folder2, 0755) < 0)
		return -1;
	FILE *f = fopen(afile, "w");
	if (f == NULL)
		return -1;
	fclose(f);
	return 0;
}

static int teardown_dirs(void **state)
{
	(void)state;
	rmdir(folder1);
	rmdir(folder2);
	unlink(afile);
	rmdir(tmpdir);
	return 0;
}

/* A link as the kernel would dump it, folded into st through the real parser. */
static void add_link(struct vnic_state *st, int idx, const char *name, const char *kind,
		     uint32_t mode, int parent, const uint8_t *mac, const char *alias, bool up)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = idx;
	ifi->ifi_flags = up ? IFF_UP : 0;
	assert_true(mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFNAME, name));
	if (mac)
		assert_true(mnl_attr_put_check(nlh, sizeof(buf), IFLA_ADDRESS, 6, mac));
	if (alias)
		assert_true(mnl_attr_put_strz_check(nlh, sizeof(buf), IFLA_IFALIAS, alias));
	if (parent)
		assert_true(mnl_attr_put_u32_check(nlh, sizeof(buf), IFLA_LINK, (uint32_t)parent));
	if (kind) {
		struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO), *d;

		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
		d = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, mode);
		mnl_attr_nest_end(nlh, d);
		mnl_attr_nest_end(nlh, li);
	}
	assert_int_equal(vnic_state_add_link(st, nlh), 0);
}

static void add_addr(struct vnic_state *st, int idx, const char *text)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct vnic_addr a;

	assert_int_equal(vnic_parse_addr(&a, text), 0);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a.family;
	ifa->ifa_prefixlen = (uint8_t)a.prefixlen;
	ifa->ifa_index = (uint32_t)idx;
	mnl_attr_put(nlh, IFA_ADDRESS, a.family == AF_INET ? 4 : 16, a.addr);
	if (a.family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, 4, a.addr);
	assert_int_equal(vnic_state_add_addr(st, nlh), 0);
}

static const uint8_t eth0_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* lo, eth0 198.18.2.1/24 + 2001:db8:2::1/64, a foreign macvlan mv0 198.18.2.50. */
static struct vnic_state *base_state(void)
{
	static const uint8_t mv0_mac[6] = { 0x02, 0, 0, 0, 0, 0x50 };
	struct vnic_state *st = vnic_state_new();

	assert_non_null(st);
	add_link(st, 1, "lo", NULL, 0, 0, (const uint8_t *)"\0\0\0\0\0\0", NULL, true);
	add_link(st, 2, "eth0", "veth", 0, 0, eth0_mac, NULL, true);
	add_addr(st, 2, "198.18.2.1/24");
	add_addr(st, 2, "2001:db8:2::1/64");
	add_addr(st, 2, "fe80::5054:ff:fe12:3456/64");
	add_link(st, 3, "mv0", "macvlan", MACVLAN_MODE_BRIDGE, 2, mv0_mac, NULL, true);
	add_addr(st, 3, "198.18.2.50/24");
	return st;
}

static void spec(struct vnic_spec *s, const char *name, const char *folder, const char *a1,
		 const char *a2)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->parent, sizeof(s->parent), "eth0");
	snprintf(s->data_folder, sizeof(s->data_folder), "%s", folder);
	assert_int_equal(vnic_parse_addr(&s->addrs[s->naddrs++], a1), 0);
	if (a2)
		assert_int_equal(vnic_parse_addr(&s->addrs[s->naddrs++], a2), 0);
}

/* web1 exactly as spec() + reconcile would leave it. */
static void add_web1(struct vnic_state *st, int idx, bool up)
{
	uint8_t mac[6];

	vnic_mac_derive("web1", mac);
	add_link(st, idx, "web1", "macvlan", MACVLAN_MODE_BRIDGE, 2, mac, VNIC_MARKER, up);
	add_addr(st, idx, "198.18.2.11/24");
	add_addr(st, idx, "2001:db8:2::11/64");
	add_addr(st, idx, "fe80::1234/64");
}

static struct vnic_plan *build_ok(const struct vnic_spec *want, size_t n,
				  const struct vnic_state *have)
{
	struct vnic_plan *p = NULL;
	struct vnic_error err = { 0 };

	if (vnic_plan_build(want, n, have, &p, &err) < 0)
		fail_msg("plan failed: %s", err.msg);
	return p;
}

/* The plan as lines, for readable assertions. */
static const char *plan_text(const struct vnic_plan *p)
{
	static char out[4096];
	size_t used = 0;
	char line[256];

	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s\n",
					 vnic_action_format(&p->acts[i], line, sizeof(line)));
	return out;
}

/* ------------------------------------------------------------ pure helpers */

static void test_mac_derive(void **state)
{
	uint8_t a[6], b[6], c[6];
	char name[16], m[18];

	(void)state;
	vnic_mac_derive("web1", a);
	vnic_mac_derive("web1", b);
	vnic_mac_derive("web2", c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	/* Pinned: a vNIC keeps its MAC across coopnet versions (ARP caches, DHCP, firewalls). */
	assert_string_equal(vnic_mac_format(a, m, sizeof(m)), "da:52:f9:18:5f:a5");
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		vnic_mac_derive(name, a);
		assert_int_equal(a[0] & 0x02, 0x02);  /* locally administered */
		assert_int_equal(a[0] & 0x01, 0);     /* unicast */
	}
}

static void test_parse(void **state)
{
	struct vnic_addr a;
	uint8_t mac[6];
	char buf[VNIC_ADDRSTRLEN];

	(void)state;
	assert_int_equal(vnic_parse_mac(mac, "02:00:5e:10:00:01"), 0);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(mac[5], 0x01);
	assert_int_equal(vnic_parse_mac(mac, "02:00:5e:10:00"), -1);
	assert_int_equal(vnic_parse_mac(mac, "02-00-5e-10-00-01"), -1);
	assert_int_equal(vnic_parse_mac(mac, "02:00:5e:10:00:zz"), -1);
	assert_int_equal(vnic_parse_addr(&a, "198.18.2.11/24"), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(vnic_addr_format(&a, buf, sizeof(buf)), "198.18.2.11/24");
	assert_int_equal(vnic_parse_addr(&a, "2001:db8::5/64"), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(vnic_addr_format(&a, buf, sizeof(buf)), "2001:db8::5/64");
	assert_int_equal(vnic_parse_addr(&a, "198.18.2.11"), -1);
	assert_int_equal(vnic_parse_addr(&a, "198.18.2.11/33"), -1);
	assert_int_equal(vnic_parse_addr(&a, "198.18.2.11/2x"), -1);
	assert_int_equal(vnic_parse_addr(&a, "2001:db8::5/129"), -1);
	assert_int_equal(vnic_parse_addr(&a, "host/24"), -1);
}

/* ------------------------------------------------------------ plans */

static void test_plan_create(void **state)
{
	struct vnic_state *st = base_state();
	struct vnic_spec s;
	struct vnic_plan *p;
	uint8_t mac[6];

	(void)state;
	spec(&s, "web1", folder1, "198.18.2.11/24", "2001:db8:2::11/64");
	p = build_ok(&s, 1, st);
	vnic_mac_derive("web1", mac);
	assert_string_equal(plan_text(p),
		"create web1: macvlan bridge on eth0, mac da:52:f9:18:5f:a5 (missing)\n"
		"mark web1: alias coopnet:vnic (missing)\n"
		"set-up web1 (missing)\n"
		"add-addr web1: 198.18.2.11/24 (missing)\n"
		"add-addr web1: 2001:db8:2::11/64 (missing)\n");
	assert_int_equal(p->acts[0].parent_ifindex, 2);
	assert_memory_equal(p->acts[0].mac, mac, 6);
	vnic_plan_free(p);

	/* A given MAC wins over the derived one. */
	assert_int_equal(vnic_parse_mac(s.mac, "02:aa:bb:cc:dd:ee"), 0);
	s.mac_set = true;
	p = build_ok(&s, 1, st);
	assert_memory_equal(p->acts[0].mac, s.mac, 6);
	vnic_plan_free(p);
	vnic_state_free(st);
}

static void test_plan_idempotent(void **state)
{
	struct vnic_state *st = base_state();
	struct vnic_spec s;
	struct vnic_plan *p;

	(void)state;
	add_web1(st, 10, true);
	spec(&s, "web1", folder1, "198.18.2.11/24", "2001:db8:2::11/64");
	p = build_ok(&s, 1, st);
	assert_string_equal(plan_text(p), "");   /* link-local fe80:: left alone */
	assert_int_equal(p->n, 0);
	vnic_plan_free(p);
	vnic_state_free(st);
}

static void test_plan_drift(void **state)
{
	static const uint8_t other[6] = { 0x02, 0x11, 0x11, 0x11, 0x11, 0x11 };
	struct vnic_state *st;
	struct vnic_spec s;
	struct vnic_plan *p;

	(void)state;
	spec(&s, "web1", folder1, "198.18.2.11/24", "2001:db8:2::11/64");

	/* MAC changed by hand */
	st = base_state();
	add_link(st, 10, "web1", "macvlan", MACVLAN_MODE_BRIDGE, 2, other, VNIC_MARKER, true);
	add_addr(st, 10, "198.18.2.11/24");
	add_addr(st, 10, "2001:db8:2::11/64");
	p = build_ok(&s, 1, st);
	assert_string_equal(plan_text(p),
		"set-mac web1: 02:11:11:11:11:11 -> da:52:f9:18:5f:a5 (MAC drifted)\n");
	vnic_plan_free(p);
	vnic_state_free(st);

	/* down, one address lost, one extra, one with another prefix length */
	st = base_state();
	uint8_t mac[6];
	vnic_mac_derive("web1", mac);
	add_link(st, 10, "web1", "macvlan", MACVLAN_MODE_BRIDGE, 2, mac, VNIC_MARKER, false);
	add_addr(st, 10, "198.18.2.11/25");
	add_addr(st, 10, "198.18.2.99/24");
	p = build_ok(&s, 1, st);
	assert_string_equal(plan_text(p),
		"set-up web1 (was down)\n"
		"del-addr web1: 198.18.2.11/25 (not wanted)\n"
		"del-addr web1: 198.18.2.99/24 (not wanted)\n"
		"add-addr web1: 198.18.2.11/24 (missing address)\n"
		"add-addr web1: 2001:db8:2::11/64 (missing address)\n");
	vnic_plan_free(p);
	vnic_state_free(st);
}

static void test_plan_recreate(void **state)
{
	static const struct { const char *kind; uint32_t mode; int parent; const char *why; } c[] = {
		{ "macvlan", MACVLAN_MODE_VEPA, 2, "wrong macvlan mode" },
		{ "macvlan", MACVLAN_MODE_BRIDGE, 3, "wrong parent" },
		{ "dummy", 0, 0, "not a macvlan" },
	};
	char want[1024];
	uint8_t mac[6];

	(void)state;
	vnic_mac_derive("web1", mac);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vnic_state *st = base_state();
		struct vnic_spec s;
		struct vnic_plan *p;

		add_link(st, 10, "web1", c[i].kind, c[i].mode, c[i].parent, mac, VNIC_MARKER, true);
		add_addr(st, 10, "198.18.2.11/24");
		spec(&s, "web1", folder1, "198.18.2.11/24", NULL);
		p = build_ok(&s, 1, st);
		snprintf(want, sizeof(want),
			 "delete web1 (%s)\n"
			 "create web1: macvlan bridge on eth0, mac da:52:f9:18:5f:a5 (%s)\n"
			 "mark web1: alias coopnet:vnic (%s)\n"
			 "set-up web1 (%s)\n"
			 "add-addr web1: 198.18.2.11/24 (%s)\n",
			 c[i].why, c[i].why, c[i].why, c[i].why, c[i].why);
		assert_string_equal(plan_text(p), want);
		vnic_plan_free(p);
		vnic_state_free(st);
	}
}

static void test_plan_stale_and_foreign(void **state)
{
	struct vnic_state *st = base_state();
	struct vnic_spec s;
	struct vnic_plan *p;
	uint8_t mac[6];

	(void)state;
	add_web1(st, 10, true);
	vnic_mac_derive("old7", mac);
	add_link(st, 11, "old7", "macvlan", MACVLAN_MODE_BRIDGE, 2, mac, VNIC_MARKER, true);
	/* a marker-like but different alias is foreign too */
	mac[5] ^= 1;
	add_link(st, 12, "mine", "macvlan", MACVLAN_MODE_BRIDGE, 2, mac, "coopnet:vnicX", true);
	spec(&s, "web1", folder1, "198.18.2.11/24", "2001:db8:2::11/64");
	p = build_ok(&s, 1, st);
	/* old7 (ours, unwanted) goes; mv0, mine, eth0, lo are never named */
	assert_string_equal(plan_text(p), "delete old7 (stale)\n");
	vnic_plan_free(p);

	/* No spec at all: every marked link is stale, nothing else. */
	p = build_ok(NULL, 0, st);
	assert_string_equal(plan_text(p), "delete web1 (stale)\ndelete old7 (stale)\n");
	vnic_plan_free(p);
	vnic_state_free(st);
}

/* ------------------------------------------------------------ validation */

static void expect_error(struct vnic_spec *s, size_t n, const struct vnic_state *st,
			 const char *msg)
{
	struct vnic_plan *p = NULL;
	struct vnic_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(vnic_plan_build(s, n, st, &p, &err), -1);
	assert_null(p);
	assert_string_equal(err.msg, msg);
}

static void test_validation(void **state)
{
	struct vnic_state *st = base_state();
	struct vnic_spec s[2];
	char msg[512];

	(void)state;
	spec(&s[0], "web1", folder1, "198.19.9.5/24", NULL);
	expect_error(s, 1, st, "vnic \"web1\": address 198.19.9.5/24 is outside parent \"eth0\" "
		     "subnets 198.18.2.0/24");
	spec(&s[0], "web1", folder1, "2001:db8:9::5/64", NULL);
	expect_error(s, 1, st, "vnic \"web1\": address 2001:db8:9::5/64 is outside parent "
		     "\"eth0\" subnets 2001:db8:2::/64");

	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	snprintf(s[0].parent, sizeof(s[0].parent), "eth9");
	expect_error(s, 1, st, "vnic \"web1\": parent interface \"eth9\" does not exist");

	spec(&s[0], "mv0", folder1, "198.18.2.11/24", NULL);
	expect_error(s, 1, st, "vnic \"mv0\": an interface named \"mv0\" exists and was not "
		     "created by coopnet (its alias is not \"coopnet:vnic\"); choose another name");

	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	spec(&s[1], "web2", folder2, "198.18.2.12/24", NULL);
	assert_int_equal(vnic_parse_mac(s[0].mac, "02:aa:bb:cc:dd:ee"), 0);
	memcpy(s[1].mac, s[0].mac, 6);
	s[0].mac_set = s[1].mac_set = true;
	expect_error(s, 2, st, "vnic \"web2\": MAC 02:aa:bb:cc:dd:ee is also used by vnic \"web1\"");

	memcpy(s[0].mac, eth0_mac, 6);
	expect_error(s, 1, st, "vnic \"web1\": MAC 52:54:00:12:34:56 is already used by "
		     "interface \"eth0\"");
	assert_int_equal(vnic_parse_mac(s[0].mac, "03:aa:bb:cc:dd:ee"), 0);
	expect_error(s, 1, st, "vnic \"web1\": MAC 03:aa:bb:cc:dd:ee is not a unicast address "
		     "(clear bit 0 of the first octet)");

	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	spec(&s[1], "web2", folder2, "198.18.2.11/24", NULL);
	expect_error(s, 2, st, "vnic \"web2\": address 198.18.2.11 is also used by vnic \"web1\"");
	spec(&s[1], "web1", folder2, "198.18.2.12/24", NULL);
	expect_error(s, 2, st, "vnic \"web1\": listed twice");

	spec(&s[0], "web1", folder1, "198.18.2.1/24", NULL);
	expect_error(s, 1, st, "vnic \"web1\": address 198.18.2.1 is already used by interface "
		     "\"eth0\"");
	spec(&s[0], "web1", folder1, "198.18.2.50/24", NULL);
	expect_error(s, 1, st, "vnic \"web1\": address 198.18.2.50 is already used by interface "
		     "\"mv0\"");
	spec(&s[0], "web1", folder1, "198.18.2.11/24", "198.18.2.11/24");
	expect_error(s, 1, st, "vnic \"web1\": address 198.18.2.11 is listed twice");

	snprintf(msg, sizeof(msg), "%s/nope", tmpdir);
	spec(&s[0], "web1", msg, "198.18.2.11/24", NULL);
	snprintf(msg, sizeof(msg), "vnic \"web1\": data folder \"%s/nope\" does not exist: No such "
		 "file or directory", tmpdir);
	expect_error(s, 1, st, msg);
	spec(&s[0], "web1", afile, "198.18.2.11/24", NULL);
	snprintf(msg, sizeof(msg), "vnic \"web1\": data folder \"%s\" is not a directory", afile);
	expect_error(s, 1, st, msg);
	spec(&s[0], "web1", "", "198.18.2.11/24", NULL);
	expect_error(s, 1, st, "vnic \"web1\": data folder is missing");

	spec(&s[0], "we/b1", folder1, "198.18.2.11/24", NULL);
	expect_error(s, 1, st, "vnic entry: invalid interface name \"we/b1\" (1 to 15 characters, "
		     "no '/', ':' or spaces)");
	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	s[0].naddrs = 0;
	expect_error(s, 1, st, "vnic \"web1\": needs 1 to 4 addresses, has 0");

	/* The parent has no IPv6 subnet at all. */
	vnic_state_free(st);
	st = vnic_state_new();
	add_link(st, 2, "eth0", "veth", 0, 0, eth0_mac, NULL, true);
	add_addr(st, 2, "198.18.2.1/24");
	add_addr(st, 2, "fe80::1/64");
	spec(&s[0], "web1", folder1, "2001:db8:2::11/64", NULL);
	expect_error(s, 1, st, "vnic \"web1\": address 2001:db8:2::11/64: parent \"eth0\" has no "
		     "IPv6 subnet");
	vnic_state_free(st);
}

/* ------------------------------------------------------------ messages */

static void test_msg_roundtrip(void **state)
{
	struct vnic_state *st = vnic_state_new();
	struct vnic_action a;
	char buf[1024], small[1024];
	struct nlmsghdr *nlh;
	const struct vnic_link *l;
	size_t need;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.type = VNIC_ACT_CREATE;
	snprintf(a.name, sizeof(a.name), "web1");
	a.parent_ifindex = 7;
	vnic_mac_derive("web1", a.mac);
	nlh = vnic_msg_build(buf, sizeof(buf), &a, 0, 42);
	assert_non_null(nlh);
	assert_int_equal(nlh->nlmsg_seq, 42);
	assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_true(nlh->nlmsg_flags & NLM_F_EXCL);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(vnic_state_add_link(st, nlh), 0);
	l = vnic_state_find(st, "web1");
	assert_non_null(l);
	assert_string_equal(l->kind, "macvlan");
	assert_true(l->has_mode);
	assert_int_equal(l->mode, MACVLAN_MODE_BRIDGE);
	assert_int_equal(l->link, 7);
	assert_memory_equal(l->mac, a.mac, 6);

	/* Every put is checked: each buffer shorter than the message fails cleanly. */
	need = nlh->nlmsg_len;
	for (size_t sz = 0; sz < need; sz++)
		assert_null(vnic_msg_build(small, sz, &a, 0, 1));
	assert_non_null(vnic_msg_build(small, need, &a, 0, 1));

	a.type = VNIC_ACT_MARK;
	nlh = vnic_msg_build(buf, sizeof(buf), &a, 0, 43);
	assert_non_null(nlh);
	vnic_state_free(st);
	st = vnic_state_new();
	assert_int_equal(vnic_state_add_link(st, nlh), 0);
	assert_string_equal(vnic_state_find(st, "web1")->alias, VNIC_MARKER);

	/* IPv6 address: NODAD in both the header and IFA_FLAGS */
	a.type = VNIC_ACT_ADD_ADDR;
	assert_int_equal(vnic_parse_addr(&a.addr, "2001:db8:2::11/64"), 0);
	assert_null(vnic_msg_build(buf, sizeof(buf), &a, 0, 44));   /* no ifindex */
	nlh = vnic_msg_build(buf, sizeof(buf), &a, 5, 44);
	assert_non_null(nlh);
	{
		/* parse back: the state's link 5 gets the address */
		struct vnic_state *s2 = vnic_state_new();
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		const struct nlattr *at;
		bool flags = false;

		add_link(s2, 5, "web1", NULL, 0, 0, NULL, NULL, true);
		nlh->nlmsg_type = RTM_NEWADDR;
		assert_int_equal(vnic_state_add_addr(s2, nlh), 0);
		assert_int_equal(s2->links[0].naddrs, 1);
		assert_memory_equal(s2->links[0].addrs[0].addr, a.addr.addr, 16);
		assert_int_equal(s2->links[0].addrs[0].prefixlen, 64);
		assert_int_equal(ifa->ifa_flags & IFA_F_NODAD, IFA_F_NODAD);
		mnl_attr_for_each(at, nlh, sizeof(*ifa)) {
			if (mnl_attr_get_type(at) == IFA_FLAGS) {
				assert_int_equal(mnl_attr_validate(at, MNL_TYPE_U32), 0);
				assert_int_equal(mnl_attr_get_u32(at) & IFA_F_NODAD, IFA_F_NODAD);
				flags = true;
			}
		}
		assert_true(flags);
		vnic_state_free(s2);
	}
	vnic_state_free(st);
}

static void test_parse_malformed(void **state)
{
	struct vnic_state *st = vnic_state_new();
	char buf[256];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	(void)state;
	/* IFLA_LINK with 2 bytes instead of 4 */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 9;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "x");
	mnl_attr_put_u16(nlh, IFLA_LINK, 2);
	assert_int_equal(vnic_state_add_link(st, nlh), -1);
	/* name not NUL-terminated */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	mnl_attr_put(nlh, IFLA_IFNAME, 3, "abc");
	assert_int_equal(vnic_state_add_link(st, nlh), -1);
	/* name too long for IFNAMSIZ */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "a-name-that-is-far-too-long");
	assert_int_equal(vnic_state_add_link(st, nlh), -1);
	/* header shorter than ifinfomsg */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(vnic_state_add_link(st, nlh), -1);
	/* address of the wrong length for its family */
	add_link(st, 2, "eth0", NULL, 0, 0, NULL, NULL, true);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	{
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_INET;
		ifa->ifa_index = 2;
		ifa->ifa_prefixlen = 24;
		mnl_attr_put(nlh, IFA_LOCAL, 16, "0123456789abcdef");
	}
	assert_int_equal(vnic_state_add_addr(st, nlh), -1);
	assert_int_equal(st->nlinks, 1);
	assert_int_equal(st->links[0].naddrs, 0);
	vnic_state_free(st);
}

/* ------------------------------------------------------------ fake kernel */

/* Replies queued by __wrap_mnl_socket_sendto, handed out by __wrap_mnl_socket_recvfrom. The
 * fake keeps the set of links so a test can check the rollback left nothing behind. */
#define FK_MAX 64
static struct {
	int fail_at;                 /* 1-based message number that gets an error */
	int nsent;
	char sent[FK_MAX][512];
	char reply[8][512];
	size_t reply_len[8];
	int nreply, rhead;
	char links[16][IFNAMSIZ];
	int nlinks;
	int naddrs;                  /* addresses added minus removed */
} fk;

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);

static void fk_reset(int fail_at)
{
	memset(&fk, 0, sizeof(fk));
	fk.fail_at = fail_at;
}

static void fk_queue_err(const struct nlmsghdr *req, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(fk.reply[fk.nreply]);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = req->nlmsg_seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *req;
	fk.reply_len[fk.nreply++] = nlh->nlmsg_len;
}

static const char *fk_name(const struct nlmsghdr *nlh)
{
	const struct nlattr *at;

	mnl_attr_for_each(at, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(at) == IFLA_IFNAME)
			return mnl_attr_get_str(at);
	return "";
}

static int fk_find(const char *name)
{
	for (int i = 0; i < fk.nlinks; i++)
		if (strcmp(fk.links[i], name) == 0)
			return i;
	return -1;
}

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	const struct nlmsghdr *nlh = req;
	int i;

	(void)nl;
	assert_true(siz <= sizeof(fk.sent[0]));
	assert_true(fk.nsent < FK_MAX);
	memcpy(fk.sent[fk.nsent++], req, siz);
	fk.nreply = fk.rhead = 0;
	if (fk.nsent == fk.fail_at) {
		fk_queue_err(nlh, -EBUSY);
		return (ssize_t)siz;
	}
	switch (nlh->nlmsg_type) {
	case RTM_GETLINK: {
		struct nlmsghdr *r = mnl_nlmsg_put_header(fk.reply[fk.nreply]);
		struct ifinfomsg *ifi;

		r->nlmsg_type = RTM_NEWLINK;
		r->nlmsg_seq = nlh->nlmsg_seq;
		ifi = mnl_nlmsg_put_extra_header(r, sizeof(*ifi));
		i = fk_find(fk_name(nlh));
		ifi->ifi_index = i < 0 ? 0 : 100 + i;
		mnl_attr_put_strz(r, IFLA_IFNAME, fk_name(nlh));
		fk.reply_len[fk.nreply++] = r->nlmsg_len;
		if (i < 0) {
			fk.nreply = 0;
			fk_queue_err(nlh, -ENODEV);
			return (ssize_t)siz;
		}
		break;
	}
	case RTM_NEWLINK:
		if (nlh->nlmsg_flags & NLM_F_CREATE) {
			if (fk_find(fk_name(nlh)) >= 0) {
				fk_queue_err(nlh, -EEXIST);
				return (ssize_t)siz;
			}
			snprintf(fk.links[fk.nlinks++], IFNAMSIZ, "%s", fk_name(nlh));
		} else if (fk_find(fk_name(nlh)) < 0) {
			fk_queue_err(nlh, -ENODEV);
			return (ssize_t)siz;
		}
		break;
	case RTM_DELLINK:
		i = fk_find(fk_name(nlh));
		if (i < 0) {
			fk_queue_err(nlh, -ENODEV);
			return (ssize_t)siz;
		}
		memmove(fk.links[i], fk.links[i + 1], (size_t)(fk.nlinks - i - 1) * IFNAMSIZ);
		fk.nlinks--;
		break;
	case RTM_NEWADDR:
		fk.naddrs++;
		break;
	case RTM_DELADDR:
		fk.naddrs--;
		break;
	}
	fk_queue_err(nlh, 0);   /* the ack */
	return (ssize_t)siz;
}

ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	(void)nl;
	if (fk.rhead >= fk.nreply) {
		errno = EAGAIN;   /* would block forever on a real socket: a bug */
		return -1;
	}
	assert_true(fk.reply_len[fk.rhead] <= siz);
	memcpy(buf, fk.reply[fk.rhead], fk.reply_len[fk.rhead]);
	return (ssize_t)fk.reply_len[fk.rhead++];
}

static const struct nlmsghdr *fk_msg(int i)
{
	return (const struct nlmsghdr *)fk.sent[i];
}

static void test_apply_ok(void **state)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct vnic_state *st = base_state();
	struct vnic_spec s[2];
	struct vnic_plan *p;
	struct vnic_report rep;
	struct vnic_error err;

	(void)state;
	assert_non_null(nl);
	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	spec(&s[1], "web2", folder2, "198.18.2.12/24", "2001:db8:2::12/64");
	p = build_ok(s, 2, st);
	fk_reset(0);
	assert_int_equal(vnic_plan_apply(nl, p, &rep, &err), 0);
	assert_int_equal(fk.nlinks, 2);
	assert_int_equal(fk.naddrs, 3);
	assert_int_equal(rep.created, 2);
	assert_int_equal(rep.nactions, p->n);
	assert_false(rep.rolled_back);
	vnic_plan_free(p);
	vnic_state_free(st);
	mnl_socket_close(nl);
}

/* Fail on each message in turn: afterwards the fake kernel holds no link and no address
 * this run added, and the error names the failed action. */
static void test_apply_rollback_every_step(void **state)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct vnic_state *st = base_state();
	struct vnic_spec s[2];
	struct vnic_plan *p;
	struct vnic_report rep;
	struct vnic_error err;
	int total;

	(void)state;
	spec(&s[0], "web1", folder1, "198.18.2.11/24", NULL);
	spec(&s[1], "web2", folder2, "198.18.2.12/24", "2001:db8:2::12/64");
	p = build_ok(s, 2, st);
	fk_reset(0);
	assert_int_equal(vnic_plan_apply(nl, p, &rep, &err), 0);
	total = fk.nsent;
	assert_true(total > 10);
	for (int n = 1; n <= total; n++) {
		fk_reset(n);
		memset(&err, 0, sizeof(err));
		assert_int_equal(vnic_plan_apply(nl, p, &rep, &err), -1);
		assert_true(rep.rolled_back);
		assert_int_equal(rep.rollback_failed, 0);
		assert_int_equal(fk.nlinks, 0);
		assert_non_null(strstr(err.msg, "Device or resource busy"));
		assert_non_null(strstr(err.msg, "rolled back"));
	}
	/* Failure on web2's set-up (message 8): web2 then web1 deleted, in that order. */
	fk_reset(8);
	assert_int_equal(vnic_plan_apply(nl, p, &rep, &err), -1);
	assert_string_equal(err.msg, "vnic \"web2\": set-up web2 (missing): Device or resource "
			    "busy; rolled back this run's 6 earlier action(s)");
	assert_int_equal(fk.nsent, 10);
	assert_int_equal(fk_msg(8)->nlmsg_type, RTM_DELLINK);
	assert_string_equal(fk_name(fk_msg(8)), "web2");
	assert_int_equal(fk_msg(9)->nlmsg_type, RTM_DELLINK);
	assert_string_equal(fk_name(fk_msg(9)), "web1");
	vnic_plan_free(p);
	vnic_state_free(st);
	mnl_socket_close(nl);
}

/* Drift repair that fails: the MAC set earlier in the run is set back. */
static void test_apply_rollback_drift(void **state)
{
	static const uint8_t other[6] = { 0x02, 0x11, 0x11, 0x11, 0x11, 0x11 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct vnic_state *st = base_state(), *back;
	struct vnic_spec s;
	struct vnic_plan *p;
	struct vnic_report rep;
	struct vnic_error err;
	struct nlmsghdr *last;

	(void)state;
	add_link(st, 10, "web1", "macvlan", MACVLAN_MODE_BRIDGE, 2, other, VNIC_MARKER, true);
	spec(&s, "web1", folder1, "198.18.2.11/24", NULL);
	p = build_ok(&s, 1, st);
	assert_string_equal(plan_text(p),
		"set-mac web1: 02:11:11:11:11:11 -> da:52:f9:18:5f:a5 (MAC drifted)\n"
		"add-addr web1: 198.18.2.11/24 (missing address)\n");
	fk_reset(3);   /* 1 set-mac, 2 getlink, 3 newaddr */
	snprintf(fk.links[fk.nlinks++], IFNAMSIZ, "web1");
	assert_int_equal(vnic_plan_apply(nl, p, &rep, &err), -1);
	assert_int_equal(fk.nsent, 4);
	last = (struct nlmsghdr *)fk.sent[3];
	assert_int_equal(last->nlmsg_type, RTM_NEWLINK);
	back = vnic_state_new();
	assert_int_equal(vnic_state_add_link(back, last), 0);
	assert_memory_equal(back->links[0].mac, other, 6);
	vnic_state_free(back);
	vnic_plan_free(p);
	vnic_state_free(st);
	mnl_socket_close(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_derive),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_plan_create),
		cmocka_unit_test(test_plan_idempotent),
		cmocka_unit_test(test_plan_drift),
		cmocka_unit_test(test_plan_recreate),
		cmocka_unit_test(test_plan_stale_and_foreign),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_msg_roundtrip),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_apply_ok),
		cmocka_unit_test(test_apply_rollback_every_step),
		cmocka_unit_test(test_apply_rollback_drift),
	};

	return cmocka_run_group_tests(tests, setup_dirs, teardown_dirs);
}
