/* SPDX-License-Identifier: MIT */
/*
 * What the files of the database module share; not for other callers (they use db.h).
 *   db.c          the connection: open, close, errors, statements, the turn transaction
 *   db_migrate.c  the schema's migrations
 *   db_profile.c  vnics, services, clients (db_set_profile)
 *   db_session.c  sessions
 *   db_replay.c   the replay cache
 *   db_rindex.c   the replay cache in memory, in front of the table
 *   db_status.c   vnic_status, client_status
 */
#ifndef COOPNET_AUTHD_DB_INT_H
#define COOPNET_AUTHD_DB_INT_H

#include <sqlite3.h>

#include "db.h"

/* The statements of an Authentication (replay cache, ID check, session commit), prepared
 * once and reused: parsing them for every exchange cost more than running them. */
enum db_stmt {
	ST_REPLAY_SEEN,
	ST_REPLAY_ADD,
	ST_ID_IN_USE,
	ST_SESSION_PUT,
	/* issue 11: per exchange too (data-plane gate, renewal check), and per status report */
	ST_SESSION_GET,
	ST_SESSION_DEL,
	ST_CLIENT_STATUS_PUT,
	ST_VNIC_STATUS_PUT,
	ST_STATUS_REACH_SS,
	ST_STATUS_REACH_SP,
	ST_STATUS_DEL_SS,
	ST_STATUS_DEL_SP,
	/* the engine's turn transaction: parsed once, not per turn */
	ST_BEGIN,
	ST_COMMIT,
	/* the provider's twins of ST_SESSION_GET and ST_SESSION_DEL (db_session.c: role_stmt) */
	ST_SESSION_GET_SP,
	ST_SESSION_DEL_SP,
	/* the idle expiry's record of a due session's newer activity (db_session_touch) */
	ST_SESSION_TOUCH,
	ST_SESSION_TOUCH_SP,
	/* a provider's renewal of a session its index knows (db_session.c provider_renew) */
	ST_SESSION_RENEW,
	ST_MAX
};

struct db_sidx;
struct db_ridx;

struct authd_db {
	sqlite3 *h;
	sqlite3_stmt *cache[ST_MAX];
	struct db_sidx *sidx; /* the provider's sessions in memory (db_index.c); NULL: not loaded */
	struct db_ridx *ridx; /* the replay digests in memory (db_rindex.c); NULL: not loaded */
	/* the provider IDs whose session was stored, changed or deleted since the last
	 * db_provider_changes (db_session.c); all: take every one as changed */
	cn_id_t *pchg;
	size_t npchg, pchg_cap;
	bool pchg_all;
	char err[512];
};

sqlite3 *db_sqlite(struct authd_db *db);
/* db_walbuf.c: the VFS that writes a WAL's frames of one commit in one write; its name, or
 * NULL when it could not be registered (then sqlite's default VFS). */
const char *db_walbuf_vfs(void);
struct db_walbuf_stats {
	unsigned long long writes_in;  /* WAL writes sqlite made */
	unsigned long long writes_out; /* write(2) calls they took */
};
struct db_walbuf_stats db_walbuf_stats(void);
/* Set the error to "what: <sqlite's message>"; returns -1. */
int db_fail_sql(struct authd_db *db, const char *what);
/* Set the error (with sqlite's message when it has one); returns -1. */
int db_fail(struct authd_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run sql (no rows); on error db->err is sqlite's message. */
int db_exec(struct authd_db *db, const char *sql);
/* ROLLBACK, keeping the first error in db->err. */
void db_rollback_keep(struct authd_db *db);
int db_prepare(struct authd_db *db, sqlite3_stmt **st, const char *sql);
/* A cached statement, prepared on first use. Give it back with db_done_cached(). */
int db_cached(struct authd_db *db, enum db_stmt which, sqlite3_stmt **st, const char *sql);
void db_done_cached(sqlite3_stmt *st);
/* Step a statement that returns no row. */
int db_step_done(struct authd_db *db, sqlite3_stmt *st, const char *what);
enum db_role db_role_from_name(const char *name); /* 0: none */
/* db_index.c: the provider's sessions by key and by ID, in front of the table. find and
 * id_in_use: 1 or 0, or -1 when the index cannot be had (ask sqlite then). put and del follow
 * a write that succeeded; drop forgets it all (every rollback), the next lookup loads it. */
int db_sidx_find(struct authd_db *db, const struct cn_session *key, cn_id_t *id);
/* The same without loading it: -1 when not loaded. */
int db_sidx_peek(struct authd_db *db, const struct cn_session *key, cn_id_t *id);
int db_sidx_id_in_use(struct authd_db *db, cn_id_t id);
/* The key of the provider session holding id: 1 (key set), 0 none, -1 no index (ask sqlite). */
int db_sidx_id_key(struct authd_db *db, cn_id_t id, struct cn_session *key);
/* s's ID held by a provider session of another key: 1; 0 free or s's key's; -1 no index. */
int db_sidx_id_other(struct authd_db *db, const struct cn_session *s);
void db_sidx_put(struct authd_db *db, const struct cn_session *s);
void db_sidx_del(struct authd_db *db, const struct cn_session *key);
void db_sidx_drop(struct authd_db *db);
/* db_session.c: the provider's changes (db_provider_changes): id's session changed; all: any */
void db_pchg_mark(struct authd_db *db, cn_id_t id);
void db_pchg_all(struct authd_db *db);
/* db_rindex.c: the replay digests in front of the replay table. seen: 1 or 0, or -1 when the
 * index cannot be had (ask sqlite then). add and prune follow a write that succeeded; drop
 * forgets it all (every rollback), the next lookup loads it. */
int db_ridx_seen(struct authd_db *db, const uint8_t *digest, size_t len);
void db_ridx_add(struct authd_db *db, const uint8_t *digest, size_t len, int64_t expires);
void db_ridx_prune(struct authd_db *db, int64_t now);
void db_ridx_drop(struct authd_db *db);
/* db_migrate.c: bring the schema to DB_SCHEMA_VERSION, one transaction a step. */
int db_migrate(struct authd_db *db);

#endif
