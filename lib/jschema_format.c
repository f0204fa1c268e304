/* SPDX-License-Identifier: MIT */
/* The "format" keyword of the JSON Schema subset (docs/config.md): addresses, prefixes and
 * host names. */
#include "jschema_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* "0" or 1 to 3 digits without a leading zero, at most max. */
static bool parse_prefixlen(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3 || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	return v <= max;
}

static bool is_prefix(const char *s, int af)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t alen;

	if (slash == NULL || (alen = (size_t)(slash - s)) >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return inet_pton(af, addr, bin) == 1 && parse_prefixlen(slash + 1, af == AF_INET ? 32 : 128);
}

static bool is_addr(const char *s, int af)
{
	unsigned char bin[16];

	return inet_pton(af, s, bin) == 1;
}

/* RFC 1123 host name: labels of letters, digits and '-', 1 to 63 characters, not starting or
 * ending with '-'; at most 253 characters in all. */
static bool is_hostname(const char *s)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > 253)
		return false;
	for (size_t i = 0; i <= total; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)ch) || (ch == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

const char *jschema_format_error(enum format f, const char *str)
{
	switch (f) {
	case F_NONE:
		return NULL;
	case F_IPV4:
		return is_addr(str, AF_INET) ? NULL : "is not an IPv4 address (write it like 198.18.0.1)";
	case F_IPV6:
		return is_addr(str, AF_INET6) ? NULL
					      : "is not an IPv6 address (write it like 2001:db8::1)";
	case F_IP:
		return is_addr(str, AF_INET) || is_addr(str, AF_INET6) ? NULL :
		       "is not an IPv4 or IPv6 address (write it like 198.18.0.1 or 2001:db8::1)";
	case F_IPV4_PREFIX:
		return is_prefix(str, AF_INET) ? NULL :
		       "is not an IPv4 prefix (write it like 198.18.0.0/15, length 0 to 32)";
	case F_IPV6_PREFIX:
		return is_prefix(str, AF_INET6) ? NULL :
		       "is not an IPv6 prefix (write it like 2001:db8::/32, length 0 to 128)";
	case F_IP_PREFIX:
		return is_prefix(str, AF_INET) || is_prefix(str, AF_INET6) ? NULL :
		       "is not an IPv4 or IPv6 prefix (write it like 198.18.0.0/15 or "
		       "2001:db8::/32)";
	case F_HOSTNAME:
		return is_hostname(str) ? NULL :
		       "is not a host name (letters, digits and '-' in dot-separated labels of 1 "
		       "to 63 characters)";
	}
	return NULL;
}
