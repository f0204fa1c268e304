/* SPDX-License-Identifier: MIT */
/*
 * Health checks of one service on a vNIC address (docs/policy.md "Health checks"): a TCP
 * connect, or an HTTP GET whose status line is read, on a non-blocking socket with a time
 * limit, repeated every interval. The verdict changes only after `rise` consecutive passes
 * (to passing) or `fall` consecutive failures (to failing), as HAProxy's rise/fall; the first
 * result decides alone (the verdict starts unknown).
 *
 * The caller owns the loop and the clock: it polls health_fd() for the events it asks for,
 * and calls health_run(now) when the fd is ready or health_next_deadline() has passed. No
 * call blocks.
 */
#ifndef COOPNET_AUTHD_HEALTH_H
#define COOPNET_AUTHD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "status.h"

#define HEALTH_PATH_MAX 256

/* Zero fields take the defaults (in brackets). */
struct health_cfg {
	uint8_t check;             /* enum cn_check: CN_CHECK_TCP or CN_CHECK_HTTP */
	uint32_t interval_ms;      /* from one check's start to the next [5000] */
	uint32_t timeout_ms;       /* connect + request + status line [2000, < interval] */
	uint32_t rise;             /* consecutive passes before passing [2] */
	uint32_t fall;             /* consecutive failures before failing [3] */
	uint16_t expect_status;    /* HTTP: the status that passes, 0: any 2xx or 3xx [0] */
	char path[HEALTH_PATH_MAX];/* HTTP: request path ["/"] */
	char host[256];            /* HTTP: Host header ["" = the address] */
};
/* Fill zero fields; false when a field is out of range (message in why). */
bool health_cfg_defaults(struct health_cfg *c, const char **why);

struct health;

/* NULL on allocation failure or a bad configuration. */
struct health *health_new(const struct health_cfg *cfg, const struct sockaddr *addr,
    socklen_t addrlen, uint64_t now_ms);
void health_free(struct health *h); /* NULL-safe; closes its socket */

/* The socket of the check in progress and the poll events it waits for, or -1. */
int health_fd(const struct health *h, short *events);
/* When health_run must be called at the latest (the next start or the time limit). */
uint64_t health_next_deadline(const struct health *h);
/* Advance; true when the verdict changed. */
bool health_run(struct health *h, uint64_t now_ms);

struct health_result {
	uint64_t checks;         /* checks finished so far */
	bool ok;                 /* the last one passed */
	uint16_t http_code;      /* the last HTTP status read, 0: none */
	uint32_t ms;             /* how long the last check took */
	const char *why;         /* the last failure: "refused", "timeout", "status", ... */
	uint64_t changed_ms;     /* when the verdict last changed, 0: never */
};
uint8_t health_verdict(const struct health *h); /* enum cn_health (never CN_HEALTH_NONE) */
const struct health_result *health_last(const struct health *h);

/* The link state of info_vNIC from the kernel's operstate (RFC 2863 words as
 * /sys/class/net/IFNAME/operstate shows them): "up" -> CN_LINK_UP; "down",
 * "lowerlayerdown", "notpresent" -> CN_LINK_DOWN; anything else -> CN_LINK_UNKNOWN. */
uint8_t health_link_from_operstate(const char *text);
/* Read it for ifname (1..15 characters, no '/'): CN_LINK_DOWN when the interface does not
 * exist, CN_LINK_UNKNOWN when the name is not valid or the file cannot be read. */
uint8_t health_link_state(const char *ifname);

#endif
