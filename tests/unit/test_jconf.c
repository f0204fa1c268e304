/* SPDX-License-Identifier: MIT */
/*
 * lib/jconf: parsing, positions, every schema keyword (pass and fail, each message with its
 * exact line:column), file errors, and forced allocation/jansson failures (linked with
 * -Wl,--wrap=json_loadb,--wrap=malloc,--wrap=calloc,--wrap=realloc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jconf.h"

JCONF_SCHEMA_DECLARE(test);

/* ---- failure injection ---- */

static int fail_at;  /* fail the fail_at-th allocation (0: never) */
static int alloc_calls;
static int fail_loadb;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
json_t *__real_json_loadb(const char *b, size_t len, size_t flags, json_error_t *e);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
json_t *__wrap_json_loadb(const char *b, size_t len, size_t flags, json_error_t *e);

static int inject(void)
{
	return fail_at != 0 && ++alloc_calls == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return inject() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return inject() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return inject() ? NULL : __real_realloc(p, n);
}

json_t *__wrap_json_loadb(const char *b, size_t len, size_t flags, json_error_t *e)
{
	if (fail_loadb) {
		/* what jansson reports when its own allocation fails */
		memset(e, 0, sizeof(*e));
		e->line = -1;
		e->column = -1;
		snprintf(e->text, sizeof(e->text), "out of memory");
		return NULL;
	}
	return __real_json_loadb(b, len, flags, e);
}

/* ---- helpers ---- */

static struct jconf_schema *schema;

static int setup(void **state)
{
	struct jconf_error err;

	(void)state;
	schema = jconf_schema_parse("test.schema.json", coopnet_schema_test,
				    coopnet_schema_test_len, &err);
	if (schema == NULL) {
		char buf[1024];

		fprintf(stderr, "%s\n", jconf_error_str(&err, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	jconf_schema_free(schema);
	return 0;
}

/* Load text as "x.json" and expect exactly the error line want ("x.json:L:C: msg"). */
static void expect_error(const struct jconf_schema *s, const char *text, const char *want)
{
	struct jconf_error err;
	struct jconf_doc *doc;
	char buf[1024];

	memset(&err, 0, sizeof(err));
	doc = jconf_load_buffer("x.json", text, strlen(text), s, &err);
	if (doc != NULL)
		fail_msg("accepted: %s", text);
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)), want);
}

static void expect_ok(const struct jconf_schema *s, const char *text)
{
	struct jconf_error err;
	struct jconf_doc *doc;
	char buf[1024];

	doc = jconf_load_buffer("x.json", text, strlen(text), s, &err);
	if (doc == NULL)
		fail_msg("refused: %s: %s", text, jconf_error_str(&err, buf, sizeof(buf)));
	jconf_free(doc);
}

#define BASE "{\"role\": \"provider\", \"queues\": 1"
/* one member added to a valid document, on line 2 at column 3 */
#define WITH(member) BASE ",\n  " member "}"

/* ---- parsing and positions ---- */

static void test_positions(void **state)
{
	const char *text = "{\n  \"a\": [1, \"x\", {\"b\": 2.5}],\n\t\"\\u00e9t\\u00e9\": \"h\\u00e9\","
			   "\n  \"c\": true, \"d\": null\n}";
	struct jconf_error err;
	struct jconf_doc *doc;
	json_t *a, *b;
	int line, col;

	(void)state;
	doc = jconf_load_buffer("p.json", text, strlen(text), NULL, &err);
	assert_non_null(doc);
	assert_string_equal(jconf_name(doc), "p.json");
	assert_int_equal(jconf_position(doc, jconf_root(doc), &line, &col), 0);
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
	a = json_object_get(jconf_root(doc), "a");
	assert_int_equal(jconf_position(doc, a, &line, &col), 0);
	assert_int_equal(line, 2);
	assert_int_equal(col, 8);
	assert_int_equal(jconf_position(doc, json_array_get(a, 1), &line, &col), 0);
	assert_int_equal(col, 12);
	b = json_object_get(json_array_get(a, 2), "b");
	assert_int_equal(jconf_position(doc, b, &line, &col), 0);
	assert_int_equal(line, 2);
	assert_int_equal(col, 23);
	/* escaped key found by its decoded name; column counts the tab as one character */
	assert_int_equal(jconf_position(doc, json_object_get(jconf_root(doc), "\xc3\xa9t\xc3\xa9"),
					&line, &col), 0);
	assert_int_equal(line, 3);
	assert_int_equal(col, 19);
	/* true/false/null are jansson singletons: by member only */
	assert_int_equal(jconf_position(doc, json_object_get(jconf_root(doc), "c"), &line, &col), -1);
	assert_int_equal(jconf_member_position(doc, jconf_root(doc), "c", &line, &col), 0);
	assert_int_equal(line, 4);
	assert_int_equal(col, 8);
	assert_int_equal(jconf_member_position(doc, jconf_root(doc), "d", &line, &col), 0);
	assert_int_equal(col, 19);
	assert_int_equal(jconf_item_position(doc, a, 2, &line, &col), 0);
	assert_int_equal(col, 17);
	assert_int_equal(jconf_item_position(doc, a, 3, &line, &col), -1);
	assert_int_equal(jconf_member_position(doc, jconf_root(doc), "zz", &line, &col), -1);
	/* a value of another tree has no position here */
	{
		json_t *other = json_integer(1);

		assert_int_equal(jconf_position(doc, other, &line, &col), -1);
		json_decref(other);
	}
	jconf_free(doc);
}

