/* SPDX-License-Identifier: MIT */
/*
 * What the database costs per Authentication, without the noise of a shared machine
 * (issue 11 section 3): coopnet-authd's own database code (authd/db_*.c, the daemon's schema
 * and pragmas) stores exchanges as a provider's engine does, each a replay digest and a
 * session, in turns of one transaction; first SESSIONS new sessions, then RENEWALS renewals
 * (the same clients in order, each under a new ID, as bench/auth_daemon.sh's load). It
 * reports the WAL frames each exchange wrote (a frame is one page written at a commit: the
 * count depends on the code and the data only, so a change to the schema or the statements
 * shows in it exactly, where the deployed bench's rates swing by a third between runs) and,
 * for information, the microseconds each took here. The IDs come from a fixed seed, so two
 * runs of one build write the same frames.
 *
 *   bench/db_store [-n SESSIONS] [-r RENEWALS] [-t TURN] DIRECTORY
 *       (defaults 16000, 48000, 8: the deployed bench's clients, and about the exchanges
 *        one of its engine turns holds)
 *
 * DIRECTORY must exist; db_store.db (and its -wal, -shm) is created there and removed at the
 * end. Last lines: RESULT db-frames-per-insert <f>, RESULT db-frames-per-renewal <f>,
 * RESULT db-us-per-insert <us>, RESULT db-us-per-renewal <us>. Any failure: a message on
 * stderr, exit 1 (a bad option: 2), no RESULT line.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "db_int.h"

#define PROG "db_store"

#define MAX_SESSIONS 60000 /* below the 65,535 IDs: a free one is always near */
#define MAX_RENEWALS 10000000
#define MAX_TURN 64        /* the engine's TURN_SESSIONS */
#define AUTOCHECKPOINT 1000 /* sqlite's default, which the daemon keeps (authd/db.c) */

struct wal_count {
	long last;   /* frames in the WAL after the last commit */
	long total;  /* frames written since the count was reset */
};

/* The commit hook of a WAL database. Installing one replaces sqlite's auto-checkpoint, so it
 * checkpoints as that would: after a commit that leaves AUTOCHECKPOINT frames or more. */
static int on_commit(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct wal_count *w = arg;

	/* the WAL starts again from frame 0 after a checkpoint copied all of it */
	w->total += frames >= w->last ? frames - w->last : frames;
	w->last = frames;
	if (frames >= AUTOCHECKPOINT)
		sqlite3_wal_checkpoint(h, name);
	return SQLITE_OK;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench/db_store: %s: %s\n", what, why);
	exit(1);
}

/* A random ID that no live session holds (the engine asks its index the same way). */
static cn_id_t free_id(struct authd_db *db, unsigned *seed)
{
	for (int tries = 0; tries < 1000; tries++) {
		cn_id_t id = (cn_id_t)(1 + rand_r(seed) % 65535);
		int r = db_id_in_use(db, id);

		if (r < 0)
			die("db_id_in_use", db_error(db));
		if (r == 0)
			return id;
	}
	die("a free ID", "none in 1,000 tries");
	return 0;
}

/* Exchange i of client c: its replay digest and its session, as the engine stores them. */
static void store(struct authd_db *db, unsigned *seed, long c, long i)
{
	uint32_t client = htonl(0xc6128000u + (uint32_t)c); /* 198.18.128.0 + c */
	uint8_t digest[32];
	struct db_session s = {
		.role = DB_ROLE_PROVIDER,
		.s = { .family = AF_INET, .port = 80 },
		.created = 1000,
		.refreshed = 1000 + i / 8000, /* the deployed bench's rate */
		.has_key = true,
	};

	for (size_t k = 0; k < sizeof(digest); k++)
		digest[k] = (uint8_t)rand_r(seed);
	if (db_replay_check_add(db, digest, sizeof(digest), s.refreshed + 120) != 0)
		die("replay digest", db_error(db));
	memcpy(s.s.client, &client, 4);
	if (inet_pton(AF_INET, "198.18.0.20", s.s.service) != 1)
		die("inet_pton", "198.18.0.20");
	s.s.id = free_id(db, seed);
	s.s.expires = (uint64_t)s.refreshed + 3600;
	snprintf(s.s.vnic, sizeof(s.s.vnic), "vnic1");
	snprintf(s.peer, sizeof(s.peer), "198.18.0.1");
	snprintf(s.service_name, sizeof(s.service_name), "http");
	snprintf(s.client_name, sizeof(s.client_name), "c%d", (int)(c / 16)); /* c < 60,000 */
	if (db_session_put(db, &s) < 0)
		die("store session", db_error(db));
}

/* n exchanges from exchange first on, in turns of turn; frames and seconds per exchange. */
static void phase(struct authd_db *db, struct wal_count *w, unsigned *seed, long sessions,
		  long first, long n, int turn, double *frames, double *us)
{
	double t0 = now_s();

	w->total = 0;
	for (long i = first; i < first + n; i += turn) {
		if (db_begin(db) < 0)
			die("BEGIN", db_error(db));
		for (long k = i; k < i + turn && k < first + n; k++)
			store(db, seed, k % sessions, k);
		if (db_commit(db) < 0)
			die("COMMIT", db_error(db));
	}
	*frames = (double)w->total / (double)n;
	*us = (now_s() - t0) * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	long sessions = 16000, renewals = 48000;
	int turn = 8, opt;
	unsigned seed = 1;
	struct wal_count w = { 0 };
	char path[PATH_MAX], err[512], aux[PATH_MAX + 8];
	double f_ins, us_ins, f_ren, us_ren;
	struct authd_db *db;

	while ((opt = getopt(argc, argv, "n:r:t:")) != -1) {
		switch (opt) {
		case 'n': sessions = (long)bench_parse_num(PROG, "n", optarg, 1, MAX_SESSIONS); break;
		case 'r': renewals = (long)bench_parse_num(PROG, "r", optarg, 1, MAX_RENEWALS); break;
		case 't': turn = (int)bench_parse_num(PROG, "t", optarg, 1, MAX_TURN); break;
		default:
			fprintf(stderr, "usage: db_store [-n SESSIONS] [-r RENEWALS] [-t TURN] DIRECTORY\n");
			return 1;
		}
	}
	if (optind != argc - 1)
		die("usage", "db_store [-n SESSIONS] [-r RENEWALS] [-t TURN] DIRECTORY");
	if ((size_t)snprintf(path, sizeof(path), "%s/db_store.db", argv[optind]) >= sizeof(path))
		die(argv[optind], "path too long");
	if (access(path, F_OK) == 0)
		die(path, "exists: give an empty directory");
	db = db_open(path, err, sizeof(err));
	if (!db)
		die("db_open", err);
	sqlite3_wal_hook(db->h, on_commit, &w);
	phase(db, &w, &seed, sessions, 0, sessions, turn, &f_ins, &us_ins);
	phase(db, &w, &seed, sessions, sessions, renewals, turn, &f_ren, &us_ren);
	db_close(db);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(aux, sizeof(aux), "%s%s", path, suffixes[i]);
		unlink(aux);
	}
	printf("# %ld new sessions, then %ld renewals, %d exchanges a transaction\n", sessions,
	       renewals, turn);
	printf("RESULT db-frames-per-insert %.3f\n", f_ins);
	printf("RESULT db-frames-per-renewal %.3f\n", f_ren);
	printf("RESULT db-us-per-insert %.1f\n", us_ins);
	printf("RESULT db-us-per-renewal %.1f\n", us_ren);
	return 0;
}
