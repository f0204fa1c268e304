/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl group: its arguments and its table (the reply's shape: docs/coopnetctl.md,
 * "group"). Pure: tests/unit/test_group_view.c renders replies into a memory stream and feeds
 * bad arguments. A field missing or of another type prints as "-", never a crash.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "group_view.h"

int cli_group_parse(struct cli_group_args *out, int argc, char *const *argv, char *err,
		    size_t errlen)
{
	*out = (struct cli_group_args){ .action = CLI_GROUP_VIEW };
	if (argc <= 1)
		return 0;
	if (strcmp(argv[1], "keygen")) {
		snprintf(err, errlen, "unknown argument \"%s\"; usage: coopnetctl group "
			 "[keygen FILE]", argv[1]);
		return -1;
	}
	if (argc != 3 || !argv[2][0]) {
		snprintf(err, errlen, "keygen takes one FILE (a new file for the private key)%s%s%s",
			 argc > 3 ? ", not \"" : "", argc > 3 ? argv[3] : "", argc > 3 ? "\"" : "");
		return -1;
	}
	out->action = CLI_GROUP_KEYGEN;
	out->keyfile = argv[2];
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && s[0] ? s : "-";
}

/* an integer, or an age in ms as seconds with one decimal, into buf; "-" when absent */
static const char *num(const json_t *o, const char *key, bool secs, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	if (secs)
		snprintf(buf, size, "%.1fs", (double)json_integer_value(v) / 1000);
	else
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

static void list(FILE *f, const json_t *a)
{
	const json_t *v;
	size_t i;

	if (!json_array_size(a))
		fputc('-', f);
	json_array_foreach(a, i, v)
		fprintf(f, "%s%s", i ? "," : "", json_string_value(v) ?: "?");
}

static void print_header(FILE *f, const json_t *h)
{
	char b[5][32];
	const json_t *m;
	size_t i;

	fprintf(f, "header: balance %s, membership %s, miss limit %s\n", str(h, "balance"),
		json_is_true(json_object_get(h, "membership")) ? "on" : "off",
		num(h, "miss_limit", false, b[0], sizeof(b[0])));
	fprintf(f, "  %-12s %-26s %-8s %-8s %-8s %-6s %-6s %-9s %s\n", "member", "address",
		"state", "since", "heard", "load", "weight", "decisions", "services down");
	json_array_foreach(json_object_get(h, "members"), i, m) {
		fprintf(f, "  %-12s %-26s %-8s %-8s %-8s %-6s %-6s %-9s ", str(m, "name"),
			str(m, "address"), str(m, "state"), num(m, "since_ms", true, b[0], 32),
			num(m, "heard_ms", true, b[1], 32), num(m, "load", false, b[2], 32),
			num(m, "weight", false, b[3], 32), num(m, "decisions", false, b[4], 32));
		list(f, json_object_get(m, "services_down"));
		fputc('\n', f);
	}
}

static void print_member(FILE *f, const json_t *m)
{
	char b[3][32];
	const json_t *v;
	size_t i;

	fprintf(f, "member %s, heartbeat every %s ms, load %s, last sent %s ago, public key %s\n",
		str(m, "name"), num(m, "interval_ms", false, b[0], 32),
		num(m, "load", false, b[1], 32), num(m, "sent_ms", true, b[2], 32),
		str(m, "public_key"));
	json_array_foreach(json_object_get(m, "headers"), i, v)
		fprintf(f, "  header %s\n", json_string_value(v) ?: "?");
	json_array_foreach(json_object_get(m, "services"), i, v)
		fprintf(f, "  service %s %s\n", str(v, "name"), str(v, "status"));
}

static void print_ss(FILE *f, const json_t *ss)
{
	char b[3][32];
	const json_t *s, *m;
	size_t i, k;

	json_array_foreach(json_object_get(ss, "services"), i, s) {
		fprintf(f, "service %s at %s port %s:\n", str(s, "name"), str(s, "address"),
			num(s, "port", false, b[0], 32));
		fprintf(f, "  %-26s %-26s %-12s %-8s %s\n", "sp", "address", "state", "since",
			"sessions");
		json_array_foreach(json_object_get(s, "members"), k, m)
			fprintf(f, "  %-26s %-26s %-12s %-8s %s\n", str(m, "sp"), str(m, "address"),
				str(m, "state"), num(m, "since_ms", true, b[0], 32),
				num(m, "sessions", false, b[1], 32));
	}
	if (!json_array_size(json_object_get(ss, "sessions")))
		return;
	fprintf(f, "sessions:\n  %-26s %-12s %-6s %-26s %-12s %-8s %s\n", "client", "service",
		"id", "sp", "state", "since", "load");
	json_array_foreach(json_object_get(ss, "sessions"), i, s)
		fprintf(f, "  %-26s %-12s %-6s %-26s %-12s %-8s %s\n", str(s, "client"),
			str(s, "service"), str(s, "id"), str(s, "sp"), str(s, "state"),
			num(s, "since_ms", true, b[0], 32), num(s, "load", false, b[1], 32));
}

void cli_group_print(FILE *f, const json_t *reply)
{
	const json_t *h = json_object_get(reply, "header"), *m = json_object_get(reply, "member");
	const json_t *ss = json_object_get(reply, "ss"), *c = json_object_get(reply, "counters");
	const char *k;
	const json_t *v;
	bool first = true;

	if (json_is_object(h))
		print_header(f, h);
	if (json_is_object(m))
		print_member(f, m);
	if (json_is_object(ss))
		print_ss(f, ss);
	if (!json_is_object(h) && !json_is_object(m) && !json_is_object(ss))
		fprintf(f, "no group: not a header SP, no provider.membership, no group service\n");
	json_object_foreach((json_t *)c, k, v) {
		if (!json_is_integer(v))
			continue;
		fprintf(f, "%s%s %" JSON_INTEGER_FORMAT, first ? "counters: " : ", ", k,
			json_integer_value(v));
		first = false;
	}
	if (!first)
		fputc('\n', f);
}
