/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's kernel mode, the full sync (nfq/kmsync.c) and what the updates keep, against
 * the kernel as root in a private network namespace: a sync beyond one batch (60,000
 * sessions), and that elements which stay keep their counters and timeouts; each also with
 * the sync's by-key read (kmode_sync_by_key_from).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libnftnl/set.h>

#include "kmode_int.h"
#include "nftbatch.h"
#include "nfqconf.h"
#include "nftrule.h"

#include "kmtest.h"

/* The kernel's inconsistent dump, on demand (linked with --wrap=nftnl_set_elems_iter_*):
 * while inject_dups > 0, the second element of a dumped message is its first one again and
 * the real second is lost, as when a set's hash table is resized between two messages of a
 * dump. A GET's answer holds one element and is never touched. */
static int inject_dups;
static unsigned iter_pos;

struct nftnl_set_elems_iter *__real_nftnl_set_elems_iter_create(const struct nftnl_set *s);
struct nftnl_set_elem *__real_nftnl_set_elems_iter_next(struct nftnl_set_elems_iter *it);
struct nftnl_set_elems_iter *__wrap_nftnl_set_elems_iter_create(const struct nftnl_set *s);
struct nftnl_set_elem *__wrap_nftnl_set_elems_iter_next(struct nftnl_set_elems_iter *it);

struct nftnl_set_elems_iter *__wrap_nftnl_set_elems_iter_create(const struct nftnl_set *s)
{
	iter_pos = 0;
	return __real_nftnl_set_elems_iter_create(s);
}

struct nftnl_set_elem *__wrap_nftnl_set_elems_iter_next(struct nftnl_set_elems_iter *it)
{
	static struct nftnl_set_elem *first;
	struct nftnl_set_elem *e = __real_nftnl_set_elems_iter_next(it);

	if (++iter_pos == 1)
		first = e;
	else if (iter_pos == 2 && e && first && inject_dups > 0) {
		inject_dups--;
		return first;
	}
	return e;
}

/* Session i of the large sync: client 198.18.0.0 + i, service 198.18.2.1 port 80. */
static void large_entry(struct sess_entry *e, uint32_t i, cn_id_t id)
{
	uint32_t client = htonl(0xc6120000u + i);

	entry(e, AF_INET, "198.18.0.0", "198.18.2.1", 80, id);
	memcpy(e->key.client, &client, 4);
}

/* The tables installed, then n sessions of large_entry (session i with ID 1 + i) in l, synced
 * to the kernel. */
static void large_install(struct nfq_config *cfg, struct sess_list *none, struct sess_list *l,
			  uint32_t n)
{
	struct sess_entry e;

	load_config(cfg);
	sess_list_init(none);
	sess_list_init(l);
	assert_int_not_equal(nftrule_install(cfg, &cfg->sessions, none), QEXPR_NONE);
	for (uint32_t i = 0; i < n; i++) {
		large_entry(&e, i, (cn_id_t)(1 + i));
		assert_int_equal(sess_list_push(l, &e), 0);
	}
	assert_int_equal(kmode_sync(cfg, l, none), 0);
}

/* The elements of set or map `what` as `nft list` prints them, one a line and without the
 * "[invalid type]" it adds to raw keys and the counters of ids and ok, into path; their
 * count. nft's listing is a dump: while the kernel resizes the set's hash table (soon after a
 * batch that added or removed many) it can give some elements twice and miss as many
 * (nftb_dump_set's EAGAIN); a listing with a line twice is taken again. */
