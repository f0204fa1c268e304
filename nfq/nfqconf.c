/* SPDX-License-Identifier: MIT */
#include "nfqconf.h"
#include "held.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>


JCONF_SCHEMA_DECLARE(nfq);

static const char *const hook_names[] = {
	[NF_INET_PRE_ROUTING] = "prerouting",
	[NF_INET_LOCAL_IN] = "input",
	[NF_INET_FORWARD] = "forward",
	[NF_INET_LOCAL_OUT] = "output",
	[NF_INET_POST_ROUTING] = "postrouting",
};

const char *nfq_hook_name(int hook)
{
	return hook >= 0 && hook <= NF_INET_POST_ROUTING ? hook_names[hook] : "?";
}

const char *nfq_role_name(enum nfq_role r)
{
	return r == NFQ_ROLE_SUPERVISOR ? "supervisor" : "provider";
}

const char *nfq_mode_name(enum nfq_mode m)
{
	return m == MODE_QUEUE ? "queue" : "kernel";
}

struct jconf_schema *nfq_config_schema(struct jconf_error *err)
{
	return jconf_schema_parse("nfq.schema.json", coopnet_schema_nfq, coopnet_schema_nfq_len,
				  err);
}

static void defaults(struct nfq_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = MODE_QUEUE;
	c->queue_num = 0;
	c->queue_count = 1;
	c->queue_maxlen = 4096;
	c->fanout = true;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s/nfq.sock", COOPNET_RUNDIR);
	c->miss_hold_ms = 1000;
	c->rule_install = true;
	snprintf(c->rule_table, sizeof(c->rule_table), "coopnet_nfq");
	c->rule_priority = -140;
	c->mark_queue = NFQ_DEFAULT_MARK_QUEUE;
	c->mark_done = NFQ_DEFAULT_MARK_DONE;
	c->mark_write = NFQ_DEFAULT_MARK_WRITE;
}

/* Each parse_X takes the JSON value, checks it (the schema already checked its type where a
 * schema is in force) and quotes it in the error. */
