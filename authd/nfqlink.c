/* SPDX-License-Identifier: MIT */
/* The parent's link to coopnet-nfq (nfqlink.h). */
#include "nfqlink.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd.h"
#include "clock.h"
#include "ctl.h"
#include "log.h"

void nfq_link_init(struct nfq_link *l, const char *path, bool subscribe, int engine_fd)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->subscribe = subscribe;
	l->engine_fd = engine_fd;
	l->sub_fd = -1;
	l->call_fd = -1;
	l->reply_limit_ms = NFQ_REPLY_LIMIT_MS;
	l->down_at_ms = cn_mono_ms();
}

unsigned nfq_link_retry_ms(const struct nfq_link *l, uint64_t now_ms)
{
	if (l->last_try_slow)
		return NFQ_RETRY_MS;
	return now_ms - l->down_at_ms < NFQ_RETRY_FAST_FOR_MS ? NFQ_RETRY_FAST_MS : NFQ_RETRY_MS;
}

static void close_call(struct nfq_link *l)
{
	if (l->call_fd >= 0)
		close(l->call_fd);
	l->call_fd = -1;
}

void nfq_link_down(struct nfq_link *l, const char *why)
{
	if (l->up) {
		log_warnx("coopnet-nfq unreachable (%s): retrying (every %u ms, after %u s every "
			  "second), then session-sync", why, NFQ_RETRY_FAST_MS,
			  NFQ_RETRY_FAST_FOR_MS / 1000);
		l->down_at_ms = cn_mono_ms();
		l->last_try_slow = false; /* a new loss: fast tries again */
	}
	l->up = false;
	l->traffic_gen = 0; /* the next poll lists whole */
	if (l->sub_fd >= 0)
		close(l->sub_fd);
	l->sub_fd = -1;
	close_call(l);
	imsg_send(l->engine_fd, json_pack("{s:s}", "msg", "nfq-down"));
}

static int subscribe(struct nfq_link *l)
{
	char err[256];
	json_t *req, *r;
	bool closed;
	int fd;

	fd = ctl_connect(l->path);
	if (fd < 0)
		return -1;
	req = json_pack("{s:s}", "cmd", "subscribe");
	if (ctl_send(fd, req) < 0) {
		json_decref(req);
		close(fd);
		return -1;
	}
	json_decref(req);
	r = ctl_recv(fd, &closed, err, sizeof(err));
	if (!r || !json_is_true(json_object_get(r, "ok"))) {
		log_warnx("coopnet-nfq refused subscribe: %s", r ? json_string_value(
				  json_object_get(r, "error")) ?: "?" : err);
		json_decref(r);
		close(fd);
		return -1;
	}
	json_decref(r);
	l->sub_fd = fd;
	return 0;
}

void nfq_link_try_up(struct nfq_link *l)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *r;
	uint64_t t0 = cn_mono_ms();
	char err[256];

	errno = 0;
	r = ctl_call(l->path, req, NFQ_TIMEOUT_MS, err, sizeof(err));
	/* only a wait for an answer that did not come (ctl_call's ETIMEDOUT) makes the next try
	 * wait a second: a connection closed unanswered is a worker going away (nfqlink.h) */
	l->last_try_slow = !r && errno == ETIMEDOUT && cn_mono_ms() - t0 >= NFQ_RETRY_FAST_MS;
	json_decref(req);
	if (!r)
		return;
	json_decref(r);
	if (l->subscribe && subscribe(l) < 0)
		return;
	l->up = true;
	log_info("coopnet-nfq reachable at %s", l->path);
	imsg_send(l->engine_fd, json_pack("{s:s, s:I}", "msg", "nfq-up", "syncs",
					  (json_int_t)(l->syncs_in & INT64_MAX)));
}

/* A reply is late: counted, logged (the first ten, then at powers of two). */
static void slow_reply(struct nfq_link *l, const json_t *req, unsigned limit_ms)
{
	l->slow_replies++;
	if (log_sampled(l->slow_replies))
		log_warnx("coopnet-nfq: no reply to %s in %d ms, waiting up to %u ms in all "
			  "(%llu slow so far)", json_string_value(json_object_get(req, "cmd")) ?: "?",
			  NFQ_TIMEOUT_MS, limit_ms, (unsigned long long)l->slow_replies);
}

/* Send req on fd (as text[len] when the caller dumped it already, else dumped here) and wait
 * for its reply, up to limit_ms; past NFQ_TIMEOUT_MS a slow reply (nfqlink.h). NULL with err
 * when the link failed. */