static long list_to(const char *what, const char *path)
{
	char cmd[768], out[64];

	for (int attempt = 0; attempt < 50; attempt++) {
		snprintf(cmd, sizeof(cmd), "nft list %s | tr -d '\\n\\t' | "
			 "sed -n 's/.*elements = { *//p' | sed 's/ *}.*//' | tr ',' '\\n' | "
			 "sed 's/^ *//; s/ \\[invalid type\\]//g; "
			 "s/ counter packets [0-9]* bytes [0-9]*//' > %s && "
			 "sort %s | uniq -d | grep -c .; true", what, path, path);
		assert_int_equal(run(cmd, out, sizeof(out)), 0);
		if (strtol(out, NULL, 10) == 0)
			break;
		fprintf(stderr, "# nft list %s: an element twice (a resize of the set), again\n",
			what);
		usleep(100 * 1000);
	}
	snprintf(cmd, sizeof(cmd), "sort %s | uniq -d | grep -c .; true", path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_int_equal(strtol(out, NULL, 10), 0);
	snprintf(cmd, sizeof(cmd), "grep -c . %s; true", path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	return strtol(out, NULL, 10);
}

/* How many lines of path are exactly line. */
static long lines_equal(const char *path, const char *line)
{
	char cmd[512], out[64];

	snprintf(cmd, sizeof(cmd), "grep -c -x -F -- '%s' %s; true", line, path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	return strtol(out, NULL, 10);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process, the kernel's work in its system calls included (a set dump is
 * done in recvmsg). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* kmode_sync beyond one batch (4 MiB, about 40,000 sessions): 60,000 sessions reach the
 * kernel; a second sync that gives half of them a new ID and drops 10,000 leaves exactly the
 * table's elements (the old IDs and the dropped keys gone); an install with the 50,000 left
 * (more than its batch carries) fills the sets too. Every 100th session has a wrong-ID drop
 * counted: only those have an element in drop_wrong, none in the other drop_* sets. */
static void test_kernel_large_sync(void **state)
{
	enum { N = 60000, DROP = 10000, HALF = N / 2 };
	char ids[] = "/tmp/kmode-ids.XXXXXX", ok[] = "/tmp/kmode-ok.XXXXXX",
	     keys[] = "/tmp/kmode-keys.XXXXXX", dw[] = "/tmp/kmode-dw.XXXXXX";
	struct nfq_config cfg;
	struct sess_list none, l;
	struct sess_entry e;
	double t0, c0;

	(void)state;
	if (!in_netns)
		skip();
	for (char *p[] = {ids, ok, keys, dw, NULL}, **q = p; *q; q++) {
		int fd = mkstemp(*q);

		assert_true(fd >= 0);
		close(fd);
	}
	load_config(&cfg);
	sess_list_init(&none);
	sess_list_init(&l);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	for (uint32_t i = 0; i < N; i++) {
		large_entry(&e, i, (cn_id_t)(1 + i % 65535));
		e.drops[TBL_DROP_WRONG_ID] = i % 100 == 0;
		assert_int_equal(sess_list_push(&l, &e), 0);
	}
	t0 = now_s();
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	fprintf(stderr, "# full sync of %d sessions: %.2f s\n", N, now_s() - t0);
	assert_int_equal(list_to("set ip coopnet_nfq ok", ok), N);
	/* the last session: 198.18.234.95 (0xc612ea5f), ID 60000 (0xea60) */
	assert_int_equal(lines_equal(ok, "0xc612ea5fc612020100500000ea600000"), 1);

	for (uint32_t i = 0; i < HALF; i++)
		l.v[i].id = (cn_id_t)(l.v[i].id + 1);
	l.n = N - DROP;
	t0 = now_s();
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	fprintf(stderr, "# sync of %d new IDs and %d removals: %.2f s\n", HALF, DROP,
		now_s() - t0);
	t0 = now_s(); /* the read alone: the kernel holds what the table wants */
	c0 = cpu_s();
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	fprintf(stderr, "# sync of %d sessions with nothing to change: %.2f s, %.2f CPU s\n",
		N - DROP, now_s() - t0, cpu_s() - c0);
	assert_int_equal(list_to("map ip coopnet_nfq ids", ids), N - DROP);
	assert_int_equal(list_to("set ip coopnet_nfq ok", ok), N - DROP);
	assert_int_equal(list_to("set ip coopnet_nfq keys", keys), N - DROP);
	/* session 0 (198.18.0.0): ID 1 -> 2; session HALF (198.18.117.48) keeps 30001 (0x7531);
	 * the last one kept is 49,999 (198.18.195.79), the last one before is gone */
	assert_int_equal(lines_equal(ids, "0xc6120000c612020100500000 : 0x2"), 1);
	assert_int_equal(lines_equal(ok, "0xc6120000c61202010050000000020000"), 1);
	assert_int_equal(lines_equal(ok, "0xc6120000c61202010050000000010000"), 0);
	assert_int_equal(lines_equal(ok, "0xc6127530c61202010050000075310000"), 1);
	assert_int_equal(lines_equal(keys, "0xc612c34fc612020100500000"), 1);
	assert_int_equal(lines_equal(keys, "0xc612ea5fc612020100500000"), 0);
	/* sessions 49,900 (198.18.194.236) and 50,000 (198.18.195.80, gone) */
	assert_int_equal(list_to("set ip coopnet_nfq drop_wrong", dw), (N - DROP) / 100);
	assert_int_equal(lines_equal(dw, "0xc612c2ecc612020100500000"), 1);
	assert_int_equal(lines_equal(dw, "0xc612c350c612020100500000"), 0);
	assert_int_equal(list_to("set ip coopnet_nfq drop_noid", dw), 0);
	assert_int_equal(list_to("set ip coopnet_nfq drop_other", dw), 0);
	/* a start with more sessions than the install batch carries (KMODE_INSTALL_MAX): the
	 * install, then a full sync */
	nftrule_remove(&cfg);
	assert_int_not_equal(nftrule_install(&cfg, &l, &none), QEXPR_NONE);
	assert_int_equal(list_to("set ip coopnet_nfq ok", ok), N - DROP);
	assert_int_equal(lines_equal(ok, "0xc6120000c61202010050000000020000"), 1);
	assert_int_equal(list_to("set ip coopnet_nfq drop_wrong", dw), (N - DROP) / 100);
	unlink(dw);
	unlink(ids);
	unlink(ok);
	unlink(keys);
	sess_list_clear(&l);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

static int count_cb(const struct nftb_elem *el, void *arg)
{
	(void)el;
	++*(size_t *)arg;
	return 0;
}

/* The elements of set k (IPv4), read until a dump is consistent. */
static size_t count_elems(const struct nfq_config *cfg, enum kset k)
{
	size_t n = 0;

	for (int attempt = 0; attempt < 50; attempt++) {
		n = 0;
		if (nftb_dump_set(NFPROTO_IPV4, cfg->rule_table, kmode_set_names[k], count_cb,
				  &n) == 0)
			return n;
		assert_int_equal(errno, EAGAIN);
		usleep(20 * 1000);
	}
	fail_msg("set %s: no consistent dump in 50 reads", kmode_set_names[k]);
	return 0;
}

/* A dump the kernel gives inconsistently (an element twice, another never: its hash table
 * resized between two messages) is read again, so a sync of what the kernel already holds
 * changes nothing; taken as it came, the element read twice had no wanted partner and was
 * destroyed. When every read is inconsistent the sync fails and destroys nothing. */
static void test_sync_inconsistent_dump(void **state)
{
	enum { N = 300 };
	static const enum kset sets[] = {KS_IDS, KS_OK, KS_KEYS, KS_DWRONG};
	struct nfq_config cfg;
	struct sess_list none, l;

	(void)state;
	if (!in_netns)
		skip();
	large_install(&cfg, &none, &l, N);
	for (size_t i = 0; i < N; i++) /* a wrong-ID drop each: an element in drop_wrong */
		l.v[i].drops[TBL_DROP_WRONG_ID] = 1;
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
		assert_int_equal(count_elems(&cfg, sets[k]), N);

	inject_dups = 1;
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	assert_int_equal(inject_dups, 0); /* a dump did come back inconsistent */
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
		assert_int_equal(count_elems(&cfg, sets[k]), N);

	inject_dups = 1000;
	assert_int_equal(kmode_sync(&cfg, &l, &none), -1);
	inject_dups = 0;
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++)
		assert_int_equal(count_elems(&cfg, sets[k]), N);
	sess_list_clear(&l);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

struct got {
	size_t n, counters;
	uint8_t last[64];
};

static int got_cb(const struct nftb_elem *el, void *arg)
{
	struct got *g = arg;

	g->n++;
	g->counters += el->counter;
	assert_true(el->klen <= sizeof(g->last));
	memcpy(g->last, el->key, el->klen);
	return 0;
}

/* nftb_get_elems (kernel mode's counter refresh, kmstats.c): many keys in GETs of a few dozen,
 * against the kernel: every key the set holds answered once with its counter, keys it lacks
 * (anywhere: first, between, last) skipped and counted, a missing set an error (ENOENT); the
 * time against a dump of the same set, printed. */
static void test_get_elems(void **state)
{
	enum { N = 3000 };
	uint32_t klen = kmode_key_len(NFPROTO_IPV4, KS_OK);
	uint8_t *keys = calloc(2 * N + 2, klen), key[64];
	struct nfq_config cfg;
	struct sess_list none, l;
	struct sess_entry e;
	struct got g = {0}, d = {0};
	size_t n = 0, missing = 99;
	double t0, t1;

	(void)state;
	if (!in_netns)
		skip();
	assert_non_null(keys);
	large_install(&cfg, &none, &l, N);
	/* a missing key first, then each session's key followed by a missing one (another ID)
	 * for the first 100, then the rest */
	large_entry(&e, N + 7, 5);
	kmode_elem_key(key, NFPROTO_IPV4, KS_OK, &e);
	memcpy(keys + n++ * klen, key, klen);
	for (uint32_t i = 0; i < N; i++) {
		large_entry(&e, i, (cn_id_t)(1 + i));
		kmode_elem_key(key, NFPROTO_IPV4, KS_OK, &e);
		memcpy(keys + n++ * klen, key, klen);
		if (i < 100) {
			e.id = (cn_id_t)(e.id + 30000);
			kmode_elem_key(key, NFPROTO_IPV4, KS_OK, &e);
			memcpy(keys + n++ * klen, key, klen);
		}
	}
	large_entry(&e, N + 8, 6);
	kmode_elem_key(key, NFPROTO_IPV4, KS_OK, &e);
	memcpy(keys + n++ * klen, key, klen);
	t0 = now_s();
	assert_int_equal(nftb_get_elems(NFPROTO_IPV4, cfg.rule_table, "ok", keys, klen, n, got_cb,
					&g, &missing), 0);
	t1 = now_s();
	assert_int_equal(g.n, N);
	assert_int_equal(g.counters, N);
	assert_int_equal(missing, 102);
	/* the last one answered: session N - 1 */
	large_entry(&e, N - 1, (cn_id_t)N);
	kmode_elem_key(key, NFPROTO_IPV4, KS_OK, &e);
	assert_memory_equal(g.last, key, klen);
	assert_int_equal(nftb_dump_set(NFPROTO_IPV4, cfg.rule_table, "ok", got_cb, &d), 0);
	fprintf(stderr, "# %d elements: by key %.1f ms, a dump %.1f ms\n", N, (t1 - t0) * 1e3,
		(now_s() - t1) * 1e3);
	assert_int_equal(d.n, N);
	/* nothing asked, nothing read; no such set: ENOENT */
	assert_int_equal(nftb_get_elems(NFPROTO_IPV4, cfg.rule_table, "ok", keys, klen, 0, got_cb,
					&g, &missing), 0);
	assert_int_equal(missing, 0);
	errno = 0;
	assert_int_equal(nftb_get_elems(NFPROTO_IPV4, cfg.rule_table, "no_such_set", keys, klen, 3,
					got_cb, &g, &missing), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(g.n, N);
	free(keys);
	sess_list_clear(&l);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* The counter of the one element of a GET: v[0] packets, v[1] 1 when it has one. */
static int one_ctr(const struct nftb_elem *el, void *data)
{
	long long *v = data;

	if (el->counter) {
		v[0] = (long long)el->packets;
		v[1] = 1;
	}
	return 0;
}

/* The packets of e's element in set k (IPv4), -1 when the kernel has none. */
static long long elem_packets(const struct nfq_config *cfg, enum kset k,
			      const struct sess_entry *e)
{
	long long v[2] = {0, 0};
	uint8_t key[64];
	uint32_t klen = kmode_elem_key(key, NFPROTO_IPV4, k, e);

	if (nftb_get_elem(NFPROTO_IPV4, cfg->rule_table, kmode_set_names[k], key, klen, one_ctr,
			  v) < 0) {
		assert_int_equal(errno, ENOENT);
		return -1;
	}
	return v[1] ? v[0] : -1;
}

static int timeout_cb(const struct nftb_elem *el, void *arg)
{
	uint64_t *t = arg;

	t[0] = el->timeout_ms;
	t[1] = el->expires_ms;
	return 0;
}

/* e's element in prev: t[0] its timeout, t[1] the time it has left (ms); false: none. */
static bool prev_elem(const struct nfq_config *cfg, const struct sess_entry *e, uint64_t t[2])
{
	uint8_t key[64];
	uint32_t klen = kmode_elem_key(key, NFPROTO_IPV4, KS_PREV, e);

	t[0] = t[1] = 0;
	if (nftb_get_elem(NFPROTO_IPV4, cfg->rule_table, "prev", key, klen, timeout_cb, t) == 0)
		return true;
	assert_int_equal(errno, ENOENT);
	return false;
}

/* What stays is not touched. kmode_sync: an element whose key and ID stay keeps its counter
 * (not the table's stale count) and a prev element its timeout; a new ID starts from the
 * kernel's old counts; a grace the table restarted replaces prev, one that is over removes it.
 * The drop_* elements (keyed without the ID) exist only for a reason the entry has a count of,
 * start from it, and keep their counter through a full sync (also when the table's count is
 * stale: the kernel's is newer) and a new ID. kmode_apply: a new expiry (same ID) sends
 * nothing; a renewal carries the counts and leaves the drop_* elements as they are; a
 * deletion removes them. */
static void test_kernel_keeps(void **state)
{
	struct nfq_config cfg;
	struct sess_list none, l;
	struct sess_table *t;
	struct sess_entry e, old;
	const struct tbl_change *c;
	uint64_t tm[2];
	size_t n, sent;
	bool lost;
	int dir;

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	sess_list_init(&l);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	dir = kmode_dir(&cfg, KS_OK);
	entry(&e, AF_INET, "198.18.1.7", "198.18.2.1", 80, 0x7777);
	e.segs[dir] = 5;
	e.drops[TBL_DROP_WRONG_ID] = 3;
	e.drops[TBL_DROP_OTHER] = 2;
	assert_int_equal(sess_list_push(&l, &e), 0);
	entry(&e, AF_INET, "198.18.1.8", "198.18.2.1", 80, 0x8888);
	e.prev_id = 0x8000;
	e.prev_until = (uint32_t)time(NULL) + 30;
	assert_int_equal(sess_list_push(&l, &e), 0);
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	assert_int_equal(elem_packets(&cfg, KS_OK, &l.v[0]), 5);
	assert_int_equal(elem_packets(&cfg, KS_DNOID, &l.v[0]), -1); /* no count: no element */
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &l.v[0]), 3);
	assert_int_equal(elem_packets(&cfg, KS_DOTHER, &l.v[0]), 2);
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &l.v[1]), -1);
	assert_true(prev_elem(&cfg, &l.v[1], tm));
	/* prev_until is in whole seconds: up to one second of the 30 may have passed already */
	assert_true(tm[0] > 28000 && tm[0] <= 30000);

	sleep(2);
	l.v[0].segs[dir] = 0;
	l.v[0].drops[TBL_DROP_WRONG_ID] = 0;
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	assert_int_equal(elem_packets(&cfg, KS_OK, &l.v[0]), 5);
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &l.v[0]), 3);
	assert_true(prev_elem(&cfg, &l.v[1], tm));
	assert_true(tm[0] > 28000 && tm[1] + 1500 < tm[0]); /* the same element, 2 s older */

	old = l.v[0];
	l.v[0].id = 0x7778;
	l.v[1].prev_until += 10;
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	assert_int_equal(elem_packets(&cfg, KS_OK, &old), -1);
	assert_int_equal(elem_packets(&cfg, KS_OK, &l.v[0]), 5);
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &l.v[0]), 3); /* the same element */
	assert_true(prev_elem(&cfg, &l.v[1], tm));
	assert_true(tm[0] > 36000);
	l.v[1].prev_until = (uint32_t)time(NULL) - 1;
	assert_int_equal(kmode_sync(&cfg, &l, &none), 0);
	assert_false(prev_elem(&cfg, &l.v[1], tm));

	t = tbl_new(NULL);
	assert_non_null(t);
	tbl_changes_track(t, true);
	e = l.v[0]; /* 0x7778, 5 packets in the kernel */
	e.source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(t, &e), 0);
	tbl_changes_clear(t);
	e.expires = (uint64_t)time(NULL) + 100;
	assert_int_equal(tbl_put(t, &e), 0);
	c = tbl_changes(t, &n, &lost);
	assert_int_equal(kmode_apply(&cfg, t, c, n, &sent), 0);
	tbl_changes_clear(t);
	assert_int_equal(sent, 0);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), 5);
	old = e;
	e.id = 0x7779;
	assert_int_equal(tbl_put(t, &e), 0);
	c = tbl_changes(t, &n, &lost);
	assert_int_equal(kmode_apply(&cfg, t, c, n, &sent), 0);
	assert_int_equal(sent, 7); /* 3 out, 3 in, prev in; the drop_* elements stay */
	assert_int_equal(elem_packets(&cfg, KS_OK, &old), -1);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), 5);
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &e), 3);
	assert_int_equal(elem_packets(&cfg, KS_DOTHER, &e), 2);
	e.prev_id = 0x7778;
	assert_true(prev_elem(&cfg, &e, tm));
	tbl_changes_clear(t);
	assert_true(tbl_del(t, &e.key)); /* gone: its drop_* elements with it */
	c = tbl_changes(t, &n, &lost);
	assert_int_equal(kmode_apply(&cfg, t, c, n, &sent), 0);
	assert_int_equal(sent, 7); /* 3 out, 3 drop_* out, prev out */
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &e), -1);
	assert_int_equal(elem_packets(&cfg, KS_DNOID, &e), -1);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), -1);
	tbl_free(t);
	sess_list_clear(&l);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* The changes of a table since the last apply, applied to the kernel; the count sent. */
