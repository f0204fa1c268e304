/* SPDX-License-Identifier: MIT */
/*
 * vNICs of a Service Provider: desired state, observed state, plan, reconcile.
 *
 * A vNIC is a macvlan in mode bridge on the SP's physical ("parent") interface, with a
 * locally administered unicast MAC and its own IPv4 and/or IPv6 address(es); Apache serves
 * its data folder (see vhost.h). coopnet marks the links it creates with the interface alias
 * VNIC_MARKER and never touches a link without it.
 *
 * The flow is the one of a controller:
 *
 *	vnic_state_read(nl, &have)                 dump links and addresses (rtnetlink)
 *	vnic_plan_build(want, n, have, &plan, err) validate, then diff: pure, no I/O except
 *	                                           stat() of the data folders
 *	vnic_plan_apply(nl, plan, rep, err)        one netlink request per action; on a failure
 *	                                           undo what this run did, in reverse order
 *
 * vnic_reconcile() does the three. Running it twice in a row gives an empty second plan.
 *
 * Errors: functions return 0 or -1; on -1 they fill *err (when err is not NULL) with a
 * message naming the vNIC entry, e.g.
 *	vnic "web1": address 198.19.9.5/24 is outside parent "eth0" subnets 198.18.2.0/24
 * Nothing is applied when the plan cannot be built.
 *
 * Not thread-safe (one static receive buffer): run one reconcile at a time.
 */
#ifndef COOPNET_VNIC_H
#define COOPNET_VNIC_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

/* The interface alias (IFLA_IFALIAS) of every link coopnet created. */
#define VNIC_MARKER "coopnet:vnic"
/* Addresses per vNIC in a spec. */
#define VNIC_MAX_ADDRS 4

struct vnic_addr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network order; 4 bytes used for AF_INET */
	int prefixlen;
};

struct vnic_spec {
	char name[IFNAMSIZ];         /* the vNIC's interface name, e.g. "web1" */
	char parent[IFNAMSIZ];       /* the SP's physical interface, e.g. "eth0" */
	uint8_t mac[6];
	bool mac_set;                /* false: vnic_mac_derive(name) */
	struct vnic_addr addrs[VNIC_MAX_ADDRS];
	size_t naddrs;               /* at least 1 */
	char data_folder[PATH_MAX];  /* must exist and be a directory */
};

/* One link as seen by the kernel, with its addresses. */
struct vnic_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];        /* IFLA_INFO_KIND, "" for none */
	bool has_mode;
	uint32_t mode;        /* IFLA_MACVLAN_MODE when kind is macvlan */
	int link;             /* IFLA_LINK: parent ifindex, 0 if none */
	bool has_mac;
	uint8_t mac[6];
	char alias[256];      /* IFLA_IFALIAS */
	bool up;              /* IFF_UP */
	struct vnic_addr *addrs;
	size_t naddrs, addrs_cap;
};

struct vnic_state {
	struct vnic_link *links;
	size_t nlinks, cap;
};

enum vnic_action_type {
	VNIC_ACT_DELETE,      /* delete a marked link (stale, or to recreate) */
	VNIC_ACT_CREATE,      /* macvlan mode bridge, MAC, on parent */
	VNIC_ACT_MARK,        /* set the alias VNIC_MARKER (the kernel ignores IFLA_IFALIAS
	                       * in a create request); always right after CREATE */
	VNIC_ACT_SET_MAC,
	VNIC_ACT_DEL_ADDR,
	VNIC_ACT_ADD_ADDR,    /* IPv6 with IFA_F_NODAD */
	VNIC_ACT_SET_UP,
	VNIC_ACT_SET_DOWN,    /* only used by rollback */
};

struct vnic_action {
	enum vnic_action_type type;
	char name[IFNAMSIZ];
	char parent[IFNAMSIZ];   /* CREATE */
	int parent_ifindex;      /* CREATE */
	uint8_t mac[6];          /* CREATE, SET_MAC */
	uint8_t old_mac[6];      /* SET_MAC: to roll back */
	struct vnic_addr addr;   /* ADD_ADDR, DEL_ADDR */
	char reason[64];         /* why: "missing", "stale", "wrong parent", ... */
};