static json_t *call_on(struct nfq_link *l, int fd, const json_t *req, const char *text, size_t len,
		       unsigned limit_ms, char *err, size_t errlen)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool closed = false;
	json_t *r;
	int n;

	if ((text ? ctl_send_text(fd, text, len, CTL_MSG_MAX) : ctl_send(fd, req)) < 0) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return NULL;
	}
	n = poll(&p, 1, NFQ_TIMEOUT_MS);
	if (n == 0 && limit_ms > NFQ_TIMEOUT_MS) {
		slow_reply(l, req, limit_ms);
		n = poll(&p, 1, (int)(limit_ms - NFQ_TIMEOUT_MS));
	}
	if (n <= 0) {
		snprintf(err, errlen, "%s", n == 0 ? "no reply in time" : strerror(errno));
		return NULL;
	}
	r = ctl_recv(fd, &closed, err, errlen);
	if (!r && closed)
		snprintf(err, errlen, "connection closed");
	return r;
}

/* A reply: true when "ok"; else the refusal is logged. */
static bool reply_ok(const json_t *req, const json_t *r)
{
	if (json_is_true(json_object_get(r, "ok")))
		return true;
	log_warnx("coopnet-nfq refused %s: %s",
		  json_string_value(json_object_get(req, "cmd")) ?: "?",
		  json_string_value(json_object_get(r, "error")) ?: "?");
	return false;
}

/*
 * A request whose sessions do not fit one control message (docs/control.md, "Large
 * requests"), split by size on ONE connection: a session-sync as chunks with "more": true but
 * the last, which coopnet-nfq stages and applies together (a failure closes the connection and
 * so discards the stage); a session-add or session-del as consecutive requests, each all or
 * nothing by itself. The sessions are a "sessions" array (cut into the longest runs of
 * objects that fit) or "packed" records (CN_PACKED_PER_MSG a message).
 */
struct chunker {
	const json_t *arr, *packed;
	const char *key;
	size_t pos, end;  /* array: items; packed: digits */
};

static void chunker_init(struct chunker *c, const json_t *req)
{
	memset(c, 0, sizeof(*c));
	c->packed = json_object_get(req, "packed");
	if (json_is_string(c->packed)) {
		c->key = "packed";
		c->end = json_string_length(c->packed);
	} else {
		c->packed = NULL;
		c->key = "sessions";
		c->arr = json_object_get(req, "sessions");
		c->end = json_array_size(c->arr);
	}
}

static json_t *chunker_next(struct chunker *c)
{
	size_t take;

	if (c->arr)
		return ctl_array_chunk(c->arr, &c->pos, CTL_CHUNK_BUDGET);
	take = c->end - c->pos;
	if (take > (size_t)CN_PACKED_PER_MSG * 2 * CN_SESSION_PACKED)
		take = (size_t)CN_PACKED_PER_MSG * 2 * CN_SESSION_PACKED;
	c->pos += take;
	return json_stringn_nocheck(json_string_value(c->packed) + c->pos - take, take);
}

static size_t chunker_sessions(const struct chunker *c)
{
	return c->arr ? c->end : c->end / (2 * CN_SESSION_PACKED);
}

static void forward_chunked(struct nfq_link *l, const json_t *req)
{
	bool sync = !strcmp(json_string_value(json_object_get(req, "cmd")) ?: "", "session-sync");
	struct chunker c;
	size_t chunks = 0;
	char err[256];
	int fd;

	chunker_init(&c, req);
	fd = ctl_connect(l->path);
	if (fd < 0) {
		nfq_link_down(l, strerror(errno));
		return;
	}
	while (c.pos < c.end) {
		json_t *part = json_copy((json_t *)req), *chunk, *r;
		bool ok;

		chunk = chunker_next(&c);
		if (!part || !chunk) {
			json_decref(part);
			json_decref(chunk);
			log_warnx("coopnet-nfq: out of memory splitting a request");
			break;
		}
		json_object_set_new(part, c.key, chunk);
		if (sync && c.pos < c.end)
			json_object_set_new(part, "more", json_true());
		chunks++;
		r = call_on(l, fd, part, NULL, 0, l->reply_limit_ms, err, sizeof(err));
		if (!r) {
			json_decref(part);
			close(fd);
			nfq_link_down(l, err);
			return;
		}
		ok = reply_ok(part, r);
		json_decref(part);
		json_decref(r);
		if (!ok && sync)
			break; /* closing discards what was staged: the old table stays */
	}
	close(fd);
	log_info("coopnet-nfq: %zu session(s) in %zu message(s)", chunker_sessions(&c), chunks);
}

