/* SPDX-License-Identifier: MIT */
/*
 * lib/packet.c and lib/csum.c against packets built by pktgen, whose checksums come from an
 * independent naive implementation. Random cases are reproducible: the seed is printed, and
 * PKTGEN_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "csum.h"
#include "packet.h"
#include "pktgen.h"

#define RANDOM_PER_FAMILY 5000
#define GUARD 16

static struct pg_rng rng;

static const int families[] = { AF_INET, AF_INET6 };

/* Build spec into buf (which must hold PG_BUF_SIZE bytes) and fill the bytes after the packet
 * with a guard pattern, so a write past the packet shows. */
static size_t build(const struct pg_spec *spec, uint8_t *buf, struct pg_info *info)
{
	size_t len = pg_build(spec, &rng, buf, PG_BUF_SIZE - GUARD, info);

	assert_true(len > 0);
	memset(buf + len, 0xa5, GUARD);
	return len;
}

static void parse_ok(struct cn_pkt *pkt, const uint8_t *buf, size_t len)
{
	enum cn_pkt_result r = cn_pkt_parse(pkt, buf, len);

	if (r != CN_PKT_OK)
		fail_msg("parse: %s (%s)", cn_pkt_result_name(r), cn_pkt_strerror(r));
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Every field of a parsed packet against what pktgen built. */
static void check_fields(const struct cn_pkt *pkt, const struct pg_spec *spec,
			 const struct pg_info *info, size_t buflen)
{
	assert_int_equal(pkt->family, spec->family);
	assert_memory_equal(pkt->saddr, spec->saddr, addr_len(spec->family));
	assert_memory_equal(pkt->daddr, spec->daddr, addr_len(spec->family));
	assert_int_equal(pkt->sport, spec->sport);
	assert_int_equal(pkt->dport, spec->dport);
	assert_int_equal(pkt->tcp_flags, spec->flags);
	assert_int_equal(pkt->l4_off, info->l4_off);
	assert_int_equal(pkt->l4_hdrlen, info->tcp_hdrlen);
	assert_int_equal(pkt->ip_len, info->ip_len);
	assert_int_equal(pkt->cap_len, buflen < info->ip_len ? buflen : info->ip_len);
	assert_int_equal(pkt->truncated, buflen < info->ip_len);
	assert_int_equal(cn_pkt_is_whole(pkt), buflen >= info->ip_len);
}

static bool spec_is_fragment(const struct pg_spec *spec)
{
	if (spec->family == AF_INET)
		return spec->ip4_more_frags;
	for (size_t i = 0; i < spec->n_ext; i++)
		if (spec->ext[i].type == PG_EXT_FRAGMENT && spec->ext[i].frag_more)
			return true;
	return false;
}

/* ---- valid packets ---- */

static void test_parse_ipv4_fields(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	pg_spec_default(&spec, AF_INET);
	spec.ip4_optlen = 12;
	spec.ip4_dont_frag = true;
	spec.tcp_optlen = 12;
	spec.payload_len = 101;
	spec.sport = 12345;
	spec.dport = 443;
	spec.flags = CN_TCP_FLAG_SYN | CN_TCP_FLAG_ACK | CN_TCP_FLAG_PSH;
	spec.urg_ptr = 0x6141;
	len = build(&spec, buf, &info);
	assert_true(pg_ref_ip4_valid(buf));
	assert_true(pg_ref_tcp_valid(buf, &info));

	parse_ok(&pkt, buf, len);
	check_fields(&pkt, &spec, &info, len);
	assert_int_equal(pkt.l4_off, 32);
	assert_int_equal(pkt.l4_hdrlen, 32);
	assert_int_equal(pkt.ip_len, 32 + 32 + 101);
	assert_false(pkt.fragment);
	assert_int_equal(cn_pkt_get_id(&pkt, buf), 0x6141);
	assert_int_equal(cn_pkt_tcp_checksum(&pkt, buf), htons(pg_get16(buf + 32 + 16)));
}

static void test_parse_ipv6_fields(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct pg_ext *e;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	pg_spec_default(&spec, AF_INET6);
	pg_spec_add_ext(&spec, PG_EXT_HOPOPTS, 1);      /* 16 bytes */
	e = pg_spec_add_ext(&spec, PG_EXT_ROUTING, 0);  /* 8 + 2 * 16 bytes */
	e->nsegs = 2;
	memcpy(e->segs[0], spec.daddr, 16);
	memcpy(e->segs[1], spec.daddr, 16);
	pg_spec_add_ext(&spec, PG_EXT_DSTOPTS, 0);      /* 8 bytes */
	pg_spec_add_ext(&spec, PG_EXT_FRAGMENT, 0);     /* 8 bytes, atomic fragment */
	pg_spec_add_ext(&spec, PG_EXT_AH, 4);           /* 24 bytes */
	spec.tcp_optlen = 20;
	spec.payload_len = 333;
	spec.flags = CN_TCP_FLAG_FIN | CN_TCP_FLAG_ACK;
	spec.urg_ptr = 0x0102;
	len = build(&spec, buf, &info);

	parse_ok(&pkt, buf, len);
	check_fields(&pkt, &spec, &info, len);
	assert_int_equal(pkt.l4_off, 40 + 16 + 40 + 8 + 8 + 24);
	assert_int_equal(pkt.l4_hdrlen, 40);
	assert_int_equal(pkt.ip_len, 136 + 40 + 333);
	assert_false(pkt.fragment); /* offset 0 and M clear: an atomic fragment is whole */
	assert_int_equal(cn_pkt_get_id(&pkt, buf), 0x0102);
	assert_int_equal(cn_pkt_tcp_checksum(&pkt, buf), htons(pg_get16(buf + 136 + 16)));
}

static void test_parse_random_fields(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < 2000; i++) {
			size_t len;
			pg_spec_random(&spec, &rng, families[f], 1500);
			len = build(&spec, buf, &info);
			parse_ok(&pkt, buf, len);
			check_fields(&pkt, &spec, &info, len);
			assert_int_equal(pkt.fragment, spec_is_fragment(&spec));
			assert_int_equal(cn_pkt_get_id(&pkt, buf), spec.urg_ptr);
		}
	}
}

