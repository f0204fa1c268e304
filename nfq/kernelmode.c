/* SPDX-License-Identifier: MIT */
#include "kernelmode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "nftbatch.h"

#define R(i) (NFT_REG32_00 + (i))

enum kset { KS_IDS, KS_OK, KS_KEYS, KS_SVC, KS__COUNT };
static const char *const set_names[KS__COUNT] = {"ids", "ok", "keys", "svc"};

static const struct {
	const char *name;
	enum nfq_reason reason;
} counters[] = {
	{"embedded", R_EMBEDDED},
	{"checked_ok", R_CHECKED_OK},
	{"passed", R_PASSED},
	{"dropped_no_id", R_DROP_NO_ID},
	{"dropped_wrong_id", R_DROP_WRONG_ID},
	{"dropped_unknown_flow", R_DROP_UNKNOWN_FLOW},
	{"dropped_urgent", R_DROP_URGENT},
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

/* Registers per address, bytes of the concatenated keys. */
static unsigned nregs(int family)
{
	return family == NFPROTO_IPV4 ? 1 : 4;
}

static uint32_t set_id(int family, enum kset k)
{
	return (family == NFPROTO_IPV4 ? 1 : 11) + (uint32_t)k;
}

static uint32_t key_len(int family, enum kset k)
{
	if (k == KS_SVC) /* service . port */
		return (nregs(family) + 1) * 4;
	return (2 * nregs(family) + (k == KS_OK ? 2 : 1)) * 4;
}

/* ---- expressions (the generic ones are nftb_* in lib/nftbatch.h) ---- */

/* Write the urgent pointer from sreg, fixing the TCP checksum incrementally. */
static struct nftnl_expr *write_urgptr(uint32_t sreg)
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

static struct nftnl_expr *lookup(int family, enum kset k, uint32_t sreg, int dreg)
{
	return nftb_lookup(set_names[k], set_id(family, k), sreg, dreg);
}

static struct nftnl_expr *count(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	return e;
}

/* ---- rule fragments ---- */

/* The chain's first rules:
 *   meta l4proto != tcp accept              not TCP: never overlay traffic, leaves at once
 *   [the write rule of the mark path]       (supervisor: released held SYNs, see below)
 * Every rule after them starts with a set lookup keyed on the segment's own addresses and
 * ports, so non-overlay TCP leaves after a few misses. No mark test: the rule file marks
 * nothing in kernel mode (nft-rules/ *-kernel.nft), so this chain and the rule file's guard
 * are the only two base chains a segment crosses per hook. An accept ends this chain only;
 * the guard still runs afterwards and drops an overlay segment this chain did not mark
 * decided. */
static int add_gate(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain)
{
	struct nftnl_rule *r = nftb_rule_new(family, cfg->rule_table, chain);
	uint8_t tcp = IPPROTO_TCP;

	if (!r || nftb_put(r, nftb_meta(NFT_META_L4PROTO, NFT_REG_1, false)) ||
	    nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_NEQ, &tcp, 1)) || nftb_put(r, nftb_verdict(NF_ACCEPT)) ||
	    nftb_add_rule(b, r) < 0) {
		if (r)
			nftnl_rule_free(r);
		return -1;
	}
	if (cfg->role == ROLE_SUPERVISOR && nft_add_write_rule(b, cfg, family, chain) < 0)
		return -1;
	return 0;
}

/* tcp flags & urg == 0 */
static int urg_clear(struct nftnl_rule *r)
{
	uint8_t m = 0x20, z = 0;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 1, &m, &z)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &z, 1));
}

/* tcp flags & urg != 0 */
static int urg_set(struct nftnl_rule *r)
{
	uint8_t m = 0x20, z = 0;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 1, &m, &z)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_NEQ, &z, 1));
}

/* tcp flags & (syn | ack) == syn */
static int first_syn(struct nftnl_rule *r)
{
	uint8_t m = 0x12, z = 0, syn = 0x02;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 1, &m, &z)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &syn, 1));
}

/* tcp urgptr == 0 */
static int urgptr_zero(struct nftnl_rule *r)
{
	uint16_t z = 0;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 18, 2, NFT_REG_1)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &z, 2));
}

