/* SPDX-License-Identifier: MIT */
/*
 * The engine's copy of coopnet-nfq's per-session counters (authd/engine_nfqstat.c) fed with
 * listings of changes ("delta": the entries that changed and the entry numbers gone) against
 * the same engine fed with the whole listing at every poll, over random polls: new sessions,
 * renumbered entries, new IDs, sessions gone, counters that move or stay, entries that share
 * an (ID, client), polls split over several messages. After each poll every (ID, client)
 * gives the same figures in both, and the drops probes (an SS's sessions whose segments get
 * nothing back) start for the same sessions in the same order.
 * engine_nfqstat.c alone, with stand-ins for the database walk and the probe it calls.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_probe.h"
#include "engine_status.h"

#define IDS 12
#define CLIENTS 6
#define ENTRIES 400

/* Every probe started in this poll: (engine, ID, client) in order. */
static char probes[2][65536];
static size_t probes_len[2], probes_total;
static struct engine eng[2];
static max_align_t fake_ss;

/* The engine's clock (authd/engine.c is not linked): a poll's default "taken" time. */
uint64_t engine_wall_ms(void)
{
	return 1795000000000ULL;
}

void engine_probe_drops(struct engine *e, const struct db_session *s)
{
	int w = e == &eng[0] ? 0 : 1;
	char buf[64];

	snprintf(buf, sizeof(buf), "%u/%u.", (unsigned)s->s.id, (unsigned)s->s.client[3]);
	assert_true(probes_len[w] + strlen(buf) < sizeof(probes[w]));
	memcpy(probes[w] + probes_len[w], buf, strlen(buf));
	probes_len[w] += strlen(buf);
}

/* The SS's stored sessions: one per (ID, client) of this test's domain. */
int db_session_foreach_id(struct authd_db *db, enum db_role role, cn_id_t id,
			  db_session_cb cb, void *arg)
{
	(void)db;
	for (int c = 0; c < CLIENTS; c++) {
		struct db_session s = { .role = role, .s = { .family = AF_INET, .id = id,
							     .client = {198, 18, 0, (uint8_t)c} } };

		if (cb(&s, arg))
			break;
	}
	return 0;
}

struct model {
	bool live;
	unsigned id, client;
	uint64_t v[8]; /* last_seen, segs in, out, bytes in, out, drops */
	bool changed;
};

static json_t *entry_json(const struct model *m, size_t k)
{
	char client[32];

	snprintf(client, sizeof(client), "198.18.0.%u", m->client);
	return json_pack("[I, s, I, I, I, I, I, I, I, I, I]", (json_int_t)m->id, client,
			 (json_int_t)m->v[0], (json_int_t)m->v[1], (json_int_t)m->v[2],
			 (json_int_t)m->v[3], (json_int_t)m->v[4], (json_int_t)m->v[5],
			 (json_int_t)m->v[6], (json_int_t)m->v[7], (json_int_t)k);
}

static uint32_t rnd_state = 4242;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* Send a poll to engine w in 1 to 3 messages; delta: the changed entries and gone. */
static void send_poll(int w, json_t *sessions, json_t *gone, bool delta)
{
	size_t n = json_array_size(sessions), parts = 1 + rnd(3), pos = 0;

	for (size_t p = 0; p < parts; p++) {
		size_t end = p + 1 == parts ? n : pos + (n - pos) / 2;
		json_t *chunk = json_array(), *m;

		for (; pos < end; pos++)
			json_array_append(chunk, json_array_get(sessions, pos));
		m = json_pack("{s:s, s:b, s:b, s:o}", "msg", "nfq-traffic", "first", p == 0,
			      "more", p + 1 < parts, "sessions", chunk);
		if (delta) {
			json_object_set_new(m, "delta", json_true());
			json_object_set_new(m, "gone", p + 1 == parts ? json_incref(gone) :
							     json_array());
		}
		assert_int_equal(engine_nfq_traffic(&eng[w], m), p + 1 == parts);
		json_decref(m);
	}
}

static void compare(void)
{
	for (unsigned id = 1; id <= IDS; id++)
		for (unsigned c = 0; c < CLIENTS; c++) {
			struct cn_coop_addr a = { .family = CN_FAM_INET, .addr = {198, 18, 0, (uint8_t)c} };
			struct cn_status_client x, y;
			bool fx, fy;

			memset(&x, 0, sizeof(x));
			memset(&y, 0, sizeof(y));
			fx = engine_traffic_find(&eng[0], (cn_id_t)id, &a, &x);
			fy = engine_traffic_find(&eng[1], (cn_id_t)id, &a, &y);
			assert_int_equal(fx, fy);
			assert_memory_equal(&x, &y, sizeof(x));
		}
	assert_int_equal(probes_len[0], probes_len[1]);
	assert_memory_equal(probes[0], probes[1], probes_len[0]);
	probes_total += probes_len[0];
	probes_len[0] = probes_len[1] = 0;
}

