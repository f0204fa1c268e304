/* SPDX-License-Identifier: MIT */
/*
 * lib/vhost.c: file text, unsafe input rejected, atomic write with rename()/fsync() failing
 * (--wrap), sync with a stand-in apache2 (a shell script run through fork/exec): stale files
 * removed, foreign files untouched, a failed check restores the previous files exactly.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost.h"

int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
int __real_fsync(int fd);
int __wrap_fsync(int fd);

static bool fail_rename, fail_fsync;
static int rename_calls, rename_fail_at;   /* fail only the Nth call when set */

int __wrap_rename(const char *from, const char *to)
{
	if (fail_rename || ++rename_calls == rename_fail_at) {
		errno = EIO;
		return -1;
	}
	return __real_rename(from, to);
}

int __wrap_fsync(int fd)
{
	if (fail_fsync) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

static char dir[64], vdir[128], apache_bin[128], apache_log[128], failflag[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_vhost.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(vdir, sizeof(vdir), "%s/sites", dir);
	snprintf(apache_bin, sizeof(apache_bin), "%s/apache2", dir);
	snprintf(apache_log, sizeof(apache_log), "%s/apache.calls", dir);
	snprintf(failflag, sizeof(failflag), "%s/fail-check", dir);
	if (mkdir(vdir, 0755) < 0 || (f = fopen(apache_bin, "w")) == NULL)
		return -1;
	/* Stands in for apache2: logs its argv; -t fails while the flag file exists. */
	fprintf(f, "#!/bin/sh\n"
		   "echo \"$*\" >> '%s'\n"
		   "if [ \"$1\" = -t ] && [ -e '%s' ]; then\n"
		   "  echo \"AH00526: Syntax error on line 2 of /x/coopnet-web1.conf:\"\n"
		   "  echo \"Invalid command 'Bogus', perhaps misspelled\" >&2\n"
		   "  exit 1\n"
		   "fi\n"
		   "echo 'Syntax OK'\n", apache_log, failflag);
	fclose(f);
	return chmod(apache_bin, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void vspec(struct vhost_spec *v, const char *name, const char *a1, const char *a2)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->port = 80;
	snprintf(v->docroot, sizeof(v->docroot), "/srv/coopnet/%s", name);
	assert_int_equal(vnic_parse_addr(&v->addrs[v->naddrs++], a1), 0);
	if (a2)
		assert_int_equal(vnic_parse_addr(&v->addrs[v->naddrs++], a2), 0);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Names in vdir, sorted, one per line (temporary dotfiles included). */
static const char *listing(void)
{
	static char out[2048];
	struct dirent **ents;
	int n = scandir(vdir, &ents, NULL, alphasort);
	size_t used = 0;

	out[0] = '\0';
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			used += (size_t)snprintf(out + used, sizeof(out) - used, "%s\n",
						 ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return out;
}

static void test_render(void **state)
{
	struct vhost_spec v;
	struct vhost_error err;
	char buf[4096];
	int len;

	(void)state;
	vspec(&v, "web1", "198.18.2.11/24", NULL);
	len = vhost_render(&v, "/var/log/coopnet", buf, sizeof(buf), &err);
	assert_int_equal(len, (int)strlen(buf));
	assert_string_equal(buf,
		"# coopnet:vhost web1 -- written by coopnet; edits are overwritten\n"
		"Listen 198.18.2.11:80\n"
		"<VirtualHost 198.18.2.11:80>\n"
		"\tServerName web1\n"
		"\tDocumentRoot \"/srv/coopnet/web1\"\n"
		"\t<Directory \"/srv/coopnet/web1\">\n"
		"\t\tOptions None\n"
		"\t\tAllowOverride None\n"
		"\t\tRequire all granted\n"
		"\t</Directory>\n"
		"\tErrorLog \"/var/log/coopnet/web1-error.log\"\n"
		"\tCustomLog \"/var/log/coopnet/web1-access.log\" \"%h %l %u %t \\\"%r\\\" %>s %b\"\n"
		"</VirtualHost>\n");

	vspec(&v, "web2", "198.18.2.12/24", "2001:db8:2::12/64");
	v.port = 8080;
	snprintf(v.server_name, sizeof(v.server_name), "web2.example.test");
	assert_true(vhost_render(&v, "/l", buf, sizeof(buf), &err) > 0);
	assert_non_null(strstr(buf, "Listen 198.18.2.12:8080\nListen [2001:db8:2::12]:8080\n"
				    "<VirtualHost 198.18.2.12:8080 [2001:db8:2::12]:8080>\n"
				    "\tServerName web2.example.test\n"));

	/* too small a buffer: an error, never a truncated file */
	assert_int_equal(vhost_render(&v, "/l", buf, 100, &err), -1);
	assert_string_equal(err.msg, "vhost \"web2\": text does not fit in 100 bytes");
}

static void test_render_rejects(void **state)
{
	static const struct { const char *docroot, *log, *sn; uint16_t port; const char *msg; } c[] = {
		{ "/srv/a\"b", "/l", "", 80, "vhost \"web1\": data folder \"/srv/a\"b\" must be an "
		  "absolute path without quotes, backslashes or control characters" },
		{ "/srv/a\nInclude /etc/shadow", "/l", "", 80, NULL },
		{ "/srv/a\\b", "/l", "", 80, NULL },
		{ "srv/a", "/l", "", 80, NULL },
		{ "/srv/a", "logs", "", 80, "vhost \"web1\": log directory \"logs\" must be an "
		  "absolute path without quotes, backslashes or control characters" },
		{ "/srv/a", "/l", "a b", 80, "vhost \"web1\": invalid ServerName \"a b\" (letters, "
		  "digits, '.', '-')" },
		{ "/srv/a", "/l", "", 0, "vhost \"web1\": needs a port and 1 to 4 addresses" },
	};
	struct vhost_spec v;
	struct vhost_error err;
	char buf[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		vspec(&v, "web1", "198.18.2.11/24", NULL);
		snprintf(v.docroot, sizeof(v.docroot), "%s", c[i].docroot);
		snprintf(v.server_name, sizeof(v.server_name), "%s", c[i].sn);
		v.port = c[i].port;
		memset(&err, 0, sizeof(err));
		assert_int_equal(vhost_render(&v, c[i].log, buf, sizeof(buf), &err), -1);
		if (c[i].msg)
			assert_string_equal(err.msg, c[i].msg);
		else
			assert_non_null(strstr(err.msg, "must be an absolute path"));
	}
}

static void test_write_atomic(void **state)
{
	struct vhost_error err;
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/f.conf", vdir);
	assert_int_equal(vhost_write_atomic(vdir, "f.conf", "old\n", 4, 0, &err), 0);
	assert_string_equal(slurp(path), "old\n");

	fail_rename = true;
	assert_int_equal(vhost_write_atomic(vdir, "f.conf", "new\n", 4, 0, &err), -1);
	fail_rename = false;
	assert_string_equal(slurp(path), "old\n");
	assert_string_equal(listing(), "f.conf\n");   /* no temporary file left */
	assert_non_null(strstr(err.msg, "the previous file is unchanged"));

	fail_fsync = true;
	assert_int_equal(vhost_write_atomic(vdir, "f.conf", "new\n", 4, 0, &err), -1);
	fail_fsync = false;
	assert_string_equal(slurp(path), "old\n");
	assert_string_equal(listing(), "f.conf\n");

	assert_int_equal(vhost_write_atomic(vdir, "f.conf", "new\n", 4, 0, &err), 0);
	assert_string_equal(slurp(path), "new\n");
	unlink(path);
}

static void test_run_no_shell(void **state)
{
	char *argv[] = { "/bin/echo", "$(touch /tmp/should-not-exist)", ";", "x", NULL };
	char *bad[] = { "/nonexistent/apache2", NULL };
	char out[256];

	(void)state;
	assert_int_equal(vhost_run(argv, out, sizeof(out), 5000), 0);
	assert_string_equal(out, "$(touch /tmp/should-not-exist) ; x\n");
	assert_int_equal(vhost_run(bad, out, sizeof(out), 5000), 127);
	assert_non_null(strstr(out, "No such file or directory"));
}

static void test_sync(void **state)
{
	struct vhost_conf conf = { .vhost_dir = vdir, .log_dir = "/var/log/coopnet",
				   .apache_bin = apache_bin, .apache_conf = "/etc/x.conf" };
	struct vhost_spec v[2];
	struct vhost_report rep;
	struct vhost_error err;
	char path[256], web1_before[8192], stale_before[8192];

	(void)state;
	unlink(apache_log);
	/* a foreign file and a stale file of ours */
	snprintf(path, sizeof(path), "%s/000-default.conf", vdir);
	put(path, "# not coopnet's\n");
	snprintf(path, sizeof(path), "%s/coopnet-old.conf", vdir);
	put(path, "# coopnet:vhost old -- written by coopnet; edits are overwritten\n");
	vspec(&v[0], "web1", "198.18.2.11/24", NULL);
	vspec(&v[1], "web2", "198.18.2.12/24", "2001:db8:2::12/64");

	assert_int_equal(vhost_sync(&conf, v, 2, &rep, &err), 0);
	assert_int_equal(rep.written, 2);
	assert_int_equal(rep.removed, 1);
	assert_true(rep.reloaded);
	assert_string_equal(listing(), "000-default.conf\ncoopnet-web1.conf\ncoopnet-web2.conf\n");
	snprintf(path, sizeof(path), "%s/000-default.conf", vdir);
	assert_string_equal(slurp(path), "# not coopnet's\n");
	assert_string_equal(slurp(apache_log), "-t -f /etc/x.conf\n-k graceful -f /etc/x.conf\n");

	/* Same input again: nothing written, Apache neither checked nor reloaded. */
	assert_int_equal(vhost_sync(&conf, v, 2, &rep, &err), 0);
	assert_int_equal(rep.written + rep.removed, 0);
	assert_int_equal(rep.unchanged, 2);
	assert_false(rep.reloaded);
	assert_string_equal(slurp(apache_log), "-t -f /etc/x.conf\n-k graceful -f /etc/x.conf\n");

	/* The check fails: web1 changed, web3 new, web2 dropped -> all put back. */
	snprintf(path, sizeof(path), "%s/coopnet-web1.conf", vdir);
	snprintf(web1_before, sizeof(web1_before), "%s", slurp(path));
	snprintf(path, sizeof(path), "%s/coopnet-web2.conf", vdir);
	snprintf(stale_before, sizeof(stale_before), "%s", slurp(path));
	put(failflag, "");
	v[0].port = 8080;
	vspec(&v[1], "web3", "198.18.2.13/24", NULL);
	unlink(apache_log);
	assert_int_equal(vhost_sync(&conf, v, 2, &rep, &err), -1);
	unlink(failflag);
	assert_non_null(strstr(err.msg, "previous vhost files restored"));
	assert_non_null(strstr(err.msg, "Invalid command 'Bogus'"));
	assert_false(rep.reloaded);
	assert_string_equal(listing(), "000-default.conf\ncoopnet-web1.conf\ncoopnet-web2.conf\n");
	snprintf(path, sizeof(path), "%s/coopnet-web1.conf", vdir);
	assert_string_equal(slurp(path), web1_before);
	snprintf(path, sizeof(path), "%s/coopnet-web2.conf", vdir);
	assert_string_equal(slurp(path), stale_before);
	assert_string_equal(slurp(apache_log), "-t -f /etc/x.conf\n");   /* no reload */
}

static void test_sync_foreign_name(void **state)
{
	struct vhost_conf conf = { .vhost_dir = vdir, .log_dir = "/l", .apache_bin = apache_bin,
				   .apache_conf = "/etc/x.conf" };
	struct vhost_spec v;
	struct vhost_error err;
	char path[256], msg[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/coopnet-web9.conf", vdir);
	put(path, "# hand-written\n");
	vspec(&v, "web9", "198.18.2.19/24", NULL);
	assert_int_equal(vhost_sync(&conf, &v, 1, NULL, &err), -1);
	snprintf(msg, sizeof(msg), "vhost \"web9\": %s/coopnet-web9.conf exists and is not "
		 "coopnet's (no \"# coopnet:vhost\" first line); move it away", vdir);
	assert_string_equal(err.msg, msg);
	assert_string_equal(slurp(path), "# hand-written\n");
	unlink(path);
}

/* A rename failing midway through the writes (the second file) restores the first. */
static void test_sync_write_failure(void **state)
{
	struct vhost_conf conf = { .vhost_dir = vdir, .log_dir = "/l", .apache_bin = apache_bin,
				   .apache_conf = "/etc/x.conf" };
	struct vhost_spec v[2];
	struct vhost_error err;
	char before1[8192], before2[8192], path1[256], path2[256];

	(void)state;
	snprintf(path1, sizeof(path1), "%s/coopnet-web1.conf", vdir);
	snprintf(path2, sizeof(path2), "%s/coopnet-web2.conf", vdir);
	vspec(&v[0], "web1", "198.18.2.11/24", NULL);
	vspec(&v[1], "web2", "198.18.2.12/24", NULL);
	assert_int_equal(vhost_sync(&conf, v, 2, NULL, &err), 0);
	snprintf(before1, sizeof(before1), "%s", slurp(path1));
	snprintf(before2, sizeof(before2), "%s", slurp(path2));
	v[0].port = v[1].port = 81;
	rename_calls = 0;
	rename_fail_at = 2;
	assert_int_equal(vhost_sync(&conf, v, 2, NULL, &err), -1);
	rename_fail_at = 0;
	assert_true(rename_calls > 2);   /* the restore did rename web1 back */
	assert_non_null(strstr(err.msg, "coopnet-web2.conf: cannot write"));
	assert_string_equal(slurp(path1), before1);
	assert_string_equal(slurp(path2), before2);
	assert_string_equal(listing(), "000-default.conf\ncoopnet-web1.conf\ncoopnet-web2.conf\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_rejects),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_run_no_shell),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_sync_foreign_name),
		cmocka_unit_test(test_sync_write_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