static size_t apply(const struct nfq_config *cfg, struct sess_table *t)
{
	const struct tbl_change *c;
	size_t n, sent = 0;
	bool lost;

	c = tbl_changes(t, &n, &lost);
	assert_false(lost);
	assert_int_equal(kmode_apply(cfg, t, c, n, &sent), 0);
	tbl_changes_clear(t);
	return sent;
}

/* A renewal whose old elements the kernel does not hold (the session was put already
 * expired, so it never had them): the change-set's read of their counts finds none, and the
 * new ID's elements start from 0. */
static void test_kernel_renew_missing(void **state)
{
	struct nfq_config cfg;
	struct sess_list none;
	struct sess_table *t;
	struct sess_entry e;

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	t = tbl_new(NULL);
	assert_non_null(t);
	tbl_changes_track(t, true);
	entry(&e, AF_INET, "198.18.1.9", "198.18.2.1", 80, 0x7001);
	e.source = SESS_SRC_AUTHD;
	e.expires = (uint64_t)time(NULL) - 1;
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), -1); /* expired: never in the kernel */
	e.id = 0x7002;
	e.expires = (uint64_t)time(NULL) + 100;
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), 0);
	assert_int_equal(elem_packets(&cfg, KS_IDS, &e), 0);
	tbl_free(t);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* A full sync from the table (what publish_full does). */
