/* SPDX-License-Identifier: MIT */
/* The policy document (docs/policy.md): policy_load_*, the supervisor's and the header's
 * sections, the group key; the provider's section is in policy_provider.c. */
#include "policy_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cfgpath.h"

JCONF_SCHEMA_DECLARE(policy);

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
	policy_prefix_index_free(&p->ss_client_prefixes);
	free(p->start);
	for (size_t i = 0; p->group && i < p->n_group; i++)
		free(p->group[i].services);
	free(p->group);
	for (size_t i = 0; p->vnics && i < p->n_vnics; i++)
		free(p->vnics[i].services);
	free(p->vnics);
	free_clients(p->sp_clients, p->n_sp_clients);
	hidx_free(&p->sp_client_names);
	policy_prefix_index_free(&p->sp_client_prefixes);
	sodium_memzero(p, sizeof(*p));
}

void *pol_alloc_array(size_t n, size_t size, struct pctx *c, const json_t *at)
{
	void *a = calloc(n ? n : 1, size);

	if (!a)
		jconf_errorf(c->err, c->doc, at, "out of memory");
	return a;
}

int pol_parse_each(void *array, size_t size, size_t *n, struct pctx *c, const json_t *arr,
		   pol_elem_fn *fn, void *arg)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		int r = fn((char *)array + i * size, i, v, c, arg);

		*n = i + 1;
		if (r < 0)
			return -1;
	}
	return 0;
}

static int parse_service_name(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	(void)i;
	(void)arg;
	return pol_parse_name(elem, CN_COOP_SERVICE_LEN, c->doc, v, c->err);
}

static int parse_client_keys(struct pol_client *cl, struct pctx *c, const json_t *keys)
{
	const char *svc;
	json_t *v;

	cl->keys = pol_alloc_array(json_object_size(keys), sizeof(*cl->keys), c, keys);
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
		if (pol_parse_hexkey(k->key, c->doc, v, c->err) < 0)
			return -1;
		cl->n_keys++;
	}
	return 0;
}

static int parse_client(struct pol_client *cl, struct pctx *c, const json_t *obj)
{
	json_t *pf = json_object_get(obj, "passcode_file"), *keys = json_object_get(obj, "keys");

	if (pol_parse_name(cl->name, sizeof(cl->name), c->doc, json_object_get(obj, "name"), c->err) < 0 ||
	    pol_parse_prefix(&cl->prefix, c->doc, json_object_get(obj, "address"), c->err) < 0 ||
	    POL_PARSE_EACH(cl->services, &cl->n_services, c, json_object_get(obj, "services"),
			   parse_service_name, NULL) < 0)
		return -1;
	if (pol_copy_bounded(cl->address, sizeof(cl->address),
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
		return pol_copy_bounded(cl->passcode_file, sizeof(cl->passcode_file),
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

static int parse_client_elem(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	struct pol_client *all = arg, *cl = elem;

	if (parse_client(cl, c, v) < 0)
		return -1;
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(all[j].name, cl->name)) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "name"),
				     "client name \"%s\" used twice", cl->name);
			return -1;
		}
	}
	return 0;
}

int pol_parse_clients(struct pol_client **out, size_t *n, struct pctx *c, const json_t *arr)
{
	return POL_PARSE_EACH(*out, n, c, arr, parse_client_elem, *out);
}

static int parse_endpoint(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	(void)i;
	(void)arg;
	return pol_parse_addr(elem, c->doc, json_object_get(v, "address"),
			      pol_get_port(v, AUTHD_DEFAULT_PORT), c->err);
}

static int parse_ss_service(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	struct pol_service *s = elem;
	struct policy *p = arg;

	(void)i;
	if (pol_parse_name(s->name, sizeof(s->name), c->doc, json_object_get(v, "name"), c->err) < 0 ||
	    pol_parse_addr(&s->addr, c->doc, json_object_get(v, "address"), pol_get_port(v, 0), c->err) < 0)
		return -1;
	s->confidential = json_is_true(json_object_get(v, "confidential"));
	/* p->n_services counts the services before this one */
	if (policy_service_by_name(p, s->name) || policy_service_by_addr(p, &s->addr)) {
		jconf_errorf(c->err, c->doc, v, "service \"%s\": its name or its address "
			     "and port are used twice", s->name);
		return -1;
	}
	return policy_parse_members(s, c->doc, v, c->err);
}

static int parse_start(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	json_t *svc = json_object_get(v, "service");
	struct pol_start *s = elem;
	struct policy *p = arg;

	(void)i;
	if (pol_parse_name(s->service, sizeof(s->service), c->doc, svc, c->err) < 0 ||
	    pol_parse_addr(&s->client, c->doc, json_object_get(v, "client"), 0, c->err) < 0)
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

/* supervisor.idle_time: optional, 0 (none) to a year, as provider.idle_time */
static int parse_ss_idle(struct policy *p, struct pctx *c, const json_t *v)
{
	json_int_t n = json_integer_value(v);

	p->ss_idle_time = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || n < 0 || n > POL_IDLE_MAX) {
		jconf_errorf(c->err, c->doc, v, "\"idle_time\": give seconds from 0 (no idle limit) "
			     "to %u", POL_IDLE_MAX);
		return -1;
	}
	p->ss_idle_time = (uint32_t)n;
	return 0;
}

