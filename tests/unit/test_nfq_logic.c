/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq's packet logic (nfq/logic.c) as the pure function it is: (role, packet,
 * session table) -> (verdict, rewritten packet, reason), every branch, IPv4 and IPv6, with
 * packets from pktgen and checksums checked by its independent reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "logic.h"
#include "pktgen.h"
#include "table.h"

#define ID_A 0x6141
#define NOW 1800000000ULL

static const int families[] = {AF_INET, AF_INET6};

/* The test world: client C (spec saddr) talks to service S (spec daddr) port 80. */
struct world {
	struct sess_list sessions;
	struct svc_list svcs;
	struct sess_table *t;
};

static void world_free(struct world *w)
{
	tbl_free(w->t);
	sess_list_clear(&w->sessions);
	svc_list_clear(&w->svcs);
}

/* A table with the session (C, S, 80, ID_A, expires) and, if with_svc, the service S:80. */
static void world_make(struct world *w, int family, uint64_t expires, bool with_svc)
{
	struct pg_spec spec;
	struct cn_session s;

	memset(w, 0, sizeof(*w));
	pg_spec_default(&spec, family);
	memset(&s, 0, sizeof(s));
	s.family = family;
	memcpy(s.client, spec.saddr, 16);
	memcpy(s.service, spec.daddr, 16);
	s.port = 80;
	s.id = ID_A;
	s.expires = expires;
	assert_int_equal(sess_list_put(&w->sessions, &s, SESS_SRC_CONFIG), 0);
	if (with_svc)
		assert_int_equal(svc_list_add(&w->svcs, family, spec.daddr, 80), 0);
	w->t = tbl_build(&w->sessions, &w->svcs);
	assert_non_null(w->t);
}

/* A segment client -> service (reply: service -> client) with flags and urgent pointer. */
static size_t seg(uint8_t *buf, struct pg_info *info, int family, bool reply, uint8_t flags,
		  uint16_t urg, size_t payload, enum pg_csum_mode csum)
{
	struct pg_spec spec;
	uint8_t tmp[16];
	size_t len;

	pg_spec_default(&spec, family);
	if (reply) {
		memcpy(tmp, spec.saddr, 16);
		memcpy(spec.saddr, spec.daddr, 16);
		memcpy(spec.daddr, tmp, 16);
		spec.sport = 80;
		spec.dport = 40000;
	}
	spec.flags = flags;
	spec.urg_ptr = urg;
	spec.payload_len = payload;
	spec.csum = csum;
	len = pg_build(&spec, NULL, buf, PG_BUF_SIZE, info);
	assert_true(len > 0);
	return len;
}

static void decide(enum nfq_role role, bool strip, const struct world *w, uint8_t *buf,
		   size_t len, enum cn_csum_state csum, struct nfq_result *res)
{
	struct nfq_logic_cfg cfg = {.role = role, .strip = strip};

	nfq_decide(&cfg, w->t, buf, len, csum, NOW, res);
}

static uint16_t urgptr(const uint8_t *buf, const struct pg_info *info)
{
	return pg_get16(buf + info->l4_off + 18);
}

static void expect(const struct nfq_result *res, enum nfq_verdict v, enum nfq_reason r)
{
	if (res->verdict != v || res->reason != r)
		fail_msg("got verdict %d reason %s, want verdict %d reason %s", res->verdict,
			 nfq_reason_name(res->reason), v, nfq_reason_name(r));
}

/* ---- supervisor ---- */

static void test_ss_embeds_id(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], 0, true);
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0, 100, PG_CSUM_FULL);
		memcpy(orig, buf, len);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
		assert_int_equal(urgptr(buf, &info), ID_A);
		assert_false(buf[info.l4_off + 13] & CN_TCP_FLAG_URG);
		assert_true(pg_ref_tcp_valid(buf, &info));
		/* only the urgent pointer and the checksum changed */
		assert_memory_equal(buf, orig, info.l4_off + 16);
		assert_memory_equal(buf + info.l4_off + 20, orig + info.l4_off + 20,
				    len - info.l4_off - 20);
		world_free(&w);
	}
}

