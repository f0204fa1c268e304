/* SPDX-License-Identifier: MIT */
/*
 * The SS's DNAT of group services (docs/groups.md), kept by the privileged parent in the
 * nftables table `inet coopnet_ssnat`:
 *
 *   dnat4/dnat6  map  client . virtual address . port -> member address: one element per
 *                     client and group service, from the session the engine stored (its
 *                     service address is the member's, its port the service's)
 *   vsvc4/vsvc6  set  virtual address . port of every group service
 *   chain dnat   nat prerouting (dstnat): a new connection from a client to a group service
 *                goes to the member of the client's session; replies come back from the
 *                virtual address (conntrack un-DNAT), so the client never sees the member
 *   chain guard  filter forward, priority 10 (after coopnet-nfq's chains, which saw it and
 *                announced a session-miss): a segment still addressed to a virtual service
 *                (no session yet) is dropped and counted; its conntrack entry is never
 *                confirmed, so the client's retransmitted SYN meets the map again
 *
 * The parent derives the elements from the sessions (session-add, -del, -sync, as the
 * virtual switch does) and its own policy: a session whose address is no member of a group
 * service with that port is never DNATed to. A new policy rebuilds the table in one batch;
 * a session change is one batch of the elements that changed (deletions first). When two
 * sessions of one client and service exist (a renewal on another SP while the old one still
 * carries open connections), the newest (latest expiry) gets the new connections.
 */
#ifndef COOPNET_AUTHD_SSNAT_H
#define COOPNET_AUTHD_SSNAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl.h"
#include "policy.h"
#include "sesslist.h"

#define SSNAT_TABLE "coopnet_ssnat"

struct ssnat_svc {                 /* a group service of the SS's policy */
	int family;                /* AF_INET / AF_INET6 */
	uint8_t vaddr[16];
	uint16_t port;
	uint8_t (*members)[16];
	size_t n_members;
};

struct ssnat_elem {                /* client . vaddr . port -> real */
	int family;
	uint8_t client[16];
	uint8_t vaddr[16];
	uint16_t port;
	uint8_t real[16];
};

struct ssnat_change {
	struct ssnat_elem *del, *add, *want;
	size_t n_del, n_add, n_want;
};

struct ssnat {
	bool enabled;              /* a supervisor with group services */
	struct ssnat_svc *svcs;
	size_t n_svcs;
	struct sesslist sess;        /* the engine's sessions, as sent to the data plane */
	struct ssnat_elem *held;   /* what the kernel's maps hold, sorted */
	size_t n_held;
	bool installed;
	uint64_t applied, failed;
};

/* A new policy: the group services, and the whole table in one batch (or the table removed
 * when none is left). On failure the previous services and table stay. 0 or -1 with err. */
int ssnat_policy(struct ssnat *sn, const struct policy *p, char *err, size_t size);
/* session-add / -del / -sync (the JSON the parent forwards): 1 changed, 0 not, -1 bad. */
int ssnat_session_req(struct ssnat *sn, const json_t *req);
/* Pure: the elements the sessions want against what the kernel holds. 0 or -1 (memory). */
int ssnat_plan(const struct ssnat *sn, struct ssnat_change *c);
void ssnat_change_free(struct ssnat_change *c);
/* One batch of what changed (none: no batch). 0, or -1 with err (the kernel and held keep
 * the previous state). */
int ssnat_apply(struct ssnat *sn, char *err, size_t size);
void ssnat_free(struct ssnat *sn);

/* ssnat_nft.c */
int ssnat_nft_table(const struct ssnat_svc *svcs, size_t n_svcs, const struct ssnat_elem *e,
		    size_t n);
int ssnat_nft_elems(const struct ssnat_change *c);
int ssnat_nft_delete(void);

#endif
