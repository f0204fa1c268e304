/* SPDX-License-Identifier: MIT */
/* The control-socket server of coopnet-nfq and coopnet-authd: lib/ctl.h, docs/control.md. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define TAG_LISTEN UINT64_MAX   /* epoll tag of the listening socket; a slot's tag is its index */
#define ACCEPT_BURST 16         /* connections accepted per run, so requests are not starved */

void ctl_server_init(struct ctl_server *s)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = s->epfd = -1;
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		s->conns[i].fd = -1;
}

int ctl_server_open(struct ctl_server *s, int listen_fd, size_t max_conns,
		    const struct ctl_server_ops *ops)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	int saved;

	ctl_server_init(s);
	s->ops = *ops;
	s->listen_fd = listen_fd;
	s->max_conns = max_conns < CTL_MAX_CONNS ? max_conns : CTL_MAX_CONNS;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 ||
	    (listen_fd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)) {
		saved = errno;
		ctl_server_close(s);
		errno = saved;
		return -1;
	}
	return 0;
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->epfd;
}

/* Answer once and close without a reset: on a unix socket, closing with unread data makes
 * the peer's recv fail with ECONNRESET and lose the answer. SHUT_RD first stops new data (the
 * peer's send gets EPIPE; ctl_call still reads the answer), then the queue is drained. */
static void refuse(int fd, const char *why)
{
	json_t *r = ctl_reply_error("%s", why);
	char junk[256];

	if (r)
		(void)ctl_send(fd, r);
	json_decref(r);
	shutdown(fd, SHUT_RD);
	for (int n = 0; n < 64 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_TRUNC) > 0; n++)
		;
	close(fd);
}

int ctl_server_adopt(struct ctl_server *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uid_t uid = (uid_t)-1;

	/* root, or the daemon's own user: nobody else (docs/control.md) */
	if (ctl_peer_uid(fd, &uid) < 0 || (uid != 0 && uid != geteuid())) {
		s->refused++;
		log_warnx("control: refused a peer with uid %d", (int)uid);
		refuse(fd, "permission denied: the control socket answers root and the daemon's "
		       "own user only");
		return -1;
	}
	for (size_t i = 0; i < s->max_conns; i++) {
		if (s->conns[i].fd >= 0)
			continue;
		ev.data.u64 = i;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("control: epoll_ctl");
			refuse(fd, "cannot take the connection (out of resources)");
			return -1;
		}
		s->conns[i] = (struct ctl_conn){ .fd = fd };
		if (s->ops.opened)
			s->ops.opened(s->ops.ctx, i);
		return (int)i;
	}
	log_warnx("control: too many control connections (%zu)", s->max_conns);
	refuse(fd, "too many control connections");
	return -1;
}

void ctl_server_close_conn(struct ctl_server *s, size_t conn)
{
	struct ctl_conn *c;

	if (conn >= CTL_MAX_CONNS || s->conns[conn].fd < 0)
		return;
	c = &s->conns[conn];
	if (s->ops.closing)
		s->ops.closing(s->ops.ctx, conn);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	*c = (struct ctl_conn){ .fd = -1 };
}

/* Send reply (taken; NULL: out of memory) on conn. A reply too large for a message becomes an
 * error reply saying so; a connection that cannot take its reply is closed (its client would
 * wait in vain). */
static void send_reply(struct ctl_server *s, size_t conn, json_t *reply)
{
	int fd = s->conns[conn].fd, r = -1;

	if (!reply)
		reply = ctl_reply_error("out of memory");
	errno = ENOMEM;
	if (reply)
		r = ctl_send(fd, reply);
	if (r < 0 && errno == EMSGSIZE) {
		json_t *e = ctl_reply_error("the reply (%zu bytes) exceeds a control message "
					    "(%d bytes)", ctl_json_size(reply), CTL_MSG_MAX);

		errno = ENOMEM;
		r = e ? ctl_send(fd, e) : -1;
		json_decref(e);
	}
	json_decref(reply);
	if (r < 0) {
		log_debug("control: cannot send a reply (%s); connection closed", strerror(errno));
		ctl_server_close_conn(s, conn);
	}
}

static json_t *dispatch(struct ctl_server *s, size_t conn, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *r;

	if (s->ops.gate && (r = s->ops.gate(s->ops.ctx, conn, req)))
		return r;
	if (!cmd)
		return ctl_reply_error("request without \"cmd\"");
	for (const struct ctl_command *c = s->ops.commands; c && c->name; c++)
		if (!strcmp(c->name, cmd))
			return c->fn(s->ops.ctx, conn, req);
	return ctl_reply_error("unknown command \"%s\"", cmd);
}

void ctl_server_input(struct ctl_server *s, size_t conn)
{
	struct ctl_conn *c;
	char err[256];
	bool closed;
	json_t *req, *r;

	if (conn >= CTL_MAX_CONNS || s->conns[conn].fd < 0)
		return;
	c = &s->conns[conn];
	req = ctl_recv(c->fd, &closed, err, sizeof(err));
	if (!req) {
		if (closed)
			ctl_server_close_conn(s, conn);
		else if (errno == EMSGSIZE || errno == EBADMSG)
			send_reply(s, conn, ctl_reply_error("%s", err)); /* still usable */
		return; /* else EAGAIN, EINTR: nothing yet */
	}
	if (c->deferred) {
		json_decref(req);
		send_reply(s, conn, ctl_reply_error("one request at a time on a connection"));
		return;
	}
	r = dispatch(s, conn, req);
	json_decref(req);
	if (!r && c->deferred)
		return;
	c->deferred = false;
	send_reply(s, conn, r);
}

void ctl_server_defer(struct ctl_server *s, size_t conn)
{
	if (conn < CTL_MAX_CONNS && s->conns[conn].fd >= 0)
		s->conns[conn].deferred = true;
}

void ctl_server_answer(struct ctl_server *s, size_t conn, json_t *reply)
{
	if (conn >= CTL_MAX_CONNS || s->conns[conn].fd < 0 || !s->conns[conn].deferred) {
		json_decref(reply);
		return;
	}
	s->conns[conn].deferred = false;
	send_reply(s, conn, reply);
}

size_t ctl_server_broadcast(struct ctl_server *s, const json_t *msg,
			    bool (*want)(void *ctx, size_t conn))
{
	size_t n = 0;

	for (size_t i = 0; i < s->max_conns; i++) {
		if (s->conns[i].fd < 0 || (want && !want(s->ops.ctx, i)))
			continue;
		if (ctl_send(s->conns[i].fd, msg) < 0)
			log_debug("control: event to a slow subscriber lost");
		else
			n++;
	}
	return n;
}

static void accept_some(struct ctl_server *s)
{
	for (int k = 0; k < ACCEPT_BURST; k++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("control: accept");
			return;
		}
		ctl_server_adopt(s, fd);
	}
}

void ctl_server_run(struct ctl_server *s)
{
	struct epoll_event evs[CTL_MAX_CONNS + 1];
	int n = epoll_wait(s->epfd, evs, CTL_MAX_CONNS + 1, 0);

	for (int k = 0; k < n; k++) {
		if (evs[k].data.u64 == TAG_LISTEN)
			accept_some(s);
		else
			ctl_server_input(s, (size_t)evs[k].data.u64);
	}
}

void ctl_server_close(struct ctl_server *s)
{
	for (size_t i = 0; i < CTL_MAX_CONNS; i++)
		ctl_server_close_conn(s, i);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	s->listen_fd = s->epfd = -1;
}
