/* SPDX-License-Identifier: MIT */
/* lib/grow.c: doubling, the first capacity, overflow refused with the array kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "grow.h"

static void test_doubles_from_first(void **state)
{
	int *v = NULL, *n;
	size_t cap = 0, len = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		n = grow(v, len, &cap, sizeof(*v), 4);
		assert_non_null(n);
		v = n;
		v[len++] = i;
		if (len <= 4)
			assert_int_equal(cap, 4);
	}
	assert_int_equal(cap, 128);   /* 4, 8, ..., 128 */
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], i);
	assert_ptr_equal(grow(v, 99, &cap, sizeof(*v), 4), v);   /* room left: same array */
	free(v);
}

static void test_overflow_keeps_array(void **state)
{
	char *v = malloc(8), *n;
	size_t cap = SIZE_MAX / 2 + 1;

	(void)state;
	assert_non_null(v);
	errno = 0;
	n = grow(v, cap, &cap, 1, 16);
	assert_null(n);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(cap, SIZE_MAX / 2 + 1);
	cap = 4;
	n = grow(v, 4, &cap, SIZE_MAX / 4, 16);   /* 8 elements of SIZE_MAX / 4 bytes */
	assert_null(n);
	assert_int_equal(cap, 4);
	free(v);
}

/* grow_to: room for a bulk insert in one reallocation, doubling from the capacity. */
static void test_grow_to(void **state)
{
	int *v = NULL, *n;
	size_t cap = 0;

	(void)state;
	n = grow_to(v, 100, &cap, sizeof(*v), 64);
	assert_non_null(n);
	assert_int_equal(cap, 128);     /* 64, 128 */
	v = n;
	for (int i = 0; i < 100; i++)
		v[i] = i;
	assert_ptr_equal(grow_to(v, 128, &cap, sizeof(*v), 64), v);   /* fits: same array */
	n = grow_to(v, 1000, &cap, sizeof(*v), 64);
	assert_non_null(n);
	assert_int_equal(cap, 1024);    /* 256, 512, 1024 */
	v = n;
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], i);
	errno = 0;
	assert_null(grow_to(v, SIZE_MAX, &cap, sizeof(*v), 64));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(cap, 1024);    /* kept, with the array */
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_from_first),
		cmocka_unit_test(test_overflow_keeps_array),
		cmocka_unit_test(test_grow_to),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
