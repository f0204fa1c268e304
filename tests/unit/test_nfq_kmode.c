/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's kernel mode below the integration tests: the key bytes of the session sets
 * (nfq/kmsets.c), which entry wins when the config and authd name the same key, the
 * comparison that spares a batch when the service copy did not change (nfq/kmsvc.c); and, as
 * root in a private network namespace, the set sync, the incremental update of the changed
 * keys (equal to a full sync after each change) and the service-set copy against the kernel
 * (what `nft list` then shows in the worker's table).
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>

#include "kmode_int.h"
#include "kmtest.h"
#include "nftbatch.h"
#include "nfqconf.h"
#include "nftrule.h"


static void test_make_key_v4(void **state)
{
	static const uint8_t want[] = { 198, 18, 1, 2, 198, 18, 2, 1, 0, 80, 0, 0, 0x61, 0x41, 0, 0 };
	struct sess_entry e;
	uint8_t key[64];

	(void)state;
	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 0x6141);
	assert_int_equal(kmode_make_key(key, NFPROTO_IPV4, &e, false), 12);
	assert_memory_equal(key, want, 12);
	assert_int_equal(kmode_key_len(NFPROTO_IPV4, KS_KEYS), 12);
	assert_int_equal(kmode_make_key(key, NFPROTO_IPV4, &e, true), 16);
	assert_memory_equal(key, want, 16);
	assert_int_equal(kmode_key_len(NFPROTO_IPV4, KS_OK), 16);
	assert_int_equal(kmode_key_len(NFPROTO_IPV4, KS_SVC), 8); /* service . port */
}

static void test_make_key_v6(void **state)
{
	struct sess_entry e;
	uint8_t key[64], c[16], s[16];

	(void)state;
	entry(&e, AF_INET6, "2001:db8:1::2", "2001:db8:2::1", 443, 0xbeef);
	inet_pton(AF_INET6, "2001:db8:1::2", c);
	inet_pton(AF_INET6, "2001:db8:2::1", s);
	assert_int_equal(kmode_make_key(key, NFPROTO_IPV6, &e, true), 40);
	assert_memory_equal(key, c, 16);
	assert_memory_equal(key + 16, s, 16);
	assert_memory_equal(key + 32, "\x01\xbb\0\0\xbe\xef\0\0", 8);
	assert_int_equal(kmode_key_len(NFPROTO_IPV6, KS_OK), 40);
	assert_int_equal(kmode_make_key(key, NFPROTO_IPV6, &e, false), 36);
	assert_int_equal(kmode_key_len(NFPROTO_IPV6, KS_KEYS), 36);
}

/* The config's sessions (a) and authd's (b): the last entry with a key wins. */
static void test_effective_b_wins(void **state)
{
	struct sess_list a, b;
	struct sess_entry e;
	bool *keep;

	(void)state;
	sess_list_init(&a);
	sess_list_init(&b);
	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 1);
	assert_int_equal(sess_list_push(&a, &e), 0);
	entry(&e, AF_INET, "198.18.1.3", "198.18.2.1", 80, 2);
	assert_int_equal(sess_list_push(&a, &e), 0);
	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 3); /* a's first key again */
	assert_int_equal(sess_list_push(&b, &e), 0);
	keep = kmode_effective(&a, &b);
	assert_non_null(keep);
	assert_false(keep[0]);
	assert_true(keep[1]);
	assert_true(keep[2]);
	free(keep);
	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 8080, 4); /* another port: another key */
	assert_int_equal(sess_list_push(&b, &e), 0);
	entry(&e, AF_INET, "198.18.1.3", "198.18.2.1", 80, 5); /* a's second key, twice in b */
	assert_int_equal(sess_list_push(&b, &e), 0);
	assert_int_equal(sess_list_push(&b, &e), 0);
	keep = kmode_effective(&a, &b);
	assert_non_null(keep);
	assert_false(keep[0]);
	assert_false(keep[1]);
	assert_true(keep[2]);
	assert_true(keep[3]);
	assert_false(keep[4]);
	assert_true(keep[5]);
	free(keep);
	sess_list_clear(&a);
	sess_list_clear(&b);
}

