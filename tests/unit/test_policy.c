/* SPDX-License-Identifier: MIT */
/* The policy engine: the sample policies, schema and semantic errors with their positions,
 * secret files, the resolved form the engine receives, and the lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../authd/policy.h"

#define ALL (POLICY_ROLE_SUPERVISOR | POLICY_ROLE_HEADER | POLICY_ROLE_PROVIDER)
static const char KEY[] = "4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e";

static int load(struct policy *p, const char *text, unsigned roles, struct jconf_error *e)
{
	return policy_load_buffer(p, "t.json", text, strlen(text), roles, false, e);
}

/* Expect a failure at line:column with msg_part in the message. */
static void expect_error(const char *text, unsigned roles, int line, int col, const char *part)
{
	struct jconf_error e;
	struct policy p;
	char buf[1024];

	assert_int_equal(load(&p, text, roles, &e), -1);
	jconf_error_str(&e, buf, sizeof(buf));
	if (e.line != line || e.column != col || !strstr(e.msg, part))
		fail_msg("got \"%s\", want t.json:%d:%d and \"%s\"", buf, line, col, part);
}

static void test_samples_load(void **state)
{
	static const struct { const char *file; unsigned roles; } s[] = {
		{ "supervisor.json", POLICY_ROLE_SUPERVISOR },
		{ "header.json", POLICY_ROLE_HEADER },
		{ "provider.json", POLICY_ROLE_PROVIDER },
	};
	struct jconf_error e;
	struct policy p;
	char path[512], buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		snprintf(path, sizeof(path), "%s/policy/%s", SRCDIR, s[i].file);
		if (policy_load_file(&p, path, s[i].roles, &e) < 0)
			fail_msg("%s", jconf_error_str(&e, buf, sizeof(buf)));
		policy_free(&p);
	}
	snprintf(path, sizeof(path), "%s/policy/provider.json", SRCDIR);
	assert_int_equal(policy_load_file(&p, path, POLICY_ROLE_PROVIDER, &e), 0);
	assert_int_equal(p.n_vnics, 1);
	assert_string_equal(p.vnics[0].data_folder, "/srv/coopnet/vnic1");
	assert_int_equal(p.idle_time, 3600);
	policy_free(&p);
}

static void test_config(void **state)
{
	struct authd_config c;
	struct jconf_error e;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/policy/authd-provider.json", SRCDIR);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_int_equal(c.roles, POLICY_ROLE_HEADER | POLICY_ROLE_PROVIDER);
	assert_int_equal(c.n_listen, 2);
	assert_int_equal(c.listen[1].family, CN_FAM_INET6);
	assert_int_equal(c.listen[0].port, AUTHD_DEFAULT_PORT);
	assert_string_equal(c.database, AUTHD_DEFAULT_DB);
	assert_int_equal(c.kdf, CN_KDF_INTERACTIVE);
	assert_int_equal(c.timing.window_ms, 30000);
	assert_int_equal(c.udp_rcvbuf, 0);        /* absent: the default (authd.c) */
	snprintf(path, sizeof(path), "%s/policy/authd-supervisor.json", SRCDIR);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_int_equal(c.udp_rcvbuf, 4194304);
}

static void test_schema_errors(void **state)
{
	(void)state;
	expect_error("{\n  \"provider\": {\"vnics\": [], \"clients\": [], \"colour\": 1}\n}",
		     POLICY_ROLE_PROVIDER, 2, 44, "colour");
	expect_error("{\"supervisor\": {\"headers\": [], \"services\": [], \"clients\": []}}",
		     POLICY_ROLE_SUPERVISOR, 1, 28, "");
	/* the role decides which section must be there */
	expect_error("{\"header\": {\"group\": [{\"address\": \"198.18.2.3\", \"services\": []}]},"
		     " \"group_key\": \"" "00000000000000000000000000000000"
		     "00000000000000000000000000000000" "\"}", POLICY_ROLE_PROVIDER, 1, 1, "\"provider\"");
}

