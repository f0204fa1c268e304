/* SPDX-License-Identifier: MIT */
/*
 * The live session table (nfq/sesstab.c): add, replace, delete and expiry at scale against a
 * plain model, config sessions under authd ones, sync, the grace period before an entry is
 * reused, and lookups from reader threads while the main thread changes the table.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "rcu.h"
#include "table.h"

/* Session number k: client 198.18.x.y (k's low 16 bits) or 2001:db8::k, port 80 + k / 65536. */
static void mk(struct sess_entry *e, uint32_t k, cn_id_t id, uint64_t expires,
	       enum sess_source src)
{
	uint8_t client[16] = {0}, service[16] = {198, 19, 0, 10};
	int family = k % 3 ? AF_INET : AF_INET6;

	memset(e, 0, sizeof(*e));
	if (family == AF_INET) {
		uint32_t c = htonl(0xc6120000u | (k & 0xffff));

		memcpy(client, &c, 4);
	} else {
		client[0] = 0x20, client[1] = 0x01, client[2] = 0x0d, client[3] = 0xb8;
		memcpy(client + 12, &k, 4);
		service[0] = 0x20, service[1] = 0x01, service[15] = 1;
	}
	sess_key_make(&e->key, family, client, service, (uint16_t)(80 + k / 65536));
	e->id = id;
	e->expires = expires;
	e->source = (uint8_t)src;
	e->used = 1;
}

static const struct tbl_entry *get(const struct sess_table *t, uint32_t k)
{
	struct sess_entry e;

	mk(&e, k, 0, 0, SESS_SRC_AUTHD);
	return tbl_lookup(t, &e.key);
}

static struct sess_key key_of(uint32_t k)
{
	struct sess_entry e;

	mk(&e, k, 0, 0, SESS_SRC_AUTHD);
	return e.key;
}

/* The model: id (0: absent) and expiry of every session number. */
struct model {
	cn_id_t *id;
	uint32_t *exp;
	size_t n, count;
};

static void check_model(const struct sess_table *t, const struct model *m)
{
	size_t k, listed = 0, pos = 0;

	assert_int_equal(tbl_count(t), m->count);
	for (k = 0; k < m->n; k++) {
		const struct tbl_entry *e = get(t, (uint32_t)k);

		if (!m->id[k]) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_int_equal(tbl_entry_id(e), m->id[k]);
		assert_int_equal(tbl_entry_expires(e), m->exp[k]);
	}
	while (tbl_next(t, &pos))
		listed++;
	assert_int_equal(listed, m->count);
}

/* 400,000 random adds, replaces, deletes and expiries over 60,000 keys (index growth,
 * shrinking, tombstones, heap order), checked against the model every 50,000 steps. */
static void test_scale_against_model(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct model m = {.n = 60000};
	uint64_t now = 1000;
	uint32_t rnd = 12345, step;

	(void)state;
	assert_non_null(t);
	m.id = calloc(m.n, sizeof(*m.id));
	m.exp = calloc(m.n, sizeof(*m.exp));
	for (step = 0; step < 400000; step++) {
		uint32_t k, op;
		struct sess_entry e;

		rnd = rnd * 1103515245u + 12345u;
		k = (rnd >> 8) % (uint32_t)m.n;
		/* the first half grows the table, the second half mostly shrinks it */
		op = (rnd >> 3) % 10;
		if (op < (step < 200000 ? 6u : 2u)) {
			uint32_t exp = (rnd & 1) ? (uint32_t)now + 1 + (rnd >> 24) % 50 : 0;

			mk(&e, k, (cn_id_t)(1 + (rnd >> 16) % 0xfffe), exp, SESS_SRC_AUTHD);
			assert_int_equal(tbl_put(t, &e), 0);
			m.count += !m.id[k];
			m.id[k] = e.id;
			m.exp[k] = exp;
		} else if (op < 9) {
			struct sess_key key = key_of(k);

			assert_int_equal(tbl_del(t, &key), m.id[k] != 0);
			m.count -= !!m.id[k];
			m.id[k] = 0;
		} else if (step % 97 == 0) {
			size_t n = 0, i;
			bool more;

			now += 3;
			for (i = 0; i < m.n; i++)
				if (m.id[i] && m.exp[i] && m.exp[i] <= now)
					n++, m.id[i] = 0;
			assert_int_equal(tbl_expire(t, now, SIZE_MAX, &more), n);
			assert_false(more);
			m.count -= n;
		}
		if (step % 50000 == 49999)
			check_model(t, &m);
	}
	check_model(t, &m);
	free(m.id);
	free(m.exp);
	tbl_free(t);
}

