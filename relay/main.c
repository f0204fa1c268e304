/* SPDX-License-Identifier: MIT */
/*
 * coopnet-relay (docs/relay.md): the main thread accepts the relayed connections and the
 * key messages of coopnet-authd's engine; one thread per connection does the TLS (tls.c).
 *
 *   coopnet-relay --role ss|sp --listen ADDR:PORT --keys SOCKET [--mark N] [--user NAME] [-v]
 *   coopnet-relay --keys SOCKET --stats
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "log.h"

struct opts {
	enum relay_role role;
	bool have_role;
	const char *listen;
	const char *keys;
	const char *user;
	uint32_t mark;
	bool stats;
	bool verbose;
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

#define USAGE                                                                                   \
	"usage: coopnet-relay --role ss|sp --listen ADDR:PORT --keys SOCKET [--mark N] "        \
	"[--user NAME] [-v]\n"                                                                  \
	"       coopnet-relay --keys SOCKET --stats\n"                                           \
	"       coopnet-relay --version | --help\n"

static void usage(void)
{
	fputs(USAGE, stderr);
	exit(2);
}

/* --help: the usage and what each option does, on stdout (see coopnet-relay(8)) */
static void help(void)
{
	fputs(USAGE "  --role ss|sp       the SS's relay (TLS client) or the SP's (TLS server)\n"
	      "  --listen ADDR:PORT where nft tproxy delivers the relayed connections\n"
	      "                     (198.18.1.1:7450 or [2001:db8::1]:7450)\n"
	      "  --keys SOCKET      the key socket coopnet-authd's engine connects to\n"
	      "  --mark N           SO_MARK of the SP's onward connections (0x800000 in relay-sp.nft)\n"
	      "  --user NAME        run as NAME (the engine's user) with CAP_NET_ADMIN only\n"
	      "  --stats            ask a running relay on SOCKET for its counters, print them\n"
	      "  -v, --verbose      debug logging\n"
	      "  --version          print the version and exit\n"
	      "  -h, --help         this text\n"
	      "See coopnet-relay(8).\n",
	      stdout);
	exit(0);
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "role", required_argument, NULL, 'r' }, { "listen", required_argument, NULL, 'l' },
		{ "keys", required_argument, NULL, 'k' }, { "mark", required_argument, NULL, 'm' },
		{ "user", required_argument, NULL, 'u' }, { "stats", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int ch;
	char *end;

	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (strcmp(optarg, "ss") && strcmp(optarg, "sp")) {
				fprintf(stderr, "coopnet-relay: --role \"%s\": ss or sp\n", optarg);
				return -1;
			}
			o->role = strcmp(optarg, "ss") ? RELAY_SP : RELAY_SS;
			o->have_role = true;
			break;
		case 'l': o->listen = optarg; break;
		case 'k': o->keys = optarg; break;
		case 'u': o->user = optarg; break;
		case 's': o->stats = true; break;
		case 'v': o->verbose = true; break;
		case 'h': help(); break;
		case 'V': cli_print_version("coopnet-relay"); exit(0);
		case 'm':
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 0);
			if (errno || *end || !*optarg || v > 0xffffffffUL) {
				fprintf(stderr, "coopnet-relay: --mark \"%s\": a 32-bit number\n", optarg);
				return -1;
			}
			o->mark = (uint32_t)v;
			break;
		default: usage();
		}
	}
	if (!o->keys || (!o->stats && (!o->have_role || !o->listen)))
		usage();
	if (o->keys && strlen(o->keys) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "coopnet-relay: --keys \"%s\": path too long\n", o->keys);
		return -1;
	}
	return 0;
}

/* "198.18.1.1:9443" or "[2001:db8::1]:9443" */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || !port || port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
			ss->ss_family = AF_INET6;
			((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
			*len = sizeof(struct sockaddr_in6);
			return 0;
		}
	}
	return -1;
}

