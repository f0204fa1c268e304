/* SPDX-License-Identifier: MIT */
/* Netlink reads checked before libmnl walks them; one request and its answers (nltalk.h). */
#include "config.h"

#include "nltalk.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The kernel's extended-ack text, cut to size (the attribute is validated NUL-terminated). */
static void copy_str(char *dst, size_t size, const struct nlattr *attr)
{
	const char *s = mnl_attr_get_str(attr);
	size_t len = strnlen(s, mnl_attr_get_payload_len(attr));

	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int nl_errno(int error)
{
	return error < 0 && error > -4096 ? -error : error == 0 ? 0 : EPROTO;
}

bool nl_framed(const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0;
	uint32_t msglen;

	while (off < len) {
		if (len - off < sizeof(struct nlmsghdr))
			return false; /* a stub of a header */
		memcpy(&msglen, p + off + offsetof(struct nlmsghdr, nlmsg_len), sizeof(msglen));
		if (msglen < sizeof(struct nlmsghdr) || msglen > len - off)
			return false;
		off += MNL_ALIGN(msglen); /* the last one's padding may be missing: off > len ends it */
	}
	return true;
}

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
	errno = nl_errno(e->error);
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

int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		   char *extack, size_t extack_size)
{
	static char buf[1 << 16];
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	struct talk t = {.cb = cb, .data = data};
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
		if (!nl_framed(buf, (size_t)r)) {
			errno = EBADMSG;
			return -1;
		}
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
