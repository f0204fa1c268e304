/* SPDX-License-Identifier: MIT */
/* The status machine's reports into the database (status_db.h). */
#include <stdio.h>
#include <string.h>

#include "status_db.h"

static void copy_name(char *out, size_t size, const char *name, size_t max)
{
	snprintf(out, size, "%.*s", (int)max, name);
}

int status_db_store(struct authd_db *db, enum status_role role, const struct status_session *s,
		    const struct cn_coop_msg *m, const struct cn_status_body *b,
		    int64_t received_ms)
{
	if (role == STATUS_SS && b->kind == CN_SENDER_VNIC) {
		struct db_vnic_status r = { .id = s->id, .vnic_status = m->vnic_status,
			.v = b->u.vnic, .interval_ms = b->interval_ms,
			.sent_ms = (int64_t)m->timestamp_ms, .received_ms = received_ms };

		cn_coop_addr_format(&s->peer, r.sp, sizeof(r.sp));
		copy_name(r.service, sizeof(r.service), s->service, sizeof(s->service));
		copy_name(r.vnic, sizeof(r.vnic), m->sender.name, sizeof(m->sender.name));
		cn_coop_addr_format(&m->sender.addr, r.address, sizeof(r.address));
		return db_vnic_status_put(db, &r);
	}
	if (role == STATUS_SP && b->kind == CN_SENDER_CLIENT) {
		struct db_client_status r = { .id = s->id, .c = b->u.client,
			.interval_ms = b->interval_ms, .sent_ms = (int64_t)m->timestamp_ms,
			.received_ms = received_ms };

		cn_coop_addr_format(&s->peer, r.ss, sizeof(r.ss));
		copy_name(r.service, sizeof(r.service), s->service, sizeof(s->service));
		copy_name(r.client_name, sizeof(r.client_name), m->sender.name,
			  sizeof(m->sender.name));
		cn_coop_addr_format(&m->sender.addr, r.client, sizeof(r.client));
		return db_client_status_put(db, &r);
	}
	return -1; /* the machine never stores a report of its own kind */
}

int status_db_reachability(struct authd_db *db, enum status_role role,
			   const struct status_session *s, bool reachable, int64_t now_ms)
{
	char peer[CN_COOP_ADDRSTRLEN], service[CN_COOP_SERVICE_LEN + 1];

	cn_coop_addr_format(&s->peer, peer, sizeof(peer));
	copy_name(service, sizeof(service), s->service, sizeof(s->service));
	return db_status_reachable(db, role == STATUS_SS ? DB_ROLE_SUPERVISOR : DB_ROLE_PROVIDER,
				   peer, s->id, service, reachable, now_ms);
}
