/* SPDX-License-Identifier: MIT */
/*
 * Schema 4 of the profiled status database on real sqlite files: the migration from a
 * schema-3 database with data in every table, the status tables (info_vNIC on an SS,
 * info_client on an SP, reachability), their rows going with their session, the paper's row
 * per vNIC (profiled_status) and the per-SP view.
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

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_db_status.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/authd.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void sql_on(const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(h);
}

/* The first column of the first row of sql, as text ("" when NULL, "-" when no row). */
static void query(const char *sql, char *out, size_t size)
{
	sqlite3_stmt *st;
	sqlite3 *h;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", sqlite3_column_text(st, 0) ?
			 (const char *)sqlite3_column_text(st, 0) : "");
	else
		snprintf(out, size, "-");
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void expect(const char *sql, const char *want)
{
	char got[512];

	query(sql, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%s: got \"%s\", want \"%s\"", sql, got, want);
}

/* A schema-3 database as coopnet-authd 3 left it (its migrations 0..2), with data. */
static const char v3[] =
	"CREATE TABLE vnics (name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 15),"
	" address TEXT NOT NULL, data_folder TEXT NOT NULL);"
	"CREATE TABLE services (vnic TEXT NOT NULL REFERENCES vnics(name) ON DELETE CASCADE,"
	" name TEXT NOT NULL, address TEXT NOT NULL,"
	" port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535), PRIMARY KEY (vnic, name));"
	"CREATE TABLE clients (address TEXT PRIMARY KEY, key_hash BLOB NOT NULL,"
	" services TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE sessions (role TEXT NOT NULL CHECK (role IN ('supervisor', 'provider')),"
	" family INTEGER NOT NULL CHECK (family IN (4, 6)), client TEXT NOT NULL,"
	" service TEXT NOT NULL, port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	" id INTEGER NOT NULL CHECK (id BETWEEN 1 AND 65535), vnic TEXT NOT NULL DEFAULT '',"
	" service_name TEXT NOT NULL DEFAULT '', client_name TEXT NOT NULL DEFAULT '',"
	" peer TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, refreshed INTEGER NOT NULL,"
	" expires INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (role, client, service, port));"
	"CREATE UNIQUE INDEX sessions_provider_id ON sessions(id) WHERE role = 'provider';"
	"CREATE TABLE replay (digest BLOB PRIMARY KEY, expires INTEGER NOT NULL);"
	"CREATE INDEX replay_expires ON replay(expires);"
	"ALTER TABLE sessions ADD COLUMN session_key BLOB NOT NULL DEFAULT x'';"
	"CREATE INDEX sessions_id ON sessions(id);"
	"INSERT INTO vnics VALUES ('vnic1', '198.19.0.10', '/srv/vnic1');"
	"INSERT INTO services VALUES ('vnic1', 'http', '198.19.0.10', 80);"
	"INSERT INTO services VALUES ('vnic1', 'ssh', '198.19.0.10', 22);"
	"INSERT INTO clients VALUES ('198.18.1.0/24', x'0102030405060708aa', 'http,ssh');"
	"INSERT INTO sessions VALUES ('provider', 4, '198.18.1.2', '198.19.0.10', 80, 24897,"
	" 'vnic1', 'http', 'lan1', '198.18.0.1:7447', 1000, 1000, 0,"
	" x'4242424242424242424242424242424242424242424242424242424242424242');"
	"INSERT INTO sessions VALUES ('supervisor', 4, '198.18.1.3', '198.19.0.10', 80, 7,"
	" 'vnic1', 'http', 'lan2', '198.18.0.2:7447', 1000, 1000, 0, x'');"
	"INSERT INTO replay VALUES (x'00ff', 99999999999);"
	"PRAGMA user_version = 3;";

