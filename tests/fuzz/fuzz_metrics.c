/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Prometheus renderer (lib/metrics.c) and the HTTP routing of the
 * metrics endpoint: the input is a snapshot as coopnetctl receives it over a control socket
 * (any JSON); rendered with a small and a large bound. What comes out must be printable ASCII
 * lines, each a comment or a sample whose name starts with "coopnet_", never past the bound.
 * The first line of the input is also routed as "METHOD URL".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const struct metrics_buf *b)
{
	const char *p = b->p ? b->p : "";

	if (b->len > b->max || strlen(p) != b->len)
		abort();
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (!nl && !b->full)
			abort(); /* a whole text ends with a newline */
		if (!nl)
			break;
		if (strncmp(p, "# HELP coopnet_", 15) && strncmp(p, "# TYPE coopnet_", 15) &&
		    strncmp(p, "coopnet_", 8))
			abort();
		for (const char *c = p; c < nl; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
		p = nl + 1;
	}
}

static void route(const uint8_t *data, size_t size)
{
	char line[256], *sp;
	size_t n = 0;

	while (n < size && n < sizeof(line) - 1 && data[n] != '\n' && data[n] != '\0') {
		line[n] = (char)data[n];
		n++;
	}
	line[n] = '\0';
	sp = strchr(line, ' ');
	if (!sp)
		return;
	*sp = '\0';
	int r = metrics_route(line, sp + 1);
	if (r != 200 && r != 404 && r != 405)
		abort();
	if (r == 200 && (strcmp(line, "GET") || strncmp(sp + 1, "/metrics", 8)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t bounds[] = { 300, METRICS_TEXT_MAX };
	json_t *snap;

	route(data, size);
	snap = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!snap)
		return 0;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		struct metrics_buf b;
		int r;

		metrics_buf_init(&b, bounds[i]);
		r = metrics_render(&b, snap);
		if (r == 0 && b.full)
			abort();
		check_text(&b);
		metrics_buf_free(&b);
	}
	json_decref(snap);
	return 0;
}
