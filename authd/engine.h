/* SPDX-License-Identifier: MIT */
/* The engine's state, shared by engine.c (loop), engine_dispatch.c (datagrams to the
 * cooperative applications, authd/coop_app.h), engine_auth.c (the Authentication
 * application), engine_start.c and engine_revoke.c (its supervisor and revocation parts),
 * engine_turn.c (one transaction per turn) and engine_ctl.c (control commands). */
#ifndef COOPNET_AUTHD_ENGINE_H
#define COOPNET_AUTHD_ENGINE_H

#include <sys/socket.h>

#include "authd.h"
#include "ctl.h"
#include "group_view.h"
#include "logrl.h"

/* engine_ctl.c's state of one control connection, indexed like ctl.conns */
struct engine_ctl_conn {
	bool auth_pending;       /* waiting for the exchange auth_handle */
	uint64_t auth_handle;
	bool reload_pending;     /* waiting for the parent's reload */
	bool probe_pending;      /* waiting for the path probe of SP slot probe_slot */
	size_t probe_slot;
};

struct start_state {             /* one supervisor.authenticate entry */
	uint64_t handle;         /* 0: no exchange in flight */
	uint64_t next_try_ms;
	uint32_t backoff_ms;
};

enum engine_counter {
	CNT_AUTH_OK = AUTH_EV_KIND_MAX + 1,
	CNT_AUTH_FAILED,
	CNT_SESSIONS_ADDED,
	CNT_SESSIONS_REVOKED,
	CNT_SESSIONS_EXPIRED,
	CNT_SESSION_MISS,
	CNT_NFQ_REQUESTS,
	CNT_DB_ERRORS,
	CNT_UDP_ERRORS,
	CNT_CTL_REFUSED,
	CNT_SESSIONS_PEER_REVOKED,   /* removed because the other side revoked them */
	CNT_SESSIONS_RENEWED,        /* supervisor: replaced by a renewal before expiry */
	CNT_REVOKE_UNACKED,          /* revocations the other side never acknowledged */
	CNT_TURN_ROLLBACKS,          /* turns whose transaction did not commit */
	CNT_HELD_DROPPED,            /* their held datagrams and data-plane requests, dropped */
	CNT_COOP_UNKNOWN,            /* datagrams of an application or kind with no handler */
	CNT_PROFILE_WRITE_FAILED,    /* policy loads whose profile tables could not be written */
	CNT_PARENT_REFUSED_MSGS,     /* messages of this engine the parent refused (parent-stats) */
	CNT_PARENT_REFUSED_SESSIONS, /* sessions the parent found outside its policy */
	CNT_NFQ_TRAFFIC_BAD,         /* polls of coopnet-nfq's session counters refused */
	CNT_LINK_STATE_BAD,          /* link-state messages of the parent refused */
	CNT_NFQ_STATS_BAD,           /* polls of coopnet-nfq's counters refused */
	CNT_METRICS_SCRAPES,         /* GET /metrics answered (engine_metrics.c) */
	CNT_PROBE_PRESERVED,         /* path probes (engine_probe.c), by outcome, on an SS */
	CNT_PROBE_CLEARED,
	CNT_PROBE_ALTERED,
	CNT_PROBE_LOST,
	CNT_PROBE_NO_ANSWER,
	CNT_PROBE_ANSWERED,          /* Probe-REPs an SP sent */
	CNT_PROBE_REFUSED,           /* probe datagrams and segments refused (decode, proof, time) */
	CNT_DP_GATED,                /* Auth-REP&REQs held until the data plane had the session */
	CNT_DP_GATE_TIMEOUTS,        /* ... sent without the parent's answer, after 1 s */
	CNT_GROUP_RETRY_AVOIDED,     /* header: a retransmitted REQ sent to another SP */
	CNT_FAILOVERS,               /* supervisor: sessions moved off an unreachable SP */
	CNT_BALANCE_DECISIONS,       /* header: SPs chosen for an Auth-REQ (engine_balance.c) */
	CNT_SESSIONS_IDLE,           /* supervisor: sessions ended by its idle_time (engine_idle.c) */
	CNT_SESSION_MISS_REFUSED,    /* supervisor: session misses refused, no exchange slot free */
	CNT_BALANCE_REPEATS,         /* header: decisions for a REQ it had decided before (a
	                                retransmission: same nonce_ss) */
	CNT_SESSION_MISS_RECENT,     /* supervisor: session misses while an exchange for the pair
	                                ran or had just succeeded: no new exchange */
	CNT_NFQ_SLOW_REPLIES,        /* coopnet-nfq replies the parent waited for past 1 s
	                                (parent-stats; authd/nfqlink.h) */
	CNT_STATUS_UNREPORTED,       /* live sessions the status machine had no slot for
	                                (STATUS_MAX_SESSIONS, engine_status.c, or no memory) */
	CNT_TURNS_MODERATED,         /* steps that waited for more datagrams under load
	                                (engine_turn.c, MODERATE_*) */
	CNT_MAX,
};

