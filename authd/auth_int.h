/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by auth_ss.c, auth_header.c and auth_sp.c. */
#ifndef COOPNET_AUTH_INT_H
#define COOPNET_AUTH_INT_H

#include "auth_fsm.h"

#define AUTH_FSM_BUFLEN CN_COOP_MIN_LEN /* Authentication sends no developer part */

void auth_emit(void (*event)(void *, const struct auth_event *), void *ctx,
    enum auth_event_kind kind, const struct cn_coop_addr *peer, const char *service,
    uint16_t error, const char *detail);

/* Build an Auth-RST echoing the nonces and service of m; sealed with key (SP to SS) when key
 * is not NULL. 0 and *len, or -1. */
int auth_build_rst(uint8_t *buf, size_t size, size_t *len, const struct cn_coop_msg *m,
    uint16_t error, const uint8_t *key, uint64_t wall_ms);

/*
 * The budget of Auth-RSTs to input that did not prove itself, all sources together (a burst,
 * then a rate): a spoofer cannot make the SP or header bounce a stream 1:1 at the address it
 * claims. Zero-initialised = full.
 */
#define AUTH_UNAUTH_RST_BURST 20u
#define AUTH_UNAUTH_RST_PER_S 10u
struct auth_budget {
	uint64_t units;       /* 1000 a reply */
	uint64_t last_ms;
	bool started;
};
/* true: one reply may go now (taken from the budget). */
bool auth_budget_take(struct auth_budget *b, uint64_t now_ms);

/* The next retransmission time-out: doubled, capped. */
uint32_t auth_backoff(const struct auth_timing *t, uint32_t rto);

/* Placeholder for a tag the caller seals after encoding (the encoder refuses a zero proof
 * in kinds that need one). */
void auth_tag_placeholder(uint8_t tag[CN_COOP_TAG_LEN]);

#endif
