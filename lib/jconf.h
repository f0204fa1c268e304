/* SPDX-License-Identifier: MIT */
/*
 * JSON configuration loader shared by coopnet-nfq and coopnet-authd.
 *
 * A document is parsed with jansson (duplicate keys rejected), every value's position is
 * recorded by a small scanner that walks the same text, and the tree is validated against a
 * compiled JSON Schema subset (docs/config.md lists the supported keywords). Every error
 * comes back as one struct jconf_error: "FILE:LINE:COLUMN: message", the first error in
 * document order.
 *
 * Ownership: a jconf_doc owns its json_t tree; values from jconf_root() are borrowed and live
 * until jconf_free(). A jconf_schema is independent of the documents validated with it.
 */
#ifndef COOPNET_JCONF_H
#define COOPNET_JCONF_H

#include <stddef.h>
#include <jansson.h>

/* Largest configuration file jconf_load_file() accepts. */
#define JCONF_MAX_FILE_SIZE (1024 * 1024)
/* Deepest nesting of arrays and objects accepted in a document or a schema. */
#define JCONF_MAX_DEPTH 64

/*
 * line and column are 1-based, the column counted in characters (UTF-8 code points) as jansson
 * does. line 0 means the error concerns the whole file (cannot open, too large, ...).
 */
struct jconf_error {
	char file[256];
	int line;
	int column;
	char msg[512];
};
struct jconf_doc;    /* owns the json_t tree, the file name, and a value -> position map */
struct jconf_schema; /* a compiled schema */

/* Compile a schema (the JSON text of a schema, name for error messages). NULL on error. */
struct jconf_schema *jconf_schema_parse(const char *name, const char *text, size_t len,
					struct jconf_error *err);
void jconf_schema_free(struct jconf_schema *s); /* NULL-safe */

/*
 * Parse and validate; NULL on error with *err filled (first error in document order).
 * s may be NULL: parse only (syntax, duplicate keys, nesting depth).
 */
struct jconf_doc *jconf_load_file(const char *path, const struct jconf_schema *s,
				  struct jconf_error *err);
struct jconf_doc *jconf_load_buffer(const char *name, const char *text, size_t len,
				    const struct jconf_schema *s, struct jconf_error *err);
json_t *jconf_root(const struct jconf_doc *doc); /* borrowed */
const char *jconf_name(const struct jconf_doc *doc);

/*
 * Position of any value (json_t*) of this document: 0 on success, -1 if value is not part of
 * it. jansson shares one json_t for every true, false and null, so those have no position of
 * their own: use jconf_member_position()/jconf_item_position() for them.
 */
int jconf_position(const struct jconf_doc *doc, const json_t *value, int *line, int *column);
/* Position of the value of member key of object / of item index of array: 0 or -1. */
int jconf_member_position(const struct jconf_doc *doc, const json_t *object, const char *key,
			  int *line, int *column);
int jconf_item_position(const struct jconf_doc *doc, const json_t *array, size_t index,
			int *line, int *column);
/*
 * The path of value as the validator's messages name it: peers[1].address (root members are
 * just their key). "" for the root, and for values without a position. Returns buf.
 */
const char *jconf_path(const struct jconf_doc *doc, const json_t *value, char *buf, size_t size);

/*
 * For the caller's own semantic checks (an IP address that does not parse, a duplicate name):
 * fills err with the position of value (or of the document if value is NULL, or a value
 * without a position of its own) and the message.
 */
void jconf_errorf(struct jconf_error *err, const struct jconf_doc *doc, const json_t *value,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "FILE:LINE:COLUMN: message" ("FILE: message" when line is 0) into buf; returns buf. */
const char *jconf_error_str(const struct jconf_error *err, char *buf, size_t size);
void jconf_free(struct jconf_doc *doc); /* NULL-safe */

/*
 * Validate doc against s again, collecting up to nerrs errors sorted in document order into
 * errs (may be NULL when nerrs is 0). Returns the total number of errors found (0: valid).
 * For tools that list every error (the tests and fuzz_jconf use it); the daemons' loaders
 * report only the first (coopnet-authd -n and coopnet-nfq -n check a whole file).
 */
unsigned jconf_validate(const struct jconf_doc *doc, const struct jconf_schema *s,
			struct jconf_error *errs, size_t nerrs);

/*
 * Schemas embedded by the build (scripts/embed.sh, see lib/local.mk): schemas/NAME.schema.json
 * becomes the array coopnet_schema_NAME (NUL-terminated) and its length without the NUL.
 *   JCONF_SCHEMA_DECLARE(nfq);
 *   s = jconf_schema_parse("nfq.schema.json", coopnet_schema_nfq, coopnet_schema_nfq_len, &e);
 */
#define JCONF_SCHEMA_DECLARE(name)                   \
	extern const char coopnet_schema_##name[];   \
	extern const size_t coopnet_schema_##name##_len

#endif
