/* SPDX-License-Identifier: MIT */
/*
 * The status application's state machine (docs/protocol.md "State machine"): pure code for
 * an event loop, in the style of auth_fsm.h. It never reads a clock, opens a socket or
 * sleeps: time comes from ops->now_ms (monotonic, timers) and ops->wall_ms (timestamps on
 * the wire), datagrams go out through ops->send, the local side's figures come from
 * ops->fill, accepted reports go to ops->store, reachability changes to ops->reachability.
 *
 * One machine per daemon role: an SS (STATUS_SS) sends info_client and takes info_vNIC, an
 * SP (STATUS_SP) the reverse. Each session it is given (ID, service, peer, K_s) gets:
 *   - a Status-REQ at once (a report that asks the peer for its own), then a Status-REP
 *     every interval (Status-REQ instead while the peer is unreachable: a probe);
 *   - a Status-REP with the change flag at once on status_changed();
 *   - "unreachable" after miss_limit of the peer's intervals without a valid report;
 *     "reachable" again at the next valid one.
 * Input is refused, counted and never answered unless its proof verifies with the K_s of a
 * session with that ID and service, its timestamp is inside the window and its (epoch, seq)
 * passes the receive window (lib/status.h).
 */
#ifndef COOPNET_AUTHD_STATUS_FSM_H
#define COOPNET_AUTHD_STATUS_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authcrypto.h"
#include "coop.h"
#include "status.h"

/* Timers. Zero fields take the defaults (in brackets). */
struct status_timing {
	uint32_t interval_ms; /* own report interval [1000] */
	uint32_t miss_limit;  /* peer intervals without a valid report before unreachable [2] */
	uint32_t window_ms;   /* accepted clock difference of timestamps [30000] */
	uint32_t max_reports_per_s; /* periodic reports of all sessions together [20000]: beyond,
	                               each session's interval is stretched (report_interval) */
};
void status_timing_defaults(struct status_timing *t);

/* Each session's receive budget: of its peer's accepted reports, STATUS_RX_BURST at once, then
 * STATUS_RX_PER_INTERVAL per interval the peer's reports announce go to ops->store (and a
 * REQ among them is answered); past it a report still counts for reachability and the
 * timers, and is counted (STATUS_EV_OVER_BUDGET). What an honest peer sends stays within it;
 * a peer that floods (it holds the session key: a compromised or broken one) costs at most
 * twice the database writes of honest reports at the interval it announces (at most 20 a
 * second per session: CN_STATUS_INTERVAL_MIN_MS), and one session's flood takes nothing
 * from another's. */
#define STATUS_RX_BURST 4
#define STATUS_RX_PER_INTERVAL 2

enum status_role { STATUS_SS = 1, STATUS_SP = 2 };

enum status_event_kind {
	STATUS_EV_SENT = 0,      /* a periodic report */
	STATUS_EV_CHANGE_SENT,   /* a report sent at once on a change */
	STATUS_EV_PROBE_SENT,    /* a Status-REQ (session start, peer unreachable) */
	STATUS_EV_ANSWERED,      /* a Status-REP sent in answer to a Status-REQ */
	STATUS_EV_RECEIVED,      /* a report accepted */
	STATUS_EV_DECODE_ERROR,  /* the datagram decoder refused it */
	STATUS_EV_BAD_PAYLOAD,   /* the status rules refused it (or the wrong kind for the role) */
	STATUS_EV_NO_SESSION,    /* no session with that ID and service */
	STATUS_EV_BAD_PROOF,     /* no session's key verifies the proof */
	STATUS_EV_STALE,         /* timestamp outside the window */
	STATUS_EV_REPLAY,        /* (epoch, seq) accepted before */
	STATUS_EV_TOO_OLD,       /* seq below the receive window */
	STATUS_EV_OLD_EPOCH,     /* another epoch, not newer than the last accepted report */
	STATUS_EV_PEER_RESTART,  /* a new epoch accepted after an earlier one */
	STATUS_EV_UNREACHABLE,
	STATUS_EV_REACHABLE,     /* a valid report after unreachable */
	STATUS_EV_SEND_FAILED,
	STATUS_EV_OVER_BUDGET,   /* accepted past its session's receive budget: not stored, not
	                            answered */
	STATUS_EV_KIND_MAX = STATUS_EV_OVER_BUDGET,
};
const char *status_event_name(enum status_event_kind k); /* "sent", "bad-proof", ... */

