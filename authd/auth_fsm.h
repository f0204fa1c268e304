/* SPDX-License-Identifier: MIT */
/*
 * The Authentication state machines (paper 2.3.1, docs/protocol.md): pure code for an event
 * loop. They never read a clock, open a socket or sleep:
 *   - time comes from the injected clock (ops->now_ms monotonic for timers, ops->wall_ms
 *     realtime for the timestamps on the wire);
 *   - datagrams go out through ops->send, results through ops->done / ops->commit, notable
 *     events (wrong passcode, replay, rate limit, ...) through ops->event;
 *   - the caller feeds received datagrams to *_input() and calls *_tick() when
 *     *_next_deadline() has passed (UINT64_MAX: nothing to wait for).
 *
 *   SS (supervisor)             header SP                    owning SP (provider)
 *   auth_ss_start ---Auth-REQ--> auth_header_input --fwd+mac--> auth_sp_input
 *                 <----------------------- Auth-REP&REQ ------------- (ID issued, pending)
 *   (done: OK) -------------------------- Auth-REP --------------> (commit session)
 *                 <----------------------- Auth-RST ----------------- (on any refusal)
 *
 * Every receiving state has a time limit; lost packets are retransmitted with exponential
 * backoff up to a cap; duplicates are answered idempotently (same bytes again).
 */
#ifndef COOPNET_AUTH_FSM_H
#define COOPNET_AUTH_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authcrypto.h"
#include "coop.h"
#include "id.h"

/* What the state machines report through ops->event (for logs and counters). */
enum auth_event_kind {
	AUTH_EV_DECODE_ERROR,   /* a datagram the decoder refused (detail: cn_coop_err_name) */
	AUTH_EV_UNEXPECTED,     /* a valid message of a kind this role does not take */
	AUTH_EV_BAD_PROOF,      /* a proof that did not verify (wrong passcode, forgery) */
	AUTH_EV_BAD_MAC,        /* a group MAC that did not verify, or forwarding without one */
	AUTH_EV_UNKNOWN_CLIENT, /* no entry for (service, client), or address not allowed */
	AUTH_EV_UNKNOWN_SERVICE,
	AUTH_EV_STALE,          /* timestamp outside the window */
	AUTH_EV_REPLAY,         /* a digest already in the replay cache: dropped silently */
	AUTH_EV_RATE_LIMITED,   /* a REQ refused because its source ran out of tokens */
	AUTH_EV_NO_EXCHANGE,    /* a reply that matches no exchange (late, or forged) */
	AUTH_EV_RETRANSMIT,     /* a datagram sent again after a time-out */
	AUTH_EV_DUPLICATE,      /* a duplicate answered with the same bytes */
	AUTH_EV_TIMEOUT,        /* an exchange gave up */
	AUTH_EV_RST,            /* an Auth-RST sent (SP, header) or received (SS) */
	AUTH_EV_FORWARDED,      /* header: a REQ forwarded to the owning SP */
	AUTH_EV_NO_ID,
	AUTH_EV_SEND_FAILED,
	AUTH_EV_REVOKE_SENT,    /* a revocation sent (or resent: AUTH_EV_RETRANSMIT) */
	AUTH_EV_REVOKED,        /* a revocation received and applied (acknowledged) */
	AUTH_EV_REVOKE_ACKED,   /* our revocation was acknowledged */
	AUTH_EV_OVERLOADED,     /* SP: a valid REQ refused with Auth-RST internal because no
	                           exchange slot was free or its replay digest could not be
	                           recorded (detail says which) */
	AUTH_EV_HEADER_NEXT,    /* SS: a REQ retransmitted through the next header */
	AUTH_EV_NO_SP_UP,       /* header: a REQ refused, every SP hosting the service down */
	AUTH_EV_RELEASED,       /* SS: a second SP's Auth-REP&REQ for an exchange another SP
	                           answered first, released with Auth-RST released; SP: its
	                           pending exchange released so (the ID leaves the data plane) */
	AUTH_EV_HEADER_KEPT,    /* SS: a REQ retransmitted through the same header, which led
	                           to an answer since the REQ went to it (alive, only slow) */
	AUTH_EV_KIND_MAX = AUTH_EV_HEADER_KEPT,
};
const char *auth_event_name(enum auth_event_kind kind);

struct auth_event {
	enum auth_event_kind kind;
	const struct cn_coop_addr *peer; /* the source (or destination) concerned, may be NULL */
	const char *service;             /* may be NULL */
	uint16_t error;                  /* enum cn_auth_error when one applies */
	const char *detail;              /* a short word or sentence, may be NULL */
};