static void full_sync(const struct nfq_config *cfg, const struct sess_table *t)
{
	struct sess_list all, none;

	sess_list_init(&all);
	sess_list_init(&none);
	assert_int_equal(tbl_to_list(t, &all), 0);
	assert_int_equal(kmode_sync(cfg, &all, &none), 0);
	sess_list_clear(&all);
}

/* An ID accepted ahead of a renewal (tbl_accept, an SP from its Auth-REP&REQ to its commit):
 * kmode_apply puts it in prev (accepted, with its time-out) and leaves the written ID's
 * elements alone; a full sync keeps that prev element (the same one: its time-out runs on);
 * a withdrawal takes it out; the commit (tbl_put of that ID) makes it the ID of ids, ok and
 * keys, with the old one in prev for the grace. */
static void test_kernel_ahead(void **state)
{
	struct nfq_config cfg;
	struct sess_list none;
	struct sess_table *t;
	struct sess_entry e, ahead, old;
	uint64_t tm[2], first;

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	t = tbl_new(NULL);
	assert_non_null(t);
	tbl_changes_track(t, true);
	entry(&e, AF_INET, "198.18.1.9", "198.18.2.1", 80, 0x6100);
	e.source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	ahead = e;
	ahead.id = 0x6200;
	ahead.prev_id = 0x6200;   /* the prev element's key: (client . service . port . 0x6200) */
	assert_int_equal(tbl_accept(t, &e.key, 0x6200), 1);
	assert_int_equal(apply(&cfg, t), 1); /* prev in, nothing else */
	assert_true(prev_elem(&cfg, &ahead, tm));
	/* counted to the table's end in whole seconds (tbl_accept's time(NULL) + TBL_ACCEPT_S)
	 * from the batch's instant: a second boundary between the two leaves under 29 s */
	assert_true(tm[0] > (TBL_ACCEPT_S - 2) * 1000ULL);
	first = tm[1];
	assert_true(elem_packets(&cfg, KS_OK, &e) >= 0);       /* still the ID written */
	assert_int_equal(elem_packets(&cfg, KS_OK, &ahead), -1);

	sleep(2);
	full_sync(&cfg, t);
	assert_true(prev_elem(&cfg, &ahead, tm));
	assert_true(tm[1] + 1500 < first); /* the same element, 2 s older: not put again */
	assert_true(elem_packets(&cfg, KS_OK, &e) >= 0);

	assert_int_equal(tbl_withdraw(t, &e.key, 0x6200), 1);
	apply(&cfg, t);
	assert_false(prev_elem(&cfg, &ahead, tm));
	assert_true(elem_packets(&cfg, KS_OK, &e) >= 0);
	full_sync(&cfg, t);
	assert_false(prev_elem(&cfg, &ahead, tm));

	/* again, and this time committed */
	assert_int_equal(tbl_accept(t, &e.key, 0x6200), 1);
	apply(&cfg, t);
	assert_true(prev_elem(&cfg, &ahead, tm));
	old = e;
	old.prev_id = 0x6100;
	e.id = 0x6200;
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	assert_int_equal(elem_packets(&cfg, KS_OK, &old), -1);
	assert_true(elem_packets(&cfg, KS_OK, &e) >= 0);
	assert_false(prev_elem(&cfg, &ahead, tm));
	assert_true(prev_elem(&cfg, &old, tm));
	/* the grace ends at tbl_put's time(NULL) + TBL_RENEW_GRACE_S, whole seconds, counted
	 * from the batch's instant: as above, a second boundary between them leaves under 29 s */
	assert_true(tm[0] > (TBL_RENEW_GRACE_S - 2) * 1000ULL);
	assert_int_equal(tbl_withdraw(t, &e.key, 0x6200), 0); /* committed: nothing to withdraw */
	full_sync(&cfg, t);
	assert_true(prev_elem(&cfg, &old, tm));
	assert_true(elem_packets(&cfg, KS_OK, &e) >= 0);
	tbl_free(t);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}


