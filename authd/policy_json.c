/* SPDX-License-Identifier: MIT */
/* The resolved form of a policy, the JSON the parent sends the engine (policy_to_json). */
#include "policy_int.h"

#include <sodium.h>

/* --- the resolved form ------------------------------------------------------------------ */

static json_t *hexkey(const uint8_t key[CN_KEY_LEN])
{
	char hex[2 * CN_KEY_LEN + 1];
	json_t *s;

	sodium_bin2hex(hex, sizeof(hex), key, CN_KEY_LEN);
	s = json_string(hex);
	sodium_memzero(hex, sizeof(hex));
	return s;
}

static json_t *addr_json(const struct cn_coop_addr *a)
{
	struct cn_coop_addr noport = *a;
	char buf[CN_COOP_ADDRSTRLEN];

	noport.port = 0;
	return json_string(cn_coop_addr_format(&noport, buf, sizeof(buf)));
}

static json_t *names_json(char (*names)[CN_COOP_SERVICE_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *clients_json(const struct pol_client *cl, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *keys = json_object();
		for (size_t k = 0; keys && k < cl[i].n_keys; k++)
			json_object_set_new(keys, cl[i].keys[k].service, hexkey(cl[i].keys[k].key));
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o}", "name", cl[i].name,
						   "address", cl[i].address, "services",
						   names_json(cl[i].services, cl[i].n_services),
						   "keys", keys));
	}
	return a;
}

static json_t *supervisor_json(const struct policy *p)
{
	json_t *h = json_array(), *s = json_array(), *st = json_array();

	for (size_t i = 0; i < p->n_headers; i++)
		json_array_append_new(h, json_pack("{s:o, s:i}", "address", addr_json(&p->headers[i]),
						   "port", p->headers[i].port));
	for (size_t i = 0; i < p->n_services; i++) {
		json_t *o = json_pack("{s:s, s:o, s:i, s:b}", "name", p->services[i].name,
				      "address", addr_json(&p->services[i].addr),
				      "port", p->services[i].addr.port, "confidential",
				      p->services[i].confidential);
		policy_members_json(o, &p->services[i]);
		json_array_append_new(s, o);
	}
	for (size_t i = 0; i < p->n_start; i++)
		json_array_append_new(st, json_pack("{s:s, s:o}", "service", p->start[i].service,
						    "client", addr_json(&p->start[i].client)));
	return json_pack("{s:o, s:o, s:o, s:o, s:I}", "headers", h, "services", s, "clients",
			 clients_json(p->ss_clients, p->n_ss_clients), "authenticate", st,
			 "idle_time", (json_int_t)p->ss_idle_time);
}

static json_t *header_json(const struct policy *p)
{
	json_t *g = json_array();

	for (size_t i = 0; i < p->n_group; i++)
		json_array_append_new(g, json_pack("{s:o, s:i, s:o}", "address",
						   addr_json(&p->group[i].addr), "port",
						   p->group[i].addr.port, "services",
						   names_json(p->group[i].services, p->group[i].n_services)));
	json_t *h = json_pack("{s:o}", "group", g);
	policy_balance_json(h, g, p);
	return h;
}

/* The address as written: with its prefix length when the vNIC is provisioned. */
static json_t *vnic_addr_json(const struct pol_vnic *vn, size_t k)
{
	char buf[VNIC_ADDRSTRLEN];

	if (!vn->parent[0])
		return addr_json(&vn->addr);
	return json_string(vnic_addr_format(&vn->addrs[k], buf, sizeof(buf)));
}

static json_t *provider_json(const struct policy *p)
{
	json_t *v = json_array();

	for (size_t i = 0; i < p->n_vnics; i++) {
		const struct pol_vnic *vn = &p->vnics[i];
		json_t *s = json_array();
		for (size_t k = 0; k < vn->n_services; k++)
			json_array_append_new(s, json_pack("{s:s, s:i, s:b, s:i, s:o, s:b}", "name",
							   vn->services[k].name, "port",
							   vn->services[k].port, "apache",
							   vn->services[k].apache, "weight",
							   vn->services[k].weight, "health",
							   policy_health_json(&vn->services[k]),
							   "confidential",
							   vn->services[k].confidential));
		json_t *o = json_pack("{s:s, s:o, s:o}", "name", vn->name, "address",
				      vnic_addr_json(vn, 0), "services", s);
		if (o && vn->data_folder[0])
			json_object_set_new(o, "data_folder", json_string(vn->data_folder));
		if (o && vn->parent[0]) {
			char mac[18];
			json_t *extra = json_array();
			json_object_set_new(o, "parent", json_string(vn->parent));
			if (vn->has_mac)
				json_object_set_new(o, "mac", json_string(vnic_mac_format(vn->mac, mac,
											 sizeof(mac))));
			for (size_t k = 1; k < vn->n_addrs; k++)
				json_array_append_new(extra, vnic_addr_json(vn, k));
			json_object_set_new(o, "addresses", extra);
		}
		json_array_append_new(v, o);
	}
	json_t *prov = json_pack("{s:o, s:o, s:i, s:i, s:I}", "vnics", v, "clients",
				 clients_json(p->sp_clients, p->n_sp_clients), "id_lifetime",
				 (int)p->id_lifetime, "idle_time", (int)p->idle_time, "queue_mark",
				 (json_int_t)p->queue_mark);
	if (prov && p->vnic_parent[0])
		json_object_set_new(prov, "vnic_parent", json_string(p->vnic_parent));
	if (prov && p->apache.set)
		json_object_set_new(prov, "apache", json_pack("{s:s, s:s, s:s, s:s, s:b}",
				    "vhost_dir", p->apache.vhost_dir, "config", p->apache.config,
				    "log_dir", p->apache.log_dir, "binary", p->apache.binary,
				    "reload", p->apache.reload));
	if (prov && p->n_relay) {
		json_t *r = json_array();
		for (size_t i = 0; i < p->n_relay; i++)
			json_array_append_new(r, addr_json(&p->relay[i]));
		json_object_set_new(prov, "relay", r);
	}
	return prov;
}

json_t *policy_to_json(const struct policy *p)
{
	json_t *root = json_object();

	if (!root)
		return NULL;
	if (p->has_group_key)
		json_object_set_new(root, "group_key", hexkey(p->group_key));
	if (p->supervisor)
		json_object_set_new(root, "supervisor", supervisor_json(p));
	if (p->header)
		json_object_set_new(root, "header", header_json(p));
	if (p->provider)
		json_object_set_new(root, "provider", provider_json(p));
	policy_membership_json(p, root);
	return root;
}

