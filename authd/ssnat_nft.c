/* SPDX-License-Identifier: MIT */
/*
 * The SS DNAT's nftables batches (ssnat.h), built with libnftnl (lib/nftbatch.h). In table
 * inet coopnet_ssnat, per family (v = 4 or 6; a port is padded to 4 bytes in a concatenated
 * key, as nft does):
 *   map dnat<v>   key: client . virtual address . port   data: member address
 *   set vsvc<v>   key: virtual address . port
 *   chain dnat    nat prerouting dstnat (-100)
 *       meta nfproto ipv4 meta l4proto tcp
 *           dnat ip to ip saddr . ip daddr . tcp dport map @dnat4
 *   chain guard   filter forward 10
 *       meta nfproto ipv4 meta l4proto tcp ip daddr . tcp dport @vsvc4 counter drop
 * Not owned by the parent's socket: the guard stays when coopnet-authd stops (fail closed:
 * a group service is never reached at its virtual address).
 */
#include "ssnat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nftbatch.h"

#define R(i) (NFT_REG32_00 + (i))
#define FAM NFPROTO_INET
#define DT_IPV4 7
#define DT_IPV6 8
#define DT_SERVICE 13
#define DT_CONCAT(a, b) (((a) << 6) | (b))

enum sset { SN_DNAT, SN_VSVC, SN__COUNT };

static unsigned alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static void set_name(char *buf, enum sset k, int af)
{
	snprintf(buf, 16, "%s%c", k == SN_DNAT ? "dnat" : "vsvc", af == AF_INET ? '4' : '6');
}

static uint32_t set_id(enum sset k, int af)
{
	return (af == AF_INET ? 1 : 11) + (uint32_t)k;
}

static struct nftnl_set *set_ref(enum sset k, int af)
{
	char name[16];

	set_name(name, k, af);
	return nftb_set_new(FAM, SSNAT_TABLE, name, set_id(k, af));
}

static int add_set(struct nftb *b, enum sset k, int af)
{
	struct nftnl_set *s = set_ref(k, af);
	uint32_t a = af == AF_INET ? DT_IPV4 : DT_IPV6;

	if (!s)
		return -1;
	if (k == SN_DNAT) {
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2 * alen(af) + 4);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, DT_CONCAT(DT_CONCAT(a, a), DT_SERVICE));
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, a);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, alen(af));
	} else {
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, alen(af) + 4);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, DT_CONCAT(a, DT_SERVICE));
	}
	return nftb_add_set_msg(b, s, NFT_MSG_NEWSET, FAM, NLM_F_CREATE);
}

/* key: a1 [. a2] . port */
static uint32_t make_key(uint8_t *key, int af, const uint8_t *a1, const uint8_t *a2,
			 uint16_t port)
{
	uint16_t be = htons(port);
	uint32_t off = nftb_key_cat(key, 0, a1, alen(af));

	if (a2)
		off = nftb_key_cat(key, off, a2, alen(af));
	return nftb_key_cat(key, off, &be, 2);
}

/* The elements of set k of family af (type: NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM), those
 * of that family among n: SN_DNAT from e (client . vaddr . port : real), SN_VSVC from s
 * (vaddr . port; e NULL). */
static int set_elems(struct nftb *b, uint16_t type, enum sset k, int af,
		     const struct ssnat_elem *e, const struct ssnat_svc *s, size_t n)
{
	struct nftb_elems w;
	uint8_t key[40];
	char name[16];

	set_name(name, k, af);
	nftb_elems_init(&w, b, FAM, SSNAT_TABLE, name, set_id(k, af), type);
	for (size_t i = 0; i < n; i++)
		if (e && e[i].family == af)
			nftb_elem(&w, key, make_key(key, af, e[i].client, e[i].vaddr, e[i].port),
				  e[i].real, alen(af));
		else if (!e && s[i].family == af)
			nftb_elem(&w, key, make_key(key, af, s[i].vaddr, NULL, s[i].port), NULL, 0);
	return nftb_elems_end(&w);
}

/* meta nfproto <af> meta l4proto tcp */
static int match_tcp(struct nftnl_rule *r, int af)
{
	uint8_t p = af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6, tcp = IPPROTO_TCP;

	return nftb_put(r, nftb_meta(NFT_META_NFPROTO, NFT_REG_1, 0)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &p, 1)) ||
	       nftb_put(r, nftb_meta(NFT_META_L4PROTO, NFT_REG_1, 0)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &tcp, 1));
}

static struct nftnl_expr *addr(int af, bool src, uint32_t reg)
{
	uint32_t off = af == AF_INET ? (src ? 12 : 16) : (src ? 8 : 24);

	return nftb_payload(NFT_PAYLOAD_NETWORK_HEADER, off, alen(af), reg);
}

