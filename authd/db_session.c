/* SPDX-License-Identifier: MIT */
/* The sessions table (the paper's ID LIST): store, read, walk, delete, expire. */
#include "db_int.h"
#include "addrtext.h"
#include "grow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int addr_text(const struct cn_session *s, const uint8_t *a, char *buf, size_t len)
{
	return cn_ntop(s->family, a, buf, len) ? 0 : -1; /* inet_ntop's text, no printf */
}

struct key_text {
	char client[INET6_ADDRSTRLEN];
	char service[INET6_ADDRSTRLEN];
};

static int key_text(struct authd_db *db, const struct cn_session *s, struct key_text *k)
{
	if ((s->family != AF_INET && s->family != AF_INET6) ||
	    addr_text(s, s->client, k->client, sizeof(k->client)) < 0 ||
	    addr_text(s, s->service, k->service, sizeof(k->service)) < 0) {
		snprintf(db->err, sizeof(db->err), "session has no valid address family");
		return -1;
	}
	return 0;
}

/* --- the provider's changes (db_provider_changes) ------------------------------------------- */

#define PCHG_MAX 65536 /* more: every session is taken as changed */

void db_pchg_all(struct authd_db *db)
{
	db->pchg_all = true;
	db->npchg = 0;
}

void db_pchg_mark(struct authd_db *db, cn_id_t id)
{
	cn_id_t *v;

	if (db->pchg_all)
		return;
	if (db->npchg >= PCHG_MAX || !(v = grow(db->pchg, db->npchg, &db->pchg_cap, sizeof(*v), 64))) {
		db_pchg_all(db);
		return;
	}
	db->pchg = v;
	db->pchg[db->npchg++] = id;
}

/* Before a write of a provider session: the ID its key holds now changes too. held is
 * db_sidx_peek's answer for the key (id when 1; -1, the index not loaded: all change). */
static void held_id_changes(struct authd_db *db, int held, cn_id_t id)
{
	if (held < 0)
		db_pchg_all(db);
	else if (held == 1)
		db_pchg_mark(db, id);
}

/* The same, asking the index in memory (loaded, as in the engine after its first lookup). */
static void key_changes(struct authd_db *db, const struct cn_session *key)
{
	cn_id_t id = 0;
	int held = db_sidx_peek(db, key, &id); /* before id is read: argument order is unspecified */

	held_id_changes(db, held, id);
}

int db_provider_changes(struct authd_db *db, cn_id_t **ids, size_t *n)
{
	bool all = db->pchg_all;

	*ids = all ? NULL : db->pchg;
	*n = all ? 0 : db->npchg;
	if (!all) {
		db->pchg = NULL;
		db->pchg_cap = 0;
	}
	db->npchg = 0;
	db->pchg_all = false;
	return all ? 0 : 1;
}

static void bind_key(sqlite3_stmt *st, const struct key_text *k, uint16_t port);
static void bind_put(sqlite3_stmt *st, const struct db_session *s, const struct key_text *k);
static int provider_renew(struct authd_db *db, const struct db_session *s,
			  const struct key_text *k, cn_id_t old);

/*
 * An SP never hands out one ID twice among its live sessions (docs/database.md): 1 when a
 * provider session other than s's key holds s's ID, 0 when none does, -1 on error. The
 * provider's index in memory answers (schema 8 dropped the table's unique index on the ID:
 * its random keys cost two random pages per renewal); without it (out of memory, or a table
 * that repeats an ID, which its load refuses) sqlite answers by a scan, so the check never
 * lapses.
 */
static int provider_id_taken(struct authd_db *db, const struct cn_session *s,
			     const struct key_text *k)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = db_sidx_id_other(db, s)) >= 0)
		return r;
	if (db_prepare(db, &st, "SELECT 1 FROM sessions WHERE role = 'provider' AND id = ?4 AND "
		       "NOT (client = ?1 AND service = ?2 AND port = ?3)") < 0)
		return -1;
	bind_key(st, k, s->port);
	sqlite3_bind_int(st, 4, s->id);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_fail(db, "look up ID");
	sqlite3_finalize(st);
	return r;
}

