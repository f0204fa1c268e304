/* SPDX-License-Identifier: MIT */
/* The coopnet-nfq daemon state shared by main.c and control.c (main thread only). */
#ifndef COOPNET_NFQ_NFQD_H
#define COOPNET_NFQ_NFQD_H

#include <stdbool.h>
#include <time.h>

#include "nfqconf.h"
#include "kernelmode.h"
#include "nftrule.h"
#include "stage.h"
#include "table.h"
#include "worker.h"

#define MAX_CLIENTS 32

struct ctl_client {
	int fd;
	bool subscribed;
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
	int ctl_fd;
	int nft_ev_fd; /* kernel mode: nftables events (the rule file's sets), or -1 */
	struct ctl_client clients[MAX_CLIENTS];
	int nclients;
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

/* control.c */
void ctl_accept_client(struct nfqd *d);
/* Returns false when the client is gone (closed and removed by the caller). */
bool ctl_handle_client(struct nfqd *d, struct ctl_client *c);
void ctl_broadcast_misses(struct nfqd *d);
void ctl_close_all(struct nfqd *d);

#endif
