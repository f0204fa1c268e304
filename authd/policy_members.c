/* SPDX-License-Identifier: MIT */
/*
 * SP groups in the policy (docs/groups.md, docs/policy.md): a supervisor service hosted by
 * several SPs ("members": the SP that answers and the address the SS sends the connections
 * to), a header's group entry "weight" and the header's "balance" strategy.
 */
#include "policy.h"
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

static int parse_ip(struct cn_coop_addr *out, const struct jconf_doc *doc, const json_t *v,
		    struct jconf_error *err)
{
	return pol_parse_addr(out, doc, v, 0, err);
}

static json_t *ip_json(const struct cn_coop_addr *a)
{
	struct cn_coop_addr noport = *a;
	char buf[CN_COOP_ADDRSTRLEN];

	noport.port = 0;
	return json_string(cn_coop_addr_format(&noport, buf, sizeof(buf)));
}

/* "members": [ { "sp": IP, "address": IP (default: sp) } ]: each address of the service's
 * family (the DNAT keeps the family), each SP and each address once. */
int policy_parse_members(struct pol_service *s, const struct jconf_doc *doc, const json_t *svc,
			 struct jconf_error *err)
{
	const json_t *arr = json_object_get(svc, "members"), *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > POL_MAX_MEMBERS) {
		jconf_errorf(err, doc, arr, "service \"%s\": \"members\" takes 1 to %d SPs", s->name,
			     POL_MAX_MEMBERS);
		return -1;
	}
	s->members = calloc(json_array_size(arr), sizeof(*s->members));
	if (!s->members) {
		jconf_errorf(err, doc, arr, "out of memory");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		struct pol_member *m = &s->members[i];
		const json_t *a = json_object_get(v, "address");

		if (parse_ip(&m->sp, doc, json_object_get(v, "sp"), err) < 0 ||
		    parse_ip(&m->addr, doc, a ? a : json_object_get(v, "sp"), err) < 0)
			return -1;
		if (m->addr.family != s->addr.family) {
			jconf_errorf(err, doc, a ? a : v, "service \"%s\": a member's \"address\" "
				     "must be of the service address's family (give \"address\")",
				     s->name);
			return -1;
		}
		if (policy_member_by_sp(s, &m->sp) ||
		    policy_member_by_addr(s, m->addr.family, m->addr.addr)) {
			jconf_errorf(err, doc, v, "service \"%s\": an SP or an address listed "
				     "twice in \"members\"", s->name);
			return -1;
		}
		s->n_members++;
	}
	return 0;
}

/* A member's address and the service's port reach one service only: the data plane keys a
 * session on (client, address, port), so two group services (or a group service and a plain
 * one) may not share one. */
int policy_check_members(const struct policy *p, const struct jconf_doc *doc,
			 const json_t *services, struct jconf_error *err)
{
	for (size_t i = 0; i < p->n_services; i++) {
		const struct pol_service *s = &p->services[i];

		for (size_t k = 0; k < s->n_members; k++) {
			for (size_t j = 0; j < p->n_services; j++) {
				const struct pol_service *o = &p->services[j];
				bool clash = o->n_members ?
					(j != i && policy_member_by_addr(o, s->addr.family,
									 s->members[k].addr.addr)) :
					(o->addr.family == s->addr.family &&
					 !memcmp(o->addr.addr, s->members[k].addr.addr, 16));

				if (clash && o->addr.port == s->addr.port) {
					jconf_errorf(err, doc, json_array_get(services, i), "service "
						     "\"%s\": a member's address and port are those "
						     "of service \"%s\" too", s->name, o->name);
					return -1;
				}
			}
		}
	}
	return 0;
}

int policy_parse_group_entry(struct pol_sp *sp, const struct jconf_doc *doc, const json_t *v,
			     struct jconf_error *err)
{
	const json_t *w = json_object_get(v, "weight");

	sp->weight = POL_DEFAULT_WEIGHT;
	if (!w)
		return 0;
	if (!json_is_integer(w) || json_integer_value(w) < 0 ||
	    json_integer_value(w) > CN_BALANCE_WEIGHT_MAX) {
		jconf_errorf(err, doc, w, "\"weight\" is 0 to %d", CN_BALANCE_WEIGHT_MAX);
		return -1;
	}
	sp->weight = (uint16_t)json_integer_value(w);
	return 0;
}

int policy_parse_balance(struct policy *p, const struct jconf_doc *doc, const json_t *header,
			 struct jconf_error *err)
{
	const json_t *b = json_object_get(header, "balance");

	p->balance = CN_BALANCE_WEIGHTED;
	if (b && cn_balance_parse(&p->balance, json_string_value(b)) < 0) {
		jconf_errorf(err, doc, b, "\"balance\": \"%s\" is none of weighted, least-load, "
			     "random", json_string_value(b) ? json_string_value(b) : "");
		return -1;
	}
	/* a service hosted by more SPs than one decision can weigh */
	for (size_t i = 0; i < p->n_group; i++) {
		for (size_t k = 0; k < p->group[i].n_services; k++) {
			size_t n = 0;

			for (size_t j = 0; j < p->n_group; j++)
				for (size_t l = 0; l < p->group[j].n_services; l++)
					n += !strcmp(p->group[j].services[l],
						     p->group[i].services[k]);
			if (n > POL_MAX_MEMBERS) {
				jconf_errorf(err, doc, json_object_get(header, "group"), "service "
					     "\"%s\" is hosted by more than %d SPs",
					     p->group[i].services[k], POL_MAX_MEMBERS);
				return -1;
			}
		}
	}
	return 0;
}

void policy_members_json(json_t *svc, const struct pol_service *s)
{
	json_t *a;

	if (!svc || !s->n_members || !(a = json_array()))
		return;
	for (size_t i = 0; i < s->n_members; i++)
		json_array_append_new(a, json_pack("{s:o, s:o}", "sp", ip_json(&s->members[i].sp),
						   "address", ip_json(&s->members[i].addr)));
	json_object_set_new(svc, "members", a);
}

void policy_balance_json(json_t *header, json_t *group, const struct policy *p)
{
	if (!header)
		return;
	json_object_set_new(header, "balance", json_string(cn_balance_name(p->balance)));
	for (size_t i = 0; group && i < p->n_group; i++)
		json_object_set_new(json_array_get(group, i), "weight",
				    json_integer(p->group[i].weight));
}

void policy_members_free(struct policy *p)
{
	for (size_t i = 0; p && p->services && i < p->n_services; i++) {
		free(p->services[i].members);
		p->services[i].members = NULL;
	}
}

const struct pol_member *policy_member_by_sp(const struct pol_service *s,
					     const struct cn_coop_addr *sp)
{
	for (size_t i = 0; s && i < s->n_members; i++)
		if (s->members[i].sp.family == sp->family &&
		    !memcmp(s->members[i].sp.addr, sp->addr, 16))
			return &s->members[i];
	return NULL;
}

const struct pol_member *policy_member_by_addr(const struct pol_service *s, uint8_t family,
					       const uint8_t *addr)
{
	for (size_t i = 0; s && i < s->n_members; i++)
		if (s->members[i].addr.family == family &&
		    !memcmp(s->members[i].addr.addr, addr, family == CN_FAM_INET ? 4 : 16))
			return &s->members[i];
	return NULL;
}
