/* SPDX-License-Identifier: MIT */
/*
 * The engine's link to coopnet-relay (docs/relay.md "Key messages"): for each session of a
 * confidential service, its TLS PSK (derived from K_s, lib/confkey.h) goes to the relay's
 * key socket as one fixed-size SEQPACKET message; a removed session's DEL makes the relay
 * forget its keys and close its connections. The link is write-only; a full buffer waits at
 * most RELAY_SEND_WAIT_MS per message for the relay to drain it; a failed send drops it, and the next housekeeping tick reconnects
 * and sends the full list (SYNC_BEGIN, SET..., SYNC_END). K_s itself never leaves the engine.
 */
#include "engine.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "confkey.h"
#include "log.h"

static bool wanted(const struct engine *e, const struct db_session *s)
{
	return e->relay_fd >= 0 && s->has_key && policy_confidential(&e->pol, s->service_name);
}

static void relay_down(struct engine *e, const char *why)
{
	log_warnx("coopnet-relay at %s: %s: keys are sent again when it is back",
		  e->cfg->relay_socket, why);
	close(e->relay_fd);
	e->relay_fd = -1;
}

/* A full socket buffer (a sync of many sessions: a UNIX datagram costs far more buffer than
 * its 104 bytes) waits for the relay to drain it, at most RELAY_SEND_WAIT_MS per message;
 * the relay only copies keys into its table, so the wait is short. */
#define RELAY_SEND_WAIT_MS 500

static void send_msg(struct engine *e, const struct cn_conf_msg *m)
{
	uint8_t buf[CN_CONF_MSG_LEN];
	ssize_t n;

	if (e->relay_fd < 0)
		return;
	cn_conf_encode(m, buf);
	for (;;) {
		n = send(e->relay_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
		struct pollfd p = { .fd = e->relay_fd, .events = POLLOUT };
		if (errno == EAGAIN && poll(&p, 1, RELAY_SEND_WAIT_MS) <= 0) {
			errno = ETIMEDOUT;
			break;
		}
	}
	if (n != sizeof(buf))
		relay_down(e, n < 0 ? strerror(errno) : "short send");
	sodium_memzero(buf, sizeof(buf));
}

static void fill(struct cn_conf_msg *m, const struct db_session *s, enum cn_conf_type type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->family = s->s.family;
	m->port = s->s.port;
	m->id = s->s.id;
	memcpy(m->client, s->s.client, s->s.family == AF_INET ? 4 : 16);
	memcpy(m->service, s->s.service, s->s.family == AF_INET ? 4 : 16);
}

void relaylink_session(struct engine *e, const struct db_session *s, bool add)
{
	struct cn_conf_msg m;

	if (!wanted(e, s))
		return;
	fill(&m, s, add ? CN_CONF_SET : CN_CONF_DEL);
	if (add) {
		m.expires = s->s.expires;
		if (cn_conf_derive(s->session_key, m.psk, m.ident) < 0) {
			log_warnx("coopnet-relay: key derivation failed");
			return;
		}
	}
	send_msg(e, &m);
	sodium_memzero(&m, sizeof(m));
}

static int sync_cb(const struct db_session *s, void *arg)
{
	relaylink_session(arg, s, true);
	return 0;
}

void relaylink_sync(struct engine *e)
{
	struct cn_conf_msg m = { .type = CN_CONF_SYNC_BEGIN };

	if (e->relay_fd < 0 || !e->have_policy)
		return;
	send_msg(e, &m);
	if (db_session_foreach(e->db, 0, sync_cb, e) < 0) {
		log_warnx("coopnet-relay sync: %s", db_error(e->db));
		return;   /* no SYNC_END: the relay keeps what it had */
	}
	m.type = CN_CONF_SYNC_END;
	send_msg(e, &m);
}

void relaylink_tick(struct engine *e)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!e->cfg->relay_socket[0] || e->relay_fd >= 0)
		return;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", e->cfg->relay_socket);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (!e->relay_warned)
			log_warnx("coopnet-relay at %s: %s (confidential services wait for it)",
				  e->cfg->relay_socket, strerror(errno));
		e->relay_warned = true;
		close(fd);
		return;
	}
	e->relay_fd = fd;
	e->relay_warned = false;
	log_info("coopnet-relay at %s: connected, sending the keys", e->cfg->relay_socket);
	relaylink_sync(e);
}

void relaylink_close(struct engine *e)
{
	if (e->relay_fd >= 0)
		close(e->relay_fd);
	e->relay_fd = -1;
}
