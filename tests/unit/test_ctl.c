/* SPDX-License-Identifier: MIT */
/* lib/ctl: paged listing replies and the session object codec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

/* n session-like objects, each about 150 bytes of JSON */
static json_t *make_items(size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		char client[32];
		snprintf(client, sizeof(client), "198.18.%zu.%zu", i / 250, i % 250 + 1);
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s, s:I}", "client", client,
						   "service", "198.19.0.10", "port", 80, "id",
						   "0x6141", "n", (json_int_t)i));
	}
	return a;
}

static json_t *page_at(const json_t *all, json_int_t offset)
{
	json_t *req = json_pack("{s:s, s:I}", "cmd", "sessions", "offset", offset);
	json_t *r = ctl_reply_array_page(all, req, "sessions");

	json_decref(req);
	assert_non_null(r);
	return r;
}

/* Following "next" from offset 0 yields every item once, in order, each page one message. */
static void test_pages_cover_everything(void **state)
{
	json_t *all = make_items(5000);
	json_int_t offset = 0, seen = 0;
	int pages = 0;

	(void)state;
	for (;;) {
		json_t *r = page_at(all, offset), *page = json_object_get(r, "sessions"), *v, *next;
		size_t i;

		assert_true(json_is_true(json_object_get(r, "ok")));
		assert_int_equal(json_integer_value(json_object_get(r, "total")), 5000);
		assert_true(ctl_json_size(r) <= CTL_MSG_MAX);
		assert_true(json_array_size(page) > 0);
		json_array_foreach(page, i, v)
			assert_int_equal(json_integer_value(json_object_get(v, "n")), seen++);
		pages++;
		next = json_object_get(r, "next");
		if (!next) {
			json_decref(r);
			break;
		}
		assert_int_equal(json_integer_value(next), seen);
		offset = json_integer_value(next);
		json_decref(r);
		assert_true(pages < 1000);
	}
	assert_int_equal(seen, 5000);
	assert_true(pages > 1); /* 5,000 sessions do not fit one message: that was the bug */
	json_decref(all);
}

static void test_small_list_one_page(void **state)
{
	json_t *all = make_items(3), *req = json_pack("{s:s}", "cmd", "sessions");
	json_t *r = ctl_reply_array_page(all, req, "sessions");

	(void)state;
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 3);
	assert_null(json_object_get(r, "next"));
	json_decref(r);
	json_decref(req);
	json_decref(all);
}

static void test_offset_past_end_and_bad_offset(void **state)
{
	json_t *all = make_items(3), *r, *req;

	(void)state;
	r = page_at(all, 10);
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 0);
	assert_null(json_object_get(r, "next"));
	json_decref(r);

	req = json_pack("{s:s, s:i}", "cmd", "sessions", "offset", -1);
	r = ctl_reply_array_page(all, req, "sessions");
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "offset"));
	json_decref(r);
	json_decref(req);

	req = json_pack("{s:s, s:s}", "cmd", "sessions", "offset", "3");
	r = ctl_reply_array_page(all, req, "sessions");
	assert_true(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	json_decref(req);
	json_decref(all);
}

/* build, parse, compare; and the strict parser names what it refuses */
/* ctl_dump_max(v, max) gives ctl_send's text when ctl_json_size(v) <= max and EMSGSIZE
 * above, at every max around the size, for a value of one item and one of thousands (whose
 * dump it stops early); the text goes out with ctl_send_text and is read back whole. */
