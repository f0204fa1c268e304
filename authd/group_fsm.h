/* SPDX-License-Identifier: MIT */
/*
 * A header SP's view of the members of its group (issue 10; docs/protocol.md "The group
 * application", state machine): pure code, time passed in (the engine's injected clock).
 *
 * Input, in this order, each refusal counted and answered with nothing: payload decoder
 * (bad-payload), the sender's name among the members with a public key (unknown-sender; a
 * name a reload removed: removed), the Ed25519 signature (bad-signature), the timestamp
 * within window_ms of ours (stale), the sequence number above the last accepted one of that
 * member unless the message is a join (a restarted member: replay), the persistent replay
 * cache (replay; it survives our restarts), then the message applies:
 *
 *   UNKNOWN/DOWN --join|heartbeat--> UP        (load, services down, seen = now)
 *   UP           --join|heartbeat--> UP
 *   any          --leave-----------> DOWN      (at once)
 *   UP           --no accepted message for miss_limit x its interval--> DOWN
 *
 * The view (struct member_view, authd/group_view.h) is what the balancer reads.
 */
#ifndef COOPNET_AUTHD_GROUP_FSM_H
#define COOPNET_AUTHD_GROUP_FSM_H

#include "authcrypto.h"
#include "group.h"
#include "group_view.h"
#include "policy.h"

enum group_ev {
	GROUP_EV_ACCEPTED = 0,    /* a message applied */
	GROUP_EV_JOIN,            /* ... of which joins */
	GROUP_EV_LEAVE,           /* ... and leaves */
	GROUP_EV_UP,              /* a member became UP */
	GROUP_EV_DOWN,            /* a member became DOWN by missed heartbeats */
	GROUP_EV_BAD_PAYLOAD,     /* refused: the group payload does not decode */
	GROUP_EV_UNKNOWN_SENDER,  /* refused: no member of that name with a public key */
	GROUP_EV_REMOVED,         /* refused: a member a reload removed from the policy */
	GROUP_EV_BAD_SIGNATURE,   /* refused: the signature does not verify */
	GROUP_EV_STALE,           /* refused: timestamp outside the window */
	GROUP_EV_REPLAY,          /* refused: seq not above the last, or digest already seen */
	GROUP_EV_INTERNAL,        /* refused: the replay cache could not record it */
	GROUP_EV_NOT_HEADER,      /* refused: we are no header (no group to keep) */
	GROUP_EV_SENT,            /* member side: datagrams sent */
	GROUP_EV_SEND_ERROR,      /* member side: a send failed */
	GROUP_EV_MAX,
};
const char *group_ev_name(enum group_ev ev);

#define GROUP_MAX_REMOVED 64

struct group_member_state {
	uint64_t last_seq;
	uint32_t interval_ms;    /* the member's, from its last accepted message */
	uint64_t last_ts;        /* its timestamp */
	struct cn_group_msg last; /* its last accepted message (services, after a reload) */
	uint64_t changed_ms;     /* now_ms of the last change of state, 0: never */
};

struct group_rx {
	size_t n;                              /* = pol->n_group at the last group_rx_rebuild */
	struct member_view *view;              /* n entries; what e->members points at */
	struct group_member_state *st;         /* n entries */
	char (*names)[CN_COOP_NAME_LEN];       /* n entries: the names this view was built for */
	uint8_t (*keys)[CN_GROUP_PK_LEN];
	char removed[GROUP_MAX_REMOVED][CN_COOP_NAME_LEN]; /* names reloads removed, oldest out */
	size_t n_removed, next_removed;
	uint32_t miss_limit, window_ms;
	struct cn_replay replay;               /* the persistent cache (engine), tests: memory */
	uint64_t counters[GROUP_EV_MAX];
};

/* Build (or rebuild, after a policy load) for pol's group: a member whose name and public
 * key did not change keeps its state; a name that is gone joins the removed list. 0, or -1
 * (out of memory: rx unchanged). */
int group_rx_rebuild(struct group_rx *rx, const struct policy *pol, const struct cn_replay *r);
void group_rx_free(struct group_rx *rx);   /* NULL-safe; rx itself is the caller's */

/* One decoded datagram of the group application (raw[len] its bytes). Returns the event:
 * GROUP_EV_ACCEPTED or the refusal (counted either way). */
enum group_ev group_rx_input(struct group_rx *rx, const struct policy *pol, const uint8_t *raw,
			     size_t len, const struct cn_coop_msg *m, uint64_t now_ms,
			     uint64_t wall_ms);
/* Members whose heartbeats stopped become DOWN; when the next one is due (UINT64_MAX).
 * group_rx_expire: the same for member i alone, true when it became DOWN now. */
void group_rx_tick(struct group_rx *rx, uint64_t now_ms);
bool group_rx_expire(struct group_rx *rx, size_t i, uint64_t now_ms);
uint64_t group_rx_deadline(const struct group_rx *rx);
/* Index of a member in the view, -1. */
int group_rx_find(const struct group_rx *rx, const char *name);
const char *member_state_name(enum member_state s);

#endif
