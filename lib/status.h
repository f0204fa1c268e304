/* SPDX-License-Identifier: MIT */
/*
 * The status application's payload (paper 2.2 B-D, 2.3.3; docs/protocol.md "The status
 * application"): info_client (SS -> SP, what the SS's data plane saw of one session) and
 * info_vNIC (SP -> SS, the state of the session's vNIC and service). Both travel in the
 * developer part of a cooperative datagram with the `status` cooperative flag (Status-REQ or
 * Status-REP), authenticated by the proof with the session key K_s.
 *
 * Pure code: no I/O, no allocation, no crypto. The decoder is strict (one error per reason,
 * reserved bits and bytes zero) and the encoder refuses what the decoder would reject, so
 * encode(decode(x)) == x. Also here: the receive window that refuses replays (an epoch of
 * 16 random bytes per sender instance in nonce_ss plus a 64-bit counter in the payload).
 */
#ifndef COOPNET_STATUS_H
#define COOPNET_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coop.h"

#define CN_STATUS_VERSION     1
#define CN_STATUS_HDR_LEN     16
#define CN_STATUS_CLIENT_LEN  (CN_STATUS_HDR_LEN + 56) /* 72 */
#define CN_STATUS_VNIC_LEN    (CN_STATUS_HDR_LEN + 32) /* 48 */
#define CN_STATUS_MAX_LEN     CN_STATUS_CLIENT_LEN

/* Body flags (byte 2). */
#define CN_STATUS_F_CHANGE    0x01u /* sent at once because something changed */
#define CN_STATUS_F_RESERVED  0xfeu

/* The sender's report interval (bytes 4-7) must lie in this range. */
#define CN_STATUS_INTERVAL_MIN_MS 100u
#define CN_STATUS_INTERVAL_MAX_MS 3600000u

/* Drop reasons of info_client, in wire order. */
enum cn_status_drop {
	CN_DROP_NO_ID = 0,    /* a segment of the session's flow without an ID */
	CN_DROP_WRONG_ID = 1, /* a segment with an ID that is not the session's */
	CN_DROP_EXPIRED = 2,  /* a segment after the session expired or was revoked */
	CN_DROP_OTHER = 3,    /* malformed, queue full, ... */
	CN_DROP_MAX = 4,
};
const char *cn_status_drop_name(enum cn_status_drop d);

enum cn_link { CN_LINK_UNKNOWN = 0, CN_LINK_UP = 1, CN_LINK_DOWN = 2, CN_LINK_MAX = 2 };
enum cn_health {
	CN_HEALTH_UNKNOWN = 0, /* checks configured, no verdict yet */
	CN_HEALTH_PASSING = 1,
	CN_HEALTH_FAILING = 2,
	CN_HEALTH_NONE = 3,    /* no check configured for this service */
	CN_HEALTH_MAX = 3,
};
enum cn_check { CN_CHECK_NONE = 0, CN_CHECK_TCP = 1, CN_CHECK_HTTP = 2, CN_CHECK_MAX = 2 };
const char *cn_link_name(unsigned v);
const char *cn_health_name(unsigned v);
const char *cn_check_name(unsigned v);

struct cn_status_client {
	uint64_t last_seen_ms; /* wall clock of the last segment seen, 0: none yet */
	uint64_t segs_c2s, bytes_c2s; /* client -> service */
	uint64_t segs_s2c, bytes_s2c; /* service -> client */
	uint32_t drops[CN_DROP_MAX];
};

#define CN_STATUS_CONNS_UNKNOWN UINT32_MAX
#define CN_STATUS_SINCE_UNKNOWN UINT32_MAX
struct cn_status_vnic {
	uint8_t link;          /* enum cn_link (the kernel's operstate) */
	uint8_t health;        /* enum cn_health */
	uint8_t check;         /* enum cn_check: the kind of the last check */
	uint16_t http_code;    /* last HTTP status (check http), 0: none */
	uint16_t weight;       /* capacity weight from the policy, 0: take no new sessions */
	uint32_t sessions;     /* live sessions of this service on this SP */
	uint32_t conns;        /* live connections, CN_STATUS_CONNS_UNKNOWN: not counted */
	uint64_t bytes_per_s;  /* both directions, over the last interval */
	uint32_t check_ms;     /* how long the last check took, 0: none */
	uint32_t since_s;      /* seconds since health last changed, or SINCE_UNKNOWN */
};

struct cn_status_body {
	uint8_t kind;          /* CN_SENDER_CLIENT (info_client) or CN_SENDER_VNIC (info_vNIC) */
	uint8_t flags;         /* CN_STATUS_F_* */
	uint32_t interval_ms;  /* the sender's report interval */
	uint64_t seq;          /* 1, 2, ... per (session, epoch); 0 never appears */
	union {
		struct cn_status_client client;
		struct cn_status_vnic vnic;
	} u;
};

