/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics (docs/metrics.md): the one renderer of the text exposition format
 * (version 0.0.4), used by coopnet-authd's HTTP exporter and by `coopnetctl metrics`.
 *
 * Its input is a snapshot, a JSON object built by coopnet-authd's engine (authd/
 * engine_metrics.c) and sent to coopnetctl over the control socket, or built by coopnetctl
 * from coopnet-nfq's `stats` alone when coopnet-authd does not run:
 *
 *   "authd":   {"auth-ok": 3, ...}         coopnetctl stats authd: counters
 *   "nfq":     {"embedded": 10, ...}       coopnetctl stats nfq: counters
 *   "nfq_up":  true                        coopnet-authd reaches coopnet-nfq
 *   "sessions": {"supervisor": 1, ...}     live sessions by role
 *   "pending": {"supervisor": 0, ...}      exchanges in flight by role
 *   "vnics":   [{"sp": "198.18.1.2", "service": "http", "vnic": "vnic1",
 *                "state": "up", "age_ms": 1200}, ...]   the status application's reports
 *   "vnics_truncated": false               more rows than METRICS_VNICS_MAX
 *   "policy_loaded": true, "start_time": 1795000000
 *
 * Every member is optional; each is checked (types, ranges, names), and what does not fit is
 * skipped, never trusted: counter names must be [a-z0-9_-]{1,63}, values integers >= 0.
 */
#ifndef COOPNET_METRICS_H
#define COOPNET_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define METRICS_TEXT_MAX (1u << 20)   /* the rendered text never grows beyond this */
#define METRICS_VNICS_MAX 512          /* rows of "vnics" rendered (the engine sends no more) */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing text buffer, bounded by max; full: something did not fit (the text is cut at
 * a line and must not be served). */
struct metrics_buf {
	char *p;
	size_t len, cap, max;
	bool full;
};

void metrics_buf_init(struct metrics_buf *b, size_t max);
void metrics_buf_free(struct metrics_buf *b); /* NULL-safe */

/* Render snap into b (appended). 0, or -1 when out of memory or beyond b->max. */
int metrics_render(struct metrics_buf *b, const json_t *snap);

/* The pieces, for tests: a metric name (coopnet_ + prefix + key, '-' -> '_', + suffix) into
 * out; -1 when the key is not [a-z0-9_-]{1,63} or out is too small. */
int metrics_name(char *out, size_t size, const char *prefix, const char *key, const char *suffix);
/* Escape a HELP text (\\ and \n) or a label value (\\, \" and \n) into b; other bytes outside
 * printable ASCII become '?'. */
void metrics_escape(struct metrics_buf *b, const char *s, bool label);

/* The help of a counter of daemon ("authd" or "nfq") as `coopnetctl stats` names it; NULL when
 * the table does not know it (the renderer then says "counter KEY of coopnetctl stats"). */
const char *metrics_counter_help(const char *daemon, const char *key);

/* The HTTP side's routing, without the HTTP library (authd/engine_metrics.c, fuzzed):
 * 200 for GET /metrics (a query string is ignored), 405 for another method on /metrics,
 * 404 for any other path. */
int metrics_route(const char *method, const char *url);

#endif
