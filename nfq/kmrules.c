/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode: the rules of the worker's chain, the decision table of nfq/logic.c in nft
 * expressions (kernelmode.h; compared with nfq_decide by tests/netns/nfq-diff.test).
 */
#include <arpa/inet.h>

#include "kmode_int.h"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <stdbool.h>

#include "nftbatch.h"
#include "nftrule.h"

static struct nftnl_expr *lookup(int family, enum kset k, uint32_t sreg, int dreg)
{
	return nftb_lookup(kmode_set_names[k], kmode_set_id(family, k), sreg, dreg);
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

/* The chain's first rule:
 *   meta l4proto != tcp accept              not TCP: never overlay traffic, leaves at once
 * Every rule after it starts with a set lookup keyed on the segment's own addresses and
 * ports (after a test of the flags byte), so non-overlay TCP leaves after a few misses. No
 * mark test: the rule file marks nothing in kernel mode (nft-rules/ *-kernel.nft), so this
 * chain and the rule file's guard are the only two base chains a segment crosses per hook.
 * An accept ends this chain only; the guard still runs afterwards and drops an overlay
 * segment this chain did not mark decided. The supervisor's write rule of the mark path
 * (released held SYNs, K_WRITE_MARK) comes after the two session rules that decide data
 * segments and ACKs, so those no longer pay its mark test (3 expressions less per segment,
 * docs/performance.md "CPU per gigabyte"); the first of them takes no SYN (its flags test
 * covers SYN with URG in the same 3 expressions), so a released SYN still meets the write
 * rule first, as before, and the SYNs of a live session get their ID from K_EMBED_SYN
 * right after it. */
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

/* tcp flags & (urg | syn) == 0 */
static int urg_syn_clear(struct nftnl_rule *r)
{
	uint8_t m = 0x22, z = 0;

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

/* tcp urgptr == 0, in register reg (one that the key loaded before it does not use) */
static int urgptr_zero(struct nftnl_rule *r, uint32_t reg)
{
	uint16_t z = 0;

	return nftb_put(r, nftb_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 18, 2, reg)) ||
	       nftb_put(r, nftb_cmp(reg, NFT_CMP_EQ, &z, 2));
}

/* strip (nfq.json): tcp urgptr set 0, with the checksum updated (RFC 1624 in the kernel's
 * payload expression, CHECKSUM_PARTIAL packets included), after the check: the unmodified
 * side (SS: the client; SP: the service) never sees the ID. */
static int clear_urgptr(struct nftnl_rule *r)
{
	uint16_t z = 0;

	return nftb_put(r, nftb_imm(NFT_REG_1, &z, sizeof(z))) ||
	       nftb_put(r, nft_write_urgptr(NFT_REG_1));
}

/* Load the key (client . service . port [. urgptr]) from R(0) on. forward: the client is the
 * source (segments to the service); else the destination (replies). */
static int load_key(struct nftnl_rule *r, int family, bool forward, bool with_id)
{
	uint32_t na = kmode_nregs(family), alen = na * 4;
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
	uint32_t na = kmode_nregs(family), alen = na * 4;
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

/* meta mark set meta mark | C; [objref counter;] accept. counter NULL: the rule's set lookup
 * counts on the session's element (ids, ok: kmstats.c), no named counter (one indirect call
 * less per segment of a live session, docs/performance.md). */
static int done(struct nftnl_rule *r, const struct nfq_config *cfg, const char *counter)
{
	uint32_t mask = ~cfg->mark_done, x = cfg->mark_done;

	return nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, false)) ||
	       nftb_put(r, nftb_bitwise(NFT_REG_1, 4, &mask, &x)) ||
	       nftb_put(r, nftb_meta(NFT_META_MARK, NFT_REG_1, true)) ||
	       (counter && nftb_put(r, count(counter))) || nftb_put(r, nftb_verdict(NF_ACCEPT));
}

/* meta iif (in) / oif == lo accept: lo's ifindex is 1 in every namespace (LOOPBACK_IFINDEX).
 * Not marked decided: the rule file's guard lets lo go as provider.nft never marks it. */