static void test_ss_embeds_partial_csum(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], 0, true);
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0, 1000, PG_CSUM_PARTIAL);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_PARTIAL, &res);
		expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
		/* a returned payload is final: the whole checksum must be right */
		assert_true(pg_ref_tcp_valid(buf, &info));
		assert_int_equal(urgptr(buf, &info), ID_A);
		world_free(&w);
	}
}

static void test_ss_urgent_dropped(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t len;

	(void)state;
	world_make(&w, AF_INET, 0, true);
	len = seg(buf, &info, AF_INET, false, CN_TCP_FLAG_ACK | CN_TCP_FLAG_URG, 5, 10,
		  PG_CSUM_FULL);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_URGENT);
	world_free(&w);
}

static void test_ss_truncated_not_returned(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t len;

	(void)state;
	world_make(&w, AF_INET6, 0, true);
	len = seg(buf, &info, AF_INET6, false, CN_TCP_FLAG_ACK, 0, 2000, PG_CSUM_FULL);
	memcpy(orig, buf, len);
	/* the copy range cut the packet: a payload verdict would cut it too */
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len - 500, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_TRUNCATED);
	assert_memory_equal(buf, orig, len);
	world_free(&w);
}

static void test_ss_checks_reply(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], NOW + 10, true);
		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK, ID_A, 50, PG_CSUM_FULL);
		memcpy(orig, buf, len);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_ACCEPT, R_CHECKED_OK);
		assert_memory_equal(buf, orig, len);

		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK, 0x4242, 50, PG_CSUM_FULL);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_DROP, R_DROP_WRONG_ID);

		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK, 0, 50, PG_CSUM_FULL);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_DROP, R_DROP_NO_ID);

		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK | CN_TCP_FLAG_URG, 3, 50,
			  PG_CSUM_FULL);
		decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_DROP, R_DROP_URGENT);
		world_free(&w);
	}
}

static void test_ss_strip_reply(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t len;

	(void)state;
	world_make(&w, AF_INET, 0, true);
	len = seg(buf, &info, AF_INET, true, CN_TCP_FLAG_ACK, ID_A, 50, PG_CSUM_FULL);
	decide(NFQ_ROLE_SUPERVISOR, true, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT_MODIFIED, R_CHECKED_OK);
	assert_int_equal(urgptr(buf, &info), 0);
	assert_true(pg_ref_tcp_valid(buf, &info));
	world_free(&w);
}

static void test_ss_session_miss(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	struct sess_key want;
	struct pg_spec spec;
	size_t len;

	(void)state;
	/* expired session: as if none */
	world_make(&w, AF_INET6, NOW, true);
	len = seg(buf, &info, AF_INET6, false, CN_TCP_FLAG_SYN, 0, 0, PG_CSUM_FULL);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_HOLD, R_SESSION_MISS);
	pg_spec_default(&spec, AF_INET6);
	sess_key_make(&want, AF_INET6, spec.saddr, spec.daddr, 80);
	assert_memory_equal(&res.miss, &want, sizeof(want));

	/* not a first SYN: passes (bridging) */
	len = seg(buf, &info, AF_INET6, false, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT, R_PASSED);
	len = seg(buf, &info, AF_INET6, true, CN_TCP_FLAG_SYN | CN_TCP_FLAG_ACK, 0, 0, PG_CSUM_FULL);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT, R_PASSED);
	world_free(&w);
}

