/* SPDX-License-Identifier: MIT */
/*
 * A small libnftnl batch builder: every change coopnet-nfq makes to nftables is one batch,
 * committed atomically by the kernel (one transaction), with every message acknowledged.
 */
#ifndef COOPNET_NFQ_NFTBATCH_H
#define COOPNET_NFQ_NFTBATCH_H

#include <stddef.h>
#include <stdint.h>

struct nftb;
struct nftnl_rule;
struct nftnl_set;

struct nftb *nftb_begin(void);
/* Close the owner socket: the kernel then removes every table created through it. */
void nftb_close(void);
/* Send, wait for every acknowledgement. 0, or -1 with errno of the first error. Frees b. */
int nftb_commit(struct nftb *b);
void nftb_abort(struct nftb *b); /* NULL-safe; frees b */

int nftb_add_table(struct nftb *b, int family, const char *table);
int nftb_del_table(struct nftb *b, int family, const char *table);
int nftb_add_chain(struct nftb *b, int family, const char *table, const char *chain, int hook,
		   int prio);
struct nftnl_rule *nftb_rule_new(int family, const char *table, const char *chain);
/* Append expressions: `meta mark & mark == mark` */
int nftb_match_mark(struct nftnl_rule *r, uint32_t mark);
/* Queue the rule (takes ownership of r). */
int nftb_add_rule(struct nftb *b, struct nftnl_rule *r);
/* Queue a set message (NEWSET, NEWSETELEM, DELSETELEM, ...); takes ownership of s. */
int nftb_add_set_msg(struct nftb *b, struct nftnl_set *s, uint16_t type, int family,
		     uint16_t flags);

struct nftnl_obj;
/* Queue an object message (NEWOBJ); takes ownership of o. */
int nftb_add_obj(struct nftb *b, struct nftnl_obj *o, int family);
/* Append a prepared expression list to a rule: helpers for kernel mode. */

/* Packet counts of the named counter objects of table in family: names[i] -> out[i] (added).
 * 0, or -1 with errno. */
int nftb_read_counters(int family, const char *table, const char *const *names, size_t n,
		       uint64_t *out);

#endif
