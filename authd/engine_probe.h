/* SPDX-License-Identifier: MIT */
/*
 * The path probe in the engine (docs/probe.md; the cooperative application `probe`,
 * authd/coop_app.h coop_app_probe): a supervisor probes the path to each SP it has a session
 * with; a provider reports what its raw socket (in the parent) saw of the probe segment.
 */
#ifndef COOPNET_AUTHD_ENGINE_PROBE_H
#define COOPNET_AUTHD_ENGINE_PROBE_H

#include <jansson.h>

#include "engine.h"

/* A session was stored: a supervisor's first session with an SP starts a probe of it. */
void engine_probe_session(struct engine *e, const struct db_session *s);
/* The parent's "probe-seen": a probe segment the SP's raw socket received. */
void engine_probe_seen(struct engine *e, const json_t *msg);
/* The data plane saw a session's segments go out with none coming back (drops): probe its
 * SP again unless one ran within the last minute. */
void engine_probe_drops(struct engine *e, const struct db_session *s);
/* coopnetctl probe SP: deferred answer (the outcome), or an error now. */
json_t *engine_ctl_probe(struct engine *e, size_t conn, const json_t *req);
/* The probes of a supervisor for `coopnetctl status` (an array, one object per SP). */
json_t *engine_probe_status(const struct engine *e);

#endif
