/* SPDX-License-Identifier: MIT */
/*
 * The path probe (docs/probe.md): does the path from an SS to an SP keep the TCP urgent
 * pointer of a segment whose URG flag is clear, as the overlay needs?
 *
 * Two codecs, pure code (no I/O, no allocation, no crypto):
 *   - the probe payload, the developer part of a cooperative datagram with the `probe`
 *     cooperative flag (Probe-REQ SS -> SP, Probe-REP SP -> SS), 16 bytes, strict decoder,
 *     encode(decode(x)) == x;
 *   - the probe segment: the TCP SYN the SS sends (built here, checksum over the
 *     pseudo-header) and what the SP's raw socket receives (parsed here: an IPv4 packet
 *     from its header, an IPv6 packet from its TCP header, as the kernel hands them).
 */
#ifndef COOPNET_PROBE_H
#define COOPNET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coop.h"

#define CN_PROBE_VERSION 1
#define CN_PROBE_LEN     16
#define CN_PROBE_TCP_LEN 20   /* the probe segment: a bare TCP header, no options, no data */
#define CN_PROBE_RAW_MAX 120  /* the most of a received packet the SP looks at */

/* Payload byte 1. */
enum cn_probe_answer {
	CN_PROBE_ASK = 0,      /* Probe-REQ */
	CN_PROBE_SEEN = 1,     /* Probe-REP: the segment arrived, urgptr is what it carried */
	CN_PROBE_NOT_SEEN = 2, /* Probe-REP: it did not arrive within the SP's wait */
	CN_PROBE_ANSWER_MAX = CN_PROBE_NOT_SEEN,
};

/* Payload: which segment (ports and sequence number) and, in a Probe-REP, what was seen. */
struct cn_probe_body {
	uint8_t answer;   /* enum cn_probe_answer */
	uint16_t dport;   /* the segment's destination port, non-zero */
	uint16_t sport;   /* its source port, non-zero */
	uint16_t urgptr;  /* SEEN: the urgent pointer that arrived; otherwise 0 */
	uint32_t seq;     /* its sequence number, non-zero */
};

enum cn_probe_err {
	CN_PROBE_OK = 0,
	CN_PROBE_E_NOT_PROBE,  /* not a Probe-REQ or Probe-REP */
	CN_PROBE_E_LENGTH,     /* payload is not 16 bytes */
	CN_PROBE_E_VERSION,    /* unknown payload version */
	CN_PROBE_E_ANSWER,     /* answer out of range, or not the message kind's */
	CN_PROBE_E_PORT,       /* a port is 0 */
	CN_PROBE_E_SEQ,        /* sequence number 0 */
	CN_PROBE_E_URGPTR,     /* an urgent pointer where none may be (REQ, not seen) */
	CN_PROBE_E_RESERVED,   /* a reserved byte is not zero */
	CN_PROBE_E_NOSPACE,    /* encoder: buffer too small */
	CN_PROBE_E_MAX = CN_PROBE_E_NOSPACE,
};
const char *cn_probe_err_name(enum cn_probe_err err);  /* stable word, for counters */
const char *cn_probe_strerror(enum cn_probe_err err);

enum cn_probe_err cn_probe_body_decode(struct cn_probe_body *out, const uint8_t *buf,
    size_t len, struct cn_coop_diag *diag);
enum cn_probe_err cn_probe_body_encode(const struct cn_probe_body *b, uint8_t *buf,
    size_t size, size_t *outlen, struct cn_coop_diag *diag);
/* Header and payload rules together: the kind fixes the answer (REQ: ask; REP: seen or not
 * seen). Offsets in diag count from the datagram's start. */
enum cn_probe_err cn_probe_from_msg(const struct cn_coop_msg *m, struct cn_probe_body *out,
    struct cn_coop_diag *diag);
/* Put b into m's developer part (m's flags say REQ or REP). */
enum cn_probe_err cn_probe_to_msg(struct cn_coop_msg *m, const struct cn_probe_body *b,
    struct cn_coop_diag *diag);

/* What the SS concludes. */
enum cn_probe_outcome {
	CN_PROBE_NONE = 0,     /* never probed */
	CN_PROBE_PENDING,      /* running */
	CN_PROBE_PRESERVED,    /* the value arrived unchanged: the overlay can work */
	CN_PROBE_CLEARED,      /* it arrived as 0 */
	CN_PROBE_ALTERED,      /* it arrived as another value */
	CN_PROBE_LOST,         /* the SP answered, but the segment never arrived */
	CN_PROBE_NO_ANSWER,    /* no Probe-REP */
	CN_PROBE_OUTCOME_MAX = CN_PROBE_NO_ANSWER,
};
const char *cn_probe_outcome_name(enum cn_probe_outcome o);  /* "preserved", "no-answer", ... */
/* The advice the log gives for an outcome (a sentence). */
const char *cn_probe_advice(enum cn_probe_outcome o);
/* sent: the urgent pointer the SS wrote; rep: the decoded answer. */
enum cn_probe_outcome cn_probe_judge(uint16_t sent, const struct cn_probe_body *rep);

/* The probe segment: family AF_INET or AF_INET6, src and dst in network order (4 or 16
 * bytes), a TCP SYN with URG clear and the urgent pointer urgptr. Writes
 * CN_PROBE_TCP_LEN bytes into buf; -1 when size is too small or the family unknown. */
int cn_probe_seg_build(uint8_t *buf, size_t size, int family, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t seq, uint16_t urgptr);

/* A received probe segment. */
struct cn_probe_seen {
	uint16_t sport, dport, urgptr;
	uint32_t seq;
	uint8_t flags;   /* TCP flags byte */
	uint8_t src[16]; /* IPv4: from the header; IPv6: left as the caller filled it */
};
enum cn_probe_seg_err {
	CN_SEG_OK = 0,
	CN_SEG_E_SHORT,     /* shorter than the headers it announces */
	CN_SEG_E_IP,        /* IPv4: not version 4, header length < 20, not TCP */
	CN_SEG_E_FRAGMENT,  /* IPv4: a fragment */
	CN_SEG_E_TCP,       /* TCP data offset < 5 */
	CN_SEG_E_NOT_SYN,   /* not a SYN without ACK */
	CN_SEG_E_MAX = CN_SEG_E_NOT_SYN,
};
const char *cn_probe_seg_err_name(enum cn_probe_seg_err err);
/* family AF_INET: buf starts at the IPv4 header; AF_INET6: at the TCP header (a raw IPv6
 * socket strips the IPv6 header). */
enum cn_probe_seg_err cn_probe_seg_parse(struct cn_probe_seen *out, int family,
    const uint8_t *buf, size_t len);

#endif