static int loopback(struct nftnl_rule *r, bool in)
{
	uint32_t lo = 1;

	return nftb_put(r, nftb_meta(in ? NFT_META_IIF : NFT_META_OIF, NFT_REG_1, false)) ||
	       nftb_put(r, nftb_cmp(NFT_REG_1, NFT_CMP_EQ, &lo, sizeof(lo))) ||
	       nftb_put(r, nftb_verdict(NF_ACCEPT));
}

static int drop(struct nftnl_rule *r, const char *counter)
{
	return nftb_put(r, count(counter)) || nftb_put(r, nftb_verdict(NF_DROP));
}

static const char *const drop_counter[3] = {
	[TBL_DROP_NO_ID] = "dropped_no_id",
	[TBL_DROP_WRONG_ID] = "dropped_wrong_id",
	[TBL_DROP_OTHER] = "dropped_urgent",
};

/* The drop chains, by reason and direction (0: service -> client, 1: client -> service). */
static const char *const drop_chain[3][2] = {
	[TBL_DROP_NO_ID] = {"drop_noid_back", "drop_noid_fwd"},
	[TBL_DROP_WRONG_ID] = {"drop_wrong_back", "drop_wrong_fwd"},
	[TBL_DROP_OTHER] = {"drop_other_back", "drop_other_fwd"},
};

/* The end of a drop rule of a session's segment (its key found in `keys`): goto the drop
 * chain of the reason's set (drop_noid, drop_wrong, drop_other) and the direction, which
 * counts the segment on its session and drops it. Every other condition of the rule comes
 * first, so the chain counts exactly the segments the rule drops. */
static int drop_counted(struct nftnl_rule *r, enum kset why, bool forward)
{
	return nftb_put(r, nftb_goto(drop_chain[kmode_drop_reason(why)][forward]));
}

/* The drop chain of set `why` and a direction (a regular chain), reached by goto:
 *   <the session's key> add @why { key } objref counter drop
 *                          the session's element: made at its first drop of this reason,
 *                          its counter counting each one
 *   objref counter drop    only when the element could not be made (the set full, no
 *                          memory): dropped all the same
 * The chain loads the key again: the kernel refuses a rule that reads a register no
 * expression of the same rule wrote (ENODATA), so a key cannot be handed over by the goto.
 * So the sets hold the keys of sessions that dropped something, not of every session: a
 * session costs the kernel 3 elements fewer to add (an install, a full sync, a worker
 * restart) and to hold. */
static int add_drop_chain(struct nftb *b, const struct nfq_config *cfg, int family, enum kset why,
			  bool forward)
{
	int reason = kmode_drop_reason(why);
	const char *chain = drop_chain[reason][forward];
	struct nftnl_rule *r;

	if (nftb_add_regular_chain(b, family, cfg->rule_table, chain) < 0)
		return -1;
	for (int fallback = 0; fallback < 2; fallback++) {
		r = nftb_rule_new(family, cfg->rule_table, chain);
		if (!r || (!fallback && (load_key(r, family, forward, false) ||
					 nftb_put(r, nftb_dynset_add(kmode_set_names[why],
								     kmode_set_id(family, why),
								     R(0))))) ||
		    drop(r, drop_counter[reason]) || nftb_add_rule(b, r) < 0) {
			if (r)
				nftnl_rule_free(r);
			return -1;
		}
	}
	return 0;
}

int kmode_add_drop_chains(struct nftb *b, const struct nfq_config *cfg, int family)
{
	static const enum kset sets[] = {KS_DNOID, KS_DWRONG, KS_DOTHER};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		for (int forward = 0; forward < 2; forward++)
			if (add_drop_chain(b, cfg, family, sets[i], forward) < 0)
				return -1;
	return 0;
}