static void test_ss_non_overlay_passes(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	struct pg_spec spec;
	size_t len;

	(void)state;
	world_make(&w, AF_INET, 0, true);
	/* SYN to another port of the service host: not an overlay service */
	pg_spec_default(&spec, AF_INET);
	spec.dport = 9090;
	spec.flags = CN_TCP_FLAG_SYN;
	len = pg_build(&spec, NULL, buf, sizeof(buf), &info);
	memcpy(orig, buf, len);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT, R_PASSED);
	assert_memory_equal(buf, orig, len);
	world_free(&w);

	/* without a service list every first SYN without a session is a miss */
	world_make(&w, AF_INET, 0, false);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_HOLD, R_SESSION_MISS);
	world_free(&w);
}

static void test_malformed(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	struct pg_spec spec;
	size_t len;

	(void)state;
	world_make(&w, AF_INET, 0, true);
	memset(buf, 0x45, 10);
	decide(NFQ_ROLE_SUPERVISOR, false, &w, buf, 10, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_MALFORMED);
	assert_int_equal(res.pkt, CN_PKT_ERR_IP_TRUNCATED);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, 0, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_MALFORMED);
	pg_spec_default(&spec, AF_INET);
	spec.proto = 17;
	len = pg_build(&spec, NULL, buf, sizeof(buf), &info);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_MALFORMED);
	assert_int_equal(res.pkt, CN_PKT_ERR_NOT_TCP);
	world_free(&w);
}

/* ---- provider ---- */

static void test_sp_checks_incoming(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], NOW + 1, true);
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_SYN, ID_A, 0, PG_CSUM_FULL);
		memcpy(orig, buf, len);
		decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_ACCEPT, R_CHECKED_OK);
		assert_memory_equal(buf, orig, len);

		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0x4142, 10, PG_CSUM_FULL);
		decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_DROP, R_DROP_WRONG_ID);

		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
		decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
		expect(&res, V_DROP, R_DROP_NO_ID);
		world_free(&w);
	}
}

static void test_sp_unknown_flow(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	struct pg_spec spec;
	size_t len;

	(void)state;
	/* expired: no live session, even with the right ID */
	world_make(&w, AF_INET, NOW, true);
	len = seg(buf, &info, AF_INET, false, CN_TCP_FLAG_SYN, ID_A, 0, PG_CSUM_FULL);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_UNKNOWN_FLOW);
	/* a reply from the service to a client without a session */
	len = seg(buf, &info, AF_INET, true, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_UNKNOWN_FLOW);
	world_free(&w);

	/* another client address, the right ID: still unknown */
	world_make(&w, AF_INET6, 0, true);
	pg_spec_default(&spec, AF_INET6);
	spec.saddr[15] = 99;
	spec.flags = CN_TCP_FLAG_SYN;
	spec.urg_ptr = ID_A;
	len = pg_build(&spec, NULL, buf, sizeof(buf), &info);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_UNKNOWN_FLOW);
	world_free(&w);
}

static void test_sp_embeds_reply(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, j, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			/* with and without a service list (then the session alone tells) */
			world_make(&w, families[i], 0, j == 0);
			len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK, 0, 1400,
				  PG_CSUM_PARTIAL);
			decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_PARTIAL, &res);
			expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
			assert_int_equal(urgptr(buf, &info), ID_A);
			assert_true(pg_ref_tcp_valid(buf, &info));
			world_free(&w);
		}
	}
}

static void test_sp_strip(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t len;

	(void)state;
	world_make(&w, AF_INET6, 0, true);
	len = seg(buf, &info, AF_INET6, false, CN_TCP_FLAG_ACK, ID_A, 100, PG_CSUM_FULL);
	decide(NFQ_ROLE_PROVIDER, true, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT_MODIFIED, R_CHECKED_OK);
	assert_int_equal(urgptr(buf, &info), 0);
	assert_true(pg_ref_tcp_valid(buf, &info));
	/* strip on a cut packet: not returned */
	len = seg(buf, &info, AF_INET6, false, CN_TCP_FLAG_ACK, ID_A, 100, PG_CSUM_FULL);
	decide(NFQ_ROLE_PROVIDER, true, &w, buf, len - 50, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_TRUNCATED);
	world_free(&w);
}

