/* SPDX-License-Identifier: MIT */
/*
 * The decision table twice, compared: generated packets (tests/unit/pktgen.c) through the real
 * nftables of kernel mode (the worker's own rules, nfq/nftrule.c + nfq/kernelmode.c, and the
 * rule file's guard, loaded by tests/netns/nfq-diff.test) and through nfq_decide
 * (nfq/logic.c), with the same sessions and services. Per packet: the same verdict (accepted,
 * dropped, or queued as a session miss) and, when accepted, the same urgent pointer (the ID
 * written, checked, or left alone). Run by tests/netns/nfq-diff.test as root in a private
 * network namespace, where:
 *   - a tun device (NAME) is up with routes for the client and service nets back through it,
 *     and forwarding is on: a packet written to it is forwarded out of it again, through the
 *     forward hook (the worker's hook here, "hooks": ["forward"], for both roles);
 *   - the rule file (nft-rules/supervisor-kernel.nft, and provider-kernel.nft for the
 *     provider's set) is loaded with the services of SERVICES below in its sets.
 * After each test packet a UDP sentinel follows the same path; once it is read back, the test
 * packet has been forwarded (read from the tun), queued (read from queue QNUM) or dropped.
 *
 *   nfq-diff TUN supervisor|provider COUNT [SEED]
 * Exit 0 when every packet agrees, 1 on the first divergence (printed with the seed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/if_tun.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kernelmode.h"
#include "logic.h"
#include "nfqconf.h"
#include "nftrule.h"
#include "pktgen.h"

#define QNUM 7

/* Who is who: three clients, two service addresses, three ports; (svc1, 80), (svc1, 443)
 * and (svc2, 80) are services; sessions for three (client, service, port), IDs below. */
static const char *const C4[] = { "198.18.1.1", "198.18.1.2", "198.18.1.3" };
static const char *const S4[] = { "198.18.2.1", "198.18.2.2" };
static const char *const C6[] = { "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3" };
static const char *const S6[] = { "2001:db8:2::1", "2001:db8:2::2" };
static const uint16_t PORTS[] = { 80, 443, 8080 };

static const char CONFIG[] =
	"{ \"role\": \"%s\", \"mode\": \"kernel\", \"queue\": {\"num\": %d, \"count\": 1},\n"
	"  \"queue_rule\": {\"hooks\": [\"forward\"]}, \"miss_hold_ms\": 1000,\n"
	"  \"services\": [{\"address\": \"198.18.2.1\", \"port\": 80}, {\"address\": \"198.18.2.1\", \"port\": 443},\n"
	"    {\"address\": \"198.18.2.2\", \"port\": 80}, {\"address\": \"2001:db8:2::1\", \"port\": 80},\n"
	"    {\"address\": \"2001:db8:2::1\", \"port\": 443}, {\"address\": \"2001:db8:2::2\", \"port\": 80}],\n"
	"  \"sessions\": [\n"
	"    {\"client\": \"198.18.1.1\", \"service\": \"198.18.2.1\", \"port\": 80, \"id\": \"0x1111\"},\n"
	"    {\"client\": \"198.18.1.2\", \"service\": \"198.18.2.1\", \"port\": 443, \"id\": \"0x2222\"},\n"
	"    {\"client\": \"198.18.1.1\", \"service\": \"198.18.2.2\", \"port\": 80, \"id\": \"0x3333\"},\n"
	"    {\"client\": \"2001:db8:1::1\", \"service\": \"2001:db8:2::1\", \"port\": 80, \"id\": \"0x4444\"},\n"
	"    {\"client\": \"2001:db8:1::2\", \"service\": \"2001:db8:2::1\", \"port\": 443, \"id\": \"0x5555\"},\n"
	"    {\"client\": \"2001:db8:1::1\", \"service\": \"2001:db8:2::2\", \"port\": 80, \"id\": \"0x6666\"}\n"
	"  ] }\n";

static int tun_fd = -1;
static struct nfq_handle *qh;
static int q_fd = -1;
static uint32_t held_seq; /* TCP seq of the last packet seen on the queue, 0: none */
static bool held;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "nfq-diff: %s%s%s\n", what, why[0] ? ": " : "", why);
	exit(2);
}

