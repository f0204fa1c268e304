/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch's nftables batches (vswitch.h), built with libnftnl (lib/nftbatch.h).
 * In table inet coopnet_vswitch, per family (v = 4 or 6, registers of 4 bytes each: a field
 * shorter than 4 bytes is padded to 4 in a concatenated key, as nft does):
 *   set relay<v>, vnic<v>        key: address
 *   set svc<v>                   key: address . port
 *   map steer<v>                 key: client . ID (tcp urgptr) . port  data: vNIC address
 *   chain mark_in / mark_out     filter prerouting / output -200 (queue_mark only)
 *       iifname "lo" accept      (oifname on output: the SP's own health checks)
 *       ip daddr . tcp dport @svc4 meta mark set meta mark | MARK (saddr . sport on output)
 *   chain steer                  nat prerouting dstnat (-100)
 *       ip daddr @relay4 tcp flags & urg == 0
 *           dnat ip to ip saddr . tcp urgptr . tcp dport map @steer4
 *   chain guard                  filter input -150
 *       iifname "lo" accept
 *       ip daddr @relay4 ip daddr . tcp dport @svc4 ct status & dnat == 0 counter drop
 *       ip daddr @vnic4 ct status & dnat == 0 counter drop
 *       ip daddr @vnic4 ip daddr . tcp dport != @svc4 counter drop
 * The table is not owned by the parent's socket (no NFT_TABLE_F_OWNER): the guard stays when
 * coopnet-authd stops, so a vNIC never becomes reachable around the switch.
 */
#include "vswitch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>

#include "nftbatch.h"

#define R(i) (NFT_REG32_00 + (i))
#define FAM NFPROTO_INET

/* nft's datatype numbers, so that `nft list` prints the keys as addresses and ports */
#define DT_IPV4 7
#define DT_IPV6 8
#define DT_SERVICE 13
#define DT_CONCAT(a, b) (((a) << 6) | (b))

enum vset { VS_RELAY, VS_VNIC, VS_SVC, VS_STEER, VS__COUNT };
static const char *const vset_name[VS__COUNT] = { "relay", "vnic", "svc", "steer" };

static unsigned alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static void set_name(char *buf, enum vset k, int af)
{
	snprintf(buf, 16, "%s%c", vset_name[k], af == AF_INET ? '4' : '6');
}

static uint32_t set_id(enum vset k, int af)
{
	return (af == AF_INET ? 1 : 11) + (uint32_t)k;
}

static struct nftnl_set *set_ref(enum vset k, int af)
{
	char name[16];

	set_name(name, k, af);
	return nftb_set_new(FAM, VSWITCH_TABLE, name, set_id(k, af));
}

static int add_set(struct nftb *b, enum vset k, int af)
{
	struct nftnl_set *s = set_ref(k, af);
	uint32_t addr = af == AF_INET ? DT_IPV4 : DT_IPV6;

	if (!s)
		return -1;
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, alen(af) + (k == VS_STEER ? 8 : k == VS_SVC ? 4 : 0));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  k == VS_STEER ? DT_CONCAT(DT_CONCAT(addr, DT_SERVICE), DT_SERVICE) :
			  k == VS_SVC ? DT_CONCAT(addr, DT_SERVICE) : addr);
	if (k == VS_STEER) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, addr);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, alen(af));
	}
	return nftb_add_set_msg(b, s, NFT_MSG_NEWSET, FAM, NLM_F_CREATE);
}

/* key: address, then n 16-bit values in network order, each padded to 4 bytes as in a
 * concatenation */
static uint32_t make_key(uint8_t *key, int af, const uint8_t *addr, const uint16_t *v, size_t n)
{
	uint32_t off = nftb_key_cat(key, 0, addr, alen(af));

	for (size_t i = 0; i < n; i++) {
		uint16_t be = htons(v[i]);

		off = nftb_key_cat(key, off, &be, 2);
	}
	return off;
}

static void elems_init(struct nftb_elems *w, char *name, struct nftb *b, enum vset k, int af,
		       uint16_t type)
{
	set_name(name, k, af);
	nftb_elems_init(w, b, FAM, VSWITCH_TABLE, name, set_id(k, af), type);
}

