/* SPDX-License-Identifier: MIT */
/* The profile tables (vnics, services, clients): db_set_profile. */
#include "db_int.h"

/* Bind row i of a profile table to st. */
typedef void bind_row_fn(sqlite3_stmt *st, const struct db_profile *p, size_t i);

static void bind_vnic(sqlite3_stmt *st, const struct db_profile *p, size_t i)
{
	sqlite3_bind_text(st, 1, p->vnics[i].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->vnics[i].address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->vnics[i].data_folder, -1, SQLITE_STATIC);
}

static void bind_service(sqlite3_stmt *st, const struct db_profile *p, size_t i)
{
	sqlite3_bind_text(st, 1, p->services[i].vnic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->services[i].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->services[i].address, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, p->services[i].port);
}

static void bind_client(sqlite3_stmt *st, const struct db_profile *p, size_t i)
{
	sqlite3_bind_text(st, 1, p->clients[i].address, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p->clients[i].key_hash, (int)p->clients[i].key_hash_len,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->clients[i].services ? p->clients[i].services : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, db_role_name(p->clients[i].role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->clients[i].name ? p->clients[i].name : "", -1, SQLITE_STATIC);
}

/* Insert n rows with one prepared statement. */
static int put_rows(struct authd_db *db, const struct db_profile *p, const char *sql, size_t n,
		    bind_row_fn *bind, const char *what)
{
	sqlite3_stmt *st;
	int r = 0;

	if (db_prepare(db, &st, sql) < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		bind(st, p, i);
		r = db_step_done(db, st, what);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

int db_set_profile(struct authd_db *db, const struct db_profile *p)
{
	if (db_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (db_exec(db, "DELETE FROM services; DELETE FROM vnics; DELETE FROM clients;") < 0 ||
	    put_rows(db, p, "INSERT INTO vnics(name, address, data_folder) VALUES (?, ?, ?)",
		     p->n_vnics, bind_vnic, "insert vnic") < 0 ||
	    put_rows(db, p, "INSERT INTO services(vnic, name, address, port) VALUES (?, ?, ?, ?)",
		     p->n_services, bind_service, "insert service") < 0 ||
	    put_rows(db, p, "INSERT INTO clients(address, key_hash, services, role, name) "
		     "VALUES (?, ?, ?, ?, ?)", p->n_clients, bind_client, "insert client") < 0 ||
	    db_exec(db, "COMMIT") < 0) {
		db_rollback_keep(db);
		return -1;
	}
	return 0;
}