/* A bare TCP segment (ACK, no payload, checksum 0) from src:sport to dst:dport with the urgent
 * pointer urg, through a raw socket: it crosses the output and input hooks of lo. */
static void send_seg(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		     uint16_t urg)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, d = {.sin_family = AF_INET};
	uint8_t h[20] = {0};
	uint16_t v;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &a.sin_addr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, &d.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	v = htons(sport);
	memcpy(h, &v, 2);
	v = htons(dport);
	memcpy(h + 2, &v, 2);
	h[7] = h[11] = 1;      /* seq 1, ack 1 */
	h[12] = 5 << 4;        /* 20 bytes of header */
	h[13] = 0x10;          /* ACK */
	h[14] = 2;             /* window 512 */
	v = htons(urg);
	memcpy(h + 18, &v, 2);
	assert_int_equal(sendto(fd, h, sizeof(h), 0, (struct sockaddr *)&d, sizeof(d)),
			 (ssize_t)sizeof(h));
	close(fd);
}

/* The addresses of the tests' segments over lo: clients 198.18.1.7 and .8, service 198.18.2.1. */
#define LO_ADDRS                                                                                \
	"ip link set lo up && ip addr replace 198.18.1.7/32 dev lo && "                         \
	"ip addr replace 198.18.1.8/32 dev lo && ip addr replace 198.18.2.1/32 dev lo"

