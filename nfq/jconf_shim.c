/* SPDX-License-Identifier: MIT */
/* TEMPORARY stand-in for lib/jconf.c (see jconf.h). */
#include "jconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jconf_doc { json_t *root; char name[256]; };
struct jconf_schema { json_t *root; };

static void seterr(struct jconf_error *err, const char *file, int line, int col, const char *m)
{
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	err->column = col;
	snprintf(err->msg, sizeof(err->msg), "%s", m);
}

struct jconf_schema *jconf_schema_parse(const char *name, const char *text, size_t len,
					struct jconf_error *err)
{
	struct jconf_schema *s;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (!root) {
		seterr(err, name, je.line, je.column, je.text);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		json_decref(root);
		seterr(err, name, 0, 0, "out of memory");
		return NULL;
	}
	s->root = root;
	return s;
}

void jconf_schema_free(struct jconf_schema *s)
{
	if (!s)
		return;
	json_decref(s->root);
	free(s);
}

static struct jconf_doc *wrap(const char *name, json_t *root, json_error_t *je,
			      struct jconf_error *err)
{
	struct jconf_doc *d;

	if (!root) {
		seterr(err, name, je->line, je->column, je->text);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		json_decref(root);
		seterr(err, name, 0, 0, "out of memory");
		return NULL;
	}
	d->root = root;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

struct jconf_doc *jconf_load_file(const char *path, const struct jconf_schema *s,
				  struct jconf_error *err)
{
	json_error_t je;

	(void)s;
	return wrap(path, json_load_file(path, JSON_REJECT_DUPLICATES, &je), &je, err);
}

struct jconf_doc *jconf_load_buffer(const char *name, const char *text, size_t len,
				    const struct jconf_schema *s, struct jconf_error *err)
{
	json_error_t je;

	(void)s;
	return wrap(name, json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), &je, err);
}

json_t *jconf_root(const struct jconf_doc *doc) { return doc->root; }
const char *jconf_name(const struct jconf_doc *doc) { return doc->name; }

int jconf_position(const struct jconf_doc *doc, const json_t *value, int *line, int *column)
{
	(void)doc;
	(void)value;
	*line = 1;
	*column = 1;
	return -1;
}

void jconf_errorf(struct jconf_error *err, const struct jconf_doc *doc, const json_t *value,
		  const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s", doc ? doc->name : "");
	jconf_position(doc, value, &err->line, &err->column);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *jconf_error_str(const struct jconf_error *err, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, err->msg);
	return buf;
}

void jconf_free(struct jconf_doc *doc)
{
	if (!doc)
		return;
	json_decref(doc->root);
	free(doc);
}