struct engine {
	const struct authd_config *cfg;
	struct policy pol;
	bool have_policy;
	struct authd_db *db;
	int epfd, parent_fd, sig_fd;
	struct ctl_server ctl;       /* the control socket (lib/ctl.h), commands in engine_ctl.c */
	int udp_fd[AUTHD_MAX_UDP];
	struct cn_coop_addr udp_addr[AUTHD_MAX_UDP];
	size_t n_udp;
	struct auth_timing timing;
	struct auth_ss *ss;
	struct auth_header *hdr;
	struct auth_sp *sp;
	struct auth_rv *rv;          /* revocations to and from the other end of a session */
	uint8_t group_key[CN_KEY_LEN];
	bool has_group_key;
	struct cn_replay replay;
	struct engine_ctl_conn ctl_conns[CTL_MAX_CONNS];
	struct start_state *start;   /* n = pol.n_start */
	uint64_t counters[CNT_MAX];
	struct log_rl log_rl[AUTH_EV_KIND_MAX + 1]; /* warnings of outside input, summarised */
	bool nfq_up;
	bool dp_prepared;            /* engine_session_store: the session-add went ahead */
	uint64_t dp_epoch;           /* 1 + the session-syncs sent: a sync drops what went ahead */
	uint64_t syncs_sent;         /* session-syncs sent whole (their end included) */
	bool quit;
	int64_t started;
	uint64_t last_housekeeping_ms;
	char user[33];
	struct engine_turn *turn;    /* engine_turn.c; NULL until the first batched turn */
	struct engine_gate *gate;    /* engine_gate.c; NULL until the first prepared session */
	struct engine_status *status; /* engine_status.c; NULL until the first policy */
	bool batching;               /* inside the batched part of engine_step */
	enum { TX_NONE, TX_OPEN, TX_FAILED } tx;
	int relay_fd;                /* relaylink.c: coopnet-relay's key socket, -1 */
	struct member_view *members; /* group_view.h: n = pol.n_group, NULL: all unknown */
	struct engine_balance *balance; /* engine_balance.c: the header's balancing state, or NULL */
	struct engine_member *member; /* engine_member.c: group messages; NULL until a policy */
	struct engine_probe *probe;  /* engine_probe.c; NULL until the first policy */
	bool relay_warned;
	int metrics_fd;              /* the parent's listening socket for "metrics", -1: none */
	struct MHD_Daemon *mhd;      /* engine_metrics.c: the HTTP endpoint (owns metrics_fd) */
	json_t *nfq_stats;           /* coopnet-nfq's counters as the parent last polled them */
	int list_total;              /* engine_ctl.c: the sessions counted for a listing's page 1 */
};

/* What an epoll event's data.u64 names: kind << 32 | index. */
enum ev_kind { EV_PARENT = 1, EV_SIGNAL, EV_CTL, EV_UDP, EV_HEALTH, EV_METRICS };
#define EV_TAG(kind, i) (((uint64_t)(kind) << 32) | (uint32_t)(i))

uint64_t engine_now_ms(void);
uint64_t engine_wall_ms(void);
/* Test seam: replace the monotonic and the realtime clock (milliseconds); NULL restores the
 * real ones. Everything in the engine (housekeeping, expiry, the state machines' timers and
 * timestamps) reads time through engine_now_ms / engine_wall_ms. */
void engine_set_clock(uint64_t (*now_ms)(void), uint64_t (*wall_ms)(void));

/* Without privilege separation (tests; engine_main adds the privilege drop): open the
 * database and the event loop for init's sockets. 0, or -1 with err. */
int engine_open(struct engine *e, const struct engine_init *init, char *err, size_t errlen);
/* One turn of the loop: wait at most max_wait_ms (-1: until the next deadline), handle what
 * is ready, run the timers that are due. */
void engine_step(struct engine *e, int max_wait_ms);
void engine_close(struct engine *e);
const char *engine_counter_name(int i);

/* engine_dispatch.c: read socket i's datagrams and dispatch each (authd/coop_app.h; the
 * applications' setup, free, tick and deadline are there too). */
void engine_udp_input(struct engine *e, size_t i);

/* engine_auth.c: what the state machines' ops call in the engine (clock, sockets, events). */
uint64_t engine_op_now(void *ctx);            /* ctx: the engine */
uint64_t engine_op_wall(void *ctx);
int engine_op_send(void *ctx, const struct cn_coop_addr *to, const uint8_t *buf, size_t len);
/* Count an event (counters[ev->kind]) and log it. */
void engine_auth_event(struct engine *e, const struct auth_event *ev);
/* A warning about outside input of this kind may be logged now (lib/logrl.h: a few per
 * window, then "N similar line(s) suppressed"). */