/* Load the key (client . service . port [. urgptr]) from R(0) on. forward: the client is the
 * source (segments to the service); else the destination (replies). */
static int load_key(struct nftnl_rule *r, int family, bool forward, bool with_id)
{
	uint32_t na = nregs(family), alen = na * 4;
	uint32_t soff = family == NFPROTO_IPV4 ? 12 : 8, doff = soff + alen;

	if (nftb_put(r, nftb_payload(NFT_PAYLOAD_NETWORK_HEADER, forward ? soff : doff, alen, R(0))) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_NETWORK_HEADER, forward ? doff : soff, alen, R(na))) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, forward ? 2 : 0, 2, R(2 * na))))
		return -1;
	if (with_id &&
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 18, 2, R(2 * na + 1))))
		return -1;
	return 0;
}

/* (service . port) of the segment in the worker's copy of the rule file's set (@svc):
 * forward: destination (segment to the service), else source (reply). */
static int in_svc(struct nftnl_rule *r, int family, bool forward)
{
	uint32_t na = nregs(family), alen = na * 4;
	uint32_t soff = family == NFPROTO_IPV4 ? 12 : 8, doff = soff + alen;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_NETWORK_HEADER, forward ? doff : soff, alen, R(0))) ||
	       nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, forward ? 2 : 0, 2, R(na))) ||
	       nftb_put(r, lookup(family, KS_SVC, R(0), -1));
}

/* meta mark set meta mark | C */
static int set_mark_bits(struct nftnl_rule *r, uint32_t bits)
{
	uint32_t mask = ~bits;

	return nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &mask, &bits)) ||
	       nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, true));
}

/* meta mark set meta mark | C; objref counter; accept */
static int done(struct nftnl_rule *r, const struct nfq_config *cfg, const char *counter)
{
	uint32_t mask = ~cfg->mark_done, x = cfg->mark_done;

	return nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &mask, &x)) ||
	       nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, true)) ||
	       nftb_put(r, count(counter)) || nftb_put(r, nftb_verdict(NF_ACCEPT));
}

static int drop(struct nftnl_rule *r, const char *counter)
{
	return nftb_put(r, count(counter)) || nftb_put(r, nftb_verdict(NF_DROP));
}

/* Rule kinds, in chain order. */
enum krule {
	K_EMBED_FWD,   /* SS: client -> service, write the ID */
	K_CHECK_FWD,   /* SP: client -> service with the right ID */
	K_EMBED_BACK,  /* SP: service -> client, write the ID */
	K_CHECK_BACK,  /* SS: service -> client with the right ID */
	K_NOID_FWD, K_WRONG_FWD,   /* SP: session, ID absent / wrong */
	K_NOID_BACK, K_WRONG_BACK, /* SS: session, ID absent / wrong */
	K_URGENT_FWD,  /* SS: client -> service of a session with URG set: no ID can go there */
	K_MISS,        /* SS: first SYN to an overlay service without a session -> queue */
	K_PASS_FWD, K_PASS_BACK,       /* SS: other overlay segments pass (decided) */
	K_UNKNOWN_FWD, K_UNKNOWN_BACK, /* SP: other segments of protected services: drop */
};

static int build_rule(struct nftnl_rule *r, const struct nfq_config *cfg, int family,
		      enum krule k, struct nftnl_expr **q)
{
	uint32_t dreg = R(2 * nregs(family) + 1);

