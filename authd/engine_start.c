/* SPDX-License-Identifier: MIT */
/*
 * The supervisor starts exchanges: for a control client ("authenticate"), for a LAN client
 * the data plane saw without a session (session-miss, on demand), and for the policy's
 * "authenticate" entries at start and at renewal (docs/authd.md).
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "log.h"

int engine_auth_start(struct engine *e, const struct cn_coop_addr *client, const char *service,
		      uint64_t *handle, char *err, size_t errlen)
{
	return engine_auth_start_opt(e, client, service, false, handle, err, errlen);
}

/* failover: a member of the group is known dead (auth_ss_request.failover) */
int engine_auth_start_opt(struct engine *e, const struct cn_coop_addr *client,
			  const char *service, bool failover, uint64_t *handle, char *err,
			  size_t errlen)
{
	struct auth_ss_request req;
	const struct pol_client *cl;
	const uint8_t *key;
	char addr[CN_COOP_ADDRSTRLEN];

	cn_coop_addr_format(client, addr, sizeof(addr));
	if (!e->ss || !e->pol.n_headers) {
		snprintf(err, errlen, "this host is not a supervisor");
		errno = EINVAL;
		return -1;
	}
	if (!policy_service_by_name(&e->pol, service)) {
		snprintf(err, errlen, "unknown service \"%s\"", service);
		errno = EINVAL;
		return -1;
	}
	cl = policy_client_for(e->pol.ss_clients, e->pol.n_ss_clients, client, service);
	key = cl ? policy_client_key(cl, service) : NULL;
	if (!key) {
		snprintf(err, errlen, "the policy does not let %s use \"%s\"", addr, service);
		errno = EPERM;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.client = *client;
	req.client.port = 0;
	snprintf(req.client_name, sizeof(req.client_name), "%s", cl->name);
	snprintf(req.service, sizeof(req.service), "%s", service);
	memcpy(req.key, key, CN_KEY_LEN);
	req.failover = failover;
	req.header = e->pol.headers[0];
	for (size_t i = 0; i < e->pol.n_headers && i < AUTH_SS_MAX_HEADERS; i++)
		req.headers[req.n_headers++] = e->pol.headers[i];
	if (auth_ss_start(e->ss, &req, handle) < 0) {
		int saved = errno;

		snprintf(err, errlen, "%s", errno == EBUSY ? "an exchange for this client and "
			 "service is already running" : errno == ENOSPC ? "too many exchanges "
			 "in flight" : strerror(errno));
		sodium_memzero(&req, sizeof(req));
		errno = saved; /* ENOSPC: no slot free (engine_session_miss counts it) */
		return -1;
	}
	sodium_memzero(&req, sizeof(req));
	log_debug("authenticating %s for %s", addr, service);
	return 0;
}

/* A session miss within this long of a successful exchange for the same client and service
 * starts none: the session is on its way to the data plane (the SS's gate waits up to
 * AUTH_SP_HOLD_MS for it; the client's SYN retransmissions come 1 and 3 s after the first).
 * Later, a miss authenticates again (a data plane that lost the session). */
#define MISS_QUIET_MS 5000

void engine_session_miss(struct engine *e, const json_t *ev)
{
	struct cn_coop_addr client, service;
	const char *c = json_string_value(json_object_get(ev, "client"));
	const char *s = json_string_value(json_object_get(ev, "service"));
	json_int_t port = json_integer_value(json_object_get(ev, "port"));
	const struct pol_service *svc;
	char err[256];
	uint64_t handle;

	e->counters[CNT_SESSION_MISS]++;
	if (!c || !s || port < 1 || port > 65535 || cn_coop_addr_parse(&client, c) < 0 ||
	    cn_coop_addr_parse(&service, s) < 0) {
		log_warnx("session-miss: malformed event");
		return;
	}
	service.port = (uint16_t)port;
	svc = policy_service_by_addr(&e->pol, &service);
	if (!svc) {
		log_debug("session-miss: %s:%d is no service of the policy", s, (int)port);
		return;
	}
	if (e->ss && auth_ss_recent(e->ss, &client, svc->name, MISS_QUIET_MS)) {
		/* a retransmitted SYN (or one the data plane could not hold) while the exchange
		 * runs or its session is on its way: a second exchange would only replace the
		 * session (and its ID) under the client's first connection */
		e->counters[CNT_SESSION_MISS_RECENT]++;
		return;
	}
	if (engine_auth_start(e, &client, svc->name, &handle, err, sizeof(err)) < 0) {
		/* every slot busy: the SYN stays held until its deadline and the client's TCP
		 * sends it again, a new miss */
		if (errno == ENOSPC)
			e->counters[CNT_SESSION_MISS_REFUSED]++;
		log_debug("session-miss for %s %s: %s", c, svc->name, err);
	}
}

/*
 * Renewal: an "authenticate" entry's session is authenticated again when 80% of its lifetime
 * (from its last authentication) has passed, so a long-lived client never sees it expire.
 * The new session has the same key (client, service, port): the SS's upsert and session-add
 * switch its data plane to the new ID when it sends Auth-REP; the SP keeps the old session
 * valid until that Auth-REP arrives and its commit replaces it (docs/authd.md, "Renewal").
 */
#define RENEW_AT_PERCENT 80

static bool renewal_due(const struct db_session *s)
{
	int64_t now = (int64_t)(engine_wall_ms() / 1000), life;

	if (s->s.expires == 0 || (int64_t)s->s.expires <= s->refreshed)
		return false; /* no lifetime: nothing to renew */
	life = (int64_t)s->s.expires - s->refreshed;
	return now >= s->refreshed + life * RENEW_AT_PERCENT / 100;
}

void engine_start_entries(struct engine *e)
{
	uint64_t now = engine_now_ms();
	char err[256];
	int r;

	for (size_t i = 0; e->start && i < e->pol.n_start; i++) {
		struct start_state *st = &e->start[i];
		const struct pol_service *svc = policy_service_by_name(&e->pol, e->pol.start[i].service);
		struct cn_session key;
		struct db_session have;

		if (st->handle || now < st->next_try_ms || !svc)
			continue;
		memset(&key, 0, sizeof(key));
		key.family = svc->addr.family == CN_FAM_INET ? AF_INET : AF_INET6;
		memcpy(key.client, e->pol.start[i].client.addr, sizeof(key.client));
		memcpy(key.service, svc->addr.addr, sizeof(key.service));
		key.port = svc->addr.port;
		if (e->pol.start[i].client.family != svc->addr.family)
			continue;
		r = svc->n_members ? engine_failover_find(e, &e->pol.start[i].client, svc->name,
							   &have) :
				     db_session_get(e->db, DB_ROLE_SUPERVISOR, &key, &have);
		sodium_memzero(have.session_key, sizeof(have.session_key));
		if (r < 0 || (r == 1 && !renewal_due(&have)))
			continue; /* a session that is not due (or cannot tell): nothing to do */
		if (engine_auth_start(e, &e->pol.start[i].client, svc->name, &st->handle, err,
				      sizeof(err)) < 0) {
			log_debug("authenticate %s: %s", svc->name, err);
			st->handle = 0;
			st->next_try_ms = now + 5000;
		}
	}
}
