/* SPDX-License-Identifier: MIT */
/*
 * Inside authd's configuration and policy parsers: what the files share.
 *   policy_field.c    small parsers parse_X(out, doc, value, err), the schema switch
 *   config.c          authd.json (config_load*)
 *   policy_parse.c    the policy document: loading, supervisor, header, group key, clients
 *   policy_provider.c the provider's section (vNICs, Apache, relay)
 *   policy_health.c   a vNIC service's health check and weight
 *   policy_secret.c   policy_resolve: passcode files and the group key file (parent only)
 *   policy_json.c     policy_to_json, the resolved form
 *   policy_lookup.c   lookups in a parsed policy
 *   policy_membership.c    group messages: member keys, membership, signing key (hooks of the
 *                     files above, declared in policy.h)
 * Nothing here is for other parts of authd: they use policy.h.
 */
#ifndef COOPNET_AUTHD_POLICY_INT_H
#define COOPNET_AUTHD_POLICY_INT_H

#include "policy.h"

/* The document being parsed, where errors go, and whether it is the resolved form. */
struct pctx {
	const struct jconf_doc *doc;
	struct jconf_error *err;
	bool resolved;
};

/* policy_field.c */
int pol_parse_addr(struct cn_coop_addr *out, const struct jconf_doc *doc, const json_t *v,
		   uint16_t port, struct jconf_error *err);
int pol_parse_prefix(struct pol_prefix *out, const struct jconf_doc *doc, const json_t *v,
		     struct jconf_error *err);
int pol_parse_name(char *out, size_t size, const struct jconf_doc *doc, const json_t *v,
		   struct jconf_error *err);
int pol_parse_hexkey(uint8_t out[CN_KEY_LEN], const struct jconf_doc *doc, const json_t *v,
		     struct jconf_error *err);
uint16_t pol_get_port(const json_t *obj, uint16_t def);
int pol_copy_bounded(char *out, size_t size, const char *text, const struct jconf_doc *doc,
		     const json_t *where, const char *what, struct jconf_error *err);
int pol_copy_opt(char *out, size_t size, const json_t *root, const char *key, const char *def,
		 const struct jconf_doc *doc, struct jconf_error *err);
/* The schema name/text[len], or one that accepts every document (policy_check_schema). */
struct jconf_schema *pol_schema(const char *name, const char *text, size_t len,
				struct jconf_error *err);
/* An error about a file as a whole (no line): err->file is path (its end when too long). */
void pol_file_error(struct jconf_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* policy_parse.c */
/* One element of a JSON array into elem (zeroed), the i-th; arg is the caller's. */
typedef int pol_elem_fn(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg);
void *pol_alloc_array(size_t n, size_t size, struct pctx *c, const json_t *at);
int pol_parse_each(void *array, size_t size, size_t *n, struct pctx *c, const json_t *arr,
		   pol_elem_fn *fn, void *arg);
/* The one way to parse a JSON array into a fresh C array: out gets json_array_size(arr)
 * zeroed elements, fn fills each (pol_parse_each). *n counts the elements fn was called on,
 * the one it failed on too (so policy_free frees what fn allocated); while fn runs, *n is
 * its index, so fn sees the elements before it through the policy's counts and lookups. */
#define POL_PARSE_EACH(out, n, c, arr, fn, arg)                                          \
	(((out) = pol_alloc_array(json_array_size(arr), sizeof(*(out)), (c), (arr))) ?    \
	 pol_parse_each((out), sizeof(*(out)), (n), (c), (arr), (fn), (arg)) : -1)
int pol_parse_clients(struct pol_client **out, size_t *n, struct pctx *c, const json_t *arr);

/* policy_secret.c: a secret file (regular, no group or other permission bits) holding 64
 * hexadecimal digits into out; -1 with *err naming the file, what it is and how to make one
 * (the content is never quoted). */
int pol_read_hexkey_file(uint8_t out[CN_KEY_LEN], const char *path, const char *what,
			 const char *make, struct jconf_error *err);

/* policy_provider.c */
int pol_parse_provider(struct policy *p, struct pctx *c, const json_t *obj);

#endif
