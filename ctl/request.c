/* SPDX-License-Identifier: MIT */
/* Talking to a daemon: one request, one reply, errors turned into exit codes. */
#include <stdio.h>

#include "coopnetctl.h"
#include "lib/ctl.h"

int ctl_request(const struct ctl_opts *opts, enum ctl_target target, json_t *req,
		json_t **reply)
{
	const char *path = target == CTL_NFQ ? opts->nfq_socket : opts->authd_socket;
	const char *daemon = target == CTL_NFQ ? "coopnet-nfq" : "coopnet-authd";
	char err[512];
	json_t *ok;

	*reply = ctl_call(path, req, opts->timeout_ms, err, sizeof(err));
	json_decref(req);
	if (!*reply) {
		fprintf(stderr, "coopnetctl: cannot reach %s: %s\n", daemon, err);
		return CTL_EXIT_UNREACHABLE;
	}
	ok = json_object_get(*reply, "ok");
	if (!json_is_boolean(ok)) {
		fprintf(stderr, "coopnetctl: %s sent a reply without \"ok\"\n", daemon);
		json_decref(*reply);
		*reply = NULL;
		return CTL_EXIT_BAD_REPLY;
	}
	if (!json_is_true(ok)) {
		const char *msg = json_string_value(json_object_get(*reply, "error"));
		fprintf(stderr, "coopnetctl: %s: %s\n", daemon, msg ? msg : "request refused");
		if (opts->json)
			ctl_print_json(*reply);
		json_decref(*reply);
		*reply = NULL;
		return CTL_EXIT_REFUSED;
	}
	return CTL_EXIT_OK;
}

void ctl_print_json(const json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

const char *ctl_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && s[0] ? s : "-";
}

json_int_t ctl_int(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

int ctl_run_list(int argc, const struct ctl_opts *opts, const struct ctl_list *list)
{
	const char *daemon = list->target == CTL_NFQ ? "coopnet-nfq" : "coopnet-authd";
	json_t *reply, *items, *item;
	size_t i;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: coopnetctl %s\n", list->name);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_request(opts, list->target, json_pack("{s:s}", "cmd", list->cmd), &reply);
	if (rc != CTL_EXIT_OK)
		return rc;
	items = json_object_get(reply, list->key);
	if (!json_is_array(items)) {
		fprintf(stderr, "coopnetctl: %s's reply lacks \"%s\"\n", daemon, list->key);
		json_decref(reply);
		return CTL_EXIT_BAD_REPLY;
	}
	if (opts->json) {
		ctl_print_json(items);
	} else {
		list->header();
		json_array_foreach(items, i, item)
			list->row(item);
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}
