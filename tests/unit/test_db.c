/* SPDX-License-Identifier: MIT */
/*
 * The profiled status database on real sqlite files. sqlite3_step and sqlite3_prepare_v2 are
 * wrapped (-Wl,--wrap) so a test can make the Nth call fail and check that the function
 * reports it and leaves the database as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../authd/db.h"

static int step_countdown;    /* fail the Nth sqlite3_step from now (0: never) */
static int prepare_countdown; /* fail the Nth sqlite3_prepare_v2 from now */
static char last_sql[1024];   /* the text of the last statement prepared */
static char last_step[1024];  /* the text of the last statement stepped */

int __real_sqlite3_step(sqlite3_stmt *st);
int __wrap_sqlite3_step(sqlite3_stmt *st);
int __real_sqlite3_prepare_v2(sqlite3 *h, const char *sql, int n, sqlite3_stmt **st,
			      const char **tail);
int __wrap_sqlite3_prepare_v2(sqlite3 *h, const char *sql, int n, sqlite3_stmt **st,
			      const char **tail);

/* What the statements stepped cost: sqlite's own counters, summed over every step */
static long vm_steps;       /* virtual machine instructions */
static long fullscan_steps; /* steps forward in a full table scan */

int __wrap_sqlite3_step(sqlite3_stmt *st)
{
	int rc;

	if (step_countdown > 0 && --step_countdown == 0)
		return SQLITE_IOERR;
	rc = __real_sqlite3_step(st);
	snprintf(last_step, sizeof(last_step), "%s", sqlite3_sql(st) ? sqlite3_sql(st) : "");
	vm_steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	fullscan_steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
	return rc;
}

int __wrap_sqlite3_prepare_v2(sqlite3 *h, const char *sql, int n, sqlite3_stmt **st,
			      const char **tail)
{
	if (prepare_countdown > 0 && --prepare_countdown == 0) {
		*st = NULL;
		return SQLITE_NOMEM;
	}
	snprintf(last_sql, sizeof(last_sql), "%s", sql);
	return __real_sqlite3_prepare_v2(h, sql, n, st, tail);
}

