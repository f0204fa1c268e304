/* SPDX-License-Identifier: MIT */
/* vNICs: checking the wanted specs against the kernel state and planning the actions
 * (vnic.h); pure, no I/O. */
#include "config.h"

#include "vnic.h"
#include "vnic_int.h"
#include "grow.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>

/* ---------------------------------------------------------------- plan */

void vnic_plan_free(struct vnic_plan *p)
{
	if (p == NULL)
		return;
	free(p->acts);
	free(p);
}

static struct vnic_action *plan_add(struct vnic_plan *p, enum vnic_action_type type,
				    const char *name, const char *reason)
{
	struct vnic_action *a;

	a = grow(p->acts, p->n, &p->cap, sizeof(*a), 8);
	if (a == NULL)
		return NULL;
	p->acts = a;
	a = &p->acts[p->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	return a;
}

const char *vnic_action_format(const struct vnic_action *a, char *buf, size_t size)
{
	char s[VNIC_ADDRSTRLEN], m[18], o[18];

	switch (a->type) {
	case VNIC_ACT_CREATE:
		snprintf(buf, size, "create %s: macvlan bridge on %s, mac %s (%s)", a->name,
			 a->parent, vnic_mac_format(a->mac, m, sizeof(m)), a->reason);
		break;
	case VNIC_ACT_DELETE:
		snprintf(buf, size, "delete %s (%s)", a->name, a->reason);
		break;
	case VNIC_ACT_MARK:
		snprintf(buf, size, "mark %s: alias %s (%s)", a->name, VNIC_MARKER, a->reason);
		break;
	case VNIC_ACT_SET_MAC:
		snprintf(buf, size, "set-mac %s: %s -> %s (%s)", a->name,
			 vnic_mac_format(a->old_mac, o, sizeof(o)),
			 vnic_mac_format(a->mac, m, sizeof(m)), a->reason);
		break;
	case VNIC_ACT_ADD_ADDR:
	case VNIC_ACT_DEL_ADDR:
		snprintf(buf, size, "%s %s: %s (%s)",
			 a->type == VNIC_ACT_ADD_ADDR ? "add-addr" : "del-addr", a->name,
			 vnic_addr_format(&a->addr, s, sizeof(s)), a->reason);
		break;
	case VNIC_ACT_SET_UP:
	case VNIC_ACT_SET_DOWN:
		snprintf(buf, size, "%s %s (%s)", a->type == VNIC_ACT_SET_UP ? "set-up" : "set-down",
			 a->name, a->reason);
		break;
	}
	return buf;
}

static void spec_mac(const struct vnic_spec *s, uint8_t mac[6])
{
	if (s->mac_set)
		memcpy(mac, s->mac, 6);
	else
		vnic_mac_derive(s->name, mac);
}

static bool name_ok(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] <= ' ' || name[i] == 0x7f)
			return false;
	return true;
}

