/* SPDX-License-Identifier: MIT */
/*
 * What a header SP knows of each SP of its group (policy.group[i]), the one place where the
 * group application (membership and status messages between a header and its SPs, issue 10)
 * leaves it and where the balancer (the header's choice of an SP for an Authentication)
 * reads it. engine.members is NULL until the group application allocates it (n =
 * pol.n_group, rebuilt on every policy load); every member then reads as MEMBER_UNKNOWN.
 */
#ifndef COOPNET_AUTHD_GROUP_VIEW_H
#define COOPNET_AUTHD_GROUP_VIEW_H

#include <stddef.h>
#include <stdint.h>

enum member_state {
	MEMBER_UNKNOWN = 0, /* never heard of (no heartbeat yet, or no group application) */
	MEMBER_UP,          /* heartbeats arrive */
	MEMBER_DOWN,        /* missed heartbeats, or left the group */
};

struct member_view {
	enum member_state state;
	uint32_t load;           /* live sessions the member reported */
	uint64_t seen_ms;        /* engine_now_ms() of its last accepted message, 0: never */
	uint64_t services_down;  /* bit k (k < 64): its vNIC for pol.group[i].services[k] is down */
};

#endif
