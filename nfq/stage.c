/* SPDX-License-Identifier: MIT */
/* The staging of a chunked session-sync (stage.h). */
#include "stage.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"

void stage_init(struct sess_stage *st)
{
	memset(st, 0, sizeof(*st));
	sess_list_init(&st->l);
}

void stage_discard(struct sess_stage *st)
{
	sess_list_clear(&st->l);
	stage_init(st);
}

/* "more": absent or false (the last chunk), true (more follow); anything else is an error. */
static int parse_more(bool *more, const json_t *req, char *err, size_t errlen)
{
	const json_t *v = json_object_get(req, "more");

	if (!v || json_is_false(v)) {
		*more = false;
		return 0;
	}
	if (json_is_true(v)) {
		*more = true;
		return 0;
	}
	snprintf(err, errlen, "\"more\" must be true or false");
	return -1;
}

/* One session of a chunk into the stage; msg: why it was refused (err is composed here). */
static int feed_one(struct sess_stage *st, const struct cn_session *s, size_t chunk, size_t i,
		    bool more, const char *msg, char *err, size_t errlen)
{
	if (msg) {
		/* "session N" alone keeps the message of a one-message sync as it was */
		if (chunk == 1 && !more)
			snprintf(err, errlen, "session %zu: %s", i, msg);
		else
			snprintf(err, errlen, "chunk %zu, session %zu (%zu in the sync): %s", chunk,
				 i, st->l.n, msg);
		return -1;
	}
	if (st->l.n >= STAGE_MAX_SESSIONS) {
		snprintf(err, errlen, "chunk %zu: more than %u sessions in one sync", chunk,
			 STAGE_MAX_SESSIONS);
		return -1;
	}
	if (sess_list_append(&st->l, s, SESS_SRC_AUTHD) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The chunk's sessions: a "sessions" array of objects, or "packed" records (ctl.h). */
static int feed_sessions(struct sess_stage *st, const json_t *req, size_t chunk, bool more,
			 char *err, size_t errlen)
{
	const json_t *arr = json_object_get(req, "sessions");
	const json_t *packed = json_object_get(req, "packed"), *v;
	size_t i, n;

	if (!packed == !arr) {
		snprintf(err, errlen, "chunk %zu: give \"sessions\" (an array of session objects) "
			 "or \"packed\", one of them", chunk);
		return -1;
	}
	if (packed) {
		char msg[256];

		if (cn_packed_count(packed, &n, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "chunk %zu: %s", chunk, msg);
			return -1;
		}
		for (i = 0; i < n; i++) {
			struct cn_session s = { 0 };
			bool bad = cn_packed_get(packed, i, &s, msg, sizeof(msg)) < 0;

			if (feed_one(st, &s, chunk, i, more, bad ? msg : NULL, err, errlen) < 0)
				return -1;
		}
		return 0;
	}
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "chunk %zu: \"sessions\" must be an array of session objects",
			 chunk);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct cn_session s = { 0 };
		char msg[256];
		bool bad = cn_session_from_json(&s, v, msg, sizeof(msg)) < 0;

		if (feed_one(st, &s, chunk, i, more, bad ? msg : NULL, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int stage_feed(struct sess_stage *st, const json_t *req, struct sess_list *out, char *err,
	       size_t errlen)
{
	bool more;

	st->chunks++;
	if (parse_more(&more, req, err, errlen) < 0 ||
	    feed_sessions(st, req, st->chunks, more, err, errlen) < 0) {
		stage_discard(st);
		return -1;
	}
	if (more) {
		st->open = true;
		return 0;
	}
	if (sess_list_dedup(&st->l) < 0) {
		snprintf(err, errlen, "out of memory");
		stage_discard(st);
		return -1;
	}
	*out = st->l;
	stage_init(st); /* ownership of the list moved to *out */
	return 1;
}