/* A table tracking its changes with two authd sessions to service 198.18.2.1:80, applied:
 * *e from 198.18.1.7 (ID 0x7777), *e2 from 198.18.1.8 (ID 0x2222). */
static struct sess_table *two_sessions(const struct nfq_config *cfg, struct sess_entry *e,
				       struct sess_entry *e2)
{
	struct sess_table *t = tbl_new(NULL);

	assert_non_null(t);
	tbl_changes_track(t, true);
	entry(e, AF_INET, "198.18.1.7", "198.18.2.1", 80, 0x7777);
	e->source = SESS_SRC_AUTHD;
	entry(e2, AF_INET, "198.18.1.8", "198.18.2.1", 80, 0x2222);
	e2->source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(t, e), 0);
	assert_int_equal(tbl_put(t, e2), 0);
	apply(cfg, t);
	return t;
}

static bool sliced; /* totals_reach refreshes in slices (kmode_stats_begin, _step) */

/* The totals `stats` shows (embedded, checked_ok) once they reach want[] (bounded: 2 s), as
 * the worker computes them: a refresh of the element counters, then kmode_counters. */
static void totals_reach(const struct nfq_config *cfg, struct sess_table *t, uint64_t emb,
			 uint64_t chk)
{
	uint64_t c[R__COUNT];

	for (int i = 0; i < 200; i++) {
		memset(c, 0, sizeof(c));
		if (sliced) { /* a key a step (nfq's main loop: NFQD_KSTATS_SLICE) */
			int rc = kmode_stats_begin(cfg, t);

			assert_int_equal(rc, 1);
			while ((rc = kmode_stats_step(cfg, t, 1)) == 1)
				;
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(kmode_stats_refresh(cfg, t), 0);
		}
		kmode_counters(cfg, c);
		if (c[R_EMBEDDED] >= emb && c[R_CHECKED_OK] >= chk)
			break;
		usleep(10000);
	}
	fprintf(stderr, "# embedded %llu (want %llu), checked_ok %llu (want %llu)\n",
		(unsigned long long)c[R_EMBEDDED], (unsigned long long)emb,
		(unsigned long long)c[R_CHECKED_OK], (unsigned long long)chk);
	assert_int_equal(c[R_EMBEDDED], emb);
	assert_int_equal(c[R_CHECKED_OK], chk);
}

/* A refresh in slices: the session's entry gets its element's counts (segments and bytes,
 * read by key); a pass during which a batch changed the sets leaves the totals as they were
 * (its sum mixes before and after), the next one takes them; begin while a pass runs keeps it. */
static void sliced_pass_checks(const struct nfq_config *cfg, struct sess_table *t,
			       const struct sess_entry *e)
{
	const struct tbl_entry *x = tbl_lookup(t, &e->key);
	struct kmd_ops none = {.now_ms = 0};
	uint64_t c[R__COUNT] = {0}, emb;
	int rc;

	assert_non_null(x);
	assert_int_equal(atomic_load(&x->segs[0]), elem_packets(cfg, KS_IDS, e));
	assert_true(atomic_load(&x->bytes[0]) >= 40 * atomic_load(&x->segs[0]));
	kmode_counters(cfg, c);
	emb = c[R_EMBEDDED];
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0); /* one more ID written */
	usleep(50000);
	assert_int_equal(kmode_stats_begin(cfg, t), 1);
	assert_int_equal(kmode_stats_step(cfg, t, 1), 1);
	assert_int_equal(kmode_stats_begin(cfg, t), 1); /* the same pass */
	kmode_totals_commit(&none);                     /* a batch during the pass */
	while ((rc = kmode_stats_step(cfg, t, 1)) == 1)
		;
	assert_int_equal(rc, 0);
	memset(c, 0, sizeof(c));
	kmode_counters(cfg, c);
	assert_int_equal(c[R_EMBEDDED], emb);
	totals_reach(cfg, t, emb + 1, c[R_CHECKED_OK]);
}

/* The totals embedded and checked_ok come from the elements of ids and ok (no named counter
 * on the hot rules, kmstats.c): real segments over lo (a supervisor with the relay's input and
 * output hooks: its output chain writes the ID on a client's segment, its input chain checks
 * the ID of a reply), then every way a session's elements go or change: a renewal (the new
 * ID's elements carry the counts; the previous ID, accepted in the grace, counts through
 * checked_prev), a full sync that removes a session, one that adds a session with counts of
 * its own (they are not segments of this data plane), and a deletion. The totals count each
 * segment once and never go down. */