static void test_migrate_from_v3_with_data(void **state)
{
	struct db_session got;
	struct authd_db *db;
	struct cn_session key;
	char err[256];

	(void)state;
	sql_on(v3);
	db = db_open(path, err, sizeof(err));
	if (!db)
		fail_msg("%s", err);
	assert_int_equal(db_user_version(db), DB_SCHEMA_VERSION);
	/* sessions, with their key, and the replay cache came through */
	memset(&key, 0, sizeof(key));
	key.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", key.client);
	inet_pton(AF_INET, "198.19.0.10", key.service);
	key.port = 80;
	assert_int_equal(db_session_get(db, DB_ROLE_PROVIDER, &key, &got), 1);
	assert_int_equal(got.s.id, 24897);
	assert_true(got.has_key);
	assert_int_equal(got.session_key[31], 0x42);
	assert_int_equal(db_replay_seen(db, (const uint8_t *)"\x00\xff", 2), 1);
	db_close(db);
	/* the client row kept its data, with role and name '' until the next policy load */
	expect("SELECT role || '|' || name || '|' || address || '|' || hex(key_hash) || '|' || "
	       "services FROM clients", "||198.18.1.0/24|0102030405060708AA|http,ssh");
	/* the paper's columns for vnic1, from the migrated data */
	expect("SELECT id_list || ' ' || passcode_ref || ' ' || vnic_name || ' ' || data_folder "
	       "|| ' ' || service_list || ' ' || client_list FROM profiled_status",
	       "24897 :0102030405060708 vnic1 /srv/vnic1 http/80,ssh/22 @198.18.1.0/24");
	expect("SELECT count(*) FROM vnic_status", "0");
	/* schema 7: each session's last activity, from its Authentication (no report yet) */
	expect("SELECT group_concat(active) FROM sessions", "1000,1000");
	expect("PRAGMA user_version", "8");
}

static void test_migration_failure_keeps_v3(void **state)
{
	char err[256];

	(void)state;
	/* a v3 file where step 3 -> 4's table already exists: the step fails whole */
	sql_on(v3);
	sql_on("CREATE TABLE client_status (x);");
	assert_null(db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "migration 3 -> 4"));
	expect("PRAGMA user_version", "3");
	expect("SELECT count(*) FROM sqlite_master WHERE name IN ('clients4', 'vnic_status')", "0");
	expect("SELECT address FROM clients", "198.18.1.0/24");
}

/* ------------------------------------------------------------------ status rows */

static int vnic_cb(const struct db_vnic_status *r, void *arg)
{
	*(struct db_vnic_status *)arg = *r;
	return 0;
}

static int client_cb(const struct db_client_status *r, void *arg)
{
	*(struct db_client_status *)arg = *r;
	return 0;
}

static struct db_session session(enum db_role role, cn_id_t id, const char *peer)
{
	struct db_session s;

	memset(&s, 0, sizeof(s));
	s.role = role;
	s.s.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", s.s.client);
	inet_pton(AF_INET, "198.19.0.10", s.s.service);
	s.s.port = 80;
	s.s.id = id;
	strcpy(s.s.vnic, "vnic1");
	strcpy(s.peer, peer);
	strcpy(s.service_name, "http");
	strcpy(s.client_name, "lan1");
	s.created = s.refreshed = 1000;
	return s;
}

