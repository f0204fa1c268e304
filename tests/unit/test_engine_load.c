/* SPDX-License-Identifier: MIT */
/*
 * The provider's load sums (authd/engine_load.c) kept from what changed against the walk of
 * every stored session that they replace, over random rounds on a real sqlite database and
 * the engine's real copy of coopnet-nfq's counters (engine_nfqstat.c): sessions stored,
 * renewed under another ID or another service, revoked, expired, a turn rolled back; entries
 * of coopnet-nfq new, moving, renumbered, gone, sometimes for (ID, client) pairs the database
 * does not hold; listings of changes and now and then a whole one. After each poll every
 * service's sum is the walk's (each stored provider session's bytes, found by its ID and
 * client; nothing for a session the poll does not list), and the walk is not what made it.
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

#define IDS 40
#define CLIENTS 6
#define SERVICES 4   /* s0..s3; s3 has no sum (a service the policy does not have) */
#define ENTRIES 64

static struct engine eng;
static max_align_t fake_fsm;
static uint64_t now_ms = 1000;
static long walks;   /* the engine's walks of every provider session */
static bool comparing;

uint64_t engine_now_ms(void) { return now_ms; }
uint64_t engine_wall_ms(void) { return 1795000000000ULL + now_ms; } /* a poll's default "taken" */

int __real_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb,
			      void *arg);
int __wrap_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb,
			      void *arg);

int __wrap_db_session_foreach(struct authd_db *db, enum db_role role, db_session_cb cb,
			      void *arg)
{
	if (!comparing)
		walks++;
	return __real_db_session_foreach(db, role, cb, arg);
}

/* the probe of an SS's session with drops: not on a provider */
void engine_probe_drops(struct engine *e, const struct db_session *s)
{
	(void)e;
	(void)s;
	fail_msg("a drops probe on a provider");
}

static uint32_t rnd_state = 777;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

struct entry {
	bool live, changed;
	unsigned id, client;
	uint64_t in, out;
};

static json_t *entry_json(const struct entry *x, size_t k)
{
	char client[32];

	snprintf(client, sizeof(client), "198.18.0.%u", x->client);
	return json_pack("[I, s, I, I, I, I, I, I, I, I, I]", (json_int_t)x->id, client,
			 (json_int_t)1795000000, (json_int_t)1, (json_int_t)1, (json_int_t)x->in,
			 (json_int_t)x->out, (json_int_t)0, (json_int_t)0, (json_int_t)0,
			 (json_int_t)k);
}

static struct db_session mk(unsigned id, unsigned client, unsigned svc)
{
	struct db_session s;

	memset(&s, 0, sizeof(s));
	s.role = DB_ROLE_PROVIDER;
	s.s.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.0", s.s.client);
	s.s.client[3] = (uint8_t)client;
	inet_pton(AF_INET, "198.19.0.10", s.s.service);
	s.s.port = (uint16_t)(80 + svc);
	s.s.id = (cn_id_t)id;
	strcpy(s.peer, "198.18.1.1:7447");
	snprintf(s.service_name, sizeof(s.service_name), "s%u", svc);
	s.created = s.refreshed = 1000;
	return s;
}

struct walk_sum {
	uint64_t sum[SERVICES];
};

static int walk_cb(const struct db_session *d, void *arg)
{
	struct walk_sum *w = arg;
	struct cn_coop_addr a = { .family = CN_FAM_INET };
	struct cn_status_client c;
	unsigned svc = (unsigned)(d->service_name[1] - '0');

	memcpy(a.addr, d->s.client, 4);
	if (svc < SERVICES && engine_traffic_find(&eng, d->s.id, &a, &c))
		w->sum[svc] += c.bytes_c2s + c.bytes_s2c;
	return 0;
}

/* the walk the kept sums replace, done here, against them */
static void compare(void)
{
	struct walk_sum w;

	memset(&w, 0, sizeof(w));
	comparing = true;
	assert_int_equal(db_session_foreach(eng.db, DB_ROLE_PROVIDER, walk_cb, &w), 0);
	comparing = false;
	for (unsigned i = 0; i < SERVICES - 1; i++)
		assert_int_equal(eng.status->counts[i].bytes_sum, w.sum[i]);
}

/* A random change of the database: a new session, a renewal (another ID, another service),
 * a revocation, an expiry, or a turn rolled back. */
static bool rolled_back; /* since the last poll: the sums must be made again whole */