/* A listing of changes (tbl_gen_pass, tbl_next_changed: docs/nfq.md "Only what changed")
 * merged into a copy by entry number, as coopnet-authd's engine does, equals a whole listing
 * of the table after every poll, over random adds, renewals, deletions, expiries, syncs and
 * counter changes (the queue threads' additions), with entries reused. */
struct mirror_entry {
	bool live;
	struct sess_key key;
	cn_id_t id;
	uint32_t last_seen;
	uint32_t segs[2], drops[3];
	uint64_t bytes[2];
};

static void mirror_set(struct mirror_entry *m, const struct tbl_entry *x)
{
	memset(m, 0, sizeof(*m));
	m->live = true;
	m->key = x->key;
	m->id = tbl_entry_id(x);
	m->last_seen = atomic_load(&x->last_seen);
	for (int i = 0; i < 2; i++) {
		m->segs[i] = atomic_load(&x->segs[i]);
		m->bytes[i] = atomic_load(&x->bytes[i]);
	}
	for (int i = 0; i < 3; i++)
		m->drops[i] = atomic_load(&x->drops[i]);
}

static void test_changes_against_whole(void **state)
{
	enum { KEYS = 3000, MAXE = 8192 };
	struct sess_table *t = tbl_new(NULL);
	struct mirror_entry *mir = calloc(MAXE, sizeof(*mir)), want;
	uint32_t rnd = 777, since = 0, changed = 0, polls = 0;
	uint64_t now = 1000;

	(void)state;
	assert_non_null(t);
	assert_non_null(mir);
	for (uint32_t step = 0; step < 200000; step++) {
		uint32_t k, op;
		struct sess_entry e;

		rnd = rnd * 1103515245u + 12345u;
		k = (rnd >> 8) % KEYS;
		op = (rnd >> 3) % 16;
		if (op < 4) { /* add, or renew with another ID */
			mk(&e, k, (cn_id_t)(1 + (rnd >> 16) % 0xfffe),
			   (rnd & 1) ? now + 1 + (rnd >> 24) % 40 : 0, SESS_SRC_AUTHD);
			assert_int_equal(tbl_put(t, &e), 0);
		} else if (op < 6) {
			struct sess_key key = key_of(k);

			tbl_del(t, &key);
		} else if (op < 14) { /* what a queue thread adds */
			struct tbl_entry *x = (struct tbl_entry *)get(t, k);
			int d = (int)((rnd >> 20) & 1);

			if (x && (rnd >> 21) % 4) {
				atomic_fetch_add(&x->segs[d], 1);
				atomic_fetch_add(&x->bytes[d], 60 + (rnd >> 24));
				atomic_store(&x->last_seen, (uint32_t)now);
			} else if (x) {
				atomic_fetch_add(&x->drops[(rnd >> 22) % 3], 1);
			}
		} else if (op == 14 && step % 11 == 0) {
			now += 5;
			tbl_expire(t, now, SIZE_MAX, NULL);
		} else if (op == 15 && step % 1000 == 0) { /* a sync that keeps about half */
			struct sess_list l;
			size_t pos = 0;
			const struct tbl_entry *x;

			sess_list_init(&l);
			while ((x = tbl_next(t, &pos)))
				if (x->key.client[15] & 1) {
					struct sess_entry s = {.key = x->key, .id = tbl_entry_id(x),
							       .source = SESS_SRC_AUTHD, .used = 1};

					assert_int_equal(sess_list_push(&l, &s), 0);
				}
			assert_int_equal(tbl_sync_authd(t, &l, NULL), 0);
			sess_list_clear(&l);
		}
		if (step % 500 == 499) { /* a poll: what changed since the last one */
			uint32_t gen = tbl_gen_pass(t);
			size_t pos = 0, live = 0;
			const struct tbl_entry *x;
			bool gone;

			while ((x = tbl_next_changed(t, &pos, since, &gone))) {
				assert_true(pos - 1 < MAXE);
				changed++;
				if (gone)
					mir[pos - 1].live = false;
				else
					mirror_set(&mir[pos - 1], x);
			}
			since = gen;
			polls++;
			/* the copy equals the whole listing */
			pos = 0;
			while ((x = tbl_next(t, &pos))) {
				mirror_set(&want, x);
				assert_memory_equal(&mir[pos - 1], &want, sizeof(want));
				live++;
			}
			for (size_t i = 0; i < MAXE; i++)
				live -= mir[i].live;
			assert_int_equal(live, 0);
		}
	}
	/* the listings of changes carried less than whole ones would have */
	assert_true(polls == 400);
	assert_true(changed < (uint32_t)polls * tbl_count(t));
	free(mir);
	tbl_free(t);
}

