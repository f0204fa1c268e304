/* SPDX-License-Identifier: MIT */
/* The parent's side of the engine's messages: checked, then forwarded (parent_msg.h). */
#include "parent_msg.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"
#include "ctl.h"
#include "grow.h"
#include "log.h"

void parent_msg_init(struct parent_msg *pm, int engine_fd, struct nfq_link *nfq,
		     struct vswitch *vs, const struct parent_msg_ops *ops, void *ctx)
{
	memset(pm, 0, sizeof(*pm));
	pm->engine_fd = engine_fd;
	pm->nfq = nfq;
	pm->vs = vs;
	pm->ops = ops;
	pm->ctx = ctx;
}

void parent_msg_set_policy(struct parent_msg *pm, struct policy *p)
{
	policy_free(&pm->pol);
	pm->pol = *p;
	memset(p, 0, sizeof(*p));
	pm->have_pol = true;
}

void parent_msg_free(struct parent_msg *pm)
{
	if (!pm)
		return;
	policy_free(&pm->pol);
	keyset_free(&pm->live);
	keyset_free(&pm->stage);
	free(pm->stage_v);
	pm->stage_v = NULL;
	pm->stage_n = pm->stage_cap = 0;
	json_decref(pm->nfq_pending);
	pm->nfq_pending = NULL;
	pm->have_pol = false;
}

/* --- checking one session ------------------------------------------------------------------ */

