/* SPDX-License-Identifier: MIT */
/*
 * The virtual switch of a provider (paper 2.2 D, the relay-vNIC), kept by the privileged
 * parent in the nftables table `inet coopnet_vswitch` (docs/policy.md, "The virtual switch"):
 *
 *   steer4/steer6  map  client . ID (tcp urgptr) -> vNIC address, one element per session
 *   relay4/relay6  set  the SP's global addresses (provider.relay)
 *   vnic4/vnic6    set  every vNIC address
 *   svc4/svc6      set  (vNIC or relay address . port) of the services: marked for
 *                       coopnet-nfq's queue rule (provider.queue_mark)
 *   chain steer    nat prerouting (dstnat): a new connection to a relay address whose first
 *                  segment carries (URG clear) the ID of a session is DNATed to its vNIC; the
 *                  rest of the connection follows conntrack
 *   chain guard    filter input: a vNIC address is reachable from outside only through the
 *                  switch (ct status dnat); anything else to it is dropped and counted
 *
 * Every change (policy, session added or removed) rewrites the whole table in ONE `nft -f`
 * transaction (delete table + table { ... }): never a moment without the guard, and a
 * failure leaves the previous table in force. The parent learns the sessions from the
 * engine's data plane requests (session-add, session-del, session-sync; docs/control.md).
 */
#ifndef COOPNET_AUTHD_VSWITCH_H
#define COOPNET_AUTHD_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl.h"
#include "policy.h"

#define VSWITCH_TABLE "coopnet_vswitch"

struct vswitch_addr {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t addr[16];
};

struct vswitch_svc {
	struct vswitch_addr a;
	uint16_t port;
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
	struct cn_session *sess;     /* the engine's sessions, as sent to the data plane */
	size_t n_sess, cap;
	char nft[4096];              /* nft binary, "" for /usr/sbin/nft */
	uint64_t applied, failed;
};

/* Take the addresses of a (new) policy; sessions are kept. 0 or -1 (memory). */
int vswitch_set_policy(struct vswitch *vs, const struct policy *p);
/* A data plane request from the engine: session-add / session-del / session-sync.
 * Returns 1 when the sessions changed, 0 when not, -1 on a malformed request. */
int vswitch_session_req(struct vswitch *vs, const json_t *req);
/* The nft script for the whole table into buf. Returns its length, or -1 when buf is too
 * small. Pure (tests call it). */
int vswitch_render(const struct vswitch *vs, char *buf, size_t size);
/* Render and load it (`nft -f`). enabled == false: delete the table if present. */
int vswitch_apply(struct vswitch *vs, char *err, size_t size);
void vswitch_free(struct vswitch *vs);

#endif