int nfq_link_forward(struct nfq_link *l, const json_t *req)
{
	const json_t *packed;
	bool splittable;
	char err[256], *text;
	size_t len;
	json_t *r;
	bool ok;

	if (!strcmp(json_string_value(json_object_get(req, "cmd")) ?: "", "session-sync"))
		l->syncs_in++; /* counted up or down: see nfq_link_try_up */
	if (!l->path[0] || !l->up)
		return -1; /* no data plane, or the session-sync after reconnecting carries it */
	packed = json_object_get(req, "packed");
	splittable = json_is_array(json_object_get(req, "sessions")) || json_is_string(packed);
	/* a long packed string is larger at once: no dump of megabytes to find it out */
	if (splittable && json_string_length(packed) >= CTL_CHUNK_BUDGET) {
		forward_chunked(l, req);
		return l->up ? 1 : -1;
	}
	/* dumped once: the text's size decides, and the same text is sent (a size check by a
	 * dump of its own, then the send's, was 40 % of the parent's CPU under load) */
	if (!(text = ctl_dump_max(req, splittable ? CTL_CHUNK_BUDGET : CTL_MSG_MAX, &len))) {
		if (errno != EMSGSIZE) {
			nfq_link_down(l, "out of memory for a request");
			return -1;
		}
		if (!splittable)
			return NFQ_FORWARD_TOO_LARGE;
		forward_chunked(l, req);
		return l->up ? 1 : -1;
	}
	if (l->call_fd < 0 && (l->call_fd = ctl_connect(l->path)) < 0) {
		free(text);
		snprintf(err, sizeof(err), "connect: %s", strerror(errno));
		nfq_link_down(l, err);
		return -1;
	}
	r = call_on(l, l->call_fd, req, text, len, l->reply_limit_ms, err, sizeof(err));
	free(text);
	if (!r) { /* a reply lost or late: nothing more on this connection */
		nfq_link_down(l, err);
		return -1;
	}
	ok = reply_ok(req, r);
	json_decref(r);
	return ok ? 1 : 0;
}

void nfq_link_event(struct nfq_link *l)
{
	char err[256];
	bool closed;
	json_t *ev;
	const char *kind;

	ev = ctl_recv(l->sub_fd, &closed, err, sizeof(err));
	if (!ev) {
		/* lib/ctl.h's contract: closed, or a bad message on a usable link, or nothing yet */
		if (closed)
			nfq_link_down(l, err);
		else if (errno == EMSGSIZE || errno == EBADMSG)
			log_warnx("coopnet-nfq sent a bad event (dropped): %s", err);
		return;
	}
	kind = json_string_value(json_object_get(ev, "event"));
	if (kind && !strcmp(kind, "session-miss")) {
		json_object_set_new(ev, "msg", json_string("session-miss"));
		json_object_del(ev, "event");
		imsg_send(l->engine_fd, ev);
		return;
	}
	json_decref(ev);
}

/* --- per-session counters for the status application (docs/protocol.md, info_client) ---- */

#define TRAFFIC_PAGES_MAX 4096        /* bounds one poll: ~1.9 million sessions at 480 a page */
#define TRAFFIC_MSG_BUDGET (1u << 20) /* per message to the engine (IMSG_MAX is 4 MiB) */

/* One poll's listing: the entries, the entry numbers gone, the generation and instance. */
struct traffic_poll {
	json_t *all, *gone;
	uint32_t gen;
	bool have_gen;
	char instance[17];
};

/* The first page's cursor: "generation" (from 1 on) and "instance" (up to 16 characters). */
static void page_cursor(struct traffic_poll *p, const json_t *r)
{
	const json_t *g = json_object_get(r, "generation");
	const char *inst = json_string_value(json_object_get(r, "instance"));

	p->have_gen = json_is_integer(g) && json_integer_value(g) > 0 &&
		      json_integer_value(g) <= UINT32_MAX && inst && strlen(inst) < sizeof(p->instance);
	p->gen = p->have_gen ? (uint32_t)json_integer_value(g) : 0;
	snprintf(p->instance, sizeof(p->instance), "%s", p->have_gen ? inst : "");
}

static void page_items(struct traffic_poll *p, const json_t *r)
{
	const json_t *s, *n;
	size_t i;

	json_array_foreach(json_object_get(r, "sessions"), i, s) {
		json_t *x;

		n = json_object_get(s, "entry");
		if (json_is_true(json_object_get(s, "gone"))) {
			if (json_is_integer(n) && json_integer_value(n) >= 0)
				json_array_append(p->gone, (json_t *)n);
		} else if ((x = nfq_traffic_entry(s))) {
			json_array_append_new(p->all, x);
		}
	}
}

/* The listing of the sessions changed since since (0: all), page by page on one connection.
 * -1: the link failed (p is cleared). */
