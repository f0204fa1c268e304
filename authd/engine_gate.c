/* SPDX-License-Identifier: MIT */
/*
 * The data-plane gate of a provider (issue 11, section 7): the Auth-REP&REQ of a first
 * session for (client, service, port) leaves only once the SP's own data plane (virtual
 * switch and coopnet-nfq) holds the session. Before, the SS released the client's held SYN as
 * soon as its own data plane had the session; the SYN reached the SP before the SP's parent
 * had pushed the session (it does so when the SS's Auth-REP arrives), was dropped there, and
 * the client's TCP sent it again after one second: every first page took 1.03 s.
 *
 * How: when the SP accepts a REQ (auth_sp.c, ops.prepare) and the database has no session for
 * the key, the engine sends session-add to the parent at once (held with the turn like every
 * request) and arms the gate; the next datagram (the REP&REQ) is queued here instead of sent.
 * After the turn's COMMIT and its requests, a barrier (IMSG_BARRIER, a token) follows them on
 * the socketpair; the parent handles its messages in order, each to the end (virtual switch
 * batch, coopnet-nfq call), so its answer "dp-barrier" means: applied. Then the queued
 * datagrams of that token and the earlier ones leave. An exchange that ends without Auth-REP
 * takes its session out again (ops.unprepare). If the parent does not answer within
 * GATE_TIMEOUT_MS the datagrams leave anyway (counted: dp-gate-timeouts): a late data plane
 * costs a SYN retransmission, never the Authentication.
 *
 * Renewal (issue 9, "Renewal without loss"): the same gate holds
 *   - a provider's Auth-REP&REQ of a renewal (a session of the key exists), behind a
 *     session-accept: its data plane accepts the new ID (not written yet) before the SS can
 *     write it; the commit's session-add makes it the written one; an exchange that ends
 *     without Auth-REP withdraws it (ops.unprepare: session-withdraw);
 *   - a supervisor's Auth-REP (engine_auth.c, on_auth_repreq): the session-add of the turn
 *     that stores the new session goes first, so the Auth-REP leaves only once the SS's data
 *     plane has the new ID, which the SP writes from its commit on.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


#include "log.h"

#define GATE_MAX 256
/* one constant: the SS sizes its first time-out by how long this gate may hold an answer */
#define GATE_TIMEOUT_MS AUTH_SP_HOLD_MS

struct gate_dgram {
	uint64_t token;              /* 0: its barrier is not sent yet */
	uint64_t since_ms;
	size_t sock;
	socklen_t tolen;
	struct sockaddr_storage to;
	size_t len;
	uint8_t buf[CN_COOP_MAX_LEN];
};

struct engine_gate {
	struct gate_dgram q[GATE_MAX];
	size_t n;
	size_t out[GATE_MAX];        /* indexes into q released by one call: one sendmmsg */
	struct mmsghdr tx[GATE_MAX];
	struct iovec iov[GATE_MAX];
	uint64_t next_token;
	bool armed;                  /* the next datagram waits for the data plane */
};

static struct engine_gate *gate(struct engine *e)
{
	if (!e->gate)
		e->gate = calloc(1, sizeof(*e->gate));
	return e->gate;
}

void engine_gate_free(struct engine *e)
{
	free(e->gate);
	e->gate = NULL;
}

/* Send out[from, to) (one socket): as many per sendmmsg as it takes. */
static void gate_send_run(struct engine *e, struct engine_gate *g, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++, n++) {
		struct gate_dgram *d = &g->q[g->out[i]];

		g->iov[n] = (struct iovec){ d->buf, d->len };
		memset(&g->tx[n], 0, sizeof(g->tx[n]));
		g->tx[n].msg_hdr.msg_name = &d->to;
		g->tx[n].msg_hdr.msg_namelen = d->tolen;
		g->tx[n].msg_hdr.msg_iov = &g->iov[n];
		g->tx[n].msg_hdr.msg_iovlen = 1;
	}
	for (size_t k = 0; k < n;) {
		int r = sendmmsg(e->udp_fd[g->q[g->out[from]].sock], &g->tx[k], (unsigned)(n - k), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) { /* the first one failed (no route, buffer full): count it, go on */
			e->counters[CNT_UDP_ERRORS]++;
			k++;
			continue;
		}
		k += (size_t)r;
	}
}

/* Send out[0, n) in order, one sendmmsg per run of one socket (one call per turn, not one
 * per datagram). */
static void gate_send_out(struct engine *e, struct engine_gate *g, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && g->q[g->out[j]].sock == g->q[g->out[i]].sock)
			j++;
		gate_send_run(e, g, i, j);
		i = j;
	}
}