/* Ethernet pads short frames: the bytes after the IP length are not part of the packet. */
static void test_parse_padding_trimmed(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (size_t pad = 1; pad <= 40; pad++) {
			size_t len;
			pg_spec_random(&spec, &rng, families[f], 30);
			spec.ip4_more_frags = false;
			spec.trailer_len = pad;
			len = build(&spec, buf, &info);
			assert_int_equal(len, info.ip_len + pad);
			parse_ok(&pkt, buf, len);
			check_fields(&pkt, &spec, &info, len);
			assert_int_equal(pkt.cap_len, info.ip_len);
			assert_false(pkt.truncated);
			if (!info.active_routing)
				assert_int_equal(ntohs(cn_pkt_tcp_checksum(&pkt, buf)),
						 pg_ref_tcp_checksum(buf, &info));
		}
	}
}

/* What cn_pkt_parse must say about the first cut bytes of a packet built from spec. */
static enum cn_pkt_result expected_for_cut(const struct pg_spec *spec, const struct pg_info *info,
					   size_t cut)
{
	if (cut == 0)
		return CN_PKT_ERR_EMPTY;
	if (spec->family == AF_INET) {
		if (cut < 20)
			return CN_PKT_ERR_IP_TRUNCATED;
		if (cut < 20 + spec->ip4_optlen)
			return CN_PKT_ERR_IPV4_IHL;
	} else {
		size_t off = 40;
		if (cut < 40)
			return CN_PKT_ERR_IP_TRUNCATED;
		for (size_t i = 0; i < spec->n_ext; i++) {
			if (cut < off + 8)
				return CN_PKT_ERR_EXTHDR_TRUNCATED;
			off += pg_ext_len(&spec->ext[i]);
			if (cut < off)
				return CN_PKT_ERR_EXTHDR_TRUNCATED;
		}
	}
	if (cut < info->l4_off + info->tcp_hdrlen)
		return CN_PKT_ERR_TCP_TRUNCATED;
	return CN_PKT_OK;
}

/* A header-only copy (NFQUEUE copy range below the packet size) still parses. */
static void test_parse_every_cut(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < 50; i++) {
			size_t len;
			pg_spec_random(&spec, &rng, families[f], 200);
			len = build(&spec, buf, &info);
			for (size_t cut = 0; cut <= len; cut++) {
				enum cn_pkt_result want = expected_for_cut(&spec, &info, cut);
				enum cn_pkt_result got = cn_pkt_parse(&pkt, buf, cut);
				if (got != want)
					fail_msg("cut %zu of %zu: got %s, want %s", cut, len,
						 cn_pkt_result_name(got), cn_pkt_result_name(want));
				if (got != CN_PKT_OK)
					continue;
				check_fields(&pkt, &spec, &info, cut);
				assert_int_equal(pkt.truncated, cut < info.ip_len);
				assert_int_equal(pkt.fragment, spec_is_fragment(&spec));
				assert_int_equal(cn_pkt_get_id(&pkt, buf), spec.urg_ptr);
			}
		}
	}
}

static void test_first_fragment_ipv4(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	pg_spec_default(&spec, AF_INET);
	spec.ip4_more_frags = true;
	spec.payload_len = 64;
	len = build(&spec, buf, &info);
	parse_ok(&pkt, buf, len);
	assert_true(pkt.fragment);
	assert_false(pkt.truncated);

	memcpy(orig, buf, sizeof(buf));
	assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_PARTIAL),
			 CN_PKT_ERR_NEED_PAYLOAD);
	assert_memory_equal(buf, orig, sizeof(buf));
	/* the checksum covers the whole segment, but an incremental patch is still exact */
	assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_COMPLETE), CN_PKT_OK);
	assert_int_equal(cn_pkt_get_id(&pkt, buf), 0x6141);
	assert_true(pg_ref_tcp_valid(buf, &info));
}

