/* SPDX-License-Identifier: MIT */
/*
 * authd/db_walbuf.c: a commit's WAL writes gathered into few write(2) calls, with what sqlite
 * promises kept: another connection sees each commit as soon as it returns, a process killed
 * after a commit loses none of it (and nothing of a transaction it had not committed), and a
 * write that fails where a commit is published stops the process before the commit is
 * visible. The killed and failing processes are forked children; the parent reads what they
 * left with a plain sqlite connection, as an administrator's sqlite3 would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "db.h"
#include "db_int.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_db_walbuf.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/authd.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Provider session number i (0..65534): client 198.18.x.y, ID i + 1. */
static struct db_session session(unsigned i)
{
	struct db_session s;

	memset(&s, 0, sizeof(s));
	s.role = DB_ROLE_PROVIDER;
	s.s.family = AF_INET;
	s.s.client[0] = 198, s.s.client[1] = 18, s.s.client[2] = (uint8_t)(i >> 8);
	s.s.client[3] = (uint8_t)i;
	s.s.service[0] = 198, s.s.service[1] = 19, s.s.service[3] = 10;
	s.s.port = 80;
	s.s.id = (cn_id_t)(i + 1);
	strcpy(s.s.vnic, "vnic1");
	strcpy(s.peer, "198.18.0.1");
	strcpy(s.service_name, "http");
	strcpy(s.client_name, "lan1");
	s.created = s.refreshed = 1000;
	return s;
}

/* Sessions from .. from + n - 1 in one transaction: 0, or -1. */
static int put_turn(struct authd_db *db, unsigned from, unsigned n)
{
	if (db_begin(db) < 0)
		return -1;
	for (unsigned i = from; i < from + n; i++) {
		struct db_session s = session(i);

		if (db_session_put(db, &s) < 0)
			return -1;
	}
	return db_commit(db);
}

/* Rows in sessions, read by a plain connection (sqlite's default VFS); -1 on error. */
static long rows_seen(const char *path)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	long n = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM sessions", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
out:
	sqlite3_close(h);
	return n;
}

static bool integrity_ok(const char *path)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	bool ok = false;

	if (sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
		ok = sqlite3_step(st) == SQLITE_ROW &&
		     !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return ok;
}

/* The daemon's connections use the VFS, and a turn of 50 new sessions (7 frames of two writes
 * each here) takes one or two write(2) calls, not one per write. */
static void test_gathered(void **state)
{
	struct fixture *f = *state;
	struct db_walbuf_stats a, b;
	char err[256];
	struct authd_db *db = db_open(f->path, err, sizeof(err));
	sqlite3_vfs *vfs = NULL;

	assert_non_null(db);
	assert_non_null(db_walbuf_vfs());
	assert_int_equal(sqlite3_file_control(db_sqlite(db), "main", SQLITE_FCNTL_VFS_POINTER,
					      &vfs), SQLITE_OK);
	assert_non_null(vfs);
	assert_string_equal(vfs->zName, db_walbuf_vfs());
	a = db_walbuf_stats();
	assert_int_equal(put_turn(db, 0, 50), 0);
	b = db_walbuf_stats();
	assert_true(b.writes_in - a.writes_in >= 10);
	assert_true(b.writes_out - a.writes_out <= 2);
	db_close(db);
}

/* Each commit is there for another connection as soon as db_commit returns, the writer
 * still open (no close, no checkpoint writes the buffer out for it). */
static void test_reader_sees_each_commit(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct authd_db *db = db_open(f->path, err, sizeof(err));

	assert_non_null(db);
	for (unsigned t = 0; t < 40; t++) {
		assert_int_equal(put_turn(db, t * 25, 25), 0);
		assert_int_equal(rows_seen(f->path), (long)(t + 1) * 25);
	}
	db_close(db);
	assert_true(integrity_ok(f->path));
}

/* Fork a child that opens the database at path and runs body, which ends the process (an
 * exit status of its own, or a signal); the child's wait status. */
static int in_child(const char *path, void (*body)(struct authd_db *db))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct authd_db *db = db_open(path, err, sizeof(err));

		if (!db)
			_exit(2);
		body(db);
		_exit(6); /* body returned */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void commit_40_then_die(struct authd_db *db)
{
	for (unsigned t = 0; t < 40; t++)
		if (put_turn(db, t * 100, 100) < 0)
			_exit(3);
	if (db_begin(db) < 0)
		_exit(4);
	for (unsigned i = 4000; i < 4100; i++) {
		struct db_session s = session(i);

		if (db_session_put(db, &s) < 0)
			_exit(5);
	}
	raise(SIGKILL);
}

/* A child commits 40 turns of 100 sessions (more than a checkpoint's 1,000 frames), starts a
 * 41st and is killed before it commits: the 4,000 are there, the 41st turn's are not. */
static void test_killed_after_commits(void **state)
{
	struct fixture *f = *state;
	int status = in_child(f->path, commit_40_then_die);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(rows_seen(f->path), 4000);
	assert_true(integrity_ok(f->path));
}

static ssize_t failing_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	(void)fd, (void)buf, (void)n, (void)off;
	errno = EIO;
	return -1;
}

static void commit_10_then_fail(struct authd_db *db)
{
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
	struct rlimit no_core = { 0 };

	setrlimit(RLIMIT_CORE, &no_core); /* the abort below is expected */
	if (!unix_vfs || !unix_vfs->xSetSystemCall)
		_exit(2);
	if (put_turn(db, 0, 10) < 0)
		_exit(3);
	if (unix_vfs->xSetSystemCall(unix_vfs, "pwrite64",
				     (sqlite3_syscall_ptr)failing_pwrite) != SQLITE_OK)
		_exit(4);
	if (put_turn(db, 10, 10) < 0)
		_exit(7); /* the commit failed, and said so */
	_exit(5);         /* the commit succeeded: it cannot have */
}

/* A child commits 10 sessions, then every write(2) fails: the next commit's frames cannot be
 * written. Where the commit would be published the process stops (SIGABRT) before any reader
 * is told of it; a failure found earlier (the wal-index mapped anew) fails the commit. Either
 * way the database holds the 10, whole, and nothing of the failed turn. */
static void test_failed_write_stops_before_publishing(void **state)
{
	struct fixture *f = *state;
	int status = in_child(f->path, commit_10_then_fail);

	assert_true((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 7));
	assert_int_equal(rows_seen(f->path), 10);
	assert_true(integrity_ok(f->path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gathered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_sees_each_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_after_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_stops_before_publishing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
