/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's JSON configuration (schemas/nfq.schema.json, docs/nfq.md): parsed into a
 * struct nfq_config with defaults filled, semantic errors reported as FILE:LINE:COLUMN.
 */
#ifndef COOPNET_NFQ_NFQCONF_H
#define COOPNET_NFQ_NFQCONF_H

#include <stdbool.h>
#include <stdint.h>

#include "jconf.h"
#include "logic.h"
#include "table.h"

enum nfq_mode { MODE_QUEUE, MODE_KERNEL };

#define NFQ_HOOK_MAX 3
#define NFQ_DEFAULT_MARK_QUEUE 0x10000000u
#define NFQ_DEFAULT_MARK_DONE  0x20000000u
#define NFQ_DEFAULT_MARK_WRITE 0x40000000u
/* Held SYNs per queue thread by default (at most half of queue.maxlen; held.h's memory). */
#define MISS_HOLD_MAX 256
#define NFQ_MARK_ID_MASK       0x0000ffffu

struct nfq_config {
	enum nfq_role role;
	enum nfq_mode mode;
	uint16_t queue_num;
	uint16_t queue_count;
	uint32_t queue_maxlen;
	bool fanout;
	struct svc_list services;
	struct sess_list sessions;       /* source SESS_SRC_CONFIG */
	char control_socket[108];
	bool fail_open;
	bool strip;
	uint32_t miss_hold_ms;
	uint32_t miss_hold_max;          /* held SYNs per queue thread (docs/nfq.md) */
	bool rule_install;
	char rule_table[33];
	int rule_priority;
	int hooks[NFQ_HOOK_MAX];         /* NF_INET_* */
	int nhooks;
	uint32_t mark_queue;
	uint32_t mark_done;
	uint32_t mark_write;             /* "write the ID in the low 16 bits" */
	bool rewrite_payload;            /* rewrite in user space and return the payload */
	bool log_syslog;
	bool log_verbose;
};

/* The compiled schema (built into the binary). NULL with err filled on failure. */
struct jconf_schema *nfq_config_schema(struct jconf_error *err);

/* Load, validate and convert. 0, or -1 with err filled. cfg is left cleared on error. */
int nfq_config_load(struct nfq_config *cfg, const char *path, const struct jconf_schema *s,
		    struct jconf_error *err);
/* Same from a buffer (tests, fuzzers). */
int nfq_config_load_buffer(struct nfq_config *cfg, const char *name, const char *text,
			   size_t len, const struct jconf_schema *s, struct jconf_error *err);
void nfq_config_clear(struct nfq_config *cfg);

const char *nfq_role_name(enum nfq_role r);
const char *nfq_mode_name(enum nfq_mode m);
const char *nfq_hook_name(int hook);

/* The first setting that differs between a and b and needs a restart (its name), or NULL
 * when b can be applied live (sessions, services, log.verbose). */
const char *nfq_config_restart_needed(const struct nfq_config *a, const struct nfq_config *b);

#endif
