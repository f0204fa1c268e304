/* SPDX-License-Identifier: MIT */
/*
 * The session table of coopnet-nfq: an immutable snapshot with O(1) lookup by
 * (family, client, service, port), plus the set of services (family, address, port) the
 * worker serves.
 *
 * A snapshot is never changed after it is published. Writers (the main thread only) build a
 * new snapshot from the authoritative session list and swap it in (tbl_publish); queue
 * threads read the current pointer inside a read section (see rcu.h). The old snapshot is
 * freed once every queue thread has passed a quiescent state.
 */
#ifndef COOPNET_NFQ_TABLE_H
#define COOPNET_NFQ_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "id.h"

enum sess_source { SESS_SRC_CONFIG = 0, SESS_SRC_AUTHD = 1 };

struct sess_key {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port;    /* host order */
	uint8_t client[16];
	uint8_t service[16];
};

struct sess_entry {
	struct sess_key key;
	cn_id_t id;
	uint8_t source;   /* enum sess_source */
	uint8_t used;
	char vnic[16];
	uint64_t expires; /* Unix seconds, 0 = never */
};

struct svc_entry {
	uint8_t family;
	uint8_t used;
	uint16_t port;
	uint8_t addr[16];
};

struct sess_table {
	uint32_t mask;          /* slots - 1, slots a power of two */
	uint32_t count;
	struct sess_entry *slots;
	uint32_t svc_mask;
	uint32_t svc_count;
	struct svc_entry *svcs;
	uint64_t seed;
};

/* A growable list: the authoritative state the main thread keeps. */
struct sess_list {
	struct sess_entry *v;
	size_t n, cap;
};

struct svc_list {
	struct svc_entry *v;
	size_t n, cap;
};

void sess_key_make(struct sess_key *k, int family, const uint8_t *client,
		   const uint8_t *service, uint16_t port);

/* Build a snapshot. NULL on allocation failure. A later duplicate key replaces an earlier
 * one (the list keeps keys unique anyway). */
struct sess_table *tbl_build(const struct sess_list *sessions, const struct svc_list *svcs);
void tbl_free(struct sess_table *t); /* NULL-safe */

/* O(1) expected. NULL when absent. t may be NULL (empty). */
const struct sess_entry *tbl_lookup(const struct sess_table *t, const struct sess_key *k);
bool tbl_has_service(const struct sess_table *t, int family, const uint8_t *addr, uint16_t port);
/* True when the table lists any service at all (an empty list means "every queued flow"). */
bool tbl_has_services(const struct sess_table *t);

/* Authoritative list operations (main thread). */
void sess_list_init(struct sess_list *l);
void sess_list_clear(struct sess_list *l); /* frees */
/* Add or replace by key. -1 on allocation failure. */
int sess_list_put(struct sess_list *l, const struct cn_session *s, enum sess_source src);
/* Without the duplicate check (O(1)): for long lists, followed by sess_list_dedup, which keeps
 * the latest entry of each key and the order of the rest. 0 or -1 (memory). */
int sess_list_append(struct sess_list *l, const struct cn_session *s, enum sess_source src);
int sess_list_push(struct sess_list *l, const struct sess_entry *e);
int sess_list_dedup(struct sess_list *l);
/* dst (not initialised) becomes a copy of src. 0 or -1 (memory, dst empty). */
int sess_list_copy(struct sess_list *dst, const struct sess_list *src);
/* Remove every entry for which match() is true; returns the count removed. */
size_t sess_list_remove_if(struct sess_list *l,
			   bool (*match)(const struct sess_entry *e, const void *arg),
			   const void *arg);
void sess_entry_to_session(const struct sess_entry *e, struct cn_session *out);

void svc_list_init(struct svc_list *l);
void svc_list_clear(struct svc_list *l);
int svc_list_add(struct svc_list *l, int family, const uint8_t *addr, uint16_t port);

#endif
