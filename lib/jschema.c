/* SPDX-License-Identifier: MIT */
/*
 * JSON Schema subset (Draft 2020-12 keywords; docs/config.md lists them): compile a schema
 * document into a tree of struct snode, then validate a document's value tree against it.
 * A schema using a keyword outside the subset is refused, so a schema never silently means
 * less than it says. Errors are collected with their positions and the first one in document
 * order is reported.
 */
#include "jschema_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct jschema_type_name jschema_type_names[NTYPES] = {
	{ "null", "null", T_NULL },
	{ "boolean", "a boolean", T_BOOLEAN },
	{ "object", "an object", T_OBJECT },
	{ "array", "an array", T_ARRAY },
	{ "number", "a number", T_NUMBER },
	{ "integer", "an integer", T_INTEGER },
	{ "string", "a string", T_STRING },
};

const char *const jschema_format_names[] = {
	[F_IPV4] = "ipv4", [F_IPV6] = "ipv6", [F_IP] = "ip", [F_IPV4_PREFIX] = "ipv4-prefix",
	[F_IPV6_PREFIX] = "ipv6-prefix", [F_IP_PREFIX] = "ip-prefix", [F_HOSTNAME] = "hostname",
};

/* ---- compiling ---- */

struct cctx {
	struct jconf_schema *s;
	struct jconf_error *err;
	bool failed;
};

static void cfail_at(struct cctx *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cfail_at(struct cctx *c, int line, int column, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	jconf_vset_error(c->err, c->s->doc->name, line, column, fmt, ap);
	va_end(ap);
}

static const struct jpos *cnode(const struct cctx *c, uint32_t i)
{
	return &c->s->doc->nodes[i];
}

#define cfail(c, ni, ...) cfail_at(c, cnode(c, ni)->line, cnode(c, ni)->column, __VA_ARGS__)

static struct snode *snode_new(struct cctx *c, uint32_t ni)
{
	struct snode *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		cfail(c, ni, "out of memory");
		return NULL;
	}
	n->next_alloc = c->s->allocs;
	c->s->allocs = n;
	n->min_items = n->max_items = -1;
	n->min_len = n->max_len = -1;
	return n;
}

static struct snode *compile(struct cctx *c, uint32_t ni, bool root);

static int kw_type_name(struct cctx *c, uint32_t ni, unsigned *bits)
{
	const json_t *v = cnode(c, ni)->v;

	if (json_is_string(v)) {
		for (size_t i = 0; i < NTYPES; i++)
			if (strcmp(json_string_value(v), jschema_type_names[i].name) == 0) {
				*bits |= jschema_type_names[i].bit;
				return 0;
			}
	}
	cfail(c, ni, "\"type\" must be one of null, boolean, object, array, number, integer, "
	      "string");
	return -1;
}

static int kw_type(struct cctx *c, struct snode *n, uint32_t ni)
{
	if (!json_is_array(cnode(c, ni)->v))
		return kw_type_name(c, ni, &n->types);
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling)
		if (kw_type_name(c, i, &n->types) < 0)
			return -1;
	if (n->types == 0) {
		cfail(c, ni, "\"type\" must list at least one type");
		return -1;
	}
	return 0;
}

static int kw_properties(struct cctx *c, struct snode *n, uint32_t ni)
{
	size_t cnt = json_is_object(cnode(c, ni)->v) ? json_object_size(cnode(c, ni)->v) : 0;

	if (!json_is_object(cnode(c, ni)->v)) {
		cfail(c, ni, "\"properties\" must be an object of schemas");
		return -1;
	}
	n->has_props = true;
	if (cnt == 0)
		return 0;
	n->props = calloc(cnt, sizeof(*n->props));
	if (n->props == NULL) {
		cfail(c, ni, "out of memory");
		return -1;
	}
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling) {
		struct snode *p = compile(c, i, false);

		if (p == NULL)
			return -1;
		n->props[n->nprops].name = cnode(c, i)->key;
		n->props[n->nprops++].schema = p;
	}
	return 0;
}

