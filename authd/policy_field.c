/* SPDX-License-Identifier: MIT */
/* The small parsers the configuration (config.c) and the policy (policy_parse.c,
 * policy_provider.c) share: parse_X(out, doc, value, err) quoting the bad value. */
#include "policy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int pol_parse_addr(struct cn_coop_addr *out, const struct jconf_doc *doc, const json_t *v,
		      uint16_t port, struct jconf_error *err)
{
	const char *text = json_string_value(v);

	if (!text || cn_coop_addr_parse(out, text) < 0) {
		jconf_errorf(err, doc, v, "\"%s\" is not an IPv4 or IPv6 address", text ? text : "");
		return -1;
	}
	out->port = port;
	return 0;
}

int pol_parse_prefix(struct pol_prefix *out, const struct jconf_doc *doc, const json_t *v,
			struct jconf_error *err)
{
	const char *text = json_string_value(v), *slash;
	char addr[INET6_ADDRSTRLEN];
	struct cn_coop_addr a;
	unsigned long len;
	char *end;
	unsigned max;

	slash = text ? strchr(text, '/') : NULL;
	if (!text || (size_t)(slash ? slash - text : (ptrdiff_t)strlen(text)) >= sizeof(addr))
		goto bad;
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash ? slash - text : (ptrdiff_t)strlen(text)),
		 text);
	if (cn_coop_addr_parse(&a, addr) < 0)
		goto bad;
	max = a.family == CN_FAM_INET ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || len > max) {
			jconf_errorf(err, doc, v, "\"%s\": prefix length must be 0 to %u", text, max);
			return -1;
		}
	}
	out->family = a.family;
	memcpy(out->addr, a.addr, sizeof(out->addr));
	out->len = (uint8_t)len;
	/* host bits set is almost always a typing error: 198.18.1.7/24 */
	for (unsigned bit = (unsigned)len; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			jconf_errorf(err, doc, v, "\"%s\": host bits set after /%lu (write the "
				     "network address)", text, len);
			return -1;
		}
	}
	return 0;
bad:
	jconf_errorf(err, doc, v, "\"%s\" is not an address or a prefix (198.18.1.0/24, "
		     "2001:db8::/64)", text ? text : "");
	return -1;
}

int pol_parse_name(char *out, size_t size, const struct jconf_doc *doc, const json_t *v,
		      struct jconf_error *err)
{
	const char *text = json_string_value(v);

	if (!text || strlen(text) >= size) {
		jconf_errorf(err, doc, v, "\"%s\" is longer than %zu characters", text ? text : "",
			     size - 1);
		return -1;
	}
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

int pol_parse_hexkey(uint8_t out[CN_KEY_LEN], const struct jconf_doc *doc, const json_t *v,
			struct jconf_error *err)
{
	const char *text = json_string_value(v);
	size_t bin_len = 0;

	if (!text || strlen(text) != 2 * CN_KEY_LEN ||
	    sodium_hex2bin(out, CN_KEY_LEN, text, strlen(text), NULL, &bin_len, NULL) != 0 ||
	    bin_len != CN_KEY_LEN) {
		/* never quote a key */
		jconf_errorf(err, doc, v, "a key must be %d hexadecimal digits", 2 * CN_KEY_LEN);
		return -1;
	}
	return 0;
}

uint16_t pol_get_port(const json_t *obj, uint16_t def)
{
	json_t *p = json_object_get(obj, "port");

	return p ? (uint16_t)json_integer_value(p) : def;
}


/* Copy text into out[size]. The C code checks its own bounds (the schema is for messages):
 * a value that does not fit is an error at its place in the document. */
int pol_copy_bounded(char *out, size_t size, const char *text, const struct jconf_doc *doc,
			const json_t *where, const char *what, struct jconf_error *err)
{
	size_t n = text ? strlen(text) : 0;

	if (n >= size) {
		jconf_errorf(err, doc, where, "%s is %zu characters long: at most %zu", what, n,
			     size - 1);
		return -1;
	}
	memcpy(out, text ? text : "", n + 1);
	return 0;
}

/* An optional string member key of root, else def. */
int pol_copy_opt(char *out, size_t size, const json_t *root, const char *key, const char *def,
		    const struct jconf_doc *doc, struct jconf_error *err)
{
	const json_t *v = json_object_get(root, key);
	const char *s = json_string_value(v);
	char what[64];

	snprintf(what, sizeof(what), "\"%s\"", key);
	return pol_copy_bounded(out, size, s ? s : def, doc, v, what, err);
}

static bool check_schema = true;

void policy_check_schema(bool on)
{
	check_schema = on;
}

struct jconf_schema *pol_schema(const char *name, const char *text, size_t len,
				   struct jconf_error *err)
{
	if (!check_schema)
		return jconf_schema_parse(name, "{}", 2, err); /* accepts every document */
	return jconf_schema_parse(name, text, len, err);
}

void pol_file_error(struct jconf_error *err, const char *path, const char *fmt, ...)
{
	size_t n = strlen(path);
	va_list ap;

	memset(err, 0, sizeof(*err));
	/* keep the end of a long path: it names the file */
	if (n >= sizeof(err->file))
		path += n - (sizeof(err->file) - 1);
	memcpy(err->file, path, strlen(path) + 1);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

