/* SPDX-License-Identifier: MIT */
/* The element messages of one set, split into messages of NFTB_ELEMS_PER_MSG (nftbatch.h). */
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <string.h>

#include "nftbatch.h"

uint32_t nftb_key_cat(uint8_t *key, uint32_t off, const void *v, uint32_t len)
{
	uint32_t padded = (len + 3) & ~3u;

	memset(key + off, 0, padded);
	memcpy(key + off, v, len);
	return off + padded;
}

void nftb_elems_init(struct nftb_elems *w, struct nftb *b, int family, const char *table,
		     const char *set, uint32_t set_id, uint16_t type)
{
	*w = (struct nftb_elems){ .b = b, .family = family, .table = table, .set = set,
				  .set_id = set_id, .type = type };
}

static int flush(struct nftb_elems *w)
{
	struct nftnl_set *s = w->s;

	w->s = NULL;
	w->n = 0;
	if (s && nftb_add_set_msg(w->b, s, w->type, w->family,
				  w->type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) < 0)
		w->err = -1;
	return w->err;
}

int nftb_elem(struct nftb_elems *w, const void *key, uint32_t klen, const void *data,
	      uint32_t dlen)
{
	struct nftnl_set_elem *e;

	if (w->err)
		return -1;
	if (!w->s && !(w->s = nftb_set_new(w->family, w->table, w->set, w->set_id)))
		return w->err = -1;
	if (!(e = nftnl_set_elem_alloc())) {
		nftnl_set_free(w->s);
		w->s = NULL;
		return w->err = -1;
	}
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (data && w->type == NFT_MSG_NEWSETELEM)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, dlen);
	nftnl_set_elem_add(w->s, e);
	return ++w->n == NFTB_ELEMS_PER_MSG ? flush(w) : 0;
}

int nftb_elems_end(struct nftb_elems *w)
{
	if (w->err) {
		if (w->s)
			nftnl_set_free(w->s);
		w->s = NULL;
		return -1;
	}
	return flush(w);
}
