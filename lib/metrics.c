/* SPDX-License-Identifier: MIT */
/* The Prometheus text renderer (metrics.h, docs/metrics.md). */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 128
#define SECTION_KEYS_MAX 256  /* counters of one daemon rendered; more are skipped */

void metrics_buf_init(struct metrics_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void metrics_buf_free(struct metrics_buf *b)
{
	if (!b)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct metrics_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->full || n > b->max || b->len > b->max - n) {
		b->full = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->full = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct metrics_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct metrics_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void printf_(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void printf_(struct metrics_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->full = true;
		return;
	}
	put(b, tmp, (size_t)n);
}

void metrics_escape(struct metrics_buf *b, const char *s, bool label)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			puts_(b, "\\\\");
		else if (c == '\n')
			puts_(b, "\\n");
		else if (c == '"' && label)
			puts_(b, "\\\"");
		else
			put(b, c >= 0x20 && c < 0x7f ? (const char *)&c : "?", 1);
	}
}

static bool key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		      key[i] == '-' || key[i] == '_'))
			return false;
	return true;
}

int metrics_name(char *out, size_t size, const char *prefix, const char *key, const char *suffix)
{
	int n;

	if (!key_ok(key))
		return -1;
	n = snprintf(out, size, "coopnet_%s%s%s", prefix, key, suffix);
	if (n < 0 || (size_t)n >= size)
		return -1;
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	return 0;
}

static void family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	printf_(b, "# HELP %s ", name);
	metrics_escape(b, help, false);
	printf_(b, "\n# TYPE %s %s\n", name, type);
}

/* A non-negative integer member, or -1. */
static json_int_t nonneg(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

static bool seen_before(char (*seen)[NAME_MAX_LEN], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(seen[i], name))
			return true;
	return false;
}

/* One counter family per key of a daemon's stats: coopnet_<daemon>_<key>_total. Keys that
 * are not names, values that are not counts and names met before are skipped. */
static void counters(struct metrics_buf *b, const char *daemon, const json_t *stats)
{
	static char seen[SECTION_KEYS_MAX][NAME_MAX_LEN];
	char prefix[16], name[NAME_MAX_LEN], help[160];
	const char *key, *h;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(stats))
		return;
	snprintf(prefix, sizeof(prefix), "%s_", daemon);
	json_object_foreach((json_t *)stats, key, v) {
		json_int_t x = nonneg(v);

		if (n == SECTION_KEYS_MAX)
			break;
		if (x < 0 || metrics_name(name, sizeof(name), prefix, key, "_total") < 0 ||
		    seen_before(seen, n, name))
			continue;
		memcpy(seen[n++], name, sizeof(name));
		h = metrics_counter_help(daemon, key);
		if (!h) {
			snprintf(help, sizeof(help), "Counter %s of coopnetctl stats %s.", key, daemon);
			h = help;
		}
		family(b, name, "counter", h);
		printf_(b, "%s %" JSON_INTEGER_FORMAT "\n", name, x);
	}
}

static void gauge1(struct metrics_buf *b, const char *name, const char *help, json_int_t x)
{
	if (x < 0)
		return;
	family(b, name, "gauge", help);
	printf_(b, "%s %" JSON_INTEGER_FORMAT "\n", name, x);
}

/* {"supervisor": n, ...} -> name{role="supervisor"} n; only the three roles. */
static void by_role(struct metrics_buf *b, const char *name, const char *help, const json_t *o)
{
	static const char *const roles[] = { "supervisor", "header", "provider" };
	bool head = false;

	if (!json_is_object(o))
		return;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		json_int_t x = nonneg(json_object_get(o, roles[i]));

		if (x < 0)
			continue;
		if (!head)
			family(b, name, "gauge", help);
		head = true;
		printf_(b, "%s{role=\"%s\"} %" JSON_INTEGER_FORMAT "\n", name, roles[i], x);
	}
}

static const char *const vnic_states[] = { "up", "down", "busy", "unknown", "unreachable" };

static bool vnic_row_ok(const json_t *r)
{
	const char *st = json_string_value(json_object_get(r, "state"));

	if (!json_is_string(json_object_get(r, "sp")) ||
	    !json_is_string(json_object_get(r, "service")) ||
	    !json_is_string(json_object_get(r, "vnic")) || !st)
		return false;
	for (size_t i = 0; i < sizeof(vnic_states) / sizeof(vnic_states[0]); i++)
		if (!strcmp(st, vnic_states[i]))
			return true;
	return false;
}

