/* SPDX-License-Identifier: MIT */
/*
 * Repeated log lines, summarised: at most LOG_RL_LINES lines of one kind per window of
 * LOG_RL_WINDOW_MS; the rest are counted and reported once as "N similar suppressed" when the
 * window has ended (at the next line of that kind, or at a periodic log_rl_flush). A flood of
 * spoofed datagrams then costs a few lines per window instead of one per datagram.
 */
#ifndef COOPNET_LOGRL_H
#define COOPNET_LOGRL_H

#include <stdbool.h>
#include <stdint.h>

#define LOG_RL_WINDOW_MS 10000u
#define LOG_RL_LINES 5u

struct log_rl {
	uint64_t start_ms;    /* the window's start */
	unsigned lines;       /* logged in this window */
	uint64_t suppressed;  /* not logged in this window */
	bool open;
};

/* A line of this kind at now_ms: true when it is to be logged. *ended: lines suppressed in a
 * window that has just ended, to report first (0: none). */
bool log_rl_allow(struct log_rl *rl, uint64_t now_ms, uint64_t *ended);
/* At a periodic tick: the lines suppressed in a window that has ended (0: none, or still
 * open); the window is closed. */
uint64_t log_rl_flush(struct log_rl *rl, uint64_t now_ms);

#endif