static void test_same_copy(void **state)
{
	uint8_t k1[16] = { 1, 2, 3, 4, 0, 80 }, k2[16] = { 1, 2, 3, 4, 0, 80 };
	struct svc_copy a = { .keys = k1, .n = 2, .klen = 8 }, b = { .keys = k2, .n = 2, .klen = 8 };

	(void)state;
	assert_true(kmode_same_copy(&a, &b));
	k2[13] = 1;
	assert_false(kmode_same_copy(&a, &b));
	k2[13] = 0;
	b.n = 1;
	assert_false(kmode_same_copy(&a, &b));
	b.n = 2;
	b.klen = 4;
	assert_false(kmode_same_copy(&a, &b));
	a.n = b.n = 0;
	b.klen = 8;
	assert_true(kmode_same_copy(&a, &b));
}

static int count_expr(struct nftnl_expr *x, void *arg)
{
	uint64_t *packets = arg;

	packets[0]++;
	packets[1] = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
	return 0;
}

/* An element's own counter only when it carries a count: at zero the set's counter gives it
 * one (a counter in each of 60,000 elements cost the kernel 0.2 s of a worker's restart). */
static void test_elem_counter_only_with_counts(void **state)
{
	static const enum kset counted[] = { KS_IDS, KS_OK, KS_DWRONG };
	struct nfq_config cfg;
	struct sess_entry e;

	(void)state;
	load_config(&cfg);
	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 0x6141);
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		enum kset k = counted[i];
		int dir = kmode_dir(&cfg, k);
		uint64_t got[2] = { 0, 0 };
		struct nftnl_set_elem *el;

		memset(e.segs, 0, sizeof(e.segs));
		memset(e.bytes, 0, sizeof(e.bytes));
		memset(e.drops, 0, sizeof(e.drops));
		el = kmode_elem(&cfg, NFPROTO_IPV4, k, &e, true, 0);
		assert_non_null(el);
		nftnl_set_elem_expr_foreach(el, count_expr, got);
		assert_int_equal(got[0], 0);
		nftnl_set_elem_free(el);
		if (dir >= 0)
			e.segs[dir] = 7;
		else
			e.drops[kmode_drop_reason(k)] = 7;
		el = kmode_elem(&cfg, NFPROTO_IPV4, k, &e, true, 0);
		assert_non_null(el);
		nftnl_set_elem_expr_foreach(el, count_expr, got);
		assert_int_equal(got[0], 1);
		assert_int_equal(got[1], 7);
		nftnl_set_elem_free(el);
	}
	nfq_config_clear(&cfg);
}

/* --- against the kernel ------------------------------------------------------------------------ */