static void test_semantic_errors(void **state)
{
	char doc[2048];

	(void)state;
	/* host bits after the prefix length */
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [{\"name\": \"v\", \"address\": "
		 "\"198.19.0.10\", \"services\": [{\"name\": \"http\", \"port\": 80}]}],\n"
		 "\"clients\": [{\"name\": \"c\", \"address\": \"198.18.1.7/24\", \"services\": "
		 "[\"http\"], \"keys\": {\"http\": \"%s\"}}]}}", KEY);
	expect_error(doc, POLICY_ROLE_PROVIDER, 2, 38, "host bits");
	/* a client's service that no vNIC hosts */
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [{\"name\": \"v\", \"address\": "
		 "\"198.19.0.10\", \"services\": [{\"name\": \"http\", \"port\": 80}]}],\n"
		 "\"clients\": [{\"name\": \"c\", \"address\": \"198.18.1.0/24\", \"services\": "
		 "[\"ssh\"], \"keys\": {\"ssh\": \"%s\"}}]}}", KEY);
	expect_error(doc, POLICY_ROLE_PROVIDER, 2, 67, "hosted by no vNIC");
	/* two vNICs with one name */
	expect_error("{\"provider\": {\"clients\": [], \"vnics\": [\n"
		     "{\"name\": \"v\", \"address\": \"198.19.0.10\", \"services\": [{\"name\": \"a\", \"port\": 80}]},\n"
		     "{\"name\": \"v\", \"address\": \"198.19.0.11\", \"services\": [{\"name\": \"b\", \"port\": 80}]}]}}",
		     POLICY_ROLE_PROVIDER, 3, 10, "used twice");
	/* neither passcode_file nor keys */
	expect_error("{\"provider\": {\"vnics\": [{\"name\": \"v\", \"address\": \"198.19.0.10\", "
		     "\"services\": [{\"name\": \"http\", \"port\": 80}]}], \"clients\": [\n"
		     "  {\"name\": \"c\", \"address\": \"198.18.1.2\", \"services\": [\"http\"]}]}}",
		     POLICY_ROLE_PROVIDER, 2, 3, "exactly one of");
	/* a supervisor service named by a client but not listed */
	snprintf(doc, sizeof(doc), "{\"supervisor\": {\"headers\": [{\"address\": \"198.18.2.2\"}],"
		 " \"services\": [],\n\"clients\": [{\"name\": \"c\", \"address\": \"198.18.1.2\","
		 " \"services\": [\"http\"], \"keys\": {\"http\": \"%s\"}}]}}", KEY);
	expect_error(doc, POLICY_ROLE_SUPERVISOR, 2, 64, "not in supervisor.services");
	/* an address that does not parse */
	expect_error("{\"group_key\": \"" "00000000000000000000000000000000"
		     "00000000000000000000000000000000" "\", \"header\": {\"group\": "
		     "[{\"address\": \"198.18.2.300\", \"services\": [\"http\"]}]}}", POLICY_ROLE_HEADER,
		     1, 116, "not an IPv4 or IPv6 address");
}

static char *write_secret(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_policy.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void test_resolve_and_resolved_form(void **state)
{
	char doc[2048], *secret, *text, buf[1024];
	struct jconf_error e;
	struct policy p, q;
	uint8_t want[CN_KEY_LEN];
	json_t *j;

	(void)state;
	assert_int_equal(cn_auth_crypto_init(), 0);
	secret = write_secret("open sesame\n", 0644);
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [{\"name\": \"v\", \"address\": "
		 "\"198.19.0.10\", \"services\": [{\"name\": \"http\", \"port\": 80}]}], "
		 "\"clients\": [{\"name\": \"c\", \"address\": \"198.18.1.2\", \"services\": "
		 "[\"http\"], \"passcode_file\": \"%s\"}]}}", secret);
	assert_int_equal(load(&p, doc, POLICY_ROLE_PROVIDER, &e), 0);
	/* readable by others: refused, naming the file and the fix */
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), -1);
	jconf_error_str(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, secret));
	assert_non_null(strstr(buf, "chmod 600"));
	assert_int_equal(chmod(secret, 0600), 0);
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), 0);
	assert_int_equal(cn_auth_derive_key(want, "open sesame", 11, "http", "c", CN_KDF_MIN), 0);
	assert_memory_equal(policy_client_key(&p.sp_clients[0], "http"), want, CN_KEY_LEN);
	/* the engine's form: keys only, no file, and it loads as "resolved" */
	j = policy_to_json(&p);
	text = json_dumps(j, JSON_COMPACT);
	assert_null(strstr(text, "passcode_file"));
	assert_null(strstr(text, "open sesame"));
	assert_int_equal(policy_load_buffer(&q, "r", text, strlen(text), POLICY_ROLE_PROVIDER, true, &e), 0);
	assert_memory_equal(policy_client_key(&q.sp_clients[0], "http"), want, CN_KEY_LEN);
	policy_free(&q);
	/* and a resolved document may not name files */
	assert_int_equal(policy_load_buffer(&q, "t.json", doc, strlen(doc), POLICY_ROLE_PROVIDER, true, &e), -1);
	assert_non_null(strstr(e.msg, "resolved"));
	free(text);
	json_decref(j);
	policy_free(&p);
	unlink(secret);
}