static void vnic_labels(struct metrics_buf *b, const char *name, const json_t *r)
{
	puts_(b, name);
	puts_(b, "{sp=\"");
	metrics_escape(b, json_string_value(json_object_get(r, "sp")), true);
	puts_(b, "\",service=\"");
	metrics_escape(b, json_string_value(json_object_get(r, "service")), true);
	puts_(b, "\",vnic=\"");
	metrics_escape(b, json_string_value(json_object_get(r, "vnic")), true);
	puts_(b, "\"");
}

/* The status application's view of each (SP, service, vNIC): a state set and the report's
 * age. Rows are the engine's, one per (sp, service, vnic); a malformed row is skipped. */
static void vnics(struct metrics_buf *b, const json_t *rows)
{
	const char *state = "coopnet_sp_vnic_state", *age = "coopnet_sp_vnic_report_age_seconds";
	size_t i, n = 0;
	json_t *r;

	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return;
	family(b, state, "gauge", "The status application's last report of an SP's vNIC service: "
	       "1 for its state (up, down, busy, unknown; unreachable: the SP sent no valid "
	       "report for miss_limit intervals), 0 for the others.");
	json_array_foreach(rows, i, r) {
		const char *st = json_string_value(json_object_get(r, "state"));

		if (n++ == METRICS_VNICS_MAX)
			break;
		if (!vnic_row_ok(r))
			continue;
		for (size_t k = 0; k < sizeof(vnic_states) / sizeof(vnic_states[0]); k++) {
			vnic_labels(b, state, r);
			printf_(b, ",state=\"%s\"} %d\n", vnic_states[k], !strcmp(st, vnic_states[k]));
		}
	}
	family(b, age, "gauge", "Seconds since the last valid status report of an SP's vNIC "
	       "service (absent before the first).");
	n = 0;
	json_array_foreach(rows, i, r) {
		json_int_t ms = nonneg(json_object_get(r, "age_ms"));

		if (n++ == METRICS_VNICS_MAX)
			break;
		if (!vnic_row_ok(r) || ms < 0)
			continue;
		vnic_labels(b, age, r);
		printf_(b, "} %" JSON_INTEGER_FORMAT ".%03d\n", ms / 1000, (int)(ms % 1000));
	}
}

static json_int_t flag(const json_t *v)
{
	return json_is_boolean(v) ? json_is_true(v) : -1;
}

int metrics_render(struct metrics_buf *b, const json_t *snap)
{
	if (!json_is_object(snap))
		return -1;
	counters(b, "authd", json_object_get(snap, "authd"));
	counters(b, "nfq", json_object_get(snap, "nfq"));
	gauge1(b, "coopnet_authd_policy_loaded", "1 when coopnet-authd's engine has a policy.",
	       flag(json_object_get(snap, "policy_loaded")));
	gauge1(b, "coopnet_authd_nfq_up", "1 when coopnet-authd reaches coopnet-nfq's control "
	       "socket (absent: no data plane configured).", flag(json_object_get(snap, "nfq_up")));
	gauge1(b, "coopnet_authd_start_time_seconds", "When coopnet-authd's engine started, "
	       "Unix time.", nonneg(json_object_get(snap, "start_time")));
	by_role(b, "coopnet_authd_sessions", "Live sessions in coopnet-authd's database, by the "
		"role that holds them.", json_object_get(snap, "sessions"));
	by_role(b, "coopnet_authd_pending_exchanges", "Authentication exchanges in flight, by "
		"role.", json_object_get(snap, "pending"));
	gauge1(b, "coopnet_authd_metrics_http_connections", "Connections the metrics endpoint "
	       "holds open now (this scrape's included).",
	       nonneg(json_object_get(snap, "http_connections")));
	vnics(b, json_object_get(snap, "vnics"));
	gauge1(b, "coopnet_sp_vnic_series_truncated", "1 when there were more (SP, service, "
	       "vNIC) rows than the exporter renders (512).",
	       flag(json_object_get(snap, "vnics_truncated")));
	return b->full ? -1 : 0;
}

int metrics_route(const char *method, const char *url)
{
	size_t n = strcspn(url, "?");

	if (n != strlen("/metrics") || strncmp(url, "/metrics", n))
		return 404;
	return strcmp(method, "GET") ? 405 : 200;
}
