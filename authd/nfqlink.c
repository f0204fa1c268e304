/* SPDX-License-Identifier: MIT */
/* The parent's link to coopnet-nfq (nfqlink.h). */
#include "nfqlink.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "ctl.h"
#include "log.h"

void nfq_link_init(struct nfq_link *l, const char *path, bool subscribe, int engine_fd)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->subscribe = subscribe;
	l->engine_fd = engine_fd;
	l->sub_fd = -1;
}

void nfq_link_down(struct nfq_link *l, const char *why)
{
	if (l->up)
		log_warnx("coopnet-nfq unreachable (%s): retrying every second, then session-sync", why);
	l->up = false;
	if (l->sub_fd >= 0)
		close(l->sub_fd);
	l->sub_fd = -1;
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
	char err[256];

	r = ctl_call(l->path, req, NFQ_TIMEOUT_MS, err, sizeof(err));
	json_decref(req);
	if (!r)
		return;
	json_decref(r);
	if (l->subscribe && subscribe(l) < 0)
		return;
	l->up = true;
	log_info("coopnet-nfq reachable at %s", l->path);
	imsg_send(l->engine_fd, json_pack("{s:s}", "msg", "nfq-up"));
}

void nfq_link_forward(struct nfq_link *l, const json_t *req)
{
	char err[256];
	json_t *r;

	if (!l->path[0] || !l->up)
		return; /* no data plane, or the session-sync after reconnecting carries it */
	r = ctl_call(l->path, req, NFQ_TIMEOUT_MS, err, sizeof(err));
	if (!r) {
		nfq_link_down(l, err);
		return;
	}
	if (!json_is_true(json_object_get(r, "ok")))
		log_warnx("coopnet-nfq refused %s: %s",
			  json_string_value(json_object_get(req, "cmd")) ?: "?",
			  json_string_value(json_object_get(r, "error")) ?: "?");
	json_decref(r);
}

void nfq_link_event(struct nfq_link *l)
{
	char err[256];
	bool closed;
	json_t *ev;
	const char *kind;

	ev = ctl_recv(l->sub_fd, &closed, err, sizeof(err));
	if (!ev) {
		if (closed || (errno != EAGAIN && errno != EINTR))
			nfq_link_down(l, err);
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
