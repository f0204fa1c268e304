/* SPDX-License-Identifier: MIT */
/* Lookups in a parsed policy. */
#include "policy_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* --- lookups ---------------------------------------------------------------------------- */

bool pol_prefix_contains(const struct pol_prefix *p, const struct cn_coop_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->family != a->family)
		return false;
	if (memcmp(p->addr, a->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((p->addr[full] & mask) != (a->addr[full] & mask))
			return false;
	}
	return true;
}

bool policy_client_allows(const struct pol_client *c, const char *service)
{
	for (size_t i = 0; i < c->n_services; i++)
		if (!strcmp(c->services[i], service))
			return true;
	return false;
}

const uint8_t *policy_client_key(const struct pol_client *c, const char *service)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (!strcmp(c->keys[i].service, service))
			return c->keys[i].key;
	return NULL;
}

const struct pol_client *policy_client_by_name(const struct pol_client *c, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

static uint64_t client_name_hash(const void *elem)
{
	const struct pol_client *c = elem;

	return hidx_bytes_hash(HIDX_HASH_INIT, c->name, strnlen(c->name, sizeof(c->name)));
}

static bool client_name_eq(const void *a, const void *b)
{
	return !strncmp(((const struct pol_client *)a)->name, ((const struct pol_client *)b)->name,
			sizeof(((const struct pol_client *)a)->name));
}

static const struct hidx_type client_names = {
	.size = sizeof(struct pol_client), .hash = client_name_hash, .eq = client_name_eq,
};

int policy_index_sp_clients(struct policy *p)
{
	hidx_clear(&p->sp_client_names);
	if (hidx_reserve(&p->sp_client_names, &client_names, p->sp_clients, p->n_sp_clients) < 0)
		return -1;
	for (size_t i = 0; i < p->n_sp_clients; i++)
		if (hidx_find(&p->sp_client_names, &client_names, p->sp_clients,
			      &p->sp_clients[i]) < 0 &&
		    hidx_insert(&p->sp_client_names, &client_names, p->sp_clients, i) < 0)
			return -1;
	return 0;
}

const struct pol_client *policy_sp_client_by_name(const struct policy *p, const char *name)
{
	struct pol_client key; /* only its name is read (client_names) */
	size_t len = strlen(name);
	long pos;

	if (p->sp_client_names.cap == 0)
		return policy_client_by_name(p->sp_clients, p->n_sp_clients, name); /* no index */
	if (len >= sizeof(key.name))
		return NULL; /* no entry has so long a name */
	memcpy(key.name, name, len + 1);
	pos = hidx_find(&p->sp_client_names, &client_names, p->sp_clients, &key);
	return pos < 0 ? NULL : &p->sp_clients[pos];
}

const struct pol_client *policy_client_for(const struct pol_client *c, size_t n,
					   const struct cn_coop_addr *addr, const char *service)
{
	for (size_t i = 0; i < n; i++)
		if (pol_prefix_contains(&c[i].prefix, addr) && policy_client_allows(&c[i], service))
			return &c[i];
	return NULL;
}

/* --- clients by prefix ------------------------------------------------------------------- */

#define PFX_NIL UINT32_MAX

static int fam_slot(uint8_t family)
{
	return family == CN_FAM_INET6 ? 1 : 0;
}

/* Only the prefix's own bits: an entry written "198.18.1.5/24" and the key 198.18.1.0/24
 * are one prefix. */
static void prefix_masked(const struct pol_prefix *p, uint8_t out[16])
{
	unsigned full = p->len / 8, rest = p->len % 8;

	memset(out, 0, 16);
	memcpy(out, p->addr, full);
	if (rest)
		out[full] = (uint8_t)(p->addr[full] & (0xff << (8 - rest)));
}

static uint64_t prefix_hash(const void *elem)
{
	const struct pol_prefix *p = &((const struct pol_client *)elem)->prefix;
	uint8_t a[16];

	prefix_masked(p, a);
	return hidx_bytes_hash(hidx_bytes_hash(HIDX_HASH_INIT, &p->family, 1) ^ p->len, a,
			       p->family == CN_FAM_INET6 ? 16 : 4);
}

static bool prefix_eq(const void *x, const void *y)
{
	const struct pol_prefix *a = &((const struct pol_client *)x)->prefix;
	const struct pol_prefix *b = &((const struct pol_client *)y)->prefix;
	uint8_t ma[16], mb[16];

	if (a->family != b->family || a->len != b->len)
		return false;
	prefix_masked(a, ma);
	prefix_masked(b, mb);
	return !memcmp(ma, mb, sizeof(ma));
}

static const struct hidx_type client_prefixes = {
	.size = sizeof(struct pol_client), .hash = prefix_hash, .eq = prefix_eq,
};

void policy_prefix_index_free(struct pol_prefix_index *ix)
{
	if (!ix)
		return;
	hidx_free(&ix->ix);
	free(ix->next);
	memset(ix, 0, sizeof(*ix));
}

static void note_len(struct pol_prefix_index *ix, const struct pol_prefix *p)
{
	int f = fam_slot(p->family);

	for (unsigned k = 0; k < ix->n_lens[f]; k++)
		if (ix->lens[f][k] == p->len)
			return;
	ix->lens[f][ix->n_lens[f]++] = p->len; /* at most 129 lengths: len <= 128 */
}

int policy_index_prefixes(struct pol_prefix_index *ix, const struct pol_client *c, size_t n)
{
	uint32_t *last = NULL; /* per first entry of a prefix: the last entry of its chain */
	int r = -1;

	policy_prefix_index_free(ix);
	if (n >= PFX_NIL || !(ix->next = malloc((n ? n : 1) * sizeof(*ix->next))) ||
	    !(last = malloc((n ? n : 1) * sizeof(*last))) ||
	    hidx_reserve(&ix->ix, &client_prefixes, c, n) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		long first = hidx_find(&ix->ix, &client_prefixes, c, &c[i]);

		ix->next[i] = PFX_NIL;
		if (first >= 0) { /* a later entry of a prefix seen: chained in order */
			ix->next[last[first]] = (uint32_t)i;
			last[first] = (uint32_t)i;
			continue;
		}
		if (hidx_insert(&ix->ix, &client_prefixes, c, i) < 0)
			goto out;
		last[i] = (uint32_t)i;
		note_len(ix, &c[i].prefix);
	}
	ix->built = true;
	r = 0;
out:
	free(last);
	if (r < 0)
		policy_prefix_index_free(ix);
	return r;
}

/* The lowest entry index holding addr and allowing service: for each prefix length present,
 * the entries of addr's prefix of that length, in order, up to the best found so far. */
static const struct pol_client *indexed_client_for(const struct pol_prefix_index *ix,
						   const struct pol_client *c, size_t n,
						   const struct cn_coop_addr *addr,
						   const char *service)
{
	struct pol_client key; /* only its prefix is read (client_prefixes) */
	int f = fam_slot(addr->family);
	uint32_t best = PFX_NIL;

	if (!ix->built)
		return policy_client_for(c, n, addr, service); /* no index */
	if (addr->family != CN_FAM_INET && addr->family != CN_FAM_INET6)
		return NULL;
	key.prefix.family = addr->family;
	memcpy(key.prefix.addr, addr->addr, sizeof(key.prefix.addr));
	for (unsigned k = 0; k < ix->n_lens[f]; k++) {
		long pos;

		key.prefix.len = ix->lens[f][k];
		pos = hidx_find(&ix->ix, &client_prefixes, c, &key);
		for (uint32_t i = pos < 0 ? PFX_NIL : (uint32_t)pos; i != PFX_NIL && i < best;
		     i = ix->next[i])
			if (policy_client_allows(&c[i], service))
				best = i;
	}
	return best == PFX_NIL ? NULL : &c[best];
}

const struct pol_client *policy_sp_client_for(const struct policy *p,
					      const struct cn_coop_addr *addr, const char *service)
{
	return indexed_client_for(&p->sp_client_prefixes, p->sp_clients, p->n_sp_clients, addr,
				  service);
}

const struct pol_client *policy_ss_client_for(const struct policy *p,
					      const struct cn_coop_addr *addr, const char *service)
{
	return indexed_client_for(&p->ss_client_prefixes, p->ss_clients, p->n_ss_clients, addr,
				  service);
}

bool policy_confidential(const struct policy *p, const char *service)
{
	const struct pol_service *s = policy_service_by_name(p, service);

	if (s)
		return s->confidential;
	for (size_t i = 0; i < p->n_vnics; i++)
		for (size_t k = 0; k < p->vnics[i].n_services; k++)
			if (!strcmp(p->vnics[i].services[k].name, service))
				return p->vnics[i].services[k].confidential;
	return false;
}

const struct pol_service *policy_service_by_name(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (!strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

const struct pol_service *policy_service_by_addr(const struct policy *p,
						 const struct cn_coop_addr *addr)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (cn_coop_addr_equal(&p->services[i].addr, addr, true))
			return &p->services[i];
	return NULL;
}

const struct pol_vnic *policy_vnic_for(const struct policy *p, const char *service,
				       uint16_t *port)
{
	for (size_t i = 0; i < p->n_vnics; i++) {
		for (size_t k = 0; k < p->vnics[i].n_services; k++) {
			if (!strcmp(p->vnics[i].services[k].name, service)) {
				*port = p->vnics[i].services[k].port;
				return &p->vnics[i];
			}
		}
	}
	return NULL;
}

bool policy_vnic_addr(const struct pol_vnic *vn, uint8_t family, struct cn_coop_addr *out)
{
	int af = family == CN_FAM_INET ? AF_INET : AF_INET6;

	if (vn->addr.family == family) {
		*out = vn->addr;
		return true;
	}
	for (size_t k = 1; k < vn->n_addrs; k++) {
		if (vn->addrs[k].family != af)
			continue;
		memset(out, 0, sizeof(*out));
		out->family = family;
		memcpy(out->addr, vn->addrs[k].addr, af == AF_INET ? 4 : 16);
		return true;
	}
	return false;
}

const char *kdf_name(enum cn_kdf_cost c)
{
	return c == CN_KDF_MIN ? "min" : c == CN_KDF_MODERATE ? "moderate" : "interactive";
}