static void test_dump_max(void **state)
{
	json_t *small = json_pack("{s:s}", "cmd", "status"), *big = json_array(), *back;
	char *text, *want, err[128];
	size_t n, len;
	bool closed = false;
	int sv[2];

	(void)state;
	assert_non_null(small);
	assert_non_null(big);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(json_array_append_new(big, json_pack("{s:i, s:s}", "id", i, "client",
									"198.18.1.2")), 0);
	n = ctl_json_size(small);
	want = json_dumps(small, JSON_COMPACT);
	for (size_t max = 0; max <= n + 2; max++) {
		text = ctl_dump_max(small, max, &len);
		if (n > max) {
			assert_null(text);
			assert_int_equal(errno, EMSGSIZE);
		} else {
			assert_non_null(text);
			assert_int_equal(len, n);
			assert_string_equal(text, want);
			free(text);
		}
	}
	free(want);
	n = ctl_json_size(big);
	assert_true(n > 100000);
	for (size_t max = n - 3; max <= n + 3; max++) {
		text = ctl_dump_max(big, max, &len);
		assert_true(n > max ? text == NULL : text != NULL && len == n);
		free(text);
	}
	assert_null(ctl_dump_max(big, 1000, &len));
	assert_int_equal(errno, EMSGSIZE);
	/* sent as text, received as the object */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_non_null(text = ctl_dump_max(small, CTL_MSG_MAX, &len));
	assert_int_equal(ctl_send_text(sv[0], text, len, CTL_MSG_MAX), 0);
	assert_int_equal(ctl_send_text(sv[0], text, len, len - 1), -1); /* over max: not sent */
	assert_int_equal(errno, EMSGSIZE);
	free(text);
	assert_non_null(back = ctl_recv(sv[1], &closed, err, sizeof(err)));
	assert_true(json_equal(back, small));
	json_decref(back);
	close(sv[0]);
	close(sv[1]);
	json_decref(small);
	json_decref(big);
}

static void test_session_round_trip(void **state)
{
	struct cn_session s = { 0 }, back;
	char err[256];
	json_t *o, *bad;

	(void)state;
	assert_int_equal(cn_session_from_json(&s, o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}",
		"client", "2001:db8::2", "service", "2001:db8:1::3", "port", 443, "id", "aA",
		"vnic", "web1", "expires", 1795000000), err, sizeof(err)), 0);
	json_decref(o);
	o = cn_session_to_json(&s);
	assert_int_equal(cn_session_from_json(&back, o, err, sizeof(err)), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	assert_string_equal(json_string_value(json_object_get(o, "id")), "0x6141");
	json_decref(o);

	bad = json_pack("{s:s, s:s, s:i, s:s}", "client", "198.18.1.2", "service", "2001:db8::3",
			"port", 80, "id", "aA");
	assert_int_equal(cn_session_from_json(&back, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "same family"));
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:i, s:s, s:i}", "client", "198.18.1.2", "service",
			"198.19.0.1", "port", 80, "id", "aA", "colour", 1);
	assert_int_equal(cn_session_from_json(&back, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown session key \"colour\""));
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:i, s:s}", "client", "198.18.1.2", "service", "198.19.0.1",
			"port", 80, "id", "0x0");
	assert_int_equal(cn_session_from_json(&back, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "reserved"));
	json_decref(bad);
}

/* Session i of str, after byte `at` of record i was set to `val` (two hex digits). */
static int packed_with(const json_t *str, size_t i, size_t at, const char *val,
		       struct cn_session *out, char *err)
{
	char *text = strdup(json_string_value(str));
	json_t *s;
	int r;

	assert_non_null(text);
	memcpy(text + i * 2 * CN_SESSION_PACKED + 2 * at, val, 2);
	s = json_string(text);
	free(text);
	r = cn_packed_get(s, i, out, err, 256);
	json_decref(s);
	return r;
}

static void assert_same_session(const struct cn_session *a, const struct cn_session *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->client, b->client, sizeof(a->client));
	assert_memory_equal(a->service, b->service, sizeof(a->service));
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->vnic, b->vnic);
	assert_int_equal(a->expires, b->expires);
}

