/* SPDX-License-Identifier: MIT */
/* The database connection (db.h): open, close, errors, statements, transactions. The
 * tables: db_migrate.c (schema), db_profile.c, db_session.c, db_replay.c, db_status.c. */
#include "db_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_fail(struct authd_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int db_fail(struct authd_db *db, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	n = strlen(db->err);
	if (db->h && sqlite3_errcode(db->h) != SQLITE_OK)
		snprintf(db->err + n, sizeof(db->err) - n, ": %s", sqlite3_errmsg(db->h));
	return -1;
}

/* For db_status.c (db_int.h): the connection, and an error naming what failed. */
sqlite3 *db_sqlite(struct authd_db *db)
{
	return db->h;
}

int db_fail_sql(struct authd_db *db, const char *what)
{
	return db_fail(db, "%s", what);
}

const char *db_error(const struct authd_db *db)
{
	return db->err;
}

const char *db_role_name(enum db_role role)
{
	return role == DB_ROLE_SUPERVISOR ? "supervisor" : role == DB_ROLE_PROVIDER ? "provider" : "";
}

enum db_role db_role_from_name(const char *name)
{
	if (name && !strcmp(name, "supervisor"))
		return DB_ROLE_SUPERVISOR;
	if (name && !strcmp(name, "provider"))
		return DB_ROLE_PROVIDER;
	return 0;
}

int db_exec(struct authd_db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(db->err, sizeof(db->err), "%s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void db_rollback_keep(struct authd_db *db)
{
	/* Keep the first error: a failing rollback must not hide why we roll back. */
	char saved[sizeof(db->err)];

	memcpy(saved, db->err, sizeof(saved));
	db_pchg_all(db);  /* which of the transaction's writes are undone: not known here */
	db_sidx_drop(db); /* it may hold writes of the transaction */
	db_ridx_drop(db);
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	memcpy(db->err, saved, sizeof(saved));
}

int db_prepare(struct authd_db *db, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, "prepare");
	}
	return 0;
}

/* A cached statement, prepared on first use. Give it back with db_done_cached(). */
int db_cached(struct authd_db *db, enum db_stmt which, sqlite3_stmt **st, const char *sql)
{
	if (!db->cache[which] && db_prepare(db, &db->cache[which], sql) < 0)
		return -1;
	*st = db->cache[which];
	return 0;
}

/* Reset it and drop its bindings (they may point at the caller's stack). */
void db_done_cached(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no row. */
int db_step_done(struct authd_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		return db_fail(db, "%s", what);
	return 0;
}

struct authd_db *db_open(const char *path, char *err, size_t errlen)
{
	struct authd_db *db = calloc(1, sizeof(*db));

	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	db->pchg_all = true; /* nothing taken yet */
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, db_walbuf_vfs()) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 2000);
	/* WAL: readers (sqlite3 CLI, tests) never block the daemon's writes. */
	if (db_exec(db, "PRAGMA journal_mode = WAL") < 0 || db_exec(db, "PRAGMA foreign_keys = ON") < 0 ||
	    db_exec(db, "PRAGMA synchronous = NORMAL") < 0 ||
	    /* 16 MiB of pages (default 2 MiB): 100,000 sessions and a second's replay digests
	     * stay in memory instead of a pread(2) per miss (issue 11). wal_autocheckpoint
	     * stays at sqlite's 1,000 pages: 10,000 took fewer fdatasync, but each checkpoint
	     * of ~40 MiB stalled the engine's turn (p99 40 -> 130 ms, 0.6-0.75x the exchanges
	     * on a quiet machine, docs/performance.md). */
	    db_exec(db, "PRAGMA cache_size = -16384") < 0 || db_migrate(db) < 0) {
		snprintf(err, errlen, "%s: %s", path, db->err);
		db_close(db);
		return NULL;
	}
	return db;
}

void db_close(struct authd_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(db->cache[i]); /* NULL is a no-op */
	db_sidx_drop(db);
	db_ridx_drop(db);
	free(db->pchg);
	sqlite3_close(db->h);
	free(db);
}

/* --- the engine's turn transaction (authd/engine_turn.c) ------------------------------ */

/* A cached statement without bindings or rows, run once. */
static int run_cached(struct authd_db *db, enum db_stmt which, const char *sql)
{
	sqlite3_stmt *st;
	int r;

	if (db_cached(db, which, &st, sql) < 0)
		return -1;
	r = db_step_done(db, st, sql);
	sqlite3_reset(st);
	return r;
}

int db_begin(struct authd_db *db)
{
	/* IMMEDIATE: take the write lock now, so no write of the turn meets SQLITE_BUSY later */
	return run_cached(db, ST_BEGIN, "BEGIN IMMEDIATE");
}

int db_commit(struct authd_db *db)
{
	if (run_cached(db, ST_COMMIT, "COMMIT") == 0)
		return 0;
	/* a COMMIT that failed (busy, I/O) may leave the transaction open: end it */
	if (db_in_tx(db))
		db_rollback_keep(db);
	return -1;
}

void db_rollback(struct authd_db *db)
{
	db_pchg_all(db);
	db_sidx_drop(db); /* also when sqlite rolled back on its own: it mirrored the writes */
	db_ridx_drop(db);
	if (db_in_tx(db))
		db_rollback_keep(db);
}

bool db_in_tx(const struct authd_db *db)
{
	return sqlite3_get_autocommit(db->h) == 0;
}