/* One spec alone: names, addresses, MAC, data folder. */
static int check_spec_alone(const struct vnic_spec *s, struct vnic_error *err)
{
	char a[VNIC_ADDRSTRLEN];
	struct stat sb;
	uint8_t mac[6];

	if (!name_ok(s->name)) {
		vnic_set_err(err, EINVAL, NULL, "vnic entry: invalid interface name \"%.*s\" (1 to %d "
			"characters, no '/', ':' or spaces)", IFNAMSIZ, s->name, IFNAMSIZ - 1);
		return -1;
	}
	if (!name_ok(s->parent) || strcmp(s->parent, s->name) == 0) {
		vnic_set_err(err, EINVAL, s->name, "invalid parent interface name \"%.*s\"", IFNAMSIZ,
			s->parent);
		return -1;
	}
	if (s->naddrs == 0 || s->naddrs > VNIC_MAX_ADDRS) {
		vnic_set_err(err, EINVAL, s->name, "needs 1 to %d addresses, has %zu", VNIC_MAX_ADDRS,
			s->naddrs);
		return -1;
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		const struct vnic_addr *x = &s->addrs[i];

		if ((x->family != AF_INET && x->family != AF_INET6) || x->prefixlen < 1 ||
		    x->prefixlen > (x->family == AF_INET ? 32 : 128) || vnic_addr_is_linklocal6(x)) {
			vnic_set_err(err, EINVAL, s->name, "invalid address %s (IPv4 or global IPv6 with "
				"a prefix length)", vnic_addr_format(x, a, sizeof(a)));
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (vnic_addr_same_ip(x, &s->addrs[j])) {
				vnic_set_err(err, EINVAL, s->name, "address %s is listed twice",
					vnic_addr_ip(x, a, sizeof(a)));
				return -1;
			}
	}
	spec_mac(s, mac);
	if ((mac[0] & 0x01) || memcmp(mac, "\0\0\0\0\0\0", 6) == 0) {
		vnic_set_err(err, EINVAL, s->name, "MAC %s is not a unicast address (clear bit 0 of the "
			"first octet)", vnic_mac_format(mac, a, sizeof(a)));
		return -1;
	}
	if (s->data_folder[0] == '\0' || strnlen(s->data_folder, PATH_MAX) == PATH_MAX) {
		vnic_set_err(err, EINVAL, s->name, "data folder is missing");
		return -1;
	}
	if (stat(s->data_folder, &sb) < 0) {
		vnic_set_err(err, errno, s->name, "data folder \"%s\" does not exist: %s", s->data_folder,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		vnic_set_err(err, ENOTDIR, s->name, "data folder \"%s\" is not a directory",
			s->data_folder);
		return -1;
	}
	return 0;
}

static int check_parent(const struct vnic_spec *s, const struct vnic_state *have,
			struct vnic_error *err)
{
	const struct vnic_link *p = vnic_state_find(have, s->parent);
	char a[VNIC_ADDRSTRLEN], nets[256];

	if (p == NULL) {
		vnic_set_err(err, ENODEV, s->name, "parent interface \"%s\" does not exist", s->parent);
		return -1;
	}
	if (vnic_link_is_ours(p)) {
		vnic_set_err(err, EINVAL, s->name, "parent \"%s\" is itself a coopnet vNIC", s->parent);
		return -1;
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		const struct vnic_addr *x = &s->addrs[i];
		size_t used = 0;
		bool inside = false;

		nets[0] = '\0';
		for (size_t j = 0; j < p->naddrs && !inside; j++) {
			struct vnic_addr net;
			char n[VNIC_ADDRSTRLEN];
			int w;

			if (p->addrs[j].family != x->family || vnic_addr_is_linklocal6(&p->addrs[j]))
				continue;
			inside = vnic_addr_in_prefix(x, &p->addrs[j]);
			vnic_addr_network(&p->addrs[j], &net);
			w = snprintf(nets + used, sizeof(nets) - used, "%s%s", used ? ", " : "",
				     vnic_addr_format(&net, n, sizeof(n)));
			if (w > 0 && used + (size_t)w < sizeof(nets))
				used += (size_t)w;
		}
		if (inside)
			continue;
		if (used == 0)
			vnic_set_err(err, EADDRNOTAVAIL, s->name, "address %s: parent \"%s\" has no %s "
				"subnet", vnic_addr_format(x, a, sizeof(a)), s->parent,
				x->family == AF_INET ? "IPv4" : "IPv6");
		else
			vnic_set_err(err, EADDRNOTAVAIL, s->name, "address %s is outside parent \"%s\" "
				"subnets %s", vnic_addr_format(x, a, sizeof(a)), s->parent, nets);
		return -1;
	}
	return 0;
}

/* Clashes with the other specs and with interfaces coopnet does not own. */
static int check_clashes(const struct vnic_spec *want, size_t i, const struct vnic_state *have,
			 struct vnic_error *err)
{
	const struct vnic_spec *s = &want[i];
	const struct vnic_link *l = vnic_state_find(have, s->name);
	char a[VNIC_ADDRSTRLEN];
	uint8_t mac[6], mac2[6];

	if (l && !vnic_link_is_ours(l)) {
		vnic_set_err(err, EEXIST, s->name, "an interface named \"%s\" exists and was not created "
			"by coopnet (its alias is not \"%s\"); choose another name", s->name,
			VNIC_MARKER);
		return -1;
	}
	spec_mac(s, mac);
	for (size_t j = 0; j < i; j++) {
		if (strcmp(want[j].name, s->name) == 0) {
			vnic_set_err(err, EEXIST, s->name, "listed twice");
			return -1;
		}
		spec_mac(&want[j], mac2);
		if (memcmp(mac, mac2, 6) == 0) {
			vnic_set_err(err, EEXIST, s->name, "MAC %s is also used by vnic \"%s\"",
				vnic_mac_format(mac, a, sizeof(a)), want[j].name);
			return -1;
		}
		for (size_t k = 0; k < s->naddrs; k++)
			for (size_t m = 0; m < want[j].naddrs; m++)
				if (vnic_addr_same_ip(&s->addrs[k], &want[j].addrs[m])) {
					vnic_set_err(err, EEXIST, s->name, "address %s is also used by "
						"vnic \"%s\"", vnic_addr_ip(&s->addrs[k], a, sizeof(a)),
						want[j].name);
					return -1;
				}
	}
	for (size_t j = 0; j < have->nlinks; j++) {
		const struct vnic_link *f = &have->links[j];

		if (vnic_link_is_ours(f))
			continue;
		if (f->has_mac && memcmp(f->mac, mac, 6) == 0) {
			vnic_set_err(err, EEXIST, s->name, "MAC %s is already used by interface \"%s\"",
				vnic_mac_format(mac, a, sizeof(a)), f->name);
			return -1;
		}
		for (size_t k = 0; k < s->naddrs; k++)
			for (size_t m = 0; m < f->naddrs; m++)
				if (vnic_addr_same_ip(&s->addrs[k], &f->addrs[m])) {
					vnic_set_err(err, EEXIST, s->name, "address %s is already used by "
						"interface \"%s\"", vnic_addr_ip(&s->addrs[k], a, sizeof(a)),
						f->name);
					return -1;
				}
	}
	return 0;
}

static bool spec_has_addr(const struct vnic_spec *s, const struct vnic_addr *x)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (vnic_addr_equal(&s->addrs[i], x))
			return true;
	return false;
}

static bool link_has_addr(const struct vnic_link *l, const struct vnic_addr *x)
{
	for (size_t i = 0; i < l->naddrs; i++)
		if (vnic_addr_equal(&l->addrs[i], x))
			return true;
	return false;
}

#define PLAN_ADD(p, t, n, r) \
	do { if ((a = plan_add(p, t, n, r)) == NULL) return -1; } while (0)

static int plan_create(struct vnic_plan *p, const struct vnic_spec *s, int parent_ifindex,
		       const char *reason)
{
	struct vnic_action *a;

	PLAN_ADD(p, VNIC_ACT_CREATE, s->name, reason);
	snprintf(a->parent, sizeof(a->parent), "%s", s->parent);
	a->parent_ifindex = parent_ifindex;
	spec_mac(s, a->mac);
	PLAN_ADD(p, VNIC_ACT_MARK, s->name, reason);
	PLAN_ADD(p, VNIC_ACT_SET_UP, s->name, reason);
	for (size_t i = 0; i < s->naddrs; i++) {
		PLAN_ADD(p, VNIC_ACT_ADD_ADDR, s->name, reason);
		a->addr = s->addrs[i];
	}
	return 0;
}

/* An existing link of ours: recreate it or fix what drifted. */
static int plan_update(struct vnic_plan *p, const struct vnic_spec *s, const struct vnic_link *l,
		       const struct vnic_link *parent)
{
	const char *why = NULL;
	struct vnic_action *a;
	uint8_t mac[6];

	if (strcmp(l->kind, "macvlan") != 0)
		why = "not a macvlan";
	else if (!l->has_mode || l->mode != MACVLAN_MODE_BRIDGE)
		why = "wrong macvlan mode";
	else if (l->link != parent->ifindex)
		why = "wrong parent";
	if (why) {
		PLAN_ADD(p, VNIC_ACT_DELETE, s->name, why);
		return plan_create(p, s, parent->ifindex, why);
	}
	spec_mac(s, mac);
	if (!l->has_mac || memcmp(l->mac, mac, 6) != 0) {
		PLAN_ADD(p, VNIC_ACT_SET_MAC, s->name, "MAC drifted");
		memcpy(a->mac, mac, 6);
		memcpy(a->old_mac, l->mac, 6);
	}
	if (!l->up)
		PLAN_ADD(p, VNIC_ACT_SET_UP, s->name, "was down");
	for (size_t i = 0; i < l->naddrs; i++) {
		if (vnic_addr_is_linklocal6(&l->addrs[i]) || spec_has_addr(s, &l->addrs[i]))
			continue;
		PLAN_ADD(p, VNIC_ACT_DEL_ADDR, s->name, "not wanted");
		a->addr = l->addrs[i];
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		if (link_has_addr(l, &s->addrs[i]))
			continue;
		PLAN_ADD(p, VNIC_ACT_ADD_ADDR, s->name, "missing address");
		a->addr = s->addrs[i];
	}
	return 0;
}

static bool wanted(const struct vnic_spec *want, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(want[i].name, name) == 0)
			return true;
	return false;
}