static void test_sp_other_traffic(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	struct pg_spec spec;
	size_t len;

	(void)state;
	/* with a service list: not to or from a protected service passes */
	world_make(&w, AF_INET, 0, true);
	pg_spec_default(&spec, AF_INET);
	spec.dport = 22;
	len = pg_build(&spec, NULL, buf, sizeof(buf), &info);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_ACCEPT, R_PASSED);
	world_free(&w);
	/* without a list, everything queued is protected */
	world_make(&w, AF_INET, 0, false);
	decide(NFQ_ROLE_PROVIDER, false, &w, buf, len, CN_CSUM_COMPLETE, &res);
	expect(&res, V_DROP, R_DROP_UNKNOWN_FLOW);
	world_free(&w);
}

static void test_empty_table(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct nfq_logic_cfg cfg = {.role = NFQ_ROLE_PROVIDER};
	size_t len;

	(void)state;
	len = seg(buf, &info, AF_INET, false, CN_TCP_FLAG_SYN, ID_A, 0, PG_CSUM_FULL);
	nfq_decide(&cfg, NULL, buf, len, CN_CSUM_COMPLETE, NOW, &res);
	expect(&res, V_DROP, R_DROP_UNKNOWN_FLOW);
	cfg.role = NFQ_ROLE_SUPERVISOR;
	nfq_decide(&cfg, NULL, buf, len, CN_CSUM_COMPLETE, NOW, &res);
	expect(&res, V_HOLD, R_SESSION_MISS);
}

/* header_only (the mark path): no byte of the buffer changes, the ID comes back in set_id, and
 * packets cut by a small copy range are fine since nothing is returned. */
static void test_header_only(void **state)
{
	uint8_t buf[PG_BUF_SIZE], orig[PG_BUF_SIZE];
	struct nfq_logic_cfg cfg = {.role = NFQ_ROLE_SUPERVISOR, .header_only = true};
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], 0, true);
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0, 3000, PG_CSUM_PARTIAL);
		memcpy(orig, buf, len);
		cfg.role = NFQ_ROLE_SUPERVISOR;
		cfg.strip = false;
		nfq_decide(&cfg, w.t, buf, 120, CN_CSUM_PARTIAL, NOW, &res);
		expect(&res, V_ACCEPT_SETID, R_EMBEDDED);
		assert_int_equal(res.set_id, ID_A);
		assert_memory_equal(buf, orig, len);

		/* provider strip: set_id 0 clears */
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, ID_A, 3000, PG_CSUM_FULL);
		cfg.role = NFQ_ROLE_PROVIDER;
		cfg.strip = true;
		nfq_decide(&cfg, w.t, buf, 120, CN_CSUM_COMPLETE, NOW, &res);
		expect(&res, V_ACCEPT_SETID, R_CHECKED_OK);
		assert_int_equal(res.set_id, 0);

		/* URG set: refused as in the payload path */
		cfg.strip = false;
		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK | CN_TCP_FLAG_URG, 1, 10,
			  PG_CSUM_FULL);
		nfq_decide(&cfg, w.t, buf, len, CN_CSUM_COMPLETE, NOW, &res);
		expect(&res, V_DROP, R_DROP_URGENT);
		world_free(&w);
	}
}

static void test_reason_names(void **state)
{
	int r;

	(void)state;
	for (r = 0; r < R__COUNT; r++)
		assert_string_not_equal(nfq_reason_name(r), "unknown");
	assert_string_equal(nfq_reason_name(R__COUNT), "unknown");
	assert_string_equal(nfq_reason_name(R_DROP_WRONG_ID), "dropped_wrong_id");
}

/* ---- renewal: the previous ID stays valid for TBL_RENEW_GRACE_S ---- */

static uint64_t fake_now(void)
{
	return NOW;
}

