/* SPDX-License-Identifier: MIT */
/* Internals shared by jconf.c (documents, positions) and jschema.c (schemas, validation). */
#ifndef COOPNET_JCONF_INT_H
#define COOPNET_JCONF_INT_H

#include <stdarg.h>
#include <stdint.h>

#include "jconf.h"

#define JPOS_NONE UINT32_MAX

/*
 * One value of the document, in document order (nodes[0] is the root). Children are linked in
 * the order they appear in the text, so walking them reports errors in document order.
 */
struct jpos {
	const json_t *v;
	const char *key;     /* member key (jansson's copy), NULL for array items and the root */
	size_t index;        /* array index for items */
	uint32_t parent;     /* JPOS_NONE for the root */
	uint32_t first_child;
	uint32_t next_sibling;
	int line, column;    /* the value's first character */
	int kline, kcolumn;  /* the member key's opening quote */
};

struct jconf_doc {
	char name[256];
	json_t *root;
	struct jpos *nodes;
	uint32_t nnodes;
	uint32_t *map;       /* open addressing: json_t* -> node index + 1, 0 = empty */
	size_t mapmask;
};

void jconf_set_error(struct jconf_error *err, const char *file, int line, int column,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void jconf_vset_error(struct jconf_error *err, const char *file, int line, int column,
		      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Path of node i ("peers[1].address"), "" for the root. */
const char *jconf_node_path(const struct jconf_doc *doc, uint32_t i, char *buf, size_t size);
/* Record the position of every value of doc->root (parsed from text) in doc->nodes;
 * -1 with err set on a text that does not follow the tree or on no memory. */
int jconf_scan(struct jconf_doc *doc, const char *text, size_t len, struct jconf_error *err);
/* Parse only (no schema). */
struct jconf_doc *jconf_parse(const char *name, const char *text, size_t len,
			      struct jconf_error *err);

#endif
