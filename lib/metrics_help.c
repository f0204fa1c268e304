/* SPDX-License-Identifier: MIT */
/*
 * The HELP line of every counter that `coopnetctl stats` shows (metrics.h). The names are the
 * daemons' (authd/auth_common.c, authd/engine.c, authd/status_fsm.c, authd/group_fsm.c,
 * authd/engine_member.c, nfq/logic.c); their
 * meaning is documented in docs/authd.md, docs/nfq.md and docs/coopnetctl.md.
 * tests/unit/test_metrics checks that every name the daemons produce is here.
 */
#include "metrics.h"

#include <string.h>

struct help {
	const char *key, *text;
};

static const struct help authd_help[] = {
	/* the Authentication state machines' events (authd/auth_fsm.h) */
	{ "decode-error", "Cooperative datagrams the decoder refused." },
	{ "unexpected", "Valid messages of a kind this role does not take." },
	{ "bad-proof", "Proofs that did not verify (wrong passcode or forgery)." },
	{ "bad-mac", "Group MACs that did not verify, or forwarded messages without one." },
	{ "unknown-client", "Requests with no client entry for the service and address." },
	{ "unknown-service", "Requests for a service the policy does not have." },
	{ "stale", "Datagrams whose timestamp lay outside the accepted window." },
	{ "replay", "Datagrams already in the replay cache, dropped." },
	{ "rate-limited", "Auth-REQs refused because their source ran out of tokens." },
	{ "no-exchange", "Replies that matched no exchange (late or forged)." },
	{ "retransmit", "Datagrams sent again after a time-out." },
	{ "duplicate", "Duplicate requests answered with the same bytes." },
	{ "timeout", "Authentication exchanges that gave up." },
	{ "rst", "Auth-RSTs sent (SP, header) or received (SS)." },
	{ "forwarded", "Auth-REQs a header SP forwarded to the owning SP." },
	{ "no-id", "Requests refused because no free ID was left." },
	{ "send-failed", "Datagrams the UDP socket did not take." },
	{ "revoke-sent", "Revocations sent to the other end of a session." },
	{ "revoked", "Revocations received from the other end and applied." },
	{ "revoke-acked", "Revocations of ours the other end acknowledged." },
	{ "overloaded", "Valid Auth-REQs refused (Auth-RST internal): no exchange slot free or the replay digest not recorded." },
	/* the engine's own (authd/engine.h) */
	{ "auth-ok", "Authentications that ended with a session." },
	{ "auth-failed", "Authentications that ended without a session." },
	{ "sessions-added", "Sessions stored and given to the data plane." },
	{ "sessions-revoked", "Sessions revoked (coopnetctl revoke, policy reload)." },
	{ "sessions-expired", "Sessions removed at the end of their lifetime or idle time." },
	{ "session-miss", "Data-plane session misses (a held SYN) that started an exchange." },
	{ "nfq-requests", "Requests sent to coopnet-nfq." },
	{ "db-errors", "Database statements that failed." },
	{ "udp-errors", "UDP socket errors." },
	{ "ctl-refused", "Control-socket peers refused for their uid." },
	{ "sessions-revoked-by-peer", "Sessions removed because the other end revoked them." },
	{ "sessions-renewed", "Sessions replaced by a renewal before they expired." },
	{ "revoke-unacked", "Revocations the other end never acknowledged." },
	{ "turn-rollbacks", "Loop turns whose database transaction did not commit." },
	{ "held-dropped", "Datagrams and data-plane requests dropped with a rolled-back turn." },
	{ "coop-unknown", "Datagrams of a cooperative application or kind without a handler." },
	{ "profile-write-failed", "Policy loads whose profile tables could not be written." },
	{ "parent-refused-messages", "Engine messages the privileged parent refused." },
	{ "parent-refused-sessions", "Sessions the privileged parent found outside its policy." },
	{ "nfq-traffic-bad", "Polls of coopnet-nfq's per-session counters refused." },
	{ "link-state-bad", "Link-state messages of the parent refused (SP)." },
	{ "nfq-stats-bad", "Polls of coopnet-nfq's counters refused." },
	{ "metrics-scrapes", "GET /metrics requests answered by the HTTP endpoint." },
	/* the path probe (authd/engine_probe.c, docs/probe.md) */
	{ "probe-preserved", "Path probes whose urgent pointer arrived unchanged (SS)." },
	{ "probe-cleared", "Path probes whose urgent pointer a middlebox cleared (SS)." },
	{ "probe-altered", "Path probes whose urgent pointer a middlebox changed (SS)." },
	{ "probe-lost", "Path probes whose segment never arrived (SS)." },
	{ "probe-no-answer", "Path probes the SP never answered (SS)." },
	{ "probe-answered", "Probe-REPs sent (SP)." },
	{ "probe-refused", "Probe datagrams and segments refused (decode, proof, time)." },
	/* SP groups (docs/groups.md) */
	{ "header-next", "Exchanges moved to the next header SP after one did not answer (SS)." },
	{ "no-sp-up", "Auth-REQs refused because no SP of the service's group was up (header)." },
	{ "balance-retry-avoided", "Retransmitted Auth-REQs sent to another SP than the first try (header)." },
	{ "failovers", "Sessions moved to another SP of the group after theirs failed (SS)." },
	{ "balance-decisions", "SPs of a group chosen for an Auth-REQ by the balancing strategy (header)." },
	{ "sessions-idle-expired", "Sessions an SS ended by its own idle_time: no segment its data plane saw and no Authentication for that long (SS)." },
	{ "session-miss-refused", "Session misses that started no exchange because every exchange slot was busy (SS; the SYN waits, the client retransmits)." },
	/* the first page (authd/engine_gate.c) */
	{ "dp-gated", "Auth-REP&REQs (SP) and Auth-REPs (SS) held until the data plane had the session." },
	{ "dp-gate-timeouts", "Held Auth-REP&REQs sent after 1 s without the parent's answer (SP)." },
	/* the group application (authd/group_fsm.h, authd/engine_member.c) */
	{ "group-accepted", "Group messages applied (joins, heartbeats, leaves)." },
	{ "group-join", "Group joins applied." },
	{ "group-leave", "Group leaves applied." },
	{ "group-member-up", "Times a group member became up." },
	{ "group-member-down", "Times a group member became down by missed heartbeats." },
	{ "group-bad-payload", "Group messages refused: the payload does not decode." },
	{ "group-unknown-sender", "Group messages refused: no member of that name with a key." },
	{ "group-removed", "Group messages refused: a member a reload removed." },
	{ "group-bad-signature", "Group messages refused: the signature does not verify." },
	{ "group-stale", "Group messages refused: timestamp outside the window." },
	{ "group-replay", "Group messages refused: replayed (sequence or digest seen)." },
	{ "group-internal", "Group messages refused: the replay cache could not record them." },
	{ "group-not-header", "Group messages refused: this host is no header SP." },
	{ "group-sent", "Group datagrams sent (member side)." },
	{ "group-send-error", "Group datagrams the UDP socket did not take (member side)." },
	{ "group-tx-bytes", "Bytes of group datagrams sent." },
	{ "group-tx-datagrams", "Group datagrams sent." },
	{ "group-rx-bytes", "Bytes of group datagrams received." },
	{ "group-rx-datagrams", "Group datagrams received." },
	/* the status application (authd/status_fsm.h), both roles summed */
	{ "status-sent", "Status reports sent at the interval." },
	{ "status-change-sent", "Status reports sent at once on a change." },
	{ "status-probe-sent", "Status-REQs sent (session start, peer unreachable)." },
	{ "status-answered", "Status-REPs sent in answer to a Status-REQ." },
	{ "status-received", "Status reports accepted." },
	{ "status-decode-error", "Status datagrams the decoder refused." },
	{ "status-bad-payload", "Status reports the status rules refused." },
	{ "status-no-session", "Status datagrams naming no session." },
	{ "status-bad-proof", "Status datagrams whose proof no session key verifies." },
	{ "status-stale", "Status datagrams whose timestamp lay outside the window." },
	{ "status-replay", "Status reports accepted before (same epoch and sequence)." },
	{ "status-too-old", "Status reports below the receive window." },
	{ "status-old-epoch", "Status reports of an older epoch." },
	{ "status-peer-restart", "Status reports of a new epoch (the peer restarted)." },
	{ "status-unreachable", "Times a status peer became unreachable." },
	{ "status-reachable", "Times a status peer became reachable again." },
	{ "status-send-failed", "Status datagrams the UDP socket did not take." },
	{ "status-over-budget", "Accepted status reports past their session's receive budget (4 at once, then 2 per interval the peer announces): they count for reachability, but are neither written to the database nor answered. An honest peer stays within it." },
	/* one session per exchange with plural headers (docs/groups.md, "Plural header SPs") */
	{ "released", "SS: answers of a second SP to an exchange another SP answered first, released with Auth-RST released; SP: its pending exchanges so released (no session kept)." },
	{ "header-kept", "Retransmitted Auth-REQs kept at the same header SP because it led to an answer since the REQ went to it (SS)." },
	{ "balance-repeats", "Decisions for an Auth-REQ this header had decided before: a retransmission (header)." },
	{ "session-miss-recent", "Session misses that started no exchange because one for the client and service ran or had succeeded within 5 s: its session is on its way to the data plane (SS)." },
	{ "turns-moderated", "Engine loop steps that waited 0.5 ms for more datagrams before reading, under load (four steps in a row, each within 2 ms of the last): one transaction and one data-plane batch then carry several Authentications." },
	{ "status-unreported", "Live sessions the status application had no slot for (more than 262,144 per role, or no memory to grow its slots): stored and used, but no status report is sent or taken for them." },
	{ "nfq-slow-replies", "coopnet-nfq replies the privileged parent waited for past 1 s (a busy worker, not a restart: no full session-sync unless no reply comes within 10 s)." },
};

