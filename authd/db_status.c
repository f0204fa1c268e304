/* SPDX-License-Identifier: MIT */
/* The status tables of the profiled status database (db.h, docs/database.md). */
#include <stdio.h>
#include <string.h>

#include "db_int.h"

/* Step a write, finalize it. */
/* Step a cached statement (db_cached: prepared once, run per status report), give it back. */
static int run(struct authd_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail_sql(db, what);

	db_done_cached(st);
	return rc;
}

static void text(char *out, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", t ? (const char *)t : "");
}

static sqlite3_int64 i64(uint64_t v)
{
	return (sqlite3_int64)v;
}

/* ------------------------------------------------------------------ vnic_status (SS) */

#define VNIC_COLS "sp, id, service, vnic, address, vnic_status, link, health, check_kind, " \
	"http_code, weight, sessions, conns, bytes_per_s, check_ms, since_s, interval_ms, sent, " \
	"received, reachable, reach_changed"

int db_vnic_status_put(struct authd_db *db, const struct db_vnic_status *r)
{
	static const char sql[] = "INSERT INTO vnic_status(" VNIC_COLS ") VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0) "
		"ON CONFLICT (sp, id, service) DO UPDATE SET vnic = excluded.vnic, "
		"address = excluded.address, vnic_status = excluded.vnic_status, link = excluded.link, "
		"health = excluded.health, check_kind = excluded.check_kind, "
		"http_code = excluded.http_code, weight = excluded.weight, "
		"sessions = excluded.sessions, conns = excluded.conns, "
		"bytes_per_s = excluded.bytes_per_s, check_ms = excluded.check_ms, "
		"since_s = excluded.since_s, interval_ms = excluded.interval_ms, "
		"sent = excluded.sent, received = excluded.received, reachable = 1, "
		"reach_changed = CASE WHEN reachable THEN reach_changed ELSE excluded.received END";
	const struct cn_status_vnic *v = &r->v;
	sqlite3_stmt *st;

	if (db_cached(db, ST_VNIC_STATUS_PUT, &st, sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->sp, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->id);
	sqlite3_bind_text(st, 3, r->service, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->vnic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->address, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, r->vnic_status);
	sqlite3_bind_int(st, 7, v->link);
	sqlite3_bind_int(st, 8, v->health);
	sqlite3_bind_int(st, 9, v->check);
	sqlite3_bind_int(st, 10, v->http_code);
	sqlite3_bind_int(st, 11, v->weight);
	sqlite3_bind_int64(st, 12, v->sessions);
	sqlite3_bind_int64(st, 13, v->conns == CN_STATUS_CONNS_UNKNOWN ? -1 : (sqlite3_int64)v->conns);
	sqlite3_bind_int64(st, 14, i64(v->bytes_per_s));
	sqlite3_bind_int64(st, 15, v->check_ms);
	sqlite3_bind_int64(st, 16, v->since_s == CN_STATUS_SINCE_UNKNOWN ? -1 : (sqlite3_int64)v->since_s);
	sqlite3_bind_int64(st, 17, r->interval_ms);
	sqlite3_bind_int64(st, 18, r->sent_ms);
	sqlite3_bind_int64(st, 19, r->received_ms);
	return run(db, st, "store info_vNIC");
}

static void read_vnic(sqlite3_stmt *st, struct db_vnic_status *r)
{
	sqlite3_int64 conns = sqlite3_column_int64(st, 12), since = sqlite3_column_int64(st, 15);

	memset(r, 0, sizeof(*r));
	text(r->sp, sizeof(r->sp), st, 0);
	r->id = (cn_id_t)sqlite3_column_int(st, 1);
	text(r->service, sizeof(r->service), st, 2);
	text(r->vnic, sizeof(r->vnic), st, 3);
	text(r->address, sizeof(r->address), st, 4);
	r->vnic_status = (uint8_t)sqlite3_column_int(st, 5);
	r->v.link = (uint8_t)sqlite3_column_int(st, 6);
	r->v.health = (uint8_t)sqlite3_column_int(st, 7);
	r->v.check = (uint8_t)sqlite3_column_int(st, 8);
	r->v.http_code = (uint16_t)sqlite3_column_int(st, 9);
	r->v.weight = (uint16_t)sqlite3_column_int(st, 10);
	r->v.sessions = (uint32_t)sqlite3_column_int64(st, 11);
	r->v.conns = conns < 0 ? CN_STATUS_CONNS_UNKNOWN : (uint32_t)conns;
	r->v.bytes_per_s = (uint64_t)sqlite3_column_int64(st, 13);
	r->v.check_ms = (uint32_t)sqlite3_column_int64(st, 14);
	r->v.since_s = since < 0 ? CN_STATUS_SINCE_UNKNOWN : (uint32_t)since;
	r->interval_ms = (uint32_t)sqlite3_column_int64(st, 16);
	r->sent_ms = sqlite3_column_int64(st, 17);
	r->received_ms = sqlite3_column_int64(st, 18);
	r->reachable = sqlite3_column_int(st, 19) != 0;
	r->reach_changed_ms = sqlite3_column_int64(st, 20);
}

int db_vnic_status_foreach(struct authd_db *db, db_vnic_status_cb cb, void *arg)
{
	struct db_vnic_status r;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (db_prepare(db, &st, "SELECT " VNIC_COLS " FROM vnic_status ORDER BY sp, id, service") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0) {
		read_vnic(st, &r);
		ret = cb(&r, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_fail_sql(db, "read vnic_status");
	sqlite3_finalize(st);
	return ret;
}

/* ------------------------------------------------------------------ client_status (SP) */

#define CLIENT_COLS "ss, id, service, client, client_name, last_seen, segs_c2s, bytes_c2s, " \
	"segs_s2c, bytes_s2c, drop_no_id, drop_wrong_id, drop_expired, drop_other, interval_ms, " \
	"sent, received, reachable, reach_changed"

int db_client_status_put(struct authd_db *db, const struct db_client_status *r)
{
	static const char sql[] = "INSERT INTO client_status(" CLIENT_COLS ") VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0) "
		"ON CONFLICT (ss, id, service) DO UPDATE SET client = excluded.client, "
		"client_name = excluded.client_name, last_seen = excluded.last_seen, "
		"segs_c2s = excluded.segs_c2s, bytes_c2s = excluded.bytes_c2s, "
		"segs_s2c = excluded.segs_s2c, bytes_s2c = excluded.bytes_s2c, "
		"drop_no_id = excluded.drop_no_id, drop_wrong_id = excluded.drop_wrong_id, "
		"drop_expired = excluded.drop_expired, drop_other = excluded.drop_other, "
		"interval_ms = excluded.interval_ms, sent = excluded.sent, "
		"received = excluded.received, reachable = 1, "
		"reach_changed = CASE WHEN reachable THEN reach_changed ELSE excluded.received END";
	const struct cn_status_client *c = &r->c;
	sqlite3_stmt *st;

	if (db_cached(db, ST_CLIENT_STATUS_PUT, &st, sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->ss, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->id);
	sqlite3_bind_text(st, 3, r->service, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->client_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, i64(c->last_seen_ms));
	sqlite3_bind_int64(st, 7, i64(c->segs_c2s));
	sqlite3_bind_int64(st, 8, i64(c->bytes_c2s));
	sqlite3_bind_int64(st, 9, i64(c->segs_s2c));
	sqlite3_bind_int64(st, 10, i64(c->bytes_s2c));
	for (int i = 0; i < CN_DROP_MAX; i++)
		sqlite3_bind_int64(st, 11 + i, c->drops[i]);
	sqlite3_bind_int64(st, 15, r->interval_ms);
	sqlite3_bind_int64(st, 16, r->sent_ms);
	sqlite3_bind_int64(st, 17, r->received_ms);
	return run(db, st, "store info_client");
}

static void read_client(sqlite3_stmt *st, struct db_client_status *r)
{
	memset(r, 0, sizeof(*r));
	text(r->ss, sizeof(r->ss), st, 0);
	r->id = (cn_id_t)sqlite3_column_int(st, 1);
	text(r->service, sizeof(r->service), st, 2);
	text(r->client, sizeof(r->client), st, 3);
	text(r->client_name, sizeof(r->client_name), st, 4);
	r->c.last_seen_ms = (uint64_t)sqlite3_column_int64(st, 5);
	r->c.segs_c2s = (uint64_t)sqlite3_column_int64(st, 6);
	r->c.bytes_c2s = (uint64_t)sqlite3_column_int64(st, 7);
	r->c.segs_s2c = (uint64_t)sqlite3_column_int64(st, 8);
	r->c.bytes_s2c = (uint64_t)sqlite3_column_int64(st, 9);
	for (int i = 0; i < CN_DROP_MAX; i++)
		r->c.drops[i] = (uint32_t)sqlite3_column_int64(st, 10 + i);
	r->interval_ms = (uint32_t)sqlite3_column_int64(st, 14);
	r->sent_ms = sqlite3_column_int64(st, 15);
	r->received_ms = sqlite3_column_int64(st, 16);
	r->reachable = sqlite3_column_int(st, 17) != 0;
	r->reach_changed_ms = sqlite3_column_int64(st, 18);
}

int db_client_status_foreach(struct authd_db *db, db_client_status_cb cb, void *arg)
{
	struct db_client_status r;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (db_prepare(db, &st, "SELECT " CLIENT_COLS " FROM client_status ORDER BY ss, id, service") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0) {
		read_client(st, &r);
		ret = cb(&r, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_fail_sql(db, "read client_status");
	sqlite3_finalize(st);
	return ret;
}

/* ------------------------------------------------------------------ reachability */

int db_status_reachable(struct authd_db *db, enum db_role role, const char *peer, cn_id_t id,
			const char *service, bool reachable, int64_t now_ms)
{
	static const char vnic_sql[] = "INSERT INTO vnic_status(sp, id, service, reachable, "
		"reach_changed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sp, id, service) DO UPDATE SET "
		"reach_changed = CASE WHEN reachable = excluded.reachable THEN reach_changed "
		"ELSE excluded.reach_changed END, reachable = excluded.reachable";
	static const char client_sql[] = "INSERT INTO client_status(ss, id, service, reachable, "
		"reach_changed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ss, id, service) DO UPDATE SET "
		"reach_changed = CASE WHEN reachable = excluded.reachable THEN reach_changed "
		"ELSE excluded.reach_changed END, reachable = excluded.reachable";
	sqlite3_stmt *st;

	if (role != DB_ROLE_SUPERVISOR && role != DB_ROLE_PROVIDER)
		return db_fail_sql(db, "status reachability: no role");
	if (role == DB_ROLE_SUPERVISOR ? db_cached(db, ST_STATUS_REACH_SS, &st, vnic_sql) < 0 :
	    db_cached(db, ST_STATUS_REACH_SP, &st, client_sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, id);
	sqlite3_bind_text(st, 3, service, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, reachable);
	sqlite3_bind_int64(st, 5, now_ms);
	return run(db, st, "store reachability");
}

int db_status_del(struct authd_db *db, enum db_role role, const char *peer, cn_id_t id,
		  const char *service)
{
	static const char vnic_sql[] = "DELETE FROM vnic_status WHERE sp = ? AND id = ? AND service = ?";
	static const char client_sql[] = "DELETE FROM client_status WHERE ss = ? AND id = ? AND service = ?";
	sqlite3_stmt *st;

	if (role != DB_ROLE_SUPERVISOR && role != DB_ROLE_PROVIDER)
		return db_fail_sql(db, "status delete: no role");
	if (role == DB_ROLE_SUPERVISOR ? db_cached(db, ST_STATUS_DEL_SS, &st, vnic_sql) < 0 :
	    db_cached(db, ST_STATUS_DEL_SP, &st, client_sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, id);
	sqlite3_bind_text(st, 3, service, -1, SQLITE_STATIC);
	return run(db, st, "delete status");
}
