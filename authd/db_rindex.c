/* SPDX-License-Identifier: MIT */
/*
 * The replay cache in memory, in front of the replay table (issue 11): digest -> expiry, so
 * that an Auth-REQ's "seen before?" and the check of its insert ask sqlite nothing. The table
 * stays the durable copy (a restart loads it from there). Since schema 6 the table has no
 * index on digest (its inserts are appends), so this index is also the uniqueness check.
 *
 * Like the provider's session index (db_index.c) it mirrors what is committed or about to be
 * in this connection's transaction: db_replay.c adds after each insert that succeeded and
 * prunes after each prune, and every rollback (db.c) drops it, to be loaded again on the
 * next lookup. One engine writes the database (docs/database.md).
 */
#include "db_int.h"
#include "grow.h"
#include "hidx.h"

#include <stdlib.h>
#include <string.h>

struct ridx_entry {
	uint8_t digest[DB_DIGEST_MAX];
	uint8_t len;
	int64_t expires;
};

struct db_ridx {
	struct ridx_entry *e;
	size_t n, cap;
	struct hidx by_digest;
};

static uint64_t digest_hash(const void *p)
{
	const struct ridx_entry *x = p;

	return hidx_bytes_hash(HIDX_HASH_INIT + x->len, x->digest, x->len);
}

static bool digest_eq(const void *a, const void *b)
{
	const struct ridx_entry *x = a, *y = b;

	return x->len == y->len && !memcmp(x->digest, y->digest, x->len);
}

static const struct hidx_type digest_type = { .size = sizeof(struct ridx_entry),
					      .hash = digest_hash, .eq = digest_eq };

void db_ridx_drop(struct authd_db *db)
{
	if (!db->ridx)
		return;
	hidx_free(&db->ridx->by_digest);
	free(db->ridx->e);
	free(db->ridx);
	db->ridx = NULL;
}

static bool entry_of(struct ridx_entry *x, const uint8_t *digest, size_t len, int64_t expires)
{
	if (len == 0 || len > DB_DIGEST_MAX)
		return false;
	memset(x, 0, sizeof(*x));
	memcpy(x->digest, digest, len);
	x->len = (uint8_t)len;
	x->expires = expires;
	return true;
}

/* Append x (not indexed yet). 0, or -1 (out of memory). */
static int append(struct db_ridx *ix, const struct ridx_entry *x)
{
	struct ridx_entry *ne;

	/* the array stops short of HIDX_MAX positions (grown from a power of two) */
	if (ix->n >= HIDX_MAX / 2)
		return -1;
	ne = grow(ix->e, ix->n, &ix->cap, sizeof(*ne), 4096);
	if (!ne)
		return -1;
	ix->e = ne;
	ix->e[ix->n] = *x;
	if (hidx_insert(&ix->by_digest, &digest_type, ix->e, ix->n) < 0)
		return -1;
	ix->n++;
	return 0;
}

static int load_row(struct db_ridx *ix, sqlite3_stmt *st)
{
	struct ridx_entry x;
	int len = sqlite3_column_bytes(st, 0);
	const void *d = sqlite3_column_blob(st, 0);
	long pos;

	if (!d || len <= 0 || !entry_of(&x, d, (size_t)len, sqlite3_column_int64(st, 1)))
		return -1;
	if ((pos = hidx_find(&ix->by_digest, &digest_type, ix->e, &x)) >= 0) {
		/* twice in the table (only another writer could do that): the later expiry */
		if (ix->e[pos].expires < x.expires)
			ix->e[pos].expires = x.expires;
		return 0;
	}
	return append(ix, &x);
}

/* The index, loaded from the table when it is not there. NULL: the caller asks sqlite. */
static struct db_ridx *ridx(struct authd_db *db)
{
	sqlite3_stmt *st;
	int rc;

	if (db->ridx)
		return db->ridx;
	db->ridx = calloc(1, sizeof(*db->ridx));
	if (!db->ridx || db_prepare(db, &st, "SELECT digest, expires FROM replay") < 0) {
		db_ridx_drop(db);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (load_row(db->ridx, st) < 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		db_ridx_drop(db);
	return db->ridx;
}

int db_ridx_seen(struct authd_db *db, const uint8_t *digest, size_t len)
{
	struct db_ridx *ix = ridx(db);
	struct ridx_entry x;

	if (!ix || !entry_of(&x, digest, len, 0))
		return -1;
	return hidx_find(&ix->by_digest, &digest_type, ix->e, &x) >= 0;
}

void db_ridx_add(struct authd_db *db, const uint8_t *digest, size_t len, int64_t expires)
{
	struct db_ridx *ix = db->ridx; /* not loaded: the next load reads the row */
	struct ridx_entry x;

	if (!ix)
		return;
	if (!entry_of(&x, digest, len, expires) ||
	    hidx_find(&ix->by_digest, &digest_type, ix->e, &x) >= 0 || append(ix, &x) < 0)
		db_ridx_drop(db); /* cannot mirror the table: load it again when asked */
}

/* Take out the entry at pos (swap-remove). */
static void take_out(struct db_ridx *ix, size_t pos)
{
	hidx_remove(&ix->by_digest, &digest_type, ix->e, pos);
	if (pos != --ix->n) {
		ix->e[pos] = ix->e[ix->n];
		hidx_move(&ix->by_digest, &digest_type, ix->e, ix->n, pos);
	}
}

void db_ridx_prune(struct authd_db *db, int64_t now)
{
	struct db_ridx *ix = db->ridx;

	if (!ix)
		return;
	for (size_t i = 0; i < ix->n;) {
		if (ix->e[i].expires <= now)
			take_out(ix, i); /* the last one is at i now: look at it next */
		else
			i++;
	}
}
