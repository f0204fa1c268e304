/* SPDX-License-Identifier: MIT */
/*
 * One turn of the engine's loop, batched (engine.h, "engine_turn.c"): one sqlite transaction
 * for the turn's writes instead of one per write (each with its own locks and WAL append),
 * recvmmsg/sendmmsg instead of a system call per datagram.
 *
 * The promise kept (docs/database.md, docs/security.md): an answer that depends on a write
 * leaves only once the write is committed. A replay digest is durable before the
 * Auth-REP&REQ that it guards leaves, a session is in the database before its session-add
 * reaches the data plane. So the datagrams queued after the transaction opened and the
 * data-plane requests made in it are held until the COMMIT; if it fails they are dropped,
 * the state machines forget the exchanges whose digests were rolled back (a retransmitted
 * REQ is then judged afresh, never answered from memory), and the provider sessions of the
 * turn are stored again one by one (their Auth-REP came in an earlier turn's exchange: the
 * SS already believes in them).
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "log.h"

#define TURN_DGRAMS 128
#define TURN_REQS 128
#define TURN_DIGESTS 128
#define TURN_SESSIONS 64
#define TURN_RX 64
/*
 * Moderation under load, as a NIC's interrupt moderation (issue 11 section 3): once
 * MODERATE_RUN steps in a row each read datagrams within MODERATE_GAP_US of the one before,
 * the next step that finds datagrams waits MODERATE_US before it reads them, so that one turn
 * (one transaction, one sendmmsg, one batch to the parent and the data plane) carries
 * several exchanges. Without it a cheap turn answers each datagram alone, and the parent and
 * coopnet-nfq, which share the provider's core, then take one round trip per session: at the
 * deployed bench's load that halved the exchanges per second (docs/performance.md). An
 * Authentication at idle (two steps, REQ and REP) and a full read (a backlog) never wait.
 */
#define MODERATE_RUN 4
#define MODERATE_GAP_US 2000
#define MODERATE_US 500

struct held_dgram {
	size_t sock;
	socklen_t tolen;
	struct sockaddr_storage to;
	size_t len;
	uint8_t buf[CN_COOP_MAX_LEN];
};

struct engine_turn {
	struct held_dgram dg[TURN_DGRAMS];
	size_t n_dg, tx_dg;              /* tx_*: the count when the transaction opened */
	uint32_t req_type[TURN_REQS];    /* data-plane requests to the parent: IMSG_SESSION_* */
	struct imsg_session req[TURN_REQS];
	size_t n_req, tx_req;
	uint8_t digest[TURN_DIGESTS][CN_DIGEST_LEN];
	size_t n_digest;
	struct db_session sess[TURN_SESSIONS];
	size_t n_sess;
	uint64_t counters[CNT_MAX];      /* at the BEGIN: restored for the outcomes on rollback */
	size_t rx_step, rx_last;         /* datagrams read in this step, in the last one */
	uint64_t rx_last_end_us;         /* CLOCK_MONOTONIC when the last step that read ended */
	unsigned rx_run;                 /* steps in a row that read, each within the gap */
	/* receive side */
	struct mmsghdr rx[TURN_RX];
	struct iovec rx_iov[TURN_RX];
	struct sockaddr_storage rx_from[TURN_RX];
	uint8_t rx_buf[TURN_RX][CN_COOP_MAX_LEN + 1];
	/* send side */
	struct mmsghdr tx[TURN_DGRAMS];
	struct iovec tx_iov[TURN_DGRAMS];
};

/* The outcome counters a rolled-back turn must not have counted. */
static const int outcome_counters[] = {
	CNT_AUTH_OK, CNT_SESSIONS_ADDED, CNT_SESSIONS_REVOKED, CNT_SESSIONS_EXPIRED,
	CNT_SESSIONS_PEER_REVOKED, CNT_SESSIONS_RENEWED,
};

