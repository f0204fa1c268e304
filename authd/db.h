/* SPDX-License-Identifier: MIT */
/*
 * The profiled status database (docs/database.md): sqlite3 in WAL mode.
 *
 * The paper's columns map to tables: vNIC NAME and DATA FOLDER to vnics, SERVICE LIST to
 * services, CLIENT LIST and PASSCODE (a hash of the derived key, never the passcode) to
 * clients, ID LIST to sessions; plus the replay cache and (schema 4) the status tables and
 * the view profiled_status, the paper's row per vNIC. The schema is versioned with
 * PRAGMA user_version and migrated step by step (N -> N+1 in one transaction) on open.
 *
 * Every function returns 0 (or a count) on success and -1 on failure with a sentence in the
 * db's error buffer (db_error()); a failure leaves the database as it was.
 */
#ifndef COOPNET_AUTHD_DB_H
#define COOPNET_AUTHD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "status.h"

#define DB_SCHEMA_VERSION 8
#define DB_DIGEST_MAX 64

struct authd_db;

enum db_role { DB_ROLE_SUPERVISOR = 1, DB_ROLE_PROVIDER = 2 };

/* One row of sessions: the data plane's session plus who it was made with and when. */
struct db_session {
	enum db_role role;
	struct cn_session s;
	char peer[56];      /* the SP (on a supervisor) or SS (on a provider) address */
	char service_name[32];
	char client_name[16];
	int64_t created;    /* Unix seconds */
	int64_t refreshed;  /* last successful authentication, Unix seconds */
	bool has_key;       /* session_key is set (sessions stored before schema 3 have none) */
	uint8_t session_key[32]; /* K_s: authenticates the revocation of this session */
};

/* What the profile tables hold; filled from the policy by the caller. */
struct db_vnic {
	const char *name;
	const char *address;
	const char *data_folder;
};
struct db_service {
	const char *vnic;
	const char *name;
	const char *address;
	uint16_t port;
};
struct db_client {
	const char *address;     /* an address or a prefix, as the policy writes it */
	const uint8_t *key_hash; /* BLAKE2b-256 of the derived key */
	size_t key_hash_len;
	const char *services;    /* comma-separated service names */
	enum db_role role;       /* whose client list: an SS's (supervisor) or an SP's */
	const char *name;        /* the client's name; (role, name, address) is the key */
};
struct db_profile {
	const struct db_vnic *vnics;
	size_t n_vnics;
	const struct db_service *services;
	size_t n_services;
	const struct db_client *clients;
	size_t n_clients;
};

/* Open (creating it and its schema if needed) and migrate to DB_SCHEMA_VERSION. NULL with
 * a message in err on failure. A database newer than this program is refused. */
struct authd_db *db_open(const char *path, char *err, size_t errlen);
void db_close(struct authd_db *db); /* NULL-safe */
const char *db_error(const struct authd_db *db);
int db_user_version(struct authd_db *db);

/* Replace the profile tables in one transaction. */
int db_set_profile(struct authd_db *db, const struct db_profile *p);

/* Insert or replace (key: role, family, client, service, port). */
int db_session_put(struct authd_db *db, const struct db_session *s);
/* 1 when found (copied to *out), 0 when not. */
int db_session_get(struct authd_db *db, enum db_role role, const struct cn_session *key,
		   struct db_session *out);
/* The ID of the session of key: 1 (in *id) or 0; a provider's from memory (db_index.c),
 * without reading the row. */
int db_session_id(struct authd_db *db, enum db_role role, const struct cn_session *key,
		  cn_id_t *id);
/* Is id held by a live provider session? 1 yes, 0 no. */
int db_id_in_use(struct authd_db *db, cn_id_t id);

typedef int (*db_session_cb)(const struct db_session *s, void *arg);
/* Call cb for every session of role (0: every role), in key order; a non-zero return from
 * cb stops the walk and is returned. */
int db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb, void *arg);
/* The same for the sessions of role with this ID (an index: no full scan). */
int db_session_foreach_id(struct authd_db *db, enum db_role role, cn_id_t id,
			  db_session_cb cb, void *arg);
/* A listing's page without a walk: up to max sessions of rowid >= from, in rowid order (a
 * session keeps its rowid while it lives, so a cursor stays in place while others come and
 * go), each with its rowid. Returns how many; -1 on error. */
int db_session_range(struct authd_db *db, int64_t from, struct db_session *rows,
		     int64_t *rowids, size_t max);
/* The same as db_session_foreach for the sessions of one client address (family AF_INET or
 * AF_INET6), of either role: the primary key, no full scan. */
int db_session_foreach_client(struct authd_db *db, int family, const uint8_t *client,
			      db_session_cb cb, void *arg);
/* How many sessions of role (0: every role) the table holds, from an index; -1 on error. */
int db_session_count(struct authd_db *db, enum db_role role);
/* Each session's last activity as the database records it (sessions.active, Unix seconds):
 * at least its last Authentication; never above the session's true last activity. The
 * sessions of role recorded as last active at or before `before`, oldest first, from the
 * index sessions_active (the idle expiry's candidates). */
