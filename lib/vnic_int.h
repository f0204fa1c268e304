/* SPDX-License-Identifier: MIT */
/* vnic_int.h: what lib/vnic.c (state), vnic_plan.c (plan) and vnic_nl.c (netlink, apply)
 * share; not part of the API (vnic.h). */
#ifndef COOPNET_VNIC_INT_H
#define COOPNET_VNIC_INT_H

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "vnic.h"

struct nlattr;
struct nlmsghdr;

/* Fill err (NULL-safe): code, the vNIC's name (may be NULL) and the message. */
void __attribute__((format(printf, 4, 5)))
vnic_set_err(struct vnic_error *err, int code, const char *vnic, const char *fmt, ...);
/* The address without its prefix length, for messages. */
const char *vnic_addr_ip(const struct vnic_addr *a, char *buf, size_t size);
/* a with the host bits cleared. */
void vnic_addr_network(const struct vnic_addr *a, struct vnic_addr *net);
/* Copy a string attribute into dst; -1 when it does not fit. */
int vnic_copy_str(char *dst, size_t size, const struct nlattr *attr);
/* An RTM_NEWLINK message into l, every attribute validated; -1 when malformed. */
int vnic_parse_link(struct vnic_link *l, const struct nlmsghdr *nlh);

static inline size_t vnic_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static inline bool vnic_addr_same_ip(const struct vnic_addr *a, const struct vnic_addr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, vnic_addr_len(a->family)) == 0;
}

static inline bool vnic_addr_equal(const struct vnic_addr *a, const struct vnic_addr *b)
{
	return vnic_addr_same_ip(a, b) && a->prefixlen == b->prefixlen;
}

/* fe80::/10: the kernel adds one per link; never ours to manage. */
static inline bool vnic_addr_is_linklocal6(const struct vnic_addr *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

static inline bool vnic_link_is_ours(const struct vnic_link *l)
{
	return strcmp(l->alias, VNIC_MARKER) == 0;
}

#endif
