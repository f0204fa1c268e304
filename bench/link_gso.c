/* SPDX-License-Identifier: MIT */
/*
 * link_gso: set the largest GSO and GRO packet of a link (IPv4 and IPv6, "BIG TCP") and read
 * it back. A measurement aid of bench/cpupaths.sh (GSO_MAX=): Debian 12's iproute2 (6.1) sets
 * gso_max_size but not the IPv4 limits (IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE, Linux
 * 6.3), and an IPv4 sender's packets follow those.
 *
 *   link_gso DEV BYTES      in the link's network namespace; exit 0 only when the kernel
 *                           reports all four limits at BYTES
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include "nltalk.h"

/* Linux 6.3's uapi; the installed headers may be older */
#define LINK_GSO_IPV4_MAX_SIZE 63
#define LINK_GRO_IPV4_MAX_SIZE 64
#define N_LIMITS 4

static const uint16_t limits[N_LIMITS] = {
	IFLA_GSO_MAX_SIZE,
	IFLA_GRO_MAX_SIZE,
	LINK_GSO_IPV4_MAX_SIZE,
	LINK_GRO_IPV4_MAX_SIZE,
};
static const char *const limit_names[N_LIMITS] = {
	"gso_max_size",
	"gro_max_size",
	"gso_ipv4_max_size",
	"gro_ipv4_max_size",
};

struct readback { /* per entry of limits[] */
	uint32_t value[N_LIMITS];
	int seen[N_LIMITS];
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct readback *rb = data;
	uint16_t type = mnl_attr_get_type(attr);

	for (size_t i = 0; i < N_LIMITS; i++) {
		if (type != limits[i])
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		rb->value[i] = mnl_attr_get_u32(attr);
		rb->seen[i] = 1;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_ERROR;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), attr_cb, data);
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, unsigned int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	return nlh;
}

int main(int argc, char **argv)
{
	char buf[8192], extack[256];
	const struct timeval timeout = {.tv_sec = 5};
	struct readback rb = {0};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int ifindex;
	unsigned long bytes;
	char *end;
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: link_gso DEV BYTES\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (ifindex == 0) {
		fprintf(stderr, "link_gso: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	errno = 0;
	bytes = strtoul(argv[2], &end, 10);
	if (errno || end == argv[2] || *end || bytes < 1280 || bytes > 524280) {
		fprintf(stderr, "link_gso: BYTES is 1280 to 524280, not '%s'\n", argv[2]);
		return 2;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	/* an answer that never comes ends the run after 5 s instead of hanging the bench */
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		perror("link_gso: netlink");
		return 1;
	}
	nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK, ifindex);
	for (size_t i = 0; i < N_LIMITS; i++)
		mnl_attr_put_u32(nlh, limits[i], (uint32_t)bytes);
	if (nl_talk(nl, nlh, NULL, NULL, extack, sizeof(extack)) < 0) {
		fprintf(stderr, "link_gso: %s: setting %lu: %s%s%s\n", argv[1], bytes, strerror(errno),
			*extack ? ": " : "", extack);
		mnl_socket_close(nl);
		return 1;
	}
	nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK, ifindex);
	if (nl_talk(nl, nlh, link_cb, &rb, extack, sizeof(extack)) < 0) {
		fprintf(stderr, "link_gso: %s: reading back: %s%s%s\n", argv[1], strerror(errno),
			*extack ? ": " : "", extack);
		mnl_socket_close(nl);
		return 1;
	}
	mnl_socket_close(nl);
	/* an older kernel ignores the attributes it does not know: check every one */
	for (size_t i = 0; i < N_LIMITS; i++) {
		if (!rb.seen[i] || rb.value[i] != bytes) {
			fprintf(stderr, "link_gso: %s: %s is %s%" PRIu32 ", not %lu (Linux 6.3 or later needed)\n",
				argv[1], limit_names[i], rb.seen[i] ? "" : "absent: ", rb.value[i], bytes);
			bad = 1;
		}
	}
	return bad;
}
