/* SPDX-License-Identifier: MIT */
/*
 * lib/metrics.c: the Prometheus text renderer. Names (coopnet_..._total, '-' -> '_'), one
 * HELP and one TYPE line before each family's samples, escaping of HELP texts and label
 * values, malformed snapshot members skipped, the size bound, the HTTP routing, and every
 * coopnet-nfq counter (nfq/logic.c) with a HELP text of its own. The engine's counters are
 * checked the same way by test_engine (a real engine's `stats`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "logic.h"

static char *render(const char *json)
{
	json_error_t jerr;
	json_t *snap = json_loads(json, 0, &jerr);
	struct metrics_buf b;
	char *out;

	assert_non_null(snap);
	metrics_buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b, snap), 0);
	json_decref(snap);
	out = strdup(b.p ? b.p : "");
	metrics_buf_free(&b);
	return out;
}

/* Every sample line's metric has exactly one HELP and one TYPE line before it, and no family
 * appears twice (what promtool checks first). */
static void check_families(const char *text)
{
	char *copy = strdup(text), *save = NULL, *line;
	char fam[64][128] = { { 0 } };
	size_t nfam = 0;
	bool help = false, type = false;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", name);
			for (size_t i = 0; i < nfam; i++)
				assert_string_not_equal(fam[i], name);
			assert_true(nfam < 64);
			strcpy(fam[nfam++], name);
			help = true;
			type = false;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%127s", name);
			assert_true(help);
			assert_string_equal(name, fam[nfam - 1]);
			type = true;
			continue;
		}
		assert_true(help && type);
		assert_int_equal(strncmp(line, fam[nfam - 1], strlen(fam[nfam - 1])), 0);
	}
	free(copy);
}

static void test_counters(void **state)
{
	char *t;

	(void)state;
	t = render("{\"authd\": {\"auth-ok\": 3, \"status-sent\": 0},"
		   " \"nfq\": {\"embedded\": 10, \"dropped_no_id\": 2}}");
	assert_non_null(strstr(t, "# HELP coopnet_authd_auth_ok_total Authentications that ended "
				  "with a session.\n# TYPE coopnet_authd_auth_ok_total counter\n"
				  "coopnet_authd_auth_ok_total 3\n"));
	assert_non_null(strstr(t, "\ncoopnet_authd_status_sent_total 0\n"));
	assert_non_null(strstr(t, "# TYPE coopnet_nfq_embedded_total counter\n"
				  "coopnet_nfq_embedded_total 10\n"));
	assert_non_null(strstr(t, "\ncoopnet_nfq_dropped_no_id_total 2\n"));
	check_families(t);
	free(t);
}

/* Unknown keys get a generic HELP; bad keys, bad values and a name met twice are skipped. */
static void test_bad_members_skipped(void **state)
{
	char *t;

	(void)state;
	t = render("{\"authd\": {\"new-thing\": 1, \"Bad Key\": 2, \"neg\": -1, \"str\": \"3\","
		   " \"x-y\": 4, \"x_y\": 5, \"\": 6},"
		   " \"nfq\": [1], \"sessions\": {\"supervisor\": \"a\", \"provider\": 2, \"evil\": 1},"
		   " \"nfq_up\": 1, \"policy_loaded\": true, \"vnics\": [1, {\"sp\": \"a\"},"
		   " {\"sp\": \"a\", \"service\": \"s\", \"vnic\": \"v\", \"state\": \"weird\"}]}");
	assert_non_null(strstr(t, "# HELP coopnet_authd_new_thing_total Counter new-thing of "
				  "coopnetctl stats authd.\n"));
	assert_null(strstr(t, "Bad"));
	assert_null(strstr(t, "neg"));
	assert_null(strstr(t, "str_total"));
	assert_non_null(strstr(t, "coopnet_authd_x_y_total 4\n"));
	assert_null(strstr(t, "coopnet_authd_x_y_total 5"));
	assert_null(strstr(t, "coopnet_nfq_"));
	assert_null(strstr(t, "supervisor"));
	assert_null(strstr(t, "evil"));
	assert_non_null(strstr(t, "coopnet_authd_sessions{role=\"provider\"} 2\n"));
	assert_null(strstr(t, "coopnet_authd_nfq_up"));     /* not a boolean */
	assert_non_null(strstr(t, "coopnet_authd_policy_loaded 1\n"));
	assert_null(strstr(t, "weird"));
	check_families(t);
	free(t);
}

