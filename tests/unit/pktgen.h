/* SPDX-License-Identifier: MIT */
/*
 * Test packet builder: IPv4 (with options) or IPv6 (with a chain of extension headers), then a
 * TCP header with options and a payload, with correct IPv4 header and TCP checksums.
 *
 * Checksums are computed here with a naive reference (one 16-bit big-endian word at a time,
 * written independently of lib/csum.c) so the tests compare the library against an
 * independent computation. Random packets come from a seeded xorshift64* generator: a run
 * is reproducible from the printed seed (PKTGEN_SEED=N in the environment).
 */
#ifndef COOPNET_TESTS_PKTGEN_H
#define COOPNET_TESTS_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PRNG ---- */

struct pg_rng {
	uint64_t state;
};

void pg_rng_seed(struct pg_rng *rng, uint64_t seed);
uint64_t pg_rng_next(struct pg_rng *rng);
/* Uniform in [lo, hi] (inclusive). */
uint32_t pg_rng_range(struct pg_rng *rng, uint32_t lo, uint32_t hi);
void pg_rng_fill(struct pg_rng *rng, uint8_t *buf, size_t len);
/* The seed for this run: $PKTGEN_SEED if set, else from the clock; printed to stderr. */
uint64_t pg_seed_from_env(const char *who);

/* ---- packet description ---- */

#define PG_EXT_HOPOPTS  0
#define PG_EXT_ROUTING  43
#define PG_EXT_FRAGMENT 44
#define PG_EXT_AH       51
#define PG_EXT_DSTOPTS  60

#define PG_MAX_EXT 12
#define PG_MAX_SEGS 4
#define PG_BUF_SIZE 8192

struct pg_ext {
	uint8_t type;       /* PG_EXT_*, or any other number (written as a generic header) */
	/* length unit: hop-by-hop/dest opts/routing/unknown: 8 * (units + 1) bytes;
	 * AH: 4 * (units + 2) bytes; fragment: always 8 bytes (units ignored) */
	uint8_t units;
	/* routing: a segment routing header (type 4) with nsegs addresses */
	uint8_t nsegs;
	uint8_t segleft;
	uint8_t segs[PG_MAX_SEGS][16];
	/* fragment */
	uint16_t frag_off;  /* in 8-byte units */
	bool frag_more;
};

enum pg_csum_mode {
	PG_CSUM_FULL,     /* the final TCP checksum */
	PG_CSUM_PARTIAL,  /* the pseudo-header sum only, as Linux leaves it for CHECKSUM_PARTIAL */
	PG_CSUM_VALUE,    /* spec->check as given */
};

struct pg_spec {
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t saddr[16], daddr[16];
	/* IPv4 */
	size_t ip4_optlen;          /* multiple of 4, at most 40 */
	uint16_t ip4_frag_off;      /* in 8-byte units */
	bool ip4_more_frags;
	bool ip4_dont_frag;
	uint8_t ttl;
	/* IPv6 */
	struct pg_ext ext[PG_MAX_EXT];
	size_t n_ext;
	/* protocol after the IP header (and its extension headers); 6 for TCP */
	uint8_t proto;
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint16_t urg_ptr;
	size_t tcp_optlen;          /* multiple of 4, at most 40 */
	size_t payload_len;
	enum pg_csum_mode csum;
	uint16_t check;             /* for PG_CSUM_VALUE, host order */
	/* bytes appended after the packet (link-layer padding), not counted in the IP length */
	size_t trailer_len;
};

/* Where things landed in the built packet. */
struct pg_info {
	size_t len;          /* bytes written (packet + trailer) */
	size_t ip_len;       /* IP total length */
	size_t l4_off;       /* TCP header */
	size_t tcp_hdrlen;   /* TCP header with options */
	size_t tcp_len;      /* TCP header + payload */
	uint8_t pseudo_daddr[16]; /* destination in the pseudo-header (final one, RFC 8200 8.1) */
	bool active_routing; /* a routing header with segments left: pseudo daddr != IP daddr */
};

/* A minimal valid TCP packet: documentation addresses, ports 40000 -> 80, ACK, no options. */
void pg_spec_default(struct pg_spec *spec, int family);

/* A random packet of that family: options, extension headers (first fragments at most),
 * random flags without URG, random urgent pointer, payload of 0..max_payload bytes. */
void pg_spec_random(struct pg_spec *spec, struct pg_rng *rng, int family, size_t max_payload);

/* Length in bytes of an extension header as pg_build() writes it. */
size_t pg_ext_len(const struct pg_ext *e);

/* Append an extension header to an IPv6 spec; returns it for further setting. */
struct pg_ext *pg_spec_add_ext(struct pg_spec *spec, uint8_t type, uint8_t units);

/* Build into buf; option, payload and filler bytes come from rng (a fixed pattern if NULL).
 * Returns the length written, 0 if the spec does not fit in size. */
size_t pg_build(const struct pg_spec *spec, struct pg_rng *rng, uint8_t *buf, size_t size,
		struct pg_info *info);

/* ---- naive reference checksums (independent of lib/csum.c) ---- */

/* Sum of big-endian 16-bit words, odd length padded with a zero byte, not folded. */
uint32_t pg_ref_sum(const uint8_t *buf, size_t len);
/* Fold a sum to 16 bits with end-around carry. */
uint16_t pg_ref_fold(uint32_t sum);
/* Pseudo-header sum (not folded) for this packet, with the final destination. */
uint32_t pg_ref_pseudo_sum(const uint8_t *buf, const struct pg_info *info);
/* The TCP checksum (host order) the packet should carry: checksum field taken as zero. */
uint16_t pg_ref_tcp_checksum(const uint8_t *buf, const struct pg_info *info);
/* True when the whole TCP segment with its pseudo-header sums to 0xffff. */
bool pg_ref_tcp_valid(const uint8_t *buf, const struct pg_info *info);
/* True when the IPv4 header checksum is right (always true for IPv6). */
bool pg_ref_ip4_valid(const uint8_t *buf);

/* Big-endian helpers. */
uint16_t pg_get16(const uint8_t *p);
void pg_put16(uint8_t *p, uint16_t v);

#endif
