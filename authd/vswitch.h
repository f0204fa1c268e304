/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch of a provider (paper 2.2 D, the relay-vNIC), kept by the privileged
 * parent in the nftables table `inet coopnet_vswitch` (docs/policy.md, "The virtual switch"):
 *
 *   steer4/steer6  map  client . ID (tcp urgptr) . port -> vNIC address, one element per
 *                       session: a segment with a session's ID on another port is not steered
 *   relay4/relay6  set  the SP's global addresses (provider.relay)
 *   vnic4/vnic6    set  every vNIC address
 *   svc4/svc6      set  (vNIC or relay address . port) of the services: marked for
 *                       coopnet-nfq's queue rule (provider.queue_mark)
 *   chain steer    nat prerouting (dstnat): a new connection to a relay address whose first
 *                  segment carries (URG clear) the ID of a session is DNATed to its vNIC; the
 *                  rest of the connection follows conntrack
 *   chain guard    filter input: a vNIC address is reachable from outside only through the
 *                  switch (ct status dnat) and only on its services' ports; anything else to
 *                  it is dropped and counted
 *
 * Programmed through libnftnl batches (lib/nftbatch.h), never `nft` or a shell. A new policy
 * (or the first one) rebuilds the whole table in ONE batch (delete table + table and all of
 * its sets, maps, chains and elements): never a moment without the guard. A session change
 * only deletes and adds the steer elements that changed, again in one batch per change-set
 * (one engine request). The kernel applies a batch as one transaction: a refused batch leaves
 * the previous table in force, and the switch keeps what the kernel holds (`held`) to diff
 * the next change against. The parent learns the sessions from the engine's data plane
 * requests (session-add, session-del, session-sync; docs/control.md).
 */
#ifndef COOPNET_AUTHD_VSWITCH_H
#define COOPNET_AUTHD_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl.h"
#include "policy.h"
#include "sesslist.h"

#define VSWITCH_TABLE "coopnet_vswitch"

struct vswitch_addr {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t addr[16];
};

struct vswitch_svc {
	struct vswitch_addr a;
	uint16_t port;
};

/* One element of steer4/steer6: client . ID . port -> vNIC address. */
struct vswitch_steer {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t client[16];
	uint16_t id;
	uint16_t port;       /* the service's port: the relay connection's destination port */
	uint8_t vnic[16];
};

/* The elements one session change deletes and adds (vswitch_plan). */
struct vswitch_change {
	struct vswitch_steer *del, *add, *want; /* want: what the maps hold afterwards (a full
						   plan; NULL for a plan of the changes) */
	size_t n_del, n_add, n_want;
};

struct vswitch {
	bool enabled;                /* provider with relay addresses */
	uint32_t mark;
	struct vswitch_addr relay[POL_MAX_RELAY];
	size_t n_relay;
	struct vswitch_addr *vnics;  /* every vNIC address */
	size_t n_vnics;
	struct vswitch_svc *svcs;    /* vNIC address . port and relay . port */
	size_t n_svcs;
	struct sesslist sess;        /* the engine's sessions, as sent to the data plane */
	struct vswitch_steer *held;  /* what the kernel's steer maps hold (any order) */
	size_t n_held, cap_held;
	struct hidx held_ix;         /* steer element -> position in held */
	bool installed;              /* the kernel holds the table of the current policy */
	bool replan;                 /* a batch was refused: the next plan looks at everything */
	uint64_t applied, failed;    /* batches committed / refused */
};

/* Take the addresses of a (new) policy; sessions are kept. 0 or -1 (memory). */
int vswitch_set_policy(struct vswitch *vs, const struct policy *p);
/* A data plane request from the engine: session-add / session-del / session-sync.
 * Returns 1 when the sessions changed, 0 when not, -1 on a malformed request. */
int vswitch_session_req(struct vswitch *vs, const json_t *req);
/* The steer elements the sessions call for, against what the kernel holds: pure (tests call
 * it). 0, or -1 (memory). Free with vswitch_change_free. */
int vswitch_plan(const struct vswitch *vs, struct vswitch_change *c);
/* The same from the session list's change log only (vs->sess.track): O(changes), not
 * O(sessions). Valid while the kernel holds held and the log is complete (installed, no
 * replan, not sess.full); vswitch_apply chooses. 0, or -1 (memory). */
int vswitch_plan_changes(const struct vswitch *vs, struct vswitch_change *c);
void vswitch_change_free(struct vswitch_change *c);
/* The kernel committed c: it holds c->want now (taken over; a plan of the changes: held minus
 * c->del plus c->add), the table is installed; frees c. -1: out of memory (then held is
 * emptied and the next apply rebuilds the table). */
int vswitch_hold(struct vswitch *vs, struct vswitch_change *c);
/* Bring the kernel to the switch: the whole table in one batch after a policy change (or
 * while it is not installed), else one batch of the steer elements that changed (none: no
 * batch). enabled == false: delete the table if present. 0, or -1 with err (the kernel keeps
 * the previous state, and so does `held`). */
int vswitch_apply(struct vswitch *vs, char *err, size_t size);
void vswitch_free(struct vswitch *vs);

/* vswitch_nft.c: the batches. Each returns 0 or -1 with errno (ENOSPC: does not fit). */
int vswitch_nft_table(const struct vswitch *vs, const struct vswitch_steer *steer, size_t n);
int vswitch_nft_elems(const struct vswitch_change *c);
int vswitch_nft_delete(void);

#endif