	switch (k) {
	case K_EMBED_FWD:
	case K_EMBED_BACK:
		return urg_clear(r) || load_key(r, family, k == K_EMBED_FWD, false) ||
		       nftb_put(r, lookup(family, KS_IDS, R(0), (int)dreg)) ||
		       nftb_put(r, write_urgptr(dreg)) || done(r, cfg, "embedded");
	case K_CHECK_FWD:
	case K_CHECK_BACK:
		return urg_clear(r) || load_key(r, family, k == K_CHECK_FWD, true) ||
		       nftb_put(r, lookup(family, KS_OK, R(0), -1)) || done(r, cfg, "checked_ok");
	case K_NOID_FWD:
	case K_NOID_BACK:
		return load_key(r, family, k == K_NOID_FWD, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) || urgptr_zero(r) ||
		       drop(r, "dropped_no_id");
	case K_WRONG_FWD:
	case K_WRONG_BACK:
		return load_key(r, family, k == K_WRONG_FWD, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) || drop(r, "dropped_wrong_id");
	case K_URGENT_FWD:
		return load_key(r, family, true, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) || urg_set(r) ||
		       drop(r, "dropped_urgent");
	case K_MISS:
		/* mark_queue: what the fail_open chain recognises as "queued, unanswered" */
		if (first_syn(r) < 0 || in_svc(r, family, true) < 0 ||
		    set_mark_bits(r, cfg->mark_queue) < 0 || !*q)
			return -1;
		nftnl_rule_add_expr(r, *q);
		*q = NULL;
		return 0;
	case K_PASS_FWD:
	case K_PASS_BACK:
		return in_svc(r, family, k == K_PASS_FWD) || done(r, cfg, "passed");
	case K_UNKNOWN_FWD:
	case K_UNKNOWN_BACK:
		return in_svc(r, family, k == K_UNKNOWN_FWD) || drop(r, "dropped_unknown_flow");
	}
	return -1;
}

int kmode_add_rules(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain,
		    int hook, struct nftnl_expr *q)
{
	/* Most frequent first: one set lookup decides a data segment or an ACK of a live
	 * session. The provider's input hook sees segments to its services, its output hook
	 * the replies, so each gets its own order; any other hook the general one. */
	static const enum krule ss[] = {K_EMBED_FWD, K_CHECK_BACK, K_NOID_BACK, K_WRONG_BACK,
					K_URGENT_FWD, K_MISS, K_PASS_FWD, K_PASS_BACK};
	static const enum krule sp[] = {K_CHECK_FWD, K_EMBED_BACK, K_NOID_FWD, K_WRONG_FWD,
					K_UNKNOWN_FWD, K_UNKNOWN_BACK};
	static const enum krule sp_out[] = {K_EMBED_BACK, K_CHECK_FWD, K_NOID_FWD, K_WRONG_FWD,
					    K_UNKNOWN_BACK, K_UNKNOWN_FWD};
	const enum krule *list = cfg->role == ROLE_SUPERVISOR ? ss :
				 hook == NF_INET_LOCAL_OUT ? sp_out : sp;
	size_t i, n = cfg->role == ROLE_SUPERVISOR ? sizeof(ss) / sizeof(ss[0]) :
		      sizeof(sp) / sizeof(sp[0]);

	if (add_gate(b, cfg, family, chain) < 0) {
		nftb_expr_free(q);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct nftnl_rule *r = nftb_rule_new(family, cfg->rule_table, chain);

		if (!r || build_rule(r, cfg, family, list[i], &q) < 0) {
			if (r)
				nftnl_rule_free(r);
			nftb_expr_free(q);
			return -1;
		}
		if (nftb_add_rule(b, r) < 0) {
			nftb_expr_free(q);
			return -1;
		}
	}
	nftb_expr_free(q); /* the provider queues nothing */
	return 0;
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
	    nftb_put(r, write_urgptr(NFT_REG_1)) ||
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

int kmode_add_objects(struct nftb *b, const struct nfq_config *cfg, int family)
{
	size_t i;
	int k;

	for (k = 0; k < KS__COUNT; k++) {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s)
			return -1;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, cfg->rule_table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[k]);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
		nftnl_set_set_u32(s, NFTNL_SET_ID, set_id(family, (enum kset)k));
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 0);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len(family, (enum kset)k));
		if (k == KS_IDS) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, 0);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2);
		}
		if (nftb_add_set_msg(b, s, NFT_MSG_NEWSET, family, NLM_F_CREATE) < 0)
			return -1;
	}
	for (i = 0; i < NCOUNTERS; i++) {
		struct nftnl_obj *o = nftnl_obj_alloc();

		if (!o)
			return -1;
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, cfg->rule_table);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, counters[i].name);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (uint32_t)family);
		if (nftb_add_obj(b, o, family) < 0)
			return -1;
	}
	return 0;
}

