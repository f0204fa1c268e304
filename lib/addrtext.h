/* SPDX-License-Identifier: MIT */
/*
 * Addresses as text without printf (issue 11: inet_ntop formats an IPv4 address through
 * sprintf, about 1,800 instructions a call, and an Authentication formatted addresses about
 * eight times). Same text as inet_ntop(3).
 */
#ifndef COOPNET_ADDRTEXT_H
#define COOPNET_ADDRTEXT_H

#include <stddef.h>

/* addr (4 bytes for AF_INET, 16 for AF_INET6) as text in buf, NUL-terminated. Returns buf,
 * or NULL when family is neither or size is too small (errno EAFNOSUPPORT or ENOSPC), as
 * inet_ntop does. */
const char *cn_ntop(int family, const void *addr, char *buf, size_t size);

/* The decimal digits of v at out (at least 5 bytes of room), no NUL; returns how many. */
size_t cn_u16_text(unsigned v, char *out);

#endif
