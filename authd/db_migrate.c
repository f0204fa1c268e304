/* SPDX-License-Identifier: MIT */
/* The schema of the profiled status database and its migrations (docs/database.md). */
#include "db_int.h"

#include <stdio.h>
#include <string.h>

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
	/* 4 -> 5: the expiry's once-a-second query reads only the expired rows (it scanned the
	 * table: issue 11, 100,000 live sessions) */
	"CREATE INDEX sessions_expires ON sessions(expires);",
	/* 5 -> 6: fewer B-tree pages per Authentication (issue 11: instructions and WAL frames
	 * per exchange). The replay digests in insertion order (rowid), no longer a B-tree keyed
	 * by a random digest, where each insert dirtied another leaf page: the digests in
	 * memory (db_rindex.c) are the uniqueness check, and expires grows with the rowid, so
	 * an insert is an append to the table and to replay_expires. The sessions' index by ID
	 * for the supervisor's rows only: a provider's rows have sessions_provider_id, so
	 * theirs was a second index of the same column updated on every upsert. */
	("CREATE TABLE replay6 ("
	 "  digest BLOB NOT NULL CHECK (length(digest) BETWEEN 1 AND 64),"
	 "  expires INTEGER NOT NULL);"
	 "INSERT INTO replay6(digest, expires) SELECT digest, expires FROM replay ORDER BY expires;"
	 "DROP TABLE replay;"
	 "ALTER TABLE replay6 RENAME TO replay;"
	 "CREATE INDEX replay_expires ON replay(expires);"
	 "DROP INDEX sessions_id;"
	 "CREATE INDEX sessions_supervisor_id ON sessions(id) WHERE role = 'supervisor';"),
	/* 6 -> 7: each session's last activity as far as the database knows it, indexed, so
	 * that the idle expiry (a provider's idle_time, an SS's) reads only the sessions whose
	 * recorded activity is idle_time old, not every session each second (issue 11, 100,000
	 * live sessions; db_session.c "Idle"). A lower bound of the later of the last
	 * Authentication and the last segment seen: refreshed on each Authentication, raised
	 * by the expiry when it finds a due session busier than recorded. */
	("ALTER TABLE sessions ADD COLUMN active INTEGER NOT NULL DEFAULT 0;"
	 "UPDATE sessions SET active = max(refreshed, coalesce((SELECT c.last_seen / 1000 FROM"
	 "  client_status c WHERE sessions.role = 'provider' AND c.ss = sessions.peer AND"
	 "  c.id = sessions.id AND c.service = sessions.service_name), 0));"
	 "CREATE INDEX sessions_active ON sessions(role, active);"),
	/* 7 -> 8: no unique index on a provider's IDs. Its keys are random, so each renewal
	 * dirtied two random pages of it (the old ID's and the new one's) and each new session
	 * one: most of a renewal's WAL frames (issue 11, bench/db_store). An SP's IDs stay unique
	 * among its live sessions: db_session_put refuses an ID another session holds, asking
	 * the provider's index in memory, which is loaded from this table and refuses a table
	 * that repeats an ID (db_index.c); lookups by ID go through that index too. */
	"DROP INDEX sessions_provider_id;",
};

int db_user_version(struct authd_db *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (db_prepare(db, &st, "PRAGMA user_version") < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		db_fail(db, "read user_version");
	sqlite3_finalize(st);
	return v;
}

static int migrate_step(struct authd_db *db, int from)
{
	char sql[64];

	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", from + 1);
	if (db_exec(db, migrations[from]) < 0 || db_exec(db, sql) < 0) {
		char why[400];
		memcpy(why, db->err, sizeof(why) - 1);
		why[sizeof(why) - 1] = '\0';
		snprintf(db->err, sizeof(db->err), "migration %d -> %d: %s", from, from + 1, why);
		db_rollback_keep(db);
		return -1;
	}
	if (db_exec(db, "COMMIT") < 0) {
		db_rollback_keep(db);
		return -1;
	}
	return 0;
}

int db_migrate(struct authd_db *db)
{
	int v = db_user_version(db);

	if (v < 0)
		return -1;
	if (v > DB_SCHEMA_VERSION)
		return db_fail(db, "schema version %d is newer than this program's %d: use a newer "
			    "coopnet-authd or another database file", v, DB_SCHEMA_VERSION);
	for (; v < DB_SCHEMA_VERSION; v++)
		if (migrate_step(db, v) < 0)
			return -1;
	return 0;
}