static int kw_required(struct cctx *c, struct snode *n, uint32_t ni)
{
	const json_t *v = cnode(c, ni)->v;

	if (!json_is_array(v)) {
		cfail(c, ni, "\"required\" must be an array of key names");
		return -1;
	}
	if (json_array_size(v) == 0)
		return 0;
	n->required = calloc(json_array_size(v), sizeof(*n->required));
	if (n->required == NULL) {
		cfail(c, ni, "out of memory");
		return -1;
	}
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling) {
		if (!json_is_string(cnode(c, i)->v)) {
			cfail(c, i, "\"required\" must be an array of key names");
			return -1;
		}
		n->required[n->nrequired++] = json_string_value(cnode(c, i)->v);
	}
	return 0;
}

/* A subschema: an object, or true/false. */
static struct snode *sub(struct cctx *c, uint32_t ni, const char *kw)
{
	const json_t *v = cnode(c, ni)->v;

	if (!json_is_object(v) && !json_is_boolean(v)) {
		cfail(c, ni, "\"%s\" must be a schema (an object, true or false)", kw);
		return NULL;
	}
	return compile(c, ni, false);
}

static int kw_schema_list(struct cctx *c, uint32_t ni, const char *kw, struct snode ***out,
			  size_t *nout)
{
	const json_t *v = cnode(c, ni)->v;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfail(c, ni, "\"%s\" must be a non-empty array of schemas", kw);
		return -1;
	}
	*out = calloc(json_array_size(v), sizeof(**out));
	if (*out == NULL) {
		cfail(c, ni, "out of memory");
		return -1;
	}
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling) {
		struct snode *s = sub(c, i, kw);

		if (s == NULL)
			return -1;
		(*out)[(*nout)++] = s;
	}
	return 0;
}

static int kw_count(struct cctx *c, uint32_t ni, const char *kw, long long *out)
{
	const json_t *v = cnode(c, ni)->v;

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		cfail(c, ni, "\"%s\" must be a non-negative integer", kw);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int kw_number(struct cctx *c, uint32_t ni, const char *kw, const json_t **out)
{
	if (!json_is_number(cnode(c, ni)->v)) {
		cfail(c, ni, "\"%s\" must be a number", kw);
		return -1;
	}
	*out = cnode(c, ni)->v;
	return 0;
}

static int kw_pattern(struct cctx *c, struct snode *n, uint32_t ni)
{
	const json_t *v = cnode(c, ni)->v;
	char ebuf[128];
	int rc;

	if (!json_is_string(v)) {
		cfail(c, ni, "\"pattern\" must be a string (a POSIX extended regular expression)");
		return -1;
	}
	rc = regcomp(&n->re, json_string_value(v), REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, NULL, ebuf, sizeof(ebuf));
		cfail(c, ni, "\"pattern\" is not a POSIX extended regular expression: %s", ebuf);
		return -1;
	}
	n->has_re = true;
	n->pattern = json_string_value(v);
	return 0;
}

static int kw_format(struct cctx *c, struct snode *n, uint32_t ni)
{
	const json_t *v = cnode(c, ni)->v;

	if (json_is_string(v))
		for (size_t i = 1; i < NFORMATS; i++)
			if (strcmp(json_string_value(v), jschema_format_names[i]) == 0) {
				n->format = (enum format)i;
				return 0;
			}
	cfail(c, ni, "unsupported \"format\" (supported: ipv4, ipv6, ip, ipv4-prefix, "
	      "ipv6-prefix, ip-prefix, hostname)");
	return -1;
}

