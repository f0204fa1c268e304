/* SPDX-License-Identifier: MIT */
/*
 * The engine's confinement (docs/authd.md, "Privilege separation"): after the parent made the
 * state directory the engine's (privsep_state_dir), the engine
 *   1. initialises what needs files outside it: the time zone, libsodium's and sqlite's
 *      random sources (both read /dev/urandom or getrandom(2)), and syslog's socket (opened
 *      by log_init with LOG_NDELAY);
 *   2. chroots into the state directory (the database, its -wal and -shm, nothing else);
 *   3. drops to its user (privsep_drop: no capabilities, no_new_privs);
 *   4. opens the database, then its sockets are set up by engine.c;
 *   5. installs a seccomp filter (libseccomp) allowing only the system calls its loop makes.
 * A call outside the filter kills the engine (SCMP_ACT_KILL_PROCESS); the parent logs that
 * the engine died of SIGSYS. To find the call: COOPNET_SECCOMP=trap in the environment makes
 * it SCMP_ACT_TRAP instead, and the engine writes the call's name to stderr/syslog before it
 * exits (or look for type=SECCOMP in the audit log / dmesg, syscall=N).
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "rndpool.h"

int sandbox_prepare(void)
{
	unsigned char seed[16];

	umask(077); /* the database files the engine creates: its own only */
	tzset();
	/* nonces and IDs from a pool, one getrandom(2) per 4 KiB (lib/rndpool.h) */
	if (rndpool_install() < 0) {
		log_warnx("random pool: cannot register its fork handler");
		return -1;
	}
	randombytes_stir();
	if (sqlite3_initialize() != SQLITE_OK) {
		log_warnx("sqlite cannot start");
		return -1;
	}
	sqlite3_randomness(sizeof(seed), seed); /* seeds sqlite's generator now */
	return 0;
}

int sandbox_chroot(const char *dir)
{
	if (geteuid() != 0) {
		log_debug("not root: the engine runs without chroot");
		return 0;
	}
	if (chdir(dir) < 0 || chroot(dir) < 0 || chdir("/") < 0) {
		log_warn("chroot %s", dir);
		return -1;
	}
	return 0;
}

/* What the engine's loop calls, and sqlite and libsodium under it. */
static const char *const allowed[] = {
	/* memory, time, identity */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex", "getrandom",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getpid",
	"gettid", "getuid", "geteuid", "getgid", "getegid", "restart_syscall", "rt_sigreturn",
	"rt_sigprocmask", "exit", "exit_group",
	/* glibc's qsort asks the physical memory size (sysconf(_SC_PHYS_PAGES)) before it sorts
	 * a large array: an SS with some 70 sessions was killed here (bench/first_page.sh) */
	"sysinfo",
	/* descriptors, the loop */
	"read", "write", "readv", "writev", "close", "fcntl", "epoll_wait", "epoll_pwait",
	"epoll_ctl", "poll", "ppoll",
	/* the database in the state directory (sqlite: WAL, -shm mapped, locks by fcntl) */
	"openat", "pread64", "pwrite64", "lseek", "fstat", "newfstatat", "statx", "fsync",
	"fdatasync", "ftruncate", "fallocate", "unlink", "unlinkat", "access", "faccessat",
	"faccessat2", "getcwd", "readlink",
	/* UDP, the control connections, the parent, rtnetlink (coopnetctl vnics) */
	"recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg", "accept4",
	"getsockopt", "getsockname", "getpeername", "bind", "shutdown",
};

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[160], *name;
	int n;

	(void)sig, (void)uc;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	n = snprintf(msg, sizeof(msg), "coopnet-authd engine: system call %d (%s) outside the "
		     "seccomp filter (authd/sandbox.c): exiting\n", si->si_syscall,
		     name ? name : "?");
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n);
	syslog(LOG_ERR, "%s", msg);
	_exit(70);
}

static int add_rules(scmp_filter_ctx ctx, bool unix_connect)
{
	/* designated initialisers: the SCMP_A* macros leave datum_b out */
	const struct scmp_arg_cmp netlink[2] = {
		{ .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_NETLINK, .datum_b = 0 },
		{ .arg = 2, .op = SCMP_CMP_EQ, .datum_a = NETLINK_ROUTE, .datum_b = 0 },
	};
	const struct scmp_arg_cmp unix_[1] = {
		{ .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX, .datum_b = 0 },
	};
	const struct scmp_arg_cmp inet[1] = {
		{ .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_INET, .datum_b = 0 },
	};
	const struct scmp_arg_cmp inet6[1] = {
		{ .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_INET6, .datum_b = 0 },
	};
	const struct scmp_arg_cmp level_tcp[1] = {
		{ .arg = 1, .op = SCMP_CMP_EQ, .datum_a = IPPROTO_TCP, .datum_b = 0 },
	};
	const struct scmp_arg_cmp level_socket[1] = {
		{ .arg = 1, .op = SCMP_CMP_EQ, .datum_a = SOL_SOCKET, .datum_b = 0 },
	};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return -1;
	}
	/* TCP and UDP sockets and connect: an SP's health checks of its vNIC services
	 * (authd/engine_health.c: a TCP connect and an HTTP GET on the vNIC address) */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, inet) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, inet6) < 0)
		return -1;
	/* setsockopt at the TCP and socket levels only: libmicrohttpd on the metrics endpoint's
	 * connections (TCP_NODELAY, TCP_CORK, SO_LINGER; authd/engine_metrics.c) */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1, level_tcp) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1, level_socket) < 0)
		return -1;
	if (unix_connect) /* coopnet-relay's key socket (relaylink.c) */
		return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, netlink) < 0 ||
		       seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, unix_) < 0 ||
		       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0) < 0 ? -1 : 0;
	/* rtnetlink (read_links in engine_ctl.c); glibc's syslog, reconnecting to /dev/log
	 * after a failed send, gets EACCES instead of dying (no /dev/log in the chroot anyway) */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, netlink) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, unix_) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0) < 0)
		return -1;
	return 0;
}

int sandbox_seccomp(bool unix_connect)
{
	const char *mode = getenv("COOPNET_SECCOMP");
	bool trap = mode && !strcmp(mode, "trap");
	scmp_filter_ctx ctx;
	int r;

#if defined(__SANITIZE_ADDRESS__)
	log_warnx("built with AddressSanitizer: the engine runs without its seccomp filter");
	return 0;
#endif
	if (trap) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			return -1;
	}
	ctx = seccomp_init(trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		log_warnx("seccomp: cannot start a filter");
		return -1;
	}
	r = add_rules(ctx, unix_connect);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		log_warnx("seccomp: the filter did not load: %s", strerror(-r));
		return -1;
	}
	log_debug("engine: seccomp filter on (%zu system calls%s)",
		  sizeof(allowed) / sizeof(allowed[0]) + 2, trap ? ", trap mode" : "");
	return 0;
}
