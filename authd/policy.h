/* SPDX-License-Identifier: MIT */
/*
 * The configuration and the policy of coopnet-authd (docs/policy.md): JSON documents
 * validated by lib/jconf against schemas/authd.schema.json and schemas/policy.schema.json,
 * then checked for what a schema cannot say (an address that does not parse, a service a
 * client names but nobody hosts, a duplicate vNIC). Every error is FILE:LINE:COLUMN: message.
 *
 * Two forms of a policy exist:
 *   - the document the administrator writes: passcodes by reference (passcode_file,
 *     group_key_file, readable by root only) or as derived keys (keys, group_key);
 *   - the resolved form: the privileged parent reads the files and derives the keys
 *     (policy_resolve), so the unprivileged engine only ever sees keys.
 * policy_parse() takes both; the engine refuses file references (it cannot read them).
 */
#ifndef COOPNET_AUTHD_POLICY_H
#define COOPNET_AUTHD_POLICY_H

#include "hidx.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "authcrypto.h"
#include "balance.h"
#include "coop.h"
#include "health.h"
#include "jconf.h"
#include "vnic.h"

#define AUTHD_DEFAULT_PORT 7447
#define AUTHD_DEFAULT_POLICY COOPNET_SYSCONFDIR "/policy.json"
#define AUTHD_DEFAULT_DB COOPNET_STATEDIR "/authd.db"
#define AUTHD_DEFAULT_CTL COOPNET_RUNDIR "/authd.sock"
#define AUTHD_DEFAULT_NFQ COOPNET_RUNDIR "/nfq.sock"

/* authd's roles, bits of authd_config.roles (nfq/logic.h has NFQ_ROLE_*, one role a worker) */
enum authd_role_bits {
	POLICY_ROLE_SUPERVISOR = 1,
	POLICY_ROLE_HEADER = 2,
	POLICY_ROLE_PROVIDER = 4,
};

struct authd_config {
	unsigned roles;                  /* POLICY_ROLE_* bits */
	struct cn_coop_addr listen[16];  /* port set */
	size_t n_listen;
	uint16_t port;
	char policy[4096];
	char database[4096];
	char control_socket[108];
	char nfq_socket[108];            /* "" : no data plane */
	char relay_socket[108];          /* coopnet-relay's key socket; "" : none */
	char user[33];                   /* "" : coopnet if it exists, else nobody */
	enum cn_kdf_cost kdf;
	struct auth_timing_cfg {
		uint32_t rto_ms, rto_max_ms, max_tries, window_ms;
	} timing;
	struct status_cfg {              /* 0: the default (status_timing_defaults) */
		uint32_t interval_ms;    /* 100..3600000 [1000] */
		uint32_t miss_limit;     /* 1..100 [2] */
	} status;
	struct metrics_cfg {             /* "metrics" (docs/metrics.md): off unless set */
		bool enabled;
		struct cn_coop_addr listen;  /* address and port of the HTTP endpoint */
		uint32_t max_connections; /* 1..64 [8] */
	} metrics;
	uint32_t probe_again_ms;         /* "probe": {"again_ms"}: 1000..86400000; 0: [60000] */
	uint32_t udp_rcvbuf;             /* "udp_rcvbuf": bytes, 65536..268435456; 0: [4 MiB] */
};

/* An address or a prefix. */
struct pol_prefix {
	uint8_t family; /* CN_FAM_INET / CN_FAM_INET6 */
	uint8_t addr[16];
	uint8_t len;    /* prefix length; 32 or 128 for one address */
};

struct pol_key {
	char service[CN_COOP_SERVICE_LEN];
	uint8_t key[CN_KEY_LEN];
};

struct pol_client {
	char name[CN_COOP_NAME_LEN];
	char address[50];                /* as written */
	struct pol_prefix prefix;
	char (*services)[CN_COOP_SERVICE_LEN];
	size_t n_services;
	struct pol_key *keys;            /* resolved: one per service */
	size_t n_keys;
	char passcode_file[4096];        /* unresolved only */
};

/* Client entries by prefix (policy_lookup.c): the first entry of each distinct prefix in a
 * hash index, the later ones of that prefix chained in policy order, and the prefix lengths
 * present per family; a lookup costs a hash probe per length present, not a compare per
 * entry. Owned by its policy; built by the parser. */
