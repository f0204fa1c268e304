/* SPDX-License-Identifier: MIT */
/*
 * The write-ahead log written in one write per commit (db_int.h; docs/database.md, "The
 * WAL's writes"): a VFS over sqlite's default one that gathers a WAL file's consecutive
 * writes in a buffer and writes them as one.
 *
 * sqlite writes each WAL frame with two writes (its 24-byte header, then the page): the
 * engine's most frequent system call, about 13 a turn of the deployed bench. Gathered, a
 * turn's commit takes one (bench/db_store: 95,944 pwrite(2) calls for 48,000 exchanges
 * without, 9,418 with; issue 11, docs/performance.md).
 * What makes gathering them safe:
 * - A commit becomes visible to readers (other connections, other processes) only when the
 *   writer publishes the wal-index header in shared memory, and sqlite calls xShmBarrier of
 *   the database file between the header's two copies, which a reader compares (wal.c
 *   walIndexWriteHdr, walIndexTryHdr). The database file's shared-memory methods write its
 *   WAL's buffer out first, so no reader is told of a frame the file lacks. A commit returns
 *   after that, so an acknowledged session is in the kernel's page cache as before, and
 *   survives a crash of the daemon (synchronous = NORMAL syncs the WAL at checkpoints only,
 *   as before).
 * - Every other operation on a WAL file (read, size, truncate, sync, lock, file control,
 *   close) writes the buffer out first, and a write that does not continue the buffer
 *   writes it out before starting anew: sqlite never sees a WAL file other than the one it
 *   wrote, in the order it wrote it.
 * - xShmBarrier returns nothing, so a write that fails there cannot be reported: the
 *   process stops (abort) before the header's second copy is published. The commit has not
 *   returned, nothing was acknowledged, and the next open's recovery ends the log at the
 *   last whole commit (frames are checksummed).
 * Every other file, and every other method, is the default VFS's. The daemon never sets
 * locking_mode = EXCLUSIVE: sqlite then keeps the wal-index in heap memory and calls no
 * xShmBarrier, so a commit would wait in the buffer for the next operation on the WAL.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"

/* The buffer: 29 frames of 4 KiB pages. The unix VFS writes at most 0x1ffff bytes a call
 * (seekAndWriteFd masks the length: a longer write comes out short, as SQLITE_FULL), so a
 * gathered write stays under 128 KiB; a write that does not fit goes out at once. */
#define WALBUF_SIZE (120 << 10)

struct wb_file {
	sqlite3_file base;      /* base.pMethods: wb_methods */
	sqlite3_file *real;     /* the default VFS's file, just after this structure */
	bool is_wal;
	/* a database file: its name, its open WAL, the next database file open */
	const char *name;
	struct wb_file *wal, *next;
	/* a WAL file: its database file, and the writes gathered */
	struct wb_file *db;
	unsigned char *buf;     /* WALBUF_SIZE bytes, from the first write */
	sqlite3_int64 off;      /* the file offset of buf[0] */
	size_t len;
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *real_vfs;
static struct db_walbuf_stats stats;
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *db_files; /* guarded by files_lock */

static struct wb_file *wb(sqlite3_file *f)
{
	return (struct wb_file *)f;
}

static const sqlite3_io_methods *rm(const struct wb_file *w)
{
	return w->real->pMethods;
}

/* The gathered writes of a WAL file out (none: nothing to do). */
static int flush(struct wb_file *w)
{
	int rc;

	if (!w || !w->is_wal || !w->len)
		return SQLITE_OK;
	rc = rm(w)->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	stats.writes_out++;
	return rc;
}

/* Room for n more bytes in the buffer: 0, or -1 (too many, or out of memory). */
static int room(struct wb_file *w, size_t n)
{
	if (w->len + n > WALBUF_SIZE)
		return -1;
	if (!w->buf && !(w->buf = malloc(WALBUF_SIZE)))
		return -1;
	return 0;
}

static int wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct wb_file *w = wb(f);
	int rc;

	if (!w->is_wal || n <= 0)
		return rm(w)->xWrite(w->real, p, n, off);
	stats.writes_in++;
	if (w->len && off == w->off + (sqlite3_int64)w->len && room(w, (size_t)n) == 0) {
		memcpy(w->buf + w->len, p, (size_t)n);
		w->len += (size_t)n;
		return SQLITE_OK;
	}
	if ((rc = flush(w)) != SQLITE_OK)
		return rc;
	if (room(w, (size_t)n) < 0) { /* larger than the buffer, or out of memory: as it is */
		stats.writes_out++;
		return rm(w)->xWrite(w->real, p, n, off);
	}
	memcpy(w->buf, p, (size_t)n);
	w->off = off;
	w->len = (size_t)n;
	return SQLITE_OK;
}

static void unlink_file(struct wb_file *w)
{
	struct wb_file **pp;

	pthread_mutex_lock(&files_lock);
	if (w->is_wal && w->db) {
		w->db->wal = NULL;
	} else if (!w->is_wal) {
		for (pp = &db_files; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		if (w->wal)
			w->wal->db = NULL;
	}
	pthread_mutex_unlock(&files_lock);
}

static int wb_close(sqlite3_file *f)
{
	struct wb_file *w = wb(f);
	int rc = flush(w), rc2;

	unlink_file(w);
	rc2 = rm(w)->xClose(w->real);
	free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

/* The methods that read or change a WAL file write its buffer out first. */
static int wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xRead(wb(f)->real, p, n, off);
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xTruncate(wb(f)->real, size);
}

static int wb_sync(sqlite3_file *f, int flags)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xSync(wb(f)->real, flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xFileSize(wb(f)->real, size);
}

static int wb_lock(sqlite3_file *f, int lock)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xLock(wb(f)->real, lock);
}

