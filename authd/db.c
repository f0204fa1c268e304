/* SPDX-License-Identifier: MIT */
#include "db.h"
#include "db_int.h"
#include "grow.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

/* The statements of an Authentication (replay cache, ID check, session commit), prepared
 * once and reused: parsing them for every exchange cost more than running them. */
enum db_stmt {
	ST_REPLAY_SEEN,
	ST_REPLAY_ADD,
	ST_ID_IN_USE,
	ST_SESSION_PUT,
	ST_MAX
};

struct authd_db {
	sqlite3 *h;
	sqlite3_stmt *cache[ST_MAX];
	char err[512];
};

/*
 * Migrations: migrations[N] takes a database from user_version N to N+1. Append only: a
 * released step is never edited, a change is a new step (docs/database.md).
 */
static const char *const migrations[DB_SCHEMA_VERSION] = {
	/* 0 -> 1: the paper's profile: vNIC NAME, DATA FOLDER, SERVICE LIST, CLIENT LIST,
	 * PASSCODE (as a hash of the derived key). */
	"CREATE TABLE vnics ("
	"  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 15),"
	"  address TEXT NOT NULL,"
	"  data_folder TEXT NOT NULL);"
	"CREATE TABLE services ("
	"  vnic TEXT NOT NULL REFERENCES vnics(name) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	"  PRIMARY KEY (vnic, name));"
	"CREATE TABLE clients ("
	"  address TEXT PRIMARY KEY,"
	"  key_hash BLOB NOT NULL,"
	"  services TEXT NOT NULL DEFAULT '');",
	/* 1 -> 2: ID LIST as sessions, and the replay cache that survives restarts. */
	"CREATE TABLE sessions ("
	"  role TEXT NOT NULL CHECK (role IN ('supervisor', 'provider')),"
	"  family INTEGER NOT NULL CHECK (family IN (4, 6)),"
	"  client TEXT NOT NULL,"
	"  service TEXT NOT NULL,"
	"  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	"  id INTEGER NOT NULL CHECK (id BETWEEN 1 AND 65535),"
	"  vnic TEXT NOT NULL DEFAULT '',"
	"  service_name TEXT NOT NULL DEFAULT '',"
	"  client_name TEXT NOT NULL DEFAULT '',"
	"  peer TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  refreshed INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (role, client, service, port));"
	/* An SP never hands out one ID twice among its live sessions. */
	"CREATE UNIQUE INDEX sessions_provider_id ON sessions(id) WHERE role = 'provider';"
	"CREATE TABLE replay ("
	"  digest BLOB PRIMARY KEY,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX replay_expires ON replay(expires);",
	/* 2 -> 3: the session key K_s, which authenticates a revocation between SS and SP
	 * (docs/protocol.md); empty for the sessions stored before. */
	("ALTER TABLE sessions ADD COLUMN session_key BLOB NOT NULL DEFAULT x'';"
	 "CREATE INDEX sessions_id ON sessions(id);"),
	/* 3 -> 4: the status application (docs/database.md). clients is keyed by (role, name,
	 * address): two entries may share a prefix (rows from before keep role and name ''
	 * until the next policy load rewrites them). Status per session, dropped with it. The
	 * paper's row per vNIC as a view. */
	("CREATE TABLE clients4 ("
	 "  role TEXT NOT NULL DEFAULT '' CHECK (role IN ('supervisor', 'provider', '')),"
	 "  name TEXT NOT NULL DEFAULT '',"
	 "  address TEXT NOT NULL,"
	 "  key_hash BLOB NOT NULL,"
	 "  services TEXT NOT NULL DEFAULT '',"
	 "  PRIMARY KEY (role, name, address));"
	 "INSERT INTO clients4(address, key_hash, services) SELECT address, key_hash, services FROM clients;"
	 "DROP TABLE clients;"
	 "ALTER TABLE clients4 RENAME TO clients;"
	 "CREATE TABLE vnic_status ("          /* on an SS: info_vNIC per session */
	 "  sp TEXT NOT NULL, id INTEGER NOT NULL CHECK (id BETWEEN 1 AND 65535),"
	 "  service TEXT NOT NULL, vnic TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '',"
	 "  vnic_status INTEGER NOT NULL DEFAULT 0, link INTEGER NOT NULL DEFAULT 0,"
	 "  health INTEGER NOT NULL DEFAULT 0, check_kind INTEGER NOT NULL DEFAULT 0,"
	 "  http_code INTEGER NOT NULL DEFAULT 0, weight INTEGER NOT NULL DEFAULT 0,"
	 "  sessions INTEGER NOT NULL DEFAULT 0, conns INTEGER NOT NULL DEFAULT -1,"
	 "  bytes_per_s INTEGER NOT NULL DEFAULT 0, check_ms INTEGER NOT NULL DEFAULT 0,"
	 "  since_s INTEGER NOT NULL DEFAULT -1, interval_ms INTEGER NOT NULL DEFAULT 0,"
	 "  sent INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0,"
	 "  reachable INTEGER NOT NULL DEFAULT 1, reach_changed INTEGER NOT NULL DEFAULT 0,"
	 "  PRIMARY KEY (sp, id, service));"
	 "CREATE TABLE client_status ("        /* on an SP: info_client per session */
	 "  ss TEXT NOT NULL, id INTEGER NOT NULL CHECK (id BETWEEN 1 AND 65535),"
	 "  service TEXT NOT NULL, client TEXT NOT NULL DEFAULT '', client_name TEXT NOT NULL DEFAULT '',"
	 "  last_seen INTEGER NOT NULL DEFAULT 0,"
	 "  segs_c2s INTEGER NOT NULL DEFAULT 0, bytes_c2s INTEGER NOT NULL DEFAULT 0,"
	 "  segs_s2c INTEGER NOT NULL DEFAULT 0, bytes_s2c INTEGER NOT NULL DEFAULT 0,"
	 "  drop_no_id INTEGER NOT NULL DEFAULT 0, drop_wrong_id INTEGER NOT NULL DEFAULT 0,"
	 "  drop_expired INTEGER NOT NULL DEFAULT 0, drop_other INTEGER NOT NULL DEFAULT 0,"
	 "  interval_ms INTEGER NOT NULL DEFAULT 0,"
	 "  sent INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0,"
	 "  reachable INTEGER NOT NULL DEFAULT 1, reach_changed INTEGER NOT NULL DEFAULT 0,"
	 "  PRIMARY KEY (ss, id, service));"
	 "CREATE TRIGGER sessions_status_del AFTER DELETE ON sessions BEGIN"
	 "  DELETE FROM vnic_status WHERE OLD.role = 'supervisor' AND sp = OLD.peer"
	 "    AND id = OLD.id AND service = OLD.service_name;"
	 "  DELETE FROM client_status WHERE OLD.role = 'provider' AND ss = OLD.peer"
	 "    AND id = OLD.id AND service = OLD.service_name;"
	 " END;"
	 "CREATE VIEW sp_status AS SELECT sp, max(reachable) AS reachable,"
	 "  max(received) AS last_received, count(*) AS sessions,"
	 "  sum(vnic_status = 1) AS up, sum(vnic_status = 2) AS down FROM vnic_status GROUP BY sp;"
	 "CREATE VIEW profiled_status AS SELECT"
	 "  (SELECT group_concat(id) FROM (SELECT DISTINCT se.id AS id FROM sessions se"
	 "     WHERE se.role = 'provider' AND se.vnic = v.name ORDER BY se.id)) AS id_list,"
	 "  (SELECT group_concat(ref) FROM (SELECT DISTINCT c.name || ':' || lower(hex(substr(c.key_hash, 1, 8))) AS ref"
	 "     FROM clients c, services s WHERE c.role IN ('provider', '') AND s.vnic = v.name"
	 "     AND instr(',' || c.services || ',', ',' || s.name || ',') > 0 ORDER BY ref)) AS passcode_ref,"
	 "  v.name AS vnic_name, v.data_folder AS data_folder,"
	 "  (SELECT group_concat(svc) FROM (SELECT s.name || '/' || s.port AS svc FROM services s"
	 "     WHERE s.vnic = v.name ORDER BY s.name)) AS service_list,"
	 "  (SELECT group_concat(cl) FROM (SELECT DISTINCT c.name || '@' || c.address AS cl"
	 "     FROM clients c, services s WHERE c.role IN ('provider', '') AND s.vnic = v.name"
	 "     AND instr(',' || c.services || ',', ',' || s.name || ',') > 0 ORDER BY cl)) AS client_list"
	 "  FROM vnics v;"),
};

