/* SPDX-License-Identifier: MIT */
/*
 * coopnet-nfq: the data plane. Writes and checks the overlay ID in the TCP urgent pointer
 * of queued segments (docs/nfq.md).
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "log.h"
#include "nfqd.h"
#include "nftbatch.h"
#include "svcnotify.h"

static int load_config(struct nfqd *d, struct nfq_config *out, char *msg, size_t msglen)
{
	struct jconf_error err;

	memset(&err, 0, sizeof(err));
	if (nfq_config_load(out, d->config_path, d->schema, &err) < 0) {
		jconf_error_str(&err, msg, msglen);
		return -1;
	}
	return 0;
}

int nfqd_publish(struct nfqd *d)
{
	struct sess_list all;
	struct sess_table *t;
	size_t i;

	/* config first, authd after: an authd session replaces a static one with its key */
	sess_list_init(&all);
	for (i = 0; i < d->cfg.sessions.n + d->authd.n; i++) {
		const struct sess_entry *e = i < d->cfg.sessions.n ? &d->cfg.sessions.v[i] :
					     &d->authd.v[i - d->cfg.sessions.n];
		struct cn_session s;

		sess_entry_to_session(e, &s);
		if (sess_list_put(&all, &s, e->source) < 0) {
			sess_list_clear(&all);
			return -1;
		}
	}
	t = tbl_build(&all, &d->cfg.services);
	if (!t) {
		sess_list_clear(&all);
		log_warnx("out of memory building the session table");
		return -1;
	}
	/* kernel mode: the maps first, so that the kernel never lags behind the queue */
	if (d->cfg.mode == MODE_KERNEL && d->qexpr != QEXPR_NONE &&
	    kmode_sync(&d->cfg, &d->cfg.sessions, &d->authd) < 0)
		log_warnx("kernel maps not updated; the queue threads have the new sessions");
	rcu_publish(&d->sh.rcu, t);
	sess_list_clear(&all);
	log_debug("session table: %u sessions, %u services", t->count, t->svc_count);
	return 0;
}

/* Settings that need a restart; everything else (sessions, services) applies live. */
static const char *restart_needed(const struct nfq_config *a, const struct nfq_config *b)
{
	if (a->role != b->role)
		return "role";
	if (a->mode != b->mode)
		return "mode";
	if (a->queue_num != b->queue_num || a->queue_count != b->queue_count ||
	    a->queue_maxlen != b->queue_maxlen || a->fanout != b->fanout)
		return "queue";
	if (strcmp(a->control_socket, b->control_socket))
		return "control_socket";
	if (a->fail_open != b->fail_open)
		return "fail_open";
	if (a->strip != b->strip)
		return "strip";
	if (a->rewrite_payload != b->rewrite_payload || a->mark_write != b->mark_write)
		return "rewrite";
	if (a->miss_hold_ms != b->miss_hold_ms)
		return "miss_hold_ms";
	if (a->rule_install != b->rule_install || strcmp(a->rule_table, b->rule_table) ||
	    a->rule_priority != b->rule_priority || a->nhooks != b->nhooks ||
	    memcmp(a->hooks, b->hooks, sizeof(a->hooks)) || a->mark_queue != b->mark_queue ||
	    a->mark_done != b->mark_done)
		return "queue_rule";
	return NULL;
}

