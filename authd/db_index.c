/* SPDX-License-Identifier: MIT */
/*
 * The provider's sessions in memory, in front of the sessions table (issue 11): key (family,
 * client, service, port) -> ID and ID -> key, so that an Authentication asks sqlite neither
 * whether its client has a session (first session or renewal) nor whether a fresh random ID
 * is taken. Rows are whole only in the database: a lookup that finds a session still reads
 * it there (db_session_get); only "none" and the ID are answered here.
 *
 * It mirrors what is committed or about to be in this connection's transaction: db_session.c
 * updates it after each write that succeeded, and every rollback (db.c) drops it, to be
 * loaded again on the next lookup. One engine writes the database (docs/database.md): a
 * second writer would have to share it.
 */
#include "db_int.h"
#include "grow.h"
#include "hidx.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sidx_entry {
	uint8_t client[16];
	uint8_t service[16];
	uint16_t port;
	cn_id_t id;
	uint8_t family; /* 4 or 6 */
};

struct db_sidx {
	struct sidx_entry *e;
	size_t n, cap;
	struct hidx by_key, by_id;
};

static uint64_t key_hash(const void *p)
{
	const struct sidx_entry *x = p;
	uint64_t h = hidx_bytes_hash(HIDX_HASH_INIT, &x->family, 1);

	h = hidx_bytes_hash(h, x->client, sizeof(x->client));
	h = hidx_bytes_hash(h, x->service, sizeof(x->service));
	return hidx_bytes_hash(h, &x->port, sizeof(x->port));
}

static bool key_eq(const void *a, const void *b)
{
	const struct sidx_entry *x = a, *y = b;

	return x->family == y->family && x->port == y->port &&
	       !memcmp(x->client, y->client, sizeof(x->client)) &&
	       !memcmp(x->service, y->service, sizeof(x->service));
}

static uint64_t id_hash(const void *p)
{
	const struct sidx_entry *x = p;

	return hidx_bytes_hash(HIDX_HASH_INIT, &x->id, sizeof(x->id));
}

static bool id_eq(const void *a, const void *b)
{
	return ((const struct sidx_entry *)a)->id == ((const struct sidx_entry *)b)->id;
}

static const struct hidx_type key_type = { .size = sizeof(struct sidx_entry), .hash = key_hash,
					   .eq = key_eq };
static const struct hidx_type id_type = { .size = sizeof(struct sidx_entry), .hash = id_hash,
					  .eq = id_eq };

void db_sidx_drop(struct authd_db *db)
{
	if (!db->sidx)
		return;
	hidx_free(&db->sidx->by_key);
	hidx_free(&db->sidx->by_id);
	free(db->sidx->e);
	free(db->sidx);
	db->sidx = NULL;
}

static bool entry_of(struct sidx_entry *x, const struct cn_session *s)
{
	memset(x, 0, sizeof(*x));
	if (s->family != AF_INET && s->family != AF_INET6)
		return false;
	x->family = s->family == AF_INET ? 4 : 6;
	memcpy(x->client, s->client, s->family == AF_INET ? 4 : 16);
	memcpy(x->service, s->service, s->family == AF_INET ? 4 : 16);
	x->port = s->port;
	x->id = s->id;
	return true;
}

/* Append x (its key and ID not indexed yet). 0 or -1 (out of memory). */
static int append(struct db_sidx *ix, const struct sidx_entry *x)
{
	struct sidx_entry *ne;

	/* the array stops short of HIDX_MAX positions (grown from a power of two) */
	if (ix->n >= HIDX_MAX / 2)
		return -1;
	ne = grow(ix->e, ix->n, &ix->cap, sizeof(*ne), 1024);
	if (!ne)
		return -1;
	ix->e = ne;
	ix->e[ix->n] = *x;
	if (hidx_insert(&ix->by_key, &key_type, ix->e, ix->n) < 0)
		return -1;
	if (hidx_insert(&ix->by_id, &id_type, ix->e, ix->n) < 0) {
		hidx_remove(&ix->by_key, &key_type, ix->e, ix->n);
		return -1;
	}
	ix->n++;
	return 0;
}

static int load_row(struct db_sidx *ix, sqlite3_stmt *st)
{
	struct sidx_entry x = { .family = (uint8_t)sqlite3_column_int(st, 0) };
	int af = x.family == 4 ? AF_INET : AF_INET6;
	const char *c = (const char *)sqlite3_column_text(st, 1);
	const char *s = (const char *)sqlite3_column_text(st, 2);

	if ((x.family != 4 && x.family != 6) || !c || !s || inet_pton(af, c, x.client) != 1 ||
	    inet_pton(af, s, x.service) != 1)
		return -1;
	x.port = (uint16_t)sqlite3_column_int(st, 3);
	x.id = (cn_id_t)sqlite3_column_int(st, 4);
	if (hidx_find(&ix->by_key, &key_type, ix->e, &x) >= 0 ||
	    hidx_find(&ix->by_id, &id_type, ix->e, &x) >= 0)
		return -1; /* the primary key, and an SP's unique IDs (db_session_put), forbid it */
	return append(ix, &x);
}

