/* SPDX-License-Identifier: MIT */
/*
 * The staging of a chunked session-sync (nfq/stage.c), the list helpers it relies on
 * (nfq/table.c) and the size-based splitting that coopnet-authd uses (lib/ctl.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctl.h"
#include "stage.h"
#include "table.h"

/* Session n: client 198.18.(n / 250).(n % 250 + 1), service 198.19.0.10 port 80, ID id. */
static json_t *session(unsigned n, unsigned id)
{
	char client[32], hex[8];

	snprintf(client, sizeof(client), "198.18.%u.%u", n / 250, n % 250 + 1);
	snprintf(hex, sizeof(hex), "0x%04x", id & 0xffff);
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "client", client, "service",
			 "198.19.0.10", "port", 80, "id", hex, "vnic", "vnic1", "expires", 0);
}

static json_t *sessions(unsigned from, unsigned count, unsigned id_base)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < count; i++)
		json_array_append_new(a, session(from + i, id_base + from + i));
	return a;
}

static json_t *chunk(json_t *arr, int more)
{
	json_t *req = json_pack("{s:s, s:o}", "cmd", "session-sync", "sessions", arr);

	if (more >= 0)
		json_object_set_new(req, "more", json_boolean(more));
	return req;
}

static int feed(struct sess_stage *st, json_t *req, struct sess_list *out, char *err)
{
	int rc = stage_feed(st, req, out, err, 300);

	json_decref(req);
	return rc;
}

/* The ID that *out holds for session n, 0 if none. */
static cn_id_t id_of(const struct sess_list *out, unsigned n)
{
	struct cn_session s;
	char err[256];
	json_t *o = session(n, 1);
	struct sess_key k;
	size_t i;

	assert_int_equal(cn_session_from_json(&s, o, err, sizeof(err)), 0);
	json_decref(o);
	sess_key_make(&k, s.family, s.client, s.service, s.port);
	for (i = 0; i < out->n; i++)
		if (!memcmp(&out->v[i].key, &k, sizeof(k)))
			return out->v[i].id;
	return 0;
}

static void single_message_sync(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	char err[300];

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	/* no "more" at all: the sync of before chunking, complete at once */
	assert_int_equal(feed(&st, chunk(sessions(0, 3, 100), -1), &out, err), 1);
	assert_int_equal(out.n, 3);
	assert_int_equal(id_of(&out, 2), 102);
	assert_false(st.open);
	sess_list_clear(&out);
	/* "more": false is the same */
	assert_int_equal(feed(&st, chunk(sessions(0, 2, 100), 0), &out, err), 1);
	assert_int_equal(out.n, 2);
	sess_list_clear(&out);
	/* an empty sync is valid: it removes every authd session */
	assert_int_equal(feed(&st, chunk(json_array(), -1), &out, err), 1);
	assert_int_equal(out.n, 0);
	stage_discard(&st);
}

static void chunks_applied_only_at_the_end(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	char err[300];
	unsigned i;

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	for (i = 0; i < 4; i++) {
		assert_int_equal(feed(&st, chunk(sessions(i * 1000, 1000, 1), 1), &out, err), 0);
		assert_int_equal(out.n, 0); /* nothing handed over yet */
		assert_null(out.v);
		assert_true(st.open);
		assert_int_equal(st.l.n, (i + 1) * 1000);
	}
	assert_int_equal(feed(&st, chunk(sessions(4000, 1000, 1), 0), &out, err), 1);
	assert_int_equal(out.n, 5000);
	for (i = 0; i < 5000; i += 499)
		assert_int_equal(id_of(&out, i), i + 1);
	assert_false(st.open);
	assert_int_equal(st.l.n, 0);
	sess_list_clear(&out);
	stage_discard(&st);
}

static void later_duplicate_wins(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	char err[300];

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	assert_int_equal(feed(&st, chunk(sessions(0, 10, 100), 1), &out, err), 0);
	/* sessions 5..14 again with other IDs: 5..9 replaced, 10..14 new */
	assert_int_equal(feed(&st, chunk(sessions(5, 10, 200), -1), &out, err), 1);
	assert_int_equal(out.n, 15);
	assert_int_equal(id_of(&out, 4), 104);
	assert_int_equal(id_of(&out, 5), 205);
	assert_int_equal(id_of(&out, 14), 214);
	sess_list_clear(&out);
	stage_discard(&st);
}

