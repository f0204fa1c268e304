/* SPDX-License-Identifier: MIT */
/*
 * vNIC reconciler over rtnetlink (libmnl). See vnic.h for the API and docs/vnics.md for the
 * rules. Messages are built in the caller's buffer with every put checked against its size
 * (mnl_attr_put_*_check); every attribute the kernel returns is validated before use.
 */
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

/* ---------------------------------------------------------------- errors */

void vnic_set_err(struct vnic_error *err, int code, const char *vnic, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (err == NULL)
		return;
	err->code = code;
	snprintf(err->vnic, sizeof(err->vnic), "%s", vnic ? vnic : "");
	if (vnic)
		n = snprintf(err->msg, sizeof(err->msg), "vnic \"%s\": ", vnic);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- pure helpers */

void vnic_mac_derive(const char *name, uint8_t mac[6])
{
	static const char salt[] = "coopnet:vnic:";
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a 64 */
	const char *p;

	for (p = salt; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	for (p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);  /* locally administered, unicast */
}

int vnic_parse_mac(uint8_t mac[6], const char *text)
{
	unsigned int b[6];
	char tail;

	if (text == NULL || strlen(text) != 17)
		return -1;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (text[i * 3 + 2] != ':' && i < 5)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

int vnic_parse_addr(struct vnic_addr *a, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen;
	struct vnic_addr tmp;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, strlen(text) + 1);
	slash = strchr(buf, '/');
	if (slash == NULL || slash[1] == '\0')
		return -1;
	*slash = '\0';
	memset(&tmp, 0, sizeof(tmp));
	if (inet_pton(AF_INET, buf, tmp.addr) == 1)
		tmp.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, tmp.addr) == 1)
		tmp.family = AF_INET6;
	else
		return -1;
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (errno || *end != '\0' || plen < 0 || plen > (tmp.family == AF_INET ? 32 : 128))
		return -1;
	tmp.prefixlen = (int)plen;
	*a = tmp;
	return 0;
}

const char *vnic_addr_format(const struct vnic_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%d", ip, a->prefixlen);
	return buf;
}

const char *vnic_addr_ip(const struct vnic_addr *a, char *buf, size_t size)
{
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

const char *vnic_mac_format(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

bool vnic_addr_in_prefix(const struct vnic_addr *a, const struct vnic_addr *b)
{
	int bits = b->prefixlen;

	if (a->family != b->family)
		return false;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((a->addr[i] & mask) != (b->addr[i] & mask))
			return false;
	}
	return true;
}

void vnic_addr_network(const struct vnic_addr *a, struct vnic_addr *net)
{
	int bits = a->prefixlen;

	*net = *a;
	for (size_t i = 0; i < 16; i++, bits -= 8) {
		if (bits >= 8)
			continue;
		net->addr[i] &= bits > 0 ? (uint8_t)(0xff << (8 - bits)) : 0;
	}
}

/* ---------------------------------------------------------------- state */

struct vnic_state *vnic_state_new(void)
{
	return calloc(1, sizeof(struct vnic_state));
}

void vnic_state_free(struct vnic_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nlinks; i++)
		free(st->links[i].addrs);
	free(st->links);
	free(st);
}

const struct vnic_link *vnic_state_find(const struct vnic_state *st, const char *name)
{
	for (size_t i = 0; i < st->nlinks; i++)
		if (strcmp(st->links[i].name, name) == 0)
			return &st->links[i];
	return NULL;
}

const struct vnic_link *vnic_state_find_index(const struct vnic_state *st, int ifindex)
{
	for (size_t i = 0; i < st->nlinks; i++)
		if (st->links[i].ifindex == ifindex)
			return &st->links[i];
	return NULL;
}

/* Store attributes whose type is known and whose payload passes mnl_attr_validate. */
struct attr_tb {
	const struct nlattr **tb;
	uint16_t max;
	const enum mnl_attr_data_type *types;  /* MNL_TYPE_UNSPEC: keep without check */
};

static int attr_store_cb(const struct nlattr *attr, void *data)
{
	struct attr_tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type > t->max)
		return MNL_CB_OK;   /* newer kernel attribute: ignore */
	if (t->types[type] != MNL_TYPE_UNSPEC && mnl_attr_validate(attr, t->types[type]) < 0)
		return MNL_CB_ERROR;
	t->tb[type] = attr;
	return MNL_CB_OK;
}