static void put_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Relative paths in the configuration and the policy are relative to the file's folder, so a
 * daemon that left its working directory for "/" (daemon()) still finds them. */
static void test_relative_paths(void **state)
{
	char dir[] = "/tmp/test_policy_rel.XXXXXX", real[PATH_MAX], want[PATH_MAX + 64], old[PATH_MAX];
	struct authd_config c;
	struct jconf_error e;
	struct policy p;

	(void)state;
	assert_int_equal(cn_auth_crypto_init(), 0);
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(mkdir(strcat(strcpy(want, dir), "/etc"), 0700), 0);
	put_file(dir, "etc/authd.json", "{\"roles\": [\"provider\"], \"listen\": [\"198.18.2.2\"], "
		 "\"policy\": \"policy.json\", \"database\": \"../db/authd.db\", "
		 "\"control_socket\": \"/run/x.sock\", \"nfq_socket\": \"\", "
		 "\"relay_socket\": \"relay.sock\"}\n", 0644);
	put_file(dir, "etc/policy.json", "{\"provider\": {\"vnics\": [{\"name\": \"v\", "
		 "\"address\": \"198.19.0.10/24\", \"data_folder\": \"www\", \"services\": "
		 "[{\"name\": \"http\", \"port\": 80}]}], \"clients\": [{\"name\": \"c\", "
		 "\"address\": \"198.18.1.2\", \"services\": [\"http\"], "
		 "\"passcode_file\": \"secrets/c.pass\"}]}}\n", 0644);
	snprintf(want, sizeof(want), "%s/etc/secrets", dir);
	assert_int_equal(mkdir(want, 0700), 0);
	put_file(dir, "etc/secrets/c.pass", "open sesame\n", 0600);

	/* the configuration named by a relative path, as "coopnet-authd -c authd.json" */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(config_load(&c, "etc/authd.json", &e), 0);
	assert_int_equal(chdir("/"), 0);
	snprintf(want, sizeof(want), "%s/etc/policy.json", real);
	assert_string_equal(c.policy, want);
	snprintf(want, sizeof(want), "%s/etc/../db/authd.db", real);
	assert_string_equal(c.database, want);
	assert_string_equal(c.control_socket, "/run/x.sock");   /* absolute: as written */
	assert_string_equal(c.nfq_socket, "");                  /* "": no data plane */
	snprintf(want, sizeof(want), "%s/etc/relay.sock", real);
	assert_string_equal(c.relay_socket, want);              /* relative, as the others */

	/* the policy's files are relative to the policy's folder */
	if (policy_load_file(&p, c.policy, POLICY_ROLE_PROVIDER, &e) < 0)
		fail_msg("%s: %s", e.file, e.msg);
	snprintf(want, sizeof(want), "%s/etc/www", real);
	assert_string_equal(p.vnics[0].data_folder, want);
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), 0);
	policy_free(&p);

	assert_int_equal(chdir(old), 0);
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	assert_int_equal(system(want), 0);
}