/* A NUL-terminated name of printable ASCII without spaces, zero after the NUL. */
static bool name_ok(const char *s, size_t size)
{
	const char *end = memchr(s, 0, size);

	if (!end)
		return false;
	for (const char *c = s; c < end; c++)
		if (*c <= ' ' || *c > '~')
			return false;
	for (const char *c = end; c < s + size; c++)
		if (*c)
			return false;
	return true;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The layout: every byte defined. del: a key only. */
static const char *malformed(const struct imsg_session *s, bool del)
{
	size_t alen = s->family == AF_INET ? 4 : 16;

	if (s->family != AF_INET && s->family != AF_INET6)
		return "family";
	if (s->zero0 || s->zero1 || !zero(s->client + alen, 16 - alen) ||
	    !zero(s->service + alen, 16 - alen))
		return "padding";
	if (zero(s->client, alen) || zero(s->service, alen))
		return "unspecified address";
	if (s->port == 0)
		return "port 0";
	if (!name_ok(s->vnic, sizeof(s->vnic)) || !name_ok(s->service_name, sizeof(s->service_name)))
		return "name";
	if (del)
		return s->id || s->vnic[0] || s->service_name[0] || s->expires ? "session-del "
		       "with more than a key" : NULL;
	if (s->id == 0 || !s->service_name[0])
		return "ID 0 or no service name";
	if (s->expires >= (1ull << 40))
		return "expiry";
	return NULL;
}

static void to_coop(struct cn_coop_addr *a, int family, const uint8_t *addr, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family == AF_INET ? CN_FAM_INET : CN_FAM_INET6;
	memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
	a->port = port;
}

/* Inside the parent's policy? NULL, or why not. */
static const char *outside_policy(const struct parent_msg *pm, const struct imsg_session *s)
{
	const struct policy *p = &pm->pol;
	struct cn_coop_addr client, a;

	if (!pm->have_pol)
		return "no policy yet";
	to_coop(&client, s->family, s->client, 0);
	if (p->provider) {
		uint16_t port;
		const struct pol_vnic *vn = policy_vnic_for(p, s->service_name, &port);
		if (!vn)
			return "no vNIC hosts this service";
		if (strcmp(vn->name, s->vnic) || port != s->port)
			return "not the vNIC or port of this service";
		if (!policy_vnic_addr(vn, client.family, &a) ||
		    memcmp(a.addr, s->service, s->family == AF_INET ? 4 : 16))
			return "not the vNIC's address";
		if (!policy_sp_client_for(p, &client, s->service_name))
			return "no client entry lets this client use the service";
		return NULL;
	}
	if (p->supervisor) {
		const struct pol_service *svc = policy_service_by_name(p, s->service_name);
		if (!svc)
			return "no such service";
		/* a group service: one of its members' addresses, the service's port */
		if (svc->n_members &&
		    (svc->addr.port != s->port ||
		     !policy_member_by_addr(svc, client.family, s->service)))
			return "not a member's address of this group service";
		/* of the client's family: the policy's address; else the SP's vNIC address,
		 * which this policy does not name (docs/authd.md); a group service: above */
		if (!svc->n_members && svc->addr.family == client.family &&
		    (svc->addr.port != s->port ||
		     memcmp(svc->addr.addr, s->service, s->family == AF_INET ? 4 : 16)))
			return "not the service's address and port";
		if (!policy_ss_client_for(p, &client, s->service_name))
			return "no client entry lets this client use the service";
		return NULL;
	}
	return "this host's roles hold no sessions";
}

static void to_key(struct session_key *k, const struct imsg_session *s)
{
	memset(k, 0, sizeof(*k));
	k->family = s->family;
	memcpy(k->client, s->client, 16);
	memcpy(k->service, s->service, 16);
	k->port = s->port;
}

static void to_session(struct cn_session *c, const struct imsg_session *s)
{
	*c = (struct cn_session){ .family = s->family, .port = s->port, .id = s->id,
				  .expires = s->expires };
	memcpy(c->client, s->client, 16);
	memcpy(c->service, s->service, 16);
	memcpy(c->vnic, s->vnic, sizeof(c->vnic));
}

/* A session-del's item: the key as {client, service, port}. */
static json_t *key_json(const struct imsg_session *s)
{
	struct cn_session c;
	json_t *o;

	to_session(&c, s);
	o = cn_session_to_json(&c);
	if (o) {
		json_object_del(o, "id");
		json_object_del(o, "vnic");
		json_object_del(o, "expires");
	}
	return o;
}

static void session_refused(struct parent_msg *pm, const struct imsg_session *s, const char *why)
{
	char client[INET6_ADDRSTRLEN] = "?";

	pm->refused_sessions++;
	inet_ntop(s->family, s->client, client, sizeof(client));
	log_warnx("engine: session of %s for \"%s\" refused: %s (%llu refused)", client,
		  s->service_name, why, (unsigned long long)pm->refused_sessions);
}

/* --- forwarding ---------------------------------------------------------------------------- */

/* Requests held for one session-batch at most (coopnet-nfq takes up to 256), and sessions in
 * them: a batch is no larger than one request may be (256 sessions, under 64 KiB of JSON:
 * one control message), so coopnet-nfq's work for it is that of one request, well within
 * the second after which a reply counts as slow (NFQ_TIMEOUT_MS, authd/nfqlink.h). */
#define NFQ_PENDING_MAX 64
#define NFQ_PENDING_SESSIONS 256

/* Each held request on its own (a batch too large for one message, or one coopnet-nfq
 * refused: each is then all or nothing by itself, as without the batch). */
static void send_each(struct parent_msg *pm, json_t *reqs)
{
	size_t i;
	json_t *r;

	json_array_foreach(reqs, i, r)
		if (nfq_link_forward(pm->nfq, r) < 0)
			break; /* the link is down: the session-sync after it carries them */
}

/* The virtual switch's and the SS DNAT's changes since the last flush, each in one batch. */
static void apply_switches(struct parent_msg *pm)
{
	char err[2048];

	if (pm->vs_dirty && pm->vs && vswitch_apply(pm->vs, err, sizeof(err)) < 0)
		log_warnx("%s", err);
	if (pm->sn_dirty && pm->sn && ssnat_apply(pm->sn, err, sizeof(err)) < 0)
		log_warnx("%s", err);
	pm->vs_dirty = pm->sn_dirty = false;
}

static void send_stats(struct parent_msg *pm);

/* coopnet-nfq's held requests: one as it is, more as one session-batch. */
static void flush_nfq(struct parent_msg *pm)
{
	json_t *reqs = pm->nfq_pending, *batch;
	int r;

	pm->nfq_pending = NULL;
	pm->nfq_pending_sessions = 0;
	if (!reqs || !pm->nfq) {
		json_decref(reqs);
		return;
	}
	if (json_array_size(reqs) == 1) {
		nfq_link_forward(pm->nfq, json_array_get(reqs, 0));
		json_decref(reqs);
		return;
	}
	batch = json_pack("{s:s, s:O}", "cmd", "session-batch", "requests", reqs);
	if (!batch || (r = nfq_link_forward(pm->nfq, batch)) == NFQ_FORWARD_TOO_LARGE) {
		send_each(pm, reqs); /* out of memory, or larger than one message */
	} else if (r == 0) {
		log_warnx("coopnet-nfq refused a session-batch of %zu requests: sending them one "
			  "by one", json_array_size(reqs));
		send_each(pm, reqs);
	}
	json_decref(batch);
	json_decref(reqs);
}

void parent_msg_flush(struct parent_msg *pm)
{
	apply_switches(pm);
	flush_nfq(pm);
	/* a slow reply is the engine's counter too (nfq-slow-replies, via parent-stats) */
	if (pm->nfq && pm->nfq->slow_replies != pm->slow_reported && pm->engine_fd >= 0)
		send_stats(pm);
}

/* The number of sessions a request carries, as "sessions" or as "packed" records. */
static size_t request_sessions(const json_t *req)
{
	const json_t *packed = json_object_get(req, "packed");

	if (packed)
		return json_string_length(packed) / (2 * CN_SESSION_PACKED);
	return json_array_size(json_object_get(req, "sessions"));
}

/* A request for coopnet-nfq (consumes req): held for parent_msg_flush; a session-sync (the
 * whole table, chunked) goes at once, after what was held. */

static void nfq_queue(struct parent_msg *pm, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	size_t n;

	if (!pm->nfq) {
		json_decref(req);
		return;
	}
	if (cmd && !strcmp(cmd, "session-sync")) {
		parent_msg_flush(pm);
		nfq_link_forward(pm->nfq, req);
		json_decref(req);
		return;
	}
	n = request_sessions(req);
	if (pm->nfq_pending && pm->nfq_pending_sessions + n > NFQ_PENDING_SESSIONS)
		parent_msg_flush(pm);
	if (!pm->nfq_pending && !(pm->nfq_pending = json_array())) {
		nfq_link_forward(pm->nfq, req); /* out of memory: unbatched */
		json_decref(req);
		return;
	}
	json_array_append_new(pm->nfq_pending, req);
	pm->nfq_pending_sessions += n;
	if (json_array_size(pm->nfq_pending) >= NFQ_PENDING_MAX)
		parent_msg_flush(pm);
}

/* A checked request to the virtual switch and coopnet-nfq (consumes req). */
static void forward(struct parent_msg *pm, json_t *req)
{
	int r;

	if (!req) {
		log_warnx("engine: out of memory building a data-plane request");
		return;
	}
	if (pm->vs && pm->vs->enabled) {
		r = vswitch_session_req(pm->vs, req);
		if (r < 0)
			log_warnx("virtual switch: request refused");
		pm->vs_dirty |= r > 0;
	}
	if (pm->sn && pm->sn->enabled) {
		r = ssnat_session_req(pm->sn, req);
		if (r < 0)
			log_warnx("SS DNAT: request refused");
		pm->sn_dirty |= r > 0;
	}
	nfq_queue(pm, req);
}

static json_t *request(const char *cmd, json_t *sessions)
{
	return json_pack("{s:s, s:o}", "cmd", cmd, "sessions", sessions);
}

/* --- the handlers -------------------------------------------------------------------------- */

/* Items are copied out: buf + header is aligned, but never rely on it. */
static void item(struct imsg_session *s, const void *items, uint32_t i)
{
	memcpy(s, (const uint8_t *)items + (size_t)i * sizeof(*s), sizeof(*s));
}

static int check_all(const void *items, uint32_t n, bool del)
{
	struct imsg_session s;
	const char *why;

	for (uint32_t i = 0; i < n; i++) {
		item(&s, items, i);
		if ((why = malformed(&s, del))) {
			log_warnx("engine: session %u of %u malformed: %s", i + 1, n, why);
			return -1;
		}
	}
	return 0;
}

/* The sessions of an add (live: false; each key joins pm->live) or of a renewal ahead (live:
 * true; only a key the parent let the engine add), each checked against the policy; a refused
 * one is counted and skipped. The admitted ones as a request cmd with "packed" records
 * (lib/ctl.h: coopnet-nfq and the switches read them without an object per session), *req
 * NULL when none was admitted; -1 when a session is malformed (the whole message is refused)
 * or out of memory. */
static int admit_each(struct parent_msg *pm, const void *items, uint32_t n, bool live,
		      const char *cmd, json_t **req)
{
	struct cn_session *v;
	struct imsg_session s;
	struct session_key k;
	const char *why;
	size_t admitted = 0;

	*req = NULL;
	if (check_all(items, n, false) < 0 || !(v = calloc(n, sizeof(*v))))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		item(&s, items, i);
		to_key(&k, &s);
		if ((why = outside_policy(pm, &s)))
			session_refused(pm, &s, why);
		else if (live && !keyset_has(&pm->live, &k))
			session_refused(pm, &s, "no session of its key in the data plane");
		else if (!live && keyset_add(&pm->live, &k, IMSG_SYNC_MAX) < 0)
			session_refused(pm, &s, "too many sessions");
		else
			to_session(&v[admitted++], &s);
	}
	if (admitted)
		*req = json_pack("{s:s, s:o}", "cmd", cmd, "packed",
				 cn_sessions_pack_json(v, admitted));
	free(v);
	return admitted && !*req ? -1 : 0;
}