/* The key bytes of e: each field in its own 4-byte register slot. */
static uint32_t make_key(uint8_t *key, int family, const struct sess_entry *e, bool with_id)
{
	uint32_t na = nregs(family), alen = na * 4;
	uint16_t port = htons(e->key.port), id = htons(e->id);

	memset(key, 0, 64);
	memcpy(key, e->key.client, alen);
	memcpy(key + alen, e->key.service, alen);
	memcpy(key + 2 * alen, &port, 2);
	if (with_id)
		memcpy(key + 2 * alen + 4, &id, 2);
	return (2 * na + (with_id ? 2 : 1)) * 4;
}

static struct nftnl_set *set_for(const struct nfq_config *cfg, int family, enum kset k)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, cfg->rule_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[k]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
	return s;
}

static int add_elem(struct nftnl_set *s, int family, enum kset k, const struct sess_entry *e)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	uint8_t key[64];
	uint16_t id = htons(e->id);
	uint32_t len;

	if (!el)
		return -1;
	len = make_key(key, family, e, k == KS_OK);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, len);
	if (k == KS_IDS)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, &id, 2);
	nftnl_set_elem_add(s, el);
	return 0;
}

/* Is e the last entry with its key among a then b (so that b wins)? */
static bool effective(const struct sess_list *a, const struct sess_list *b, size_t i)
{
	const struct sess_entry *e = i < a->n ? &a->v[i] : &b->v[i - a->n];
	size_t j;

	for (j = i + 1; j < a->n + b->n; j++) {
		const struct sess_entry *f = j < a->n ? &a->v[j] : &b->v[j - a->n];

		if (!memcmp(&e->key, &f->key, sizeof(e->key)))
			return false;
	}
	return true;
}

int kmode_add_elements(struct nftb *b, const struct nfq_config *cfg, int family,
		       const struct sess_list *a, const struct sess_list *b2)
{
	int af = family == NFPROTO_IPV4 ? AF_INET : AF_INET6;
	uint64_t now = (uint64_t)time(NULL);
	size_t i;
	int k;

	for (k = 0; k <= KS_KEYS; k++) {
		struct nftnl_set *flush = set_for(cfg, family, (enum kset)k);
		struct nftnl_set *s;
		size_t n = 0;

		/* DELSETELEM without elements flushes the set, in this transaction */
		if (!flush || nftb_add_set_msg(b, flush, NFT_MSG_DELSETELEM, family, 0) < 0)
			return -1;
		s = set_for(cfg, family, (enum kset)k);
		if (!s)
			return -1;
		for (i = 0; i < a->n + b2->n; i++) {
			const struct sess_entry *e = i < a->n ? &a->v[i] : &b2->v[i - a->n];

			if (e->key.family != af || !effective(a, b2, i) ||
			    (e->expires && e->expires <= now))
				continue;
			if (add_elem(s, family, (enum kset)k, e) < 0) {
				nftnl_set_free(s);
				return -1;
			}
			/* keep each message well under the batch's per-message room */
			if (++n == 256) {
				if (nftb_add_set_msg(b, s, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE) < 0)
					return -1;
				s = set_for(cfg, family, (enum kset)k);
				if (!s)
					return -1;
				n = 0;
			}
		}
		if (n == 0) {
			nftnl_set_free(s);
			continue;
		}
		if (nftb_add_set_msg(b, s, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE) < 0)
			return -1;
	}
	return 0;
}

int kmode_sync(const struct nfq_config *cfg, const struct sess_list *a, const struct sess_list *b2)
{
	struct nftb *b = nftb_begin();

	if (!b)
		return -1;
	if (kmode_add_elements(b, cfg, NFPROTO_IPV4, a, b2) < 0 ||
	    kmode_add_elements(b, cfg, NFPROTO_IPV6, a, b2) < 0) {
		nftb_abort(b);
		log_warnx("kernel mode: the session batch does not fit");
		return -1;
	}
	if (nftb_commit(b) < 0) {
		log_warn("kernel mode: updating the session sets");
		return -1;
	}
	return 0;
}