struct fixture {
	char dir[64];
	char path[96];
	struct authd_db *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_db.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/authd.db", f->dir);
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	step_countdown = prepare_countdown = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct db_session mk(enum db_role role, const char *client, const char *service,
			    uint16_t port, cn_id_t id)
{
	struct db_session s;

	memset(&s, 0, sizeof(s));
	s.role = role;
	s.s.family = strchr(client, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(s.s.family, client, s.s.client), 1);
	assert_int_equal(inet_pton(s.s.family, service, s.s.service), 1);
	s.s.port = port;
	s.s.id = id;
	strcpy(s.s.vnic, "vnic1");
	strcpy(s.peer, "198.18.0.1");
	strcpy(s.service_name, "http");
	strcpy(s.client_name, "lan1");
	s.created = s.refreshed = 1000;
	return s;
}

static int count_cb(const struct db_session *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static int count(struct authd_db *db, enum db_role role)
{
	int n = 0;

	assert_int_equal(db_session_foreach(db, role, count_cb, &n), 0);
	return n;
}

/* n provider sessions, IDs 1..n, last authenticated at `at`, in one transaction */
static void put_many(struct authd_db *db, int n, int64_t at)
{
	assert_int_equal(db_begin(db), 0);
	for (int i = 1; i <= n; i++) {
		char client[32];
		struct db_session s;

		snprintf(client, sizeof(client), "198.18.%d.%d", 1 + i / 250, 1 + i % 250);
		s = mk(DB_ROLE_PROVIDER, client, "198.19.0.10", 80, (cn_id_t)i);
		s.created = s.refreshed = at;
		assert_int_equal(db_session_put(db, &s), 0);
	}
	assert_int_equal(db_commit(db), 0);
}

/* the SS's report of the last segment its data plane saw of the session of ID id (mk's) */
static void seen_at(struct authd_db *db, cn_id_t id, int64_t ms)
{
	struct db_client_status r = { .ss = "198.18.0.1", .id = id, .service = "http",
		.client = "198.18.1.2", .c = { .last_seen_ms = (uint64_t)ms } };

	assert_int_equal(db_client_status_put(db, &r), 0);
}

/* Run one SQL statement on a second, plain connection (as an administrator would). */
static void sql_on(const char *path, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void test_fresh_schema(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *st;
	sqlite3 *h;

	assert_int_equal(db_user_version(f->db), DB_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void test_migrate_from_v1(void **state)
{
	struct fixture *f = *state;
	char path[128], err[256];
	struct authd_db *db;
	struct db_session s = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);

	/* A version 1 database as an older coopnet-authd left it, with a vNIC in it. */
	snprintf(path, sizeof(path), "%s/old.db", f->dir);
	sql_on(path, "CREATE TABLE vnics (name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 15),"
		     " address TEXT NOT NULL, data_folder TEXT NOT NULL);"
		     "CREATE TABLE services (vnic TEXT NOT NULL REFERENCES vnics(name) ON DELETE CASCADE,"
		     " name TEXT NOT NULL, address TEXT NOT NULL, port INTEGER NOT NULL,"
		     " PRIMARY KEY (vnic, name));"
		     "CREATE TABLE clients (address TEXT PRIMARY KEY, key_hash BLOB NOT NULL,"
		     " services TEXT NOT NULL DEFAULT '');"
		     "INSERT INTO vnics VALUES ('vnic1', '198.19.0.10', '/srv/vnic1');"
		     "PRAGMA user_version = 1;");
	db = db_open(path, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(db_user_version(db), DB_SCHEMA_VERSION);
	assert_int_equal(db_session_put(db, &s), 0); /* the v2 table exists */
	db_close(db);
	/* and the v1 data is still there */
	sql_on(path, "CREATE TABLE probe AS SELECT name FROM vnics WHERE name = 'vnic1';");
	{
		sqlite3 *h;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM probe", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
}

/* the first column of the first row of sql on a second connection */
static int sql_int(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	int v;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* Schema 5 -> 6 (issue 11): the replay digests in an append-only table, the sessions' index by
 * ID for the supervisor's rows only. A version 5 database keeps its sessions and its replay
 * digests (a digest recorded before the upgrade is still refused after it). */
static void test_migrate_from_v5(void **state)
{
	struct fixture *f = *state;
	struct db_session s = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session v = mk(DB_ROLE_SUPERVISOR, "198.18.1.3", "198.19.0.10", 80, 0x6141);
	uint8_t d1[32], d2[32];
	char err[256];

	memset(d1, 0xa5, sizeof(d1));
	memset(d2, 0x5a, sizeof(d2));
	assert_int_equal(db_session_put(f->db, &s), 0);
	assert_int_equal(db_session_put(f->db, &v), 0);
	db_close(f->db);
	/* back to version 5 as coopnet-authd left it: replay keyed by digest, sessions_id */
	sql_on(f->path, "DROP TABLE replay;"
			"CREATE TABLE replay (digest BLOB PRIMARY KEY, expires INTEGER NOT NULL);"
			"CREATE INDEX replay_expires ON replay(expires);"
			"INSERT INTO replay VALUES (x'a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5"
			"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5', 100);"
			"DROP INDEX sessions_supervisor_id;"
			"CREATE INDEX sessions_id ON sessions(id);"
			"DROP INDEX sessions_active;"          /* schema 7's */
			"ALTER TABLE sessions DROP COLUMN active;"
			"CREATE UNIQUE INDEX sessions_provider_id ON sessions(id) WHERE role = 'provider';"
			"PRAGMA user_version = 5;");
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_user_version(f->db), DB_SCHEMA_VERSION);
	assert_int_equal(count(f->db, 0), 2);
	assert_int_equal(db_replay_check_add(f->db, d1, sizeof(d1), 100), 1);
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM replay"), 2);
	/* no B-tree keyed by digest, and one index by ID per role */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE tbl_name = "
				 "'replay' AND type = 'index'"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name IN "
				 "('sessions_id', 'sessions_supervisor_id')"), 1);
	/* the supervisor's lookup by ID reads that index, not the table */
	{
		sqlite3 *h;
		sqlite3_stmt *st;
		const char *plan;

		assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "EXPLAIN QUERY PLAN SELECT * FROM sessions "
						    "WHERE role = 'supervisor' AND id = 1", -1, &st,
						    NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		plan = (const char *)sqlite3_column_text(st, 3);
		assert_non_null(strstr(plan, "sessions_supervisor_id"));
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
}

/* Schema 6 -> 7 (issue 11): sessions.active and its index. A version 6 database's sessions
 * get their last activity from their Authentication and their SS's last report, so the first
 * expiry after the upgrade ends neither a busy session nor keeps an idle one. */
static void test_migrate_from_v6(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 1);
	struct db_session b = mk(DB_ROLE_PROVIDER, "198.18.1.3", "198.19.0.10", 80, 2);
	struct db_session c = mk(DB_ROLE_SUPERVISOR, "198.18.1.4", "198.19.0.10", 80, 3);
	char err[256];

	b.refreshed = 1400;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	assert_int_equal(db_session_put(f->db, &c), 0);
	seen_at(f->db, 1, 1700500);                    /* a: a segment seen at 1700 s */
	db_close(f->db);
	/* back to version 6 as coopnet-authd left it */
	sql_on(f->path, "DROP INDEX sessions_active;"
			"ALTER TABLE sessions DROP COLUMN active;"
			"CREATE UNIQUE INDEX sessions_provider_id ON sessions(id) WHERE role = 'provider';"
			"PRAGMA user_version = 6;");
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_user_version(f->db), DB_SCHEMA_VERSION);
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 1"), 1700);
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 2"), 1400);
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 3"), 1000);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = "
				 "'sessions_active'"), 1);
	/* schema 8: no unique index on a provider's IDs (db_session_put checks them) */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = "
				 "'sessions_provider_id'"), 0);
	assert_int_equal(db_session_expire(f->db, 1999, 600, NULL, NULL), 0);
	assert_int_equal(db_session_expire(f->db, 2000, 600, NULL, NULL), 1);  /* b */
	assert_int_equal(db_session_expire(f->db, 2300, 600, NULL, NULL), 1);  /* a */
	assert_int_equal(count(f->db, DB_ROLE_SUPERVISOR), 1); /* a provider's idle_time only */
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/new.db", f->dir);
	sql_on(path, "PRAGMA user_version = 99;");
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "99"));
}

static void test_failed_migration_rolls_back(void **state)
{
	struct fixture *f = *state;
	char path[128], err[256];

	/* A version 1 file whose sessions table already exists: step 1 -> 2 must fail whole. */
	snprintf(path, sizeof(path), "%s/clash.db", f->dir);
	sql_on(path, "CREATE TABLE sessions (x); PRAGMA user_version = 1;");
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "migration 1 -> 2"));
	/* the version did not move, and the replay table of the same step was not left behind */
	{
		sqlite3 *h;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
		assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master WHERE name = 'replay'",
						    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
		sqlite3_close(h);
	}
}

