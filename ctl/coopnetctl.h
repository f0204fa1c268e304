/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl: one small file per command (cmd_*.c) behind the dispatch table in coopnetctl.c.
 * Its own names start with cli_ (ctl_ is lib/ctl.h, the control sockets).
 */
#ifndef COOPNETCTL_H
#define COOPNETCTL_H

#include <jansson.h>
#include <stdbool.h>

/* Exit codes, documented in `coopnetctl help`. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,     /* the daemon answered {"ok": false} */
	CLI_EXIT_USAGE = 2,       /* bad command line */
	CLI_EXIT_UNREACHABLE = 3, /* no daemon at the socket, or no reply in time */
	CLI_EXIT_BAD_REPLY = 4,   /* a reply we cannot understand */
	CLI_EXIT_DIFFERS = 5,     /* dp-compare: the data plane and the database differ */
};

enum cli_target { CLI_AUTHD, CLI_NFQ };

struct cli_opts {
	bool json;                /* print raw JSON replies */
	const char *authd_socket;
	const char *nfq_socket;
	int timeout_ms;
};

struct cli_command {
	const char *name;
	const char *args;         /* usage after the name, "" if none */
	const char *summary;
	int (*run)(int argc, char **argv, const struct cli_opts *opts);
};

/* Send req (consumed) to the target; on success *reply holds {"ok": true, ...}. On failure
 * prints a message naming the socket and returns the exit code. */
int cli_request(const struct cli_opts *opts, enum cli_target target, json_t *req,
		json_t **reply);
/* Print a reply as JSON (pretty, sorted keys) on stdout. */
void cli_print_json(const json_t *value);
/* Send req (consumed) to coopnet-authd; print the reply as JSON (--json) or as one line,
 * before + the reply's "revoked" count + after. Returns the exit code. */
int cli_request_revoked(const struct cli_opts *opts, json_t *req, const char *before,
			const char *after);

/* A command that takes no argument and lists the array `key` of the reply to {"cmd": cmd}:
 * as JSON with --json, else header() once and row() per item. */
struct cli_list {
	const char *name;         /* command name, for the usage line */
	enum cli_target target;
	const char *cmd;
	const char *key;
	void (*header)(void);
	void (*row)(const json_t *item);
	void (*print)(const json_t *items); /* optional: the whole table instead of header+rows */
};
int cli_run_list(int argc, const struct cli_opts *opts, const struct cli_list *list);
/* The whole (paged) array `key` of the replies to {"cmd": cmd} into *all (NULL on failure,
 * with a message printed). Returns the exit code. */
int cli_fetch_list(const struct cli_opts *opts, enum cli_target target, const char *cmd,
		   const char *key, json_t **all);

/* The string member key of obj for a table cell: "-" when missing, empty or not a string. */
const char *cli_str(const json_t *obj, const char *key);
/* The integer member key of obj, 0 when missing. */
json_int_t cli_int(const json_t *obj, const char *key);

int cmd_help(int argc, char **argv, const struct cli_opts *opts);
int cmd_stats(int argc, char **argv, const struct cli_opts *opts);
int cmd_metrics(int argc, char **argv, const struct cli_opts *opts);
int cmd_status(int argc, char **argv, const struct cli_opts *opts);
int cmd_sessions(int argc, char **argv, const struct cli_opts *opts);
int cmd_clients(int argc, char **argv, const struct cli_opts *opts);
int cmd_vnics(int argc, char **argv, const struct cli_opts *opts);
int cmd_group(int argc, char **argv, const struct cli_opts *opts);
int cmd_auth(int argc, char **argv, const struct cli_opts *opts);
int cmd_revoke(int argc, char **argv, const struct cli_opts *opts);
int cmd_probe(int argc, char **argv, const struct cli_opts *opts);
int cmd_reload(int argc, char **argv, const struct cli_opts *opts);
int cmd_dp_sessions(int argc, char **argv, const struct cli_opts *opts);
int cmd_dp_compare(int argc, char **argv, const struct cli_opts *opts);
int cmd_dp_resync(int argc, char **argv, const struct cli_opts *opts);

extern const struct cli_command cli_commands[];

#endif
