/* SPDX-License-Identifier: MIT */
/* lib/id.c: the two-character and hex forms of an overlay ID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "id.h"

static void parse_ok(const char *text, cn_id_t want)
{
	cn_id_t id = 0;
	enum cn_id_parse_err err = cn_id_parse(&id, text);

	if (err != CN_ID_PARSE_OK)
		fail_msg("\"%s\": %s", text, cn_id_parse_strerror(err));
	if (id != want)
		fail_msg("\"%s\": got 0x%04x, want 0x%04x", text, id, want);
}

static void parse_err(const char *text, enum cn_id_parse_err want)
{
	cn_id_t id = 0xbeef;
	enum cn_id_parse_err err = cn_id_parse(&id, text);

	if (err != want)
		fail_msg("\"%s\": got error %d (%s), want %d (%s)", text ? text : "(null)", err,
			 cn_id_parse_strerror(err), want, cn_id_parse_strerror(want));
	/* *out is written only on success */
	assert_int_equal(id, 0xbeef);
}

static void test_paper_form(void **state)
{
	(void)state;
	parse_ok("aA", 0x6141); /* first character is the high byte (network order) */
	parse_ok("Aa", 0x4161);
	parse_ok("!!", 0x2121); /* lowest printable */
	parse_ok("~~", 0x7e7e); /* highest printable */
	parse_ok("0x", 0x3078); /* two characters always mean the paper's form */
	parse_ok("0X", 0x3058);
	parse_ok("00", 0x3030); /* the characters '0', not the value 0 */
	parse_ok("12", 0x3132);
}

static void test_hex_form(void **state)
{
	(void)state;
	parse_ok("0x6141", 0x6141);
	parse_ok("0X6141", 0x6141);
	parse_ok("0xabcd", 0xabcd);
	parse_ok("0xABCD", 0xabcd);
	parse_ok("0xAbCd", 0xabcd);
	parse_ok("0x1", 0x0001);
	parse_ok("0x01", 0x0001);
	parse_ok("0x001", 0x0001);
	parse_ok("0x0001", 0x0001);
	parse_ok("0xfff", 0x0fff);
	parse_ok("0xffff", 0xffff);
}

static void test_errors(void **state)
{
	(void)state;
	parse_err(NULL, CN_ID_PARSE_EMPTY);
	parse_err("", CN_ID_PARSE_EMPTY);

	parse_err("a", CN_ID_PARSE_SYNTAX);      /* one character */
	parse_err("abc", CN_ID_PARSE_SYNTAX);    /* three characters, not hex */
	parse_err("a ", CN_ID_PARSE_SYNTAX);     /* space is not an ID character */
	parse_err(" a", CN_ID_PARSE_SYNTAX);
	parse_err("a\t", CN_ID_PARSE_SYNTAX);
	parse_err("a\x7f", CN_ID_PARSE_SYNTAX);  /* DEL */
	parse_err("\xc3\xa9", CN_ID_PARSE_SYNTAX); /* "é" in UTF-8: two bytes, not ASCII */
	parse_err("0x6g41", CN_ID_PARSE_SYNTAX);
	parse_err("0x 61", CN_ID_PARSE_SYNTAX);
	parse_err("0x-1", CN_ID_PARSE_SYNTAX);
	parse_err("0x+1", CN_ID_PARSE_SYNTAX);
	parse_err("0x61 ", CN_ID_PARSE_SYNTAX);  /* trailing space */
	parse_err(" 0x61", CN_ID_PARSE_SYNTAX);
	parse_err("6141", CN_ID_PARSE_SYNTAX);   /* hex needs 0x */
	parse_err("x6141", CN_ID_PARSE_SYNTAX);
	parse_err("0x0x1", CN_ID_PARSE_SYNTAX);
	parse_err("0x12345g", CN_ID_PARSE_SYNTAX); /* a bad digit is a syntax error first */

	parse_err("0x10000", CN_ID_PARSE_RANGE);
	parse_err("0x12345", CN_ID_PARSE_RANGE);
	parse_err("0xffffffffffffffffffff", CN_ID_PARSE_RANGE);
	parse_err("0x00001", CN_ID_PARSE_RANGE); /* at most four digits */

	parse_err("0x0", CN_ID_PARSE_RESERVED);
	parse_err("0x0000", CN_ID_PARSE_RESERVED);
	parse_err("0X000", CN_ID_PARSE_RESERVED);
}

