/* SPDX-License-Identifier: MIT */
/* The coopnet-nfq daemon state shared by main.c and control.c (main thread only). */
#ifndef COOPNET_NFQ_NFQD_H
#define COOPNET_NFQ_NFQD_H

#include <stdbool.h>
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
	uint64_t kstats_ms;         /* kernel mode: last refresh of the per-session counters */
	struct ctl_server ctl;           /* the control socket (lib/ctl.h) */
	int nft_ev_fd; /* kernel mode: nftables events (the rule file's sets), or -1 */
	struct kmode_svc kmsvc; /* kernel mode: the event socket and the service-set copy */
	struct nfqctl_conn conns[CTL_MAX_CONNS];
	bool reload_pending;
	bool cli_verbose;                /* -v: debug logging whatever the config says */
};

/* publish.c: the main thread's side of the session table. */
/* The live table with the config's sessions and services (d->sh.rcu initialised). 0 or -1. */
int nfqd_table_init(struct nfqd *d);
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
