/* SPDX-License-Identifier: MIT */
/*
 * Reading nftables state back from the kernel (nftbatch.h): a set's elements (all of them,
 * or one by its key) with their data, counter and timeout, named counter objects and the
 * ruleset's generation. Every request goes through the calling thread's reader socket
 * (reader_get), opened at its first request and kept: the batches' socket owns the tables and
 * is not shared with a reader, and a reader is not opened and closed per request, because the
 * close of a NETLINK_NETFILTER socket waits for nf_tables' pending destroy work
 * (nft_rcv_nl_event), which waits for an RCU grace period: 20-35 ms here after any batch that
 * removed elements, on every session change of a deployed provider (docs/performance.md).
 */
#include "nftbatch.h"
#include "nltalk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "grow.h"

/* A dump's message: at most 32 KiB (the kernel's netlink dump skb), so one buffer of that
 * size holds the request and each answer. */
#define DUMP_BUFSZ 32768

/* Keys per GET of nftb_get_elems: the kernel answers each with a message of its own (an skb of a
 * page and more), queued without waiting on our receive buffer (a full buffer drops the answer
 * and ends the request with ENOBUFS), so a request's answers must fit: 64 of about 4.5 KiB in
 * READER_RCVBUF. */
#define GET_CHUNK 64
#define READER_RCVBUF (4 << 20)

/* The calling thread's reader: a receive buffer for a request's answers (CAP_NET_ADMIN:
 * forced; without it the kernel's limit, and chunk shrinks to what that holds) and a time-out,
 * so a lost acknowledgement cannot hang the caller. Dropped after any failed request, so no
 * answer of an abandoned request is ever read as another's. */
struct reader {
	struct mnl_socket *nl;
	size_t chunk; /* keys per GET (nftb_get_elems) */
	char *rx;     /* nftb_get_elems' answers: kept, as a request of a few keys (a renewal's
		       * counts) would otherwise map and unmap its 520 KiB each time */
};
static __thread struct reader rd;

void nftb_reader_close(void)
{
	if (rd.nl)
		mnl_socket_close(rd.nl);
	free(rd.rx);
	rd = (struct reader){.nl = NULL};
}

static struct mnl_socket *reader_get(void)
{
	struct timeval tv = {.tv_sec = 5};
	int sz = READER_RCVBUF, fd;
	socklen_t len = sizeof(sz);

	if (rd.nl)
		return rd.nl;
	if (!(rd.nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)))
		return NULL;
	fd = mnl_socket_get_fd(rd.nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, &len) < 0 || sz < 0)
		sz = 0;
	rd.chunk = (size_t)sz / 2 / 8192; /* the kernel doubles it; 8 KiB an answer with room */
	rd.chunk = rd.chunk < 1 ? 1 : rd.chunk > GET_CHUNK ? GET_CHUNK : rd.chunk;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    mnl_socket_bind(rd.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		nftb_reader_close();
		errno = err;
		return NULL;
	}
	return rd.nl;
}

/* Send the request nlh (in buf, size bytes; its nlmsg_seq is kept) on the thread's reader and
 * run cb on each answer until the end of the dump or the acknowledgement. 0, or -1 with errno
 * (ENOENT: no such table, set or element). */
static int query(struct nlmsghdr *nlh, mnl_cb_t cb, void *data, void *buf, size_t size)
{
	struct mnl_socket *nl = reader_get();
	uint32_t seq = nlh->nlmsg_seq;
	int ret, err;

	if (!nl || mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, size);
		if (ret <= 0) {
			if (ret == 0)
				errno = EIO;
			goto fail;
		}
		if (!nl_framed(buf, (size_t)ret)) {
			errno = EBADMSG;
			goto fail;
		}
		ret = mnl_cb_run(buf, (size_t)ret, seq, mnl_socket_get_portid(nl), cb, data);
		if (ret < 0)
			goto fail;
	} while (ret != MNL_CB_STOP);
	return 0;
fail:
	err = errno ? errno : EIO;
	nftb_reader_close();
	errno = err;
	return -1;
}

/* --- set elements ---------------------------------------------------------------------------- */

struct dump {
	nftb_elem_cb *cb;
	void *arg;
	bool walk;        /* a dump: note what each element hashes to, in seen */
	uint64_t *seen;
	size_t nseen, cap;
};

/* FNV-1a, 64 bits, of an element's key and flags (an interval set's end element has its
 * start's key): the same element the same hash; two elements one only by a rare collision,
 * which costs a needless read again. */
static uint64_t elem_hash(const void *key, uint32_t klen, uint32_t flags)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < klen; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (h ^ flags) * 0x100000001b3ull;
}