static void test_first_fragment_ipv6(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct pg_ext *e;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	pg_spec_default(&spec, AF_INET6);
	pg_spec_add_ext(&spec, PG_EXT_DSTOPTS, 0);
	e = pg_spec_add_ext(&spec, PG_EXT_FRAGMENT, 0);
	e->frag_more = true;
	spec.payload_len = 64;
	len = build(&spec, buf, &info);
	parse_ok(&pkt, buf, len);
	assert_true(pkt.fragment);
	assert_int_equal(pkt.l4_off, 40 + 8 + 8);

	memcpy(orig, buf, sizeof(buf));
	assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_PARTIAL),
			 CN_PKT_ERR_NEED_PAYLOAD);
	assert_memory_equal(buf, orig, sizeof(buf));
	assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_COMPLETE), CN_PKT_OK);
	assert_int_equal(cn_pkt_get_id(&pkt, buf), 0x6141);

	/* the same header with M clear is an atomic fragment: whole */
	e->frag_more = false;
	len = build(&spec, buf, &info);
	parse_ok(&pkt, buf, len);
	assert_false(pkt.fragment);
}

/* ---- rejections: one crafted packet per reason ---- */

/* Build a default packet of family with the given TCP options and payload. */
static size_t base(uint8_t *buf, int family, struct pg_info *info)
{
	struct pg_spec spec;

	pg_spec_default(&spec, family);
	spec.payload_len = 10;
	return build(&spec, buf, info);
}

static size_t v6_with_exts(uint8_t *buf, struct pg_info *info, uint8_t type, size_t n,
			   uint8_t units)
{
	struct pg_spec spec;

	pg_spec_default(&spec, AF_INET6);
	for (size_t i = 0; i < n; i++)
		pg_spec_add_ext(&spec, type, units);
	spec.payload_len = 10;
	return build(&spec, buf, info);
}

static size_t mk_empty(uint8_t *buf)
{
	struct pg_info info;

	base(buf, AF_INET, &info);
	return 0;
}

static size_t mk_version5(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	buf[0] = 0x55;
	return len;
}

static size_t mk_version0(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET6, &info);

	buf[0] = 0x00;
	return len;
}

static size_t mk_ip4_truncated(uint8_t *buf)
{
	struct pg_info info;

	base(buf, AF_INET, &info);
	return 19;
}

static size_t mk_ip6_truncated(uint8_t *buf)
{
	struct pg_info info;

	base(buf, AF_INET6, &info);
	return 39;
}

static size_t mk_ihl_below(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	buf[0] = 0x44;
	return len;
}

static size_t mk_ihl_zero(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	buf[0] = 0x40;
	return len;
}

static size_t mk_ihl_past_buffer(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET);
	spec.ip4_optlen = 40; /* IHL 15: 60 bytes */
	build(&spec, buf, &info);
	return 40;            /* a copy of 40 bytes */
}

static size_t mk_ip4_len_below_ihl(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	pg_put16(buf + 2, 19);
	return len;
}

static size_t mk_ip4_len_below_tcp(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	pg_put16(buf + 2, 20 + 19);
	return len;
}

static size_t mk_ip4_len_below_doff(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET);
	spec.tcp_optlen = 20;
	build(&spec, buf, &info);
	pg_put16(buf + 2, 20 + 20 + 19); /* covers 20 bytes of TCP, not the options */
	return info.len;
}

static size_t mk_ip6_len_below_tcp(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET6, &info);

	pg_put16(buf + 4, 10);
	return len;
}

static size_t mk_ip6_len_below_exthdr(uint8_t *buf)
{
	struct pg_info info;
	size_t len = v6_with_exts(buf, &info, PG_EXT_HOPOPTS, 1, 3); /* 32 bytes */

	pg_put16(buf + 4, 16);
	return len;
}

static size_t mk_ip4_fragment(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	pg_put16(buf + 6, 0x0001); /* offset 8 bytes, last fragment */
	return len;
}

static size_t mk_ip4_fragment_more(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	pg_put16(buf + 6, 0x2000 | 0x1fff); /* highest offset, more fragments */
	return len;
}

static size_t mk_ip4_fragment_high_bit(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	pg_put16(buf + 6, 0x1000); /* only the highest offset bit */
	return len;
}

static size_t mk_ip6_fragment(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;
	struct pg_ext *e;

	pg_spec_default(&spec, AF_INET6);
	pg_spec_add_ext(&spec, PG_EXT_HOPOPTS, 0);
	e = pg_spec_add_ext(&spec, PG_EXT_FRAGMENT, 0);
	e->frag_off = 1;
	return build(&spec, buf, &info);
}

static size_t mk_ip4_udp(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET);
	spec.proto = 17;
	return build(&spec, buf, &info);
}

static size_t mk_ip6_udp(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET6);
	spec.proto = 17;
	return build(&spec, buf, &info);
}