/* kmode_sync: the map holds exactly the effective, live sessions of a then b. */
static void test_kernel_set_sync(void **state)
{
	struct nfq_config cfg;
	struct sess_list none, b;
	struct sess_entry e;
	char out[16384];

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	sess_list_init(&b);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	assert_int_equal(run("nft list map ip coopnet_nfq ids", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0xc6120102c612020100500000 [invalid type] : 0x1111"));

	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 0x2222); /* authd renews it */
	assert_int_equal(sess_list_push(&b, &e), 0);
	entry(&e, AF_INET, "198.18.1.3", "198.18.2.1", 80, 0x3333);
	e.expires = (uint64_t)time(NULL) - 1; /* expired: not in the kernel */
	assert_int_equal(sess_list_push(&b, &e), 0);
	entry(&e, AF_INET, "198.18.1.4", "198.18.2.1", 80, 0x4444);
	assert_int_equal(sess_list_push(&b, &e), 0);
	assert_int_equal(kmode_sync(&cfg, &cfg.sessions, &b), 0);
	assert_int_equal(run("nft list map ip coopnet_nfq ids", out, sizeof(out)), 0);
	assert_null(strstr(out, ": 0x1111"));
	assert_null(strstr(out, ": 0x3333"));
	assert_non_null(strstr(out, "0xc6120102c612020100500000 [invalid type] : 0x2222"));
	assert_non_null(strstr(out, "0xc6120104c612020100500000 [invalid type] : 0x4444"));
	assert_int_equal(run("nft list set ip coopnet_nfq ok", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0xc6120102c61202010050000022220000"));
	assert_null(strstr(out, "11110000"));
	sess_list_clear(&b);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* The rule file's table inet coopnet with its overlay sets, overlay4 holding elements. */
static void rule_file_sets(const char *elements)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "nft add table inet coopnet && nft add set inet coopnet overlay4 "
		 "'{ type ipv4_addr . inet_service; }' && nft add set inet coopnet overlay6 "
		 "'{ type ipv6_addr . inet_service; }' && nft add element inet coopnet overlay4 "
		 "'{ %s }'", elements);
	assert_int_equal(run(cmd, NULL, 0), 0);
}

/* kmode_svc_sync: the worker's @svc follows the rule file's overlay4 (one batch per change). */
static void test_kernel_svc_copy(void **state)
{
	struct kmode_svc st = { .have_gen = false };
	struct nfq_config cfg;
	struct sess_list none;
	char out[16384];

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	rule_file_sets("198.18.2.1 . 80, 198.18.2.9 . 443");
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	assert_int_equal(kmode_svc_sync(&st, &cfg), 0);
	assert_int_equal(st.last[0].n, 2);
	assert_int_equal(run("nft list set ip coopnet_nfq svc", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0xc612020100500000"));
	assert_non_null(strstr(out, "0xc612020901bb0000"));

	assert_int_equal(run("nft delete element inet coopnet overlay4 '{ 198.18.2.9 . 443 }'",
			     NULL, 0), 0);
	assert_int_equal(kmode_svc_sync(&st, &cfg), 0);
	assert_int_equal(st.last[0].n, 1);
	assert_int_equal(run("nft list set ip coopnet_nfq svc", out, sizeof(out)), 0);
	assert_null(strstr(out, "0xc612020901bb0000"));
	assert_non_null(strstr(out, "0xc612020100500000"));
	kmode_svc_free(&st);
	assert_null(st.last[0].keys);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
	assert_int_equal(run("nft delete table inet coopnet", NULL, 0), 0);
}

/* kmode_svc_follow: the sets are read only when the ruleset's generation moved, and @svc is
 * rewritten only when they changed; a batch of any table (here the worker's own sessions) moves
 * the generation, a change of the rule file is found at the next check. */
static void test_kernel_svc_follow(void **state)
{
	struct kmode_svc st = { .have_gen = false };
	struct nfq_config cfg;
	struct sess_list none, many;
	struct sess_entry e;
	char out[16384], client[32];
	uint32_t g0, g1;

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	sess_list_init(&many);
	rule_file_sets("198.18.2.1 . 80");
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_true(st.have_gen);
	assert_int_equal(st.last[0].n, 1);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.writes, 1);

	/* the copy's own batch moved the generation: read once more, not rewritten */
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.reads, 2);
	assert_int_equal(st.writes, 1);
	/* nothing committed since: the generation alone is read */
	assert_int_equal(nftb_generation(&g0), 0);
	assert_int_equal(g0, st.gen);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.reads, 2);

	/* the worker's own batch moves the generation: the sets are read, @svc is not rewritten */
	for (int i = 0; i < 200; i++) {
		snprintf(client, sizeof(client), "198.18.%d.%d", 100 + i / 200, 1 + i % 200);
		entry(&e, AF_INET, client, "198.18.2.1", 80, (cn_id_t)(0x2000 + i));
		assert_int_equal(sess_list_push(&many, &e), 0);
	}
	assert_int_equal(kmode_sync(&cfg, &cfg.sessions, &many), 0);
	assert_int_equal(nftb_generation(&g1), 0);
	assert_true(g1 != g0);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.reads, 3);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.gen, g1);

	/* the rule file's change: in the copy after the next check */
	assert_int_equal(run("nft add element inet coopnet overlay4 '{ 198.18.2.6 . 80 }'", NULL, 0), 0);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.last[0].n, 2);
	assert_int_equal(st.writes, 2);
	assert_int_equal(run("nft list set ip coopnet_nfq svc", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0xc612020600500000"));
	assert_int_equal(run("nft delete element inet coopnet overlay4 '{ 198.18.2.6 . 80 }'", NULL, 0), 0);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.last[0].n, 1);
	assert_int_equal(run("nft list set ip coopnet_nfq svc", out, sizeof(out)), 0);
	assert_null(strstr(out, "0xc612020600500000"));

	/* the rule file's table gone: an empty copy */
	assert_int_equal(run("nft delete table inet coopnet", NULL, 0), 0);
	assert_int_equal(kmode_svc_follow(&st, &cfg), 0);
	assert_int_equal(st.last[0].n, 0);
	assert_int_equal(run("nft list set ip coopnet_nfq svc", out, sizeof(out)), 0);
	assert_null(strstr(out, "0xc612020100500000"));

	sess_list_clear(&many);
	kmode_svc_free(&st);
	assert_null(st.last[0].keys);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

/* The netlink sockets this process holds: their inodes, in fd order, into ino (up to max). */
static size_t netlink_sockets(unsigned long *ino, size_t max)
{
	char path[64], target[64], cmd[128], out[4096];
	size_t n = 0;

	for (int fd = 0; fd < 1024 && n < max; fd++) {
		ssize_t len;
		unsigned long i;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((len = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[len] = 0;
		if (sscanf(target, "socket:[%lu]", &i) != 1)
			continue;
		/* netlink, not the test's other sockets: /proc/net/netlink lists the inode */
		snprintf(cmd, sizeof(cmd), "awk '$10 == %lu' /proc/net/netlink", i);
		if (run(cmd, out, sizeof(out)) == 0 && out[0] != 0)
			ino[n++] = i;
	}
	return n;
}

static int count_elem(const struct nftb_elem *el, void *arg)
{
	(void)el;
	(*(size_t *)arg)++;
	return 0;
}

/* The reads of lib/nftdump.c go through one socket per thread, kept (the close of a netfilter
 * socket waits for nf_tables' destroy work, an RCU grace period, after a batch that removed
 * elements): many reads after such batches open no socket; a failed read replaces it. */
static void test_reader_kept(void **state)
{
	unsigned long before[16], after[16];
	size_t nb, na, seen = 0, missing = 0;
	uint8_t keys[2 * 8];
	uint32_t gen;

	(void)state;
	if (!in_netns)
		skip();
	assert_int_equal(run("nft add table ip rdtest && nft add set ip rdtest s "
			     "'{ type ipv4_addr . inet_service; }' && nft add element ip rdtest s "
			     "'{ 198.18.3.1 . 80, 198.18.3.2 . 80 }'", NULL, 0), 0);
	nftb_reader_close();
	nb = netlink_sockets(before, 16);
	assert_int_equal(nftb_generation(&gen), 0); /* the reader is opened here, and kept */
	assert_int_equal(netlink_sockets(before, 16), nb + 1);
	nb++;
	for (int i = 0; i < 20; i++) {
		/* a batch that removes an element, then reads of each kind */
		assert_int_equal(run("nft delete element ip rdtest s '{ 198.18.3.2 . 80 }' && "
				     "nft add element ip rdtest s '{ 198.18.3.2 . 80 }'", NULL, 0), 0);
		assert_int_equal(nftb_generation(&gen), 0);
		seen = 0;
		assert_int_equal(nftb_dump_set(NFPROTO_IPV4, "rdtest", "s", count_elem, &seen), 0);
		assert_int_equal(seen, 2);
		memcpy(keys, (uint8_t[]){198, 18, 3, 1, 0, 80, 0, 0, 198, 18, 3, 2, 0, 80, 0, 0}, 16);
		seen = 0;
		assert_int_equal(nftb_get_elems(NFPROTO_IPV4, "rdtest", "s", keys, 8, 2, count_elem,
						&seen, &missing), 0);
		assert_int_equal(seen, 2);
		assert_int_equal(missing, 0);
	}
	na = netlink_sockets(after, 16);
	assert_int_equal(na, nb);
	assert_memory_equal(after, before, nb * sizeof(before[0]));

	/* a failed read (no such set) drops the reader; the next read opens a new one */
	assert_int_equal(nftb_dump_set(NFPROTO_IPV4, "rdtest", "nosuch", count_elem, &seen), -1);
	assert_int_equal(nftb_generation(&gen), 0);
	na = netlink_sockets(after, 16);
	assert_int_equal(na, nb);
	assert_memory_not_equal(after, before, nb * sizeof(before[0]));
	assert_int_equal(run("nft delete table ip rdtest", NULL, 0), 0);
}

/* The elements of a set or map as `nft list` prints them, sorted (the kernel lists a hash set
 * in its own order), one per line. */
static void elements(const char *what, char *out, size_t size)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "nft list %s | tr -d '\\n\\t' | sed -n 's/.*elements = { *//p' "
		 "| sed 's/ *}.*//' | tr ',' '\\n' | sed 's/^ *//' | sort", what);
	assert_int_equal(run(cmd, out, size), 0);
	assert_true(strlen(out) + 1 < size); /* all of it */
}

struct sets {
	char ids[1 << 17], ok[1 << 17], keys[1 << 17], drops[3][1 << 17];
};

static const char *const drop_sets[3] = {"set ip coopnet_nfq drop_noid",
					 "set ip coopnet_nfq drop_wrong",
					 "set ip coopnet_nfq drop_other"};

static void read_sets(struct sets *s)
{
	elements("map ip coopnet_nfq ids", s->ids, sizeof(s->ids));
	elements("set ip coopnet_nfq ok", s->ok, sizeof(s->ok));
	elements("set ip coopnet_nfq keys", s->keys, sizeof(s->keys));
	for (int r = 0; r < 3; r++)
		elements(drop_sets[r], s->drops[r], sizeof(s->drops[r]));
}

/* Publish the table's changes as coopnet-nfq does; the kernel's sets must then equal what a
 * full sync of the table writes. Returns the element operations sent. */
static size_t apply_and_compare(const struct nfq_config *cfg, struct sess_table *t)
{
	static struct sets inc, full;
	struct sess_list all, none;
	const struct tbl_change *c;
	size_t n, sent;
	bool lost;

	c = tbl_changes(t, &n, &lost);
	assert_false(lost);
	assert_int_equal(kmode_apply(cfg, t, c, n, &sent), 0);
	tbl_changes_clear(t);
	read_sets(&inc);
	sess_list_init(&all);
	sess_list_init(&none);
	assert_int_equal(tbl_to_list(t, &all), 0);
	assert_int_equal(kmode_sync(cfg, &all, &none), 0);
	sess_list_clear(&all);
	read_sets(&full);
	assert_string_equal(inc.ids, full.ids);
	assert_string_equal(inc.ok, full.ok);
	assert_string_equal(inc.keys, full.keys);
	for (int r = 0; r < 3; r++)
		assert_string_equal(inc.drops[r], full.drops[r]);
	return sent;
}

static bool has(const char *what, const char *needle)
{
	static char out[1 << 17];

	elements(what, out, sizeof(out));
	return strstr(out, needle) != NULL;
}

/* kmode_apply: add, renew, hide a config session and bring it back, delete, expire; each
 * change sends only its key's elements (3 out, 3 in, and the previous ID's in set prev after a
 * renewal; a drop_* element in only for a drop count the entry holds (the packet path makes
 * the others), the 3 drop_* destroys with the session), with 1,000 other sessions present. */
static void test_kernel_incremental(void **state)
{
	struct nfq_config cfg;
	struct sess_table *t;
	struct sess_list none;
	struct sess_entry e;
	size_t i;

	(void)state;
	if (!in_netns)
		skip();
	load_config(&cfg);
	sess_list_init(&none);
	t = tbl_new(NULL);
	assert_non_null(t);
	assert_int_equal(tbl_set_config(t, &cfg.sessions), 0);
	assert_int_not_equal(nftrule_install(&cfg, &cfg.sessions, &none), QEXPR_NONE);
	tbl_changes_track(t, true);
	for (i = 0; i < 1000; i++) { /* others, in one change-set */
		char client[32];

		snprintf(client, sizeof(client), "198.19.%zu.%zu", i / 250, i % 250 + 1);
		entry(&e, AF_INET, client, "198.18.2.1", 80, (cn_id_t)(0x100 + i));
		e.source = SESS_SRC_AUTHD;
		assert_int_equal(tbl_put(t, &e), 0);
	}
	assert_int_equal(apply_and_compare(&cfg, t), 3000); /* 3 adds each */

	entry(&e, AF_INET, "198.18.1.4", "198.18.2.1", 80, 0x4444); /* add */
	e.source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(apply_and_compare(&cfg, t), 3); /* nothing to take out */
	assert_true(has("map ip coopnet_nfq ids", "0xc6120104c612020100500000 [invalid type] : 0x4444"));

	assert_false(has("set ip coopnet_nfq drop_wrong", "0xc6120104c612020100500000"));
	/* two wrong-ID drops, as a refresh of the counters reads them (kmstats.c): the renewal
	 * puts the session's drop_wrong element (test_nfq_kmsync's test_kernel_keeps reads the
	 * counts) */
	atomic_store(&((struct tbl_entry *)tbl_lookup(t, &e.key))->drops[TBL_DROP_WRONG_ID], 2);
	e.id = 0x4545; /* renewal: the old ID's element goes, to prev for the grace */
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(apply_and_compare(&cfg, t), 8);
	assert_true(has("set ip coopnet_nfq drop_wrong", "0xc6120104c612020100500000"));
	assert_false(has("set ip coopnet_nfq drop_noid", "0xc6120104c612020100500000"));
	assert_true(has("set ip coopnet_nfq prev", "0xc6120104c61202010050000044440000"));
	assert_false(has("set ip coopnet_nfq ok", "0xc6120104c61202010050000044440000"));
	assert_true(has("set ip coopnet_nfq ok", "0xc6120104c61202010050000045450000"));

	entry(&e, AF_INET, "198.18.1.2", "198.18.2.1", 80, 0x2222); /* hides the config one */
	e.source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(apply_and_compare(&cfg, t), 7); /* a renewal too: 0x1111 in prev */
	assert_false(has("set ip coopnet_nfq ok", "0xc6120102c61202010050000011110000"));
	assert_true(has("map ip coopnet_nfq ids", "0xc6120102c612020100500000 [invalid type] : 0x2222"));

	assert_true(tbl_del(t, &e.key)); /* the config one comes back, prev goes */
	assert_int_equal(apply_and_compare(&cfg, t), 7);
	assert_false(has("set ip coopnet_nfq prev", "0xc6120102c61202010050000011110000"));
	assert_true(has("map ip coopnet_nfq ids", "0xc6120102c612020100500000 [invalid type] : 0x1111"));
	assert_false(has("set ip coopnet_nfq ok", "0xc6120102c61202010050000022220000"));

	entry(&e, AF_INET, "198.18.1.4", "198.18.2.1", 80, 0x4545); /* delete, with its prev */
	assert_true(tbl_del(t, &e.key));
	assert_int_equal(apply_and_compare(&cfg, t), 7);
	assert_false(has("set ip coopnet_nfq prev", "0xc6120104c61202010050000044440000"));
	assert_false(has("set ip coopnet_nfq keys", "0xc6120104c612020100500000"));
	assert_false(has("set ip coopnet_nfq drop_wrong", "0xc6120104c612020100500000"));

	entry(&e, AF_INET, "198.18.1.5", "198.18.2.1", 80, 0x5555); /* expiry */
	e.source = SESS_SRC_AUTHD;
	e.expires = (uint64_t)time(NULL) + 100;
	assert_int_equal(tbl_put(t, &e), 0);
	assert_int_equal(apply_and_compare(&cfg, t), 3);
	assert_true(has("set ip coopnet_nfq keys", "0xc6120105c612020100500000"));
	assert_false(has("set ip coopnet_nfq drop_noid", "0xc6120105c612020100500000"));
	assert_int_equal(tbl_expire(t, e.expires, 10, NULL), 1);
	assert_int_equal(apply_and_compare(&cfg, t), 6);
	assert_false(has("set ip coopnet_nfq keys", "0xc6120105c612020100500000"));
	assert_false(has("set ip coopnet_nfq drop_other", "0xc6120105c612020100500000"));
	assert_int_equal(tbl_count(t), 1001);

	tbl_free(t);
	nftrule_remove(&cfg);
	nfq_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_key_v4),
		cmocka_unit_test(test_make_key_v6),
		cmocka_unit_test(test_effective_b_wins),
		cmocka_unit_test(test_same_copy),
		cmocka_unit_test(test_elem_counter_only_with_counts),
		cmocka_unit_test(test_kernel_set_sync),
		cmocka_unit_test(test_kernel_svc_copy),
		cmocka_unit_test(test_kernel_svc_follow),
		cmocka_unit_test(test_kernel_incremental),
		cmocka_unit_test(test_reader_kept),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