/*
 * A datagram decoded once: by the daemon's entry (authd/engine_dispatch.c), or by the
 * *_input() wrappers below for callers that hold raw bytes. The state machines' *_handle()
 * functions take it and never decode again: they check proofs on raw, the bytes the proof
 * and the mac cover.
 */
struct auth_dgram {
	const struct cn_coop_msg *m;
	enum cn_coop_kind kind;
	const uint8_t *raw;
	size_t len;
	bool has_mac;   /* the message carries a mac (a forwarded REQ, SP-to-SP messages) */
	bool mac_ok;    /* ... and it verified with the group key given to auth_dgram_decode */
};
/* Decode buf[len] into *m and describe it in *d; gkey (may be NULL) checks a mac the
 * message carries. CN_COOP_OK, or the decoder's error (then *d is unspecified). */
enum cn_coop_err auth_dgram_decode(struct auth_dgram *d, struct cn_coop_msg *m,
    const uint8_t *buf, size_t len, const uint8_t *gkey);

/* Time limits and retries. Zero fields take the defaults (in brackets). */
struct auth_timing {
	uint32_t rto_ms;       /* first retransmission time-out [500] */
	uint32_t rto_max_ms;   /* backoff cap [4000] */
	uint32_t max_tries;    /* transmissions before giving up [5] */
	uint32_t window_ms;    /* accepted clock difference of timestamps [30000] */
	uint32_t linger_ms;    /* SS: keep a finished exchange to answer a duplicate
	                          Auth-REP&REQ (its Auth-REP was lost) and to take the SP's
	                          Auth-RST timeout [20000, at least twice the SP's give-up time] */
};
/* Fill zero fields with the defaults. */
void auth_timing_defaults(struct auth_timing *t);

/* How long an SP may hold its Auth-REP&REQ by design: its data-plane gate waits up to this
 * for the session to reach its data plane (authd/engine_gate.c, GATE_TIMEOUT_MS). An SS
 * whose header answers others gives an exchange this plus rto_ms before it asks again. */
#define AUTH_SP_HOLD_MS 1000
/* How long an SS may hold its Auth-REP by design: the same gate waits up to this for the
 * session to reach the SS's own data plane. */
#define AUTH_SS_HOLD_MS AUTH_SP_HOLD_MS
/* An SP's first time-out for Auth-REP comes this much after rto_ms: its Auth-REP&REQ may wait
 * in its own gate, then the Auth-REP in the SS's. Asked again sooner, the SS only answers a
 * duplicate with the same Auth-REP (under a burst of 2,000 clients that was 600 to 1,400
 * datagrams each way, docs/performance.md). */
#define AUTH_SP_FIRST_EXTRA_MS (AUTH_SP_HOLD_MS + AUTH_SS_HOLD_MS)

/* ------------------------------------------------------------------ SS (supervisor) */

struct auth_ss;

enum auth_result {
	AUTH_OK = 0,
	AUTH_FAIL_RST,     /* the SP (or header) sent Auth-RST: error says why */
	AUTH_FAIL_TIMEOUT, /* no answer after max_tries */
	AUTH_FAIL_CANCELLED,
};
const char *auth_result_name(enum auth_result r);

#define AUTH_SS_MAX_HEADERS 8
/* What the SS asks for: the LAN client it acts for and the service. */
struct auth_ss_request {
	struct cn_coop_addr client;           /* the client's address (port 0) */
	char client_name[CN_COOP_NAME_LEN];   /* the name the SP knows the client by */
	char service[CN_COOP_SERVICE_LEN];
	uint8_t key[CN_KEY_LEN];              /* K_c for (service, client_name) */
	struct cn_coop_addr header;           /* the header SP (or the owning SP directly) */
	/* Plural headers (docs/groups.md): n_headers > 0 replaces header. The exchange starts
	 * at the header that answered last (auth_ss keeps it); a retransmission goes to the
	 * same header when it led to an answer since the REQ last went to it, else to the next
	 * one, round, so a dead header costs one RTO. */
	struct cn_coop_addr headers[AUTH_SS_MAX_HEADERS];
	size_t n_headers;
	/* A failover: an SP of the group is known dead, so a missing answer most likely means
	 * the header chose it: the first time-out is one RTO, without AUTH_SP_HOLD_MS. */
	bool failover;
};

