/* SPDX-License-Identifier: MIT */
/*
 * Documents: jansson parses (JSON_REJECT_DUPLICATES), then a position scanner (jconf_scan.c)
 * walks the same text in step with the json_t tree and records where each value starts.
 * jansson keeps no positions, and a second parser that only has to follow a text jansson
 * already accepted is small. Here: errors, the value -> node map, loading, positions, paths.
 */
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
	if (jconf_scan(doc, text, len, err) < 0)
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
