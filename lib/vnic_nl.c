/* SPDX-License-Identifier: MIT */
/* vNICs: rtnetlink I/O, the messages of each action, and applying a plan with rollback
 * (vnic.h). */
#include "config.h"

#include "vnic.h"
#include "vnic_int.h"
#include "log.h"
#include "nltalk.h"

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
		vnic_set_err(err, errno, NULL, "out of memory");
		return -1;
	}
	if (nl_talk(nl, dump_req(buf, RTM_GETLINK, sizeof(struct ifinfomsg)), dump_link_cb, st,
		    extack, sizeof(extack)) < 0) {
		vnic_set_err(err, errno, NULL, "link dump: %s%s%s", strerror(errno),
			*extack ? ": " : "", extack);
		goto fail;
	}
	if (nl_talk(nl, dump_req(buf, RTM_GETADDR, sizeof(struct ifaddrmsg)), dump_addr_cb, st,
		    extack, sizeof(extack)) < 0) {
		vnic_set_err(err, errno, NULL, "address dump: %s%s%s", strerror(errno),
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
	size_t alen = vnic_addr_len(a->addr.family);
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

/* ---------------------------------------------------------------- apply */

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vnic_link l;

	if (nlh->nlmsg_type != RTM_NEWLINK || vnic_parse_link(&l, nlh) < 0) {
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

	if (extack_size > 0)
		extack[0] = '\0'; /* every return below leaves a string, kernel's or empty */
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
			vnic_set_err(err, saved, a->name, "%s: %s%s%s; rolled back this run's %zu earlier "
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
		vnic_set_err(err, errno, NULL, "rtnetlink socket: %s", strerror(errno));
		return -1;
	}
	/* Best effort: kernel error strings make the report clearer. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		vnic_set_err(err, errno, NULL, "rtnetlink bind: %s", strerror(errno));
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