/* Health checks and weight of a vNIC service: defaults, explicit values, errors with their
 * positions, and the resolved form keeps them. */
static void test_health(void **state)
{
	char doc[2048], *text;
	struct jconf_error e;
	struct policy p, q;
	const struct health_cfg *h;
	json_t *j;

	(void)state;
	snprintf(doc, sizeof(doc), "{\"provider\": {\"apache\": {\"vhost_dir\": \"/tmp\"}, "
		 "\"vnics\": [{\"name\": \"v\", \"address\": \"198.19.0.10\", \"data_folder\": \"/tmp\", "
		 "\"services\": [{\"name\": \"web\", \"port\": 80, \"apache\": true},\n"
		 "{\"name\": \"db\", \"port\": 5432, \"weight\": 0, \"health\": {\"interval_ms\": 1000, "
		 "\"fall\": 1}},\n"
		 "{\"name\": \"api\", \"port\": 8080, \"health\": {\"check\": \"http\", \"path\": "
		 "\"/healthz\", \"expect_status\": 204, \"rise\": 5}},\n"
		 "{\"name\": \"raw\", \"port\": 9, \"health\": {\"check\": \"none\"}}]}], "
		 "\"clients\": []}}");
	if (load(&p, doc, POLICY_ROLE_PROVIDER, &e) < 0)
		fail_msg("%s", e.msg);
	h = &p.vnics[0].services[0].health; /* Apache: http GET / */
	assert_int_equal(h->check, CN_CHECK_HTTP);
	assert_string_equal(h->path, "/");
	assert_int_equal(h->interval_ms, 5000);
	assert_int_equal(h->timeout_ms, 2000);
	assert_int_equal(h->rise, 2);
	assert_int_equal(h->fall, 3);
	assert_int_equal(p.vnics[0].services[0].weight, POL_DEFAULT_WEIGHT);
	h = &p.vnics[0].services[1].health; /* not Apache: tcp */
	assert_int_equal(h->check, CN_CHECK_TCP);
	assert_int_equal(h->interval_ms, 1000);
	assert_int_equal(h->timeout_ms, 500);
	assert_int_equal(h->fall, 1);
	assert_int_equal(p.vnics[0].services[1].weight, 0);
	h = &p.vnics[0].services[2].health;
	assert_int_equal(h->check, CN_CHECK_HTTP);
	assert_string_equal(h->path, "/healthz");
	assert_int_equal(h->expect_status, 204);
	assert_int_equal(h->rise, 5);
	assert_int_equal(p.vnics[0].services[3].health.check, CN_CHECK_NONE);
	/* the engine's form carries them */
	j = policy_to_json(&p);
	text = json_dumps(j, JSON_COMPACT);
	if (policy_load_buffer(&q, "r", text, strlen(text), POLICY_ROLE_PROVIDER, true, &e) < 0)
		fail_msg("%s: %s", e.msg, text);
	assert_memory_equal(&q.vnics[0].services[2].health, &p.vnics[0].services[2].health,
			    sizeof(struct health_cfg));
	assert_int_equal(q.vnics[0].services[1].weight, 0);
	assert_int_equal(q.vnics[0].services[3].health.check, CN_CHECK_NONE);
	policy_free(&q);
	free(text);
	json_decref(j);
	policy_free(&p);
	/* a timeout not below the interval */
	expect_error("{\"provider\": {\"clients\": [], \"vnics\": [{\"name\": \"v\", \"address\": "
		     "\"198.19.0.10\", \"services\": [\n{\"name\": \"a\", \"port\": 80, \"health\": "
		     "{\"interval_ms\": 1000, \"timeout_ms\": 1000}}]}]}}", POLICY_ROLE_PROVIDER, 2, 37,
		     "timeout_ms must be above 0 and below interval_ms");
	/* an HTTP path on a tcp check */
	expect_error("{\"provider\": {\"clients\": [], \"vnics\": [{\"name\": \"v\", \"address\": "
		     "\"198.19.0.10\", \"services\": [\n{\"name\": \"a\", \"port\": 80, \"health\": "
		     "{\"check\": \"tcp\", \"path\": \"/x\"}}]}]}}", POLICY_ROLE_PROVIDER, 2, 37,
		     "need \"check\": \"http\"");
	/* the schema: an unknown check */
	expect_error("{\"provider\": {\"clients\": [], \"vnics\": [{\"name\": \"v\", \"address\": "
		     "\"198.19.0.10\", \"services\": [\n{\"name\": \"a\", \"port\": 80, \"health\": "
		     "{\"check\": \"icmp\"}}]}]}}", POLICY_ROLE_PROVIDER, 2, 47, "is not one of");
}

