/* SPDX-License-Identifier: MIT */
/*
 * The packet logic of coopnet-nfq as a pure function: (role, packet, session table) ->
 * (verdict, rewritten packet, reason). No I/O; the queue threads and the unit tests drive it.
 */
#ifndef COOPNET_NFQ_LOGIC_H
#define COOPNET_NFQ_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "table.h"

enum nfq_role { NFQ_ROLE_SUPERVISOR, NFQ_ROLE_PROVIDER };

/* Why a packet got its verdict: one counter each (docs/nfq.md). */
enum nfq_reason {
	R_EMBEDDED,           /* ID written (supervisor: to the service; provider: replies) */
	R_PASSED,             /* not overlay traffic: accepted untouched */
	R_CHECKED_OK,         /* ID matched the live session */
	R_DROP_NO_ID,         /* session exists, segment carries no ID */
	R_DROP_WRONG_ID,      /* session exists, segment carries another ID */
	R_DROP_UNKNOWN_FLOW,  /* provider: no live session for this client and service */
	R_MALFORMED,          /* not a parsable TCP segment */
	R_DROP_URGENT,        /* URG set on an overlay flow: the pointer is not ours to use */
	R_DROP_TRUNCATED,     /* must rewrite but only part of the packet was copied */
	R_SESSION_MISS,       /* supervisor: first SYN without a session, held for authd */
	R_QUEUE_OVERRUN,      /* counted by the queue thread, never returned here */
	R_MISS_TIMEOUT,       /* held SYN released without a session (queue thread) */
	R_HELD_FULL,          /* first SYN dropped: the queue thread's hold table was full */
	R_HELD_COPY,          /* a retransmitted first SYN dropped: its first copy is held */
	R__COUNT
};

enum nfq_verdict {
	V_ACCEPT,          /* unmodified: no payload in the verdict */
	V_ACCEPT_MODIFIED, /* buf was rewritten: return it as the payload */
	V_DROP,
	V_HOLD,            /* supervisor session miss: keep the packet, tell authd */
	V_ACCEPT_SETID,    /* header_only: accept, the kernel writes set_id (mark path) */
};

struct nfq_logic_cfg {
	enum nfq_role role;
	bool strip;   /* clear the ID before delivery to the unmodified side */
	/* Do not touch the buffer: a rewrite becomes V_ACCEPT_SETID with set_id, and the
	 * kernel writes it (queue_rule write chain). Needs only the headers in buf. */
	bool header_only;
};

struct nfq_result {
	enum nfq_verdict verdict;
	enum nfq_reason reason;
	enum cn_pkt_result pkt;   /* parse or rewrite result behind R_MALFORMED and friends */
	struct sess_key miss;     /* V_HOLD: the key authd must add */
	cn_id_t set_id;           /* V_ACCEPT_SETID: the ID to write (0: clear) */
	const struct tbl_entry *sess; /* the session the verdict came from, or NULL */
	int sess_dir;             /* 0: client -> service, 1: service -> client */
};

/* buf holds len bytes starting at the IP header (maybe less than the packet: see
 * cn_pkt_is_whole). now is CLOCK_REALTIME seconds (sessions expire on it). */
void nfq_decide(const struct nfq_logic_cfg *cfg, const struct sess_table *t, uint8_t *buf,
		size_t len, enum cn_csum_state csum, uint64_t now, struct nfq_result *res);

const char *nfq_reason_name(enum nfq_reason r);

/* Count a decided segment of len bytes (the whole packet's length) on its session (queue
 * threads, inside the read section): accepted ones in segs/bytes of their direction and
 * last_seen (now); drops by reason. Nothing without a session. Relaxed atomic adds: several
 * queue threads may count on one session. */
void nfq_account(const struct nfq_result *res, size_t len, uint64_t now);

#endif
