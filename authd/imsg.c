/* SPDX-License-Identifier: MIT */
/* Messages between coopnet-authd's parent and its engine (authd/imsg.h). */
#include "imsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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
