/* SPDX-License-Identifier: MIT */
#include "packet.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "csum.h"

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN 20

#define TCP_OFF_FLAGS 13
#define TCP_OFF_CHECK 16
#define TCP_OFF_URGPTR 18

#define IPPROTO_NUM_TCP 6

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Record the claimed length and trim link-layer padding; 0 claims "unknown" (>64 KiB).
 * Afterwards cap_len <= ip_len whenever ip_len is known. */
static void set_lengths(struct cn_pkt *pkt, size_t claimed, size_t len)
{
	pkt->ip_len = claimed;
	if (claimed && claimed < len)
		len = claimed;
	pkt->cap_len = len;
	pkt->truncated = claimed == 0 || claimed > len;
}

static enum cn_pkt_result parse_ipv4(struct cn_pkt *pkt, const uint8_t *buf, size_t len)
{
	size_t ihl, tot_len;
	uint16_t frag;

	if (len < IPV4_HDR_MIN)
		return CN_PKT_ERR_IP_TRUNCATED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN || ihl > len)
		return CN_PKT_ERR_IPV4_IHL;
	tot_len = get_be16(buf + 2);
	/* 0 is IPv4 BIG TCP (a GSO packet over 64 KiB): length unknown, headers still valid */
	if (tot_len && tot_len < ihl)
		return CN_PKT_ERR_IP_LENGTH;
	frag = get_be16(buf + 6);
	if (frag & 0x1fff)
		return CN_PKT_ERR_FRAGMENT;
	if (buf[9] != IPPROTO_NUM_TCP)
		return CN_PKT_ERR_NOT_TCP;

	pkt->family = AF_INET;
	memcpy(pkt->saddr, buf + 12, 4);
	memcpy(pkt->daddr, buf + 16, 4);
	pkt->fragment = (frag & 0x2000) != 0;
	pkt->l4_off = ihl;
	set_lengths(pkt, tot_len, len);
	return CN_PKT_OK;
}

enum exthdr_kind { EXT_NONE, EXT_GENERIC, EXT_FRAGMENT, EXT_AH, EXT_UNWALKED };

static enum exthdr_kind ipv6_exthdr_kind(uint8_t nexthdr)
{
	switch (nexthdr) {
	case 0:   /* hop-by-hop options */
	case 43:  /* routing */
	case 60:  /* destination options */
		return EXT_GENERIC;
	case 44:
		return EXT_FRAGMENT;
	case 51:
		return EXT_AH;
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experimentation (RFC 3692) */
	case 254:
		return EXT_UNWALKED;
	default:
		return EXT_NONE;
	}
}

/* Is [off, off + need) inside the packet? Past the claimed length is a length error, past
 * the bytes we hold is truncation. */
static enum cn_pkt_result check_span(const struct cn_pkt *pkt, size_t off, size_t need,
				     enum cn_pkt_result truncated)
{
	if (pkt->ip_len && off + need > pkt->ip_len)
		return CN_PKT_ERR_IP_LENGTH;
	if (off + need > pkt->cap_len)
		return truncated;
	return CN_PKT_OK;
}

/* Walk the extension header chain from *off; on success *off is the upper-layer header. */
static enum cn_pkt_result walk_ipv6_exthdrs(struct cn_pkt *pkt, const uint8_t *buf,
					    uint8_t nexthdr, size_t *off)
{
	for (int count = 0;; count++) {
		enum exthdr_kind kind = ipv6_exthdr_kind(nexthdr);
		enum cn_pkt_result r;
		size_t hlen;

		if (nexthdr == IPPROTO_NUM_TCP)
			return CN_PKT_OK;
		if (kind == EXT_NONE)
			return CN_PKT_ERR_NOT_TCP;
		if (kind == EXT_UNWALKED)
			return CN_PKT_ERR_EXTHDR_UNKNOWN;
		if (count == CN_PKT_MAX_EXTHDRS)
			return CN_PKT_ERR_EXTHDR_LIMIT;
		r = check_span(pkt, *off, 8, CN_PKT_ERR_EXTHDR_TRUNCATED);
		if (r != CN_PKT_OK)
			return r;
		if (kind == EXT_FRAGMENT) {
			uint16_t offlg = get_be16(buf + *off + 2);
			if (offlg & 0xfff8)
				return CN_PKT_ERR_FRAGMENT;
			pkt->fragment = pkt->fragment || (offlg & 1);
			hlen = 8;
		} else if (kind == EXT_AH) {
			hlen = ((size_t)buf[*off + 1] + 2) * 4;
		} else {
			hlen = ((size_t)buf[*off + 1] + 1) * 8;
		}
		r = check_span(pkt, *off, hlen, CN_PKT_ERR_EXTHDR_TRUNCATED);
		if (r != CN_PKT_OK)
			return r;
		nexthdr = buf[*off];
		*off += hlen;
	}
}

