/* SPDX-License-Identifier: MIT */
/* Addresses as text without printf: addrtext.h. */
#include "addrtext.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

size_t cn_u16_text(unsigned v, char *out)
{
	char tmp[5];
	size_t n = 0;

	v &= 0xffff;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

const char *cn_ntop(int family, const void *addr, char *buf, size_t size)
{
	const uint8_t *a = addr;
	char tmp[INET_ADDRSTRLEN];
	size_t n = 0;

	if (family != AF_INET)
		return inet_ntop(family, addr, buf, (socklen_t)(size > INET6_ADDRSTRLEN ?
								INET6_ADDRSTRLEN : size));
	for (int i = 0; i < 4; i++) {
		if (i)
			tmp[n++] = '.';
		n += cn_u16_text(a[i], tmp + n);
	}
	if (n + 1 > size) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}