static int steer_elems(struct nftb *b, uint16_t type, int af, const struct vswitch_steer *v,
		       size_t nv)
{
	struct nftb_elems w;
	uint8_t key[24];
	char name[16];

	elems_init(&w, name, b, VS_STEER, af, type);
	for (size_t i = 0; i < nv; i++) {
		uint16_t idport[2] = { v[i].id, v[i].port };

		if (v[i].family == af)
			nftb_elem(&w, key, make_key(key, af, v[i].client, idport, 2), v[i].vnic,
				  alen(af));
	}
	return nftb_elems_end(&w);
}

/* The elements of relay, vnic and svc of one family. */
static int policy_elems(struct nftb *b, const struct vswitch *vs, int af)
{
	struct nftb_elems w[3];
	char name[3][16];
	uint8_t key[24];
	int r = 0;

	elems_init(&w[0], name[0], b, VS_RELAY, af, NFT_MSG_NEWSETELEM);
	elems_init(&w[1], name[1], b, VS_VNIC, af, NFT_MSG_NEWSETELEM);
	elems_init(&w[2], name[2], b, VS_SVC, af, NFT_MSG_NEWSETELEM);
	for (size_t i = 0; i < vs->n_relay; i++)
		if (vs->relay[i].family == af)
			nftb_elem(&w[0], vs->relay[i].addr, alen(af), NULL, 0);
	for (size_t i = 0; i < vs->n_vnics; i++)
		if (vs->vnics[i].family == af)
			nftb_elem(&w[1], vs->vnics[i].addr, alen(af), NULL, 0);
	for (size_t i = 0; i < vs->n_svcs; i++)
		if (vs->svcs[i].a.family == af)
			nftb_elem(&w[2], key, make_key(key, af, vs->svcs[i].a.addr,
						       &vs->svcs[i].port, 1), NULL, 0);
	for (int k = 0; k < 3; k++)
		r |= nftb_elems_end(&w[k]);
	return r;
}

/* --- rules ----------------------------------------------------------------------------------- */

/* meta nfproto ipv4|ipv6 */
static int match_family(struct nftnl_rule *r, int af)
{
	uint8_t p = af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	return nftb_put(r, nftb_meta(NFT_META_NFPROTO, NFT_REG_1, 0)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &p, 1));
}

/* meta l4proto tcp */
static int match_tcp(struct nftnl_rule *r)
{
	uint8_t tcp = IPPROTO_TCP;

	return nftb_put(r, nftb_meta(NFT_META_L4PROTO, NFT_REG_1, 0)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &tcp, 1));
}

/* ip saddr / daddr into reg */
static struct nftnl_expr *addr(int af, bool src, uint32_t reg)
{
	uint32_t off = af == AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);

	return nftb_payload(NFT_PAYLOAD_NETWORK_HEADER, off, alen(af), reg);
}

/* ip daddr @set */
static int daddr_in(struct nftnl_rule *r, enum vset k, int af)
{
	char name[16];

	set_name(name, k, af);
	return nftb_put(r, addr(af, false, NFT_REG_1)) ||
	       nftb_put(r, nftb_lookup(name, set_id(k, af), NFT_REG_1, -1));
}

/* ip [sd]addr . tcp [sd]port @svc (dst: the destination's; inv: != @svc) */
static int svc_match(struct nftnl_rule *r, int af, bool dst, bool inv)
{
	struct nftnl_expr *l;
	char name[16];

	set_name(name, VS_SVC, af);
	l = nftb_lookup(name, set_id(VS_SVC, af), R(0), -1);
	if (l && inv)
		nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (match_tcp(r) || nftb_put(r, addr(af, !dst, R(0))) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, dst ? 2 : 0, 2,
				     R(alen(af) / 4)))) {
		nftb_expr_free(l);
		return -1;
	}
	return nftb_put(r, l);
}

static int svc_in(struct nftnl_rule *r, int af, bool dst)
{
	return svc_match(r, af, dst, false);
}

/* ct status & dnat == 0 */
static int not_dnat(struct nftnl_rule *r)
{
	uint32_t m = IPS_DST_NAT, z = 0;

	return nftb_put(r, nftb_ct(NFT_CT_STATUS, NFT_REG_1)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &m, &z)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &z, 4));
}

