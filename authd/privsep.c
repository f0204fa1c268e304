/* SPDX-License-Identifier: MIT */
/* Dropping root in the engine (docs/authd.md). */
#include "authd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int privsep_lookup_user(const char *wanted, uid_t *uid, gid_t *gid, char *name, size_t size)
{
	struct passwd *pw = NULL;

	if (wanted && wanted[0]) {
		pw = getpwnam(wanted);
		if (!pw) {
			log_warnx("user \"%s\" does not exist: create it (useradd -r -s "
				  "/usr/sbin/nologin %s) or remove \"user\" from the configuration",
				  wanted, wanted);
			return -1;
		}
	} else {
		pw = getpwnam("coopnet");
		if (!pw)
			pw = getpwnam("nobody");
		if (!pw) {
			log_warnx("neither user coopnet nor nobody exists");
			return -1;
		}
	}
	if (pw->pw_uid == 0) {
		log_warnx("user \"%s\" is root: the engine must not run as root", pw->pw_name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	snprintf(name, size, "%s", pw->pw_name);
	return 0;
}

int privsep_drop(uid_t uid, gid_t gid, const char *name)
{
	uid_t r, e, s;

	if (geteuid() != 0) {
		/* not started as root (a test as a user): nothing to drop, nothing to gain */
		log_debug("not root: running the engine as uid %u", (unsigned)geteuid());
		return 0;
	}
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		log_warn("cannot drop privileges to %s", name);
		return -1;
	}
	/* a uid change from 0 clears every capability set (keepcaps is off); check it worked
	 * and that root cannot come back */
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || setuid(0) == 0) {
		log_warnx("privilege drop to %s did not hold", name);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		log_warn("prctl");
		return -1;
	}
	return 0;
}

/* --- the engine's state directory (parent, as root, before the fork) --------------------- */

static const char *const db_suffix[] = { "", "-wal", "-shm", "-journal" };

int privsep_split_db(const char *database, char *dir, size_t dsize, char *base, size_t bsize)
{
	const char *slash = strrchr(database, '/');

	if (!slash || slash == database || !slash[1] || database[0] != '/') {
		log_warnx("database \"%s\": give an absolute path in a directory of its own, e.g. "
			  "/var/lib/coopnet/authd.db", database);
		return -1;
	}
	if ((size_t)(slash - database) >= dsize || strlen(slash + 1) + 9 >= bsize) {
		log_warnx("database \"%s\": path too long", database);
		return -1;
	}
	memcpy(dir, database, (size_t)(slash - database));
	dir[slash - database] = 0;
	snprintf(base, bsize, "%s", slash + 1);
	return 0;
}

/* Only the database's own files may be in the directory: it becomes the engine's. */
static int only_db_files(int dfd, const char *dir, const char *base)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char name[300];
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		log_warn("%s", dir);
		return -1;
	}
	while (r == 0 && (de = readdir(d))) {
		bool ours = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (size_t i = 0; !ours && i < sizeof(db_suffix) / sizeof(db_suffix[0]); i++) {
			snprintf(name, sizeof(name), "%s%s", base, db_suffix[i]);
			ours = !strcmp(de->d_name, name);
		}
		if (!ours) {
			log_warnx("%s holds \"%s\", which is not the database's: the engine's state "
				  "directory (the database's directory, chrooted into) must hold only "
				  "the database; move it or give \"database\" a directory of its own",
				  dir, de->d_name);
			r = -1;
		}
	}
	closedir(d);
	return r;
}

/* One database file: a regular file with one link (never follow what the engine could have
 * planted: a symlink or a hard link to another file), made the engine's, mode 0600. */
static int own_file(int dfd, const char *dir, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s/%s (a symbolic link is refused)", dir, name);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_warnx("%s/%s is not a regular file with one link: remove it", dir, name);
		close(fd);
		return -1;
	}
	/* mode first, while root may still own it: changing the mode of a file root no longer
	 * owns needs CAP_FOWNER, which the unit's bounding set leaves out; and nothing that is
	 * already right is changed, so a restart needs neither */
	if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
		log_warn("chmod %s/%s", dir, name);
		close(fd);
		return -1;
	}
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) {
		log_warn("chown %s/%s", dir, name);
		close(fd);
		return -1;
	}
	if (st.st_uid != uid)
		log_info("%s/%s: owner changed from uid %u to the engine's (%u)", dir, name,
			 (unsigned)st.st_uid, (unsigned)uid);
	close(fd);
	return 0;
}

int privsep_state_dir(const char *database, uid_t uid, gid_t gid)
{
	char dir[4096], base[256], name[300];
	struct stat st, up;
	int dfd, r = -1;

	if (geteuid() != 0)
		return 0; /* a test as a user: the files are its own already */
	if (privsep_split_db(database, dir, sizeof(dir), base, sizeof(base)) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("mkdir %s", dir);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		log_warn("%s (a symbolic link is refused)", dir);
		return -1;
	}
	if (fstat(dfd, &st) < 0 || fstatat(dfd, "..", &up, 0) < 0) {
		log_warn("%s", dir);
		goto out;
	}
	/* the engine must not be able to swap the directory itself */
	if (up.st_uid == uid || (up.st_mode & 022)) {
		log_warnx("%s: its parent directory is writable by the engine's user or by others: "
			  "chown root and chmod go-w it", dir);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		log_warnx("%s is owned by uid %u, neither root nor the engine's user", dir,
			  (unsigned)st.st_uid);
		goto out;
	}
	if (only_db_files(dfd, dir, base) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(db_suffix) / sizeof(db_suffix[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", base, db_suffix[i]);
		if (own_file(dfd, dir, name, uid, gid) < 0)
			goto out;
	}
	/* mode before owner, each only when needed (see own_file) */
	if ((st.st_mode & 07777) != 0700 && fchmod(dfd, 0700) < 0) {
		log_warn("chmod %s", dir);
		goto out;
	}
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(dfd, uid, gid) < 0) {
		log_warn("chown %s", dir);
		goto out;
	}
	r = 0;
out:
	close(dfd);
	return r;
}