static const struct help nfq_help[] = {
	{ "embedded", "Segments whose ID coopnet-nfq wrote (SS: to the service; SP: replies)." },
	{ "passed", "Segments that are not overlay traffic, accepted untouched." },
	{ "checked_ok", "Segments whose ID matched the live session." },
	{ "dropped_no_id", "Segments of a session that carried no ID, dropped." },
	{ "dropped_wrong_id", "Segments of a session that carried another ID, dropped." },
	{ "dropped_unknown_flow", "SP: segments without a live session, dropped." },
	{ "malformed", "Packets that are not parsable TCP segments." },
	{ "dropped_urgent", "Overlay segments with URG set, dropped." },
	{ "dropped_truncated", "Segments to rewrite of which only a part was copied, dropped." },
	{ "session_miss", "SS: first SYNs without a session, held for coopnet-authd." },
	{ "queue_overrun", "Packets the kernel dropped because a queue thread fell behind." },
	{ "miss_timeout", "Held SYNs released without a session." },
	{ "dropped_held_full", "SS: first SYNs dropped because the hold table was full "
	  "(the client retransmits)." },
	{ "dropped_held_copy", "SS: retransmitted first SYNs dropped while their first copy is held." },
};

static const char *find(const struct help *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].key, key))
			return t[i].text;
	return NULL;
}

const char *metrics_counter_help(const char *daemon, const char *key)
{
	if (!strcmp(daemon, "authd"))
		return find(authd_help, sizeof(authd_help) / sizeof(authd_help[0]), key);
	if (!strcmp(daemon, "nfq"))
		return find(nfq_help, sizeof(nfq_help) / sizeof(nfq_help[0]), key);
	return NULL;
}