static int wb_unlock(sqlite3_file *f, int lock)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xUnlock(wb(f)->real, lock);
}

static int wb_check_reserved(sqlite3_file *f, int *out)
{
	return rm(wb(f))->xCheckReservedLock(wb(f)->real, out);
}

static int wb_file_control(sqlite3_file *f, int op, void *arg)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xFileControl(wb(f)->real, op, arg);
}

static int wb_sector_size(sqlite3_file *f)
{
	return rm(wb(f))->xSectorSize(wb(f)->real);
}

static int wb_device_characteristics(sqlite3_file *f)
{
	return rm(wb(f))->xDeviceCharacteristics(wb(f)->real);
}

/* The shared-memory methods are the database file's (the wal-index): each writes out the
 * buffer of the database's WAL first. */
static int wb_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **p)
{
	int rc = flush(wb(f)->wal);

	return rc != SQLITE_OK ? rc : rm(wb(f))->xShmMap(wb(f)->real, pg, pgsz, extend, p);
}

static int wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	int rc = flush(wb(f)->wal);

	return rc != SQLITE_OK ? rc : rm(wb(f))->xShmLock(wb(f)->real, offset, n, flags);
}

/* Where a commit is published (above): the WAL's buffer goes out first, or the process
 * stops. */
static void wb_shm_barrier(sqlite3_file *f)
{
	if (flush(wb(f)->wal) != SQLITE_OK) {
		log_warnx("database: writing the write-ahead log failed (%s) before a commit was "
			  "published: stopping; the next start recovers the log without it",
			  strerror(errno));
		abort();
	}
	rm(wb(f))->xShmBarrier(wb(f)->real);
}

static int wb_shm_unmap(sqlite3_file *f, int del)
{
	int rc = flush(wb(f)->wal);

	return rc != SQLITE_OK ? rc : rm(wb(f))->xShmUnmap(wb(f)->real, del);
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
	int rc = flush(wb(f));

	return rc != SQLITE_OK ? rc : rm(wb(f))->xFetch(wb(f)->real, off, n, p);
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return rm(wb(f))->xUnfetch(wb(f)->real, off, p);
}

static const sqlite3_io_methods wb_methods = {
	.iVersion = 3,
	.xClose = wb_close,
	.xRead = wb_read,
	.xWrite = wb_write,
	.xTruncate = wb_truncate,
	.xSync = wb_sync,
	.xFileSize = wb_file_size,
	.xLock = wb_lock,
	.xUnlock = wb_unlock,
	.xCheckReservedLock = wb_check_reserved,
	.xFileControl = wb_file_control,
	.xSectorSize = wb_sector_size,
	.xDeviceCharacteristics = wb_device_characteristics,
	.xShmMap = wb_shm_map,
	.xShmLock = wb_shm_lock,
	.xShmBarrier = wb_shm_barrier,
	.xShmUnmap = wb_shm_unmap,
	.xFetch = wb_fetch,
	.xUnfetch = wb_unfetch,
};

/* A WAL file joins its open database file (by the database's name), a database file the
 * list; both get wb_methods. Other files (journals, temporary files) are the default VFS's
 * own, opened in place: szOsFile holds either. */
static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		   int *out_flags)
{
	struct wb_file *w = wb(f), *d;
	const char *db;
	int rc;

	(void)vfs;
	if (!name || !(flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_DB)))
		return real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
	if (rc == SQLITE_OK && (!rm(w) || rm(w)->iVersion < 3)) { /* not the unix VFS */
		if (rm(w))
			rm(w)->xClose(w->real);
		rc = SQLITE_CANTOPEN;
	}
	if (rc != SQLITE_OK) {
		w->base.pMethods = NULL;
		return rc;
	}
	w->base.pMethods = &wb_methods;
	w->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	pthread_mutex_lock(&files_lock);
	if (!w->is_wal) {
		w->name = name;
		w->next = db_files;
		db_files = w;
	} else {
		db = sqlite3_filename_database(name);
		for (d = db_files; d && db; d = d->next)
			if (!d->wal && !strcmp(d->name, db)) {
				d->wal = w;
				w->db = d;
				break;
			}
	}
	pthread_mutex_unlock(&files_lock);
	/* a WAL whose database file we do not hold: nothing would publish its writes, so
	 * none are gathered */
	if (w->is_wal && !w->db)
		w->is_wal = false;
	return SQLITE_OK;
}

static bool registered;

static void walbuf_register(void)
{
	if (!(real_vfs = sqlite3_vfs_find(NULL)) || real_vfs->iVersion < 2)
		return;
	wb_vfs = *real_vfs; /* its other methods, mxPathname and pAppData, unchanged */
	wb_vfs.pNext = NULL;
	wb_vfs.zName = "coopnet-walbuf";
	wb_vfs.szOsFile = (int)sizeof(struct wb_file) + real_vfs->szOsFile;
	wb_vfs.xOpen = wb_open;
	registered = sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK;
}

const char *db_walbuf_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, walbuf_register);
	return registered ? wb_vfs.zName : NULL;
}

struct db_walbuf_stats db_walbuf_stats(void)
{
	return stats;
}
