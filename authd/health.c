/* SPDX-License-Identifier: MIT */
/* Health checks (health.h): a small non-blocking state machine per service. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"

enum phase { P_IDLE, P_CONNECT, P_SEND, P_READ };

struct health {
	struct health_cfg cfg;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum phase phase;
	int fd;
	uint64_t start_ms;       /* of the check in progress */
	uint64_t next_ms;        /* of the next check */
	char req[HEALTH_PATH_MAX + 384];
	size_t req_len, req_off;
	char resp[64];           /* the status line is all we read */
	size_t resp_len;
	uint32_t passes, fails;  /* consecutive */
	uint8_t verdict;
	struct health_result last;
};

bool health_cfg_defaults(struct health_cfg *c, const char **why)
{
	if (c->check != CN_CHECK_TCP && c->check != CN_CHECK_HTTP)
		return *why = "check must be tcp or http", false;
	if (!c->interval_ms)
		c->interval_ms = 5000;
	if (!c->timeout_ms)
		c->timeout_ms = c->interval_ms > 2000 ? 2000 : c->interval_ms / 2;
	if (!c->rise)
		c->rise = 2;
	if (!c->fall)
		c->fall = 3;
	if (!c->path[0])
		strcpy(c->path, "/");
	if (c->interval_ms < 10 || c->interval_ms > 3600000)
		return *why = "interval_ms must be 10 to 3600000", false;
	if (c->timeout_ms == 0 || c->timeout_ms >= c->interval_ms)
		return *why = "timeout_ms must be above 0 and below interval_ms", false;
	if (c->rise > 100 || c->fall > 100)
		return *why = "rise and fall must be 1 to 100", false;
	if (c->expect_status && (c->expect_status < 100 || c->expect_status > 599))
		return *why = "expect_status must be 100 to 599", false;
	if (c->path[0] != '/' || strpbrk(c->path, " \r\n\t"))
		return *why = "path must start with / and hold no space or line break", false;
	if (strpbrk(c->host, " \r\n\t/"))
		return *why = "host must hold no space, slash or line break", false;
	return true;
}

static void build_request(struct health *h)
{
	char host[INET6_ADDRSTRLEN + 8] = "";
	const char *hv = h->cfg.host;

	if (!hv[0]) {
		char a[INET6_ADDRSTRLEN];
		getnameinfo((const struct sockaddr *)&h->addr, h->addrlen, a, sizeof(a), NULL, 0,
			    NI_NUMERICHOST);
		snprintf(host, sizeof(host), h->addr.ss_family == AF_INET6 ? "[%s]" : "%s", a);
		hv = host;
	}
	h->req_len = (size_t)snprintf(h->req, sizeof(h->req),
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: coopnet-authd health check\r\n"
	    "Connection: close\r\n\r\n", h->cfg.path, hv);
	if (h->req_len >= sizeof(h->req))
		h->req_len = sizeof(h->req) - 1;
}

