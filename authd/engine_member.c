/* SPDX-License-Identifier: MIT */
/*
 * The group application (cooperative flag `group`, docs/protocol.md "The group application";
 * coop_apps[2]): an SP with provider.membership sends a signed join, then a heartbeat every
 * interval (its load and the status of each of its services from its health checks), and a
 * leave when it stops, to EVERY header SP it lists (unicast fan-out: each header learns the
 * same members first-hand, no header relays or vouches for another's view). A header keeps
 * what it hears in e->members (authd/group_view.h), which the balancer reads; the checks and
 * the state machine are authd/group_fsm.c's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "coop_app.h"
#include "engine_status.h"
#include "group_fsm.h"
#include "log.h"
#include "logrl.h"
#include "status.h"

#define GROUP_JOINS 3  /* the first messages after a start are joins (one may be lost) */

struct engine_member {
	struct group_rx rx;          /* header: the members' view */
	bool member;                 /* provider.membership with a signing key */
	uint8_t sk[CN_GROUP_SK_LEN];
	uint8_t pk[CN_GROUP_PK_LEN];
	uint64_t seq;                /* last seq sent; starts at the real-time clock in us */
	unsigned joins;              /* joins sent since the start */
	uint64_t next_ms;            /* next heartbeat (engine_now_ms) */
	uint64_t last_sent_ms;
	uint64_t tx_bytes, tx_dgrams, rx_bytes, rx_dgrams;
	struct log_rl rl[GROUP_EV_MAX];  /* refusals logged: a few per window (lib/logrl.h) */
};

/* --- member side ------------------------------------------------------------------------ */

/* Our services and their status now (authd/engine_status.c's info_vNIC summary), and load. */
static void fill_services(struct engine *e, struct cn_group_msg *g)
{
	for (size_t i = 0; i < e->pol.n_vnics; i++) {
		const struct pol_vnic *vn = &e->pol.vnics[i];

		for (size_t k = 0; k < vn->n_services; k++) {
			const char *name = vn->services[k].name;
			struct cn_status_vnic v;
			bool dup = false;

			for (unsigned j = 0; j < g->n_services; j++)
				dup |= !strcmp(g->svc[j].name, name);
			if (dup || g->n_services >= CN_GROUP_MAX_SERVICES)
				continue; /* the first vNIC of a service answers for it (policy_vnic_for) */
			engine_status_vnic(e, name, &v);
			memcpy(g->svc[g->n_services].name, name, strlen(name) + 1);
			g->svc[g->n_services].status = (uint8_t)cn_status_vnic_summary(&v);
			g->n_services++;
			g->load += v.sessions;
		}
	}
}

static void send_all(struct engine *e, uint8_t type)
{
	struct engine_member *eg = e->member;
	const struct pol_membership *ms = &e->pol.membership;
	struct cn_group_msg g = { .type = type, .interval_ms = ms->interval_ms };
	uint8_t buf[CN_GROUP_DGRAM_MAX];
	size_t len;

	memcpy(g.name, ms->name, sizeof(g.name));
	g.seq = ++eg->seq;
	if (type != CN_GROUP_LEAVE)
		fill_services(e, &g);
	if (cn_group_encode(&g, engine_wall_ms(), buf, sizeof(buf), &len) != CN_GROUP_OK ||
	    cn_group_seal(buf, len, eg->sk) < 0) {
		eg->rx.counters[GROUP_EV_SEND_ERROR]++;
		log_warnx("group: cannot build a %s message", cn_group_type_name(type));
		return;
	}
	for (size_t i = 0; i < ms->n_headers; i++) {
		if (engine_op_send(e, &ms->headers[i], buf, len) < 0) {
			eg->rx.counters[GROUP_EV_SEND_ERROR]++;
			continue;
		}
		eg->rx.counters[GROUP_EV_SENT]++;
		eg->tx_bytes += len;
		eg->tx_dgrams++;
	}
	eg->last_sent_ms = engine_now_ms();
}

static void member_tick(struct engine *e)
{
	struct engine_member *eg = e->member;
	uint64_t now = engine_now_ms();

	if (!eg->member || now < eg->next_ms)
		return;
	send_all(e, eg->joins < GROUP_JOINS ? CN_GROUP_JOIN : CN_GROUP_HEARTBEAT);
	if (eg->joins < GROUP_JOINS)
		eg->joins++;
	eg->next_ms = now + e->pol.membership.interval_ms;
}

