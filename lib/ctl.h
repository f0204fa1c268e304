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
/*
 * Receive one object: ctl_recv_max(fd, CTL_MSG_MAX, ...). ctl_recv_max peeks at the size
 * first and allocates only what the message needs; it serves channels that are not control
 * sockets (coopnet-authd's privilege-separation socketpair carries the resolved policy, which
 * grows with the client list; a SOCK_SEQPACKET sender also needs SO_SNDBUF(FORCE) above max).
 *
 * The errno contract, the same for both: on failure NULL, a sentence in err, and
 *   *closed true:  the connection is finished, close it: the peer closed it or sent an empty
 *                  message (errno 0), recv failed (its errno, e.g. ECONNRESET), or no memory
 *                  for the message (ENOMEM);
 *   *closed false: errno is one of
 *                  EAGAIN/EWOULDBLOCK or EINTR: nothing to read yet, wait for the next one;
 *                  EMSGSIZE: the message was larger than max and has been dropped whole;
 *                  EBADMSG: the message was not one JSON object.
 *                  After these the connection is still usable: a server answers err.
 * errno is set by these functions in every case; read it right after the call.
 */
json_t *ctl_recv(int fd, bool *closed, char *err, size_t errlen);
int ctl_send_max(int fd, const json_t *msg, size_t max);
/* Send text[len], a message already dumped (JSON_COMPACT, one object): for a caller that
 * needed its size first, so that it is serialised once. Same returns as ctl_send_max. */
int ctl_send_text(int fd, const char *text, size_t len, size_t max);
json_t *ctl_recv_max(int fd, size_t max, bool *closed, char *err, size_t errlen);
/* Parse one received message: it must be a JSON object. For tests and fuzzers. */
json_t *ctl_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Connect, send req, wait up to timeout_ms for one reply, close. NULL with err on failure;
 * errno ETIMEDOUT when no reply came in timeout_ms. */
json_t *ctl_call(const char *path, const json_t *req, int timeout_ms, char *err, size_t errlen);

/*
 * The one pager (docs/control.md, "Large requests" and "Large replies"). A listing is walked
 * with a cursor: next(arg, pos, &item) makes the item at cursor *pos or the first one after
 * it (a new reference), moves *pos past it and returns 1; it returns 0 at the end and -1 when
 * out of memory. For an array the cursor is the index; a daemon that keeps its items in C
 * builds only the page it sends.
 *
 * ctl_chunk: the items from *pos on, as many as fit in budget bytes of compact JSON (at least
 * one, so that progress is always made; a single item larger than budget is the caller's
 * error). *pos ends on the first item not taken, *more says whether there is one. NULL when
 * out of memory. ctl_json_size is the compact size of one value, as ctl_send writes it.
 * ctl_dump_max(v, max, &len) is v as ctl_send writes it (a new string of len bytes, free it),
 * or NULL with errno EMSGSIZE when it is larger than max, found by a dump that stops at max
 * bytes (a session-sync of 60,000 sessions is megabytes of JSON, and the question is whether
 * it fits one message), or ENOMEM. Its text goes out with ctl_send_text: serialised once.
 */
#define CTL_CHUNK_BUDGET (CTL_MSG_MAX - 1024) /* room for "cmd", "more" and the braces */
typedef int (*ctl_next_fn)(void *arg, size_t *pos, json_t **item);
size_t ctl_json_size(const json_t *v);
char *ctl_dump_max(const json_t *v, size_t max, size_t *len);
json_t *ctl_chunk(ctl_next_fn next, void *arg, size_t *pos, size_t budget, bool *more);
/* A paged listing reply: {"ok": true, key: the items from req's "offset" (a cursor, default 0)
 * on that fit one message, "total": total, "next": the cursor of the next page when there is
 * one}. An "offset" that is not an integer >= 0 gets an error reply. NULL: out of memory. */
json_t *ctl_reply_page(size_t total, ctl_next_fn next, void *arg, const json_t *req,
		       const char *key);
/* The same two over the items of a JSON array (the cursor is the index). */
json_t *ctl_array_chunk(const json_t *arr, size_t *pos, size_t budget);
json_t *ctl_reply_array_page(const json_t *arr, const json_t *req, const char *key);

/* {"ok": true} and {"ok": false, "error": "..."} */
json_t *ctl_reply_ok(void);
json_t *ctl_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The uid of the connected peer (SO_PEERCRED). */
int ctl_peer_uid(int fd, uid_t *uid);

/*
 * The control-socket server both daemons use (lib/ctl_server.c): it accepts on a listening
 * socket, admits root and the daemon's own effective uid only (SO_PEERCRED; anybody else
 * gets an error reply and is closed, counted in refused), keeps a table of connections,
 * receives requests, looks "cmd" up in the daemon's command table and sends the reply.
 * The daemon keeps only its command table, its handlers, and per-connection state of its own
 * in an array indexed like conns.
 *
 * A handler returns the reply (sent and freed by the server), or NULL: out of memory (the
 * server answers so), unless it called ctl_server_defer; then the reply follows later with
 * ctl_server_answer, and until it does, the connection's further requests are refused with
 * "one request at a time on a connection".
 *
 * Its one file descriptor (ctl_server_fd, an epoll set of the listening socket and every
 * connection) goes into the daemon's poll or epoll loop; ctl_server_run handles what is
 * ready without blocking.
 */