/* Expiry is bounded per call and earliest first. */
static void test_expire_bounded(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct sess_entry e;
	uint32_t k;
	bool more;

	(void)state;
	for (k = 0; k < 1000; k++) {
		mk(&e, k, 7, 2000 - k, SESS_SRC_AUTHD); /* k = 999 expires first */
		assert_int_equal(tbl_put(t, &e), 0);
	}
	mk(&e, 5000, 7, 0, SESS_SRC_AUTHD);         /* never */
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(tbl_expire(t, 1000, 10, &more), 0);
	assert_false(more);
	assert_int_equal(tbl_expire(t, 1500, 100, &more), 100);
	assert_true(more);
	assert_null(get(t, 999));
	assert_null(get(t, 900));
	assert_non_null(get(t, 899));
	assert_int_equal(tbl_expire(t, 5000, SIZE_MAX, &more), 900);
	assert_false(more);
	assert_int_equal(tbl_count(t), 1);
	assert_non_null(get(t, 5000));
	tbl_free(t);
}

/* A worker with no static session (the examples' SPs): an empty config is no error. */
static void test_config_empty(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct sess_list none;

	(void)state;
	assert_non_null(t);
	sess_list_init(&none);
	assert_int_equal(tbl_set_config(t, &none), 0);
	assert_int_equal(tbl_count(t), 0);
	tbl_free(t);
}

/* An authd session hides the config one with its key; deleting or expiring it brings the
 * config one back; a reload of the config applies the difference. */
