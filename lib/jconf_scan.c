/* SPDX-License-Identifier: MIT */
/*
 * The position scanner: walks a text jansson already accepted in step with its json_t tree
 * and records where each value (and member key) starts, in document order (jconf_int.h).
 * A recursive descent bounded by JCONF_MAX_DEPTH, one pass, O(n).
 */
#include "grow.h"
#include "hex.h"
#include "jconf_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- position scanner ---- */

struct scanner {
	const char *p, *end;
	int line;
	int chars;            /* characters consumed on this line: the column of *p is chars + 1 */
	struct jconf_doc *doc;
	size_t cap;           /* of doc->nodes */
	char *kbuf;           /* decoded member key */
	size_t kcap;
	struct jconf_error *err;
	int failed;
};

static void scan_fail(struct scanner *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void scan_fail(struct scanner *sc, const char *fmt, ...)
{
	va_list ap;

	if (sc->failed)
		return;
	sc->failed = 1;
	va_start(ap, fmt);
	jconf_vset_error(sc->err, sc->doc->name, sc->line, sc->chars + 1, fmt, ap);
	va_end(ap);
}

/* The scanner only follows text jansson accepted; disagreeing means a bug here. */
#define scan_out_of_step(sc) \
	scan_fail(sc, "internal error: position scanner out of step (%s:%d)", __FILE__, __LINE__)

static void advance(struct scanner *sc)
{
	unsigned char c = (unsigned char)*sc->p++;

	if (c == '\n') {
		sc->line++;
		sc->chars = 0;
	} else if ((c & 0xc0) != 0x80) {  /* count characters, not UTF-8 continuation bytes */
		sc->chars++;
	}
}

static void skip_ws(struct scanner *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' ||
				   *sc->p == '\r'))
		advance(sc);
}

static int peek(const struct scanner *sc)
{
	return sc->p < sc->end ? (unsigned char)*sc->p : -1;
}

static uint32_t push_node(struct scanner *sc, const json_t *v, uint32_t parent)
{
	struct jconf_doc *doc = sc->doc;
	struct jpos *n;

	/* every value takes at least one byte of a text below 2^31 bytes: uint32_t indices */
	n = doc->nnodes < UINT32_MAX / 2 ? grow(doc->nodes, doc->nnodes, &sc->cap, sizeof(*n), 64)
					  : NULL;
	if (n == NULL) {
		scan_fail(sc, "out of memory");
		return JPOS_NONE;
	}
	doc->nodes = n;
	n = &doc->nodes[doc->nnodes];
	memset(n, 0, sizeof(*n));
	n->v = v;
	n->parent = parent;
	n->first_child = JPOS_NONE;
	n->next_sibling = JPOS_NONE;
	n->line = sc->line;
	n->column = sc->chars + 1;
	return doc->nnodes++;
}