static int on_add(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	json_t *req;

	if (admit_each(pm, items, n, false, "session-add", &req) < 0)
		return -1;
	if (req)
		forward(pm, req);
	return 0;
}

static int on_del(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	json_t *arr = json_array();
	struct imsg_session s;
	struct session_key k;

	if (!arr || check_all(items, n, true) < 0) {
		json_decref(arr);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		item(&s, items, i);
		to_key(&k, &s);
		/* only what the parent let the engine add; nothing else is in the data plane */
		if (keyset_del(&pm->live, &k))
			json_array_append_new(arr, key_json(&s));
		else
			log_debug("engine: session-del of a session it never added: ignored");
	}
	if (json_array_size(arr))
		forward(pm, request("session-del", arr));
	else
		json_decref(arr);
	return 0;
}

static void sync_abort(struct parent_msg *pm)
{
	pm->syncing = false;
	keyset_clear(&pm->stage);
	pm->stage_n = 0;
}

static int on_sync_begin(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;

	(void)items, (void)n;
	parent_msg_flush(pm); /* what came before goes first */
	/* one that did not end (the engine's database failed midway) is discarded */
	sync_abort(pm);
	pm->syncing = true;
	return 0;
}

/* One session of the sync in progress (a key not staged before). */
static int stage_put(struct parent_msg *pm, const struct imsg_session *s)
{
	struct cn_session *v = grow(pm->stage_v, pm->stage_n, &pm->stage_cap, sizeof(*v), 1024);

	if (!v)
		return -1;
	pm->stage_v = v;
	to_session(&pm->stage_v[pm->stage_n++], s);
	return 0;
}

