/* SPDX-License-Identifier: MIT */
/* lib/dheap: the deadline heap, checked against a plain array of keys (the model). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dheap.h"

#define CAP 1000u

static uint64_t model[CAP]; /* UINT64_MAX: not in the heap */

/* realloc fails at the fail_at-th call from now (0: never): dheap_grow's ENOMEM paths */
static unsigned fail_at, realloc_calls;
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
	if (fail_at != 0 && ++realloc_calls == fail_at)
		return NULL;
	return __real_realloc(p, n);
}

static void fail_realloc_at(unsigned k)
{
	fail_at = k;
	realloc_calls = 0;
}

/* A tiny deterministic generator (xorshift), so a failure repeats. */
static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Every node where pos says, every parent no later than its children, the model's minimum
 * on top, and the same slots in both. */
static void check(const struct dheap *h)
{
	uint64_t min = UINT64_MAX;
	size_t in = 0;

	for (size_t i = 0; i < h->n; i++) {
		assert_int_equal(h->pos[h->node[i].slot], i);
		assert_int_equal(h->node[i].key, model[h->node[i].slot]);
		if (i > 0)
			assert_true(h->node[(i - 1) / 2].key <= h->node[i].key);
	}
	for (uint32_t s = 0; s < h->cap; s++) {
		assert_int_equal(dheap_contains(h, s), model[s] != UINT64_MAX);
		if (model[s] != UINT64_MAX) {
			in++;
			if (model[s] < min)
				min = model[s];
		}
	}
	assert_int_equal(dheap_size(h), in);
	assert_int_equal(dheap_top_key(h), min);
	if (in)
		assert_int_equal(model[dheap_top(h)], min);
	else
		assert_int_equal(dheap_top(h), DHEAP_NONE);
}

static void reset_model(void)
{
	for (size_t i = 0; i < CAP; i++)
		model[i] = UINT64_MAX;
}

static void set(struct dheap *h, uint32_t s, uint64_t k)
{
	dheap_set(h, s, k);
	model[s] = k;
}

static void del(struct dheap *h, uint32_t s)
{
	dheap_remove(h, s);
	model[s] = UINT64_MAX;
}

static void test_order(void **state)
{
	struct dheap h;
	uint64_t last = 0;

	(void)state;
	reset_model();
	assert_int_equal(dheap_init(&h, CAP), 0);
	check(&h);
	for (uint32_t s = 0; s < CAP; s++)
		set(&h, s, rnd() % 5000); /* duplicates among them */
	check(&h);
	/* popping gives the keys in order, each slot once */
	for (size_t i = 0; i < CAP; i++) {
		uint32_t s = dheap_top(&h);

		assert_true(dheap_top_key(&h) >= last);
		last = dheap_top_key(&h);
		assert_int_equal(model[s], last);
		del(&h, s);
	}
	check(&h);
	assert_int_equal(dheap_top_key(&h), UINT64_MAX);
	dheap_fini(&h);
}

static void test_update(void **state)
{
	struct dheap h;

	(void)state;
	reset_model();
	assert_int_equal(dheap_init(&h, CAP), 0);
	for (uint32_t s = 0; s < 100; s++)
		set(&h, s, 1000 + s * 10);
	/* earlier: to the top */
	set(&h, 57, 5);
	check(&h);
	assert_int_equal(dheap_top(&h), 57);
	/* later: the top goes down and the next one comes up */
	set(&h, 57, 100000);
	check(&h);
	assert_int_equal(dheap_top(&h), 0);
	set(&h, 0, 1005); /* between slot 0's and slot 1's old keys */
	check(&h);
	assert_int_equal(dheap_top(&h), 0);
	set(&h, 0, 1015);
	check(&h);
	assert_int_equal(dheap_top(&h), 1);
	/* the same key again changes nothing */
	set(&h, 1, 1010);
	check(&h);
	assert_int_equal(dheap_size(&h), 100);
	dheap_fini(&h);
}

static void test_remove_middle(void **state)
{
	struct dheap h;

	(void)state;
	reset_model();
	assert_int_equal(dheap_init(&h, CAP), 0);
	for (uint32_t s = 0; s < 200; s++)
		set(&h, s, rnd() % 100000);
	/* from the middle, the top, the last position, and one not in the heap */
	del(&h, h.node[h.n / 2].slot);
	check(&h);
	del(&h, dheap_top(&h));
	check(&h);
	del(&h, h.node[h.n - 1].slot);
	check(&h);
	dheap_remove(&h, 500);
	check(&h);
	/* a removed slot never comes back on top, and can be put back */
	for (uint32_t s = 0; s < 200; s += 2)
		del(&h, s);
	check(&h);
	while (dheap_size(&h) > 0) {
		assert_int_equal(dheap_top(&h) % 2, 1);
		del(&h, dheap_top(&h));
	}
	set(&h, 4, 7);
	check(&h);
	assert_int_equal(dheap_top(&h), 4);
	dheap_fini(&h);
}

