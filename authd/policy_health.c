/* SPDX-License-Identifier: MIT */
/* The health check and capacity weight of a vNIC service in the policy (docs/policy.md,
 * "Health checks"): parsed here, checked with health_cfg_defaults(), written back into the
 * resolved form the engine receives. */
#include <string.h>

#include "policy.h"

static const char *const check_names[] = { [CN_CHECK_NONE] = "none", [CN_CHECK_TCP] = "tcp",
					   [CN_CHECK_HTTP] = "http" };

static uint32_t get_u32(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
	       (uint32_t)json_integer_value(v) : 0;
}

int policy_parse_health(struct pol_vservice *s, const struct jconf_doc *doc, const json_t *svc,
			struct jconf_error *err)
{
	const json_t *h = json_object_get(svc, "health"), *w = json_object_get(svc, "weight");
	const char *check = json_string_value(json_object_get(h, "check")), *why = NULL;
	struct health_cfg *c = &s->health;

	memset(c, 0, sizeof(*c));
	s->weight = json_is_integer(w) ? (uint16_t)json_integer_value(w) : POL_DEFAULT_WEIGHT;
	c->check = s->apache ? CN_CHECK_HTTP : CN_CHECK_TCP;
	for (unsigned i = 0; check && i <= CN_CHECK_MAX; i++)
		if (!strcmp(check, check_names[i]))
			c->check = (uint8_t)i;
	if (c->check == CN_CHECK_NONE)
		return 0;
	c->interval_ms = get_u32(h, "interval_ms");
	c->timeout_ms = get_u32(h, "timeout_ms");
	c->rise = get_u32(h, "rise");
	c->fall = get_u32(h, "fall");
	c->expect_status = (uint16_t)get_u32(h, "expect_status");
	snprintf(c->path, sizeof(c->path), "%s", json_string_value(json_object_get(h, "path")) ?
		 json_string_value(json_object_get(h, "path")) : "");
	snprintf(c->host, sizeof(c->host), "%s", json_string_value(json_object_get(h, "host")) ?
		 json_string_value(json_object_get(h, "host")) : "");
	if (!health_cfg_defaults(c, &why)) {
		jconf_errorf(err, doc, h, "service \"%s\": health: %s", s->name, why);
		return -1;
	}
	if (c->check == CN_CHECK_TCP && (json_object_get(h, "path") ||
	    json_object_get(h, "host") || json_object_get(h, "expect_status"))) {
		jconf_errorf(err, doc, h, "service \"%s\": health: path, host and expect_status "
			     "need \"check\": \"http\"", s->name);
		return -1;
	}
	return 0;
}

json_t *policy_health_json(const struct pol_vservice *s)
{
	const struct health_cfg *c = &s->health;
	json_t *o;

	if (c->check == CN_CHECK_NONE)
		return json_pack("{s:s}", "check", "none");
	o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "check", check_names[c->check],
		      "interval_ms", (json_int_t)c->interval_ms, "timeout_ms",
		      (json_int_t)c->timeout_ms, "rise", (json_int_t)c->rise, "fall",
		      (json_int_t)c->fall);
	if (o && c->check == CN_CHECK_HTTP) {
		json_object_set_new(o, "path", json_string(c->path));
		if (c->host[0])
			json_object_set_new(o, "host", json_string(c->host));
		if (c->expect_status)
			json_object_set_new(o, "expect_status", json_integer(c->expect_status));
	}
	return o;
}