static int on_sync_part(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	struct imsg_session s;
	struct session_key k;
	const char *why;
	int r;

	if (!pm->syncing || check_all(items, n, false) < 0) {
		if (!pm->syncing)
			log_warnx("engine: session-sync part outside a session-sync");
		sync_abort(pm);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		item(&s, items, i);
		to_key(&k, &s);
		if ((why = outside_policy(pm, &s))) {
			session_refused(pm, &s, why);
			continue;
		}
		r = keyset_add(&pm->stage, &k, IMSG_SYNC_MAX);
		if (r < 0) {
			log_warnx("engine: a session-sync of more than %u sessions", IMSG_SYNC_MAX);
			sync_abort(pm);
			return -1;
		}
		if (r > 0 && stage_put(pm, &s) < 0) {
			log_warnx("engine: session-sync: out of memory");
			sync_abort(pm);
			return -1;
		}
	}
	return 0;
}

static int on_sync_end(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	struct keyset t;

	(void)items, (void)n;
	if (!pm->syncing) {
		log_warnx("engine: session-sync end outside a session-sync");
		return -1;
	}
	t = pm->live;
	pm->live = pm->stage;
	pm->stage = t;
	keyset_clear(&pm->stage);
	pm->syncing = false;
	log_info("session-sync: %zu session(s) to the data plane", pm->stage_n);
	/* packed (lib/ctl.h): 60,000 session objects cost the parent and coopnet-nfq most of a
	 * second at a worker's restart */
	forward(pm, json_pack("{s:s, s:o}", "cmd", "session-sync", "packed",
			      cn_sessions_pack_json(pm->stage_v, pm->stage_n)));
	/* given back: a sync is rare, and 60,000 sessions' stage is 4 MiB */
	free(pm->stage_v);
	pm->stage_v = NULL;
	pm->stage_n = pm->stage_cap = 0;
	return 0;
}

