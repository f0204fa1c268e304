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
 */
#include "engine_status.h"

#include <string.h>

#include "log.h"

static int add_cb(const struct db_session *d, void *arg)
{
	struct engine *e = arg;
	struct cn_coop_addr client = {.family = d->s.family == AF_INET6 ? CN_FAM_INET6 : CN_FAM_INET};
	struct cn_status_client c;
	struct svc_count *sc = NULL;

	for (size_t i = 0; i < e->status->n_counts; i++)
		if (!strncmp(e->status->counts[i].service, d->service_name,
			     sizeof(e->status->counts[i].service)))
			sc = &e->status->counts[i];
	memcpy(client.addr, d->s.client, client.family == CN_FAM_INET ? 4 : 16);
	if (sc && engine_traffic_find(e, d->s.id, &client, &c))
		sc->bytes_sum += c.bytes_c2s + c.bytes_s2c;
	return 0;
}

void engine_load_update(struct engine *e)
{
	struct engine_status *st = e->status;
	uint64_t now = engine_now_ms();

	if (!st || !st->sp)
		return;
	for (size_t i = 0; i < st->n_counts; i++)
		st->counts[i].bytes_sum = 0;
	if (db_session_foreach(e->db, DB_ROLE_PROVIDER, add_cb, e) < 0) {
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
