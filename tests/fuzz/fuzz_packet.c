/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for lib/packet.c: parse arbitrary bytes as an IP packet; when they parse,
 * write an ID derived from the input with both checksum modes (on copies) and abort on any
 * broken promise: wrong ID read back, a byte other than the TCP checksum and urgent pointer
 * changed, a checksum the rewrite made invalid.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_packet -max_total_time=60 tests/fuzz/corpus/packet
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"
#include "fuzzcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a naive checksum of our own: big-endian 16-bit words ---- */

static uint32_t sum_be(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t tcp_len(const struct cn_pkt *pkt)
{
	return pkt->ip_len - pkt->l4_off;
}

/* Pseudo-header from the IP header's addresses. */
static uint32_t pseudo_sum(const struct cn_pkt *pkt)
{
	size_t alen = pkt->family == AF_INET ? 4 : 16;
	size_t len = tcp_len(pkt);

	return sum_be(pkt->saddr, alen) + sum_be(pkt->daddr, alen) + 6 + (uint32_t)(len >> 16) +
	       (uint32_t)(len & 0xffff);
}

/* 0xffff when the TCP checksum of a whole packet verifies. */
static uint16_t residual(const struct cn_pkt *pkt, const uint8_t *buf)
{
	return fold(pseudo_sum(pkt) + sum_be(buf + pkt->l4_off, tcp_len(pkt)));
}

/* ---- the checks ---- */

static void check_parse_invariants(const struct cn_pkt *pkt, size_t size)
{
	CHECK(pkt->family == AF_INET || pkt->family == AF_INET6);
	CHECK(pkt->cap_len <= size);
	CHECK(pkt->l4_hdrlen >= 20 && pkt->l4_hdrlen <= 60 && pkt->l4_hdrlen % 4 == 0);
	CHECK(pkt->l4_off + pkt->l4_hdrlen <= pkt->cap_len);
	CHECK(pkt->ip_len == 0 || pkt->cap_len <= pkt->ip_len);
	CHECK(pkt->truncated == (pkt->ip_len == 0 || pkt->ip_len > size));
	CHECK(cn_pkt_is_whole(pkt) == !pkt->truncated);
}

static void check_only_id_changed(const uint8_t *in, const uint8_t *out, size_t size,
				  const struct cn_pkt *pkt)
{
	for (size_t i = 0; i < size; i++) {
		if (i >= pkt->l4_off + 16 && i < pkt->l4_off + 20)
			continue;
		CHECK(in[i] == out[i]);
	}
}

static void check_id_written(const struct cn_pkt *pkt, const uint8_t *out, cn_id_t id)
{
	CHECK(be16(out + pkt->l4_off + 18) == id);
	CHECK(cn_pkt_get_id(pkt, out) == id);
	CHECK((out[pkt->l4_off + 13] & CN_TCP_FLAG_URG) == 0);
}

static void fuzz_complete(const struct cn_pkt *pkt, const uint8_t *data, uint8_t *copy,
			  size_t size, cn_id_t id)
{
	enum cn_pkt_result r;

	memcpy(copy, data, size);
	r = cn_pkt_set_id(pkt, copy, id, CN_CSUM_COMPLETE);
	if (pkt->tcp_flags & CN_TCP_FLAG_URG) {
		CHECK(r == CN_PKT_URGENT);
		CHECK(memcmp(copy, data, size) == 0);
		return;
	}
	CHECK(r == CN_PKT_OK);
	check_only_id_changed(data, copy, size, pkt);
	check_id_written(pkt, copy, id);
	/* an incremental update keeps the one's complement sum of any span holding both words,
	 * so the sum of the fixed TCP header is the same, whole packet or not */
	CHECK(fold(sum_be(data + pkt->l4_off, 20)) == fold(sum_be(copy + pkt->l4_off, 20)));
	if (pkt->truncated)
		return;
	/* whole packet: a valid checksum stays valid, an invalid one stays off by as much */
	CHECK(residual(pkt, data) == residual(pkt, copy));
	if (residual(pkt, data) == 0xffff)
		CHECK(residual(pkt, copy) == 0xffff);
}

static void fuzz_partial(const struct cn_pkt *pkt, const uint8_t *data, uint8_t *copy,
			 size_t size, cn_id_t id)
{
	uint16_t pseudo_in, check_out;
	enum cn_pkt_result r;
	uint32_t sum;

	memcpy(copy, data, size);
	r = cn_pkt_set_id(pkt, copy, id, CN_CSUM_PARTIAL);
	if (pkt->tcp_flags & CN_TCP_FLAG_URG) {
		CHECK(r == CN_PKT_URGENT);
		CHECK(memcmp(copy, data, size) == 0);
		return;
	}
	if (pkt->truncated || pkt->fragment) {
		CHECK(r == CN_PKT_ERR_NEED_PAYLOAD);
		CHECK(memcmp(copy, data, size) == 0);
		return;
	}
	CHECK(r == CN_PKT_OK);
	check_only_id_changed(data, copy, size, pkt);
	check_id_written(pkt, copy, id);
	/* the input field was the pseudo-header sum: with it, the new checksum verifies */
	pseudo_in = be16(data + pkt->l4_off + 16);
	check_out = be16(copy + pkt->l4_off + 16);
	sum = sum_be(copy + pkt->l4_off, tcp_len(pkt)) - check_out + pseudo_in + check_out;
	CHECK(fold(sum) == 0xffff);
	/* and when that sum is the one of the IP header's addresses, the packet verifies */
	if (pseudo_in == fold(pseudo_sum(pkt)))
		CHECK(residual(pkt, copy) == 0xffff);
}

static void check_tcp_checksum(const struct cn_pkt *pkt, const uint8_t *data)
{
	uint16_t lib = cn_pkt_tcp_checksum(pkt, data), ref;
	uint8_t b[2];
	uint32_t sum = pseudo_sum(pkt) + sum_be(data + pkt->l4_off, tcp_len(pkt)) -
		       be16(data + pkt->l4_off + 16);

	ref = (uint16_t)~fold(sum);
	memcpy(b, &lib, 2);
	CHECK(be16(b) == ref);
}

/* FNV-1a over the input: the ID follows the bytes, so libFuzzer can steer it. */
static cn_id_t id_from(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if ((h >> 16) % 8 == 0)
		return CN_ID_NONE; /* clearing is a rewrite too */
	return (cn_id_t)h ? (cn_id_t)h : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_pkt pkt;
	enum cn_pkt_result r;
	uint8_t *copy;
	cn_id_t id;

	r = cn_pkt_parse(&pkt, data, size);
	CHECK((unsigned)r < CN_PKT__COUNT);
	CHECK(cn_pkt_result_name(r)[0] != '\0' && cn_pkt_strerror(r)[0] != '\0');
	if (r != CN_PKT_OK)
		return 0;
	check_parse_invariants(&pkt, size);
	if ((pkt.tcp_flags & CN_TCP_FLAG_URG) == 0)
		CHECK(cn_pkt_get_id(&pkt, data) == be16(data + pkt.l4_off + 18));
	else
		CHECK(cn_pkt_get_id(&pkt, data) == CN_ID_NONE);
	if (!pkt.truncated && !pkt.fragment)
		check_tcp_checksum(&pkt, data);

	copy = malloc(size);
	CHECK(copy != NULL);
	id = id_from(data, size);
	fuzz_complete(&pkt, data, copy, size, id);
	fuzz_partial(&pkt, data, copy, size, id);
	free(copy);
	return 0;
}