static int note_seen(struct dump *d, struct nftnl_set_elem *e, const struct nftb_elem *el)
{
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ?
			 nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
	uint64_t *v = grow(d->seen, d->nseen, &d->cap, sizeof(*v), 1024);

	if (!v)
		return -1;
	d->seen = v;
	d->seen[d->nseen++] = elem_hash(el->key, el->klen, flags);
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Did the dump give an element twice? The kernel walks a hash set again from its start for
 * each message it fills and skips the elements the messages before held; when the table was
 * resized in between (the kernel grows and shrinks it in the background, soon after a batch
 * that added or removed many elements), the walk's order changed: some elements come twice
 * and as many never. Seen twice, so, means some were missed. */
static bool seen_twice(struct dump *d)
{
	if (d->nseen > 1)
		qsort(d->seen, d->nseen, sizeof(*d->seen), u64_cmp);
	for (size_t i = 1; i < d->nseen; i++)
		if (d->seen[i] == d->seen[i - 1])
			return true;
	return false;
}

static int counter_cb(struct nftnl_expr *x, void *data)
{
	struct nftb_elem *el = data;
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter")) {
		el->counter = true;
		el->packets = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		el->bytes = nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* One parsed element into the caller's view of it. */
static int one_elem(struct nftnl_set_elem *e, struct dump *d)
{
	struct nftb_elem el = {.key = NULL};

	el.key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &el.klen);
	if (!el.key) {
		errno = EPROTO;
		return -1;
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA))
		el.data = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &el.dlen);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		el.timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		el.expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	if (nftnl_set_elem_expr_foreach(e, counter_cb, &el) < 0)
		return -1;
	if (d->walk && note_seen(d, e, &el) < 0)
		return -1;
	return d->cb(&el, d->arg);
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	int r = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		r = MNL_CB_ERROR;
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e && r == MNL_CB_OK;
	     e = nftnl_set_elems_iter_next(it))
		if (one_elem(e, d) < 0)
			r = MNL_CB_ERROR;
	if (it)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return r;
}

/* GETSETELEM for set of table: every element (key NULL, a dump) or the one with key. */
static int get_elems(int family, const char *table, const char *set, const void *key,
		     uint32_t klen, nftb_elem_cb *cb, void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = key ? nftnl_set_elem_alloc() : NULL;
	struct dump d = {.cb = cb, .arg = arg, .walk = key == NULL};
	char buf[DUMP_BUFSZ];
	int rc;
	struct nlmsghdr *nlh;

	if (!s || (key && !e)) {
		if (s)
			nftnl_set_free(s);
		if (e)
			nftnl_set_elem_free(e);
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	if (e) {
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
		nftnl_set_elem_add(s, e); /* s owns e */
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family,
				    key ? NLM_F_ACK : NLM_F_DUMP, (uint32_t)time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = query(nlh, elems_cb, &d, buf, sizeof(buf));
	if (rc == 0 && d.walk && seen_twice(&d)) {
		errno = EAGAIN;
		rc = -1;
	}
	free(d.seen);
	return rc;
}

int nftb_dump_set(int family, const char *table, const char *set, nftb_elem_cb *cb, void *arg)
{
	return get_elems(family, table, set, NULL, 0, cb, arg);
}

/* --- many elements by key ------------------------------------------------------------------- */

struct mget {
	struct dump d;
	size_t got; /* answers of the current request */
};

static int mget_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mget *m = data;

	m->got++;
	return elems_cb(nlh, &m->d);
}

/* Answers taken by one recvmmsg: a request's (GET_CHUNK and its acknowledgement), each in a
 * slot of MGET_SLOT bytes (an element's answer is well under 1 KiB). One system call for
 * them where a recvmsg each cost one per key: on this machine (a VM) the system calls were
 * most of a by-key read's time. */
#define MGET_SLOTS (GET_CHUNK + 1)
#define MGET_SLOT 8192

/* The answers of the request seq on nl into m, until its acknowledgement or error. rx:
 * MGET_SLOTS x MGET_SLOT bytes. 0, or -1 with errno. */
static int mget_recv(struct mnl_socket *nl, uint32_t seq, struct mget *m, char *rx)
{
	struct mmsghdr mm[MGET_SLOTS];
	struct iovec iov[MGET_SLOTS];
	struct sockaddr_nl from[MGET_SLOTS];
	unsigned portid = mnl_socket_get_portid(nl);
	int ret = MNL_CB_OK, k;

	while (ret != MNL_CB_STOP) {
		for (size_t i = 0; i < MGET_SLOTS; i++) {
			iov[i] = (struct iovec){.iov_base = rx + i * MGET_SLOT, .iov_len = MGET_SLOT};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
							     .msg_namelen = sizeof(from[i]),
							     .msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		k = recvmmsg(mnl_socket_get_fd(nl), mm, MGET_SLOTS, MSG_WAITFORONE, NULL);
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return -1;
		}
		for (int i = 0; i < k && ret != MNL_CB_STOP; i++) {
			if (from[i].nl_pid != 0 || (mm[i].msg_hdr.msg_flags & MSG_TRUNC)) {
				errno = from[i].nl_pid != 0 ? ESRCH : ENOSPC; /* as libmnl's */
				return -1;
			}
			if (!nl_framed(rx + (size_t)i * MGET_SLOT, mm[i].msg_len)) {
				errno = EBADMSG;
				return -1;
			}
			errno = 0;
			ret = mnl_cb_run(rx + (size_t)i * MGET_SLOT, mm[i].msg_len, seq, portid,
					 mget_cb, m);
			if (ret < 0) {
				if (!errno)
					errno = EPROTO; /* an answer we could not read */
				return -1;
			}
		}
	}
	return 0;
}

/* One GET of keys[0..n) on nl: 0 when every key was answered; -1 with errno, m->got the
 * keys answered before the one that failed (the kernel stops there). buf: the request; rx:
 * the answers (mget_recv). */
static int mget_one(struct mnl_socket *nl, int family, const char *table, const char *set,
		    const uint8_t *keys, uint32_t klen, size_t n, struct mget *m, char *buf,
		    char *rx, uint32_t seq)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	m->got = 0;
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		if (!e) {
			nftnl_set_free(s);
			errno = ENOMEM;
			return -1;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, keys + i * klen, klen);
		nftnl_set_elem_add(s, e); /* s owns e */
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return mget_recv(nl, seq, m, rx);
}

