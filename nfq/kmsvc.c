/* SPDX-License-Identifier: MIT */
/* Kernel mode: the copy of the rule file's service set, following the ruleset's generation
 * (kernelmode.h). */
#include "kmode_int.h"

#include <errno.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nftbatch.h"
#include "grow.h"

/* ---- the copy of the rule file's service set (@svc) ----
 *
 * In kernel mode the rule file (nft-rules/ *-kernel.nft) marks nothing: its guard looks the
 * segment up in its own sets. The worker's chain must know the same services (a supervisor's
 * session miss and "passed", a provider's unknown flow), and nftables cannot look up a set of
 * another table, so the worker keeps a copy of inet coopnet overlay4/6 (supervisor) or
 * protected4/6 (provider) in its set @svc: read at start, again whenever the ruleset's
 * generation has changed (checked every KMODE_SVC_FOLLOW_MS), and every 5 s as a safety net.
 * Not by listening to the nftables events (NFNLGRP_NFTABLES): while any socket is in that
 * group the kernel builds a notification of every element of every batch, the parent's
 * virtual switch and the worker's own sessions included (docs/performance.md).
 * A copy that lags can only make the worker decide less: the guard, which reads the rule
 * file's set itself, then drops what the worker did not mark decided (fail closed). */

#define RULE_TABLE "coopnet"
#define SVC_MAX 65536


static const char *rule_set_name(const struct nfq_config *cfg, int family)
{
	if (cfg->role == NFQ_ROLE_SUPERVISOR)
		return family == NFPROTO_IPV4 ? "overlay4" : "overlay6";
	return family == NFPROTO_IPV4 ? "protected4" : "protected6";
}

/* One element of the rule file's set into the copy (nftb_dump_set). */
static int copy_key(const struct nftb_elem *el, void *arg)
{
	struct svc_copy *c = arg;
	uint8_t *p;

	if (el->klen != c->klen || c->n >= SVC_MAX) {
		/* another key type (the set was redefined) or too many: refuse */
		errno = EPROTO;
		return -1;
	}
	p = grow(c->keys, c->n, &c->cap, c->klen, 64);
	if (!p)
		return -1;
	c->keys = p;
	memcpy(c->keys + c->n++ * c->klen, el->key, c->klen);
	return 0;
}

static int key_cmp(const void *a, const void *b, void *klen)
{
	return memcmp(a, b, *(const uint32_t *)klen);
}

/* Dump inet coopnet <set> into c. A missing table or set: an empty copy. */
static int read_rule_set(const struct nfq_config *cfg, int family, struct svc_copy *c)
{
	memset(c, 0, sizeof(*c));
	c->klen = kmode_key_len(family, KS_SVC);
	if (nftb_dump_set(NFPROTO_INET, RULE_TABLE, rule_set_name(cfg, family), copy_key, c) < 0) {
		if (errno != ENOENT) {
			log_warn("kernel mode: reading set inet %s %s", RULE_TABLE,
				 rule_set_name(cfg, family));
			return -1;
		}
		c->n = 0; /* rule file not loaded: nothing is overlay traffic */
	}
	if (c->n > 1)
		qsort_r(c->keys, c->n, c->klen, key_cmp, &c->klen);
	c->ok = true;
	return 0;
}

bool kmode_same_copy(const struct svc_copy *a, const struct svc_copy *b)
{
	return a->n == b->n && a->klen == b->klen &&
	       (a->n == 0 || !memcmp(a->keys, b->keys, a->n * a->klen));
}

static int add_svc_elements(struct nftb *b, const struct nfq_config *cfg, int family,
			    const struct svc_copy *c)
{
	struct nftnl_set *s = kmode_set_for(cfg, family, KS_SVC);
	struct nftb_elems w;

	/* an element message without elements: every element of the set goes */
	if (!s || nftb_add_set_msg(b, s, NFT_MSG_DELSETELEM, family, 0) < 0)
		return -1;
	nftb_elems_init(&w, b, family, cfg->rule_table, kmode_set_names[KS_SVC], 0,
			NFT_MSG_NEWSETELEM);
	for (size_t i = 0; i < c->n; i++)
		nftb_elem(&w, c->keys + i * c->klen, c->klen, NULL, 0);
	return nftb_elems_end(&w);
}

int kmode_svc_sync(struct kmode_svc *st, const struct nfq_config *cfg)
{
	static const int families[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	struct svc_copy now[2] = {{0}};
	struct nftb *b = NULL;
	bool changed = false;
	int f, ret = -1;

	st->reads++;
	for (f = 0; f < 2; f++) {
		if (read_rule_set(cfg, families[f], &now[f]) < 0)
			goto out; /* keep the old copy: never empty it on a failed read */
		if (!st->have_last[f] || !kmode_same_copy(&now[f], &st->last[f]))
			changed = true;
	}
	if (!changed) {
		ret = 0;
		goto out;
	}
	b = nftb_begin();
	if (!b)
		goto out;
	for (f = 0; f < 2; f++)
		if (add_svc_elements(b, cfg, families[f], &now[f]) < 0) {
			nftb_abort(b);
			log_warnx("kernel mode: the service batch does not fit");
			goto out;
		}
	if (nftb_commit(b) < 0) {
		log_warn("kernel mode: updating the service set copy");
		goto out;
	}
	st->writes++;
	for (f = 0; f < 2; f++) {
		free(st->last[f].keys);
		st->last[f] = now[f];
		st->have_last[f] = true;
		now[f].keys = NULL;
	}
	log_debug("kernel mode: service copy %zu IPv4, %zu IPv6", st->last[0].n, st->last[1].n);
	ret = 0;
out:
	free(now[0].keys);
	free(now[1].keys);
	return ret;
}

int kmode_svc_follow(struct kmode_svc *st, const struct nfq_config *cfg)
{
	uint32_t gen;

	if (nftb_generation(&gen) < 0) {
		if (!st->gen_failing)
			log_warn("kernel mode: reading the ruleset's generation (until it works "
				 "again, the service copy follows the rule file by the 5 s safety net)");
		st->gen_failing = true;
		st->have_gen = false;
		return -1;
	}
	if (st->gen_failing)
		log_info("kernel mode: the ruleset's generation is read again");
	st->gen_failing = false;
	/* read before the sets: a change after this read is a later generation, found next */
	if (st->have_gen && gen == st->gen)
		return 0;
	if (kmode_svc_sync(st, cfg) < 0)
		return -1; /* the next check reads again */
	st->gen = gen;
	st->have_gen = true;
	return 0;
}

void kmode_svc_free(struct kmode_svc *st)
{
	free(st->last[0].keys);
	free(st->last[1].keys);
	*st = (struct kmode_svc){.have_gen = false};
}
