/* SPDX-License-Identifier: MIT */
/* lib/logrl.c: a few lines per window, the rest counted and reported once the window ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "logrl.h"

static void test_flood_summarised(void **state)
{
	struct log_rl rl = { 0 };
	uint64_t ended = 99, total = 0;
	unsigned logged = 0;

	(void)state;
	/* 2,000 lines within one window: LOG_RL_LINES logged, the rest suppressed */
	for (unsigned i = 0; i < 2000; i++) {
		if (log_rl_allow(&rl, 1000 + i, &ended))
			logged++;
		total += ended;
	}
	assert_int_equal(logged, LOG_RL_LINES);
	assert_int_equal(total, 0); /* nothing reported while the window is open */
	assert_int_equal(log_rl_flush(&rl, 1000 + LOG_RL_WINDOW_MS - 1), 0);
	/* the tick after the window: the count, once */
	assert_int_equal(log_rl_flush(&rl, 1000 + LOG_RL_WINDOW_MS), 2000 - LOG_RL_LINES);
	assert_int_equal(log_rl_flush(&rl, 1000 + 2 * LOG_RL_WINDOW_MS), 0);
	/* a new window logs again */
	assert_true(log_rl_allow(&rl, 1000 + 3 * LOG_RL_WINDOW_MS, &ended));
	assert_int_equal(ended, 0);
}

static void test_reported_at_next_line(void **state)
{
	struct log_rl rl = { 0 };
	uint64_t ended;

	(void)state;
	for (unsigned i = 0; i < LOG_RL_LINES + 7; i++)
		log_rl_allow(&rl, 0, &ended);
	/* no tick: the next line after the window carries the count */
	assert_true(log_rl_allow(&rl, LOG_RL_WINDOW_MS, &ended));
	assert_int_equal(ended, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_summarised),
		cmocka_unit_test(test_reported_at_next_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
