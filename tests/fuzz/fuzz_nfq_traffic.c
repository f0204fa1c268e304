/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the per-session counters that coopnet-authd takes from coopnet-nfq:
 * the input is JSON text, used twice:
 *   - as a page of coopnet-nfq's `sessions` listing: the parent's nfq_traffic_entry
 *     (authd/nfq_traffic.c) turns each session into an entry, and the entries go to the
 *     engine's parser as one "nfq-traffic" message;
 *   - as an "nfq-traffic" message itself (engine_nfq_traffic, authd/engine_nfqstat.c), in
 *     chunks ("first"/"more" as the input says), a whole listing or one of changes ("delta",
 *     "gone") merged into the copy the first use left.
 * No input may crash or leak; every entry of a poll the engine applied is found again by its
 * (ID, client) unless a later entry of the poll took its entry number; a refused message
 * leaves the last accepted table in place.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_probe.h"
#include "engine_status.h"
#include "log.h"
#include "nfqlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The engine's clock (authd/engine.c is not linked): a poll's "taken_ms" is checked against it. */
uint64_t engine_wall_ms(void)
{
	return 1795000000000ULL;
}

/* The path probe that a drops finding starts (authd/engine_probe.c) is not linked here: its
 * own inputs are fuzzed by fuzz_probe; this target fuzzes the counters that lead to it. */
void engine_probe_drops(struct engine *e, const struct db_session *s)
{
	(void)e;
	(void)s;
}

/* Does an entry after the i-th take its entry number? */
static bool renumbered(const json_t *arr, size_t i)
{
	json_int_t k = json_integer_value(json_array_get(json_array_get(arr, i), 10));

	for (size_t j = i + 1; j < json_array_size(arr); j++)
		if (json_integer_value(json_array_get(json_array_get(arr, j), 10)) == k)
			return true;
	return false;
}

/* Each entry of a poll the engine applied must be found again by (ID, client). */
static void check_found(struct engine *e, const json_t *arr, bool applied)
{
	const json_t *a;
	size_t i;

	if (!applied)
		return; /* refused, or a listing of changes to no copy: nothing to find */
	json_array_foreach(arr, i, a) {
		struct cn_coop_addr c = { .family = CN_FAM_INET };
		struct cn_status_client out;
		const char *client = json_string_value(json_array_get(a, 1));
		json_int_t id = json_integer_value(json_array_get(a, 0));

		if (!client)
			abort();
		if (renumbered(arr, i))
			continue;
		if (inet_pton(AF_INET, client, c.addr) != 1) {
			c.family = CN_FAM_INET6;
			if (inet_pton(AF_INET6, client, c.addr) != 1)
				abort(); /* accepted an unparsable client */
		}
		if (!engine_traffic_find(e, (cn_id_t)id, &c, &out))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct engine_status st;
	static struct engine e;
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	const json_t *s;
	json_t *arr, *msg;
	bool applied;
	size_t i;

	static bool once;

	if (!once) {
		log_init("fuzz_nfq_traffic", LOG_TO_STDERR, false);
		once = true;
	}
	e.status = &st;
	if (!root)
		return 0;
	/* as coopnet-nfq's listing: the parent's side, then the engine's */
	arr = json_array();
	json_array_foreach(json_object_get(root, "sessions"), i, s) {
		json_t *x = nfq_traffic_entry(s);

		if (x)
			json_array_append_new(arr, x);
	}
	msg = json_pack("{s:s, s:b, s:b, s:O}", "msg", "nfq-traffic", "first", 1, "more", 0,
			"sessions", arr);
	applied = msg && engine_nfq_traffic(&e, msg);
	check_found(&e, arr, applied);
	json_decref(msg);
	json_decref(arr);
	/* as the message itself */
	applied = engine_nfq_traffic(&e, root);
	if (json_is_true(json_object_get(root, "first")))
		check_found(&e, json_object_get(root, "sessions"), applied);
	json_decref(root);
	engine_traffic_free(&e);
	return 0;
}
