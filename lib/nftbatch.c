/* SPDX-License-Identifier: MIT */
#include "nftbatch.h"
#include "sockbuf.h"
#include "nltalk.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define NFTB_BUFSZ (4 * 1024 * 1024)
#define NFTB_MSG_MAX 65536

/*
 * All changes go through one netlink socket that lives as long as the process: coopnet-nfq's
 * tables carry NFT_TABLE_F_OWNER, so the kernel removes them (queue rule, kernel-mode rules
 * and sets) when this socket closes, even on SIGKILL. The rule files' guards then drop the
 * traffic marked for the queue: a dead worker fails closed in both modes.
 */
static struct mnl_socket *owner_nl;

static struct mnl_socket *owner_socket(void)
{
	if (owner_nl)
		return owner_nl;
	owner_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (owner_nl && mnl_socket_bind(owner_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(owner_nl);
		owner_nl = NULL;
	}
	return owner_nl;
}

void nftb_close(void)
{
	if (owner_nl)
		mnl_socket_close(owner_nl);
	owner_nl = NULL;
	nftb_reader_close();
}

struct nftb {
	char *buf;
	struct mnl_nlmsg_batch *batch;
	uint32_t seq0, seq;
	unsigned nmsgs;
	int failed;
};

struct nftb *nftb_begin(void)
{
	struct nftb *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->buf = malloc(NFTB_BUFSZ);
	if (!b->buf) {
		free(b);
		return NULL;
	}
	b->batch = mnl_nlmsg_batch_start(b->buf, NFTB_BUFSZ);
	/* sequence numbers never reused across batches on the long-lived socket, so a stale
	 * acknowledgement of an earlier (failed) batch is never counted for this one */
	static uint32_t next_seq;

	if (next_seq == 0)
		next_seq = (uint32_t)time(NULL) << 8;
	b->seq0 = b->seq = next_seq;
	next_seq += 1u << 16;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->batch), b->seq++);
	mnl_nlmsg_batch_next(b->batch);
	return b;
}

void nftb_abort(struct nftb *b)
{
	if (!b)
		return;
	mnl_nlmsg_batch_stop(b->batch);
	free(b->buf);
	free(b);
}

/* Room for one more message of at most NFTB_MSG_MAX bytes? */
static struct nlmsghdr *room(struct nftb *b)
{
	size_t used = mnl_nlmsg_batch_size(b->batch);

	if (b->failed || used + NFTB_MSG_MAX + 64 > NFTB_BUFSZ) {
		b->failed = 1;
		return NULL;
	}
	return mnl_nlmsg_batch_current(b->batch);
}

size_t nftb_room(const struct nftb *b)
{
	size_t used = mnl_nlmsg_batch_size(b->batch);

	return b->failed || used + 64 > NFTB_BUFSZ ? 0 : NFTB_BUFSZ - used - 64;
}

static void next(struct nftb *b)
{
	mnl_nlmsg_batch_next(b->batch);
	b->nmsgs++;
}

static int table_msg(struct nftb *b, int family, const char *name, uint16_t type,
		     uint16_t flags, uint32_t tflags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = room(b);

	if (!t || !nlh) {
		nftnl_table_free(t);
		return -1;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, tflags);
	nlh = nftnl_table_nlmsg_build_hdr((char *)nlh, type, (uint16_t)family, flags | NLM_F_ACK,
					  b->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	next(b);
	return 0;
}

int nftb_add_table(struct nftb *b, int family, const char *table)
{
	return table_msg(b, family, table, NFT_MSG_NEWTABLE, NLM_F_CREATE, NFT_TABLE_F_OWNER);
}

int nftb_add_table_flags(struct nftb *b, int family, const char *table, uint32_t flags)
{
	return table_msg(b, family, table, NFT_MSG_NEWTABLE, NLM_F_CREATE, flags);
}

int nftb_del_table(struct nftb *b, int family, const char *table)
{
	return table_msg(b, family, table, NFT_MSG_DELTABLE, 0, 0);
}

int nftb_add_chain(struct nftb *b, int family, const char *table, const char *chain, int hook,
		   int prio)
{
	return nftb_add_base_chain(b, family, table, chain, "filter", hook, prio);
}

/* A NEWCHAIN of table: a base chain when type is given (on hook, at prio, policy accept),
 * else a regular one. */
static int add_chain(struct nftb *b, int family, const char *table, const char *chain,
		     const char *type, int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = room(b);

	if (!c || !nlh) {
		nftnl_chain_free(c);
		return -1;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	if (type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nftnl_chain_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWCHAIN, (uint16_t)family,
					  NLM_F_CREATE | NLM_F_ACK, b->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	next(b);
	return 0;
}

int nftb_add_base_chain(struct nftb *b, int family, const char *table, const char *chain,
			const char *type, int hook, int prio)
{
	return type ? add_chain(b, family, table, chain, type, hook, prio) : -1;
}

int nftb_add_regular_chain(struct nftb *b, int family, const char *table, const char *chain)
{
	return add_chain(b, family, table, chain, NULL, 0, 0);
}

struct nftnl_rule *nftb_rule_new(int family, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

int nftb_match_mark(struct nftnl_rule *r, uint32_t mark)
{
	struct nftnl_expr *meta = nftnl_expr_alloc("meta");
	struct nftnl_expr *bw = nftnl_expr_alloc("bitwise");
	struct nftnl_expr *cmp = nftnl_expr_alloc("cmp");
	uint32_t zero = 0;

	if (!meta || !bw || !cmp) {
		nftnl_expr_free(meta);
		nftnl_expr_free(bw);
		nftnl_expr_free(cmp);
		return -1;
	}
	nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, meta);

	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mark, sizeof(mark));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, bw);

	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &mark, sizeof(mark));
	nftnl_rule_add_expr(r, cmp);
	return 0;
}