static void member_setup(struct engine *e)
{
	struct engine_member *eg = e->member;
	const struct pol_membership *ms = &e->pol.membership;
	bool on = e->pol.provider && ms->set && ms->has_signing_key;

	if (on && cn_group_keypair(eg->pk, eg->sk, ms->signing_seed) < 0) {
		log_warnx("group: cannot derive the signing key; no group messages");
		on = false;
	}
	if (on && !eg->member) {
		eg->next_ms = engine_now_ms(); /* a join at once */
		eg->joins = 0;
	}
	if (!on)
		sodium_memzero(eg->sk, sizeof(eg->sk));
	eg->member = on;
}

/* --- header side ------------------------------------------------------------------------ */

/* A refused message: input from outside (anyone can send a datagram), so a flood costs a
 * few lines per window per reason and one summary, as the Auth path does. */
static void refused(struct engine_member *eg, enum group_ev ev, const char *peer)
{
	uint64_t ended;
	bool ok = log_rl_allow(&eg->rl[ev], engine_now_ms(), &ended);

	if (ended)
		log_warnx("group: refused %s: %" PRIu64 " similar line(s) suppressed",
			  group_ev_name(ev), ended);
	if (ok)
		log_warnx("group: refused a message from %s: %s", peer, group_ev_name(ev));
}

static void refused_flush(struct engine_member *eg, uint64_t now)
{
	uint64_t ended;

	for (int k = 0; k < GROUP_EV_MAX; k++)
		if ((ended = log_rl_flush(&eg->rl[k], now)))
			log_warnx("group: refused %s: %" PRIu64 " similar line(s) suppressed",
				  group_ev_name((enum group_ev)k), ended);
}

static void on_group(struct engine *e, const struct cn_coop_addr *from, const struct auth_dgram *d)
{
	struct engine_member *eg = e->member;
	char peer[CN_COOP_ADDRSTRLEN];
	enum member_state before[2] = { MEMBER_UNKNOWN, MEMBER_UNKNOWN };
	struct cn_group_msg g;
	enum group_ev ev;
	int i = -1;

	if (!eg)
		return;
	eg->rx_bytes += d->len;
	eg->rx_dgrams++;
	if (cn_group_decode(&g, d->m) == CN_GROUP_OK && (i = group_rx_find(&eg->rx, g.name)) >= 0)
		before[0] = eg->rx.view[i].state;
	ev = group_rx_input(&eg->rx, &e->pol, d->raw, d->len, d->m, engine_now_ms(),
			    engine_wall_ms());
	cn_coop_addr_format(from, peer, sizeof(peer));
	if (ev != GROUP_EV_ACCEPTED) {
		refused(eg, ev, peer); /* counted by group_rx_input; never answered */
		return;
	}
	before[1] = eg->rx.view[i].state;
	if (before[0] != before[1])
		log_info("group: member %s (%s) is %s (%s)", g.name, peer,
			 member_state_name(before[1]), cn_group_type_name(g.type));
}

static void header_tick(struct engine *e)
{
	struct group_rx *rx = &e->member->rx;
	uint64_t now = engine_now_ms();

	refused_flush(e->member, now);
	for (size_t i = 0; i < rx->n; i++)
		if (group_rx_expire(rx, i, now))
			log_info("group: member %s is down (no message for %u x %u ms)",
				 rx->names[i], rx->miss_limit, rx->st[i].interval_ms);
}

/* --- the application --------------------------------------------------------------------- */

static int group_setup(struct engine *e)
{
	if (!e->member) {
		e->member = calloc(1, sizeof(*e->member));
		if (!e->member)
			return -1;
		/* never below what an earlier run of this SP sent: the real-time clock in us */
		e->member->seq = engine_wall_ms() * 1000;
	}
	if (group_rx_rebuild(&e->member->rx, &e->pol, &e->replay) < 0)
		return -1;
	e->members = e->member->rx.n ? e->member->rx.view : NULL;
	member_setup(e);
	return 0;
}

