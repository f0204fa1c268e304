/* SPDX-License-Identifier: MIT */
/* Kernel mode: the copy of the rule file's service set and the nftables events (kernelmode.h). */
#include <arpa/inet.h>

#include "kmode_int.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "nftbatch.h"
#include "grow.h"

/* ---- the copy of the rule file's service set (@svc) ----
 *
 * In kernel mode the rule file (nft-rules/ *-kernel.nft) marks nothing: its guard looks the
 * segment up in its own sets. The worker's chain must know the same services (a supervisor's
 * session miss and "passed", a provider's unknown flow), and nftables cannot look up a set of
 * another table, so the worker keeps a copy of inet coopnet overlay4/6 (supervisor) or
 * protected4/6 (provider) in its set @svc: read at start, again on every nftables event that
 * names table inet coopnet (multicast group NFNLGRP_NFTABLES), and every 5 s as a safety net.
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

int kmode_events_open(struct kmode_svc *st)
{
	int fd;

	st->ev_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!st->ev_nl || mnl_socket_bind(st->ev_nl, 1U << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		log_warn("kernel mode: nftables event socket");
		if (st->ev_nl)
			mnl_socket_close(st->ev_nl);
		st->ev_nl = NULL;
		return -1;
	}
	fd = mnl_socket_get_fd(st->ev_nl);
	/* a burst of events must not be lost silently: ENOBUFS then means "resync" */
	{
		int sz = 1 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	}
	return fd;
}

/* Does the event name table inet coopnet? Attribute 1 is the table name in the messages of
 * tables, chains, rules, sets and element lists (NFTA_*_TABLE / NFTA_TABLE_NAME). */
static bool about_rule_table(const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	unsigned type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) || g->nfgen_family != NFPROTO_INET)
		return false;
	if (type != NFT_MSG_NEWTABLE && type != NFT_MSG_DELTABLE && type != NFT_MSG_NEWSET &&
	    type != NFT_MSG_DELSET && type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != 1)
			continue;
		return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		       !strcmp(mnl_attr_get_str(a), RULE_TABLE);
	}
	return false;
}

bool kmode_events_read(struct kmode_svc *st)
{
	char buf[32768];
	bool relevant = false;
	int rounds;

	if (!st->ev_nl)
		return false;
	for (rounds = 0; rounds < 1024; rounds++) {
		ssize_t n = mnl_socket_recvfrom(st->ev_nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS)
				relevant = true; /* events lost: resync */
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("kernel mode: nftables events");
			if (errno != ENOBUFS && errno != EINTR)
				break;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (about_rule_table(nlh))
				relevant = true;
	}
	return relevant;
}

static int events_membership(struct kmode_svc *st, int op)
{
	int grp = NFNLGRP_NFTABLES;

	return setsockopt(mnl_socket_get_fd(st->ev_nl), SOL_NETLINK, op, &grp, sizeof(grp));
}

void kmode_events_pause(struct kmode_svc *st)
{
	if (!st->ev_nl || st->paused)
		return;
	if (events_membership(st, NETLINK_DROP_MEMBERSHIP) < 0) {
		log_warn("kernel mode: leaving the nftables event group"); /* then: notified, slower */
		return;
	}
	st->paused = true;
	st->pauses++;
}

int kmode_events_resume(struct kmode_svc *st, const struct nfq_config *cfg)
{
	if (!st->ev_nl || !st->paused)
		return 0;
	/* join first, then read the rule file's set: a change after the join comes as an
	 * event, one before it is in what the read finds */
	if (events_membership(st, NETLINK_ADD_MEMBERSHIP) < 0) {
		log_warn("kernel mode: joining the nftables event group again (the service copy "
			 "now follows the rule file every 5 s only)");
		return -1;
	}
	st->paused = false;
	(void)kmode_events_read(st); /* what was queued before the pause: the read below covers it */
	return kmode_svc_sync(st, cfg);
}

void kmode_events_close(struct kmode_svc *st)
{
	if (st->ev_nl)
		mnl_socket_close(st->ev_nl);
	st->ev_nl = NULL;
	free(st->last[0].keys);
	free(st->last[1].keys);
	memset(st->last, 0, sizeof(st->last));
	st->have_last[0] = st->have_last[1] = false;
	st->paused = false;
}