/* The index, loaded from the table when it is not there. NULL: the caller asks sqlite. */
static struct db_sidx *sidx(struct authd_db *db)
{
	sqlite3_stmt *st;
	int rc;

	if (db->sidx)
		return db->sidx;
	db->sidx = calloc(1, sizeof(*db->sidx));
	if (!db->sidx || db_prepare(db, &st, "SELECT family, client, service, port, id FROM "
				    "sessions WHERE role = 'provider'") < 0) {
		db_sidx_drop(db);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (load_row(db->sidx, st) < 0)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		db_sidx_drop(db);
	return db->sidx;
}

static int find_in(struct db_sidx *ix, const struct cn_session *key, cn_id_t *id)
{
	struct sidx_entry x;
	long pos;

	if (!ix || !entry_of(&x, key))
		return -1;
	pos = hidx_find(&ix->by_key, &key_type, ix->e, &x);
	if (pos < 0)
		return 0;
	*id = ix->e[pos].id;
	return 1;
}

int db_sidx_find(struct authd_db *db, const struct cn_session *key, cn_id_t *id)
{
	return find_in(sidx(db), key, id);
}

int db_sidx_peek(struct authd_db *db, const struct cn_session *key, cn_id_t *id)
{
	return find_in(db->sidx, key, id);
}

int db_sidx_id_in_use(struct authd_db *db, cn_id_t id)
{
	struct db_sidx *ix = sidx(db);
	struct sidx_entry x = { .id = id };

	if (!ix)
		return -1;
	return hidx_find(&ix->by_id, &id_type, ix->e, &x) >= 0;
}

int db_sidx_id_key(struct authd_db *db, cn_id_t id, struct cn_session *key)
{
	struct db_sidx *ix = sidx(db);
	struct sidx_entry x = { .id = id };
	const struct sidx_entry *e;
	long pos;

	if (!ix)
		return -1;
	if ((pos = hidx_find(&ix->by_id, &id_type, ix->e, &x)) < 0)
		return 0;
	e = &ix->e[pos];
	memset(key, 0, sizeof(*key));
	key->family = e->family == 4 ? AF_INET : AF_INET6;
	memcpy(key->client, e->client, sizeof(key->client));
	memcpy(key->service, e->service, sizeof(key->service));
	key->port = e->port;
	key->id = e->id;
	return 1;
}

int db_sidx_id_other(struct authd_db *db, const struct cn_session *s)
{
	struct db_sidx *ix = sidx(db);
	struct sidx_entry x;
	long pos;

	if (!ix || !entry_of(&x, s))
		return -1;
	pos = hidx_find(&ix->by_id, &id_type, ix->e, &x);
	return pos >= 0 && !key_eq(&ix->e[pos], &x);
}

/* Take out the entry at pos (swap-remove). */
static void take_out(struct db_sidx *ix, size_t pos)
{
	hidx_remove(&ix->by_key, &key_type, ix->e, pos);
	hidx_remove(&ix->by_id, &id_type, ix->e, pos);
	if (pos != --ix->n) {
		ix->e[pos] = ix->e[ix->n];
		hidx_move(&ix->by_key, &key_type, ix->e, ix->n, pos);
		hidx_move(&ix->by_id, &id_type, ix->e, ix->n, pos);
	}
}

void db_sidx_put(struct authd_db *db, const struct cn_session *s)
{
	struct db_sidx *ix = db->sidx; /* not loaded: the next load reads the row */
	struct sidx_entry x;
	long pos;

	if (!ix)
		return;
	if (!entry_of(&x, s)) {
		db_sidx_drop(db);
		return;
	}
	if ((pos = hidx_find(&ix->by_key, &key_type, ix->e, &x)) >= 0)
		take_out(ix, (size_t)pos);
	/* db_session_put refused an ID another key holds: none here */
	if ((pos = hidx_find(&ix->by_id, &id_type, ix->e, &x)) >= 0)
		take_out(ix, (size_t)pos);
	if (append(ix, &x) < 0)
		db_sidx_drop(db);
}

void db_sidx_del(struct authd_db *db, const struct cn_session *key)
{
	struct db_sidx *ix = db->sidx;
	struct sidx_entry x;
	long pos;

	if (!ix)
		return;
	if (!entry_of(&x, key)) {
		db_sidx_drop(db);
		return;
	}
	if ((pos = hidx_find(&ix->by_key, &key_type, ix->e, &x)) >= 0)
		take_out(ix, (size_t)pos);
}