void kmode_counters(const struct nfq_config *cfg, uint64_t c[R__COUNT])
{
	const char *names[NCOUNTERS];
	uint64_t v[NCOUNTERS] = {0};
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		names[i] = counters[i].name;
	if (nftb_read_counters(NFPROTO_IPV4, cfg->rule_table, names, NCOUNTERS, v) < 0 ||
	    nftb_read_counters(NFPROTO_IPV6, cfg->rule_table, names, NCOUNTERS, v) < 0)
		log_warn("kernel mode: reading the counters");
	for (i = 0; i < NCOUNTERS; i++)
		c[counters[i].reason] += v[i];
}

/* ---- the copy of the rule file's service set (@svc) ----
 *
 * In kernel mode the rule file (nft-rules/ *-kernel.nft) marks nothing: its guard looks the
 * segment up in its own sets. The worker's chain must know the same services (a supervisor's
 * session miss and "passed", a provider's unknown flow), and nftables cannot look up a set of
 * another table, so the worker keeps a copy of inet coopnet overlay4/6 (supervisor) or
 * protected4/6 (provider) in its set @svc: read at start, again on every nftables event that
 * names table inet coopnet (multicast group NFNLGRP_NFTABLES), and every 5 s as a safety net.
 * A copy that lags can only make the worker decide less: the guard, which reads the rule
 * file's set itself, then drops what the worker did not mark decided (fail closed). */

#define RULE_TABLE "coopnet"
#define SVC_MAX 65536

struct svc_copy {
	uint8_t *keys; /* n keys of klen bytes, sorted */
	size_t n, cap;
	uint32_t klen;
	bool ok;       /* the dump succeeded (a missing set is an empty copy) */
};

static struct mnl_socket *ev_nl;
static struct svc_copy last[2];
static bool have_last[2];

static const char *rule_set_name(const struct nfq_config *cfg, int family)
{
	if (cfg->role == ROLE_SUPERVISOR)
		return family == NFPROTO_IPV4 ? "overlay4" : "overlay6";
	return family == NFPROTO_IPV4 ? "protected4" : "protected6";
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct svc_copy *c = data;
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
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		if (!k || len != c->klen || c->n >= SVC_MAX) {
			/* another key type (the set was redefined) or too many: refuse */
			r = MNL_CB_ERROR;
			break;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 64;
			uint8_t *p = realloc(c->keys, cap * c->klen);

			if (!p) {
				r = MNL_CB_ERROR;
				break;
			}
			c->keys = p;
			c->cap = cap;
		}
		memcpy(c->keys + c->n++ * c->klen, k, c->klen);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return r;
}

static uint32_t cmp_len;

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, cmp_len);
}

/* Dump inet coopnet <set> into c. A missing table or set: an empty copy. */
static int read_rule_set(const struct nfq_config *cfg, int family, struct svc_copy *c)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct nftnl_set *s = nftnl_set_alloc();
	char buf[32768];
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->klen = key_len(family, KS_SVC);
	if (!nl || !s || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, RULE_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, rule_set_name(cfg, family));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
				    seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n <= 0)
			goto out;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, elem_cb, c);
		if (ret < 0 && errno == ENOENT) {
			c->n = 0; /* rule file not loaded: nothing is overlay traffic */
			ret = 0;
			break;
		}
		if (ret <= 0)
			break;
	}
	if (ret < 0)
		goto out;
	cmp_len = c->klen;
	if (c->n > 1)
		qsort(c->keys, c->n, c->klen, key_cmp);
	c->ok = true;
	ret = 0;
out:
	if (ret < 0)
		log_warn("kernel mode: reading set inet %s %s", RULE_TABLE,
			 rule_set_name(cfg, family));
	if (s)
		nftnl_set_free(s);
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static bool same_copy(const struct svc_copy *a, const struct svc_copy *b)
{
	return a->n == b->n && a->klen == b->klen &&
	       (a->n == 0 || !memcmp(a->keys, b->keys, a->n * a->klen));
}