void engine_gate_prepare(struct engine *e, const struct db_session *s, uint32_t type)
{
	struct imsg_session m;

	engine_session_msg(&m, s, false);
	e->counters[CNT_NFQ_REQUESTS]++;
	engine_parent_send(e, type, &m);
	engine_gate_arm(e);
}

void engine_gate_arm(struct engine *e)
{
	struct engine_gate *g = gate(e);

	if (g)
		g->armed = true;
}

bool engine_gate_hold(struct engine *e, size_t sock, const struct sockaddr *to, socklen_t tolen,
		      const uint8_t *buf, size_t len)
{
	struct engine_gate *g = e->gate;
	struct gate_dgram *d;

	if (!g || !g->armed)
		return false;
	g->armed = false;
	if (g->n == GATE_MAX || len > sizeof(d->buf) || tolen > sizeof(d->to))
		return false; /* full: sent at once, as before the gate */
	d = &g->q[g->n++];
	memset(d, 0, sizeof(*d));
	d->since_ms = engine_now_ms();
	d->sock = sock;
	d->tolen = tolen;
	memcpy(&d->to, to, tolen);
	d->len = len;
	memcpy(d->buf, buf, len);
	e->counters[CNT_DP_GATED]++;
	if (!e->batching)
		engine_gate_barrier(e); /* its request went to the parent already */
	return true;
}

void engine_gate_barrier(struct engine *e)
{
	struct engine_gate *g = e->gate;
	struct imsg_barrier b = { 0 };
	bool any = false;

	if (!g)
		return;
	g->armed = false; /* armed for a datagram that was never sent (no socket, encode error) */
	for (size_t i = 0; i < g->n; i++)
		any |= g->q[i].token == 0;
	if (!any)
		return;
	b.token = ++g->next_token;
	for (size_t i = 0; i < g->n; i++)
		if (g->q[i].token == 0)
			g->q[i].token = b.token;
	if (imsg_send_bin(e->parent_fd, IMSG_BARRIER, &b, 1, sizeof(b)) < 0)
		engine_gate_release(e, b.token); /* no parent to wait for */
}

void engine_gate_disarm(struct engine *e)
{
	if (e->gate)
		e->gate->armed = false;
}

void engine_gate_drop_new(struct engine *e)
{
	struct engine_gate *g = e->gate;
	size_t k = 0;

	if (!g)
		return;
	g->armed = false;
	for (size_t i = 0; i < g->n; i++)
		if (g->q[i].token != 0)
			g->q[k++] = g->q[i];
	e->counters[CNT_HELD_DROPPED] += g->n - k;
	g->n = k;
}

/* Send the queued datagrams whose barrier is token or earlier, or (timeout) older than
 * GATE_TIMEOUT_MS; keep the rest in order. */
static void gate_release_if(struct engine *e, uint64_t token, uint64_t older_than)
{
	struct engine_gate *g = e->gate;
	size_t k = 0, out = 0;

	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		struct gate_dgram *d = &g->q[i];

		if ((d->token && d->token <= token) || d->since_ms < older_than) {
			if (!(d->token && d->token <= token))
				e->counters[CNT_DP_GATE_TIMEOUTS]++;
			g->out[out++] = i;
		}
	}
	if (!out)
		return;
	gate_send_out(e, g, out);
	for (size_t i = 0, o = 0; i < g->n; i++) {
		if (o < out && g->out[o] == i)
			o++; /* sent */
		else if (k++ != i)
			g->q[k - 1] = g->q[i];
	}
	g->n = k;
}

void engine_gate_release(struct engine *e, uint64_t token)
{
	gate_release_if(e, token, 0);
}

void engine_gate_tick(struct engine *e)
{
	uint64_t now = engine_now_ms();

	if (e->gate && e->gate->n && now > GATE_TIMEOUT_MS) {
		uint64_t before = e->counters[CNT_DP_GATE_TIMEOUTS];

		gate_release_if(e, 0, now - GATE_TIMEOUT_MS);
		if (e->counters[CNT_DP_GATE_TIMEOUTS] != before)
			log_warnx("data plane: no answer from the parent in %u ms: Auth-REP&REQ sent "
				  "before the session reached it (dp-gate-timeouts)", GATE_TIMEOUT_MS);
	}
}

uint64_t engine_gate_deadline(const struct engine *e)
{
	uint64_t d = UINT64_MAX;

	if (e->gate)
		for (size_t i = 0; i < e->gate->n; i++)
			if (e->gate->q[i].since_ms + GATE_TIMEOUT_MS < d)
				d = e->gate->q[i].since_ms + GATE_TIMEOUT_MS;
	return d;
}
