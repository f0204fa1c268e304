/* SPDX-License-Identifier: MIT */
/*
 * TEMPORARY: the lib/jconf API (branch jconf) so that coopnet-nfq builds before it lands.
 * jconf_shim.c parses with jansson and reports syntax errors with their position, but does
 * not validate against the schema. Delete this file and jconf_shim.c when lib/jconf.h is on
 * main.
 */
#ifndef COOPNET_JCONF_H
#define COOPNET_JCONF_H

#include <jansson.h>
#include <stddef.h>

struct jconf_error { char file[256]; int line; int column; char msg[512]; };
struct jconf_doc;
struct jconf_schema;

struct jconf_schema *jconf_schema_parse(const char *name, const char *text, size_t len,
					struct jconf_error *err);
void jconf_schema_free(struct jconf_schema *s);
struct jconf_doc *jconf_load_file(const char *path, const struct jconf_schema *s,
				  struct jconf_error *err);
struct jconf_doc *jconf_load_buffer(const char *name, const char *text, size_t len,
				    const struct jconf_schema *s, struct jconf_error *err);
json_t *jconf_root(const struct jconf_doc *doc);
const char *jconf_name(const struct jconf_doc *doc);
int jconf_position(const struct jconf_doc *doc, const json_t *value, int *line, int *column);
void jconf_errorf(struct jconf_error *err, const struct jconf_doc *doc, const json_t *value,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *jconf_error_str(const struct jconf_error *err, char *buf, size_t size);
void jconf_free(struct jconf_doc *doc);

#endif