int nfqd_reload(struct nfqd *d, char *msg, size_t msglen)
{
	struct nfq_config next, old;
	const char *what;

	if (load_config(d, &next, msg, msglen) < 0) {
		log_warnx("reload refused, keeping the running configuration: %s", msg);
		return -1;
	}
	what = restart_needed(&d->cfg, &next);
	if (what) {
		snprintf(msg, msglen, "%s: changing \"%s\" needs a restart; nothing reloaded",
			 d->config_path, what);
		log_warnx("%s", msg);
		nfq_config_clear(&next);
		return -1;
	}
	old = d->cfg;
	d->cfg.sessions = next.sessions;
	d->cfg.services = next.services;
	d->cfg.log_verbose = next.log_verbose;
	log_setverbose(next.log_verbose);
	if (nfqd_publish(d) < 0) {
		d->cfg = old;
		svc_list_clear(&next.services);
		sess_list_clear(&next.sessions);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	svc_list_clear(&old.services);
	sess_list_clear(&old.sessions);
	log_info("reloaded %s: %zu static sessions, %zu services", d->config_path,
		 d->cfg.sessions.n, d->cfg.services.n);
	return 0;
}

static bool expired(const struct sess_entry *e, const void *arg)
{
	uint64_t now = *(const uint64_t *)arg;

	return e->expires != 0 && e->expires <= now;
}

/* Drop expired authd sessions (the queue threads already ignore them). */
static void purge_expired(struct nfqd *d)
{
	uint64_t now = (uint64_t)time(NULL);

	if (sess_list_remove_if(&d->authd, expired, &now) > 0)
		nfqd_publish(d);
}

static int make_parent_dir(const char *path)
{
	char tmp[sizeof(((struct nfq_config *)0)->control_socket)];
	char *dir;

	snprintf(tmp, sizeof(tmp), "%s", path);
	dir = dirname(tmp);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int setup(struct nfqd *d, sigset_t *mask, int *sfd)
{
	struct sess_table *t;
	int fd;

	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	/* blocked before the queue threads start, so they inherit the mask */
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0 || (*sfd = signalfd(-1, mask, SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);

	t = tbl_build(&d->cfg.sessions, &d->cfg.services);
	if (!t)
		fatalx("out of memory");
	rcu_init(&d->sh.rcu, t, d->cfg.queue_count);
	d->sh.lcfg.role = d->cfg.role;
	d->sh.lcfg.strip = d->cfg.strip;
	d->sh.lcfg.header_only = !d->cfg.rewrite_payload;
	d->sh.mark_write = d->cfg.mark_write;
	d->sh.mark_done = d->cfg.mark_done;
	d->sh.miss_hold_ms = d->cfg.role == ROLE_SUPERVISOR ? d->cfg.miss_hold_ms : 0;
	d->sh.maxlen = d->cfg.queue_maxlen;
	d->sh.fail_open = d->cfg.fail_open;
	pthread_mutex_init(&d->sh.miss_lock, NULL);
	d->sh.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->sh.event_fd < 0)
		fatal("eventfd");

	if (make_parent_dir(d->cfg.control_socket) < 0)
		fatal("%s: cannot create its directory", d->cfg.control_socket);
	fd = ctl_listen(d->cfg.control_socket, 0600);
	if (fd < 0 || nfqctl_start(d, fd) < 0)
		fatal("control socket %s", d->cfg.control_socket);

	if (workers_start(&d->w, &d->sh, d->cfg.queue_num, d->cfg.queue_count) < 0)
		return -1;
	if (d->cfg.fail_open)
		log_warnx("fail_open is on: queued traffic PASSES UNCHECKED when the queue is "
			  "full or no worker is running");
	if (d->cfg.mode == MODE_KERNEL && !d->cfg.rule_install) {
		log_warnx("mode \"kernel\" needs queue_rule.install: the worker owns its tables");
		return -1;
	}
	/* kernel mode: follow the rule file's sets from before the first read on */
	if (d->cfg.mode == MODE_KERNEL && (d->nft_ev_fd = kmode_events_open(&d->kmsvc)) < 0)
		return -1;
	if (d->cfg.rule_install) {
		d->qexpr = nftrule_install(&d->cfg, &d->cfg.sessions, &d->authd);
		if (d->qexpr == QEXPR_NONE)
			return -1;
		log_info("queue rule installed in tables ip/ip6 %s with the %s (queues %u-%u)",
			 d->cfg.rule_table, queue_expr_name(d->qexpr), d->cfg.queue_num,
			 d->cfg.queue_num + d->cfg.queue_count - 1);
	}
	if (d->cfg.mode == MODE_KERNEL && kmode_svc_sync(&d->kmsvc, &d->cfg) < 0)
		return -1;
	log_info("%s in %s mode: %zu static sessions, %zu services, control %s",
		 nfq_role_name(d->cfg.role), nfq_mode_name(d->cfg.mode), d->cfg.sessions.n,
		 d->cfg.services.n, d->cfg.control_socket);
	return 0;
}

static void teardown(struct nfqd *d)
{
	if (d->qexpr != QEXPR_NONE && nftrule_remove(&d->cfg) == 0)
		log_info("queue rule removed");
	nftb_close();
	kmode_events_close(&d->kmsvc);
	workers_stop(&d->w);
	nfqctl_close(d);
	rcu_destroy(&d->sh.rcu);
	if (d->sh.event_fd >= 0)
		close(d->sh.event_fd);
	sess_list_clear(&d->authd);
	nfq_config_clear(&d->cfg);
	jconf_schema_free(d->schema);
}

/* Returns false to stop. */
static bool on_signal(struct nfqd *d, int sfd)
{
	struct signalfd_siginfo si;
	char msg[700];

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->config_path);
		nfqd_reload(d, msg, sizeof(msg));
		return true;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	return false;
}

static void run(struct nfqd *d, int sfd)
{
	enum { NFIX = 4 };
	struct pollfd pfd[NFIX];
	time_t last_purge = time(NULL);
	uint64_t ev;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = ctl_server_fd(&d->ctl), .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = d->sh.event_fd, .events = POLLIN};
		pfd[3] = (struct pollfd){.fd = d->nft_ev_fd, .events = POLLIN}; /* -1: ignored */
		if (poll(pfd, NFIX, d->sh.rcu.nretired ? 10 : 1000) < 0 && errno != EINTR)
			fatal("poll");
		if ((pfd[0].revents & POLLIN) && !on_signal(d, sfd))
			return;
		if (pfd[2].revents & POLLIN) {
			if (read(d->sh.event_fd, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
				log_warn("eventfd");
			nfqctl_broadcast_misses(d);
		}
		if ((pfd[3].revents & (POLLIN | POLLERR)) && kmode_events_read(&d->kmsvc))
			kmode_svc_sync(&d->kmsvc, &d->cfg);
		if (pfd[1].revents & POLLIN)
			ctl_server_run(&d->ctl);
		rcu_reclaim(&d->sh.rcu);
		if (time(NULL) - last_purge >= 5) {
			purge_expired(d);
			if (d->cfg.mode == MODE_KERNEL)
				kmode_svc_sync(&d->kmsvc, &d->cfg); /* safety net; a no-op when in step */
			last_purge = time(NULL);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct cli_daemon_spec spec = {
		.prog = "coopnet-nfq",
		.default_config = COOPNET_SYSCONFDIR "/nfq.json",
		.check_help = "check the configuration (errors as FILE:LINE:COLUMN: message), exit",
		.foreground_help = "accepted for symmetry: coopnet-nfq never detaches",
	};
	struct cli_daemon_opts o;
	struct jconf_error err;
	struct nfqd d;
	bool verbose;
	char msg[1024];
	sigset_t mask;
	int sfd = -1;

	memset(&d, 0, sizeof(d));
	ctl_server_init(&d.ctl);
	d.nft_ev_fd = -1;
	d.sh.event_fd = -1;
	cli_daemon_parse(&o, &spec, argc, argv);
	d.config_path = o.config;
	verbose = o.verbose;
	log_init("coopnet-nfq", LOG_TO_STDERR, verbose);

	memset(&err, 0, sizeof(err));
	d.schema = nfq_config_schema(&err);
	if (!d.schema)
		fatalx("built-in schema: %s", jconf_error_str(&err, msg, sizeof(msg)));
	if (load_config(&d, &d.cfg, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s\n", msg);
		jconf_schema_free(d.schema);
		return 1;
	}
	if (o.check) {
		printf("%s: ok (%s, %s mode, %zu sessions)\n", d.config_path,
		       nfq_role_name(d.cfg.role), nfq_mode_name(d.cfg.mode), d.cfg.sessions.n);
		nfq_config_clear(&d.cfg);
		jconf_schema_free(d.schema);
		return 0;
	}
	if (d.cfg.log_syslog)
		log_init("coopnet-nfq", LOG_TO_SYSLOG, verbose || d.cfg.log_verbose);
	else if (d.cfg.log_verbose)
		log_setverbose(true);
	d.started = time(NULL);
	if (setup(&d, &mask, &sfd) < 0) {
		teardown(&d);
		return 1;
	}
	svc_notify_ready();
	run(&d, sfd);
	svc_notify_stopping();
	teardown(&d);
	close(sfd);
	return 0;
}