/* Packed sessions: the layout of docs/control.md, the round trip, every refusal. */
static void test_packed_round_trip(void **state)
{
	static const struct {
		size_t at;
		const char *val, *why;
	} bad[] = {
		{ 0, "05", "family 5" }, { 1, "01", "reserved" }, { 6, "01", "reserved" },
		{ 7, "80", "reserved" }, { 20, "01", "padding" }, { 47, "ff", "padding" },
		{ 3, "00", "port 0" }, /* port 80 is 0x0050: byte 2 is 0 already */
		{ 8, "80", "above 2^63" }, { 50, "20", "vnic" }, { 53, "41", "vnic" },
		{ 12, "g0", "hexadecimal" },
	};
	struct cn_session v[3] = {
		{ .family = AF_INET, .port = 80, .id = 0x6141, .vnic = "web1",
		  .expires = 1795000000, .client = { 198, 18, 1, 2 }, .service = { 198, 19, 0, 10 } },
		{ .family = AF_INET6, .port = 65535, .id = 0xffff, .expires = INT64_MAX,
		  .client = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
		  .service = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 3 } },
		{ .family = AF_INET, .port = 1, .id = 1, .vnic = "abcdefghijklmno",
		  .client = { 198, 18, 255, 255 }, .service = { 198, 19, 0, 1 } },
	};
	struct cn_session back;
	char err[256];
	json_t *str;
	size_t n;

	(void)state;
	str = cn_sessions_pack_json(v, 3);
	assert_non_null(str);
	assert_int_equal(json_string_length(str), 3 * 2 * CN_SESSION_PACKED);
	/* family, reserved, port, ID, reserved, expires, the client's first 4 bytes */
	assert_memory_equal(json_string_value(str),
			    "04" "00" "0050" "6141" "0000" "000000006afd86c0" "c6120102" "00000000",
			    48);
	assert_int_equal(cn_packed_count(str, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(cn_packed_get(str, i, &back, err, sizeof(err)), 0);
		assert_same_session(&v[i], &back);
	}
	assert_int_equal(cn_packed_get(str, 3, &back, err, sizeof(err)), -1);

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_int_equal(packed_with(str, 0, bad[k].at, bad[k].val, &back, err), -1);
		if (!strstr(err, bad[k].why))
			fail_msg("byte %zu = %s: \"%s\" lacks \"%s\"", bad[k].at, bad[k].val, err,
				 bad[k].why);
	}
	/* byte 4 of record 2 (its ID's high byte) set to 0 again: still ID 1, accepted */
	assert_int_equal(packed_with(str, 2, 4, "00", &back, err), 0);
	assert_int_equal(back.id, 1);
	json_decref(str);
}

static void test_packed_refusals(void **state)
{
	struct cn_session v = { .family = AF_INET, .port = 80, .id = 1, .client = { 198, 18, 0, 1 },
				.service = { 198, 19, 0, 1 } }, back;
	char err[256];
	json_t *str, *s;
	size_t n;
	char *text;

	(void)state;
	str = cn_sessions_pack_json(&v, 1);
	/* ID 0 */
	text = strdup(json_string_value(str));
	memcpy(text + 8, "0000", 4);
	s = json_string(text);
	assert_int_equal(cn_packed_get(s, 0, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ID 0"));
	json_decref(s);
	/* a vnic of 16 characters: no NUL */
	memset(text + 96, '6', 32);
	memcpy(text + 8, "0001", 4);
	s = json_string(text);
	assert_int_equal(cn_packed_get(s, 0, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vnic"));
	json_decref(s);
	/* not whole records, not a string, empty */
	text[127] = 0;
	s = json_string(text);
	assert_int_equal(cn_packed_count(s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "128 hexadecimal digits per session"));
	json_decref(s);
	s = json_integer(5);
	assert_int_equal(cn_packed_count(s, &n, err, sizeof(err)), -1);
	json_decref(s);
	s = json_string("");
	assert_int_equal(cn_packed_count(s, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	json_decref(s);
	free(text);
	json_decref(str);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_cover_everything),
		cmocka_unit_test(test_small_list_one_page),
		cmocka_unit_test(test_offset_past_end_and_bad_offset),
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_dump_max),
		cmocka_unit_test(test_packed_round_trip),
		cmocka_unit_test(test_packed_refusals),
	};
	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