static void db_round(struct authd_db *db, unsigned *expire_at)
{
	unsigned id = 1 + rnd(IDS), client = rnd(CLIENTS), svc = rnd(SERVICES);
	struct db_session s = mk(id, client, svc);
	uint32_t r = rnd(100);
	cn_id_t held;

	if (r < 40) { /* stored (a new session or a renewal of its key): the ID must be free */
		if (db_id_in_use(db, s.s.id) == 1 && (db_session_id(db, DB_ROLE_PROVIDER, &s.s,
			&held) != 1 || held != s.s.id))
			return;
		if (rnd(4) == 0)
			s.s.expires = ++*expire_at;
		assert_int_equal(db_session_put(db, &s), 0);
	} else if (r < 60) {
		assert_true(db_session_del(db, DB_ROLE_PROVIDER, &s.s) >= 0);
	} else if (r < 70) {
		assert_true(db_session_expire(db, *expire_at, 0, NULL, NULL) >= 0);
	} else if (r < 75) { /* a turn that fails: its writes are undone */
		assert_int_equal(db_begin(db), 0);
		assert_true(db_session_del(db, DB_ROLE_PROVIDER, &s.s) >= 0);
		db_rollback(db);
		rolled_back = true;
		/* the index in memory, dropped with it, loads again at the next lookup (the
		 * engine's next Authentication); until then a write cannot name the ID it
		 * replaces and the sums are made whole */
		assert_true(db_id_in_use(db, 1) >= 0);
	}
}

static void test_kept_sums_equal_walk(void **state)
{
	static struct entry m[ENTRIES];
	static struct engine_status st;
	static struct svc_count counts[SERVICES - 1];
	char dir[] = "/tmp/test_engine_load.XXXXXX", path[96], err[256], cmd[128];
	unsigned expire_at = 2000;
	long polls_by_changes = 0, walks_due = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/authd.db", dir);
	assert_non_null(eng.db = db_open(path, err, sizeof(err)));
	eng.status = &st;
	st.sp = (struct status_fsm *)&fake_fsm; /* a provider: never dereferenced here */
	for (unsigned i = 0; i < SERVICES - 1; i++)
		snprintf(counts[i].service, sizeof(counts[i].service), "s%u", i);
	st.counts = counts;
	st.n_counts = SERVICES - 1;
	for (unsigned poll = 0; poll < 1500; poll++) {
		json_t *list = json_array(), *gone = json_array(), *msg;
		bool whole = poll % 100 == 0;

		for (unsigned k = 0; k < 1 + rnd(4); k++)
			db_round(eng.db, &expire_at);
		for (size_t k = 0; k < ENTRIES; k++) {
			struct entry *x = &m[k];
			uint32_t r = rnd(100);

			x->changed = false;
			if (!x->live && r < 5) {
				*x = (struct entry){ .live = true, .changed = true, .id = 1 + rnd(IDS),
						     .client = rnd(CLIENTS) };
			} else if (x->live && r < 3) {
				x->live = false;
				json_array_append_new(gone, json_integer((json_int_t)k));
			} else if (x->live && r < 5) { /* renumbered under another ID */
				x->id = 1 + rnd(IDS);
				x->changed = true;
			} else if (x->live && r < 40) {
				x->in += 60 + rnd(100);
				x->out += rnd(3000);
				x->changed = true;
			}
			if (x->live && (x->changed || whole))
				json_array_append_new(list, entry_json(x, k));
		}
		msg = json_pack("{s:s, s:b, s:b, s:o}", "msg", "nfq-traffic", "first", 1, "more", 0,
				"sessions", list);
		if (!whole) {
			json_object_set_new(msg, "delta", json_true());
			json_object_set(msg, "gone", gone);
		}
		assert_true(engine_nfq_traffic(&eng, msg));
		json_decref(msg);
		json_decref(gone);
		now_ms += 1000;
		engine_load_update(&eng);
		compare();
		/* a walk only for the first poll, a whole listing, after a rollback */
		walks_due += poll == 0 || whole || rolled_back;
		polls_by_changes += !(poll == 0 || whole || rolled_back);
		rolled_back = false;
		assert_int_equal(walks, walks_due);
	}
	print_message("%ld polls by changes, %ld walks\n", polls_by_changes, walks);
	assert_true(polls_by_changes > 1000);
	engine_load_free(&eng);
	engine_traffic_free(&eng);
	db_close(eng.db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_sums_equal_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
