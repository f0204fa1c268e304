/* SPDX-License-Identifier: MIT */
/* nfq/held.c and nfq/heldnotes.c: the held SYNs of a queue thread (by key, by deadline, a
 * full table refuses) and the notes that tell the queue threads which keys changed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "held.h"

static struct sess_key key(unsigned client)
{
	uint8_t c[4] = { 198, 18, (uint8_t)(client >> 8), (uint8_t)client };
	uint8_t s[4] = { 198, 19, 0, 1 };
	struct sess_key k;

	sess_key_make(&k, AF_INET, c, s, 8081);
	return k;
}

static int add(struct held_table *h, unsigned client, uint32_t pkt, uint64_t deadline)
{
	struct sess_key k = key(client);
	uint8_t syn[60];

	memset(syn, (int)(pkt & 0xff), sizeof(syn));
	return held_add(h, &k, pkt, 7, deadline, CN_CSUM_COMPLETE, syn, sizeof(syn));
}

/* What a callback saw, and what it answers. */
struct seen {
	uint32_t pkt[64];
	size_t n;
	bool release;      /* the answer of decide() */
	uint32_t keep_pkt; /* ... except for this packet id (0: none) */
};

static bool decide(void *ctx, struct held_syn *s)
{
	struct seen *w = ctx;

	assert_true(w->n < 64);
	assert_int_equal(s->len, 60);
	assert_int_equal(s->buf[0], s->pkt_id & 0xff); /* its own copy of the SYN */
	assert_int_equal(s->mark, 7);
	w->pkt[w->n++] = s->pkt_id;
	return w->release && s->pkt_id != w->keep_pkt;
}

static bool expire_all(void *ctx, struct held_syn *s)
{
	(void)ctx;
	(void)s;
	return true;
}

static void test_release_on_key_change(void **state)
{
	struct held_table h;
	struct seen w = { .release = true };
	struct sess_key k1 = key(1), k9 = key(9);

	(void)state;
	assert_int_equal(held_init(&h, 16), 0);
	assert_int_equal(add(&h, 1, 101, 1000), 0);
	assert_int_equal(add(&h, 2, 201, 1000), 0);
	assert_int_equal(add(&h, 1, 102, 1001), 0); /* the same client again: chained */
	assert_int_equal(add(&h, 3, 301, 1002), 0);
	assert_int_equal(held_count(&h), 4);

	/* a change of a key nobody waits for decides nothing */
	assert_int_equal(held_key_changed(&h, &k9, decide, &w), 0);
	assert_int_equal(w.n, 0);
	/* key 1: both of its SYNs, in arrival order, and only those */
	assert_int_equal(held_key_changed(&h, &k1, decide, &w), 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.pkt[0], 101);
	assert_int_equal(w.pkt[1], 102);
	assert_int_equal(held_count(&h), 2);
	w.n = 0;
	assert_int_equal(held_key_changed(&h, &k1, decide, &w), 0);
	assert_int_equal(w.n, 0);

	/* a change that does not give the session yet keeps the SYN held */
	{
		struct sess_key k2 = key(2);

		w.release = false;
		assert_int_equal(held_key_changed(&h, &k2, decide, &w), 0);
		assert_int_equal(w.n, 1);
		assert_int_equal(held_count(&h), 2);
	}
	held_free(&h);
	held_free(&h); /* twice: the table is zeroed */
}

static void test_chain_middle_release(void **state)
{
	struct held_table h;
	struct seen w = { .release = true, .keep_pkt = 2 };
	struct sess_key k = key(5);

	(void)state;
	assert_int_equal(held_init(&h, 8), 0);
	for (uint32_t p = 1; p <= 3; p++)
		assert_int_equal(add(&h, 5, p, 100 + p), 0);
	/* 1 and 3 go, 2 stays: the chain is 2 alone */
	assert_int_equal(held_key_changed(&h, &k, decide, &w), 2);
	assert_int_equal(held_count(&h), 1);
	w.n = 0;
	w.keep_pkt = 0;
	assert_int_equal(held_key_changed(&h, &k, decide, &w), 1);
	assert_int_equal(w.pkt[0], 2);
	assert_int_equal(held_count(&h), 0);
	assert_true(held_next_deadline(&h) == UINT64_MAX);
	held_free(&h);
}

