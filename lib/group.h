/* SPDX-License-Identifier: MIT */
/*
 * Group messages (issue 10; docs/protocol.md "The group application"): an SP tells each header
 * SP of its group that it joins, is alive (heartbeat, with its load and the status of each of
 * its services) or leaves. One message travels in the developer part of a cooperative datagram
 * with the `group` cooperative flag and the REQ control flag; the datagram's timestamp is the
 * sender's real-time clock. The last 64 bytes of the developer part are the sender's Ed25519
 * signature (libsodium crypto_sign_detached) over every byte of the datagram before them:
 * header, payload; the mac that follows is zero. A header knows each member's public key from
 * its policy, so one member cannot speak for another and an outsider for none.
 *
 * cn_group_decode / cn_group_encode: pure, strict (one error per reason, reserved bytes zero),
 * encode(decode(x)) == x. cn_group_seal / cn_group_verify: the signature (group_sign.c).
 */
#ifndef COOPNET_GROUP_H
#define COOPNET_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coop.h"

#define CN_GROUP_VERSION       1
#define CN_GROUP_HDR_LEN       40
#define CN_GROUP_SVC_LEN       33   /* service name (32, NUL padded) + status (1) */
#define CN_GROUP_MAX_SERVICES  24
#define CN_GROUP_SIG_LEN       64   /* Ed25519 */
#define CN_GROUP_PK_LEN        32   /* Ed25519 public key */
#define CN_GROUP_SEED_LEN      32   /* Ed25519 seed: the private key file holds it in hex */
#define CN_GROUP_SK_LEN        64   /* libsodium's secret key: seed + public key */
#define CN_GROUP_MIN_LEN       (CN_GROUP_HDR_LEN + CN_GROUP_SIG_LEN)
#define CN_GROUP_MAX_LEN \
	(CN_GROUP_HDR_LEN + CN_GROUP_MAX_SERVICES * CN_GROUP_SVC_LEN + CN_GROUP_SIG_LEN)
/* The whole datagram of the largest message: 216 + 896 = 1112 bytes (< 1232). */
#define CN_GROUP_DGRAM_MAX     (CN_COOP_MIN_LEN + CN_GROUP_MAX_LEN)

#define CN_GROUP_INTERVAL_MIN_MS 100u
#define CN_GROUP_INTERVAL_MAX_MS 60000u

enum cn_group_type {
	CN_GROUP_JOIN = 1,       /* sent at start (a new sequence counter) */
	CN_GROUP_HEARTBEAT = 2,  /* every interval: alive, load, services */
	CN_GROUP_LEAVE = 3,      /* sent at a clean stop: DOWN at once */
	CN_GROUP_TYPE_MAX = CN_GROUP_LEAVE,
};
const char *cn_group_type_name(unsigned type);

struct cn_group_svc {
	char name[CN_COOP_SERVICE_LEN];  /* NUL ended */
	uint8_t status;                  /* enum cn_vnic_status: unknown, up, down, busy */
};

struct cn_group_msg {
	uint8_t type;                    /* enum cn_group_type */
	uint32_t interval_ms;            /* the sender's heartbeat interval */
	uint64_t seq;                    /* per sender, strictly increasing, never 0 */
	char name[CN_COOP_NAME_LEN];     /* the member's name in the header's policy */
	uint32_t load;                   /* live sessions on the sender */
	uint8_t n_services;
	struct cn_group_svc svc[CN_GROUP_MAX_SERVICES];
};

enum cn_group_err {
	CN_GROUP_OK = 0,
	CN_GROUP_E_NOT_GROUP,    /* the datagram is not a group message (flag, kind) */
	CN_GROUP_E_SHORT,        /* developer part shorter than header + signature */
	CN_GROUP_E_LENGTH,       /* developer part length differs from what the count says */
	CN_GROUP_E_VERSION,
	CN_GROUP_E_TYPE,
	CN_GROUP_E_RESERVED,     /* a reserved byte is not zero */
	CN_GROUP_E_INTERVAL,     /* interval outside 100..60000 ms */
	CN_GROUP_E_SEQ,          /* seq 0 */
	CN_GROUP_E_NAME,         /* member name empty or not [A-Za-z0-9._-], or bad padding */
	CN_GROUP_E_SERVICES,     /* more than CN_GROUP_MAX_SERVICES, or services in a leave */
	CN_GROUP_E_SERVICE,      /* a service name that is not a service name */
	CN_GROUP_E_STATUS,       /* a service status out of range */
	CN_GROUP_E_DUPLICATE,    /* a service listed twice */
	CN_GROUP_E_NOSPACE,      /* encoder: buffer too small */
	CN_GROUP_E_TIMESTAMP,    /* encoder: timestamp 0 */
	CN_GROUP_E_MAX = CN_GROUP_E_TIMESTAMP,
};
const char *cn_group_err_name(enum cn_group_err err);

/* Decode the payload of a decoded datagram (m->dev, m->dev_len; the signature is not
 * checked here). */
enum cn_group_err cn_group_decode(struct cn_group_msg *out, const struct cn_coop_msg *m);
enum cn_group_err cn_group_validate(const struct cn_group_msg *g);
/* Build the datagram: header (timestamp wall_ms), payload, a zero signature; *len set. The
 * signature is cn_group_seal's. */
enum cn_group_err cn_group_encode(const struct cn_group_msg *g, uint64_t wall_ms,
    uint8_t *buf, size_t size, size_t *len);

/* group_sign.c. Sign an encoded datagram in place with the sender's secret key. 0 or -1. */
int cn_group_seal(uint8_t *buf, size_t len, const uint8_t sk[CN_GROUP_SK_LEN]);
/* true when the datagram's signature verifies with pk. The caller decoded it first. */
bool cn_group_verify(const uint8_t *buf, size_t len, const uint8_t pk[CN_GROUP_PK_LEN]);
/* A key pair from a 32-byte seed (the private key file's content). 0 or -1. */
int cn_group_keypair(uint8_t pk[CN_GROUP_PK_LEN], uint8_t sk[CN_GROUP_SK_LEN],
    const uint8_t seed[CN_GROUP_SEED_LEN]);
/* The replay digest of a signed datagram: BLAKE2b-256 of all its bytes. */
int cn_group_digest(uint8_t out[32], const uint8_t *buf, size_t len);

#endif
