/* SPDX-License-Identifier: MIT */
/* The parent/engine messages (authd/imsg.c): one receive-and-dispatch for both sides, over a
 * real socketpair sized by imsg_pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "imsg.h"

static int got_a, got_b;
static json_int_t last_n;

static void on_a(void *ctx, const json_t *msg)
{
	assert_ptr_equal(ctx, &got_a);
	got_a++;
	last_n = json_integer_value(json_object_get(msg, "n"));
}

static void on_b(void *ctx, const json_t *msg)
{
	(void)ctx;
	(void)msg;
	got_b++;
}

static const struct imsg_handler table[] = {
	{ .msg = "a", .fn = on_a },
	{ .msg = "b", .fn = on_b },
};
#define N (sizeof(table) / sizeof(table[0]))

static void test_dispatch_by_kind(void **state)
{
	char err[256];
	int sp[2];

	(void)state;
	assert_int_equal(imsg_pair(sp), 0);
	/* each kind to its handler, with its fields */
	assert_int_equal(imsg_send(sp[0], json_pack("{s:s, s:i}", "msg", "a", "n", 7)), 0);
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), 0);
	assert_int_equal(got_a, 1);
	assert_int_equal(last_n, 7);
	assert_int_equal(imsg_send(sp[0], json_pack("{s:s}", "msg", "b")), 0);
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), 0);
	assert_int_equal(got_b, 1);
	/* an unknown kind and a message without "msg": dropped, the channel stays */
	assert_int_equal(imsg_send(sp[0], json_pack("{s:s}", "msg", "c")), 0);
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), 0);
	assert_int_equal(imsg_send(sp[0], json_pack("{s:i}", "n", 1)), 0);
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), 0);
	assert_int_equal(got_a + got_b, 2);
	/* a message larger than a control socket's 64 KiB (a large resolved policy) */
	{
		char *big = calloc(1, 300000);
		assert_non_null(big);
		memset(big, 'x', 299999);
		assert_int_equal(imsg_send(sp[0], json_pack("{s:s, s:s, s:i}", "msg", "a",
							    "pad", big, "n", 9)), 0);
		free(big);
	}
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), 0);
	assert_int_equal(last_n, 9);
	/* NULL (out of memory) is refused, not sent */
	assert_int_equal(imsg_send(sp[0], NULL), -1);
	/* the peer is gone: -1 with a reason */
	close(sp[0]);
	err[0] = '\0';
	assert_int_equal(imsg_dispatch(sp[1], table, N, &got_a, "test", err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	close(sp[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_by_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
