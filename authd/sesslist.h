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
#include "hidx.h"

/* One change of the list, for a consumer that follows it element by element (the virtual
 * switch): the session a key held before (if any) and what it holds after (if any). */
struct sesslist_change {
	bool has_old, has_new;
	struct cn_session old, new;
};

struct sesslist {
	struct cn_session *v; /* owned; free with sesslist_free */
	size_t n, cap;
	struct hidx ix;       /* key -> position in v: O(1) add and delete */
	/* With track set, the changes since sesslist_changes_reset; full: the log does not say
	 * everything (a session-sync, or no memory for the log): look at the whole list. */
	bool track, full;
	struct sesslist_change *chg;
	size_t n_chg, cap_chg;
};

/* Apply one request {"cmd": "session-add"|"session-del"|"session-sync", "sessions": [...]}
 * or with "packed" records instead of "sessions" (lib/ctl.h; the parent's session-sync).
 * who names the consumer in the log line of a bad session. Returns 1 when the list changed,
 * 0 when not, -1 on a malformed request or out of memory (the list may hold the sessions
 * before the bad one). */
int sesslist_req(struct sesslist *l, const json_t *req, const char *who);
void sesslist_free(struct sesslist *l); /* NULL-safe */
/* Forget the change log (after the consumer followed it); keeps track. */
void sesslist_changes_reset(struct sesslist *l);

#endif
