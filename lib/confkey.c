/* SPDX-License-Identifier: MIT */
/* Key derivation and key messages of confidential services (confkey.h). */
#include "confkey.h"

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "be.h"

/*
 * Frame (104 bytes, network byte order):
 *   0  'C' 'R'   magic
 *   2  version   1
 *   3  type      enum cn_conf_type
 *   4  family    2 (AF_INET) or 10 (AF_INET6); 0 for SYNC_* and STATS
 *   5  reserved  0
 *   6  port      u16
 *   8  id        u16
 *  10  reserved  u16 0
 *  12  expires   i64
 *  20  client    16 bytes (IPv4: 4 bytes, then 12 zero bytes)
 *  36  service   16 bytes
 *  52  ident     16 bytes
 *  68  psk       32 bytes
 * 100  reserved  u32 0
 */

static const char *const counter_names[CN_CONF_C_MAX] = {
	"accepted", "handshake-ok", "handshake-failed", "no-key", "backend-failed",
	"closed-revoked", "keys-set", "keys-deleted", "bad-messages", "keys-live", "conns-live",
};

const char *cn_conf_counter_name(int i)
{
	return i >= 0 && i < CN_CONF_C_MAX ? counter_names[i] : "?";
}

int cn_conf_derive(const uint8_t ks[32], uint8_t psk[CN_CONF_PSK_LEN],
		   uint8_t ident[CN_CONF_IDENT_LEN])
{
	if (sodium_init() < 0)
		return -1;
	if (crypto_kdf_derive_from_key(psk, CN_CONF_PSK_LEN, CN_CONF_KDF_PSK, CN_CONF_KDF_CTX,
				       ks) < 0 ||
	    crypto_kdf_derive_from_key(ident, CN_CONF_IDENT_LEN, CN_CONF_KDF_IDENT,
				       CN_CONF_KDF_CTX, ks) < 0)
		return -1;
	return 0;
}

void cn_conf_encode(const struct cn_conf_msg *m, uint8_t out[CN_CONF_MSG_LEN])
{
	memset(out, 0, CN_CONF_MSG_LEN);
	out[0] = 'C';
	out[1] = 'R';
	out[2] = CN_CONF_VERSION;
	out[3] = m->type;
	out[4] = m->family;
	be_put16(out + 6, m->port);
	be_put16(out + 8, m->id);
	be_put64(out + 12, (uint64_t)m->expires);
	memcpy(out + 20, m->client, m->family == AF_INET ? 4 : 16);
	memcpy(out + 36, m->service, m->family == AF_INET ? 4 : 16);
	memcpy(out + 52, m->ident, CN_CONF_IDENT_LEN);
	memcpy(out + 68, m->psk, CN_CONF_PSK_LEN);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

int cn_conf_decode(struct cn_conf_msg *m, const uint8_t *buf, size_t len, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(m, 0, sizeof(*m));
	if (len != CN_CONF_MSG_LEN)
		return fail(why, "wrong size (a key message is 104 bytes)");
	if (buf[0] != 'C' || buf[1] != 'R')
		return fail(why, "bad magic");
	if (buf[2] != CN_CONF_VERSION)
		return fail(why, "unknown version");
	if (buf[3] < CN_CONF_SET || buf[3] > CN_CONF_TYPE_MAX)
		return fail(why, "unknown type");
	if (buf[5] || be_get16(buf + 10) || !all_zero(buf + 100, 4))
		return fail(why, "reserved bytes set");
	m->type = buf[3];
	m->family = buf[4];
	if (m->type == CN_CONF_SET || m->type == CN_CONF_DEL) {
		size_t alen = m->family == AF_INET ? 4 : 16;
		if (m->family != AF_INET && m->family != AF_INET6)
			return fail(why, "unknown address family");
		if (!all_zero(buf + 20 + alen, 16 - alen) || !all_zero(buf + 36 + alen, 16 - alen))
			return fail(why, "address bytes beyond the family's length");
		if (be_get16(buf + 6) == 0)
			return fail(why, "port 0");
		if (m->type == CN_CONF_DEL && !all_zero(buf + 52, 48))
			return fail(why, "a DEL carries no key");
	} else if (!all_zero(buf + 4, 96)) {
		return fail(why, "a SYNC or STATS message carries no fields");
	}
	m->port = be_get16(buf + 6);
	m->id = be_get16(buf + 8);
	m->expires = (int64_t)be_get64(buf + 12);
	memcpy(m->client, buf + 20, 16);
	memcpy(m->service, buf + 36, 16);
	memcpy(m->ident, buf + 52, CN_CONF_IDENT_LEN);
	memcpy(m->psk, buf + 68, CN_CONF_PSK_LEN);
	return 0;
}

void cn_conf_stats_encode(const struct cn_conf_stats *s, uint8_t out[CN_CONF_STATS_LEN])
{
	memset(out, 0, CN_CONF_STATS_LEN);
	out[0] = 'C';
	out[1] = 'S';
	out[2] = CN_CONF_VERSION;
	out[3] = CN_CONF_C_MAX;
	for (int i = 0; i < CN_CONF_C_MAX; i++)
		be_put64(out + 8 + 8 * i, s->c[i]);
}

int cn_conf_stats_decode(struct cn_conf_stats *s, const uint8_t *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	if (len != CN_CONF_STATS_LEN || buf[0] != 'C' || buf[1] != 'S' ||
	    buf[2] != CN_CONF_VERSION || buf[3] != CN_CONF_C_MAX)
		return -1;
	for (int i = 0; i < CN_CONF_C_MAX; i++)
		s->c[i] = be_get64(buf + 8 + 8 * i);
	return 0;
}