static void test_position_utf8_columns(void **state)
{
	/* columns count characters: "é" is 2 bytes but one column, as in jansson */
	const char *text = "{\"\xc3\xa9\xc3\xa9\": \"\xe2\x82\xac\", \"k\": 7}";
	struct jconf_error err;
	struct jconf_doc *doc;
	int line, col;

	(void)state;
	doc = jconf_load_buffer("u.json", text, strlen(text), NULL, &err);
	assert_non_null(doc);
	assert_int_equal(jconf_member_position(doc, jconf_root(doc), "k", &line, &col), 0);
	assert_int_equal(col, 18);
	jconf_free(doc);
	/* and a syntax error after such characters is where jansson says it is */
	expect_error(NULL, "{\"\xc3\xa9\": x}", "x.json:1:7: invalid token near 'x'");
}

static void test_path(void **state)
{
	const char *text = "{\"peers\": [{\"addr\": \"a\"}, {\"addr\": \"b\"}], \"q\": 1}";
	struct jconf_error err;
	struct jconf_doc *doc;
	json_t *addr;
	char buf[64];

	(void)state;
	doc = jconf_load_buffer("p.json", text, strlen(text), NULL, &err);
	assert_non_null(doc);
	addr = json_object_get(json_array_get(json_object_get(jconf_root(doc), "peers"), 1), "addr");
	assert_string_equal(jconf_path(doc, addr, buf, sizeof(buf)), "peers[1].addr");
	assert_string_equal(jconf_path(doc, json_object_get(jconf_root(doc), "q"), buf,
				       sizeof(buf)), "q");
	assert_string_equal(jconf_path(doc, jconf_root(doc), buf, sizeof(buf)), "");
	jconf_free(doc);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error(schema, "{\"role\": \"provider\",\n  \"queues\": tru}",
		     "x.json:2:15: invalid token near 'tru'");
	expect_error(schema, "[1, 2,", "x.json:1:6: ']' expected near end of file");
	expect_error(schema, "", "x.json:1:1: unexpected token near end of file");
	expect_error(schema, "{} x", "x.json:1:4: end of file expected near 'x'");
	expect_error(schema, "[1e999]", "x.json:1:6: real number overflow near '1e999'");
	expect_error(schema, "[99999999999999999999]",
		     "x.json:1:21: too big integer near '99999999999999999999'");
	expect_error(schema, "[\"\\u0000\"]",
		     "x.json:1:9: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
	expect_error(schema, "[\"\xff\"]", "x.json:1:2: unable to decode byte 0xff near '\"'");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_error(schema, "{\"role\": \"provider\",\n  \"queues\": 1,\n    \"role\": \"provider\"}",
		     "x.json:3:10: duplicate object key near '\"role\"'");
	/* nested objects too */
	expect_error(NULL, "{\"a\": {\"b\": 1, \"b\": 2}}",
		     "x.json:1:18: duplicate object key near '\"b\"'");
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);

	assert_non_null(s);
	memset(s, '[', (size_t)depth);
	memset(s + depth, ']', (size_t)depth);
	s[depth * 2] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	char *s;

	(void)state;
	s = nested(JCONF_MAX_DEPTH);
	expect_ok(NULL, s);
	free(s);
	s = nested(JCONF_MAX_DEPTH + 1);
	expect_error(NULL, s, "x.json:1:65: arrays and objects nested deeper than 64 levels "
		     "(flatten the configuration)");
	free(s);
	/* deeper than jansson's own limit is still a clean error */
	s = nested(5000);
	expect_error(NULL, s, "x.json:1:2049: maximum parsing depth reached near '['");
	free(s);
}

