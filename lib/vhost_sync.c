/* SPDX-License-Identifier: MIT */
/*
 * Bringing the vhost directory to the wanted files (vhost.h: vhost_sync, vhost_sync_files,
 * vhost_dir_save): snapshot, write the changes, check with Apache, restore on failure.
 */
#include "config.h"

#include "vhost.h"
#include "vhost_int.h"
#include "grow.h"
#include "log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VHOST_MAX_FILE (1024 * 1024)   /* larger "owned" files are not ours: refuse */
#define CHECK_TIMEOUT_MS 60000

struct snap {
	char fname[NAME_MAX + 1];
	char *text;
	size_t len;
	unsigned int mode;
	bool ours;        /* starts with VHOST_MARKER */
	bool touched;     /* this run rewrote or removed it */
};

struct want {
	char name[NAME_MAX + 1];     /* the vhost's name, for messages */
	char fname[NAME_MAX + 1];
	char *text;
	size_t len;
	bool written;
};

static int read_file(const char *path, char **text, size_t *len, unsigned int *mode)
{
	struct stat sb;
	size_t off = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > VHOST_MAX_FILE) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)sb.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*text = buf;
	*len = off;
	*mode = sb.st_mode & 07777;
	return 0;
}

static bool text_is_ours(const char *text, size_t len)
{
	size_t m = strlen(VHOST_MARKER);

	return len > m && memcmp(text, VHOST_MARKER, m) == 0 && text[m] == ' ';
}

struct sync {
	const struct vhost_conf *conf;
	struct snap *snaps;
	size_t nsnaps;
	struct want *wants;
	size_t nwants;
};

static void sync_free(struct sync *s)
{
	for (size_t i = 0; i < s->nsnaps; i++)
		free(s->snaps[i].text);
	for (size_t i = 0; i < s->nwants; i++)
		free(s->wants[i].text);
	free(s->snaps);
	free(s->wants);
}

static int snapshot(struct sync *s, struct vhost_error *err)
{
	const char *dir = s->conf->vhost_dir;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	if (d == NULL) {
		vhost_set_err(err, errno, "vhost directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct snap sn, *n;

		if (de->d_name[0] == '.')
			continue;   /* ., .., and our own temporary files */
		memset(&sn, 0, sizeof(sn));
		snprintf(sn.fname, sizeof(sn.fname), "%s", de->d_name);
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (read_file(path, &sn.text, &sn.len, &sn.mode) < 0)
			continue;   /* not a regular readable file: not ours, leave it */
		sn.ours = text_is_ours(sn.text, sn.len);
		n = grow(s->snaps, s->nsnaps, &cap, sizeof(*n), 16);
		if (n == NULL) {
			free(sn.text);
			closedir(d);
			vhost_set_err(err, ENOMEM, "out of memory");
			return -1;
		}
		s->snaps = n;
		s->snaps[s->nsnaps++] = sn;
	}
	closedir(d);
	return 0;
}

static struct snap *find_snap(struct sync *s, const char *fname)
{
	for (size_t i = 0; i < s->nsnaps; i++)
		if (strcmp(s->snaps[i].fname, fname) == 0)
			return &s->snaps[i];
	return NULL;
}

static bool is_wanted(struct sync *s, const char *fname)
{
	for (size_t i = 0; i < s->nwants; i++)
		if (strcmp(s->wants[i].fname, fname) == 0)
			return true;
	return false;
}

static int render_all(struct sync *s, const void *items, size_t n, struct vhost_error *err)
{
	const struct vhost_spec *v = items;
	char buf[16384];

	if ((s->wants = calloc(n ? n : 1, sizeof(*s->wants))) == NULL) {
		vhost_set_err(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct want *w = &s->wants[i];
		int len = vhost_render(&v[i], s->conf->log_dir, buf, sizeof(buf), err);

		if (len < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[j].name, v[i].name) == 0) {
				vhost_set_err(err, EEXIST, "vhost \"%s\": listed twice", v[i].name);
				return -1;
			}
		if (vhost_file_name(v[i].name, w->fname, sizeof(w->fname)) < 0 ||
		    (w->text = strdup(buf)) == NULL) {
			vhost_set_err(err, ENOMEM, "vhost \"%s\": out of memory", v[i].name);
			return -1;
		}
		w->len = (size_t)len;
		snprintf(w->name, sizeof(w->name), "%s", v[i].name);
		s->nwants++;
	}
	return 0;
}

/* Put every touched file back as it was; remove the new ones. */
static void restore(struct sync *s)
{
	struct vhost_error e;

	for (size_t i = 0; i < s->nwants; i++) {
		char path[PATH_MAX];

		if (!s->wants[i].written || find_snap(s, s->wants[i].fname))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->conf->vhost_dir, s->wants[i].fname);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("vhost: restore: unlink %s", path);
	}
	for (size_t i = 0; i < s->nsnaps; i++) {
		struct snap *sn = &s->snaps[i];

		if (sn->touched && vhost_write_atomic(s->conf->vhost_dir, sn->fname, sn->text,
						      sn->len, sn->mode, &e) < 0)
			log_warnx("vhost: restore: %s", e.msg);
	}
	vhost_fsync_dir(s->conf->vhost_dir);
}