static int traffic_list(struct nfq_link *l, uint32_t since, struct traffic_poll *p)
{
	json_t *req, *r;
	json_int_t offset = 0;
	char err[256];
	int fd = ctl_connect(l->path);

	memset(p, 0, sizeof(*p));
	p->all = json_array();
	p->gone = json_array();
	if (fd < 0 || !p->all || !p->gone)
		goto fail;
	for (unsigned page = 0; page < TRAFFIC_PAGES_MAX; page++) {
		const json_t *next;

		req = json_pack("{s:s, s:I, s:I}", "cmd", "sessions", "offset", offset,
				"changed_since", (json_int_t)since);
		/* a poll does not wait for a slow worker: it is skipped, the next one comes */
		r = req ? call_on(l, fd, req, NULL, 0, NFQ_TIMEOUT_MS, err, sizeof(err)) : NULL;
		json_decref(req);
		if (!r || !json_is_true(json_object_get(r, "ok"))) {
			json_decref(r);
			goto fail;
		}
		if (page == 0)
			page_cursor(p, r);
		page_items(p, r);
		next = json_object_get(r, "next");
		if (!json_is_integer(next) || json_integer_value(next) <= offset) {
			json_decref(r);
			break;
		}
		offset = json_integer_value(next);
		json_decref(r);
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	json_decref(p->all);
	json_decref(p->gone);
	memset(p, 0, sizeof(*p));
	return -1;
}

/* The changes since the last poll, or the whole listing when there is no cursor, every
 * NFQ_TRAFFIC_FULL_EVERY polls, and when coopnet-nfq's instance is another (its generations
 * are another count). 0, or -1 when the link failed. */
static int traffic_poll(struct nfq_link *l, struct traffic_poll *p, bool *delta)
{
	uint32_t since = l->traffic_deltas + 1 < NFQ_TRAFFIC_FULL_EVERY ? l->traffic_gen : 0;

	if (traffic_list(l, since, p) < 0)
		return -1;
	if (since && (!p->have_gen || strcmp(p->instance, l->traffic_instance))) {
		json_decref(p->all);
		json_decref(p->gone);
		since = 0;
		if (traffic_list(l, 0, p) < 0)
			return -1;
	}
	*delta = since != 0;
	l->traffic_deltas = since ? l->traffic_deltas + 1 : 0;
	l->traffic_gen = p->have_gen ? p->gen : 0;
	memcpy(l->traffic_instance, p->instance, sizeof(l->traffic_instance));
	return 0;
}

void nfq_link_poll_traffic(struct nfq_link *l)
{
	struct traffic_poll p;
	size_t pos = 0, gpos = 0, n, gn;
	bool first = true, delta, more;
	struct timespec ts;
	json_int_t taken;

	if (!l->path[0] || !l->up)
		return;
	/* the listing's figures hold from this moment on (the engine's idle test: "taken_ms") */
	clock_gettime(CLOCK_REALTIME, &ts);
	taken = (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (traffic_poll(l, &p, &delta) < 0) {
		log_warnx("coopnet-nfq: cannot list the sessions' counters (this poll is skipped)");
		l->traffic_gen = 0;
		return;
	}
	n = json_array_size(p.all);
	gn = json_array_size(p.gone);
	do {
		json_t *chunk = pos < n || !n ? ctl_array_chunk(p.all, &pos, TRAFFIC_MSG_BUDGET) :
				json_array();
		json_t *gchunk = pos >= n && gpos < gn ?
				 ctl_array_chunk(p.gone, &gpos, TRAFFIC_MSG_BUDGET) : json_array();
		json_t *m;

		if (!chunk || !gchunk) {
			json_decref(chunk);
			json_decref(gchunk);
			l->traffic_gen = 0; /* the engine dropped a part: the next poll is whole */
			break;
		}
		more = pos < n || gpos < gn;
		m = json_pack("{s:s, s:b, s:b, s:o, s:I}", "msg", "nfq-traffic", "first", first,
			      "more", more, "sessions", chunk, "taken_ms", taken);
		if (m && delta) {
			json_object_set_new(m, "delta", json_true());
			json_object_set_new(m, "gone", gchunk);
		} else {
			json_decref(gchunk);
		}
		imsg_send(l->engine_fd, m);
		first = false;
	} while (more);
	json_decref(p.all);
	json_decref(p.gone);
}

void nfq_link_poll_stats(struct nfq_link *l)
{
	json_t *req = json_pack("{s:s}", "cmd", "stats"), *r, *st;
	char err[256];

	if (!req || !l->path[0] || !l->up) {
		json_decref(req);
		return;
	}
	r = ctl_call(l->path, req, NFQ_TIMEOUT_MS, err, sizeof(err));
	json_decref(req);
	st = json_object_get(r, "stats");
	if (json_is_object(st))
		imsg_send(l->engine_fd, json_pack("{s:s, s:O}", "msg", "nfq-stats", "stats", st));
	json_decref(r);
}