static enum cn_pkt_result parse_ipv6(struct cn_pkt *pkt, const uint8_t *buf, size_t len)
{
	size_t payload_len, off = IPV6_HDR_LEN;
	enum cn_pkt_result r;

	if (len < IPV6_HDR_LEN)
		return CN_PKT_ERR_IP_TRUNCATED;
	payload_len = get_be16(buf + 4);
	pkt->family = AF_INET6;
	memcpy(pkt->saddr, buf + 8, 16);
	memcpy(pkt->daddr, buf + 24, 16);
	/* payload length 0 is a jumbogram or IPv6 BIG TCP: length unknown */
	set_lengths(pkt, payload_len ? IPV6_HDR_LEN + payload_len : 0, len);

	r = walk_ipv6_exthdrs(pkt, buf, buf[6], &off);
	if (r != CN_PKT_OK)
		return r;
	pkt->l4_off = off;
	return CN_PKT_OK;
}

static enum cn_pkt_result parse_tcp(struct cn_pkt *pkt, const uint8_t *buf)
{
	size_t off = pkt->l4_off, doff;
	enum cn_pkt_result r;

	r = check_span(pkt, off, TCP_HDR_MIN, CN_PKT_ERR_TCP_TRUNCATED);
	if (r != CN_PKT_OK)
		return r;
	doff = (size_t)(buf[off + 12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || (pkt->ip_len && off + doff > pkt->ip_len))
		return CN_PKT_ERR_TCP_DOFF;
	if (off + doff > pkt->cap_len)
		return CN_PKT_ERR_TCP_TRUNCATED;
	pkt->sport = get_be16(buf + off);
	pkt->dport = get_be16(buf + off + 2);
	pkt->tcp_flags = buf[off + TCP_OFF_FLAGS];
	pkt->l4_hdrlen = doff;
	return CN_PKT_OK;
}

enum cn_pkt_result cn_pkt_parse(struct cn_pkt *out, const uint8_t *buf, size_t len)
{
	struct cn_pkt pkt;
	enum cn_pkt_result r;