static size_t mk_ip6_no_next_header(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET6);
	pg_spec_add_ext(&spec, PG_EXT_DSTOPTS, 0);
	spec.proto = 59;
	return build(&spec, buf, &info);
}

static size_t mk_exthdr_cut_inside(uint8_t *buf)
{
	struct pg_info info;

	v6_with_exts(buf, &info, PG_EXT_HOPOPTS, 1, 3); /* 32 bytes */
	return 40 + 16;                                  /* a copy ending mid-header */
}

static size_t mk_exthdr_cut_fixed_part(uint8_t *buf)
{
	struct pg_info info;

	v6_with_exts(buf, &info, PG_EXT_AH, 1, 4);
	return 40 + 4;                                   /* not even the 8 fixed bytes */
}

static size_t mk_exthdr_mobility(uint8_t *buf)
{
	struct pg_info info;

	return v6_with_exts(buf, &info, 135, 1, 0);
}

/* Mobility, HIP, shim6 and the two experimental numbers: not walked. */
#define MK_EXTHDR_UNWALKED(n)                                        \
	static size_t mk_exthdr_##n(uint8_t *buf)                    \
	{                                                            \
		struct pg_info info;                                 \
		return v6_with_exts(buf, &info, n, 1, 0);            \
	}
MK_EXTHDR_UNWALKED(140)
MK_EXTHDR_UNWALKED(253)
MK_EXTHDR_UNWALKED(254)

static size_t mk_exthdr_hip_after_hop(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET6);
	pg_spec_add_ext(&spec, PG_EXT_HOPOPTS, 0);
	pg_spec_add_ext(&spec, 139, 0);
	return build(&spec, buf, &info);
}

static size_t mk_exthdr_limit(uint8_t *buf)
{
	struct pg_info info;

	return v6_with_exts(buf, &info, PG_EXT_DSTOPTS, CN_PKT_MAX_EXTHDRS + 1, 0);
}

static size_t mk_tcp_truncated(uint8_t *buf)
{
	struct pg_info info;

	base(buf, AF_INET, &info);
	return info.l4_off + 19;
}

static size_t mk_tcp_options_truncated(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET6);
	spec.tcp_optlen = 20;
	spec.payload_len = 100;
	build(&spec, buf, &info);
	return info.l4_off + 30; /* header-only copy ending inside the options */
}

static size_t mk_tcp_doff_below(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET, &info);

	buf[info.l4_off + 12] = 4 << 4;
	return len;
}

static size_t mk_tcp_doff_zero(uint8_t *buf)
{
	struct pg_info info;
	size_t len = base(buf, AF_INET6, &info);

	buf[info.l4_off + 12] = 0;
	return len;
}

static size_t mk_tcp_doff_past_packet(uint8_t *buf)
{
	struct pg_spec spec;
	struct pg_info info;

	pg_spec_default(&spec, AF_INET);
	spec.payload_len = 39; /* 20 + 39 < 60 */
	build(&spec, buf, &info);
	buf[info.l4_off + 12] = 15 << 4;
	return info.len;
}

