/* SPDX-License-Identifier: MIT */
/* Netlink reads checked before libmnl walks them, and one request with its answers (rtnetlink:
 * lib/vnic_nl.c, bench/link_gso.c). */
#ifndef COOPNET_NLTALK_H
#define COOPNET_NLTALK_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether len bytes read from a netlink socket are whole messages: each header complete, its
 * nlmsg_len at least a header and within what is left (the last one's alignment padding may be
 * missing). Checked before libmnl walks a read: libmnl 1.0.4's mnl_nlmsg_ok() takes an
 * nlmsg_len of 2^31 or more as valid (a signed comparison) and the walk then leaves the
 * buffer. The kernel never sends such a read; nothing that parses one trusts that. */
bool nl_framed(const void *buf, size_t len);

/* The errno an NLMSG_ERROR's error field stands for: -error for a kernel errno (-4095 to -1),
 * 0 for an ack, EPROTO for anything else (a positive value, INT_MIN, which has no negation). */
int nl_errno(int error);

/* Send nlh (NLM_F_ACK set, or a dump) and run cb (NULL: none) on each answer until the kernel's
 * ack or NLMSG_DONE. 0 on success; -1 with errno (the kernel's; EBADMSG for a read that is not
 * whole messages, nl_framed; E2BIG after 2^20 reads) and, when extack_size is not 0, the
 * kernel's extended-ack message in extack ("" when it sent none). Not thread-safe: one static
 * receive buffer. */
int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *extack,
	    size_t extack_size);

#endif
