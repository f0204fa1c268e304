/* SPDX-License-Identifier: MIT */
/*
 * `coopnetctl group` (docs/coopnetctl.md, "group": the JSON shape, version 1): the parts of the
 * view that are pure functions of the policy and of what the engine knows, so that cmocka
 * renders them without an engine (tests/unit/test_group_view.c):
 *   header: each SP of pol.group with its weight, services, the group application's view
 *           (state, since when, load, services down) and this header's decisions for it;
 *   ss:     each group service of pol.services with its members, their state (from the
 *           status reports of the sessions that use them) and the sessions on each, and each
 *           session with the SP it uses.
 * authd/engine_group.c gathers the inputs and answers the control command.
 */
#ifndef COOPNET_AUTHD_GROUP_JSON_H
#define COOPNET_AUTHD_GROUP_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "group_fsm.h"
#include "policy.h"

#define GROUP_VIEW_VERSION 1

/* The state of the SP a session uses, as the SS sees it (worst first). */
enum gv_state {
	GV_UNREACHABLE = 0, /* the status application: no valid report for miss_limit intervals */
	GV_DOWN,            /* reachable, its vNIC for the service down (health check, link) */
	GV_BUSY,
	GV_UP,
	GV_UNKNOWN,         /* no report yet */
};
const char *gv_state_name(enum gv_state s);

/* One SS session of a group service, as the engine read it from its database. */
struct gv_session {
	char client[CN_COOP_ADDRSTRLEN];
	char service[CN_COOP_SERVICE_LEN];   /* the service's name */
	char id[8];
	char sp[56];                         /* sessions.peer: the SP that issued it */
	struct cn_coop_addr member;          /* where the SS DNATs it (its service address) */
	enum gv_state state;
	int64_t since_ms;                    /* age of that state, -1 unknown */
	int64_t load;                        /* the SP's live sessions of it (info_vNIC), -1 */
	int64_t report_age_ms;               /* age of its last status report, -1 none */
};

/* header object, or json null when pol is no header. rx (the group application's view) and
 * decisions (n_group entries) may be NULL. now_ms: the engine's clock of rx. */
json_t *group_json_header(const struct policy *pol, const struct group_rx *rx,
			  const uint64_t *decisions, uint64_t now_ms);
/* ss object ({"services"}), or json null when pol has no group service. The
 * sessions are a listing of their own (the control command "group-sessions", paged: an SS
 * has more than one message holds): group_json_sessions, an array of n. */
json_t *group_json_ss(const struct policy *pol, const struct gv_session *rows, size_t n);
json_t *group_json_sessions(const struct gv_session *rows, size_t n);

#endif