static int parse_bool(bool *out, const json_t *v, const struct jconf_doc *d,
		      struct jconf_error *err, const char *key)
{
	if (!json_is_boolean(v)) {
		jconf_errorf(err, d, v, "\"%s\" must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int parse_int(long long *out, const json_t *v, long long min, long long max,
		     const struct jconf_doc *d, struct jconf_error *err, const char *key)
{
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		jconf_errorf(err, d, v, "\"%s\" must be an integer from %lld to %lld", key, min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int parse_addr(int *family, uint8_t *out, const json_t *v, const struct jconf_doc *d,
		      struct jconf_error *err)
{
	const char *s = json_string_value(v);

	if (s && inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (s && inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	jconf_errorf(err, d, v, "\"%s\" is not an IPv4 or IPv6 address", s ? s : "(not a string)");
	return -1;
}

static int parse_services(struct nfq_config *c, const json_t *arr, const struct jconf_doc *d,
			  struct jconf_error *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		jconf_errorf(err, d, arr, "\"services\" must be an array");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		uint8_t addr[16] = {0};
		long long port;
		int family;

		if (!json_is_object(v)) {
			jconf_errorf(err, d, v, "a service is an object {\"address\", \"port\"}");
			return -1;
		}
		if (parse_addr(&family, addr, json_object_get(v, "address"), d, err) < 0 ||
		    parse_int(&port, json_object_get(v, "port"), 1, 65535, d, err, "port") < 0)
			return -1;
		if (svc_list_add(&c->services, family, addr, (uint16_t)port) < 0) {
			jconf_errorf(err, d, v, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int parse_sessions(struct nfq_config *c, const json_t *arr, const struct jconf_doc *d,
			  struct jconf_error *err)
{
	char msg[256];
	size_t i, before;
	json_t *v;

	if (!json_is_array(arr)) {
		jconf_errorf(err, d, arr, "\"sessions\" must be an array");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct cn_session s;

		if (cn_session_from_json(&s, v, msg, sizeof(msg)) < 0) {
			jconf_errorf(err, d, v, "session %zu: %s", i, msg);
			return -1;
		}
		before = c->sessions.n;
		if (sess_list_put(&c->sessions, &s, SESS_SRC_CONFIG) < 0) {
			jconf_errorf(err, d, v, "out of memory");
			return -1;
		}
		if (c->sessions.n == before) {
			jconf_errorf(err, d, v, "session %zu: duplicate of an earlier session "
				     "(same client, service and port): remove one", i);
			return -1;
		}
	}
	return 0;
}

static int parse_hooks(struct nfq_config *c, const json_t *arr, const struct jconf_doc *d,
		       struct jconf_error *err)
{
	size_t i;
	json_t *v;
	int h;

	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > NFQ_HOOK_MAX) {
		jconf_errorf(err, d, arr, "\"hooks\" must be an array of 1 to %d hook names",
			     NFQ_HOOK_MAX);
		return -1;
	}
	c->nhooks = 0;
	json_array_foreach(arr, i, v) {
		const char *name = json_string_value(v);

		for (h = 0; h <= NF_INET_POST_ROUTING; h++)
			if (name && !strcmp(name, hook_names[h]))
				break;
		if (h > NF_INET_POST_ROUTING) {
			jconf_errorf(err, d, v, "hook \"%s\" is not one of prerouting, input, "
				     "forward, output, postrouting", name ? name : "(not a string)");
			return -1;
		}
		c->hooks[c->nhooks++] = h;
	}
	return 0;
}

static int parse_queue(struct nfq_config *c, const json_t *o, const struct jconf_doc *d,
		       struct jconf_error *err)
{
	const char *key;
	long long n;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "num")) {
			if (parse_int(&n, v, 0, 65535, d, err, key) < 0)
				return -1;
			c->queue_num = (uint16_t)n;
		} else if (!strcmp(key, "count")) {
			if (parse_int(&n, v, 1, 64, d, err, key) < 0)
				return -1;
			c->queue_count = (uint16_t)n;
		} else if (!strcmp(key, "maxlen")) {
			if (parse_int(&n, v, 16, 1048576, d, err, key) < 0)
				return -1;
			c->queue_maxlen = (uint32_t)n;
		} else if (!strcmp(key, "fanout")) {
			if (parse_bool(&c->fanout, v, d, err, key) < 0)
				return -1;
		} else {
			jconf_errorf(err, d, v, "unknown key \"queue.%s\"", key);
			return -1;
		}
	}
	if ((unsigned)c->queue_num + c->queue_count > 65536) {
		jconf_errorf(err, d, o, "queues %u to %u run past 65535", c->queue_num,
			     c->queue_num + c->queue_count - 1);
		return -1;
	}
	return 0;
}

static int parse_rule(struct nfq_config *c, const json_t *o, const struct jconf_doc *d,
		      struct jconf_error *err)
{
	const char *key;
	long long n;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "install")) {
			if (parse_bool(&c->rule_install, v, d, err, key) < 0)
				return -1;
		} else if (!strcmp(key, "table")) {
			const char *t = json_string_value(v);
			if (!t || !*t || strlen(t) >= sizeof(c->rule_table)) {
				jconf_errorf(err, d, v, "\"table\" must be a name of 1 to %zu characters",
					     sizeof(c->rule_table) - 1);
				return -1;
			}
			snprintf(c->rule_table, sizeof(c->rule_table), "%s", t);
		} else if (!strcmp(key, "priority")) {
			if (parse_int(&n, v, -400, 400, d, err, key) < 0)
				return -1;
			c->rule_priority = (int)n;
		} else if (!strcmp(key, "hooks")) {
			if (parse_hooks(c, v, d, err) < 0)
				return -1;
		} else if (!strcmp(key, "mark_queue") || !strcmp(key, "mark_done") ||
			   !strcmp(key, "mark_write")) {
			if (parse_int(&n, v, 1, 0xffffffffLL, d, err, key) < 0)
				return -1;
			if (key[5] == 'q')
				c->mark_queue = (uint32_t)n;
			else if (key[5] == 'd')
				c->mark_done = (uint32_t)n;
			else
				c->mark_write = (uint32_t)n;
		} else {
			jconf_errorf(err, d, v, "unknown key \"queue_rule.%s\"", key);
			return -1;
		}
	}
	if ((c->mark_queue & c->mark_done) || (c->mark_write & (c->mark_queue | c->mark_done)) ||
	    ((c->mark_queue | c->mark_done | c->mark_write) & NFQ_MARK_ID_MASK)) {
		jconf_errorf(err, d, o, "\"mark_queue\" 0x%x, \"mark_done\" 0x%x and \"mark_write\" "
			     "0x%x must use separate bits above 0xffff (the low 16 bits carry the ID)",
			     c->mark_queue, c->mark_done, c->mark_write);
		return -1;
	}
	return 0;
}

static int parse_log(struct nfq_config *c, const json_t *o, const struct jconf_doc *d,
		     struct jconf_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "syslog")) {
			if (parse_bool(&c->log_syslog, v, d, err, key) < 0)
				return -1;
		} else if (!strcmp(key, "verbose")) {
			if (parse_bool(&c->log_verbose, v, d, err, key) < 0)
				return -1;
		} else {
			jconf_errorf(err, d, v, "unknown key \"log.%s\"", key);
			return -1;
		}
	}
	return 0;
}

