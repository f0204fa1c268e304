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
 * does not know what its data plane saw and would end busy sessions. And only as far as the
 * last poll reaches: a session is idle when it was idle_time silent at the time that poll was
 * taken (engine_traffic_seen_until), not merely now. When polls are skipped (coopnet-nfq
 * slow, the machine loaded) the segments since the last one are unknown, and reading them as
 * silence can end a busy download; the expiry waits for the next poll instead. With no poll
 * at all (the data plane down) nothing ends for idleness.
 *
 * Not a walk of every session each second (issue 11, 100,000 live sessions): the database
 * records each session's last activity (sessions.active: its first Authentication, raised
 * here; a later Authentication counts through refreshed, last_active), indexed, and only the sessions recorded as idle_time old are read. Those the data
 * plane saw since get their newer time written back (db_session_touch) and are read again
 * idle_time after it; the others end. So a busy session is read once per idle_time, an idle
 * one once, and the rest not at all.
 */
#include "engine_status.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "grow.h"
#include "log.h"

struct idle_row {
	struct db_session s;
	int64_t last; /* its last activity now known, Unix seconds */
};

struct idle_scan {
	struct engine *e;
	int64_t now, idle;
	int64_t known;    /* the data plane's figures hold up to here (<= now), Unix seconds */
	struct idle_row *v;
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

/* A candidate (recorded as idle_time old): kept with what is known of it now. */
static int idle_cb(const struct db_session *s, void *arg)
{
	struct idle_scan *sc = arg;
	struct idle_row *v = grow(sc->v, sc->n, &sc->cap, sizeof(*v), 16);

	if (!v) {
		sc->r = -1;
		return 1; /* what was found so far is handled; the rest at the next tick */
	}
	sc->v = v;
	sc->v[sc->n].s = *s;
	sc->v[sc->n++].last = last_active(sc->e, s);
	return 0;
}

static bool busy(const struct idle_scan *sc, const struct idle_row *r)
{
	return r->last + sc->idle > sc->known;
}

/* Seen since its record made it a candidate: its newer time is worth writing. A candidate
 * that is busy only because the last poll lags (last + idle <= now) has nothing newer. */
static bool newer(const struct idle_scan *sc, const struct idle_row *r)
{
	return r->last + sc->idle > sc->now;
}

/* The candidates the data plane saw since their record: their newer time, in one
 * transaction. A failure leaves a record lower: that session is read again next tick. */
static void record_busy(struct engine *e, const struct idle_scan *sc)
{
	size_t i;
	int r = 0;

	for (i = 0; i < sc->n && !newer(sc, &sc->v[i]); i++)
		;
	if (i == sc->n)
		return;
	if (db_begin(e->db) == 0) {
		for (; i < sc->n && r == 0; i++)
			if (newer(sc, &sc->v[i]))
				r = db_session_touch(e->db, DB_ROLE_SUPERVISOR, &sc->v[i].s.s,
						     sc->v[i].last) < 0 ? -1 : 0;
		/* what was written before a failed statement is still worth keeping */
		if (db_commit(e->db) == 0 && r == 0)
			return;
	}
	e->counters[CNT_DB_ERRORS]++;
	log_warnx("idle expiry: %s", db_error(e->db));
}

int engine_ss_idle_expire(struct engine *e, int64_t now_s)
{
	struct idle_scan sc = { .e = e, .now = now_s, .idle = e->pol.ss_idle_time };
	int ended = 0;

	if (!e->pol.supervisor || !sc.idle || !engine_traffic_ready(e))
		return 0;
	sc.known = (int64_t)(engine_traffic_seen_until(e) / 1000);
	if (sc.known > now_s)
		sc.known = now_s;
	if (db_session_foreach_idle(e->db, DB_ROLE_SUPERVISOR, now_s - sc.idle, idle_cb, &sc) < 0 &&
	    sc.r == 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("idle expiry: %s", db_error(e->db));
	}
	if (sc.r < 0)
		log_warnx("idle expiry: out of memory, the rest at the next tick");
	record_busy(e, &sc);
	for (size_t i = 0; i < sc.n; i++)
		if (!busy(&sc, &sc.v[i]) &&
		    engine_session_drop(e, &sc.v[i].s, CNT_SESSIONS_IDLE, true) == 0)
			ended++;
	if (sc.v)
		sodium_memzero(sc.v, sc.cap * sizeof(*sc.v)); /* session keys */
	free(sc.v);
	return ended;
}
