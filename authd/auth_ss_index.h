/* SPDX-License-Identifier: MIT */
/*
 * The SS's index of its exchange slots (authd/auth_ss.c), so that nothing is scanned per
 * datagram or per loop turn (issue 11 section 7):
 *   - the slots in use, a dense list in no order (ss_index_list), and the free ones, a stack;
 *   - two chained hash indexes over the slots in use: by nonce_ss (an answer finds its
 *     exchange) and by (client, service) (a start finds one in flight), each chain newest
 *     first. A chain holds candidates: the caller compares its own keys;
 *   - the earliest deadline of the slots in use, kept until ss_index_changed.
 * Slots are numbers 0..n-1 into the caller's array; the caller keeps the keys and passes
 * the same ones to ss_index_add and ss_index_del.
 */
#ifndef COOPNET_AUTH_SS_INDEX_H
#define COOPNET_AUTH_SS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coop.h"

#define SS_NIL UINT32_MAX

struct ss_index {
	uint32_t *act, *pos, *free, *nonce_next, *pair_next;
	uint32_t *nonce_head, *pair_head; /* buckets: a power of two, at least twice the slots */
	size_t n_act, n_free, mask;
	uint64_t next;                    /* the earliest deadline, when valid */
	bool valid;                       /* no slot changed since next was taken */
};

/* n slots (0 < n < SS_NIL / 2), all free. 0, or -1 (ENOMEM). */
int ss_index_init(struct ss_index *ix, size_t n);
void ss_index_free(struct ss_index *ix);

/* A free slot, off the stack (the lowest first at the start), or SS_NIL when none is. */
uint32_t ss_index_take(struct ss_index *ix);
/* A slot taken but never added goes back to the stack. */
void ss_index_untake(struct ss_index *ix, uint32_t slot);

/* A taken slot goes into use under its keys (nonce: CN_COOP_NONCE_LEN random bytes). */
void ss_index_add(struct ss_index *ix, uint32_t slot, const uint8_t *nonce,
    const struct cn_coop_addr *client, const char *service);
/* A slot in use goes back to the free stack (the keys it was added with). */
void ss_index_del(struct ss_index *ix, uint32_t slot, const uint8_t *nonce,
    const struct cn_coop_addr *client, const char *service);
bool ss_index_used(const struct ss_index *ix, uint32_t slot);

/* The slots in use: list[0..n) (the order changes on ss_index_del). */
static inline size_t ss_index_n(const struct ss_index *ix) { return ix->n_act; }
static inline const uint32_t *ss_index_list(const struct ss_index *ix) { return ix->act; }
static inline bool ss_index_full(const struct ss_index *ix) { return ix->n_free == 0; }

/* Chains of candidates: the first slot (SS_NIL: none), then the next after slot. */
uint32_t ss_index_by_nonce(const struct ss_index *ix, const uint8_t *nonce);
uint32_t ss_index_nonce_next(const struct ss_index *ix, uint32_t slot);
uint32_t ss_index_by_pair(const struct ss_index *ix, const struct cn_coop_addr *client,
    const char *service);
uint32_t ss_index_pair_next(const struct ss_index *ix, uint32_t slot);

/* A slot's deadline may have changed: the earliest is taken again when next asked for. */
static inline void ss_index_changed(struct ss_index *ix) { ix->valid = false; }
/* The earliest deadline(ctx, slot) of the slots in use (UINT64_MAX: none), taken again only
 * after a change. */
uint64_t ss_index_earliest(struct ss_index *ix, uint64_t (*deadline)(const void *ctx,
    uint32_t slot), const void *ctx);

#endif