int db_session_put(struct authd_db *db, const struct db_session *s)
{
	static const char sql[] =
		"INSERT INTO sessions(role, family, client, service, port, id, vnic, "
		"peer, created, refreshed, expires, service_name, client_name, session_key, active) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?10) "
		/* not INSERT OR REPLACE: a replaced row is deleted first, and its status row
		 * with it (the trigger sessions_status_del) */
		"ON CONFLICT (role, client, service, port) DO UPDATE SET id = excluded.id, "
		"vnic = excluded.vnic, peer = excluded.peer, refreshed = excluded.refreshed, "
		"expires = excluded.expires, service_name = excluded.service_name, "
		"client_name = excluded.client_name, session_key = excluded.session_key";
		/* active: set by the insert only. A renewal leaves it: it is a lower bound, and
		 * the idle expiry counts the renewal through refreshed when the session is due
		 * (IDLE_RECHECK, engine_idle.c last_active), so a renewal moves no entry of
		 * sessions_active (issue 11: a third of a renewal's index work) */
	struct key_text k;
	sqlite3_stmt *st;
	cn_id_t old = 0;
	int r, held = 0;

	if (key_text(db, &s->s, &k) < 0)
		return -1;
	if (s->role == DB_ROLE_PROVIDER && (r = provider_id_taken(db, &s->s, &k)) != 0) {
		if (r > 0)
			snprintf(db->err, sizeof(db->err), "store session: ID %u is held by another "
				 "session of this SP", (unsigned)s->s.id);
		return -1;
	}
	if (s->role == DB_ROLE_PROVIDER) {
		held = db_sidx_peek(db, &s->s, &old); /* asked once, for both paths */
		if (held == 1 && (r = provider_renew(db, s, &k, old)) != 0)
			return r > 0 ? 0 : -1;
	}
	if (db_cached(db, ST_SESSION_PUT, &st, sql) < 0)
		return -1;
	bind_put(st, s, &k);
	if (s->role == DB_ROLE_PROVIDER)
		held_id_changes(db, held, old); /* the ID the key held until now */
	r = db_step_done(db, st, "store session");
	db_done_cached(st);
	if (r == 0 && s->role == DB_ROLE_PROVIDER) {
		db_pchg_mark(db, s->s.id);
		db_sidx_put(db, &s->s);
	}
	return r;
}

/* A session's values at the parameters of the upsert and of provider_renew's UPDATE. */
static void bind_put(sqlite3_stmt *st, const struct db_session *s, const struct key_text *k)
{
	sqlite3_bind_text(st, 1, db_role_name(s->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, s->s.family == AF_INET ? 4 : 6);
	sqlite3_bind_text(st, 3, k->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k->service, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, s->s.port);
	sqlite3_bind_int(st, 6, s->s.id);
	sqlite3_bind_text(st, 7, s->s.vnic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, s->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->created);
	sqlite3_bind_int64(st, 10, s->refreshed);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)s->s.expires);
	sqlite3_bind_text(st, 12, s->service_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, s->client_name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 14, s->session_key, s->has_key ? (int)sizeof(s->session_key) : 0,
			  SQLITE_STATIC);
}

/*
 * A provider's renewal of a key its index in memory holds under old: an UPDATE of the row by
 * its key, not the upsert, which first builds the row to insert, checks it and finds the
 * conflict (issue 11: the upsert was two thirds of the database's instructions per
 * exchange, bench/db_store). 1: stored; 0: no row changed (the table and the index
 * disagree: another tool's write), so the upsert goes on; -1: error.
 */
static int provider_renew(struct authd_db *db, const struct db_session *s,
			  const struct key_text *k, cn_id_t old)
{
	static const char sql[] =
		"UPDATE sessions SET id = ?6, vnic = ?7, peer = ?8, refreshed = ?10, "
		"expires = ?11, service_name = ?12, client_name = ?13, session_key = ?14 "
		/* ?1, ?2 and ?9 (role, family, created): the upsert's, bound but not read */
		"WHERE role = 'provider' AND client = ?3 AND service = ?4 AND port = ?5";
	sqlite3_stmt *st;
	int r;

	if (db_cached(db, ST_SESSION_RENEW, &st, sql) < 0)
		return -1;
	bind_put(st, s, k);
	r = db_step_done(db, st, "store session");
	db_done_cached(st);
	if (r < 0)
		return -1;
	if (sqlite3_changes(db->h) != 1)
		return 0;
	db_pchg_mark(db, old);
	db_pchg_mark(db, s->s.id);
	db_sidx_put(db, &s->s);
	return 1;
}

