/* SPDX-License-Identifier: MIT */
/*
 * Messages between coopnet-authd's parent and its engine (docs/authd.md, "Privilege
 * separation"), one per SOCK_SEQPACKET message.
 *   parent -> engine: one JSON object, "msg" names the kind (imsg_send, imsg_dispatch): the
 *                     privileged side writes it, the unprivileged side parses it.
 *   engine -> parent: binary, fixed layout (imsg_send_bin, imsg_dispatch_bin): a header and
 *                     n items of the type's fixed size; the root process parses nothing an
 *                     unprivileged process wrote beyond these size-checked structures.
 */
#ifndef COOPNET_AUTHD_IMSG_H
#define COOPNET_AUTHD_IMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* --- engine -> parent: binary -------------------------------------------------------------- */

enum imsg_type {
	IMSG_SESSION_ADD = 1,  /* n = 1..IMSG_SESSIONS_MAX struct imsg_session */
	IMSG_SESSION_DEL,      /* the same, key fields only (id, vnic, expires zero) */
	IMSG_SYNC_BEGIN,       /* n = 0: a session-sync starts */
	IMSG_SYNC_PART,        /* n = 1..IMSG_SESSIONS_MAX struct imsg_session */
	IMSG_SYNC_END,         /* n = 0: replace the data plane's sessions with the parts */
	IMSG_RELOAD,           /* n = 0: coopnetctl reload arrived */
	IMSG_POLICY_APPLIED,   /* n = 1 struct imsg_applied */
	IMSG_PROBE_SEND,       /* n = 1 struct imsg_probe: send one path-probe SYN */
	IMSG_BARRIER,          /* n = 1 struct imsg_barrier: answer "dp-barrier" once every
	                        * earlier message is applied (authd/engine_gate.c) */
	IMSG_SESSION_ACCEPT,   /* n = 1..IMSG_SESSIONS_MAX struct imsg_session: a renewal ahead,
	                        * the data plane also accepts id (not written) for the session of
	                        * the key it holds (coopnet-nfq session-accept) */
	IMSG_SESSION_WITHDRAW, /* the same: that renewal ended without a commit, id goes again */
	IMSG_TYPE_MAX
};

struct imsg_hdr {
	uint32_t type;         /* enum imsg_type */
	uint32_t n;            /* number of items that follow */
};

/* One session as the data plane takes it (lib/ctl.h struct cn_session) plus the name of its
 * service, which the parent checks against its own copy of the policy. Every byte is
 * defined: unused address bytes, padding and the rest of a string are zero. */
struct imsg_session {
	uint8_t family;        /* AF_INET or AF_INET6 */
	uint8_t zero0;
	uint16_t port;         /* of the service, host order, 1..65535 */
	uint16_t id;           /* the session's ID, 0 only in a session-del */
	uint16_t zero1;
	uint8_t client[16];    /* IPv4: the first 4 bytes */
	uint8_t service[16];   /* the service address the data plane matches */
	char vnic[16];         /* the vNIC's name, NUL-terminated ("" in a session-del) */
	char service_name[32]; /* the policy's name of the service ("" in a session-del) */
	uint64_t expires;      /* Unix seconds, 0: none (0 in a session-del) */
};

struct imsg_barrier {
	uint64_t token;        /* echoed in {"msg": "dp-barrier", "token": N} */
};

#define IMSG_ERROR_LEN 512
struct imsg_applied {
	uint8_t ok;            /* 0 or 1 */
	uint8_t zero[3];
	int32_t revoked;       /* sessions the reload revoked, >= 0 */
	char error[IMSG_ERROR_LEN]; /* NUL-terminated, zero-padded; "" when ok */
};

/* The path probe's segment (docs/probe.md): a TCP SYN with URG clear and this urgent pointer,
 * from the address the kernel routes from to dst. The parent builds it from these fields. */
struct imsg_probe {
	uint8_t family;        /* AF_INET or AF_INET6 */
	uint8_t zero0;
	uint16_t dport;        /* host order, non-zero: the SP's cooperative port */
	uint16_t sport;        /* non-zero */
	uint16_t urgptr;
	uint32_t seq;          /* non-zero */
	uint8_t dst[16];       /* network order; IPv4: the first 4 bytes, the rest zero */
};

#define IMSG_SESSIONS_MAX 256        /* per message: 24 KiB */
#define IMSG_SYNC_MAX (1u << 18)     /* sessions in one session-sync */
#define IMSG_BIN_MAX (sizeof(struct imsg_hdr) + IMSG_SESSIONS_MAX * sizeof(struct imsg_session))

/* Send a header of type and n items of size bytes each. 0, or -1 (logged). */
int imsg_send_bin(int fd, uint32_t type, const void *items, uint32_t n, size_t size);

/* One binary type the receiver takes: n must lie in [min_n, max_n] and the message must be
 * exactly the header plus n * size bytes; only then fn runs. fn returns 0, or -1 when it
 * refuses the content (a field out of range, out of the policy, out of order). */
struct imsg_bin_handler {
	uint32_t type;
	const char *name;
	size_t size;
	uint32_t min_n, max_n;
	int (*fn)(void *ctx, const void *items, uint32_t n);
};

enum imsg_result { IMSG_NONE, IMSG_HANDLED, IMSG_REFUSED, IMSG_GONE };

/* Receive one binary message into buf (at least IMSG_BIN_MAX bytes) and run its handler.
 * IMSG_NONE: nothing to read; IMSG_HANDLED; IMSG_REFUSED: a message of an unknown type, of
 * the wrong size, or refused by its handler, with a sentence in err (the caller counts it);
 * IMSG_GONE: the peer closed or the receive failed, with a sentence in err. */
enum imsg_result imsg_dispatch_bin(int fd, const struct imsg_bin_handler *table, size_t n,
				   void *ctx, uint8_t *buf, size_t size, char *err,
				   size_t errlen);

/* The same for a message already received: len bytes in buf, which holds size (len > size:
 * the message was cut, refused). Pure (the fuzz target calls it). */
enum imsg_result imsg_handle_bin(const struct imsg_bin_handler *table, size_t n, void *ctx,
				 const uint8_t *buf, size_t len, size_t size, char *err,
				 size_t errlen);

#endif
