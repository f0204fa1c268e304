/* SPDX-License-Identifier: MIT */
/*
 * coopnet-relay: the TLS relays of confidential services (docs/relay.md). On the SS it takes
 * the clients' connections through nft tproxy and opens a TLS 1.3 connection to the same
 * service address from the client's address (IP_TRANSPARENT), keyed with the session's PSK;
 * on the SP it terminates that TLS connection (tproxy after the switch's DNAT) and connects
 * to the service on the vNIC. Keys come from coopnet-authd's engine (confkey.h).
 */
#ifndef COOPNET_RELAY_H
#define COOPNET_RELAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "confkey.h"

#define RELAY_MAX_KEYS 65536
#define RELAY_MAX_CONNS 1024
#define RELAY_MAX_KEY_CLIENTS 8
#define RELAY_PREV_GRACE_S 60      /* a replaced key still accepted (SP) for new handshakes */
#define RELAY_KEY_WAIT_MS 2000     /* SS: wait this long for the key of a new session */

enum relay_role { RELAY_SS, RELAY_SP };

struct relay_tuple {                /* a session: client, service address, port */
	uint8_t family;
	uint8_t client[16];
	uint8_t service[16];
	uint16_t port;
};

struct relay_key {
	struct relay_tuple t;
	uint16_t id;
	int64_t expires;
	int64_t prev_until;         /* 0: the session's current key; else replaced, usable until */
	bool stale;                 /* during a sync: not yet SET again */
	uint8_t ident[CN_CONF_IDENT_LEN];
	uint8_t psk[CN_CONF_PSK_LEN];
};

struct relay_conn {
	struct relay_conn *next;
	struct relay_tuple t;
	bool has_tuple;             /* SP: set once the handshake found the key */
	int fd_plain, fd_tls;
};

struct relay {
	enum relay_role role;
	uint32_t mark;              /* SO_MARK of the SP's onward connections (0: none) */
	pthread_mutex_t lock;       /* keys, conns, counters */
	struct relay_key *keys;
	size_t n_keys;
	struct relay_conn *conns;
	size_t n_conns;
	struct cn_conf_stats st;
	void *ssl_ctx;              /* SSL_CTX * */
};

/* keys.c: the key table and the connection registry (call with r->lock held unless said) */
int relay_keys_init(struct relay *r);
void relay_keys_free(struct relay *r);
/* Apply one decoded key message (takes the lock). */
void relay_apply(struct relay *r, const struct cn_conf_msg *m, int64_t now);
/* Copy of the current key of a session (SS), or of the key with this identity whose session
 * is t (SP; a replaced key within its grace). true when found. Take the lock. */
bool relay_key_for_tuple(struct relay *r, const struct relay_tuple *t, struct relay_key *out,
			 int64_t now);
bool relay_key_for_ident(struct relay *r, const uint8_t *ident, size_t len,
			 const struct relay_tuple *t, struct relay_key *out, int64_t now);
bool relay_tuple_eq(const struct relay_tuple *a, const struct relay_tuple *b);
/* Registry (take the lock): add fails (-1) when RELAY_MAX_CONNS are open. */
int relay_conn_add(struct relay *r, struct relay_conn *c);
void relay_conn_del(struct relay *r, struct relay_conn *c);
void relay_count(struct relay *r, enum cn_conf_counter c);
void relay_stats(struct relay *r, struct cn_conf_stats *out);

/* tls.c */
int relay_tls_init(struct relay *r);
void relay_tls_free(struct relay *r);
/* Handle one accepted connection in a detached thread; fd is closed in any case. */
void relay_spawn(struct relay *r, int fd);

#endif
