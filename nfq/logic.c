/* SPDX-License-Identifier: MIT */
#include "logic.h"

#include <stddef.h>
#include <string.h>

static const char *const reason_names[R__COUNT] = {
	[R_EMBEDDED] = "embedded",
	[R_PASSED] = "passed",
	[R_CHECKED_OK] = "checked_ok",
	[R_DROP_NO_ID] = "dropped_no_id",
	[R_DROP_WRONG_ID] = "dropped_wrong_id",
	[R_DROP_UNKNOWN_FLOW] = "dropped_unknown_flow",
	[R_MALFORMED] = "malformed",
	[R_DROP_URGENT] = "dropped_urgent",
	[R_DROP_TRUNCATED] = "dropped_truncated",
	[R_SESSION_MISS] = "session_miss",
	[R_QUEUE_OVERRUN] = "queue_overrun",
	[R_MISS_TIMEOUT] = "miss_timeout",
	[R_HELD_FULL] = "dropped_held_full",
	[R_HELD_COPY] = "dropped_held_copy",
};

const char *nfq_reason_name(enum nfq_reason r)
{
	return (unsigned)r < R__COUNT ? reason_names[r] : "unknown";
}

static void set(struct nfq_result *res, enum nfq_verdict v, enum nfq_reason r)
{
	res->verdict = v;
	res->reason = r;
}

static bool live(const struct tbl_entry *e, uint64_t now)
{
	uint32_t exp = e ? tbl_entry_expires(e) : 0;

	return e && (exp == 0 || now < exp);
}

/* Write (or clear, id 0) the ID; on refusal the verdict is a counted drop. */
static void rewrite(const struct nfq_logic_cfg *cfg, const struct cn_pkt *p, uint8_t *buf,
		    cn_id_t id, enum cn_csum_state csum, enum nfq_reason ok,
		    struct nfq_result *res)
{
	enum cn_pkt_result r;

	if (cfg->header_only) {
		if (p->tcp_flags & CN_TCP_FLAG_URG) {
			res->pkt = CN_PKT_URGENT;
			set(res, V_DROP, R_DROP_URGENT);
			return;
		}
		res->set_id = id;
		set(res, V_ACCEPT_SETID, ok);
		return;
	}

	if (!cn_pkt_is_whole(p)) {
		/* returning a truncated payload would cut the packet */
		res->pkt = CN_PKT_ERR_NEED_PAYLOAD;
		set(res, V_DROP, R_DROP_TRUNCATED);
		return;
	}
	r = cn_pkt_set_id(p, buf, id, csum);
	res->pkt = r;
	if (r == CN_PKT_OK)
		set(res, V_ACCEPT_MODIFIED, ok);
	else if (r == CN_PKT_URGENT)
		set(res, V_DROP, R_DROP_URGENT);
	else
		set(res, V_DROP, R_DROP_TRUNCATED);
}

/* A segment that must carry e's ID (or, just after a renewal, its previous one): accept
 * (maybe stripping it) or drop with the reason. */
static void check(const struct nfq_logic_cfg *cfg, const struct cn_pkt *p, uint8_t *buf,
		  const struct tbl_entry *e, enum cn_csum_state csum, uint64_t now,
		  struct nfq_result *res)
{
	cn_id_t got = cn_pkt_get_id(p, buf);

	if (got == CN_ID_NONE) {
		set(res, V_DROP, (p->tcp_flags & CN_TCP_FLAG_URG) ? R_DROP_URGENT : R_DROP_NO_ID);
		return;
	}
	if (!tbl_entry_accepts(e, got, now)) {
		set(res, V_DROP, R_DROP_WRONG_ID);
		return;
	}
	if (cfg->strip)
		rewrite(cfg, p, buf, CN_ID_NONE, csum, R_CHECKED_OK, res);
	else
		set(res, V_ACCEPT, R_CHECKED_OK);
}