static void renew(struct world *w, cn_id_t id)
{
	struct sess_entry e = w->sessions.v[0];

	e.id = id;
	e.source = SESS_SRC_AUTHD;
	assert_int_equal(tbl_put(w->t, &e), 0);
}

static void decide_at(enum nfq_role role, const struct world *w, uint8_t *buf, size_t len,
		      uint64_t now, struct nfq_result *res)
{
	struct nfq_logic_cfg cfg = {.role = role};

	nfq_decide(&cfg, w->t, buf, len, CN_CSUM_COMPLETE, now, res);
}

static void test_renewal_grace(void **state)
{
	static const enum nfq_role roles[] = {NFQ_ROLE_PROVIDER, NFQ_ROLE_SUPERVISOR};
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	struct world w;
	size_t i, r, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (r = 0; r < 2; r++) {
			/* the segments that must carry the ID: to the service on the SP, the
			 * replies on the SS */
			bool reply = roles[r] == NFQ_ROLE_SUPERVISOR;

			world_make(&w, families[i], 0, true);
			w.t->clock = fake_now;
			renew(&w, 0x4242);
			len = seg(buf, &info, families[i], reply, CN_TCP_FLAG_ACK, ID_A, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW + TBL_RENEW_GRACE_S - 1, &res);
			expect(&res, V_ACCEPT, R_CHECKED_OK);
			decide_at(roles[r], &w, buf, len, NOW + TBL_RENEW_GRACE_S, &res);
			expect(&res, V_DROP, R_DROP_WRONG_ID);
			len = seg(buf, &info, families[i], reply, CN_TCP_FLAG_ACK, 0x4242, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW + 1000, &res);
			expect(&res, V_ACCEPT, R_CHECKED_OK);
			len = seg(buf, &info, families[i], reply, CN_TCP_FLAG_ACK, 0x5151, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW, &res);
			expect(&res, V_DROP, R_DROP_WRONG_ID);
			/* the other direction gets the new ID */
			len = seg(buf, &info, families[i], !reply, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW, &res);
			expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
			assert_int_equal(urgptr(buf, &info), 0x4242);
			/* a second renewal: only the latest previous ID counts */
			renew(&w, 0x4343);
			len = seg(buf, &info, families[i], reply, CN_TCP_FLAG_ACK, ID_A, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW, &res);
			expect(&res, V_DROP, R_DROP_WRONG_ID);
			len = seg(buf, &info, families[i], reply, CN_TCP_FLAG_ACK, 0x4242, 10, PG_CSUM_FULL);
			decide_at(roles[r], &w, buf, len, NOW, &res);
			expect(&res, V_ACCEPT, R_CHECKED_OK);
			/* the same ID again is no renewal: the window stays as it was */
			renew(&w, 0x4343);
			decide_at(roles[r], &w, buf, len, NOW + 1, &res);
			expect(&res, V_ACCEPT, R_CHECKED_OK);
			world_free(&w);
		}
	}
}

/* ---- a renewal ahead: an ID accepted, not written (tbl_accept, docs/nfq.md "Renewal") ---- */

static void sync_to(struct world *w, cn_id_t id)
{
	struct sess_list l;
	struct sess_entry e = w->sessions.v[0];

	e.id = id;
	e.source = SESS_SRC_AUTHD;
	sess_list_init(&l);
	assert_int_equal(sess_list_push(&l, &e), 0);
	assert_int_equal(tbl_sync_authd(w->t, &l, NULL), 0);
	sess_list_clear(&l);
}

/* role's segment that must carry the ID (to the service on the SP, a reply on the SS) with
 * id, decided at now: accepted or dropped as wrong ID; and the ID written the other way. */