static int read_u4(struct scanner *sc, unsigned *out)
{
	unsigned u = 0;

	for (int i = 0; i < 4; i++) {
		int h = cn_hex_value(peek(sc));

		if (h < 0)
			return -1;
		u = u << 4 | (unsigned)h;
		advance(sc);
	}
	*out = u;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int decode_escape(struct scanner *sc, char *o, size_t *olen)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int c = peek(sc);
	const char *f;
	unsigned cp, lo;

	if (c == 'u') {
		advance(sc);
		if (read_u4(sc, &cp) < 0)
			return -1;
		if (cp >= 0xd800 && cp <= 0xdbff) {  /* high surrogate: a low one must follow */
			if (peek(sc) != '\\')
				return -1;
			advance(sc);
			if (peek(sc) != 'u')
				return -1;
			advance(sc);
			if (read_u4(sc, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return -1;
		}
		*olen += put_utf8(o + *olen, cp);
		return 0;
	}
	if (c <= 0 || (f = strchr(from, c)) == NULL)
		return -1;
	o[(*olen)++] = to[f - from];
	advance(sc);
	return 0;
}

/*
 * Decode the string at *p into sc->kbuf (NUL-terminated). A decoded string is never longer
 * than its source text, so kbuf sized to the source cannot overflow.
 */
static int decode_key(struct scanner *sc)
{
	const char *q = sc->p + 1;
	size_t srclen, olen = 0;

	while (q < sc->end && *q != '"')
		q += (*q == '\\' && q + 1 < sc->end) ? 2 : 1;
	if (q >= sc->end)
		return -1;
	srclen = (size_t)(q - sc->p);
	if (srclen + 1 > sc->kcap) {
		char *nb = realloc(sc->kbuf, srclen + 1);

		if (nb == NULL) {
			scan_fail(sc, "out of memory");
			return -1;
		}
		sc->kbuf = nb;
		sc->kcap = srclen + 1;
	}
	advance(sc);  /* opening quote */
	while (peek(sc) != '"') {
		if (peek(sc) < 0)
			return -1;
		if (peek(sc) == '\\') {
			advance(sc);
			if (decode_escape(sc, sc->kbuf, &olen) < 0)
				return -1;
		} else {
			sc->kbuf[olen++] = *sc->p;
			advance(sc);
		}
	}
	advance(sc);
	if (memchr(sc->kbuf, '\0', olen) != NULL)  /* jansson refuses these keys too */
		return -1;
	sc->kbuf[olen] = '\0';
	return 0;
}

static int skip_string(struct scanner *sc)
{
	advance(sc);
	while (peek(sc) != '"') {
		if (peek(sc) < 0)
			return -1;
		if (peek(sc) == '\\')
			advance(sc);
		if (peek(sc) < 0)
			return -1;
		advance(sc);
	}
	advance(sc);
	return 0;
}

static void skip_scalar(struct scanner *sc)
{
	while (sc->p < sc->end && strchr(",]} \t\r\n", *sc->p) == NULL)
		advance(sc);
}

static uint32_t scan_value(struct scanner *sc, const json_t *v, int depth, uint32_t parent);

static void link_child(struct jconf_doc *doc, uint32_t parent, uint32_t *prev, uint32_t ci)
{
	if (*prev == JPOS_NONE)
		doc->nodes[parent].first_child = ci;
	else
		doc->nodes[*prev].next_sibling = ci;
	*prev = ci;
}

static int scan_object(struct scanner *sc, const json_t *v, int depth, uint32_t self)
{
	uint32_t prev = JPOS_NONE;

	advance(sc);
	skip_ws(sc);
	if (peek(sc) == '}') {
		advance(sc);
		return 0;
	}
	for (;;) {
		int kline, kcol;
		void *iter;
		uint32_t ci;

		skip_ws(sc);
		kline = sc->line;
		kcol = sc->chars + 1;
		if (peek(sc) != '"' || decode_key(sc) < 0 ||
		    (iter = json_object_iter_at((json_t *)v, sc->kbuf)) == NULL)
			goto out_of_step;
		skip_ws(sc);
		if (peek(sc) != ':')
			goto out_of_step;
		advance(sc);
		ci = scan_value(sc, json_object_iter_value(iter), depth + 1, self);
		if (ci == JPOS_NONE)
			return -1;
		sc->doc->nodes[ci].key = json_object_iter_key(iter);
		sc->doc->nodes[ci].kline = kline;
		sc->doc->nodes[ci].kcolumn = kcol;
		link_child(sc->doc, self, &prev, ci);
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
			continue;
		}
		if (peek(sc) == '}') {
			advance(sc);
			return 0;
		}
		goto out_of_step;
	}
out_of_step:
	scan_out_of_step(sc);
	return -1;
}

static int scan_array(struct scanner *sc, const json_t *v, int depth, uint32_t self)
{
	uint32_t prev = JPOS_NONE;
	size_t i = 0;

	advance(sc);
	skip_ws(sc);
	if (peek(sc) == ']') {
		advance(sc);
		return json_array_size(v) == 0 ? 0 : (scan_out_of_step(sc), -1);
	}
	for (;; i++) {
		const json_t *item = json_array_get(v, i);
		uint32_t ci;

		if (item == NULL) {
			scan_out_of_step(sc);
			return -1;
		}
		ci = scan_value(sc, item, depth + 1, self);
		if (ci == JPOS_NONE)
			return -1;
		sc->doc->nodes[ci].index = i;
		link_child(sc->doc, self, &prev, ci);
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
			continue;
		}
		if (peek(sc) == ']' && i + 1 == json_array_size(v)) {
			advance(sc);
			return 0;
		}
		scan_out_of_step(sc);
		return -1;
	}
}

/* depth: number of arrays and objects around this value. */
static uint32_t scan_value(struct scanner *sc, const json_t *v, int depth, uint32_t parent)
{
	uint32_t self;
	int c, rc = 0;

	skip_ws(sc);
	c = peek(sc);
	if ((c == '{' || c == '[') && depth >= JCONF_MAX_DEPTH) {
		scan_fail(sc, "arrays and objects nested deeper than %d levels (flatten the "
			  "configuration)", JCONF_MAX_DEPTH);
		return JPOS_NONE;
	}
	self = push_node(sc, v, parent);
	if (self == JPOS_NONE)
		return JPOS_NONE;
	if (c == '{' && json_is_object(v))
		rc = scan_object(sc, v, depth, self);
	else if (c == '[' && json_is_array(v))
		rc = scan_array(sc, v, depth, self);
	else if (c == '"' && json_is_string(v))
		rc = skip_string(sc) < 0 ? (scan_out_of_step(sc), -1) : 0;
	else if (c > 0 && strchr("{[\"", c) == NULL && !json_is_object(v) && !json_is_array(v) &&
		 !json_is_string(v))
		skip_scalar(sc);
	else
		rc = (scan_out_of_step(sc), -1);
	return rc < 0 ? JPOS_NONE : self;
}

int jconf_scan(struct jconf_doc *doc, const char *text, size_t len, struct jconf_error *err)
{
	struct scanner sc = {
		.p = text, .end = text + len, .line = 1, .doc = doc, .err = err,
	};
	uint32_t root;

	root = scan_value(&sc, doc->root, 0, JPOS_NONE);
	free(sc.kbuf);
	return root == JPOS_NONE ? -1 : 0;
}