static void test_gauges_and_vnics(void **state)
{
	char *t;

	(void)state;
	t = render("{\"nfq_up\": false, \"start_time\": 1795000000,"
		   " \"pending\": {\"supervisor\": 1},"
		   " \"vnics\": [{\"sp\": \"198.18.1.2:4500\", \"service\": \"http\","
		   " \"vnic\": \"vnic1\", \"state\": \"unreachable\", \"age_ms\": 31250},"
		   " {\"sp\": \"198.18.1.3:4500\", \"service\": \"http\", \"vnic\": \"vnic2\","
		   " \"state\": \"up\", \"age_ms\": -1}], \"vnics_truncated\": false}");
	assert_non_null(strstr(t, "\ncoopnet_authd_nfq_up 0\n"));
	assert_non_null(strstr(t, "\ncoopnet_authd_start_time_seconds 1795000000\n"));
	assert_non_null(strstr(t, "# TYPE coopnet_authd_pending_exchanges gauge\n"
				  "coopnet_authd_pending_exchanges{role=\"supervisor\"} 1\n"));
	assert_non_null(strstr(t, "coopnet_sp_vnic_state{sp=\"198.18.1.2:4500\",service=\"http\","
				  "vnic=\"vnic1\",state=\"unreachable\"} 1\n"));
	assert_non_null(strstr(t, "coopnet_sp_vnic_state{sp=\"198.18.1.2:4500\",service=\"http\","
				  "vnic=\"vnic1\",state=\"up\"} 0\n"));
	assert_non_null(strstr(t, "coopnet_sp_vnic_state{sp=\"198.18.1.3:4500\",service=\"http\","
				  "vnic=\"vnic2\",state=\"up\"} 1\n"));
	assert_non_null(strstr(t, "coopnet_sp_vnic_report_age_seconds{sp=\"198.18.1.2:4500\","
				  "service=\"http\",vnic=\"vnic1\"} 31.250\n"));
	assert_null(strstr(t, "vnic=\"vnic2\"} ")); /* no report yet: no age */
	assert_non_null(strstr(t, "\ncoopnet_sp_vnic_series_truncated 0\n"));
	check_families(t);
	free(t);
}

static void test_escaping(void **state)
{
	struct metrics_buf b;
	char *t;

	(void)state;
	metrics_buf_init(&b, 1024);
	metrics_escape(&b, "a\\b\"c\nd\te\x01\xc3\xa9", true);
	assert_string_equal(b.p, "a\\\\b\\\"c\\nd?e???");
	metrics_buf_free(&b);
	metrics_buf_init(&b, 1024);
	metrics_escape(&b, "say \"hi\"\\\n", false);   /* HELP: quotes stay */
	assert_string_equal(b.p, "say \"hi\"\\\\\\n");
	metrics_buf_free(&b);
	t = render("{\"vnics\": [{\"sp\": \"a\\\"b\", \"service\": \"s\\\\\", \"vnic\": \"v\\n\","
		   " \"state\": \"down\", \"age_ms\": 5}]}");
	assert_non_null(strstr(t, "{sp=\"a\\\"b\",service=\"s\\\\\",vnic=\"v\\n\",state=\"down\"} 1\n"));
	assert_non_null(strstr(t, "{sp=\"a\\\"b\",service=\"s\\\\\",vnic=\"v\\n\"} 0.005\n"));
	free(t);
}

static void test_names(void **state)
{
	char out[40];

	(void)state;
	assert_int_equal(metrics_name(out, sizeof(out), "authd_", "revoke-acked", "_total"), 0);
	assert_string_equal(out, "coopnet_authd_revoke_acked_total");
	assert_int_equal(metrics_name(out, sizeof(out), "", "a", ""), 0);
	assert_string_equal(out, "coopnet_a");
	assert_int_equal(metrics_name(out, sizeof(out), "", "A", ""), -1);
	assert_int_equal(metrics_name(out, sizeof(out), "", "a b", ""), -1);
	assert_int_equal(metrics_name(out, sizeof(out), "", "a{x}", ""), -1);
	assert_int_equal(metrics_name(out, sizeof(out), "", "", ""), -1);
	/* too long for out: refused, never cut */
	assert_int_equal(metrics_name(out, sizeof(out), "authd_", "a-very-long-counter-name",
				      "_total"), -1);
}

/* Beyond the bound: -1 and full, nothing written past it. */
static void test_bound(void **state)
{
	json_t *snap = json_pack("{s:{s:i, s:i, s:i}}", "authd", "auth-ok", 1, "auth-failed", 2,
				 "timeout", 3);
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b, 150);
	assert_int_equal(metrics_render(&b, snap), -1);
	assert_true(b.full);
	assert_true(b.len <= 150);
	metrics_buf_free(&b);
	metrics_buf_init(&b, METRICS_TEXT_MAX);
	assert_int_equal(metrics_render(&b, json_array_get(snap, 0)), -1); /* not an object */
	metrics_buf_free(&b);
	json_decref(snap);
}

static void test_route(void **state)
{
	(void)state;
	assert_int_equal(metrics_route("GET", "/metrics"), 200);
	assert_int_equal(metrics_route("GET", "/metrics?x=1"), 200);
	assert_int_equal(metrics_route("POST", "/metrics"), 405);
	assert_int_equal(metrics_route("HEAD", "/metrics"), 405);
	assert_int_equal(metrics_route("get", "/metrics"), 405);
	assert_int_equal(metrics_route("GET", "/"), 404);
	assert_int_equal(metrics_route("GET", "/metrics/"), 404);
	assert_int_equal(metrics_route("GET", "/metricsx"), 404);
	assert_int_equal(metrics_route("GET", "/metric"), 404);
	assert_int_equal(metrics_route("GET", ""), 404);
}

/* Every counter coopnet-nfq's `stats` shows has its own HELP text. */
static void test_nfq_help_complete(void **state)
{
	(void)state;
	for (int r = 0; r < R__COUNT; r++) {
		const char *name = nfq_reason_name((enum nfq_reason)r);
		if (!metrics_counter_help("nfq", name))
			fail_msg("coopnet-nfq counter \"%s\" has no HELP in lib/metrics_help.c", name);
	}
	assert_null(metrics_counter_help("nfq", "no-such-counter"));
	assert_null(metrics_counter_help("other", "embedded"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_bad_members_skipped),
		cmocka_unit_test(test_gauges_and_vnics),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_nfq_help_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