static void expect_ids(enum nfq_role role, const struct world *w, int fam, cn_id_t id,
		       uint64_t now, bool accepted, cn_id_t written)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	bool reply = role == NFQ_ROLE_SUPERVISOR;
	size_t len = seg(buf, &info, fam, reply, CN_TCP_FLAG_ACK, id, 10, PG_CSUM_FULL);

	decide_at(role, w, buf, len, now, &res);
	if (accepted)
		expect(&res, V_ACCEPT, R_CHECKED_OK);
	else
		expect(&res, V_DROP, R_DROP_WRONG_ID);
	len = seg(buf, &info, fam, !reply, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
	decide_at(role, w, buf, len, now, &res);
	expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
	assert_int_equal(urgptr(buf, &info), written);
}

static void test_accept_ahead(void **state)
{
	static const enum nfq_role roles[] = {NFQ_ROLE_PROVIDER, NFQ_ROLE_SUPERVISOR};
	struct world w;
	size_t i, r;

	(void)state;
	for (i = 0; i < 2; i++) {
		for (r = 0; r < 2; r++) {
			enum nfq_role ro = roles[r];
			int f = families[i];
			struct sess_key k;

			world_make(&w, f, 0, true);
			w.t->clock = fake_now;
			renew(&w, ID_A); /* an authd session (the world's is a config one) */
			k = w.sessions.v[0].key;
			assert_int_equal(tbl_accept(w.t, &k, ID_A), 0);   /* its ID already */
			assert_int_equal(tbl_accept(w.t, &k, 0x4242), 1);
			/* both accepted, the current one written; the ahead one until TBL_ACCEPT_S */
			expect_ids(ro, &w, f, 0x4242, NOW + TBL_ACCEPT_S - 1, true, ID_A);
			expect_ids(ro, &w, f, ID_A, NOW, true, ID_A);
			expect_ids(ro, &w, f, 0x5151, NOW, false, ID_A);
			expect_ids(ro, &w, f, 0x4242, NOW + TBL_ACCEPT_S, false, ID_A);
			/* withdrawn: only the one it holds ahead, and then it is dropped */
			assert_int_equal(tbl_withdraw(w.t, &k, 0x5151), 0);
			assert_int_equal(tbl_withdraw(w.t, &k, 0x4242), 1);
			assert_int_equal(tbl_withdraw(w.t, &k, 0x4242), 0);
			expect_ids(ro, &w, f, 0x4242, NOW, false, ID_A);
			expect_ids(ro, &w, f, ID_A, NOW, true, ID_A);
			/* promoted by the commit: written now, the old one in its grace */
			assert_int_equal(tbl_accept(w.t, &k, 0x4242), 1);
			renew(&w, 0x4242);
			expect_ids(ro, &w, f, 0x4242, NOW + 1000, true, 0x4242);
			expect_ids(ro, &w, f, ID_A, NOW + TBL_RENEW_GRACE_S - 1, true, 0x4242);
			expect_ids(ro, &w, f, ID_A, NOW + TBL_RENEW_GRACE_S, false, 0x4242);
			assert_int_equal(tbl_withdraw(w.t, &k, ID_A), 0); /* a grace, not ahead */
			/* a session-sync withdraws what it does not make the ID... */
			assert_int_equal(tbl_accept(w.t, &k, 0x4343), 1);
			sync_to(&w, 0x4242);
			expect_ids(ro, &w, f, 0x4343, NOW, false, 0x4242);
			expect_ids(ro, &w, f, 0x4242, NOW, true, 0x4242);
			/* ...and promotes what it does */
			assert_int_equal(tbl_accept(w.t, &k, 0x4343), 1);
			sync_to(&w, 0x4343);
			expect_ids(ro, &w, f, 0x4343, NOW, true, 0x4343);
			expect_ids(ro, &w, f, 0x4242, NOW + TBL_RENEW_GRACE_S - 1, true, 0x4343);
			world_free(&w);
			/* a config session takes nothing ahead (authd's only) */
			world_make(&w, f, 0, true);
			k = w.sessions.v[0].key;
			assert_int_equal(tbl_accept(w.t, &k, 0x4242), 0);
			world_free(&w);
		}
	}
}