static void test_strerror(void **state)
{
	const enum cn_id_parse_err all[] = { CN_ID_PARSE_OK, CN_ID_PARSE_EMPTY, CN_ID_PARSE_SYNTAX,
					     CN_ID_PARSE_RANGE, CN_ID_PARSE_RESERVED };

	(void)state;
	for (size_t a = 0; a < sizeof(all) / sizeof(all[0]); a++) {
		const char *t = cn_id_parse_strerror(all[a]);
		assert_non_null(t);
		assert_true(strlen(t) > 0);
		for (size_t b = 0; b < a; b++)
			assert_string_not_equal(t, cn_id_parse_strerror(all[b]));
	}
	assert_non_null(cn_id_parse_strerror((enum cn_id_parse_err)99));
}

static void test_format(void **state)
{
	char buf[CN_ID_STRLEN];

	(void)state;
	assert_string_equal(cn_id_format(0x6141, buf, sizeof(buf)), "aA");
	assert_string_equal(cn_id_format(0x3078, buf, sizeof(buf)), "0x");
	assert_string_equal(cn_id_format(0x2121, buf, sizeof(buf)), "!!");
	assert_string_equal(cn_id_format(0x7e7e, buf, sizeof(buf)), "~~");
	/* non-printable bytes: hex */
	assert_string_equal(cn_id_format(0x0001, buf, sizeof(buf)), "0x0001");
	assert_string_equal(cn_id_format(0x2041, buf, sizeof(buf)), "0x2041"); /* space */
	assert_string_equal(cn_id_format(0x4120, buf, sizeof(buf)), "0x4120");
	assert_string_equal(cn_id_format(0x617f, buf, sizeof(buf)), "0x617f"); /* DEL */
	assert_string_equal(cn_id_format(0x8041, buf, sizeof(buf)), "0x8041");
	assert_string_equal(cn_id_format(0xffff, buf, sizeof(buf)), "0xffff");
	assert_string_equal(cn_id_format(CN_ID_NONE, buf, sizeof(buf)), "0x0000");
	/* hex always, lower case, four digits */
	assert_string_equal(cn_id_format_hex(0x6141, buf, sizeof(buf)), "0x6141");
	assert_string_equal(cn_id_format_hex(0xABCD, buf, sizeof(buf)), "0xabcd");
	assert_string_equal(cn_id_format_hex(0x0001, buf, sizeof(buf)), "0x0001");
	assert_ptr_equal(cn_id_format(0x6141, buf, sizeof(buf)), buf);
	assert_ptr_equal(cn_id_format_hex(0x6141, buf, sizeof(buf)), buf);
}

static bool printable_byte(unsigned c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* Every 16-bit value: format, then parse back to the same ID (0 is reserved). */
static void test_round_trip_all(void **state)
{
	char buf[CN_ID_STRLEN], hex[CN_ID_STRLEN];
	unsigned printable = 0;

	(void)state;
	for (unsigned v = 0; v <= 0xffff; v++) {
		cn_id_t id = (cn_id_t)v, back = 0;
		bool pr = printable_byte(v >> 8) && printable_byte(v & 0xff);

		assert_int_equal(cn_id_is_printable(id), pr);
		cn_id_format(id, buf, sizeof(buf));
		cn_id_format_hex(id, hex, sizeof(hex));
		assert_int_equal(strlen(buf), pr ? 2 : 6);
		assert_int_equal(strlen(hex), 6);
		if (v == 0) {
			parse_err(buf, CN_ID_PARSE_RESERVED);
			parse_err(hex, CN_ID_PARSE_RESERVED);
			continue;
		}
		if (cn_id_parse(&back, buf) != CN_ID_PARSE_OK || back != id)
			fail_msg("0x%04x formats as \"%s\", which parses to 0x%04x", v, buf, back);
		back = 0;
		if (cn_id_parse(&back, hex) != CN_ID_PARSE_OK || back != id)
			fail_msg("0x%04x hex \"%s\" parses to 0x%04x", v, hex, back);
		printable += pr;
	}
	assert_int_equal(printable, 94 * 94);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paper_form),
		cmocka_unit_test(test_hex_form),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
