/* SPDX-License-Identifier: MIT */
/*
 * The packet core: parse a raw IPv4 or IPv6 packet as NFQUEUE delivers it (starting at the IP
 * header), then read, write or clear the overlay ID in the TCP urgent pointer.
 *
 * Pure functions, no I/O, no allocation. Every offset is checked against both the bytes we
 * were given (the copy range may be smaller than the packet) and the length the IP header
 * claims.
 */
#ifndef COOPNET_PACKET_H
#define COOPNET_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"

enum cn_pkt_result {
	CN_PKT_OK = 0,
	/* parse rejections: one code per reason */
	CN_PKT_ERR_EMPTY,            /* zero bytes */
	CN_PKT_ERR_VERSION,          /* IP version is neither 4 nor 6 */
	CN_PKT_ERR_IP_TRUNCATED,     /* fewer bytes than the fixed IP header */
	CN_PKT_ERR_IPV4_IHL,         /* IHL below 5, or the header runs past the buffer */
	CN_PKT_ERR_IP_LENGTH,        /* IP length field smaller than the headers it must hold */
	CN_PKT_ERR_FRAGMENT,         /* a non-first fragment: no TCP header to read */
	CN_PKT_ERR_NOT_TCP,          /* the transport protocol is not TCP */
	CN_PKT_ERR_EXTHDR_TRUNCATED, /* an IPv6 extension header runs past the buffer */
	CN_PKT_ERR_EXTHDR_UNKNOWN,   /* an IPv6 extension header we do not walk (mobility, HIP, ...) */
	CN_PKT_ERR_EXTHDR_LIMIT,     /* more than CN_PKT_MAX_EXTHDRS extension headers */
	CN_PKT_ERR_TCP_TRUNCATED,    /* fewer than 20 bytes of TCP header */
	CN_PKT_ERR_TCP_DOFF,         /* TCP data offset below 5, or options run past the packet */
	/* rewrite refusals: the packet is left untouched */
	CN_PKT_URGENT,               /* URG is set: the urgent pointer is real urgent data */
	CN_PKT_ERR_NEED_PAYLOAD,     /* a full checksum needs the whole segment, which we lack */
	CN_PKT__COUNT
};

#define CN_PKT_MAX_EXTHDRS 8

#define CN_TCP_FLAG_FIN 0x01
#define CN_TCP_FLAG_SYN 0x02
#define CN_TCP_FLAG_RST 0x04
#define CN_TCP_FLAG_PSH 0x08
#define CN_TCP_FLAG_ACK 0x10
#define CN_TCP_FLAG_URG 0x20

/* What cn_pkt_parse() learned. Offsets are from the start of the buffer. */
struct cn_pkt {
	int family;            /* AF_INET or AF_INET6 */
	uint8_t saddr[16];     /* 4 bytes used for AF_INET */
	uint8_t daddr[16];
	uint16_t sport;        /* host order */
	uint16_t dport;
	uint8_t tcp_flags;     /* CN_TCP_FLAG_* */
	size_t l4_off;         /* TCP header */
	size_t l4_hdrlen;      /* TCP header with options */
	size_t ip_len;         /* what the IP header claims; 0 when unknown (BIG TCP, jumbogram) */
	size_t cap_len;        /* bytes of this packet in the buffer (link padding excluded) */
	bool truncated;        /* the buffer holds less than the whole packet */
	bool fragment;         /* first fragment of several: the segment is incomplete */
};

/* How the kernel holds the TCP checksum of this packet. */
enum cn_csum_state {
	/* The field holds the final checksum: patch it incrementally (RFC 1624). */
	CN_CSUM_COMPLETE,
	/* NFQA_SKB_CSUMNOTREADY: the field holds only the pseudo-header sum, and a returned
	 * payload is taken as final (CHECKSUM_NONE), so the whole checksum is computed, from
	 * that pseudo-header sum and the segment (as skb_checksum_help() would). */
	CN_CSUM_PARTIAL,
};

enum cn_pkt_result cn_pkt_parse(struct cn_pkt *out, const uint8_t *buf, size_t len);

/* Short, stable name of a result ("ipv4-ihl") for counters and logs, and a sentence. */
const char *cn_pkt_result_name(enum cn_pkt_result r);
const char *cn_pkt_strerror(enum cn_pkt_result r);

/* The ID in the urgent pointer, or CN_ID_NONE when there is none (field 0, or URG set). */
cn_id_t cn_pkt_get_id(const struct cn_pkt *pkt, const uint8_t *buf);

/* Write id into the urgent pointer (CN_ID_NONE clears it), URG flag left clear, length
 * unchanged, checksum kept valid for the given state. Returns CN_PKT_OK, or CN_PKT_URGENT /
 * CN_PKT_ERR_NEED_PAYLOAD with the buffer untouched. */
enum cn_pkt_result cn_pkt_set_id(const struct cn_pkt *pkt, uint8_t *buf, cn_id_t id,
				 enum cn_csum_state state);

/* Can this buffer be returned to the kernel as the packet? (Not truncated.) */
bool cn_pkt_is_whole(const struct cn_pkt *pkt);

/* The full TCP checksum of the segment as it should lie in the packet, computed with the
 * checksum field taken as zero. Needs cn_pkt_is_whole() and no fragment. The pseudo-header
 * uses the daddr of the IP header: wrong for an IPv6 packet whose routing header still has
 * segments left (RFC 8200 8.1 wants the final destination). cn_pkt_set_id() does not use it. */
uint16_t cn_pkt_tcp_checksum(const struct cn_pkt *pkt, const uint8_t *buf);

#endif
