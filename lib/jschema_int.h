/* SPDX-License-Identifier: MIT */
/* jschema_int.h: the compiled schema tree, shared by lib/jschema.c (compiling),
 * jschema_validate.c (validating) and jschema_format.c (the "format" keyword). */
#ifndef COOPNET_JSCHEMA_INT_H
#define COOPNET_JSCHEMA_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "jconf_int.h"

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_INTEGER = 1 << 5,
	T_STRING = 1 << 6,
};

struct jschema_type_name {
	const char *name;
	const char *article;  /* for messages: "expected an integer" */
	unsigned bit;
};
#define NTYPES 7
extern const struct jschema_type_name jschema_type_names[NTYPES];

enum format {
	F_NONE, F_IPV4, F_IPV6, F_IP, F_IPV4_PREFIX, F_IPV6_PREFIX, F_IP_PREFIX, F_HOSTNAME,
};

extern const char *const jschema_format_names[];
#define NFORMATS ((size_t)F_HOSTNAME + 1)

/* NULL when str is written in format f, else what it is not and how to write it. */
const char *jschema_format_error(enum format f, const char *str);

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

#endif