static const struct reject_case {
	const char *what;
	enum cn_pkt_result want;
	size_t (*make)(uint8_t *buf);
} reject_cases[] = {
	{ "zero bytes", CN_PKT_ERR_EMPTY, mk_empty },
	{ "version 5", CN_PKT_ERR_VERSION, mk_version5 },
	{ "version 0", CN_PKT_ERR_VERSION, mk_version0 },
	{ "19 bytes of IPv4", CN_PKT_ERR_IP_TRUNCATED, mk_ip4_truncated },
	{ "39 bytes of IPv6", CN_PKT_ERR_IP_TRUNCATED, mk_ip6_truncated },
	{ "IHL 4", CN_PKT_ERR_IPV4_IHL, mk_ihl_below },
	{ "IHL 0", CN_PKT_ERR_IPV4_IHL, mk_ihl_zero },
	{ "IHL 15 in a 40-byte copy", CN_PKT_ERR_IPV4_IHL, mk_ihl_past_buffer },
	{ "IPv4 total length 19", CN_PKT_ERR_IP_LENGTH, mk_ip4_len_below_ihl },
	{ "IPv4 total length without a TCP header", CN_PKT_ERR_IP_LENGTH, mk_ip4_len_below_tcp },
	{ "IPv4 total length short of the TCP options", CN_PKT_ERR_TCP_DOFF, mk_ip4_len_below_doff },
	{ "IPv6 payload length 10", CN_PKT_ERR_IP_LENGTH, mk_ip6_len_below_tcp },
	{ "IPv6 payload length inside an ext header", CN_PKT_ERR_IP_LENGTH, mk_ip6_len_below_exthdr },
	{ "IPv4 fragment offset 1", CN_PKT_ERR_FRAGMENT, mk_ip4_fragment },
	{ "IPv4 fragment offset 0x1fff, MF", CN_PKT_ERR_FRAGMENT, mk_ip4_fragment_more },
	{ "IPv4 fragment offset 0x1000", CN_PKT_ERR_FRAGMENT, mk_ip4_fragment_high_bit },
	{ "IPv6 fragment offset 1", CN_PKT_ERR_FRAGMENT, mk_ip6_fragment },
	{ "IPv4 UDP", CN_PKT_ERR_NOT_TCP, mk_ip4_udp },
	{ "IPv6 UDP", CN_PKT_ERR_NOT_TCP, mk_ip6_udp },
	{ "IPv6 no next header after dest opts", CN_PKT_ERR_NOT_TCP, mk_ip6_no_next_header },
	{ "copy ending inside hop-by-hop", CN_PKT_ERR_EXTHDR_TRUNCATED, mk_exthdr_cut_inside },
	{ "copy ending inside AH's fixed part", CN_PKT_ERR_EXTHDR_TRUNCATED, mk_exthdr_cut_fixed_part },
	{ "mobility header", CN_PKT_ERR_EXTHDR_UNKNOWN, mk_exthdr_mobility },
	{ "HIP after hop-by-hop", CN_PKT_ERR_EXTHDR_UNKNOWN, mk_exthdr_hip_after_hop },
	{ "shim6 header", CN_PKT_ERR_EXTHDR_UNKNOWN, mk_exthdr_140 },
	{ "experimental header 253", CN_PKT_ERR_EXTHDR_UNKNOWN, mk_exthdr_253 },
	{ "experimental header 254", CN_PKT_ERR_EXTHDR_UNKNOWN, mk_exthdr_254 },
	{ "9 dest opts headers", CN_PKT_ERR_EXTHDR_LIMIT, mk_exthdr_limit },
	{ "19 bytes of TCP", CN_PKT_ERR_TCP_TRUNCATED, mk_tcp_truncated },
	{ "copy ending in the TCP options", CN_PKT_ERR_TCP_TRUNCATED, mk_tcp_options_truncated },
	{ "TCP doff 4", CN_PKT_ERR_TCP_DOFF, mk_tcp_doff_below },
	{ "TCP doff 0", CN_PKT_ERR_TCP_DOFF, mk_tcp_doff_zero },
	{ "TCP doff 15 past the packet", CN_PKT_ERR_TCP_DOFF, mk_tcp_doff_past_packet },
};

static void test_reject_each_reason(void **state)
{
	bool seen[CN_PKT__COUNT] = { false };

	(void)state;
	for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		const struct reject_case *c = &reject_cases[i];
		uint8_t buf[PG_BUF_SIZE];
		struct cn_pkt pkt, sentinel;
		size_t len = c->make(buf);
		enum cn_pkt_result got;

		memset(&pkt, 0x5a, sizeof(pkt));
		sentinel = pkt;
		got = cn_pkt_parse(&pkt, buf, len);
		if (got != c->want)
			fail_msg("%s: got %s, want %s", c->what, cn_pkt_result_name(got),
				 cn_pkt_result_name(c->want));
		/* a rejected parse leaves the output alone */
		assert_memory_equal(&pkt, &sentinel, sizeof(pkt));
		seen[got] = true;
	}
	for (int r = CN_PKT_ERR_EMPTY; r <= CN_PKT_ERR_TCP_DOFF; r++)
		if (!seen[r])
			fail_msg("no test packet for %s", cn_pkt_result_name((enum cn_pkt_result)r));
}

static void test_reject_null(void **state)
{
	struct cn_pkt pkt;

	(void)state;
	assert_int_equal(cn_pkt_parse(&pkt, NULL, 60), CN_PKT_ERR_EMPTY);
}

/* Exactly CN_PKT_MAX_EXTHDRS headers still parse; the limit case above has one more. */
static void test_exthdr_at_limit(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	len = v6_with_exts(buf, &info, PG_EXT_DSTOPTS, CN_PKT_MAX_EXTHDRS, 0);
	parse_ok(&pkt, buf, len);
	assert_int_equal(pkt.l4_off, 40 + 8 * CN_PKT_MAX_EXTHDRS);
}

/* IPv4 BIG TCP and IPv6 jumbograms claim length 0: parsed, length unknown, never whole. */
static void test_length_zero(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		size_t len = base(buf, families[f], &info);
		pg_put16(buf + (families[f] == AF_INET ? 2 : 4), 0);
		parse_ok(&pkt, buf, len);
		assert_int_equal(pkt.ip_len, 0);
		assert_int_equal(pkt.cap_len, len);
		assert_true(pkt.truncated);
		memcpy(orig, buf, sizeof(buf));
		assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x4242, CN_CSUM_PARTIAL),
				 CN_PKT_ERR_NEED_PAYLOAD);
		assert_memory_equal(buf, orig, sizeof(buf));
	}
}

