/* SPDX-License-Identifier: MIT */
/*
 * Apache virtual hosts for the vNICs: one file per vNIC, "coopnet-NAME.conf", in a directory
 * the main Apache config includes (IncludeOptional DIR/coopnet-*.conf or DIR/ *.conf).
 *
 *	vhost_render()       the file text (pure)
 *	vhost_write_atomic() temp file + fsync + rename + fsync of the directory
 *	vhost_sync()         write what changed, remove stale coopnet files, `apache2 -t -f CONF`,
 *	                     and only then `apache2 -k graceful -f CONF`; a failed check puts the
 *	                     previous files back byte for byte and reports Apache's output.
 *
 * Files coopnet owns start with the line VHOST_MARKER " NAME ..."; any other file in the
 * directory is foreign and never touched (a foreign file with a name coopnet wants is an
 * error). Run vhost_sync() after vnic_reconcile(): Apache binds the vNIC addresses on reload.
 */
#ifndef COOPNET_VHOST_H
#define COOPNET_VHOST_H

#include "vnic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHOST_MARKER "# coopnet:vhost"

struct vhost_spec {
	char name[IFNAMSIZ];          /* the vNIC's name: file coopnet-NAME.conf */
	struct vnic_addr addrs[VNIC_MAX_ADDRS];
	size_t naddrs;
	uint16_t port;
	char server_name[256];        /* "" means NAME */
	char docroot[PATH_MAX];       /* the vNIC's data folder, absolute */
};

struct vhost_conf {
	const char *vhost_dir;        /* where the files go */
	const char *log_dir;          /* ErrorLog/CustomLog directory, absolute */
	const char *apache_bin;       /* NULL: /usr/sbin/apache2 */
	const char *apache_conf;      /* the main config, passed with -f */
	bool no_reload;               /* check only, do not signal Apache */
};

struct vhost_error {
	int code;
	char msg[4096];               /* includes Apache's output when the check failed */
};

struct vhost_report {
	size_t written, removed, unchanged;
	bool reloaded;
};

/* Same name, addresses (prefix dropped), data folder; server_name = name. */
void vhost_spec_from_vnic(struct vhost_spec *v, const struct vnic_spec *s, uint16_t port);

/* The file text for v into buf (NUL-terminated). Rejects, with a message naming the vhost,
 * paths that are not absolute or hold quotes, backslashes or control characters, server names
 * outside [A-Za-z0-9.-], port 0, no address. Returns the length, or -1. */
int vhost_render(const struct vhost_spec *v, const char *log_dir, char *buf, size_t size,
		 struct vhost_error *err);

/* "coopnet-NAME.conf" */
int vhost_file_name(const char *name, char *buf, size_t size);

/* Replace DIR/FNAME with text atomically, mode 0644 (or mode when not 0). The old file stays
 * whole if anything fails. */
int vhost_write_atomic(const char *dir, const char *fname, const char *text, size_t len,
		       unsigned int mode, struct vhost_error *err);

/* Run argv[0] with argv (no shell), stdout+stderr into out (truncated, NUL-terminated).
 * Returns the exit status (0..255), or -1 when it could not run or was killed (after
 * timeout_ms, SIGKILL). */
int vhost_run(char *const argv[], char *out, size_t outsize, int timeout_ms);

int vhost_sync(const struct vhost_conf *conf, const struct vhost_spec *v, size_t n,
	       struct vhost_report *rep, struct vhost_error *err);

/* coopnet's files of a directory, byte for byte (none when the directory does not exist),
 * and the way back to them: vhost_sync_files() makes the directory hold exactly these
 * coopnet files (others of coopnet's removed, foreign files untouched), with the same check,
 * restore-on-failure and graceful reload as vhost_sync(). Used to undo a failed start. */
struct vhost_file {
	char fname[NAME_MAX + 1];
	char *text;
	size_t len;
};
int vhost_dir_save(const char *dir, struct vhost_file **out, size_t *n, struct vhost_error *err);
int vhost_sync_files(const struct vhost_conf *conf, const struct vhost_file *f, size_t n,
		     struct vhost_report *rep, struct vhost_error *err);
void vhost_files_free(struct vhost_file *f, size_t n); /* NULL-safe */

#endif
