/* SPDX-License-Identifier: MIT */
/*
 * vNIC reconciler over rtnetlink (libmnl). See vnic.h for the API and docs/vnics.md for the
 * rules. Messages are built in the caller's buffer with every put checked against its size
 * (mnl_attr_put_*_check); every attribute the kernel returns is validated before use.
 */
#include "config.h"

#include "vnic.h"
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

static void __attribute__((format(printf, 4, 5)))
set_err(struct vnic_error *err, int code, const char *vnic, const char *fmt, ...)
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

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

const char *vnic_addr_format(const struct vnic_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%d", ip, a->prefixlen);
	return buf;
}

static const char *addr_ip(const struct vnic_addr *a, char *buf, size_t size)
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

static bool addr_same_ip(const struct vnic_addr *a, const struct vnic_addr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

static bool addr_equal(const struct vnic_addr *a, const struct vnic_addr *b)
{
	return addr_same_ip(a, b) && a->prefixlen == b->prefixlen;
}

/* fe80::/10: the kernel adds one per link; never ours to manage. */
static bool addr_is_linklocal6(const struct vnic_addr *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

static void addr_network(const struct vnic_addr *a, struct vnic_addr *net)
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

static bool link_is_ours(const struct vnic_link *l)
{
	return strcmp(l->alias, VNIC_MARKER) == 0;
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

static int copy_str(char *dst, size_t size, const struct nlattr *attr)
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
	if (info[IFLA_INFO_KIND] && copy_str(l->kind, sizeof(l->kind), info[IFLA_INFO_KIND]) < 0)
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

static int parse_link(struct vnic_link *l, const struct nlmsghdr *nlh)
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
	if (tb[IFLA_IFNAME] == NULL || copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]) < 0)
		return -1;
	if (tb[IFLA_IFALIAS] && copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]) < 0)
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

	if (nlh->nlmsg_type != RTM_NEWLINK || parse_link(&l, nlh) < 0) {
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
	if (at == NULL || mnl_attr_get_payload_len(at) != addr_len(ifa->ifa_family) ||
	    ifa->ifa_prefixlen > (ifa->ifa_family == AF_INET ? 32 : 128))
		goto bad;
	memset(&a, 0, sizeof(a));
	a.family = ifa->ifa_family;
	a.prefixlen = ifa->ifa_prefixlen;
	memcpy(a.addr, mnl_attr_get_payload(at), addr_len(a.family));
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

/* ---------------------------------------------------------------- netlink I/O */

struct talk {
	mnl_cb_t cb;
	void *data;
	char extack[256];
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* NLMSG_ERROR: errno from the kernel plus its extended-ack message when there is one. */
static int talk_err_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e;
	size_t off, plen = mnl_nlmsg_get_payload_len(nlh);
	const struct nlattr *attr;

	if (plen < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len >= sizeof(struct nlmsghdr) ?
				       e->msg.nlmsg_len - sizeof(struct nlmsghdr) : 0;
		if (off <= plen) {
			mnl_attr_for_each(attr, nlh, off) {
				if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
				    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
					copy_str(t->extack, sizeof(t->extack), attr);
			}
		}
	}
	errno = e->error < 0 ? -e->error : EPROTO;
	return MNL_CB_ERROR;
}

static int talk_done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int talk_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int talk_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

/* Send nlh, run cb on each reply until the ack or NLMSG_DONE. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		   char *extack, size_t extack_size)
{
	static char buf[1 << 16];
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	struct talk t = { cb, data, "" };
	uint32_t portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	ssize_t r;
	int ret;

	/* With a control array, libmnl skips its defaults: give all four. */
	ctl[NLMSG_NOOP] = talk_noop_cb;
	ctl[NLMSG_ERROR] = talk_err_cb;
	ctl[NLMSG_DONE] = talk_done_cb;
	ctl[NLMSG_OVERRUN] = talk_overrun_cb;
	if (extack_size)
		extack[0] = '\0';
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* Bounded: a dump of 1M messages is far beyond any SP. */
	for (int i = 0; i < (1 << 20); i++) {
		r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			return -1;
		ret = mnl_cb_run2(buf, (size_t)r, seq, portid, talk_data_cb, &t, ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR) {
			if (extack_size)
				snprintf(extack, extack_size, "%s", t.extack);
			return -1;
		}
		if (ret == MNL_CB_STOP)
			return 0;
	}
	errno = E2BIG;
	return -1;
}

