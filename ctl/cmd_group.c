/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl group: the SP group from where this coopnet-authd stands (a header's members, an
 * SP's membership, an SS's group services and the SP of each session; docs/coopnetctl.md);
 * coopnetctl group keygen FILE: a new Ed25519 signing key for an SP's group messages
 * (docs/policy.md, "Group messages"). `balance` and `membership` are older names of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "coopnetctl.h"
#include "group_view.h"

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

int cmd_group(int argc, char **argv, const struct cli_opts *opts)
{
	struct cli_group_args a;
	json_t *reply = NULL;
	char err[256];
	int rc;

	if (cli_group_parse(&a, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "coopnetctl %s: %s\n", argv[0], err);
		return CLI_EXIT_USAGE;
	}
	if (a.action == CLI_GROUP_KEYGEN)
		return keygen(a.keyfile);
	rc = cli_request(opts, CLI_AUTHD, json_pack("{s:s}", "cmd", "group"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!json_is_integer(json_object_get(reply, "version"))) {
		fprintf(stderr, "coopnetctl: coopnet-authd's group reply has no \"version\"\n");
		json_decref(reply);
		return CLI_EXIT_BAD_REPLY;
	}
	/* an SS: its sessions of group services, a paged listing of their own */
	if (json_is_object(json_object_get(reply, "ss"))) {
		json_t *all;

		rc = cli_fetch_list(opts, CLI_AUTHD, "group-sessions", "sessions", &all);
		if (rc != CLI_EXIT_OK) {
			json_decref(reply);
			return rc;
		}
		json_object_set_new(json_object_get(reply, "ss"), "sessions", all);
	}
	if (opts->json)
		cli_print_json(reply);
	else
		cli_group_print(stdout, reply);
	json_decref(reply);
	return CLI_EXIT_OK;
}
