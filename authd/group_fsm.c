/* SPDX-License-Identifier: MIT */
/* A header SP's view of its group's members (authd/group_fsm.h). */
#include "group_fsm.h"

#include <stdlib.h>
#include <string.h>

static const char *const ev_names[GROUP_EV_MAX] = {
	[GROUP_EV_ACCEPTED] = "accepted",
	[GROUP_EV_JOIN] = "join",
	[GROUP_EV_LEAVE] = "leave",
	[GROUP_EV_UP] = "member-up",
	[GROUP_EV_DOWN] = "member-down",
	[GROUP_EV_BAD_PAYLOAD] = "bad-payload",
	[GROUP_EV_UNKNOWN_SENDER] = "unknown-sender",
	[GROUP_EV_REMOVED] = "removed",
	[GROUP_EV_BAD_SIGNATURE] = "bad-signature",
	[GROUP_EV_STALE] = "stale",
	[GROUP_EV_REPLAY] = "replay",
	[GROUP_EV_INTERNAL] = "internal",
	[GROUP_EV_NOT_HEADER] = "not-header",
	[GROUP_EV_SENT] = "sent",
	[GROUP_EV_SEND_ERROR] = "send-error",
};

const char *group_ev_name(enum group_ev ev)
{
	return (unsigned)ev < GROUP_EV_MAX ? ev_names[ev] : "unknown";
}

const char *member_state_name(enum member_state s)
{
	switch (s) {
	case MEMBER_UP: return "up";
	case MEMBER_DOWN: return "down";
	default: return "unknown";
	}
}

int group_rx_find(const struct group_rx *rx, const char *name)
{
	for (size_t i = 0; i < rx->n; i++)
		if (rx->names[i][0] && !strncmp(rx->names[i], name, CN_COOP_NAME_LEN))
			return (int)i;
	return -1;
}

static bool was_removed(const struct group_rx *rx, const char *name)
{
	for (size_t i = 0; i < rx->n_removed; i++)
		if (!strncmp(rx->removed[i], name, CN_COOP_NAME_LEN))
			return true;
	return false;
}

static void add_removed(struct group_rx *rx, const char *name)
{
	if (was_removed(rx, name))
		return;
	memcpy(rx->removed[rx->next_removed], name, CN_COOP_NAME_LEN);
	rx->next_removed = (rx->next_removed + 1) % GROUP_MAX_REMOVED;
	if (rx->n_removed < GROUP_MAX_REMOVED)
		rx->n_removed++;
}

/* A name back in the policy is no longer "removed". */
static void forget_removed(struct group_rx *rx, const char *name)
{
	for (size_t i = 0; i < rx->n_removed; i++)
		if (!strncmp(rx->removed[i], name, CN_COOP_NAME_LEN))
			memset(rx->removed[i], 0, CN_COOP_NAME_LEN);
}

/* Bit k: the member's vNIC for services[k] is down, busy (weight 0) or not reported. */
static uint64_t services_down(const struct pol_sp *sp, const struct cn_group_msg *g)
{
	uint64_t down = 0;

	for (size_t k = 0; k < sp->n_services && k < 64; k++) {
		bool ok = false;

		for (unsigned j = 0; j < g->n_services; j++)
			if (!strcmp(g->svc[j].name, sp->services[k]))
				ok = g->svc[j].status == CN_VNIC_UP ||
				     g->svc[j].status == CN_VNIC_UNKNOWN;
		if (!ok)
			down |= 1ull << k;
	}
	return down;
}

int group_rx_rebuild(struct group_rx *rx, const struct policy *pol, const struct cn_replay *r)
{
	size_t n = pol->header ? pol->n_group : 0;
	struct member_view *view = calloc(n + 1, sizeof(*view));
	struct group_member_state *st = calloc(n + 1, sizeof(*st));
	char (*names)[CN_COOP_NAME_LEN] = calloc(n + 1, sizeof(*names));
	uint8_t (*keys)[CN_GROUP_PK_LEN] = calloc(n + 1, sizeof(*keys));

	if (!view || !st || !names || !keys) {
		free(view), free(st), free(names), free(keys);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pol_sp *sp = &pol->group[i];
		int old;

		if (!sp->has_public_key)
			continue;
		memcpy(names[i], sp->name, CN_COOP_NAME_LEN);
		memcpy(keys[i], sp->public_key, CN_GROUP_PK_LEN);
		forget_removed(rx, sp->name);
		old = group_rx_find(rx, sp->name);
		if (old >= 0 && !memcmp(rx->keys[old], sp->public_key, CN_GROUP_PK_LEN)) {
			view[i] = rx->view[old];
			st[i] = rx->st[old];
			/* the policy's list of its services may have changed: bits anew */
			if (view[i].state == MEMBER_UP)
				view[i].services_down = services_down(sp, &st[i].last);
		}
	}
	for (size_t i = 0; i < rx->n; i++)
		if (rx->names[i][0] && !policy_sp_by_name(pol, rx->names[i]))
			add_removed(rx, rx->names[i]);
	free(rx->view), free(rx->st), free(rx->names), free(rx->keys);
	rx->view = view, rx->st = st, rx->names = names, rx->keys = keys;
	rx->n = n;
	rx->miss_limit = pol->group_miss_limit ? pol->group_miss_limit : POL_GROUP_MISS_LIMIT;
	rx->window_ms = pol->group_window_ms ? pol->group_window_ms : POL_GROUP_WINDOW_MS;
	if (r)
		rx->replay = *r;
	return 0;
}