/* A session as the machine knows it. */
struct status_session {
	cn_id_t id;
	char service[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr peer;        /* where reports go: the SP (on an SS) or the SS */
	uint8_t key[CN_KEY_LEN];         /* K_s */
	struct cn_coop_sender sender;    /* our sender data (kind set by the machine): SS: the
	                                    client's address and name; SP: the vNIC's address,
	                                    service port and name */
};

struct status_ops {
	void *ctx;
	uint64_t (*now_ms)(void *ctx);   /* monotonic */
	uint64_t (*wall_ms)(void *ctx);  /* realtime */
	int (*send)(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
	/* Fill b->u.client (SS) or b->u.vnic (SP) with the local figures of s. */
	void (*fill)(void *ctx, const struct status_session *s, struct cn_status_body *b);
	/* An accepted report of s's peer; m is the datagram (sender data, timestamp). */
	void (*store)(void *ctx, const struct status_session *s, const struct cn_coop_msg *m,
	    const struct cn_status_body *b);
	/* s's peer became unreachable (false) or reachable again (true). May be NULL. */
	void (*reachability)(void *ctx, const struct status_session *s, bool reachable);
	/* For logs. May be NULL. */
	void (*event)(void *ctx, enum status_event_kind k, const struct cn_coop_addr *peer,
	    const char *detail);
};

struct status_fsm;

/* A machine for up to max_sessions sessions (1 .. 2^32 - 2): its slots are allocated in
 * chunks of 1,024 as sessions come, and never move. NULL on allocation failure or a bad
 * argument. The callbacks fill, send and event must not add or remove sessions; store and
 * reachability may. */
struct status_fsm *status_new(const struct status_ops *ops, const struct status_timing *t,
    enum status_role role, size_t max_sessions);
void status_free(struct status_fsm *f); /* NULL-safe */

/* Start reporting for s (sends a Status-REQ at once). 0, or -1 with errno: EEXIST (same ID,
 * service and peer), ENOSPC (max_sessions live), ENOMEM (no memory to grow the slots),
 * EINVAL (ID 0, bad service). */
int status_add(struct status_fsm *f, const struct status_session *s);
/* s renews the session of ID old_id (same service and peer) while that one is reachable: s
 * takes its place and its report schedule, without a Status-REQ at once (the peer answered
 * within miss_limit intervals, and its own Status-REQ for the new ID is answered at once).
 * A new epoch and sequence, and the peer's reports are checked anew (s has a new key).
 * 0, or -1 with errno ENOENT (no such session, or unreachable: status_remove it and
 * status_add s), EEXIST (s's ID, service and peer have a session), EINVAL (ID 0, bad
 * service). */
int status_renew(struct status_fsm *f, cn_id_t old_id, const struct status_session *s);
/* Stop. 0, or -1 (ENOENT). */
int status_remove(struct status_fsm *f, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer);
/* Something the reports carry changed: send a report of every session of service (NULL: of
 * every session), flagged as a change. A tenth of a second's worth of max_reports_per_s goes
 * at once; the rest follow at that rate (each at its slot, or with its periodic report if
 * that is due sooner). Returns the number of reports sent at once. */
size_t status_changed(struct status_fsm *f, const char *service);

/* Feed a datagram. 0 when accepted, -1 when refused (counted, an event says why). */
int status_input(struct status_fsm *f, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len);
/* The same for a datagram the caller decoded already (the engine's dispatch decodes once):
 * m is buf[len] decoded; buf is what the proof covers. */
int status_input_msg(struct status_fsm *f, const struct cn_coop_addr *from,
    const struct cn_coop_msg *m, const uint8_t *buf, size_t len);
void status_tick(struct status_fsm *f);
uint64_t status_next_deadline(const struct status_fsm *f); /* UINT64_MAX: no session */

uint64_t status_counter(const struct status_fsm *f, enum status_event_kind k);
size_t status_count(const struct status_fsm *f);
/* The first session of ID id, or NULL (on an SP a live session's ID is unique). Valid until
 * a session is added or removed. */
const struct status_session *status_find_id(const struct status_fsm *f, cn_id_t id);
/* 1 reachable, 0 unreachable, -1 no such session. */
int status_reachable(const struct status_fsm *f, cn_id_t id, const char *service,
    const struct cn_coop_addr *peer);

#endif
