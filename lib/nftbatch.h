/* SPDX-License-Identifier: MIT */
/*
 * A small libnftnl batch builder, the one way coopnet programs nftables: every change
 * coopnet-nfq (queue rule, kernel mode) and coopnet-authd's parent (the virtual switch) make
 * is one batch, committed atomically by the kernel (one transaction), with every message
 * acknowledged. No `nft` binary, no text. Users link $(LIBNFTNL_LIBS) $(LIBMNL_LIBS).
 */
#ifndef COOPNET_LIB_NFTBATCH_H
#define COOPNET_LIB_NFTBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftb;
struct nftnl_rule;
struct nftnl_set;

struct nftb *nftb_begin(void);
/* Close the owner socket: the kernel then removes every table created through it; and the
 * calling thread's reader (nftb_reader_close). */
void nftb_close(void);
/* Send, wait for every acknowledgement. 0, or -1 with errno of the first error. Frees b. */
int nftb_commit(struct nftb *b);
void nftb_abort(struct nftb *b); /* NULL-safe; frees b */

/* A table owned by this process's netlink socket (NFT_TABLE_F_OWNER): gone when it closes. */
int nftb_add_table(struct nftb *b, int family, const char *table);
/* A table with these NFT_TABLE_F_* flags (0: it outlives the process). */
int nftb_add_table_flags(struct nftb *b, int family, const char *table, uint32_t flags);
int nftb_del_table(struct nftb *b, int family, const char *table);
/* A base chain of type "filter", policy accept. */
int nftb_add_chain(struct nftb *b, int family, const char *table, const char *chain, int hook,
		   int prio);
/* A base chain of the given type ("filter", "nat", "route"), policy accept. */
int nftb_add_base_chain(struct nftb *b, int family, const char *table, const char *chain,
			const char *type, int hook, int prio);
/* A regular chain (no hook): reached only by a jump or goto. */
int nftb_add_regular_chain(struct nftb *b, int family, const char *table, const char *chain);
struct nftnl_rule *nftb_rule_new(int family, const char *table, const char *chain);
/* Append expressions: `meta mark & mark == mark` */
int nftb_match_mark(struct nftnl_rule *r, uint32_t mark);
/* Queue the rule (takes ownership of r). */
int nftb_add_rule(struct nftb *b, struct nftnl_rule *r);
/* A set of table by name, for a set or element message; id (0: none) names it within one
 * batch. NULL on allocation failure. */
struct nftnl_set *nftb_set_new(int family, const char *table, const char *name, uint32_t id);
/* Queue a set message (NEWSET, NEWSETELEM, DELSETELEM, ...); takes ownership of s. */
int nftb_add_set_msg(struct nftb *b, struct nftnl_set *s, uint16_t type, int family,
		     uint16_t flags);

