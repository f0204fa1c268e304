/* SPDX-License-Identifier: MIT */
/*
 * The staging of a chunked session-sync (docs/control.md, "Large requests"): coopnet-authd
 * sends {"cmd": "session-sync", "packed": "...", "more": true} as many times as it needs and
 * the last chunk without "more" (or "more": false). A chunk carries its sessions as a
 * "sessions" array of objects or as "packed" records (lib/ctl.h), one of the two. Each control connection has one stage;
 * the chunks accumulate there and only the last one hands the whole set over, to be applied
 * in one main-loop turn. A bad chunk discards the stage (the whole sync is refused), and so
 * does closing the connection before the last chunk: the running table stays.
 * Pure: no I/O, driven by the control socket and by the unit tests.
 */
#ifndef COOPNET_NFQ_STAGE_H
#define COOPNET_NFQ_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "table.h"

/* Bound on what one sync may stage (memory: about 64 bytes a session). */
#define STAGE_MAX_SESSIONS (1u << 20)

struct sess_stage {
	struct sess_list l;  /* every session of the chunks so far, in order, duplicates too */
	size_t chunks;       /* chunks received */
	bool open;           /* a chunk with "more": true came and the last one has not */
};

void stage_init(struct sess_stage *st);
void stage_discard(struct sess_stage *st); /* frees; the stage is empty and closed again */

/*
 * Feed one session-sync request. Returns
 *    1  the sync is complete: *out (initialised by the caller) receives every session, a
 *       later duplicate of a key replacing an earlier one; the stage is empty again;
 *    0  more chunks are expected;
 *   -1  refused: err says which chunk and which session (its index in the chunk and in the
 *       whole sync) and why; the stage is discarded.
 */
int stage_feed(struct sess_stage *st, const json_t *req, struct sess_list *out, char *err,
	       size_t errlen);

#endif