/* Offset of the TCP header in an IPv4 packet or an IPv6 one with destination or hop-by-hop
 * options (what make_spec generates), 0 if it is not TCP or is cut short. */
static size_t tcp_off(const uint8_t *p, size_t len)
{
	size_t l4;
	uint8_t nh;

	if (len < 20)
		return 0;
	if ((p[0] >> 4) == 4) {
		l4 = (size_t)(p[0] & 15) * 4;
		return p[9] == 6 && len >= l4 + 20 ? l4 : 0;
	}
	for (l4 = 40, nh = len >= 40 ? p[6] : 0; nh == 0 || nh == 60;) {
		if (l4 + 8 > len)
			return 0;
		nh = p[l4];
		l4 += 8 * ((size_t)p[l4 + 1] + 1);
	}
	return nh == 6 && len >= l4 + 20 ? l4 : 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int queued(struct nfq_q_handle *q, struct nfgenmsg *m, struct nfq_data *d, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(d);
	unsigned char *p;
	int len = nfq_get_payload(d, &p);

	(void)m;
	(void)data;
	if (len > 0) {
		size_t l4 = tcp_off(p, (size_t)len);

		if (l4) {
			held_seq = get32(p + l4 + 4);
			held = true;
		}
	}
	return nfq_set_verdict(q, ntohl(ph->packet_id), NF_DROP, 0, NULL);
}

static void open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };

	tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun_fd < 0)
		die("/dev/net/tun", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF", strerror(errno));
}

static void open_queue(void)
{
	struct nfq_q_handle *q;

	qh = nfq_open();
	if (!qh)
		die("nfq_open", strerror(errno));
	q = nfq_create_queue(qh, QNUM, queued, NULL);
	if (!q || nfq_set_mode(q, NFQNL_COPY_PACKET, 128) < 0)
		die("queue", strerror(errno));
	q_fd = nfq_fd(qh);
	fcntl(q_fd, F_SETFL, O_NONBLOCK);
}

/* The sentinel: UDP 198.18.1.250:9 -> 198.18.2.250:9 carrying n. */
static void send_sentinel(uint32_t n)
{
	uint8_t p[32] = { 0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17 };
	uint32_t sum = 0;

	inet_pton(AF_INET, "198.18.1.250", p + 12);
	inet_pton(AF_INET, "198.18.2.250", p + 16);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pg_put16(p + 10, (uint16_t)~sum);
	pg_put16(p + 20, 9);
	pg_put16(p + 22, 9);
	pg_put16(p + 24, 12);
	memcpy(p + 28, &n, 4);
	if (write(tun_fd, p, sizeof(p)) != (ssize_t)sizeof(p))
		die("writing the sentinel", strerror(errno));
}

struct seen {
	bool forwarded, held;
	uint16_t urg;
	bool csum_ok;
};

/* Read back until sentinel n: the test packet (family, seq) forwarded, queued or neither.
 * false when the sentinel is not back within ms. */
