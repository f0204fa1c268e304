/* SPDX-License-Identifier: MIT */
/*
 * vNIC provisioning of a provider, run by the privileged parent only (docs/policy.md,
 * "vNIC provisioning"): the policy's vNICs become lib/vnic specs (macvlan links) and
 * lib/vhost specs (Apache vhost files).
 *
 *	provision_build(&next, policy, file, err)   pure: policy -> specs
 *	provision_apply(&next, &running, err)       vnic_reconcile(next), then vhost_sync(next);
 *	                                            when the vhosts fail, the links are put back
 *	                                            with vnic_reconcile(running); when running
 *	                                            had an Apache section next lacks (or another
 *	                                            vhost_dir), coopnet's files there are removed
 *	provision_snapshot(&prev, &next, err)       at start: the host as found, the "running"
 *	                                            a failed start goes back to
 *
 * Nothing is half-applied: the reconciler undoes its own partial run, and a vhost failure
 * restores the previous links. Errors name the policy file and the vNIC entry:
 *	/etc/coopnet/policy.json:7: vNIC "web1": address 198.19.9.5/24 is outside ...
 */
#ifndef COOPNET_AUTHD_PROVISION_H
#define COOPNET_AUTHD_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "vhost.h"
#include "vnic.h"

struct provision {
	bool enabled;               /* the policy has vNICs to create (or had: stale removal) */
	struct vnic_spec *specs;
	size_t n;
	struct vhost_spec *vhosts;
	size_t n_vhosts;
	bool apache;                /* vhost_dir set */
	char vhost_dir[4096], config[4096], log_dir[4096], binary[4096];
	bool reload;
	char file[4096];            /* the policy file, for messages */
	int *lines;                 /* policy line of each spec */
	/* provision_snapshot(): the host as found at start, to go back to */
	bool snapshot;
	struct vhost_file *saved;   /* coopnet's files in vhost_dir, byte for byte */
	size_t n_saved;
};

int provision_build(struct provision *out, const struct policy *p, const char *file,
		    char *err, size_t size);
/* running may be an empty provision (nothing applied yet). */
int provision_apply(const struct provision *next, const struct provision *running,
		    char *err, size_t size);
void provision_free(struct provision *pr); /* NULL-safe; leaves an empty provision */

/* At start nothing is "running" yet: the host as found (coopnet's marked links, read over
 * rtnetlink, and coopnet's vhost files in next's vhost_dir) becomes the provision a failed
 * start goes back to, so the start undoes exactly what it created or changed. Only when
 * next provisions anything; otherwise out is empty. 0, or -1 with err. */
int provision_snapshot(struct provision *out, const struct provision *next, char *err,
		       size_t size);

#endif
