/* SPDX-License-Identifier: MIT */
/* The policy of group messages (authd/policy_membership.c): a header's member names and public
 * keys, miss_limit and window_ms; a provider's membership and its signing key file, read by
 * the parent (policy_resolve) and handed to the engine as a key only; errors with positions;
 * the C code's own bounds with the schema off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group.h"
#include "policy.h"

#include <sodium.h>

#define GK "\"group_key\": \"00000000000000000000000000000000" \
	"00000000000000000000000000000000\""
#define PK1 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define VNICS "\"vnics\": [{\"name\": \"v\", \"address\": \"2001:db8:2::11\", " \
	"\"services\": [{\"name\": \"http\", \"port\": 80}]}], \"clients\": []"

static int load(struct policy *p, const char *text, unsigned roles, bool resolved,
		struct jconf_error *e)
{
	return policy_load_buffer(p, "t.json", text, strlen(text), roles, resolved, e);
}

static void expect_error(const char *text, unsigned roles, int line, int col, const char *part)
{
	struct jconf_error e;
	struct policy p;
	char buf[1024];

	assert_int_equal(load(&p, text, roles, false, &e), -1);
	jconf_error_str(&e, buf, sizeof(buf));
	if ((line && (e.line != line || e.column != col)) || !strstr(e.msg, part))
		fail_msg("got \"%s\", want t.json:%d:%d and \"%s\"", buf, line, col, part);
}

static void test_header(void **state)
{
	struct jconf_error e;
	struct policy p;
	const char *doc = "{" GK ", \"header\": {\"group\": ["
		"{\"address\": \"2001:db8:2::11\", \"services\": [\"http\"], \"name\": \"sp1\", "
		"\"public_key\": \"" PK1 "\"},"
		"{\"address\": \"2001:db8:2::12\", \"services\": [\"http\"]}], \"miss_limit\": 4}}";

	(void)state;
	assert_int_equal(load(&p, doc, POLICY_ROLE_HEADER, false, &e), 0);
	assert_string_equal(p.group[0].name, "sp1");
	assert_true(p.group[0].has_public_key);
	assert_int_equal(p.group[0].public_key[0], 0xd7);
	assert_int_equal(p.group[0].public_key[31], 0x1a);
	assert_false(p.group[1].has_public_key); /* takes no group message: stays unknown */
	assert_int_equal(p.group_miss_limit, 4);
	assert_int_equal(p.group_window_ms, POL_GROUP_WINDOW_MS);
	assert_ptr_equal(policy_sp_by_name(&p, "sp1"), &p.group[0]);
	assert_null(policy_sp_by_name(&p, "sp2"));
	policy_free(&p);
}

static void test_header_errors(void **state)
{
	(void)state;
	expect_error("{" GK ", \"header\": {\"group\": [\n{\"address\": \"2001:db8:2::11\", "
		     "\"services\": [], \"name\": \"sp1\"}]}}", POLICY_ROLE_HEADER, 2, 1,
		     "needs \"public_key\"");
	expect_error("{" GK ", \"header\": {\"group\": [\n"
		     "{\"address\": \"2001:db8:2::11\", \"services\": [], \"name\": \"sp1\", \"public_key\": \"" PK1 "\"},\n"
		     "{\"address\": \"2001:db8:2::12\", \"services\": [], \"name\": \"sp1\", \"public_key\": \"" PK1 "\"}]}}",
		     POLICY_ROLE_HEADER, 3, 55, "used twice");
	expect_error("{" GK ", \"header\": {\"group\": [{\"address\": \"2001:db8:2::11\", "
		     "\"services\": [], \"name\": \"sp1\", \"public_key\": \"abc\"}]}}",
		     POLICY_ROLE_HEADER, 0, 0, "");
	expect_error("{" GK ", \"header\": {\"group\": [{\"address\": \"2001:db8:2::11\", "
		     "\"services\": []}], \"miss_limit\": 0}}", POLICY_ROLE_HEADER, 0, 0, "");
}