static void supervisor(const struct nfq_logic_cfg *cfg, const struct sess_table *t,
		       const struct cn_pkt *p, uint8_t *buf, enum cn_csum_state csum,
		       uint64_t now, struct nfq_result *res)
{
	struct sess_key out, back;
	const struct tbl_entry *e;

	/* client -> service: write the ID */
	sess_key_make(&out, p->family, p->saddr, p->daddr, p->dport);
	e = tbl_lookup(t, &out);
	if (live(e, now)) {
		res->sess = e;
		rewrite(cfg, p, buf, tbl_entry_id(e), csum, R_EMBEDDED, res);
		return;
	}
	/* service -> client: check it */
	sess_key_make(&back, p->family, p->daddr, p->saddr, p->sport);
	e = tbl_lookup(t, &back);
	if (live(e, now)) {
		res->sess = e;
		res->sess_dir = 1;
		check(cfg, p, buf, e, csum, now, res);
		return;
	}
	/* No session. The first SYN of a client to an overlay service waits for authd. */
	if ((p->tcp_flags & (CN_TCP_FLAG_SYN | CN_TCP_FLAG_ACK)) == CN_TCP_FLAG_SYN &&
	    (!tbl_has_services(t) || tbl_has_service(t, p->family, p->daddr, p->dport))) {
		res->miss = out;
		set(res, V_HOLD, R_SESSION_MISS);
		return;
	}
	/* paper 2.2, Bridging: communication without an ID passes through */
	set(res, V_ACCEPT, R_PASSED);
}

static void provider(const struct nfq_logic_cfg *cfg, const struct sess_table *t,
		     const struct cn_pkt *p, uint8_t *buf, enum cn_csum_state csum,
		     uint64_t now, struct nfq_result *res)
{
	struct sess_key in, back;
	const struct tbl_entry *e;
	bool to_svc, from_svc;

	to_svc = !tbl_has_services(t) || tbl_has_service(t, p->family, p->daddr, p->dport);
	from_svc = tbl_has_services(t) && tbl_has_service(t, p->family, p->saddr, p->sport);

	if (to_svc) {
		/* client -> protected service: nothing without the live session's ID */
		sess_key_make(&in, p->family, p->saddr, p->daddr, p->dport);
		e = tbl_lookup(t, &in);
		if (live(e, now)) {
			res->sess = e;
			check(cfg, p, buf, e, csum, now, res);
			return;
		}
		if (tbl_has_services(t)) {
			set(res, V_DROP, R_DROP_UNKNOWN_FLOW);
			return;
		}
		/* no service list: a reply is recognised by its session only */
	}
	sess_key_make(&back, p->family, p->daddr, p->saddr, p->sport);
	e = tbl_lookup(t, &back);
	if (live(e, now)) {
		res->sess = e;
		res->sess_dir = 1;
		rewrite(cfg, p, buf, tbl_entry_id(e), csum, R_EMBEDDED, res);
		return;
	}
	if (to_svc || from_svc) {
		set(res, V_DROP, R_DROP_UNKNOWN_FLOW);
		return;
	}
	set(res, V_ACCEPT, R_PASSED);
}

void nfq_decide(const struct nfq_logic_cfg *cfg, const struct sess_table *t, uint8_t *buf,
		size_t len, enum cn_csum_state csum, uint64_t now, struct nfq_result *res)
{
	struct cn_pkt p;

	memset(res, 0, sizeof(*res));
	res->pkt = cn_pkt_parse(&p, buf, len);
	if (res->pkt != CN_PKT_OK) {
		/* only TCP to or from overlay services is queued: fail closed */
		set(res, V_DROP, R_MALFORMED);
		return;
	}
	if (cfg->role == NFQ_ROLE_SUPERVISOR)
		supervisor(cfg, t, &p, buf, csum, now, res);
	else
		provider(cfg, t, &p, buf, csum, now, res);
}

void nfq_account(const struct nfq_result *res, size_t len, uint64_t now)
{
	/* the counters are the one part of an entry the readers write */
	struct tbl_entry *e = (struct tbl_entry *)(uintptr_t)res->sess;
	int d = res->sess_dir ? 1 : 0, k;

	if (!e)
		return;
	if (res->verdict != V_DROP) {
		atomic_store_explicit(&e->last_seen, (uint32_t)now, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->segs[d], 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->bytes[d], len, memory_order_relaxed);
		return;
	}
	k = res->reason == R_DROP_NO_ID ? TBL_DROP_NO_ID :
	    res->reason == R_DROP_WRONG_ID ? TBL_DROP_WRONG_ID : TBL_DROP_OTHER;
	atomic_fetch_add_explicit(&e->drops[k], 1, memory_order_relaxed);
}
