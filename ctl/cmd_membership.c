/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl membership: on a header SP, the members of its group (state, load, age of the last
 * accepted message, services down); on an SP with provider.membership, its name, public key
 * and headers. coopnetctl membership keygen FILE: a new Ed25519 signing key (docs/policy.md,
 * "Group messages").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "coopnetctl.h"

static void member_row(const json_t *m)
{
	json_t *age = json_object_get(m, "age_ms"), *s;
	size_t k;

	printf("%-15s %-26s %-8s %-8" JSON_INTEGER_FORMAT " ", cli_str(m, "name"),
	       cli_str(m, "address"), cli_str(m, "state"), cli_int(m, "load"));
	if (json_is_integer(age))
		printf("%-8.1f ", (double)json_integer_value(age) / 1000);
	else
		printf("%-8s ", "-");
	if (json_array_size(json_object_get(m, "services_down")) == 0)
		printf("-");
	json_array_foreach(json_object_get(m, "services_down"), k, s)
		printf("%s%s", k ? "," : "", json_string_value(s) ?: "?");
	printf("\n");
}

static void print(const json_t *r)
{
	const json_t *members = json_object_get(r, "members"), *ms = json_object_get(r, "membership");
	const json_t *v;
	size_t i;

	if (json_array_size(members)) {
		printf("%-15s %-26s %-8s %-8s %-8s %s\n", "member", "address", "state", "load",
		       "age(s)", "services down");
		json_array_foreach(members, i, v)
			member_row(v);
	}
	if (ms) {
		printf("member %s, heartbeat every %" JSON_INTEGER_FORMAT " ms, public key %s\n",
		       cli_str(ms, "name"), cli_int(ms, "interval_ms"), cli_str(ms, "public_key"));
		json_array_foreach(json_object_get(ms, "headers"), i, v)
			printf("  header %s: %s\n", cli_str(v, "address"), cli_str(v, "acknowledged"));
	}
	if (!json_array_size(members) && !ms)
		printf("no group: neither a header with members nor an SP with a membership\n");
}

/* Write a new seed (64 hex digits, mode 0600, never over an existing file); print the public
 * key for the headers' policies. */
static int keygen(const char *path)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
	char hex[2 * crypto_sign_SEEDBYTES + 2], pkhex[2 * crypto_sign_PUBLICKEYBYTES + 1];
	int fd, rc = CLI_EXIT_OK;

	if (sodium_init() < 0) {
		fprintf(stderr, "coopnetctl: libsodium cannot start\n");
		return CLI_EXIT_REFUSED;
	}
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
	strcat(hex, "\n");
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) < 0) {
		fprintf(stderr, "coopnetctl: %s: %s (an existing key is never overwritten)\n", path,
			strerror(errno));
		rc = CLI_EXIT_REFUSED;
	}
	if (fd >= 0)
		close(fd);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	if (rc == CLI_EXIT_OK)
		printf("%s\n", pkhex); /* public: for "public_key" in the headers' group entry */
	return rc;
}

int cmd_membership(int argc, char **argv, const struct cli_opts *opts)
{
	json_t *reply = NULL;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "keygen")) {
		if (argc != 3) {
			fprintf(stderr, "usage: coopnetctl membership keygen FILE\n");
			return CLI_EXIT_USAGE;
		}
		return keygen(argv[2]);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl membership [keygen FILE]\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_request(opts, CLI_AUTHD, json_pack("{s:s}", "cmd", "membership"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json)
		cli_print_json(reply);
	else
		print(reply);
	json_decref(reply);
	return CLI_EXIT_OK;
}
