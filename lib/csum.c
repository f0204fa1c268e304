/* SPDX-License-Identifier: MIT */
#include "csum.h"

#include <string.h>

uint64_t cn_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* 32-bit loads into a 64-bit accumulator: 2^32 additions before it could overflow,
	 * far beyond any IP packet. */
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;
		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

uint16_t cn_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t cn_csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	uint64_t sum = (uint16_t)~check;

	sum += (uint16_t)~old_word;
	sum += new_word;
	return (uint16_t)~cn_csum_fold(sum);
}