static int parse_enum(int *out, const json_t *v, const char *a, const char *b,
		      const struct jconf_doc *d, struct jconf_error *err, const char *key)
{
	const char *s = json_string_value(v);

	if (s && !strcmp(s, a))
		*out = 0;
	else if (s && !strcmp(s, b))
		*out = 1;
	else {
		jconf_errorf(err, d, v, "\"%s\" must be \"%s\" or \"%s\"", key, a, b);
		return -1;
	}
	return 0;
}

static int parse_key(struct nfq_config *c, const char *key, const json_t *v,
		     const struct jconf_doc *d, struct jconf_error *err)
{
	long long n;
	int e;

	if (!strcmp(key, "role")) {
		if (parse_enum(&e, v, "supervisor", "provider", d, err, key) < 0)
			return -1;
		c->role = e ? NFQ_ROLE_PROVIDER : NFQ_ROLE_SUPERVISOR;
	} else if (!strcmp(key, "mode")) {
		if (parse_enum(&e, v, "queue", "kernel", d, err, key) < 0)
			return -1;
		c->mode = e ? MODE_KERNEL : MODE_QUEUE;
	} else if (!strcmp(key, "queue")) {
		return json_is_object(v) ? parse_queue(c, v, d, err) :
		       (jconf_errorf(err, d, v, "\"queue\" must be an object"), -1);
	} else if (!strcmp(key, "services")) {
		return parse_services(c, v, d, err);
	} else if (!strcmp(key, "sessions")) {
		return parse_sessions(c, v, d, err);
	} else if (!strcmp(key, "control_socket")) {
		const char *p = json_string_value(v);
		if (!p || *p != '/' || strlen(p) >= sizeof(c->control_socket)) {
			jconf_errorf(err, d, v, "\"control_socket\" must be an absolute path of at "
				     "most %zu characters", sizeof(c->control_socket) - 1);
			return -1;
		}
		snprintf(c->control_socket, sizeof(c->control_socket), "%s", p);
	} else if (!strcmp(key, "fail_open")) {
		return parse_bool(&c->fail_open, v, d, err, key);
	} else if (!strcmp(key, "strip")) {
		return parse_bool(&c->strip, v, d, err, key);
	} else if (!strcmp(key, "rewrite")) {
		if (parse_enum(&e, v, "mark", "payload", d, err, key) < 0)
			return -1;
		c->rewrite_payload = e == 1;
	} else if (!strcmp(key, "miss_hold_ms")) {
		if (parse_int(&n, v, 0, 10000, d, err, key) < 0)
			return -1;
		c->miss_hold_ms = (uint32_t)n;
	} else if (!strcmp(key, "miss_hold_max")) {
		if (parse_int(&n, v, 1, HELD_MAX_CAP, d, err, key) < 0)
			return -1;
		c->miss_hold_max = (uint32_t)n;
	} else if (!strcmp(key, "queue_rule")) {
		return json_is_object(v) ? parse_rule(c, v, d, err) :
		       (jconf_errorf(err, d, v, "\"queue_rule\" must be an object"), -1);
	} else if (!strcmp(key, "log")) {
		return json_is_object(v) ? parse_log(c, v, d, err) :
		       (jconf_errorf(err, d, v, "\"log\" must be an object"), -1);
	} else {
		jconf_errorf(err, d, v, "unknown key \"%s\"", key);
		return -1;
	}
	return 0;
}

/* A held SYN stays in the kernel's queue until its verdict: at most half the queue may be held
 * SYNs, the rest is for the traffic. Default: MISS_HOLD_MAX, or half the queue if less. */