struct nftnl_obj;
/* Queue an object message (NEWOBJ); takes ownership of o. */
int nftb_add_obj(struct nftb *b, struct nftnl_obj *o, int family);
/* Expressions, each NULL on allocation failure (nftb_put then fails). */
struct nftnl_expr;
struct nftnl_expr *nftb_payload(uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
struct nftnl_expr *nftb_cmp(uint32_t sreg, uint32_t op, const void *data, uint32_t len);
/* reg = (reg & mask) ^ xor over len bytes */
struct nftnl_expr *nftb_bitwise(uint32_t reg, uint32_t len, const void *mask, const void *xor);
/* meta key -> reg (set false), or reg -> meta key (set true) */
struct nftnl_expr *nftb_meta(uint32_t key, uint32_t reg, int set);
/* lookup in the named set (set_id: the batch-local id of a set added in the same batch);
 * dreg < 0: a set, else a map writing its data to dreg */
struct nftnl_expr *nftb_lookup(const char *set, uint32_t set_id, uint32_t sreg, int dreg);
struct nftnl_expr *nftb_verdict(int verdict);
/* goto chain (a regular chain of the same table) */
struct nftnl_expr *nftb_goto(const char *chain);
/* add the key in sreg on to the named set from the packet path (dynset, op add): a new
 * element gets the set's expressions (a counter), an element the set holds has them updated.
 * When the element cannot be made (the set full, no memory) the rule ends there (NFT_BREAK). */
struct nftnl_expr *nftb_dynset_add(const char *set, uint32_t set_id, uint32_t sreg);
/* len bytes of data -> dreg */
struct nftnl_expr *nftb_imm(uint32_t dreg, const void *data, uint32_t len);
struct nftnl_expr *nftb_counter(void);
/* A counter that starts at packets and bytes (a set element's, carried from an older one). */
struct nftnl_expr *nftb_counter_at(uint64_t packets, uint64_t bytes);
/* ct key -> reg */
struct nftnl_expr *nftb_ct(uint32_t key, uint32_t reg);
/* Append e to r: 0, or -1 when e is NULL (allocation failed). */
int nftb_put(struct nftnl_rule *r, struct nftnl_expr *e);
void nftb_expr_free(struct nftnl_expr *e); /* NULL-safe */
/* The rule's comment, as `nft list` shows it. 0 or -1. */
int nftb_rule_comment(struct nftnl_rule *r, const char *comment);

/* Bytes left in the batch: a caller that splits a large change commits and begins another
 * batch when fewer than it may need are left (each message needs at most 64 KiB). */
size_t nftb_room(const struct nftb *b);

/* --- set elements (nftelems.c) ---------------------------------------------------------------- */

/* The element messages of one set: nftb_elems_init, nftb_elem per element, nftb_elems_end.
 * Elements go out in messages of at most NFTB_ELEMS_PER_MSG each, only non-empty ones; the
 * first failure sticks (nftb_elem does nothing more, nftb_elems_end returns -1). */
#define NFTB_ELEMS_PER_MSG 256
struct nftb_elems {
	struct nftb *b;
	int family;
	const char *table, *set; /* borrowed: live until nftb_elems_end */
	uint32_t set_id;         /* the batch-local id of a set added in the same batch, or 0 */
	uint16_t type;           /* NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, ... */
	struct nftnl_set *s;     /* the message being filled, owned */
	size_t n;
	int err;
};
void nftb_elems_init(struct nftb_elems *w, struct nftb *b, int family, const char *table,
		     const char *set, uint32_t set_id, uint16_t type);
/* One element: key of klen bytes, data of dlen bytes (NULL: none; only a NEWSETELEM carries
 * it). 0 or -1. */
int nftb_elem(struct nftb_elems *w, const void *key, uint32_t klen, const void *data,
	      uint32_t dlen);
/* Queue what is left. 0, or -1 when any step failed (nothing of w is left to free). */
int nftb_elems_end(struct nftb_elems *w);
/* Append len bytes of v at key + off, zero-padded to 4 bytes as in a concatenated key (nft's
 * registers); returns the new offset. */
uint32_t nftb_key_cat(uint8_t *key, uint32_t off, const void *v, uint32_t len);

/* --- reading back (nftdump.c) ---------------------------------------------------------------- */

/* One element of a set as the kernel holds it (valid during the callback only). */
struct nftb_elem {
	const void *key;
	const void *data;     /* a map's data, else NULL */
	uint32_t klen, dlen;
	bool counter;         /* the element has a counter expression: */
	uint64_t packets, bytes;
	uint64_t timeout_ms;  /* a set with timeouts: the element's timeout, else 0 */
	uint64_t expires_ms;  /* and the time it has left */
};
/* cb < 0 stops the reading (the caller's function fails with cb's errno). */
typedef int nftb_elem_cb(const struct nftb_elem *el, void *arg);
/* Each element of set of table in family (a netlink dump). 0, or -1 with errno (ENOENT: no
 * such table or set; EAGAIN: the kernel's walk gave an element twice, so missed as many
 * (its hash table was resized during the dump): cb saw an inconsistent view; dump again). */
int nftb_dump_set(int family, const char *table, const char *set, nftb_elem_cb *cb, void *arg);
/* The element of set with key (klen bytes), through cb. 0, or -1 with errno (ENOENT: no such
 * element, table or set). */
int nftb_get_elem(int family, const char *table, const char *set, const void *key,
		  uint32_t klen, nftb_elem_cb *cb, void *arg);

/* The elements of set with the n keys of klen bytes each (packed at keys), through cb, in
 * GETs of up to 64 keys: the kernel answers each key on its own, O(1) a key, where a dump of a
 * hash set restarts its walk for each message it fills (O(n^2) on this kernel). A key the set
 * does not hold is skipped and counted in *missing. 0, or -1 with errno (ENOENT: no such table
 * or set). */
int nftb_get_elems(int family, const char *table, const char *set, const uint8_t *keys,
		   uint32_t klen, size_t n, nftb_elem_cb *cb, void *arg, size_t *missing);

/* Packet counts of the named counter objects of table in family: names[i] -> out[i] (added).
 * 0, or -1 with errno. */
int nftb_read_counters(int family, const char *table, const char *const *names, size_t n,
		       uint64_t *out);

/* Close the calling thread's reader socket (the reads below open it again when needed). */
void nftb_reader_close(void);

/* The ruleset's generation (NFT_MSG_GETGEN): the kernel adds one at every committed batch, of
 * any table and any process. 0, or -1 with errno. */
int nftb_generation(uint32_t *gen);

#endif
