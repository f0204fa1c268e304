/* SPDX-License-Identifier: MIT */
/* Kernel mode: the worker's sets, maps and counters, and the session elements (kernelmode.h). */
#include <arpa/inet.h>

#include "kmode_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "nftbatch.h"

const char *const kmode_set_names[KS__COUNT] = {"ids",       "ok",         "keys",
						"prev",      "drop_noid",  "drop_wrong",
						"drop_other", "svc"};

static const struct {
	const char *name;
	enum nfq_reason reason;
} counters[] = {
	/* embedded and checked_ok come from the elements of ids and ok (kmstats.c, totals);
	 * this one counts only the segments accepted with a previous ID (renewal grace) */
	{"checked_prev", R_CHECKED_OK},
	{"passed", R_PASSED},
	{"dropped_no_id", R_DROP_NO_ID},
	{"dropped_wrong_id", R_DROP_WRONG_ID},
	{"dropped_unknown_flow", R_DROP_UNKNOWN_FLOW},
	{"dropped_urgent", R_DROP_URGENT},
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint32_t drop_set_size = KMODE_DROP_SET_SIZE;

void kmode_drop_set_size(uint32_t n)
{
	drop_set_size = n;
}

unsigned kmode_nregs(int family)
{
	return family == NFPROTO_IPV4 ? 1 : 4;
}

uint32_t kmode_set_id(int family, enum kset k)
{
	return (family == NFPROTO_IPV4 ? 1 : 11) + (uint32_t)k;
}

uint32_t kmode_key_len(int family, enum kset k)
{
	if (k == KS_SVC) /* service . port */
		return (kmode_nregs(family) + 1) * 4;
	return (2 * kmode_nregs(family) + (k == KS_OK || k == KS_PREV ? 2 : 1)) * 4;
}

int kmode_add_objects(struct nftb *b, const struct nfq_config *cfg, int family)
{
	size_t i;
	int k;

	for (k = 0; k < KS__COUNT; k++) {
		struct nftnl_set *s = nftb_set_new(family, cfg->rule_table, kmode_set_names[k],
						   kmode_set_id(family, (enum kset)k));

		if (!s)
			return -1;
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 0);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, kmode_key_len(family, (enum kset)k));
		if (k == KS_IDS) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, 0);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2);
		}
		if (k == KS_PREV) /* each element expires on its own (the renewal grace) */
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
		if (kmode_drop_reason((enum kset)k) >= 0) {
			/* filled from the packet path too: the drop chains' dynset makes a
			 * session's element at its first drop of the reason (kmrules.c) */
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_EVAL);
			nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, drop_set_size);
		}
		/* a counter per element (kmstats.c) */
		if (k == KS_IDS || k == KS_OK || kmode_drop_reason((enum kset)k) >= 0) {
			struct nftnl_expr *x = nftnl_expr_alloc("counter");

			if (!x) {
				nftnl_set_free(s);
				return -1;
			}
			nftnl_set_add_expr(s, x);
		}
		if (nftb_add_set_msg(b, s, NFT_MSG_NEWSET, family, NLM_F_CREATE) < 0)
			return -1;
	}
	for (i = 0; i < NCOUNTERS; i++) {
		struct nftnl_obj *o = nftnl_obj_alloc();

		if (!o)
			return -1;
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, cfg->rule_table);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, counters[i].name);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (uint32_t)family);
		if (nftb_add_obj(b, o, family) < 0)
			return -1;
	}
	return kmode_add_drop_chains(b, cfg, family);
}

/* The key bytes of e: each field in its own 4-byte register slot. */
uint32_t kmode_make_key(uint8_t *key, int family, const struct sess_entry *e, bool with_id)
{
	uint32_t na = kmode_nregs(family), alen = na * 4;
	uint16_t port = htons(e->key.port), id = htons(e->id);

	memset(key, 0, 64);
	memcpy(key, e->key.client, alen);
	memcpy(key + alen, e->key.service, alen);
	memcpy(key + 2 * alen, &port, 2);
	if (with_id)
		memcpy(key + 2 * alen + 4, &id, 2);
	return (2 * na + (with_id ? 2 : 1)) * 4;
}

struct nftnl_set *kmode_set_for(const struct nfq_config *cfg, int family, enum kset k)
{
	return nftb_set_new(family, cfg->rule_table, kmode_set_names[k], 0);
}

uint64_t kmode_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t kmode_prev_left_ms(const struct sess_entry *e, uint64_t now_ms)
{
	uint64_t until = (uint64_t)e->prev_until * 1000;

	return e->prev_id && until > now_ms ? until - now_ms : 0;
}

bool kmode_wants(const struct sess_entry *e, enum kset k, uint64_t now_ms)
{
	int why = kmode_drop_reason(k);

	return !(e->expires && e->expires <= now_ms / 1000) &&
	       (k != KS_PREV || kmode_prev_left_ms(e, now_ms)) && (why < 0 || e->drops[why] > 0);
}

uint32_t kmode_elem_key(uint8_t *key, int family, enum kset k, const struct sess_entry *e)
{
	struct sess_entry p = *e;

	if (k == KS_PREV)
		p.id = e->prev_id;
	return kmode_make_key(key, family, &p, k == KS_OK || k == KS_PREV);
}

