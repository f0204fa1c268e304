/* SPDX-License-Identifier: MIT */
/*
 * The parent's link to coopnet-nfq (docs/control.md, docs/authd.md "Data plane"): it carries
 * the engine's session-add / session-del / session-sync requests to coopnet-nfq's control
 * socket and, on a supervisor, coopnet-nfq's session-miss events back to the engine. The
 * subscription is a standing link: when coopnet-nfq exits or restarts, its end marks the link
 * down at once (nfq-down), and the next try (nfq_link_retry_ms) re-syncs the new worker. Apart
 * from authd.c so that tests can run it against a peer that plays coopnet-nfq.
 */
#ifndef COOPNET_AUTHD_NFQLINK_H
#define COOPNET_AUTHD_NFQLINK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* A reply later than NFQ_TIMEOUT_MS is slow: counted (nfq-slow-replies) and logged, and the
 * parent waits on while coopnet-nfq keeps the connection open, up to reply_limit_ms in all
 * (NFQ_REPLY_LIMIT_MS). Only a closed connection or no reply by then takes the link down,
 * whose answer is a session-sync of every session: a worker busy with a large change is not
 * one that restarted. */
#define NFQ_TIMEOUT_MS 1000
#define NFQ_REPLY_LIMIT_MS 10000
/* While the link is down the parent tries again every NFQ_RETRY_FAST_MS for the first
 * NFQ_RETRY_FAST_FOR_MS (a restarted worker, e.g. systemd's Restart= after 100 ms, answers
 * within that: its sessions come back a tenth of a second after it listens, not up to a
 * second later), then every NFQ_RETRY_MS (a worker that stays away costs one failed connect
 * a second). A try that finds no socket is one connect(2) that fails at once, and logs
 * nothing; a try that found a worker which did not answer in NFQ_TIMEOUT_MS (stopped or
 * hung) is followed by the next only NFQ_RETRY_MS later, so that a hung worker does not keep
 * the parent waiting most of the time. A try whose connection the worker closed unanswered
 * (a killed worker on its way out: at 60,000 sessions its exit took over 100 ms) is not such
 * a wait: the next comes NFQ_RETRY_FAST_MS later, as after a refused connect. */
#define NFQ_RETRY_FAST_MS 100
#define NFQ_RETRY_FAST_FOR_MS 5000
#define NFQ_RETRY_MS 1000

struct nfq_link {
	const char *path;    /* coopnet-nfq's control socket */
	bool subscribe;      /* keep a standing subscription (session-miss events on a
	                      * supervisor; on every role, its end tells of a worker restart) */
	int engine_fd;       /* the engine's socketpair end */
	int sub_fd;          /* the subscription, -1 */
	int call_fd;         /* the connection nfq_link_forward's requests go on, -1: kept
	                      * open (a connect, accept and close per request cost more than
	                      * the request), closed when a call fails or the link goes down */
	bool up;
	uint64_t down_at_ms; /* CLOCK_MONOTONIC ms when the link went down (or was created) */
	bool last_try_slow;  /* the last nfq_link_try_up got no answer in NFQ_TIMEOUT_MS */
	/* the engine's session-syncs that reached nfq_link_forward, up or not; nfq-up tells the
	 * engine this count, so that it sends no second sync when one came after the link was
	 * up (authd/engine.c on_nfq_up) */
	uint64_t syncs_in;
	unsigned reply_limit_ms; /* NFQ_REPLY_LIMIT_MS (tests set less) */
	uint64_t slow_replies;   /* replies later than NFQ_TIMEOUT_MS, late ones included */
	/* the traffic poll's cursor (nfq_link_poll_traffic): coopnet-nfq's generation of the
	 * last listing (0: none, the next is whole), its instance, and the listings of changes
	 * since the last whole one */
	uint32_t traffic_gen;
	char traffic_instance[17];
	unsigned traffic_deltas;
};

/* One traffic poll in NFQ_TRAFFIC_FULL_EVERY is a whole listing: it drops what a listing of
 * changes could not tell (a coopnet-nfq that lost its stamps, say); the others list only the
 * sessions that changed since the last poll (docs/authd.md "Per-session counters"). */
#define NFQ_TRAFFIC_FULL_EVERY 64

void nfq_link_init(struct nfq_link *l, const char *path, bool subscribe, int engine_fd);
/* Try to reach coopnet-nfq (status, then subscribe); on success tell the engine nfq-up
 * {"syncs": syncs_in}, which answers with a session-sync unless it sent one after those. */
void nfq_link_try_up(struct nfq_link *l);
/* While the link is down: how long to wait after a try that ended at now_ms before the next
 * one (NFQ_RETRY_FAST_MS, then NFQ_RETRY_MS; NFQ_RETRY_MS after a slow try: above). */
unsigned nfq_link_retry_ms(const struct nfq_link *l, uint64_t now_ms);
/* Forward one request of the engine; a failed call (connection closed, or no reply within
 * reply_limit_ms) marks the link down (nfq-down). A request with sessions larger than one
 * control message goes in parts (docs/control.md "Large requests"). 1: done,
 * 0: coopnet-nfq refused it (logged), -1: not sent or no reply (the link is down; the
 * session-sync when it comes back carries the sessions), NFQ_FORWARD_TOO_LARGE: not sent,
 * larger than one control message and without sessions to split (a session-batch: send its
 * requests one by one). */
#define NFQ_FORWARD_TOO_LARGE 2
int nfq_link_forward(struct nfq_link *l, const json_t *req);
/* sub_fd is readable: pass a session-miss event on to the engine. */
void nfq_link_event(struct nfq_link *l);
void nfq_link_down(struct nfq_link *l, const char *why);
/* Once per status interval: list coopnet-nfq's sessions (paged, one connection) that changed
 * since the last poll ("changed_since"; a whole listing the first time, after the link went
 * down or coopnet-nfq's instance changed, and every NFQ_TRAFFIC_FULL_EVERY polls) and send
 * their counters (last_seen, traffic) to the engine as "nfq-traffic" messages ("delta": the
 * changes and the entries gone, to merge). A coopnet-nfq without per-session counters sends
 * an empty list. */
void nfq_link_poll_traffic(struct nfq_link *l);
/* One listed session -> the engine's entry [id, client, last_seen, segments in, out, bytes in,
 * out, drops no_id, wrong_id, other, entry] (authd/nfq_traffic.c); NULL when it carries no
 * counters, no entry number or no ID. */
json_t *nfq_traffic_entry(const json_t *s);
/* Ask coopnet-nfq for its counters (`stats`) and send them to the engine as "nfq-stats"
 * (its metrics, docs/metrics.md); nothing when the link is down or the call fails. */
#define NFQ_STATS_INTERVAL_MS 2000
void nfq_link_poll_stats(struct nfq_link *l);

#endif
