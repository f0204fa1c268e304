/* SPDX-License-Identifier: MIT */
/*
 * What the status machine (status_fsm.h) reports, written to the profiled status database
 * (db.h "Status"): the body of its store and reachability callbacks, so that the engine's
 * glue only forwards them. Rows are keyed as the sessions table is: peer as `address:port`
 * (cn_coop_addr_format), ID, service name.
 */
#ifndef COOPNET_AUTHD_STATUS_DB_H
#define COOPNET_AUTHD_STATUS_DB_H

#include "db.h"
#include "status_fsm.h"

/* An accepted report of s's peer: info_vNIC on an SS, info_client on an SP. 0 or -1. */
int status_db_store(struct authd_db *db, enum status_role role, const struct status_session *s,
		    const struct cn_coop_msg *m, const struct cn_status_body *b,
		    int64_t received_ms);
/* s's peer became (un)reachable at now_ms. 0 or -1. */
int status_db_reachability(struct authd_db *db, enum status_role role,
			   const struct status_session *s, bool reachable, int64_t now_ms);

#endif