/* ---- schema keywords ---- */

static void test_valid_document(void **state)
{
	(void)state;
	expect_ok(schema, "{\"role\": \"supervisor\", \"queues\": 65535, \"version\": 1,\n"
		  " \"ratio\": 0.5, \"name\": \"sp-1\", \"debug\": true, \"comment\": null,\n"
		  " \"ids\": [1, 2, 3, 4], \"addr4\": \"198.18.0.1\", \"addr6\": \"2001:db8::1\",\n"
		  " \"addr\": \"2001:db8::2\", \"net4\": \"198.18.0.0/15\", \"net6\": \"2001:db8::/32\",\n"
		  " \"net\": \"198.18.0.0/16\", \"host\": \"sp1.example.test\",\n"
		  " \"peers\": [{\"addr\": \"198.18.0.2\", \"weight\": 2}], \"port\": 8080,\n"
		  " \"tags\": {\"a\": \"b\"}}");
	expect_ok(schema, BASE ", \"peers\": {\"one\": {\"addr\": \"198.18.0.3\"}}, \"port\": \"http\","
		  " \"comment\": \"text\"}");
	expect_ok(schema, BASE "}");
}

static void test_required(void **state)
{
	(void)state;
	expect_error(schema, "{\"queues\": 1}", "x.json:1:1: missing required key \"role\"");
	expect_error(schema, "\n  {\"role\": \"provider\"}", "x.json:2:3: missing required key \"queues\"");
	expect_error(schema, WITH("\"peers\": [{\"weight\": 1}]"),
		     "x.json:2:13: \"peers[0]\": missing required key \"addr\"");
}

static void test_additional_properties(void **state)
{
	(void)state;
	expect_error(schema, "{\"role\": \"provider\", \"queues\": 1,\n  \"rolee\": 1}",
		     "x.json:2:3: unknown key \"rolee\" (allowed: role, version, queues, ratio, "
		     "name, debug, comment, ids, addr4, addr6, addr, net4, net6, net, host, peers, "
		     "port, tags)");
	expect_error(schema, WITH("\"peers\": [{\"addr\": \"198.18.0.1\", \"wieght\": 1}]"),
		     "x.json:2:36: \"peers[0]\": unknown key \"wieght\" (allowed: addr, weight)");
	/* additionalProperties as a schema */
	expect_ok(schema, WITH("\"tags\": {\"x\": \"y\", \"z\": \"w\"}"));
	expect_error(schema, WITH("\"tags\": {\"x\": \"y\", \"z\": 5}"),
		     "x.json:2:27: \"tags.z\": 5 is an integer, expected a string");
}

static void test_type(void **state)
{
	(void)state;
	expect_error(schema, "[]", "x.json:1:1: [...] is an array, expected an object");
	expect_error(schema, "{\"role\": \"provider\",\n  \"queues\": \"7\"}",
		     "x.json:2:13: \"queues\": \"7\" is a string, expected an integer");
	/* integer means what jansson parses as one: 1.0 is refused */
	expect_error(schema, "{\"role\": \"provider\",\n \"queues\": 1.0}",
		     "x.json:2:12: \"queues\": 1 is a number, expected an integer");
	/* number takes integers */
	expect_ok(schema, WITH("\"ratio\": 0.25"));
	expect_error(schema, WITH("\"ratio\": \"0.5\""),
		     "x.json:2:12: \"ratio\": \"0.5\" is a string, expected a number");
	/* a list of types */
	expect_ok(schema, WITH("\"comment\": null"));
	expect_error(schema, WITH("\"comment\": 3"),
		     "x.json:2:14: \"comment\": 3 is an integer, expected null or a string");
	expect_error(schema, WITH("\"debug\": \"yes\""),
		     "x.json:2:12: \"debug\": \"yes\" is a string, expected a boolean");
	expect_error(schema, WITH("\"ids\": {}"),
		     "x.json:2:10: \"ids\": {...} is an object, expected an array");
}

