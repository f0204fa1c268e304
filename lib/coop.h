/* SPDX-License-Identifier: MIT */
/*
 * The cooperative datagram (paper section 2.2 and 2.3.3): one UDP payload that carries one
 * message of one cooperative application (Authentication, status, or an application a
 * developer defines). Byte-by-byte layout in docs/protocol.md.
 *
 * Pure code: no I/O, no allocation, no crypto. cn_coop_decode() is strict: every length is
 * checked, every reserved bit and every field a message kind does not use must be zero, and
 * each reason has its own error code. cn_coop_encode() refuses what the decoder would reject,
 * so encode(decode(x)) == x for every accepted x.
 *
 * The two authenticators (proof, mac) are plain fields here; lib/authcrypto.h computes and
 * checks them on the encoded bytes.
 */
#ifndef COOPNET_COOP_H
#define COOPNET_COOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "id.h"

#define CN_COOP_MAGIC      0x434e4350u /* "CNCP" */
#define CN_COOP_VERSION    1

/* Control flags (byte 5). */
#define CN_CTL_REQ         0x01u
#define CN_CTL_REP         0x02u
#define CN_CTL_RST         0x04u
#define CN_CTL_ERROR       0x08u
#define CN_CTL_RESERVED    0xf0u

/* Cooperative flags (bytes 6-7): which application. Exactly one bit is set. */
#define CN_COOP_AUTH       0x0001u
#define CN_COOP_STATUS     0x0002u
#define CN_COOP_GROUP      0x0004u /* membership of an SP group (lib/group.h) */
#define CN_COOP_PROBE      0x0008u /* the path probe (lib/probe.h, docs/probe.md) */
#define CN_COOP_RESERVED   0x00f0u /* future coopnet applications: must be zero */
#define CN_COOP_DEV_MASK   0xff00u /* eight applications a developer defines */
#define CN_COOP_DEV(n)     ((uint16_t)(0x0100u << (n))) /* n = 0..7 */

/* Sizes and offsets of the fixed part (see docs/protocol.md). */
#define CN_COOP_NONCE_LEN  16
#define CN_COOP_TAG_LEN    32 /* proof and mac */
#define CN_COOP_NAME_LEN   16 /* sender name, NUL padded, at most 15 characters */
#define CN_COOP_SERVICE_LEN 32 /* service name, NUL padded, at most 31 characters */
#define CN_COOP_OFF_SENDER 56
#define CN_COOP_OFF_SERVICE 96
#define CN_COOP_OFF_PROOF  128
#define CN_COOP_OFF_FWD    160
#define CN_COOP_OFF_DEVLEN 180
#define CN_COOP_OFF_DEV    184
#define CN_COOP_FIXED_LEN  184 /* everything before the developer part */
#define CN_COOP_MIN_LEN    (CN_COOP_FIXED_LEN + CN_COOP_TAG_LEN) /* 216 */
/* 1280 (IPv6 minimum MTU) - 40 (IPv6) - 8 (UDP): never fragmented. */
#define CN_COOP_MAX_LEN    1232
#define CN_COOP_DEV_MAX    (CN_COOP_MAX_LEN - CN_COOP_MIN_LEN) /* 1016 */

/* Address families on the wire (not AF_*: those differ between systems). */
#define CN_FAM_NONE        0
#define CN_FAM_INET        4
#define CN_FAM_INET6       6

/* vNIC status (byte 14). */
enum cn_vnic_status {
	CN_VNIC_UNKNOWN = 0,
	CN_VNIC_UP = 1,
	CN_VNIC_DOWN = 2,
	CN_VNIC_BUSY = 3,
	CN_VNIC_STATUS_MAX = CN_VNIC_BUSY,
};

/* Sender data kind (byte 15). */
enum cn_sender_kind {
	CN_SENDER_NONE = 0,
	CN_SENDER_CLIENT = 1, /* info_client: from an SS, the LAN client it acts for */
	CN_SENDER_VNIC = 2,   /* info_vNIC: from an SP, the vNIC that hosts a service */
};

/* Authentication error codes (the error field of an Auth-RST). */
enum cn_auth_error {
	CN_AUTHERR_NONE = 0,
	CN_AUTHERR_DENIED = 1,          /* wrong proof, or client not allowed: not told apart */
	CN_AUTHERR_UNKNOWN_SERVICE = 2, /* no SP of the group hosts the service */
	CN_AUTHERR_STALE = 3,           /* timestamp outside the window */
	CN_AUTHERR_RATE_LIMITED = 4,    /* too many wrong proofs from this source */
	CN_AUTHERR_NO_ID = 5,           /* no free ID */
	CN_AUTHERR_TIMEOUT = 6,         /* the SP gave up waiting for Auth-REP */
	CN_AUTHERR_BAD_EXCHANGE = 7,    /* Auth-REP for no pending exchange */
	CN_AUTHERR_INTERNAL = 8,        /* the SP could not complete (database, ...) */
	CN_AUTHERR_REVOKED = 9,         /* revocation of the session ID names (SP <-> SS):
	                                   ID, service, proof with K_s; answered by Auth-REP&RST */
	CN_AUTHERR_NO_SP_UP = 10,       /* every SP of the group hosting the service is down */
	CN_AUTHERR_RELEASED = 11,       /* SS -> SP: the exchange was answered by another SP of
	                                   the group first; both nonces, proof with K_c */
	CN_AUTHERR_MAX = CN_AUTHERR_RELEASED,
};
const char *cn_auth_error_name(uint16_t code);

