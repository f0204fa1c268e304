/* SPDX-License-Identifier: MIT */
/* The provider's section of the policy (docs/policy.md): vNICs and their services, Apache,
 * relay addresses, the SP's clients. */
#include "policy_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* "198.18.2.11" or "198.18.2.11/24": the address, and the prefix when given. */
static int parse_vnic_addr(struct cn_coop_addr *addr, struct vnic_addr *va, bool *has_len,
			   const struct jconf_doc *doc, const json_t *v, struct jconf_error *err)
{
	const char *text = json_string_value(v), *slash;
	char host[INET6_ADDRSTRLEN];
	size_t n;

	slash = text ? strchr(text, '/') : NULL;
	n = text ? (slash ? (size_t)(slash - text) : strlen(text)) : 0;
	if (!text || n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, text, n);
	host[n] = '\0';
	if (cn_coop_addr_parse(addr, host) < 0)
		goto bad;
	addr->port = 0;
	*has_len = slash != NULL;
	if (slash && vnic_parse_addr(va, text) < 0) {
		jconf_errorf(err, doc, v, "\"%s\": the prefix length must be 0 to %d", text,
			     addr->family == CN_FAM_INET ? 32 : 128);
		return -1;
	}
	return 0;
bad:
	jconf_errorf(err, doc, v, "\"%s\" is not an address with an optional prefix length "
		     "(198.18.2.11/24, 2001:db8:2::11/64)", text ? text : "");
	return -1;
}

static int parse_vnic_service(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	struct pol_vservice *s = elem;
	const struct pol_vnic *vn = arg;

	if (pol_parse_name(s->name, sizeof(s->name), c->doc, json_object_get(v, "name"),
			   c->err) < 0)
		return -1;
	s->port = pol_get_port(v, 0);
	s->apache = json_is_true(json_object_get(v, "apache"));
	s->confidential = json_is_true(json_object_get(v, "confidential"));
	if (policy_parse_health(s, c->doc, v, c->err) < 0)
		return -1;
	for (size_t j = 0; s->apache && j < i; j++) {
		if (vn->services[j].apache) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "apache"), "vNIC \"%s\": "
				     "one service per vNIC may be served by Apache (its vhost file "
				     "has one port)", vn->name);
			return -1;
		}
	}
	return 0;
}

/* What creating the vNIC needs: a prefix length on every address, a data folder. */
static int parse_vnic_provision(struct pol_vnic *vn, struct pctx *c, const json_t *obj,
				const char *default_parent, bool has_len)
{
	json_t *mac = json_object_get(obj, "mac"), *extra = json_object_get(obj, "addresses"), *v;
	const char *parent = json_string_value(json_object_get(obj, "parent"));
	size_t i;

	if (!parent && !default_parent[0])
		return 0; /* a vNIC this SP does not create (its address is up already) */
	if (pol_copy_bounded(vn->parent, sizeof(vn->parent), parent ? parent : default_parent, c->doc,
			 parent ? json_object_get(obj, "parent") : obj, "the parent interface name",
			 c->err) < 0)
		return -1;
	if (!has_len) {
		jconf_errorf(c->err, c->doc, json_object_get(obj, "address"), "vNIC \"%s\": "
			     "write the address with its prefix length (e.g. \"%s/24\"): coopnet-authd "
			     "creates this vNIC on \"%s\"", vn->name,
			     json_string_value(json_object_get(obj, "address")), vn->parent);
		return -1;
	}
	if (!vn->data_folder[0]) {
		jconf_errorf(c->err, c->doc, obj, "vNIC \"%s\": \"data_folder\" is required for "
			     "a vNIC coopnet-authd creates", vn->name);
		return -1;
	}
	if (mac) {
		if (vnic_parse_mac(vn->mac, json_string_value(mac)) < 0 || (vn->mac[0] & 1)) {
			jconf_errorf(c->err, c->doc, mac, "\"%s\" is not a unicast MAC address "
				     "(02:00:5e:10:00:01)", json_string_value(mac));
			return -1;
		}
		vn->has_mac = true;
	}
	vn->n_addrs = 1;
	json_array_foreach(extra, i, v) {
		struct cn_coop_addr a;
		bool len = false;
		if (vn->n_addrs >= VNIC_MAX_ADDRS) {
			jconf_errorf(c->err, c->doc, v, "vNIC \"%s\": at most %d addresses",
				     vn->name, VNIC_MAX_ADDRS);
			return -1;
		}
		if (parse_vnic_addr(&a, &vn->addrs[vn->n_addrs], &len, c->doc, v, c->err) < 0)
			return -1;
		if (!len) {
			jconf_errorf(c->err, c->doc, v, "vNIC \"%s\": \"%s\" needs its prefix "
				     "length", vn->name, json_string_value(v));
			return -1;
		}
		vn->n_addrs++;
	}
	return 0;
}