static bool collect(int family, uint32_t seq, uint32_t n, struct seen *s, long ms)
{
	uint8_t buf[PG_BUF_SIZE];
	struct timespec t0, t;

	memset(s, 0, sizeof(*s));
	held = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf[2] = { { tun_fd, POLLIN, 0 }, { q_fd, POLLIN, 0 } };
		ssize_t len;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return false;
		if (poll(pf, 2, 50) < 0)
			die("poll", strerror(errno));
		if (pf[1].revents & POLLIN) {
			char qb[4096];
			int r = (int)recv(q_fd, qb, sizeof(qb), 0);

			if (r > 0)
				nfq_handle_packet(qh, qb, r);
			if (held && held_seq == seq)
				s->held = true;
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		while ((len = read(tun_fd, buf, sizeof(buf))) > 0) {
			struct pg_info info = { .len = (size_t)len };
			bool v4 = (buf[0] >> 4) == 4;
			size_t l4;
			uint32_t got;

			if (v4 && buf[9] == 17 && len == 32 && !memcmp(buf + 28, &n, 4)) {
				/* drain what the queue holds before deciding */
				char qb[4096];
				int r;

				while ((r = (int)recv(q_fd, qb, sizeof(qb), MSG_DONTWAIT)) > 0)
					nfq_handle_packet(qh, qb, r);
				if (held && held_seq == seq)
					s->held = true;
				return true;
			}
			if ((v4 ? AF_INET : AF_INET6) != family ||
			    !(l4 = tcp_off(buf, (size_t)len)))
				continue;
			got = get32(buf + l4 + 4);
			if (got != seq)
				continue;
			s->forwarded = true;
			s->urg = pg_get16(buf + l4 + 18);
			info.ip_len = v4 ? pg_get16(buf + 2) : 40 + (size_t)pg_get16(buf + 4);
			info.l4_off = l4;
			info.tcp_hdrlen = (size_t)(buf[l4 + 12] >> 4) * 4;
			info.tcp_len = info.ip_len - l4;
			memcpy(info.pseudo_daddr, v4 ? buf + 16 : buf + 24, v4 ? 4 : 16);
			s->csum_ok = pg_ref_tcp_valid(buf, &info);
		}
	}
}

static void pick_addr(int family, bool client, struct pg_rng *rng, uint8_t *out)
{
	const char *a = family == AF_INET ? (client ? C4 : S4)[pg_rng_range(rng, 0, client ? 2 : 1)]
					  : (client ? C6 : S6)[pg_rng_range(rng, 0, client ? 2 : 1)];

	inet_pton(family, a, out);
}

/* A random segment between the pools, in either direction, with a urgent pointer that is
 * the session's ID, 0 or anything; URG set now and then; a bare SYN now and then. */
static void make_spec(struct pg_spec *sp, struct pg_rng *rng, const struct sess_table *t,
		      const struct sess_list *sl, enum nfq_role role)
{
	int family = pg_rng_range(rng, 0, 1) ? AF_INET6 : AF_INET;
	bool to_service = pg_rng_range(rng, 0, 1);
	uint8_t client[16] = { 0 }, service[16] = { 0 };
	uint16_t port = PORTS[pg_rng_range(rng, 0, 2)];
	struct sess_key k;
	const struct tbl_entry *e;

	pg_spec_random(sp, rng, family, 64);
	pick_addr(family, true, rng, client);
	pick_addr(family, false, rng, service);
	memcpy(to_service ? sp->saddr : sp->daddr, client, 16);
	memcpy(to_service ? sp->daddr : sp->saddr, service, 16);
	if (to_service)
		sp->dport = port;
	else
		sp->sport = port;
	/* what a router forwards untouched: no IP options, no fragments, a TTL to spare, at
	 * most one destination options header (not parsed on the way) */
	sp->ttl = 64;
	sp->ip4_optlen = 0;
	sp->ip4_more_frags = false;
	sp->n_ext = 0;
	if (family == AF_INET6 && pg_rng_range(rng, 0, 3) == 0)
		pg_spec_add_ext(sp, PG_EXT_DSTOPTS, (uint8_t)pg_rng_range(rng, 0, 2));
	if (pg_rng_range(rng, 0, 3) == 0)
		sp->flags = 0x02; /* SYN */
	if (pg_rng_range(rng, 0, 7) == 0)
		sp->flags |= 0x20; /* URG */
	sess_key_make(&k, family, client, service, port);
	e = tbl_lookup(t, &k);
	switch (pg_rng_range(rng, 0, 2)) {
	case 0:
		sp->urg_ptr = e ? tbl_entry_id(e) : (uint16_t)pg_rng_next(rng);
		break;
	case 1:
		sp->urg_ptr = 0;
		break;
	default:
		break; /* the generator's random value */
	}
	/* after a renewal (sl set): half the segments are of a session, in the direction that
	 * is checked, with its previous ID (accepted within the grace, dropped after) */
	if (sl && sl->n && pg_rng_range(rng, 0, 1)) {
		const struct sess_entry *se = &sl->v[pg_rng_range(rng, 0, (int)sl->n - 1)];
		bool fwd = role == NFQ_ROLE_PROVIDER; /* SP checks client -> service */
		uint32_t until;

		sp->family = se->key.family;
		memcpy(fwd ? sp->saddr : sp->daddr, se->key.client, 16);
		memcpy(fwd ? sp->daddr : sp->saddr, se->key.service, 16);
		if (fwd)
			sp->dport = se->key.port;
		else
			sp->sport = se->key.port;
		sp->flags &= (uint8_t)~0x22; /* no URG, no bare SYN */
		sp->flags |= 0x10;
		e = tbl_lookup(t, &se->key);
		sp->urg_ptr = e ? tbl_entry_prev(e, &until) : 0;
		if (sp->family == AF_INET)
			sp->n_ext = 0;
	}
	if (sp->seq == 0)
		sp->seq = 1;
	sp->csum = PG_CSUM_FULL;
}

