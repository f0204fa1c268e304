/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cfgpath.h"

JCONF_SCHEMA_DECLARE(authd);
JCONF_SCHEMA_DECLARE(policy);

#define PASSCODE_MAX 1024

/* --- small parsers: parse_X(out, doc, value, err) quoting the bad value ------------------ */

static int parse_addr(struct cn_coop_addr *out, const struct jconf_doc *doc, const json_t *v,
		      uint16_t port, struct jconf_error *err)
{
	const char *text = json_string_value(v);

	if (!text || cn_coop_addr_parse(out, text) < 0) {
		jconf_errorf(err, doc, v, "\"%s\" is not an IPv4 or IPv6 address", text ? text : "");
		return -1;
	}
	out->port = port;
	return 0;
}

static int parse_prefix(struct pol_prefix *out, const struct jconf_doc *doc, const json_t *v,
			struct jconf_error *err)
{
	const char *text = json_string_value(v), *slash;
	char addr[INET6_ADDRSTRLEN];
	struct cn_coop_addr a;
	unsigned long len;
	char *end;
	unsigned max;

	slash = text ? strchr(text, '/') : NULL;
	if (!text || (size_t)(slash ? slash - text : (ptrdiff_t)strlen(text)) >= sizeof(addr))
		goto bad;
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash ? slash - text : (ptrdiff_t)strlen(text)),
		 text);
	if (cn_coop_addr_parse(&a, addr) < 0)
		goto bad;
	max = a.family == CN_FAM_INET ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || len > max) {
			jconf_errorf(err, doc, v, "\"%s\": prefix length must be 0 to %u", text, max);
			return -1;
		}
	}
	out->family = a.family;
	memcpy(out->addr, a.addr, sizeof(out->addr));
	out->len = (uint8_t)len;
	/* host bits set is almost always a typing error: 198.18.1.7/24 */
	for (unsigned bit = (unsigned)len; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			jconf_errorf(err, doc, v, "\"%s\": host bits set after /%lu (write the "
				     "network address)", text, len);
			return -1;
		}
	}
	return 0;
bad:
	jconf_errorf(err, doc, v, "\"%s\" is not an address or a prefix (198.18.1.0/24, "
		     "2001:db8::/64)", text ? text : "");
	return -1;
}

static int parse_name(char *out, size_t size, const struct jconf_doc *doc, const json_t *v,
		      struct jconf_error *err)
{
	const char *text = json_string_value(v);

	if (!text || strlen(text) >= size) {
		jconf_errorf(err, doc, v, "\"%s\" is longer than %zu characters", text ? text : "",
			     size - 1);
		return -1;
	}
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

static int parse_hexkey(uint8_t out[CN_KEY_LEN], const struct jconf_doc *doc, const json_t *v,
			struct jconf_error *err)
{
	const char *text = json_string_value(v);
	size_t bin_len = 0;

	if (!text || strlen(text) != 2 * CN_KEY_LEN ||
	    sodium_hex2bin(out, CN_KEY_LEN, text, strlen(text), NULL, &bin_len, NULL) != 0 ||
	    bin_len != CN_KEY_LEN) {
		/* never quote a key */
		jconf_errorf(err, doc, v, "a key must be %d hexadecimal digits", 2 * CN_KEY_LEN);
		return -1;
	}
	return 0;
}

static uint16_t get_port(const json_t *obj, uint16_t def)
{
	json_t *p = json_object_get(obj, "port");

	return p ? (uint16_t)json_integer_value(p) : def;
}

/* --- configuration ---------------------------------------------------------------------- */

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

/* Copy text into out[size]. The C code checks its own bounds (the schema is for messages):
 * a value that does not fit is an error at its place in the document. */
static int copy_bounded(char *out, size_t size, const char *text, const struct jconf_doc *doc,
			const json_t *where, const char *what, struct jconf_error *err)
{
	size_t n = text ? strlen(text) : 0;

	if (n >= size) {
		jconf_errorf(err, doc, where, "%s is %zu characters long: at most %zu", what, n,
			     size - 1);
		return -1;
	}
	memcpy(out, text ? text : "", n + 1);
	return 0;
}

/* An optional string member key of root, else def. */
static int copy_opt(char *out, size_t size, const json_t *root, const char *key, const char *def,
		    const struct jconf_doc *doc, struct jconf_error *err)
{
	const json_t *v = json_object_get(root, key);
	const char *s = json_string_value(v);
	char what[64];

	snprintf(what, sizeof(what), "\"%s\"", key);
	return copy_bounded(out, size, s ? s : def, doc, v, what, err);
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
		P(policy), P(database), P(control_socket), P(nfq_socket),
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
	cfg->port = get_port(root, AUTHD_DEFAULT_PORT);
	json_array_foreach(json_object_get(root, "listen"), i, v) {
		if (i >= sizeof(cfg->listen) / sizeof(cfg->listen[0])) {
			jconf_errorf(err, doc, v, "at most %zu \"listen\" addresses",
				     sizeof(cfg->listen) / sizeof(cfg->listen[0]));
			return -1;
		}
		if (parse_addr(&cfg->listen[i], doc, v, cfg->port, err) < 0)
			return -1;
		cfg->n_listen++;
	}
	if (copy_opt(cfg->policy, sizeof(cfg->policy), root, "policy", AUTHD_DEFAULT_POLICY,
		     doc, err) < 0 ||
	    copy_opt(cfg->database, sizeof(cfg->database), root, "database", AUTHD_DEFAULT_DB,
		     doc, err) < 0 ||
	    copy_opt(cfg->control_socket, sizeof(cfg->control_socket), root, "control_socket",
		     AUTHD_DEFAULT_CTL, doc, err) < 0 ||
	    copy_opt(cfg->nfq_socket, sizeof(cfg->nfq_socket), root, "nfq_socket",
		     AUTHD_DEFAULT_NFQ, doc, err) < 0 ||
	    copy_opt(cfg->relay_socket, sizeof(cfg->relay_socket), root, "relay_socket", "",
		     doc, err) < 0 ||
	    copy_opt(cfg->user, sizeof(cfg->user), root, "user", "", doc, err) < 0)
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
	return status_from_doc(&cfg->status, doc, json_object_get(root, "status"), err);
}

static bool check_schema = true;

void policy_check_schema(bool on)
{
	check_schema = on;
}

static struct jconf_schema *schema(const char *name, const char *text, size_t len,
				   struct jconf_error *err)
{
	if (!check_schema)
		return jconf_schema_parse(name, "{}", 2, err); /* accepts every document */
	return jconf_schema_parse(name, text, len, err);
}

/* From the file name (text NULL) or from text[len] named name. */
static int config_from(struct authd_config *cfg, const char *name, const char *text,
		       size_t len, struct jconf_error *err)
{
	struct jconf_schema *s;
	struct jconf_doc *doc;
	int r;

	s = schema("authd.schema.json", coopnet_schema_authd, coopnet_schema_authd_len, err);
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
	return config_from(cfg, name, text, len, err);
}

int config_load(struct authd_config *cfg, const char *path, struct jconf_error *err)
{
	return config_from(cfg, path, NULL, 0, err);
}

/* --- policy ----------------------------------------------------------------------------- */

struct pctx {
	const struct jconf_doc *doc;
	struct jconf_error *err;
	bool resolved;
};

static void free_client(struct pol_client *c)
{
	free(c->services);
	if (c->keys)
		sodium_memzero(c->keys, c->n_keys * sizeof(*c->keys));
	free(c->keys);
}

static void free_clients(struct pol_client *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free_client(&c[i]);
	free(c);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->headers);
	policy_members_free(p);
	free(p->services);
	free_clients(p->ss_clients, p->n_ss_clients);
	free(p->start);
	for (size_t i = 0; p->group && i < p->n_group; i++)
		free(p->group[i].services);
	free(p->group);
	for (size_t i = 0; p->vnics && i < p->n_vnics; i++)
		free(p->vnics[i].services);
	free(p->vnics);
	free_clients(p->sp_clients, p->n_sp_clients);
	sodium_memzero(p, sizeof(*p));
}

