/* SPDX-License-Identifier: MIT */
/* The status application's state in the engine (engine_status.c) and the SP's health checks
 * of its vNIC services (engine_health.c). */
#ifndef COOPNET_AUTHD_ENGINE_STATUS_H
#define COOPNET_AUTHD_ENGINE_STATUS_H

#include "engine.h"
#include "health.h"
#include "status_fsm.h"

struct svc_count {                 /* live sessions of one service (SP) */
	char service[CN_COOP_SERVICE_LEN];
	uint32_t n;
	/* engine_load.c: bytes of its sessions at the last two polls of coopnet-nfq */
	uint64_t bytes_sum, bytes_last, bytes_at_ms, bytes_per_s;
};

struct svc_health {                /* one health check per vNIC service (SP) */
	char vnic[CN_COOP_NAME_LEN];
	char service[CN_COOP_SERVICE_LEN];
	struct health *h;
	int reg_fd;                /* the fd registered in the engine's epoll, -1: none */
	short reg_events;
};

struct engine_status {
	struct status_fsm *ss;     /* STATUS_SS: on a supervisor */
	struct status_fsm *sp;     /* STATUS_SP: on a provider */
	struct svc_count *counts;
	size_t n_counts;
	char link_name[CN_COOP_NAME_LEN]; /* the last link read (one-second cache) */
	uint8_t link;
	uint64_t link_read_ms;
	struct svc_health *checks;
	size_t n_checks;
	struct engine_traffic *traffic; /* engine_nfqstat.c: coopnet-nfq's per-session counters */
	struct engine_load *load;       /* engine_load.c: each provider session's part of the sums */
	struct engine_link *links;      /* engine_link.c: the vNICs' link state from the parent */
	size_t n_links;
	bool links_seen;
};

/* engine_status.c */
void engine_status_changed(struct engine *e, const char *service);

/* engine_nfqstat.c: the last poll of coopnet-nfq's per-session counters (an "nfq-traffic"
 * message of the parent); find: the figures of (ID, client), false when not listed. */
bool engine_nfq_traffic(struct engine *e, const json_t *msg); /* true: a whole poll taken */
bool engine_traffic_find(const struct engine *e, cn_id_t id, const struct cn_coop_addr *client,
			 struct cn_status_client *out);
void engine_traffic_free(struct engine *e);
bool engine_traffic_ready(const struct engine *e); /* a whole poll taken since the start */
/* Wall ms when the last poll applied was taken (0: none): the data plane's last_seen figures
 * are known up to then. A poll skipped (a slow coopnet-nfq, a loaded machine) leaves it
 * behind: an idle test must not read the silence after it as idleness (engine_idle.c). */
uint64_t engine_traffic_seen_until(const struct engine *e);
/* The IDs whose entries the last poll taken changed (valid until the next poll); false:
 * take every ID as changed (a whole listing, no copy, no room). */
bool engine_traffic_changes(const struct engine *e, const cn_id_t **ids, size_t *n);
/* engine_idle.c: an SS's idle expiry (supervisor.idle_time) from its data plane's last_seen;
 * the number of sessions it ended. */
int engine_ss_idle_expire(struct engine *e, int64_t now_s);

/* engine_load.c: after a poll of coopnet-nfq's counters (provider): bytes per second of
 * each service's sessions, for info_vNIC (svc_count.bytes_per_s). */
void engine_load_update(struct engine *e);
void engine_load_free(struct engine *e);

/* engine_link.c: the parent's "link-state" message (the vNICs' link state, which the engine
 * cannot read in its chroot); find: the state of vnic, false when the parent never named it. */
void engine_link_state(struct engine *e, const json_t *msg);
bool engine_link_find(const struct engine *e, const char *vnic, uint8_t *link);
void engine_link_free(struct engine *e);

/* engine_ctl_status.c: the rows of `vnics` (supervisor: info_vNIC per session) and of
 * `clients` (provider: info_client per session, role "session") appended to rows. 0 or -1. */
int engine_ctl_vnic_status(struct engine *e, json_t *rows);
/* A reported vNIC status (enum cn_vnic_status): "unknown", "up", "down", "busy", "invalid". */
const char *engine_vnic_status_name(unsigned v);
int engine_ctl_client_status(struct engine *e, json_t *rows);

/* engine_health.c: (re)build the checks of e->pol (kept when unchanged), free, run the due
 * ones (and those whose fd is ready), the next deadline, the figures of one service. */
int engine_health_setup(struct engine *e);
void engine_health_free(struct engine *e);
void engine_health_tick(struct engine *e);
void engine_health_input(struct engine *e, size_t i);
uint64_t engine_health_deadline(const struct engine *e);
void engine_health_fill(struct engine *e, const struct pol_vnic *v, const struct pol_vservice *vs,
			struct cn_status_vnic *out);

#endif