static void group_free(struct engine *e)
{
	if (!e->member)
		return;
	if (e->member->member)
		send_all(e, CN_GROUP_LEAVE); /* a clean stop: DOWN at once on the headers */
	e->members = NULL;
	group_rx_free(&e->member->rx);
	sodium_memzero(e->member, sizeof(*e->member));
	free(e->member);
	e->member = NULL;
}

static void group_tick(struct engine *e)
{
	if (!e->member)
		return;
	header_tick(e);
	member_tick(e);
}

static uint64_t group_deadline(const struct engine *e)
{
	uint64_t d;

	if (!e->member)
		return UINT64_MAX;
	d = group_rx_deadline(&e->member->rx);
	if (e->member->member && e->member->next_ms < d)
		d = e->member->next_ms;
	return d;
}

const struct coop_app coop_app_group = {
	.name = "group",
	.coop = CN_COOP_GROUP,
	.on = { [CN_KIND_GROUP] = on_group },
	.setup = group_setup,
	.free = group_free,
	.tick = group_tick,
	.deadline = group_deadline,
};

/* --- coopnetctl group, stats ------------------------------------------------------------- */

static json_t *membership_json(struct engine *e, uint64_t now)
{
	const struct pol_membership *ms = &e->pol.membership;
	const struct engine_member *eg = e->member;
	char buf[CN_COOP_ADDRSTRLEN], pk[2 * CN_GROUP_PK_LEN + 1];
	struct cn_group_msg g = { .type = CN_GROUP_HEARTBEAT };
	json_t *h = json_array(), *svc = json_array();

	for (size_t i = 0; i < ms->n_headers; i++)
		json_array_append_new(h, json_string(cn_coop_addr_format(&ms->headers[i], buf,
									 sizeof(buf))));
	fill_services(e, &g); /* what its next heartbeat says */
	for (unsigned i = 0; i < g.n_services; i++)
		json_array_append_new(svc, json_pack("{s:s, s:s}", "name", g.svc[i].name, "status",
						     engine_vnic_status_name(g.svc[i].status)));
	sodium_bin2hex(pk, sizeof(pk), eg->pk, sizeof(eg->pk));
	/* the traffic with the engine's clock of the same moment: rates need no outside timer */
	return json_pack("{s:s, s:o, s:I, s:s, s:I, s:o, s:I, s:o, s:{s:I, s:I, s:I}}",
			 "name", ms->name, "headers", h, "interval_ms", (json_int_t)ms->interval_ms,
			 "public_key", pk, "seq", (json_int_t)eg->seq,
			 "sent_ms", eg->last_sent_ms ? json_integer((json_int_t)(now -
				    eg->last_sent_ms)) : json_null(),
			 "load", (json_int_t)g.load, "services", svc,
			 "traffic", "clock_ms", (json_int_t)now, "tx_datagrams",
			 (json_int_t)eg->tx_dgrams, "tx_bytes", (json_int_t)eg->tx_bytes);
}

const struct group_rx *engine_member_rx(const struct engine *e)
{
	return e->member && e->member->rx.n ? &e->member->rx : NULL;
}

/* `coopnetctl group` on an SP with provider.membership: what it sends; json null otherwise. */
json_t *engine_member_json(struct engine *e)
{
	if (!e->member || !e->member->member)
		return json_null();
	return membership_json(e, engine_now_ms());
}

void engine_member_stats(const struct engine *e, json_t *stats)
{
	const struct engine_member *eg = e->member;
	char name[64];

	for (int i = 0; i < GROUP_EV_MAX; i++) {
		snprintf(name, sizeof(name), "group-%s", group_ev_name(i));
		json_object_set_new(stats, name, json_integer(eg ? (json_int_t)eg->rx.counters[i] : 0));
	}
	json_object_set_new(stats, "group-tx-bytes", json_integer(eg ? (json_int_t)eg->tx_bytes : 0));
	json_object_set_new(stats, "group-tx-datagrams",
			    json_integer(eg ? (json_int_t)eg->tx_dgrams : 0));
	json_object_set_new(stats, "group-rx-bytes", json_integer(eg ? (json_int_t)eg->rx_bytes : 0));
	json_object_set_new(stats, "group-rx-datagrams",
			    json_integer(eg ? (json_int_t)eg->rx_dgrams : 0));
}