int vnic_copy_str(char *dst, size_t size, const struct nlattr *attr)
{
	const char *s = mnl_attr_get_str(attr);
	size_t len = strnlen(s, mnl_attr_get_payload_len(attr));

	if (len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int parse_linkinfo(struct vnic_link *l, const struct nlattr *linkinfo)
{
	static const enum mnl_attr_data_type info_types[IFLA_INFO_MAX + 1] = {
		[IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
		[IFLA_INFO_DATA] = MNL_TYPE_NESTED,
	};
	static const enum mnl_attr_data_type mv_types[IFLA_MACVLAN_MAX + 1] = {
		[IFLA_MACVLAN_MODE] = MNL_TYPE_U32,
	};
	const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };
	const struct nlattr *mv[IFLA_MACVLAN_MAX + 1] = { 0 };
	struct attr_tb t = { info, IFLA_INFO_MAX, info_types };
	struct attr_tb tm = { mv, IFLA_MACVLAN_MAX, mv_types };

	if (mnl_attr_parse_nested(linkinfo, attr_store_cb, &t) < 0)
		return -1;
	if (info[IFLA_INFO_KIND] && vnic_copy_str(l->kind, sizeof(l->kind), info[IFLA_INFO_KIND]) < 0)
		return -1;
	if (strcmp(l->kind, "macvlan") != 0 || info[IFLA_INFO_DATA] == NULL)
		return 0;
	if (mnl_attr_parse_nested(info[IFLA_INFO_DATA], attr_store_cb, &tm) < 0)
		return -1;
	if (mv[IFLA_MACVLAN_MODE]) {
		l->has_mode = true;
		l->mode = mnl_attr_get_u32(mv[IFLA_MACVLAN_MODE]);
	}
	return 0;
}

int vnic_parse_link(struct vnic_link *l, const struct nlmsghdr *nlh)
{
	static const enum mnl_attr_data_type types[IFLA_MAX + 1] = {
		[IFLA_IFNAME] = MNL_TYPE_NUL_STRING,
		[IFLA_ADDRESS] = MNL_TYPE_BINARY,
		[IFLA_IFALIAS] = MNL_TYPE_NUL_STRING,
		[IFLA_LINK] = MNL_TYPE_U32,
		[IFLA_LINKINFO] = MNL_TYPE_NESTED,
	};
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFLA_MAX, types };
	const struct ifinfomsg *ifi;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -1;
	ifi = mnl_nlmsg_get_payload(nlh);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = (ifi->ifi_flags & IFF_UP) != 0;
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_store_cb, &t) < 0)
		return -1;
	if (tb[IFLA_IFNAME] == NULL || vnic_copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]) < 0)
		return -1;
	if (tb[IFLA_IFALIAS] && vnic_copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]) < 0)
		return -1;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		l->has_mac = true;
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	}
	if (tb[IFLA_LINK])
		l->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINKINFO] && parse_linkinfo(l, tb[IFLA_LINKINFO]) < 0)
		return -1;
	return 0;
}

int vnic_state_add_link(struct vnic_state *st, const struct nlmsghdr *nlh)
{
	struct vnic_link l, *n;

	if (nlh->nlmsg_type != RTM_NEWLINK || vnic_parse_link(&l, nlh) < 0) {
		errno = EBADMSG;
		return -1;
	}
	n = grow(st->links, st->nlinks, &st->cap, sizeof(*n), 16);
	if (n == NULL)
		return -1;
	st->links = n;
	st->links[st->nlinks++] = l;
	return 0;
}

int vnic_state_add_addr(struct vnic_state *st, const struct nlmsghdr *nlh)
{
	static const enum mnl_attr_data_type types[IFA_MAX + 1] = {
		[IFA_ADDRESS] = MNL_TYPE_BINARY,
		[IFA_LOCAL] = MNL_TYPE_BINARY,
	};
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFA_MAX, types };
	const struct ifaddrmsg *ifa;
	const struct nlattr *at;
	struct vnic_link *l = NULL;
	struct vnic_addr a, *n;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		goto bad;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_store_cb, &t) < 0)
		goto bad;
	/* IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS the peer's on p2p). */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (at == NULL || mnl_attr_get_payload_len(at) != vnic_addr_len(ifa->ifa_family) ||
	    ifa->ifa_prefixlen > (ifa->ifa_family == AF_INET ? 32 : 128))
		goto bad;
	memset(&a, 0, sizeof(a));
	a.family = ifa->ifa_family;
	a.prefixlen = ifa->ifa_prefixlen;
	memcpy(a.addr, mnl_attr_get_payload(at), vnic_addr_len(a.family));
	for (size_t i = 0; i < st->nlinks; i++)
		if (st->links[i].ifindex == (int)ifa->ifa_index)
			l = &st->links[i];
	if (l == NULL)
		return 0;   /* link appeared after the link dump: next run sees it */
	n = grow(l->addrs, l->naddrs, &l->addrs_cap, sizeof(*n), 4);
	if (n == NULL)
		return -1;
	l->addrs = n;
	l->addrs[l->naddrs++] = a;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