static int parse_vnic(struct pol_vnic *vn, struct pctx *c, const json_t *obj,
		      const char *default_parent)
{
	json_t *addr = json_object_get(obj, "address");
	bool has_len = false;

	int col;

	if (jconf_position(c->doc, obj, &vn->line, &col) < 0)
		vn->line = 0;
	if (pol_parse_name(vn->name, sizeof(vn->name), c->doc, json_object_get(obj, "name"), c->err) < 0 ||
	    parse_vnic_addr(&vn->addr, &vn->addrs[0], &has_len, c->doc, addr, c->err) < 0)
		return -1;
	if (pol_copy_opt(vn->data_folder, sizeof(vn->data_folder), obj, "data_folder", "", c->doc,
		     c->err) < 0 ||
	    POL_PARSE_EACH(vn->services, &vn->n_services, c, json_object_get(obj, "services"),
			   parse_vnic_service, vn) < 0 ||
	    parse_vnic_provision(vn, c, obj, default_parent, has_len) < 0)
		return -1;
	for (size_t k = 0; k < vn->n_services; k++) {
		if (vn->services[k].apache && !vn->data_folder[0]) {
			jconf_errorf(c->err, c->doc, obj, "vNIC \"%s\": a service served by Apache "
				     "needs \"data_folder\" (its DocumentRoot)", vn->name);
			return -1;
		}
	}
	return 0;
}

static int parse_vnic_elem(void *elem, size_t i, const json_t *v, struct pctx *c, void *arg)
{
	struct pol_vnic *vn = elem;
	struct policy *p = arg;
	uint16_t port;

	if (parse_vnic(vn, c, v, p->vnic_parent) < 0)
		return -1;
	if (vn->parent[0])
		p->provision = true;
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(p->vnics[j].name, vn->name)) {
			jconf_errorf(c->err, c->doc, json_object_get(v, "name"),
				     "vNIC name \"%s\" used twice", vn->name);
			return -1;
		}
	}
	/* a service name identifies one vNIC of this SP (p->n_vnics counts those before vn) */
	for (size_t k = 0; k < vn->n_services; k++) {
		if (policy_vnic_for(p, vn->services[k].name, &port)) {
			jconf_errorf(c->err, c->doc, json_array_get(json_object_get(v, "services"), k),
				     "service \"%s\" is hosted by two vNICs", vn->services[k].name);
			return -1;
		}
		for (size_t m = 0; m < k; m++) {
			if (!strcmp(vn->services[m].name, vn->services[k].name)) {
				jconf_errorf(c->err, c->doc,
					     json_array_get(json_object_get(v, "services"), k),
					     "service \"%s\" listed twice", vn->services[k].name);
				return -1;
			}
		}
	}
	return 0;
}

