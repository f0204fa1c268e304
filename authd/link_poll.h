/* SPDX-License-Identifier: MIT */
/* The parent reads the vNICs' link state for the engine (authd/link_poll.c). */
#ifndef COOPNET_AUTHD_LINK_POLL_H
#define COOPNET_AUTHD_LINK_POLL_H

#include "policy.h"

struct link_poll {
	char *last; /* the "vnics" object last sent (JSON text), NULL: none yet */
};

/* Read the link of each vNIC pol makes; send {"msg": "link-state", "vnics": {...}} to the
 * engine when it differs from the last message. */
void link_poll(struct link_poll *lp, const struct policy *pol, int engine_fd);
void link_poll_free(struct link_poll *lp); /* NULL-safe member */

#endif