	memset(&pkt, 0, sizeof(pkt));
	if (!buf || len == 0)
		return CN_PKT_ERR_EMPTY;
	switch (buf[0] >> 4) {
	case 4:
		r = parse_ipv4(&pkt, buf, len);
		break;
	case 6:
		r = parse_ipv6(&pkt, buf, len);
		break;
	default:
		return CN_PKT_ERR_VERSION;
	}
	if (r == CN_PKT_OK)
		r = parse_tcp(&pkt, buf);
	if (r == CN_PKT_OK)
		*out = pkt;
	return r;
}

bool cn_pkt_is_whole(const struct cn_pkt *pkt)
{
	return !pkt->truncated;
}

cn_id_t cn_pkt_get_id(const struct cn_pkt *pkt, const uint8_t *buf)
{
	if (pkt->tcp_flags & CN_TCP_FLAG_URG)
		return CN_ID_NONE;
	return get_be16(buf + pkt->l4_off + TCP_OFF_URGPTR);
}

uint16_t cn_pkt_tcp_checksum(const struct cn_pkt *pkt, const uint8_t *buf)
{
	size_t tcp_len = pkt->ip_len - pkt->l4_off;
	size_t alen = pkt->family == AF_INET ? 4 : 16;
	const uint8_t *tcp = buf + pkt->l4_off;
	/* pseudo-header tail: upper-layer length (32 bits covers both families) and protocol */
	uint8_t tail[8] = { (uint8_t)(tcp_len >> 24), (uint8_t)(tcp_len >> 16),
			    (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len, 0, 0, 0, IPPROTO_NUM_TCP };
	uint64_t sum = 0;

	sum = cn_csum_add(sum, pkt->saddr, alen);
	sum = cn_csum_add(sum, pkt->daddr, alen);
	sum = cn_csum_add(sum, tail, sizeof(tail));
	/* everything but the checksum field, which counts as zero */
	sum = cn_csum_add(sum, tcp, TCP_OFF_CHECK);
	sum = cn_csum_add(sum, tcp + TCP_OFF_CHECK + 2, tcp_len - TCP_OFF_CHECK - 2);
	return (uint16_t)~cn_csum_fold(sum);
}

/* Finish a CHECKSUM_PARTIAL checksum as the kernel's skb_checksum_help() does: the field holds
 * the folded pseudo-header sum the sending stack computed, so the checksum is the complement of
 * the sum over the segment with that field in it. Taking the pseudo-header from the field rather
 * than rebuilding it keeps the stack's choice of destination: with an IPv6 routing header that
 * has segments left, it is the final one (RFC 8200 8.1), not the daddr in the IP header. */
static uint16_t finish_partial_checksum(const struct cn_pkt *pkt, const uint8_t *buf)
{
	size_t tcp_len = pkt->ip_len - pkt->l4_off;

	return (uint16_t)~cn_csum_fold(cn_csum_add(0, buf + pkt->l4_off, tcp_len));
}

enum cn_pkt_result cn_pkt_set_id(const struct cn_pkt *pkt, uint8_t *buf, cn_id_t id,
				 enum cn_csum_state state)
{
	uint8_t *urg = buf + pkt->l4_off + TCP_OFF_URGPTR;
	uint8_t *check = buf + pkt->l4_off + TCP_OFF_CHECK;
	uint8_t new_urg[2] = { (uint8_t)(id >> 8), (uint8_t)id };

	if (pkt->tcp_flags & CN_TCP_FLAG_URG)
		return CN_PKT_URGENT;

	if (state == CN_CSUM_PARTIAL) {
		uint16_t sum;
		if (pkt->truncated || pkt->fragment)
			return CN_PKT_ERR_NEED_PAYLOAD;
		memcpy(urg, new_urg, 2);
		sum = finish_partial_checksum(pkt, buf);
		memcpy(check, &sum, 2);
	} else {
		uint16_t old_word, new_word, sum;
		memcpy(&old_word, urg, 2);
		memcpy(&new_word, new_urg, 2);
		memcpy(&sum, check, 2);
		sum = cn_csum_replace16(sum, old_word, new_word);
		memcpy(urg, new_urg, 2);
		memcpy(check, &sum, 2);
	}
	return CN_PKT_OK;
}

static const struct {
	const char *name;
	const char *text;
} results[CN_PKT__COUNT] = {
	[CN_PKT_OK] = { "ok", "ok" },
	[CN_PKT_ERR_EMPTY] = { "empty", "empty packet" },
	[CN_PKT_ERR_VERSION] = { "ip-version", "IP version is neither 4 nor 6" },
	[CN_PKT_ERR_IP_TRUNCATED] = { "ip-truncated", "shorter than the IP header" },
	[CN_PKT_ERR_IPV4_IHL] = { "ipv4-ihl", "IPv4 header length below 20 or past the packet" },
	[CN_PKT_ERR_IP_LENGTH] = { "ip-length", "IP length field smaller than its headers" },
	[CN_PKT_ERR_FRAGMENT] = { "fragment", "non-first fragment" },
	[CN_PKT_ERR_NOT_TCP] = { "not-tcp", "transport protocol is not TCP" },
	[CN_PKT_ERR_EXTHDR_TRUNCATED] = { "ipv6-exthdr-truncated", "IPv6 extension header truncated" },
	[CN_PKT_ERR_EXTHDR_UNKNOWN] = { "ipv6-exthdr-unknown", "IPv6 extension header not supported" },
	[CN_PKT_ERR_EXTHDR_LIMIT] = { "ipv6-exthdr-limit", "too many IPv6 extension headers" },
	[CN_PKT_ERR_TCP_TRUNCATED] = { "tcp-truncated", "shorter than the TCP header" },
	[CN_PKT_ERR_TCP_DOFF] = { "tcp-doff", "TCP data offset below 5 or past the packet" },
	[CN_PKT_URGENT] = { "urgent", "URG set: the urgent pointer carries urgent data" },
	[CN_PKT_ERR_NEED_PAYLOAD] = { "need-payload", "full checksum needs the whole segment" },
};

const char *cn_pkt_result_name(enum cn_pkt_result r)
{
	if ((unsigned)r >= CN_PKT__COUNT)
		return "unknown";
	return results[r].name;
}

const char *cn_pkt_strerror(enum cn_pkt_result r)
{
	if ((unsigned)r >= CN_PKT__COUNT)
		return "unknown packet result";
	return results[r].text;
}
