/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl: one small file per command (cmd_*.c) behind the dispatch table in coopnetctl.c.
 */
#ifndef COOPNETCTL_H
#define COOPNETCTL_H

#include <jansson.h>
#include <stdbool.h>

/* Exit codes, documented in `coopnetctl help`. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,     /* the daemon answered {"ok": false} */
	CTL_EXIT_USAGE = 2,       /* bad command line */
	CTL_EXIT_UNREACHABLE = 3, /* no daemon at the socket, or no reply in time */
	CTL_EXIT_BAD_REPLY = 4,   /* a reply we cannot understand */
};

enum ctl_target { CTL_AUTHD, CTL_NFQ };

struct ctl_opts {
	bool json;                /* print raw JSON replies */
	const char *authd_socket;
	const char *nfq_socket;
	int timeout_ms;
};

struct ctl_command {
	const char *name;
	const char *args;         /* usage after the name, "" if none */
	const char *summary;
	int (*run)(int argc, char **argv, const struct ctl_opts *opts);
};

/* Send req (consumed) to the target; on success *reply holds {"ok": true, ...}. On failure
 * prints a message naming the socket and returns the exit code. */
int ctl_request(const struct ctl_opts *opts, enum ctl_target target, json_t *req,
		json_t **reply);
/* Print a reply as JSON (pretty, sorted keys) on stdout. */
void ctl_print_json(const json_t *value);

/* A command that takes no argument and lists the array `key` of the reply to {"cmd": cmd}:
 * as JSON with --json, else header() once and row() per item. */
struct ctl_list {
	const char *name;         /* command name, for the usage line */
	enum ctl_target target;
	const char *cmd;
	const char *key;
	void (*header)(void);
	void (*row)(const json_t *item);
};
int ctl_run_list(int argc, const struct ctl_opts *opts, const struct ctl_list *list);

/* The string member key of obj for a table cell: "-" when missing, empty or not a string. */
const char *ctl_str(const json_t *obj, const char *key);
/* The integer member key of obj, 0 when missing. */
json_int_t ctl_int(const json_t *obj, const char *key);

int cmd_help(int argc, char **argv, const struct ctl_opts *opts);
int cmd_stats(int argc, char **argv, const struct ctl_opts *opts);
int cmd_status(int argc, char **argv, const struct ctl_opts *opts);
int cmd_sessions(int argc, char **argv, const struct ctl_opts *opts);
int cmd_clients(int argc, char **argv, const struct ctl_opts *opts);
int cmd_vnics(int argc, char **argv, const struct ctl_opts *opts);
int cmd_auth(int argc, char **argv, const struct ctl_opts *opts);
int cmd_revoke(int argc, char **argv, const struct ctl_opts *opts);
int cmd_reload(int argc, char **argv, const struct ctl_opts *opts);
int cmd_dp_sessions(int argc, char **argv, const struct ctl_opts *opts);

extern const struct ctl_command ctl_commands[];

#endif
