/* SPDX-License-Identifier: MIT */
/* libFuzzer: arbitrary documents against the test schema; also every position lookup. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jconf.h"

JCONF_SCHEMA_DECLARE(test);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jconf_schema *schema;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jconf_error err, errs[4];
	struct jconf_doc *doc;
	char buf[1024];
	int line, col;

	if (schema == NULL) {
		schema = jconf_schema_parse("test.schema.json", coopnet_schema_test,
					    coopnet_schema_test_len, &err);
		if (schema == NULL)
			abort();
	}
	doc = jconf_load_buffer("fuzz.json", (const char *)data, size, schema, &err);
	jconf_error_str(&err, buf, sizeof(buf));
	jconf_free(doc);
	/* parse only, then all errors, and positions of every member */
	doc = jconf_load_buffer("fuzz.json", (const char *)data, size, NULL, &err);
	if (doc == NULL)
		return 0;
	jconf_validate(doc, schema, errs, 4);
	if (json_is_object(jconf_root(doc))) {
		const char *key;
		json_t *v;

		json_object_foreach(jconf_root(doc), key, v) {
			if (jconf_member_position(doc, jconf_root(doc), key, &line, &col) != 0)
				abort();
			jconf_path(doc, v, buf, sizeof(buf));
		}
	}
	jconf_free(doc);
	return 0;
}
