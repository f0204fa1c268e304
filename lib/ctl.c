/* SPDX-License-Identifier: MIT */
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_sockaddr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* Remove a socket file left by a dead process; refuse to remove anything else. */
static int remove_stale_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}

int ctl_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (fill_sockaddr(&sun, path) < 0 || remove_stale_socket(path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, mode) < 0 ||
	    listen(fd, 16) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (fill_sockaddr(&sun, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int ctl_send(int fd, const json_t *msg)
{
	return ctl_send_max(fd, msg, CTL_MSG_MAX);
}

int ctl_send_max(int fd, const json_t *msg, size_t max)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	int r, err;

	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	r = ctl_send_text(fd, text, strlen(text), max);
	err = errno;
	free(text);
	errno = err;
	return r;
}

int ctl_send_text(int fd, const char *text, size_t len, size_t max)
{
	ssize_t n;

	if (len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	n = send(fd, text, len, MSG_NOSIGNAL);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

json_t *ctl_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *msg;

	msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg) {
		snprintf(err, errlen, "bad control message: %s (column %d)", jerr.text,
			 jerr.column);
		return NULL;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		snprintf(err, errlen, "bad control message: not a JSON object");
		return NULL;
	}
	return msg;
}

json_t *ctl_recv(int fd, bool *closed, char *err, size_t errlen)
{
	return ctl_recv_max(fd, CTL_MSG_MAX, closed, err, errlen);
}

/* A recv that returned n <= 0: the contract of lib/ctl.h for *closed and errno. */
static json_t *recv_failed(ssize_t n, bool *closed, char *err, size_t errlen)
{
	int saved = n == 0 ? 0 : errno;

	*closed = !(n < 0 && (saved == EAGAIN || saved == EWOULDBLOCK || saved == EINTR));
	snprintf(err, errlen, "%s", n == 0 ? "connection closed" : strerror(saved));
	errno = saved;
	return NULL;
}

json_t *ctl_recv_max(int fd, size_t max, bool *closed, char *err, size_t errlen)
{
	char *buf;
	ssize_t n, m;
	json_t *msg;

	*closed = false;
	/* MSG_PEEK | MSG_TRUNC: the real size of the next message, which stays queued */
	n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n <= 0)
		return recv_failed(n, closed, err, errlen);
	if ((size_t)n > max) {
		char junk[1];

		/* drop it whole (SOCK_SEQPACKET): the next one may be fine */
		if ((m = recv(fd, junk, sizeof(junk), 0)) <= 0)
			return recv_failed(m, closed, err, errlen);
		snprintf(err, errlen, "message of %zd bytes exceeds %zu", n, max);
		errno = EMSGSIZE;
		return NULL;
	}
	if (!(buf = malloc((size_t)n + 1))) {
		*closed = true;
		snprintf(err, errlen, "out of memory for a message of %zd bytes", n);
		errno = ENOMEM;
		return NULL;
	}
	m = recv(fd, buf, (size_t)n + 1, MSG_TRUNC);
	if (m != n) {
		free(buf);
		if (m <= 0)
			return recv_failed(m, closed, err, errlen);
		snprintf(err, errlen, "message changed size while read (%zd, then %zd bytes)", n, m);
		errno = EBADMSG;
		return NULL;
	}
	msg = ctl_parse(buf, (size_t)n, err, errlen);
	free(buf);
	errno = msg ? 0 : EBADMSG;
	return msg;
}

json_t *ctl_call(const char *path, const json_t *req, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd pfd;
	json_t *reply;
	bool closed;
	int fd, r;

	fd = ctl_connect(path);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* A server that refuses the peer (SO_PEERCRED) answers at once and closes: the send then
	 * fails with EPIPE, but its answer is waiting to be read. */
	if (ctl_send(fd, req) < 0 && errno != EPIPE && errno != ECONNRESET) {
		snprintf(err, errlen, "%s: send: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		int e = r == 0 ? ETIMEDOUT : errno;

		snprintf(err, errlen, "%s: %s", path, r == 0 ? "no reply (timed out)" : strerror(e));
		close(fd);
		errno = e;
		return NULL;
	}
	reply = ctl_recv(fd, &closed, err, errlen);
	close(fd);
	return reply;
}

json_t *ctl_reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

json_t *ctl_reply_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

int ctl_peer_uid(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	*uid = cred.uid;
	return 0;
}

/* --- the session object ------------------------------------------------------------ */

json_t *cn_session_to_json(const struct cn_session *s)
{
	char client[INET6_ADDRSTRLEN], service[INET6_ADDRSTRLEN], id[CN_ID_STRLEN];

	if (!inet_ntop(s->family, s->client, client, sizeof(client)) ||
	    !inet_ntop(s->family, s->service, service, sizeof(service)))
		return NULL;
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "client", client, "service", service,
			 "port", (int)s->port, "id", cn_id_format_hex(s->id, id, sizeof(id)),
			 "vnic", s->vnic, "expires", (json_int_t)s->expires);
}

/* Parse an address; the first one fixes the family, the second must match it. */
static int parse_session_addr(struct cn_session *s, uint8_t *out, const json_t *v,
			      const char *key, char *err, size_t errlen)
{
	const char *text = json_string_value(v);
	int family;

	if (!text) {
		snprintf(err, errlen, "\"%s\" must be an IP address string", key);
		return -1;
	}
	family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, text, out) != 1) {
		snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv4 or IPv6 address", key, text);
		return -1;
	}
	if (s->family && s->family != family) {
		snprintf(err, errlen, "\"%s\": \"%s\" is not of the same family as \"client\"",
			 key, text);
		return -1;
	}
	s->family = family;
	return 0;
}