struct vnic_plan {
	struct vnic_action *acts;
	size_t n, cap;
};

struct vnic_error {
	int code;          /* errno-style when it comes from the kernel or libc, else EINVAL */
	char vnic[IFNAMSIZ];
	char msg[512];
};

struct vnic_report {
	size_t nactions;      /* actions applied (and kept) */
	size_t created, deleted, changed;
	bool rolled_back;     /* a failure midway: what this run did was undone */
	size_t rollback_failed;  /* undo steps that failed in turn (see the log) */
};

/* --- pure helpers --- */

/* Stable, locally administered unicast MAC from the vNIC name (FNV-1a 64 of
 * "coopnet:vnic:" NAME): bit 1 of the first octet set, bit 0 cleared. */
void vnic_mac_derive(const char *name, uint8_t mac[6]);
/* "02:00:5e:10:00:01". Returns 0, or -1 on syntax. */
int vnic_parse_mac(uint8_t mac[6], const char *text);
/* "198.18.2.11/24" or "2001:db8::5/64". Returns 0, or -1 on syntax or prefix range. */
int vnic_parse_addr(struct vnic_addr *a, const char *text);
/* "198.18.2.11/24"; returns buf. size >= VNIC_ADDRSTRLEN. */
#define VNIC_ADDRSTRLEN (46 + 4)
const char *vnic_addr_format(const struct vnic_addr *a, char *buf, size_t size);
const char *vnic_mac_format(const uint8_t mac[6], char *buf, size_t size); /* size >= 18 */
/* True when the address part of a lies in the prefix b (b's prefixlen). */
bool vnic_addr_in_prefix(const struct vnic_addr *a, const struct vnic_addr *b);

/* --- state --- */

/* Dump links and addresses through nl (a bound NETLINK_ROUTE socket). */
int vnic_state_read(struct mnl_socket *nl, struct vnic_state **out, struct vnic_error *err);
struct vnic_state *vnic_state_new(void);
void vnic_state_free(struct vnic_state *st);
/* Fold one RTM_NEWLINK / RTM_NEWADDR message into st (what the dump callbacks do). Every
 * attribute is validated; a malformed message gives -1 and leaves st consistent. */
int vnic_state_add_link(struct vnic_state *st, const struct nlmsghdr *nlh);
int vnic_state_add_addr(struct vnic_state *st, const struct nlmsghdr *nlh);
const struct vnic_link *vnic_state_find(const struct vnic_state *st, const char *name);
const struct vnic_link *vnic_state_find_index(const struct vnic_state *st, int ifindex);

/* --- plan --- */

/* Check every spec against have (rules in docs/vnics.md), then compute the actions turning
 * have into want. On success *out is a plan, empty (n == 0) when have already matches. */
int vnic_plan_build(const struct vnic_spec *want, size_t n, const struct vnic_state *have,
		    struct vnic_plan **out, struct vnic_error *err);
void vnic_plan_free(struct vnic_plan *p);
/* "create web1 on eth0 mac 02:..:.. (missing)". Returns buf. */
const char *vnic_action_format(const struct vnic_action *a, char *buf, size_t size);

/* Build the netlink request for a (seq given) into buf. ifindex is the target link's index
 * for ADD_ADDR/DEL_ADDR (links are otherwise named by IFLA_IFNAME). Returns the message, or
 * NULL when buf is too small (every put is checked against size). */
struct nlmsghdr *vnic_msg_build(void *buf, size_t size, const struct vnic_action *a,
				int ifindex, uint32_t seq);

/* Apply the plan, one request at a time with NLM_F_ACK. On the first failure, undo in
 * reverse order what this call did (created links deleted, added addresses removed, MACs
 * set back, links set down) and return -1 with the kernel's error in *err. rep may be NULL. */
int vnic_plan_apply(struct mnl_socket *nl, const struct vnic_plan *p, struct vnic_report *rep,
		    struct vnic_error *err);

/* Open a rtnetlink socket, read, build, apply. Actions are logged with log_info(). */
int vnic_reconcile(const struct vnic_spec *want, size_t n, struct vnic_report *rep,
		   struct vnic_error *err);

#endif