static void test_delta_equals_whole(void **state)
{
	static struct model m[ENTRIES];
	static struct engine_status st[2];
	size_t deltas = 0, wholes = 0;

	(void)state;
	for (int w = 0; w < 2; w++) {
		eng[w].status = &st[w];
		eng[w].ss = (struct auth_ss *)&fake_ss; /* an SS: never dereferenced here */
	}
	for (unsigned poll = 0; poll < 600; poll++) {
		json_t *all = json_array(), *changed = json_array(), *gone = json_array();

		for (size_t k = 0; k < ENTRIES; k++) {
			struct model *x = &m[k];
			uint32_t r = rnd(100);

			x->changed = false;
			if (!x->live && r < 3) { /* a new session at this number */
				memset(x, 0, sizeof(*x));
				x->live = x->changed = true;
				x->id = 1 + rnd(IDS);
				x->client = rnd(CLIENTS);
			} else if (x->live && r < 2) { /* gone */
				x->live = false;
				json_array_append_new(gone, json_integer((json_int_t)k));
			} else if (x->live && r < 4) { /* a renewal: another ID */
				x->id = 1 + rnd(IDS);
				x->changed = true;
			} else if (x->live && r < 30) { /* traffic: out always, back sometimes */
				x->v[1] += 1;
				x->v[3] += 60;
				x->v[0] = poll;
				if (rnd(3) == 0) {
					x->v[2] += 1;
					x->v[4] += 1500;
				}
				x->changed = true;
			} else if (x->live && r < 33) {
				x->v[5 + rnd(3)]++;
				x->changed = true;
			}
			if (x->live)
				json_array_append_new(all, entry_json(x, k));
			if (x->live && x->changed)
				json_array_append_new(changed, entry_json(x, k));
		}
		/* engine 0: a whole listing first and every 64 polls (as the parent), else changes */
		if (poll % 64 == 0) {
			send_poll(0, all, NULL, false);
			wholes++;
		} else {
			send_poll(0, changed, gone, true);
			deltas++;
		}
		send_poll(1, all, NULL, false);
		compare();
		json_decref(all);
		json_decref(changed);
		json_decref(gone);
	}
	assert_true(deltas > wholes);
	assert_true(probes_total > 0); /* the drops condition was met and probed */
	engine_traffic_free(&eng[0]);
	engine_traffic_free(&eng[1]);
}

/* A listing of changes before any whole one is not applied (the engine has no copy to
 * change); a bad "gone" refuses the poll and the rest of its messages. */
static void test_delta_needs_whole(void **state)
{
	static struct engine_status st;
	struct cn_coop_addr a = { .family = CN_FAM_INET, .addr = {198, 18, 0, 1} };
	struct cn_status_client c;
	json_t *m;

	(void)state;
	eng[0].status = &st;
	eng[0].ss = NULL;
	m = json_pack("{s:s, s:b, s:b, s:b, s:[[i, s, i, i, i, i, i, i, i, i, i]], s:[]}", "msg",
		      "nfq-traffic", "first", 1, "more", 0, "delta", 1, "sessions", 5, "198.18.0.1",
		      1, 2, 3, 4, 5, 0, 0, 0, 7, "gone");
	assert_false(engine_nfq_traffic(&eng[0], m));
	assert_false(engine_traffic_ready(&eng[0]));
	assert_false(engine_traffic_find(&eng[0], 5, &a, &c));
	json_object_set_new(m, "delta", json_false());
	json_object_del(m, "gone");
	assert_true(engine_nfq_traffic(&eng[0], m));
	assert_true(engine_traffic_find(&eng[0], 5, &a, &c));
	assert_int_equal(c.bytes_s2c, 5);
	/* gone in a poll that is not a delta, a negative and a too large entry number: refused */
	json_object_set_new(m, "gone", json_pack("[i]", 7));
	assert_false(engine_nfq_traffic(&eng[0], m));
	json_object_set_new(m, "delta", json_true());
	json_object_set_new(m, "gone", json_pack("[i]", -1));
	assert_false(engine_nfq_traffic(&eng[0], m));
	json_object_set_new(m, "gone", json_pack("[I]", (json_int_t)4194304));
	assert_false(engine_nfq_traffic(&eng[0], m));
	assert_int_equal(eng[0].counters[CNT_NFQ_TRAFFIC_BAD], 3);
	/* a delta that removes it */
	json_object_set_new(m, "sessions", json_array());
	json_object_set_new(m, "gone", json_pack("[i]", 7));
	assert_true(engine_nfq_traffic(&eng[0], m));
	assert_false(engine_traffic_find(&eng[0], 5, &a, &c));
	json_decref(m);
	engine_traffic_free(&eng[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_equals_whole),
		cmocka_unit_test(test_delta_needs_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