static void test_kernel_totals(void **state)
{
	static const char conf[] =
		"{ \"role\": \"supervisor\", \"mode\": \"kernel\", \"queue\": {\"num\": 9},\n"
		"  \"queue_rule\": {\"hooks\": [\"forward\", \"input\", \"output\"]} }\n";
	struct nfq_config cfg;
	struct sess_list none, all, extra;
	struct sess_table *t;
	struct sess_entry e, e2, e3;

	(void)state;
	if (!in_netns)
		skip();
	load_config_text(&cfg, conf);
	sess_list_init(&none);
	/* the replies' RSTs of the kernel's TCP (no socket there) stay out of the counts */
	assert_int_equal(run(LO_ADDRS " && nft add table ip krst && "
			     "nft add chain ip krst o '{ type filter hook output priority -200; }' && "
			     "nft add rule ip krst o tcp flags rst drop", NULL, 0), 0);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	t = two_sessions(&cfg, &e, &e2);
	for (int i = 0; i < 3; i++)
		send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0);  /* ID written */
	send_seg("198.18.1.8", 40000, "198.18.2.1", 80, 0);
	for (int i = 0; i < 2; i++)
		send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x7777); /* checked */
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x1234);      /* wrong ID */
	totals_reach(&cfg, t, 4, 2);

	e.id = 0x7778; /* a renewal: 0x7777 in prev for the grace */
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	totals_reach(&cfg, t, 4, 2);
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x7778);
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x7777); /* the previous ID */
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0);
	totals_reach(&cfg, t, 5, 4);

	/* a full sync without e2 (its removal not applied) takes its elements out */
	assert_true(tbl_del(t, &e2.key));
	tbl_changes_clear(t);
	full_sync(&cfg, t);
	assert_int_equal(elem_packets(&cfg, KS_IDS, &e2), -1);
	totals_reach(&cfg, t, 5, 4);
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0); /* counted on from there */
	totals_reach(&cfg, t, 6, 4);
	/* a session put with counts of its own adds none to the totals */
	sess_list_init(&all);
	sess_list_init(&extra);
	assert_int_equal(tbl_to_list(t, &all), 0);
	entry(&e3, AF_INET, "198.18.1.9", "198.18.2.1", 80, 0x3333);
	e3.segs[0] = e3.segs[1] = 50;
	assert_int_equal(sess_list_push(&extra, &e3), 0);
	assert_int_equal(kmode_sync(&cfg, &all, &extra), 0);
	assert_int_equal(elem_packets(&cfg, KS_IDS, &e3), 50);
	totals_reach(&cfg, t, 6, 4);
	assert_int_equal(kmode_sync(&cfg, &all, &none), 0); /* and takes none when it goes */
	totals_reach(&cfg, t, 6, 4);

	tbl_changes_clear(t);
	assert_true(tbl_del(t, &e.key)); /* deleted: its counts stay in the totals */
	apply(&cfg, t);
	assert_int_equal(elem_packets(&cfg, KS_OK, &e), -1);
	totals_reach(&cfg, t, 6, 4);
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0); /* no session: not counted */
	totals_reach(&cfg, t, 6, 4);
	e.id = 0x7779; /* the key again, a new session: counted on from the totals */
	assert_int_equal(tbl_put(t, &e), 0);
	apply(&cfg, t);
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0);
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x7779);
	totals_reach(&cfg, t, 7, 5);

	/* more keys go in one change-set than it reads with a GET each (KMD_GETS_MAX): their
	 * counts come from GETs of many keys (read_counts), and stay in the totals as well */
	sess_list_clear(&all);
	sess_list_clear(&extra);
	sess_list_init(&all);
	sess_list_init(&extra);
	for (uint32_t i = 0; i < 70; i++) {
		uint32_t client = htonl(0xc6120300u + i);

		entry(&e3, AF_INET, "198.18.3.0", "198.18.2.1", 80, (cn_id_t)(0x4000 + i));
		memcpy(e3.key.client, &client, 4);
		e3.source = SESS_SRC_AUTHD;
		assert_int_equal(tbl_put(t, &e3), 0);
		e3.segs[0] = e3.segs[1] = 10;
		assert_int_equal(sess_list_push(&extra, &e3), 0);
	}
	tbl_changes_clear(t);
	assert_int_equal(tbl_to_list(t, &all), 0);
	assert_int_equal(kmode_sync(&cfg, &all, &extra), 0); /* the 70 with 10 segments each */
	assert_int_equal(elem_packets(&cfg, KS_OK, &extra.v[69]), 10);
	totals_reach(&cfg, t, 7, 5);
	for (size_t i = 0; i < extra.n; i++)
		assert_true(tbl_del(t, &extra.v[i].key));
	assert_int_equal(apply(&cfg, t), 70 * 6); /* ids, ok, keys, drop_* */
	assert_int_equal(elem_packets(&cfg, KS_OK, &extra.v[69]), -1);
	send_seg("198.18.1.7", 40000, "198.18.2.1", 80, 0);
	totals_reach(&cfg, t, 8, 5);
	if (sliced)
		sliced_pass_checks(&cfg, t, &e);

	sess_list_clear(&all);
	sess_list_clear(&extra);
	tbl_free(t);
	nftrule_remove(&cfg);
	assert_int_equal(run("nft delete table ip krst", NULL, 0), 0);
	nfq_config_clear(&cfg);
}