/* An address on the wire: family CN_FAM_*, port in host order, addr in network order
 * (4 bytes used for CN_FAM_INET, the other 12 zero). */
struct cn_coop_addr {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
};

struct cn_coop_sender {
	uint8_t kind; /* enum cn_sender_kind */
	struct cn_coop_addr addr; /* info_client: client address; info_vNIC: vNIC address + port */
	char name[CN_COOP_NAME_LEN]; /* info_client: client name; info_vNIC: vNIC name; NUL ended */
	uint32_t lifetime_s; /* info_vNIC: seconds the session the SP grants lives, 0 = no limit;
	                        0 for the other kinds (the bytes are reserved there) */
};

/* One decoded message. All fields in host order. Fields a kind does not use are zero. */
struct cn_coop_msg {
	uint8_t ctl;          /* CN_CTL_* */
	uint16_t coop;        /* CN_COOP_* */
	cn_id_t id;
	uint16_t error;       /* enum cn_auth_error in Auth-RST */
	uint8_t vnic_status;  /* enum cn_vnic_status */
	uint64_t timestamp_ms; /* sender's CLOCK_REALTIME, milliseconds since the Unix epoch */
	uint8_t nonce_ss[CN_COOP_NONCE_LEN]; /* chosen by the SS */
	uint8_t nonce_sp[CN_COOP_NONCE_LEN]; /* chosen by the SP */
	struct cn_coop_sender sender;
	char service[CN_COOP_SERVICE_LEN]; /* auth_data.service, NUL ended */
	uint8_t proof[CN_COOP_TAG_LEN];    /* auth_data.proof: end-to-end MAC (authcrypto.h) */
	struct cn_coop_addr fwd;  /* set by a header SP: the original sender of a forwarded REQ */
	uint16_t dev_len;         /* developer-defined part */
	uint8_t dev[CN_COOP_DEV_MAX];
	uint8_t mac[CN_COOP_TAG_LEN]; /* hop MAC with the SP group key (authcrypto.h) */
};

/* The message kinds coopnet knows. */
enum cn_coop_kind {
	CN_KIND_INVALID = 0,
	CN_KIND_AUTH_REQ,     /* auth, req: service + proof, info_client */
	CN_KIND_AUTH_REPREQ,  /* auth, req, rep: ID, both nonces, proof */
	CN_KIND_AUTH_REP,     /* auth, rep: success, ID, both nonces, proof */
	CN_KIND_AUTH_RST,     /* auth, rst, error: error code (revoked: ID, service, proof) */
	CN_KIND_AUTH_REPRST,  /* auth, rep, rst: acknowledges an Auth-RST revoked */
	CN_KIND_STATUS_REQ,   /* status, req: ask a peer for its status */
	CN_KIND_STATUS_REP,   /* status, rep: info_vNIC (from an SP) or info_client (from an SS) */
	CN_KIND_STATUS_RST,   /* status, rst, error */
	CN_KIND_GROUP,        /* group, req: join, heartbeat or leave of an SP (lib/group.h) */
	CN_KIND_PROBE_REQ,    /* probe, req: the SS asks the SP what it saw of a probe segment */
	CN_KIND_PROBE_REP,    /* probe, rep: the SP's answer (lib/probe.h) */
	CN_KIND_DEV,          /* an application a developer defines (CN_COOP_DEV_MASK) */
};
enum cn_coop_kind cn_coop_kind(const struct cn_coop_msg *m);
const char *cn_coop_kind_name(enum cn_coop_kind kind);

