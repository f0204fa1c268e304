/* SPDX-License-Identifier: MIT */
#include "nftrule.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "kernelmode.h"
#include "log.h"
#include "nftbatch.h"

/* include/uapi/linux/netfilter/xt_NFQUEUE.h, revision 3 */
struct xt_nfq_info_v3 {
	uint16_t queuenum;
	uint16_t queues_total;
	uint16_t flags;
};
#define XT_NFQ_FLAG_BYPASS 0x01
#define XT_NFQ_FLAG_CPU_FANOUT 0x02
/* the kernel aligns target data to 8 bytes (XT_ALIGN) */
#define XT_NFQ_INFO_SIZE 8

const char *queue_expr_name(enum queue_expr e)
{
	switch (e) {
	case QEXPR_NATIVE:
		return "nft queue expression";
	case QEXPR_COMPAT:
		return "xtables NFQUEUE target (nft compat)";
	case QEXPR_KERNEL_ONLY:
		return "kernel-mode rules only (a provider queues nothing)";
	default:
		return "none";
	}
}

static struct nftnl_expr *expr_queue(const struct nfq_config *cfg, enum queue_expr kind)
{
	uint16_t flags = (uint16_t)((cfg->fail_open ? XT_NFQ_FLAG_BYPASS : 0) |
				    (cfg->fanout && cfg->queue_count > 1 ? XT_NFQ_FLAG_CPU_FANOUT : 0));
	struct nftnl_expr *e;

	if (kind == QEXPR_NATIVE) {
		e = nftnl_expr_alloc("queue");
		if (!e)
			return NULL;
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, cfg->queue_num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, cfg->queue_count);
		/* NFT_QUEUE_FLAG_BYPASS and _CPU_FANOUT have the xt values */
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, flags);
		return e;
	}
	e = nftnl_expr_alloc("target");
	if (!e)
		return NULL;
	{
		/* libnftnl takes ownership of the info buffer */
		struct xt_nfq_info_v3 *info = calloc(1, XT_NFQ_INFO_SIZE);

		if (!info) {
			nftnl_expr_free(e);
			return NULL;
		}
		info->queuenum = cfg->queue_num;
		info->queues_total = cfg->queue_count;
		info->flags = flags;
		nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
		nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
		nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, XT_NFQ_INFO_SIZE);
	}
	return e;
}

static const char *chain_name(int hook)
{
	return nfq_hook_name(hook);
}

static int add_queue_chain(struct nftb *b, const struct nfq_config *cfg, int family, int hook,
			   enum queue_expr kind)
{
	struct nftnl_rule *r;
	struct nftnl_expr *q;

	/* One base chain per hook and family: every chain on a hook costs each packet a
	 * traversal (docs/performance.md). */
	if (nftb_add_chain(b, family, cfg->rule_table, chain_name(hook), hook,
			   cfg->rule_priority) < 0)
		return -1;
	if (cfg->fail_open && !(cfg->mode == MODE_KERNEL && cfg->role == NFQ_ROLE_PROVIDER)) {
		char fchain[32];

		snprintf(fchain, sizeof(fchain), "%s_failopen", chain_name(hook));
		if (nftb_add_chain(b, family, cfg->rule_table, fchain, hook,
				   cfg->rule_priority + 1) < 0 ||
		    nft_add_failopen_rule(b, cfg, family, fchain) < 0)
			return -1;
	}
	if (cfg->mode == MODE_KERNEL)
		return kmode_add_rules(b, cfg, family, chain_name(hook), hook,
				       expr_queue(cfg, kind));
	/* the mark path: the worker decides, answers NF_REPEAT, this rule writes the ID */
	if (nft_add_write_rule(b, cfg, family, chain_name(hook)) < 0)
		return -1;
	r = nftb_rule_new(family, cfg->rule_table, chain_name(hook));
	if (!r)
		return -1;
	q = expr_queue(cfg, kind);
	if (nftb_match_mark(r, cfg->mark_queue) < 0 || !q) {
		if (q)
			nftnl_expr_free(q);
		nftnl_rule_free(r);
		return -1;
	}
	nftnl_rule_add_expr(r, q);
	return nftb_add_rule(b, r);
}