static void abandoned_stage_is_discarded(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	char err[300];

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	assert_int_equal(feed(&st, chunk(sessions(0, 50, 100), 1), &out, err), 0);
	/* the connection closes: coopnet-nfq discards */
	stage_discard(&st);
	assert_false(st.open);
	assert_int_equal(st.l.n, 0);
	/* a later sync starts afresh: none of the 50 comes back */
	assert_int_equal(feed(&st, chunk(sessions(1000, 2, 100), -1), &out, err), 1);
	assert_int_equal(out.n, 2);
	assert_int_equal(id_of(&out, 0), 0);
	sess_list_clear(&out);
	stage_discard(&st);
}

static void bad_session_refuses_whole_sync(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	json_t *arr;
	char err[300];

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	assert_int_equal(feed(&st, chunk(sessions(0, 10, 100), 1), &out, err), 0);
	arr = sessions(10, 10, 100);
	json_object_set_new(json_array_get(arr, 3), "port", json_integer(0));
	assert_int_equal(feed(&st, chunk(arr, 1), &out, err), -1);
	assert_non_null(strstr(err, "chunk 2, session 3 (13 in the sync)"));
	assert_non_null(strstr(err, "port"));
	assert_int_equal(out.n, 0);
	assert_false(st.open);
	assert_int_equal(st.l.n, 0);
	/* the rest of that sync (its last chunk) is then a sync of its own: only itself */
	assert_int_equal(feed(&st, chunk(sessions(20, 5, 100), -1), &out, err), 1);
	assert_int_equal(out.n, 5);
	sess_list_clear(&out);

	/* an error in the last chunk refuses the chunks before it too */
	assert_int_equal(feed(&st, chunk(sessions(0, 10, 100), 1), &out, err), 0);
	arr = sessions(10, 2, 100);
	json_object_set_new(json_array_get(arr, 1), "colour", json_string("red"));
	assert_int_equal(feed(&st, chunk(arr, 0), &out, err), -1);
	assert_non_null(strstr(err, "chunk 2, session 1 (11 in the sync)"));
	assert_int_equal(out.n, 0);

	/* a one-message sync keeps the message it always had */
	arr = sessions(0, 3, 100);
	json_object_set_new(json_array_get(arr, 2), "id", json_string("0x0"));
	assert_int_equal(feed(&st, chunk(arr, -1), &out, err), -1);
	assert_true(!strncmp(err, "session 2: ", 11));
	stage_discard(&st);
}

static void malformed_chunks(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	json_t *req;
	char err[300];

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	assert_int_equal(feed(&st, chunk(sessions(0, 3, 100), 1), &out, err), 0);
	req = chunk(sessions(3, 3, 100), -1);
	json_object_set_new(req, "more", json_string("yes"));
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_non_null(strstr(err, "\"more\""));
	assert_int_equal(st.l.n, 0);
	req = json_pack("{s:s, s:b}", "cmd", "session-sync", "more", 1);
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_non_null(strstr(err, "chunk 1: give \"sessions\""));
	assert_int_equal(out.n, 0);
	req = json_pack("{s:s, s:b, s:i}", "cmd", "session-sync", "more", 1, "sessions", 3);
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_non_null(strstr(err, "chunk 1: \"sessions\" must be an array"));
	assert_int_equal(out.n, 0);
	stage_discard(&st);
}

/* Packed chunk: sessions from..from+count-1 of session(), as records (lib/ctl.h). */
static json_t *packed_chunk(unsigned from, unsigned count, unsigned id_base, int more)
{
	json_t *arr = sessions(from, count, id_base), *req, *v;
	struct cn_session *sv = calloc(count ? count : 1, sizeof(*sv));
	char err[256];
	size_t i;

	assert_non_null(sv);
	json_array_foreach(arr, i, v)
		assert_int_equal(cn_session_from_json(&sv[i], v, err, sizeof(err)), 0);
	json_decref(arr);
	req = json_pack("{s:s, s:o}", "cmd", "session-sync", "packed",
			cn_sessions_pack_json(sv, count));
	free(sv);
	if (more >= 0)
		json_object_set_new(req, "more", json_boolean(more));
	return req;
}

/* coopnet-authd's packed chunks: staged like "sessions" chunks, the two forms mixed in one
 * sync; a bad record refuses the whole sync and names its chunk and index; both forms in
 * one chunk are refused. */
