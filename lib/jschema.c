/* SPDX-License-Identifier: MIT */
/*
 * JSON Schema subset (Draft 2020-12 keywords; docs/config.md lists them): compile a schema
 * document into a tree of struct snode, then validate a document's value tree against it.
 * A schema using a keyword outside the subset is refused, so a schema never silently means
 * less than it says. Errors are collected with their positions and the first one in document
 * order is reported.
 */
#include "jconf_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_INTEGER = 1 << 5,
	T_STRING = 1 << 6,
};

static const struct {
	const char *name;
	const char *article;  /* for messages: "expected an integer" */
	unsigned bit;
} type_names[] = {
	{ "null", "null", T_NULL },
	{ "boolean", "a boolean", T_BOOLEAN },
	{ "object", "an object", T_OBJECT },
	{ "array", "an array", T_ARRAY },
	{ "number", "a number", T_NUMBER },
	{ "integer", "an integer", T_INTEGER },
	{ "string", "a string", T_STRING },
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

enum format {
	F_NONE, F_IPV4, F_IPV6, F_IP, F_IPV4_PREFIX, F_IPV6_PREFIX, F_IP_PREFIX, F_HOSTNAME,
};

static const char *const format_names[] = {
	[F_IPV4] = "ipv4", [F_IPV6] = "ipv6", [F_IP] = "ip", [F_IPV4_PREFIX] = "ipv4-prefix",
	[F_IPV6_PREFIX] = "ipv6-prefix", [F_IP_PREFIX] = "ip-prefix", [F_HOSTNAME] = "hostname",
};
#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

struct snode;
struct sprop {
	const char *name;           /* borrowed from the schema document */
	struct snode *schema;
};

struct snode {
	struct snode *next_alloc;   /* every node of a schema, for jconf_schema_free() */
	bool never;                 /* the schema false */
	unsigned types;             /* 0: any */
	struct sprop *props;
	size_t nprops;
	const char **required;
	size_t nrequired;
	bool has_props;             /* "properties" given: unknown keys are named in messages */
	bool addl_forbid;
	struct snode *addl;
	struct snode *items;
	long long min_items, max_items;  /* -1: not given */
	bool unique;
	const json_t *enum_vals, *const_val;
	const json_t *minimum, *maximum, *xminimum, *xmaximum;
	long long min_len, max_len;
	bool has_re;
	regex_t re;
	const char *pattern;
	enum format format;
	struct snode **oneof, **anyof;
	size_t noneof, nanyof;
	const char *ref;            /* "#/$defs/NAME" until resolved */
	int ref_line, ref_column;
	struct snode *ref_target;
	const char *label;          /* title or description, to name an alternative */
};

struct sdef {
	const char *name;
	struct snode *schema;
};

struct jconf_schema {
	struct jconf_doc *doc;      /* the schema text: owns every borrowed string and value */
	struct snode *root;
	struct snode *allocs;
	struct sdef *defs;
	size_t ndefs;
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
			if (strcmp(json_string_value(v), type_names[i].name) == 0) {
				*bits |= type_names[i].bit;
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
			if (strcmp(json_string_value(v), format_names[i]) == 0) {
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

/* ---- validating ---- */

/* Guards against "$defs": {"a": {"$ref": "#/$defs/a"}}: schema steps without a document step */
#define MAX_SCHEMA_DEPTH 512

struct vctx {
	const struct jconf_doc *doc;
	struct jconf_error *errs;
	size_t cap, n;
	unsigned total;
	bool quiet;    /* trying an alternative of oneOf/anyOf: only note that it failed */
	bool failed;
	int depth;
};

static bool before(int l1, int c1, int l2, int c2)
{
	return l1 < l2 || (l1 == l2 && c1 < c2);
}

static void report(struct vctx *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Keep the cap first errors in document order (stable for errors at one position). */
static void report(struct vctx *c, int line, int column, const char *fmt, ...)
{
	struct jconf_error *e;
	size_t at;
	va_list ap;

	c->total++;
	c->failed = true;
	if (c->quiet || c->cap == 0)
		return;
	at = c->n;
	while (at > 0 && before(line, column, c->errs[at - 1].line, c->errs[at - 1].column))
		at--;
	if (at >= c->cap)
		return;
	if (c->n == c->cap)
		c->n--;
	memmove(&c->errs[at + 1], &c->errs[at], (c->n - at) * sizeof(*c->errs));
	c->n++;
	e = &c->errs[at];
	va_start(ap, fmt);
	jconf_vset_error(e, c->doc->name, line, column, fmt, ap);
	va_end(ap);
}

/* A string as the user wrote it, quoted and cut at 40 characters. */
static const char *render_str(const char *str, size_t len, char *buf, size_t size)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0, chars = 0, i;

	if (size < 16)
		return "\"...\"";
	buf[o++] = '"';
	for (i = 0; i < len && o + 8 < size; i++) {
		if ((s[i] & 0xc0) != 0x80 && ++chars > 40)
			break;
		if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", s[i]);
		else
			buf[o++] = (char)s[i];
	}
	if (i < len) {
		while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;  /* do not leave half a character */
		if (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* A value as the user wrote it (containers as {...} and [...]). */
static const char *render(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: snprintf(buf, size, "{...}"); break;
	case JSON_ARRAY: snprintf(buf, size, "[...]"); break;
	case JSON_INTEGER: snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
	case JSON_REAL: snprintf(buf, size, "%.17g", json_real_value(v)); break;
	case JSON_TRUE: snprintf(buf, size, "true"); break;
	case JSON_FALSE: snprintf(buf, size, "false"); break;
	case JSON_NULL: snprintf(buf, size, "null"); break;
	case JSON_STRING: return render_str(json_string_value(v), json_string_length(v), buf, size);
	}
	return buf;
}

static void vfail(struct vctx *c, uint32_t ni, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error about node ni's value: "PATH": VALUE <what is wrong>. */
static void vfail(struct vctx *c, uint32_t ni, const char *fmt, ...)
{
	const struct jpos *n = &c->doc->nodes[ni];
	char path[160], val[128], what[384];
	va_list ap;

	c->failed = true;
	if (c->quiet) {
		c->total++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	jconf_node_path(c->doc, ni, path, sizeof(path));
	render(n->v, val, sizeof(val));
	if (path[0] != '\0')
		report(c, n->line, n->column, "\"%s\": %s %s", path, val, what);
	else
		report(c, n->line, n->column, "%s %s", val, what);
}

static unsigned type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return T_OBJECT;
	case JSON_ARRAY: return T_ARRAY;
	case JSON_STRING: return T_STRING;
	case JSON_INTEGER: return T_INTEGER;
	case JSON_REAL: return T_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE: return T_BOOLEAN;
	case JSON_NULL: return T_NULL;
	}
	return 0;
}

static bool type_ok(unsigned types, const json_t *v)
{
	unsigned b = type_bit(v);

	/* "number" takes integers too; "integer" takes only what jansson parsed as one (1, not
	 * 1.0), so the daemon's json_integer_value() always reads what was written */
	return types == 0 || (types & b) || (b == T_INTEGER && (types & T_NUMBER));
}

static const char *types_str(unsigned types, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NTYPES; i++)
		if (types & type_names[i].bit) {
			int w = snprintf(buf + o, size - o, "%s%s", o ? " or " : "",
					 type_names[i].article);

			if (w < 0 || (size_t)w >= size - o)
				break;
			o += (size_t)w;
		}
	return buf;
}

static int num_cmp(const json_t *a, const json_t *b)
{
	double x, y;

	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) < json_integer_value(b) ? -1 :
		       json_integer_value(a) > json_integer_value(b);
	x = json_number_value(a);
	y = json_number_value(b);
	return x < y ? -1 : x > y;
}

static void check_number(struct vctx *c, const struct snode *s, uint32_t ni, const json_t *v)
{
	char b[64];

	if (s->minimum != NULL && num_cmp(v, s->minimum) < 0)
		vfail(c, ni, "is below the minimum %s", render(s->minimum, b, sizeof(b)));
	if (s->maximum != NULL && num_cmp(v, s->maximum) > 0)
		vfail(c, ni, "is above the maximum %s", render(s->maximum, b, sizeof(b)));
	if (s->xminimum != NULL && num_cmp(v, s->xminimum) <= 0)
		vfail(c, ni, "must be above %s", render(s->xminimum, b, sizeof(b)));
	if (s->xmaximum != NULL && num_cmp(v, s->xmaximum) >= 0)
		vfail(c, ni, "must be below %s", render(s->xmaximum, b, sizeof(b)));
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* "0" or 1 to 3 digits without a leading zero, at most max. */
static bool parse_prefixlen(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3 || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	return v <= max;
}

static bool is_prefix(const char *s, int af)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t alen;

	if (slash == NULL || (alen = (size_t)(slash - s)) >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return inet_pton(af, addr, bin) == 1 && parse_prefixlen(slash + 1, af == AF_INET ? 32 : 128);
}

static bool is_addr(const char *s, int af)
{
	unsigned char bin[16];

	return inet_pton(af, s, bin) == 1;
}

/* RFC 1123 host name: labels of letters, digits and '-', 1 to 63 characters, not starting or
 * ending with '-'; at most 253 characters in all. */
static bool is_hostname(const char *s)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > 253)
		return false;
	for (size_t i = 0; i <= total; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)ch) || (ch == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static void check_format(struct vctx *c, const struct snode *s, uint32_t ni, const char *str)
{
	switch (s->format) {
	case F_NONE:
		return;
	case F_IPV4:
		if (!is_addr(str, AF_INET))
			vfail(c, ni, "is not an IPv4 address (write it like 198.18.0.1)");
		return;
	case F_IPV6:
		if (!is_addr(str, AF_INET6))
			vfail(c, ni, "is not an IPv6 address (write it like 2001:db8::1)");
		return;
	case F_IP:
		if (!is_addr(str, AF_INET) && !is_addr(str, AF_INET6))
			vfail(c, ni, "is not an IPv4 or IPv6 address (write it like 198.18.0.1 "
			      "or 2001:db8::1)");
		return;
	case F_IPV4_PREFIX:
		if (!is_prefix(str, AF_INET))
			vfail(c, ni, "is not an IPv4 prefix (write it like 198.18.0.0/15, "
			      "length 0 to 32)");
		return;
	case F_IPV6_PREFIX:
		if (!is_prefix(str, AF_INET6))
			vfail(c, ni, "is not an IPv6 prefix (write it like 2001:db8::/32, "
			      "length 0 to 128)");
		return;
	case F_IP_PREFIX:
		if (!is_prefix(str, AF_INET) && !is_prefix(str, AF_INET6))
			vfail(c, ni, "is not an IPv4 or IPv6 prefix (write it like "
			      "198.18.0.0/15 or 2001:db8::/32)");
		return;
	case F_HOSTNAME:
		if (!is_hostname(str))
			vfail(c, ni, "is not a host name (letters, digits and '-' in dot-separated "
			      "labels of 1 to 63 characters)");
		return;
	}
}

static void check_string(struct vctx *c, const struct snode *s, uint32_t ni, const json_t *v)
{
	size_t chars = utf8_chars(json_string_value(v), json_string_length(v));

	if (s->min_len >= 0 && chars < (unsigned long long)s->min_len)
		vfail(c, ni, "is %zu characters long, the minimum is %lld", chars, s->min_len);
	if (s->max_len >= 0 && chars > (unsigned long long)s->max_len)
		vfail(c, ni, "is %zu characters long, the maximum is %lld", chars, s->max_len);
	if (s->has_re && regexec(&s->re, json_string_value(v), 0, NULL, 0) != 0)
		vfail(c, ni, "does not match the pattern \"%s\"", s->pattern);
	check_format(c, s, ni, json_string_value(v));
}

static void validate(struct vctx *c, const struct snode *s, uint32_t ni);

/* A hash that equal values (json_equal) share, for uniqueItems in O(n log n). */
static uint64_t json_hash(const json_t *v)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)json_typeof(v);
	const char *key;
	const json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		for (i = 0; i < json_string_length(v); i++)
			h = (h ^ (unsigned char)json_string_value(v)[i]) * 1099511628211ULL;
		break;
	case JSON_INTEGER:
		h = (h ^ (uint64_t)json_integer_value(v)) * 1099511628211ULL;
		break;
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;

		if (d == 0)
			d = 0;  /* -0.0 equals 0.0 */
		memcpy(&bits, &d, sizeof(bits));
		h = (h ^ bits) * 1099511628211ULL;
		break;
	}
	case JSON_ARRAY:
		json_array_foreach(v, i, m)
			h = (h ^ json_hash(m)) * 1099511628211ULL;
		break;
	case JSON_OBJECT: {
		uint64_t sum = 0;

		json_object_foreach((json_t *)v, key, m) {  /* member order does not matter */
			uint64_t kh = 1469598103934665603ULL;

			for (const char *k = key; *k; k++)
				kh = (kh ^ (unsigned char)*k) * 1099511628211ULL;
			sum += (kh ^ (json_hash(m) * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
		}
		h ^= sum;
		break;
	}
	default:
		break;
	}
	return h;
}

struct hitem {
	uint64_t hash;
	uint32_t node;
	size_t index;
};

static int hitem_cmp(const void *a, const void *b)
{
	const struct hitem *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void check_unique(struct vctx *c, uint32_t ni, size_t n)
{
	const struct jconf_doc *d = c->doc;
	struct hitem *h;
	size_t k = 0;

	if (n < 2)
		return;
	h = calloc(n, sizeof(*h));
	if (h == NULL) {
		report(c, d->nodes[ni].line, d->nodes[ni].column, "out of memory");
		return;
	}
	for (uint32_t i = d->nodes[ni].first_child; i != JPOS_NONE && k < n;
	     i = d->nodes[i].next_sibling, k++)
		h[k] = (struct hitem){ json_hash(d->nodes[i].v), i, d->nodes[i].index };
	qsort(h, k, sizeof(*h), hitem_cmp);
	/* items of one hash are sorted by index: compare each with the earlier ones */
	for (size_t i = 1, group = 0; i < k; i++) {
		if (h[i].hash != h[group].hash) {
			group = i;
			continue;
		}
		for (size_t j = group; j < i; j++)
			if (json_equal(d->nodes[h[j].node].v, d->nodes[h[i].node].v)) {
				vfail(c, h[i].node, "repeats item %zu (items must be unique)",
				      h[j].index);
				break;
			}
	}
	free(h);
}

static void check_array(struct vctx *c, const struct snode *s, uint32_t ni, const json_t *v)
{
	size_t n = json_array_size(v);

	if (s->min_items >= 0 && n < (unsigned long long)s->min_items)
		vfail(c, ni, "has %zu items, the minimum is %lld", n, s->min_items);
	if (s->max_items >= 0 && n > (unsigned long long)s->max_items)
		vfail(c, ni, "has %zu items, the maximum is %lld", n, s->max_items);
	if (s->items != NULL)
		for (uint32_t i = c->doc->nodes[ni].first_child; i != JPOS_NONE;
		     i = c->doc->nodes[i].next_sibling)
			validate(c, s->items, i);
	if (s->unique)
		check_unique(c, ni, n);
}

static const struct snode *find_prop(const struct snode *s, const char *key)
{
	for (size_t i = 0; i < s->nprops; i++)
		if (strcmp(s->props[i].name, key) == 0)
			return s->props[i].schema;
	return NULL;
}

static void unknown_key(struct vctx *c, const struct snode *s, uint32_t ni, uint32_t ci)
{
	const struct jpos *m = &c->doc->nodes[ci];
	char path[160], allowed[256], key[128];
	size_t o = 0;

	c->failed = true;
	if (c->quiet) {
		c->total++;
		return;
	}
	allowed[0] = '\0';
	for (size_t i = 0; i < s->nprops; i++) {
		int w = snprintf(allowed + o, sizeof(allowed) - o, "%s%s", i ? ", " : "",
				 s->props[i].name);

		if (w < 0 || (size_t)w >= sizeof(allowed) - o - 5) {
			snprintf(allowed + o, sizeof(allowed) - o, ", ...");
			break;
		}
		o += (size_t)w;
	}
	render_str(m->key, strlen(m->key), key, sizeof(key));
	jconf_node_path(c->doc, ni, path, sizeof(path));
	report(c, m->kline, m->kcolumn, "%s%s%sunknown key %s (%s%s)", path[0] ? "\"" : "", path,
	       path[0] ? "\": " : "", key, s->nprops ? "allowed: " : "no keys are allowed here",
	       allowed);
}

static void check_object(struct vctx *c, const struct snode *s, uint32_t ni, const json_t *v)
{
	const struct jpos *n = &c->doc->nodes[ni];
	char path[160];

	for (size_t i = 0; i < s->nrequired; i++) {
		if (json_object_get(v, s->required[i]) != NULL)
			continue;
		c->failed = true;
		if (c->quiet) {
			c->total++;
			continue;
		}
		jconf_node_path(c->doc, ni, path, sizeof(path));
		report(c, n->line, n->column, "%s%s%smissing required key \"%s\"",
		       path[0] ? "\"" : "", path, path[0] ? "\": " : "", s->required[i]);
	}
	for (uint32_t i = n->first_child; i != JPOS_NONE; i = c->doc->nodes[i].next_sibling) {
		const struct snode *p = find_prop(s, c->doc->nodes[i].key);

		if (c->quiet && c->failed)
			return;
		if (p != NULL)
			validate(c, p, i);
		else if (s->addl != NULL)
			validate(c, s->addl, i);
		else if (s->addl_forbid)
			unknown_key(c, s, ni, i);
	}
}

static bool matches(struct vctx *c, const struct snode *s, uint32_t ni)
{
	struct vctx q = *c;

	q.quiet = true;
	q.failed = false;
	q.total = 0;
	validate(&q, s, ni);
	return !q.failed;
}

static const char *alt_name(const struct snode *s, size_t i, char *buf, size_t size)
{
	char t[96];

	if (s->label != NULL)
		snprintf(buf, size, "%.80s", s->label);
	else if (s->types != 0)
		snprintf(buf, size, "%s", types_str(s->types, t, sizeof(t)));
	else if (s->ref_target != NULL && s->ref_target->label != NULL)
		snprintf(buf, size, "%.80s", s->ref_target->label);
	else
		snprintf(buf, size, "alternative %zu", i + 1);
	return buf;
}

static unsigned alt_types(const struct snode *s)
{
	if (s->types == 0 && s->ref_target != NULL)
		return s->ref_target->types;
	return s->types;
}

/* oneOf (exactly one alternative) or anyOf (at least one). */
static void check_alternatives(struct vctx *c, struct snode *const *alts, size_t nalts,
			       bool one, uint32_t ni)
{
	const json_t *v = c->doc->nodes[ni].v;
	size_t nmatch = 0, first = 0, typed = 0, typed_i = 0;
	char list[320], name[100];
	size_t o = 0;

	for (size_t i = 0; i < nalts && (nmatch < 1 || (one && nmatch < 2)); i++)
		if (matches(c, alts[i], ni) && nmatch++ == 0)
			first = i;
	if (one && nmatch > 1) {
		vfail(c, ni, "matches more than one alternative, \"%s\" among them (a schema "
		      "bug: its oneOf alternatives overlap)",
		      alt_name(alts[first], first, name, sizeof(name)));
		return;
	}
	if (nmatch > 0)
		return;
	/* if the value's type picks one alternative, its own errors say most */
	for (size_t i = 0; i < nalts; i++)
		if (alt_types(alts[i]) != 0 && type_ok(alt_types(alts[i]), v)) {
			typed++;
			typed_i = i;
		}
	if (typed == 1 && !c->quiet) {
		validate(c, alts[typed_i], ni);
		return;
	}
	list[0] = '\0';
	for (size_t i = 0; i < nalts; i++) {
		int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? "; " : "",
				 alt_name(alts[i], i, name, sizeof(name)));

		if (w < 0 || (size_t)w >= sizeof(list) - o)
			break;
		o += (size_t)w;
	}
	vfail(c, ni, "matches none of the allowed forms: %s", list);
}

static void validate(struct vctx *c, const struct snode *s, uint32_t ni)
{
	const json_t *v = c->doc->nodes[ni].v;
	char b[128], t[96];

	if (c->quiet && c->failed)
		return;
	if (c->depth >= MAX_SCHEMA_DEPTH) {
		vfail(c, ni, "cannot be checked: the schema's \"$ref\" loops (a schema bug)");
		return;
	}
	c->depth++;
	if (s->never)
		vfail(c, ni, "is not allowed here");
	if (s->ref_target != NULL)
		validate(c, s->ref_target, ni);
	if (!type_ok(s->types, v)) {
		/* the other keywords mean little for a value of the wrong type */
		vfail(c, ni, "is %s, expected %s", types_str(type_bit(v), b, sizeof(b)),
		      types_str(s->types, t, sizeof(t)));
		c->depth--;
		return;
	}
	if (s->const_val != NULL && !json_equal((json_t *)v, (json_t *)s->const_val))
		vfail(c, ni, "must be %s", render(s->const_val, b, sizeof(b)));
	if (s->enum_vals != NULL) {
		size_t i, o = 0;
		const json_t *e;
		char list[256], one[64];
		bool found = false;

		json_array_foreach(s->enum_vals, i, e)
			found = found || json_equal((json_t *)v, (json_t *)e);
		list[0] = '\0';
		json_array_foreach(s->enum_vals, i, e) {
			int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
					 render(e, one, sizeof(one)));

			if (found || w < 0 || (size_t)w >= sizeof(list) - o)
				break;
			o += (size_t)w;
		}
		if (!found)
			vfail(c, ni, "is not one of %s", list);
	}
	if (json_is_number(v))
		check_number(c, s, ni, v);
	else if (json_is_string(v))
		check_string(c, s, ni, v);
	else if (json_is_array(v))
		check_array(c, s, ni, v);
	else if (json_is_object(v))
		check_object(c, s, ni, v);
	if (s->noneof > 0)
		check_alternatives(c, s->oneof, s->noneof, true, ni);
	if (s->nanyof > 0)
		check_alternatives(c, s->anyof, s->nanyof, false, ni);
	c->depth--;
}

unsigned jconf_validate(const struct jconf_doc *doc, const struct jconf_schema *s,
			struct jconf_error *errs, size_t nerrs)
{
	struct vctx c = { .doc = doc, .errs = errs, .cap = errs != NULL ? nerrs : 0 };

	if (doc == NULL || s == NULL || doc->nnodes == 0)
		return 0;
	validate(&c, s->root, 0);
	return c.total;
}