/* Write what changed, remove stale files of ours. Returns the number of changes, or -1. */
static int write_changes(struct sync *s, struct vhost_report *rep, struct vhost_error *err)
{
	int changes = 0;

	for (size_t i = 0; i < s->nwants; i++) {
		struct want *w = &s->wants[i];
		struct snap *sn = find_snap(s, w->fname);

		if (sn && sn->len == w->len && memcmp(sn->text, w->text, w->len) == 0) {
			rep->unchanged++;
			continue;
		}
		if (sn)
			sn->touched = true;
		w->written = true;   /* set first: a failed write may still leave nothing */
		if (vhost_write_atomic(s->conf->vhost_dir, w->fname, w->text, w->len, 0, err) < 0)
			return -1;
		rep->written++;
		changes++;
	}
	for (size_t i = 0; i < s->nsnaps; i++) {
		struct snap *sn = &s->snaps[i];
		char path[PATH_MAX];

		if (!sn->ours || is_wanted(s, sn->fname))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->conf->vhost_dir, sn->fname);
		sn->touched = true;
		if (unlink(path) < 0) {
			vhost_set_err(err, errno, "%s: cannot remove: %s", path, strerror(errno));
			return -1;
		}
		rep->removed++;
		changes++;
	}
	if (changes)
		vhost_fsync_dir(s->conf->vhost_dir);
	return changes;
}

