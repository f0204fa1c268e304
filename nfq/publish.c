/* SPDX-License-Identifier: MIT */
/*
 * The main thread's side of coopnet-nfq's session table (nfqd.h): setting it up from the
 * config, keeping kernel mode's nft maps in step after a change, reloading the config and
 * expiring authd sessions. The table itself (table.h) changes in place, so none of this
 * rebuilds it.
 */
#include <stdio.h>
#include <string.h>

#include "held.h"
#include "log.h"
#include "nfqd.h"

int nfqd_table_init(struct nfqd *d)
{
	d->sh.tbl = tbl_new(&d->sh.rcu);
	if (!d->sh.tbl || tbl_set_services(d->sh.tbl, &d->cfg.services) < 0 ||
	    tbl_set_config(d->sh.tbl, &d->cfg.sessions) < 0) {
		log_warnx("out of memory building the session table");
		return -1;
	}
	/* kernel mode: the sets follow the changes of the table (nfqd_publish); the start's
	 * sessions are in the batch that installs the sets. A supervisor that holds SYNs: the
	 * queue threads re-decide the SYNs of the keys that changed (held.h) */
	tbl_changes_track(d->sh.tbl, d->cfg.mode == MODE_KERNEL ||
			  (d->cfg.role == NFQ_ROLE_SUPERVISOR && d->cfg.miss_hold_ms > 0));
	return 0;
}

/* Kernel mode: bring the sets to the whole table (reload, or when the changes were not all
 * noted or their batch failed): kmsync.c, the difference only. O(n log n). Elements that stay
 * keep their counters, and a key whose ID changes takes its counts from the kernel's dump, so
 * no refresh of the entries' counts is needed first. */
static int publish_full(struct nfqd *d)
{
	struct sess_list all, none;
	int rc = 0;

	sess_list_init(&all);
	sess_list_init(&none);
	if (tbl_to_list(d->sh.tbl, &all) < 0 || kmode_sync(&d->cfg, &all, &none) < 0) {
		log_warnx("kernel maps not updated; the queue threads have the new sessions");
		rc = -1;
	}
	sess_list_clear(&all);
	return rc;
}

int nfqd_publish(struct nfqd *d)
{
	const struct tbl_change *c;
	size_t n, sent;
	bool lost;
	int rc = 0;

	log_debug("session table: %zu sessions", tbl_count(d->sh.tbl));
	c = tbl_changes(d->sh.tbl, &n, &lost);
	held_notes_post(d->sh.notes, c, n, lost); /* the held SYNs of these keys */
	if (d->cfg.mode != MODE_KERNEL || d->qexpr == QEXPR_NONE) {
		tbl_changes_clear(d->sh.tbl);
		return 0;
	}
	/* only the elements of the keys that changed (kernelmode.h) */
	if (lost || kmode_apply(&d->cfg, d->sh.tbl, c, n, &sent) < 0)
		rc = publish_full(d);
	else
		log_debug("kernel mode: %zu change(s), %zu element operation(s)", n, sent);
	tbl_changes_clear(d->sh.tbl);
	return rc;
}

int nfqd_reload(struct nfqd *d, char *msg, size_t msglen)
{
	struct nfq_config next;
	struct jconf_error err;
	const char *what;

	memset(&err, 0, sizeof(err));
	if (nfq_config_load(&next, d->config_path, d->schema, &err) < 0) {
		jconf_error_str(&err, msg, msglen);
		log_warnx("reload refused, keeping the running configuration: %s", msg);
		return -1;
	}
	what = nfq_config_restart_needed(&d->cfg, &next);
	if (what) {
		snprintf(msg, msglen, "%s: changing \"%s\" needs a restart; nothing reloaded",
			 d->config_path, what);
		log_warnx("%s", msg);
		nfq_config_clear(&next);
		return -1;
	}
	/* the services first: a failure there changes nothing */
	if (tbl_set_services(d->sh.tbl, &next.services) < 0 ||
	    tbl_set_config(d->sh.tbl, &next.sessions) < 0) {
		tbl_set_services(d->sh.tbl, &d->cfg.services); /* back; small, may fail too */
		nfq_config_clear(&next);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	svc_list_clear(&d->cfg.services);
	sess_list_clear(&d->cfg.sessions);
	d->cfg.sessions = next.sessions;
	d->cfg.services = next.services;
	d->cfg.log_verbose = next.log_verbose;
	log_setverbose(d->cli_verbose || next.log_verbose);
	if (d->cfg.mode == MODE_KERNEL && d->qexpr != QEXPR_NONE)
		publish_full(d); /* a reload also repairs whatever the sets lost */
	held_notes_post(d->sh.notes, NULL, 0, true); /* config sessions may release held SYNs */
	tbl_changes_clear(d->sh.tbl);
	log_info("reloaded %s: %zu static sessions, %zu services", d->config_path,
		 d->cfg.sessions.n, d->cfg.services.n);
	return 0;
}

bool nfqd_expire(struct nfqd *d, uint64_t now)
{
	bool more = false;

	if (tbl_expire(d->sh.tbl, now, NFQD_EXPIRE_BATCH, &more) > 0)
		nfqd_publish(d);
	return more;
}