static void test_expire_on_deadline(void **state)
{
	struct held_table h;
	struct seen w = { .release = false }; /* expiry ignores the answer */

	(void)state;
	assert_int_equal(held_init(&h, 16), 0);
	assert_true(held_next_deadline(&h) == UINT64_MAX);
	assert_int_equal(add(&h, 1, 1, 1000), 0);
	assert_int_equal(add(&h, 2, 2, 1000), 0);
	assert_int_equal(add(&h, 3, 3, 1500), 0);
	assert_int_equal(add(&h, 4, 4, 1200), 0); /* out of order: put in its place */
	assert_true(held_next_deadline(&h) == 1000);
	assert_int_equal(held_expire(&h, 999, decide, &w), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(held_expire(&h, 1000, decide, &w), 2);
	assert_true(held_next_deadline(&h) == 1200);
	assert_int_equal(held_expire(&h, 1499, decide, &w), 1);
	assert_int_equal(w.pkt[2], 4);
	assert_int_equal(held_expire(&h, 5000, decide, &w), 1);
	assert_int_equal(w.pkt[3], 3);
	assert_int_equal(held_count(&h), 0);
	/* the keys left the index with them */
	{
		struct sess_key k1 = key(1);

		w.n = 0;
		assert_int_equal(held_key_changed(&h, &k1, decide, &w), 0);
		assert_int_equal(w.n, 0);
	}
	held_free(&h);
}

static void test_full_refuses(void **state)
{
	struct held_table h;
	struct seen w = { .release = true };
	struct sess_key k = key(2);
	uint8_t big[HELD_COPY + 1] = { 0 };

	(void)state;
	assert_int_equal(held_init(&h, 3), 0);
	assert_int_equal(add(&h, 1, 1, 10), 0);
	assert_int_equal(add(&h, 2, 2, 10), 0);
	assert_int_equal(add(&h, 3, 3, 10), 0);
	assert_int_equal(add(&h, 4, 4, 10), -1); /* full: the caller drops and counts it */
	assert_int_equal(held_count(&h), 3);
	assert_int_equal(held_add(&h, &k, 9, 0, 10, CN_CSUM_COMPLETE, big, sizeof(big)), -1);
	/* a release makes room again */
	assert_int_equal(held_key_changed(&h, &k, decide, &w), 1);
	assert_int_equal(add(&h, 4, 4, 10), 0);
	assert_int_equal(held_count(&h), 3);
	held_free(&h);

	assert_int_equal(held_init(&h, 0), -1);
	assert_int_equal(held_init(&h, HELD_MAX_CAP + 1), -1);
	held_free(&h);
}

/* An IPv4 SYN from 198.18.0.9:sport to 198.19.0.1:8081 with sequence number seq. */
static void syn4(uint8_t p[40], uint16_t sport, uint32_t seq, uint16_t ipid)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[4] = (uint8_t)(ipid >> 8);
	p[5] = (uint8_t)ipid;
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, (uint8_t[]){ 198, 18, 0, 9 }, 4);
	memcpy(p + 16, (uint8_t[]){ 198, 19, 0, 1 }, 4);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = 8081 >> 8;
	p[23] = 8081 & 0xff;
	for (int i = 0; i < 4; i++)
		p[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
	p[32] = 5 << 4;
	p[33] = 0x02; /* SYN */
	p[34] = 0xff;
}

/* The client's TCP sends its SYN again while the first is held: the copy is not held (the
 * caller drops it), a new connection (another port or sequence number) of the key is. */
static void test_retransmission_not_held_twice(void **state)
{
	struct held_table h;
	struct sess_key k = key(9);
	uint8_t p[40];

	(void)state;
	assert_int_equal(held_init(&h, 8), 0);
	syn4(p, 40000, 0x11223344, 1);
	assert_int_equal(held_add(&h, &k, 1, 0, 10, CN_CSUM_COMPLETE, p, 40), 0);
	syn4(p, 40000, 0x11223344, 2); /* the retransmission: another IP id, same SYN */
	assert_int_equal(held_add(&h, &k, 2, 0, 11, CN_CSUM_COMPLETE, p, 40), 1);
	syn4(p, 40001, 0x11223344, 3); /* another connection of the client */
	assert_int_equal(held_add(&h, &k, 3, 0, 12, CN_CSUM_COMPLETE, p, 40), 0);
	syn4(p, 40000, 0x55667788, 4); /* the same port, a new connection */
	assert_int_equal(held_add(&h, &k, 4, 0, 13, CN_CSUM_COMPLETE, p, 40), 0);
	assert_int_equal(held_count(&h), 3);
	/* released: a later SYN of that connection is held again */
	assert_int_equal(held_expire(&h, 10, expire_all, NULL), 1);
	syn4(p, 40000, 0x11223344, 5);
	assert_int_equal(held_add(&h, &k, 5, 0, 20, CN_CSUM_COMPLETE, p, 40), 0);
	assert_int_equal(held_count(&h), 3);
	held_free(&h);
}

