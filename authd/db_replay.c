/* SPDX-License-Identifier: MIT */
/* The replay cache that survives restarts (docs/database.md), with its copy in memory in
 * front (db_rindex.c). */
#include "db_int.h"

#include <stdio.h>

static int check_len(struct authd_db *db, size_t len)
{
	if (len == 0 || len > DB_DIGEST_MAX) {
		snprintf(db->err, sizeof(db->err), "replay digest of %zu bytes (1 to %d)", len,
			 DB_DIGEST_MAX);
		return -1;
	}
	return 0;
}

/* The table itself, when the digests in memory could not be loaded (out of memory): the
 * table has no index on digest (schema 6: the inserts are appends), so this reads it all. */
static int in_table(struct authd_db *db, const uint8_t *digest, size_t len)
{
	sqlite3_stmt *st;
	int rc, r;

	if (db_cached(db, ST_REPLAY_SEEN, &st, "SELECT 1 FROM replay WHERE digest = ?") < 0)
		return -1;
	sqlite3_bind_blob(st, 1, digest, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_fail(db, "look up replay digest");
	db_done_cached(st);
	return r;
}

int db_replay_check_add(struct authd_db *db, const uint8_t *digest, size_t len, int64_t expires)
{
	sqlite3_stmt *st;
	int r;

	if (check_len(db, len) < 0)
		return -1;
	/* in memory (db_rindex.c): a digest seen before costs no statement, and a new one
	 * costs no lookup; it is the only uniqueness check (one writer, docs/database.md) */
	if ((r = db_ridx_seen(db, digest, len)) < 0)
		r = in_table(db, digest, len);
	if (r != 0)
		return r;
	if (db_cached(db, ST_REPLAY_ADD, &st, "INSERT INTO replay(digest, expires) "
		   "VALUES (?, ?)") < 0)
		return -1;
	sqlite3_bind_blob(st, 1, digest, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expires);
	r = db_step_done(db, st, "record replay digest");
	db_done_cached(st);
	if (r < 0)
		return -1;
	db_ridx_add(db, digest, len, expires);
	return 0;
}

int db_replay_seen(struct authd_db *db, const uint8_t *digest, size_t len)
{
	int r;

	if (check_len(db, len) < 0)
		return -1;
	if ((r = db_ridx_seen(db, digest, len)) >= 0)
		return r;
	return in_table(db, digest, len);
}

int db_replay_prune(struct authd_db *db, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (db_prepare(db, &st, "DELETE FROM replay WHERE expires <= ?") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	r = db_step_done(db, st, "prune replay cache");
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	db_ridx_prune(db, now);
	return sqlite3_changes(db->h);
}
