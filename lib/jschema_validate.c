/* SPDX-License-Identifier: MIT */
/*
 * JSON Schema subset: validate a document's value tree against a compiled schema
 * (jschema.c compiles it). Errors are collected with their positions and the first one in
 * document order is reported.
 */
#include "jschema_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		if (types & jschema_type_names[i].bit) {
			int w = snprintf(buf + o, size - o, "%s%s", o ? " or " : "",
					 jschema_type_names[i].article);

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

static void check_format(struct vctx *c, const struct snode *s, uint32_t ni, const char *str)
{
	const char *why = jschema_format_error(s->format, str);

	if (why != NULL)
		vfail(c, ni, "%s", why);
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