#define SESSION_COLS \
	"role, family, client, service, port, id, vnic, peer, created, refreshed, expires, " \
	"service_name, client_name, session_key"

static int column_addr(const char *text, int family, uint8_t *out)
{
	return text && inet_pton(family, text, out) == 1 ? 0 : -1;
}

/* A row back into a db_session; a row the schema should have prevented is an error. */
static int read_row(struct authd_db *db, sqlite3_stmt *st, struct db_session *out)
{
	const char *vnic, *peer;

	memset(out, 0, sizeof(*out));
	out->role = db_role_from_name((const char *)sqlite3_column_text(st, 0));
	out->s.family = sqlite3_column_int(st, 1) == 4 ? AF_INET : AF_INET6;
	if (!out->role ||
	    column_addr((const char *)sqlite3_column_text(st, 2), out->s.family, out->s.client) < 0 ||
	    column_addr((const char *)sqlite3_column_text(st, 3), out->s.family, out->s.service) < 0)
		return db_fail(db, "corrupt session row");
	out->s.port = (uint16_t)sqlite3_column_int(st, 4);
	out->s.id = (cn_id_t)sqlite3_column_int(st, 5);
	vnic = (const char *)sqlite3_column_text(st, 6);
	peer = (const char *)sqlite3_column_text(st, 7);
	snprintf(out->s.vnic, sizeof(out->s.vnic), "%s", vnic ? vnic : "");
	snprintf(out->peer, sizeof(out->peer), "%s", peer ? peer : "");
	out->created = sqlite3_column_int64(st, 8);
	out->refreshed = sqlite3_column_int64(st, 9);
	out->s.expires = (uint64_t)sqlite3_column_int64(st, 10);
	snprintf(out->service_name, sizeof(out->service_name), "%s",
		 sqlite3_column_text(st, 11) ? (const char *)sqlite3_column_text(st, 11) : "");
	snprintf(out->client_name, sizeof(out->client_name), "%s",
		 sqlite3_column_text(st, 12) ? (const char *)sqlite3_column_text(st, 12) : "");
	if (sqlite3_column_bytes(st, 13) == (int)sizeof(out->session_key)) {
		memcpy(out->session_key, sqlite3_column_blob(st, 13), sizeof(out->session_key));
		out->has_key = true;
	}
	return 0;
}

static void bind_key(sqlite3_stmt *st, const struct key_text *k, uint16_t port)
{
	sqlite3_bind_text(st, 1, k->client, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, k->service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, port);
}

/*
 * A statement on one session by key, with the role as a literal: one cached statement per
 * role. Not "role = ?": the partial index sessions_provider_id (WHERE role = 'provider')
 * makes sqlite's planner read a bound role, and a statement whose plan read a bound value
 * is prepared again (sqlite3Reprepare) each time that parameter is bound: that was half of
 * the engine's instructions per Authentication (issue 11, callgrind).
 */
/* A role a session can have (its name goes into SQL text as a literal). 0 or -1. */
static int session_role(struct authd_db *db, enum db_role role)
{
	if (role != DB_ROLE_PROVIDER && role != DB_ROLE_SUPERVISOR) {
		snprintf(db->err, sizeof(db->err), "session of no role");
		return -1;
	}
	return 0;
}

/* head: the statement up to its WHERE, which names the session by role and key */
static int role_stmt(struct authd_db *db, enum db_role role, enum db_stmt sup, enum db_stmt sp,
		     const char *head, sqlite3_stmt **st)
{
	char sql[512];
	bool provider = role == DB_ROLE_PROVIDER;

	if (session_role(db, role) < 0)
		return -1;
	if (db->cache[provider ? sp : sup]) {
		*st = db->cache[provider ? sp : sup];
		return 0;
	}
	snprintf(sql, sizeof(sql), "%s WHERE role = '%s' AND client = ?1 AND service = ?2 AND "
		 "port = ?3", head, db_role_name(role));
	return db_cached(db, provider ? sp : sup, st, sql);
}

