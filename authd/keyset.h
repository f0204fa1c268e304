/* SPDX-License-Identifier: MIT */
/*
 * A set of session keys (family, client, service, port): the sessions the parent has let the
 * engine add to the data plane, so that the engine can remove only those (authd/parent_msg.c).
 * Open addressing with linear probing and backward-shift deletion; at most KEYSET_MAX keys.
 */
#ifndef COOPNET_AUTHD_KEYSET_H
#define COOPNET_AUTHD_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session_key {
	uint8_t family;          /* AF_INET / AF_INET6; 0: free slot */
	uint8_t client[16];
	uint8_t service[16];
	uint16_t port;
};

struct keyset {
	struct session_key *slot;
	size_t cap, n;           /* cap: a power of two, or 0 */
};

/* 1 added, 0 already there, -1 out of memory or full (more than max keys). */
int keyset_add(struct keyset *s, const struct session_key *k, size_t max);
bool keyset_has(const struct keyset *s, const struct session_key *k);
/* 1 removed, 0 was not there. */
int keyset_del(struct keyset *s, const struct session_key *k);
void keyset_clear(struct keyset *s);   /* empty, memory kept */
void keyset_free(struct keyset *s);    /* NULL-safe */

#endif