/* Decoder and encoder results: one code per reason. */
enum cn_coop_err {
	CN_COOP_OK = 0,
	CN_COOP_E_SHORT,         /* fewer bytes than the fixed part and the MAC */
	CN_COOP_E_LONG,          /* more than CN_COOP_MAX_LEN bytes */
	CN_COOP_E_MAGIC,         /* not "CNCP" */
	CN_COOP_E_VERSION,       /* unknown version */
	CN_COOP_E_LENGTH,        /* length field differs from the datagram size */
	CN_COOP_E_DEV_LEN,       /* developer part length does not match length */
	CN_COOP_E_CTL_RESERVED,  /* a reserved control flag is set */
	CN_COOP_E_COOP_RESERVED, /* a reserved cooperative flag is set */
	CN_COOP_E_NO_APP,        /* no cooperative flag set */
	CN_COOP_E_MULTI_APP,     /* more than one cooperative flag set */
	CN_COOP_E_NO_CTL,        /* no control flag set */
	CN_COOP_E_AUTH_FLAGS,    /* auth with a control-flag combination it does not define */
	CN_COOP_E_STATUS_FLAGS,  /* status with a control-flag combination it does not define */
	CN_COOP_E_VNIC_STATUS,   /* vNIC status value out of range */
	CN_COOP_E_SENDER_KIND,   /* sender kind out of range, or the wrong one for the message */
	CN_COOP_E_FAMILY,        /* address family not 0, 4 or 6 */
	CN_COOP_E_ADDR_PAD,      /* IPv4 address with non-zero padding, or family 0 with data */
	CN_COOP_E_NAME,          /* name not NUL padded, not printable, or with bytes after NUL */
	CN_COOP_E_SERVICE,       /* service name empty or not [A-Za-z0-9._-], or bad padding */
	CN_COOP_E_RESERVED,      /* a reserved byte is not zero */
	CN_COOP_E_ERROR_CODE,    /* error flag without an error code, or code out of range */
	CN_COOP_E_MISSING,       /* a field the message kind needs is zero (diag names it) */
	CN_COOP_E_UNUSED,        /* a field the message kind does not use is not zero (diag) */
	CN_COOP_E_NOSPACE,       /* encoder: the caller's buffer is too small */
	CN_COOP_E_GROUP_FLAGS,   /* group with control flags other than REQ */
	CN_COOP_E_PROBE_FLAGS,   /* probe with a control-flag combination it does not define */
	CN_COOP_E_MAX = CN_COOP_E_PROBE_FLAGS,
};
/* "short", "magic", ... (stable, for counters and logs) */
const char *cn_coop_err_name(enum cn_coop_err err);
/* A sentence for humans. */
const char *cn_coop_strerror(enum cn_coop_err err);

/* Where a decode or encode failed: the field name and its byte offset. */
struct cn_coop_diag {
	const char *field;
	size_t offset;
};

/* Decode len bytes. On error *out is unspecified and diag (may be NULL) names the field. */
enum cn_coop_err cn_coop_decode(struct cn_coop_msg *out, const uint8_t *buf, size_t len,
    struct cn_coop_diag *diag);

/* Check a message against the same rules as the decoder. */
enum cn_coop_err cn_coop_validate(const struct cn_coop_msg *m, struct cn_coop_diag *diag);

/* Encode into buf[size]; *outlen gets the datagram length. Nothing is written past size.
 * Validates first: a message the decoder would reject is never produced. */
enum cn_coop_err cn_coop_encode(const struct cn_coop_msg *m, uint8_t *buf, size_t size,
    size_t *outlen, struct cn_coop_diag *diag);

/* Zero a message and set the application and control flags. */
void cn_coop_init(struct cn_coop_msg *m, uint16_t coop, uint8_t ctl);

/* A NUL-padded field of size bytes: at most size - 1 bytes of [A-Za-z0-9._-] (service) or
 * printable ASCII, then only NUL bytes (empty allowed). */
bool cn_coop_padded_ok(const char *s, size_t size, bool service);
/* Service names: 1..31 characters of [A-Za-z0-9._-]. */
bool cn_coop_service_valid(const char *service);
/* Copy a name into a NUL-padded field; false when it does not fit (15 / 31 characters). */
bool cn_coop_set_name(struct cn_coop_sender *s, const char *name);
bool cn_coop_set_service(struct cn_coop_msg *m, const char *service);

/* Conversions between the wire address and struct sockaddr (AF_INET / AF_INET6). */
int cn_coop_addr_from_sockaddr(struct cn_coop_addr *out, const struct sockaddr *sa,
    socklen_t salen);
socklen_t cn_coop_addr_to_sockaddr(const struct cn_coop_addr *a, struct sockaddr_storage *ss);
/* Parse "198.18.0.1" or "2001:db8::1" (port left 0). 0 or -1. */
int cn_coop_addr_parse(struct cn_coop_addr *out, const char *text);
/* "198.18.0.1:4500", "[2001:db8::1]:4500" (no port when 0). Returns buf. */
#define CN_COOP_ADDRSTRLEN 56
const char *cn_coop_addr_format(const struct cn_coop_addr *a, char *buf, size_t size);
/* The reverse with a port: "198.18.0.1:4500" or "[2001:db8::1]:4500" (sessions.peer, the
 * "sp" of a probe request), port 1..65535 in digits only; an IPv6 address only in brackets,
 * an IPv4 one never. 0, or -1 with *out zeroed. */
int cn_coop_addr_parse_port(struct cn_coop_addr *out, const char *text);
/* Same family and address; port compared only when with_port. */
bool cn_coop_addr_equal(const struct cn_coop_addr *a, const struct cn_coop_addr *b,
    bool with_port);

#endif
