/* SPDX-License-Identifier: MIT */
/*
 * The privileged parent's side of the engine's messages (docs/authd.md, "Privilege
 * separation"). The engine is unprivileged and may be compromised: the parent takes only the
 * binary types of authd/imsg.h, each size-checked before it is looked at, and checks every
 * session against its OWN copy of the policy before anything reaches coopnet-nfq or the
 * virtual switch:
 *   - an added (or synced) session: the service is one the policy names; provider: the vNIC
 *     hosting it, that vNIC's address of the client's family and the service's port;
 *     supervisor: the service's address and port (when of the client's family); and the
 *     client lies inside a client entry that may use that service;
 *   - a removed session: one the parent let the engine add (struct keyset), so the engine can
 *     remove nothing else;
 *   - a probe segment (docs/probe.md): only the fields of struct imsg_probe, checked here;
 *     the segment is always a bare SYN and the parent limits the rate (authd/probe_raw.c).
 * A malformed, oversized or unexpected message is refused whole and counted
 * (refused-messages); a well-formed session outside the policy is dropped and counted
 * (refused-sessions); the counts go to the engine ("parent-stats") for `coopnetctl stats`.
 * Nothing here runs a program: the requests are rebuilt from the checked fields.
 */
#ifndef COOPNET_AUTHD_PARENT_MSG_H
#define COOPNET_AUTHD_PARENT_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "imsg.h"
#include "keyset.h"
#include "nfqlink.h"
#include "policy.h"
#include "ssnat.h"
#include "vswitch.h"

struct parent_msg_ops {
	void (*reload)(void *ctx);                   /* coopnetctl reload reached the engine */
	void (*applied)(void *ctx, bool ok, int revoked, const char *error);
	/* send one probe segment (fields checked); -1: not sent (rate, socket), refused */
	int (*probe)(void *ctx, const struct imsg_probe *p);
};

struct parent_msg {
	int engine_fd;
	struct policy pol;           /* what the parent loaded and sent; checked against */
	bool have_pol;
	struct nfq_link *nfq;
	struct vswitch *vs;          /* NULL: no virtual switch */
	struct ssnat *sn;            /* NULL: no SS DNAT (set after parent_msg_init) */
	struct keyset live;          /* sessions the engine added and the parent accepted */
	struct keyset stage;         /* a session-sync in progress */
	struct cn_session *stage_v;  /* its sessions, to go as one packed session-sync */
	size_t stage_n, stage_cap;
	json_t *nfq_pending;         /* requests for coopnet-nfq not sent yet (parent_msg_flush) */
	size_t nfq_pending_sessions; /* the sessions in them */
	bool vs_dirty, sn_dirty;     /* the virtual switch's / SS DNAT's sessions changed since
	                              * their last batch (parent_msg_flush applies them) */
	bool syncing;
	uint64_t refused_msgs, refused_sessions;
	uint64_t slow_reported;      /* nfq->slow_replies as last sent in parent-stats */
	const struct parent_msg_ops *ops;
	void *ctx;
	uint64_t buf[IMSG_BIN_MAX / 8 + 1];
};

void parent_msg_init(struct parent_msg *pm, int engine_fd, struct nfq_link *nfq,
		     struct vswitch *vs, const struct parent_msg_ops *ops, void *ctx);
/* The policy now in force (moved into pm; *p is cleared). */
void parent_msg_set_policy(struct parent_msg *pm, struct policy *p);
/* The engine's socket is readable: handle one message. 0 (handled, refused and counted, or
 * nothing yet), -1: the engine is gone (err says why). */
int parent_msg_input(struct parent_msg *pm, char *err, size_t errlen);
/* The engine's socket is readable: handle its messages while it holds more (at most
 * PARENT_DRAIN_MAX, then the caller's other inputs get their turn), then parent_msg_flush.
 * 0, or -1: the engine is gone (err says why; what was held is sent first). */
#define PARENT_DRAIN_MAX 64
int parent_msg_drain(struct parent_msg *pm, char *err, size_t errlen);
/* Apply what the messages handled since the last call changed: the virtual switch's and the
 * SS DNAT's sessions in one nft batch each, then coopnet-nfq's requests, one as it is, more
 * as one session-batch (docs/control.md), which coopnet-nfq applies in one nft batch. The caller calls it when the engine's socket has nothing more to read (and every
 * message but a session change calls it first: a barrier's answer follows what came before). */
void parent_msg_flush(struct parent_msg *pm);
/* The same for a message already received (len bytes; the fuzz target). */
void parent_msg_handle(struct parent_msg *pm, const uint8_t *buf, size_t len);
void parent_msg_free(struct parent_msg *pm);

#endif
