/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's reload (nfq/publish.c) on a real config file and the live table: sessions and
 * services apply, settings that need a restart are refused with nothing changed (log.syslog
 * among them), and the command line's -v survives a reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "nfqd.h"

static char path[64];

static void write_config(const char *sessions, const char *extra)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"role\": \"provider\", \"control_socket\": \"/run/coopnet-test.sock\",\n"
		"\"services\": [{\"address\": \"198.19.0.10\", \"port\": 80}],\n"
		"\"sessions\": [%s]%s}\n", sessions, extra);
	fclose(f);
}

#define S1 "{\"client\": \"198.18.0.1\", \"service\": \"198.19.0.10\", \"port\": 80, \"id\": \"0x1111\"}"
#define S2 "{\"client\": \"198.18.0.2\", \"service\": \"198.19.0.10\", \"port\": 80, \"id\": \"0x2222\"}"

static const struct tbl_entry *get(const struct nfqd *d, const char *client)
{
	uint8_t c[16] = {0}, s[16] = {198, 19, 0, 10};
	struct sess_key k;

	assert_int_equal(inet_pton(AF_INET, client, c), 1);
	sess_key_make(&k, AF_INET, c, s, 80);
	return tbl_lookup(d->sh.tbl, &k);
}

static void start(struct nfqd *d, bool cli_verbose)
{
	struct jconf_error err;

	memset(d, 0, sizeof(*d));
	memset(&err, 0, sizeof(err));
	d->config_path = path;
	d->cli_verbose = cli_verbose;
	d->schema = nfq_config_schema(&err);
	assert_non_null(d->schema);
	assert_int_equal(nfq_config_load(&d->cfg, path, d->schema, &err), 0);
	rcu_init(&d->sh.rcu, 1);
	assert_int_equal(nfqd_table_init(d), 0);
}

static void stop(struct nfqd *d)
{
	rcu_destroy(&d->sh.rcu);
	tbl_free(d->sh.tbl);
	nfq_config_clear(&d->cfg);
	jconf_schema_free(d->schema);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_nfq_reload.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_reload_sessions(void **state)
{
	struct nfqd d;
	struct sess_entry e;
	char msg[700];

	(void)state;
	write_config(S1, "");
	start(&d, false);
	assert_int_equal(tbl_count(d.sh.tbl), 1);
	/* an authd session over S1 stays on top through the reload */
	e = (struct sess_entry){.key = get(&d, "198.18.0.1")->key, .id = 0xaaaa,
				.source = SESS_SRC_AUTHD};
	assert_int_equal(tbl_put(d.sh.tbl, &e), 0);
	write_config(S2, "");
	assert_int_equal(nfqd_reload(&d, msg, sizeof(msg)), 0);
	assert_int_equal(tbl_count(d.sh.tbl), 2);
	assert_int_equal(tbl_entry_id(get(&d, "198.18.0.1")), 0xaaaa);
	assert_int_equal(tbl_entry_id(get(&d, "198.18.0.2")), 0x2222);
	assert_int_equal(d.cfg.sessions.n, 1);
	/* the authd session goes: S1 is no longer in the config, so nothing comes back */
	assert_true(tbl_del(d.sh.tbl, &e.key));
	assert_null(get(&d, "198.18.0.1"));
	stop(&d);
}

static void test_reload_refused(void **state)
{
	static const char *const changes[][2] = {
		{", \"log\": {\"syslog\": true}", "log.syslog"},
		{", \"fail_open\": true", "fail_open"},
		{", \"strip\": true", "strip"},
		{", \"mode\": \"kernel\"", "mode"},
		{NULL, "duplicate"},
	};
	struct nfqd d;
	char msg[700];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		write_config(S1, "");
		start(&d, false);
		if (!changes[i][0]) /* an error in the file: refused as well */
			write_config(S2 ", " S2, "");
		else
			write_config(S2, changes[i][0]);
		assert_int_equal(nfqd_reload(&d, msg, sizeof(msg)), -1);
		assert_non_null(strstr(msg, changes[i][1]));
		/* nothing applied */
		assert_int_equal(tbl_count(d.sh.tbl), 1);
		assert_non_null(get(&d, "198.18.0.1"));
		assert_null(get(&d, "198.18.0.2"));
		stop(&d);
	}
}

/* Debug lines go to stderr when verbose: read them back from a file. */
static bool debug_printed(void)
{
	char buf[256] = {0};
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(f), 2);
	log_debug("probe-line");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return n > 0 && strstr(buf, "probe-line");
}

static void test_reload_keeps_cli_verbose(void **state)
{
	struct nfqd d;
	char msg[700];

	(void)state;
	write_config(S1, "");
	log_init("test", LOG_TO_STDERR, true); /* -v */
	start(&d, true);
	assert_true(debug_printed());
	write_config(S2, ", \"log\": {\"verbose\": false}");
	assert_int_equal(nfqd_reload(&d, msg, sizeof(msg)), 0);
	assert_true(debug_printed());
	stop(&d);

	log_init("test", LOG_TO_STDERR, false); /* no -v: the config decides */
	write_config(S1, ", \"log\": {\"verbose\": true}");
	start(&d, false);
	write_config(S1, "");
	assert_int_equal(nfqd_reload(&d, msg, sizeof(msg)), 0);
	assert_false(debug_printed());
	write_config(S1, ", \"log\": {\"verbose\": true}");
	assert_int_equal(nfqd_reload(&d, msg, sizeof(msg)), 0);
	assert_true(debug_printed());
	stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_cli_verbose, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