static void packed_chunks(void **state)
{
	struct sess_stage st;
	struct sess_list out;
	char err[300], *text;
	json_t *req;

	(void)state;
	stage_init(&st);
	sess_list_init(&out);
	assert_int_equal(feed(&st, packed_chunk(0, 500, 7, 1), &out, err), 0);
	assert_int_equal(feed(&st, chunk(sessions(500, 10, 7), 1), &out, err), 0);
	assert_int_equal(feed(&st, packed_chunk(510, 0, 7, 1), &out, err), 0);
	assert_int_equal(st.l.n, 510);
	assert_int_equal(feed(&st, packed_chunk(400, 200, 9, 0), &out, err), 1);
	assert_int_equal(out.n, 600);
	assert_int_equal(id_of(&out, 0), 7);
	assert_int_equal(id_of(&out, 505), 9 + 505); /* the later duplicate wins */
	assert_int_equal(id_of(&out, 599), 9 + 599);
	sess_list_clear(&out);

	/* record 3 of chunk 2 has port 0 */
	assert_int_equal(feed(&st, packed_chunk(0, 10, 1, 1), &out, err), 0);
	req = packed_chunk(10, 5, 1, 1);
	text = strdup(json_string_value(json_object_get(req, "packed")));
	memcpy(text + 3 * 2 * CN_SESSION_PACKED + 4, "0000", 4);
	json_object_set_new(req, "packed", json_string(text));
	free(text);
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_string_equal(err, "chunk 2, session 3 (13 in the sync): port 0");
	assert_int_equal(st.l.n, 0);
	assert_false(st.open);
	/* not whole records */
	req = packed_chunk(0, 2, 1, -1);
	json_object_set_new(req, "packed", json_string("0400"));
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_non_null(strstr(err, "chunk 1: \"packed\" must be a string of 128 hexadecimal"));
	/* both forms */
	req = packed_chunk(0, 2, 1, -1);
	json_object_set_new(req, "sessions", json_array());
	assert_int_equal(feed(&st, req, &out, err), -1);
	assert_non_null(strstr(err, "one of them"));
	assert_int_equal(out.n, 0);
	stage_discard(&st);
}

/* what coopnet-authd does with a long sync: every chunk fits a control message, none lost */
static void split_by_size(void **state)
{
	json_t *all = sessions(0, 5000, 1), *part, *again = json_array(), *msg;
	size_t pos = 0, parts = 0;

	(void)state;
	assert_true(ctl_json_size(all) > CTL_MSG_MAX); /* the bug: it did not fit */
	while (pos < json_array_size(all)) {
		part = ctl_array_chunk(all, &pos, CTL_CHUNK_BUDGET);
		assert_non_null(part);
		assert_true(json_array_size(part) > 0);
		msg = chunk(json_incref(part), 1);
		assert_true(ctl_json_size(msg) <= CTL_MSG_MAX);
		json_decref(msg);
		json_array_extend(again, part);
		json_decref(part);
		parts++;
	}
	/* no fewer messages than the size needs, and every chunk but the last nearly full */
	assert_true(parts >= ctl_json_size(all) / CTL_MSG_MAX + 1);
	assert_true(parts <= ctl_json_size(all) / (CTL_CHUNK_BUDGET - 200) + 1);
	assert_true(json_equal(all, again));
	/* one item larger than the budget still goes, alone */
	pos = 0;
	part = ctl_array_chunk(all, &pos, 10);
	assert_int_equal(json_array_size(part), 1);
	assert_int_equal(pos, 1);
	json_decref(part);
	json_decref(all);
	json_decref(again);
}

static void list_copy_and_dedup(void **state)
{
	struct sess_list a, b;
	struct cn_session s;
	char err[256];
	json_t *o;
	unsigned i;

	(void)state;
	sess_list_init(&a);
	for (i = 0; i < 6; i++) {
		o = session(i % 3, 10 + i);
		assert_int_equal(cn_session_from_json(&s, o, err, sizeof(err)), 0);
		json_decref(o);
		assert_int_equal(sess_list_append(&a, &s, SESS_SRC_AUTHD), 0);
	}
	assert_int_equal(a.n, 6);
	assert_int_equal(sess_list_dedup(&a), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.v[0].id, 13); /* the latest of each key, in the order they came */
	assert_int_equal(a.v[2].id, 15);
	assert_int_equal(sess_list_copy(&b, &a), 0);
	assert_int_equal(b.n, 3);
	assert_memory_equal(a.v, b.v, 3 * sizeof(*a.v));
	sess_list_clear(&a);
	sess_list_clear(&b);
	assert_int_equal(sess_list_copy(&b, &a), 0);
	assert_int_equal(b.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(single_message_sync),
		cmocka_unit_test(chunks_applied_only_at_the_end),
		cmocka_unit_test(later_duplicate_wins),
		cmocka_unit_test(abandoned_stage_is_discarded),
		cmocka_unit_test(bad_session_refuses_whole_sync),
		cmocka_unit_test(malformed_chunks),
		cmocka_unit_test(packed_chunks),
		cmocka_unit_test(split_by_size),
		cmocka_unit_test(list_copy_and_dedup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