static void test_result_names(void **state)
{
	(void)state;
	for (int a = 0; a < CN_PKT__COUNT; a++) {
		const char *name = cn_pkt_result_name((enum cn_pkt_result)a);
		const char *text = cn_pkt_strerror((enum cn_pkt_result)a);
		assert_non_null(name);
		assert_non_null(text);
		assert_true(strlen(name) > 0);
		assert_true(strlen(text) > 0);
		assert_string_not_equal(name, "unknown");
		for (int b = 0; b < a; b++) {
			assert_string_not_equal(name, cn_pkt_result_name((enum cn_pkt_result)b));
			assert_string_not_equal(text, cn_pkt_strerror((enum cn_pkt_result)b));
		}
	}
	assert_string_equal(cn_pkt_result_name(CN_PKT__COUNT), "unknown");
	assert_string_equal(cn_pkt_result_name((enum cn_pkt_result)-1), "unknown");
	assert_non_null(cn_pkt_strerror(CN_PKT__COUNT));
}

/* ---- set / get / clear ---- */

/* Only the checksum and urgent pointer may differ between a and b. */
static void assert_only_id_changed(const uint8_t *a, const uint8_t *b, size_t size, size_t l4_off)
{
	for (size_t i = 0; i < size; i++) {
		if (i >= l4_off + 16 && i < l4_off + 20)
			continue;
		if (a[i] != b[i])
			fail_msg("byte %zu changed: 0x%02x -> 0x%02x (TCP at %zu)", i, a[i], b[i],
				 l4_off);
	}
}

/* After a rewrite: the ID is there, URG clear, checksum equal to the naive recomputation. */
static void check_rewritten(const uint8_t *buf, const uint8_t *orig, const struct pg_info *info,
			    cn_id_t id)
{
	struct cn_pkt pkt;

	assert_only_id_changed(orig, buf, info->len + GUARD, info->l4_off);
	assert_int_equal(pg_get16(buf + info->l4_off + 18), id);
	assert_int_equal(buf[info->l4_off + 13] & CN_TCP_FLAG_URG, 0);
	assert_int_equal(pg_get16(buf + info->l4_off + 16), pg_ref_tcp_checksum(buf, info));
	assert_true(pg_ref_tcp_valid(buf, info));
	/* reparse: same lengths, and get_id sees the new ID */
	parse_ok(&pkt, buf, info->len);
	assert_int_equal(pkt.ip_len, info->ip_len);
	assert_int_equal(pkt.cap_len, info->ip_len);
	assert_int_equal(cn_pkt_get_id(&pkt, buf), id);
}

static void test_set_id_complete_random(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < RANDOM_PER_FAMILY; i++) {
			cn_id_t id = (cn_id_t)pg_rng_range(&rng, 1, 0xffff);
			size_t len;

			pg_spec_random(&spec, &rng, families[f], 1501);
			len = build(&spec, buf, &info);
			assert_true(pg_ref_ip4_valid(buf));
			assert_true(pg_ref_tcp_valid(buf, &info));
			parse_ok(&pkt, buf, len);
			assert_int_equal(cn_pkt_get_id(&pkt, buf), spec.urg_ptr);
			if (!info.active_routing && !pkt.fragment)
				assert_int_equal(ntohs(cn_pkt_tcp_checksum(&pkt, buf)),
						 pg_get16(buf + info.l4_off + 16));
			memcpy(orig, buf, sizeof(buf));

			assert_int_equal(cn_pkt_set_id(&pkt, buf, id, CN_CSUM_COMPLETE), CN_PKT_OK);
			check_rewritten(buf, orig, &info, id);

			/* writing the same ID again changes nothing */
			memcpy(orig, buf, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, id, CN_CSUM_COMPLETE), CN_PKT_OK);
			assert_memory_equal(buf, orig, sizeof(buf));

			/* clear */
			assert_int_equal(cn_pkt_set_id(&pkt, buf, CN_ID_NONE, CN_CSUM_COMPLETE),
					 CN_PKT_OK);
			check_rewritten(buf, orig, &info, CN_ID_NONE);
			assert_int_equal(cn_pkt_get_id(&pkt, buf), CN_ID_NONE);
		}
	}
}

/* Every possible ID, written over a random old value, on one small packet per family. */
static void test_set_id_every_id(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		pg_spec_random(&spec, &rng, families[f], 41);
		/* a whole segment: PARTIAL mode refuses fragments (tested elsewhere) */
		spec.ip4_more_frags = false;
		for (size_t i = 0; i < spec.n_ext; i++)
			spec.ext[i].frag_more = false;
		assert_false(spec_is_fragment(&spec));
		for (uint32_t id = 0; id <= 0xffff; id++) {
			size_t len;
			spec.urg_ptr = (uint16_t)pg_rng_next(&rng);
			spec.csum = id % 2 ? PG_CSUM_FULL : PG_CSUM_PARTIAL;
			len = build(&spec, buf, &info);
			parse_ok(&pkt, buf, len);
			memcpy(orig, buf, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, (cn_id_t)id,
						       id % 2 ? CN_CSUM_COMPLETE : CN_CSUM_PARTIAL),
					 CN_PKT_OK);
			assert_int_equal(pg_get16(buf + info.l4_off + 16),
					 pg_ref_tcp_checksum(buf, &info));
			assert_int_equal(cn_pkt_get_id(&pkt, buf), id);
			assert_only_id_changed(orig, buf, len + GUARD, info.l4_off);
		}
	}
}

