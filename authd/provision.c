/* SPDX-License-Identifier: MIT */
/* vNIC provisioning from the policy, in the privileged parent (provision.h). */
#include "provision.h"

#include <errno.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
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
	vhost_files_free(pr->saved, pr->n_saved);
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

/* Write pr's vhost files (clear: remove all of coopnet's files in pr's vhost_dir). */
static int vhosts(const struct provision *pr, bool clear, char *err, size_t size)
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
	if ((pr->snapshot ? vhost_sync_files(&conf, pr->saved, pr->n_saved, &rep, &verr) :
	     vhost_sync(&conf, clear ? NULL : pr->vhosts, clear ? 0 : pr->n_vhosts, &rep,
			&verr)) < 0) {
		snprintf(err, size, "%s: provider.apache: %s", pr->file, verr.msg);
		return -1;
	}
	log_info("Apache vhosts in %s: %zu written, %zu removed, %zu unchanged%s", pr->vhost_dir,
		 rep.written, rep.removed, rep.unchanged, rep.reloaded ? ", graceful reload" : "");
	return 0;
}

/* running wrote vhost files where next will not: next has no Apache section, or another
 * directory. (A start snapshot only knows next's directory.) */
static bool vhost_dir_left(const struct provision *next, const struct provision *running)
{
	return running->apache && !running->snapshot &&
	       (!next->apache || strcmp(next->vhost_dir, running->vhost_dir));
}

int provision_apply(const struct provision *next, const struct provision *running,
		    char *err, size_t size)
{
	bool left = vhost_dir_left(next, running);
	char undo[1024];

	/* a policy that never created vNICs leaves the host alone; one that did and now lists
	 * none removes them (stale, marked) */
	if (!next->enabled && !running->enabled && !left)
		return 0;
	if ((next->enabled || running->enabled) && reconcile(next, "reconciled", err, size) < 0)
		return -1;
	if (left && vhosts(running, true, err, size) < 0)
		goto links_back;
	if (vhosts(next, false, err, size) < 0) {
		/* the files are back as they were (vhost_sync); those of the directory left too */
		if (left && vhosts(running, false, undo, sizeof(undo)) < 0)
			log_warnx("restoring the previous vhost files failed too: %s", undo);
		goto links_back;
	}
	return 0;
links_back:
	if (running->enabled && reconcile(running, "restored", undo, sizeof(undo)) < 0)
		log_warnx("restoring the previous vNICs failed too: %s", undo);
	return -1;
}

/* --- the host as found at start ------------------------------------------------------------ */

static bool link_local6(const struct vnic_addr *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

/* A marked macvlan as a spec that reconcile() puts back: same name, parent, MAC, addresses.
 * Its data folder is unknown here and only checked for existence: "/". false when it cannot
 * be a spec (no parent, no address): the rollback then treats it as stale. */
static bool spec_from_link(struct vnic_spec *s, const struct vnic_state *st,
			   const struct vnic_link *l)
{
	const struct vnic_link *parent = vnic_state_find_index(st, l->link);

	memset(s, 0, sizeof(*s));
	if (!parent || strcmp(l->kind, "macvlan") || !l->has_mac)
		return false;
	snprintf(s->name, sizeof(s->name), "%s", l->name);
	snprintf(s->parent, sizeof(s->parent), "%s", parent->name);
	memcpy(s->mac, l->mac, sizeof(s->mac));
	s->mac_set = true;
	for (size_t k = 0; k < l->naddrs && s->naddrs < VNIC_MAX_ADDRS; k++)
		if (!link_local6(&l->addrs[k]))
			s->addrs[s->naddrs++] = l->addrs[k];
	snprintf(s->data_folder, sizeof(s->data_folder), "/");
	return s->naddrs > 0;
}

static int read_links(struct vnic_state **st, char *err, size_t size)
{
	struct vnic_error verr;
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int r;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, size, "rtnetlink: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return -1;
	}
	memset(&verr, 0, sizeof(verr));
	r = vnic_state_read(nl, st, &verr);
	mnl_socket_close(nl);
	if (r < 0)
		snprintf(err, size, "reading the links: %s", verr.msg);
	return r;
}

int provision_snapshot(struct provision *out, const struct provision *next, char *err,
		       size_t size)
{
	struct vnic_state *st = NULL;
	struct vhost_error verr;

	memset(out, 0, sizeof(*out));
	memcpy(out->file, next->file, sizeof(out->file));
	if (!next->enabled && !next->apache)
		return 0;
	if (read_links(&st, err, size) < 0)
		return -1;
	out->specs = calloc(st->nlinks + 1, sizeof(*out->specs));
	out->lines = calloc(st->nlinks + 1, sizeof(*out->lines));
	if (!out->specs || !out->lines) {
		vnic_state_free(st);
		provision_free(out);
		snprintf(err, size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < st->nlinks; i++) {
		const struct vnic_link *l = &st->links[i];
		if (strcmp(l->alias, VNIC_MARKER))
			continue;
		if (spec_from_link(&out->specs[out->n], st, l))
			out->n++;
		else
			log_warnx("vNIC %s (marked) has no parent or address: a failed start "
				  "would remove it", l->name);
	}
	vnic_state_free(st);
	out->enabled = true;
	out->snapshot = true;
	if (next->apache) {
		memset(&verr, 0, sizeof(verr));
		if (vhost_dir_save(next->vhost_dir, &out->saved, &out->n_saved, &verr) < 0) {
			snprintf(err, size, "%s: provider.apache: %s", next->file, verr.msg);
			provision_free(out);
			return -1;
		}
		out->apache = true;
		memcpy(out->vhost_dir, next->vhost_dir, sizeof(out->vhost_dir));
		memcpy(out->config, next->config, sizeof(out->config));
		memcpy(out->log_dir, next->log_dir, sizeof(out->log_dir));
		memcpy(out->binary, next->binary, sizeof(out->binary));
		out->reload = next->reload;
	}
	return 0;
}