static void test_sessions_roundtrip_and_restart(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session b = mk(DB_ROLE_SUPERVISOR, "2001:db8::2", "2001:db8:1::10", 443, 0x6142);
	struct db_session got;
	char err[256];

	a.s.expires = 1795000000;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err)); /* a daemon restart */
	assert_non_null(f->db);
	assert_int_equal(db_session_get(f->db, DB_ROLE_PROVIDER, &a.s, &got), 1);
	assert_memory_equal(&got.s, &a.s, sizeof(a.s));
	assert_string_equal(got.peer, "198.18.0.1");
	assert_string_equal(got.service_name, "http");
	assert_string_equal(got.client_name, "lan1");
	assert_int_equal(db_session_get(f->db, DB_ROLE_SUPERVISOR, &b.s, &got), 1);
	assert_memory_equal(&got.s, &b.s, sizeof(b.s));
	/* the role is part of the key */
	assert_int_equal(db_session_get(f->db, DB_ROLE_SUPERVISOR, &a.s, &got), 0);
	assert_int_equal(count(f->db, 0), 2);
	assert_int_equal(count(f->db, DB_ROLE_PROVIDER), 1);
	/* same key replaces */
	a.s.id = 0x7a7a;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(count(f->db, DB_ROLE_PROVIDER), 1);
	assert_int_equal(db_id_in_use(f->db, 0x7a7a), 1);
	assert_int_equal(db_id_in_use(f->db, 0x6141), 0);
	assert_int_equal(db_session_del(f->db, DB_ROLE_PROVIDER, &a.s), 1);
	assert_int_equal(db_session_del(f->db, DB_ROLE_PROVIDER, &a.s), 0);
	assert_int_equal(count(f->db, 0), 1);
}

static void test_provider_id_unique(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session b = mk(DB_ROLE_PROVIDER, "198.18.1.3", "198.19.0.10", 80, 0x6141);
	struct db_session c = mk(DB_ROLE_SUPERVISOR, "198.18.1.3", "198.19.0.10", 80, 0x6141);

	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), -1);
	assert_non_null(strstr(db_error(f->db), "ID 24897 is held by another session"));
	/* without the index in memory (its load fails) sqlite answers: still refused */
	db_rollback(f->db); /* drops the index */
	prepare_countdown = 1; /* the load's SELECT */
	assert_int_equal(db_session_put(f->db, &b), -1);
	assert_non_null(strstr(db_error(f->db), "ID 24897 is held by another session"));
	/* a renewal of a's key under its own ID, and a's ID after a moved on, are taken */
	assert_int_equal(db_session_put(f->db, &a), 0);
	a.s.id = 0x6142;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	assert_int_equal(count(f->db, DB_ROLE_PROVIDER), 2);
	/* a supervisor's copy of an ID is not an SP's issue */
	assert_int_equal(db_session_put(f->db, &c), 0);
}

/* A table that repeats a provider's ID (written by another tool: schema 8 has no unique index
 * on it): the index in memory refuses to load, and sqlite answers every question, so the ID
 * stays refused to a third session and a walk by ID finds both rows. */
static void test_provider_id_repeated_by_another_tool(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session d = mk(DB_ROLE_PROVIDER, "198.18.1.4", "198.19.0.10", 80, 0x6141);
	char err[256];
	int seen = 0;

	assert_int_equal(db_session_put(f->db, &a), 0);
	db_close(f->db);
	sql_on(f->path, "INSERT INTO sessions(role, family, client, service, port, id, created, "
			"refreshed) VALUES ('provider', 4, '198.18.1.3', '198.19.0.10', 80, 24897, "
			"1000, 1000);");
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_session_put(f->db, &d), -1);
	assert_non_null(strstr(db_error(f->db), "ID 24897 is held by another session"));
	assert_int_equal(db_id_in_use(f->db, 0x6141), 1);
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 0x6141, count_cb, &seen), 0);
	assert_int_equal(seen, 2);
	/* a renewal of one of them under a new ID is fine, and then the index loads again */
	a.s.id = 0x6142;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &d), -1);
	seen = 0;
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 0x6141, count_cb, &seen), 0);
	assert_int_equal(seen, 1);
}

/*
 * A provider's renewal of a key its index knows is an UPDATE of that row (not the upsert,
 * issue 11); every column the upsert sets is set, the others (created, active) stay, and
 * both IDs count as changed. When another tool deleted the row meanwhile, the UPDATE
 * changes nothing and the upsert stores the session after all.
 */
static void test_renewal_updates_by_key(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session got;
	cn_id_t *ids;
	size_t n;

	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_non_null(strstr(last_step, "INSERT INTO sessions"));
	assert_int_equal(db_provider_changes(f->db, &ids, &n), 0); /* the first take: all */
	a.s.id = 0x6142;
	a.refreshed = 1500;
	a.s.expires = 9000;
	a.created = 1400; /* not a column a renewal sets */
	strcpy(a.s.vnic, "vnic2");
	strcpy(a.peer, "198.18.0.9");
	strcpy(a.service_name, "www");
	strcpy(a.client_name, "lan2");
	a.has_key = true;
	memset(a.session_key, 0x5a, sizeof(a.session_key));
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_non_null(strstr(last_step, "UPDATE sessions SET id"));
	assert_int_equal(db_provider_changes(f->db, &ids, &n), 1);
	assert_int_equal(n, 2);
	assert_true((ids[0] == 0x6141 && ids[1] == 0x6142) || (ids[0] == 0x6142 && ids[1] == 0x6141));
	free(ids);
	assert_int_equal(db_session_get(f->db, DB_ROLE_PROVIDER, &a.s, &got), 1);
	assert_int_equal(got.s.id, 0x6142);
	assert_int_equal(got.refreshed, 1500);
	assert_int_equal(got.s.expires, 9000);
	assert_int_equal(got.created, 1000);
	assert_string_equal(got.s.vnic, "vnic2");
	assert_string_equal(got.peer, "198.18.0.9");
	assert_string_equal(got.service_name, "www");
	assert_string_equal(got.client_name, "lan2");
	assert_true(got.has_key);
	assert_memory_equal(got.session_key, a.session_key, sizeof(a.session_key));
	assert_int_equal(db_id_in_use(f->db, 0x6141), 0);
	assert_int_equal(db_id_in_use(f->db, 0x6142), 1);

	sql_on(f->path, "DELETE FROM sessions;"); /* another tool; the index still has the key */
	a.s.id = 0x6143;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_non_null(strstr(last_step, "INSERT INTO sessions"));
	assert_int_equal(count(f->db, DB_ROLE_PROVIDER), 1);
	assert_int_equal(db_session_get(f->db, DB_ROLE_PROVIDER, &a.s, &got), 1);
	assert_int_equal(got.s.id, 0x6143);
	assert_int_equal(got.created, 1400);
}