/* Random adds, key changes, expiries and re-checks of everything against a model. */
static void test_random_model(void **state)
{
	enum { CAP = 64, KEYS = 24 };
	struct model { bool on; unsigned client; uint64_t deadline; } m[4096];
	struct held_table h;
	uint32_t next_pkt = 1;
	uint64_t now = 0;

	(void)state;
	memset(m, 0, sizeof(m));
	srand(11);
	assert_int_equal(held_init(&h, CAP), 0);
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 10;
		size_t live = 0;

		now += (uint64_t)(rand() % 3);
		if (op < 5) {
			unsigned c = (unsigned)(rand() % KEYS);
			int r;

			for (uint32_t p = 1; p < next_pkt; p++)
				live += m[p].on;
			r = add(&h, c, next_pkt, now + 20);
			assert_int_equal(r, live < CAP ? 0 : -1);
			if (r == 0 && next_pkt < 4096)
				m[next_pkt] = (struct model){ .on = true, .client = c, .deadline = now + 20 };
			if (r == 0)
				next_pkt++;
		} else if (op < 8) {
			unsigned c = (unsigned)(rand() % KEYS);
			struct sess_key k = key(c);
			struct seen w = { .release = true };
			size_t want = 0;

			for (uint32_t p = 1; p < next_pkt; p++)
				if (m[p].on && m[p].client == c)
					want++;
			if (want > 64)
				continue;
			assert_int_equal(held_key_changed(&h, &k, decide, &w), want);
			for (size_t i = 0; i < w.n; i++) {
				assert_true(m[w.pkt[i]].on && m[w.pkt[i]].client == c);
				assert_true(i == 0 || w.pkt[i] > w.pkt[i - 1]); /* arrival order */
				m[w.pkt[i]].on = false;
			}
		} else {
			struct seen w = { .release = false };
			size_t want = 0;

			for (uint32_t p = 1; p < next_pkt; p++)
				if (m[p].on && m[p].deadline <= now)
					want++;
			if (want > 64)
				continue;
			assert_int_equal(held_expire(&h, now, decide, &w), want);
			for (size_t i = 0; i < w.n; i++)
				m[w.pkt[i]].on = false;
		}
		if (next_pkt >= 4000)
			break;
		live = 0;
		for (uint32_t p = 1; p < next_pkt; p++)
			live += m[p].on;
		assert_int_equal(held_count(&h), live);
	}
	{
		struct seen w = { .release = true };
		size_t live = held_count(&h);

		if (live <= 64)
			assert_int_equal(held_recheck_all(&h, decide, &w), live);
	}
	held_free(&h);
}

static void test_notes(void **state)
{
	struct held_notes *n = held_notes_new(2);
	struct sess_key *out = calloc(HELD_NOTES, sizeof(*out));
	struct tbl_change c[3];
	uint64_t seen0 = 0, seen1 = 0, v;

	(void)state;
	assert_non_null(n);
	assert_non_null(out);
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 3; i++)
		c[i].key = key((unsigned)(40 + i));
	assert_int_equal(held_notes_take(n, &seen0, out), 0);
	held_notes_post(n, c, 0, false); /* nothing: no wake */
	assert_int_equal(read(n->wake_fd[0], &v, sizeof(v)), -1);

	held_notes_post(n, c, 3, false);
	assert_int_equal(read(n->wake_fd[0], &v, sizeof(v)), sizeof(v)); /* both woken */
	assert_int_equal(read(n->wake_fd[1], &v, sizeof(v)), sizeof(v));
	assert_int_equal(held_notes_take(n, &seen0, out), 3);
	assert_memory_equal(&out[2], &c[2].key, sizeof(out[2]));
	assert_int_equal(held_notes_take(n, &seen0, out), 0); /* seen */
	/* the other thread has its own cursor */
	held_notes_post(n, c, 1, false);
	assert_int_equal(held_notes_take(n, &seen1, out), 4);
	/* the change-set's keys were not all noted: everything */
	held_notes_post(n, NULL, 0, true);
	assert_int_equal(held_notes_take(n, &seen0, out), -1);
	assert_int_equal(held_notes_take(n, &seen0, out), 0);
	assert_int_equal(held_notes_take(n, &seen1, out), -1);
	/* a reader further behind than the ring: everything */
	for (int i = 0; i < HELD_NOTES / 3 + 2; i++)
		held_notes_post(n, c, 3, false);
	assert_int_equal(held_notes_take(n, &seen1, out), -1);
	held_notes_post(n, c, 2, false);
	assert_int_equal(held_notes_take(n, &seen1, out), 2);
	held_notes_free(n);
	held_notes_free(NULL);
	held_notes_post(NULL, c, 3, false); /* no queue threads: nothing */
	assert_null(held_notes_new(0));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_on_key_change),
		cmocka_unit_test(test_chain_middle_release),
		cmocka_unit_test(test_expire_on_deadline),
		cmocka_unit_test(test_full_refuses),
		cmocka_unit_test(test_retransmission_not_held_twice),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_notes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
