/* SPDX-License-Identifier: MIT */
/*
 * The policy of group messages (docs/policy.md "Group messages"): a header's group entries
 * gain "name" and "public_key" (Ed25519, 64 hex digits) and the header "miss_limit" and
 * "window_ms"; a provider's "membership" names it, its headers, its heartbeat interval and
 * its private key: "signing_key_file" (64 hex digits, an Ed25519 seed, mode 0600, read by the
 * privileged parent in policy_resolve) or, in the resolved form the engine gets,
 * "signing_key". Hooks called from policy.c.
 */
#include "policy_int.h"

#include <string.h>

#include <sodium.h>

#include "group.h"

/* An Ed25519 public key and seed are 32 bytes, as the group key: pol_parse_hexkey fits. */
_Static_assert(CN_GROUP_PK_LEN == CN_KEY_LEN && CN_GROUP_SEED_LEN == CN_KEY_LEN,
	       "Ed25519 keys are parsed as 32-byte keys");

static int parse_member_name(char out[CN_COOP_NAME_LEN], const struct jconf_doc *doc,
			     const json_t *v, struct jconf_error *err)
{
	const char *text = json_string_value(v);
	char buf[CN_COOP_NAME_LEN] = { 0 };

	if (!text || !text[0] || strlen(text) >= sizeof(buf) ||
	    (memcpy(buf, text, strlen(text)), !cn_coop_padded_ok(buf, sizeof(buf), true))) {
		jconf_errorf(err, doc, v, "member name \"%s\": give 1 to 15 characters of "
			     "[A-Za-z0-9._-]", text ? text : "");
		return -1;
	}
	memcpy(out, buf, sizeof(buf));
	return 0;
}