bool engine_log_allow(struct engine *e, enum auth_event_kind kind);
/* Once a second: the summaries of windows that have ended. */
void engine_log_flush(struct engine *e);

/* engine_start.c: start an exchange for (client, service) as the supervisor; 0 and *handle,
 * or -1 with a sentence in err and errno (ENOSPC: no exchange slot free; EBUSY: one runs for
 * this pair; EINVAL, EPERM: not a supervisor, unknown service, not in the policy). */
int engine_auth_start(struct engine *e, const struct cn_coop_addr *client, const char *service,
		      uint64_t *handle, char *err, size_t errlen);
int engine_auth_start_opt(struct engine *e, const struct cn_coop_addr *client,
			  const char *service, bool failover, uint64_t *handle, char *err,
			  size_t errlen);
void engine_session_miss(struct engine *e, const json_t *ev);

/* engine_balance.c: SP groups (docs/groups.md) */
int engine_balance_route(struct engine *e, const char *service, const uint8_t *nonce,
		       struct cn_coop_addr *sp);
const uint64_t *engine_balance_decisions(const struct engine *e);
void engine_failover_start(struct engine *e, const struct cn_coop_addr *client,
			   const char *service, const struct cn_coop_addr *sp_peer);
void engine_failover_done(struct engine *e, const struct cn_coop_addr *client,
			  const char *service, bool ok);
int engine_failover_find(struct engine *e, const struct cn_coop_addr *client,
			 const char *service, struct db_session *out);
void engine_balance_free(struct engine *e);
void engine_start_entries(struct engine *e);

/* Sessions: database + data plane. */
int engine_session_store(struct engine *e, const struct db_session *s);
int engine_session_remove(struct engine *e, const struct db_session *s, int counter);
/* The same; tell_peer false: do not send the other end a revocation (it revoked the session
 * itself, or never committed it). */
int engine_session_drop(struct engine *e, const struct db_session *s, int counter,
			bool tell_peer);
/* engine_revoke.c: tell the other end of s that it is gone (Auth-RST revoked). */
void engine_revoke_peer(struct engine *e, const struct db_session *s);
/* engine_revoke.c: create e->rv, the revocation state machine of a supervisor or provider. */
int engine_revoke_setup(struct engine *e);
void engine_nfq_sync(struct engine *e);

/* relaylink.c: keys of confidential services to coopnet-relay (authd.json relay_socket) */
void relaylink_session(struct engine *e, const struct db_session *s, bool add);
void relaylink_sync(struct engine *e);
void relaylink_tick(struct engine *e);   /* (re)connect, then a full sync */
void relaylink_close(struct engine *e);
void engine_expire(struct engine *e);
/* Revoke the sessions the current policy no longer allows; returns how many. */
int engine_revoke_disallowed(struct engine *e, const struct policy *old);

/*
 * engine_turn.c: the batched part of a turn (UDP input and the state machines' timers) runs
 * its database writes in one transaction, opened by the first write (engine_tx_write) and
 * committed by engine_flush before the loop sleeps or does anything else. Datagrams go out
 * with sendmmsg at the flush; those queued after the transaction opened, and the data-plane
 * requests made in it, leave only after the COMMIT and are dropped (log line, counters
 * turn-rollbacks and held-dropped) when it fails: "recorded before answered" holds per turn.
 * Outside the batched part (control commands, the parent, housekeeping, direct calls from
 * tests) every write commits alone and every datagram is sent at once, as before.
 */
/* Before a write: 0 go ahead, -1 do not (the turn's transaction failed or cannot open). */
int engine_tx_write(struct engine *e);
/* After a write that failed: notice a transaction sqlite rolled back on its own. */
void engine_tx_check(struct engine *e);
/* Remember the replay digest recorded in this turn (forgotten by the state machines if the
 * turn rolls back, so no answer ever leaves for a digest that is not durable). */
void engine_tx_digest(struct engine *e, const uint8_t digest[CN_DIGEST_LEN]);
/* Remember a provider session stored in this turn: retried alone if the turn rolls back. */
void engine_tx_session(struct engine *e, const struct db_session *s);
/* Send now or hold until the flush; 0, or -1 (send error, counted). */
int engine_udp_send(struct engine *e, size_t sock, const struct sockaddr *to, socklen_t tolen,
		    const uint8_t *buf, size_t len);
/* Hold (in a batched turn) or send a data-plane request to the parent: IMSG_SESSION_ADD or
 * IMSG_SESSION_DEL of one session. */
