/* SPDX-License-Identifier: MIT */
/*
 * One session of coopnet-nfq's `sessions` listing (docs/control.md) as the parent forwards it
 * to the engine in an "nfq-traffic" message (authd/engine_nfqstat.c parses that): the
 * parent's side of the per-session counters, apart so that tests/fuzz/fuzz_nfq_traffic.c can
 * run it with the engine's parser.
 */
#include "nfqlink.h"

#include <stdlib.h>

static json_int_t member_int(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : 0;
}

/* One listed session -> [id, client, last_seen, segs in, out, bytes in, out, drops no_id,
 * wrong_id, other, entry] (engine_nfqstat.c); NULL when it carries no counters or no entry
 * number (an older coopnet-nfq) or no ID. */
json_t *nfq_traffic_entry(const json_t *s)
{
	const json_t *t = json_object_get(s, "traffic");
	const char *client = json_string_value(json_object_get(s, "client"));
	const char *id = json_string_value(json_object_get(s, "id"));
	unsigned long x;
	char *end;

	const json_t *entry = json_object_get(s, "entry");

	if (!json_is_object(t) || !client || !id || !json_is_integer(entry) ||
	    json_integer_value(entry) < 0)
		return NULL;
	x = strtoul(id, &end, 0);
	if (*end || x == 0 || x > 0xffff)
		return NULL;
	return json_pack("[I, s, I, I, I, I, I, I, I, I, I]", (json_int_t)x, client,
			 member_int(s, "last_seen", NULL),
			 member_int(json_object_get(t, "segments"), "in", NULL),
			 member_int(json_object_get(t, "segments"), "out", NULL),
			 member_int(json_object_get(t, "bytes"), "in", NULL),
			 member_int(json_object_get(t, "bytes"), "out", NULL),
			 member_int(json_object_get(t, "drops"), "no_id", NULL),
			 member_int(json_object_get(t, "drops"), "wrong_id", NULL),
			 member_int(json_object_get(t, "drops"), "other", NULL),
			 json_integer_value(entry));
}

