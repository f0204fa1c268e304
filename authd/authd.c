/* SPDX-License-Identifier: MIT */
/*
 * coopnet-authd: the privileged parent. It reads the configuration, the policy and the secret
 * files, opens the sockets, forks the engine (which drops to an unprivileged user) and then
 * only: reloads the policy on SIGHUP or on the engine's request, and carries the engine's
 * session messages to coopnet-nfq's root-only control socket (and its session-miss events
 * back). See docs/authd.md.
 */
#include "authd.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "ctl.h"
#include "log.h"
#include "nfqlink.h"
#include "link_poll.h"
#include "parent_msg.h"
#include "probe_raw.h"
#include "provision.h"
#include "sockbuf.h"
#include "status_fsm.h"
#include "svcnotify.h"
#include "ssnat.h"
#include "vswitch.h"

#define AUTHD_DEFAULT_CONFIG COOPNET_SYSCONFDIR "/authd.json"

struct parent {
	struct authd_config cfg;
	int engine_fd;
	pid_t engine_pid;
	int sig_fd;
	struct nfq_link nfq;
	bool quit;
	int exit_code;
	struct provision running;   /* the vNICs and vhosts of the running policy */
	bool applied;               /* a policy was applied once: running is meaningful */
	struct vswitch vs;
	struct ssnat sn;            /* the SS's DNAT of group services */
	struct parent_msg pm;       /* the engine's messages, checked (parent_msg.h) */
	struct link_poll lp;        /* provider: the vNICs' link state for the engine */
	bool reloading;             /* RELOADING=1 sent, READY=1 when the engine applied it */
	struct probe_raw probe;     /* the path probe's raw sockets (probe_raw.h) */
};

/* Load, check and resolve the policy: NULL-free error string in buf on failure. */
static int load_policy(const struct authd_config *cfg, struct policy *p, char *buf, size_t size)
{
	struct jconf_error err;

	if (policy_load_file(p, cfg->policy, cfg->roles, &err) < 0 ||
	    policy_resolve(p, cfg->kdf, &err) < 0) {
		jconf_error_str(&err, buf, size);
		policy_free(p);
		return -1;
	}
	return 0;
}

/* A copy of the switch's policy part, to put back when a reload fails after it changed. */
static void vswitch_keep(struct vswitch *keep, const struct vswitch *vs)
{
	*keep = *vs;
	memset(&keep->sess, 0, sizeof(keep->sess));
	keep->held = NULL;
	keep->n_held = keep->cap_held = 0;
	memset(&keep->held_ix, 0, sizeof(keep->held_ix));
	keep->vnics = malloc((vs->n_vnics + 1) * sizeof(*vs->vnics));
	keep->svcs = malloc((vs->n_svcs + 1) * sizeof(*vs->svcs));
	if (!keep->vnics || !keep->svcs)
		fatalx("out of memory");
	memcpy(keep->vnics, vs->vnics, vs->n_vnics * sizeof(*vs->vnics));
	memcpy(keep->svcs, vs->svcs, vs->n_svcs * sizeof(*vs->svcs));
}

static void vswitch_put_back(struct vswitch *vs, struct vswitch *keep)
{
	free(vs->vnics);
	free(vs->svcs);
	vs->enabled = keep->enabled;
	vs->mark = keep->mark;
	memcpy(vs->relay, keep->relay, sizeof(vs->relay));
	vs->n_relay = keep->n_relay;
	vs->vnics = keep->vnics;
	vs->n_vnics = keep->n_vnics;
	vs->svcs = keep->svcs;
	vs->n_svcs = keep->n_svcs;
	keep->vnics = NULL;
	keep->svcs = NULL;
}

/* The host's part of a policy, in the parent only: vNICs, vhosts, then the virtual switch.
 * On failure everything is as before and err says why. Before the first policy, "before" is
 * the host as found (provision_snapshot): a failed start undoes what it created. */