static void test_vnic_status(void **state)
{
	struct db_session s = session(DB_ROLE_SUPERVISOR, 0x4242, "198.18.2.1:7447");
	struct db_vnic_status r = {
		.sp = "198.18.2.1:7447", .id = 0x4242, .service = "http", .vnic = "vnic1",
		.address = "198.19.0.10:80", .vnic_status = CN_VNIC_DOWN,
		.v = { .link = CN_LINK_UP, .health = CN_HEALTH_FAILING, .check = CN_CHECK_HTTP,
		       .http_code = 500, .weight = 100, .sessions = 3,
		       .conns = CN_STATUS_CONNS_UNKNOWN, .bytes_per_s = 1ull << 40,
		       .check_ms = 12, .since_s = CN_STATUS_SINCE_UNKNOWN },
		.interval_ms = 10000, .sent_ms = 1795000000000, .received_ms = 1795000000010,
	}, got;
	struct authd_db *db;
	char err[256];

	(void)state;
	assert_non_null(db = db_open(path, err, sizeof(err)));
	assert_int_equal(db_session_put(db, &s), 0);
	/* in the engine's turn transaction, like every write of a turn */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_vnic_status_put(db, &r), 0);
	assert_int_equal(db_commit(db), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(db_vnic_status_foreach(db, vnic_cb, &got), 0);
	r.reachable = true;
	assert_memory_equal(&got, &r, sizeof(r));
	expect("SELECT sp || ' ' || reachable || ' ' || last_received || ' ' || down FROM sp_status",
	       "198.18.2.1:7447 1 1795000000010 1");
	/* unreachable, then a report makes it reachable again with the time of the change */
	assert_int_equal(db_status_reachable(db, DB_ROLE_SUPERVISOR, r.sp, r.id, "http", false,
					     1795000040000), 0);
	expect("SELECT reachable || ' ' || reach_changed FROM vnic_status", "0 1795000040000");
	expect("SELECT reachable FROM sp_status", "0");
	r.received_ms = 1795000050000;
	assert_int_equal(db_vnic_status_put(db, &r), 0);
	expect("SELECT reachable || ' ' || reach_changed FROM vnic_status", "1 1795000050000");
	/* the row goes with its session */
	assert_int_equal(db_session_del(db, DB_ROLE_SUPERVISOR, &s.s), 1);
	expect("SELECT count(*) FROM vnic_status", "0");
	/* reachability of a session with no report yet makes a row of unknowns */
	assert_int_equal(db_status_reachable(db, DB_ROLE_SUPERVISOR, "198.18.2.9:7447", 9, "ssh",
					     false, 5), 0);
	expect("SELECT vnic_status || ' ' || reachable || ' ' || conns FROM vnic_status", "0 0 -1");
	assert_int_equal(db_status_reachable(db, 0, "x", 9, "ssh", false, 5), -1);
	db_close(db);
}

static void test_client_status(void **state)
{
	struct db_session s = session(DB_ROLE_PROVIDER, 0x4243, "198.18.0.1:7447");
	struct db_client_status r = {
		.ss = "198.18.0.1:7447", .id = 0x4243, .service = "http", .client = "198.18.1.2",
		.client_name = "lan1",
		.c = { .last_seen_ms = 1795000000500, .segs_c2s = 10, .bytes_c2s = 1000,
		       .segs_s2c = 20, .bytes_s2c = 1ull << 33, .drops = { 1, 2, 3, 4 } },
		.interval_ms = 10000, .sent_ms = 1795000000600, .received_ms = 1795000000610,
	}, got;
	struct authd_db *db;
	char err[256];

	(void)state;
	assert_non_null(db = db_open(path, err, sizeof(err)));
	assert_int_equal(db_session_put(db, &s), 0);
	assert_int_equal(db_client_status_put(db, &r), 0);
	r.c.bytes_c2s = 2000; /* a newer report replaces the row */
	assert_int_equal(db_client_status_put(db, &r), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(db_client_status_foreach(db, client_cb, &got), 0);
	r.reachable = true;
	assert_memory_equal(&got, &r, sizeof(r));
	expect("SELECT count(*) FROM client_status", "1");
	/* a supervisor session of the same ID does not take the provider's row with it */
	{
		struct db_session o = session(DB_ROLE_SUPERVISOR, 0x4243, "198.18.0.1:7447");
		assert_int_equal(db_session_put(db, &o), 0);
		assert_int_equal(db_session_del(db, DB_ROLE_SUPERVISOR, &o.s), 1);
		expect("SELECT count(*) FROM client_status", "1");
	}
	assert_int_equal(db_session_del(db, DB_ROLE_PROVIDER, &s.s), 1);
	expect("SELECT count(*) FROM client_status", "0");
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_from_v3_with_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_failure_keeps_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnic_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_status, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