int db_session_get(struct authd_db *db, enum db_role role, const struct cn_session *key,
		   struct db_session *out)
{
	struct key_text k;
	sqlite3_stmt *st;
	cn_id_t id;
	int rc, r;

	/* none in the provider's index: no row to read */
	if (role == DB_ROLE_PROVIDER && db_sidx_find(db, key, &id) == 0)
		return 0;
	if (key_text(db, key, &k) < 0 ||
	    role_stmt(db, role, ST_SESSION_GET, ST_SESSION_GET_SP,
		      "SELECT " SESSION_COLS " FROM sessions", &st) < 0)
		return -1;
	bind_key(st, &k, key->port);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(db, st, out) < 0 ? -1 : 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = db_fail(db, "read session");
	db_done_cached(st);
	return r;
}

int db_session_id(struct authd_db *db, enum db_role role, const struct cn_session *key,
		  cn_id_t *id)
{
	struct db_session s;
	int r;

	if (role == DB_ROLE_PROVIDER && (r = db_sidx_find(db, key, id)) >= 0)
		return r;
	r = db_session_get(db, role, key, &s);
	if (r == 1)
		*id = s.s.id;
	explicit_bzero(&s, sizeof(s));
	return r;
}

int db_id_in_use(struct authd_db *db, cn_id_t id)
{
	sqlite3_stmt *st;
	int rc, r;

	if ((r = db_sidx_id_in_use(db, id)) >= 0)
		return r;
	if (db_cached(db, ST_ID_IN_USE, &st, "SELECT 1 FROM sessions WHERE role = 'provider' AND "
		   "id = ?") < 0)
		return -1;
	sqlite3_bind_int(st, 1, id);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_fail(db, "look up ID");
	db_done_cached(st);
	return r;
}

/* Read every row of st first, then call cb: cb may write to the database. */
static int collect(struct authd_db *db, sqlite3_stmt *st, struct db_session **rows, size_t *n)
{
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_session *nr = grow(*rows, *n, &cap, sizeof(*nr), 16);

		if (!nr) {
			snprintf(db->err, sizeof(db->err), "out of memory");
			goto fail;
		}
		*rows = nr;
		if (read_row(db, st, &(*rows)[*n]) < 0)
			goto fail;
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "read sessions");
		goto fail;
	}
	return 0;
fail:
	free(*rows);
	*rows = NULL;
	*n = 0;
	return -1;
}

/* Collect the rows of a prepared st, call cb for each, wipe (session keys) and free. */
static int walk(struct authd_db *db, sqlite3_stmt *st, db_session_cb cb, void *arg)
{
	struct db_session *rows;
	size_t n;
	int r;

	r = collect(db, st, &rows, &n);
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++)
		r = cb(&rows[i], arg);
	if (rows)
		explicit_bzero(rows, n * sizeof(*rows));
	free(rows);
	return r;
}

int db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb, void *arg)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "SELECT " SESSION_COLS " FROM sessions WHERE ?1 = '' OR role = ?1 "
		    "ORDER BY role, family, client, service, port") < 0)
		return -1;
	sqlite3_bind_text(st, 1, role ? db_role_name(role) : "", -1, SQLITE_STATIC);
	return walk(db, st, cb, arg);
}

/* The sessions of role WHERE role = ... AND tail, ?1 bound to v, walked. The role as a literal,
 * so that the role's partial indexes serve (sessions_provider_id, sessions_supervisor_id): with
 * "role = ?" sqlite cannot use a partial index and reads the whole table. */
