/* SPDX-License-Identifier: MIT */
/* Resolving a policy's secrets in the privileged parent (policy_resolve): passcode files
 * become derived keys, the group key file the group key. */
#include "policy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PASSCODE_MAX 1024

/* Read a small secret file: regular, not readable or writable by group or others. The
 * content up to the first newline is the secret. Returns its length or -1. */
static ssize_t read_secret(const char *path, char *buf, size_t size, struct jconf_error *err)
{
	struct stat st;
	ssize_t n;
	char *nl;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		pol_file_error(err, path, "cannot open secret file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		pol_file_error(err, path, "%s", "secret file is not a regular file");
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		pol_file_error(err, path, "%s", "secret file is readable or writable by group or "
			   "others: chmod 600 it (and chown root)");
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		pol_file_error(err, path, "cannot read secret file: %s", strerror(errno));
		return -1;
	}
	if ((size_t)n == size - 1) {
		sodium_memzero(buf, size);
		pol_file_error(err, path, "%s", "secret file is too long (1024 bytes at most)");
		return -1;
	}
	buf[n] = '\0';
	nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	if (!buf[0]) {
		pol_file_error(err, path, "%s", "secret file is empty");
		return -1;
	}
	return (ssize_t)strlen(buf);
}

static int resolve_client(struct pol_client *cl, enum cn_kdf_cost cost, struct jconf_error *err)
{
	char pass[PASSCODE_MAX + 2];
	ssize_t n;
	int r = 0;

	if (!cl->passcode_file[0])
		return 0;
	n = read_secret(cl->passcode_file, pass, sizeof(pass), err);
	if (n < 0)
		return -1;
	free(cl->keys);
	cl->n_keys = 0;
	cl->keys = calloc(cl->n_services ? cl->n_services : 1, sizeof(*cl->keys));
	if (!cl->keys) {
		sodium_memzero(pass, sizeof(pass));
		pol_file_error(err, cl->passcode_file, "%s", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cl->n_services && r == 0; i++) {
		struct pol_key *k = &cl->keys[i];
		snprintf(k->service, sizeof(k->service), "%s", cl->services[i]);
		r = cn_auth_derive_key(k->key, pass, (size_t)n, k->service, cl->name, cost);
		if (r < 0)
			pol_file_error(err, cl->passcode_file, "%s", "key derivation failed (out of memory?)");
		else
			cl->n_keys++;
	}
	sodium_memzero(pass, sizeof(pass));
	if (r == 0)
		cl->passcode_file[0] = '\0';
	return r;
}

int pol_read_hexkey_file(uint8_t out[CN_KEY_LEN], const char *path, const char *what,
			 const char *make, struct jconf_error *err)
{
	char text[PASSCODE_MAX + 2];
	size_t bin_len = 0;
	ssize_t n = read_secret(path, text, sizeof(text), err);

	if (n < 0)
		return -1;
	if (n != 2 * CN_KEY_LEN ||
	    sodium_hex2bin(out, CN_KEY_LEN, text, (size_t)n, NULL, &bin_len, NULL) != 0 ||
	    bin_len != CN_KEY_LEN) {
		sodium_memzero(text, sizeof(text));
		pol_file_error(err, path, "a %s file holds 64 hexadecimal digits (make one: %s)",
			       what, make);
		return -1;
	}
	sodium_memzero(text, sizeof(text));
	return 0;
}

static int resolve_group_key(struct policy *p, struct jconf_error *err)
{
	if (!p->group_key_file[0])
		return 0;
	if (pol_read_hexkey_file(p->group_key, p->group_key_file, "group key",
				 "head -c32 /dev/urandom | xxd -p -c64", err) < 0)
		return -1;
	p->has_group_key = true;
	p->group_key_file[0] = '\0';
	return 0;
}

int policy_resolve(struct policy *p, enum cn_kdf_cost cost, struct jconf_error *err)
{
	if (resolve_group_key(p, err) < 0 || policy_membership_resolve(p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_ss_clients; i++)
		if (resolve_client(&p->ss_clients[i], cost, err) < 0)
			return -1;
	for (size_t i = 0; i < p->n_sp_clients; i++)
		if (resolve_client(&p->sp_clients[i], cost, err) < 0)
			return -1;
	return 0;
}
