/* SPDX-License-Identifier: MIT */
/*
 * Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Every value here is a 16-bit word as it lies in the packet (network byte order in memory):
 * the one's complement sum does not depend on byte order (RFC 1071, 2.B), so words are loaded
 * and stored with memcpy and never swapped.
 */
#ifndef COOPNET_CSUM_H
#define COOPNET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at buf to a running 64-bit sum. An odd len pads with one zero byte, so only
 * the last chunk of a message may have an odd length. */
uint64_t cn_csum_add(uint64_t sum, const void *buf, size_t len);

/* Fold a running sum to 16 bits (not complemented). */
uint16_t cn_csum_fold(uint64_t sum);

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from old_word to
 * new_word. check, old_word and new_word are all as they lie in the packet. */
uint16_t cn_csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word);

#endif
