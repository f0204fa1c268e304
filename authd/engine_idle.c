/* SPDX-License-Identifier: MIT */
/*
 * An SS's idle expiry (policy supervisor.idle_time, docs/authd.md "Idle time"): a session of
 * this supervisor ends when neither an Authentication (sessions.refreshed) nor a segment its
 * own data plane saw (coopnet-nfq's last_seen, the figure of its info_client, as the parent
 * polls it once per status interval: engine_nfqstat.c) is more recent than idle_time. It is
 * removed from the database, the data plane (and the SS DNAT map with it: the parent's
 * session-del) and the SP's copy is revoked, as for any other end of a session.
 *
 * Only after a whole poll since the engine started: until then an engine that just restarted
 * does not know what its data plane saw and would end busy sessions.
 */
#include "engine_status.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "log.h"

struct idle_scan {
	struct engine *e;
	int64_t now, idle;
	struct db_session *v;
	size_t n, cap;
	int r;
};

/* The later of the last Authentication and the last segment seen, Unix seconds. */
static int64_t last_active(const struct engine *e, const struct db_session *s)
{
	struct cn_coop_addr client = {
		.family = s->s.family == AF_INET6 ? CN_FAM_INET6 : CN_FAM_INET,
	};
	struct cn_status_client c;
	int64_t last = s->refreshed;

	memcpy(client.addr, s->s.client, client.family == CN_FAM_INET ? 4 : 16);
	if (engine_traffic_find(e, s->s.id, &client, &c) && (int64_t)(c.last_seen_ms / 1000) > last)
		last = (int64_t)(c.last_seen_ms / 1000);
	return last;
}

static int idle_cb(const struct db_session *s, void *arg)
{
	struct idle_scan *sc = arg;

	if (last_active(sc->e, s) + sc->idle > sc->now)
		return 0;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 16;
		struct db_session *v = realloc(sc->v, cap * sizeof(*v));

		if (!v) {
			sc->r = -1;
			return 1; /* what was found so far still ends */
		}
		sc->v = v;
		sc->cap = cap;
	}
	sc->v[sc->n++] = *s;
	return 0;
}

int engine_ss_idle_expire(struct engine *e, int64_t now_s)
{
	struct idle_scan sc = { .e = e, .now = now_s, .idle = e->pol.ss_idle_time };
	int ended = 0;

	if (!e->pol.supervisor || !sc.idle || !engine_traffic_ready(e))
		return 0;
	if (db_session_foreach(e->db, DB_ROLE_SUPERVISOR, idle_cb, &sc) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("idle expiry: %s", db_error(e->db));
	}
	if (sc.r < 0)
		log_warnx("idle expiry: out of memory, the rest at the next tick");
	for (size_t i = 0; i < sc.n; i++)
		if (engine_session_drop(e, &sc.v[i], CNT_SESSIONS_IDLE, true) == 0)
			ended++;
	if (sc.v)
		sodium_memzero(sc.v, sc.cap * sizeof(*sc.v)); /* session keys */
	free(sc.v);
	return ended;
}