/* meta mark set meta mark | mark */
static int set_mark(struct nftnl_rule *r, uint32_t mark)
{
	uint32_t mask = ~mark;

	return nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, 0)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &mask, &mark)) ||
	       nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, 1));
}

/* ip daddr @relay4 tcp flags & urg == 0 dnat ip to ip saddr . tcp urgptr . tcp dport map
 * @steer4 */
static int steer(struct nftnl_rule *r, int af)
{
	struct nftnl_expr *nat = nftnl_expr_alloc("nat");
	uint8_t urg = 0x20, z = 0;
	char name[16];

	set_name(name, VS_STEER, af);
	if (nat) {
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY,
				   af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	}
	if (daddr_in(r, VS_RELAY, af) || match_tcp(r) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1)) ||
	    nftb_put(r, nftb_bitwise(NFT_REG_1, 1, &urg, &z)) ||
	    nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &z, 1)) ||
	    nftb_put(r, addr(af, true, R(0))) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 18, 2, R(alen(af) / 4))) ||
	    nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R(alen(af) / 4 + 1))) ||
	    nftb_put(r, nftb_lookup(name, set_id(VS_STEER, af), R(0), NFT_REG_1))) {
		nftb_expr_free(nat);
		return -1;
	}
	return nftb_put(r, nat);
}

enum vrule { V_MARK_IN, V_MARK_OUT, V_STEER, V_LO, V_LO_OUT, V_GUARD_RELAY, V_GUARD_VNIC,
	     V_GUARD_PORT };

static int build_rule(struct nftnl_rule *r, const struct vswitch *vs, enum vrule k, int af)
{
	static const char lo[16] = "lo";

	switch (k) {
	case V_MARK_IN:
	case V_MARK_OUT:
		return match_family(r, af) || svc_in(r, af, k == V_MARK_IN) ||
		       set_mark(r, vs->mark);
	case V_STEER:
		return match_family(r, af) || steer(r, af);
	case V_LO:
	case V_LO_OUT:
		return nftb_put(r, nftb_meta(k == V_LO ? NFT_META_IIFNAME : NFT_META_OIFNAME,
					     NFT_REG_1, 0)) ||
		       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, lo, sizeof(lo))) ||
		       nftb_put(r, nftb_verdict(NF_ACCEPT));
	case V_GUARD_RELAY:
	case V_GUARD_VNIC:
		return match_family(r, af) ||
		       daddr_in(r, k == V_GUARD_RELAY ? VS_RELAY : VS_VNIC, af) ||
		       (k == V_GUARD_RELAY && svc_in(r, af, true)) || not_dnat(r) ||
		       nftb_put(r, nftb_counter()) || nftb_put(r, nftb_verdict(NF_DROP)) ||
		       nftb_rule_comment(r, k == V_GUARD_RELAY ? "no session steers it" :
						"vNIC not through the switch");
	case V_GUARD_PORT:
		/* steered there, but only the vNIC's services: no other listener */
		return match_family(r, af) || daddr_in(r, VS_VNIC, af) ||
		       svc_match(r, af, true, true) ||
		       nftb_put(r, nftb_counter()) || nftb_put(r, nftb_verdict(NF_DROP)) ||
		       nftb_rule_comment(r, "not a service of the vNIC");
	}
	return -1;
}

static int add_rule(struct nftb *b, const struct vswitch *vs, const char *chain, enum vrule k,
		    int af)
{
	struct nftnl_rule *r = nftb_rule_new(FAM, VSWITCH_TABLE, chain);

	if (!r || build_rule(r, vs, k, af) < 0) {
		if (r)
			nftnl_rule_free(r);
		return -1;
	}
	return nftb_add_rule(b, r);
}