static int role_walk(struct authd_db *db, enum db_role role, const char *tail, int64_t v,
		     db_session_cb cb, void *arg)
{
	sqlite3_stmt *st;
	char sql[512];

	if (session_role(db, role) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT " SESSION_COLS " FROM sessions WHERE role = '%s' AND %s",
		 db_role_name(role), tail);
	if (db_prepare(db, &st, sql) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	return walk(db, st, cb, arg);
}

int db_session_foreach_id(struct authd_db *db, enum db_role role, cn_id_t id,
			  db_session_cb cb, void *arg)
{
	struct cn_session key;
	struct db_session s;
	int r;

	/* a provider's: at most one, found by its index in memory, read by its key (schema 8
	 * has no index on a provider's IDs); without the index, a scan */
	if (role == DB_ROLE_PROVIDER && (r = db_sidx_id_key(db, id, &key)) >= 0) {
		if (r == 0 || (r = db_session_get(db, role, &key, &s)) <= 0)
			return r;
		r = cb(&s, arg);
		explicit_bzero(&s, sizeof(s));
		return r;
	}
	return role_walk(db, role, "id = ?1 ORDER BY family, client, service, port", id, cb, arg);
}

int db_session_del(struct authd_db *db, enum db_role role, const struct cn_session *key)
{
	struct key_text k;
	sqlite3_stmt *st;
	int r;

	if (key_text(db, key, &k) < 0 ||
	    role_stmt(db, role, ST_SESSION_DEL, ST_SESSION_DEL_SP, "DELETE FROM sessions", &st) < 0)
		return -1;
	bind_key(st, &k, key->port);
	if (role == DB_ROLE_PROVIDER)
		key_changes(db, key);
	r = db_step_done(db, st, "delete session");
	db_done_cached(st);
	if (r < 0)
		return -1;
	r = sqlite3_changes(db->h);
	if (r > 0 && role == DB_ROLE_PROVIDER)
		db_sidx_del(db, key);
	return r;
}

/*
 * Idle (a provider's idle_time, its sessions only): from the later of the last
 * authentication and the last segment its SS's data plane saw (client_status.last_seen, ms,
 * 0: none). An SS's own idle_time: authd/engine_idle.c.
 *
 * Not a scan of every session each second (issue 11, 100,000 live sessions): sessions.active
 * (schema 7, index sessions_active) is a lower bound of that later time, set by a session's
 * first Authentication (db_session_put; a renewal leaves it, refreshed holds the renewal's
 * time and the recheck reads it). Only the sessions whose recorded activity is idle_time
 * old are due; for them the figure is made again from client_status (its primary key) and
 * written back (IDLE_RECHECK), and those still idle_time old end. A session with traffic
 * is so read once per idle_time, an idle one once; the others are not read at all. The
 * column is only ever raised to a time the session was active, so no session ends early,
 * and it is never above the truth, so none is missed; it is stored in the expiry's own
 * transaction and survives a restart.
 */
#define IDLE_RECHECK \
	"UPDATE sessions SET active = max(active, refreshed, coalesce((SELECT c.last_seen / 1000" \
	" FROM client_status c WHERE c.ss = sessions.peer AND c.id = sessions.id AND" \
	" c.service = sessions.service_name), 0)) WHERE role = 'provider' AND active <= ?1 - ?2"

/* The expired and the idle, each by its index (sessions_expires, sessions_active). */
#define EXPIRED_WHERE \
	" FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires BETWEEN 1 AND ?1" \
	" UNION SELECT rowid FROM sessions WHERE role = 'provider' AND active <= ?1 - ?2)"

/* Without an idle limit: the index sessions_expires, no scan. */
#define EXPIRED_AT " FROM sessions WHERE expires BETWEEN 1 AND ?1"

static int expired_rows(struct authd_db *db, int64_t now, int64_t idle, struct db_session **rows,
			size_t *n)
{
	sqlite3_stmt *st;
	int r;

	if (db_prepare(db, &st, idle > 0 ? "SELECT " SESSION_COLS EXPIRED_WHERE :
		       "SELECT " SESSION_COLS EXPIRED_AT) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, idle);
	r = collect(db, st, rows, n);
	sqlite3_finalize(st);
	return r;
}

/* One write of the expiry, ?1 now and ?2 idle. */
static int expiry_write(struct authd_db *db, const char *sql, int64_t now, int64_t idle,
			const char *what)
{
	sqlite3_stmt *st;
	int r;

	if (db_prepare(db, &st, sql) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, idle);
	r = db_step_done(db, st, what);
	sqlite3_finalize(st);
	return r;
}

static int delete_expired(struct authd_db *db, int64_t now, int64_t idle)
{
	return expiry_write(db, idle > 0 ? "DELETE" EXPIRED_WHERE : "DELETE" EXPIRED_AT, now, idle,
			    "delete expired sessions");
}

/* The due sessions' last activity made again (IDLE_RECHECK). */
static int idle_recheck(struct authd_db *db, int64_t now, int64_t idle)
{
	return expiry_write(db, IDLE_RECHECK, now, idle, "recheck idle sessions");
}

int db_session_expire(struct authd_db *db, int64_t now, int64_t idle, db_session_cb cb,
		      void *arg)
{
	struct db_session *rows = NULL;
	size_t n = 0;

	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if ((idle > 0 && idle_recheck(db, now, idle) < 0) ||
	    expired_rows(db, now, idle, &rows, &n) < 0 || delete_expired(db, now, idle) < 0 ||
	    db_exec(db, "COMMIT") < 0) {
		free(rows);
		db_rollback_keep(db);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].role == DB_ROLE_PROVIDER) {
			db_pchg_mark(db, rows[i].s.id);
			db_sidx_del(db, &rows[i].s);
		}
	for (size_t i = 0; cb && i < n; i++)
		cb(&rows[i], arg);
	free(rows);
	return (int)n;
}

