/* SPDX-License-Identifier: MIT */
/*
 * The status application's rows for the control commands (docs/coopnetctl.md): on a
 * supervisor, `vnics` lists the info_vNIC its SPs reported (one row per session); on a
 * provider, `clients` adds the info_client its SSs reported (one row per session, role
 * "session"). Read from the profiled status database, as a tool reading it would.
 */
#include "engine_status.h"

#include <string.h>

#include "log.h"

const char *engine_vnic_status_name(unsigned v)
{
	static const char *const names[] = { "unknown", "up", "down", "busy" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "invalid";
}

static json_int_t age_ms(int64_t received_ms)
{
	int64_t now = (int64_t)engine_wall_ms();

	return received_ms > 0 && now >= received_ms ? (json_int_t)(now - received_ms) : -1;
}

/* The fields every stored report has (when, how often, whether its peer answers), then the row
 * joins the listing. Takes o. */
static int append_report(json_t *rows, json_t *o, json_int_t interval_ms, json_int_t received_ms,
			 bool reachable, json_int_t reach_changed_ms)
{
	json_object_set_new(o, "interval_ms", json_integer(interval_ms));
	json_object_set_new(o, "received_ms", json_integer(received_ms));
	json_object_set_new(o, "age_ms", json_integer(age_ms(received_ms)));
	json_object_set_new(o, "reachable", json_boolean(reachable));
	json_object_set_new(o, "reach_changed_ms", json_integer(reach_changed_ms));
	return json_array_append_new(rows, o) == 0 ? 0 : -1;
}

static int vnic_row(const struct db_vnic_status *r, void *arg)
{
	char id[CN_ID_STRLEN];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I}",
		"sp", r->sp, "id", cn_id_format_hex(r->id, id, sizeof(id)), "service", r->service,
		"vnic", r->vnic, "address", r->address, "status", engine_vnic_status_name(r->vnic_status),
		"link", cn_link_name(r->v.link), "health", cn_health_name(r->v.health),
		"check", cn_check_name(r->v.check), "http_code", r->v.http_code,
		"weight", r->v.weight, "sessions", (json_int_t)r->v.sessions,
		"bytes_per_s", (json_int_t)r->v.bytes_per_s);

	if (!o)
		return -1;
	json_object_set_new(o, "conns", r->v.conns == CN_STATUS_CONNS_UNKNOWN ? json_null() :
			    json_integer(r->v.conns));
	json_object_set_new(o, "check_ms", json_integer(r->v.check_ms));
	json_object_set_new(o, "since_s", r->v.since_s == CN_STATUS_SINCE_UNKNOWN ? json_null() :
			    json_integer(r->v.since_s));
	return append_report(arg, o, r->interval_ms, r->received_ms, r->reachable,
			     r->reach_changed_ms);
}

int engine_ctl_vnic_status(struct engine *e, json_t *rows)
{
	return db_vnic_status_foreach(e->db, vnic_row, rows);
}

static int client_row(const struct db_client_status *r, void *arg)
{
	char id[CN_ID_STRLEN];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
		"role", "session", "ss", r->ss, "id", cn_id_format_hex(r->id, id, sizeof(id)),
		"service", r->service, "client", r->client, "name", r->client_name,
		"last_seen_ms", (json_int_t)r->c.last_seen_ms,
		"segs_c2s", (json_int_t)r->c.segs_c2s, "bytes_c2s", (json_int_t)r->c.bytes_c2s,
		"segs_s2c", (json_int_t)r->c.segs_s2c, "bytes_s2c", (json_int_t)r->c.bytes_s2c);

	if (!o)
		return -1;
	json_object_set_new(o, "drops", json_pack("{s:I, s:I, s:I, s:I}",
		cn_status_drop_name(CN_DROP_NO_ID), (json_int_t)r->c.drops[CN_DROP_NO_ID],
		cn_status_drop_name(CN_DROP_WRONG_ID), (json_int_t)r->c.drops[CN_DROP_WRONG_ID],
		cn_status_drop_name(CN_DROP_EXPIRED), (json_int_t)r->c.drops[CN_DROP_EXPIRED],
		cn_status_drop_name(CN_DROP_OTHER), (json_int_t)r->c.drops[CN_DROP_OTHER]));
	return append_report(arg, o, r->interval_ms, r->received_ms, r->reachable,
			     r->reach_changed_ms);
}

int engine_ctl_client_status(struct engine *e, json_t *rows)
{
	return db_client_status_foreach(e->db, client_row, rows);
}