struct nftnl_set_elem *kmode_elem(const struct nfq_config *cfg, int family, enum kset k,
				  const struct sess_entry *e, bool add, uint64_t now_ms)
{
	int dir = kmode_dir(cfg, k), why = kmode_drop_reason(k);
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	uint8_t key[64];
	uint16_t id = htons(e->id);

	if (!el)
		return NULL;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, kmode_elem_key(key, family, k, e));
	if (k == KS_IDS && add)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, &id, 2);
	if (k == KS_PREV && add)
		nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, kmode_prev_left_ms(e, now_ms));
	if ((dir >= 0 || why >= 0) && add) { /* the session's counts so far (kmstats.c) */
		uint64_t packets = dir >= 0 ? e->segs[dir] : e->drops[why];
		uint64_t bytes = dir >= 0 ? e->bytes[dir] : 0;
		struct nftnl_expr *x;

		/* A count of zero needs no counter of its own: the set's (kmode_add_objects)
		 * gives the element one at zero. One of its own costs the kernel a parse and an
		 * expression-type lookup per element: 60,000 new sessions after a worker's
		 * restart (docs/performance.md, "Packed session-sync"). */
		if (!packets && !bytes)
			return el;
		x = nftb_counter_at(packets, bytes);
		if (!x) {
			nftnl_set_elem_free(el);
			return NULL;
		}
		nftnl_set_elem_add_expr(el, x);
	}
	return el;
}

int kmode_elem_parse(int family, enum kset k, const struct nftb_elem *el, struct sess_key *key,
		     cn_id_t *id)
{
	uint32_t alen = kmode_nregs(family) * 4;
	const uint8_t *p = el->key;
	uint16_t port, v = 0;

	if (k >= KS_SVC || el->klen != kmode_key_len(family, k) ||
	    (k == KS_IDS && (!el->data || el->dlen != 2))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&port, p + 2 * alen, 2);
	if (k == KS_OK || k == KS_PREV)
		memcpy(&v, p + 2 * alen + 4, 2);
	else if (k == KS_IDS)
		memcpy(&v, el->data, 2);
	sess_key_make(key, family == NFPROTO_IPV4 ? AF_INET : AF_INET6, p, p + alen, ntohs(port));
	*id = ntohs(v);
	return 0;
}

static const struct sess_entry *nth(const struct sess_list *a, const struct sess_list *b,
				    size_t i)
{
	return i < a->n ? &a->v[i] : &b->v[i - a->n];
}

struct eff_lists {
	const struct sess_list *a, *b;
};

/* By key, then by position (so that the last of a run of equal keys is the one that wins). */
static int eff_cmp(const void *x, const void *y, void *arg)
{
	const struct eff_lists *l = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = memcmp(&nth(l->a, l->b, i)->key, &nth(l->a, l->b, j)->key,
		       sizeof(struct sess_key));

	return c ? c : (i > j) - (i < j);
}

bool *kmode_effective(const struct sess_list *a, const struct sess_list *b)
{
	const struct eff_lists l = { .a = a, .b = b };
	size_t n = a->n + b->n, j;
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	bool *keep = calloc(n ? n : 1, sizeof(*keep));

	if (!idx || !keep) {
		free(idx);
		free(keep);
		return NULL;
	}
	for (j = 0; j < n; j++)
		idx[j] = j;
	qsort_r(idx, n, sizeof(*idx), eff_cmp, (void *)&l);
	for (j = 0; j < n; j++)
		keep[idx[j]] = j + 1 == n || memcmp(&nth(a, b, idx[j])->key,
						    &nth(a, b, idx[j + 1])->key,
						    sizeof(struct sess_key)) != 0;
	free(idx);
	return keep;
}

int kmode_add_elements(struct nftb *b, const struct nfq_config *cfg, int family,
		       const struct sess_list *a, const struct sess_list *b2)
{
	int af = family == NFPROTO_IPV4 ? AF_INET : AF_INET6, k, rc;
	struct kmd_ops d = {.now_ms = kmode_now_ms()};
	bool *keep = kmode_effective(a, b2);

	rc = keep ? 0 : -1;
	for (k = 0; k < KS_SVC && rc == 0; k++) {
		struct nftnl_set *flush = kmode_set_for(cfg, family, (enum kset)k);

		/* DELSETELEM without elements flushes the set, in this transaction */
		if (!flush || nftb_add_set_msg(b, flush, NFT_MSG_DELSETELEM, family, 0) < 0)
			rc = -1;
	}
	for (size_t i = 0; i < a->n + b2->n && rc == 0; i++) {
		const struct sess_entry *e = nth(a, b2, i);

		if (e->key.family != af || !keep[i])
			continue;
		for (k = 0; k < KS_SVC && rc == 0; k++)
			if (kmode_wants(e, (enum kset)k, d.now_ms))
				rc = kmd_put(b, cfg, &d, (enum kset)k, e, 1);
	}
	if (rc == 0)
		rc = kmd_flush(b, &d);
	if (rc == 0)
		kmode_totals_stage(&d);
	kmd_free(&d);
	free(keep);
	return rc;
}

void kmode_counters(const struct nfq_config *cfg, uint64_t c[R__COUNT])
{
	const char *names[NCOUNTERS];
	uint64_t v[NCOUNTERS] = {0};
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		names[i] = counters[i].name;
	if (nftb_read_counters(NFPROTO_IPV4, cfg->rule_table, names, NCOUNTERS, v) < 0 ||
	    nftb_read_counters(NFPROTO_IPV6, cfg->rule_table, names, NCOUNTERS, v) < 0)
		log_warn("kernel mode: reading the counters");
	for (i = 0; i < NCOUNTERS; i++)
		c[counters[i].reason] += v[i];
	kmode_totals(&v[0], &v[1]);
	c[R_EMBEDDED] += v[0];
	c[R_CHECKED_OK] += v[1];
}