static void test_config_under_authd(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct sess_list cfg;
	struct sess_entry e;
	struct sess_key k1 = key_of(1), k2 = key_of(2);
	bool more;

	(void)state;
	sess_list_init(&cfg);
	mk(&e, 1, 0x1111, 0, SESS_SRC_CONFIG);
	assert_int_equal(sess_list_push(&cfg, &e), 0);
	mk(&e, 2, 0x2222, 0, SESS_SRC_CONFIG);
	assert_int_equal(sess_list_push(&cfg, &e), 0);
	assert_int_equal(tbl_set_config(t, &cfg), 0);
	assert_int_equal(tbl_count(t), 2);
	assert_false(tbl_del(t, &k1)); /* config sessions are not deleted by authd */

	mk(&e, 1, 0xaaaa, 100, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(tbl_entry_id(get(t, 1)), 0xaaaa);
	assert_int_equal(tbl_count(t), 2);
	assert_true(tbl_del(t, &k1));
	assert_int_equal(tbl_entry_id(get(t, 1)), 0x1111);
	assert_int_equal(tbl_entry_expires(get(t, 1)), 0);

	mk(&e, 2, 0xbbbb, 100, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(tbl_expire(t, 200, SIZE_MAX, &more), 1);
	assert_int_equal(tbl_entry_id(get(t, 2)), 0x2222);

	/* reload: session 1 leaves the config, 2 changes ID, 3 is new; an authd session over 3
	 * stays on top */
	mk(&e, 3, 0xcccc, 0, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	cfg.n = 0;
	mk(&e, 2, 0x2223, 0, SESS_SRC_CONFIG);
	assert_int_equal(sess_list_push(&cfg, &e), 0);
	mk(&e, 3, 0x3333, 0, SESS_SRC_CONFIG);
	assert_int_equal(sess_list_push(&cfg, &e), 0);
	assert_int_equal(tbl_set_config(t, &cfg), 0);
	assert_null(get(t, 1));
	assert_int_equal(tbl_entry_id(get(t, 2)), 0x2223);
	assert_int_equal(tbl_entry_id(get(t, 3)), 0xcccc);
	assert_int_equal(tbl_count(t), 2);
	k1 = key_of(3);
	assert_true(tbl_del(t, &k1));
	assert_int_equal(tbl_entry_id(get(t, 3)), 0x3333);
	assert_false(tbl_del(t, &k2));
	sess_list_clear(&cfg);
	tbl_free(t);
}

/* sync: exactly the listed authd sessions afterwards, config ones untouched. */
static void test_sync(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct sess_list l, cfg;
	struct sess_entry e;
	size_t removed;
	uint32_t k;

	(void)state;
	sess_list_init(&l);
	sess_list_init(&cfg);
	mk(&e, 0, 0x0c0c, 0, SESS_SRC_CONFIG);
	assert_int_equal(sess_list_push(&cfg, &e), 0);
	assert_int_equal(tbl_set_config(t, &cfg), 0);
	for (k = 0; k < 20000; k++) {
		mk(&e, k, (cn_id_t)(k + 1), 0, SESS_SRC_AUTHD);
		assert_int_equal(tbl_put(t, &e), 0);
	}
	/* keep the odd ones with new IDs, add 10,000 new ones */
	for (k = 1; k < 30000; k++) {
		if (k < 20000 && k % 2 == 0)
			continue;
		mk(&e, k, 0x7777, 0, SESS_SRC_AUTHD);
		assert_int_equal(sess_list_push(&l, &e), 0);
	}
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	assert_int_equal(removed, 10000); /* the even ones; 0 falls back to its config session */
	assert_int_equal(tbl_count(t), 1 + 10000 + 10000);
	assert_int_equal(tbl_entry_id(get(t, 0)), 0x0c0c);
	for (k = 1; k < 30000; k++) {
		const struct tbl_entry *x = get(t, k);

		if (k < 20000 && k % 2 == 0) {
			assert_null(x);
			continue;
		}
		assert_non_null(x);
		assert_int_equal(tbl_entry_id(x), 0x7777);
	}
	l.n = 0;
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	assert_int_equal(removed, 20000);
	assert_int_equal(tbl_count(t), 1);
	sess_list_clear(&l);
	sess_list_clear(&cfg);
	tbl_free(t);
}

/* Kernel mode's change notes: a sync of the sessions the table holds (same IDs, only a new
 * expiry) notes nothing, where it noted every key and, beyond TBL_MAX_CHANGES, made a full
 * sync of the kernel's sets; a new ID, a new key, a key that goes, an entry that had expired
 * and one put already expired are noted. */
static void test_sync_same_notes_nothing(void **state)
{
	struct sess_table *t = tbl_new(NULL);
	struct sess_list l;
	struct sess_entry e;
	size_t removed, n;
	bool lost;
	uint64_t now = (uint64_t)time(NULL);

	(void)state;
	sess_list_init(&l);
	tbl_changes_track(t, true);
	for (uint32_t k = 0; k < 6000; k++) {
		mk(&e, k, (cn_id_t)(k + 1), now + 3600, SESS_SRC_AUTHD);
		assert_int_equal(sess_list_push(&l, &e), 0);
	}
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	tbl_changes(t, &n, &lost);
	assert_true(lost); /* 6,000 new keys: more than TBL_MAX_CHANGES */
	tbl_changes_clear(t);
	for (size_t i = 0; i < l.n; i++)
		l.v[i].expires = now + 7200; /* the same sessions, a new expiry */
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	assert_int_equal(removed, 0);
	tbl_changes(t, &n, &lost);
	assert_false(lost);
	assert_int_equal(n, 0);
	assert_int_equal(tbl_entry_expires(get(t, 5)), now + 7200);
	l.v[5].id = 0x7777;            /* a new ID */
	l.v[6].expires = now - 1;      /* put already expired */
	l.n = 5999;                    /* the last one goes */
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	assert_int_equal(removed, 1);
	tbl_changes(t, &n, &lost);
	assert_false(lost);
	assert_int_equal(n, 3);
	tbl_changes_clear(t);
	l.v[6].expires = now + 7200;   /* again live: its elements were gone */
	assert_int_equal(tbl_sync_authd(t, &l, &removed), 0);
	tbl_changes(t, &n, &lost);
	assert_int_equal(n, 1);
	sess_list_clear(&l);
	tbl_free(t);
}

/* A deleted entry is not reused while a reader that may hold it is online. */
static void test_entry_grace(void **state)
{
	struct rcu r;
	struct sess_table *t;
	const struct tbl_entry *a, *b, *c;
	struct sess_entry e;
	struct sess_key ka = key_of(1);

	(void)state;
	rcu_init(&r, 1);
	t = tbl_new(&r);
	mk(&e, 1, 0x1111, 0, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	rcu_online(&r, 0);
	a = tbl_lookup(t, &ka);         /* reader 0 holds a */
	atomic_store(&((struct tbl_entry *)(uintptr_t)a)->segs[0], 7);
	assert_true(tbl_del(t, &ka));
	mk(&e, 2, 0x2222, 0, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	b = get(t, 2);
	assert_ptr_not_equal(a, b);
	assert_int_equal(tbl_reclaim(t), 1);
	assert_memory_equal(&a->key, &ka, sizeof(ka)); /* still what the reader saw */
	assert_int_equal(tbl_entry_id(a), 0x1111);
	rcu_offline(&r, 0);
	assert_int_equal(tbl_reclaim(t), 0);
	mk(&e, 3, 0x3333, 0, SESS_SRC_AUTHD);
	assert_int_equal(tbl_put(t, &e), 0);
	c = get(t, 3);
	assert_ptr_equal(a, c);         /* reused after the grace period */
	assert_int_equal(atomic_load(&c->segs[0]), 0); /* a new session's counters */
	tbl_free(t);
	rcu_destroy(&r);
}

/* ---- readers while the main thread changes the table ---- */

#define STABLE 2000   /* keys 0..1999: always present, ID k + 1 */
#define FLAP 2000     /* keys 2000..3999: ID flips between 0x100 and 0x200 */
#define CHURN 40000   /* keys 4000..: added and deleted (index growth, reuse) */

struct reader_arg {
	struct rcu *r;
	struct sess_table *t;
	int index;
	_Atomic bool *stop;
	_Atomic uint64_t lookups; /* read by the main thread */
	uint64_t errors;
	uint32_t first_key, first_kind; /* the first wrong answer, for the failure message */
};

enum { RD_OK, RD_MISSING, RD_OTHER_KEY, RD_WRONG_ID, RD_REJECTS, RD_REUSED };

/* A CHURN key's ID: its own, so that an entry reused for another key shows. */
static cn_id_t churn_id(uint32_t k)
{
	return (cn_id_t)(k & 0xffff); /* k < 65536, never 0 */
}

/* What a queue thread would get for key k: one load of the IDs, as nfq/logic.c decides a
 * segment on one load (tbl_entry_accepts, tbl_entry_id once). Reading the ID twice (once per
 * comparison) saw a FLAP key's renewal between the two loads under load and called a correct
 * table wrong: 0x200 then 0x100 fails "!= 0x100 && != 0x200". */
static int reader_check(const struct tbl_entry *e, const struct sess_key *key, uint32_t k,
			uint64_t now)
{
	cn_id_t id;

	if (!e)
		return k < STABLE + FLAP ? RD_MISSING : RD_OK; /* CHURN keys come and go */
	if (memcmp(&e->key, key, sizeof(*key)) != 0)
		return RD_OTHER_KEY;
	id = tbl_entry_id(e);
	if (k >= STABLE + FLAP)
		return id == churn_id(k) ? RD_OK : RD_WRONG_ID;
	if (k < STABLE)
		return id == k + 1 ? RD_OK : RD_WRONG_ID;
	if (id != 0x100 && id != 0x200)
		return RD_WRONG_ID;
	/* every FLAP key was renewed before the readers started, so the other ID is in its
	 * grace time: a segment with either must pass (prev_until is written before the IDs) */
	return tbl_entry_accepts(e, 0x100, now) && tbl_entry_accepts(e, 0x200, now) ? RD_OK
										  : RD_REJECTS;
}

static void reader_note(struct reader_arg *a, uint32_t k, int kind)
{
	if (kind != RD_OK && a->errors++ == 0)
		a->first_key = k, a->first_kind = (uint32_t)kind;
}

/* Lookups in batches as a queue thread does them: half of them of CHURN keys, whose entries
 * the main thread deletes and reuses; the last CHURN entry found is held to the end of the
 * batch and must still be that key's (an entry reused inside the grace period is not). */
static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct sess_key keys[STABLE + FLAP], ck, held_key;
	const struct tbl_entry *e, *held;
	uint32_t k, held_k = 0, rnd = (uint32_t)a->index * 7919u + 1;
	uint64_t now = (uint64_t)time(NULL);
	int i;

	for (k = 0; k < STABLE + FLAP; k++)
		keys[k] = key_of(k);
	while (!atomic_load(a->stop)) {
		rcu_online(a->r, a->index);
		held = NULL;
		for (i = 0; i < 200; i++) {
			rnd = rnd * 1103515245u + 12345u;
			if (rnd >> 31) {
				k = (rnd >> 8) % (STABLE + FLAP);
				reader_note(a, k, reader_check(tbl_lookup(a->t, &keys[k]),
							       &keys[k], k, now));
			} else {
				k = STABLE + FLAP + (rnd >> 8) % CHURN;
				ck = key_of(k);
				e = tbl_lookup(a->t, &ck);
				reader_note(a, k, reader_check(e, &ck, k, now));
				if (e)
					held = e, held_k = k, held_key = ck;
			}
			a->lookups++;
			/* reader 0 gives up the CPU inside its batch (what a loaded machine does
			 * to a queue thread): the writer deletes, reclaims and reuses around its
			 * held entry; reader 1 runs on and is preempted anywhere, also inside a
			 * lookup, across an index rebuild */
			if (a->index == 0 && i % 50 == 49)
				sched_yield();
		}
		if (held && reader_check(held, &held_key, held_k, now) != RD_OK)
			reader_note(a, held_k, RD_REUSED);
		rcu_offline(a->r, a->index);
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct rcu r;
	struct sess_table *t;
	struct reader_arg ra[2];
	pthread_t tid[2];
	_Atomic bool stop = false;
	struct sess_entry e;
	uint32_t k, round;
	int i;

	(void)state;
	rcu_init(&r, 2);
	t = tbl_new(&r);
	for (k = 0; k < STABLE + FLAP; k++) {
		mk(&e, k, (cn_id_t)(k < STABLE ? k + 1 : 0x200), 0, SESS_SRC_AUTHD);
		assert_int_equal(tbl_put(t, &e), 0);
		if (k >= STABLE) { /* renewed: 0x200 stays valid for the grace time */
			mk(&e, k, 0x100, 0, SESS_SRC_AUTHD);
			assert_int_equal(tbl_put(t, &e), 0);
		}
	}
	for (i = 0; i < 2; i++) {
		ra[i] = (struct reader_arg){.r = &r, .t = t, .index = i, .stop = &stop};
		assert_int_equal(pthread_create(&tid[i], NULL, reader, &ra[i]), 0);
	}
	for (round = 0; round < 6; round++) {
		/* grow to 42,000 and back: rebuilds both ways, entries reused */
		for (k = 0; k < CHURN; k++) {
			mk(&e, STABLE + FLAP + k, churn_id(STABLE + FLAP + k), 0, SESS_SRC_AUTHD);
			assert_int_equal(tbl_put(t, &e), 0);
			mk(&e, STABLE + (k % FLAP), (round + k) % 2 ? 0x200 : 0x100, 0,
			   SESS_SRC_AUTHD);
			assert_int_equal(tbl_put(t, &e), 0);
		}
		for (k = 0; k < CHURN; k++) {
			struct sess_key key = key_of(STABLE + FLAP + k);

			assert_true(tbl_del(t, &key));
			if (k % 1000 == 0) {
				tbl_reclaim(t);
				rcu_reclaim(&r);
			}
		}
		tbl_reclaim(t);
		rcu_reclaim(&r);
	}
	/* a reader the scheduler has not run yet (a loaded machine) gets up to 10 s to look up
	 * before the stop: "no lookup" must mean a broken reader, not a busy CI machine */
	for (i = 0; i < 10000 && (atomic_load(&ra[0].lookups) == 0 || atomic_load(&ra[1].lookups) == 0);
	     i++)
		usleep(1000);
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++) {
		pthread_join(tid[i], NULL);
		assert_true(ra[i].lookups > 0);
		if (ra[i].errors)
			print_error("reader %d: %llu wrong answers, the first for key %u (%s)\n", i,
				    (unsigned long long)ra[i].errors, ra[i].first_key,
				    (const char *[]){"", "missing", "another key's entry", "wrong ID",
						     "an ID in its grace time rejected",
						     "a held entry reused in its grace period"}
						     [ra[i].first_kind]);
		assert_int_equal(ra[i].errors, 0);
	}
	assert_int_equal(tbl_count(t), STABLE + FLAP);
	assert_int_equal(tbl_reclaim(t), 0);
	rcu_destroy(&r);
	tbl_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_against_model),
		cmocka_unit_test(test_expire_bounded),
		cmocka_unit_test(test_changes_against_whole),
		cmocka_unit_test(test_config_empty),
		cmocka_unit_test(test_config_under_authd),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_sync_same_notes_nothing),
		cmocka_unit_test(test_entry_grace),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
