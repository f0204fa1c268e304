/* SPDX-License-Identifier: MIT */
/*
 * Confidential services (docs/security.md, "Confidential services"): the TLS 1.3 external
 * PSK of a session, derived from its session key K_s, and the fixed-size messages that carry
 * it from coopnet-authd's engine to coopnet-relay (docs/relay.md, "Key messages").
 * Pure: no I/O; libsodium only.
 */
#ifndef COOPNET_CONFKEY_H
#define COOPNET_CONFKEY_H

#include <stddef.h>
#include <stdint.h>

#define CN_CONF_PSK_LEN 32
#define CN_CONF_IDENT_LEN 16
#define CN_CONF_MSG_LEN 104
#define CN_CONF_STATS_LEN 104
#define CN_CONF_VERSION 1

/* crypto_kdf context and subkey ids: never change them (both ends must agree) */
#define CN_CONF_KDF_CTX "cnconf01"
#define CN_CONF_KDF_PSK 1
#define CN_CONF_KDF_IDENT 2

enum cn_conf_type {
	CN_CONF_SET = 1,        /* this session's key (replaces the one of the same session) */
	CN_CONF_DEL = 2,        /* forget the session's keys, close its connections */
	CN_CONF_SYNC_BEGIN = 3, /* the full list follows: every key is stale until SET again */
	CN_CONF_SYNC_END = 4,   /* drop the keys still stale, close their connections */
	CN_CONF_STATS = 5,      /* request; the answer is a struct cn_conf_stats frame */
	CN_CONF_TYPE_MAX = 5,
};

struct cn_conf_msg {
	uint8_t type;           /* enum cn_conf_type */
	uint8_t family;         /* AF_INET or AF_INET6 (SET, DEL) */
	uint16_t port;          /* the service's port, host order */
	uint16_t id;            /* the session's ID (log only) */
	int64_t expires;        /* Unix seconds, 0: none */
	uint8_t client[16];     /* 4 bytes used for AF_INET, the rest zero */
	uint8_t service[16];
	uint8_t ident[CN_CONF_IDENT_LEN];  /* TLS PSK identity (not secret) */
	uint8_t psk[CN_CONF_PSK_LEN];      /* the TLS external PSK (secret) */
};

enum cn_conf_counter {
	CN_CONF_C_ACCEPTED,      /* connections accepted by the relay */
	CN_CONF_C_HANDSHAKE_OK,
	CN_CONF_C_HANDSHAKE_FAILED,  /* wrong key, no key, not TLS */
	CN_CONF_C_NO_KEY,        /* no key for the connection's session (SS: not started) */
	CN_CONF_C_BACKEND_FAILED,    /* the onward connection failed */
	CN_CONF_C_CLOSED_REVOKED,    /* connections closed by DEL or a sync */
	CN_CONF_C_KEYS_SET,
	CN_CONF_C_KEYS_DELETED,
	CN_CONF_C_BAD_MSG,       /* key messages refused by the decoder */
	CN_CONF_C_KEYS_LIVE,     /* gauge */
	CN_CONF_C_CONNS_LIVE,    /* gauge */
	CN_CONF_C_MAX,
};

struct cn_conf_stats {
	uint64_t c[CN_CONF_C_MAX];
};

const char *cn_conf_counter_name(int i);

/* The PSK and identity of a session from its K_s (32 bytes). 0, or -1 (libsodium failed). */
int cn_conf_derive(const uint8_t ks[32], uint8_t psk[CN_CONF_PSK_LEN],
		   uint8_t ident[CN_CONF_IDENT_LEN]);

/* Encode into out (exactly CN_CONF_MSG_LEN bytes). */
void cn_conf_encode(const struct cn_conf_msg *m, uint8_t out[CN_CONF_MSG_LEN]);
/* Decode len bytes; 0, or -1 with a reason in *why (a static string). Checks the size, the
 * magic, the version, the type, the family, the reserved bytes and the unused address bytes. */
int cn_conf_decode(struct cn_conf_msg *m, const uint8_t *buf, size_t len, const char **why);

void cn_conf_stats_encode(const struct cn_conf_stats *s, uint8_t out[CN_CONF_STATS_LEN]);
int cn_conf_stats_decode(struct cn_conf_stats *s, const uint8_t *buf, size_t len);

#endif
