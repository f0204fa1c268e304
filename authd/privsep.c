/* SPDX-License-Identifier: MIT */
/* Dropping root in the engine (docs/authd.md). */
#include "authd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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