/* One's complement corner: a packet whose correct checksum is 0x0000 (the sum is all ones). */
static void test_set_id_checksum_zero(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;
	int done = 0;

	(void)state;
	for (int i = 0; i < 200; i++) {
		uint16_t c, w;
		uint32_t s;
		size_t len, at;
		cn_id_t id = (cn_id_t)pg_rng_range(&rng, 1, 0xffff);

		pg_spec_random(&spec, &rng, families[i % 2], 64);
		spec.payload_len = 2 + 2 * pg_rng_range(&rng, 0, 30);
		len = build(&spec, buf, &info);
		/* add the checksum into the last payload word: the sum becomes 0xffff */
		c = pg_get16(buf + info.l4_off + 16);
		at = info.ip_len - 2;
		if ((at - info.l4_off) % 2)
			continue;
		s = (uint32_t)pg_get16(buf + at) + c;
		w = pg_ref_fold(s);
		pg_put16(buf + at, w);
		pg_put16(buf + info.l4_off + 16, pg_ref_tcp_checksum(buf, &info));
		if (pg_get16(buf + info.l4_off + 16) != 0)
			continue; /* the word wrapped to 0xffff == -0: try another packet */
		assert_true(pg_ref_tcp_valid(buf, &info));
		parse_ok(&pkt, buf, len);
		memcpy(orig, buf, sizeof(buf));
		assert_int_equal(cn_pkt_set_id(&pkt, buf, id, CN_CSUM_COMPLETE), CN_PKT_OK);
		check_rewritten(buf, orig, &info, id);
		done++;
	}
	assert_true(done > 50);
}

static void test_set_id_partial_random(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE], incr[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;
	int tried = 0, incremental_valid = 0;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < RANDOM_PER_FAMILY; i++) {
			cn_id_t id = (cn_id_t)pg_rng_range(&rng, 1, 0xffff);
			enum cn_pkt_result want;
			size_t len;

			pg_spec_random(&spec, &rng, families[f], 1501);
			spec.csum = PG_CSUM_PARTIAL;
			len = build(&spec, buf, &info);
			parse_ok(&pkt, buf, len);
			memcpy(orig, buf, sizeof(buf));
			memcpy(incr, buf, sizeof(buf));

			want = pkt.fragment ? CN_PKT_ERR_NEED_PAYLOAD : CN_PKT_OK;
			assert_int_equal(cn_pkt_set_id(&pkt, buf, id, CN_CSUM_PARTIAL), want);
			if (want != CN_PKT_OK) {
				assert_memory_equal(buf, orig, sizeof(buf));
				continue;
			}
			check_rewritten(buf, orig, &info, id);

			/* what an incremental patch would have left: almost never valid */
			assert_int_equal(cn_pkt_set_id(&pkt, incr, id, CN_CSUM_COMPLETE), CN_PKT_OK);
			tried++;
			if (pg_ref_tcp_valid(incr, &info))
				incremental_valid++;
		}
	}
	assert_true(tried > RANDOM_PER_FAMILY);
	/* a valid result by chance has odds of about 1 in 65535 per packet */
	assert_true(incremental_valid <= tried / 1000);
}

/* The pseudo-header sum the kernel leaves uses the final destination (RFC 8200 8.1): with a
 * segment routing header that still has segments left, that is not the IPv6 daddr. */
static void test_set_id_partial_routing_header(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	static const uint8_t final[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 9, [15] = 9 };
	struct pg_spec spec;
	struct pg_info info;
	struct pg_ext *e;
	struct cn_pkt pkt;
	size_t len;

	(void)state;
	pg_spec_default(&spec, AF_INET6);
	e = pg_spec_add_ext(&spec, PG_EXT_ROUTING, 0);
	e->nsegs = 2;
	e->segleft = 1;
	memcpy(e->segs[0], final, 16);
	memcpy(e->segs[1], spec.daddr, 16);
	spec.payload_len = 99;
	spec.csum = PG_CSUM_PARTIAL;
	len = build(&spec, buf, &info);
	assert_true(info.active_routing);
	parse_ok(&pkt, buf, len);
	memcpy(orig, buf, sizeof(buf));
	assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_PARTIAL), CN_PKT_OK);
	check_rewritten(buf, orig, &info, 0x6141);
}

static void test_set_id_partial_truncated(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < 200; i++) {
			size_t cut;
			pg_spec_random(&spec, &rng, families[f], 300);
			spec.payload_len += 1;
			spec.csum = PG_CSUM_PARTIAL;
			build(&spec, buf, &info);
			cut = pg_rng_range(&rng, (uint32_t)(info.l4_off + info.tcp_hdrlen),
					   (uint32_t)info.ip_len - 1);
			parse_ok(&pkt, buf, cut);
			assert_true(pkt.truncated);
			memcpy(orig, buf, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_PARTIAL),
					 CN_PKT_ERR_NEED_PAYLOAD);
			assert_memory_equal(buf, orig, sizeof(buf));
			assert_int_equal(cn_pkt_get_id(&pkt, buf), spec.urg_ptr);
		}
	}
}

