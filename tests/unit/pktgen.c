/* SPDX-License-Identifier: MIT */
#include "pktgen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20

/* ---- PRNG: xorshift64* (Vigna) ---- */

void pg_rng_seed(struct pg_rng *rng, uint64_t seed)
{
	/* splitmix64 step so that small seeds give well-mixed, non-zero states */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	rng->state = z ? z : 0x2545f4914f6cdd1dULL;
}

uint64_t pg_rng_next(struct pg_rng *rng)
{
	uint64_t x = rng->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint32_t pg_rng_range(struct pg_rng *rng, uint32_t lo, uint32_t hi)
{
	uint64_t span = (uint64_t)hi - lo + 1;

	return lo + (uint32_t)((pg_rng_next(rng) >> 16) % span);
}

void pg_rng_fill(struct pg_rng *rng, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(pg_rng_next(rng) >> 32);
}

uint64_t pg_seed_from_env(const char *who)
{
	const char *env = getenv("PKTGEN_SEED");
	uint64_t seed;

	if (env && *env) {
		char *end;
		seed = strtoull(env, &end, 0);
		if (*end) {
			fprintf(stderr, "%s: PKTGEN_SEED=%s is not a number\n", who, env);
			exit(2);
		}
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)getpid() << 32;
	}
	fprintf(stderr, "%s: seed %" PRIu64 " (repeat with PKTGEN_SEED=%" PRIu64 ")\n", who, seed,
		seed);
	return seed;
}

/* ---- big-endian helpers ---- */

uint16_t pg_get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

void pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	pg_put16(p, (uint16_t)(v >> 16));
	pg_put16(p + 2, (uint16_t)v);
}

/* ---- naive reference checksum ---- */

uint32_t pg_ref_sum(const uint8_t *buf, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] * 256 + buf[i + 1];
	if (i < len)
		sum += (uint32_t)buf[i] * 256;
	return sum;
}

uint16_t pg_ref_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static bool is_v4(const uint8_t *buf)
{
	return buf[0] >> 4 == 4;
}

uint32_t pg_ref_pseudo_sum(const uint8_t *buf, const struct pg_info *info)
{
	uint32_t sum;

	if (is_v4(buf)) {
		sum = pg_ref_sum(buf + 12, 4);
		sum += pg_ref_sum(buf + 16, 4);
		sum += 6;
		sum += (uint32_t)info->tcp_len;
	} else {
		sum = pg_ref_sum(buf + 8, 16);
		sum += pg_ref_sum(info->pseudo_daddr, 16);
		sum += (uint32_t)(info->tcp_len >> 16) + (uint32_t)(info->tcp_len & 0xffff);
		sum += 6;
	}
	return sum;
}

uint16_t pg_ref_tcp_checksum(const uint8_t *buf, const struct pg_info *info)
{
	const uint8_t *tcp = buf + info->l4_off;
	uint32_t sum = pg_ref_pseudo_sum(buf, info);

	for (size_t i = 0; i < info->tcp_len; i += 2) {
		if (i == 16)
			continue; /* the checksum field counts as zero */
		if (i + 1 < info->tcp_len)
			sum += (uint32_t)tcp[i] * 256 + tcp[i + 1];
		else
			sum += (uint32_t)tcp[i] * 256;
	}
	return (uint16_t)~pg_ref_fold(sum);
}

bool pg_ref_tcp_valid(const uint8_t *buf, const struct pg_info *info)
{
	uint32_t sum = pg_ref_pseudo_sum(buf, info) + pg_ref_sum(buf + info->l4_off, info->tcp_len);

	return pg_ref_fold(sum) == 0xffff;
}

bool pg_ref_ip4_valid(const uint8_t *buf)
{
	if (!is_v4(buf))
		return true;
	return pg_ref_fold(pg_ref_sum(buf, (size_t)(buf[0] & 0x0f) * 4)) == 0xffff;
}

/* ---- specs ---- */

