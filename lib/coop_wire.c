/* SPDX-License-Identifier: MIT */
/* The cooperative datagram on the wire: encode, decode (the layout: lib/coop.c), and the
 * address conversions. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtext.h"
#include "be.h"
#include "coop_int.h"

/* ------------------------------------------------------------------ encode / decode */

static void put_addr(uint8_t *p, const struct cn_coop_addr *a)
{
	p[0] = a->family;
	p[1] = 0;
	be_put16(p + 2, a->port);
	memcpy(p + 4, a->addr, 16);
}

static void get_addr(struct cn_coop_addr *a, const uint8_t *p)
{
	a->family = p[0];
	a->port = be_get16(p + 2);
	memcpy(a->addr, p + 4, 16);
}

enum cn_coop_err cn_coop_encode(const struct cn_coop_msg *m, uint8_t *buf, size_t size,
    size_t *outlen, struct cn_coop_diag *diag)
{
	enum cn_coop_err err;
	size_t len;

	if ((err = cn_coop_validate(m, diag)) != CN_COOP_OK)
		return err;
	len = CN_COOP_MIN_LEN + m->dev_len;
	if (size < len)
		return cn_coop_fail(diag, CN_COOP_E_NOSPACE, "buffer", size);

	memset(buf, 0, CN_COOP_FIXED_LEN);
	be_put16(buf + OFF_MAGIC, (uint16_t)(CN_COOP_MAGIC >> 16));
	be_put16(buf + OFF_MAGIC + 2, (uint16_t)CN_COOP_MAGIC);
	buf[OFF_VERSION] = CN_COOP_VERSION;
	buf[OFF_CTL] = m->ctl;
	be_put16(buf + OFF_COOP, m->coop);
	be_put16(buf + OFF_LENGTH, (uint16_t)len);
	be_put16(buf + OFF_ID, m->id);
	be_put16(buf + OFF_ERROR, m->error);
	buf[OFF_VSTATUS] = m->vnic_status;
	buf[OFF_SKIND] = m->sender.kind;
	be_put64(buf + OFF_TS, m->timestamp_ms);
	memcpy(buf + OFF_NSS, m->nonce_ss, CN_COOP_NONCE_LEN);
	memcpy(buf + OFF_NSP, m->nonce_sp, CN_COOP_NONCE_LEN);
	put_addr(buf + OFF_SENDER, &m->sender.addr);
	memcpy(buf + OFF_SNAME, m->sender.name, CN_COOP_NAME_LEN);
	be_put32(buf + OFF_SRES, m->sender.lifetime_s);
	memcpy(buf + OFF_SERVICE, m->service, CN_COOP_SERVICE_LEN);
	memcpy(buf + OFF_PROOF, m->proof, CN_COOP_TAG_LEN);
	put_addr(buf + OFF_FWD, &m->fwd);
	be_put16(buf + OFF_DEVLEN, m->dev_len);
	memcpy(buf + CN_COOP_OFF_DEV, m->dev, m->dev_len);
	memcpy(buf + CN_COOP_OFF_DEV + m->dev_len, m->mac, CN_COOP_TAG_LEN);
	*outlen = len;
	return CN_COOP_OK;
}

enum cn_coop_err cn_coop_decode(struct cn_coop_msg *out, const uint8_t *buf, size_t len,
    struct cn_coop_diag *diag)
{
	uint16_t dev_len;

	if (len < CN_COOP_MIN_LEN)
		return cn_coop_fail(diag, CN_COOP_E_SHORT, "datagram", len);
	if (len > CN_COOP_MAX_LEN)
		return cn_coop_fail(diag, CN_COOP_E_LONG, "datagram", len);
	if (be_get16(buf) != (uint16_t)(CN_COOP_MAGIC >> 16) ||
	    be_get16(buf + 2) != (uint16_t)CN_COOP_MAGIC)
		return cn_coop_fail(diag, CN_COOP_E_MAGIC, "magic", OFF_MAGIC);
	if (buf[OFF_VERSION] != CN_COOP_VERSION)
		return cn_coop_fail(diag, CN_COOP_E_VERSION, "version", OFF_VERSION);
	if (be_get16(buf + OFF_LENGTH) != len)
		return cn_coop_fail(diag, CN_COOP_E_LENGTH, "length", OFF_LENGTH);
	dev_len = be_get16(buf + OFF_DEVLEN);
	if ((size_t)dev_len + CN_COOP_MIN_LEN != len)
		return cn_coop_fail(diag, CN_COOP_E_DEV_LEN, "dev_len", OFF_DEVLEN);
	/* Reserved bytes the struct has no room for: checked here, not in validate. */
	if (buf[OFF_SENDER + 1] != 0)
		return cn_coop_fail(diag, CN_COOP_E_RESERVED, "sender.reserved", OFF_SENDER + 1);
	if (buf[OFF_FWD + 1] != 0)
		return cn_coop_fail(diag, CN_COOP_E_RESERVED, "fwd.reserved", OFF_FWD + 1);
	if (be_get16(buf + OFF_RES2) != 0)
		return cn_coop_fail(diag, CN_COOP_E_RESERVED, "reserved", OFF_RES2);