static int on_reload(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;

	(void)items, (void)n;
	parent_msg_flush(pm); /* what came before goes first */
	if (pm->ops && pm->ops->reload)
		pm->ops->reload(pm->ctx);
	return 0;
}

static int on_applied(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	struct imsg_applied a;
	char text[IMSG_ERROR_LEN];
	size_t len;

	parent_msg_flush(pm); /* what came before goes first */

	(void)n;
	memcpy(&a, items, sizeof(a));
	if (a.ok > 1 || !zero(a.zero, sizeof(a.zero)) || a.revoked < 0 ||
	    !memchr(a.error, 0, sizeof(a.error)))
		return -1;
	/* a message for the log: printable ASCII only */
	len = strlen(a.error);
	for (size_t i = 0; i <= len; i++)
		text[i] = i == len ? 0 : (a.error[i] >= ' ' && a.error[i] <= '~') ? a.error[i] : '?';
	if (pm->ops && pm->ops->applied)
		pm->ops->applied(pm->ctx, a.ok, a.revoked, text);
	return 0;
}

static int on_probe(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	struct imsg_probe p;

	parent_msg_flush(pm); /* what came before goes first */

	(void)n;
	memcpy(&p, items, sizeof(p));
	if ((p.family != AF_INET && p.family != AF_INET6) || p.zero0 != 0 || p.dport == 0 ||
	    p.sport == 0 || p.seq == 0 || (p.family == AF_INET && !zero(p.dst + 4, 12)) ||
	    zero(p.dst, sizeof(p.dst)))
		return -1;
	if (!pm->ops || !pm->ops->probe)
		return 0;
	return pm->ops->probe(pm->ctx, &p);
}

/* Every earlier message of the engine is applied (handled in order, each to the end): say so,
 * so that the Auth-REP&REQs waiting for their session's data plane leave (engine_gate.c). */
static int on_barrier(void *ctx, const void *items, uint32_t n)
{
	struct parent_msg *pm = ctx;
	struct imsg_barrier b;

	parent_msg_flush(pm); /* what came before goes first */

	(void)n;
	memcpy(&b, items, sizeof(b));
	if (b.token == 0 || b.token > (uint64_t)INT64_MAX)
		return -1;
	imsg_send(pm->engine_fd, json_pack("{s:s, s:I}", "msg", "dp-barrier", "token",
					   (json_int_t)b.token));
	return 0;
}

/* A renewal ahead (session-accept) or its end without a commit (session-withdraw): only for
 * a session the parent let the engine add, and only to coopnet-nfq (the virtual switch and
 * the SS's DNAT do not depend on the ID). */
static int ahead(struct parent_msg *pm, const void *items, uint32_t n, const char *cmd)
{
	json_t *req;

	if (admit_each(pm, items, n, true, cmd, &req) < 0)
		return -1;
	if (req && pm->nfq)
		nfq_queue(pm, req);
	else
		json_decref(req);
	return 0;
}

static int on_accept(void *ctx, const void *items, uint32_t n)
{
	return ahead(ctx, items, n, "session-accept");
}

static int on_withdraw(void *ctx, const void *items, uint32_t n)
{
	return ahead(ctx, items, n, "session-withdraw");
}