static void test_enum_const(void **state)
{
	(void)state;
	expect_error(schema, "{\"role\": \"sp\", \"queues\": 1}",
		     "x.json:1:10: \"role\": \"sp\" is not one of \"supervisor\", \"provider\"");
	expect_error(schema, "{\"role\": 1, \"queues\": 1}",
		     "x.json:1:10: \"role\": 1 is not one of \"supervisor\", \"provider\"");
	expect_ok(schema, WITH("\"version\": 1"));
	expect_error(schema, WITH("\"version\": 2"), "x.json:2:14: \"version\": 2 must be 1");
}

static void test_numbers(void **state)
{
	(void)state;
	expect_ok(schema, "{\"role\": \"provider\", \"queues\": 0}");
	expect_error(schema, "{\"role\": \"provider\",\n\n\n\n\n\n\n\n\n\n\n    \"queues\": 70000}",
		     "x.json:12:15: \"queues\": 70000 is above the maximum 65535");
	expect_error(schema, "{\"role\": \"provider\", \"queues\": -1}",
		     "x.json:1:32: \"queues\": -1 is below the minimum 0");
	expect_error(schema, WITH("\"ratio\": 0"), "x.json:2:12: \"ratio\": 0 must be above 0");
	expect_error(schema, WITH("\"ratio\": 1.0"), "x.json:2:12: \"ratio\": 1 must be below 1");
	expect_error(schema, WITH("\"ratio\": -0.5"),
		     "x.json:2:12: \"ratio\": -0.5 must be above 0");
}