static int parse_supervisor(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *clients = json_object_get(obj, "clients"), *hs = json_object_get(obj, "headers"),
	       *svcs = json_object_get(obj, "services"), *st = json_object_get(obj, "authenticate");

	p->supervisor = true;
	if (parse_ss_idle(p, c, json_object_get(obj, "idle_time")) < 0)
		return -1;
	if (POL_PARSE_EACH(p->headers, &p->n_headers, c, hs, parse_endpoint, NULL) < 0 ||
	    POL_PARSE_EACH(p->services, &p->n_services, c, svcs, parse_ss_service, p) < 0 ||
	    policy_check_members(p, c->doc, svcs, c->err) < 0 ||
	    pol_parse_clients(&p->ss_clients, &p->n_ss_clients, c, clients) < 0 ||
	    check_ss_client_services(p, c, clients) < 0)
		return -1;
	if (policy_index_prefixes(&p->ss_client_prefixes, p->ss_clients, p->n_ss_clients) < 0) {
		jconf_errorf(c->err, c->doc, clients, "out of memory indexing %zu clients by prefix",
			     p->n_ss_clients);
		return -1;
	}
	return POL_PARSE_EACH(p->start, &p->n_start, c, st, parse_start, p);
}

static int parse_group_sp(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	json_t *svcs = json_object_get(v, "services");
	const struct pol_sp *all = ((const struct policy *)arg)->group;
	struct pol_sp *sp = elem;

	if (pol_parse_addr(&sp->addr, c->doc, json_object_get(v, "address"),
			   pol_get_port(v, AUTHD_DEFAULT_PORT), c->err) < 0 ||
	    POL_PARSE_EACH(sp->services, &sp->n_services, c, svcs, parse_service_name, NULL) < 0 ||
	    policy_parse_group_entry(sp, c->doc, v, c->err) < 0 ||
	    policy_membership_sp(sp, c->doc, v, c->err) < 0)
		return -1;
	for (size_t j = 0; j < i; j++) {
		if (cn_coop_addr_equal(&all[j].addr, &sp->addr, true)) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "address"),
				     "SP listed twice in the group");
			return -1;
		}
	}
	return 0;
}

static int parse_header(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *arr = json_object_get(obj, "group");

	p->header = true;
	if (POL_PARSE_EACH(p->group, &p->n_group, c, arr, parse_group_sp, p) < 0)
		return -1;
	if (policy_parse_balance(p, c->doc, obj, c->err) < 0) /* policy_members.c */
		return -1;
	return policy_membership_header(p, c->doc, obj, c->err); /* policy_membership.c */
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
		if (pol_copy_bounded(p->group_key_file, sizeof(p->group_key_file),
				 json_string_value(gf), c->doc, gf, "\"group_key_file\"", c->err) < 0)
			return -1;
	} else if (gk) {
		if (pol_parse_hexkey(p->group_key, c->doc, gk, c->err) < 0)
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
	    pol_parse_provider(p, &c, v) < 0)
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

/* A path of the policy file, relative to its folder (lib/cfgpath.h), in place. */
static int resolve_one(char *p, size_t size, const char *policy_file, const char *what,
		       struct jconf_error *err)
{
	char out[4096];

	if (cn_path_resolve(out, sizeof(out) < size ? sizeof(out) : size, policy_file, p) < 0) {
		pol_file_error(err, policy_file, "%s \"%s\": %s (relative to the policy's folder, at "
			   "most %zu characters)", what, p, strerror(errno), size - 1);
		return -1;
	}
	memcpy(p, out, strlen(out) + 1);
	return 0;
}

static int policy_paths(struct policy *p, const char *path, struct jconf_error *err)
{
#define F(f, name) { f, sizeof(f), name }
	const struct { char *field; size_t size; const char *what; } apache[] = {
		F(p->apache.vhost_dir, "apache.vhost_dir"), F(p->apache.config, "apache.config"),
		F(p->apache.log_dir, "apache.log_dir"), F(p->apache.binary, "apache.binary"),
		F(p->membership.signing_key_file, "membership.signing_key_file"),
	};
#undef F
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
	for (size_t i = 0; !r && i < sizeof(apache) / sizeof(apache[0]); i++)
		r = resolve_one(apache[i].field, apache[i].size, path, apache[i].what, err);
	return r;
}

/* From the file name (text NULL) or from text[len] named name, as config_from does. */
static int policy_from(struct policy *out, const char *name, const char *text, size_t len,
		       unsigned roles, bool resolved, struct jconf_error *err)
{
	struct jconf_schema *s;
	struct jconf_doc *doc;

	memset(out, 0, sizeof(*out));
	s = pol_schema("policy.schema.json", coopnet_schema_policy, coopnet_schema_policy_len, err);
	if (!s)
		return -1;
	doc = text ? jconf_load_buffer(name, text, len, s, err) : jconf_load_file(name, s, err);
	jconf_schema_free(s);
	return policy_finish(out, doc, roles, resolved, err);
}

int policy_load_file(struct policy *out, const char *path, unsigned roles,
		     struct jconf_error *err)
{
	if (policy_from(out, path, NULL, 0, roles, false, err) < 0)
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
	/* NULL text is an empty document here, never a file name */
	return policy_from(out, name, text ? text : "", text ? len : 0, roles, resolved, err);
}
