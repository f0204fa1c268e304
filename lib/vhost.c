/* SPDX-License-Identifier: MIT */
/*
 * Apache vhost files for the vNICs. See vhost.h.
 */
#include "config.h"

#include "vhost.h"
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

static void __attribute__((format(printf, 3, 4)))
set_err(struct vhost_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void vhost_spec_from_vnic(struct vhost_spec *v, const struct vnic_spec *s, uint16_t port)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", s->name);
	v->naddrs = s->naddrs <= VNIC_MAX_ADDRS ? s->naddrs : VNIC_MAX_ADDRS;
	memcpy(v->addrs, s->addrs, v->naddrs * sizeof(v->addrs[0]));
	v->port = port;
	snprintf(v->docroot, sizeof(v->docroot), "%s", s->data_folder);
}

int vhost_file_name(const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "coopnet-%s.conf", name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Text that goes between double quotes in an Apache config: absolute, printable, no quote
 * or backslash (Apache would unescape), so no directive can be smuggled in. */
static bool path_ok(const char *p)
{
	if (p == NULL || p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static bool host_ok(const char *h)
{
	if (*h == '\0' || *h == '.' || *h == '-')
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '.' || *h == '-'))
			return false;
	return true;
}

/* "198.18.2.11:80" or "[2001:db8::11]:80" */
static void addr_port(const struct vnic_addr *a, uint16_t port, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", ip, port);
	else
		snprintf(buf, size, "%s:%u", ip, port);
}

/* Append to buf at *used; false when it does not fit. */
static bool __attribute__((format(printf, 4, 5)))
append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *used)
		return false;
	*used += (size_t)n;
	return true;
}

int vhost_render(const struct vhost_spec *v, const char *log_dir, char *buf, size_t size,
		 struct vhost_error *err)
{
	const char *sn = v->server_name[0] ? v->server_name : v->name;
	char ap[INET6_ADDRSTRLEN + 10];
	size_t used = 0;
	bool ok = true;

	if (!host_ok(v->name) || strnlen(v->name, IFNAMSIZ) >= IFNAMSIZ) {
		set_err(err, EINVAL, "vhost \"%.*s\": invalid name", IFNAMSIZ, v->name);
		return -1;
	}
	if (!host_ok(sn)) {
		set_err(err, EINVAL, "vhost \"%s\": invalid ServerName \"%s\" (letters, digits, "
			"'.', '-')", v->name, sn);
		return -1;
	}
	if (!path_ok(v->docroot)) {
		set_err(err, EINVAL, "vhost \"%s\": data folder \"%s\" must be an absolute path "
			"without quotes, backslashes or control characters", v->name, v->docroot);
		return -1;
	}
	if (!path_ok(log_dir)) {
		set_err(err, EINVAL, "vhost \"%s\": log directory \"%s\" must be an absolute path "
			"without quotes, backslashes or control characters", v->name,
			log_dir ? log_dir : "(none)");
		return -1;
	}
	if (v->port == 0 || v->naddrs == 0 || v->naddrs > VNIC_MAX_ADDRS) {
		set_err(err, EINVAL, "vhost \"%s\": needs a port and 1 to %d addresses", v->name,
			VNIC_MAX_ADDRS);
		return -1;
	}
	for (size_t i = 0; i < v->naddrs; i++)
		if (v->addrs[i].family != AF_INET && v->addrs[i].family != AF_INET6) {
			set_err(err, EINVAL, "vhost \"%s\": address %zu has no family", v->name, i);
			return -1;
		}
	ok = append(buf, size, &used, "%s %s -- written by coopnet; edits are overwritten\n",
		    VHOST_MARKER, v->name);
	for (size_t i = 0; i < v->naddrs; i++) {
		addr_port(&v->addrs[i], v->port, ap, sizeof(ap));
		ok = ok && append(buf, size, &used, "Listen %s\n", ap);
	}
	ok = ok && append(buf, size, &used, "<VirtualHost");
	for (size_t i = 0; i < v->naddrs; i++) {
		addr_port(&v->addrs[i], v->port, ap, sizeof(ap));
		ok = ok && append(buf, size, &used, " %s", ap);
	}
	ok = ok && append(buf, size, &used,
			  ">\n"
			  "\tServerName %s\n"
			  "\tDocumentRoot \"%s\"\n"
			  "\t<Directory \"%s\">\n"
			  "\t\tOptions None\n"
			  "\t\tAllowOverride None\n"
			  "\t\tRequire all granted\n"
			  "\t</Directory>\n"
			  "\tErrorLog \"%s/%s-error.log\"\n"
			  "\tCustomLog \"%s/%s-access.log\" \"%%h %%l %%u %%t \\\"%%r\\\" %%>s %%b\"\n"
			  "</VirtualHost>\n",
			  sn, v->docroot, v->docroot, log_dir, v->name, log_dir, v->name);
	if (!ok) {
		set_err(err, ENOBUFS, "vhost \"%s\": text does not fit in %zu bytes", v->name, size);
		return -1;
	}
	return (int)used;
}

