/* SPDX-License-Identifier: MIT */
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "held.h"
#include "log.h"
#include "nfqconf.h"
#include "nltalk.h"

#define RECV_BATCH 16
#define RECV_BUFSZ (0x10000 + 4096) /* a multiple of 8: each buffer starts aligned */
#define VERDICT_BUFSZ (0xffff + 16384)
#define HEADER_COPY 512         /* IPv6 with extension headers and TCP options fit */
#define RCVBUF_BYTES (64 * 1024 * 1024)
#define POLL_IDLE_MS 100        /* quiescent state and stop flag at least this often */

struct nfq_thread {
	struct nfq_shared *sh;
	int index;
	uint16_t queue;
	pthread_t tid;
	bool started;
	struct mnl_socket *nl;
	unsigned portid;
	_Atomic uint64_t count[R__COUNT];
	/* verdict accumulation */
	char *vbuf;
	size_t vlen;
	bool batch_open;
	uint32_t batch_id, batch_mark;
	int batch_verdict;
	/* receive */
	char *rbuf;                 /* RECV_BATCH x RECV_BUFSZ */
	bool unframed_logged;       /* a read that was not whole netlink messages (never seen) */
	struct held_table held;     /* sh->held_max SYNs awaiting their sessions (held.h) */
	uint64_t notes_seen;        /* of sh->notes */
	struct sess_key *note_keys; /* HELD_NOTES: the keys taken from sh->notes */
	const struct sess_table *tbl; /* valid between rcu_online and rcu_offline only */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_unix(void)
{
	return (uint64_t)time(NULL);
}

/* Single writer per counter: a relaxed load and store, no locked instruction. */
static void bump(struct nfq_thread *t, enum nfq_reason r)
{
	atomic_store_explicit(&t->count[r],
			      atomic_load_explicit(&t->count[r], memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* --- verdicts ------------------------------------------------------------------------ */

static int vb_send(struct nfq_thread *t)
{
	if (t->vlen == 0)
		return 0;
	if (mnl_socket_sendto(t->nl, t->vbuf, t->vlen) < 0) {
		log_warn("queue %u: sending verdicts", t->queue);
		t->vlen = 0;
		return -1;
	}
	t->vlen = 0;
	return 0;
}

/* Room for need more bytes, sending what is there first if necessary. */
static int vb_room(struct nfq_thread *t, size_t need)
{
	if (VERDICT_BUFSZ - t->vlen >= need)
		return 0;
	return vb_send(t);
}

static void vb_close_batch(struct nfq_thread *t)
{
	struct nlmsghdr *nlh;

	if (!t->batch_open)
		return;
	vb_room(t, 256);
	nlh = nfq_nlmsg_put(t->vbuf + t->vlen, NFQNL_MSG_VERDICT_BATCH, t->queue);
	nfq_nlmsg_verdict_put(nlh, (int)t->batch_id, t->batch_verdict);
	nfq_nlmsg_verdict_put_mark(nlh, t->batch_mark);
	t->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	t->batch_open = false;
}

/* One verdict; payload (may be NULL) replaces the packet. */
static void vb_single(struct nfq_thread *t, uint32_t id, int verdict, uint32_t mark,
		      const void *payload, size_t plen)
{
	struct nlmsghdr *nlh;

	vb_close_batch(t);
	vb_room(t, 256 + MNL_ALIGN(plen));
	nlh = nfq_nlmsg_put(t->vbuf + t->vlen, NFQNL_MSG_VERDICT, t->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (verdict == NF_ACCEPT || verdict == NF_REPEAT)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (payload)
		nfq_nlmsg_verdict_put_pkt(nlh, payload, (uint32_t)plen);
	t->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* An unmodified accept (NF_ACCEPT, or NF_REPEAT for the mark path): batched with its
 * neighbours when that is safe. A batch verdict covers every queued packet with a lower id,
 * so it is not used while SYNs are held. */
static void vb_verdict(struct nfq_thread *t, uint32_t id, int verdict, uint32_t mark)
{
	if (held_count(&t->held) > 0) {
		vb_single(t, id, verdict, mark, NULL, 0);
		return;
	}
	if (t->batch_open && (t->batch_mark != mark || t->batch_verdict != verdict))
		vb_close_batch(t);
	t->batch_open = true;
	t->batch_id = id;
	t->batch_mark = mark;
	t->batch_verdict = verdict;
}

static void vb_accept(struct nfq_thread *t, uint32_t id, uint32_t mark)
{
	vb_verdict(t, id, NF_ACCEPT, mark);
}

static void vb_flush(struct nfq_thread *t)
{
	vb_close_batch(t);
	vb_send(t);
}

/* --- session misses ------------------------------------------------------------------ */

static void post_miss(struct nfq_shared *sh, const struct sess_key *k)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&sh->miss_lock);
	if (sh->miss_len < MISS_RING) {
		sh->miss[(sh->miss_head + sh->miss_len) % MISS_RING] = *k;
		sh->miss_len++;
	} else {
		sh->miss_lost++;
	}
	pthread_mutex_unlock(&sh->miss_lock);
	n = write(sh->event_fd, &one, sizeof(one));
	(void)n; /* eventfd only fails when the counter saturates: the reader wakes anyway */
}

bool workers_pop_miss(struct nfq_shared *sh, struct sess_key *out)
{
	bool got = false;

	pthread_mutex_lock(&sh->miss_lock);
	if (sh->miss_len > 0) {
		*out = sh->miss[sh->miss_head];
		sh->miss_head = (sh->miss_head + 1) % MISS_RING;
		sh->miss_len--;
		got = true;
	}
	pthread_mutex_unlock(&sh->miss_lock);
	return got;
}

/* --- packets ------------------------------------------------------------------------- */

static void apply(struct nfq_thread *t, uint32_t id, uint32_t mark, uint8_t *pl, size_t plen,
		  const struct nfq_result *res)
{
	uint32_t m = mark | t->sh->mark_done;

	bump(t, res->reason);
	switch (res->verdict) {
	case V_ACCEPT:
		vb_accept(t, id, m);
		break;
	case V_ACCEPT_MODIFIED:
		vb_single(t, id, NF_ACCEPT, m, pl, plen);
		break;
	case V_ACCEPT_SETID:
		/* NF_REPEAT: the kernel runs the queue rule's chain again, and its write rule
		 * (first in the chain) puts the low 16 bits into the urgent pointer, clears
		 * them and accepts; the queue rule after it is not reached again */
		m = (mark & ~(NFQ_MARK_ID_MASK | t->sh->mark_write)) | t->sh->mark_done |
		    t->sh->mark_write | res->set_id;
		vb_verdict(t, id, NF_REPEAT, m);
		break;
	case V_DROP:
	case V_HOLD: /* handled by the caller */
		vb_single(t, id, NF_DROP, 0, NULL, 0);
		break;
	}
}

/* A first SYN without a session: authd hears of it, and it waits for the session (held.h).
 * A full hold table refuses it: a counted drop, and the client's TCP sends it again (by then
 * authd, told of this one, may have added the session). A retransmission of a SYN held
 * already is dropped without telling authd again: the copy held first goes out. */
static void hold(struct nfq_thread *t, uint32_t id, uint32_t mark, const uint8_t *pl,
		 size_t plen, enum cn_csum_state csum, const struct nfq_result *res)
{
	int r;

	if (t->sh->miss_hold_ms == 0 || plen > HELD_COPY) {
		/* cannot hold it: it passes without an ID, as any non-overlay segment */
		bump(t, R_SESSION_MISS);
		post_miss(t->sh, &res->miss);
		bump(t, R_MISS_TIMEOUT);
		vb_accept(t, id, mark | t->sh->mark_done);
		return;
	}
	if (held_count(&t->held) == 0)
		vb_close_batch(t); /* packets before it may be batched; none after while it waits */
	r = held_add(&t->held, &res->miss, id, mark, now_ms() + t->sh->miss_hold_ms, csum, pl,
		     plen);
	if (r == 1) {
		bump(t, R_HELD_COPY);
		vb_single(t, id, NF_DROP, 0, NULL, 0);
		return;
	}
	bump(t, R_SESSION_MISS);
	post_miss(t->sh, &res->miss);
	if (r < 0) {
		bump(t, R_HELD_FULL);
		vb_single(t, id, NF_DROP, 0, NULL, 0);
	}
}

/* A held SYN's session may be there: its verdict (true), or it stays held (false). */
static bool redecide(void *ctx, struct held_syn *s)
{
	struct nfq_thread *t = ctx;
	struct nfq_result res;

	nfq_decide(&t->sh->lcfg, t->tbl, s->buf, s->len, (enum cn_csum_state)s->csum, now_unix(),
		   &res);
	if (res.verdict == V_HOLD)
		return false;
	apply(t, s->pkt_id, s->mark, s->buf, s->len, &res);
	nfq_account(&res, s->len, now_unix());
	return true;
}

/* Its time is up: with the session if it came meanwhile, else without an ID. */
static bool expire_one(void *ctx, struct held_syn *s)
{
	struct nfq_thread *t = ctx;

	if (redecide(ctx, s))
		return true;
	bump(t, R_MISS_TIMEOUT);
	vb_single(t, s->pkt_id, NF_ACCEPT, s->mark | t->sh->mark_done, NULL, 0);
	return true;
}

/* Re-decide the held SYNs whose keys changed since the last look (or all of them, when the
 * notes do not say which), then release the expired ones. O(changed keys + released). */
static void service_held(struct nfq_thread *t)
{
	long n = held_notes_take(t->sh->notes, &t->notes_seen, t->note_keys);

	if (held_count(&t->held) == 0)
		return;
	if (n < 0)
		held_recheck_all(&t->held, redecide, t);
	for (long i = 0; i < n && held_count(&t->held) > 0; i++)
		held_key_changed(&t->held, &t->note_keys[i], redecide, t);
	held_expire(&t->held, now_ms(), expire_one, t);
}

/* Until the next deadline (rounded up), at most POLL_IDLE_MS. */
static int poll_timeout(const struct nfq_thread *t)
{
	uint64_t next = held_next_deadline(&t->held), now;

	if (next == UINT64_MAX)
		return POLL_IDLE_MS;
	now = now_ms();
	if (next <= now)
		return 0;
	return next - now >= POLL_IDLE_MS ? POLL_IDLE_MS : (int)(next - now);
}

static void handle_packet(struct nfq_thread *t, struct nlattr **attr)
{
	struct nfqnl_msg_packet_hdr *ph;
	struct nfq_result res;
	enum cn_csum_state csum;
	uint32_t id, mark, skbinfo, caplen;
	uint64_t now;
	uint8_t *pl;
	size_t plen;

	if (!attr[NFQA_PACKET_HDR])
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	skbinfo = attr[NFQA_SKB_INFO] ? ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) : 0;
	csum = (skbinfo & NFQA_SKB_CSUMNOTREADY) ? CN_CSUM_PARTIAL : CN_CSUM_COMPLETE;
	pl = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload(attr[NFQA_PAYLOAD]) : NULL;
	plen = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	caplen = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : (uint32_t)plen;

	now = now_unix();
	nfq_decide(&t->sh->lcfg, t->tbl, pl, pl ? plen : 0, csum, now, &res);
	/* The IP length field of a GSO packet may be 0 (BIG TCP); NFQA_CAP_LEN is the truth:
	 * a modified payload shorter than the packet would cut it. */
	if (res.verdict == V_ACCEPT_MODIFIED && caplen > plen) {
		res.verdict = V_DROP;
		res.reason = R_DROP_TRUNCATED;
	}
	if (res.verdict == V_HOLD)
		hold(t, id, mark, pl, plen, csum, &res);
	else
		apply(t, id, mark, pl, plen, &res);
	nfq_account(&res, caplen, now);
}

static void handle_datagram(struct nfq_thread *t, char *buf, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int rest = (int)len;

	/* never from the kernel; libmnl would walk out of it (nltalk.h) */
	if (!nl_framed(buf, len)) {
		if (!t->unframed_logged) /* the first one logged, the next ones skipped silently */
			log_warn("queue %u: a read of %zu bytes that is not whole netlink messages, "
				 "skipped (the next ones silently)", t->queue, len);
		t->unframed_logged = true;
		return;
	}
	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		struct nlattr *attr[NFQA_MAX + 1] = {0};

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error)
				log_debug("queue %u: kernel refused a verdict: %s", t->queue,
					  strerror(nl_errno(e->error)));
			continue;
		}
		if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
			continue;
		if (nfq_nlmsg_parse(nlh, attr) < 0) {
			bump(t, R_MALFORMED);
			continue;
		}
		handle_packet(t, attr);
	}
}