void group_rx_free(struct group_rx *rx)
{
	if (!rx)
		return;
	free(rx->view), free(rx->st), free(rx->names), free(rx->keys);
	rx->view = NULL, rx->st = NULL, rx->names = NULL, rx->keys = NULL;
	rx->n = 0;
}

static enum group_ev count(struct group_rx *rx, enum group_ev ev)
{
	rx->counters[ev]++;
	return ev;
}

static void apply(struct group_rx *rx, const struct pol_sp *sp, size_t i,
		  const struct cn_group_msg *g, const struct cn_coop_msg *m, uint64_t now_ms)
{
	struct member_view *v = &rx->view[i];
	struct group_member_state *s = &rx->st[i];

	s->last_seq = g->seq;
	s->last_ts = m->timestamp_ms;
	s->interval_ms = g->interval_ms;
	s->last = *g;
	v->seen_ms = now_ms;
	count(rx, GROUP_EV_ACCEPTED);
	if (g->type == CN_GROUP_LEAVE) {
		count(rx, GROUP_EV_LEAVE);
		if (v->state != MEMBER_DOWN)
			s->changed_ms = now_ms;
		v->state = MEMBER_DOWN;
		v->load = 0;
		return;
	}
	if (g->type == CN_GROUP_JOIN)
		count(rx, GROUP_EV_JOIN);
	if (v->state != MEMBER_UP) {
		count(rx, GROUP_EV_UP);
		s->changed_ms = now_ms;
	}
	v->state = MEMBER_UP;
	v->load = g->load;
	v->services_down = services_down(sp, g);
}

enum group_ev group_rx_input(struct group_rx *rx, const struct policy *pol, const uint8_t *raw,
			     size_t len, const struct cn_coop_msg *m, uint64_t now_ms,
			     uint64_t wall_ms)
{
	struct cn_group_msg g;
	uint8_t digest[CN_DIGEST_LEN];
	const struct pol_sp *sp;
	int i;

	if (rx->n == 0 || !pol->header)
		return count(rx, GROUP_EV_NOT_HEADER);
	if (cn_group_decode(&g, m) != CN_GROUP_OK)
		return count(rx, GROUP_EV_BAD_PAYLOAD);
	i = group_rx_find(rx, g.name);
	if (i < 0 || (size_t)i >= pol->n_group)
		return count(rx, was_removed(rx, g.name) ? GROUP_EV_REMOVED : GROUP_EV_UNKNOWN_SENDER);
	sp = &pol->group[i];
	if (!cn_group_verify(raw, len, rx->keys[i]))
		return count(rx, GROUP_EV_BAD_SIGNATURE);
	if (!cn_auth_time_ok(m->timestamp_ms, wall_ms, rx->window_ms))
		return count(rx, GROUP_EV_STALE);
	/* a join starts a new counter (the member restarted); anything else must go up */
	if (g.type != CN_GROUP_JOIN && g.seq <= rx->st[i].last_seq)
		return count(rx, GROUP_EV_REPLAY);
	if (cn_group_digest(digest, raw, len) < 0)
		return count(rx, GROUP_EV_INTERNAL);
	if (rx->replay.seen && cn_replay_seen(&rx->replay, digest, m->timestamp_ms))
		return count(rx, GROUP_EV_REPLAY);
	if (rx->replay.add && cn_replay_add(&rx->replay, digest, m->timestamp_ms) != 0)
		return count(rx, GROUP_EV_INTERNAL);
	apply(rx, sp, (size_t)i, &g, m, now_ms);
	return GROUP_EV_ACCEPTED;
}

static uint64_t due(const struct group_rx *rx, size_t i)
{
	uint32_t iv = rx->st[i].interval_ms ? rx->st[i].interval_ms : POL_GROUP_INTERVAL_MS;

	return rx->view[i].seen_ms + (uint64_t)iv * rx->miss_limit;
}

bool group_rx_expire(struct group_rx *rx, size_t i, uint64_t now_ms)
{
	if (i >= rx->n || rx->view[i].state != MEMBER_UP || now_ms < due(rx, i))
		return false;
	rx->view[i].state = MEMBER_DOWN;
	rx->st[i].changed_ms = now_ms;
	count(rx, GROUP_EV_DOWN);
	return true;
}

void group_rx_tick(struct group_rx *rx, uint64_t now_ms)
{
	for (size_t i = 0; i < rx->n; i++)
		group_rx_expire(rx, i, now_ms);
}

uint64_t group_rx_deadline(const struct group_rx *rx)
{
	uint64_t d = UINT64_MAX;

	for (size_t i = 0; i < rx->n; i++)
		if (rx->view[i].state == MEMBER_UP && due(rx, i) < d)
			d = due(rx, i);
	return d;
}