struct pol_prefix_index {
	struct hidx ix;                  /* over the entries: the first of each prefix */
	uint32_t *next;                  /* next[i]: the next entry with i's prefix, or UINT32_MAX */
	uint8_t lens[2][129];            /* [0] IPv4, [1] IPv6: the lengths present */
	uint8_t n_lens[2];
	bool built;
};

struct pol_member {                      /* supervisor: an SP of a group service */
	struct cn_coop_addr sp;          /* where its Auth-REP&REQ comes from (port ignored) */
	struct cn_coop_addr addr;        /* where the SS sends the connections (port 0) */
};
#define POL_MAX_MEMBERS 64               /* SPs of one service (lib/balance.c) */

struct pol_service {                     /* supervisor: a service of the overlay */
	char name[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr addr;        /* port set; with members: the virtual address */
	bool confidential;               /* TLS between SS and SP (docs/security.md) */
	struct pol_member *members;      /* a group service (docs/groups.md), or NULL */
	size_t n_members;
};

struct pol_start {
	char service[CN_COOP_SERVICE_LEN];
	struct cn_coop_addr client;
};

struct pol_sp {                          /* header: one SP of the group */
	struct cn_coop_addr addr;
	uint16_t weight;                 /* 0..CN_BALANCE_WEIGHT_MAX (POL_DEFAULT_WEIGHT) */
	char (*services)[CN_COOP_SERVICE_LEN];
	size_t n_services;
	/* policy_membership.c: the member's name and Ed25519 public key (its group messages) */
	char name[CN_COOP_NAME_LEN];     /* "": takes no group message */
	bool has_public_key;
	uint8_t public_key[32];
};

/* policy_membership.c: provider.membership, an SP's part in its group's messages */
struct pol_membership {
	bool set;
	char name[CN_COOP_NAME_LEN];     /* its name in the headers' policies */
	struct cn_coop_addr headers[16]; /* where its messages go (port set) */
	size_t n_headers;
	uint32_t interval_ms;            /* heartbeat interval [500] */
	char signing_key_file[4096];     /* unresolved only: 64 hex digits, an Ed25519 seed */
	bool has_signing_key;
	uint8_t signing_seed[32];        /* resolved */
};
#define POL_GROUP_INTERVAL_MS 500
#define POL_GROUP_MISS_LIMIT 3
#define POL_GROUP_WINDOW_MS 5000

struct pol_vservice {
	char name[CN_COOP_SERVICE_LEN];
	uint16_t port;
	bool apache;                     /* Apache serves the data folder on this port */
	bool confidential;               /* TLS between SS and SP (docs/security.md) */
	uint16_t weight;                 /* capacity weight in info_vNIC (POL_DEFAULT_WEIGHT) */
	struct health_cfg health;        /* check CN_CHECK_NONE: no check; defaults filled */
};
#define POL_DEFAULT_WEIGHT 100

struct pol_vnic {
	char name[CN_COOP_NAME_LEN];
	struct cn_coop_addr addr;        /* port 0: the primary address (sessions, steering) */
	char data_folder[4096];
	struct pol_vservice *services;
	size_t n_services;
	/* provisioning (docs/policy.md "vNIC provisioning"): parent[0] != 0 when coopnet-authd
	 * creates this vNIC; addrs[0] is "address" with its prefix length */
	char parent[IFNAMSIZ];
	bool has_mac;
	uint8_t mac[6];
	struct vnic_addr addrs[VNIC_MAX_ADDRS];
	size_t n_addrs;
	int line;                        /* of the entry in the policy file, for messages */
};

struct pol_apache {
	bool set;
	char vhost_dir[4096];
	char config[4096];
	char log_dir[4096];
	char binary[4096];
	bool reload;
};

#define POL_MAX_RELAY 4
#define POL_DEFAULT_QUEUE_MARK 0x10000000u
#define POL_IDLE_MAX 31536000u          /* idle_time, seconds (a year), as the schema */

struct policy {
	bool has_group_key;
	uint8_t group_key[CN_KEY_LEN];
	char group_key_file[4096];       /* unresolved only */
	/* supervisor */
	bool supervisor;
	struct cn_coop_addr *headers;
	size_t n_headers;
	struct pol_service *services;
	size_t n_services;
	struct pol_client *ss_clients;
	size_t n_ss_clients;
	struct pol_prefix_index ss_client_prefixes; /* ss_clients by prefix (owned) */
	struct pol_start *start;
	size_t n_start;
	uint32_t ss_idle_time;           /* supervisor.idle_time: seconds since the later of the
					  * last authentication and the last segment its data
					  * plane saw, 0: none (docs/authd.md "Idle time") */
	/* header */
	bool header;
	struct pol_sp *group;
	size_t n_group;
	enum cn_balance balance;         /* how the header chooses among the SPs of a service */
	uint32_t group_miss_limit;       /* heartbeat intervals of a member before DOWN [3] */
	uint32_t group_window_ms;        /* accepted clock difference of group messages [5000] */
	/* provider */
	bool provider;
	struct pol_vnic *vnics;
	size_t n_vnics;
	struct pol_client *sp_clients;
	size_t n_sp_clients;
	struct hidx sp_client_names;     /* sp_clients by name, the first of a name (owned) */
	struct pol_prefix_index sp_client_prefixes; /* sp_clients by prefix (owned) */
	uint32_t id_lifetime;            /* seconds, 0: none */
	uint32_t idle_time;              /* seconds, 0: none */
	bool provision;                  /* some vNIC has a parent: reconcile the vNICs */
	char vnic_parent[IFNAMSIZ];      /* default parent */
	struct pol_apache apache;
	struct cn_coop_addr relay[POL_MAX_RELAY]; /* virtual switch addresses, port 0 */
	size_t n_relay;
	uint32_t queue_mark;             /* mark for coopnet-nfq's queue rule, 0: none */
	struct pol_membership membership;
};

/* Load and check the daemon's configuration file. 0, or -1 with *err. */
int config_load(struct authd_config *cfg, const char *path, struct jconf_error *err);
/* authd/config_metrics.c: "metrics" (m may be NULL: off). 0 or -1 with *err. */
int config_metrics_from_doc(struct metrics_cfg *out, const struct jconf_doc *doc,
			    const json_t *m, struct jconf_error *err);
int config_load_buffer(struct authd_config *cfg, const char *name, const char *text,
		       size_t len, struct jconf_error *err);
/* Tests: false loads without the schemas, to show that the C code checks every bound of its
 * own (a fixed array never trusts the schema's maxItems / maxLength). */
void policy_check_schema(bool on);

/* Parse a policy document (file or buffer) into *out. The roles decide which sections
 * must be present. resolved: refuse passcode_file / group_key_file. 0 or -1 with *err. */
int policy_load_file(struct policy *out, const char *path, unsigned roles,
		     struct jconf_error *err);
int policy_load_buffer(struct policy *out, const char *name, const char *text, size_t len,
		       unsigned roles, bool resolved, struct jconf_error *err);
void policy_free(struct policy *p); /* NULL-safe, wipes keys */

/* Read the passcode files (they must be regular files not readable by group or others)
 * and derive the keys; read group_key_file. 0 or -1 with *err naming the file. */
int policy_resolve(struct policy *p, enum cn_kdf_cost cost, struct jconf_error *err);
/* The resolved form as JSON (keys in hex), for the engine. NULL on allocation failure. */
json_t *policy_to_json(const struct policy *p);

/* policy_membership.c (hooks of policy.c): a header's group entry v into sp (name, public_key)
 * and the header's miss_limit, window_ms; a provider's membership; the signing key file;
 * the resolved form into root (policy_to_json's). 0 or -1 with *err. */
int policy_membership_sp(struct pol_sp *sp, const struct jconf_doc *doc, const json_t *v,
		    struct jconf_error *err);
int policy_membership_header(struct policy *p, const struct jconf_doc *doc, const json_t *obj,
			struct jconf_error *err);
int policy_membership_parse(struct policy *p, const struct jconf_doc *doc, const json_t *obj,
			    bool resolved, struct jconf_error *err);
int policy_membership_resolve(struct policy *p, struct jconf_error *err);
void policy_membership_json(const struct policy *p, json_t *root);
/* The member of p->group named name, or NULL. */
const struct pol_sp *policy_sp_by_name(const struct policy *p, const char *name);

/* Lookups for the state machines. NULL when not found. */
/* The provider's client entry of that name (the first of the name), O(1) through
 * sp_client_names once policy_index_sp_clients built it, else a scan. */
const struct pol_client *policy_sp_client_by_name(const struct policy *p, const char *name);
/* Build p->sp_client_names (the parser does; a policy made by hand may). 0, or -1 (ENOMEM). */
int policy_index_sp_clients(struct policy *p);
const struct pol_client *policy_client_by_name(const struct pol_client *c, size_t n,
					       const char *name);
/* The first client entry whose prefix holds addr and which may use service. */
const struct pol_client *policy_client_for(const struct pol_client *c, size_t n,
					   const struct cn_coop_addr *addr, const char *service);
/* The same answer through a prefix index (built by policy_index_prefixes, which the parser
 * calls; a scan when it is not built): the provider's entries (sp) or the supervisor's (ss).
 * The coopnet-authd parent checks every session it admits with these. */
const struct pol_client *policy_sp_client_for(const struct policy *p,
					      const struct cn_coop_addr *addr, const char *service);
const struct pol_client *policy_ss_client_for(const struct policy *p,
					      const struct cn_coop_addr *addr, const char *service);
/* Build ix over c[n]. 0, or -1 (ENOMEM, or more entries than an index holds). */
int policy_index_prefixes(struct pol_prefix_index *ix, const struct pol_client *c, size_t n);
void policy_prefix_index_free(struct pol_prefix_index *ix); /* NULL-safe */
const uint8_t *policy_client_key(const struct pol_client *c, const char *service);
bool policy_client_allows(const struct pol_client *c, const char *service);
bool pol_prefix_contains(const struct pol_prefix *p, const struct cn_coop_addr *a);
/* Is the service of this name marked confidential (supervisor.services or a vNIC's
 * services)? false for an unknown name. */
bool policy_confidential(const struct policy *p, const char *service);
const struct pol_service *policy_service_by_name(const struct policy *p, const char *name);
const struct pol_service *policy_service_by_addr(const struct policy *p,
						 const struct cn_coop_addr *addr);
/* Provider: the vNIC hosting service, with *port. */
const struct pol_vnic *policy_vnic_for(const struct policy *p, const char *service,
				       uint16_t *port);

/* The vNIC's address of a family (CN_FAM_*), port 0: its "address" when of that family, else
 * the first of its "addresses" that is. false when it has none: a dual-stack vNIC serves
 * IPv4 and IPv6 clients, each session naming the address of the client's family. */
bool policy_vnic_addr(const struct pol_vnic *vn, uint8_t family, struct cn_coop_addr *out);

const char *kdf_name(enum cn_kdf_cost c);

/* policy_health.c: a vNIC service's "health" and "weight" (s->name and s->apache set). */
int policy_parse_health(struct pol_vservice *s, const struct jconf_doc *doc, const json_t *svc,
			struct jconf_error *err);
json_t *policy_health_json(const struct pol_vservice *s);

/* policy_members.c: SP groups (docs/groups.md). A supervisor service's "members", a group
 * entry's "weight" and the header's "balance"; their JSON for the engine; the checks
 * across entries; the free of what they own. */
int policy_parse_members(struct pol_service *s, const struct jconf_doc *doc, const json_t *svc,
			 struct jconf_error *err);
int policy_check_members(const struct policy *p, const struct jconf_doc *doc,
			 const json_t *services, struct jconf_error *err);
int policy_parse_group_entry(struct pol_sp *sp, const struct jconf_doc *doc, const json_t *v,
			     struct jconf_error *err);
int policy_parse_balance(struct policy *p, const struct jconf_doc *doc, const json_t *header,
			 struct jconf_error *err);
void policy_members_json(json_t *svc, const struct pol_service *s);
void policy_balance_json(json_t *header, json_t *group, const struct policy *p);
void policy_members_free(struct policy *p);
/* The member of a group service whose SP is sp (address only) / whose address is addr. */
const struct pol_member *policy_member_by_sp(const struct pol_service *s,
					     const struct cn_coop_addr *sp);
const struct pol_member *policy_member_by_addr(const struct pol_service *s, uint8_t family,
					       const uint8_t *addr);

#endif