/* Rule kinds, in chain order. */
enum krule {
	K_EMBED_FWD,   /* SS: client -> service, no SYN: write the ID */
	K_EMBED_SYN,   /* SS: client -> service, a SYN (after the write rule): write the ID */
	K_CHECK_FWD,   /* SP: client -> service with the right ID */
	K_EMBED_BACK,  /* SP: service -> client, write the ID */
	K_CHECK_BACK,  /* SS: service -> client with the right ID */
	K_NOID_FWD, K_WRONG_FWD,   /* SP: session, ID absent / wrong */
	K_NOID_BACK, K_WRONG_BACK, /* SS: session, ID absent / wrong */
	K_PREV_FWD,    /* SP: client -> service with the previous ID, within the renewal grace */
	K_PREV_BACK,   /* SS: service -> client, the same */
	K_URGENT_FWD,  /* client -> service of a session with URG set: SS, no ID can go there; SP,
			* the pointer is not an ID */
	K_URGENT_BACK, /* service -> client of a session with URG set: the same the other way */
	K_MISS,        /* SS: first SYN to an overlay service without a session -> queue */
	K_PASS_FWD, K_PASS_BACK,       /* SS: other overlay segments pass (decided) */
	K_UNKNOWN_FWD, K_UNKNOWN_BACK, /* SP: other segments of protected services: drop */
	K_WRITE_MARK,  /* SS: the mark path's write rule (released held SYNs) */
	K_KNOWN_FWD,   /* SS input: client -> service of a session, taken by the local relay */
	K_LOOP_IN, K_LOOP_OUT,         /* SP: the host's own traffic over lo */
};

static int build_rule(struct nftnl_rule *r, const struct nfq_config *cfg, int family,
		      enum krule k, struct nftnl_expr **q)
{
	uint32_t dreg = R(2 * kmode_nregs(family) + 1);

	switch (k) {
	case K_EMBED_FWD: /* SS, before the write rule: no SYN, so no released SYN */
		return urg_syn_clear(r) || load_key(r, family, true, false) ||
		       nftb_put(r, lookup(family, KS_IDS, R(0), (int)dreg)) ||
		       nftb_put(r, nft_write_urgptr(dreg)) || done(r, cfg, NULL);
	case K_EMBED_SYN: /* SS, after the write rule: the SYNs of a session's flow */
	case K_EMBED_BACK:
		return urg_clear(r) || load_key(r, family, k == K_EMBED_SYN, false) ||
		       nftb_put(r, lookup(family, KS_IDS, R(0), (int)dreg)) ||
		       nftb_put(r, nft_write_urgptr(dreg)) || done(r, cfg, NULL);
	case K_CHECK_FWD:
	case K_CHECK_BACK:
		return urg_clear(r) || load_key(r, family, k == K_CHECK_FWD, true) ||
		       nftb_put(r, lookup(family, KS_OK, R(0), -1)) ||
		       (cfg->strip && clear_urgptr(r)) || done(r, cfg, NULL);
	case K_PREV_FWD:
	case K_PREV_BACK: /* the element's timeout ends the grace; counted in checked_ok, as
			   * queue mode does, through checked_prev (prev has no element counters) */
		return urg_clear(r) || load_key(r, family, k == K_PREV_FWD, true) ||
		       nftb_put(r, lookup(family, KS_PREV, R(0), -1)) ||
		       (cfg->strip && clear_urgptr(r)) || done(r, cfg, "checked_prev");
	/* The drop rules of a session's segments: the reason's drop chain counts each on its
	 * session (drop_counted). A segment with URG set is "urgent" before anything else, as
	 * in nfq_decide (its urgent pointer is not an ID): the flags test first, so a segment
	 * without URG leaves after 3 expressions. */
	case K_NOID_FWD:
	case K_NOID_BACK: /* the flow's lookup in keys first, so other traffic leaves there */
		return load_key(r, family, k == K_NOID_FWD, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) ||
		       urgptr_zero(r, R(2 * kmode_nregs(family) + 1)) ||
		       drop_counted(r, KS_DNOID, k == K_NOID_FWD);
	case K_WRONG_FWD:
	case K_WRONG_BACK: /* the key in keys decides: every other case of it came before */
		return load_key(r, family, k == K_WRONG_FWD, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) ||
		       drop_counted(r, KS_DWRONG, k == K_WRONG_FWD);
	case K_URGENT_FWD:
	case K_URGENT_BACK:
		return urg_set(r) || load_key(r, family, k == K_URGENT_FWD, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) ||
		       drop_counted(r, KS_DOTHER, k == K_URGENT_FWD);
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
	case K_WRITE_MARK:
		return -1; /* its own rule: nft_add_write_rule */
	case K_KNOWN_FWD: /* no ID written: the segment ends in the SS's own relay socket */
		return load_key(r, family, true, false) ||
		       nftb_put(r, lookup(family, KS_KEYS, R(0), -1)) || done(r, cfg, "passed");
	case K_LOOP_IN:
	case K_LOOP_OUT:
		return loopback(r, k == K_LOOP_IN);
	}
	return -1;
}