static void *alloc_array(size_t n, size_t size, struct pctx *c, const json_t *at)
{
	void *a = calloc(n ? n : 1, size);

	if (!a)
		jconf_errorf(c->err, c->doc, at, "out of memory");
	return a;
}

/* An array of service names into a fresh array; duplicates are refused by the schema. */
static int parse_service_list(char (**out)[CN_COOP_SERVICE_LEN], size_t *n, struct pctx *c,
			      const json_t *arr)
{
	size_t i;
	json_t *v;

	*out = alloc_array(json_array_size(arr), sizeof(**out), c, arr);
	if (!*out)
		return -1;
	*n = json_array_size(arr);
	json_array_foreach(arr, i, v) {
		if (parse_name((*out)[i], sizeof((*out)[i]), c->doc, v, c->err) < 0)
			return -1;
	}
	return 0;
}

static int parse_client_keys(struct pol_client *cl, struct pctx *c, const json_t *keys)
{
	const char *svc;
	json_t *v;

	cl->keys = alloc_array(json_object_size(keys), sizeof(*cl->keys), c, keys);
	if (!cl->keys)
		return -1;
	json_object_foreach((json_t *)keys, svc, v) {
		struct pol_key *k = &cl->keys[cl->n_keys];
		if (!policy_client_allows(cl, svc)) {
			jconf_errorf(c->err, c->doc, v, "key for \"%s\", which is not among the "
				     "client's services", svc);
			return -1;
		}
		if (!cn_coop_service_valid(svc)) {
			jconf_errorf(c->err, c->doc, v, "\"%s\" is not a service name", svc);
			return -1;
		}
		snprintf(k->service, sizeof(k->service), "%s", svc);
		if (parse_hexkey(k->key, c->doc, v, c->err) < 0)
			return -1;
		cl->n_keys++;
	}
	return 0;
}

static int parse_client(struct pol_client *cl, struct pctx *c, const json_t *obj)
{
	json_t *pf = json_object_get(obj, "passcode_file"), *keys = json_object_get(obj, "keys");

	if (parse_name(cl->name, sizeof(cl->name), c->doc, json_object_get(obj, "name"), c->err) < 0 ||
	    parse_prefix(&cl->prefix, c->doc, json_object_get(obj, "address"), c->err) < 0 ||
	    parse_service_list(&cl->services, &cl->n_services, c, json_object_get(obj, "services")) < 0)
		return -1;
	if (copy_bounded(cl->address, sizeof(cl->address),
			 json_string_value(json_object_get(obj, "address")), c->doc,
			 json_object_get(obj, "address"), "\"address\"", c->err) < 0)
		return -1;
	if (!!pf == !!keys) {
		jconf_errorf(c->err, c->doc, obj, "client \"%s\" needs exactly one of "
			     "\"passcode_file\" and \"keys\"", cl->name);
		return -1;
	}
	if (pf) {
		if (c->resolved) {
			jconf_errorf(c->err, c->doc, pf, "passcode_file in a resolved policy");
			return -1;
		}
		return copy_bounded(cl->passcode_file, sizeof(cl->passcode_file),
				    json_string_value(pf), c->doc, pf, "\"passcode_file\"", c->err);
	}
	if (parse_client_keys(cl, c, keys) < 0)
		return -1;
	for (size_t i = 0; i < cl->n_services; i++) {
		if (!policy_client_key(cl, cl->services[i])) {
			jconf_errorf(c->err, c->doc, keys, "client \"%s\" has no key for service "
				     "\"%s\"", cl->name, cl->services[i]);
			return -1;
		}
	}
	return 0;
}

static int parse_clients(struct pol_client **out, size_t *n, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	*out = alloc_array(json_array_size(arr), sizeof(**out), c, arr);
	if (!*out)
		return -1;
	json_array_foreach(arr, i, v) {
		(*n)++;
		if (parse_client(&(*out)[i], c, v) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp((*out)[j].name, (*out)[i].name)) {
				jconf_errorf(c->err, c->doc, json_object_get(v, "name"),
					     "client name \"%s\" used twice", (*out)[i].name);
				return -1;
			}
		}
	}
	return 0;
}