/* What kernel mode's per-session counters (nfq/kmstats.c) must show: per entry of the table
 * and direction, the segments the decision table accepted with the session's current ID
 * (written or checked) and their bytes; per entry, the segments it dropped by reason, as the
 * queue threads count them (nfq_account: no ID, another ID, other). */
#define MAX_SESS 16
static struct {
	const struct tbl_entry *e;
	uint64_t segs[2], bytes[2], drops[3];
} expect[MAX_SESS];

static int slot(const struct tbl_entry *e)
{
	for (int i = 0; i < MAX_SESS; i++)
		if (!expect[i].e || expect[i].e == e) {
			expect[i].e = e;
			return i;
		}
	die("more sessions than MAX_SESS", "");
	return -1;
}

/* A segment nfq_decide dropped: on its session (if any), by reason as nfq_account counts. */
static void expect_drop(const struct nfq_result *res)
{
	if (!res->sess)
		return;
	expect[slot(res->sess)].drops[res->reason == R_DROP_NO_ID ? TBL_DROP_NO_ID :
				      res->reason == R_DROP_WRONG_ID ? TBL_DROP_WRONG_ID :
				      TBL_DROP_OTHER]++;
}

static void expect_count(const struct sess_table *t, const struct pg_spec *sp, size_t len)
{
	struct sess_key k;
	const struct tbl_entry *e;
	int dir = 0;

	sess_key_make(&k, sp->family, sp->saddr, sp->daddr, sp->dport);
	if (!(e = tbl_lookup(t, &k))) {
		dir = 1;
		sess_key_make(&k, sp->family, sp->daddr, sp->saddr, sp->sport);
		if (!(e = tbl_lookup(t, &k)))
			return;
	}
	expect[slot(e)].segs[dir]++;
	expect[slot(e)].bytes[dir] += len;
}

/* The kernel's drop counts of session i against the decision table's (by reason). The total
 * into *sum. */
static void check_drops(int i, const char *when, uint64_t *sum)
{
	static const char *const why[3] = {"no ID", "wrong ID", "other"};

	for (int r = 0; r < 3; r++) {
		uint64_t got = atomic_load(&expect[i].e->drops[r]);

		if (got != expect[i].drops[r]) {
			fprintf(stderr, "nfq-diff: %s: session %d: kernel counted %llu drops for "
				"%s; the decision table dropped %llu\n", when, i,
				(unsigned long long)got, why[r],
				(unsigned long long)expect[i].drops[r]);
			exit(1);
		}
		*sum += got;
	}
}

/* The kernel's element counters, read by the worker's own kmode_stats_refresh into the
 * table's entries, against what the decision table accepted and dropped. Returns the
 * sessions checked; *drops: the drops counted on them. */
