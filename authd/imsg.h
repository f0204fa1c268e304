/* SPDX-License-Identifier: MIT */
/*
 * Messages between coopnet-authd's parent and its engine (docs/authd.md, "Privilege
 * separation"): one JSON object per SOCK_SEQPACKET message, "msg" names the kind. Both sides
 * send with imsg_send and receive with imsg_dispatch, each with its own table of the kinds it
 * takes.
 */
#ifndef COOPNET_AUTHD_IMSG_H
#define COOPNET_AUTHD_IMSG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Messages between parent and engine may exceed a control socket's 64 KiB: the resolved
 * policy of a provider with thousands of clients (schemas/policy.schema.json allows 4096). */
#define IMSG_MAX (4u << 20)

/* The socketpair between parent and engine, with both send buffers raised to IMSG_MAX.
 * 0, or -1 with errno. */
int imsg_pair(int sp[2]);

/* Send msg (consumed, may be NULL: out of memory). 0, or -1 (logged). */
int imsg_send(int fd, json_t *msg);

/* One kind of message and its handler (ctx: the receiving side's state). */
struct imsg_handler {
	const char *msg;
	void (*fn)(void *ctx, const json_t *msg);
};

/* Receive one message from fd and run the handler of its kind (a kind the table does not
 * have, or a message without "msg", is logged as from `peer` and dropped). 0: handled,
 * dropped, or nothing to read yet; -1: the peer is gone (closed, or a receive error), with a
 * sentence in err. */
int imsg_dispatch(int fd, const struct imsg_handler *table, size_t n, void *ctx,
		  const char *peer, char *err, size_t errlen);

#endif