#define CTL_MAX_CONNS 32

struct ctl_command {
	const char *name;
	json_t *(*fn)(void *ctx, size_t conn, const json_t *req);
};

struct ctl_server_ops {
	const struct ctl_command *commands;  /* ends with { NULL, NULL } */
	void *ctx;                           /* the handlers' first argument */
	/* Optional, before the command is looked up: a reply refusing the request, or NULL to
	 * go on (coopnet-authd: "no policy loaded yet"). */
	json_t *(*gate)(void *ctx, size_t conn, const json_t *req);
	/* Optional: connection conn was admitted / is about to close (the daemon's state). */
	void (*opened)(void *ctx, size_t conn);
	void (*closing)(void *ctx, size_t conn);
};

struct ctl_conn {
	int fd;                /* -1: a free slot */
	bool deferred;         /* the reply to its request comes with ctl_server_answer */
};

struct ctl_server {
	struct ctl_server_ops ops;
	int listen_fd;         /* owned; -1 for none (tests adopt connected sockets) */
	int epfd;
	size_t max_conns;      /* at most CTL_MAX_CONNS */
	struct ctl_conn conns[CTL_MAX_CONNS];
	uint64_t refused;      /* peers refused for their uid */
};

/* A server with nothing open, safe to ctl_server_close. */
void ctl_server_init(struct ctl_server *s);
/* Take listen_fd (closed by ctl_server_close, also on failure). 0, or -1 with errno. */
int ctl_server_open(struct ctl_server *s, int listen_fd, size_t max_conns,
		    const struct ctl_server_ops *ops);
int ctl_server_fd(const struct ctl_server *s);
/* Accept, receive and answer what is ready; never blocks. */
void ctl_server_run(struct ctl_server *s);
/* Admit a connected socket (what accept returns): the slot, or -1 when refused (the peer
 * got an error reply and fd is closed). */
int ctl_server_adopt(struct ctl_server *s, int fd);
/* Receive one request on conn and answer it (ctl_server_run calls it). */
void ctl_server_input(struct ctl_server *s, size_t conn);
void ctl_server_defer(struct ctl_server *s, size_t conn);
/* Send the deferred reply of conn (taken; NULL: out of memory). */
void ctl_server_answer(struct ctl_server *s, size_t conn, json_t *reply);
/* Send msg on every open connection for which want(ctx, conn) is true (events); a peer
 * that cannot take it loses it. Returns how many got it. */
size_t ctl_server_broadcast(struct ctl_server *s, const json_t *msg,
			    bool (*want)(void *ctx, size_t conn));
void ctl_server_close_conn(struct ctl_server *s, size_t conn);
/* Close every connection, the listening socket and the epoll set (not the path). */
void ctl_server_close(struct ctl_server *s);

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

/*
 * Packed sessions (lib/ctl_packed.c; docs/control.md, "Packed sessions"): what
 * coopnet-authd's session-sync carries as "packed" instead of a "sessions" array: one JSON
 * string of hexadecimal digits, 2 * CN_SESSION_PACKED per session, each session the 64-byte
 * record below (the same checks as cn_session_from_json). Parsing 60,000 session objects
 * and building them cost coopnet-nfq and coopnet-authd's parent most of a second at a
 * worker's restart; a string of records costs a few milliseconds.
 *
 * cn_session_unpack refuses what cn_session_from_json refuses (family, port 0, ID 0, a vnic
 * of 16 or more characters) and a record with a byte it does not define (reserved bytes, an
 * IPv4 address's padding, the bytes after the vnic's NUL): each record has one form.
 * cn_packed_count: the number of sessions in a "packed" value, -1 with err when it is not a
 * string of whole records; cn_packed_get: session i (its digits and its record checked).
 */
#define CN_SESSION_PACKED 64
/* Sessions per packed session-sync message: the digits fill CTL_CHUNK_BUDGET at most. */
#define CN_PACKED_PER_MSG (CTL_CHUNK_BUDGET / (2 * CN_SESSION_PACKED))
void cn_session_pack(const struct cn_session *s, uint8_t out[CN_SESSION_PACKED]);
int cn_session_unpack(struct cn_session *out, const uint8_t in[CN_SESSION_PACKED], char *err,
		      size_t errlen);
/* n sessions as one "packed" string (a new reference); NULL when out of memory. */
json_t *cn_sessions_pack_json(const struct cn_session *v, size_t n);
int cn_packed_count(const json_t *packed, size_t *n, char *err, size_t errlen);
int cn_packed_get(const json_t *packed, size_t i, struct cn_session *out, char *err,
		  size_t errlen);

#endif