static int apply_host(struct parent *pa, const struct policy *p, char *err, size_t size)
{
	struct provision next, found, *prev = &pa->running;
	struct vswitch keep;
	char undo[1024];

	if (provision_build(&next, p, pa->cfg.policy, err, size) < 0)
		return -1;
	memset(&found, 0, sizeof(found));
	if (!pa->applied) {
		if (provision_snapshot(&found, &next, err, size) < 0) {
			provision_free(&next);
			return -1;
		}
		prev = &found;
	}
	if (provision_apply(&next, prev, err, size) < 0)
		goto failed;
	vswitch_keep(&keep, &pa->vs);
	if (vswitch_set_policy(&pa->vs, p) < 0 ||
	    ((pa->vs.enabled || keep.enabled) && vswitch_apply(&pa->vs, err, size) < 0) ||
	    ssnat_policy(&pa->sn, p, err, size) < 0) {
		if (pa->vs.enabled || keep.enabled)
			log_warnx("%s", err);
		vswitch_put_back(&pa->vs, &keep);
		pa->vs.installed = false; /* the next apply rebuilds it from the kept policy */
		if (provision_apply(prev, &next, undo, sizeof(undo)) < 0)
			log_warnx("restoring the previous vNICs failed: %s", undo);
		goto failed;
	}
	vswitch_free(&keep);
	provision_free(&found);
	provision_free(&pa->running);
	pa->running = next;
	pa->applied = true;
	return 0;
failed:
	provision_free(&found);
	provision_free(&next);
	return -1;
}

static int send_policy(struct parent *pa, bool reload)
{
	struct policy p;
	char err[4096];
	json_t *doc;

	if (load_policy(&pa->cfg, &p, err, sizeof(err)) < 0)
		goto failed;
	if (apply_host(pa, &p, err, sizeof(err)) < 0) {
		policy_free(&p);
		goto failed;
	}
	doc = policy_to_json(&p);
	if (!doc) {
		policy_free(&p);
		return -1;
	}
	/* what the engine's sessions are checked against from now on */
	parent_msg_set_policy(&pa->pm, &p);
	link_poll_free(&pa->lp); /* the new policy's vNICs: sent again at the next poll */
	return imsg_send(pa->engine_fd, json_pack("{s:s, s:o, s:b}", "msg", "policy", "policy",
						  doc, "reload", reload));
failed:
	log_warnx("policy not %s: %s", reload ? "reloaded, the running one stays" :
		  "loaded", err);
	if (reload)
		imsg_send(pa->engine_fd, json_pack("{s:s, s:s}", "msg", "reload-failed",
						   "error", err));
	return -1;
}

/* A reload (SIGHUP, coopnetctl reload) as the service manager sees it (Type=notify):
 * RELOADING=1 now, READY=1 once the engine applied the policy, or at once when it was refused
 * here (the running policy stays; `systemctl reload` returns either way, the log says why). */
static void reload(struct parent *pa)
{
	svc_notify_reloading();
	pa->reloading = true;
	if (send_policy(pa, true) < 0) {
		pa->reloading = false;
		svc_notify_ready();
	}
}

/* --- the engine's messages (authd/parent_msg.c checks them) ------------------------------- */

static void on_reload(void *ctx)
{
	reload(ctx);
}

static void on_policy_applied(void *ctx, bool ok, int revoked, const char *error)
{
	struct parent *pa = ctx;

	if (pa->reloading) {
		pa->reloading = false;
		svc_notify_ready();
	}
	if (!ok)
		log_warnx("the engine refused the policy: %s", error[0] ? error : "?");
	else if (revoked)
		log_debug("the engine applied the policy, %d session(s) revoked", revoked);
}

static int on_probe(void *ctx, const struct imsg_probe *p)
{
	return probe_raw_send(&((struct parent *)ctx)->probe, p);
}

static const struct parent_msg_ops engine_ops = {
	.reload = on_reload,
	.applied = on_policy_applied,
	.probe = on_probe,
};