static struct engine_turn *turn(struct engine *e)
{
	if (!e->turn) {
		e->turn = calloc(1, sizeof(*e->turn)); /* holds session keys: wiped when freed */
	}
	return e->turn;
}

void engine_turn_free(struct engine *e)
{
	if (!e->turn)
		return;
	sodium_memzero(e->turn, sizeof(*e->turn));
	free(e->turn);
	e->turn = NULL;
}

/* --- the transaction ------------------------------------------------------------------------ */

static bool tx_full(const struct engine_turn *t)
{
	/* room for one more exchange's worth: a digest or a session, a request, two datagrams */
	return t->n_digest >= TURN_DIGESTS || t->n_sess >= TURN_SESSIONS ||
	       t->n_req >= TURN_REQS || t->n_dg + 2 > TURN_DGRAMS;
}

int engine_tx_write(struct engine *e)
{
	struct engine_turn *t;

	if (!e->batching)
		return 0;
	if (e->tx == TX_FAILED)
		return -1;
	t = turn(e);
	if (!t) {
		log_warnx("turn: out of memory");
		return -1;
	}
	if (e->tx == TX_OPEN) {
		if (!db_in_tx(e->db)) {
			/* sqlite rolled back on its own: a write now would commit alone */
			e->tx = TX_FAILED;
			return -1;
		}
		if (!tx_full(t))
			return 0;
		if (engine_flush(e) < 0)
			return -1;
	}
	if (db_begin(e->db) < 0) {
		e->counters[CNT_DB_ERRORS]++;
		log_warnx("database: %s", db_error(e->db));
		e->tx = TX_FAILED;
		t->tx_dg = t->n_dg;
		t->tx_req = t->n_req;
		return -1;
	}
	e->tx = TX_OPEN;
	t->tx_dg = t->n_dg;
	t->tx_req = t->n_req;
	t->n_digest = 0;
	t->n_sess = 0;
	memcpy(t->counters, e->counters, sizeof(t->counters));
	return 0;
}

void engine_tx_check(struct engine *e)
{
	if (e->tx == TX_OPEN && !db_in_tx(e->db))
		e->tx = TX_FAILED;
}

void engine_tx_digest(struct engine *e, const uint8_t digest[CN_DIGEST_LEN])
{
	if (e->tx == TX_OPEN && e->turn && e->turn->n_digest < TURN_DIGESTS)
		memcpy(e->turn->digest[e->turn->n_digest++], digest, CN_DIGEST_LEN);
}

void engine_tx_session(struct engine *e, const struct db_session *s)
{
	if (e->tx == TX_OPEN && e->turn && e->turn->n_sess < TURN_SESSIONS)
		e->turn->sess[e->turn->n_sess++] = *s;
}

/* The turn did not commit: drop what it held, forget what it recorded. */
static void tx_rolled_back(struct engine *e, struct engine_turn *t)
{
	size_t dropped = (t->n_dg - t->tx_dg) + (t->n_req - t->tx_req);

	for (size_t i = 0; i < sizeof(outcome_counters) / sizeof(outcome_counters[0]); i++)
		e->counters[outcome_counters[i]] = t->counters[outcome_counters[i]];
	e->counters[CNT_DB_ERRORS]++;
	e->counters[CNT_TURN_ROLLBACKS]++;
	e->counters[CNT_HELD_DROPPED] += dropped;
	log_warnx("database: the turn's transaction did not commit (%s): dropped %zu datagram(s) "
		  "and %zu data-plane request(s), forgot %zu exchange(s)", db_error(e->db),
		  t->n_dg - t->tx_dg, t->n_req - t->tx_req, t->n_digest);
	t->n_req = t->tx_req;
	t->n_dg = t->tx_dg;
	for (size_t i = 0; i < t->n_digest; i++) {
		if (e->sp)
			auth_sp_forget(e->sp, t->digest[i]);
		if (e->rv)
			auth_rv_forget(e->rv, t->digest[i]);
	}
	t->n_digest = 0;
}