static int check_counts(const struct nfq_config *cfg, struct sess_table *t, const char *when,
			uint64_t *drops)
{
	int n = 0;

	*drops = 0;
	if (kmode_stats_refresh(cfg, t) < 0)
		die("kmode_stats_refresh", strerror(errno));
	for (int i = 0; i < MAX_SESS && expect[i].e; i++, n++) {
		check_drops(i, when, drops);
		for (int d = 0; d < 2; d++) {
			uint64_t segs = atomic_load(&expect[i].e->segs[d]);
			uint64_t bytes = atomic_load(&expect[i].e->bytes[d]);

			if (segs != expect[i].segs[d] || bytes != expect[i].bytes[d]) {
				fprintf(stderr, "nfq-diff: %s: session %d direction %d: kernel counted "
					"%llu segments, %llu bytes; the decision table accepted %llu, "
					"%llu\n", when, i, d, (unsigned long long)segs,
					(unsigned long long)bytes,
					(unsigned long long)expect[i].segs[d],
					(unsigned long long)expect[i].bytes[d]);
				exit(1);
			}
		}
	}
	return n;
}

static const char *vname(bool fwd, bool hold)
{
	return hold ? "queued" : fwd ? "accepted" : "dropped";
}

/* The worker's kernel-mode table (the worker's own code) and the same sessions for
 * nfq_decide. */
static struct sess_table *setup(struct nfq_config *cfg, struct kmode_svc *kmsvc, const char *role)
{
	struct jconf_schema *schema;
	struct jconf_error je;
	struct sess_list none;
	struct sess_table *t;
	char text[4096], eb[512];

	snprintf(text, sizeof(text), CONFIG, role, QNUM);
	schema = nfq_config_schema(&je);
	if (!schema || nfq_config_load_buffer(cfg, "nfq-diff.json", text, strlen(text), schema,
					      &je) < 0)
		die("configuration", jconf_error_str(&je, eb, sizeof(eb)));
	sess_list_init(&none);
	if (nftrule_install(cfg, &cfg->sessions, &none) == QEXPR_NONE)
		die("installing kernel mode's rules", strerror(errno));
	if (kmode_svc_sync(kmsvc, cfg) < 0)
		die("copying the rule file's service set", "");
	t = tbl_build(&cfg->sessions, &cfg->services);
	if (!t)
		die("tbl_build", strerror(errno));
	return t;
}

/* The tun's carrier comes up when it is attached, and the kernel starts sending on it a
 * moment later (link watch): wait until a sentinel goes round. */
static void warm_up(void)
{
	for (uint32_t w = 0;; w++) {
		struct seen s;

		send_sentinel(0xffff0000u + w);
		if (collect(AF_INET, 0, 0xffff0000u + w, &s, 200))
			return;
		if (w == 25)
			die("no sentinel came back through the tun within 5 s", "");
	}
}

/* Packet i through both. Returns the outcome's index in counts (accepted unchanged, with
 * the ID written, dropped, queued), or -1 after printing a divergence. */
static int compare_one(unsigned long i, uint64_t seed, const char *role, enum nfq_role r,
		       const struct sess_table *t, const struct sess_list *renewed,
		       struct pg_rng *rng, bool *prev_id)
{
	struct nfq_logic_cfg lc = { .role = r, .strip = false, .header_only = false };
	struct pg_spec sp;
	struct pg_info info;
	struct nfq_result res;
	struct seen s;
	uint8_t pkt[PG_BUF_SIZE], dec[PG_BUF_SIZE];
	size_t len;
	bool want_fwd, want_hold;
	uint16_t want_urg;