static int get_bounded(uint32_t *out, const struct jconf_doc *doc, const json_t *obj,
		       const char *key, uint32_t def, uint32_t min, uint32_t max,
		       struct jconf_error *err)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	*out = def;
	if (!v)
		return 0;
	n = json_integer_value(v);
	if (!json_is_integer(v) || n < min || n > max) {
		jconf_errorf(err, doc, v, "\"%s\": give an integer from %u to %u", key, min, max);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

int policy_membership_sp(struct pol_sp *sp, const struct jconf_doc *doc, const json_t *v,
		    struct jconf_error *err)
{
	json_t *name = json_object_get(v, "name"), *pk = json_object_get(v, "public_key");

	if (!name && !pk)
		return 0; /* a member that sends no group message: its state stays unknown */
	if (!name || !pk) {
		jconf_errorf(err, doc, v, "a group member with \"name\" needs \"public_key\" and "
			     "the reverse (coopnetctl group keygen prints it)");
		return -1;
	}
	if (parse_member_name(sp->name, doc, name, err) < 0 ||
	    pol_parse_hexkey(sp->public_key, doc, pk, err) < 0)
		return -1;
	sp->has_public_key = true;
	return 0;
}

int policy_membership_header(struct policy *p, const struct jconf_doc *doc, const json_t *obj,
			struct jconf_error *err)
{
	json_t *arr = json_object_get(obj, "group");

	for (size_t i = 0; i < p->n_group; i++)
		for (size_t j = 0; p->group[i].name[0] && j < i; j++)
			if (!strcmp(p->group[i].name, p->group[j].name)) {
				jconf_errorf(err, doc, json_object_get(json_array_get(arr, i), "name"),
					     "member name \"%s\" used twice in the group",
					     p->group[i].name);
				return -1;
			}
	if (get_bounded(&p->group_miss_limit, doc, obj, "miss_limit", POL_GROUP_MISS_LIMIT, 1,
			100, err) < 0 ||
	    get_bounded(&p->group_window_ms, doc, obj, "window_ms", POL_GROUP_WINDOW_MS, 100,
			300000, err) < 0)
		return -1;
	return 0;
}

static int parse_headers(struct pol_membership *m, const struct jconf_doc *doc,
			 const json_t *arr, struct jconf_error *err)
{
	const size_t max = sizeof(m->headers) / sizeof(m->headers[0]);
	size_t i;
	json_t *v;

	if (json_array_size(arr) < 1 || json_array_size(arr) > max) {
		jconf_errorf(err, doc, arr, "\"headers\": give 1 to %zu header SPs", max);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		json_t *port = json_object_get(v, "port");
		json_int_t pn = port ? json_integer_value(port) : AUTHD_DEFAULT_PORT;

		if ((port && !json_is_integer(port)) || pn < 1 || pn > 65535) {
			jconf_errorf(err, doc, port, "port: give 1 to 65535");
			return -1;
		}
		if (pol_parse_addr(&m->headers[i], doc, json_object_get(v, "address"),
				   (uint16_t)pn, err) < 0)
			return -1;
		m->n_headers++;
	}
	return 0;
}

int policy_membership_parse(struct policy *p, const struct jconf_doc *doc, const json_t *obj,
			    bool resolved, struct jconf_error *err)
{
	struct pol_membership *m = &p->membership;
	json_t *kf = json_object_get(obj, "signing_key_file"), *k = json_object_get(obj, "signing_key");
	const char *path = json_string_value(kf);

	if (!obj)
		return 0;
	if (parse_member_name(m->name, doc, json_object_get(obj, "name"), err) < 0 ||
	    parse_headers(m, doc, json_object_get(obj, "headers"), err) < 0 ||
	    get_bounded(&m->interval_ms, doc, obj, "interval_ms", POL_GROUP_INTERVAL_MS,
			CN_GROUP_INTERVAL_MIN_MS, CN_GROUP_INTERVAL_MAX_MS, err) < 0)
		return -1;
	if (!kf == !k) {
		jconf_errorf(err, doc, obj, "membership: give exactly one of \"signing_key_file\" "
			     "and \"signing_key\"");
		return -1;
	}
	if (kf && (resolved || !path || !path[0] || strlen(path) >= sizeof(m->signing_key_file))) {
		jconf_errorf(err, doc, kf, resolved ? "signing_key_file in a resolved policy" :
			     "\"signing_key_file\": give a path of at most 4095 characters");
		return -1;
	}
	if (kf)
		memcpy(m->signing_key_file, path, strlen(path) + 1);
	else if (pol_parse_hexkey(m->signing_seed, doc, k, err) < 0)
		return -1;
	m->has_signing_key = k != NULL;
	m->set = true;
	return 0;
}

int policy_membership_resolve(struct policy *p, struct jconf_error *err)
{
	struct pol_membership *m = &p->membership;

	if (!m->set || m->has_signing_key)
		return 0;
	if (pol_read_hexkey_file(m->signing_seed, m->signing_key_file, "signing key",
				 "coopnetctl group keygen FILE", err) < 0)
		return -1;
	m->has_signing_key = true;
	m->signing_key_file[0] = '\0';
	return 0;
}

static json_t *hex(const uint8_t *b, size_t n)
{
	char s[2 * 64 + 1];

	sodium_bin2hex(s, sizeof(s), b, n);
	json_t *j = json_string(s);
	sodium_memzero(s, sizeof(s));
	return j;
}

void policy_membership_json(const struct policy *p, json_t *root)
{
	json_t *hdr = json_object_get(root, "header"), *prov = json_object_get(root, "provider");
	json_t *g = json_object_get(hdr, "group"), *m, *hs;
	char buf[CN_COOP_ADDRSTRLEN];

	for (size_t i = 0; g && i < p->n_group && i < json_array_size(g); i++) {
		if (!p->group[i].has_public_key)
			continue;
		json_object_set_new(json_array_get(g, i), "name", json_string(p->group[i].name));
		json_object_set_new(json_array_get(g, i), "public_key",
				    hex(p->group[i].public_key, sizeof(p->group[i].public_key)));
	}
	if (hdr) {
		json_object_set_new(hdr, "miss_limit", json_integer(p->group_miss_limit));
		json_object_set_new(hdr, "window_ms", json_integer(p->group_window_ms));
	}
	if (!prov || !p->membership.set)
		return;
	hs = json_array();
	for (size_t i = 0; i < p->membership.n_headers; i++) {
		struct cn_coop_addr a = p->membership.headers[i];

		a.port = 0;
		json_array_append_new(hs, json_pack("{s:s, s:i}", "address",
						    cn_coop_addr_format(&a, buf, sizeof(buf)), "port",
						    p->membership.headers[i].port));
	}
	m = json_pack("{s:s, s:o, s:i}", "name", p->membership.name, "headers", hs, "interval_ms",
		      (int)p->membership.interval_ms);
	if (m && p->membership.has_signing_key)
		json_object_set_new(m, "signing_key", hex(p->membership.signing_seed,
							  sizeof(p->membership.signing_seed)));
	else if (m)
		json_object_set_new(m, "signing_key_file", json_string(p->membership.signing_key_file));
	json_object_set_new(prov, "membership", m);
}

const struct pol_sp *policy_sp_by_name(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_group; i++)
		if (p->group[i].name[0] && !strcmp(p->group[i].name, name))
			return &p->group[i];
	return NULL;
}