/* Drain what is queued on the socket, up to a bound, then send the verdicts. */
static int drain(struct nfq_thread *t)
{
	struct mmsghdr mm[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	int fd = mnl_socket_get_fd(t->nl);
	int i, n, rounds;

	for (rounds = 0; rounds < 8; rounds++) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = t->rbuf + (size_t)i * RECV_BUFSZ;
			iov[i].iov_len = RECV_BUFSZ;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				/* with NETLINK_NO_ENOBUFS this should not happen; the kernel
				 * counts its drops (workers_overruns) */
				continue;
			}
			log_warn("queue %u: recvmmsg", t->queue);
			return -1;
		}
		for (i = 0; i < n; i++)
			handle_datagram(t, iov[i].iov_base, mm[i].msg_len);
		vb_flush(t);
		if (n < RECV_BATCH)
			break;
	}
	return 0;
}

/* --- setup --------------------------------------------------------------------------- */

static int cfg_request(struct nfq_thread *t, struct nlmsghdr *nlh)
{
	char buf[8192];
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(t->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = (int)mnl_socket_recvfrom(t->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	if (!nl_framed(buf, (size_t)n)) {
		errno = EBADMSG;
		return -1;
	}
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, t->portid, NULL, NULL) < 0 ? -1 : 0;
}

static int queue_open(struct nfq_thread *t)
{
	char buf[8192];
	struct nlmsghdr *nlh;
	uint32_t flags;
	int one = 1, rcvbuf = RCVBUF_BYTES, fd;

	t->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!t->nl || mnl_socket_bind(t->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("queue %u: netlink socket", t->queue);
		return -1;
	}
	t->portid = mnl_socket_get_portid(t->nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, t->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (cfg_request(t, nlh) < 0) {
		log_warn("queue %u: bind (is another worker on this queue?)", t->queue);
		return -1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, t->queue);
	/* header-only: the IP and TCP headers are all the logic reads */
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET,
				 t->sh->lcfg.header_only ? HEADER_COPY : 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, t->sh->maxlen);
	/* ONE flags attribute: a second one would replace the first (GSO would be lost) */
	flags = NFQA_CFG_F_GSO | (t->sh->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (cfg_request(t, nlh) < 0) {
		log_warn("queue %u: configure (copy range, GSO)", t->queue);
		return -1;
	}
	fd = mnl_socket_get_fd(t->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		log_warn("queue %u: SO_RCVBUFFORCE", t->queue);
	if (mnl_socket_setsockopt(t->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
		log_warn("queue %u: NETLINK_NO_ENOBUFS", t->queue);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_warn("queue %u: O_NONBLOCK", t->queue);
		return -1;
	}
	return 0;
}

static void *thread_main(void *arg)
{
	struct nfq_thread *t = arg;
	struct pollfd pfd[2] = {
		{ .fd = mnl_socket_get_fd(t->nl), .events = POLLIN },
		{ .fd = t->sh->notes->wake_fd[t->index], .events = POLLIN },
	};
	uint64_t ev;
	int r;

	while (!atomic_load(&t->sh->stop)) {
		rcu_offline(&t->sh->rcu, t->index);
		r = poll(pfd, 2, poll_timeout(t));
		if (r < 0 && errno != EINTR) {
			log_warn("queue %u: poll", t->queue);
			break;
		}
		rcu_online(&t->sh->rcu, t->index);
		t->tbl = t->sh->tbl;
		if (r > 0 && (pfd[1].revents & POLLIN) && read(pfd[1].fd, &ev, sizeof(ev)) < 0 &&
		    errno != EAGAIN)
			log_warn("queue %u: wake eventfd", t->queue);
		if (r > 0 && (pfd[0].revents & (POLLIN | POLLERR)) && drain(t) < 0)
			break;
		service_held(t);
		vb_flush(t);
		t->tbl = NULL;
	}
	rcu_offline(&t->sh->rcu, t->index);
	return NULL;
}

int workers_start(struct nfq_workers *w, struct nfq_shared *sh, uint16_t first, uint16_t count)
{
	int i, e;

	memset(w, 0, sizeof(*w));
	w->sh = sh;
	w->t = calloc(count, sizeof(*w->t));
	sh->notes = held_notes_new(count);
	if (!w->t || !sh->notes) {
		log_warnx("queue threads: out of memory (or eventfd)");
		free(w->t);
		w->t = NULL;
		held_notes_free(sh->notes);
		sh->notes = NULL;
		return -1;
	}
	w->n = count;
	for (i = 0; i < count; i++) {
		struct nfq_thread *t = &w->t[i];

		t->sh = sh;
		t->index = i;
		t->queue = (uint16_t)(first + i);
		t->vbuf = malloc(VERDICT_BUFSZ);
		t->rbuf = malloc((size_t)RECV_BATCH * RECV_BUFSZ);
		t->note_keys = malloc(HELD_NOTES * sizeof(*t->note_keys));
		if (!t->vbuf || !t->rbuf || !t->note_keys ||
		    held_init(&t->held, sh->held_max ? sh->held_max : 1) < 0) {
			log_warnx("queue %u: out of memory", t->queue);
			goto fail;
		}
		if (queue_open(t) < 0)
			goto fail;
	}
	for (i = 0; i < count; i++) {
		e = pthread_create(&w->t[i].tid, NULL, thread_main, &w->t[i]);
		if (e) {
			errno = e;
			log_warn("queue %u: pthread_create", w->t[i].queue);
			goto fail;
		}
		w->t[i].started = true;
	}
	return 0;
fail:
	workers_stop(w);
	return -1;
}

void workers_stop(struct nfq_workers *w)
{
	int i;

	if (!w->t)
		return;
	atomic_store(&w->sh->stop, true);
	for (i = 0; i < w->n; i++) {
		struct nfq_thread *t = &w->t[i];

		if (t->started)
			pthread_join(t->tid, NULL);
		if (t->nl)
			mnl_socket_close(t->nl);
		free(t->vbuf);
		free(t->rbuf);
		free(t->note_keys);
		held_free(&t->held);
	}
	free(w->t);
	held_notes_free(w->sh->notes);
	w->sh->notes = NULL;
	w->t = NULL;
	w->n = 0;
}

void workers_counters(const struct nfq_workers *w, uint64_t out[R__COUNT])
{
	int i, r;

	memset(out, 0, sizeof(uint64_t) * R__COUNT);
	for (i = 0; i < w->n; i++)
		for (r = 0; r < R__COUNT; r++)
			out[r] += atomic_load_explicit(&w->t[i].count[r], memory_order_relaxed);
	out[R_QUEUE_OVERRUN] += workers_overruns(w);
}

uint64_t workers_overruns(const struct nfq_workers *w)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned q, portid, total, mode, range;
	unsigned long long qdrop, udrop, seq;
	uint64_t sum = 0;
	char line[256];
	int i;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %u %u %u %llu %llu %llu", &q, &portid, &total, &mode, &range,
			   &qdrop, &udrop, &seq) != 8)
			continue;
		for (i = 0; i < w->n; i++)
			if (w->t[i].queue == q && w->t[i].portid == portid)
				sum += qdrop + udrop;
	}
	fclose(f);
	return sum;
}
