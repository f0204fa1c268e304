/* SPDX-License-Identifier: MIT */
#include "id.h"

#include <stdio.h>
#include <string.h>

#include "hex.h"

static bool is_id_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

bool cn_id_is_printable(cn_id_t id)
{
	return is_id_char((unsigned char)(id >> 8)) && is_id_char((unsigned char)(id & 0xff));
}

static enum cn_id_parse_err parse_hex(cn_id_t *out, const char *digits)
{
	size_t n = strlen(digits);
	unsigned long value = 0;

	if (n == 0)
		return CN_ID_PARSE_SYNTAX;
	/* all digits first: "0x12345g" is not hex at all, so a syntax error, not a range one */
	for (size_t i = 0; i < n; i++)
		if (cn_hex_value(digits[i]) < 0)
			return CN_ID_PARSE_SYNTAX;
	if (n > 4)
		return CN_ID_PARSE_RANGE;
	for (size_t i = 0; i < n; i++)
		value = value << 4 | (unsigned long)cn_hex_value(digits[i]);
	if (value == 0)
		return CN_ID_PARSE_RESERVED;
	*out = (cn_id_t)value;
	return CN_ID_PARSE_OK;
}

enum cn_id_parse_err cn_id_parse(cn_id_t *out, const char *text)
{
	if (!text || !*text)
		return CN_ID_PARSE_EMPTY;
	/* Two characters always mean the paper's form, even "0x" (0x3078). */
	if (strlen(text) == 2) {
		unsigned char hi = (unsigned char)text[0], lo = (unsigned char)text[1];
		if (!is_id_char(hi) || !is_id_char(lo))
			return CN_ID_PARSE_SYNTAX;
		*out = (cn_id_t)(hi << 8 | lo);
		return CN_ID_PARSE_OK;
	}
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return parse_hex(out, text + 2);
	return CN_ID_PARSE_SYNTAX;
}

const char *cn_id_parse_strerror(enum cn_id_parse_err err)
{
	switch (err) {
	case CN_ID_PARSE_OK:
		return "ok";
	case CN_ID_PARSE_EMPTY:
		return "empty ID";
	case CN_ID_PARSE_SYNTAX:
		return "an ID is two printable characters (\"aA\") or hex (\"0x6141\")";
	case CN_ID_PARSE_RANGE:
		return "ID out of range: at most 0xffff";
	case CN_ID_PARSE_RESERVED:
		return "ID 0 is reserved for \"no ID\"";
	}
	return "unknown ID parse error";
}

const char *cn_id_format_hex(cn_id_t id, char *buf, size_t size)
{
	snprintf(buf, size, "0x%04x", (unsigned)id);
	return buf;
}

const char *cn_id_format(cn_id_t id, char *buf, size_t size)
{
	if (!cn_id_is_printable(id))
		return cn_id_format_hex(id, buf, size);
	snprintf(buf, size, "%c%c", (char)(id >> 8), (char)(id & 0xff));
	return buf;
}