static int add_svc_elements(struct nftb *b, const struct nfq_config *cfg, int family,
			    const struct svc_copy *c)
{
	struct nftnl_set *s = set_for(cfg, family, KS_SVC);
	size_t i, n = 0;

	if (!s || nftb_add_set_msg(b, s, NFT_MSG_DELSETELEM, family, 0) < 0)
		return -1;
	for (i = 0; i < c->n; i++) {
		struct nftnl_set_elem *el;

		if (n == 0 && !(s = set_for(cfg, family, KS_SVC)))
			return -1;
		el = nftnl_set_elem_alloc();
		if (!el) {
			nftnl_set_free(s);
			return -1;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, c->keys + i * c->klen, c->klen);
		nftnl_set_elem_add(s, el);
		if (++n == 256 || i + 1 == c->n) {
			if (nftb_add_set_msg(b, s, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE) < 0)
				return -1;
			n = 0;
		}
	}
	return 0;
}

int kmode_svc_sync(const struct nfq_config *cfg)
{
	static const int families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	struct svc_copy now[2] = {{0}};
	struct nftb *b = NULL;
	bool changed = false;
	int f, ret = -1;

	for (f = 0; f < 2; f++) {
		if (read_rule_set(cfg, families[f], &now[f]) < 0)
			goto out; /* keep the old copy: never empty it on a failed read */
		if (!have_last[f] || !same_copy(&now[f], &last[f]))
			changed = true;
	}
	if (!changed) {
		ret = 0;
		goto out;
	}
	b = nftb_begin();
	if (!b)
		goto out;
	for (f = 0; f < 2; f++)
		if (add_svc_elements(b, cfg, families[f], &now[f]) < 0) {
			nftb_abort(b);
			log_warnx("kernel mode: the service batch does not fit");
			goto out;
		}
	if (nftb_commit(b) < 0) {
		log_warn("kernel mode: updating the service set copy");
		goto out;
	}
	for (f = 0; f < 2; f++) {
		free(last[f].keys);
		last[f] = now[f];
		have_last[f] = true;
		now[f].keys = NULL;
	}
	log_debug("kernel mode: service copy %zu IPv4, %zu IPv6", last[0].n, last[1].n);
	ret = 0;
out:
	free(now[0].keys);
	free(now[1].keys);
	return ret;
}

int kmode_events_open(void)
{
	int fd;

	ev_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!ev_nl || mnl_socket_bind(ev_nl, 1U << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		log_warn("kernel mode: nftables event socket");
		if (ev_nl)
			mnl_socket_close(ev_nl);
		ev_nl = NULL;
		return -1;
	}
	fd = mnl_socket_get_fd(ev_nl);
	/* a burst of events must not be lost silently: ENOBUFS then means "resync" */
	{
		int sz = 1 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	}
	return fd;
}

/* Does the event name table inet coopnet? Attribute 1 is the table name in the messages of
 * tables, chains, rules, sets and element lists (NFTA_*_TABLE / NFTA_TABLE_NAME). */
static bool about_rule_table(const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	unsigned type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) || g->nfgen_family != NFPROTO_INET)
		return false;
	if (type != NFT_MSG_NEWTABLE && type != NFT_MSG_DELTABLE && type != NFT_MSG_NEWSET &&
	    type != NFT_MSG_DELSET && type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != 1)
			continue;
		return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		       !strcmp(mnl_attr_get_str(a), RULE_TABLE);
	}
	return false;
}

bool kmode_events_read(void)
{
	char buf[32768];
	bool relevant = false;
	int rounds;

	if (!ev_nl)
		return false;
	for (rounds = 0; rounds < 1024; rounds++) {
		ssize_t n = mnl_socket_recvfrom(ev_nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS)
				relevant = true; /* events lost: resync */
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("kernel mode: nftables events");
			if (errno != ENOBUFS && errno != EINTR)
				break;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (about_rule_table(nlh))
				relevant = true;
	}
	return relevant;
}

void kmode_events_close(void)
{
	if (ev_nl)
		mnl_socket_close(ev_nl);
	ev_nl = NULL;
	free(last[0].keys);
	free(last[1].keys);
	memset(last, 0, sizeof(last));
	have_last[0] = have_last[1] = false;
}