static int kw_ref(struct cctx *c, struct snode *n, uint32_t ni)
{
	const json_t *v = cnode(c, ni)->v;

	if (!json_is_string(v) || strncmp(json_string_value(v), "#/$defs/", 8) != 0 ||
	    json_string_value(v)[8] == '\0' || strchr(json_string_value(v) + 8, '/') != NULL ||
	    strchr(json_string_value(v) + 8, '~') != NULL) {
		cfail(c, ni, "\"$ref\" must be \"#/$defs/NAME\" (only local definitions are "
		      "supported)");
		return -1;
	}
	n->ref = json_string_value(v) + 8;
	n->ref_line = cnode(c, ni)->line;
	n->ref_column = cnode(c, ni)->column;
	return 0;
}

static int kw_defs(struct cctx *c, uint32_t ni, bool root)
{
	const json_t *v = cnode(c, ni)->v;
	struct jconf_schema *s = c->s;

	if (!root) {
		cfail(c, ni, "\"$defs\" is supported only at the root of the schema");
		return -1;
	}
	if (!json_is_object(v)) {
		cfail(c, ni, "\"$defs\" must be an object of schemas");
		return -1;
	}
	if (json_object_size(v) == 0)
		return 0;
	s->defs = calloc(json_object_size(v), sizeof(*s->defs));
	if (s->defs == NULL) {
		cfail(c, ni, "out of memory");
		return -1;
	}
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling) {
		struct snode *d = sub(c, i, "$defs");

		if (d == NULL)
			return -1;
		s->defs[s->ndefs].name = cnode(c, i)->key;
		s->defs[s->ndefs++].schema = d;
	}
	return 0;
}

static const char *const ignored_keywords[] = {
	"description", "title", "$schema", "$id", "default", "examples", "$comment",
};

#define SUPPORTED_KEYWORDS \
	"type, properties, required, additionalProperties, items, minItems, maxItems, " \
	"uniqueItems, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, " \
	"minLength, maxLength, pattern, format, oneOf, anyOf, $ref, $defs, and the annotations " \
	"title, description, $schema, $id, $comment, default, examples"

static int keyword(struct cctx *c, struct snode *n, uint32_t ki, bool root)
{
	const char *k = cnode(c, ki)->key;
	const json_t *v = cnode(c, ki)->v;

	if (strcmp(k, "type") == 0)
		return kw_type(c, n, ki);
	if (strcmp(k, "properties") == 0)
		return kw_properties(c, n, ki);
	if (strcmp(k, "required") == 0)
		return kw_required(c, n, ki);
	if (strcmp(k, "additionalProperties") == 0) {
		if (json_is_false(v))
			n->addl_forbid = true;
		else if (!json_is_true(v) && (n->addl = sub(c, ki, k)) == NULL)
			return -1;
		return 0;
	}
	if (strcmp(k, "items") == 0)
		return (n->items = sub(c, ki, k)) == NULL ? -1 : 0;
	if (strcmp(k, "minItems") == 0)
		return kw_count(c, ki, k, &n->min_items);
	if (strcmp(k, "maxItems") == 0)
		return kw_count(c, ki, k, &n->max_items);
	if (strcmp(k, "minLength") == 0)
		return kw_count(c, ki, k, &n->min_len);
	if (strcmp(k, "maxLength") == 0)
		return kw_count(c, ki, k, &n->max_len);
	if (strcmp(k, "uniqueItems") == 0) {
		if (!json_is_boolean(v)) {
			cfail(c, ki, "\"uniqueItems\" must be true or false");
			return -1;
		}
		n->unique = json_is_true(v);
		return 0;
	}
	if (strcmp(k, "enum") == 0) {
		if (!json_is_array(v) || json_array_size(v) == 0) {
			cfail(c, ki, "\"enum\" must be a non-empty array of values");
			return -1;
		}
		n->enum_vals = v;
		return 0;
	}
	if (strcmp(k, "const") == 0) {
		n->const_val = v;
		return 0;
	}
	if (strcmp(k, "minimum") == 0)
		return kw_number(c, ki, k, &n->minimum);
	if (strcmp(k, "maximum") == 0)
		return kw_number(c, ki, k, &n->maximum);
	if (strcmp(k, "exclusiveMinimum") == 0)
		return kw_number(c, ki, k, &n->xminimum);
	if (strcmp(k, "exclusiveMaximum") == 0)
		return kw_number(c, ki, k, &n->xmaximum);
	if (strcmp(k, "pattern") == 0)
		return kw_pattern(c, n, ki);
	if (strcmp(k, "format") == 0)
		return kw_format(c, n, ki);
	if (strcmp(k, "oneOf") == 0)
		return kw_schema_list(c, ki, k, &n->oneof, &n->noneof);
	if (strcmp(k, "anyOf") == 0)
		return kw_schema_list(c, ki, k, &n->anyof, &n->nanyof);
	if (strcmp(k, "$ref") == 0)
		return kw_ref(c, n, ki);
	if (strcmp(k, "$defs") == 0)
		return kw_defs(c, ki, root);
	for (size_t i = 0; i < sizeof(ignored_keywords) / sizeof(ignored_keywords[0]); i++)
		if (strcmp(k, ignored_keywords[i]) == 0) {
			if ((strcmp(k, "title") == 0 || (strcmp(k, "description") == 0 &&
							 n->label == NULL)) && json_is_string(v))
				n->label = json_string_value(v);
			return 0;
		}
	cfail_at(c, cnode(c, ki)->kline, cnode(c, ki)->kcolumn,
		 "unsupported schema keyword \"%s\" (supported: " SUPPORTED_KEYWORDS ")", k);
	return -1;
}