	make_spec(&sp, rng, t, renewed, r);
	len = pg_build(&sp, rng, pkt, sizeof(pkt), &info);
	if (!len)
		die("pg_build failed", "");
	memcpy(dec, pkt, len);
	nfq_decide(&lc, t, dec, info.ip_len, CN_CSUM_COMPLETE, (uint64_t)time(NULL), &res);
	want_hold = res.verdict == V_HOLD;
	want_fwd = res.verdict == V_ACCEPT || res.verdict == V_ACCEPT_MODIFIED;
	want_urg = pg_get16(dec + info.l4_off + 18);
	*prev_id = false;
	if (renewed) { /* a segment of a renewed session carrying its previous ID */
		struct sess_key k;
		const struct tbl_entry *e;
		uint32_t until;
		bool fwd = r == NFQ_ROLE_PROVIDER;

		sess_key_make(&k, sp.family, fwd ? sp.saddr : sp.daddr, fwd ? sp.daddr : sp.saddr,
			      fwd ? sp.dport : sp.sport);
		e = tbl_lookup(t, &k);
		*prev_id = e && sp.urg_ptr && sp.urg_ptr == tbl_entry_prev(e, &until) &&
			   !(sp.flags & 0x20);
	}
	if (write(tun_fd, pkt, info.ip_len) != (ssize_t)info.ip_len)
		die("writing a packet", strerror(errno));
	send_sentinel((uint32_t)i);
	if (!collect(sp.family, sp.seq, (uint32_t)i, &s, 3000)) {
		fprintf(stderr, "nfq-diff: packet %lu: ", i);
		die("its sentinel did not come back within 3 s", "");
	}
	/* a segment kernel mode queues goes to the worker, which decides it with nfq_decide:
	 * a session miss, or a first SYN that only the worker may judge (URG set) */
	if (s.held && res.reason == R_DROP_URGENT)
		want_hold = true, want_fwd = false;
	if (s.forwarded != want_fwd || s.held != want_hold ||
	    (want_fwd && (s.urg != want_urg || !s.csum_ok))) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

		fprintf(stderr, "nfq-diff: DIVERGENCE at packet %lu (seed %llu, %s): %s %s:%u -> "
			"%s:%u flags 0x%02x urgptr 0x%04x\n"
			"  nfq_decide: %s (%s), urgptr 0x%04x\n"
			"  kernel:     %s, urgptr 0x%04x%s\n",
			i, (unsigned long long)seed, role,
			sp.family == AF_INET ? "IPv4" : "IPv6",
			inet_ntop(sp.family, sp.saddr, a, sizeof(a)), sp.sport,
			inet_ntop(sp.family, sp.daddr, b, sizeof(b)), sp.dport, sp.flags,
			sp.urg_ptr, vname(want_fwd, want_hold), nfq_reason_name(res.reason),
			want_urg, vname(s.forwarded, s.held), s.urg,
			s.forwarded && !s.csum_ok ? " (bad TCP checksum)" : "");
		if (getenv("NFQ_DIFF_DUMP")) /* debugging aid: the rules as the kernel has them */
			(void)!system("nft list ruleset >&2");
		return -1;
	}
	if (want_fwd && !*prev_id && (res.reason == R_EMBEDDED || res.reason == R_CHECKED_OK))
		expect_count(t, &sp, info.ip_len);
	if (res.verdict == V_DROP && !s.held)
		expect_drop(&res);
	return want_hold ? 3 : !want_fwd ? 2 : res.verdict == V_ACCEPT_MODIFIED ? 1 : 0;
}

/* The renewal phases: a table clock GRACE_RUN s short of the real one makes the previous IDs'
 * grace end GRACE_RUN s from now instead of TBL_RENEW_GRACE_S. */
#define GRACE_RUN 6
static uint64_t early_clock(void)
{
	return (uint64_t)time(NULL) - (TBL_RENEW_GRACE_S - GRACE_RUN);
}

/* Every session gets a new ID (a renewal, as a session-add from coopnet-authd makes it), the
 * worker's own kmode_apply sends the change-set. Returns the end of the grace. */
static uint64_t renew_all(const struct nfq_config *cfg, struct sess_table *t)
{
	const struct tbl_change *c;
	size_t n, sent, i;
	bool lost;

	t->clock = early_clock;
	tbl_changes_track(t, true);
	for (i = 0; i < cfg->sessions.n; i++) {
		struct sess_entry e = cfg->sessions.v[i];

		e.id ^= 0x0f0f;
		e.source = SESS_SRC_AUTHD;
		if (tbl_put(t, &e) < 0)
			die("tbl_put", "");
	}
	c = tbl_changes(t, &n, &lost);
	if (lost || kmode_apply(cfg, t, c, n, &sent) < 0)
		die("kmode_apply of the renewals", strerror(errno));
	tbl_changes_clear(t);
	return early_clock() + TBL_RENEW_GRACE_S;
}

/* Up to count packets (phase 1: random; 2 and 3: after the renewal, with previous IDs), until
 * the clock reaches stop (0: no limit). counts[4]: outcomes; prev[2]: previous-ID segments
 * accepted, dropped. */