static void engine_input(struct parent *pa)
{
	char err[256];

	if (parent_msg_drain(&pa->pm, err, sizeof(err)) < 0) {
		log_warnx("engine: %s", err);
		pa->quit = true;
		pa->exit_code = 1;
	}
}

static void signal_input(struct parent *pa)
{
	struct signalfd_siginfo si;
	int status = 0;

	while (read(pa->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading %s", pa->cfg.policy);
			reload(pa);
			break;
		case SIGCHLD:
			if (waitpid(pa->engine_pid, &status, WNOHANG) == pa->engine_pid) {
				if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
					log_warnx("the engine was killed by SIGSYS: a system call "
						  "outside its seccomp filter (start with "
						  "COOPNET_SECCOMP=trap to log its name, or look for "
						  "type=SECCOMP in the audit log; docs/authd.md)");
				else if (WIFSIGNALED(status))
					log_warnx("the engine was killed by signal %d",
						  WTERMSIG(status));
				else
					log_warnx("the engine exited (status %d)",
						  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
				pa->engine_pid = -1;
				pa->quit = true;
				pa->exit_code = 1;
			}
			break;
		default:
			pa->quit = true;
		}
	}
}

/* coopnet-nfq's per-session counters, once per status interval (the engine's, defaults
 * included: 1 s when authd.json sets none): a supervisor's info_client, a provider's load
 * figure in info_vNIC (engine_load.c). */
static void poll_traffic(struct parent *pa, uint64_t *next)
{
	struct status_timing t = { .interval_ms = pa->cfg.status.interval_ms };
	uint64_t now = cn_mono_ms();

	if (!pa->nfq.up || now < *next)
		return;
	status_timing_defaults(&t);
	*next = now + t.interval_ms;
	nfq_link_poll_traffic(&pa->nfq);
}

/* Provider: the link state of the vNICs the policy makes, once a second (link_poll.c). */
static void poll_links(struct parent *pa, uint64_t *next)
{
	uint64_t now = cn_mono_ms();

	if (!(pa->cfg.roles & POLICY_ROLE_PROVIDER) || !pa->pm.have_pol || now < *next)
		return;
	*next = now + 1000;
	link_poll(&pa->lp, &pa->pm.pol, pa->engine_fd);
}

/* coopnet-nfq's counters for the engine's metrics (docs/metrics.md), every two seconds. */
static void poll_stats(struct parent *pa, uint64_t *next)
{
	uint64_t now = cn_mono_ms();

	if (!pa->nfq.up || now < *next)
		return;
	*next = now + NFQ_STATS_INTERVAL_MS;
	nfq_link_poll_stats(&pa->nfq);
}

/* poll's timeout: a second, or less when the link to coopnet-nfq is down and its next try
 * (next_try, CLOCK_MONOTONIC ms) comes sooner. */
static int nfq_retry_wait(const struct parent *pa, uint64_t next_try)
{
	uint64_t now;

	if (!pa->cfg.nfq_socket[0] || pa->nfq.up)
		return 1000;
	now = cn_mono_ms();
	return now >= next_try ? 0 : (int)(next_try - now < 1000 ? next_try - now : 1000);
}

static void parent_loop(struct parent *pa)
{
	uint64_t next_try = 0, next_traffic = 0, next_link = 0, next_stats = 0;

	while (!pa->quit) {
		/* -1 entries are skipped by poll */
		struct pollfd pfd[5] = { { pa->sig_fd, POLLIN, 0 }, { pa->engine_fd, POLLIN, 0 },
					 { pa->nfq.sub_fd, POLLIN, 0 }, { pa->probe.fd[0], POLLIN, 0 },
					 { pa->probe.fd[1], POLLIN, 0 } };
		int n = poll(pfd, 5, nfq_retry_wait(pa, next_try));
		if (n < 0 && errno != EINTR)
			fatal("poll");
		for (int i = 0; n > 0 && i < 2 && !pa->quit; i++)
			if (pa->probe.fd[i] >= 0 && pfd[3 + i].revents)
				probe_raw_input(&pa->probe, i, pa->engine_fd);
		if (n > 0 && pfd[0].revents)
			signal_input(pa);
		if (n > 0 && pfd[1].revents && !pa->quit)
			engine_input(pa);
		if (n > 0 && pa->nfq.sub_fd >= 0 && pfd[2].revents && !pa->quit)
			nfq_link_event(&pa->nfq);
		if (pa->cfg.nfq_socket[0] && !pa->nfq.up && !pa->quit) {
			uint64_t now = cn_mono_ms();

			if (now >= next_try) {
				next_try = now + nfq_link_retry_ms(&pa->nfq, now);
				nfq_link_try_up(&pa->nfq);
			}
		}
		if (!pa->quit)
			poll_traffic(pa, &next_traffic);
		if (!pa->quit)
			poll_links(pa, &next_link);
		if (!pa->quit)
			poll_stats(pa, &next_stats);
	}
}

/* --- startup -------------------------------------------------------------------------------- */

/* The cooperative UDP sockets' receive buffer when authd.json has no "udp_rcvbuf": the
 * kernel's default (net.core.rmem_default, about 208 KiB) holds a few hundred small
 * datagrams, and a burst of 2,000 on-demand Authentications overflowed it on both sides
 * (RcvbufErrors 600-1,300 a run, each drop a retransmission time-out: docs/performance.md). */
#define AUTHD_UDP_RCVBUF (4u << 20)

/* Bound here, as root, before the drop: SO_RCVBUFFORCE passes net.core.rmem_max. */
static int open_udp(const struct cn_coop_addr *a, uint32_t rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t sl = cn_coop_addr_to_sockaddr(a, &ss);
	char buf[CN_COOP_ADDRSTRLEN];
	int fd, one = 1, want;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("socket");
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("bind %s", cn_coop_addr_format(a, buf, sizeof(buf)));
	want = (int)(rcvbuf ? rcvbuf : AUTHD_UDP_RCVBUF);
	if (cn_sock_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, want) < want)
		log_warn("%s: receive buffer smaller than asked for (udp_rcvbuf)",
			 cn_coop_addr_format(a, buf, sizeof(buf)));
	return fd;
}

