/* SPDX-License-Identifier: MIT */
/* vNIC provisioning from the policy, in the privileged parent (provision.h). */
#include "provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void provision_free(struct provision *pr)
{
	if (!pr)
		return;
	free(pr->specs);
	free(pr->vhosts);
	free(pr->lines);
	memset(pr, 0, sizeof(*pr));
}

static void spec_from_vnic(struct vnic_spec *s, const struct pol_vnic *vn)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", vn->name);
	snprintf(s->parent, sizeof(s->parent), "%s", vn->parent);
	s->mac_set = vn->has_mac;
	memcpy(s->mac, vn->mac, sizeof(s->mac));
	s->naddrs = vn->n_addrs;
	memcpy(s->addrs, vn->addrs, vn->n_addrs * sizeof(s->addrs[0]));
	snprintf(s->data_folder, sizeof(s->data_folder), "%s", vn->data_folder);
}

static uint16_t apache_port(const struct pol_vnic *vn)
{
	for (size_t k = 0; k < vn->n_services; k++)
		if (vn->services[k].apache)
			return vn->services[k].port;
	return 0;
}

int provision_build(struct provision *out, const struct policy *p, const char *file,
		    char *err, size_t size)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", file);
	if (!p->provider || !p->provision)
		return 0;
	out->enabled = true;
	out->specs = calloc(p->n_vnics ? p->n_vnics : 1, sizeof(*out->specs));
	out->vhosts = calloc(p->n_vnics ? p->n_vnics : 1, sizeof(*out->vhosts));
	out->lines = calloc(p->n_vnics ? p->n_vnics : 1, sizeof(*out->lines));
	if (!out->specs || !out->vhosts || !out->lines) {
		snprintf(err, size, "%s: out of memory", file);
		provision_free(out);
		return -1;
	}
	for (size_t i = 0; i < p->n_vnics; i++) {
		const struct pol_vnic *vn = &p->vnics[i];
		uint16_t port;
		if (!vn->parent[0])
			continue;
		spec_from_vnic(&out->specs[n], vn);
		out->lines[n] = vn->line;
		n++;
		if ((port = apache_port(vn)) != 0)
			vhost_spec_from_vnic(&out->vhosts[out->n_vhosts++], &out->specs[n - 1], port);
	}
	out->n = n;
	if (p->apache.set) {
		out->apache = true;
		snprintf(out->vhost_dir, sizeof(out->vhost_dir), "%s", p->apache.vhost_dir);
		snprintf(out->config, sizeof(out->config), "%s", p->apache.config);
		snprintf(out->log_dir, sizeof(out->log_dir), "%s", p->apache.log_dir);
		snprintf(out->binary, sizeof(out->binary), "%s", p->apache.binary);
		out->reload = p->apache.reload;
	}
	return 0;
}

/* "FILE:LINE: " for the vNIC a library error names */
static int entry_line(const struct provision *pr, const char *vnic)
{
	for (size_t i = 0; vnic && vnic[0] && i < pr->n; i++)
		if (!strcmp(pr->specs[i].name, vnic))
			return pr->lines[i];
	return 0;
}

static int reconcile(const struct provision *pr, const char *what, char *err, size_t size)
{
	struct vnic_report rep;
	struct vnic_error verr;
	int line;

	memset(&verr, 0, sizeof(verr));
	memset(&rep, 0, sizeof(rep));
	if (vnic_reconcile(pr->specs, pr->n, &rep, &verr) < 0) {
		line = entry_line(pr, verr.vnic);
		if (line > 0)
			snprintf(err, size, "%s:%d: provider.vnics: %s%s", pr->file, line, verr.msg,
				 rep.rolled_back ? " (what this run changed was undone)" : "");
		else
			snprintf(err, size, "%s: provider.vnics: %s%s", pr->file, verr.msg,
				 rep.rolled_back ? " (what this run changed was undone)" : "");
		return -1;
	}
	if (rep.nactions)
		log_info("vNICs %s: %zu created, %zu changed, %zu deleted", what, rep.created,
			 rep.changed, rep.deleted);
	else
		log_info("vNICs %s: %zu vNIC(s), nothing to change", what, pr->n);
	return 0;
}

static int vhosts(const struct provision *pr, char *err, size_t size)
{
	struct vhost_conf conf = {
		.vhost_dir = pr->vhost_dir, .log_dir = pr->log_dir, .apache_bin = pr->binary,
		.apache_conf = pr->config, .no_reload = !pr->reload,
	};
	struct vhost_report rep;
	struct vhost_error verr;

	if (!pr->apache)
		return 0;
	memset(&verr, 0, sizeof(verr));
	if (vhost_sync(&conf, pr->vhosts, pr->n_vhosts, &rep, &verr) < 0) {
		snprintf(err, size, "%s: provider.apache: %s", pr->file, verr.msg);
		return -1;
	}
	log_info("Apache vhosts in %s: %zu written, %zu removed, %zu unchanged%s", pr->vhost_dir,
		 rep.written, rep.removed, rep.unchanged, rep.reloaded ? ", graceful reload" : "");
	return 0;
}

int provision_apply(const struct provision *next, const struct provision *running,
		    char *err, size_t size)
{
	char undo[1024];

	/* a policy that never created vNICs leaves the host alone; one that did and now lists
	 * none removes them (stale, marked) */
	if (!next->enabled && !running->enabled)
		return 0;
	if (reconcile(next, "reconciled", err, size) < 0)
		return -1;
	if (vhosts(next, err, size) < 0) {
		/* the files are back as they were (vhost_sync): put the links back too */
		if (running->enabled && reconcile(running, "restored", undo, sizeof(undo)) < 0)
			log_warnx("restoring the previous vNICs failed too: %s", undo);
		return -1;
	}
	return 0;
}