/* Random inserts, moves and removals: after each the heap matches the model. */
static void test_random_ops(void **state)
{
	struct dheap h;

	(void)state;
	reset_model();
	assert_int_equal(dheap_init(&h, CAP), 0);
	for (int i = 0; i < 20000; i++) {
		uint32_t s = (uint32_t)(rnd() % CAP);
		unsigned op = (unsigned)(rnd() % 4);

		if (op == 0)
			del(&h, s);
		else if (op == 1 && dheap_size(&h))
			set(&h, dheap_top(&h), dheap_top_key(&h) + rnd() % 3000); /* a handled timer */
		else
			set(&h, s, rnd() % 100000);
		if (i % 97 == 0)
			check(&h);
	}
	check(&h);
	dheap_fini(&h);
}

static void test_capacity(void **state)
{
	struct dheap h;

	(void)state;
	reset_model();
	errno = 0;
	assert_int_equal(dheap_init(&h, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dheap_init(&h, DHEAP_NONE), -1);
	assert_int_equal(dheap_top_key(&h), UINT64_MAX);
	dheap_fini(&h); /* after a failed init: nothing to free */
	assert_int_equal(dheap_init(&h, 3), 0);
	for (uint32_t s = 0; s < 3; s++)
		set(&h, s, 30 - s);
	/* every slot in, full: a slot past cap is ignored, the others keep their place */
	dheap_set(&h, 3, 1);
	assert_false(dheap_contains(&h, 3));
	dheap_remove(&h, 3);
	check(&h);
	assert_int_equal(dheap_size(&h), 3);
	assert_int_equal(dheap_top(&h), 2);
	dheap_fini(&h);
	dheap_fini(&h); /* twice is harmless */
}

/* Growing keeps every node and its place; new slots are usable and start outside; a smaller
 * cap changes nothing; a failed reallocation (either array) leaves a valid heap of the old
 * size. */
static void test_grow(void **state)
{
	struct dheap h;
	size_t cap = 4;

	(void)state;
	reset_model();
	assert_int_equal(dheap_init(&h, cap), 0);
	for (uint32_t s = 0; s < cap; s++)
		set(&h, s, rnd() % 1000);
	while (cap < CAP) {
		size_t next = cap * 2 < CAP ? cap * 2 : CAP;

		assert_int_equal(dheap_grow(&h, next), 0);
		assert_int_equal(h.cap, next);
		check(&h);
		/* fill the new slots, move and remove some old ones */
		for (uint32_t s = (uint32_t)cap; s < next; s++)
			set(&h, s, rnd() % 1000);
		for (uint32_t k = 0; k < cap / 2; k++) {
			uint32_t s = (uint32_t)(rnd() % next);

			if (k % 3 == 0)
				del(&h, s);
			else
				set(&h, s, rnd() % 1000);
		}
		check(&h);
		cap = next;
	}
	assert_int_equal(dheap_grow(&h, 10), 0); /* smaller: nothing */
	assert_int_equal(h.cap, CAP);
	errno = 0;
	assert_int_equal(dheap_grow(&h, DHEAP_NONE), -1);
	assert_int_equal(errno, EINVAL);
	check(&h);
	dheap_fini(&h);

	/* out of memory at the first and at the second array */
	for (unsigned k = 1; k <= 2; k++) {
		reset_model();
		assert_int_equal(dheap_init(&h, 8), 0);
		for (uint32_t s = 0; s < 8; s++)
			set(&h, s, 100 - s);
		fail_realloc_at(k);
		errno = 0;
		assert_int_equal(dheap_grow(&h, 64), -1);
		assert_int_equal(errno, ENOMEM);
		fail_realloc_at(0);
		assert_int_equal(h.cap, 8);
		check(&h);
		dheap_set(&h, 8, 1); /* still past cap: ignored */
		assert_false(dheap_contains(&h, 8));
		assert_int_equal(dheap_grow(&h, 64), 0); /* and a later growth works */
		set(&h, 63, 1);
		check(&h);
		assert_int_equal(dheap_top(&h), 63);
		dheap_fini(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_remove_middle),
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