int vhost_run(char *const argv[], char *out, size_t outsize, int timeout_ms)
{
	struct timespec t0, t1;
	size_t used = 0;
	int p[2], status;
	pid_t pid;

	if (outsize)
		out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		char tmp[1024];
		long waited;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited >= timeout_ms || poll(&pfd, 1, (int)(timeout_ms - waited)) == 0) {
			kill(pid, SIGKILL);
			break;
		}
		r = read(p[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (outsize && used < outsize - 1) {
			size_t k = (size_t)r < outsize - 1 - used ? (size_t)r : outsize - 1 - used;

			memcpy(out + used, tmp, k);
			used += k;
			out[used] = '\0';
		}
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int apache(const struct vhost_conf *c, const char *what, char *out, size_t outsize)
{
	const char *bin = c->apache_bin ? c->apache_bin : "/usr/sbin/apache2";
	char *check[] = { (char *)bin, "-t", "-f", (char *)c->apache_conf, NULL };
	char *graceful[] = { (char *)bin, "-k", "graceful", "-f", (char *)c->apache_conf, NULL };

	return vhost_run(strcmp(what, "check") == 0 ? check : graceful, out, outsize,
			 CHECK_TIMEOUT_MS);
}

/* The common part of vhost_sync and vhost_sync_files: s->wants are rendered. */
static int sync_run(struct sync *s, struct vhost_report *rep, struct vhost_error *err)
{
	const struct vhost_conf *conf = s->conf;
	char out[3000];
	int changes, st;

	if (snapshot(s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nwants; i++) {
		struct snap *sn = find_snap(s, s->wants[i].fname);

		if (sn && !sn->ours) {
			vhost_set_err(err, EEXIST, "vhost \"%s\": %s/%s exists and is not coopnet's (no "
				"\"%s\" first line); move it away", s->wants[i].name, conf->vhost_dir,
				sn->fname, VHOST_MARKER);
			return -1;
		}
	}
	if ((changes = write_changes(s, rep, err)) < 0) {
		restore(s);
		return -1;
	}
	if (changes == 0)
		return 0;
	st = apache(conf, "check", out, sizeof(out));
	if (st != 0) {
		restore(s);
		vhost_set_err(err, EINVAL, "apache config check (%s -t -f %s) failed, previous vhost files "
			"restored: %s", conf->apache_bin ? conf->apache_bin : "/usr/sbin/apache2",
			conf->apache_conf, *out ? out : "(no output)");
		memset(rep, 0, sizeof(*rep));
		return -1;
	}
	if (!conf->no_reload) {
		if ((st = apache(conf, "graceful", out, sizeof(out))) != 0) {
			vhost_set_err(err, EIO, "apache graceful reload failed (files kept, they passed the "
				"check): %s", *out ? out : "(no output)");
			return -1;
		}
		rep->reloaded = true;
	}
	return 0;
}

static int sync_begin(const struct vhost_conf *conf, struct vhost_report **rep,
		      struct vhost_report *dummy, struct vhost_error *err)
{
	if (*rep == NULL)
		*rep = dummy;
	memset(*rep, 0, sizeof(**rep));
	if (conf->vhost_dir == NULL || conf->apache_conf == NULL) {
		vhost_set_err(err, EINVAL, "vhost: the vhost directory and the Apache config are required");
		return -1;
	}
	return 0;
}

/* The wanted files are saved ones (vhost_dir_save): copied as they are, if they are ours. */
static int copy_all(struct sync *s, const void *items, size_t n, struct vhost_error *err)
{
	const struct vhost_file *f = items;

	if ((s->wants = calloc(n ? n : 1, sizeof(*s->wants))) == NULL) {
		vhost_set_err(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct want *w = &s->wants[i];

		if (!text_is_ours(f[i].text, f[i].len) || (w->text = malloc(f[i].len + 1)) == NULL) {
			vhost_set_err(err, EINVAL, "vhost: %s is not a coopnet vhost file", f[i].fname);
			return -1;
		}
		memcpy(w->text, f[i].text, f[i].len);
		w->text[f[i].len] = '\0';
		w->len = f[i].len;
		snprintf(w->fname, sizeof(w->fname), "%s", f[i].fname);
		snprintf(w->name, sizeof(w->name), "%s", f[i].fname);
		s->nwants++;
	}
	return 0;
}

/* One sync: fill the wanted files (rendered or copied), then make the directory hold them. */
static int sync_with(const struct vhost_conf *conf, struct vhost_report *rep,
		     struct vhost_error *err,
		     int (*fill)(struct sync *, const void *, size_t, struct vhost_error *),
		     const void *items, size_t n)
{
	struct sync s = { .conf = conf };
	struct vhost_report dummy;
	int ret = -1;

	if (sync_begin(conf, &rep, &dummy, err) < 0)
		return -1;
	if (fill(&s, items, n, err) == 0)
		ret = sync_run(&s, rep, err);
	sync_free(&s);
	return ret;
}

int vhost_sync(const struct vhost_conf *conf, const struct vhost_spec *v, size_t n,
	       struct vhost_report *rep, struct vhost_error *err)
{
	return sync_with(conf, rep, err, render_all, v, n);
}

int vhost_sync_files(const struct vhost_conf *conf, const struct vhost_file *f, size_t n,
		     struct vhost_report *rep, struct vhost_error *err)
{
	return sync_with(conf, rep, err, copy_all, f, n);
}

void vhost_files_free(struct vhost_file *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		free(f[i].text);
	free(f);
}

int vhost_dir_save(const char *dir, struct vhost_file **out, size_t *n, struct vhost_error *err)
{
	struct vhost_conf conf = { .vhost_dir = dir };
	struct sync s = { .conf = &conf };
	struct vhost_file *f;

	*out = NULL;
	*n = 0;
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (snapshot(&s, err) < 0)
		return -1;
	if ((f = calloc(s.nsnaps ? s.nsnaps : 1, sizeof(*f))) == NULL) {
		sync_free(&s);
		vhost_set_err(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s.nsnaps; i++) {
		if (!s.snaps[i].ours)
			continue;
		snprintf(f[*n].fname, sizeof(f[*n].fname), "%s", s.snaps[i].fname);
		f[*n].text = s.snaps[i].text;   /* moved */
		f[*n].len = s.snaps[i].len;
		s.snaps[i].text = NULL;
		(*n)++;
	}
	sync_free(&s);
	*out = f;
	return 0;
}