static int parse_session_field(struct cn_session *s, const char *key, const json_t *v,
			       char *err, size_t errlen)
{
	if (!strcmp(key, "client"))
		return parse_session_addr(s, s->client, v, key, err, errlen);
	if (!strcmp(key, "service"))
		return parse_session_addr(s, s->service, v, key, err, errlen);
	if (!strcmp(key, "port")) {
		json_int_t port = json_integer_value(v);
		if (!json_is_integer(v) || port < 1 || port > 65535) {
			snprintf(err, errlen, "\"port\" must be an integer from 1 to 65535");
			return -1;
		}
		s->port = (uint16_t)port;
		return 0;
	}
	if (!strcmp(key, "id")) {
		enum cn_id_parse_err e = cn_id_parse(&s->id, json_string_value(v));
		if (e != CN_ID_PARSE_OK) {
			snprintf(err, errlen, "\"id\": %s%s%s: %s", json_is_string(v) ? "\"" : "",
				 json_is_string(v) ? json_string_value(v) : "not a string",
				 json_is_string(v) ? "\"" : "", cn_id_parse_strerror(e));
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "vnic")) {
		const char *name = json_string_value(v);
		if (!name || strlen(name) >= sizeof(s->vnic)) {
			snprintf(err, errlen, "\"vnic\" must be a string of at most %zu characters",
				 sizeof(s->vnic) - 1);
			return -1;
		}
		strcpy(s->vnic, name);
		return 0;
	}
	if (!strcmp(key, "expires")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "\"expires\" must be a Unix time in seconds (0: never)");
			return -1;
		}
		s->expires = (uint64_t)json_integer_value(v);
		return 0;
	}
	snprintf(err, errlen, "unknown session key \"%s\"", key);
	return -1;
}

int cn_session_from_json(struct cn_session *out, const json_t *obj, char *err, size_t errlen)
{
	static const char *const required[] = { "client", "service", "port", "id" };
	struct cn_session s;
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "a session must be a JSON object");
		return -1;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!json_object_get(obj, required[i])) {
			snprintf(err, errlen, "session lacks \"%s\"", required[i]);
			return -1;
		}
	}
	memset(&s, 0, sizeof(s));
	json_object_foreach((json_t *)obj, key, v) {
		if (parse_session_field(&s, key, v, err, errlen) < 0)
			return -1;
	}
	*out = s;
	return 0;
}

size_t ctl_json_size(const json_t *v)
{
	return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

struct capped_text {
	char *p;
	size_t n, max;
};

/* jansson does not stop at every failed callback (some of its writes ignore the result), so
 * once past the cap every later call is refused here, and the cap is read from t->n. */
static int append_capped(const char *buf, size_t len, void *arg)
{
	struct capped_text *t = arg;

	if (t->n > t->max || len > t->max - t->n) {
		t->n = t->max + 1;
		return -1;
	}
	memcpy(t->p + t->n, buf, len);
	t->n += len;
	return 0;
}

char *ctl_dump_max(const json_t *v, size_t max, size_t *len)
{
	struct capped_text t = { .p = malloc(max + 1), .n = 0, .max = max };
	int r;

	if (!t.p) {
		errno = ENOMEM;
		return NULL;
	}
	r = json_dump_callback(v, append_capped, &t, JSON_COMPACT);
	if (t.n > max || r < 0) {
		free(t.p);
		errno = t.n > max ? EMSGSIZE : ENOMEM;
		return NULL;
	}
	t.p[t.n] = '\0';
	*len = t.n;
	return t.p;
}

json_t *ctl_chunk(ctl_next_fn next, void *arg, size_t *pos, size_t budget, bool *more)
{
	json_t *out = json_array(), *v;
	size_t used = 2, at = *pos; /* the brackets; the cursor before the item in hand */
	int r;

	*more = false;
	if (!out)
		return NULL;
	while ((r = next(arg, pos, &v)) > 0) {
		size_t sz = ctl_json_size(v) + 1; /* and its comma */

		if (json_array_size(out) > 0 && used + sz > budget) {
			json_decref(v);
			*pos = at;
			*more = true;
			break;
		}
		if (json_array_append_new(out, v) < 0)
			break;
		used += sz;
		at = *pos;
	}
	if (r < 0 || (r > 0 && !*more)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *ctl_reply_page(size_t total, ctl_next_fn next, void *arg, const json_t *req,
		       const char *key)
{
	const json_t *off = json_object_get(req, "offset");
	size_t pos = 0;
	bool more;
	json_t *page, *r;

	if (off && (!json_is_integer(off) || json_integer_value(off) < 0))
		return ctl_reply_error("\"offset\" must be an integer >= 0");
	if (off)
		pos = (size_t)json_integer_value(off);
	page = ctl_chunk(next, arg, &pos, CTL_CHUNK_BUDGET, &more);
	r = ctl_reply_ok();
	if (!page || !r) {
		json_decref(page);
		json_decref(r);
		return NULL;
	}
	json_object_set_new(r, key, page);
	json_object_set_new(r, "total", json_integer((json_int_t)total));
	if (more)
		json_object_set_new(r, "next", json_integer((json_int_t)pos));
	return r;
}

static int array_next(void *arr, size_t *pos, json_t **item)
{
	if (*pos >= json_array_size(arr))
		return 0;
	*item = json_incref(json_array_get(arr, (*pos)++));
	return 1;
}

json_t *ctl_array_chunk(const json_t *arr, size_t *pos, size_t budget)
{
	bool more;

	return ctl_chunk(array_next, (void *)arr, pos, budget, &more);
}

json_t *ctl_reply_array_page(const json_t *arr, const json_t *req, const char *key)
{
	return ctl_reply_page(json_array_size(arr), array_next, (void *)arr, req, key);
}