static void test_expire(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session b = mk(DB_ROLE_PROVIDER, "198.18.1.3", "198.19.0.10", 80, 0x6142);
	struct db_session c = mk(DB_ROLE_PROVIDER, "198.18.1.4", "198.19.0.10", 80, 0x6143);
	int seen = 0;

	a.s.expires = 2000;        /* hard expiry */
	b.refreshed = 1500;        /* idle since 1500 */
	c.refreshed = 2900;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	assert_int_equal(db_session_put(f->db, &c), 0);
	assert_int_equal(db_session_expire(f->db, 1999, 0, count_cb, &seen), 0);
	assert_int_equal(db_session_expire(f->db, 2000, 0, count_cb, &seen), 1);
	assert_int_equal(seen, 1);
	assert_int_equal(db_session_expire(f->db, 3000, 600, count_cb, &seen), 1); /* b */
	assert_int_equal(seen, 2);
	assert_int_equal(count(f->db, 0), 1);
}

/*
 * A provider's idle expiry (idle_time) reads what is due, not every session each second
 * (issue 11, 100,000 live sessions): with 3,000 sessions none of which is due, a tick makes
 * no step of a full table scan and fewer VM steps than there are sessions (the query before
 * schema 7 scanned the table with a subquery per row, twice: over 3,000 full-scan steps).
 * The figure is the same as before: the later of the Authentication and the SS's last_seen.
 */
static void test_idle_expiry_reads_what_is_due(void **state)
{
	struct fixture *f = *state;
	int seen = 0;

	put_many(f->db, 3000, 1000);
	seen_at(f->db, 7, 1550999);   /* ID 7: a segment seen at 1550 s */
	vm_steps = fullscan_steps = 0;
	assert_int_equal(db_session_expire(f->db, 1599, 600, count_cb, &seen), 0);
	print_message("an idle tick, 3,000 sessions, none due: %ld VM steps, %ld full-scan\n",
		      vm_steps, fullscan_steps);
	assert_int_equal(fullscan_steps, 0);
	assert_true(vm_steps < 3000);
	/* 1600: all idle since their Authentication at 1000, but ID 7 */
	assert_int_equal(db_session_expire(f->db, 1600, 600, count_cb, &seen), 2999);
	assert_int_equal(count(f->db, DB_ROLE_PROVIDER), 1);
	/* ID 7 until 1550 + 600 (its newer time was recorded once, at the 1600 tick) */
	vm_steps = fullscan_steps = 0;
	assert_int_equal(db_session_expire(f->db, 2149, 600, count_cb, &seen), 0);
	assert_int_equal(fullscan_steps, 0);
	assert_true(vm_steps < 300);
	assert_int_equal(db_session_expire(f->db, 2150, 600, count_cb, &seen), 1);
	assert_int_equal(seen, 3000);
}

/* An Authentication is activity (a renewal's through refreshed); traffic seen after the due
 * time keeps a session; the record survives a restart; a row written without the column (an
 * older tool, a copy made offline: active 0) is not ended early, its figure is made when it
 * is first due. */
static void test_idle_expiry_record(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 1);
	char err[256];

	assert_int_equal(db_session_put(f->db, &a), 0);      /* refreshed 1000 */
	a.refreshed = 1300;
	assert_int_equal(db_session_put(f->db, &a), 0);      /* authenticated again at 1300 */
	/* the renewal left the record (no entry of sessions_active moved): the expiry counts it
	 * through refreshed, and writes it back when the session is due */
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 1"), 1000);
	assert_int_equal(db_session_expire(f->db, 1599, 600, NULL, NULL), 0);
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 1"), 1000);
	assert_int_equal(db_session_expire(f->db, 1600, 600, NULL, NULL), 0);
	assert_int_equal(sql_int(f->path, "SELECT active FROM sessions WHERE id = 1"), 1300);
	assert_int_equal(db_session_expire(f->db, 1899, 600, NULL, NULL), 0);
	seen_at(f->db, 1, 1899000);                           /* then traffic at 1899 */
	assert_int_equal(db_session_expire(f->db, 1900, 600, NULL, NULL), 0);
	db_close(f->db);
	sql_on(f->path, "DELETE FROM client_status;"          /* the record is the database's */
			"INSERT INTO sessions(role, family, client, service, port, id, created, "
			"refreshed) VALUES ('provider', 4, '198.18.1.3', '198.19.0.10', 80, 2, 2000, "
			"2000);");
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_session_expire(f->db, 2498, 600, NULL, NULL), 0);
	assert_int_equal(db_session_expire(f->db, 2499, 600, NULL, NULL), 1); /* ID 1 */
	assert_int_equal(db_session_expire(f->db, 2599, 600, NULL, NULL), 0);
	assert_int_equal(db_session_expire(f->db, 2600, 600, NULL, NULL), 1); /* ID 2 */
	assert_int_equal(count(f->db, 0), 0);
}

/* The SS's candidates (engine_idle.c): only the role's sessions recorded as last active at
 * or before the bound, from the index; a record is raised, never lowered. */