static uint32_t next_seq(void)
{
	static uint32_t seq;

	if (seq == 0)
		seq = (uint32_t)time(NULL);
	return ++seq;
}

static int dump_link_cb(const struct nlmsghdr *nlh, void *data)
{
	return vnic_state_add_link(data, nlh) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int dump_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	return vnic_state_add_addr(data, nlh) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static struct nlmsghdr *dump_req(void *buf, uint16_t type, size_t hdrlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = next_seq();
	g = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	g->rtgen_family = AF_UNSPEC;
	return nlh;
}

int vnic_state_read(struct mnl_socket *nl, struct vnic_state **out, struct vnic_error *err)
{
	char buf[8192];
	char extack[256];
	struct vnic_state *st = vnic_state_new();

	if (st == NULL) {
		set_err(err, errno, NULL, "out of memory");
		return -1;
	}
	if (nl_talk(nl, dump_req(buf, RTM_GETLINK, sizeof(struct ifinfomsg)), dump_link_cb, st,
		    extack, sizeof(extack)) < 0) {
		set_err(err, errno, NULL, "link dump: %s%s%s", strerror(errno),
			*extack ? ": " : "", extack);
		goto fail;
	}
	if (nl_talk(nl, dump_req(buf, RTM_GETADDR, sizeof(struct ifaddrmsg)), dump_addr_cb, st,
		    extack, sizeof(extack)) < 0) {
		set_err(err, errno, NULL, "address dump: %s%s%s", strerror(errno),
			*extack ? ": " : "", extack);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	vnic_state_free(st);
	return -1;
}

/* ---------------------------------------------------------------- messages */

static struct nlmsghdr *link_req(void *buf, size_t size, uint16_t type, uint16_t flags,
				 const char *name, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifi)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (!mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, name))
		return NULL;
	return nlh;
}

static struct nlmsghdr *msg_create(void *buf, size_t size, const struct vnic_action *a,
				   uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo, *data;

	nlh = link_req(buf, size, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, a->name,
		       seq);
	if (nlh == NULL ||
	    !mnl_attr_put_u32_check(nlh, size, IFLA_LINK, (uint32_t)a->parent_ifindex) ||
	    !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, 6, a->mac))
		return NULL;
	if ((linkinfo = mnl_attr_nest_start_check(nlh, size, IFLA_LINKINFO)) == NULL ||
	    !mnl_attr_put_strz_check(nlh, size, IFLA_INFO_KIND, "macvlan") ||
	    (data = mnl_attr_nest_start_check(nlh, size, IFLA_INFO_DATA)) == NULL ||
	    !mnl_attr_put_u32_check(nlh, size, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE))
		return NULL;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nlh;
}

static struct nlmsghdr *msg_addr(void *buf, size_t size, const struct vnic_action *a,
				 int ifindex, uint32_t seq)
{
	bool add = a->type == VNIC_ACT_ADD_ADDR;
	size_t alen = addr_len(a->addr.family);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifa)) || ifindex <= 0)
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->addr.family;
	ifa->ifa_prefixlen = (uint8_t)a->addr.prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	if (a->addr.family == AF_INET &&
	    !mnl_attr_put_check(nlh, size, IFA_LOCAL, alen, a->addr.addr))
		return NULL;
	if (!mnl_attr_put_check(nlh, size, IFA_ADDRESS, alen, a->addr.addr))
		return NULL;
	if (add && a->addr.family == AF_INET6) {
		/* No duplicate address detection: the address is usable at once. */
		ifa->ifa_flags = IFA_F_NODAD;
		if (!mnl_attr_put_u32_check(nlh, size, IFA_FLAGS, IFA_F_NODAD))
			return NULL;
	}
	return nlh;
}