/* ---- per-session counters (nfq_account) ---- */

static void test_session_counters(void **state)
{
	uint8_t buf[PG_BUF_SIZE];
	struct pg_info info;
	struct nfq_result res;
	const struct tbl_entry *e;
	struct world w;
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_make(&w, families[i], 0, true);
		w.t->clock = fake_now;
		/* client -> service with the ID, twice; the reply once */
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, ID_A, 100, PG_CSUM_FULL);
		decide_at(NFQ_ROLE_PROVIDER, &w, buf, len, NOW, &res);
		assert_non_null(res.sess);
		assert_int_equal(res.sess_dir, 0);
		e = res.sess;
		nfq_account(&res, 1500, NOW);
		nfq_account(&res, 1000, NOW + 5);
		len = seg(buf, &info, families[i], true, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
		decide_at(NFQ_ROLE_PROVIDER, &w, buf, len, NOW + 6, &res);
		expect(&res, V_ACCEPT_MODIFIED, R_EMBEDDED);
		assert_ptr_equal(res.sess, e);
		assert_int_equal(res.sess_dir, 1);
		nfq_account(&res, 60000, NOW + 6);
		/* drops count by reason and do not make the session look alive */
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0x5151, 10, PG_CSUM_FULL);
		decide_at(NFQ_ROLE_PROVIDER, &w, buf, len, NOW + 9, &res);
		expect(&res, V_DROP, R_DROP_WRONG_ID);
		nfq_account(&res, 80, NOW + 9);
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, 0, 10, PG_CSUM_FULL);
		decide_at(NFQ_ROLE_PROVIDER, &w, buf, len, NOW + 9, &res);
		expect(&res, V_DROP, R_DROP_NO_ID);
		nfq_account(&res, 80, NOW + 9);
		assert_int_equal(atomic_load(&e->segs[0]), 2);
		assert_int_equal(atomic_load(&e->bytes[0]), 2500);
		assert_int_equal(atomic_load(&e->segs[1]), 1);
		assert_int_equal(atomic_load(&e->bytes[1]), 60000);
		assert_int_equal(atomic_load(&e->drops[TBL_DROP_WRONG_ID]), 1);
		assert_int_equal(atomic_load(&e->drops[TBL_DROP_NO_ID]), 1);
		assert_int_equal(atomic_load(&e->drops[TBL_DROP_OTHER]), 0);
		assert_int_equal(atomic_load(&e->last_seen), NOW + 6);
		/* a renewal keeps them */
		renew(&w, 0x4242);
		assert_int_equal(atomic_load(&e->segs[0]), 2);
		/* no session: nothing to count */
		len = seg(buf, &info, families[i], false, CN_TCP_FLAG_ACK, ID_A, 10, PG_CSUM_FULL);
		buf[info.l4_off + 2] ^= 1; /* another destination port */
		decide_at(NFQ_ROLE_PROVIDER, &w, buf, len, NOW, &res);
		assert_null(res.sess);
		nfq_account(&res, 80, NOW);
		world_free(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renewal_grace),
		cmocka_unit_test(test_accept_ahead),
		cmocka_unit_test(test_session_counters),
		cmocka_unit_test(test_ss_embeds_id),
		cmocka_unit_test(test_ss_embeds_partial_csum),
		cmocka_unit_test(test_ss_urgent_dropped),
		cmocka_unit_test(test_ss_truncated_not_returned),
		cmocka_unit_test(test_ss_checks_reply),
		cmocka_unit_test(test_ss_strip_reply),
		cmocka_unit_test(test_ss_session_miss),
		cmocka_unit_test(test_ss_non_overlay_passes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sp_checks_incoming),
		cmocka_unit_test(test_sp_unknown_flow),
		cmocka_unit_test(test_sp_embeds_reply),
		cmocka_unit_test(test_sp_strip),
		cmocka_unit_test(test_sp_other_traffic),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
