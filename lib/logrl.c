/* SPDX-License-Identifier: MIT */
/* Repeated log lines, summarised (logrl.h). */
#include "logrl.h"

uint64_t log_rl_flush(struct log_rl *rl, uint64_t now_ms)
{
	uint64_t n;

	if (!rl->open || now_ms < rl->start_ms + LOG_RL_WINDOW_MS)
		return 0;
	n = rl->suppressed;
	rl->open = false;
	rl->lines = 0;
	rl->suppressed = 0;
	return n;
}

bool log_rl_allow(struct log_rl *rl, uint64_t now_ms, uint64_t *ended)
{
	*ended = log_rl_flush(rl, now_ms);
	if (!rl->open) {
		rl->open = true;
		rl->start_ms = now_ms;
	}
	if (rl->lines < LOG_RL_LINES) {
		rl->lines++;
		return true;
	}
	rl->suppressed++;
	return false;
}
