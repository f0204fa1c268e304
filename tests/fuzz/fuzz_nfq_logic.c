/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for coopnet-nfq's packet logic (nfq/logic.c): arbitrary bytes as a queued
 * packet, both roles, payload and header-only paths, against a table whose session matches the
 * packet's own addresses (so the deep branches are reached). Aborts on a broken promise: a
 * changed length, a byte changed outside the urgent pointer and checksum, a V_ACCEPT that
 * modified the buffer.
 *
 *   ./configure --enable-fuzzing CC=clang && make
 *   tests/fuzz/fuzz_nfq_logic -max_total_time=60 tests/fuzz/corpus/packet
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "logic.h"
#include "packet.h"
#include "table.h"
#include "fuzzcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[70000], orig[70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sess_list l;
	struct svc_list sv;
	struct sess_table *t;
	struct cn_session s;
	struct cn_pkt p;
	struct nfq_result res;
	int role, mode, reply;

	if (size < 2 || size - 1 > sizeof(buf))
		return 0;
	/* the first byte picks role, path, direction of the session and a service list */
	role = data[0] & 1;
	mode = (data[0] >> 1) & 1;
	reply = (data[0] >> 2) & 1;
	memcpy(buf, data + 1, size - 1);
	memcpy(orig, buf, size - 1);

	sess_list_init(&l);
	svc_list_init(&sv);
	memset(&s, 0, sizeof(s));
	if (cn_pkt_parse(&p, buf, size - 1) == CN_PKT_OK) {
		s.family = p.family;
		memcpy(s.client, reply ? p.daddr : p.saddr, 16);
		memcpy(s.service, reply ? p.saddr : p.daddr, 16);
		s.port = reply ? p.sport : p.dport;
		s.id = (cn_id_t)(0x6141 + (data[0] >> 3));
		if (s.port && sess_list_put(&l, &s, SESS_SRC_CONFIG) < 0)
			abort();
		if ((data[0] & 0x80) && svc_list_add(&sv, s.family, s.service, s.port) < 0)
			abort();
	}
	t = tbl_build(&l, &sv);
	CHECK(t != NULL);
	/* bit 3: the session is an authd one with a second ID accepted ahead of a renewal (the
	 * previous-ID slot, not written: docs/nfq.md "Renewal") */
	if ((data[0] & 0x08) && l.n == 1) {
		struct sess_entry e = l.v[0];

		e.source = SESS_SRC_AUTHD;
		CHECK(tbl_put(t, &e) == 0);
		CHECK(tbl_accept(t, &e.key, (cn_id_t)(e.id ^ 0x0101)) == 1);
	}
	{
		struct nfq_logic_cfg cfg = {
			.role = role ? NFQ_ROLE_PROVIDER : NFQ_ROLE_SUPERVISOR,
			.strip = (data[0] >> 6) & 1,
			.header_only = mode,
		};

		nfq_decide(&cfg, t, buf, size - 1, (data[0] & 0x20) ? CN_CSUM_PARTIAL :
			   CN_CSUM_COMPLETE, 1800000000ULL, &res);
	}
	CHECK(res.reason < R__COUNT);
	if (res.verdict != V_ACCEPT_MODIFIED) {
		CHECK(memcmp(buf, orig, size - 1) == 0);
	} else {
		size_t i;

		CHECK(!mode);
		CHECK(cn_pkt_parse(&p, orig, size - 1) == CN_PKT_OK);
		for (i = 0; i < size - 1; i++)
			if (buf[i] != orig[i])
				CHECK(i >= p.l4_off + 16 && i < p.l4_off + 20);
		CHECK((buf[p.l4_off + 13] & CN_TCP_FLAG_URG) == 0);
	}
	tbl_free(t);
	sess_list_clear(&l);
	svc_list_clear(&sv);
	return 0;
}
