/* SPDX-License-Identifier: MIT */
/* Talking to a daemon: one request, one reply, errors turned into exit codes. */
#include <stdio.h>

#include "coopnetctl.h"
#include "lib/ctl.h"

int cli_request(const struct cli_opts *opts, enum cli_target target, json_t *req,
		json_t **reply)
{
	const char *path = target == CLI_NFQ ? opts->nfq_socket : opts->authd_socket;
	const char *daemon = target == CLI_NFQ ? "coopnet-nfq" : "coopnet-authd";
	char err[512];
	json_t *ok;

	*reply = ctl_call(path, req, opts->timeout_ms, err, sizeof(err));
	json_decref(req);
	if (!*reply) {
		fprintf(stderr, "coopnetctl: cannot reach %s: %s\n", daemon, err);
		return CLI_EXIT_UNREACHABLE;
	}
	ok = json_object_get(*reply, "ok");
	if (!json_is_boolean(ok)) {
		fprintf(stderr, "coopnetctl: %s sent a reply without \"ok\"\n", daemon);
		json_decref(*reply);
		*reply = NULL;
		return CLI_EXIT_BAD_REPLY;
	}
	if (!json_is_true(ok)) {
		const char *msg = json_string_value(json_object_get(*reply, "error"));
		fprintf(stderr, "coopnetctl: %s: %s\n", daemon, msg ? msg : "request refused");
		if (opts->json)
			cli_print_json(*reply);
		json_decref(*reply);
		*reply = NULL;
		return CLI_EXIT_REFUSED;
	}
	return CLI_EXIT_OK;
}

void cli_print_json(const json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

int cli_request_revoked(const struct cli_opts *opts, json_t *req, const char *before,
			const char *after)
{
	json_t *reply;
	int rc = cli_request(opts, CLI_AUTHD, req, &reply);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json)
		cli_print_json(reply);
	else
		printf("%s%" JSON_INTEGER_FORMAT "%s\n", before,
		       json_integer_value(json_object_get(reply, "revoked")), after);
	json_decref(reply);
	return CLI_EXIT_OK;
}

const char *cli_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && s[0] ? s : "-";
}

json_int_t cli_int(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* Up to this many pages: a listing that does not end is the daemon's bug, not a reason to
 * loop forever. */
#define CLI_LIST_MAX_PAGES 100000

/* The whole list: a daemon that pages a long one (docs/control.md, "Large replies") says
 * "next", the offset to ask for; the pages are concatenated into *all. */
static int fetch_list(const struct cli_opts *opts, const struct cli_list *list, json_t **all)
{
	const char *daemon = list->target == CLI_NFQ ? "coopnet-nfq" : "coopnet-authd";
	json_int_t offset = 0;
	json_t *reply, *items, *next;
	int rc, pages;

	*all = json_array();
	for (pages = 0; pages < CLI_LIST_MAX_PAGES; pages++) {
		json_t *req = offset ? json_pack("{s:s, s:I}", "cmd", list->cmd, "offset", offset) :
				       json_pack("{s:s}", "cmd", list->cmd);

		rc = cli_request(opts, list->target, req, &reply);
		if (rc != CLI_EXIT_OK)
			goto fail;
		items = json_object_get(reply, list->key);
		if (!json_is_array(items)) {
			fprintf(stderr, "coopnetctl: %s's reply lacks \"%s\"\n", daemon, list->key);
			json_decref(reply);
			rc = CLI_EXIT_BAD_REPLY;
			goto fail;
		}
		json_array_extend(*all, items);
		next = json_object_get(reply, "next");
		if (!next) {
			json_decref(reply);
			return CLI_EXIT_OK;
		}
		if (!json_is_integer(next) || json_integer_value(next) <= offset) {
			fprintf(stderr, "coopnetctl: %s's reply has a bad \"next\"\n", daemon);
			json_decref(reply);
			rc = CLI_EXIT_BAD_REPLY;
			goto fail;
		}
		offset = json_integer_value(next);
		json_decref(reply);
	}
	fprintf(stderr, "coopnetctl: %s's listing did not end after %d pages\n", daemon, pages);
	rc = CLI_EXIT_BAD_REPLY;
fail:
	json_decref(*all);
	*all = NULL;
	return rc;
}

int cli_fetch_list(const struct cli_opts *opts, enum cli_target target, const char *cmd,
		   const char *key, json_t **all)
{
	const struct cli_list list = { .name = cmd, .target = target, .cmd = cmd, .key = key };

	return fetch_list(opts, &list, all);
}

int cli_run_list(int argc, const struct cli_opts *opts, const struct cli_list *list)
{
	json_t *items, *item;
	size_t i;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl %s\n", list->name);
		return CLI_EXIT_USAGE;
	}
	rc = fetch_list(opts, list, &items);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json) {
		cli_print_json(items);
	} else if (list->print) {
		list->print(items);
	} else {
		list->header();
		json_array_foreach(items, i, item)
			list->row(item);
	}
	json_decref(items);
	return CLI_EXIT_OK;
}
