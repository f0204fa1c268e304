/* SPDX-License-Identifier: MIT */
/* coopnet-authd's configuration, authd.json (docs/authd.md): config_load*. */
#include "policy_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cfgpath.h"

JCONF_SCHEMA_DECLARE(authd);

static int parse_roles(unsigned *out, const json_t *v)
{
	size_t i;
	json_t *r;

	*out = 0;
	json_array_foreach(v, i, r) {
		const char *s = json_string_value(r);
		*out |= !strcmp(s, "supervisor") ? POLICY_ROLE_SUPERVISOR :
			!strcmp(s, "header") ? POLICY_ROLE_HEADER : POLICY_ROLE_PROVIDER;
	}
	return 0;
}

/* One optional integer member of obj in [min, max] (0 when absent), checked here too. */
static int get_u32(uint32_t *out, const struct jconf_doc *doc, const json_t *obj,
		   const char *key, json_int_t min, json_int_t max, struct jconf_error *err)
{
	const json_t *v = json_object_get(obj, key);
	json_int_t x;

	*out = 0;
	if (!v)
		return 0;
	x = json_integer_value(v);
	if (!json_is_integer(v) || x < min || x > max) {
		jconf_errorf(err, doc, v, "\"%s\" must be an integer from %lld to %lld",
			     key, (long long)min, (long long)max);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

/* "status": {"interval_ms", "miss_limit"} (docs/authd.md). */
static int status_from_doc(struct status_cfg *out, const struct jconf_doc *doc,
			   const json_t *st, struct jconf_error *err)
{
	if (get_u32(&out->interval_ms, doc, st, "interval_ms", CN_STATUS_INTERVAL_MIN_MS,
		    CN_STATUS_INTERVAL_MAX_MS, err) < 0 ||
	    get_u32(&out->miss_limit, doc, st, "miss_limit", 1, 100, err) < 0)
		return -1;
	return 0;
}

/* The path options, as copied (bounded) from the document: a relative one becomes relative to
 * the configuration file's folder (lib/cfgpath.h), in place. */
static int config_paths(struct authd_config *cfg, const struct jconf_doc *doc,
			struct jconf_error *err)
{
	static const struct { const char *key; size_t off, size; } paths[] = {
#define P(k) { #k, offsetof(struct authd_config, k), sizeof(((struct authd_config *)0)->k) }
		P(policy), P(database), P(control_socket), P(nfq_socket), P(relay_socket),
#undef P
	};
	char out[sizeof(cfg->policy)];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *field = (char *)cfg + paths[i].off;

		if (cn_path_resolve(out, paths[i].size, jconf_name(doc), field) < 0) {
			jconf_errorf(err, doc, json_object_get(jconf_root(doc), paths[i].key),
				     "\"%s\": %s (relative to the configuration's folder, at most "
				     "%zu characters)", paths[i].key, strerror(errno),
				     paths[i].size - 1);
			return -1;
		}
		memcpy(field, out, strlen(out) + 1);
	}
	return 0;
}

static int config_from_doc(struct authd_config *cfg, const struct jconf_doc *doc,
			   struct jconf_error *err)
{
	json_t *root = jconf_root(doc), *v, *t;
	const char *kdf;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	parse_roles(&cfg->roles, json_object_get(root, "roles"));
	if ((cfg->roles & POLICY_ROLE_SUPERVISOR) && (cfg->roles & (POLICY_ROLE_HEADER | POLICY_ROLE_PROVIDER))) {
		jconf_errorf(err, doc, json_object_get(root, "roles"),
			     "a supervisor (SS) cannot also be an SP: run one daemon per host role");
		return -1;
	}
	cfg->port = pol_get_port(root, AUTHD_DEFAULT_PORT);
	json_array_foreach(json_object_get(root, "listen"), i, v) {
		if (i >= sizeof(cfg->listen) / sizeof(cfg->listen[0])) {
			jconf_errorf(err, doc, v, "at most %zu \"listen\" addresses",
				     sizeof(cfg->listen) / sizeof(cfg->listen[0]));
			return -1;
		}
		if (pol_parse_addr(&cfg->listen[i], doc, v, cfg->port, err) < 0)
			return -1;
		cfg->n_listen++;
	}
	if (pol_copy_opt(cfg->policy, sizeof(cfg->policy), root, "policy", AUTHD_DEFAULT_POLICY,
		     doc, err) < 0 ||
	    pol_copy_opt(cfg->database, sizeof(cfg->database), root, "database", AUTHD_DEFAULT_DB,
		     doc, err) < 0 ||
	    pol_copy_opt(cfg->control_socket, sizeof(cfg->control_socket), root, "control_socket",
		     AUTHD_DEFAULT_CTL, doc, err) < 0 ||
	    pol_copy_opt(cfg->nfq_socket, sizeof(cfg->nfq_socket), root, "nfq_socket",
		     AUTHD_DEFAULT_NFQ, doc, err) < 0 ||
	    pol_copy_opt(cfg->relay_socket, sizeof(cfg->relay_socket), root, "relay_socket", "",
		     doc, err) < 0 ||
	    pol_copy_opt(cfg->user, sizeof(cfg->user), root, "user", "", doc, err) < 0)
		return -1;
	if (config_paths(cfg, doc, err) < 0)
		return -1;
	kdf = json_string_value(json_object_get(root, "kdf"));
	cfg->kdf = !kdf || !strcmp(kdf, "interactive") ? CN_KDF_INTERACTIVE :
		   !strcmp(kdf, "moderate") ? CN_KDF_MODERATE : CN_KDF_MIN;
	t = json_object_get(root, "timing");
	cfg->timing.rto_ms = (uint32_t)json_integer_value(json_object_get(t, "rto_ms"));
	cfg->timing.rto_max_ms = (uint32_t)json_integer_value(json_object_get(t, "rto_max_ms"));
	cfg->timing.max_tries = (uint32_t)json_integer_value(json_object_get(t, "max_tries"));
	cfg->timing.window_ms = (uint32_t)json_integer_value(json_object_get(t, "window_ms"));
	if (config_metrics_from_doc(&cfg->metrics, doc, json_object_get(root, "metrics"), err) < 0 ||
	    get_u32(&cfg->probe_again_ms, doc, json_object_get(root, "probe"), "again_ms", 1000,
		    86400000, err) < 0 ||
	    get_u32(&cfg->udp_rcvbuf, doc, root, "udp_rcvbuf", 65536, 268435456, err) < 0)
		return -1;
	return status_from_doc(&cfg->status, doc, json_object_get(root, "status"), err);
}

/* From the file name (text NULL) or from text[len] named name. */
static int config_from(struct authd_config *cfg, const char *name, const char *text,
		       size_t len, struct jconf_error *err)
{
	struct jconf_schema *s;
	struct jconf_doc *doc;
	int r;

	s = pol_schema("authd.schema.json", coopnet_schema_authd, coopnet_schema_authd_len, err);
	if (!s)
		return -1;
	doc = text ? jconf_load_buffer(name, text, len, s, err) : jconf_load_file(name, s, err);
	jconf_schema_free(s);
	if (!doc)
		return -1;
	r = config_from_doc(cfg, doc, err);
	jconf_free(doc);
	return r;
}

int config_load_buffer(struct authd_config *cfg, const char *name, const char *text,
		       size_t len, struct jconf_error *err)
{
	/* NULL text is an empty document here, never a file name */
	return config_from(cfg, name, text ? text : "", text ? len : 0, err);
}

int config_load(struct authd_config *cfg, const char *path, struct jconf_error *err)
{
	return config_from(cfg, path, NULL, 0, err);
}