static int open_listener(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	if (parse_listen(spec, &ss, &len) < 0) {
		log_warnx("--listen \"%s\": ADDRESS:PORT or [IPv6]:PORT", spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* tproxy delivers connections for other addresses: IP_TRANSPARENT (CAP_NET_ADMIN) */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, ss.ss_family == AF_INET ? SOL_IP : SOL_IPV6,
		       ss.ss_family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one,
		       sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		log_warn("--listen %s", spec);
		close(fd);
		return -1;
	}
	return fd;
}

static int open_keys(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	mode_t old;

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		log_warn("--keys %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if ((uid && chown(path, uid, gid) < 0) || listen(fd, 4) < 0) {
		log_warn("--keys %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep CAP_NET_ADMIN only (IP_TRANSPARENT on the SS's onward sockets, SO_MARK on the SP's). */
static int drop_to(uid_t uid, gid_t gid, const char *name)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(1, &gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || setuid(0) == 0) {
		log_warn("cannot drop to user %s with CAP_NET_ADMIN only", name);
		return -1;
	}
	return 0;
}

/* The engine (or --stats) connected: only root and our own user may talk to us. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	       (cred.uid == 0 || cred.uid == geteuid());
}

static void key_message(struct relay *r, int fd, bool *closed)
{
	uint8_t buf[CN_CONF_MSG_LEN + 1];
	struct cn_conf_msg m;
	const char *why;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		*closed = true;
		return;
	}
	if (cn_conf_decode(&m, buf, (size_t)n, &why) < 0) {
		relay_count(r, CN_CONF_C_BAD_MSG);
		log_warnx("key socket: message of %zd bytes refused: %s", n, why);
		return;
	}
	if (m.type == CN_CONF_STATS) {
		struct cn_conf_stats st;
		uint8_t out[CN_CONF_STATS_LEN];
		relay_stats(r, &st);
		cn_conf_stats_encode(&st, out);
		if (send(fd, out, sizeof(out), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			*closed = true;
		return;
	}
	relay_apply(r, &m, (int64_t)time(NULL));
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(buf, sizeof(buf));
}

static void serve(struct relay *r, int lfd, int kfd)
{
	struct pollfd p[2 + RELAY_MAX_KEY_CLIENTS];
	size_t n_cl = 0;

	p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = kfd, .events = POLLIN };
	while (!quit) {
		if (poll(p, 2 + n_cl, 1000) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (p[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				relay_spawn(r, fd);
		}
		if (p[1].revents) {
			int fd = accept4(kfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && (n_cl == RELAY_MAX_KEY_CLIENTS || !peer_allowed(fd))) {
				log_warnx("key socket: connection refused (not root or our user, "
					  "or %d open)", RELAY_MAX_KEY_CLIENTS);
				close(fd);
			} else if (fd >= 0) {
				p[2 + n_cl++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			}
		}
		for (size_t i = 0; i < n_cl; i++) {
			bool closed = false;
			if (p[2 + i].revents)
				key_message(r, p[2 + i].fd, &closed);
			if (closed) {
				close(p[2 + i].fd);
				p[2 + i] = p[2 + --n_cl];
				i--;
			}
		}
	}
}

static int print_stats(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cn_conf_msg m = { .type = CN_CONF_STATS };
	struct cn_conf_stats st;
	uint8_t buf[CN_CONF_MSG_LEN];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cn_conf_encode(&m, buf);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0 ||
	    (n = recv(fd, buf, sizeof(buf), 0)) < 0 || cn_conf_stats_decode(&st, buf, (size_t)n) < 0) {
		fprintf(stderr, "coopnet-relay: %s: no answer (%s): is coopnet-relay running?\n",
			path, strerror(errno));
		return 1;
	}
	printf("{");
	for (int i = 0; i < CN_CONF_C_MAX; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", cn_conf_counter_name(i),
		       (unsigned long long)st.c[i]);
	printf("}\n");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .mark = 0 };
	struct relay r = { .role = RELAY_SS };
	struct passwd *pw = NULL;
	int lfd, kfd;

	if (parse_opts(&o, argc, argv) < 0)
		return 2;
	if (o.stats)
		return print_stats(o.keys);
	log_init("coopnet-relay", LOG_TO_STDERR, o.verbose);
	if (sodium_init() < 0)
		fatalx("libsodium cannot start");
	r.role = o.role;
	r.mark = o.mark;
	if (o.user && !(pw = getpwnam(o.user)))
		fatalx("--user %s: no such user (useradd -r -s /usr/sbin/nologin %s)", o.user,
		       o.user);
	if (pw && pw->pw_uid == 0)
		fatalx("--user %s is root: give an unprivileged user", o.user);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (relay_keys_init(&r) < 0 || relay_tls_init(&r) < 0)
		fatalx("cannot set up the key table or OpenSSL");
	lfd = open_listener(o.listen);
	kfd = open_keys(o.keys, pw ? pw->pw_uid : 0, pw ? pw->pw_gid : 0);
	if (lfd < 0 || kfd < 0)
		return 1;
	if (pw && drop_to(pw->pw_uid, pw->pw_gid, o.user) < 0)
		return 1;
	log_info("%s relay on %s, keys on %s%s", r.role == RELAY_SS ? "SS" : "SP", o.listen,
		 o.keys, pw ? ", unprivileged but CAP_NET_ADMIN" : "");
	serve(&r, lfd, kfd);
	close(lfd);
	close(kfd);
	unlink(o.keys);
	pthread_mutex_lock(&r.lock);
	relay_keys_free(&r);
	pthread_mutex_unlock(&r.lock);
	return 0;
}