static int fail(struct authd_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct authd_db *db, const char *fmt, ...)
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
	return fail(db, "%s", what);
}

const char *db_error(const struct authd_db *db)
{
	return db->err;
}

const char *db_role_name(enum db_role role)
{
	return role == DB_ROLE_SUPERVISOR ? "supervisor" : role == DB_ROLE_PROVIDER ? "provider" : "";
}

static enum db_role role_from_name(const char *name)
{
	if (name && !strcmp(name, "supervisor"))
		return DB_ROLE_SUPERVISOR;
	if (name && !strcmp(name, "provider"))
		return DB_ROLE_PROVIDER;
	return 0;
}

static int exec(struct authd_db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(db->err, sizeof(db->err), "%s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void rollback(struct authd_db *db)
{
	/* Keep the first error: a failing rollback must not hide why we roll back. */
	char saved[sizeof(db->err)];

	memcpy(saved, db->err, sizeof(saved));
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	memcpy(db->err, saved, sizeof(saved));
}

static int prepare(struct authd_db *db, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return fail(db, "prepare");
	}
	return 0;
}

/* A cached statement, prepared on first use. Give it back with done_cached(). */
static int cached(struct authd_db *db, enum db_stmt which, sqlite3_stmt **st, const char *sql)
{
	if (!db->cache[which] && prepare(db, &db->cache[which], sql) < 0)
		return -1;
	*st = db->cache[which];
	return 0;
}

/* Reset it and drop its bindings (they may point at the caller's stack). */
static void done_cached(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no row. */
static int step_done(struct authd_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		return fail(db, "%s", what);
	return 0;
}

int db_user_version(struct authd_db *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (prepare(db, &st, "PRAGMA user_version") < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		fail(db, "read user_version");
	sqlite3_finalize(st);
	return v;
}

static int migrate_step(struct authd_db *db, int from)
{
	char sql[64];

	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", from + 1);
	if (exec(db, migrations[from]) < 0 || exec(db, sql) < 0) {
		char why[400];
		memcpy(why, db->err, sizeof(why) - 1);
		why[sizeof(why) - 1] = '\0';
		snprintf(db->err, sizeof(db->err), "migration %d -> %d: %s", from, from + 1, why);
		rollback(db);
		return -1;
	}
	if (exec(db, "COMMIT") < 0) {
		rollback(db);
		return -1;
	}
	return 0;
}

static int migrate(struct authd_db *db)
{
	int v = db_user_version(db);

	if (v < 0)
		return -1;
	if (v > DB_SCHEMA_VERSION)
		return fail(db, "schema version %d is newer than this program's %d: use a newer "
			    "coopnet-authd or another database file", v, DB_SCHEMA_VERSION);
	for (; v < DB_SCHEMA_VERSION; v++)
		if (migrate_step(db, v) < 0)
			return -1;
	return 0;
}

struct authd_db *db_open(const char *path, char *err, size_t errlen)
{
	struct authd_db *db = calloc(1, sizeof(*db));

	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 2000);
	/* WAL: readers (sqlite3 CLI, tests) never block the daemon's writes. */
	if (exec(db, "PRAGMA journal_mode = WAL") < 0 || exec(db, "PRAGMA foreign_keys = ON") < 0 ||
	    exec(db, "PRAGMA synchronous = NORMAL") < 0 || migrate(db) < 0) {
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
	sqlite3_close(db->h);
	free(db);
}

/* --- the engine's turn transaction (authd/engine_turn.c) ------------------------------ */

int db_begin(struct authd_db *db)
{
	/* IMMEDIATE: take the write lock now, so no write of the turn meets SQLITE_BUSY later */
	return exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct authd_db *db)
{
	if (exec(db, "COMMIT") == 0)
		return 0;
	/* a COMMIT that failed (busy, I/O) may leave the transaction open: end it */
	if (db_in_tx(db))
		rollback(db);
	return -1;
}

void db_rollback(struct authd_db *db)
{
	if (db_in_tx(db))
		rollback(db);
}

bool db_in_tx(const struct authd_db *db)
{
	return sqlite3_get_autocommit(db->h) == 0;
}

/* --- profile ------------------------------------------------------------------------ */

static int put_vnics(struct authd_db *db, const struct db_profile *p)
{
	sqlite3_stmt *st;
	int r = 0;

	if (prepare(db, &st, "INSERT INTO vnics(name, address, data_folder) VALUES (?, ?, ?)") < 0)
		return -1;
	for (size_t i = 0; i < p->n_vnics && r == 0; i++) {
		sqlite3_bind_text(st, 1, p->vnics[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->vnics[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->vnics[i].data_folder, -1, SQLITE_STATIC);
		r = step_done(db, st, "insert vnic");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int put_services(struct authd_db *db, const struct db_profile *p)
{
	sqlite3_stmt *st;
	int r = 0;

	if (prepare(db, &st, "INSERT INTO services(vnic, name, address, port) VALUES (?, ?, ?, ?)") < 0)
		return -1;
	for (size_t i = 0; i < p->n_services && r == 0; i++) {
		sqlite3_bind_text(st, 1, p->services[i].vnic, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->services[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->services[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, p->services[i].port);
		r = step_done(db, st, "insert service");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int put_clients(struct authd_db *db, const struct db_profile *p)
{
	sqlite3_stmt *st;
	int r = 0;

	if (prepare(db, &st, "INSERT INTO clients(address, key_hash, services, role, name) "
		    "VALUES (?, ?, ?, ?, ?)") < 0)
		return -1;
	for (size_t i = 0; i < p->n_clients && r == 0; i++) {
		sqlite3_bind_text(st, 1, p->clients[i].address, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, p->clients[i].key_hash, (int)p->clients[i].key_hash_len,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->clients[i].services ? p->clients[i].services : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, db_role_name(p->clients[i].role), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->clients[i].name ? p->clients[i].name : "", -1,
				  SQLITE_STATIC);
		r = step_done(db, st, "insert client");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

int db_set_profile(struct authd_db *db, const struct db_profile *p)
{
	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (exec(db, "DELETE FROM services; DELETE FROM vnics; DELETE FROM clients;") < 0 ||
	    put_vnics(db, p) < 0 || put_services(db, p) < 0 || put_clients(db, p) < 0 ||
	    exec(db, "COMMIT") < 0) {
		rollback(db);
		return -1;
	}
	return 0;
}

/* --- sessions ----------------------------------------------------------------------- */

static int addr_text(const struct cn_session *s, const uint8_t *a, char *buf, size_t len)
{
	return inet_ntop(s->family, a, buf, (socklen_t)len) ? 0 : -1;
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

int db_session_put(struct authd_db *db, const struct db_session *s)
{
	static const char sql[] =
		"INSERT INTO sessions(role, family, client, service, port, id, vnic, "
		"peer, created, refreshed, expires, service_name, client_name, session_key) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		/* not INSERT OR REPLACE: that would also delete another client's session
		 * holding the same ID instead of failing on sessions_provider_id */
		"ON CONFLICT (role, client, service, port) DO UPDATE SET id = excluded.id, "
		"vnic = excluded.vnic, peer = excluded.peer, refreshed = excluded.refreshed, "
		"expires = excluded.expires, service_name = excluded.service_name, "
		"client_name = excluded.client_name, session_key = excluded.session_key";
	struct key_text k;
	sqlite3_stmt *st;
	int r;

	if (key_text(db, &s->s, &k) < 0)
		return -1;
	if (cached(db, ST_SESSION_PUT, &st, sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, db_role_name(s->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, s->s.family == AF_INET ? 4 : 6);
	sqlite3_bind_text(st, 3, k.client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k.service, -1, SQLITE_STATIC);
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
	r = step_done(db, st, "store session");
	done_cached(st);
	return r;
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
	out->role = role_from_name((const char *)sqlite3_column_text(st, 0));
	out->s.family = sqlite3_column_int(st, 1) == 4 ? AF_INET : AF_INET6;
	if (!out->role ||
	    column_addr((const char *)sqlite3_column_text(st, 2), out->s.family, out->s.client) < 0 ||
	    column_addr((const char *)sqlite3_column_text(st, 3), out->s.family, out->s.service) < 0)
		return fail(db, "corrupt session row");
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

static void bind_key(sqlite3_stmt *st, enum db_role role, const struct key_text *k,
		     uint16_t port)
{
	sqlite3_bind_text(st, 1, db_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->client, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, k->service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, port);
}

int db_session_get(struct authd_db *db, enum db_role role, const struct cn_session *key,
		   struct db_session *out)
{
	struct key_text k;
	sqlite3_stmt *st;
	int rc, r;

	if (key_text(db, key, &k) < 0 ||
	    prepare(db, &st, "SELECT " SESSION_COLS " FROM sessions WHERE role = ? AND "
		    "client = ? AND service = ? AND port = ?") < 0)
		return -1;
	bind_key(st, role, &k, key->port);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(db, st, out) < 0 ? -1 : 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = fail(db, "read session");
	sqlite3_finalize(st);
	return r;
}

int db_id_in_use(struct authd_db *db, cn_id_t id)
{
	sqlite3_stmt *st;
	int rc, r;

	if (cached(db, ST_ID_IN_USE, &st, "SELECT 1 FROM sessions WHERE role = 'provider' AND "
		   "id = ?") < 0)
		return -1;
	sqlite3_bind_int(st, 1, id);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(db, "look up ID");
	done_cached(st);
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
		fail(db, "read sessions");
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

	if (prepare(db, &st, "SELECT " SESSION_COLS " FROM sessions WHERE ?1 = '' OR role = ?1 "
		    "ORDER BY role, family, client, service, port") < 0)
		return -1;
	sqlite3_bind_text(st, 1, role ? db_role_name(role) : "", -1, SQLITE_STATIC);
	return walk(db, st, cb, arg);
}

int db_session_foreach_id(struct authd_db *db, enum db_role role, cn_id_t id,
			  db_session_cb cb, void *arg)
{
	sqlite3_stmt *st;

	if (prepare(db, &st, "SELECT " SESSION_COLS " FROM sessions WHERE role = ?1 AND id = ?2 "
		    "ORDER BY family, client, service, port") < 0)
		return -1;
	sqlite3_bind_text(st, 1, db_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, id);
	return walk(db, st, cb, arg);
}

int db_session_del(struct authd_db *db, enum db_role role, const struct cn_session *key)
{
	struct key_text k;
	sqlite3_stmt *st;
	int r;

	if (key_text(db, key, &k) < 0 ||
	    prepare(db, &st, "DELETE FROM sessions WHERE role = ? AND client = ? AND "
		    "service = ? AND port = ?") < 0)
		return -1;
	bind_key(st, role, &k, key->port);
	r = step_done(db, st, "delete session");
	sqlite3_finalize(st);
	return r < 0 ? -1 : sqlite3_changes(db->h);
}

/* Idle: from the later of the last authentication and, on a provider, the last segment its
 * SS's data plane saw (client_status.last_seen, ms, 0: none). */
#define EXPIRED_WHERE \
	" FROM sessions WHERE (expires != 0 AND expires <= ?1) OR (?2 > 0 AND max(refreshed," \
	" coalesce((SELECT max(c.last_seen) / 1000 FROM client_status c WHERE" \
	" sessions.role = 'provider' AND c.ss = sessions.peer AND c.id = sessions.id AND" \
	" c.service = sessions.service_name), 0)) + ?2 <= ?1)"

static int expired_rows(struct authd_db *db, int64_t now, int64_t idle, struct db_session **rows,
			size_t *n)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(db, &st, "SELECT " SESSION_COLS EXPIRED_WHERE) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, idle);
	r = collect(db, st, rows, n);
	sqlite3_finalize(st);
	return r;
}

static int delete_expired(struct authd_db *db, int64_t now, int64_t idle)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(db, &st, "DELETE" EXPIRED_WHERE) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, idle);
	r = step_done(db, st, "delete expired sessions");
	sqlite3_finalize(st);
	return r;
}

int db_session_expire(struct authd_db *db, int64_t now, int64_t idle, db_session_cb cb,
		      void *arg)
{
	struct db_session *rows = NULL;
	size_t n = 0;

	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (expired_rows(db, now, idle, &rows, &n) < 0 || delete_expired(db, now, idle) < 0 ||
	    exec(db, "COMMIT") < 0) {
		free(rows);
		rollback(db);
		return -1;
	}
	for (size_t i = 0; cb && i < n; i++)
		cb(&rows[i], arg);
	free(rows);
	return (int)n;
}

/* --- replay cache ------------------------------------------------------------------- */

int db_replay_check_add(struct authd_db *db, const uint8_t *digest, size_t len, int64_t expires)
{
	sqlite3_stmt *st;
	int r;

	if (len == 0 || len > DB_DIGEST_MAX) {
		snprintf(db->err, sizeof(db->err), "replay digest of %zu bytes (1 to %d)", len,
			 DB_DIGEST_MAX);
		return -1;
	}
	/* One statement: the check and the insert cannot be split by another writer. */
	if (cached(db, ST_REPLAY_ADD, &st, "INSERT OR IGNORE INTO replay(digest, expires) "
		   "VALUES (?, ?)") < 0)
		return -1;
	sqlite3_bind_blob(st, 1, digest, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expires);
	r = step_done(db, st, "record replay digest");
	done_cached(st);
	if (r < 0)
		return -1;
	return sqlite3_changes(db->h) == 0 ? 1 : 0;
}

int db_replay_seen(struct authd_db *db, const uint8_t *digest, size_t len)
{
	sqlite3_stmt *st;
	int rc, r;

	if (len == 0 || len > DB_DIGEST_MAX) {
		snprintf(db->err, sizeof(db->err), "replay digest of %zu bytes (1 to %d)", len,
			 DB_DIGEST_MAX);
		return -1;
	}
	if (cached(db, ST_REPLAY_SEEN, &st, "SELECT 1 FROM replay WHERE digest = ?") < 0)
		return -1;
	sqlite3_bind_blob(st, 1, digest, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(db, "look up replay digest");
	done_cached(st);
	return r;
}

int db_replay_prune(struct authd_db *db, int64_t now)
{
	sqlite3_stmt *st;
	int r;

	if (prepare(db, &st, "DELETE FROM replay WHERE expires <= ?") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	r = step_done(db, st, "prune replay cache");
	sqlite3_finalize(st);
	return r < 0 ? -1 : sqlite3_changes(db->h);
}