/* What the engine may send, with the sizes the dispatcher enforces (authd/imsg.h). */
static const struct imsg_bin_handler from_engine[] = {
	{ .type = IMSG_SESSION_ADD, .name = "session-add", .size = sizeof(struct imsg_session),
	  .min_n = 1, .max_n = IMSG_SESSIONS_MAX, .fn = on_add },
	{ .type = IMSG_SESSION_DEL, .name = "session-del", .size = sizeof(struct imsg_session),
	  .min_n = 1, .max_n = IMSG_SESSIONS_MAX, .fn = on_del },
	{ .type = IMSG_SYNC_BEGIN, .name = "sync-begin", .fn = on_sync_begin },
	{ .type = IMSG_SYNC_PART, .name = "sync-part", .size = sizeof(struct imsg_session),
	  .min_n = 1, .max_n = IMSG_SESSIONS_MAX, .fn = on_sync_part },
	{ .type = IMSG_SYNC_END, .name = "sync-end", .fn = on_sync_end },
	{ .type = IMSG_RELOAD, .name = "reload", .fn = on_reload },
	{ .type = IMSG_POLICY_APPLIED, .name = "policy-applied",
	  .size = sizeof(struct imsg_applied), .min_n = 1, .max_n = 1, .fn = on_applied },
	{ .type = IMSG_PROBE_SEND, .name = "probe-send", .size = sizeof(struct imsg_probe),
	  .min_n = 1, .max_n = 1, .fn = on_probe },
	{ .type = IMSG_BARRIER, .name = "barrier", .size = sizeof(struct imsg_barrier),
	  .min_n = 1, .max_n = 1, .fn = on_barrier },
	{ .type = IMSG_SESSION_ACCEPT, .name = "session-accept", .size = sizeof(struct imsg_session),
	  .min_n = 1, .max_n = IMSG_SESSIONS_MAX, .fn = on_accept },
	{ .type = IMSG_SESSION_WITHDRAW, .name = "session-withdraw",
	  .size = sizeof(struct imsg_session), .min_n = 1, .max_n = IMSG_SESSIONS_MAX,
	  .fn = on_withdraw },
};

static void send_stats(struct parent_msg *pm)
{
	pm->slow_reported = pm->nfq ? pm->nfq->slow_replies : 0;
	imsg_send(pm->engine_fd, json_pack("{s:s, s:I, s:I, s:I}", "msg", "parent-stats",
					   "refused-messages", (json_int_t)pm->refused_msgs,
					   "refused-sessions", (json_int_t)pm->refused_sessions,
					   "nfq-slow-replies", (json_int_t)pm->slow_reported));
}

/* Count a refusal, log it (the first ten, then at every power of two), tell the engine. */
static void result(struct parent_msg *pm, enum imsg_result r, uint64_t before, const char *err)
{
	if (r == IMSG_REFUSED) {
		pm->refused_msgs++;
		if (log_sampled(pm->refused_msgs))
			log_warnx("engine: %s: refused (%llu refused so far)", err,
				  (unsigned long long)pm->refused_msgs);
	}
	if (pm->refused_msgs + pm->refused_sessions != before && pm->engine_fd >= 0)
		send_stats(pm);
}

int parent_msg_input(struct parent_msg *pm, char *err, size_t errlen)
{
	uint64_t before = pm->refused_msgs + pm->refused_sessions;
	enum imsg_result r;

	r = imsg_dispatch_bin(pm->engine_fd, from_engine, sizeof(from_engine) / sizeof(from_engine[0]),
			      pm, (uint8_t *)pm->buf, sizeof(pm->buf), err, errlen);
	if (r == IMSG_GONE)
		return -1;
	result(pm, r, before, err);
	return 0;
}

static bool engine_readable(const struct parent_msg *pm)
{
	struct pollfd p = {.fd = pm->engine_fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

int parent_msg_drain(struct parent_msg *pm, char *err, size_t errlen)
{
	int n = 0, r;

	do
		r = parent_msg_input(pm, err, errlen);
	while (r == 0 && ++n < PARENT_DRAIN_MAX && engine_readable(pm));
	parent_msg_flush(pm);
	return r;
}

void parent_msg_handle(struct parent_msg *pm, const uint8_t *buf, size_t len)
{
	uint64_t before = pm->refused_msgs + pm->refused_sessions;
	char err[256];

	result(pm, imsg_handle_bin(from_engine, sizeof(from_engine) / sizeof(from_engine[0]), pm,
				   buf, len, sizeof(pm->buf), err, sizeof(err)), before, err);
	parent_msg_flush(pm);
}