	memset(out, 0, offsetof(struct cn_coop_msg, dev));
	out->ctl = buf[OFF_CTL];
	out->coop = be_get16(buf + OFF_COOP);
	out->id = be_get16(buf + OFF_ID);
	out->error = be_get16(buf + OFF_ERROR);
	out->vnic_status = buf[OFF_VSTATUS];
	out->sender.kind = buf[OFF_SKIND];
	out->timestamp_ms = be_get64(buf + OFF_TS);
	memcpy(out->nonce_ss, buf + OFF_NSS, CN_COOP_NONCE_LEN);
	memcpy(out->nonce_sp, buf + OFF_NSP, CN_COOP_NONCE_LEN);
	get_addr(&out->sender.addr, buf + OFF_SENDER);
	memcpy(out->sender.name, buf + OFF_SNAME, CN_COOP_NAME_LEN);
	out->sender.lifetime_s = be_get32(buf + OFF_SRES);
	memcpy(out->service, buf + OFF_SERVICE, CN_COOP_SERVICE_LEN);
	memcpy(out->proof, buf + OFF_PROOF, CN_COOP_TAG_LEN);
	get_addr(&out->fwd, buf + OFF_FWD);
	out->dev_len = dev_len;
	memcpy(out->dev, buf + CN_COOP_OFF_DEV, dev_len);
	memcpy(out->mac, buf + CN_COOP_OFF_DEV + dev_len, CN_COOP_TAG_LEN);
	return cn_coop_validate(out, diag);
}

/* ------------------------------------------------------------------ addresses */

int cn_coop_addr_from_sockaddr(struct cn_coop_addr *out, const struct sockaddr *sa,
    socklen_t salen)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		out->family = CN_FAM_INET;
		out->port = ntohs(sin->sin_port);
		memcpy(out->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		out->family = CN_FAM_INET6;
		out->port = ntohs(sin6->sin6_port);
		memcpy(out->addr, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

socklen_t cn_coop_addr_to_sockaddr(const struct cn_coop_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == CN_FAM_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	if (a->family == CN_FAM_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		return sizeof(*sin6);
	}
	return 0;
}

int cn_coop_addr_parse(struct cn_coop_addr *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = CN_FAM_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = CN_FAM_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

/* The port of "addr:port": 1 to 5 digits, 1..65535 (no sign, space or errno'd overflow). */
static int parse_port(uint16_t *out, const char *text)
{
	unsigned long port;
	char *end;

	if (!isdigit((unsigned char)text[0]) || strlen(text) > 5)
		return -1;
	errno = 0;
	port = strtoul(text, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -1;
	*out = (uint16_t)port;
	return 0;
}

int cn_coop_addr_parse_port(struct cn_coop_addr *out, const char *text)
{
	char host[CN_COOP_ADDRSTRLEN];
	const char *colon = text ? strrchr(text, ':') : NULL;
	bool bracket = text && text[0] == '[';
	uint16_t port;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!colon || colon == text || parse_port(&port, colon + 1) < 0)
		return -1;
	n = (size_t)(colon - text);
	if (bracket) { /* "[addr6]": the brackets go, and only an IPv6 address stands in them */
		if (n < 3 || text[n - 1] != ']')
			return -1;
		text++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	/* an IPv6 address without brackets is ambiguous ("2001:db8::1:80"), one in them is not
	 * IPv4 (cn_coop_addr_format writes only these two shapes) */
	if (cn_coop_addr_parse(out, host) < 0 || bracket != (out->family == CN_FAM_INET6)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->port = port;
	return 0;
}

const char *cn_coop_addr_format(const struct cn_coop_addr *a, char *buf, size_t size)
{
	char out[CN_COOP_ADDRSTRLEN + 8], *p = out + 1; /* out[0]: a '[' for IPv6 with a port */
	const char *host = p;
	size_t n;

	if (size == 0)
		return buf;
	/* no printf on this path: it ran several times per Authentication (issue 11) */
	if (a->family == CN_FAM_INET)
		cn_ntop(AF_INET, a->addr, p, INET6_ADDRSTRLEN);
	else if (a->family == CN_FAM_INET6)
		cn_ntop(AF_INET6, a->addr, p, INET6_ADDRSTRLEN);
	else
		memcpy(p, "none", 5);
	n = strlen(p);
	if (a->port != 0) {
		if (a->family == CN_FAM_INET6) {
			out[0] = '[';
			host = out;
			p[n++] = ']';
		}
		p[n++] = ':';
		n += cn_u16_text(a->port, p + n);
	}
	n = (size_t)(p + n - host);
	if (n >= size)
		n = size - 1; /* cut, as snprintf would */
	memmove(buf, host, n);
	buf[n] = '\0';
	return buf;
}

bool cn_coop_addr_equal(const struct cn_coop_addr *a, const struct cn_coop_addr *b,
    bool with_port)
{
	if (a->family != b->family)
		return false;
	if (with_port && a->port != b->port)
		return false;
	return memcmp(a->addr, b->addr, 16) == 0;
}