static void test_strings(void **state)
{
	(void)state;
	expect_ok(schema, WITH("\"name\": \"abcdefgh\""));
	expect_error(schema, WITH("\"name\": \"\""),
		     "x.json:2:11: \"name\": \"\" is 0 characters long, the minimum is 1");
	expect_error(schema, WITH("\"name\": \"abcdefghi\""),
		     "x.json:2:11: \"name\": \"abcdefghi\" is 9 characters long, the maximum is 8");
	expect_error(schema, WITH("\"name\": \"Ab\""),
		     "x.json:2:11: \"name\": \"Ab\" does not match the pattern \"^[a-z][a-z0-9-]*$\"");
	/* lengths count characters: 8 two-byte characters are 8 characters (the pattern fails) */
	expect_error(schema, WITH("\"name\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\""),
		     "x.json:2:11: \"name\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" "
		     "does not match the pattern \"^[a-z][a-z0-9-]*$\"");
	/* long values are cut in messages, control characters escaped */
	expect_error(schema, WITH("\"addr4\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
		     "x.json:2:12: \"addr4\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not "
		     "an IPv4 address (write it like 198.18.0.1)");
	expect_error(schema, WITH("\"addr4\": \"a\\n\\\"\""),
		     "x.json:2:12: \"addr4\": \"a\\x0a\\x22\" is not an IPv4 address (write it like "
		     "198.18.0.1)");
}

static void test_formats(void **state)
{
	(void)state;
	expect_ok(schema, WITH("\"addr4\": \"0.0.0.0\""));
	expect_error(schema, WITH("\"addr4\": \"198.18.0\""),
		     "x.json:2:12: \"addr4\": \"198.18.0\" is not an IPv4 address (write it like "
		     "198.18.0.1)");
	expect_error(schema, WITH("\"addr4\": \"2001:db8::1\""),
		     "x.json:2:12: \"addr4\": \"2001:db8::1\" is not an IPv4 address (write it like "
		     "198.18.0.1)");
	expect_ok(schema, WITH("\"addr6\": \"::ffff:198.18.0.1\""));
	expect_error(schema, WITH("\"addr6\": \"198.18.0.1\""),
		     "x.json:2:12: \"addr6\": \"198.18.0.1\" is not an IPv6 address (write it like "
		     "2001:db8::1)");
	expect_ok(schema, WITH("\"addr\": \"198.18.0.1\""));
	expect_error(schema, WITH("\"addr\": \"host\""),
		     "x.json:2:11: \"addr\": \"host\" is not an IPv4 or IPv6 address (write it like "
		     "198.18.0.1 or 2001:db8::1)");
	expect_ok(schema, WITH("\"net4\": \"0.0.0.0/0\""));
	expect_ok(schema, WITH("\"net4\": \"198.18.0.1/32\""));
	expect_error(schema, WITH("\"net4\": \"198.18.0.0/33\""),
		     "x.json:2:11: \"net4\": \"198.18.0.0/33\" is not an IPv4 prefix (write it like "
		     "198.18.0.0/15, length 0 to 32)");
	expect_error(schema, WITH("\"net4\": \"198.18.0.0/015\""),
		     "x.json:2:11: \"net4\": \"198.18.0.0/015\" is not an IPv4 prefix (write it like "
		     "198.18.0.0/15, length 0 to 32)");
	expect_error(schema, WITH("\"net4\": \"198.18.0.0\""),
		     "x.json:2:11: \"net4\": \"198.18.0.0\" is not an IPv4 prefix (write it like "
		     "198.18.0.0/15, length 0 to 32)");
	expect_ok(schema, WITH("\"net6\": \"2001:db8::/128\""));
	expect_error(schema, WITH("\"net6\": \"2001:db8::/129\""),
		     "x.json:2:11: \"net6\": \"2001:db8::/129\" is not an IPv6 prefix (write it like "
		     "2001:db8::/32, length 0 to 128)");
	expect_ok(schema, WITH("\"net\": \"2001:db8::/32\""));
	expect_error(schema, WITH("\"net\": \"2001:db8::/x\""),
		     "x.json:2:10: \"net\": \"2001:db8::/x\" is not an IPv4 or IPv6 prefix (write it "
		     "like 198.18.0.0/15 or 2001:db8::/32)");
	expect_ok(schema, WITH("\"host\": \"a-1.b\""));
	expect_error(schema, WITH("\"host\": \"-a.b\""),
		     "x.json:2:11: \"host\": \"-a.b\" is not a host name (letters, digits and '-' in "
		     "dot-separated labels of 1 to 63 characters)");
	expect_error(schema, WITH("\"host\": \"a..b\""),
		     "x.json:2:11: \"host\": \"a..b\" is not a host name (letters, digits and '-' in "
		     "dot-separated labels of 1 to 63 characters)");
	expect_error(schema, WITH("\"host\": \"a_b\""),
		     "x.json:2:11: \"host\": \"a_b\" is not a host name (letters, digits and '-' in "
		     "dot-separated labels of 1 to 63 characters)");
}

static void test_arrays(void **state)
{
	(void)state;
	expect_error(schema, WITH("\"ids\": []"),
		     "x.json:2:10: \"ids\": [...] has 0 items, the minimum is 1");
	expect_error(schema, WITH("\"ids\": [1, 2, 3, 4, 5]"),
		     "x.json:2:10: \"ids\": [...] has 5 items, the maximum is 4");
	expect_error(schema, WITH("\"ids\": [1, \"2\"]"),
		     "x.json:2:14: \"ids[1]\": \"2\" is a string, expected an integer");
	expect_error(schema, WITH("\"ids\": [7, 8, 7]"),
		     "x.json:2:17: \"ids[2]\": 7 repeats item 0 (items must be unique)");
	expect_ok(schema, WITH("\"ids\": [7, 8, 9]"));
}

static void test_unique_objects(void **state)
{
	struct jconf_schema *s;
	struct jconf_error err;
	const char *txt = "{\"type\": \"array\", \"uniqueItems\": true}";

	(void)state;
	s = jconf_schema_parse("u", txt, strlen(txt), &err);
	assert_non_null(s);
	/* member order does not matter; 1 and 1.0 are different values in jansson */
	expect_error(s, "[{\"a\": 1, \"b\": [2]}, {\"b\": [2], \"a\": 1}]",
		     "x.json:1:22: \"[1]\": {...} repeats item 0 (items must be unique)");
	expect_ok(s, "[1, 1.0, \"1\", [1], {\"1\": 1}, null, false, true]");
	expect_error(s, "[null, true, null]", "x.json:1:14: \"[2]\": null repeats item 0 (items "
		     "must be unique)");
	jconf_schema_free(s);
}

static void test_one_of_any_of(void **state)
{
	(void)state;
	/* oneOf: the value's type picks the alternative, whose own error is reported */
	expect_error(schema, WITH("\"peers\": [{\"addr\": \"x\"}]"),
		     "x.json:2:22: \"peers[0].addr\": \"x\" is not an IPv4 or IPv6 address (write "
		     "it like 198.18.0.1 or 2001:db8::1)");
	expect_error(schema, WITH("\"peers\": {\"a\": {\"addr\": \"198.18.0.1\", \"weight\": 0}}"),
		     "x.json:2:51: \"peers.a.weight\": 0 is below the minimum 1");
	expect_error(schema, WITH("\"peers\": 5"),
		     "x.json:2:12: \"peers\": 5 matches none of the allowed forms: an array; "
		     "an object");
	/* anyOf, alternatives named by their titles */
	expect_ok(schema, WITH("\"port\": 1"));
	expect_ok(schema, WITH("\"port\": \"ssh\""));
	expect_error(schema, WITH("\"port\": 0"), "x.json:2:11: \"port\": 0 is below the minimum 1");
	expect_error(schema, WITH("\"port\": \"SSH\""),
		     "x.json:2:11: \"port\": \"SSH\" does not match the pattern \"^[a-z]+$\"");
	expect_error(schema, WITH("\"port\": true"),
		     "x.json:2:11: \"port\": true matches none of the allowed forms: a port number; "
		     "a service name");
}

static void test_overlapping_one_of(void **state)
{
	const char *txt = "{\"oneOf\": [{\"type\": \"number\"}, {\"minimum\": 0}]}";
	struct jconf_schema *s;
	struct jconf_error err;

	(void)state;
	s = jconf_schema_parse("o", txt, strlen(txt), &err);
	assert_non_null(s);
	expect_ok(s, "-1");
	expect_ok(s, "\"str\"");
	expect_error(s, "3", "x.json:1:1: 3 matches more than one alternative, \"a number\" among "
		     "them (a schema bug: its oneOf alternatives overlap)");
	jconf_schema_free(s);
}

static void test_first_error_in_document_order(void **state)
{
	struct jconf_error errs[4];
	struct jconf_error err;
	struct jconf_doc *doc;
	const char *text = "{\"queues\": 99999,\n \"role\": \"x\",\n \"bad\": 1}";
	char buf[512];

	(void)state;
	/* missing "version"? not required. Missing nothing; three errors in three lines */
	expect_error(schema, text, "x.json:1:12: \"queues\": 99999 is above the maximum 65535");
	doc = jconf_load_buffer("x.json", text, strlen(text), NULL, &err);
	assert_non_null(doc);
	assert_int_equal(jconf_validate(doc, schema, errs, 4), 3);
	assert_string_equal(jconf_error_str(&errs[1], buf, sizeof(buf)),
			    "x.json:2:10: \"role\": \"x\" is not one of \"supervisor\", \"provider\"");
	assert_int_equal(errs[2].line, 3);
	assert_int_equal(errs[2].column, 2);
	assert_int_equal(jconf_validate(doc, schema, NULL, 0), 3);
	/* only the first two kept */
	assert_int_equal(jconf_validate(doc, schema, errs, 2), 3);
	assert_int_equal(errs[1].line, 2);
	jconf_free(doc);
}

static void test_schema_refs(void **state)
{
	struct jconf_error err;
	struct jconf_schema *s;
	const char *loop = "{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/a\"}}, \"$ref\": \"#/$defs/a\"}";
	char buf[512];

	(void)state;
	s = jconf_schema_parse("l", loop, strlen(loop), &err);
	assert_non_null(s);
	expect_error(s, "1", "x.json:1:1: 1 cannot be checked: the schema's \"$ref\" loops (a "
		     "schema bug)");
	jconf_schema_free(s);
	s = jconf_schema_parse("r.json", "{\"$ref\": \"#/$defs/nope\"}", 24, &err);
	assert_null(s);
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)),
			    "r.json:1:10: \"$ref\": no definition \"nope\" in \"$defs\"");
	s = jconf_schema_parse("r.json", "{\"$ref\": \"other.json#/x\"}", 25, &err);
	assert_null(s);
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)),
			    "r.json:1:10: \"$ref\" must be \"#/$defs/NAME\" (only local definitions "
			    "are supported)");
	/* false schema */
	s = jconf_schema_parse("f", "{\"properties\": {\"x\": false}}", 28, &err);
	assert_non_null(s);
	expect_error(s, "{\"x\": 1}", "x.json:1:7: \"x\": 1 is not allowed here");
	expect_ok(s, "{\"y\": 1}");
	jconf_schema_free(s);
}