static int try_install(const struct nfq_config *cfg, enum queue_expr kind,
		       const struct sess_list *a, const struct sess_list *sb)
{
	static const int families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	/* the sessions in the install batch when they surely fit in it, else kmode_sync's
	 * bounded batches right after (nothing passed through these tables before) */
	bool fill = a->n + sb->n <= KMODE_INSTALL_MAX;
	struct nftb *b = nftb_begin();
	size_t f;
	int i;

	if (!b)
		return -1;
	kmode_totals_reset();
	for (f = 0; f < 2; f++) {
		/* add + delete + add: replaces a table left by a crashed run, in one step */
		if (nftb_add_table(b, families[f], cfg->rule_table) < 0 ||
		    nftb_del_table(b, families[f], cfg->rule_table) < 0 ||
		    nftb_add_table(b, families[f], cfg->rule_table) < 0)
			goto fail;
		if (cfg->mode == MODE_KERNEL &&
		    (kmode_add_objects(b, cfg, families[f]) < 0 ||
		     (fill && kmode_add_elements(b, cfg, families[f], a, sb) < 0)))
			goto fail;
		for (i = 0; i < cfg->nhooks; i++)
			if (add_queue_chain(b, cfg, families[f], cfg->hooks[i], kind) < 0)
				goto fail;
	}
	if (nftb_commit(b) < 0)
		return -1;
	kmode_totals_installed();
	return cfg->mode == MODE_KERNEL && !fill ? kmode_sync(cfg, a, sb) : 0;
fail:
	nftb_abort(b);
	errno = ENOMEM;
	return -1;
}

enum queue_expr nftrule_install(const struct nfq_config *cfg, const struct sess_list *a,
				const struct sess_list *b)
{
	if (cfg->mode == MODE_KERNEL && cfg->role == NFQ_ROLE_PROVIDER)
		return try_install(cfg, QEXPR_NATIVE, a, b) == 0 ? QEXPR_KERNEL_ONLY :
		       (log_warn("cannot install the kernel-mode rules in table %s", cfg->rule_table),
			QEXPR_NONE);
	if (try_install(cfg, QEXPR_NATIVE, a, b) == 0)
		return QEXPR_NATIVE;
	/* ENOENT / EOPNOTSUPP: this kernel has no nft_queue */
	log_debug("native queue expression refused (%s), trying nft compat NFQUEUE",
		  strerror(errno));
	if (try_install(cfg, QEXPR_COMPAT, a, b) == 0)
		return QEXPR_COMPAT;
	log_warn("cannot install the queue rule in table %s (ip, ip6)", cfg->rule_table);
	return QEXPR_NONE;
}

int nftrule_remove(const struct nfq_config *cfg)
{
	static const int families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	struct nftb *b = nftb_begin();
	size_t f;

	if (!b)
		return -1;
	for (f = 0; f < 2; f++) {
		if (nftb_add_table(b, families[f], cfg->rule_table) < 0 ||
		    nftb_del_table(b, families[f], cfg->rule_table) < 0) {
			nftb_abort(b);
			return -1;
		}
	}
	if (nftb_commit(b) < 0) {
		log_warn("removing table %s", cfg->rule_table);
		return -1;
	}
	return 0;
}

/* ---- rules of both modes (declared in nftrule.h) ---- */

/* Write the urgent pointer from sreg, fixing the TCP checksum incrementally. */
struct nftnl_expr *nft_write_urgptr(uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 18);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, 16);
	return e;
}

int nft_add_write_rule(struct nftb *b, const struct nfq_config *cfg, int family,
		       const char *chain)
{
	struct nftnl_rule *r = nftb_rule_new(family, cfg->rule_table, chain);
	struct nftnl_expr *bo = nftnl_expr_alloc("byteorder");
	uint32_t keep = ~(cfg->mark_write | NFQ_MARK_ID_MASK), zero = 0;
	uint8_t tcp = IPPROTO_TCP;

	if (!r || !bo) {
		if (r)
			nftnl_rule_free(r);
		nftb_expr_free(bo);
		return -1;
	}
	nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_LEN, 2);
	nftnl_expr_set_u32(bo, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	if (nftb_match_mark(r, cfg->mark_write) < 0 ||
	    nftb_put(r, nftb_meta(NFT_META_L4PROTO, NFT_REG_1, false)) ||
	    nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &tcp, 1)) ||
	    nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) || nftb_put(r, bo) ||
	    nftb_put(r, nft_write_urgptr(NFT_REG_1)) ||
	    nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	    nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &keep, &zero)) ||
	    nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, true)) || nftb_put(r, nftb_verdict(NF_ACCEPT))) {
		nftnl_rule_free(r);
		return -1;
	}
	return nftb_add_rule(b, r);
}

int nft_add_failopen_rule(struct nftb *b, const struct nfq_config *cfg, int family,
			  const char *chain)
{
	struct nftnl_rule *r = nftb_rule_new(family, cfg->rule_table, chain);
	uint32_t both = cfg->mark_queue | cfg->mark_done, q = cfg->mark_queue, zero = 0;
	uint32_t keep = ~cfg->mark_done, done = cfg->mark_done;
	struct nftnl_expr *c = nftnl_expr_alloc("counter");

	if (!r || nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	    nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &both, &zero)) ||
	    nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &q, 4)) ||
	    nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	    nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &keep, &done)) ||
	    nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, true)) || nftb_put(r, c)) {
		if (r)
			nftnl_rule_free(r);
		else
			nftb_expr_free(c);
		return -1;
	}
	return nftb_add_rule(b, r);
}