static int add_chains(struct nftb *b, const struct vswitch *vs)
{
	static const int afs[2] = { AF_INET, AF_INET6 };

	if (vs->mark &&
	    (nftb_add_base_chain(b, FAM, VSWITCH_TABLE, "mark_in", "filter", NF_INET_PRE_ROUTING,
				 -200) < 0 ||
	     /* the SP's own traffic over the loopback (its health checks) is not the overlay's */
	     add_rule(b, vs, "mark_in", V_LO, AF_INET) < 0 ||
	     add_rule(b, vs, "mark_in", V_MARK_IN, AF_INET) < 0 ||
	     add_rule(b, vs, "mark_in", V_MARK_IN, AF_INET6) < 0 ||
	     nftb_add_base_chain(b, FAM, VSWITCH_TABLE, "mark_out", "filter", NF_INET_LOCAL_OUT,
				 -200) < 0 ||
	     add_rule(b, vs, "mark_out", V_LO_OUT, AF_INET) < 0 ||
	     add_rule(b, vs, "mark_out", V_MARK_OUT, AF_INET) < 0 ||
	     add_rule(b, vs, "mark_out", V_MARK_OUT, AF_INET6) < 0))
		return -1;
	if (nftb_add_base_chain(b, FAM, VSWITCH_TABLE, "steer", "nat", NF_INET_PRE_ROUTING,
				-100) < 0 ||
	    add_rule(b, vs, "steer", V_STEER, AF_INET) < 0 ||
	    add_rule(b, vs, "steer", V_STEER, AF_INET6) < 0 ||
	    nftb_add_base_chain(b, FAM, VSWITCH_TABLE, "guard", "filter", NF_INET_LOCAL_IN,
				-150) < 0 ||
	    add_rule(b, vs, "guard", V_LO, AF_INET) < 0)
		return -1;
	for (int f = 0; f < 2; f++)
		if (add_rule(b, vs, "guard", V_GUARD_RELAY, afs[f]) < 0)
			return -1;
	for (int f = 0; f < 2; f++)
		if (add_rule(b, vs, "guard", V_GUARD_VNIC, afs[f]) < 0)
			return -1;
	for (int f = 0; f < 2; f++)
		if (add_rule(b, vs, "guard", V_GUARD_PORT, afs[f]) < 0)
			return -1;
	return 0;
}

/* --- the batches --------------------------------------------------------------------------- */

static int commit(struct nftb *b, int built)
{
	if (built < 0) {
		nftb_abort(b);
		errno = ENOSPC;
		return -1;
	}
	return nftb_commit(b);
}

int vswitch_nft_table(const struct vswitch *vs, const struct vswitch_steer *steer, size_t n)
{
	static const int afs[2] = { AF_INET, AF_INET6 };
	struct nftb *b = nftb_begin();
	int r;

	if (!b)
		return -1;
	/* created empty first so that the delete never fails, then anew */
	r = nftb_add_table_flags(b, FAM, VSWITCH_TABLE, 0) < 0 ||
	    nftb_del_table(b, FAM, VSWITCH_TABLE) < 0 ||
	    nftb_add_table_flags(b, FAM, VSWITCH_TABLE, 0) < 0;
	for (int f = 0; !r && f < 2; f++)
		for (int k = 0; !r && k < VS__COUNT; k++)
			r = add_set(b, (enum vset)k, afs[f]);
	for (int f = 0; !r && f < 2; f++)
		r = policy_elems(b, vs, afs[f]) < 0 ||
		    steer_elems(b, NFT_MSG_NEWSETELEM, afs[f], steer, n) < 0;
	if (!r)
		r = add_chains(b, vs);
	return commit(b, r ? -1 : 0);
}

int vswitch_nft_elems(const struct vswitch_change *c)
{
	struct nftb *b = nftb_begin();
	int r = 0;

	if (!b)
		return -1;
	/* deletions first: a renewed ID replaces an element of the same key in one transaction */
	for (int af = 0; !r && af < 2; af++)
		r = steer_elems(b, NFT_MSG_DELSETELEM, af ? AF_INET6 : AF_INET, c->del, c->n_del);
	for (int af = 0; !r && af < 2; af++)
		r = steer_elems(b, NFT_MSG_NEWSETELEM, af ? AF_INET6 : AF_INET, c->add, c->n_add);
	return commit(b, r);
}

int vswitch_nft_delete(void)
{
	struct nftb *b = nftb_begin();

	if (!b)
		return -1;
	return commit(b, nftb_add_table_flags(b, FAM, VSWITCH_TABLE, 0) < 0 ||
			 nftb_del_table(b, FAM, VSWITCH_TABLE) < 0 ? -1 : 0);
}