static struct nftnl_expr *dport(uint32_t reg)
{
	return nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
}

static int dnat_rule(struct nftnl_rule *r, int af)
{
	struct nftnl_expr *nat = nftnl_expr_alloc("nat");
	unsigned w = alen(af) / 4;
	char name[16];

	set_name(name, SN_DNAT, af);
	if (nat) {
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY,
				   af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
		nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	}
	if (match_tcp(r, af) || nftb_put(r, addr(af, true, R(0))) ||
	    nftb_put(r, addr(af, false, R(w))) || nftb_put(r, dport(R(2 * w))) ||
	    nftb_put(r, nftb_lookup(name, set_id(SN_DNAT, af), R(0), NFT_REG_1))) {
		nftb_expr_free(nat);
		return -1;
	}
	return nftb_put(r, nat);
}

static int guard_rule(struct nftnl_rule *r, int af)
{
	char name[16];

	set_name(name, SN_VSVC, af);
	return match_tcp(r, af) || nftb_put(r, addr(af, false, R(0))) ||
	       nftb_put(r, dport(R(alen(af) / 4))) ||
	       nftb_put(r, nftb_lookup(name, set_id(SN_VSVC, af), R(0), -1)) ||
	       nftb_put(r, nftb_counter()) || nftb_put(r, nftb_verdict(NF_DROP)) ||
	       nftb_rule_comment(r, "group service without a session: not DNATed");
}

static int add_rule(struct nftb *b, const char *chain, int af, bool dnat)
{
	struct nftnl_rule *r = nftb_rule_new(FAM, SSNAT_TABLE, chain);

	if (!r || (dnat ? dnat_rule(r, af) : guard_rule(r, af)) < 0) {
		if (r)
			nftnl_rule_free(r);
		return -1;
	}
	return nftb_add_rule(b, r);
}

static int commit(struct nftb *b, int built)
{
	if (built) {
		nftb_abort(b);
		errno = ENOSPC;
		return -1;
	}
	return nftb_commit(b);
}

int ssnat_nft_table(const struct ssnat_svc *svcs, size_t n_svcs, const struct ssnat_elem *e,
		    size_t n)
{
	static const int afs[2] = { AF_INET, AF_INET6 };
	struct nftb *b = nftb_begin();
	int r;

	if (!b)
		return -1;
	r = nftb_add_table_flags(b, FAM, SSNAT_TABLE, 0) < 0 ||
	    nftb_del_table(b, FAM, SSNAT_TABLE) < 0 ||
	    nftb_add_table_flags(b, FAM, SSNAT_TABLE, 0) < 0;
	for (int f = 0; !r && f < 2; f++)
		r = add_set(b, SN_DNAT, afs[f]) < 0 || add_set(b, SN_VSVC, afs[f]) < 0 ||
		    set_elems(b, NFT_MSG_NEWSETELEM, SN_VSVC, afs[f], NULL, svcs, n_svcs) < 0 ||
		    set_elems(b, NFT_MSG_NEWSETELEM, SN_DNAT, afs[f], e, NULL, n) < 0;
	if (!r)
		r = nftb_add_base_chain(b, FAM, SSNAT_TABLE, "dnat", "nat", NF_INET_PRE_ROUTING,
					-100) < 0 ||
		    add_rule(b, "dnat", AF_INET, true) < 0 || add_rule(b, "dnat", AF_INET6, true) < 0 ||
		    nftb_add_base_chain(b, FAM, SSNAT_TABLE, "guard", "filter", NF_INET_FORWARD,
					10) < 0 ||
		    add_rule(b, "guard", AF_INET, false) < 0 || add_rule(b, "guard", AF_INET6, false) < 0;
	return commit(b, r);
}

int ssnat_nft_elems(const struct ssnat_change *c)
{
	struct nftb *b = nftb_begin();
	int r = 0;

	if (!b)
		return -1;
	/* deletions first: a client moved to another member is one key, deleted then added */
	for (int af = 0; !r && af < 2; af++)
		r = set_elems(b, NFT_MSG_DELSETELEM, SN_DNAT, af ? AF_INET6 : AF_INET, c->del, NULL,
			      c->n_del);
	for (int af = 0; !r && af < 2; af++)
		r = set_elems(b, NFT_MSG_NEWSETELEM, SN_DNAT, af ? AF_INET6 : AF_INET, c->add, NULL,
			      c->n_add);
	return commit(b, r);
}

int ssnat_nft_delete(void)
{
	struct nftb *b = nftb_begin();

	if (!b)
		return -1;
	return commit(b, nftb_add_table_flags(b, FAM, SSNAT_TABLE, 0) < 0 ||
			 nftb_del_table(b, FAM, SSNAT_TABLE) < 0);
}