struct health *health_new(const struct health_cfg *cfg, const struct sockaddr *addr,
    socklen_t addrlen, uint64_t now_ms)
{
	struct health *h;
	const char *why;

	if (addrlen > sizeof(h->addr) || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return NULL;
	h->cfg = *cfg;
	if (!health_cfg_defaults(&h->cfg, &why)) {
		free(h);
		return NULL;
	}
	memcpy(&h->addr, addr, addrlen);
	h->addrlen = addrlen;
	h->fd = -1;
	h->next_ms = now_ms; /* the first check starts at once */
	h->verdict = CN_HEALTH_UNKNOWN;
	build_request(h);
	return h;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

int health_fd(const struct health *h, short *events)
{
	*events = h->phase == P_READ ? POLLIN : POLLOUT;
	return h->phase == P_IDLE ? -1 : h->fd;
}

uint64_t health_next_deadline(const struct health *h)
{
	return h->phase == P_IDLE ? h->next_ms : h->start_ms + h->cfg.timeout_ms;
}

uint8_t health_verdict(const struct health *h)
{
	return h->verdict;
}

const struct health_result *health_last(const struct health *h)
{
	return &h->last;
}

/* ------------------------------------------------------------------ one check */

/* A check ended: count it, maybe change the verdict. */
static bool finish(struct health *h, uint64_t now, bool ok, const char *why)
{
	uint8_t before = h->verdict;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->phase = P_IDLE;
	h->last.checks++;
	h->last.ok = ok;
	h->last.why = ok ? NULL : why;
	h->last.ms = (uint32_t)(now - h->start_ms);
	h->next_ms = h->start_ms + h->cfg.interval_ms;
	if (h->next_ms <= now)
		h->next_ms = now + h->cfg.interval_ms;
	if (ok) {
		h->passes++;
		h->fails = 0;
		if (before == CN_HEALTH_UNKNOWN || h->passes >= h->cfg.rise)
			h->verdict = CN_HEALTH_PASSING;
	} else {
		h->fails++;
		h->passes = 0;
		if (before == CN_HEALTH_UNKNOWN || h->fails >= h->cfg.fall)
			h->verdict = CN_HEALTH_FAILING;
	}
	if (h->verdict != before)
		h->last.changed_ms = now;
	return h->verdict != before;
}

static const char *errno_word(int e)
{
	switch (e) {
	case ECONNREFUSED: return "refused";
	case ENETUNREACH: case EHOSTUNREACH: return "unreachable";
	case ECONNRESET: return "reset";
	default: return "error";
	}
}

static bool start(struct health *h, uint64_t now)
{
	h->start_ms = now;
	h->req_off = h->resp_len = 0;
	h->last.http_code = 0;
	h->fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return finish(h, now, false, "socket");
	if (connect(h->fd, (struct sockaddr *)&h->addr, h->addrlen) < 0 && errno != EINPROGRESS)
		return finish(h, now, false, errno_word(errno));
	h->phase = P_CONNECT;
	return false;
}

/* The connect finished (POLLOUT): its result. */
static bool connected(struct health *h, uint64_t now)
{
	struct pollfd p = { .fd = h->fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return false; /* not yet */
	if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		return finish(h, now, false, errno_word(err ? err : errno));
	if (h->cfg.check == CN_CHECK_TCP)
		return finish(h, now, true, NULL);
	h->phase = P_SEND;
	return false;
}

static bool sending(struct health *h, uint64_t now)
{
	ssize_t n = send(h->fd, h->req + h->req_off, h->req_len - h->req_off, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? false : finish(h, now, false, errno_word(errno));
	h->req_off += (size_t)n;
	if (h->req_off == h->req_len)
		h->phase = P_READ;
	return false;
}

/* "HTTP/1.x NNN ..." -> NNN, 0 when the line is not a status line. */
static uint16_t status_code(const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) || !line[7] || line[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return 0;
	if (line[12] != ' ' && line[12] != '\r')
		return 0;
	return (uint16_t)((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
}

static bool reading(struct health *h, uint64_t now)
{
	ssize_t n = recv(h->fd, h->resp + h->resp_len, sizeof(h->resp) - 1 - h->resp_len, 0);
	uint16_t code;
	bool ok;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? false : finish(h, now, false, errno_word(errno));
	h->resp_len += (size_t)n;
	h->resp[h->resp_len] = '\0';
	if (h->resp_len < 13) {
		if (n == 0) /* closed before a whole status line */
			return finish(h, now, false, "closed");
		return false;
	}
	code = status_code(h->resp);
	if (!code)
		return finish(h, now, false, "not-http");
	h->last.http_code = code;
	ok = h->cfg.expect_status ? code == h->cfg.expect_status : code >= 200 && code < 400;
	return finish(h, now, ok, "status");
}

bool health_run(struct health *h, uint64_t now)
{
	bool changed = false;

	if (h->phase == P_IDLE && now >= h->next_ms)
		changed = start(h, now);
	if (h->phase == P_CONNECT)
		changed |= connected(h, now);
	if (h->phase == P_SEND)
		changed |= sending(h, now);
	if (h->phase == P_READ)
		changed |= reading(h, now);
	if (h->phase != P_IDLE && now >= h->start_ms + h->cfg.timeout_ms)
		changed |= finish(h, now, false, "timeout");
	return changed;
}

/* ------------------------------------------------------------------ link state */

uint8_t health_link_from_operstate(const char *text)
{
	static const struct { const char *word; uint8_t link; } map[] = {
		{ "up", CN_LINK_UP }, { "down", CN_LINK_DOWN },
		{ "lowerlayerdown", CN_LINK_DOWN }, { "notpresent", CN_LINK_DOWN },
	};
	size_t n = strcspn(text, "\n");

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].word) == n && !strncmp(text, map[i].word, n))
			return map[i].link;
	return CN_LINK_UNKNOWN;
}

uint8_t health_link_state(const char *ifname)
{
	char path[64], buf[32];
	size_t len = strnlen(ifname, 16);
	ssize_t n;
	int fd;

	if (len == 0 || len > 15 || strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return CN_LINK_UNKNOWN;
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? CN_LINK_DOWN : CN_LINK_UNKNOWN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return CN_LINK_UNKNOWN;
	buf[n] = '\0';
	return health_link_from_operstate(buf);
}
