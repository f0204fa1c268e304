/* SPDX-License-Identifier: MIT */
/*
 * Control sockets: how coopnetctl talks to coopnet-nfq and coopnet-authd, and how
 * coopnet-authd pushes sessions to coopnet-nfq. See docs/control.md.
 *
 * A control socket is an AF_UNIX SOCK_SEQPACKET socket: one message is one JSON object, at
 * most CTL_MSG_MAX bytes, so no framing is needed and a short read cannot split a message.
 * A request carries "cmd"; a reply carries "ok" (true/false) and on failure "error".
 */
#ifndef COOPNET_CTL_H
#define COOPNET_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "id.h"

#define CTL_MSG_MAX 65536

/* Create a listening socket at path (a stale socket file is replaced; any other file there
 * is an error), mode applied before listen. Non-blocking, close-on-exec. -1 and errno. */
int ctl_listen(const char *path, mode_t mode);
/* Connect to path. Blocking, close-on-exec. -1 and errno. */
int ctl_connect(const char *path);

/* Send one object. 0, or -1 with errno (EMSGSIZE when it does not fit CTL_MSG_MAX). */
int ctl_send(int fd, const json_t *msg);
/* Receive one object. NULL on error with a message in err and errno: from recv, EMSGSIZE
 * (too large) or EBADMSG (not a JSON object): after these two the connection is still
 * usable. *closed is set when the peer closed the connection. */
json_t *ctl_recv(int fd, bool *closed, char *err, size_t errlen);
/* The same with another size limit, for channels that are not control sockets (coopnet-authd's
 * privilege-separation socketpair carries the resolved policy, which grows with the client
 * list). A SOCK_SEQPACKET sender also needs SO_SNDBUF(FORCE) above max. ctl_recv_max peeks at
 * the size first and allocates only what the message needs. */
int ctl_send_max(int fd, const json_t *msg, size_t max);
json_t *ctl_recv_max(int fd, size_t max, bool *closed, char *err, size_t errlen);
/* Parse one received message: it must be a JSON object. For tests and fuzzers. */
json_t *ctl_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Connect, send req, wait up to timeout_ms for one reply, close. NULL with err on failure. */
json_t *ctl_call(const char *path, const json_t *req, int timeout_ms, char *err, size_t errlen);

/*
 * Splitting a long array by size (docs/control.md, "Large requests"): the items of arr from
 * *pos on, as many as fit in budget bytes of compact JSON (at least one, so that progress is
 * always made; a single item larger than budget is the caller's error). *pos advances past
 * them. NULL when out of memory. ctl_json_size is the compact size of one value, as ctl_send
 * writes it.
 */
#define CTL_CHUNK_BUDGET (CTL_MSG_MAX - 1024) /* room for "cmd", "more" and the braces */
size_t ctl_json_size(const json_t *v);
json_t *ctl_array_chunk(const json_t *arr, size_t *pos, size_t budget);
/* A paged listing reply (docs/control.md, "Large replies"): {"ok": true, key: the items of arr
 * from req's "offset" on that fit one message, "total": n, "next": offset of the next page
 * when there is one}. An "offset" that is not an integer >= 0 gets an error reply. */
json_t *ctl_reply_page(const json_t *arr, const json_t *req, const char *key);

/* {"ok": true} and {"ok": false, "error": "..."} */
json_t *ctl_reply_ok(void);
json_t *ctl_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The uid of the connected peer (SO_PEERCRED). */
int ctl_peer_uid(int fd, uid_t *uid);

/*
 * A session as the data plane needs it (the session-add message). Addresses are in network
 * order, 4 bytes used for AF_INET. expires is a CLOCK_REALTIME Unix time in seconds, 0 for
 * never. vnic may be empty.
 */
struct cn_session {
	int family;
	uint8_t client[16];
	uint8_t service[16];
	uint16_t port;
	cn_id_t id;
	char vnic[16];
	uint64_t expires;
};

/* {"client": "198.18.1.2", "service": "198.19.0.10", "port": 80, "id": "0x6141",
 *  "vnic": "vnic1", "expires": 1795000000} */
json_t *cn_session_to_json(const struct cn_session *s);
/* Strict: unknown keys, mixed families, port 0, ID 0 and a vnic name of 16 or more
 * characters are errors; err names the key and quotes the bad value. */
int cn_session_from_json(struct cn_session *out, const json_t *obj, char *err, size_t errlen);

#endif
