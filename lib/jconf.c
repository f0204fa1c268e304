/* SPDX-License-Identifier: MIT */
/*
 * Documents: jansson parses (JSON_REJECT_DUPLICATES), then a position scanner walks the same
 * text in step with the json_t tree and records where each value starts. jansson keeps no
 * positions, and a second parser that only has to follow a text jansson already accepted is
 * small: a recursive descent bounded by JCONF_MAX_DEPTH, one pass, O(n).
 */
#include "grow.h"
#include "hex.h"
#include "jconf_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void jconf_vset_error(struct jconf_error *err, const char *file, int line, int column,
		      const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : "");
	err->line = line;
	err->column = column;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

void jconf_set_error(struct jconf_error *err, const char *file, int line, int column,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jconf_vset_error(err, file, line, column, fmt, ap);
	va_end(ap);
}

const char *jconf_error_str(const struct jconf_error *err, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (err->line > 0)
		snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, err->msg);
	else
		snprintf(buf, size, "%s: %s", err->file, err->msg);
	return buf;
}

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

/* ---- value -> node map ---- */

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* true, false and null are shared singletons in jansson: they get no entry. */
static int is_singleton(const json_t *v)
{
	return json_is_true(v) || json_is_false(v) || json_is_null(v);
}

static int build_map(struct jconf_doc *doc)
{
	size_t cap = 16;

	while (cap < (size_t)doc->nnodes * 2)
		cap *= 2;
	doc->map = calloc(cap, sizeof(*doc->map));
	if (doc->map == NULL)
		return -1;
	doc->mapmask = cap - 1;
	for (uint32_t i = 0; i < doc->nnodes; i++) {
		size_t h;

		if (is_singleton(doc->nodes[i].v))
			continue;
		h = ptr_hash(doc->nodes[i].v) & doc->mapmask;
		while (doc->map[h] != 0)
			h = (h + 1) & doc->mapmask;
		doc->map[h] = i + 1;
	}
	return 0;
}

static uint32_t find_node(const struct jconf_doc *doc, const json_t *v)
{
	size_t h;

	if (doc == NULL || v == NULL || doc->map == NULL || is_singleton(v))
		return JPOS_NONE;
	h = ptr_hash(v) & doc->mapmask;
	while (doc->map[h] != 0) {
		if (doc->nodes[doc->map[h] - 1].v == v)
			return doc->map[h] - 1;
		h = (h + 1) & doc->mapmask;
	}
	return JPOS_NONE;
}

/* ---- documents ---- */

void jconf_free(struct jconf_doc *doc)
{
	if (doc == NULL)
		return;
	json_decref(doc->root);
	free(doc->nodes);
	free(doc->map);
	free(doc);
}

static int scan_document(struct jconf_doc *doc, const char *text, size_t len,
			 struct jconf_error *err)
{
	struct scanner sc = {
		.p = text, .end = text + len, .line = 1, .doc = doc, .err = err,
	};
	uint32_t root;

	root = scan_value(&sc, doc->root, 0, JPOS_NONE);
	free(sc.kbuf);
	if (root == JPOS_NONE)
		return -1;
	if (build_map(doc) < 0) {
		jconf_set_error(err, doc->name, 0, 0, "out of memory");
		return -1;
	}
	return 0;
}

struct jconf_doc *jconf_parse(const char *name, const char *text, size_t len,
			      struct jconf_error *err)
{
	struct jconf_doc *doc;
	json_error_t jerr;

	if (name == NULL)
		name = "(config)";
	if (text == NULL && len > 0) {
		jconf_set_error(err, name, 0, 0, "no text");
		return NULL;
	}
	doc = calloc(1, sizeof(*doc));
	if (doc == NULL) {
		jconf_set_error(err, name, 0, 0, "out of memory");
		return NULL;
	}
	snprintf(doc->name, sizeof(doc->name), "%s", name);
	memset(&jerr, 0, sizeof(jerr));
	doc->root = json_loadb(text != NULL ? text : "", len,
			       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc->root == NULL) {
		/* jansson's column is that of the offending token's last character */
		jconf_set_error(err, name, jerr.line > 0 ? jerr.line : 1,
				jerr.column > 0 ? jerr.column : 1, "%s",
				jerr.text[0] != '\0' ? jerr.text : "cannot parse JSON");
		jconf_free(doc);
		return NULL;
	}
	if (scan_document(doc, text, len, err) < 0) {
		jconf_free(doc);
		return NULL;
	}
	return doc;
}

struct jconf_doc *jconf_load_buffer(const char *name, const char *text, size_t len,
				    const struct jconf_schema *s, struct jconf_error *err)
{
	struct jconf_doc *doc = jconf_parse(name, text, len, err);

	if (doc != NULL && s != NULL && jconf_validate(doc, s, err, 1) != 0) {
		jconf_free(doc);
		return NULL;
	}
	return doc;
}