int db_session_foreach_idle(struct authd_db *db, enum db_role role, int64_t before,
			    db_session_cb cb, void *arg);
/* Raise the recorded last activity of the session of key to at (never lowers it): a time
 * the caller saw it active. 1 when the session is stored, 0 when not, -1 on error. */
int db_session_touch(struct authd_db *db, enum db_role role, const struct cn_session *key,
		     int64_t at);
/* The provider IDs whose session was stored, changed or deleted since the last call (each at
 * least once, in no order; a renewal's old ID too), for a figure kept per session
 * (engine_load.c). 1: the list in *ids (the caller frees it; NULL when *n is 0); 0: take every
 * session as changed (the first call, a rollback, too many). The list starts again empty. */
int db_provider_changes(struct authd_db *db, cn_id_t **ids, size_t *n);
/* Delete one session by key; returns the number deleted (0 or 1). */
int db_session_del(struct authd_db *db, enum db_role role, const struct cn_session *key);
/* Delete the sessions that expired at now (expires != 0 and expires <= now) or, provider
 * sessions only, whose last authentication and last segment seen (client_status.last_seen)
 * are older than idle seconds (idle 0: no idle limit); cb sees each one first. Reads only
 * the sessions due (indexes sessions_expires, sessions_active: db_session.c "Idle").
 * Returns the number deleted. */
int db_session_expire(struct authd_db *db, int64_t now, int64_t idle, db_session_cb cb,
		      void *arg);

/* Replay cache. 1: digest already present (a replay), 0: recorded now, -1 error. */
int db_replay_check_add(struct authd_db *db, const uint8_t *digest, size_t len,
			int64_t expires);
/* 1: present, 0: not, -1: error. */
int db_replay_seen(struct authd_db *db, const uint8_t *digest, size_t len);
/* Forget digests whose expiry passed; returns the number removed. */
int db_replay_prune(struct authd_db *db, int64_t now);

const char *db_role_name(enum db_role role);

/*
 * Status of the status application (db_status.c, docs/database.md "Status tables"), one row
 * per session: on an SS the info_vNIC its SP reported, on an SP the info_client its SS
 * reported, with the time received (this host's real-time clock, ms). Rows go with their
 * session (a trigger). Writes join the engine's turn transaction like the others.
 */
struct db_vnic_status {
	char sp[56];              /* the SP, address:port (sessions.peer) */
	cn_id_t id;
	char service[32];         /* service name */
	char vnic[16];            /* sender data: the vNIC's name */
	char address[56];         /* and address:port */
	uint8_t vnic_status;      /* enum cn_vnic_status */
	struct cn_status_vnic v;
	uint32_t interval_ms;     /* the SP's report interval */
	int64_t sent_ms;          /* the SP's timestamp */
	int64_t received_ms;
	bool reachable;
	int64_t reach_changed_ms; /* when reachable last changed, 0: never */
};
struct db_client_status {
	char ss[56];              /* the SS, address:port (sessions.peer) */
	cn_id_t id;
	char service[32];
	char client[56];          /* sender data: the client's address */
	char client_name[16];
	struct cn_status_client c;
	uint32_t interval_ms;
	int64_t sent_ms;
	int64_t received_ms;
	bool reachable;
	int64_t reach_changed_ms;
};
/* Insert or update the row of (sp|ss, id, service) with a report; marks it reachable. */
int db_vnic_status_put(struct authd_db *db, const struct db_vnic_status *r);
int db_client_status_put(struct authd_db *db, const struct db_client_status *r);
/* Mark the row of a session (role SUPERVISOR: vnic_status, PROVIDER: client_status)
 * reachable or not at now_ms, creating it (no report yet) when missing. */
int db_status_reachable(struct authd_db *db, enum db_role role, const char *peer, cn_id_t id,
			const char *service, bool reachable, int64_t now_ms);
/* Delete the status row of a session whose ID a renewal replaced (the sessions row is
 * updated in place, so the delete trigger does not run). 0 or -1. */
int db_status_del(struct authd_db *db, enum db_role role, const char *peer, cn_id_t id,
		  const char *service);
typedef int (*db_vnic_status_cb)(const struct db_vnic_status *r, void *arg);
typedef int (*db_client_status_cb)(const struct db_client_status *r, void *arg);
/* Every row in key order; a non-zero return from cb stops the walk and is returned. */
int db_vnic_status_foreach(struct authd_db *db, db_vnic_status_cb cb, void *arg);
int db_client_status_foreach(struct authd_db *db, db_client_status_cb cb, void *arg);

/*
 * One transaction over several writes (the engine's turn, authd/engine_turn.c). Between
 * db_begin and db_commit every write above joins it (and reads see it); db_set_profile and
 * db_session_expire, which open their own, fail inside it. db_commit ends the transaction
 * either way: on failure it rolls back and returns -1 with the reason in db_error().
 * db_in_tx is false again after sqlite rolled back on its own (an I/O error, a full disk).
 */
int db_begin(struct authd_db *db);
int db_commit(struct authd_db *db);
void db_rollback(struct authd_db *db); /* no-op outside a transaction */
bool db_in_tx(const struct authd_db *db);

#endif