static char *write_secret(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_policy_membership.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* The parent reads the file, the engine gets the key, which derives the expected public key
 * (RFC 8032 test vector 1: SEED -> PK1). */
static void test_membership_resolve(void **state)
{
	char doc[2048], *secret, *text, buf[1024];
	uint8_t pk[CN_GROUP_PK_LEN], sk[CN_GROUP_SK_LEN];
	struct jconf_error e;
	struct policy p, q;
	json_t *j;

	(void)state;
	secret = write_secret(SEED "\n", 0644);
	snprintf(doc, sizeof(doc), "{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		 "\"headers\": [{\"address\": \"2001:db8:2::1\"}, {\"address\": \"2001:db8:2::2\", "
		 "\"port\": 7448}], \"signing_key_file\": \"%s\"}}}", secret);
	assert_int_equal(load(&p, doc, POLICY_ROLE_PROVIDER, false, &e), 0);
	assert_true(p.membership.set);
	assert_false(p.membership.has_signing_key);
	assert_int_equal(p.membership.n_headers, 2);
	assert_int_equal(p.membership.headers[0].family, CN_FAM_INET6);
	assert_int_equal(p.membership.headers[0].port, AUTHD_DEFAULT_PORT);
	assert_int_equal(p.membership.headers[1].port, 7448);
	assert_int_equal(p.membership.interval_ms, POL_GROUP_INTERVAL_MS);
	/* readable by others: refused, naming the file and the fix */
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), -1);
	jconf_error_str(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, secret));
	assert_non_null(strstr(buf, "chmod 600"));
	assert_int_equal(chmod(secret, 0600), 0);
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), 0);
	assert_true(p.membership.has_signing_key);
	assert_int_equal(cn_group_keypair(pk, sk, p.membership.signing_seed), 0);
	sodium_bin2hex(buf, sizeof(buf), pk, sizeof(pk));
	assert_string_equal(buf, PK1);
	/* the engine's form: the key, no file; it loads as resolved */
	j = policy_to_json(&p);
	text = json_dumps(j, JSON_COMPACT);
	assert_null(strstr(text, "signing_key_file"));
	assert_non_null(strstr(text, "\"signing_key\":\"" SEED "\""));
	assert_int_equal(load(&q, text, POLICY_ROLE_PROVIDER, true, &e), 0);
	assert_memory_equal(q.membership.signing_seed, p.membership.signing_seed, 32);
	assert_memory_equal(&q.membership.headers, &p.membership.headers,
			    sizeof(p.membership.headers));
	assert_string_equal(q.membership.name, "sp1");
	policy_free(&q);
	/* a resolved document may not name the file */
	assert_int_equal(load(&q, doc, POLICY_ROLE_PROVIDER, true, &e), -1);
	assert_non_null(strstr(e.msg, "resolved"));
	free(text);
	json_decref(j);
	policy_free(&p);
	/* a file that is not 64 hex digits: refused with the way to make one, never quoted */
	unlink(secret);
	secret = write_secret("not a key at all\n", 0600);
	snprintf(doc, sizeof(doc), "{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		 "\"headers\": [{\"address\": \"2001:db8:2::1\"}], \"signing_key_file\": \"%s\"}}}",
		 secret);
	assert_int_equal(load(&p, doc, POLICY_ROLE_PROVIDER, false, &e), 0);
	assert_int_equal(policy_resolve(&p, CN_KDF_MIN, &e), -1);
	jconf_error_str(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, "coopnetctl group keygen"));
	assert_null(strstr(buf, "not a key"));
	policy_free(&p);
	unlink(secret);
}

static void test_membership_errors(void **state)
{
	(void)state;
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\"}]}}}", POLICY_ROLE_PROVIDER, 0, 0,
		     "exactly one of");
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\"}], \"signing_key\": \"" SEED
		     "\", \"signing_key_file\": \"/k\"}}}", POLICY_ROLE_PROVIDER, 0, 0,
		     "exactly one of");
}

/* With the schema off, the C code still refuses what would overflow or is out of range. */
static void test_own_bounds(void **state)
{
	char doc[4096], heads[2048] = "";

	(void)state;
	policy_check_schema(false);
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"a-name-of-16-chr\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\"}], \"signing_key\": \"" SEED
		     "\"}}}", POLICY_ROLE_PROVIDER, 0, 0, "1 to 15 characters");
	for (int i = 0; i < 17; i++)
		snprintf(heads + strlen(heads), sizeof(heads) - strlen(heads),
			 "%s{\"address\": \"2001:db8:2::%d\"}", i ? "," : "", i + 1);
	snprintf(doc, sizeof(doc), "{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		 "\"headers\": [%s], \"signing_key\": \"" SEED "\"}}}", heads);
	expect_error(doc, POLICY_ROLE_PROVIDER, 0, 0, "1 to 16 header SPs");
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\"}], \"interval_ms\": 99, "
		     "\"signing_key\": \"" SEED "\"}}}", POLICY_ROLE_PROVIDER, 0, 0, "100 to 60000");
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\", \"port\": 0}], "
		     "\"signing_key\": \"" SEED "\"}}}", POLICY_ROLE_PROVIDER, 0, 0, "1 to 65535");
	expect_error("{\"provider\": {" VNICS ", \"membership\": {\"name\": \"sp1\", "
		     "\"headers\": [{\"address\": \"2001:db8:2::1\"}], \"signing_key\": \"zz\"}}}",
		     POLICY_ROLE_PROVIDER, 0, 0, "64 hexadecimal digits");
	expect_error("{" GK ", \"header\": {\"group\": [{\"address\": \"2001:db8:2::11\", "
		     "\"services\": [], \"name\": \"sp 1\", \"public_key\": \"" PK1 "\"}]}}",
		     POLICY_ROLE_HEADER, 0, 0, "[A-Za-z0-9._-]");
	expect_error("{" GK ", \"header\": {\"group\": [{\"address\": \"2001:db8:2::11\", "
		     "\"services\": []}], \"window_ms\": 99}}", POLICY_ROLE_HEADER, 0, 0,
		     "100 to 300000");
	policy_check_schema(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_membership_resolve),
		cmocka_unit_test(test_membership_errors),
		cmocka_unit_test(test_own_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