/* Provider sessions of a rolled-back turn, stored again one by one (the SS believes in them:
 * it sent its Auth-REP). The first failure stops it: the database is not taking writes. */
static void tx_retry_sessions(struct engine *e, struct engine_turn *t)
{
	size_t n = t->n_sess;

	t->n_sess = 0;
	for (size_t i = 0; i < n; i++) {
		if (engine_session_store(e, &t->sess[i]) < 0) {
			log_warnx("database: %zu session(s) of the turn lost", n - i);
			break;
		}
		e->counters[CNT_AUTH_OK]++;
	}
	sodium_memzero(t->sess, sizeof(t->sess[0]) * n);
}

/* --- output ------------------------------------------------------------------------------- */

int engine_udp_send(struct engine *e, size_t sock, const struct sockaddr *to, socklen_t tolen,
		    const uint8_t *buf, size_t len)
{
	struct engine_turn *t = e->batching ? turn(e) : NULL;
	struct held_dgram *d;

	if (engine_gate_hold(e, sock, to, tolen, buf, len))
		return 0; /* a provider's REP&REQ: leaves once the data plane has the session */
	if (t && t->n_dg == TURN_DGRAMS)
		engine_flush(e); /* commits what the held ones depend on, then sends them */
	if (!t || len > sizeof(t->dg[0].buf) || tolen > sizeof(t->dg[0].to)) {
		if (sendto(e->udp_fd[sock], buf, len, 0, to, tolen) == (ssize_t)len)
			return 0;
		e->counters[CNT_UDP_ERRORS]++;
		log_debug("sendto: %s", strerror(errno));
		return -1;
	}
	d = &t->dg[t->n_dg++];
	d->sock = sock;
	d->tolen = tolen;
	memcpy(&d->to, to, tolen);
	d->len = len;
	memcpy(d->buf, buf, len);
	return 0;
}

void engine_parent_send(struct engine *e, uint32_t type, const struct imsg_session *s)
{
	struct engine_turn *t = e->batching ? turn(e) : NULL;

	if (t && t->n_req == TURN_REQS)
		engine_flush(e);
	if (!t) {
		imsg_send_bin(e->parent_fd, type, s, 1, sizeof(*s));
		return;
	}
	t->req_type[t->n_req] = type;
	t->req[t->n_req++] = *s;
}

/* Send dg[from, to) of one socket, as many per sendmmsg as it takes. */
static void send_run(struct engine *e, struct engine_turn *t, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++, n++) {
		t->tx_iov[n] = (struct iovec){ t->dg[i].buf, t->dg[i].len };
		memset(&t->tx[n], 0, sizeof(t->tx[n]));
		t->tx[n].msg_hdr.msg_name = &t->dg[i].to;
		t->tx[n].msg_hdr.msg_namelen = t->dg[i].tolen;
		t->tx[n].msg_hdr.msg_iov = &t->tx_iov[n];
		t->tx[n].msg_hdr.msg_iovlen = 1;
	}
	for (size_t k = 0; k < n;) {
		int r = sendmmsg(e->udp_fd[t->dg[from].sock], &t->tx[k], (unsigned)(n - k), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* the first one failed (no route, buffer full): count it, go on */
			e->counters[CNT_UDP_ERRORS]++;
			log_debug("sendmmsg: %s", strerror(errno));
			k++;
			continue;
		}
		k += (size_t)r;
	}
}

static void send_held(struct engine *e, struct engine_turn *t)
{
	size_t i = 0;

	while (i < t->n_dg) {
		size_t j = i + 1;
		while (j < t->n_dg && t->dg[j].sock == t->dg[i].sock)
			j++;
		send_run(e, t, i, j);
		i = j;
	}
	t->n_dg = 0;
	/* consecutive requests of one kind in one message (in order: an add and a later del
	 * of the same session stay in that order) */
	for (i = 0; i < t->n_req;) {
		size_t j = i + 1;
		while (j < t->n_req && j - i < IMSG_SESSIONS_MAX && t->req_type[j] == t->req_type[i])
			j++;
		imsg_send_bin(e->parent_fd, t->req_type[i], &t->req[i], (uint32_t)(j - i),
			      sizeof(t->req[0]));
		i = j;
	}
	t->n_req = 0;
	engine_gate_barrier(e); /* after the requests the gated datagrams wait for */
}

