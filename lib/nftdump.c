/* SPDX-License-Identifier: MIT */
/* Reading a set's elements back from the kernel (nftbatch.h, nftb_dump_set). */
#include "nftbatch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <time.h>

struct dump {
	nftb_elem_cb *cb;
	void *arg;
};

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	int r = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		r = MNL_CB_ERROR;
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e && r == MNL_CB_OK;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t klen = 0, dlen = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		const void *v = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA) ?
				nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen) : NULL;

		if (!k || d->cb(k, klen, v, v ? dlen : 0, d->arg) < 0)
			r = MNL_CB_ERROR;
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return r;
}

int nftb_dump_set(int family, const char *table, const char *set, nftb_elem_cb *cb, void *arg)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct nftnl_set *s = nftnl_set_alloc();
	struct dump d = { .cb = cb, .arg = arg };
	char buf[32768];
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	int ret = -1, saved = EIO;

	if (!nl || !s || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		saved = errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		saved = errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n <= 0) {
			saved = n < 0 ? errno : EIO;
			ret = -1;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, elems_cb, &d);
		if (ret < 0)
			saved = errno ? errno : EIO;
		if (ret <= 0)
			break;
	}
out:
	if (s)
		nftnl_set_free(s);
	if (nl)
		mnl_socket_close(nl);
	if (ret < 0)
		errno = saved;
	return ret < 0 ? -1 : 0;
}