static void expect_schema_error(const char *text, const char *want)
{
	struct jconf_error err;
	struct jconf_schema *s;
	char buf[1024];

	s = jconf_schema_parse("s.json", text, strlen(text), &err);
	if (s != NULL)
		fail_msg("schema accepted: %s", text);
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)), want);
}

static void test_schema_errors(void **state)
{
	(void)state;
	expect_schema_error("{\"type\": \"object\",\n \"patternProperties\": {}}",
			    "s.json:2:2: unsupported schema keyword \"patternProperties\" "
			    "(supported: type, properties, required, additionalProperties, items, "
			    "minItems, maxItems, uniqueItems, enum, const, minimum, maximum, "
			    "exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, "
			    "format, oneOf, anyOf, $ref, $defs, and the annotations title, "
			    "description, $schema, $id, $comment, default, examples)");
	expect_schema_error("{\"properties\": {\"a\": {\"allOf\": []}}}",
			    "s.json:1:23: unsupported schema keyword \"allOf\" (supported: type, "
			    "properties, required, additionalProperties, items, minItems, maxItems, "
			    "uniqueItems, enum, const, minimum, maximum, exclusiveMinimum, "
			    "exclusiveMaximum, minLength, maxLength, pattern, format, oneOf, anyOf, "
			    "$ref, $defs, and the annotations title, description, $schema, $id, "
			    "$comment, default, examples)");
	expect_schema_error("{\"type\": \"int\"}", "s.json:1:10: \"type\" must be one of null, "
			    "boolean, object, array, number, integer, string");
	expect_schema_error("{\"type\": []}", "s.json:1:10: \"type\" must list at least one type");
	expect_schema_error("{\"pattern\": \"(\"}", "s.json:1:13: \"pattern\" is not a POSIX "
			    "extended regular expression: Unmatched ( or \\(");
	expect_schema_error("{\"format\": \"email\"}", "s.json:1:12: unsupported \"format\" "
			    "(supported: ipv4, ipv6, ip, ipv4-prefix, ipv6-prefix, ip-prefix, "
			    "hostname)");
	expect_schema_error("{\"minItems\": -1}", "s.json:1:14: \"minItems\" must be a "
			    "non-negative integer");
	expect_schema_error("{\"maxLength\": 1.5}", "s.json:1:15: \"maxLength\" must be a "
			    "non-negative integer");
	expect_schema_error("{\"minimum\": \"1\"}", "s.json:1:13: \"minimum\" must be a number");
	expect_schema_error("{\"enum\": []}", "s.json:1:10: \"enum\" must be a non-empty array of "
			    "values");
	expect_schema_error("{\"oneOf\": {}}", "s.json:1:11: \"oneOf\" must be a non-empty array "
			    "of schemas");
	expect_schema_error("{\"anyOf\": [1]}", "s.json:1:12: \"anyOf\" must be a schema (an "
			    "object, true or false)");
	expect_schema_error("{\"required\": [1]}", "s.json:1:15: \"required\" must be an array of "
			    "key names");
	expect_schema_error("{\"uniqueItems\": 1}", "s.json:1:17: \"uniqueItems\" must be true or "
			    "false");
	expect_schema_error("{\"items\": {\"$defs\": {}}}", "s.json:1:21: \"$defs\" is supported "
			    "only at the root of the schema");
	expect_schema_error("[]", "s.json:1:1: a schema must be an object, true or false");
	expect_schema_error("{\"properties\": 1}", "s.json:1:16: \"properties\" must be an object "
			    "of schemas");
	expect_schema_error("{\"additionalProperties\": 1}", "s.json:1:26: "
			    "\"additionalProperties\" must be a schema (an object, true or false)");
	expect_schema_error("{\"type\": \"object\"", "s.json:1:17: '}' expected near end of file");
}