static void test_idle_candidates_and_touch(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_SUPERVISOR, "198.18.1.2", "198.19.0.10", 80, 1);
	struct db_session b = mk(DB_ROLE_SUPERVISOR, "198.18.1.3", "198.19.0.10", 80, 2);
	struct db_session p = mk(DB_ROLE_PROVIDER, "198.18.1.4", "198.19.0.10", 80, 3);
	int seen = 0;

	b.refreshed = 1500;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	assert_int_equal(db_session_put(f->db, &p), 0);
	vm_steps = fullscan_steps = 0;
	assert_int_equal(db_session_foreach_idle(f->db, DB_ROLE_SUPERVISOR, 1000, count_cb, &seen), 0);
	assert_int_equal(seen, 1);                           /* a; not b, not the provider's */
	assert_int_equal(fullscan_steps, 0);
	assert_int_equal(db_session_touch(f->db, DB_ROLE_SUPERVISOR, &a.s, 1700), 1);
	assert_int_equal(db_session_touch(f->db, DB_ROLE_SUPERVISOR, &a.s, 1200), 1); /* kept 1700 */
	seen = 0;
	assert_int_equal(db_session_foreach_idle(f->db, DB_ROLE_SUPERVISOR, 1699, count_cb, &seen), 0);
	assert_int_equal(seen, 1);                           /* b only */
	seen = 0;
	assert_int_equal(db_session_foreach_idle(f->db, DB_ROLE_SUPERVISOR, 1700, count_cb, &seen), 0);
	assert_int_equal(seen, 2);
	/* a touch of a session not stored changes nothing */
	assert_int_equal(db_session_touch(f->db, DB_ROLE_SUPERVISOR, &p.s, 1700), 0);
	assert_int_equal(db_session_touch(f->db, 0, &a.s, 1700), -1);
}

static void test_replay_cache_survives_restart(void **state)
{
	struct fixture *f = *state;
	uint8_t d1[32], d2[32];
	char err[256];

	memset(d1, 0xa5, sizeof(d1));
	memset(d2, 0x5a, sizeof(d2));
	assert_int_equal(db_replay_seen(f->db, d1, sizeof(d1)), 0);
	assert_int_equal(db_replay_check_add(f->db, d1, sizeof(d1), 100), 0);
	assert_int_equal(db_replay_seen(f->db, d1, sizeof(d1)), 1);
	assert_int_equal(db_replay_check_add(f->db, d1, sizeof(d1), 100), 1);
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 0);
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_replay_check_add(f->db, d1, sizeof(d1), 100), 1);
	assert_int_equal(db_replay_prune(f->db, 150), 1);
	assert_int_equal(db_replay_check_add(f->db, d1, sizeof(d1), 300), 0);
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 1);
	assert_int_equal(db_replay_check_add(f->db, d2, 0, 200), -1);
	assert_int_equal(db_replay_check_add(f->db, d2, DB_DIGEST_MAX + 1, 200), -1);
	/* without the digests in memory (their load fails) the table itself, which has no key
	 * on digest since schema 6, still refuses a repeat and records a new digest once */
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	prepare_countdown = 1; /* the load's SELECT */
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 1);
	prepare_countdown = 1;
	assert_int_equal(db_replay_seen(f->db, d2, sizeof(d2)), 1);
	memset(d2, 0x77, sizeof(d2));
	prepare_countdown = 1;
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 0);
	assert_int_equal(db_replay_check_add(f->db, d2, sizeof(d2), 200), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM replay WHERE digest = "
				 "x'7777777777777777777777777777777777777777777777777777777777777777'"), 1);
}

static const uint8_t hash1[32] = { 1 };

static int profile_count(const char *path, const char *table)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return sql_int(path, sql);
}

static void test_profile_replace_and_failure(void **state)
{
	struct fixture *f = *state;
	struct db_vnic v[] = { { "vnic1", "198.19.0.10", "/srv/vnic1" },
			       { "vnic2", "198.19.0.11", "/srv/vnic2" } };
	struct db_service s[] = { { "vnic1", "http", "198.19.0.10", 80 },
				  { "vnic2", "ssh", "198.19.0.11", 22 } };
	struct db_client c[] = { { .address = "198.18.1.0/24", .key_hash = hash1,
				 .key_hash_len = sizeof(hash1), .services = "http,ssh",
				 .role = DB_ROLE_PROVIDER, .name = "lan" } };
	struct db_profile p = { v, 2, s, 2, c, 1 };
	struct db_profile p1 = { v, 1, s, 1, c, 1 };

	assert_int_equal(db_set_profile(f->db, &p1), 0);
	assert_int_equal(profile_count(f->path, "vnics"), 1);
	assert_int_equal(profile_count(f->path, "services"), 1);
	/* the second vNIC insert fails: nothing of the new profile, all of the old */
	step_countdown = 2;
	assert_int_equal(db_set_profile(f->db, &p), -1);
	assert_non_null(strstr(db_error(f->db), "insert vnic"));
	step_countdown = 0;
	assert_int_equal(profile_count(f->path, "vnics"), 1);
	/* a service naming an unknown vNIC is refused by the foreign key */
	s[1].vnic = "nope";
	assert_int_equal(db_set_profile(f->db, &p), -1);
	assert_int_equal(profile_count(f->path, "services"), 1);
	s[1].vnic = "vnic2";
	assert_int_equal(db_set_profile(f->db, &p), 0);
	assert_int_equal(profile_count(f->path, "vnics"), 2);
	assert_int_equal(profile_count(f->path, "services"), 2);
	assert_int_equal(profile_count(f->path, "clients"), 1);
}