enum cn_status_err {
	CN_STATUS_OK = 0,
	CN_STATUS_E_NOT_STATUS,   /* not a Status-REQ or Status-REP */
	CN_STATUS_E_NO_PROOF,     /* not authenticated with a session key (group status: planned) */
	CN_STATUS_E_MISSING,      /* ID or service missing: no session named */
	CN_STATUS_E_SHORT,        /* payload shorter than its header */
	CN_STATUS_E_LENGTH,       /* payload length is not the one of its kind */
	CN_STATUS_E_VERSION,      /* unknown payload version */
	CN_STATUS_E_KIND,         /* payload kind unknown, or not the sender kind */
	CN_STATUS_E_FLAGS,        /* a reserved flag is set */
	CN_STATUS_E_RESERVED,     /* a reserved byte is not zero */
	CN_STATUS_E_INTERVAL,     /* interval out of range */
	CN_STATUS_E_SEQ,          /* counter 0 */
	CN_STATUS_E_LINK,         /* link state out of range */
	CN_STATUS_E_HEALTH,       /* health out of range */
	CN_STATUS_E_CHECK,        /* check kind out of range, or health without a check */
	CN_STATUS_E_HTTP,         /* HTTP status without an HTTP check, or not 100..599 */
	CN_STATUS_E_VNIC_STATUS,  /* header's vNIC status is not the payload's summary */
	CN_STATUS_E_NOSPACE,      /* encoder: buffer too small */
	CN_STATUS_E_MAX = CN_STATUS_E_NOSPACE,
};
const char *cn_status_err_name(enum cn_status_err err); /* stable word, for counters */
const char *cn_status_strerror(enum cn_status_err err);

/* Payload alone: decode len bytes into *out; encode into buf[size] (*outlen: bytes). The
 * diag's field and offset (from the payload's start) name what failed. */
enum cn_status_err cn_status_body_decode(struct cn_status_body *out, const uint8_t *buf,
    size_t len, struct cn_coop_diag *diag);
enum cn_status_err cn_status_body_encode(const struct cn_status_body *b, uint8_t *buf,
    size_t size, size_t *outlen, struct cn_coop_diag *diag);
enum cn_status_err cn_status_body_validate(const struct cn_status_body *b,
    struct cn_coop_diag *diag);

/* The header's vNIC status for an info_vNIC: down when the link is down or the check fails,
 * busy when the weight is 0, up when the link is up (or unknown) and the service passes (or
 * has no check), unknown before the first verdict. */
enum cn_vnic_status cn_status_vnic_summary(const struct cn_status_vnic *v);

/* A decoded cooperative message -> its status payload, checking the rules between header
 * and payload (kind, proof, ID, service, sender kind, vNIC status). */
enum cn_status_err cn_status_from_msg(const struct cn_coop_msg *m, struct cn_status_body *out,
    struct cn_coop_diag *diag);
/* Put b into m's developer part and set m->sender.kind and m->vnic_status from it. The
 * caller has set everything else (flags, ID, service, timestamp, epoch, sender address). */
enum cn_status_err cn_status_to_msg(struct cn_coop_msg *m, const struct cn_status_body *b,
    struct cn_coop_diag *diag);

/*
 * Receive window for one sender of one session. The sender picks a random epoch (nonce_ss)
 * when it starts and counts seq from 1. Accepted: a new epoch whose timestamp is later than
 * the last accepted message's (a restarted peer), or, in the same epoch, a seq above the
 * highest seen, or within the 64 below it and not seen yet.
 */
#define CN_STATUS_WINDOW 64
struct cn_status_rx {
	bool init;
	uint8_t epoch[CN_COOP_NONCE_LEN];
	uint64_t top;         /* highest seq accepted in this epoch */
	uint64_t seen;        /* bit i: top - i was accepted */
	uint64_t last_ts_ms;  /* timestamp of the newest accepted message */
};
enum cn_status_rx_verdict {
	CN_RX_ACCEPT = 0,
	CN_RX_NEW_EPOCH,      /* accept: the peer restarted (or this is the first message) */
	CN_RX_REPLAY,         /* this seq was accepted already */
	CN_RX_TOO_OLD,        /* below the window */
	CN_RX_OLD_EPOCH,      /* another epoch, not newer than what was accepted */
};
const char *cn_status_rx_name(enum cn_status_rx_verdict v);
enum cn_status_rx_verdict cn_status_rx_check(const struct cn_status_rx *rx,
    const uint8_t epoch[CN_COOP_NONCE_LEN], uint64_t seq, uint64_t ts_ms);
/* Record an accepted message (after its proof verified). */
void cn_status_rx_accept(struct cn_status_rx *rx, const uint8_t epoch[CN_COOP_NONCE_LEN],
    uint64_t seq, uint64_t ts_ms);

#endif