static int hold_max(struct nfq_config *c, const struct jconf_doc *d, const json_t *v,
		    struct jconf_error *err)
{
	if (!v) {
		c->miss_hold_max = c->queue_maxlen / 2 < MISS_HOLD_MAX ? c->queue_maxlen / 2 :
									MISS_HOLD_MAX;
		return 0;
	}
	if (c->miss_hold_max > c->queue_maxlen / 2) {
		jconf_errorf(err, d, v, "\"miss_hold_max\" %u is more than half of \"queue.maxlen\" "
			     "(%u): raise queue.maxlen to at least %u, or hold fewer SYNs",
			     c->miss_hold_max, c->queue_maxlen, c->miss_hold_max * 2);
		return -1;
	}
	return 0;
}

static int convert(struct nfq_config *c, const struct jconf_doc *d, struct jconf_error *err)
{
	json_t *root = jconf_root(d), *v;
	const char *key;

	defaults(c);
	if (!json_is_object(root)) {
		jconf_errorf(err, d, root, "the configuration must be a JSON object");
		return -1;
	}
	if (!json_object_get(root, "role")) {
		jconf_errorf(err, d, root, "\"role\" is required: \"supervisor\" or \"provider\"");
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (parse_key(c, key, v, d, err) < 0)
			return -1;
	}
	if (hold_max(c, d, json_object_get(root, "miss_hold_max"), err) < 0)
		return -1;
	if (c->nhooks == 0) {
		/* the SS routes between clients and providers; the SP hosts the services */
		if (c->role == NFQ_ROLE_SUPERVISOR) {
			c->hooks[c->nhooks++] = NF_INET_FORWARD;
		} else {
			c->hooks[c->nhooks++] = NF_INET_LOCAL_IN;
			c->hooks[c->nhooks++] = NF_INET_LOCAL_OUT;
		}
	}
	return 0;
}

static int finish(struct nfq_config *cfg, struct jconf_doc *doc, struct jconf_error *err)
{
	int r;

	if (!doc) {
		memset(cfg, 0, sizeof(*cfg));
		return -1;
	}
	r = convert(cfg, doc, err);
	jconf_free(doc);
	if (r < 0)
		nfq_config_clear(cfg);
	return r;
}

int nfq_config_load(struct nfq_config *cfg, const char *path, const struct jconf_schema *s,
		    struct jconf_error *err)
{
	return finish(cfg, jconf_load_file(path, s, err), err);
}

int nfq_config_load_buffer(struct nfq_config *cfg, const char *name, const char *text,
			   size_t len, const struct jconf_schema *s, struct jconf_error *err)
{
	return finish(cfg, jconf_load_buffer(name, text, len, s, err), err);
}

void nfq_config_clear(struct nfq_config *cfg)
{
	svc_list_clear(&cfg->services);
	sess_list_clear(&cfg->sessions);
	memset(cfg, 0, sizeof(*cfg));
}

/* Settings that need a restart; everything else (sessions, services) applies live. */
const char *nfq_config_restart_needed(const struct nfq_config *a, const struct nfq_config *b)
{
	if (a->role != b->role)
		return "role";
	if (a->mode != b->mode)
		return "mode";
	if (a->queue_num != b->queue_num || a->queue_count != b->queue_count ||
	    a->queue_maxlen != b->queue_maxlen || a->fanout != b->fanout)
		return "queue";
	if (a->log_syslog != b->log_syslog)
		return "log.syslog";
	if (strcmp(a->control_socket, b->control_socket))
		return "control_socket";
	if (a->fail_open != b->fail_open)
		return "fail_open";
	if (a->strip != b->strip)
		return "strip";
	if (a->rewrite_payload != b->rewrite_payload || a->mark_write != b->mark_write)
		return "rewrite";
	if (a->miss_hold_ms != b->miss_hold_ms)
		return "miss_hold_ms";
	if (a->miss_hold_max != b->miss_hold_max)
		return "miss_hold_max";
	if (a->rule_install != b->rule_install || strcmp(a->rule_table, b->rule_table) ||
	    a->rule_priority != b->rule_priority || a->nhooks != b->nhooks ||
	    memcmp(a->hooks, b->hooks, sizeof(a->hooks)) || a->mark_queue != b->mark_queue ||
	    a->mark_done != b->mark_done)
		return "queue_rule";
	return NULL;
}
