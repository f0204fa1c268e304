/* SPDX-License-Identifier: MIT */
/*
 * An SP's health checks (authd/health.h), one per vNIC service whose policy entry has a check
 * (docs/policy.md "Health checks"), their sockets in the engine's epoll (EV_HEALTH, index in
 * e->status->checks). A verdict that changes sends a report of every session of the service
 * at once (status_changed), not at the next interval.
 */
#include "engine_status.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"

static void check_free(struct svc_health *c)
{
	health_free(c->h); /* closing its socket takes it out of the epoll set */
	c->h = NULL;
	c->reg_fd = -1;
}

void engine_health_free(struct engine *e)
{
	struct engine_status *st = e->status;

	if (!st)
		return;
	for (size_t i = 0; i < st->n_checks; i++)
		check_free(&st->checks[i]);
	free(st->checks);
	st->checks = NULL;
	st->n_checks = 0;
}

/* Keep the epoll set on the socket of check i's attempt in progress. */
static void sync_fd(struct engine *e, size_t i)
{
	struct svc_health *c = &e->status->checks[i];
	short want = 0;
	int fd = health_fd(c->h, &want);
	struct epoll_event ev = { .data.u64 = EV_TAG(EV_HEALTH, i) };

	if (fd < 0) {
		if (c->reg_fd >= 0) /* closed already or still open: either way no longer ours */
			(void)epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->reg_fd, NULL);
		c->reg_fd = -1;
		return;
	}
	if (fd == c->reg_fd && want == c->reg_events)
		return;
	ev.events = ((want & POLLIN) ? EPOLLIN : 0) | ((want & POLLOUT) ? EPOLLOUT : 0);
	if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		log_warn("health check of %s: epoll", c->service);
		c->reg_fd = -1; /* the deadline still runs it: a time-out at worst */
		return;
	}
	c->reg_fd = fd;
	c->reg_events = want;
}

static void run(struct engine *e, size_t i, uint64_t now)
{
	struct svc_health *c = &e->status->checks[i];

	if (health_run(c->h, now)) {
		const struct health_result *r = health_last(c->h);

		log_info("health of %s on %s: %s%s%s", c->service, c->vnic,
			 cn_health_name(health_verdict(c->h)), r->ok ? "" : ", last failure: ",
			 r->ok ? "" : r->why ? r->why : "?");
		engine_status_changed(e, c->service);
	}
	sync_fd(e, i);
}

void engine_health_input(struct engine *e, size_t i)
{
	if (e->status && i < e->status->n_checks && e->status->checks[i].h)
		run(e, i, engine_now_ms());
}

void engine_health_tick(struct engine *e)
{
	uint64_t now = engine_now_ms();

	for (size_t i = 0; e->status && i < e->status->n_checks; i++)
		if (e->status->checks[i].h && now >= health_next_deadline(e->status->checks[i].h))
			run(e, i, now);
}

uint64_t engine_health_deadline(const struct engine *e)
{
	uint64_t d = UINT64_MAX, x;

	for (size_t i = 0; e->status && i < e->status->n_checks; i++)
		if (e->status->checks[i].h && (x = health_next_deadline(e->status->checks[i].h)) < d)
			d = x;
	return d;
}

static size_t count_checks(const struct policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_vnics; i++)
		for (size_t k = 0; k < p->vnics[i].n_services; k++)
			n += p->vnics[i].services[k].health.check != CN_CHECK_NONE;
	return n;
}

/* Rebuilt from the policy after every load (the verdicts start unknown again). */
int engine_health_setup(struct engine *e)
{
	struct engine_status *st = e->status;
	size_t n = count_checks(&e->pol), j = 0;
	uint64_t now = engine_now_ms();

	engine_health_free(e);
	if (!(e->cfg->roles & POLICY_ROLE_PROVIDER) || n == 0)
		return 0;
	if (!(st->checks = calloc(n, sizeof(*st->checks))))
		return -1;
	for (size_t i = 0; i < e->pol.n_vnics; i++) {
		const struct pol_vnic *v = &e->pol.vnics[i];
		for (size_t k = 0; k < v->n_services; k++) {
			const struct pol_vservice *vs = &v->services[k];
			struct svc_health *c = &st->checks[j];
			struct cn_coop_addr a = v->addr;
			struct sockaddr_storage ss;
			socklen_t sl;

			if (vs->health.check == CN_CHECK_NONE)
				continue;
			a.port = vs->port;
			sl = cn_coop_addr_to_sockaddr(&a, &ss);
			snprintf(c->vnic, sizeof(c->vnic), "%s", v->name);
			snprintf(c->service, sizeof(c->service), "%s", vs->name);
			c->reg_fd = -1;
			if (!sl || !(c->h = health_new(&vs->health, (struct sockaddr *)&ss, sl, now))) {
				log_warnx("health check of %s on %s: cannot start", vs->name, v->name);
				return -1;
			}
			st->n_checks = ++j;
		}
	}
	return 0;
}

void engine_health_fill(struct engine *e, const struct pol_vnic *v, const struct pol_vservice *vs,
			struct cn_status_vnic *out)
{
	uint64_t now = engine_now_ms();

	if (vs->health.check == CN_CHECK_NONE || !e->status)
		return; /* health none, check none */
	for (size_t i = 0; i < e->status->n_checks; i++) {
		const struct svc_health *c = &e->status->checks[i];
		const struct health_result *r;

		if (!c->h || strcmp(c->vnic, v->name) || strcmp(c->service, vs->name))
			continue;
		r = health_last(c->h);
		out->health = health_verdict(c->h);
		out->check = vs->health.check;
		out->http_code = vs->health.check == CN_CHECK_HTTP && r->http_code >= 100 &&
				 r->http_code <= 599 ? r->http_code : 0;
		out->check_ms = r->ms;
		if (r->changed_ms && now >= r->changed_ms && (now - r->changed_ms) / 1000 < UINT32_MAX)
			out->since_s = (uint32_t)((now - r->changed_ms) / 1000);
		return;
	}
	out->health = CN_HEALTH_UNKNOWN; /* configured, but not running */
	out->check = vs->health.check;
}