/* --- lookups that do not walk the table (issue 11: 100,000 live sessions) ----------------- */

int db_session_range(struct authd_db *db, int64_t from, struct db_session *rows,
		     int64_t *rowids, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if (db_prepare(db, &st, "SELECT " SESSION_COLS ", rowid FROM sessions WHERE rowid >= ? "
		       "ORDER BY rowid LIMIT ?") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_row(db, st, &rows[n]) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		rowids[n++] = sqlite3_column_int64(st, 14);
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return db_fail(db, "read sessions");
	}
	sqlite3_finalize(st);
	return (int)n;
}

int db_session_foreach_client(struct authd_db *db, int family, const uint8_t *client,
			      db_session_cb cb, void *arg)
{
	char text[INET6_ADDRSTRLEN];
	sqlite3_stmt *st;

	if ((family != AF_INET && family != AF_INET6) ||
	    !inet_ntop(family, client, text, sizeof(text))) {
		snprintf(db->err, sizeof(db->err), "no valid address family");
		return -1;
	}
	/* the primary key (role, client, ...): two seeks */
	if (db_prepare(db, &st, "SELECT " SESSION_COLS " FROM sessions WHERE role IN "
		       "('provider', 'supervisor') AND client = ?1 AND family = ?2 "
		       "ORDER BY role, service, port") < 0)
		return -1;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, family == AF_INET ? 4 : 6);
	return walk(db, st, cb, arg);
}

int db_session_count(struct authd_db *db, enum db_role role)
{
	sqlite3_stmt *st;
	int rc, n = -1;

	if (db_prepare(db, &st, role ? "SELECT count(*) FROM sessions WHERE role = ?1" :
		       "SELECT count(*) FROM sessions") < 0)
		return -1;
	if (role)
		sqlite3_bind_text(st, 1, db_role_name(role), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		db_fail(db, "count sessions");
	sqlite3_finalize(st);
	return n;
}

int db_session_foreach_idle(struct authd_db *db, enum db_role role, int64_t before,
			    db_session_cb cb, void *arg)
{
	return role_walk(db, role, "active <= ?1 ORDER BY active", before, cb, arg); /* sessions_active */
}

int db_session_touch(struct authd_db *db, enum db_role role, const struct cn_session *key,
		     int64_t at)
{
	struct key_text k;
	sqlite3_stmt *st;
	int r;

	if (key_text(db, key, &k) < 0 ||
	    role_stmt(db, role, ST_SESSION_TOUCH, ST_SESSION_TOUCH_SP,
		      "UPDATE sessions SET active = max(active, ?4)", &st) < 0)
		return -1;
	bind_key(st, &k, key->port);
	sqlite3_bind_int64(st, 4, at);
	r = db_step_done(db, st, "record the last activity");
	db_done_cached(st);
	return r < 0 ? -1 : sqlite3_changes(db->h);
}