static void run_phase(unsigned long count, uint64_t stop, uint64_t seed, const char *role,
		      const struct nfq_config *cfg, const struct sess_table *t, bool renewed,
		      struct pg_rng *rng, unsigned long counts[4], unsigned long prev[2])
{
	static unsigned long i;

	for (unsigned long j = 0; j < count && (!stop || (uint64_t)time(NULL) < stop); j++, i++) {
		bool pid;
		int k = compare_one(i, seed, role, cfg->role, t, renewed ? &cfg->sessions : NULL,
				    rng, &pid);

		if (k < 0)
			exit(1);
		counts[k]++;
		if (pid)
			prev[k == 2]++;
	}
}

int main(int argc, char **argv)
{
	struct kmode_svc kmsvc = { .have_gen = false };
	struct nfq_config cfg;
	struct sess_table *t;
	struct pg_rng rng;
	unsigned long count, counts[4] = { 0 }, in_grace[2] = { 0 }, after[2] = { 0 };
	uint64_t seed, until, drops, all_drops;
	int nsess;

	if (argc < 4 || argc > 5 || (strcmp(argv[2], "supervisor") && strcmp(argv[2], "provider")))
		die("usage: nfq-diff TUN supervisor|provider COUNT [SEED]", "");
	count = strtoul(argv[3], NULL, 10);
	if (count < 1 || count > 100000)
		die("COUNT must be 1..100000, not", argv[3]);
	if (argc == 5)
		setenv("PKTGEN_SEED", argv[4], 1);
	seed = pg_seed_from_env("nfq-diff");
	pg_rng_seed(&rng, seed);
	t = setup(&cfg, &kmsvc, argv[2]);
	open_tun(argv[1]);
	open_queue();
	warm_up();
	run_phase(count, 0, seed, argv[2], &cfg, t, false, &rng, counts, in_grace);
	printf("nfq-diff %s: %lu packets agree (seed %llu): %lu accepted unchanged, %lu accepted "
	       "with the ID written, %lu dropped, %lu queued as session misses\n", argv[2], count,
	       (unsigned long long)seed, counts[0], counts[1], counts[2], counts[3]);
	nsess = check_counts(&cfg, t, "before the renewal", &drops);
	printf("nfq-diff %s: per-session counters of %d sessions as accepted, drops by reason "
	       "as dropped (%llu)\n", argv[2], nsess, (unsigned long long)drops);
	all_drops = drops;
	/* renewal: within the grace (stopping 1 s before its end), then 1 s after it */
	until = renew_all(&cfg, t);
	memset(in_grace, 0, sizeof(in_grace));
	run_phase(count, until - 1, seed, argv[2], &cfg, t, true, &rng, counts, in_grace);
	while ((uint64_t)time(NULL) < until + 1)
		usleep(100000);
	run_phase(count / 2 + 1, 0, seed, argv[2], &cfg, t, true, &rng, counts, after);
	nsess = check_counts(&cfg, t, "after the renewal", &drops);
	printf("nfq-diff %s: per-session counters of %d sessions carried over the renewal, "
	       "drops by reason too (%llu)\n", argv[2], nsess, (unsigned long long)drops);
	all_drops = all_drops && drops > all_drops ? drops : 0; /* some before, more after */
	printf("nfq-diff %s: after a renewal, previous ID within the grace: %lu accepted, %lu "
	       "dropped; after it: %lu accepted, %lu dropped (both agree with nfq_decide)\n",
	       argv[2], in_grace[0], in_grace[1], after[0], after[1]);
	tbl_free(t);
	kmode_svc_free(&kmsvc);
	nfq_config_clear(&cfg);
	/* the phases must have shown both sides of the grace, and session drops before the
	 * renewal and after it */
	if (!all_drops)
		fprintf(stderr, "nfq-diff: no session drop counted before or after the renewal\n");
	return in_grace[0] > 0 && in_grace[1] == 0 && after[0] == 0 && after[1] > 0 && all_drops
		       ? 0 : 1;
}