/* authd.json "metrics": the engine serves HTTP on it (docs/metrics.md); bound here, as root,
 * like the UDP sockets, so that the engine needs neither socket() for TCP listeners nor bind. */
static int open_metrics(const struct metrics_cfg *m)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[CN_COOP_ADDRSTRLEN];
	int fd, one = 1;

	if (!m->enabled)
		return -1;
	sl = cn_coop_addr_to_sockaddr(&m->listen, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("metrics: socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0)
		fatal("metrics: bind/listen %s (authd.json \"metrics\")",
		      cn_coop_addr_format(&m->listen, buf, sizeof(buf)));
	return fd;
}

static void mkdir_for(const char *path, mode_t mode, uid_t uid, gid_t gid, bool chown_it)
{
	char copy[4096];
	char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if (chown_it && chown(dir, uid, gid) < 0)
		fatal("chown %s", dir);
}

static int block_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void check_only(const struct authd_config *cfg)
{
	struct policy p;
	char err[1024];

	if (load_policy(cfg, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	printf("configuration OK: roles%s%s%s, %zu vNIC(s), %zu client(s), %zu group SP(s)\n",
	       cfg->roles & POLICY_ROLE_SUPERVISOR ? " supervisor" : "",
	       cfg->roles & POLICY_ROLE_HEADER ? " header" : "", cfg->roles & POLICY_ROLE_PROVIDER ? " provider" : "",
	       p.n_vnics, p.n_ss_clients + p.n_sp_clients, p.n_group);
	policy_free(&p);
	exit(0);
}

int main(int argc, char **argv)
{
	static const struct cli_daemon_spec spec = {
		.prog = "coopnet-authd",
		.default_config = AUTHD_DEFAULT_CONFIG,
		.check_help = "check the configuration, the policy and its secret files, exit",
		.foreground_help = "stay in the foreground and log to stderr",
	};
	static struct parent pa;
	struct cli_daemon_opts o;
	struct engine_init init;
	struct jconf_error jerr;
	char err[1024], uname[33];
	int sp[2];
	uid_t uid;
	gid_t gid;

	cli_daemon_parse(&o, &spec, argc, argv);
	log_init("coopnet-authd", LOG_TO_STDERR, o.verbose);
	if (cn_auth_crypto_init() < 0)
		fatalx("libsodium cannot start");
	if (config_load(&pa.cfg, o.config, &jerr) < 0) {
		fprintf(stderr, "%s\n", jconf_error_str(&jerr, err, sizeof(err)));
		return 1;
	}
	if (o.check)
		check_only(&pa.cfg);
	if (privsep_lookup_user(pa.cfg.user, &uid, &gid, uname, sizeof(uname)) < 0)
		return 1;

	init = (struct engine_init){ .cfg = &pa.cfg, .user = uname, .foreground = o.foreground };
	for (size_t i = 0; i < pa.cfg.n_listen; i++) {
		init.udp_addr[i] = pa.cfg.listen[i];
		init.udp_fd[i] = open_udp(&pa.cfg.listen[i], pa.cfg.udp_rcvbuf);
	}
	init.n_udp = pa.cfg.n_listen;
	init.metrics_fd = open_metrics(&pa.cfg.metrics);
	pa.probe.fd[0] = pa.probe.fd[1] = -1;
	mkdir_for(pa.cfg.control_socket, 0755, 0, 0, false);
	init.ctl_fd = ctl_listen(pa.cfg.control_socket, 0600);
	if (init.ctl_fd < 0)
		fatal("control socket %s", pa.cfg.control_socket);
	if (privsep_state_dir(pa.cfg.database, uid, gid) < 0)
		return 1;
	if (!o.foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("coopnet-authd", LOG_TO_SYSLOG, o.verbose);
	}
	pa.sig_fd = block_signals();
	if (pa.sig_fd < 0)
		fatal("signals");
	if (imsg_pair(sp) < 0)
		fatal("socketpair");
	pa.engine_pid = fork();
	if (pa.engine_pid < 0)
		fatal("fork");
	if (pa.engine_pid == 0) {
		close(sp[0]);
		close(pa.sig_fd);
		init.parent_fd = sp[1];
		engine_main(&init);
	}
	close(sp[1]);
	close(init.ctl_fd);
	for (size_t i = 0; i < init.n_udp; i++)
		close(init.udp_fd[i]);
	if (init.metrics_fd >= 0)
		close(init.metrics_fd);
	pa.engine_fd = sp[0];
	/* after the fork: the engine never holds a raw socket (docs/probe.md) */
	if ((pa.cfg.roles & POLICY_ROLE_PROVIDER) && pa.cfg.n_listen > 0)
		probe_raw_open(&pa.probe, pa.cfg.listen[0].port); /* the first cooperative port */
	/* every role keeps a standing subscription: its end is how a restart of coopnet-nfq is
	 * noticed at once (then status says down, and the re-sync follows within a second) */
	nfq_link_init(&pa.nfq, pa.cfg.nfq_socket, true, pa.engine_fd);
	parent_msg_init(&pa.pm, pa.engine_fd, &pa.nfq, &pa.vs, &engine_ops, &pa);
	pa.pm.sn = &pa.sn;
	log_info("started: engine pid %d as %s", (int)pa.engine_pid, uname);
	if (send_policy(&pa, false) < 0)
		pa.quit = true, pa.exit_code = 1;
	else
		svc_notify_ready();
	parent_loop(&pa);
	link_poll_free(&pa.lp);
	svc_notify_stopping();
	if (pa.engine_pid > 0) {
		kill(pa.engine_pid, SIGTERM);
		waitpid(pa.engine_pid, NULL, 0);
	}
	probe_raw_close(&pa.probe);
	unlink(pa.cfg.control_socket);
	log_info("exiting");
	return pa.exit_code;
}
