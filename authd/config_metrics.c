/* SPDX-License-Identifier: MIT */
/*
 * authd.json's "metrics" (docs/metrics.md): the HTTP address of the Prometheus endpoint.
 *   "metrics": { "address": "127.0.0.1", "port": 9741, "max_connections": 8 }
 * Absent: no endpoint (the default). The schema bounds each member; so does this code.
 */
#include "policy.h"

#include <stdio.h>
#include <string.h>

#define METRICS_DEFAULT_PORT 9741

static int bad(struct jconf_error *err, const struct jconf_doc *doc, const json_t *v,
	       const char *what)
{
	jconf_errorf(err, doc, v, "\"metrics\": %s", what);
	return -1;
}

int config_metrics_from_doc(struct metrics_cfg *out, const struct jconf_doc *doc,
			    const json_t *m, struct jconf_error *err)
{
	const json_t *addr = json_object_get(m, "address"), *port = json_object_get(m, "port"),
		     *maxc = json_object_get(m, "max_connections");
	const char *text = json_string_value(addr);

	memset(out, 0, sizeof(*out));
	if (!m)
		return 0;
	if (!json_is_object(m))
		return bad(err, doc, m, "must be an object with \"address\" and \"port\"");
	if (!text || cn_coop_addr_parse(&out->listen, text) < 0) {
		char what[128];
		snprintf(what, sizeof(what), "\"address\" \"%.64s\" is not an IPv4 or IPv6 address "
			 "(e.g. \"127.0.0.1\")", text ? text : "");
		return bad(err, doc, addr ? addr : m, what);
	}
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535))
		return bad(err, doc, port, "\"port\" must be an integer from 1 to 65535");
	if (maxc && (!json_is_integer(maxc) || json_integer_value(maxc) < 1 ||
		     json_integer_value(maxc) > 64))
		return bad(err, doc, maxc, "\"max_connections\" must be an integer from 1 to 64");
	out->listen.port = port ? (uint16_t)json_integer_value(port) : METRICS_DEFAULT_PORT;
	out->max_connections = maxc ? (uint32_t)json_integer_value(maxc) : 8;
	out->enabled = true;
	return 0;
}
