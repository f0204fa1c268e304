/* SPDX-License-Identifier: MIT */
/* One netlink request and its answers, for rtnetlink (lib/vnic_nl.c, bench/link_gso.c). */
#ifndef COOPNET_NLTALK_H
#define COOPNET_NLTALK_H

#include <libmnl/libmnl.h>
#include <stddef.h>

/* Send nlh (NLM_F_ACK set, or a dump) and run cb (NULL: none) on each answer until the kernel's
 * ack or NLMSG_DONE. 0 on success; -1 with errno (the kernel's, or E2BIG after 2^20 reads) and,
 * when extack_size is not 0, the kernel's extended-ack message in extack ("" when it sent
 * none). Not thread-safe: one static receive buffer. */
int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *extack,
	    size_t extack_size);

#endif