void engine_parent_send(struct engine *e, uint32_t type, const struct imsg_session *s);
/* Commit the turn's transaction, then send what it held. -1: the COMMIT failed (and what
 * depended on it was dropped). */
int engine_flush(struct engine *e);
/* Read up to 64 datagrams of socket i with one recvmmsg and dispatch them. */
void engine_udp_drain(struct engine *e, size_t i,
		      void (*dispatch)(struct engine *, const struct cn_coop_addr *,
				       const uint8_t *, size_t));
void engine_turn_free(struct engine *e);
/* Before a step reads its datagrams: wait a little under load (engine_turn.c, MODERATE_*);
 * engine_turn_end: after the step's final flush. */
void engine_turn_moderate(struct engine *e);
void engine_turn_end(struct engine *e);

/* engine_gate.c: a provider's Auth-REP&REQ of a first session waits until the data plane
 * holds the session (see there). prepare: send s to the data plane now and hold the next
 * datagram; hold: take the datagram if armed (true) or not (false: send it yourself);
 * barrier: after the turn's requests, ask the parent to confirm them; drop_new: the turn
 * rolled back; release: the parent confirmed token; tick/deadline: the time-out. */
void engine_gate_prepare(struct engine *e, const struct db_session *s, uint32_t type);
/* Hold the next datagram until the data plane confirms every request sent before the turn's
 * barrier (a supervisor's Auth-REP behind its session-add). */
void engine_gate_arm(struct engine *e);
bool engine_gate_hold(struct engine *e, size_t sock, const struct sockaddr *to, socklen_t tolen,
		      const uint8_t *buf, size_t len);
void engine_gate_barrier(struct engine *e);
void engine_gate_drop_new(struct engine *e);
void engine_gate_disarm(struct engine *e);
void engine_gate_release(struct engine *e, uint64_t token);
void engine_gate_tick(struct engine *e);
uint64_t engine_gate_deadline(const struct engine *e);
void engine_gate_free(struct engine *e);
/* engine.c: a session as the parent takes it (key_only: a session-del); whether this engine
 * has a data plane (coopnet-nfq or provider.relay). */
void engine_session_msg(struct imsg_session *m, const struct db_session *s, bool key_only);
bool engine_data_plane(const struct engine *e);

/* engine_status.c: the status application (authd/coop_app.h coop_app_status). A session
 * committed or stored (add) and removed (remove) starts and stops its reports. */
void engine_status_add(struct engine *e, const struct db_session *s);
void engine_status_remove(struct engine *e, const struct db_session *s);
int engine_status_renewed(struct engine *e, cn_id_t old_id, const struct db_session *d,
			  bool *carried);
/* The counters "status-<event>" of both machines into stats. */
void engine_status_stats(const struct engine *e, json_t *stats);
/* An SP's info_vNIC figures of service now (the Auth-REP&REQ's vNIC status is their summary). */
void engine_status_vnic(struct engine *e, const char *service, struct cn_status_vnic *out);

/* engine_member.c: the group application (coop_app_group): its view for coopnetctl group
 * (a header's members: NULL without any; an SP's membership: json null without one), and its
 * counters "group-<event>" into stats. */
struct group_rx;
const struct group_rx *engine_member_rx(const struct engine *e);
json_t *engine_member_json(struct engine *e);
/* engine_group.c: the control command "group" (authd/group_json.h) */
json_t *engine_ctl_group(void *ctx, size_t conn, const json_t *req);
json_t *engine_ctl_group_sessions(void *ctx, size_t conn, const json_t *req);
void engine_member_stats(const struct engine *e, json_t *stats);

/* engine_ctl.c: the command table on lib's control-socket server, which takes listen_fd.
 * 0, or -1 with errno. */
int engine_ctl_open(struct engine *e, int listen_fd);
/* The deferred answers of auth and reload (reply taken). */
void engine_ctl_auth_done(struct engine *e, uint64_t handle, json_t *reply);
void engine_ctl_reload_done(struct engine *e, json_t *reply);

/* engine_metrics.c (docs/metrics.md): the counters of `stats`; the snapshot lib/metrics.c
 * renders (NULL: out of memory or a database error); coopnet-nfq's counters from the parent
 * ("nfq-stats"); the HTTP endpoint on the parent's listening socket (-1: none; 0 or -1), run
 * when its epoll fd is ready and every second, closed. */
json_t *engine_stats_json(struct engine *e);
json_t *engine_metrics_snapshot(struct engine *e);
void engine_nfq_stats(struct engine *e, const json_t *msg);
int engine_metrics_open(struct engine *e, int listen_fd);
void engine_metrics_run(struct engine *e);
void engine_metrics_close(struct engine *e);

#endif
