/* SPDX-License-Identifier: MIT */
/* The coopnet-nfq daemon state shared by main.c and control.c (main thread only). */
#ifndef COOPNET_NFQ_NFQD_H
#define COOPNET_NFQ_NFQD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ctl.h"
#include "nfqconf.h"
#include "kernelmode.h"
#include "nftrule.h"
#include "stage.h"
#include "table.h"
#include "worker.h"

#define NFQCTL_MAX_CONNS 32

/* control.c's state of one control connection, indexed like ctl.conns */
struct nfqctl_conn {
	bool subscribed;                 /* receives session-miss events */
	struct sess_stage stage;         /* a chunked session-sync in progress (stage.h) */
};

struct nfqd {
	const char *config_path;
	struct jconf_schema *schema;
	struct nfq_config cfg;
	struct nfq_shared sh;
	struct nfq_workers w;
	enum queue_expr qexpr;
	time_t started;
	char instance[17];          /* random, hex: a new process (status, listings of changes) */
	uint64_t kstats_ms;         /* kernel mode: start of the last refresh of the counters */
	uint64_t kstats_next_ms;    /* kernel mode: no refresh before (nfqd_kstats_next) */
	uint64_t kstats_took_ms;    /* kernel mode: the main thread's time in this refresh */
	bool kstats_pass;           /* kernel mode: a refresh in slices runs (nfqd_kstats_step) */
	struct ctl_server ctl;           /* the control socket (lib/ctl.h) */
	struct kmode_svc kmsvc; /* kernel mode: the copy of the rule file's service set */
	struct nfqctl_conn conns[CTL_MAX_CONNS];
	bool reload_pending;
	bool cli_verbose;                /* -v: debug logging whatever the config says */
};

/* Kernel mode's per-session counters are refreshed by dumping the sets (kmstats.c), which
 * costs O(n^2) in the sets' size on this kernel (its hash walk restarts per netlink message:
 * docs/nfq.md "Per-session drops"); `stats` (the parent asks every 2 s) and the `sessions`
 * listing share the refresh. A refresh that started at start_ms and took took_ms allows the
 * next one after the later of one second and NFQD_KSTATS_SPACING times its duration, so the
 * refresh never takes more than 1/NFQD_KSTATS_SPACING of the main thread (1,000 sessions: about
 * 2 ms, one a second as before; 60,000 sessions: a dump of seconds, far apart instead of
 * back to back). Saturates instead of wrapping. */
#define NFQD_KSTATS_SPACING 20
static inline uint64_t nfqd_kstats_next(uint64_t start_ms, uint64_t took_ms)
{
	uint64_t gap = took_ms > UINT64_MAX / NFQD_KSTATS_SPACING ? UINT64_MAX :
		       took_ms * NFQD_KSTATS_SPACING;

	if (gap < 1000)
		gap = 1000;
	return start_ms > UINT64_MAX - gap ? UINT64_MAX : start_ms + gap;
}

/* Kernel mode, 16,384 sessions and more: one slice of the running refresh (KSTATS_SLICE keys)
 * per main-loop turn, so that control requests are answered between slices. */
#define NFQD_KSTATS_SLICE 2048
void nfqd_kstats_step(struct nfqd *d);

/* publish.c: the main thread's side of the session table. */
/* The live table with the config's sessions and services (d->sh.rcu initialised). 0 or -1. */
int nfqd_table_init(struct nfqd *d);
/* A random hex identity of this process into out (17 bytes and more: 16 digits). */
void nfqd_instance(char *out, size_t len);
/* After a change of the table: the queue threads see it already; in kernel mode, bring the
 * nft maps in step (a full refill: O(n)). 0 or -1 (logged). */
int nfqd_publish(struct nfqd *d);
/* Re-read the config file; on error the running config stays. 0 or -1 with msg. */
int nfqd_reload(struct nfqd *d, char *msg, size_t msglen);
/* Delete the authd sessions expired at now, at most NFQD_EXPIRE_BATCH (bounded work per
 * main-loop turn). True when expired ones remain (the loop comes back at once). */
#define NFQD_EXPIRE_BATCH 65536
bool nfqd_expire(struct nfqd *d, uint64_t now);

/* control.c: the command table on lib's control-socket server. nfqctl_start takes listen_fd
 * (-1: none, for tests that adopt connected sockets); d->ctl must be ctl_server_init'ed before
 * nfqctl_close is safe. 0, or -1 with errno. */
int nfqctl_start(struct nfqd *d, int listen_fd);
/* Send the workers' session misses to the subscribed connections. */
void nfqctl_broadcast_misses(struct nfqd *d);
/* Close every connection and the socket, and remove its file. */
void nfqctl_close(struct nfqd *d);

#endif