static void test_forced_failures(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session got;
	uint8_t d[32] = { 7 };

	prepare_countdown = 2; /* the provider's index loads (its ID check), then the upsert */
	assert_int_equal(db_session_put(f->db, &a), -1);
	assert_non_null(strstr(db_error(f->db), "prepare"));
	step_countdown = 1;
	assert_int_equal(db_session_put(f->db, &a), -1);
	assert_non_null(strstr(db_error(f->db), "store session"));
	assert_int_equal(count(f->db, 0), 0);

	a.s.expires = 10;
	assert_int_equal(db_session_put(f->db, &a), 0);
	db_rollback(f->db); /* drops the index, which the put's ID check loaded */
	/* the provider's index (authd/db_index.c) loads on the first lookup; a load that fails
	 * leaves the answer to sqlite */
	step_countdown = 1;
	assert_int_equal(db_id_in_use(f->db, a.s.id), 1);
	step_countdown = 1;
	assert_int_equal(db_session_get(f->db, DB_ROLE_PROVIDER, &a.s, &got), 1);
	/* loaded: a session it holds is still read from the table */
	assert_int_equal(db_id_in_use(f->db, a.s.id), 1);
	step_countdown = 1;
	assert_int_equal(db_session_get(f->db, DB_ROLE_PROVIDER, &a.s, &got), -1);
	db_rollback(f->db); /* drops the index (outside a transaction: nothing else) */
	step_countdown = 1;
	assert_int_equal(db_session_get(f->db, DB_ROLE_SUPERVISOR, &a.s, &got), -1);
	step_countdown = 1;
	assert_int_equal(db_session_foreach(f->db, 0, count_cb, &(int){ 0 }), -1);
	/* the expiry's DELETE fails after its SELECT: the session stays */
	step_countdown = 3; /* SELECT row, SELECT done, DELETE */
	assert_int_equal(db_session_expire(f->db, 100, 0, NULL, NULL), -1);
	assert_int_equal(count(f->db, 0), 1);
	prepare_countdown = 1;
	assert_int_equal(db_session_expire(f->db, 100, 0, NULL, NULL), -1);
	assert_int_equal(count(f->db, 0), 1);
	step_countdown = 1;
	assert_int_equal(db_session_del(f->db, DB_ROLE_PROVIDER, &a.s), -1);
	assert_int_equal(count(f->db, 0), 1);
	assert_int_equal(db_replay_seen(f->db, d, sizeof(d)), 0); /* the digests in memory now */
	step_countdown = 1; /* the INSERT's */
	assert_int_equal(db_replay_check_add(f->db, d, sizeof(d), 100), -1);
	assert_int_equal(db_replay_check_add(f->db, d, sizeof(d), 100), 0);
	prepare_countdown = 1;
	assert_int_equal(db_replay_prune(f->db, 1000), -1);
	/* and after all that the database still works */
	assert_int_equal(db_session_expire(f->db, 100, 0, NULL, NULL), 1);
	assert_int_equal(db_replay_prune(f->db, 1000), 1);
}

static int key_cb(const struct db_session *s, void *arg)
{
	struct db_session *out = arg;

	*out = *s;
	return 0;
}

/* Schema 3: the session key survives a restart, sessions without one read back without; the
 * ID walk sees only that role's sessions with that ID. */
static void test_session_key_and_id_walk(void **state)
{
	struct fixture *f = *state;
	struct db_session a = mk(DB_ROLE_SUPERVISOR, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session b = mk(DB_ROLE_SUPERVISOR, "198.18.1.3", "198.19.0.10", 80, 0x6141);
	struct db_session c = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141);
	struct db_session got;
	char err[256];

	memset(a.session_key, 0x5a, sizeof(a.session_key));
	a.has_key = true;
	assert_int_equal(db_session_put(f->db, &a), 0);
	assert_int_equal(db_session_put(f->db, &b), 0);
	assert_int_equal(db_session_put(f->db, &c), 0);
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err));
	assert_non_null(f->db);
	assert_int_equal(db_session_get(f->db, DB_ROLE_SUPERVISOR, &a.s, &got), 1);
	assert_true(got.has_key);
	assert_memory_equal(got.session_key, a.session_key, sizeof(a.session_key));
	assert_int_equal(db_session_get(f->db, DB_ROLE_SUPERVISOR, &b.s, &got), 1);
	assert_false(got.has_key);
	{
		int n = 0;
		assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_SUPERVISOR, 0x6141, count_cb,
						       &n), 0);
		assert_int_equal(n, 2);
		n = 0;
		assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 0x6141, count_cb,
						       &n), 0);
		assert_int_equal(n, 1);
		n = 0;
		assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_SUPERVISOR, 0x6142, count_cb,
						       &n), 0);
		assert_int_equal(n, 0);
	}
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 0x6141, key_cb, &got), 0);
	assert_int_equal(got.role, DB_ROLE_PROVIDER);
}

/* The provider's sessions in memory (authd/db_index.c) against the table itself
 * (db_session_foreach reads it with SQL): after puts, renewals, deletes, expiries, a refused
 * put (ID taken) and rolled-back transactions, the index answers what the table holds. */
#define IX_KEYS 40

struct ix_truth {
	cn_id_t id[IX_KEYS]; /* by the client's last byte; 0: none */
};

static int truth_cb(const struct db_session *s, void *arg)
{
	struct ix_truth *t = arg;

	assert_int_equal(s->s.family, AF_INET);
	assert_true(s->s.client[3] < IX_KEYS);
	t->id[s->s.client[3]] = s->s.id;
	return 0;
}

static void ix_check(struct authd_db *db)
{
	struct ix_truth t;
	bool used[0x10000] = { false };

	memset(&t, 0, sizeof(t));
	assert_int_equal(db_session_foreach(db, DB_ROLE_PROVIDER, truth_cb, &t), 0);
	for (int k = 0; k < IX_KEYS; k++) {
		char client[32];
		struct db_session key;
		cn_id_t id = 0;

		snprintf(client, sizeof(client), "198.18.1.%d", k);
		key = mk(DB_ROLE_PROVIDER, client, "198.19.0.10", 80, 0);
		assert_int_equal(db_session_id(db, DB_ROLE_PROVIDER, &key.s, &id), t.id[k] != 0);
		if (t.id[k]) {
			assert_int_equal(id, t.id[k]);
			used[t.id[k]] = true;
		}
	}
	for (unsigned id = 1; id < 64; id++)
		assert_int_equal(db_id_in_use(db, (cn_id_t)id), used[id]);
}

