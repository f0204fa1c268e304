/* SPDX-License-Identifier: MIT */
/*
 * The cooperative applications of the engine and the table that dispatches datagrams to them
 * (authd/engine_dispatch.c; the recipe for a new application is in docs/protocol.md,
 * "Defining a new cooperative application").
 *
 * A datagram is decoded once at the entry; a mac it carries is checked there with the group
 * key (the cheapest authenticity check: one keyed hash, no lookup), and a mac that does not
 * verify drops it before any handler runs. Then ONE handler runs, chosen by the cooperative
 * flag (which application) and the kind (which message of it). A flag no application claims,
 * or a kind its application has no handler for, is counted (coop-unknown) and dropped
 * without an answer.
 */
#ifndef COOPNET_AUTHD_COOP_APP_H
#define COOPNET_AUTHD_COOP_APP_H

#include "engine.h"

/* Handle one decoded datagram from `from`. d->raw and d->len are the bytes the proof and
 * the mac cover; d->mac_ok is true when a mac was present and verified. */
typedef void (*coop_handler_fn)(struct engine *e, const struct cn_coop_addr *from,
				const struct auth_dgram *d);

struct coop_app {
	const char *name;                    /* "auth", "status", ...: logs */
	uint16_t coop;                       /* its cooperative flag: CN_COOP_AUTH, ... */
	/* One handler per message kind, designated: .on = { [CN_KIND_AUTH_REQ] = ... }.
	 * A developer application's messages are all CN_KIND_DEV. NULL: counted, dropped. */
	coop_handler_fn on[CN_KIND_DEV + 1];
	/* All optional. setup: (re)build its state for e->pol (after every policy load;
	 * -1 is fatal); free: at exit; tick: run the timers that are due; deadline: when the
	 * next one is due (UINT64_MAX: none). */
	int (*setup)(struct engine *e);
	void (*free)(struct engine *e);
	void (*tick)(struct engine *e);
	uint64_t (*deadline)(const struct engine *e);
};

/* The applications, one file each. */
extern const struct coop_app coop_app_auth;          /* authd/engine_auth.c */
extern const struct coop_app coop_app_status;        /* authd/engine_status.c */
extern const struct coop_app coop_app_group;         /* authd/engine_member.c */
extern const struct coop_app coop_app_probe;         /* authd/engine_probe.c */

/* The table, indexed by the bit number of the cooperative flag (CN_COOP_AUTH = bit 0, ...,
 * CN_COOP_DEV(n) = bit 8 + n). */
#define COOP_APP_SLOTS 16
extern const struct coop_app *const coop_apps[COOP_APP_SLOTS];

/* Decode, authenticate the mac, dispatch through apps (tests pass their own table). */
void coop_dispatch(struct engine *e, const struct coop_app *const apps[COOP_APP_SLOTS],
		   const struct cn_coop_addr *from, const uint8_t *buf, size_t len);

/* Every application of coop_apps: setup (the first failure is returned), free, tick,
 * and the earliest deadline. */
int engine_apps_setup(struct engine *e);
void engine_apps_free(struct engine *e);
void engine_apps_tick(struct engine *e);
uint64_t engine_apps_deadline(const struct engine *e);

#endif