static char *read_file(int fd, const char *path, size_t *lenp, struct jconf_error *err)
{
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fstat(fd, &st) < 0) {
		jconf_set_error(err, path, 0, 0, "cannot stat: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		jconf_set_error(err, path, 0, 0, "not a regular file (give the path of a JSON "
				"configuration file)");
		return NULL;
	}
	if (st.st_size > JCONF_MAX_FILE_SIZE) {
		jconf_set_error(err, path, 0, 0, "file is %lld bytes, over the limit of %d bytes "
				"(1 MiB) for a configuration file", (long long)st.st_size,
				JCONF_MAX_FILE_SIZE);
		return NULL;
	}
	/* one byte more than fstat said, to notice a file that grows while we read it */
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		jconf_set_error(err, path, 0, 0, "out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			jconf_set_error(err, path, 0, 0, "cannot read: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) {
			jconf_set_error(err, path, 0, 0, "file changed while being read "
					"(try again)");
			free(buf);
			return NULL;
		}
	}
	*lenp = n;
	return buf;
}

struct jconf_doc *jconf_load_file(const char *path, const struct jconf_schema *s,
				  struct jconf_error *err)
{
	struct jconf_doc *doc;
	size_t len = 0;
	char *text;
	int fd;

	if (path == NULL || *path == '\0') {
		jconf_set_error(err, "(config)", 0, 0, "no configuration file name given");
		return NULL;
	}
	/* O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		jconf_set_error(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	text = read_file(fd, path, &len, err);
	close(fd);
	if (text == NULL)
		return NULL;
	doc = jconf_load_buffer(path, text, len, s, err);
	free(text);
	return doc;
}

json_t *jconf_root(const struct jconf_doc *doc)
{
	return doc != NULL ? doc->root : NULL;
}

const char *jconf_name(const struct jconf_doc *doc)
{
	return doc != NULL ? doc->name : NULL;
}

int jconf_position(const struct jconf_doc *doc, const json_t *value, int *line, int *column)
{
	uint32_t i = find_node(doc, value);

	if (i == JPOS_NONE)
		return -1;
	*line = doc->nodes[i].line;
	*column = doc->nodes[i].column;
	return 0;
}

static int child_position(const struct jconf_doc *doc, const json_t *parent, const char *key,
			  size_t index, int *line, int *column)
{
	uint32_t p = find_node(doc, parent);

	if (p == JPOS_NONE)
		return -1;
	for (uint32_t c = doc->nodes[p].first_child; c != JPOS_NONE;
	     c = doc->nodes[c].next_sibling) {
		const struct jpos *n = &doc->nodes[c];

		if (key != NULL ? (n->key != NULL && strcmp(n->key, key) == 0) : n->index == index) {
			*line = n->line;
			*column = n->column;
			return 0;
		}
	}
	return -1;
}

int jconf_member_position(const struct jconf_doc *doc, const json_t *object, const char *key,
			  int *line, int *column)
{
	if (!json_is_object(object) || key == NULL)
		return -1;
	return child_position(doc, object, key, 0, line, column);
}

int jconf_item_position(const struct jconf_doc *doc, const json_t *array, size_t index,
			int *line, int *column)
{
	if (!json_is_array(array))
		return -1;
	return child_position(doc, array, NULL, index, line, column);
}

/* Put s in front of buf when it fits (a path too long for buf loses its outer part). */
static void path_prepend(char *buf, size_t size, const char *s, size_t slen)
{
	size_t cur = strlen(buf);

	if (cur + slen + 1 > size)
		return;
	memmove(buf + slen, buf, cur + 1);
	memcpy(buf, s, slen);
}

const char *jconf_node_path(const struct jconf_doc *doc, uint32_t i, char *buf, size_t size)
{
	char seg[64];

	if (size == 0)
		return buf;
	buf[0] = '\0';
	/* built from the value up to the root; keys longer than a segment are cut */
	for (; i != JPOS_NONE && doc->nodes[i].parent != JPOS_NONE; i = doc->nodes[i].parent) {
		const struct jpos *n = &doc->nodes[i];
		int len;

		if (n->key != NULL)
			len = snprintf(seg, sizeof(seg), "%s%.40s%s",
				       doc->nodes[n->parent].parent != JPOS_NONE ? "." : "",
				       n->key, strlen(n->key) > 40 ? "..." : "");
		else
			len = snprintf(seg, sizeof(seg), "[%zu]", n->index);
		if (len < 0 || (size_t)len >= sizeof(seg))
			break;
		path_prepend(buf, size, seg, (size_t)len);
	}
	return buf;
}

const char *jconf_path(const struct jconf_doc *doc, const json_t *value, char *buf, size_t size)
{
	uint32_t i = find_node(doc, value);

	if (size > 0)
		buf[0] = '\0';
	if (i == JPOS_NONE)
		return buf;
	return jconf_node_path(doc, i, buf, size);
}

void jconf_errorf(struct jconf_error *err, const struct jconf_doc *doc, const json_t *value,
		  const char *fmt, ...)
{
	uint32_t i = find_node(doc, value);
	int line = 0, column = 0;
	va_list ap;

	if (i == JPOS_NONE && doc != NULL && doc->nnodes > 0)
		i = 0;  /* the document: where its root value starts */
	if (i != JPOS_NONE) {
		line = doc->nodes[i].line;
		column = doc->nodes[i].column;
	}
	va_start(ap, fmt);
	jconf_vset_error(err, doc != NULL ? doc->name : "(config)", line, column, fmt, ap);
	va_end(ap);
}