static void test_lookups(void **state)
{
	struct pol_prefix px = { CN_FAM_INET, { 198, 18, 1, 0 }, 25 };
	struct cn_coop_addr a;

	(void)state;
	assert_int_equal(cn_coop_addr_parse(&a, "198.18.1.127"), 0);
	assert_true(pol_prefix_contains(&px, &a));
	assert_int_equal(cn_coop_addr_parse(&a, "198.18.1.128"), 0);
	assert_false(pol_prefix_contains(&px, &a));
	assert_int_equal(cn_coop_addr_parse(&a, "2001:db8::1"), 0);
	assert_false(pol_prefix_contains(&px, &a));
	px.len = 0;
	assert_int_equal(cn_coop_addr_parse(&a, "198.19.255.1"), 0);
	assert_true(pol_prefix_contains(&px, &a));
}

/* policy_sp_client_by_name: through the name index, the entry a scan finds (the first of a
 * name), and after the policy is moved by value; without the index, the scan. */
static void test_sp_client_index(void **state)
{
	enum { N = 300 };
	struct policy p, q;
	char name[128];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.sp_clients = calloc(N, sizeof(*p.sp_clients));
	assert_non_null(p.sp_clients);
	p.n_sp_clients = N;
	for (int i = 0; i < N - 1; i++)
		snprintf(p.sp_clients[i].name, sizeof(p.sp_clients[i].name), "c%d", i);
	strcpy(p.sp_clients[N - 1].name, "c5"); /* a second entry of a name */
	assert_ptr_equal(policy_sp_client_by_name(&p, "c7"), &p.sp_clients[7]); /* no index: scan */

	assert_int_equal(policy_index_sp_clients(&p), 0);
	assert_int_equal(p.sp_client_names.n, N - 1);
	for (int i = 0; i < N - 1; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_ptr_equal(policy_sp_client_by_name(&p, name), &p.sp_clients[i]);
		assert_ptr_equal(policy_sp_client_by_name(&p, name),
				 policy_client_by_name(p.sp_clients, p.n_sp_clients, name));
	}
	assert_ptr_equal(policy_sp_client_by_name(&p, "c5"), &p.sp_clients[5]);
	assert_null(policy_sp_client_by_name(&p, "c300"));
	assert_null(policy_sp_client_by_name(&p, ""));
	memset(name, 'c', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_null(policy_sp_client_by_name(&p, name)); /* longer than any name can be */

	q = p; /* a move, as the engine's reload and parent_msg_set_policy make */
	memset(&p, 0, sizeof(p));
	assert_ptr_equal(policy_sp_client_by_name(&q, "c298"), &q.sp_clients[298]);
	assert_null(policy_sp_client_by_name(&p, "c1"));
	policy_free(&q);
	policy_free(&p);
}

/* The parent's admission lookup by prefix gives the scan's answer (the first entry in
 * policy order whose prefix holds the address and which allows the service) for every
 * address and service tried: prefixes of many lengths in both families, nested and
 * overlapping ones, one prefix written with host bits, entries of one prefix with other
 * services, and after a move; without the index it scans. */
static unsigned lcg = 12345;

static unsigned next_rand(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return lcg >> 8;
}

static void set_prefix(struct pol_client *c, bool v6, unsigned len, unsigned salt)
{
	c->prefix.family = v6 ? CN_FAM_INET6 : CN_FAM_INET;
	c->prefix.len = (uint8_t)len;
	memset(c->prefix.addr, 0, sizeof(c->prefix.addr));
	if (v6) { /* 2001:db8:0:S::/len */
		c->prefix.addr[0] = 0x20;
		c->prefix.addr[1] = 0x01;
		c->prefix.addr[2] = 0x0d;
		c->prefix.addr[3] = 0xb8;
		c->prefix.addr[7] = (uint8_t)(salt % 4);
		c->prefix.addr[15] = (uint8_t)salt;
	} else { /* 198.18.S.x/len, host bits left as written */
		c->prefix.addr[0] = 198;
		c->prefix.addr[1] = 18;
		c->prefix.addr[2] = (uint8_t)(salt % 8);
		c->prefix.addr[3] = (uint8_t)(salt * 7);
	}
}

static void random_addr(struct cn_coop_addr *a)
{
	bool v6 = next_rand() % 4 == 0;

	memset(a, 0, sizeof(*a));
	a->family = v6 ? CN_FAM_INET6 : CN_FAM_INET;
	if (v6) {
		static const uint8_t pre[4] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(a->addr, pre, 4);
		a->addr[5] = (uint8_t)(next_rand() % 3);
		a->addr[7] = (uint8_t)(next_rand() % 5);
		a->addr[15] = (uint8_t)next_rand();
	} else {
		a->addr[0] = 198;
		a->addr[1] = (uint8_t)(18 + next_rand() % 2);
		a->addr[2] = (uint8_t)(next_rand() % 9);
		a->addr[3] = (uint8_t)next_rand();
	}
}

static void test_client_prefix_index(void **state)
{
	enum { N = 400, TRIES = 20000 };
	static const unsigned lens4[] = { 32, 31, 28, 24, 23, 16, 15 }, lens6[] = { 128, 64, 48, 40 };
	static const char *const svcs[] = { "http", "ssh", "mail" };
	struct policy p, q;
	struct cn_coop_addr a;
	size_t hits = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_non_null(p.sp_clients = calloc(N, sizeof(*p.sp_clients)));
	p.n_sp_clients = N;
	for (unsigned i = 0; i < N; i++) {
		struct pol_client *c = &p.sp_clients[i];
		bool v6 = i % 5 == 0;
		unsigned len = v6 ? lens6[next_rand() % 4] : lens4[next_rand() % 7];
		/* a /15 or /40 holds every address of its family that random_addr makes: few */
		if ((len == 15 || len == 40) && i % 7)
			len = v6 ? 64 : 24;

		set_prefix(c, v6, len, next_rand() % 40);
		c->n_services = 1 + next_rand() % 2;
		assert_non_null(c->services = calloc(c->n_services, sizeof(*c->services)));
		for (size_t k = 0; k < c->n_services; k++)
			strcpy(c->services[k], svcs[(i + k) % 3]);
	}
	/* one prefix twice, the second written with host bits and for another service */
	set_prefix(&p.sp_clients[10], false, 24, 3);
	set_prefix(&p.sp_clients[11], false, 24, 3);
	p.sp_clients[11].prefix.addr[3] = 77;
	assert_int_equal(policy_index_prefixes(&p.sp_client_prefixes, p.sp_clients, N), 0);
	for (int t = 0; t < TRIES; t++) {
		const char *svc = svcs[next_rand() % 3];
		const struct pol_client *want;

		random_addr(&a);
		want = policy_client_for(p.sp_clients, N, &a, svc);
		assert_ptr_equal(policy_sp_client_for(&p, &a, svc), want);
		hits += want != NULL;
	}
	assert_true(hits > TRIES / 4 && hits < TRIES); /* both answers were tried */
	assert_null(policy_sp_client_for(&p, &a, "nosuch"));
	q = p; /* a move, as the engine's reload and parent_msg_set_policy make */
	memset(&p, 0, sizeof(p));
	random_addr(&a);
	assert_ptr_equal(policy_sp_client_for(&q, &a, "http"),
			 policy_client_for(q.sp_clients, N, &a, "http"));
	/* not built: the scan */
	policy_prefix_index_free(&q.sp_client_prefixes);
	assert_ptr_equal(policy_sp_client_for(&q, &a, "ssh"),
			 policy_client_for(q.sp_clients, N, &a, "ssh"));
	policy_free(&q);
	policy_free(&p);
}

/* Every fixed array and string buffer of the configuration and the policy checks its own
 * bound, with the schema switched off: an error naming t.json:LINE:COLUMN, never an overflow
 * or a silent truncation (issue 8, "Code that trusts the schema for memory safety"). */
static char *longstr(char *buf, size_t n, char c)
{
	buf[0] = '/';
	memset(buf + 1, c, n - 1);
	buf[n] = '\0';
	return buf;
}

static void expect_bound(bool config, const char *text, const char *part)
{
	struct authd_config cfg;
	struct jconf_error e;
	struct policy p;
	char buf[1024];
	int r;

	memset(&e, 0, sizeof(e));
	if (config)
		r = config_load_buffer(&cfg, "t.json", text, strlen(text), &e);
	else
		r = load(&p, text, POLICY_ROLE_PROVIDER, &e);
	assert_int_equal(r, -1);
	jconf_error_str(&e, buf, sizeof(buf));
	if (strncmp(buf, "t.json:1:", 9) != 0 || e.column < 1 || !strstr(buf, part))
		fail_msg("got \"%s\", want t.json:1:COLUMN and \"%s\"", buf, part);
}

#define VNIC "{\"name\": \"v\", \"address\": \"198.19.0.10%s\", \"services\": " \
	     "[{\"name\": \"http\", \"port\": 80}]%s}"

static void test_own_bounds(void **state)
{
	static char doc[16384], big[5000], listen[1024];
	char v[8192], extra[6000];
	size_t off = 0;

	(void)state;
	policy_check_schema(false);
	/* the configuration: 17 listen addresses, and each string buffer */
	for (int i = 0; i < 17; i++)
		off += (size_t)snprintf(listen + off, sizeof(listen) - off, "%s\"198.18.0.%d\"",
					i ? ", " : "", i + 1);
	snprintf(doc, sizeof(doc), "{\"roles\": [\"provider\"], \"listen\": [%s], "
		 "\"policy\": \"/p\"}", listen);
	expect_bound(true, doc, "at most 16 \"listen\" addresses");
	snprintf(doc, sizeof(doc), "{\"roles\": [\"provider\"], \"listen\": [\"198.18.0.1\"], "
		 "\"policy\": \"/p\", \"control_socket\": \"%s\"}", longstr(big, 200, 's'));
	expect_bound(true, doc, "\"control_socket\" is 200 characters long: at most 107");
	snprintf(doc, sizeof(doc), "{\"roles\": [\"provider\"], \"listen\": [\"198.18.0.1\"], "
		 "\"policy\": \"%s\"}", longstr(big, 4096, 'p'));
	expect_bound(true, doc, "\"policy\" is 4096 characters long: at most 4095");
	snprintf(doc, sizeof(doc), "{\"roles\": [\"provider\"], \"listen\": [\"198.18.0.1\"], "
		 "\"policy\": \"/p\", \"user\": \"%s\"}", longstr(big, 40, 'u') + 1);
	expect_bound(true, doc, "\"user\" is 39 characters long: at most 32");
	/* the status application's timers: checked here too */
	expect_bound(true, "{\"roles\": [\"provider\"], \"listen\": [\"198.18.0.1\"], "
		     "\"policy\": \"/p\", \"status\": {\"interval_ms\": 99}}",
		     "\"interval_ms\" must be an integer from 100 to 3600000");
	expect_bound(true, "{\"roles\": [\"provider\"], \"listen\": [\"198.18.0.1\"], "
		     "\"policy\": \"/p\", \"status\": {\"miss_limit\": 0}}",
		     "\"miss_limit\" must be an integer from 1 to 100");
	expect_bound(true, "{\"roles\": [\"supervisor\"], \"listen\": [\"198.18.0.1\"], "
		     "\"policy\": \"/p\", \"udp_rcvbuf\": 4096}",
		     "\"udp_rcvbuf\" must be an integer from 65536 to 268435456");

	/* the policy: a vNIC's data folder and parent, the provider's vnic_parent and apache
	 * paths, a client's passcode_file, the group_key_file */
	snprintf(extra, sizeof(extra), ", \"data_folder\": \"%s\"", longstr(big, 4096, 'd'));
	snprintf(v, sizeof(v), VNIC, "", extra);
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": []}}", v);
	expect_bound(false, doc, "\"data_folder\" is 4096 characters long: at most 4095");
	snprintf(extra, sizeof(extra), ", \"parent\": \"%s\"", longstr(big, 20, 'e') + 1);
	snprintf(v, sizeof(v), VNIC, "/24", extra);
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": []}}", v);
	expect_bound(false, doc, "the parent interface name is 19 characters long: at most 15");
	snprintf(v, sizeof(v), VNIC, "", "");
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": [], "
		 "\"vnic_parent\": \"%s\"}}", v, longstr(big, 20, 'e') + 1);
	expect_bound(false, doc, "\"vnic_parent\" is 19 characters long: at most 15");
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": [], "
		 "\"apache\": {\"config\": \"%s\"}}}", v, longstr(big, 4200, 'a'));
	expect_bound(false, doc, "\"config\" is 4200 characters long: at most 4095");
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": [{\"name\": "
		 "\"c\", \"address\": \"198.18.1.0/24\", \"services\": [\"http\"], "
		 "\"passcode_file\": \"%s\"}]}}", v, longstr(big, 4096, 'f'));
	expect_bound(false, doc, "\"passcode_file\" is 4096 characters long: at most 4095");
	snprintf(doc, sizeof(doc), "{\"provider\": {\"vnics\": [%s], \"clients\": []}, "
		 "\"group_key_file\": \"%s\"}", v, longstr(big, 4096, 'g'));
	expect_bound(false, doc, "\"group_key_file\" is 4096 characters long: at most 4095");
	/* supervisor.idle_time: its own range (the schema is off here) */
	{
		struct jconf_error e = { 0 };
		struct policy p;
		char buf[512];
		static const char ss[] = "{\"supervisor\": {\"headers\": [{\"address\": "
			"\"198.18.2.2\"}], \"services\": [], \"clients\": [], \"idle_time\": %s}}";

		snprintf(doc, sizeof(doc), ss, "31536001");
		assert_int_equal(load(&p, doc, POLICY_ROLE_SUPERVISOR, &e), -1);
		jconf_error_str(&e, buf, sizeof(buf));
		if (!strstr(buf, "t.json:1:") || !strstr(buf, "\"idle_time\": give seconds from 0"))
			fail_msg("got \"%s\"", buf);
		snprintf(doc, sizeof(doc), ss, "-1");
		assert_int_equal(load(&p, doc, POLICY_ROLE_SUPERVISOR, &e), -1);
		snprintf(doc, sizeof(doc), ss, "\"5\"");
		assert_int_equal(load(&p, doc, POLICY_ROLE_SUPERVISOR, &e), -1);
		snprintf(doc, sizeof(doc), ss, "5");
		assert_int_equal(load(&p, doc, POLICY_ROLE_SUPERVISOR, &e), 0);
		assert_int_equal(p.ss_idle_time, 5);
		json_t *j = policy_to_json(&p);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
				 "supervisor"), "idle_time")), 5);
		json_decref(j);
		policy_free(&p);
	}
	policy_check_schema(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_load),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_own_bounds),
		cmocka_unit_test(test_resolve_and_resolved_form),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_sp_client_index),
		cmocka_unit_test(test_client_prefix_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