static void ix_put(struct authd_db *db, int k, cn_id_t id, int expires)
{
	char client[32];
	struct db_session s;
	cn_id_t had;

	snprintf(client, sizeof(client), "198.18.1.%d", k);
	s = mk(DB_ROLE_PROVIDER, client, "198.19.0.10", 80, id);
	s.s.expires = (uint64_t)expires;
	/* an ID another key holds: refused by the table, so not in the index either */
	if (db_id_in_use(db, id) == 1 &&
	    !(db_session_id(db, DB_ROLE_PROVIDER, &s.s, &had) == 1 && had == id))
		assert_int_equal(db_session_put(db, &s), -1);
	else
		assert_int_equal(db_session_put(db, &s), 0);
}

static void test_provider_index(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 11;
	char err[256];

	for (int round = 0; round < 400; round++) {
		int op = rand_r(&seed) % 10, k = rand_r(&seed) % IX_KEYS;
		cn_id_t id = (cn_id_t)(1 + rand_r(&seed) % 60);

		if (op < 5) {
			ix_put(f->db, k, id, rand_r(&seed) % 4 ? 0 : 1000 + rand_r(&seed) % 100);
		} else if (op < 7) {
			char client[32];
			struct db_session s;

			snprintf(client, sizeof(client), "198.18.1.%d", k);
			s = mk(DB_ROLE_PROVIDER, client, "198.19.0.10", 80, 0);
			assert_true(db_session_del(f->db, DB_ROLE_PROVIDER, &s.s) >= 0);
		} else if (op == 7) {
			assert_true(db_session_expire(f->db, 1000 + rand_r(&seed) % 100, 0, NULL,
						      NULL) >= 0);
		} else if (op == 8) {
			/* a turn that rolls back: its writes leave no trace */
			assert_int_equal(db_begin(f->db), 0);
			for (int i = 0; i < 5; i++)
				ix_put(f->db, rand_r(&seed) % IX_KEYS,
				       (cn_id_t)(1 + rand_r(&seed) % 60), 0);
			db_rollback(f->db);
		} else {
			/* a turn that commits */
			assert_int_equal(db_begin(f->db), 0);
			for (int i = 0; i < 5; i++)
				ix_put(f->db, rand_r(&seed) % IX_KEYS,
				       (cn_id_t)(1 + rand_r(&seed) % 60), 0);
			assert_int_equal(db_commit(f->db), 0);
		}
		ix_check(f->db);
	}
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err)); /* a restart loads it from the table */
	assert_non_null(f->db);
	ix_check(f->db);
}

/* Issue 11: the replay digests in memory (db_rindex.c) answer exactly what the table holds,
 * through inserts, repeats, prunes and committed and rolled-back turns, and after a reopen. */
#define RX_DIGESTS 40
struct rx_model {
	bool present[RX_DIGESTS];
	int64_t expires[RX_DIGESTS];
};

static void rx_digest(int k, uint8_t d[32])
{
	memset(d, 0, 32);
	d[0] = (uint8_t)k;
	d[31] = 0xa5;
}

static int rx_in_table(sqlite3 *h, const uint8_t d[32])
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM replay WHERE "
					    "digest = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, d, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* the table through a second connection (what is committed), and the engine's answer */
static void rx_check(struct fixture *f, const struct rx_model *m)
{
	uint8_t d[32];
	sqlite3 *h;

	assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (int k = 0; k < RX_DIGESTS; k++) {
		rx_digest(k, d);
		assert_int_equal(rx_in_table(h, d), m->present[k]);
		assert_int_equal(db_replay_seen(f->db, d, sizeof(d)), m->present[k]);
	}
	sqlite3_close(h);
}

static void rx_add(struct authd_db *db, struct rx_model *m, int k, int64_t expires, bool keep)
{
	uint8_t d[32];

	rx_digest(k, d);
	assert_int_equal(db_replay_check_add(db, d, sizeof(d), expires), m->present[k]);
	if (keep && !m->present[k]) {
		m->present[k] = true;
		m->expires[k] = expires;
	}
}

static void test_replay_index(void **state)
{
	struct fixture *f = *state;
	struct rx_model m = { 0 };
	unsigned seed = 7;
	char err[256];

	for (int round = 0; round < 400; round++) {
		int op = rand_r(&seed) % 10, k = rand_r(&seed) % RX_DIGESTS;
		int64_t expires = 1000 + rand_r(&seed) % 100;

		if (op < 5) {
			rx_add(f->db, &m, k, expires, true);
		} else if (op == 5) {
			int64_t now = 1000 + rand_r(&seed) % 100;
			int gone = 0;

			for (int i = 0; i < RX_DIGESTS; i++)
				if (m.present[i] && m.expires[i] <= now) {
					m.present[i] = false;
					gone++;
				}
			assert_int_equal(db_replay_prune(f->db, now), gone);
		} else if (op < 8) {
			/* a turn that rolls back: its digests are not seen afterwards */
			struct rx_model before = m;

			assert_int_equal(db_begin(f->db), 0);
			for (int i = 0; i < 5; i++)
				rx_add(f->db, &m, rand_r(&seed) % RX_DIGESTS, expires, true);
			db_rollback(f->db);
			m = before;
		} else {
			assert_int_equal(db_begin(f->db), 0);
			for (int i = 0; i < 5; i++)
				rx_add(f->db, &m, rand_r(&seed) % RX_DIGESTS, expires, true);
			assert_int_equal(db_commit(f->db), 0);
		}
		rx_check(f, &m);
	}
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof(err)); /* a restart loads it from the table */
	assert_non_null(f->db);
	rx_check(f, &m);
}