void pg_spec_default(struct pg_spec *spec, int family)
{
	memset(spec, 0, sizeof(*spec));
	spec->family = family;
	if (family == AF_INET) {
		static const uint8_t s4[4] = { 198, 18, 0, 1 }, d4[4] = { 198, 19, 0, 2 };
		memcpy(spec->saddr, s4, 4);
		memcpy(spec->daddr, d4, 4);
	} else {
		static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
		static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2 };
		memcpy(spec->saddr, s6, 16);
		memcpy(spec->daddr, d6, 16);
	}
	spec->ttl = 64;
	spec->proto = 6;
	spec->sport = 40000;
	spec->dport = 80;
	spec->seq = 0x01020304;
	spec->ack = 0x05060708;
	spec->flags = 0x10; /* ACK */
	spec->window = 65535;
	spec->csum = PG_CSUM_FULL;
}

struct pg_ext *pg_spec_add_ext(struct pg_spec *spec, uint8_t type, uint8_t units)
{
	struct pg_ext *e;

	if (spec->n_ext >= PG_MAX_EXT)
		abort();
	e = &spec->ext[spec->n_ext++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->units = units;
	return e;
}

static void random_addr(struct pg_rng *rng, int family, uint8_t *addr)
{
	if (family == AF_INET) {
		/* 198.18.0.0/15 */
		addr[0] = 198;
		addr[1] = (uint8_t)(18 + pg_rng_range(rng, 0, 1));
		addr[2] = (uint8_t)pg_rng_range(rng, 0, 255);
		addr[3] = (uint8_t)pg_rng_range(rng, 1, 254);
	} else {
		/* 2001:db8::/32 */
		static const uint8_t pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };
		memcpy(addr, pfx, 4);
		pg_rng_fill(rng, addr + 4, 12);
	}
}

static void random_ext(struct pg_spec *spec, struct pg_rng *rng, bool first)
{
	static const uint8_t later[] = { PG_EXT_ROUTING, PG_EXT_DSTOPTS, PG_EXT_FRAGMENT,
					 PG_EXT_AH };
	uint8_t type = first && pg_rng_range(rng, 0, 2) == 0
			       ? PG_EXT_HOPOPTS
			       : later[pg_rng_range(rng, 0, sizeof(later) - 1)];
	struct pg_ext *e = pg_spec_add_ext(spec, type, 0);

	switch (type) {
	case PG_EXT_ROUTING:
		e->nsegs = (uint8_t)pg_rng_range(rng, 1, 3);
		e->segleft = (uint8_t)pg_rng_range(rng, 0, e->nsegs);
		for (unsigned i = 0; i < e->nsegs; i++)
			random_addr(rng, AF_INET6, e->segs[i]);
		break;
	case PG_EXT_FRAGMENT:
		e->frag_off = 0; /* only first fragments parse */
		e->frag_more = pg_rng_range(rng, 0, 1);
		break;
	case PG_EXT_AH:
		e->units = (uint8_t)(2 * pg_rng_range(rng, 1, 3)); /* 16, 24 or 32 bytes */
		break;
	default:
		e->units = (uint8_t)pg_rng_range(rng, 0, 3);
		break;
	}
}

void pg_spec_random(struct pg_spec *spec, struct pg_rng *rng, int family, size_t max_payload)
{
	pg_spec_default(spec, family);
	random_addr(rng, family, spec->saddr);
	random_addr(rng, family, spec->daddr);
	spec->ttl = (uint8_t)pg_rng_range(rng, 1, 255);
	if (family == AF_INET) {
		if (pg_rng_range(rng, 0, 1))
			spec->ip4_optlen = 4 * pg_rng_range(rng, 1, 10);
		spec->ip4_dont_frag = pg_rng_range(rng, 0, 1);
		spec->ip4_more_frags = pg_rng_range(rng, 0, 7) == 0;
	} else {
		unsigned n = pg_rng_range(rng, 0, 4);
		for (unsigned i = 0; i < n; i++)
			random_ext(spec, rng, i == 0);
	}
	spec->sport = (uint16_t)pg_rng_range(rng, 1, 65535);
	spec->dport = (uint16_t)pg_rng_range(rng, 1, 65535);
	spec->seq = (uint32_t)pg_rng_next(rng);
	spec->ack = (uint32_t)pg_rng_next(rng);
	spec->flags = (uint8_t)(pg_rng_range(rng, 0, 255) & ~0x20); /* never URG */
	spec->window = (uint16_t)pg_rng_next(rng);
	spec->urg_ptr = (uint16_t)pg_rng_next(rng);
	if (pg_rng_range(rng, 0, 1))
		spec->tcp_optlen = 4 * pg_rng_range(rng, 1, 10);
	spec->payload_len = pg_rng_range(rng, 0, (uint32_t)max_payload);
}