static struct snode *compile(struct cctx *c, uint32_t ni, bool root)
{
	const json_t *v = cnode(c, ni)->v;
	struct snode *n;

	if (!json_is_object(v) && !json_is_boolean(v)) {
		cfail(c, ni, "a schema must be an object, true or false");
		return NULL;
	}
	n = snode_new(c, ni);
	if (n == NULL)
		return NULL;
	if (json_is_boolean(v)) {
		n->never = json_is_false(v);
		return n;
	}
	for (uint32_t i = cnode(c, ni)->first_child; i != JPOS_NONE; i = cnode(c, i)->next_sibling)
		if (keyword(c, n, i, root) < 0)
			return NULL;
	return n;
}

static int resolve_refs(struct cctx *c)
{
	for (struct snode *n = c->s->allocs; n != NULL; n = n->next_alloc) {
		if (n->ref == NULL)
			continue;
		for (size_t i = 0; i < c->s->ndefs; i++)
			if (strcmp(c->s->defs[i].name, n->ref) == 0)
				n->ref_target = c->s->defs[i].schema;
		if (n->ref_target == NULL) {
			cfail_at(c, n->ref_line, n->ref_column, "\"$ref\": no definition \"%s\" in "
				 "\"$defs\"", n->ref);
			return -1;
		}
	}
	return 0;
}

void jconf_schema_free(struct jconf_schema *s)
{
	struct snode *n, *next;

	if (s == NULL)
		return;
	for (n = s->allocs; n != NULL; n = next) {
		next = n->next_alloc;
		if (n->has_re)
			regfree(&n->re);
		free(n->props);
		free(n->required);
		free(n->oneof);
		free(n->anyof);
		free(n);
	}
	free(s->defs);
	jconf_free(s->doc);
	free(s);
}

struct jconf_schema *jconf_schema_parse(const char *name, const char *text, size_t len,
					struct jconf_error *err)
{
	struct jconf_schema *s = calloc(1, sizeof(*s));
	struct cctx c = { .s = s, .err = err };

	if (s == NULL) {
		jconf_set_error(err, name != NULL ? name : "(schema)", 0, 0, "out of memory");
		return NULL;
	}
	s->doc = jconf_parse(name != NULL ? name : "(schema)", text, len, err);
	if (s->doc == NULL) {
		free(s);
		return NULL;
	}
	s->root = compile(&c, 0, true);
	if (s->root == NULL || resolve_refs(&c) < 0) {
		jconf_schema_free(s);
		return NULL;
	}
	return s;
}

