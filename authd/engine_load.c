/* SPDX-License-Identifier: MIT */
/*
 * Provider: the load figure of info_vNIC, bytes per second of each vNIC service (both
 * directions), from coopnet-nfq's per-session counters as the parent polls them once per
 * status interval (the same "nfq-traffic" messages as on an SS: authd/engine_nfqstat.c).
 * After each poll: the bytes of the provider's stored sessions of each service are summed
 * (each session found by its ID and client), and the rate is the growth of that sum over the
 * time since the last poll. A session that went away takes its bytes out of the sum: that
 * interval's rate is then the growth of the rest, or 0 when the sum shrank (a lower figure,
 * never a made-up one). Connections are not counted by the data plane: `conns` stays unknown.
 *
 * The sums are kept, not made again from every session at each poll (issue 11, 100,000 live
 * sessions): each provider ID's part (its session's bytes and service) is remembered, and
 * after a poll only the IDs whose session the database stored, changed or deleted since the
 * last one (db_provider_changes) or whose counters the poll changed (engine_traffic_changes)
 * have their part taken out and made again from the database row and the copy. The figure is
 * the walk's: a session gone from the database leaves the sum at the next poll even while
 * coopnet-nfq still lists it. A whole walk remains for what cannot be followed: the first
 * poll, a whole listing, a rollback, a service the sums did not have, no memory.
 */
#include "engine_status.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define IDS 65536 /* a provider's session IDs are 16 bits (cn_id_t), unique among its sessions */

struct engine_load {
	uint64_t bytes[IDS]; /* what the session of this ID adds to its service's sum */
	uint16_t svc[IDS];   /* that service: its index in counts + 1, 0: the ID adds nothing */
	size_t n_counts;     /* the services when the parts were made */
	bool valid;          /* the parts and the sums agree with the walk */
};

static int add_cb(const struct db_session *d, void *arg)
{
	struct engine *e = arg;
	struct engine_load *l = e->status->load;
	struct cn_coop_addr client = {.family = d->s.family == AF_INET6 ? CN_FAM_INET6 : CN_FAM_INET};
	struct cn_status_client c;
	size_t sc = e->status->n_counts;

	for (size_t i = 0; i < e->status->n_counts; i++)
		if (!strncmp(e->status->counts[i].service, d->service_name,
			     sizeof(e->status->counts[i].service)))
			sc = i;
	memcpy(client.addr, d->s.client, client.family == CN_FAM_INET ? 4 : 16);
	if (sc < e->status->n_counts && engine_traffic_find(e, d->s.id, &client, &c)) {
		l->bytes[d->s.id] = c.bytes_c2s + c.bytes_s2c;
		l->svc[d->s.id] = (uint16_t)(sc + 1);
		e->status->counts[sc].bytes_sum += l->bytes[d->s.id];
	}
	return 0;
}

/* Take ID id's part out of its service's sum. */
static void take_out(struct engine_status *st, cn_id_t id)
{
	struct engine_load *l = st->load;

	if (l->svc[id])
		st->counts[l->svc[id] - 1].bytes_sum -= l->bytes[id];
	l->svc[id] = 0;
	l->bytes[id] = 0;
}

/* Every part and sum made again from every provider session. */
static int whole(struct engine *e)
{
	struct engine_status *st = e->status;

	for (size_t i = 0; i < st->n_counts; i++)
		st->counts[i].bytes_sum = 0;
	memset(st->load->svc, 0, sizeof(st->load->svc));
	memset(st->load->bytes, 0, sizeof(st->load->bytes));
	st->load->n_counts = st->n_counts;
	return db_session_foreach(e->db, DB_ROLE_PROVIDER, add_cb, e);
}

/* The parts of the IDs in ids made again. */
static int again(struct engine *e, const cn_id_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		take_out(e->status, ids[i]);
		if (db_session_foreach_id(e->db, DB_ROLE_PROVIDER, ids[i], add_cb, e) < 0)
			return -1;
	}
	return 0;
}

/* The sums after this poll: the changed IDs' parts, or a whole walk. 0 or -1. */
static int sums(struct engine *e)
{
	struct engine_status *st = e->status;
	const cn_id_t *tids = NULL;
	cn_id_t *dids = NULL;
	size_t tn = 0, dn = 0;
	bool by_ids;
	int r;

	/* both lists are taken (emptied) at every poll, used or not */
	by_ids = db_provider_changes(e->db, &dids, &dn) == 1;
	by_ids = engine_traffic_changes(e, &tids, &tn) && by_ids;
	by_ids = by_ids && st->load->valid && st->load->n_counts == st->n_counts;
	st->load->valid = false;
	r = by_ids ? again(e, dids, dn) : whole(e);
	if (r == 0 && by_ids)
		r = again(e, tids, tn);
	free(dids);
	st->load->valid = r == 0;
	return r;
}

void engine_load_update(struct engine *e)
{
	struct engine_status *st = e->status;
	uint64_t now = engine_now_ms();

	if (!st || !st->sp)
		return;
	if (!st->load && !(st->load = calloc(1, sizeof(*st->load)))) {
		log_warnx("status: the sessions' load: out of memory");
		return;
	}
	if (sums(e) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("status: the sessions' load: %s", db_error(e->db));
		return;
	}
	for (size_t i = 0; i < st->n_counts; i++) {
		struct svc_count *c = &st->counts[i];

		if (c->bytes_at_ms && now > c->bytes_at_ms)
			c->bytes_per_s = c->bytes_sum > c->bytes_last ?
				(c->bytes_sum - c->bytes_last) * 1000 / (now - c->bytes_at_ms) : 0;
		c->bytes_last = c->bytes_sum;
		c->bytes_at_ms = now;
	}
}

void engine_load_free(struct engine *e)
{
	if (!e->status)
		return;
	free(e->status->load);
	e->status->load = NULL;
}
