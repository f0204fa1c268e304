/* SPDX-License-Identifier: MIT */
/* Messages between coopnet-authd's parent and its engine (authd/imsg.h). */
#include "imsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ctl.h"
#include "log.h"

/* A SOCK_SEQPACKET message must fit the sender's send buffer (net.core.wmem_default, about
 * 208 KiB): raise both ends to IMSG_MAX. SO_SNDBUFFORCE passes net.core.wmem_max as root;
 * without root SO_SNDBUF gets what wmem_max allows, and a larger policy is refused with a
 * clear error (imsg: send: Message too long). */
int imsg_pair(int sp[2])
{
	int size = (int)IMSG_MAX + 65536;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (setsockopt(sp[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			(void)setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return 0;
}

int imsg_send(int fd, json_t *msg)
{
	int r;

	if (!msg) {
		log_warnx("imsg: out of memory");
		return -1;
	}
	r = ctl_send_max(fd, msg, IMSG_MAX);
	if (r < 0)
		log_warn("imsg: send");
	json_decref(msg);
	return r;
}

int imsg_dispatch(int fd, const struct imsg_handler *table, size_t n, void *ctx,
		  const char *peer, char *err, size_t errlen)
{
	const char *kind;
	bool closed;
	json_t *msg;
	size_t i;

	msg = ctl_recv_max(fd, IMSG_MAX, &closed, err, errlen);
	if (!msg)
		return closed || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	kind = json_string_value(json_object_get(msg, "msg"));
	for (i = 0; kind && i < n; i++) {
		if (!strcmp(kind, table[i].msg)) {
			table[i].fn(ctx, msg);
			break;
		}
	}
	if (!kind)
		log_warnx("%s: message without \"msg\"", peer);
	else if (i == n)
		log_warnx("%s: unknown message \"%s\"", peer, kind);
	json_decref(msg);
	return 0;
}

int imsg_send_bin(int fd, uint32_t type, const void *items, uint32_t n, size_t size)
{
	struct imsg_hdr h = { .type = type, .n = n };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)items, (size_t)n * size } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n && size ? 2 : 1 };
	ssize_t r;

	do
		r = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		log_warn("imsg: send");
		return -1;
	}
	return 0;
}

static const struct imsg_bin_handler *bin_handler(const struct imsg_bin_handler *table,
						  size_t n, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].type == type)
			return &table[i];
	return NULL;
}

enum imsg_result imsg_handle_bin(const struct imsg_bin_handler *table, size_t n, void *ctx,
				 const uint8_t *buf, size_t len, size_t size, char *err,
				 size_t errlen)
{
	const struct imsg_bin_handler *h;
	struct imsg_hdr hdr;

	if (len > size || len < sizeof(hdr)) {
		snprintf(err, errlen, "a message of %zu bytes (%s)", len,
			 len > size ? "too large" : "shorter than a header");
		return IMSG_REFUSED;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	h = bin_handler(table, n, hdr.type);
	if (!h) {
		snprintf(err, errlen, "a message of unexpected type %u", hdr.type);
		return IMSG_REFUSED;
	}
	if (hdr.n < h->min_n || hdr.n > h->max_n || len - sizeof(hdr) != (size_t)hdr.n * h->size) {
		snprintf(err, errlen, "%s: %zu bytes for %u item(s) of %zu bytes (%u to %u)",
			 h->name, len, hdr.n, h->size, h->min_n, h->max_n);
		return IMSG_REFUSED;
	}
	if (h->fn(ctx, buf + sizeof(hdr), hdr.n) < 0) {
		snprintf(err, errlen, "%s: refused", h->name);
		return IMSG_REFUSED;
	}
	return IMSG_HANDLED;
}

enum imsg_result imsg_dispatch_bin(int fd, const struct imsg_bin_handler *table, size_t n,
				   void *ctx, uint8_t *buf, size_t size, char *err,
				   size_t errlen)
{
	ssize_t len;

	/* MSG_TRUNC: the real length of a message larger than buf, which is then refused */
	len = recv(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return IMSG_NONE;
	if (len <= 0) {
		snprintf(err, errlen, "%s", len == 0 ? "connection closed" : strerror(errno));
		return IMSG_GONE;
	}
	return imsg_handle_bin(table, n, ctx, buf, (size_t)len, size, err, errlen);
}
