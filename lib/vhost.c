/* SPDX-License-Identifier: MIT */
/*
 * Apache vhost files for the vNICs. See vhost.h.
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

void vhost_set_err(struct vhost_error *err, int code, const char *fmt, ...)
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
		vhost_set_err(err, EINVAL, "vhost \"%.*s\": invalid name", IFNAMSIZ, v->name);
		return -1;
	}
	if (!host_ok(sn)) {
		vhost_set_err(err, EINVAL, "vhost \"%s\": invalid ServerName \"%s\" (letters, digits, "
			"'.', '-')", v->name, sn);
		return -1;
	}
	if (!path_ok(v->docroot)) {
		vhost_set_err(err, EINVAL, "vhost \"%s\": data folder \"%s\" must be an absolute path "
			"without quotes, backslashes or control characters", v->name, v->docroot);
		return -1;
	}
	if (!path_ok(log_dir)) {
		vhost_set_err(err, EINVAL, "vhost \"%s\": log directory \"%s\" must be an absolute path "
			"without quotes, backslashes or control characters", v->name,
			log_dir ? log_dir : "(none)");
		return -1;
	}
	if (v->port == 0 || v->naddrs == 0 || v->naddrs > VNIC_MAX_ADDRS) {
		vhost_set_err(err, EINVAL, "vhost \"%s\": needs a port and 1 to %d addresses", v->name,
			VNIC_MAX_ADDRS);
		return -1;
	}
	for (size_t i = 0; i < v->naddrs; i++)
		if (v->addrs[i].family != AF_INET && v->addrs[i].family != AF_INET6) {
			vhost_set_err(err, EINVAL, "vhost \"%s\": address %zu has no family", v->name, i);
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
		vhost_set_err(err, ENOBUFS, "vhost \"%s\": text does not fit in %zu bytes", v->name, size);
		return -1;
	}
	return (int)used;
}

/* ---------------------------------------------------------------- files */

int vhost_fsync_dir(const char *dir)
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
		vhost_set_err(err, ENAMETOOLONG, "%s/%s: path too long", dir, fname);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		vhost_set_err(err, errno, "%s: cannot create a temporary file: %s", dir, strerror(errno));
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
	if (vhost_fsync_dir(dir) < 0) {
		/* The rename is done; only its durability is in doubt. */
		log_warn("vhost: fsync %s", dir);
	}
	return 0;
fail:
	vhost_set_err(err, errno, "%s: cannot write: %s (the previous file is unchanged)", dst,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* A file of the directory as it was before this run. */