struct nlmsghdr *vnic_msg_build(void *buf, size_t size, const struct vnic_action *a,
				int ifindex, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	switch (a->type) {
	case VNIC_ACT_CREATE:
		return msg_create(buf, size, a, seq);
	case VNIC_ACT_DELETE:
		return link_req(buf, size, RTM_DELLINK, NLM_F_ACK, a->name, seq);
	case VNIC_ACT_SET_MAC:
		nlh = link_req(buf, size, RTM_NEWLINK, NLM_F_ACK, a->name, seq);
		if (nlh == NULL || !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, 6, a->mac))
			return NULL;
		return nlh;
	case VNIC_ACT_MARK:
		nlh = link_req(buf, size, RTM_NEWLINK, NLM_F_ACK, a->name, seq);
		if (nlh == NULL || !mnl_attr_put_strz_check(nlh, size, IFLA_IFALIAS, VNIC_MARKER))
			return NULL;
		return nlh;
	case VNIC_ACT_SET_UP:
	case VNIC_ACT_SET_DOWN:
		nlh = link_req(buf, size, RTM_NEWLINK, NLM_F_ACK, a->name, seq);
		if (nlh == NULL)
			return NULL;
		ifi = mnl_nlmsg_get_payload(nlh);
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = a->type == VNIC_ACT_SET_UP ? IFF_UP : 0;
		return nlh;
	case VNIC_ACT_ADD_ADDR:
	case VNIC_ACT_DEL_ADDR:
		return msg_addr(buf, size, a, ifindex, seq);
	}
	return NULL;
}

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
		set_err(err, EINVAL, NULL, "vnic entry: invalid interface name \"%.*s\" (1 to %d "
			"characters, no '/', ':' or spaces)", IFNAMSIZ, s->name, IFNAMSIZ - 1);
		return -1;
	}
	if (!name_ok(s->parent) || strcmp(s->parent, s->name) == 0) {
		set_err(err, EINVAL, s->name, "invalid parent interface name \"%.*s\"", IFNAMSIZ,
			s->parent);
		return -1;
	}
	if (s->naddrs == 0 || s->naddrs > VNIC_MAX_ADDRS) {
		set_err(err, EINVAL, s->name, "needs 1 to %d addresses, has %zu", VNIC_MAX_ADDRS,
			s->naddrs);
		return -1;
	}
	for (size_t i = 0; i < s->naddrs; i++) {
		const struct vnic_addr *x = &s->addrs[i];

		if ((x->family != AF_INET && x->family != AF_INET6) || x->prefixlen < 1 ||
		    x->prefixlen > (x->family == AF_INET ? 32 : 128) || addr_is_linklocal6(x)) {
			set_err(err, EINVAL, s->name, "invalid address %s (IPv4 or global IPv6 with "
				"a prefix length)", vnic_addr_format(x, a, sizeof(a)));
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (addr_same_ip(x, &s->addrs[j])) {
				set_err(err, EINVAL, s->name, "address %s is listed twice",
					addr_ip(x, a, sizeof(a)));
				return -1;
			}
	}
	spec_mac(s, mac);
	if ((mac[0] & 0x01) || memcmp(mac, "\0\0\0\0\0\0", 6) == 0) {
		set_err(err, EINVAL, s->name, "MAC %s is not a unicast address (clear bit 0 of the "
			"first octet)", vnic_mac_format(mac, a, sizeof(a)));
		return -1;
	}
	if (s->data_folder[0] == '\0' || strnlen(s->data_folder, PATH_MAX) == PATH_MAX) {
		set_err(err, EINVAL, s->name, "data folder is missing");
		return -1;
	}
	if (stat(s->data_folder, &sb) < 0) {
		set_err(err, errno, s->name, "data folder \"%s\" does not exist: %s", s->data_folder,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		set_err(err, ENOTDIR, s->name, "data folder \"%s\" is not a directory",
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
		set_err(err, ENODEV, s->name, "parent interface \"%s\" does not exist", s->parent);
		return -1;
	}
	if (link_is_ours(p)) {
		set_err(err, EINVAL, s->name, "parent \"%s\" is itself a coopnet vNIC", s->parent);
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

			if (p->addrs[j].family != x->family || addr_is_linklocal6(&p->addrs[j]))
				continue;
			inside = vnic_addr_in_prefix(x, &p->addrs[j]);
			addr_network(&p->addrs[j], &net);
			w = snprintf(nets + used, sizeof(nets) - used, "%s%s", used ? ", " : "",
				     vnic_addr_format(&net, n, sizeof(n)));
			if (w > 0 && used + (size_t)w < sizeof(nets))
				used += (size_t)w;
		}
		if (inside)
			continue;
		if (used == 0)
			set_err(err, EADDRNOTAVAIL, s->name, "address %s: parent \"%s\" has no %s "
				"subnet", vnic_addr_format(x, a, sizeof(a)), s->parent,
				x->family == AF_INET ? "IPv4" : "IPv6");
		else
			set_err(err, EADDRNOTAVAIL, s->name, "address %s is outside parent \"%s\" "
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

	if (l && !link_is_ours(l)) {
		set_err(err, EEXIST, s->name, "an interface named \"%s\" exists and was not created "
			"by coopnet (its alias is not \"%s\"); choose another name", s->name,
			VNIC_MARKER);
		return -1;
	}
	spec_mac(s, mac);
	for (size_t j = 0; j < i; j++) {
		if (strcmp(want[j].name, s->name) == 0) {
			set_err(err, EEXIST, s->name, "listed twice");
			return -1;
		}
		spec_mac(&want[j], mac2);
		if (memcmp(mac, mac2, 6) == 0) {
			set_err(err, EEXIST, s->name, "MAC %s is also used by vnic \"%s\"",
				vnic_mac_format(mac, a, sizeof(a)), want[j].name);
			return -1;
		}
		for (size_t k = 0; k < s->naddrs; k++)
			for (size_t m = 0; m < want[j].naddrs; m++)
				if (addr_same_ip(&s->addrs[k], &want[j].addrs[m])) {
					set_err(err, EEXIST, s->name, "address %s is also used by "
						"vnic \"%s\"", addr_ip(&s->addrs[k], a, sizeof(a)),
						want[j].name);
					return -1;
				}
	}
	for (size_t j = 0; j < have->nlinks; j++) {
		const struct vnic_link *f = &have->links[j];

		if (link_is_ours(f))
			continue;
		if (f->has_mac && memcmp(f->mac, mac, 6) == 0) {
			set_err(err, EEXIST, s->name, "MAC %s is already used by interface \"%s\"",
				vnic_mac_format(mac, a, sizeof(a)), f->name);
			return -1;
		}
		for (size_t k = 0; k < s->naddrs; k++)
			for (size_t m = 0; m < f->naddrs; m++)
				if (addr_same_ip(&s->addrs[k], &f->addrs[m])) {
					set_err(err, EEXIST, s->name, "address %s is already used by "
						"interface \"%s\"", addr_ip(&s->addrs[k], a, sizeof(a)),
						f->name);
					return -1;
				}
	}
	return 0;
}

static bool spec_has_addr(const struct vnic_spec *s, const struct vnic_addr *x)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (addr_equal(&s->addrs[i], x))
			return true;
	return false;
}

static bool link_has_addr(const struct vnic_link *l, const struct vnic_addr *x)
{
	for (size_t i = 0; i < l->naddrs; i++)
		if (addr_equal(&l->addrs[i], x))
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
		if (addr_is_linklocal6(&l->addrs[i]) || spec_has_addr(s, &l->addrs[i]))
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

		if (link_is_ours(l) && !wanted(want, n, l->name) &&
		    (a = plan_add(p, VNIC_ACT_DELETE, l->name, "stale")) == NULL)
			goto oom;
	}
	*out = p;
	return 0;
oom:
	vnic_plan_free(p);
	set_err(err, ENOMEM, NULL, "out of memory");
	return -1;
}

/* ---------------------------------------------------------------- apply */

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vnic_link l;

	if (nlh->nlmsg_type != RTM_NEWLINK || parse_link(&l, nlh) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	*(int *)data = l.ifindex;
	return MNL_CB_OK;
}

static int resolve_ifindex(struct mnl_socket *nl, const char *name, int *ifindex,
			   char *extack, size_t extack_size)
{
	char buf[256];
	struct nlmsghdr *nlh;

	nlh = link_req(buf, sizeof(buf), RTM_GETLINK, NLM_F_ACK, name, next_seq());
	if (nlh == NULL) {
		errno = ENOBUFS;
		return -1;
	}
	*ifindex = 0;
	if (nl_talk(nl, nlh, ifindex_cb, ifindex, extack, extack_size) < 0)
		return -1;
	if (*ifindex <= 0) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

static int apply_one(struct mnl_socket *nl, const struct vnic_action *a, char *extack,
		     size_t extack_size)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	int ifindex = 0;

	if ((a->type == VNIC_ACT_ADD_ADDR || a->type == VNIC_ACT_DEL_ADDR) &&
	    resolve_ifindex(nl, a->name, &ifindex, extack, extack_size) < 0)
		return -1;
	if ((nlh = vnic_msg_build(buf, sizeof(buf), a, ifindex, next_seq())) == NULL) {
		errno = ENOBUFS;
		return -1;
	}
	return nl_talk(nl, nlh, NULL, NULL, extack, extack_size);
}

/* The action undoing a; false when there is none (a delete cannot be undone). */
static bool undo_of(const struct vnic_action *a, struct vnic_action *u)
{
	*u = *a;
	snprintf(u->reason, sizeof(u->reason), "rollback");
	switch (a->type) {
	case VNIC_ACT_CREATE:
		u->type = VNIC_ACT_DELETE;
		return true;
	case VNIC_ACT_ADD_ADDR:
		u->type = VNIC_ACT_DEL_ADDR;
		return true;
	case VNIC_ACT_DEL_ADDR:
		u->type = VNIC_ACT_ADD_ADDR;
		return true;
	case VNIC_ACT_SET_MAC:
		memcpy(u->mac, a->old_mac, 6);
		memcpy(u->old_mac, a->mac, 6);
		return true;
	case VNIC_ACT_SET_UP:
		u->type = VNIC_ACT_SET_DOWN;
		return true;
	case VNIC_ACT_SET_DOWN:
		u->type = VNIC_ACT_SET_UP;
		return true;
	case VNIC_ACT_MARK:     /* only on a link this run created: its delete undoes it */
	case VNIC_ACT_DELETE:
		break;
	}
	return false;
}

static void rollback(struct mnl_socket *nl, const struct vnic_plan *p, size_t done,
		     struct vnic_report *rep)
{
	char line[256], extack[256];
	struct vnic_action u;

	for (size_t i = done; i-- > 0;) {
		/* Everything on a link this run created goes with its delete. */
		if (p->acts[i].type != VNIC_ACT_CREATE) {
			bool created_here = false;

			for (size_t j = 0; j < i; j++)
				if (p->acts[j].type == VNIC_ACT_CREATE &&
				    strcmp(p->acts[j].name, p->acts[i].name) == 0)
					created_here = true;
			if (created_here)
				continue;
		}
		if (!undo_of(&p->acts[i], &u)) {
			log_warnx("vnic: rollback: cannot undo \"%s\"",
				  vnic_action_format(&p->acts[i], line, sizeof(line)));
			rep->rollback_failed++;
			continue;
		}
		if (apply_one(nl, &u, extack, sizeof(extack)) < 0) {
			log_warn("vnic: rollback: %s failed%s%s",
				 vnic_action_format(&u, line, sizeof(line)), *extack ? ": " : "",
				 extack);
			rep->rollback_failed++;
		} else {
			log_info("vnic: rollback: %s", vnic_action_format(&u, line, sizeof(line)));
		}
	}
	rep->rolled_back = true;
	rep->nactions = rep->created = rep->deleted = rep->changed = 0;
}

int vnic_plan_apply(struct mnl_socket *nl, const struct vnic_plan *p, struct vnic_report *rep,
		    struct vnic_error *err)
{
	struct vnic_report dummy;
	char line[256], extack[256];

	if (rep == NULL)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < p->n; i++) {
		const struct vnic_action *a = &p->acts[i];

		if (apply_one(nl, a, extack, sizeof(extack)) < 0) {
			int saved = errno;

			vnic_action_format(a, line, sizeof(line));
			rollback(nl, p, i, rep);
			set_err(err, saved, a->name, "%s: %s%s%s; rolled back this run's %zu earlier "
				"action(s)%s", line, strerror(saved), *extack ? ": " : "", extack, i,
				rep->rollback_failed ? " (some could not be undone, see log)" : "");
			return -1;
		}
		log_info("vnic: %s", vnic_action_format(a, line, sizeof(line)));
		rep->nactions++;
		if (a->type == VNIC_ACT_CREATE)
			rep->created++;
		else if (a->type == VNIC_ACT_DELETE)
			rep->deleted++;
		else
			rep->changed++;
	}
	return 0;
}

int vnic_reconcile(const struct vnic_spec *want, size_t n, struct vnic_report *rep,
		   struct vnic_error *err)
{
	struct mnl_socket *nl;
	struct vnic_state *have = NULL;
	struct vnic_plan *plan = NULL;
	int one = 1, ret = -1;

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL) {
		set_err(err, errno, NULL, "rtnetlink socket: %s", strerror(errno));
		return -1;
	}
	/* Best effort: kernel error strings make the report clearer. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		set_err(err, errno, NULL, "rtnetlink bind: %s", strerror(errno));
		goto out;
	}
	if (vnic_state_read(nl, &have, err) < 0 ||
	    vnic_plan_build(want, n, have, &plan, err) < 0 ||
	    vnic_plan_apply(nl, plan, rep, err) < 0)
		goto out;
	ret = 0;
out:
	vnic_plan_free(plan);
	vnic_state_free(have);
	mnl_socket_close(nl);
	return ret;
}