struct auth_ss_outcome {
	uint64_t handle;
	enum auth_result result;
	uint16_t error;                       /* enum cn_auth_error when AUTH_FAIL_RST */
	bool rst_authenticated;               /* the RST carried a valid proof from the SP */
	cn_id_t id;                           /* AUTH_OK: the ID to write into the segments */
	struct cn_coop_addr sp;               /* AUTH_OK: the SP that hosts the service */
	struct cn_coop_addr client;
	char client_name[CN_COOP_NAME_LEN];
	char service[CN_COOP_SERVICE_LEN];
	uint8_t session_key[CN_KEY_LEN];      /* AUTH_OK: K_s */
	struct cn_coop_sender vnic;           /* AUTH_OK: info_vNIC sent by the SP (may be empty) */
};

struct auth_ss_ops {
	void *ctx;
	uint64_t (*now_ms)(void *ctx);   /* monotonic */
	uint64_t (*wall_ms)(void *ctx);  /* realtime, for timestamps */
	/* Send one datagram; 0 or -1 (a failed send is retried like a loss). */
	int (*send)(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
	/* An exchange ended (success or failure). Called once per handle. */
	void (*done)(void *ctx, const struct auth_ss_outcome *o);
	void (*event)(void *ctx, const struct auth_event *ev); /* may be NULL */
	/* May be NULL. An exchange done() reported as AUTH_OK was never committed by the SP:
	 * every Auth-REP was lost and the SP gave up, telling so with an Auth-RST timeout that
	 * carries a valid proof and both nonces. o: result AUTH_FAIL_RST, error
	 * CN_AUTHERR_TIMEOUT, the handle, id, sp, client and service of that success. The
	 * caller revokes the session it stored. */
	void (*lost)(void *ctx, const struct auth_ss_outcome *o);
};

/* max_exchanges: exchanges in flight (and lingering) at once. NULL on allocation failure. */
struct auth_ss *auth_ss_new(const struct auth_ss_ops *ops, const struct auth_timing *timing,
    size_t max_exchanges);
void auth_ss_free(struct auth_ss *ss);

/* Start an exchange: sends Auth-REQ at once. 0 and *handle, or -1 with errno (EBUSY: an
 * exchange for the same (client, service) is in flight; ENOSPC: table full; EINVAL). */
int auth_ss_start(struct auth_ss *ss, const struct auth_ss_request *req, uint64_t *handle);
/* Feed a datagram received from `from`. Returns 0 when it belonged to an exchange, -1 when it
 * was dropped (an event says why). */
int auth_ss_input(struct auth_ss *ss, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len);
/* The same for a decoded datagram (Auth-REP&REQ, Auth-RST). */
int auth_ss_handle(struct auth_ss *ss, const struct cn_coop_addr *from,
    const struct auth_dgram *d);
void auth_ss_tick(struct auth_ss *ss);
uint64_t auth_ss_next_deadline(const struct auth_ss *ss);
/* Abandon an exchange; done() is called with AUTH_FAIL_CANCELLED. */
int auth_ss_cancel(struct auth_ss *ss, uint64_t handle);
/* Exchanges in flight (not counting lingering finished ones). */
size_t auth_ss_pending(const struct auth_ss *ss);
/* An exchange for (client, service) is in flight, or succeeded less than within_ms ago (and
 * still lingers): a session miss for it needs no new exchange (its session is on its way to
 * the data plane). O(1). */
bool auth_ss_recent(const struct auth_ss *ss, const struct cn_coop_addr *client,
    const char *service, uint32_t within_ms);

/* ------------------------------------------------------------------ header SP */

struct auth_header;

enum auth_header_action {
	AUTH_HDR_DROPPED = -1,  /* not a REQ, or undecodable: an event says why */
	AUTH_HDR_FORWARDED = 0, /* sent on to the owning SP with fwd + group MAC */
	AUTH_HDR_LOCAL = 1,     /* this host hosts the service: give buf to auth_sp_input */
	AUTH_HDR_REJECTED = 2,  /* Auth-RST unknown-service sent back */
};

struct auth_header_ops {
	void *ctx;
	uint64_t (*wall_ms)(void *ctx);
	int (*send)(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
	/* The SP of the group that hosts service: 0 and *sp filled; 1 when it is this host;
	 * -1 when no SP of the group hosts it; -2 when every SP that hosts it is down.
	 * nonce_ss: the REQ's, the same in a retransmission (the balancer then avoids the SP
	 * that did not answer). */
	int (*route)(void *ctx, const char *service, const uint8_t nonce_ss[CN_COOP_NONCE_LEN],
		     struct cn_coop_addr *sp);
	void (*event)(void *ctx, const struct auth_event *ev); /* may be NULL */
};

struct auth_header *auth_header_new(const struct auth_header_ops *ops,
    const struct auth_timing *timing, const uint8_t group_key[CN_KEY_LEN]);
void auth_header_free(struct auth_header *h);
enum auth_header_action auth_header_input(struct auth_header *h, const struct cn_coop_addr *from,
    const uint8_t *buf, size_t len);
/* The same for a decoded datagram (an Auth-REQ straight from an SS). */
enum auth_header_action auth_header_handle(struct auth_header *h,
    const struct cn_coop_addr *from, const struct auth_dgram *d);

/* ------------------------------------------------------------------ SP (provider) */

struct auth_sp;

/* What the SP knows of (service, client name), from its profiled status database. */
struct auth_sp_entry {
	uint8_t key[CN_KEY_LEN];          /* K_c */
	struct cn_coop_sender vnic;       /* info_vNIC sent back in Auth-REP&REQ (may be empty) */
	uint8_t vnic_status;              /* enum cn_vnic_status */
};

/* A session the SP commits on Auth-REP. */
struct auth_sp_session {
	cn_id_t id;
	struct cn_coop_addr client;       /* bound: the data plane accepts the ID from here only */
	char client_name[CN_COOP_NAME_LEN];
	char service[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr ss;           /* the SS that authenticated */
	uint8_t session_key[CN_KEY_LEN];
	struct cn_coop_sender vnic;
	uint64_t prepared;                /* commit: ops.prepare's tag (0: not prepared) */
};

struct auth_sp_ops {
	void *ctx;
	uint64_t (*now_ms)(void *ctx);
	uint64_t (*wall_ms)(void *ctx);
	int (*send)(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
	/* Look up (service, client name) and check the client address against its CLIENT LIST:
	 * 0 found; -1 the service is not hosted here; -2 the client is unknown or its address is
	 * not allowed. */
	int (*lookup)(void *ctx, const char *service, const char *client_name,
	    const struct cn_coop_addr *client, struct auth_sp_entry *out);
	/* true when id belongs to a live session (the SP adds its pending exchanges itself). */
	bool (*id_in_use)(void *ctx, cn_id_t id);
	/* Auth-REP received: register the session. 0, or -1 (the SS gets Auth-RST internal). */
	int (*commit)(void *ctx, const struct auth_sp_session *s);
	/* May be NULL. An exchange was accepted; its Auth-REP&REQ is sent right after. Non-zero:
	 * the session went to the data plane ahead of its commit (a first session for its key, or
	 * a renewal's new ID accepted ahead);
	 * the tag comes back in the committed session's `prepared`, and unprepare is called when
	 * the exchange ends without a commit. */
	uint64_t (*prepare)(void *ctx, const struct auth_sp_session *s);
	void (*unprepare)(void *ctx, const struct auth_sp_session *s);
	void (*event)(void *ctx, const struct auth_event *ev); /* may be NULL */
};

struct auth_sp_config {
	struct auth_timing timing;
	size_t max_pending;          /* exchanges waiting for Auth-REP [1024] */
	size_t rl_slots;             /* rate-limit table size [4096] */
	unsigned rl_burst;           /* wrong proofs a source may make at once [5] */
	unsigned rl_per_min;         /* refilled per minute [10] */
	const uint8_t *group_key;    /* K_g, to check forwarded REQs; NULL: refuse forwarded */
	const struct cn_replay *replay; /* required */
};

struct auth_sp *auth_sp_new(const struct auth_sp_ops *ops, const struct auth_sp_config *cfg);
void auth_sp_free(struct auth_sp *sp);
/* Feed Auth-REQ (direct or forwarded) and Auth-REP. 0 handled, -1 dropped (event says why). */
int auth_sp_input(struct auth_sp *sp, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len);
/* The same for a decoded datagram. A forwarded REQ is taken only when d->mac_ok (the caller
 * checked the mac with the group key; auth_sp_input does it with cfg->group_key). */
int auth_sp_handle(struct auth_sp *sp, const struct cn_coop_addr *from,
    const struct auth_dgram *d);
void auth_sp_tick(struct auth_sp *sp);
uint64_t auth_sp_next_deadline(const struct auth_sp *sp);
size_t auth_sp_pending(const struct auth_sp *sp);
/* true when id is held by a pending exchange (the daemon's id_in_use need not know). */
bool auth_sp_id_pending(const struct auth_sp *sp, cn_id_t id);
/* The replay digest of this REQ did not become durable (the daemon's transaction rolled
 * back, and the Auth-REP&REQ was never sent): forget its exchange, so a retransmitted REQ is
 * judged afresh (replay cache, proof) instead of answered from memory. */
void auth_sp_forget(struct auth_sp *sp, const uint8_t digest[CN_DIGEST_LEN]);

/* ------------------------------------------------------------------ revocation (SS <-> SP) */

/*
 * One side tells the other that a session is gone (docs/protocol.md, "Revocation"):
 *
 *   revoker                                           peer
 *   auth_rv_send ---- Auth-RST revoked (ID, service, nonce_ss, proof K_s) ---->  keys():
 *                                                     the K_s of its sessions (ID, service);
 *                                                     the one the proof verifies: revoked()
 *   (result: acked) <--- Auth-REP&RST (echo ID, service, nonce_ss; proof K_s) --
 *
 * The revoker resends the same bytes with backoff until acknowledged or max_tries, then
 * reports result(acked = false). The peer checks the timestamp window and the replay cache
 * (a digest it has accepted is never accepted again), answers a retransmission (same bytes)
 * with the same acknowledgement, and, when both sides revoke the same session at once, takes
 * the other side's revocation as the acknowledgement of its own.
 *
 * K_s (cn_auth_session_key, from K_c and the exchange's nonces and ID) is known to exactly
 * the two ends of one session: a revocation can name no other session, even one that later
 * gets the same ID.
 */
struct auth_rv;

struct auth_rv_ops {
	void *ctx;
	uint64_t (*now_ms)(void *ctx);
	uint64_t (*wall_ms)(void *ctx);
	int (*send)(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
	/* The session keys of the live sessions with this ID and service (at most max, into
	 * keys); returns how many. from: the sender (a hint; the proof decides). */
	size_t (*keys)(void *ctx, cn_id_t id, const char *service, const struct cn_coop_addr *from,
	    uint8_t (*keys)[CN_KEY_LEN], size_t max);
	/* A revocation whose proof verified with key: remove that session now. */
	void (*revoked)(void *ctx, cn_id_t id, const char *service, const uint8_t key[CN_KEY_LEN],
	    const struct cn_coop_addr *from);
	/* May be NULL. Our revocation was acknowledged (acked), or given up after max_tries. */
	void (*result)(void *ctx, cn_id_t id, const char *service, const struct cn_coop_addr *to,
	    bool acked);
	void (*event)(void *ctx, const struct auth_event *ev); /* may be NULL */
};

struct auth_rv_config {
	struct auth_timing timing;    /* rto, backoff, max_tries, window; linger_ms: how long an
	                                 acknowledgement is kept for retransmissions */
	enum cn_proof_dir dir;        /* what we send: CN_DIR_SP_TO_SS on an SP, else SS_TO_SP */
	size_t max_pending;           /* revocations in flight [256] */
	const struct cn_replay *replay; /* required */
};

struct auth_rv *auth_rv_new(const struct auth_rv_ops *ops, const struct auth_rv_config *cfg);
void auth_rv_free(struct auth_rv *rv);
/* Tell `to` that the session (id, service) with key K_s is gone: sends Auth-RST revoked at
 * once. 0, or -1 with errno (ENOSPC: too many in flight; EINVAL). A revocation already in
 * flight for the same (to, id, service) is not sent twice (0). */
int auth_rv_send(struct auth_rv *rv, const struct cn_coop_addr *to, cn_id_t id,
    const char *service, const uint8_t key[CN_KEY_LEN]);
/* Feed an Auth-RST revoked or an Auth-REP&RST. 0 handled, -1 dropped (an event says why). */
int auth_rv_input(struct auth_rv *rv, const struct cn_coop_addr *from, const uint8_t *buf,
    size_t len);
/* The same for a decoded datagram. */
int auth_rv_handle(struct auth_rv *rv, const struct cn_coop_addr *from,
    const struct auth_dgram *d);
void auth_rv_tick(struct auth_rv *rv);
uint64_t auth_rv_next_deadline(const struct auth_rv *rv);
size_t auth_rv_pending(const struct auth_rv *rv);
/* The same for a received revocation: forget its answer (never sent), so a retransmission
 * is applied afresh instead of acknowledged from memory. */
void auth_rv_forget(struct auth_rv *rv, const uint8_t digest[CN_DIGEST_LEN]);
/* true for the two kinds auth_rv_input takes (decoded m). */
bool auth_rv_wants(const struct cn_coop_msg *m);

#endif