int vnic_plan_build(const struct vnic_spec *want, size_t n, const struct vnic_state *have,
		    struct vnic_plan **out, struct vnic_error *err)
{
	struct vnic_plan *p;
	struct vnic_action *a;

	for (size_t i = 0; i < n; i++)
		if (check_spec_alone(&want[i], err) < 0 || check_parent(&want[i], have, err) < 0 ||
		    check_clashes(want, i, have, err) < 0)
			return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct vnic_link *l = vnic_state_find(have, want[i].name);
		const struct vnic_link *parent = vnic_state_find(have, want[i].parent);

		if ((l ? plan_update(p, &want[i], l, parent)
		       : plan_create(p, &want[i], parent->ifindex, "missing")) < 0)
			goto oom;
	}
	/* Stale vNICs last: a delete cannot be rolled back. */
	for (size_t i = 0; i < have->nlinks; i++) {
		const struct vnic_link *l = &have->links[i];

		if (vnic_link_is_ours(l) && !wanted(want, n, l->name) &&
		    (a = plan_add(p, VNIC_ACT_DELETE, l->name, "stale")) == NULL)
			goto oom;
	}
	*out = p;
	return 0;
oom:
	vnic_plan_free(p);
	vnic_set_err(err, ENOMEM, NULL, "out of memory");
	return -1;
}