static int parse_apache(struct pol_apache *a, struct pctx *c, const json_t *obj)
{
	json_t *r;

	if (!obj)
		return 0;
	a->set = true;
	if (pol_copy_opt(a->vhost_dir, sizeof(a->vhost_dir), obj, "vhost_dir", "", c->doc,
		     c->err) < 0 ||
	    pol_copy_opt(a->config, sizeof(a->config), obj, "config", "/etc/apache2/apache2.conf",
		     c->doc, c->err) < 0 ||
	    pol_copy_opt(a->log_dir, sizeof(a->log_dir), obj, "log_dir", "/var/log/apache2", c->doc,
		     c->err) < 0 ||
	    pol_copy_opt(a->binary, sizeof(a->binary), obj, "binary", "/usr/sbin/apache2", c->doc,
		     c->err) < 0)
		return -1;
	r = json_object_get(obj, "reload");
	a->reload = !r || json_is_true(r);
	return 0;
}

static int parse_relay(struct policy *p, struct pctx *c, const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (i >= POL_MAX_RELAY) {
			jconf_errorf(c->err, c->doc, v, "at most %d relay addresses", POL_MAX_RELAY);
			return -1;
		}
		if (pol_parse_addr(&p->relay[i], c->doc, v, 0, c->err) < 0)
			return -1;
		p->n_relay++;
	}
	return 0;
}

static int pol_index_clients(struct policy *p, struct pctx *c, const json_t *clients)
{
	if (policy_index_sp_clients(p) == 0 &&
	    policy_index_prefixes(&p->sp_client_prefixes, p->sp_clients, p->n_sp_clients) == 0)
		return 0;
	jconf_errorf(c->err, c->doc, clients, "out of memory indexing %zu clients by name and "
		     "prefix", p->n_sp_clients);
	return -1;
}

int pol_parse_provider(struct policy *p, struct pctx *c, const json_t *obj)
{
	json_t *clients = json_object_get(obj, "clients");
	uint16_t port;

	p->provider = true;
	p->id_lifetime = (uint32_t)json_integer_value(json_object_get(obj, "id_lifetime"));
	if (!json_object_get(obj, "id_lifetime"))
		p->id_lifetime = 86400;
	p->idle_time = (uint32_t)json_integer_value(json_object_get(obj, "idle_time"));
	if (pol_copy_opt(p->vnic_parent, sizeof(p->vnic_parent), obj, "vnic_parent", "", c->doc,
		     c->err) < 0 ||
	    parse_apache(&p->apache, c, json_object_get(obj, "apache")) < 0 ||
	    parse_relay(p, c, json_object_get(obj, "relay")) < 0)
		return -1;
	p->queue_mark = POL_DEFAULT_QUEUE_MARK;
	if (json_object_get(obj, "queue_mark"))
		p->queue_mark = (uint32_t)json_integer_value(json_object_get(obj, "queue_mark"));
	if (POL_PARSE_EACH(p->vnics, &p->n_vnics, c, json_object_get(obj, "vnics"), parse_vnic_elem,
			   p) < 0 ||
	    pol_parse_clients(&p->sp_clients, &p->n_sp_clients, c, clients) < 0 ||
	    pol_index_clients(p, c, clients) < 0 ||
	    policy_membership_parse(p, c->doc, json_object_get(obj, "membership"), c->resolved,
				    c->err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_vnics; i++) {
		for (size_t k = 0; k < p->vnics[i].n_services; k++) {
			if (p->vnics[i].services[k].apache && !p->apache.set) {
				jconf_errorf(c->err, c->doc, json_array_get(json_object_get(obj, "vnics"), i),
					     "vNIC \"%s\": service \"%s\" is served by Apache but "
					     "provider.apache is missing (vhost_dir, config)",
					     p->vnics[i].name, p->vnics[i].services[k].name);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < p->n_sp_clients; i++) {
		const struct pol_client *cl = &p->sp_clients[i];
		for (size_t j = 0; j < cl->n_services; j++) {
			if (!policy_vnic_for(p, cl->services[j], &port)) {
				jconf_errorf(c->err, c->doc, json_object_get(json_array_get(clients, i),
					     "services"), "client \"%s\": service \"%s\" is hosted "
					     "by no vNIC of provider.vnics", cl->name, cl->services[j]);
				return -1;
			}
		}
	}
	return 0;
}