/* With URG set the urgent pointer is real urgent data: never read it as an ID, never touch it. */
static void test_urgent_untouched(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_spec spec;
	struct pg_info info;
	struct cn_pkt pkt;

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int i = 0; i < 500; i++) {
			size_t len;
			pg_spec_random(&spec, &rng, families[f], 200);
			spec.flags |= CN_TCP_FLAG_URG;
			spec.urg_ptr = (uint16_t)pg_rng_range(&rng, 0, 0xffff);
			spec.csum = i % 2 ? PG_CSUM_PARTIAL : PG_CSUM_FULL;
			len = build(&spec, buf, &info);
			parse_ok(&pkt, buf, len);
			assert_int_equal(cn_pkt_get_id(&pkt, buf), CN_ID_NONE);
			memcpy(orig, buf, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_COMPLETE),
					 CN_PKT_URGENT);
			assert_memory_equal(buf, orig, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, 0x6141, CN_CSUM_PARTIAL),
					 CN_PKT_URGENT);
			assert_memory_equal(buf, orig, sizeof(buf));
			assert_int_equal(cn_pkt_set_id(&pkt, buf, CN_ID_NONE, CN_CSUM_COMPLETE),
					 CN_PKT_URGENT);
			assert_memory_equal(buf, orig, sizeof(buf));
		}
	}
}

/* ---- lib/csum.c against the naive reference ---- */

/* A folded cn_csum sum is a word as it lies in memory; read it as big-endian. */
static uint16_t lib_fold_be(uint64_t sum)
{
	uint16_t folded = cn_csum_fold(sum);
	uint8_t b[2];

	memcpy(b, &folded, 2);
	return pg_get16(b);
}

static void test_csum_add_every_length(void **state)
{
	static uint8_t data[2000 + 16], ones[2000 + 16];

	(void)state;
	pg_rng_fill(&rng, data, sizeof(data));
	memset(ones, 0xff, sizeof(ones));
	for (size_t len = 0; len <= 2000; len++) {
		for (int k = 0; k < 4; k++) {
			size_t off = pg_rng_range(&rng, 0, 15);
			const uint8_t *src = k == 3 ? ones + off : data + off;
			size_t split = 2 * pg_rng_range(&rng, 0, (uint32_t)len / 2);
			uint16_t ref = pg_ref_fold(pg_ref_sum(src, len));
			uint64_t chained;

			assert_int_equal(lib_fold_be(cn_csum_add(0, src, len)), ref);
			/* a message summed in pieces: every piece but the last is even */
			chained = cn_csum_add(cn_csum_add(0, src, split), src + split, len - split);
			assert_int_equal(lib_fold_be(chained), ref);
		}
	}
}

static void test_csum_replace16(void **state)
{
	uint8_t data[64];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t at = 2 * pg_rng_range(&rng, 0, 30);
		uint16_t check, old_w, new_w, got;
		uint8_t nb[2];

		pg_rng_fill(&rng, data, sizeof(data));
		pg_put16(data + 62, 0);
		pg_put16(data + 62, (uint16_t)~pg_ref_fold(pg_ref_sum(data, sizeof(data))));
		memcpy(&check, data + 62, 2);
		memcpy(&old_w, data + at, 2);
		pg_put16(nb, (uint16_t)pg_rng_next(&rng));
		memcpy(&new_w, nb, 2);
		got = cn_csum_replace16(check, old_w, new_w);

		memcpy(data + at, nb, 2);
		pg_put16(data + 62, 0);
		memcpy(nb, &got, 2);
		assert_int_equal(pg_get16(nb), (uint16_t)~pg_ref_fold(pg_ref_sum(data, sizeof(data))));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_fields),
		cmocka_unit_test(test_parse_ipv6_fields),
		cmocka_unit_test(test_parse_random_fields),
		cmocka_unit_test(test_parse_padding_trimmed),
		cmocka_unit_test(test_parse_every_cut),
		cmocka_unit_test(test_first_fragment_ipv4),
		cmocka_unit_test(test_first_fragment_ipv6),
		cmocka_unit_test(test_reject_each_reason),
		cmocka_unit_test(test_reject_null),
		cmocka_unit_test(test_exthdr_at_limit),
		cmocka_unit_test(test_length_zero),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_set_id_complete_random),
		cmocka_unit_test(test_set_id_every_id),
		cmocka_unit_test(test_set_id_checksum_zero),
		cmocka_unit_test(test_set_id_partial_random),
		cmocka_unit_test(test_set_id_partial_routing_header),
		cmocka_unit_test(test_set_id_partial_truncated),
		cmocka_unit_test(test_urgent_untouched),
		cmocka_unit_test(test_csum_add_every_length),
		cmocka_unit_test(test_csum_replace16),
	};

	pg_rng_seed(&rng, pg_seed_from_env("test_packet"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