static int parse_endpoints(struct cn_coop_addr **out, size_t *n, struct pctx *c,
			   const json_t *arr)
{
	size_t i;
	json_t *v;

	*out = alloc_array(json_array_size(arr), sizeof(**out), c, arr);
	if (!*out)
		return -1;
	json_array_foreach(arr, i, v) {
		if (parse_addr(&(*out)[i], c->doc, json_object_get(v, "address"),
			       get_port(v, AUTHD_DEFAULT_PORT), c->err) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int parse_ss_services(struct policy *p, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	p->services = alloc_array(json_array_size(arr), sizeof(*p->services), c, arr);
	if (!p->services)
		return -1;
	json_array_foreach(arr, i, v) {
		struct pol_service *s = &p->services[i];
		if (parse_name(s->name, sizeof(s->name), c->doc, json_object_get(v, "name"), c->err) < 0 ||
		    parse_addr(&s->addr, c->doc, json_object_get(v, "address"), get_port(v, 0), c->err) < 0)
			return -1;
		s->confidential = json_is_true(json_object_get(v, "confidential"));
		if (policy_service_by_name(p, s->name) || policy_service_by_addr(p, &s->addr)) {
			jconf_errorf(c->err, c->doc, v, "service \"%s\": its name or its address "
				     "and port are used twice", s->name);
			return -1;
		}
		p->n_services++;
		if (policy_parse_members(s, c->doc, v, c->err) < 0)
			return -1;
	}
	return policy_check_members(p, c->doc, arr, c->err);
}

static int parse_start(struct policy *p, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	p->start = alloc_array(json_array_size(arr), sizeof(*p->start), c, arr);
	if (!p->start)
		return -1;
	json_array_foreach(arr, i, v) {
		struct pol_start *s = &p->start[i];
		json_t *svc = json_object_get(v, "service");
		if (parse_name(s->service, sizeof(s->service), c->doc, svc, c->err) < 0 ||
		    parse_addr(&s->client, c->doc, json_object_get(v, "client"), 0, c->err) < 0)
			return -1;
		if (!policy_service_by_name(p, s->service)) {
			jconf_errorf(c->err, c->doc, svc, "service \"%s\" is not in "
				     "supervisor.services", s->service);
			return -1;
		}
		if (!policy_client_for(p->ss_clients, p->n_ss_clients, &s->client, s->service)) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "client"), "no entry of "
				     "supervisor.clients lets %s use \"%s\"",
				     json_string_value(json_object_get(v, "client")), s->service);
			return -1;
		}
		p->n_start++;
	}
	return 0;
}

static int check_ss_client_services(struct policy *p, struct pctx *c, const json_t *arr)
{
	for (size_t i = 0; i < p->n_ss_clients; i++) {
		const struct pol_client *cl = &p->ss_clients[i];
		for (size_t j = 0; j < cl->n_services; j++) {
			if (!policy_service_by_name(p, cl->services[j])) {
				jconf_errorf(c->err, c->doc, json_object_get(json_array_get(arr, i),
					     "services"), "client \"%s\": service \"%s\" is not in "
					     "supervisor.services", cl->name, cl->services[j]);
				return -1;
			}
		}
	}
	return 0;
}

static int parse_supervisor(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *clients = json_object_get(obj, "clients");

	p->supervisor = true;
	if (parse_endpoints(&p->headers, &p->n_headers, c, json_object_get(obj, "headers")) < 0 ||
	    parse_ss_services(p, c, json_object_get(obj, "services")) < 0 ||
	    parse_clients(&p->ss_clients, &p->n_ss_clients, c, clients) < 0 ||
	    check_ss_client_services(p, c, clients) < 0)
		return -1;
	return parse_start(p, c, json_object_get(obj, "authenticate"));
}

static int parse_header(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *arr = json_object_get(obj, "group"), *v;
	size_t i;

	p->header = true;
	p->group = alloc_array(json_array_size(arr), sizeof(*p->group), c, arr);
	if (!p->group)
		return -1;
	json_array_foreach(arr, i, v) {
		struct pol_sp *sp = &p->group[i];
		p->n_group++;
		if (parse_addr(&sp->addr, c->doc, json_object_get(v, "address"),
			       get_port(v, AUTHD_DEFAULT_PORT), c->err) < 0 ||
		    parse_service_list(&sp->services, &sp->n_services, c,
				       json_object_get(v, "services")) < 0 ||
		    policy_parse_group_entry(sp, c->doc, v, c->err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (cn_coop_addr_equal(&p->group[j].addr, &sp->addr, true)) {
				jconf_errorf(c->err, c->doc, json_object_get(v, "address"),
					     "SP listed twice in the group");
				return -1;
			}
		}
	}
	return policy_parse_balance(p, c->doc, obj, c->err);
}

/* "198.18.2.11" or "198.18.2.11/24": the address, and the prefix when given. */
static int parse_vnic_addr(struct cn_coop_addr *addr, struct vnic_addr *va, bool *has_len,
			   const struct jconf_doc *doc, const json_t *v, struct jconf_error *err)
{
	const char *text = json_string_value(v), *slash;
	char host[INET6_ADDRSTRLEN];
	size_t n;

	slash = text ? strchr(text, '/') : NULL;
	n = text ? (slash ? (size_t)(slash - text) : strlen(text)) : 0;
	if (!text || n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, text, n);
	host[n] = '\0';
	if (cn_coop_addr_parse(addr, host) < 0)
		goto bad;
	addr->port = 0;
	*has_len = slash != NULL;
	if (slash && vnic_parse_addr(va, text) < 0) {
		jconf_errorf(err, doc, v, "\"%s\": the prefix length must be 0 to %d", text,
			     addr->family == CN_FAM_INET ? 32 : 128);
		return -1;
	}
	return 0;
bad:
	jconf_errorf(err, doc, v, "\"%s\" is not an address with an optional prefix length "
		     "(198.18.2.11/24, 2001:db8:2::11/64)", text ? text : "");
	return -1;
}

static int parse_vnic_services(struct pol_vnic *vn, struct pctx *c, const json_t *arr)
{
	size_t i, napache = 0;
	json_t *v;

	vn->services = alloc_array(json_array_size(arr), sizeof(*vn->services), c, arr);
	if (!vn->services)
		return -1;
	json_array_foreach(arr, i, v) {
		struct pol_vservice *s = &vn->services[i];
		if (parse_name(s->name, sizeof(s->name), c->doc, json_object_get(v, "name"),
			       c->err) < 0)
			return -1;
		s->port = get_port(v, 0);
		s->apache = json_is_true(json_object_get(v, "apache"));
		s->confidential = json_is_true(json_object_get(v, "confidential"));
		vn->n_services++;
		if (policy_parse_health(s, c->doc, v, c->err) < 0)
			return -1;
		if (s->apache && ++napache > 1) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "apache"), "vNIC \"%s\": "
				     "one service per vNIC may be served by Apache (its vhost file "
				     "has one port)", vn->name);
			return -1;
		}
	}
	return 0;
}

