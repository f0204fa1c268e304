/* SPDX-License-Identifier: MIT */
/* The pure parts of `coopnetctl group` (authd/group_json.h; the shape: docs/coopnetctl.md). */
#include "group_json.h"

#include <string.h>

#include "balance.h"

const char *gv_state_name(enum gv_state s)
{
	static const char *const names[] = {
		[GV_UNREACHABLE] = "unreachable", [GV_DOWN] = "down", [GV_BUSY] = "busy",
		[GV_UP] = "up", [GV_UNKNOWN] = "unknown",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *member_state(enum member_state s)
{
	return s == MEMBER_UP ? "up" : s == MEMBER_DOWN ? "down" : "unknown";
}

/* an age in ms since t (the same clock as now), or null when t is 0 (never) */
static json_t *age(uint64_t now, uint64_t t)
{
	return t ? json_integer(now >= t ? (json_int_t)(now - t) : 0) : json_null();
}

static json_t *header_member(const struct policy *pol, size_t i, const struct group_rx *rx,
			     const uint64_t *decisions, uint64_t now)
{
	const struct pol_sp *sp = &pol->group[i];
	const struct member_view *v = rx && i < rx->n ? &rx->view[i] : NULL;
	const struct group_member_state *st = rx && i < rx->n ? &rx->st[i] : NULL;
	json_t *svc = json_array(), *down = json_array(), *o;
	char buf[CN_COOP_ADDRSTRLEN];

	for (size_t k = 0; k < sp->n_services; k++) {
		json_array_append_new(svc, json_string(sp->services[k]));
		if (v && k < 64 && (v->services_down >> k) & 1)
			json_array_append_new(down, json_string(sp->services[k]));
	}
	o = json_pack("{s:s?, s:s, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:b}",
		      "name", sp->name[0] ? sp->name : NULL,
		      "address", cn_coop_addr_format(&sp->addr, buf, sizeof(buf)),
		      "weight", sp->weight, "services", svc,
		      "state", member_state(v ? v->state : MEMBER_UNKNOWN),
		      "since_ms", age(now, st ? st->changed_ms : 0),
		      "heard_ms", age(now, v ? v->seen_ms : 0),
		      "load", v && v->seen_ms ? json_integer(v->load) : json_null(),
		      "services_down", down,
		      "interval_ms", (json_int_t)(st ? st->interval_ms : 0),
		      "decisions", (json_int_t)(decisions ? decisions[i] : 0),
		      "signed", sp->has_public_key);
	return o;
}

json_t *group_json_header(const struct policy *pol, const struct group_rx *rx,
			  const uint64_t *decisions, uint64_t now_ms)
{
	json_t *a, *o;

	if (!pol->header)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && i < pol->n_group; i++)
		if (json_array_append_new(a, header_member(pol, i, rx, decisions, now_ms)) < 0) {
			json_decref(a);
			return NULL;
		}
	o = json_pack("{s:s, s:b, s:I, s:o}", "balance", cn_balance_name(pol->balance),
		      "membership", rx && rx->n > 0, "miss_limit",
		      (json_int_t)pol->group_miss_limit, "members", a);
	return o;
}

/* --- ss --------------------------------------------------------------------------------- */

struct gv_member_sum {
	size_t sessions;
	enum gv_state state;   /* the worst of its sessions' */
	int64_t since_ms;      /* the longest any session has been in that state, -1 */
};

static bool is_member(const struct pol_member *m, const struct gv_session *r)
{
	size_t len = m->addr.family == CN_FAM_INET ? 4 : 16;

	return m->addr.family == r->member.family && !memcmp(m->addr.addr, r->member.addr, len);
}

static void member_sum(const struct pol_service *s, const struct pol_member *m,
		       const struct gv_session *rows, size_t n, struct gv_member_sum *out)
{
	*out = (struct gv_member_sum){ .state = GV_UNKNOWN, .since_ms = -1 };
	for (size_t i = 0; i < n; i++) {
		const struct gv_session *r = &rows[i];

		if (strcmp(r->service, s->name) || !is_member(m, r))
			continue;
		out->sessions++;
		if (r->state < out->state) {
			out->state = r->state;
			out->since_ms = r->since_ms;
		} else if (r->state == out->state && r->since_ms > out->since_ms) {
			out->since_ms = r->since_ms;
		}
	}
}

static json_t *opt_int(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *ss_service(const struct pol_service *s, const struct gv_session *rows, size_t n)
{
	json_t *a = json_array();
	char buf[CN_COOP_ADDRSTRLEN], sp[CN_COOP_ADDRSTRLEN];
	struct gv_member_sum sum;
	struct cn_coop_addr virt = s->addr;

	for (size_t k = 0; a && k < s->n_members; k++) {
		const struct pol_member *m = &s->members[k];

		member_sum(s, m, rows, n, &sum);
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:s, s:o}",
			"sp", cn_coop_addr_format(&m->sp, sp, sizeof(sp)),
			"address", cn_coop_addr_format(&m->addr, buf, sizeof(buf)),
			"sessions", (json_int_t)sum.sessions, "state", gv_state_name(sum.state),
			"since_ms", opt_int(sum.since_ms)));
	}
	virt.port = 0;
	return json_pack("{s:s, s:s, s:i, s:o}", "name", s->name, "address",
			 cn_coop_addr_format(&virt, buf, sizeof(buf)), "port", s->addr.port,
			 "members", a);
}

static json_t *ss_session(const struct gv_session *r)
{
	char buf[CN_COOP_ADDRSTRLEN];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "client", r->client,
			 "service", r->service, "id", r->id, "sp", r->sp, "address",
			 cn_coop_addr_format(&r->member, buf, sizeof(buf)), "state",
			 gv_state_name(r->state), "since_ms", opt_int(r->since_ms), "load",
			 opt_int(r->load), "report_ms", opt_int(r->report_age_ms));
}

json_t *group_json_ss(const struct policy *pol, const struct gv_session *rows, size_t n)
{
	json_t *svc;
	bool any = false;

	for (size_t i = 0; i < pol->n_services; i++)
		any |= pol->services[i].n_members > 0;
	if (!pol->supervisor || !any)
		return json_null();
	svc = json_array();
	for (size_t i = 0; svc && i < pol->n_services; i++)
		if (pol->services[i].n_members)
			json_array_append_new(svc, ss_service(&pol->services[i], rows, n));
	return json_pack("{s:o}", "services", svc);
}

json_t *group_json_sessions(const struct gv_session *rows, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, ss_session(&rows[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}