/* ---------------------------------------------------------------- files */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int vhost_write_atomic(const char *dir, const char *fname, const char *text, size_t len,
		       unsigned int mode, struct vhost_error *err)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	size_t off = 0;
	int fd, n1, n2;

	n1 = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, fname);
	n2 = snprintf(dst, sizeof(dst), "%s/%s", dir, fname);
	if (n1 < 0 || (size_t)n1 >= sizeof(tmp) || n2 < 0 || (size_t)n2 >= sizeof(dst)) {
		set_err(err, ENAMETOOLONG, "%s/%s: path too long", dir, fname);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		set_err(err, errno, "%s: cannot create a temporary file: %s", dir, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, mode ? (mode_t)mode : 0644) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) < 0)
		goto fail;
	if (fsync_dir(dir) < 0) {
		/* The rename is done; only its durability is in doubt. */
		log_warn("vhost: fsync %s", dir);
	}
	return 0;
fail:
	set_err(err, errno, "%s: cannot write: %s (the previous file is unchanged)", dst,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* A file of the directory as it was before this run. */
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
		set_err(err, errno, "vhost directory %s: %s", dir, strerror(errno));
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
			set_err(err, ENOMEM, "out of memory");
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
		set_err(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct want *w = &s->wants[i];
		int len = vhost_render(&v[i], s->conf->log_dir, buf, sizeof(buf), err);

		if (len < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[j].name, v[i].name) == 0) {
				set_err(err, EEXIST, "vhost \"%s\": listed twice", v[i].name);
				return -1;
			}
		if (vhost_file_name(v[i].name, w->fname, sizeof(w->fname)) < 0 ||
		    (w->text = strdup(buf)) == NULL) {
			set_err(err, ENOMEM, "vhost \"%s\": out of memory", v[i].name);
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
	fsync_dir(s->conf->vhost_dir);
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
			set_err(err, errno, "%s: cannot remove: %s", path, strerror(errno));
			return -1;
		}
		rep->removed++;
		changes++;
	}
	if (changes)
		fsync_dir(s->conf->vhost_dir);
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
			set_err(err, EEXIST, "vhost \"%s\": %s/%s exists and is not coopnet's (no "
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
		set_err(err, EINVAL, "apache config check (%s -t -f %s) failed, previous vhost files "
			"restored: %s", conf->apache_bin ? conf->apache_bin : "/usr/sbin/apache2",
			conf->apache_conf, *out ? out : "(no output)");
		memset(rep, 0, sizeof(*rep));
		return -1;
	}
	if (!conf->no_reload) {
		if ((st = apache(conf, "graceful", out, sizeof(out))) != 0) {
			set_err(err, EIO, "apache graceful reload failed (files kept, they passed the "
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
		set_err(err, EINVAL, "vhost: the vhost directory and the Apache config are required");
		return -1;
	}
	return 0;
}

/* The wanted files are saved ones (vhost_dir_save): copied as they are, if they are ours. */
static int copy_all(struct sync *s, const void *items, size_t n, struct vhost_error *err)
{
	const struct vhost_file *f = items;

	if ((s->wants = calloc(n ? n : 1, sizeof(*s->wants))) == NULL) {
		set_err(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct want *w = &s->wants[i];

		if (!text_is_ours(f[i].text, f[i].len) || (w->text = malloc(f[i].len + 1)) == NULL) {
			set_err(err, EINVAL, "vhost: %s is not a coopnet vhost file", f[i].fname);
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
		set_err(err, ENOMEM, "out of memory");
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