static void test_errorf(void **state)
{
	const char *text = "{\"role\": \"provider\",\n  \"queues\": 1, \"name\": \"a\"}";
	struct jconf_error err;
	struct jconf_doc *doc;
	char buf[512];

	(void)state;
	doc = jconf_load_buffer("c.json", text, strlen(text), schema, &err);
	assert_non_null(doc);
	jconf_errorf(&err, doc, json_object_get(jconf_root(doc), "name"),
		     "name \"%s\" is used twice", "a");
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)),
			    "c.json:2:24: name \"a\" is used twice");
	jconf_errorf(&err, doc, NULL, "no %s", "peers");
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)), "c.json:1:1: no peers");
	jconf_free(doc);
	/* the buffer bound holds */
	assert_string_equal(jconf_error_str(&err, buf, 8), "c.json:");
}

/* ---- files ---- */

static void test_files(void **state)
{
	char dir[] = "/tmp/test_jconf.XXXXXX", path[128], buf[1024];
	struct jconf_error err;
	struct jconf_doc *doc;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_null(jconf_load_file(path, schema, &err));
	assert_int_equal(err.line, 0);
	snprintf(buf, sizeof(buf), "%s: cannot open: No such file or directory", path);
	{
		char got[1024];

		assert_string_equal(jconf_error_str(&err, got, sizeof(got)), buf);
	}
	assert_null(jconf_load_file(dir, schema, &err));
	assert_string_equal(err.file, dir);
	assert_string_equal(err.msg, "not a regular file (give the path of a JSON configuration "
			    "file)");
	assert_null(jconf_load_file("", schema, &err));
	assert_string_equal(err.msg, "no configuration file name given");

	snprintf(path, sizeof(path), "%s/ok.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"role\": \"provider\",\n \"queues\": 3}\n", f);
	fclose(f);
	doc = jconf_load_file(path, schema, &err);
	assert_non_null(doc);
	assert_string_equal(jconf_name(doc), path);
	assert_int_equal(json_integer_value(json_object_get(jconf_root(doc), "queues")), 3);
	jconf_free(doc);

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"role\": \"provider\",\n \"queues\": 3, \"x\": 1}\n", f);
	fclose(f);
	assert_null(jconf_load_file(path, schema, &err));
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 15);
	unlink(path);

	/* exactly 1 MiB is accepted (as far as size goes), one byte more is not */
	snprintf(path, sizeof(path), "%s/big.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[1]", f);
	for (int i = 3; i < JCONF_MAX_FILE_SIZE; i++)
		fputc(' ', f);
	fclose(f);
	doc = jconf_load_file(path, NULL, &err);
	assert_non_null(doc);
	jconf_free(doc);
	f = fopen(path, "a");
	assert_non_null(f);
	fputc(' ', f);
	fclose(f);
	assert_null(jconf_load_file(path, NULL, &err));
	assert_string_equal(err.msg, "file is 1048577 bytes, over the limit of 1048576 bytes "
			    "(1 MiB) for a configuration file");
	unlink(path);

	/* a FIFO is refused without blocking */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(jconf_load_file(path, NULL, &err));
	assert_string_equal(err.msg, "not a regular file (give the path of a JSON configuration "
			    "file)");
	unlink(path);

	snprintf(path, sizeof(path), "%s/ok.json", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- forced failures ---- */

static void test_jansson_failure(void **state)
{
	struct jconf_error err;
	char buf[256];

	(void)state;
	fail_loadb = 1;
	assert_null(jconf_load_buffer("m.json", "{}", 2, schema, &err));
	fail_loadb = 0;
	assert_string_equal(jconf_error_str(&err, buf, sizeof(buf)), "m.json:1:1: out of memory");
}

static void test_allocation_failures(void **state)
{
	static const char doc_text[] = "{\"role\": \"provider\", \"queues\": 1, \"ids\": [1, 2, 2],\n"
				       " \"peers\": {\"a\": {\"addr\": \"198.18.0.1\"}}, \"tags\": {}}";
	int k, failures = 0;

	(void)state;
	/* fail each allocation in turn until a run needs no more than were counted */
	for (k = 1; k < 10000; k++) {
		struct jconf_error err;
		struct jconf_schema *s;
		struct jconf_doc *doc = NULL;

		alloc_calls = 0;
		fail_at = k;
		s = jconf_schema_parse("test.schema.json", coopnet_schema_test,
				       coopnet_schema_test_len, &err);
		if (s != NULL)
			doc = jconf_load_buffer("a.json", doc_text, sizeof(doc_text) - 1, s, &err);
		fail_at = 0;
		if (s == NULL || (doc == NULL && strcmp(err.msg, "out of memory") == 0)) {
			assert_string_equal(err.msg, "out of memory");
			failures++;
		} else {
			/* the document has one real error: the repeated id */
			assert_null(doc);
			assert_string_equal(err.msg, "\"ids[2]\": 2 repeats item 1 (items must be "
					    "unique)");
		}
		jconf_free(doc);
		jconf_schema_free(s);
		if (alloc_calls < k)  /* no allocation was failed: all paths covered */
			break;
	}
	assert_true(k < 10000);
	assert_true(failures > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_position_utf8_columns),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_valid_document),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_additional_properties),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_enum_const),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_unique_objects),
		cmocka_unit_test(test_one_of_any_of),
		cmocka_unit_test(test_overlapping_one_of),
		cmocka_unit_test(test_first_error_in_document_order),
		cmocka_unit_test(test_schema_refs),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_errorf),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_jansson_failure),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
