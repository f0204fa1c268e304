/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kernel's rtnetlink answers: nl_talk (lib/nltalk.c) and the vNIC
 * state parser behind it (vnic_state_read: the link and address dumps, lib/vnic.c), against
 * a fake kernel (-Wl,--wrap of mnl_socket_sendto and mnl_socket_recvfrom) whose answers are
 * the input: chunks of [u16 length, little-endian][bytes], one read each; after the last
 * chunk a read fails (a real socket would block).
 *
 * Promises checked: vnic_state_read returns 0 with a state whose names, kinds and aliases are
 * NUL-terminated within their fields and whose counts are within their capacities, or -1 with
 * a message; nl_talk on the same answers returns 0 or -1 and leaves its extended-ack text
 * NUL-terminated within the buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fuzzcheck.h"
#include "nltalk.h"
#include "vnic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);

static const uint8_t *in;
static size_t in_len, in_off;

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	(void)nl;
	(void)req;
	return (ssize_t)siz;
}

ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	size_t n;

	(void)nl;
	if (in_len - in_off < 2) {
		errno = EAGAIN;
		return -1;
	}
	n = (size_t)in[in_off] | (size_t)in[in_off + 1] << 8;
	in_off += 2;
	if (n > in_len - in_off)
		n = in_len - in_off;
	if (n > siz)
		n = siz;
	memcpy(buf, in + in_off, n);
	in_off += n;
	return (ssize_t)n;
}

static void rewind_input(const uint8_t *data, size_t size)
{
	in = data;
	in_len = size;
	in_off = 0;
}

static void check_state(const struct vnic_state *st)
{
	CHECK(st->nlinks <= st->cap);
	for (size_t i = 0; i < st->nlinks; i++) {
		const struct vnic_link *l = &st->links[i];

		CHECK(memchr(l->name, '\0', sizeof(l->name)) != NULL);
		CHECK(memchr(l->kind, '\0', sizeof(l->kind)) != NULL);
		CHECK(memchr(l->alias, '\0', sizeof(l->alias)) != NULL);
		CHECK(l->naddrs <= l->addrs_cap);
		CHECK(l->naddrs == 0 || l->addrs != NULL);
	}
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(size_t *)data;
	return MNL_CB_OK;
}

/* RTM_GETLINK with an ack asked for, into buf (64 bytes) */
static struct nlmsghdr *getlink_request(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	return nlh;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mnl_socket *nl;
	struct vnic_state *st = NULL;
	struct vnic_error err = {0};
	char extack[64], req[64];
	size_t answers = 0;
	int r;

	if (!nl && !(nl = mnl_socket_open(NETLINK_ROUTE)))
		return 0; /* no netlink here: nothing to fuzz */

	rewind_input(data, size);
	r = vnic_state_read(nl, &st, &err);
	CHECK(r == 0 || r == -1);
	if (r == 0) {
		CHECK(st != NULL);
		check_state(st);
		vnic_state_free(st);
	} else {
		CHECK(err.msg[0] != '\0'); /* a refusal says why */
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}

	rewind_input(data, size);
	memset(extack, 'x', sizeof(extack));
	r = nl_talk(nl, getlink_request(req), count_cb, &answers, extack, sizeof(extack));
	CHECK(r == 0 || r == -1);
	CHECK(memchr(extack, '\0', sizeof(extack)) != NULL);
	return 0;
}