/* What creating the vNIC needs: a prefix length on every address, a data folder. */
static int parse_vnic_provision(struct pol_vnic *vn, struct pctx *c, const json_t *obj,
				const char *default_parent, bool has_len)
{
	json_t *mac = json_object_get(obj, "mac"), *extra = json_object_get(obj, "addresses"), *v;
	const char *parent = json_string_value(json_object_get(obj, "parent"));
	size_t i;

	if (!parent && !default_parent[0])
		return 0; /* a vNIC this SP does not create (its address is up already) */
	if (copy_bounded(vn->parent, sizeof(vn->parent), parent ? parent : default_parent, c->doc,
			 parent ? json_object_get(obj, "parent") : obj, "the parent interface name",
			 c->err) < 0)
		return -1;
	if (!has_len) {
		jconf_errorf(c->err, c->doc, json_object_get(obj, "address"), "vNIC \"%s\": "
			     "write the address with its prefix length (e.g. \"%s/24\"): coopnet-authd "
			     "creates this vNIC on \"%s\"", vn->name,
			     json_string_value(json_object_get(obj, "address")), vn->parent);
		return -1;
	}
	if (!vn->data_folder[0]) {
		jconf_errorf(c->err, c->doc, obj, "vNIC \"%s\": \"data_folder\" is required for "
			     "a vNIC coopnet-authd creates", vn->name);
		return -1;
	}
	if (mac) {
		if (vnic_parse_mac(vn->mac, json_string_value(mac)) < 0 || (vn->mac[0] & 1)) {
			jconf_errorf(c->err, c->doc, mac, "\"%s\" is not a unicast MAC address "
				     "(02:00:5e:10:00:01)", json_string_value(mac));
			return -1;
		}
		vn->has_mac = true;
	}
	vn->n_addrs = 1;
	json_array_foreach(extra, i, v) {
		struct cn_coop_addr a;
		bool len = false;
		if (vn->n_addrs >= VNIC_MAX_ADDRS) {
			jconf_errorf(c->err, c->doc, v, "vNIC \"%s\": at most %d addresses",
				     vn->name, VNIC_MAX_ADDRS);
			return -1;
		}
		if (parse_vnic_addr(&a, &vn->addrs[vn->n_addrs], &len, c->doc, v, c->err) < 0)
			return -1;
		if (!len) {
			jconf_errorf(c->err, c->doc, v, "vNIC \"%s\": \"%s\" needs its prefix "
				     "length", vn->name, json_string_value(v));
			return -1;
		}
		vn->n_addrs++;
	}
	return 0;
}

static int parse_vnic(struct pol_vnic *vn, struct pctx *c, const json_t *obj,
		      const char *default_parent)
{
	json_t *addr = json_object_get(obj, "address");
	bool has_len = false;

	int col;

	if (jconf_position(c->doc, obj, &vn->line, &col) < 0)
		vn->line = 0;
	if (parse_name(vn->name, sizeof(vn->name), c->doc, json_object_get(obj, "name"), c->err) < 0 ||
	    parse_vnic_addr(&vn->addr, &vn->addrs[0], &has_len, c->doc, addr, c->err) < 0)
		return -1;
	if (copy_opt(vn->data_folder, sizeof(vn->data_folder), obj, "data_folder", "", c->doc,
		     c->err) < 0 ||
	    parse_vnic_services(vn, c, json_object_get(obj, "services")) < 0 ||
	    parse_vnic_provision(vn, c, obj, default_parent, has_len) < 0)
		return -1;
	for (size_t k = 0; k < vn->n_services; k++) {
		if (vn->services[k].apache && !vn->data_folder[0]) {
			jconf_errorf(c->err, c->doc, obj, "vNIC \"%s\": a service served by Apache "
				     "needs \"data_folder\" (its DocumentRoot)", vn->name);
			return -1;
		}
	}
	return 0;
}

static int parse_vnics(struct policy *p, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	p->vnics = alloc_array(json_array_size(arr), sizeof(*p->vnics), c, arr);
	if (!p->vnics)
		return -1;
	json_array_foreach(arr, i, v) {
		struct pol_vnic *vn = &p->vnics[i];
		uint16_t port;
		p->n_vnics++;
		if (parse_vnic(vn, c, v, p->vnic_parent) < 0)
			return -1;
		if (vn->parent[0])
			p->provision = true;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(p->vnics[j].name, vn->name)) {
				jconf_errorf(c->err, c->doc, json_object_get(v, "name"),
					     "vNIC name \"%s\" used twice", vn->name);
				return -1;
			}
		}
		/* a service name identifies one vNIC of this SP */
		for (size_t k = 0; k < vn->n_services; k++) {
			const struct pol_vnic *o = policy_vnic_for(p, vn->services[k].name, &port);
			if (o != vn) {
				jconf_errorf(c->err, c->doc, json_array_get(json_object_get(v, "services"), k),
					     "service \"%s\" is hosted by two vNICs", vn->services[k].name);
				return -1;
			}
			for (size_t m = 0; m < k; m++) {
				if (!strcmp(vn->services[m].name, vn->services[k].name)) {
					jconf_errorf(c->err, c->doc,
						     json_array_get(json_object_get(v, "services"), k),
						     "service \"%s\" listed twice", vn->services[k].name);
					return -1;
				}
			}
		}
	}
	return 0;
}

