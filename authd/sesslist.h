/* SPDX-License-Identifier: MIT */
/*
 * The engine's sessions as the privileged parent learns them from the data plane requests
 * (session-add, session-del, session-sync; docs/control.md). One list per consumer (the
 * virtual switch, the SS DNAT), each owning its array; a session is keyed by
 * client . service . port, a session-add of a known key replaces it.
 */
#ifndef COOPNET_AUTHD_SESSLIST_H
#define COOPNET_AUTHD_SESSLIST_H

#include <stddef.h>

#include <jansson.h>

#include "ctl.h"

struct sesslist {
	struct cn_session *v; /* owned; free with sesslist_free */
	size_t n, cap;
};

/* Apply one request {"cmd": "session-add"|"session-del"|"session-sync", "sessions": [...]}.
 * who names the consumer in the log line of a bad session. Returns 1 when the list changed,
 * 0 when not, -1 on a malformed request or out of memory (the list may hold the sessions
 * before the bad one). */
int sesslist_req(struct sesslist *l, const json_t *req, const char *who);
void sesslist_free(struct sesslist *l); /* NULL-safe */

#endif