/* ---- building ---- */

static void fill(struct pg_rng *rng, uint8_t *buf, size_t len, uint8_t seed)
{
	if (rng) {
		pg_rng_fill(rng, buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + 7 * i);
}

size_t pg_ext_len(const struct pg_ext *e)
{
	switch (e->type) {
	case PG_EXT_FRAGMENT:
		return 8;
	case PG_EXT_AH:
		return 4 * ((size_t)e->units + 2);
	case PG_EXT_ROUTING:
		if (e->nsegs)
			return 8 + 16 * (size_t)e->nsegs;
		return 8 * ((size_t)e->units + 1);
	default:
		return 8 * ((size_t)e->units + 1);
	}
}

static void build_ext(const struct pg_ext *e, uint8_t next, struct pg_rng *rng, uint8_t *p,
		      struct pg_info *info)
{
	size_t len = pg_ext_len(e);

	memset(p, 0, len);
	p[0] = next;
	switch (e->type) {
	case PG_EXT_FRAGMENT:
		pg_put16(p + 2, (uint16_t)(e->frag_off << 3 | (e->frag_more ? 1 : 0)));
		fill(rng, p + 4, 4, 0x44); /* identification */
		break;
	case PG_EXT_AH:
		p[1] = e->units;
		fill(rng, p + 4, len - 4, 0x51); /* SPI, sequence, ICV */
		break;
	case PG_EXT_ROUTING:
		/* segment routing header (RFC 8754): Segment List[0] is the final destination */
		p[1] = (uint8_t)(len / 8 - 1);
		p[2] = 4;
		p[3] = e->nsegs ? e->segleft : 0;
		p[4] = e->nsegs ? (uint8_t)(e->nsegs - 1) : 0;
		for (unsigned i = 0; i < e->nsegs; i++)
			memcpy(p + 8 + 16 * i, e->segs[i], 16);
		if (e->nsegs && e->segleft) {
			memcpy(info->pseudo_daddr, e->segs[0], 16);
			info->active_routing = true;
		}
		break;
	case PG_EXT_HOPOPTS:
	case PG_EXT_DSTOPTS:
		p[1] = e->units;
		/* options area left as Pad1 (zero) bytes */
		break;
	default:
		p[1] = e->units;
		fill(rng, p + 2, len - 2, 0x99);
		break;
	}
}

static size_t ip_hdr_len(const struct pg_spec *spec)
{
	size_t len;

	if (spec->family == AF_INET)
		return IP4_HDR + spec->ip4_optlen;
	len = IP6_HDR;
	for (size_t i = 0; i < spec->n_ext; i++)
		len += pg_ext_len(&spec->ext[i]);
	return len;
}

static void build_ip4(const struct pg_spec *spec, struct pg_rng *rng, uint8_t *p, size_t ip_len)
{
	uint16_t frag = spec->ip4_frag_off & 0x1fff;

	if (spec->ip4_more_frags)
		frag |= 0x2000;
	if (spec->ip4_dont_frag)
		frag |= 0x4000;
	p[0] = (uint8_t)(0x40 | (IP4_HDR + spec->ip4_optlen) / 4);
	p[1] = 0;
	pg_put16(p + 2, (uint16_t)ip_len);
	fill(rng, p + 4, 2, 0x04); /* identification */
	pg_put16(p + 6, frag);
	p[8] = spec->ttl;
	p[9] = spec->proto;
	pg_put16(p + 10, 0);
	memcpy(p + 12, spec->saddr, 4);
	memcpy(p + 16, spec->daddr, 4);
	fill(rng, p + IP4_HDR, spec->ip4_optlen, 0x10);
	pg_put16(p + 10, (uint16_t)~pg_ref_fold(pg_ref_sum(p, IP4_HDR + spec->ip4_optlen)));
}

static void build_ip6(const struct pg_spec *spec, struct pg_rng *rng, uint8_t *p, size_t ip_len,
		      struct pg_info *info)
{
	size_t off = IP6_HDR;

	p[0] = 0x60;
	p[1] = p[2] = p[3] = 0;
	pg_put16(p + 4, (uint16_t)(ip_len - IP6_HDR));
	p[6] = spec->n_ext ? spec->ext[0].type : spec->proto;
	p[7] = spec->ttl;
	memcpy(p + 8, spec->saddr, 16);
	memcpy(p + 24, spec->daddr, 16);
	for (size_t i = 0; i < spec->n_ext; i++) {
		uint8_t next = i + 1 < spec->n_ext ? spec->ext[i + 1].type : spec->proto;
		build_ext(&spec->ext[i], next, rng, p + off, info);
		off += pg_ext_len(&spec->ext[i]);
	}
}

static void build_tcp(const struct pg_spec *spec, struct pg_rng *rng, uint8_t *p)
{
	pg_put16(p, spec->sport);
	pg_put16(p + 2, spec->dport);
	put32(p + 4, spec->seq);
	put32(p + 8, spec->ack);
	p[12] = (uint8_t)((TCP_HDR + spec->tcp_optlen) / 4 << 4);
	p[13] = spec->flags;
	pg_put16(p + 14, spec->window);
	pg_put16(p + 16, 0);
	pg_put16(p + 18, spec->urg_ptr);
	fill(rng, p + TCP_HDR, spec->tcp_optlen, 0x30);
	fill(rng, p + TCP_HDR + spec->tcp_optlen, spec->payload_len, 0x60);
}

size_t pg_build(const struct pg_spec *spec, struct pg_rng *rng, uint8_t *buf, size_t size,
		struct pg_info *info)
{
	size_t hdr = ip_hdr_len(spec);
	size_t tcp_len = TCP_HDR + spec->tcp_optlen + spec->payload_len;
	size_t ip_len = hdr + tcp_len, total = ip_len + spec->trailer_len;
	uint8_t *tcp = buf + hdr;
	uint16_t check;

	memset(info, 0, sizeof(*info));
	if (spec->ip4_optlen > 40 || spec->ip4_optlen % 4 || spec->tcp_optlen > 40 ||
	    spec->tcp_optlen % 4 || total > size || ip_len > 65535 + (spec->family == AF_INET6 ? 40 : 0))
		return 0;
	info->len = total;
	info->ip_len = ip_len;
	info->l4_off = hdr;
	info->tcp_hdrlen = TCP_HDR + spec->tcp_optlen;
	info->tcp_len = tcp_len;
	memcpy(info->pseudo_daddr, spec->daddr, 16);

	if (spec->family == AF_INET)
		build_ip4(spec, rng, buf, ip_len);
	else
		build_ip6(spec, rng, buf, ip_len, info);
	build_tcp(spec, rng, tcp);
	fill(rng, buf + ip_len, spec->trailer_len, 0xee);

	switch (spec->csum) {
	case PG_CSUM_FULL:
		check = pg_ref_tcp_checksum(buf, info);
		break;
	case PG_CSUM_PARTIAL:
		/* th->check = ~csum_tcpudp_magic(saddr, daddr, len, IPPROTO_TCP, 0) */
		check = pg_ref_fold(pg_ref_pseudo_sum(buf, info));
		break;
	default:
		check = spec->check;
		break;
	}
	pg_put16(tcp + 16, check);
	return total;
}