static int parse_apache(struct pol_apache *a, struct pctx *c, const json_t *obj)
{
	json_t *r;

	if (!obj)
		return 0;
	a->set = true;
	if (copy_opt(a->vhost_dir, sizeof(a->vhost_dir), obj, "vhost_dir", "", c->doc,
		     c->err) < 0 ||
	    copy_opt(a->config, sizeof(a->config), obj, "config", "/etc/apache2/apache2.conf",
		     c->doc, c->err) < 0 ||
	    copy_opt(a->log_dir, sizeof(a->log_dir), obj, "log_dir", "/var/log/apache2", c->doc,
		     c->err) < 0 ||
	    copy_opt(a->binary, sizeof(a->binary), obj, "binary", "/usr/sbin/apache2", c->doc,
		     c->err) < 0)
		return -1;
	r = json_object_get(obj, "reload");
	a->reload = !r || json_is_true(r);
	return 0;
}

static int parse_relay(struct policy *p, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (i >= POL_MAX_RELAY) {
			jconf_errorf(c->err, c->doc, v, "at most %d relay addresses", POL_MAX_RELAY);
			return -1;
		}
		if (parse_addr(&p->relay[i], c->doc, v, 0, c->err) < 0)
			return -1;
		p->n_relay++;
	}
	return 0;
}