/* Does set exist? (A GET that failed on its first key with ENOENT: the key, or the set.) */
static int set_exists(int family, const char *table, const char *set)
{
	struct nftnl_set *s = nftnl_set_alloc();
	char buf[DUMP_BUFSZ];
	struct nlmsghdr *nlh;

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, (uint16_t)family, NLM_F_ACK,
				    (uint32_t)time(NULL));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return query(nlh, NULL, NULL, buf, sizeof(buf));
}

int nftb_get_elems(int family, const char *table, const char *set, const uint8_t *keys,
		   uint32_t klen, size_t n, nftb_elem_cb *cb, void *arg, size_t *missing)
{
	struct mget m = {.d = {.cb = cb, .arg = arg}};
	size_t chunk, pos = 0, retries = 0;
	char *rx;
	bool checked = false;
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL);
	char buf[DUMP_BUFSZ];
	int r = 0, err = 0;

	*missing = 0;
	if (!n)
		return 0;
	if (!keys || !klen || klen > 64) {
		errno = EINVAL;
		return -1;
	}
	if (!(nl = reader_get()))
		return -1;
	if (!rd.rx && !(rd.rx = malloc((size_t)MGET_SLOTS * MGET_SLOT)))
		return -1;
	rx = rd.rx;
	chunk = rd.chunk;
	while (pos < n && r == 0) {
		size_t c = n - pos < chunk ? n - pos : chunk;

		if (mget_one(nl, family, table, set, keys + pos * klen, klen, c, &m, buf, rx,
			     ++seq) == 0) {
			pos += c;
		} else if (errno == ENOENT && m.got < c) { /* keys + pos + got: not in the set */
			if (!checked && set_exists(family, table, set) < 0) {
				r = -1; /* no such table or set: ENOENT */
				break;
			}
			checked = true;
			(*missing)++;
			pos += m.got + 1;
		} else if (errno == ENOBUFS && retries++ < 8 && m.got < c) {
			pos += m.got; /* that answer was dropped: ask again from it */
		} else {
			r = -1;
		}
	}
	err = errno;
	if (r < 0)
		nftb_reader_close(); /* answers of the failed request may be queued */
	errno = r < 0 ? err : 0;
	return r;
}

int nftb_get_elem(int family, const char *table, const char *set, const void *key,
		  uint32_t klen, nftb_elem_cb *cb, void *arg)
{
	if (!key) {
		errno = EINVAL;
		return -1;
	}
	return get_elems(family, table, set, key, klen, cb, arg);
}

/* --- counter objects ------------------------------------------------------------------------- */

struct ctr_read {
	const char *table;
	const char *const *names;
	size_t n;
	uint64_t *out;
};

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctr_read *cr = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name, *table;
	size_t i;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER) {
		name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
		table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
		for (i = 0; name && table && !strcmp(table, cr->table) && i < cr->n; i++)
			if (!strcmp(name, cr->names[i]))
				cr->out[i] += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int nftb_read_counters(int family, const char *table, const char *const *names, size_t n,
		       uint64_t *out)
{
	struct ctr_read cr = {table, names, n, out};
	char buf[DUMP_BUFSZ];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, (uint16_t)family, NLM_F_DUMP,
				    (uint32_t)time(NULL));
	return query(nlh, obj_cb, &cr, buf, sizeof(buf));
}

/* --- the ruleset's generation ---------------------------------------------------------------- */

struct gen_read {
	uint32_t id;
	bool found;
};

static int gen_attr_cb(const struct nlattr *a, void *data)
{
	struct gen_read *g = data;

	if (mnl_attr_get_type(a) != NFTA_GEN_ID)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	g->id = ntohl(mnl_attr_get_u32(a));
	g->found = true;
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, data);
}

int nftb_generation(uint32_t *gen)
{
	struct gen_read g = {.found = false};
	char buf[8192]; /* the request, then one small answer and its acknowledgement */
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK,
				    (uint32_t)time(NULL));
	if (query(nlh, gen_cb, &g, buf, sizeof(buf)) < 0)
		return -1;
	if (!g.found) {
		errno = EPROTO; /* an answer without the generation */
		return -1;
	}
	*gen = g.id;
	return 0;
}
