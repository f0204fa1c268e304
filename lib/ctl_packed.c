/* SPDX-License-Identifier: MIT */
/* Packed sessions (ctl.h; the layout byte by byte: docs/control.md, "Packed sessions"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "be.h"
#include "ctl.h"
#include "hex.h"

enum {
	OFF_FAMILY = 0,   /* 4 or 6 */
	OFF_ZERO0 = 1,    /* 1 byte, 0 */
	OFF_PORT = 2,     /* 2 bytes, network order, not 0 */
	OFF_ID = 4,       /* 2 bytes, network order, not 0 */
	OFF_ZERO1 = 6,    /* 2 bytes, 0 */
	OFF_EXPIRES = 8,  /* 8 bytes, network order, at most 2^63 - 1 */
	OFF_CLIENT = 16,  /* 16 bytes; IPv4: 4, then 12 zero bytes */
	OFF_SERVICE = 32, /* the same */
	OFF_VNIC = 48,    /* 16 bytes: at most 15 printable characters, NUL-padded */
};

_Static_assert(OFF_VNIC + sizeof(((struct cn_session *)0)->vnic) == CN_SESSION_PACKED,
	       "the packed layout fills its 64 bytes");

void cn_session_pack(const struct cn_session *s, uint8_t out[CN_SESSION_PACKED])
{
	size_t alen = s->family == AF_INET ? 4 : 16;

	memset(out, 0, CN_SESSION_PACKED);
	out[OFF_FAMILY] = s->family == AF_INET ? 4 : 6;
	be_put16(out + OFF_PORT, s->port);
	be_put16(out + OFF_ID, s->id);
	be_put64(out + OFF_EXPIRES, s->expires);
	memcpy(out + OFF_CLIENT, s->client, alen);
	memcpy(out + OFF_SERVICE, s->service, alen);
	/* the name up to its NUL, zeros after it: every byte of the record is defined */
	memcpy(out + OFF_VNIC, s->vnic, strnlen(s->vnic, sizeof(s->vnic) - 1));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The vNIC name field: printable ASCII without spaces up to the first NUL, only NULs after
 * it, at least one NUL (the name is at most 15 characters). */
static bool vnic_ok(const uint8_t *p)
{
	size_t len = strnlen((const char *)p, 16);

	if (len == 16)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return false;
	return all_zero(p + len, 16 - len);
}

int cn_session_unpack(struct cn_session *out, const uint8_t in[CN_SESSION_PACKED], char *err,
		      size_t errlen)
{
	struct cn_session s = { 0 };
	size_t alen;

	if (in[OFF_FAMILY] != 4 && in[OFF_FAMILY] != 6) {
		snprintf(err, errlen, "family %u: must be 4 or 6", in[OFF_FAMILY]);
		return -1;
	}
	s.family = in[OFF_FAMILY] == 4 ? AF_INET : AF_INET6;
	alen = s.family == AF_INET ? 4 : 16;
	if (in[OFF_ZERO0] || in[OFF_ZERO1] || in[OFF_ZERO1 + 1] ||
	    !all_zero(in + OFF_CLIENT + alen, 16 - alen) ||
	    !all_zero(in + OFF_SERVICE + alen, 16 - alen)) {
		snprintf(err, errlen, "reserved bytes or IPv4 address padding not zero");
		return -1;
	}
	s.port = be_get16(in + OFF_PORT);
	s.id = be_get16(in + OFF_ID);
	s.expires = be_get64(in + OFF_EXPIRES);
	if (s.port == 0) {
		snprintf(err, errlen, "port 0");
		return -1;
	}
	if (s.id == CN_ID_NONE) {
		snprintf(err, errlen, "ID 0 (reserved for no ID)");
		return -1;
	}
	if (s.expires > (uint64_t)INT64_MAX) { /* what the JSON form can say */
		snprintf(err, errlen, "expires %llu: above 2^63 - 1",
			 (unsigned long long)s.expires);
		return -1;
	}
	if (!vnic_ok(in + OFF_VNIC)) {
		snprintf(err, errlen, "vnic: not a NUL-padded name of at most 15 printable "
			 "characters");
		return -1;
	}
	memcpy(s.client, in + OFF_CLIENT, alen);
	memcpy(s.service, in + OFF_SERVICE, alen);
	memcpy(s.vnic, in + OFF_VNIC, sizeof(s.vnic));
	*out = s;
	return 0;
}

json_t *cn_sessions_pack_json(const struct cn_session *v, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t rec[CN_SESSION_PACKED];
	size_t len;
	json_t *str;
	char *text;

	if (n > SIZE_MAX / (2 * CN_SESSION_PACKED) - 1)
		return NULL;
	len = n * 2 * CN_SESSION_PACKED;
	text = malloc(len + 1);
	if (!text)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char *p = text + i * 2 * CN_SESSION_PACKED;

		cn_session_pack(&v[i], rec);
		for (size_t b = 0; b < CN_SESSION_PACKED; b++) {
			p[2 * b] = digits[rec[b] >> 4];
			p[2 * b + 1] = digits[rec[b] & 15];
		}
	}
	text[len] = 0;
	str = json_stringn_nocheck(text, len);
	free(text);
	return str;
}

int cn_packed_count(const json_t *packed, size_t *n, char *err, size_t errlen)
{
	size_t len = json_string_length(packed);

	if (!json_is_string(packed) || len % (2 * CN_SESSION_PACKED)) {
		snprintf(err, errlen, "\"packed\" must be a string of %d hexadecimal digits per "
			 "session", 2 * CN_SESSION_PACKED);
		return -1;
	}
	*n = len / (2 * CN_SESSION_PACKED);
	return 0;
}

int cn_packed_get(const json_t *packed, size_t i, struct cn_session *out, char *err,
		  size_t errlen)
{
	const char *p = json_string_value(packed);
	uint8_t rec[CN_SESSION_PACKED];
	size_t n;

	if (cn_packed_count(packed, &n, err, errlen) < 0)
		return -1;
	if (i >= n) {
		snprintf(err, errlen, "no session %zu in \"packed\" (%zu)", i, n);
		return -1;
	}
	p += i * 2 * CN_SESSION_PACKED;
	for (size_t b = 0; b < CN_SESSION_PACKED; b++) {
		int hi = cn_hex_value((unsigned char)p[2 * b]);
		int lo = cn_hex_value((unsigned char)p[2 * b + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "\"packed\": not a hexadecimal digit at byte %zu",
				 b);
			return -1;
		}
		rec[b] = (uint8_t)(hi << 4 | lo);
	}
	return cn_session_unpack(out, rec, err, errlen);
}