static int parse_provider(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *clients = json_object_get(obj, "clients");
	uint16_t port;

	p->provider = true;
	p->id_lifetime = (uint32_t)json_integer_value(json_object_get(obj, "id_lifetime"));
	if (!json_object_get(obj, "id_lifetime"))
		p->id_lifetime = 86400;
	p->idle_time = (uint32_t)json_integer_value(json_object_get(obj, "idle_time"));
	if (copy_opt(p->vnic_parent, sizeof(p->vnic_parent), obj, "vnic_parent", "", c->doc,
		     c->err) < 0 ||
	    parse_apache(&p->apache, c, json_object_get(obj, "apache")) < 0 ||
	    parse_relay(p, c, json_object_get(obj, "relay")) < 0)
		return -1;
	p->queue_mark = POL_DEFAULT_QUEUE_MARK;
	if (json_object_get(obj, "queue_mark"))
		p->queue_mark = (uint32_t)json_integer_value(json_object_get(obj, "queue_mark"));
	if (parse_vnics(p, c, json_object_get(obj, "vnics")) < 0 ||
	    parse_clients(&p->sp_clients, &p->n_sp_clients, c, clients) < 0)
		return -1;
	for (size_t i = 0; i < p->n_vnics; i++) {
		for (size_t k = 0; k < p->vnics[i].n_services; k++) {
			if (p->vnics[i].services[k].apache && !p->apache.set) {
				jconf_errorf(c->err, c->doc, json_array_get(json_object_get(obj, "vnics"), i),
					     "vNIC \"%s\": service \"%s\" is served by Apache but "
					     "provider.apache is missing (vhost_dir, config)",
					     p->vnics[i].name, p->vnics[i].services[k].name);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < p->n_sp_clients; i++) {
		const struct pol_client *cl = &p->sp_clients[i];
		for (size_t j = 0; j < cl->n_services; j++) {
			if (!policy_vnic_for(p, cl->services[j], &port)) {
				jconf_errorf(c->err, c->doc, json_object_get(json_array_get(clients, i),
					     "services"), "client \"%s\": service \"%s\" is hosted "
					     "by no vNIC of provider.vnics", cl->name, cl->services[j]);
				return -1;
			}
		}
	}
	return 0;
}

static int need_section(struct pctx *c, const json_t *root, const char *key, bool want)
{
	if (want && !json_object_get(root, key)) {
		jconf_errorf(c->err, c->doc, root, "the policy lacks \"%s\", which this host's "
			     "role needs", key);
		return -1;
	}
	return 0;
}

static int parse_group_key(struct policy *p, struct pctx *c, const json_t *root, unsigned roles)
{
	json_t *gk = json_object_get(root, "group_key"), *gf = json_object_get(root, "group_key_file");

	if (gk && gf) {
		jconf_errorf(c->err, c->doc, gf, "give either \"group_key\" or \"group_key_file\"");
		return -1;
	}
	if (gf) {
		if (c->resolved) {
			jconf_errorf(c->err, c->doc, gf, "group_key_file in a resolved policy");
			return -1;
		}
		if (copy_bounded(p->group_key_file, sizeof(p->group_key_file),
				 json_string_value(gf), c->doc, gf, "\"group_key_file\"", c->err) < 0)
			return -1;
	} else if (gk) {
		if (parse_hexkey(p->group_key, c->doc, gk, c->err) < 0)
			return -1;
		p->has_group_key = true;
	} else if ((roles & POLICY_ROLE_HEADER) && !(roles & POLICY_ROLE_PROVIDER)) {
		/* a header that forwards must MAC what it forwards */
		jconf_errorf(c->err, c->doc, root, "a header needs \"group_key\" or "
			     "\"group_key_file\" (the SP group's key)");
		return -1;
	}
	return 0;
}

static int policy_from_doc(struct policy *p, const struct jconf_doc *doc, unsigned roles,
			   bool resolved, struct jconf_error *err)
{
	struct pctx c = { doc, err, resolved };
	json_t *root = jconf_root(doc), *v;

	memset(p, 0, sizeof(*p));
	if (need_section(&c, root, "supervisor", roles & POLICY_ROLE_SUPERVISOR) < 0 ||
	    need_section(&c, root, "header", roles & POLICY_ROLE_HEADER) < 0 ||
	    need_section(&c, root, "provider", roles & POLICY_ROLE_PROVIDER) < 0 ||
	    parse_group_key(p, &c, root, roles) < 0)
		return -1;
	if ((v = json_object_get(root, "supervisor")) && (roles & POLICY_ROLE_SUPERVISOR) &&
	    parse_supervisor(p, &c, v) < 0)
		return -1;
	if ((v = json_object_get(root, "header")) && (roles & POLICY_ROLE_HEADER) && parse_header(p, &c, v) < 0)
		return -1;
	if ((v = json_object_get(root, "provider")) && (roles & POLICY_ROLE_PROVIDER) &&
	    parse_provider(p, &c, v) < 0)
		return -1;
	return 0;
}

static int policy_finish(struct policy *out, struct jconf_doc *doc, unsigned roles,
			 bool resolved, struct jconf_error *err)
{
	int r;

	if (!doc)
		return -1;
	r = policy_from_doc(out, doc, roles, resolved, err);
	jconf_free(doc);
	if (r < 0)
		policy_free(out);
	return r;
}

static void file_error(struct jconf_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A path of the policy file, relative to its folder (lib/cfgpath.h), in place. */
static int resolve_one(char *p, size_t size, const char *policy_file, const char *what,
		       struct jconf_error *err)
{
	char out[4096];

	if (cn_path_resolve(out, sizeof(out) < size ? sizeof(out) : size, policy_file, p) < 0) {
		file_error(err, policy_file, "%s \"%s\": %s (relative to the policy's folder, at "
			   "most %zu characters)", what, p, strerror(errno), size - 1);
		return -1;
	}
	memcpy(p, out, strlen(out) + 1);
	return 0;
}

static int policy_paths(struct policy *p, const char *path, struct jconf_error *err)
{
	int r = resolve_one(p->group_key_file, sizeof(p->group_key_file), path,
			    "group_key_file", err);

	for (size_t i = 0; !r && i < p->n_ss_clients; i++)
		r = resolve_one(p->ss_clients[i].passcode_file,
				sizeof(p->ss_clients[i].passcode_file), path, "passcode_file", err);
	for (size_t i = 0; !r && i < p->n_sp_clients; i++)
		r = resolve_one(p->sp_clients[i].passcode_file,
				sizeof(p->sp_clients[i].passcode_file), path, "passcode_file", err);
	for (size_t i = 0; !r && i < p->n_vnics; i++)
		r = resolve_one(p->vnics[i].data_folder, sizeof(p->vnics[i].data_folder), path,
				"data_folder", err);
	if (!r)
		r = resolve_one(p->apache.vhost_dir, sizeof(p->apache.vhost_dir), path,
				"apache.vhost_dir", err);
	if (!r)
		r = resolve_one(p->apache.config, sizeof(p->apache.config), path,
				"apache.config", err);
	if (!r)
		r = resolve_one(p->apache.log_dir, sizeof(p->apache.log_dir), path,
				"apache.log_dir", err);
	if (!r)
		r = resolve_one(p->apache.binary, sizeof(p->apache.binary), path,
				"apache.binary", err);
	return r;
}

int policy_load_file(struct policy *out, const char *path, unsigned roles,
		     struct jconf_error *err)
{
	struct jconf_schema *s;
	struct jconf_doc *doc;

	memset(out, 0, sizeof(*out));
	s = schema("policy.schema.json", coopnet_schema_policy, coopnet_schema_policy_len, err);
	if (!s)
		return -1;
	doc = jconf_load_file(path, s, err);
	jconf_schema_free(s);
	if (policy_finish(out, doc, roles, false, err) < 0)
		return -1;
	if (policy_paths(out, path, err) < 0) {
		policy_free(out);
		return -1;
	}
	return 0;
}

int policy_load_buffer(struct policy *out, const char *name, const char *text, size_t len,
		       unsigned roles, bool resolved, struct jconf_error *err)
{
	struct jconf_schema *s;
	struct jconf_doc *doc;

	memset(out, 0, sizeof(*out));
	s = schema("policy.schema.json", coopnet_schema_policy, coopnet_schema_policy_len, err);
	if (!s)
		return -1;
	doc = jconf_load_buffer(name, text, len, s, err);
	jconf_schema_free(s);
	return policy_finish(out, doc, roles, resolved, err);
}

/* --- resolving secrets (privileged parent) ---------------------------------------------- */

static void file_error(struct jconf_error *err, const char *path, const char *fmt, ...)
{
	size_t n = strlen(path);
	va_list ap;

	memset(err, 0, sizeof(*err));
	/* keep the end of a long path: it names the file */
	if (n >= sizeof(err->file))
		path += n - (sizeof(err->file) - 1);
	memcpy(err->file, path, strlen(path) + 1);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Read a small secret file: regular, not readable or writable by group or others. The
 * content up to the first newline is the secret. Returns its length or -1. */
static ssize_t read_secret(const char *path, char *buf, size_t size, struct jconf_error *err)
{
	struct stat st;
	ssize_t n;
	char *nl;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		file_error(err, path, "cannot open secret file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		file_error(err, path, "%s", "secret file is not a regular file");
		return -1;
	}
	if (st.st_mode & 077) {
		close(fd);
		file_error(err, path, "%s", "secret file is readable or writable by group or "
			   "others: chmod 600 it (and chown root)");
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		file_error(err, path, "cannot read secret file: %s", strerror(errno));
		return -1;
	}
	if ((size_t)n == size - 1) {
		sodium_memzero(buf, size);
		file_error(err, path, "%s", "secret file is too long (1024 bytes at most)");
		return -1;
	}
	buf[n] = '\0';
	nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	if (!buf[0]) {
		file_error(err, path, "%s", "secret file is empty");
		return -1;
	}
	return (ssize_t)strlen(buf);
}

static int resolve_client(struct pol_client *cl, enum cn_kdf_cost cost, struct jconf_error *err)
{
	char pass[PASSCODE_MAX + 2];
	ssize_t n;
	int r = 0;

	if (!cl->passcode_file[0])
		return 0;
	n = read_secret(cl->passcode_file, pass, sizeof(pass), err);
	if (n < 0)
		return -1;
	free(cl->keys);
	cl->n_keys = 0;
	cl->keys = calloc(cl->n_services ? cl->n_services : 1, sizeof(*cl->keys));
	if (!cl->keys) {
		sodium_memzero(pass, sizeof(pass));
		file_error(err, cl->passcode_file, "%s", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cl->n_services && r == 0; i++) {
		struct pol_key *k = &cl->keys[i];
		snprintf(k->service, sizeof(k->service), "%s", cl->services[i]);
		r = cn_auth_derive_key(k->key, pass, (size_t)n, k->service, cl->name, cost);
		if (r < 0)
			file_error(err, cl->passcode_file, "%s", "key derivation failed (out of memory?)");
		else
			cl->n_keys++;
	}
	sodium_memzero(pass, sizeof(pass));
	if (r == 0)
		cl->passcode_file[0] = '\0';
	return r;
}

static int resolve_group_key(struct policy *p, struct jconf_error *err)
{
	char text[PASSCODE_MAX + 2];
	size_t bin_len = 0;
	ssize_t n;

	if (!p->group_key_file[0])
		return 0;
	n = read_secret(p->group_key_file, text, sizeof(text), err);
	if (n < 0)
		return -1;
	if (n != 2 * CN_KEY_LEN ||
	    sodium_hex2bin(p->group_key, CN_KEY_LEN, text, (size_t)n, NULL, &bin_len, NULL) != 0 ||
	    bin_len != CN_KEY_LEN) {
		sodium_memzero(text, sizeof(text));
		file_error(err, p->group_key_file, "%s", "a group key file holds 64 hexadecimal "
			   "digits (make one: head -c32 /dev/urandom | xxd -p -c64)");
		return -1;
	}
	sodium_memzero(text, sizeof(text));
	p->has_group_key = true;
	p->group_key_file[0] = '\0';
	return 0;
}

int policy_resolve(struct policy *p, enum cn_kdf_cost cost, struct jconf_error *err)
{
	if (resolve_group_key(p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_ss_clients; i++)
		if (resolve_client(&p->ss_clients[i], cost, err) < 0)
			return -1;
	for (size_t i = 0; i < p->n_sp_clients; i++)
		if (resolve_client(&p->sp_clients[i], cost, err) < 0)
			return -1;
	return 0;
}

/* --- the resolved form ------------------------------------------------------------------ */

static json_t *hexkey(const uint8_t key[CN_KEY_LEN])
{
	char hex[2 * CN_KEY_LEN + 1];
	json_t *s;

	sodium_bin2hex(hex, sizeof(hex), key, CN_KEY_LEN);
	s = json_string(hex);
	sodium_memzero(hex, sizeof(hex));
	return s;
}

static json_t *addr_json(const struct cn_coop_addr *a)
{
	struct cn_coop_addr noport = *a;
	char buf[CN_COOP_ADDRSTRLEN];

	noport.port = 0;
	return json_string(cn_coop_addr_format(&noport, buf, sizeof(buf)));
}

static json_t *names_json(char (*names)[CN_COOP_SERVICE_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *clients_json(const struct pol_client *cl, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *keys = json_object();
		for (size_t k = 0; keys && k < cl[i].n_keys; k++)
			json_object_set_new(keys, cl[i].keys[k].service, hexkey(cl[i].keys[k].key));
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", "name", cl[i].name,
						   "address", cl[i].address, "services",
						   names_json(cl[i].services, cl[i].n_services),
						   "keys", keys));
	}
	return a;
}

static json_t *supervisor_json(const struct policy *p)
{
	json_t *h = json_array(), *s = json_array(), *st = json_array();

	for (size_t i = 0; i < p->n_headers; i++)
		json_array_append_new(h, json_pack("{s:o, s:i}", "address", addr_json(&p->headers[i]),
						   "port", p->headers[i].port));
	for (size_t i = 0; i < p->n_services; i++) {
		json_t *o = json_pack("{s:s, s:o, s:i, s:b}", "name", p->services[i].name,
				      "address", addr_json(&p->services[i].addr),
				      "port", p->services[i].addr.port, "confidential",
				      p->services[i].confidential);
		policy_members_json(o, &p->services[i]);
		json_array_append_new(s, o);
	}
	for (size_t i = 0; i < p->n_start; i++)
		json_array_append_new(st, json_pack("{s:s, s:o}", "service", p->start[i].service,
						    "client", addr_json(&p->start[i].client)));
	return json_pack("{s:o, s:o, s:o, s:o}", "headers", h, "services", s, "clients",
			 clients_json(p->ss_clients, p->n_ss_clients), "authenticate", st);
}

static json_t *header_json(const struct policy *p)
{
	json_t *g = json_array();

	for (size_t i = 0; i < p->n_group; i++)
		json_array_append_new(g, json_pack("{s:o, s:i, s:o}", "address",
						   addr_json(&p->group[i].addr), "port",
						   p->group[i].addr.port, "services",
						   names_json(p->group[i].services, p->group[i].n_services)));
	json_t *h = json_pack("{s:o}", "group", g);
	policy_balance_json(h, g, p);
	return h;
}

/* The address as written: with its prefix length when the vNIC is provisioned. */
static json_t *vnic_addr_json(const struct pol_vnic *vn, size_t k)
{
	char buf[VNIC_ADDRSTRLEN];

	if (!vn->parent[0])
		return addr_json(&vn->addr);
	return json_string(vnic_addr_format(&vn->addrs[k], buf, sizeof(buf)));
}

static json_t *provider_json(const struct policy *p)
{
	json_t *v = json_array();

	for (size_t i = 0; i < p->n_vnics; i++) {
		const struct pol_vnic *vn = &p->vnics[i];
		json_t *s = json_array();
		for (size_t k = 0; k < vn->n_services; k++)
			json_array_append_new(s, json_pack("{s:s, s:i, s:b, s:i, s:o, s:b}", "name",
							   vn->services[k].name, "port",
							   vn->services[k].port, "apache",
							   vn->services[k].apache, "weight",
							   vn->services[k].weight, "health",
							   policy_health_json(&vn->services[k]),
							   "confidential",
							   vn->services[k].confidential));
		json_t *o = json_pack("{s:s, s:o, s:o}", "name", vn->name, "address",
				      vnic_addr_json(vn, 0), "services", s);
		if (o && vn->data_folder[0])
			json_object_set_new(o, "data_folder", json_string(vn->data_folder));
		if (o && vn->parent[0]) {
			char mac[18];
			json_t *extra = json_array();
			json_object_set_new(o, "parent", json_string(vn->parent));
			if (vn->has_mac)
				json_object_set_new(o, "mac", json_string(vnic_mac_format(vn->mac, mac,
											 sizeof(mac))));
			for (size_t k = 1; k < vn->n_addrs; k++)
				json_array_append_new(extra, vnic_addr_json(vn, k));
			json_object_set_new(o, "addresses", extra);
		}
		json_array_append_new(v, o);
	}
	json_t *prov = json_pack("{s:o, s:o, s:i, s:i, s:I}", "vnics", v, "clients",
				 clients_json(p->sp_clients, p->n_sp_clients), "id_lifetime",
				 (int)p->id_lifetime, "idle_time", (int)p->idle_time, "queue_mark",
				 (json_int_t)p->queue_mark);
	if (prov && p->vnic_parent[0])
		json_object_set_new(prov, "vnic_parent", json_string(p->vnic_parent));
	if (prov && p->apache.set)
		json_object_set_new(prov, "apache", json_pack("{s:s, s:s, s:s, s:s, s:b}",
				    "vhost_dir", p->apache.vhost_dir, "config", p->apache.config,
				    "log_dir", p->apache.log_dir, "binary", p->apache.binary,
				    "reload", p->apache.reload));
	if (prov && p->n_relay) {
		json_t *r = json_array();
		for (size_t i = 0; i < p->n_relay; i++)
			json_array_append_new(r, addr_json(&p->relay[i]));
		json_object_set_new(prov, "relay", r);
	}
	return prov;
}

json_t *policy_to_json(const struct policy *p)
{
	json_t *root = json_object();

	if (!root)
		return NULL;
	if (p->has_group_key)
		json_object_set_new(root, "group_key", hexkey(p->group_key));
	if (p->supervisor)
		json_object_set_new(root, "supervisor", supervisor_json(p));
	if (p->header)
		json_object_set_new(root, "header", header_json(p));
	if (p->provider)
		json_object_set_new(root, "provider", provider_json(p));
	return root;
}

/* --- lookups ---------------------------------------------------------------------------- */

bool pol_prefix_contains(const struct pol_prefix *p, const struct cn_coop_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->family != a->family)
		return false;
	if (memcmp(p->addr, a->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((p->addr[full] & mask) != (a->addr[full] & mask))
			return false;
	}
	return true;
}

bool policy_client_allows(const struct pol_client *c, const char *service)
{
	for (size_t i = 0; i < c->n_services; i++)
		if (!strcmp(c->services[i], service))
			return true;
	return false;
}

const uint8_t *policy_client_key(const struct pol_client *c, const char *service)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (!strcmp(c->keys[i].service, service))
			return c->keys[i].key;
	return NULL;
}

const struct pol_client *policy_client_by_name(const struct pol_client *c, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

const struct pol_client *policy_client_for(const struct pol_client *c, size_t n,
					   const struct cn_coop_addr *addr, const char *service)
{
	for (size_t i = 0; i < n; i++)
		if (pol_prefix_contains(&c[i].prefix, addr) && policy_client_allows(&c[i], service))
			return &c[i];
	return NULL;
}

bool policy_confidential(const struct policy *p, const char *service)
{
	const struct pol_service *s = policy_service_by_name(p, service);

	if (s)
		return s->confidential;
	for (size_t i = 0; i < p->n_vnics; i++)
		for (size_t k = 0; k < p->vnics[i].n_services; k++)
			if (!strcmp(p->vnics[i].services[k].name, service))
				return p->vnics[i].services[k].confidential;
	return false;
}

const struct pol_service *policy_service_by_name(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (!strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

const struct pol_service *policy_service_by_addr(const struct policy *p,
						 const struct cn_coop_addr *addr)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (cn_coop_addr_equal(&p->services[i].addr, addr, true))
			return &p->services[i];
	return NULL;
}

const struct pol_vnic *policy_vnic_for(const struct policy *p, const char *service,
				       uint16_t *port)
{
	for (size_t i = 0; i < p->n_vnics; i++) {
		for (size_t k = 0; k < p->vnics[i].n_services; k++) {
			if (!strcmp(p->vnics[i].services[k].name, service)) {
				*port = p->vnics[i].services[k].port;
				return &p->vnics[i];
			}
		}
	}
	return NULL;
}

bool policy_vnic_addr(const struct pol_vnic *vn, uint8_t family, struct cn_coop_addr *out)
{
	int af = family == CN_FAM_INET ? AF_INET : AF_INET6;

	if (vn->addr.family == family) {
		*out = vn->addr;
		return true;
	}
	for (size_t k = 1; k < vn->n_addrs; k++) {
		if (vn->addrs[k].family != af)
			continue;
		memset(out, 0, sizeof(*out));
		out->family = family;
		memcpy(out->addr, vn->addrs[k].addr, af == AF_INET ? 4 : 16);
		return true;
	}
	return false;
}

const char *kdf_name(enum cn_kdf_cost c)
{
	return c == CN_KDF_MIN ? "min" : c == CN_KDF_MODERATE ? "moderate" : "interactive";
}