/* Issue 11: a listing's page, a revocation by client and the count without a walk. */
static void test_range_client_count(void **state)
{
	struct fixture *f = *state;
	struct db_session s[5] = {
		mk(DB_ROLE_SUPERVISOR, "198.18.1.2", "198.19.0.10", 80, 0x6141),
		mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 0x6141),
		mk(DB_ROLE_PROVIDER, "198.18.1.3", "198.19.0.10", 80, 0x6142),
		mk(DB_ROLE_PROVIDER, "198.18.1.4", "198.19.0.10", 80, 0x6143),
		mk(DB_ROLE_SUPERVISOR, "2001:db8::2", "2001:db8::10", 80, 0x6144),
	};
	struct db_session rows[2];
	int64_t rowids[2], from = 0;
	uint8_t c2[4];
	int n, seen = 0;

	assert_int_equal(db_session_count(f->db, 0), 0);
	assert_int_equal(db_session_range(f->db, 0, rows, rowids, 2), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(db_session_put(f->db, &s[i]), 0);
	assert_int_equal(db_session_count(f->db, 0), 5);
	/* pages of two in insertion order; one deleted and one renewed mid-listing: every
	 * session present for the whole listing is listed exactly once */
	n = db_session_range(f->db, from, rows, rowids, 2);
	assert_int_equal(n, 2);
	assert_true(rowids[0] < rowids[1]);
	assert_int_equal(rows[0].role, DB_ROLE_SUPERVISOR);
	assert_int_equal(rows[1].s.id, 0x6141);
	from = rowids[1] + 1;
	assert_int_equal(db_session_del(f->db, DB_ROLE_PROVIDER, &s[2].s), 1);
	s[3].s.id = 0x7000; /* a renewal keeps its row */
	assert_int_equal(db_session_put(f->db, &s[3]), 0);
	n = db_session_range(f->db, from, rows, rowids, 2);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].s.id, 0x7000);
	assert_int_equal(rows[1].s.family, AF_INET6);
	assert_int_equal(db_session_range(f->db, rowids[1] + 1, rows, rowids, 2), 0);
	/* by client: both roles, only that client */
	inet_pton(AF_INET, "198.18.1.2", c2);
	assert_int_equal(db_session_foreach_client(f->db, AF_INET, c2, count_cb, &seen), 0);
	assert_int_equal(seen, 2);
	seen = 0;
	assert_int_equal(db_session_foreach_client(f->db, AF_INET6, s[4].s.client, count_cb,
						   &seen), 0);
	assert_int_equal(seen, 1);
	assert_int_equal(db_session_foreach_client(f->db, 0, c2, count_cb, &seen), -1);
	assert_int_equal(db_session_count(f->db, 0), 4);
	assert_int_equal(db_session_count(f->db, DB_ROLE_PROVIDER), 2);
	assert_int_equal(db_session_count(f->db, DB_ROLE_SUPERVISOR), 2);
	/* the expiry's query without an idle limit reads the index, not the table */
	{
		sqlite3 *h;
		sqlite3_stmt *st;
		bool indexed = false;

		assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "EXPLAIN QUERY PLAN SELECT * FROM sessions "
						    "WHERE expires BETWEEN 1 AND 5", -1, &st, NULL),
				 SQLITE_OK);
		while (__real_sqlite3_step(st) == SQLITE_ROW)
			indexed |= strstr((const char *)sqlite3_column_text(st, 3),
					  "sessions_expires") != NULL;
		sqlite3_finalize(st);
		sqlite3_close(h);
		assert_true(indexed);
	}
}

/* the query plan of the statement text that db_session_foreach_id prepared reads `index` */
static bool id_walk_uses(const char *path, const char *index)
{
	char sql[1100];
	sqlite3 *h;
	sqlite3_stmt *st;
	bool used = false;

	assert_non_null(strstr(last_sql, "id = ?1"));
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", last_sql);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(__real_sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	while (__real_sqlite3_step(st) == SQLITE_ROW)
		used |= strstr((const char *)sqlite3_column_text(st, 3), index) != NULL;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return used;
}

/* The walk of one role's sessions by ID (revocation, probes) does not read the whole table: a
 * provider's by its index in memory and the session's key (schema 8 has no index on a
 * provider's IDs), a supervisor's by its partial index (with the role as a bound parameter
 * sqlite could not use a partial index). */
static void test_id_walk_uses_role_index(void **state)
{
	struct fixture *f = *state;
	struct db_session p = mk(DB_ROLE_PROVIDER, "198.18.1.2", "198.19.0.10", 80, 7);
	int seen = 0;

	put_many(f->db, 3000, 1000);
	assert_int_equal(db_session_put(f->db, &p), -1); /* put_many's ID 7 */
	vm_steps = fullscan_steps = 0;
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 7, count_cb, &seen), 0);
	assert_int_equal(seen, 1);
	assert_int_equal(fullscan_steps, 0);
	assert_true(vm_steps < 100);
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 9999, count_cb, &seen), 0);
	assert_int_equal(seen, 1);
	/* without the index in memory (its load fails): a scan, the same answer */
	db_rollback(f->db);
	prepare_countdown = 1;
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_PROVIDER, 7, count_cb, &seen), 0);
	assert_int_equal(seen, 2);
	seen = 0;
	assert_int_equal(db_session_foreach_id(f->db, DB_ROLE_SUPERVISOR, 7, count_cb, &seen), 0);
	assert_true(id_walk_uses(f->path, "sessions_supervisor_id"));
	assert_int_equal(seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_roundtrip_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_id_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_updates_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_id_repeated_by_another_tool, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry_reads_what_is_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_candidates_and_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_cache_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_replace_and_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forced_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_key_and_id_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_walk_uses_role_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_client_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_index, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
