/* SPDX-License-Identifier: MIT */
/*
 * vnic-tool: drive vnic_reconcile() and vhost_sync() from argv, for tests/netns/vnic.test.
 *
 *   vnic-tool [-n] [-V VHOSTDIR -L LOGDIR -C APACHECONF [-A APACHEBIN] [-p PORT]] SPEC...
 *   SPEC: name=web1,parent=eth0,folder=/srv/web1,addr=198.18.2.11/24[,addr=...][,mac=..]
 *
 * -n: print the plan only. Prints one line per action applied; exit 0 on success, 1 with the
 * error on stderr.
 */
#include "config.h"

#include "log.h"
#include "vhost.h"
#include "vnic.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SPECS 32

static int parse_spec(struct vnic_spec *s, char *text)
{
	char *save = NULL, *kv;

	memset(s, 0, sizeof(*s));
	for (kv = strtok_r(text, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (v == NULL) {
			fprintf(stderr, "vnic-tool: \"%s\": expected key=value\n", kv);
			return -1;
		}
		*v++ = '\0';
		if (strcmp(kv, "name") == 0 && strlen(v) < sizeof(s->name)) {
			strcpy(s->name, v);
		} else if (strcmp(kv, "parent") == 0 && strlen(v) < sizeof(s->parent)) {
			strcpy(s->parent, v);
		} else if (strcmp(kv, "folder") == 0 && strlen(v) < sizeof(s->data_folder)) {
			strcpy(s->data_folder, v);
		} else if (strcmp(kv, "mac") == 0 && vnic_parse_mac(s->mac, v) == 0) {
			s->mac_set = true;
		} else if (strcmp(kv, "addr") == 0 && s->naddrs < VNIC_MAX_ADDRS &&
			   vnic_parse_addr(&s->addrs[s->naddrs], v) == 0) {
			s->naddrs++;
		} else {
			fprintf(stderr, "vnic-tool: bad %s=\"%s\"\n", kv, v);
			return -1;
		}
	}
	return 0;
}

static int print_plan(const struct vnic_spec *specs, size_t n)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct vnic_state *have = NULL;
	struct vnic_plan *plan = NULL;
	struct vnic_error err;
	char line[256];
	int ret = 1;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("vnic-tool: rtnetlink");
		goto out;
	}
	if (vnic_state_read(nl, &have, &err) < 0 || vnic_plan_build(specs, n, have, &plan, &err) < 0) {
		fprintf(stderr, "vnic-tool: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < plan->n; i++)
		printf("%s\n", vnic_action_format(&plan->acts[i], line, sizeof(line)));
	ret = 0;
out:
	vnic_plan_free(plan);
	vnic_state_free(have);
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

int main(int argc, char **argv)
{
	static struct vnic_spec specs[MAX_SPECS];
	struct vhost_conf vc = { .apache_bin = "/usr/sbin/apache2" };
	struct vnic_report rep;
	struct vnic_error err;
	struct vhost_error verr;
	struct vhost_report vrep;
	bool dry = false;
	int port = 80, c;
	size_t n = 0;

	log_init("vnic-tool", LOG_TO_STDERR, false);
	while ((c = getopt(argc, argv, "nV:L:C:A:p:")) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'V': vc.vhost_dir = optarg; break;
		case 'L': vc.log_dir = optarg; break;
		case 'C': vc.apache_conf = optarg; break;
		case 'A': vc.apache_bin = optarg; break;
		case 'p': port = atoi(optarg); break;
		default: return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (n == MAX_SPECS || parse_spec(&specs[n], argv[optind]) < 0)
			return 2;
		n++;
	}
	if (dry)
		return print_plan(specs, n);
	if (vnic_reconcile(specs, n, &rep, &err) < 0) {
		fprintf(stderr, "vnic-tool: %s\n", err.msg);
		return 1;
	}
	printf("vnics: %zu actions (%zu created, %zu deleted, %zu changed)\n", rep.nactions,
	       rep.created, rep.deleted, rep.changed);
	if (vc.vhost_dir == NULL)
		return 0;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "vnic-tool: bad port %d\n", port);
		return 2;
	}
	{
		static struct vhost_spec vs[MAX_SPECS];

		for (size_t i = 0; i < n; i++)
			vhost_spec_from_vnic(&vs[i], &specs[i], (uint16_t)port);
		if (vhost_sync(&vc, vs, n, &vrep, &verr) < 0) {
			fprintf(stderr, "vnic-tool: %s\n", verr.msg);
			return 1;
		}
	}
	printf("vhosts: %zu written, %zu removed, %s\n", vrep.written, vrep.removed,
	       vrep.reloaded ? "apache reloaded" : "unchanged");
	return 0;
}