int nftb_add_rule(struct nftb *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = room(b);

	if (!nlh) {
		nftnl_rule_free(r);
		return -1;
	}
	nlh = nftnl_rule_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWRULE,
					 (uint16_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
					 NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, b->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	next(b);
	return 0;
}

struct nftnl_set *nftb_set_new(int family, const char *table, const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
	if (id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

int nftb_add_set_msg(struct nftb *b, struct nftnl_set *s, uint16_t type, int family,
		     uint16_t flags)
{
	struct nlmsghdr *nlh = room(b);

	if (!nlh) {
		nftnl_set_free(s);
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr((char *)nlh, type, (uint16_t)family, flags | NLM_F_ACK,
				    b->seq++);
	/* 30: NFT_MSG_DESTROYSETELEM (Linux 6.3+), which older headers lack */
	if (type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM || type == 30)
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
	else
		nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	next(b);
	return 0;
}

int nftb_commit(struct nftb *b)
{
	struct mnl_socket *nl = NULL;
	char rbuf[16384];
	int first_err = 0, ret = -1;
	unsigned acks = 0;
	struct pollfd pfd;

	if (b->failed) {
		errno = ENOSPC;
		goto out;
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b->batch), b->seq++);
	mnl_nlmsg_batch_next(b->batch);

	nl = owner_socket();
	if (!nl)
		goto out;
	/* the kernel takes a netlink message only whole and only up to the socket's send buffer
	 * (EMSGSIZE beyond): size it to the batch, as nft does; and the receive buffer to one
	 * acknowledgement per message (an skb each, about 1 KiB of buffer), beyond which the
	 * kernel drops them and recv fails with ENOBUFS */
	cn_sock_buf(mnl_socket_get_fd(nl), SO_SNDBUF, SO_SNDBUFFORCE,
		 (int)mnl_nlmsg_batch_size(b->batch) + 4096);
	cn_sock_buf(mnl_socket_get_fd(nl), SO_RCVBUF, SO_RCVBUFFORCE, (int)(b->nmsgs * 2048u) + 65536);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b->batch),
			      mnl_nlmsg_batch_size(b->batch)) < 0)
		goto out;
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	/* one ack (or error) per message; on an error the kernel aborts the transaction and
	 * may not acknowledge the rest, so stop at the first error */
	while (acks < b->nmsgs && !first_err) {
		int n, r = poll(&pfd, 1, 2000);
		const struct nlmsghdr *nlh;
		int rest;

		if (r <= 0) {
			first_err = r == 0 ? ETIMEDOUT : errno;
			break;
		}
		n = (int)mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (n < 0) {
			first_err = errno;
			break;
		}
		if (!nl_framed(rbuf, (size_t)n)) {
			first_err = EBADMSG;
			break;
		}
		rest = n;
		for (nlh = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, rest);
		     nlh = mnl_nlmsg_next(nlh, &rest)) {
			if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq >= b->seq0 &&
			    nlh->nlmsg_seq < b->seq &&
			    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				acks++;
				if (e->error && !first_err)
					first_err = nl_errno(e->error);
			}
		}
	}
	if (!first_err)
		ret = 0;
	else
		errno = first_err;
out:
	{
		int saved = errno;

		nftb_abort(b);
		errno = saved;
	}
	return ret;
}

int nftb_add_obj(struct nftb *b, struct nftnl_obj *o, int family)
{
	struct nlmsghdr *nlh = room(b);

	if (!nlh) {
		nftnl_obj_free(o);
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_NEWOBJ, (uint16_t)family,
				    NLM_F_CREATE | NLM_F_ACK, b->seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	next(b);
	return 0;
}

/* --- expressions ----------------------------------------------------------------------------- */

void nftb_expr_free(struct nftnl_expr *e)
{
	if (e) /* nftnl_expr_free is not NULL-safe */
		nftnl_expr_free(e);
}

int nftb_put(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -1;
	nftnl_rule_add_expr(r, e);
	return 0;
}

struct nftnl_expr *nftb_payload(uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return e;
}

struct nftnl_expr *nftb_cmp(uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

struct nftnl_expr *nftb_bitwise(uint32_t reg, uint32_t len, const void *mask, const void *xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	return e;
}

struct nftnl_expr *nftb_meta(uint32_t key, uint32_t reg, int set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, set ? NFTNL_EXPR_META_SREG : NFTNL_EXPR_META_DREG, reg);
	return e;
}

struct nftnl_expr *nftb_lookup(const char *set, uint32_t set_id, uint32_t sreg, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	return e;
}

struct nftnl_expr *nftb_verdict(int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	return e;
}

struct nftnl_expr *nftb_goto(const char *chain)
{
	struct nftnl_expr *e = nftb_verdict(NFT_GOTO);

	if (e)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	return e;
}

struct nftnl_expr *nftb_dynset_add(const char *set, uint32_t set_id, uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
	return e;
}

struct nftnl_expr *nftb_imm(uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	return e;
}

struct nftnl_expr *nftb_counter(void)
{
	return nftnl_expr_alloc("counter");
}

struct nftnl_expr *nftb_counter_at(uint64_t packets, uint64_t bytes)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, packets);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, bytes);
	return e;
}

struct nftnl_expr *nftb_ct(uint32_t key, uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg);
	return e;
}

int nftb_rule_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	int ret = -1;

	if (u && nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment)) {
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
		ret = 0;
	}
	nftnl_udata_buf_free(u);
	return ret;
}
