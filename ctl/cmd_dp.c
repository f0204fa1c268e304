/* SPDX-License-Identifier: MIT */
/*
 * coopnetctl dp-compare: coopnet-authd's sessions (its database) against the sessions
 * coopnet-nfq holds from coopnet-authd (source "authd"), by (client, service, port): missing
 * from the data plane, stale in it, or with another ID. Exit 0 in step, 5 when they differ.
 * coopnetctl dp-resync: coopnet-authd sends every session of its database to coopnet-nfq
 * again (the same session-sync as after a reconnect).
 */
#include <stdio.h>
#include <string.h>

#include "coopnetctl.h"

/* "client service port": the key coopnet-nfq's table is indexed by */
static int session_key(const json_t *s, char *buf, size_t size)
{
	const char *client = json_string_value(json_object_get(s, "client"));
	const char *service = json_string_value(json_object_get(s, "service"));
	const json_t *port = json_object_get(s, "port");
	int n;

	if (!client || !service || !json_is_integer(port))
		return -1;
	n = snprintf(buf, size, "%s %s %" JSON_INTEGER_FORMAT, client, service,
		     json_integer_value(port));
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* {key: session} of the items (of source "authd" when only_authd); -1: an item without a key */
static int index_sessions(json_t *idx, const json_t *items, bool only_authd)
{
	char key[256];
	json_t *s;
	size_t i;

	json_array_foreach(items, i, s) {
		const char *src = json_string_value(json_object_get(s, "source"));

		if (only_authd && (!src || strcmp(src, "authd")))
			continue;
		if (session_key(s, key, sizeof(key)) < 0)
			return -1;
		json_object_set(idx, key, s);
	}
	return 0;
}

static json_t *row(const char *what, const char *key, const json_t *db, const json_t *dp)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "what", what, "key", key,
			 "id", db ? cli_str(db, "id") : "-",
			 "dp_id", dp ? cli_str(dp, "id") : "-");
}

/* The differences as an array of rows. */
static json_t *compare(const json_t *db, const json_t *dp)
{
	json_t *out = json_array(), *s, *o;
	const char *key;

	json_object_foreach((json_t *)db, key, s) {
		o = json_object_get(dp, key);
		if (!o)
			json_array_append_new(out, row("missing", key, s, NULL));
		else if (strcmp(cli_str(s, "id"), cli_str(o, "id")))
			json_array_append_new(out, row("other-id", key, s, o));
	}
	json_object_foreach((json_t *)dp, key, s)
		if (!json_object_get(db, key))
			json_array_append_new(out, row("stale", key, NULL, s));
	return out;
}

static void print_text(const json_t *diff, size_t n_db, size_t n_dp)
{
	json_t *r;
	size_t i;

	printf("database: %zu session(s); data plane: %zu from coopnet-authd\n", n_db, n_dp);
	if (json_array_size(diff))
		printf("%-9s %-7s %-7s %s\n", "what", "id", "dp-id", "client service port");
	json_array_foreach(diff, i, r)
		printf("%-9s %-7s %-7s %s\n", cli_str(r, "what"), cli_str(r, "id"),
		       cli_str(r, "dp_id"), cli_str(r, "key"));
	if (json_array_size(diff))
		printf("%zu difference(s): `coopnetctl dp-resync` sends the database again\n",
		       json_array_size(diff));
	else
		printf("in step\n");
}

int cmd_dp_compare(int argc, char **argv, const struct cli_opts *opts)
{
	json_t *db = NULL, *dp = NULL, *idb = json_object(), *idp = json_object(), *diff;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl dp-compare\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = cli_fetch_list(opts, CLI_AUTHD, "sessions", "sessions", &db);
	if (rc == CLI_EXIT_OK)
		rc = cli_fetch_list(opts, CLI_NFQ, "sessions", "sessions", &dp);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (!idb || !idp || index_sessions(idb, db, false) < 0 || index_sessions(idp, dp, true) < 0) {
		fprintf(stderr, "coopnetctl: a listed session lacks client, service or port\n");
		rc = CLI_EXIT_BAD_REPLY;
		goto out;
	}
	diff = compare(idb, idp);
	if (opts->json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:O}", "in_step", !json_array_size(diff),
				      "database", (json_int_t)json_object_size(idb), "data_plane",
				      (json_int_t)json_object_size(idp), "differences", diff);
		cli_print_json(o);
		json_decref(o);
	} else {
		print_text(diff, json_object_size(idb), json_object_size(idp));
	}
	rc = json_array_size(diff) ? CLI_EXIT_DIFFERS : CLI_EXIT_OK;
	json_decref(diff);
out:
	json_decref(db);
	json_decref(dp);
	json_decref(idb);
	json_decref(idp);
	return rc;
}

int cmd_dp_resync(int argc, char **argv, const struct cli_opts *opts)
{
	json_t *reply;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl dp-resync\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_request(opts, CLI_AUTHD, json_pack("{s:s}", "cmd", "dp-resync"), &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (opts->json)
		cli_print_json(reply);
	else
		printf("sent %" JSON_INTEGER_FORMAT " session(s) to coopnet-nfq\n",
		       json_integer_value(json_object_get(reply, "sessions")));
	json_decref(reply);
	return CLI_EXIT_OK;
}