/* The chain's rule list for the worker's role and the hook (*n: its length). */
static const enum krule *rule_list(const struct nfq_config *cfg, int hook, size_t *n)
{
	/* Most frequent first: one set lookup decides a data segment or an ACK of a live
	 * session. */
	static const enum krule ss[] = {K_EMBED_FWD, K_CHECK_BACK, K_WRITE_MARK, K_EMBED_SYN,
					K_URGENT_BACK, K_NOID_BACK, K_PREV_BACK, K_WRONG_BACK,
					K_URGENT_FWD, K_MISS, K_PASS_FWD, K_PASS_BACK};
	/* The SS's input and output hooks carry only its confidential relay (docs/relay.md):
	 * input, the SP's answers to the relay's TLS connection (checked, as forwarded ones)
	 * and the client's segments tproxied to the relay (a local socket: no ID written; a
	 * first SYN without a session still goes to the queue, so that it authenticates);
	 * output, the relay's TLS connection to the SP (ID written) and the relay's answers to
	 * the client (the host's own segments: not checked, they carry no ID). The write rule of
	 * the mark path (released held SYNs) stands where K_EMBED_FWD no longer takes a SYN,
	 * as in the forward list. */
	static const enum krule ss_in[] = {K_CHECK_BACK, K_WRITE_MARK, K_KNOWN_FWD, K_URGENT_BACK,
					   K_NOID_BACK, K_PREV_BACK, K_WRONG_BACK, K_MISS,
					   K_PASS_FWD, K_PASS_BACK};
	static const enum krule ss_out[] = {K_EMBED_FWD, K_WRITE_MARK, K_EMBED_SYN, K_PASS_BACK,
					    K_URGENT_FWD, K_MISS, K_PASS_FWD};
	/* The provider's input hook sees segments to its services, its output hook the
	 * replies, so each gets its own order. Its own traffic over lo (its relay's onward
	 * connection to a confidential service, health checks) is not the overlay's. */
	static const enum krule sp[] = {K_CHECK_FWD, K_EMBED_BACK, K_URGENT_FWD, K_NOID_FWD,
					K_PREV_FWD, K_WRONG_FWD, K_URGENT_BACK, K_LOOP_IN,
					K_UNKNOWN_FWD, K_UNKNOWN_BACK};
	static const enum krule sp_out[] = {K_EMBED_BACK, K_CHECK_FWD, K_URGENT_BACK, K_URGENT_FWD,
					    K_NOID_FWD, K_PREV_FWD, K_WRONG_FWD, K_LOOP_OUT,
					    K_UNKNOWN_BACK, K_UNKNOWN_FWD};
#define KLIST(a) (*n = sizeof(a) / sizeof((a)[0]), (a))
	if (cfg->role == NFQ_ROLE_SUPERVISOR)
		return hook == NF_INET_LOCAL_IN ? KLIST(ss_in) :
		       hook == NF_INET_LOCAL_OUT ? KLIST(ss_out) : KLIST(ss);
	return hook == NF_INET_LOCAL_OUT ? KLIST(sp_out) : KLIST(sp);
#undef KLIST
}

int kmode_add_rules(struct nftb *b, const struct nfq_config *cfg, int family, const char *chain,
		    int hook, struct nftnl_expr *q)
{
	size_t i, n;
	const enum krule *list = rule_list(cfg, hook, &n);

	if (add_gate(b, cfg, family, chain) < 0) {
		nftb_expr_free(q);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct nftnl_rule *r;

		if (list[i] == K_WRITE_MARK) {
			if (nft_add_write_rule(b, cfg, family, chain) < 0) {
				nftb_expr_free(q);
				return -1;
			}
			continue;
		}
		r = nftb_rule_new(family, cfg->rule_table, chain);

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
