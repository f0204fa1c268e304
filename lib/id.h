/* SPDX-License-Identifier: MIT */
/*
 * The overlay ID: 16 bits carried in the TCP urgent pointer.
 *
 * The paper writes IDs as two characters ("aA"): the first character is the high byte on the
 * wire (network order), so "aA" is 0x6141. 0 means "no ID" and is never issued.
 */
#ifndef COOPNET_ID_H
#define COOPNET_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t cn_id_t;

#define CN_ID_NONE ((cn_id_t)0)

/* "0x6141" plus NUL, and "aA" plus NUL both fit. */
#define CN_ID_STRLEN 7

enum cn_id_parse_err {
	CN_ID_PARSE_OK = 0,
	CN_ID_PARSE_EMPTY,     /* "" or NULL */
	CN_ID_PARSE_SYNTAX,    /* neither two printable characters nor 0xHHHH */
	CN_ID_PARSE_RANGE,     /* hex value above 0xffff */
	CN_ID_PARSE_RESERVED,  /* 0: reserved for "no ID" */
};

/* Parse "aA" (exactly two printable, non-space ASCII characters) or "0x6141" (1 to 4 hex
 * digits after 0x or 0X). Writes *out only on success. */
enum cn_id_parse_err cn_id_parse(cn_id_t *out, const char *text);
const char *cn_id_parse_strerror(enum cn_id_parse_err err);

/* True when both bytes are printable, non-space ASCII (so the two-character form is exact). */
bool cn_id_is_printable(cn_id_t id);

/* "aA" when printable, else "0x6141". Returns buf. size must be >= CN_ID_STRLEN. */
const char *cn_id_format(cn_id_t id, char *buf, size_t size);
/* Always "0x6141" (four hex digits). Returns buf. size must be >= CN_ID_STRLEN. */
const char *cn_id_format_hex(cn_id_t id, char *buf, size_t size);

#endif
