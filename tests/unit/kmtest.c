/* SPDX-License-Identifier: MIT */
/* The helpers of the kernel-mode unit tests (kmtest.h). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nfqconf.h"

#include "kmtest.h"

void entry(struct sess_entry *e, int family, const char *client, const char *service,
	   uint16_t port, cn_id_t id)
{
	memset(e, 0, sizeof(*e));
	e->key.family = (uint8_t)family;
	e->key.port = port;
	assert_int_equal(inet_pton(family, client, e->key.client), 1);
	assert_int_equal(inet_pton(family, service, e->key.service), 1);
	e->id = id;
}

static const char CONFIG[] =
	"{ \"role\": \"supervisor\", \"mode\": \"kernel\", \"queue\": {\"num\": 9, \"count\": 1},\n"
	"  \"services\": [{\"address\": \"198.18.2.1\", \"port\": 80}],\n"
	"  \"sessions\": [{\"client\": \"198.18.1.2\", \"service\": \"198.18.2.1\", \"port\": 80, \"id\": \"0x1111\"}] }\n";

/* The sets ids and ok carry a counter per element (nfq/kmstats.c): `nft list` prints it after
 * each key; the tests' element checks are about keys and data, so it goes. */
static void drop_counters(char *s)
{
	static const char pre[] = " counter packets ";
	char *p;

	while ((p = strstr(s, pre))) {
		char *q = p + sizeof(pre) - 1;

		q += strspn(q, "0123456789");
		if (strncmp(q, " bytes ", 7))
			break;
		q += 7;
		q += strspn(q, "0123456789");
		memmove(p, q, strlen(q) + 1);
	}
}

int run(const char *cmd, char *out, size_t size)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;

	if (!f)
		return -1;
	if (out) {
		n = fread(out, 1, size - 1, f);
		out[n] = '\0';
		drop_counters(out);
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	return pclose(f) == 0 ? 0 : -1;
}

void load_config_text(struct nfq_config *cfg, const char *text)
{
	struct jconf_error je;
	struct jconf_schema *s = nfq_config_schema(&je);
	char eb[512];

	if (!s || nfq_config_load_buffer(cfg, "t.json", text, strlen(text), s, &je) < 0)
		fail_msg("%s", jconf_error_str(&je, eb, sizeof(eb)));
	jconf_schema_free(s);
}

void load_config(struct nfq_config *cfg)
{
	load_config_text(cfg, CONFIG);
}