/* elem_packets once it reaches want (bounded: 2 s; lo delivers in a softirq). */
static long long packets_reach(const struct nfq_config *cfg, enum kset k,
			       const struct sess_entry *e, long long want)
{
	long long v = -1;

	for (int i = 0; i < 200 && (v = elem_packets(cfg, k, e)) != want; i++)
		usleep(10000);
	return v;
}

/* The drop_* elements come from the packet path: a session's first segment with a wrong ID
 * makes its element in drop_wrong and each one counts on it (a refresh reads it into the
 * entry's drops); a session that dropped nothing has no element. When the element cannot be
 * made (here: the set full at 1 element) the segment is dropped all the same and counted by
 * reason (the drop chain's second rule; without it the supervisor's chain would let it pass).
 * A deletion destroys the session's element. */
static void test_kernel_drop_elements(void **state)
{
	static const char conf[] =
		"{ \"role\": \"supervisor\", \"mode\": \"kernel\", \"queue\": {\"num\": 9},\n"
		"  \"queue_rule\": {\"hooks\": [\"forward\", \"input\", \"output\"]} }\n";
	struct nfq_config cfg;
	struct sess_list none;
	struct sess_table *t;
	struct sess_entry e, e2;
	const struct tbl_entry *x;
	uint64_t c[R__COUNT] = {0}, wrong0;

	(void)state;
	if (!in_netns)
		skip();
	load_config_text(&cfg, conf);
	sess_list_init(&none);
	assert_int_equal(run(LO_ADDRS, NULL, 0), 0);
	kmode_drop_set_size(1);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	kmode_drop_set_size(KMODE_DROP_SET_SIZE);
	t = two_sessions(&cfg, &e, &e2);
	kmode_counters(&cfg, c);
	wrong0 = c[R_DROP_WRONG_ID];
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &e), -1); /* nothing dropped yet */

	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x1234); /* wrong ID: the element */
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x1235);
	send_seg("198.18.2.1", 80, "198.18.1.7", 40000, 0x7777); /* right: not a drop */
	assert_int_equal(packets_reach(&cfg, KS_DWRONG, &e, 2), 2);
	assert_int_equal(elem_packets(&cfg, KS_DNOID, &e), -1);
	assert_int_equal(kmode_stats_refresh(&cfg, t), 0);
	x = tbl_lookup(t, &e.key);
	assert_non_null(x);
	assert_int_equal(atomic_load(&x->drops[TBL_DROP_WRONG_ID]), 2);

	send_seg("198.18.2.1", 80, "198.18.1.8", 40000, 0x1234); /* the set is full */
	for (int i = 0; i < 200; i++) {
		memset(c, 0, sizeof(c));
		kmode_counters(&cfg, c);
		if (c[R_DROP_WRONG_ID] >= wrong0 + 3)
			break;
		usleep(10000);
	}
	assert_int_equal(c[R_DROP_WRONG_ID], wrong0 + 3); /* dropped all the same */
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &e2), -1);

	assert_true(tbl_del(t, &e.key)); /* its element goes with it */
	assert_int_equal(apply(&cfg, t), 6);
	assert_int_equal(elem_packets(&cfg, KS_DWRONG, &e), -1);

	tbl_free(t);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* The same with the refresh reading the elements by key (as from 16,384 sessions on). */
static void test_kernel_totals_by_key(void **state)
{
	kmode_stats_by_key_from(0);
	test_kernel_totals(state);
	kmode_stats_by_key_from(16384);
}

/* The full sync reading ok, keys and the drop_* sets by key for the keys of ids (as from
 * 16,384 elements of ids on; below, it dumps them): the same results. test_kernel_large_sync
 * drops 10,000 keys and gives 30,000 a new ID: every element of the old ones goes (the keys
 * the table lacks are found through ids, the old ok elements through its IDs). */
static void sync_by_key(void (*test)(void **), void **state)
{
	kmode_sync_by_key_from(0);
	test(state);
	kmode_sync_by_key_from(16384);
}

static void test_kernel_large_sync_by_key(void **state)
{
	sync_by_key(test_kernel_large_sync, state);
}

static void test_kernel_keeps_by_key(void **state)
{
	sync_by_key(test_kernel_keeps, state);
}

static void test_kernel_ahead_by_key(void **state)
{
	sync_by_key(test_kernel_ahead, state);
}

static void test_kernel_totals_sync_by_key(void **state)
{
	sync_by_key(test_kernel_totals, state);
}

/* And in slices of one key, as nfq's main loop runs it from 16,384 sessions on (with the
 * checks of sliced_pass_checks at the end). */
static void test_kernel_totals_sliced(void **state)
{
	kmode_stats_by_key_from(0);
	sliced = true;
	test_kernel_totals(state);
	sliced = false;
	kmode_stats_by_key_from(16384);
	kmode_stats_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_large_sync),
		cmocka_unit_test(test_kernel_keeps),
		cmocka_unit_test(test_kernel_renew_missing),
		cmocka_unit_test(test_kernel_ahead),
		cmocka_unit_test(test_kernel_totals),
		cmocka_unit_test(test_get_elems),
		cmocka_unit_test(test_kernel_totals_by_key),
		cmocka_unit_test(test_kernel_totals_sliced),
		cmocka_unit_test(test_kernel_large_sync_by_key),
		cmocka_unit_test(test_kernel_keeps_by_key),
		cmocka_unit_test(test_kernel_ahead_by_key),
		cmocka_unit_test(test_kernel_totals_sync_by_key),
		cmocka_unit_test(test_sync_inconsistent_dump),
		cmocka_unit_test(test_kernel_drop_elements),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
