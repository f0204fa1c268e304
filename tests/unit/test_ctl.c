/* SPDX-License-Identifier: MIT */
/* lib/ctl: paged listing replies and the session object codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
/* ctl_json_larger(v, cap) says what ctl_json_size(v) > cap says, at every cap around the
 * size, for a value of one item and one of thousands (whose dump it stops early). */
static void test_json_larger(void **state)
{
	json_t *small = json_pack("{s:s}", "cmd", "status"), *big = json_array();
	size_t n;

	(void)state;
	assert_non_null(small);
	assert_non_null(big);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(json_array_append_new(big, json_pack("{s:i, s:s}", "id", i, "client",
									"198.18.1.2")), 0);
	n = ctl_json_size(small);
	assert_true(n > 0);
	for (size_t cap = 0; cap <= n + 2; cap++)
		assert_int_equal(ctl_json_larger(small, cap), n > cap);
	n = ctl_json_size(big);
	assert_true(n > 100000);
	for (size_t cap = n - 3; cap <= n + 3; cap++)
		assert_int_equal(ctl_json_larger(big, cap), n > cap);
	assert_true(ctl_json_larger(big, 0));
	assert_true(ctl_json_larger(big, 1000));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_cover_everything),
		cmocka_unit_test(test_small_list_one_page),
		cmocka_unit_test(test_offset_past_end_and_bad_offset),
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_json_larger),
	};
	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