int engine_flush(struct engine *e)
{
	struct engine_turn *t = e->turn;
	bool was_batching = e->batching;
	int r = 0;

	if (!t)
		return 0;
	if (e->tx == TX_OPEN && db_commit(e->db) < 0) {
		r = -1;
	} else if (e->tx == TX_FAILED) {
		db_rollback(e->db);
		r = -1;
	}
	e->tx = TX_NONE;
	/* no batching while we clean up: a retried session commits alone and goes out at once */
	e->batching = false;
	if (r < 0) {
		engine_gate_drop_new(e); /* their session-adds are dropped with the turn */
		tx_rolled_back(e, t);
		send_held(e, t);
		tx_retry_sessions(e, t);
	} else {
		send_held(e, t);
		sodium_memzero(t->sess, sizeof(t->sess[0]) * t->n_sess);
		t->n_sess = 0;
		t->n_digest = 0;
	}
	e->batching = was_batching;
	return r;
}

/* --- input -------------------------------------------------------------------------------- */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void engine_turn_moderate(struct engine *e)
{
	struct engine_turn *t = e->turn;
	struct timespec ts = { .tv_nsec = MODERATE_US * 1000L };

	if (!t || t->rx_run < MODERATE_RUN || t->rx_last >= TURN_RX ||
	    mono_us() - t->rx_last_end_us > MODERATE_GAP_US)
		return;
	e->counters[CNT_TURNS_MODERATED]++;
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

void engine_turn_end(struct engine *e)
{
	struct engine_turn *t = e->turn;
	uint64_t now;

	if (!t || !t->rx_step)
		return; /* a step for the parent, a timer or a command: the run goes on */
	now = mono_us();
	t->rx_run = now - t->rx_last_end_us <= MODERATE_GAP_US ? t->rx_run + 1 : 1;
	t->rx_last_end_us = now;
	t->rx_last = t->rx_step;
	t->rx_step = 0;
}

void engine_udp_drain(struct engine *e, size_t i,
		      void (*dispatch)(struct engine *, const struct cn_coop_addr *,
				       const uint8_t *, size_t))
{
	struct engine_turn *t = turn(e);
	struct cn_coop_addr from;
	int n;

	if (!t)
		return;
	for (size_t k = 0; k < TURN_RX; k++) {
		t->rx_iov[k] = (struct iovec){ t->rx_buf[k], sizeof(t->rx_buf[k]) };
		memset(&t->rx[k], 0, sizeof(t->rx[k]));
		t->rx[k].msg_hdr.msg_name = &t->rx_from[k];
		t->rx[k].msg_hdr.msg_namelen = sizeof(t->rx_from[k]);
		t->rx[k].msg_hdr.msg_iov = &t->rx_iov[k];
		t->rx[k].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(e->udp_fd[i], t->rx, TURN_RX, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			e->counters[CNT_UDP_ERRORS]++;
			log_warn("recvmmsg");
		}
		return;
	}
	t->rx_step += (size_t)n;
	for (int k = 0; k < n && !e->quit; k++) {
		if (cn_coop_addr_from_sockaddr(&from, (struct sockaddr *)&t->rx_from[k],
					       t->rx[k].msg_hdr.msg_namelen) < 0)
			continue;
		/* an oversized datagram was cut to CN_COOP_MAX_LEN + 1: the decoder refuses it */
		dispatch(e, &from, t->rx_buf[k], t->rx[k].msg_len);
	}
}
