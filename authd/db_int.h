/* SPDX-License-Identifier: MIT */
/* What the files of the database module (db.c, db_status.c) share; not for other callers. */
#ifndef COOPNET_AUTHD_DB_INT_H
#define COOPNET_AUTHD_DB_INT_H

#include <sqlite3.h>

#include "db.h"

sqlite3 *db_sqlite(struct authd_db *db);
/* Set the error to "what: <sqlite's message>"; returns -1. */
int db_fail_sql(struct authd_db *db, const char *what);

#endif
