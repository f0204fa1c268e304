/* SPDX-License-Identifier: MIT */
/*
 * coopnet-authd: privilege-separated daemon (docs/authd.md).
 *
 *   parent (root)                        engine (coopnet or nobody, no capabilities)
 *   reads config, policy, secret files   UDP sockets (opened by the parent), the state
 *   derives keys, creates the control    machines, the database, the control socket's
 *   socket file, talks to coopnet-nfq    connections
 *     <-- socketpair (SOCK_SEQPACKET): JSON down to the engine, binary structs up -->
 *
 * Messages ("msg" names the kind; docs/authd.md lists them):
 *   parent -> engine: policy {policy, reload}, nfq-up, nfq-down, session-miss {client,
 *                     service, port}, reload-failed {error}
 *                     parent-stats {refused-messages, refused-sessions}, dp-barrier {token},
 *                     nfq-traffic {first, more, sessions}, link-state {vnics}
 *   engine -> parent: authd/imsg.h enum imsg_type (session add/del, sync begin/part/end,
 *                     reload, policy-applied, barrier), checked by authd/parent_msg.c
 */
#ifndef COOPNET_AUTHD_H
#define COOPNET_AUTHD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "auth_fsm.h"
#include "db.h"
#include "imsg.h"
#include "policy.h"

#define AUTHD_MAX_UDP 16
#define AUTHD_MAX_CTL_CLIENTS 32

/* What the parent hands to the engine at fork. */
struct engine_init {
	const struct authd_config *cfg;
	int parent_fd;                 /* socketpair end */
	int ctl_fd;                    /* listening control socket */
	int udp_fd[AUTHD_MAX_UDP];
	struct cn_coop_addr udp_addr[AUTHD_MAX_UDP];
	size_t n_udp;
	int metrics_fd;                /* listening TCP socket of "metrics", -1: none */
	const char *user;              /* run as */
	bool foreground;
};

/* Engine entry point (in the child): never returns. */
void engine_main(const struct engine_init *init) __attribute__((noreturn));

/* Privilege drop: look up the user (coopnet, else nobody, or cfg->user), then setgroups,
 * setgid, setuid, no_new_privs. 0, or -1 with a message logged. */
int privsep_lookup_user(const char *wanted, uid_t *uid, gid_t *gid, char *name, size_t size);
int privsep_drop(uid_t uid, gid_t gid, const char *name);
/* The database's directory and file name ("/var/lib/coopnet", "authd.db"); -1 (logged)
 * unless an absolute path with a directory. */
int privsep_split_db(const char *database, char *dir, size_t dsize, char *base, size_t bsize);
/* The parent, as root, before the fork: make the database's directory the engine's state
 * directory (created 0700, owned by uid:gid) and migrate the database files in it to the
 * engine (an existing root-owned database included). Refused, with a message: a directory
 * holding anything but the database's files, a symlink or a hard-linked file, a parent
 * directory the engine could write. 0 or -1. */
int privsep_state_dir(const char *database, uid_t uid, gid_t gid);

#endif
