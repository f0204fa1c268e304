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
	struct sess_list authd;          /* sessions pushed over the control socket */
	struct nfq_shared sh;
	struct nfq_workers w;
	enum queue_expr qexpr;
	time_t started;
	int ctl_fd;
	int nft_ev_fd; /* kernel mode: nftables events (the rule file's sets), or -1 */
	struct kmode_svc kmsvc; /* kernel mode: the event socket and the service-set copy */
	struct ctl_client clients[MAX_CLIENTS];
	int nclients;
	bool reload_pending;
};

/* Rebuild the snapshot from config + authd sessions and publish it (and, in kernel mode,
 * bring the nft maps in step). 0 or -1 (logged; the old snapshot stays). */
int nfqd_publish(struct nfqd *d);
/* Re-read the config file; on error the running config stays. 0 or -1 with msg. */
int nfqd_reload(struct nfqd *d, char *msg, size_t msglen);

/* control.c */
void ctl_accept_client(struct nfqd *d);
/* Returns false when the client is gone (closed and removed by the caller). */
bool ctl_handle_client(struct nfqd *d, struct ctl_client *c);
void ctl_broadcast_misses(struct nfqd *d);
void ctl_close_all(struct nfqd *d);

#endif
