/* SPDX-License-Identifier: MIT */
/* The path probe's raw sockets in the parent (probe_raw.h, docs/probe.md). */
#include "probe_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "probe.h"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* At most PROBE_RAW_RATE per second. */
static bool rate_ok(uint64_t *window, unsigned *count)
{
	uint64_t now = mono_ms();

	if (now >= *window + 1000 || now < *window) {
		*window = now;
		*count = 0;
	}
	return ++*count <= PROBE_RAW_RATE;
}

/*
 * Only a TCP SYN without ACK to port passes. IPv4: the raw socket sees the IPv4 header
 * (non-first fragments refused, the TCP header found from IHL); IPv6: the TCP header.
 */
static int attach_filter(int fd, int family, uint16_t port)
{
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 6, 0),   /* fragment offset */
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                /* X = IHL * 4 */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                 /* dport */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),                /* flags */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, CN_PROBE_RAW_MAX),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, CN_PROBE_RAW_MAX),
	};
	struct sock_fprog prog = family == AF_INET ?
		(struct sock_fprog){ .len = sizeof(v4) / sizeof(v4[0]), .filter = v4 } :
		(struct sock_fprog){ .len = sizeof(v6) / sizeof(v6[0]), .filter = v6 };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) < 0)
		return -1;
	return 0;
}

void probe_raw_open(struct probe_raw *r, uint16_t port)
{
	static const int fam[2] = { AF_INET, AF_INET6 };

	for (int i = 0; i < 2; i++) {
		int fd = socket(fam[i], SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

		r->fd[i] = -1;
		if (fd < 0) {
			log_warn("path probe: no raw %s socket (needs CAP_NET_RAW): this SP answers "
				 "every probe \"not seen\"", i ? "IPv6" : "IPv4");
			continue;
		}
		if (attach_filter(fd, fam[i], port) < 0) {
			log_warn("path probe: socket filter");
			close(fd);
			continue;
		}
		r->fd[i] = fd;
	}
}

void probe_raw_close(struct probe_raw *r)
{
	for (int i = 0; i < 2; i++)
		if (r->fd[i] >= 0) {
			close(r->fd[i]);
			r->fd[i] = -1;
		}
}

/* The kernel's source address for dst (a connected raw socket has one). */
static int route_src(int fd, int family, const uint8_t *dst, uint8_t *src)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, dst, 4);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, dst, 16);
		sl = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		return -1;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (family == AF_INET)
		memcpy(src, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(src, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	return 0;
}

int probe_raw_send(struct probe_raw *r, const struct imsg_probe *p)
{
	uint8_t seg[CN_PROBE_TCP_LEN], src[16] = { 0 };
	char to[INET6_ADDRSTRLEN] = "?";
	int fd, rc = -1;

	if (!rate_ok(&r->send_window_ms, &r->sent)) {
		log_warnx("path probe: more than %d probe segments a second asked for: refused",
			  PROBE_RAW_RATE);
		return -1;
	}
	inet_ntop(p->family, p->dst, to, sizeof(to));
	fd = socket(p->family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		log_warn("path probe to %s: raw socket (needs CAP_NET_RAW)", to);
		return -1;
	}
	if (route_src(fd, p->family, p->dst, src) < 0 ||
	    cn_probe_seg_build(seg, sizeof(seg), p->family, src, p->dst, p->sport, p->dport,
			       p->seq, p->urgptr) < 0 ||
	    send(fd, seg, sizeof(seg), 0) != (ssize_t)sizeof(seg))
		log_warn("path probe to %s port %u", to, (unsigned)p->dport);
	else
		rc = 0;
	close(fd);
	return rc;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

void probe_raw_input(struct probe_raw *r, int i, int engine_fd)
{
	uint8_t buf[CN_PROBE_RAW_MAX];
	char text[2 * CN_PROBE_RAW_MAX + 1], from[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;

	for (int k = 0; k < 16; k++) {
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(r->fd[i], buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&ss,
				     &sl);

		if (n < 0)
			return;
		if (!rate_ok(&r->recv_window_ms, &r->received)) {
			r->dropped++;
			continue;
		}
		if ((size_t)n > sizeof(buf))
			n = sizeof(buf); /* the filter cut it: the headers are what counts */
		hex(text, buf, (size_t)n);
		/* the kernel wrote the address; the bytes go to the engine unparsed */
		if (!inet_ntop(ss.ss_family, ss.ss_family == AF_INET ?
			       (void *)&((struct sockaddr_in *)&ss)->sin_addr :
			       (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr, from, sizeof(from)))
			continue;
		imsg_send(engine_fd, json_pack("{s:s, s:i, s:s, s:s}", "msg", "probe-seen",
					       "family", i ? 6 : 4, "from", from, "bytes", text));
	}
}
