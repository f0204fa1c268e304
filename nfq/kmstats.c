/* SPDX-License-Identifier: MIT */
/*
 * Kernel mode's per-session counters (kernelmode.h, docs/nfq.md "Per-session counters"). The
 * sets ids and ok carry a counter per element (a set expression: the kernel adds one to each
 * element and counts at every lookup that matches), so each session has, per direction, the
 * segments and bytes of the rule that decided them:
 *   provider:   ok (client -> service, checked) is direction 0, ids (replies, ID written) 1;
 *   supervisor: ids (client -> service, ID written) is direction 0, ok (replies) 1.
 * kmode_stats_refresh dumps both sets and writes the figures into the table's entries (the
 * queue threads never count a kernel-mode session: the kernel decides its segments), which
 * the `sessions` listing shows as in queue mode. last_seen is the time of the refresh that
 * first saw a count grow (a refresh runs at most once a second, when a listing asks). When
 * a key's elements are replaced (renewal, a new expiry, a full sync), the new ones start
 * from the old ones' counts (kmode_elem_get before the batch). Not counted per session here:
 * drops (their rules look the key up in `keys`, which has no counter) and the segments
 * accepted with a previous ID during a renewal's grace (set prev has no counter).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kmode_int.h"
#include "log.h"
#include "nftbatch.h"

int kmode_dir(const struct nfq_config *cfg, enum kset k)
{
	bool sp = cfg->role == NFQ_ROLE_PROVIDER;

	if (k == KS_OK)
		return sp ? 0 : 1;
	if (k == KS_IDS)
		return sp ? 1 : 0;
	return -1;
}

struct nftnl_expr *kmode_counter_expr(uint64_t pk, uint64_t by)
{
	struct nftnl_expr *x = nftnl_expr_alloc("counter");

	if (!x)
		return NULL;
	nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_PACKETS, pk);
	nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_BYTES, by);
	return x;
}

static int ctr_cb(struct nftnl_expr *x, void *data)
{
	uint64_t *v = data;

	if (strcmp(nftnl_expr_get_str(x, NFTNL_EXPR_NAME), "counter"))
		return 0;
	v[0] = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
	v[1] = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	v[2] = 1;
	return 0;
}

/* The key of an element back into a session key (kmode_make_key's layout). */
static bool key_of(struct nftnl_set_elem *el, int family, struct sess_key *k)
{
	uint32_t len = 0, na = kmode_nregs(family), alen = na * 4;
	const uint8_t *p = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
	uint16_t port;

	if (!p || len < (2 * na + 1) * 4)
		return false;
	memcpy(&port, p + 2 * alen, 2);
	sess_key_make(k, family == NFPROTO_IPV4 ? AF_INET : AF_INET6, p, p + alen, ntohs(port));
	return true;
}

struct refresh {
	struct sess_table *t;
	int family, dir;
	uint32_t now;
	size_t seen;
};

/* One element of a dump: its counter into its session's entry. */
static int elem_cb(struct nftnl_set_elem *el, void *data)
{
	struct refresh *r = data;
	struct tbl_entry *x;
	struct sess_key k;
	uint64_t v[3] = {0, 0, 0};

	if (!key_of(el, r->family, &k))
		return 0;
	nftnl_set_elem_expr_foreach(el, ctr_cb, v);
	x = (struct tbl_entry *)tbl_lookup(r->t, &k); /* the main thread owns the counters here */
	if (!v[2] || !x)
		return 0;
	r->seen++;
	if (v[0] > atomic_load_explicit(&x->segs[r->dir], memory_order_relaxed))
		atomic_store_explicit(&x->last_seen, r->now, memory_order_relaxed);
	atomic_store_explicit(&x->segs[r->dir], (uint32_t)v[0], memory_order_relaxed);
	atomic_store_explicit(&x->bytes[r->dir], v[1], memory_order_relaxed);
	return 0;
}

/* Each element of a GETSETELEM answer through fn (elem_cb or one_elem). */
struct each {
	int (*fn)(struct nftnl_set_elem *el, void *data);
	void *data;
};

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct each *x = data;
	struct nftnl_set *s = nftnl_set_alloc();
	int rc = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 || nftnl_set_elem_foreach(s, x->fn, x->data) < 0)
		rc = MNL_CB_ERROR;
	nftnl_set_free(s);
	return rc;
}

/* Send the element request of set s (dump: every element; else the one in s) and run fn on
 * each element of the answers. 0, or -1 with errno (ENOENT: no such element). */
static int request(struct nftnl_set *s, int family, bool dump,
		   int (*fn)(struct nftnl_set_elem *el, void *data), void *data)
{
	static char buf[1 << 16];
	struct each x = {.fn = fn, .data = data};
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family,
						     dump ? NLM_F_DUMP : NLM_F_ACK,
						     (uint32_t)time(NULL));

	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	return nftb_query(nlh, elems_cb, &x, buf, sizeof(buf));
}

int kmode_stats_refresh(const struct nfq_config *cfg, struct sess_table *t)
{
	static const int fams[] = {NFPROTO_IPV4, NFPROTO_IPV6};
	static const enum kset sets[] = {KS_IDS, KS_OK};
	struct refresh r = {.t = t, .now = (uint32_t)time(NULL)};

	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < 2; i++) {
			struct nftnl_set *s = kmode_set_for(cfg, fams[f], sets[i]);
			int rc;

			if (!s)
				return -1;
			r.family = fams[f];
			r.dir = kmode_dir(cfg, sets[i]);
			rc = request(s, fams[f], true, elem_cb, &r);
			nftnl_set_free(s);
			if (rc < 0) {
				log_warn("kernel mode: reading the session counters of set %s",
					 kmode_set_names[sets[i]]);
				return -1;
			}
		}
	return 0;
}

static int one_elem(struct nftnl_set_elem *el, void *data)
{
	return nftnl_set_elem_expr_foreach(el, ctr_cb, data) < 0 ? -1 : 0;
}

int kmode_elem_get(const struct nfq_config *cfg, int family, enum kset k,
		   const struct sess_entry *e, uint64_t *pk, uint64_t *by)
{
	struct nftnl_set *s = kmode_set_for(cfg, family, k);
	struct nftnl_set_elem *el = s ? kmode_elem(cfg, family, k, e, false, 0) : NULL;
	uint64_t v[3] = {0, 0, 0};
	int rc;

	if (!el) {
		if (s)
			nftnl_set_free(s);
		return -1;
	}
	nftnl_set_elem_add(s, el);
	rc = request(s, family, false, one_elem, v);
	nftnl_set_free(s);
	if (rc < 0)
		return errno == ENOENT ? 1 : -1;
	*pk = v[0];
	*by = v[1];
	return v[2] ? 0 : 1;
}
