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
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
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
	struct sess_list none;
	int fd;

	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	/* blocked before the queue threads start, so they inherit the mask */
	if (sigprocmask(SIG_BLOCK, mask, NULL) < 0 || (*sfd = signalfd(-1, mask, SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);

	rcu_init(&d->sh.rcu, d->cfg.queue_count);
	if (nfqd_table_init(d) < 0)
		return -1;
	d->sh.lcfg.role = d->cfg.role;
	d->sh.lcfg.strip = d->cfg.strip;
	d->sh.lcfg.header_only = !d->cfg.rewrite_payload;
	d->sh.mark_write = d->cfg.mark_write;
	d->sh.mark_done = d->cfg.mark_done;
	d->sh.miss_hold_ms = d->cfg.role == NFQ_ROLE_SUPERVISOR ? d->cfg.miss_hold_ms : 0;
	d->sh.held_max = d->cfg.miss_hold_max;
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
	if (d->cfg.rule_install) {
		sess_list_init(&none);
		d->qexpr = nftrule_install(&d->cfg, &d->cfg.sessions, &none);
		if (d->qexpr == QEXPR_NONE)
			return -1;
		log_info("queue rule installed in tables ip/ip6 %s with the %s (queues %u-%u)",
			 d->cfg.rule_table, queue_expr_name(d->qexpr), d->cfg.queue_num,
			 d->cfg.queue_num + d->cfg.queue_count - 1);
	}
	/* the copy of the rule file's services, then followed by the generation (run) */
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
	kmode_svc_free(&d->kmsvc);
	kmode_stats_end();
	workers_stop(&d->w);
	nfqctl_close(d);
	rcu_destroy(&d->sh.rcu);
	tbl_free(d->sh.tbl);
	if (d->sh.event_fd >= 0)
		close(d->sh.event_fd);
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
		svc_notify_reloading();  /* Type=notify: systemctl reload waits for READY=1 */
		nfqd_reload(d, msg, sizeof(msg));
		svc_notify_ready();      /* also after a refused reload: the old one still runs */
		return true;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	return false;
}

/* Kernel mode: the poll's time-out so that the next check of the ruleset's generation
 * (kmode_svc_follow) is not late; timeout elsewhere. */
static int follow_timeout(const struct nfqd *d, uint64_t next_follow, int timeout)
{
	uint64_t now = cn_mono_ms();
	int left;

	if (d->cfg.mode != MODE_KERNEL)
		return timeout;
	left = next_follow > now ? (int)(next_follow - now) : 0;
	return left < timeout ? left : timeout;
}

static void run(struct nfqd *d, int sfd)
{
	enum { NFIX = 3 };
	struct pollfd pfd[NFIX];
	time_t last_svc_sync = time(NULL), last_expire = 0;
	uint64_t next_follow = cn_mono_ms() + KMODE_SVC_FOLLOW_MS;
	bool expire_more = false;
	int timeout;
	uint64_t ev;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = ctl_server_fd(&d->ctl), .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = d->sh.event_fd, .events = POLLIN};
		/* come back soon while deleted entries or old indexes wait for the readers, at
		 * once while expired sessions remain (bounded work per turn) */
		timeout = expire_more || d->kstats_pass ? 0 :
			  (d->sh.rcu.nretired || tbl_reclaim(d->sh.tbl)) ? 10 : 1000;
		if (poll(pfd, NFIX, follow_timeout(d, next_follow, timeout)) < 0 && errno != EINTR)
			fatal("poll");
		if ((pfd[0].revents & POLLIN) && !on_signal(d, sfd))
			return;
		if (pfd[2].revents & POLLIN) {
			if (read(d->sh.event_fd, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
				log_warn("eventfd");
			nfqctl_broadcast_misses(d);
		}
		if (pfd[1].revents & POLLIN)
			ctl_server_run(&d->ctl);
		rcu_reclaim(&d->sh.rcu);
		tbl_reclaim(d->sh.tbl);
		nfqd_kstats_step(d); /* a slice of the counters' refresh, if one runs */
		if (expire_more || time(NULL) != last_expire) {
			last_expire = time(NULL);
			expire_more = nfqd_expire(d, (uint64_t)last_expire);
		}
		if (d->cfg.mode == MODE_KERNEL && cn_mono_ms() >= next_follow) {
			kmode_svc_follow(&d->kmsvc, &d->cfg);
			next_follow = cn_mono_ms() + KMODE_SVC_FOLLOW_MS;
		}
		if (time(NULL) - last_svc_sync >= 5) {
			/* safety net, a no-op when in step: an element's timeout ends without a
			 * new generation */
			if (d->cfg.mode == MODE_KERNEL)
				kmode_svc_sync(&d->kmsvc, &d->cfg);
			last_svc_sync = time(NULL);
		}
	}
}

/* This process's identity for the parent (docs/control.md "status", "Only what changed"): a
 * listing's generations count from this start, so another instance means a whole listing. */
void nfqd_instance(char *out, size_t len)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	snprintf(out, len, "%016llx", (unsigned long long)r);
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
	d.sh.event_fd = -1;
	cli_daemon_parse(&o, &spec, argc, argv);
	d.config_path = o.config;
	verbose = o.verbose;
	log_init("coopnet-nfq", LOG_TO_STDERR, verbose);
	d.cli_verbose = verbose;

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
	nfqd_instance(d.instance, sizeof(d.instance));
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
