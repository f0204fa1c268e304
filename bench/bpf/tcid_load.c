// SPDX-License-Identifier: MIT
/*
 * Loads bench/bpf/tcid.bpf.o on one interface for bench/cpupaths.sh's "tc-bpf" path (a
 * measurement of a design, not a mode to deploy), with one client's session per port, then
 * renews the programs' deadline (`alive`: 3 s ahead, every second); on SIGTERM or SIGINT it
 * prints the sessions' counters and exits (the programs stay attached until the namespace
 * goes, and drop the services' segments once the deadline passed).
 *
 *   tcid-load OBJECT IFNAME ss|sp CLIENT SERVICE ID PORT...
 *
 * ss: ss_egress (write) and ss_ingress (check) on IFNAME, the SS's interface towards the SP;
 * sp: sp_ingress (check) and sp_egress (write) on IFNAME, the SP's interface towards the SS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct flow {
	uint32_t client, service;
	uint16_t port, id;
};

struct ident {
	uint64_t packets, bytes;
	uint16_t id;
	uint16_t pad[3];
};

struct count {
	uint64_t packets, bytes;
};

struct service {
	uint32_t addr;
	uint16_t port;
	uint16_t pad;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: tcid-load OBJECT IFNAME ss|sp CLIENT SERVICE ID PORT...\n");
	return 2;
}

static int parse_addr(const char *what, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "tcid-load: %s '%s' is not an IPv4 address\n", what, s);
		return -1;
	}
	*out = a.s_addr;
	return 0;
}

static int parse_u16(const char *what, const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v < 1 || v > 65535) {
		fprintf(stderr, "tcid-load: %s '%s' is not 1 to 65535\n", what, s);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int attach(int ifindex, enum bpf_tc_attach_point where, struct bpf_program *prog)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog ? bpf_program__fd(prog) : -1);
	int err;

	if (!prog) {
		fprintf(stderr, "tcid-load: the object lacks a program\n");
		return -1;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fprintf(stderr, "tcid-load: clsact on ifindex %d: %s\n", ifindex, strerror(-err));
		return -1;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "tcid-load: attach %s: %s\n", bpf_program__name(prog), strerror(-err));
		return -1;
	}
	return 0;
}

static int add_sessions(struct bpf_object *obj, uint32_t client, uint32_t service, uint16_t id,
			const uint16_t *ports, int nports)
{
	int ids = bpf_object__find_map_fd_by_name(obj, "ids");
	int ok = bpf_object__find_map_fd_by_name(obj, "ok");
	int svc = bpf_object__find_map_fd_by_name(obj, "svc");
	uint8_t one = 1;

	if (ids < 0 || ok < 0 || svc < 0) {
		fprintf(stderr, "tcid-load: the object lacks the maps ids, ok and svc\n");
		return -1;
	}
	for (int i = 0; i < nports; i++) {
		struct flow k = { .client = client, .service = service, .port = htons(ports[i]) };
		struct ident v = { .id = htons(id) };
		struct count c = { 0 };
		struct service s = { .addr = service, .port = htons(ports[i]) };

		if (bpf_map_update_elem(ids, &k, &v, BPF_ANY) || bpf_map_update_elem(svc, &s, &one, BPF_ANY))
			return -1;
		k.id = htons(id);
		if (bpf_map_update_elem(ok, &k, &c, BPF_ANY))
			return -1;
	}
	return 0;
}

/* the programs pass sessions until 3 s from now (CLOCK_MONOTONIC, as bpf_ktime_get_ns) */
static int renew(struct bpf_object *obj)
{
	int alive = bpf_object__find_map_fd_by_name(obj, "alive");
	struct timespec ts;
	uint32_t zero = 0;
	uint64_t deadline;

	if (alive < 0 || clock_gettime(CLOCK_MONOTONIC, &ts))
		return -1;
	deadline = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 3000000000u;
	return bpf_map_update_elem(alive, &zero, &deadline, BPF_ANY);
}

/* the packets and bytes each session's write and check counted */
static void print_counts(struct bpf_object *obj, uint32_t client, uint32_t service, uint16_t id,
			 const uint16_t *ports, int nports)
{
	int ids = bpf_object__find_map_fd_by_name(obj, "ids");
	int ok = bpf_object__find_map_fd_by_name(obj, "ok");

	for (int i = 0; i < nports; i++) {
		struct flow k = { .client = client, .service = service, .port = htons(ports[i]) };
		struct ident v = { 0 };
		struct count c = { 0 };

		if (bpf_map_lookup_elem(ids, &k, &v))
			memset(&v, 0, sizeof(v));
		k.id = htons(id);
		if (bpf_map_lookup_elem(ok, &k, &c))
			memset(&c, 0, sizeof(c));
		printf("port %u written %" PRIu64 " packets %" PRIu64 " bytes, checked %" PRIu64
		       " packets %" PRIu64 " bytes\n",
		       ports[i], v.packets, v.bytes, c.packets, c.bytes);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint16_t ports[8], id;
	uint32_t client, service;
	struct bpf_object *obj;
	int nports, ifindex, ss;

	if (argc < 8 || argc - 7 > (int)(sizeof(ports) / sizeof(ports[0])))
		return usage();
	ss = strcmp(argv[3], "ss") == 0;
	if (!ss && strcmp(argv[3], "sp") != 0)
		return usage();
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "tcid-load: no interface '%s'\n", argv[2]);
		return 1;
	}
	if (parse_addr("client", argv[4], &client) || parse_addr("service", argv[5], &service) ||
	    parse_u16("ID", argv[6], &id))
		return 1;
	nports = argc - 7;
	for (int i = 0; i < nports; i++)
		if (parse_u16("port", argv[7 + i], &ports[i]))
			return 1;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "tcid-load: cannot open %s\n", argv[1]);
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "tcid-load: cannot load %s (the verifier's log is above)\n", argv[1]);
		return 1;
	}
	if (add_sessions(obj, client, service, id, ports, nports) || renew(obj)) {
		fprintf(stderr, "tcid-load: cannot add the sessions: %s\n", strerror(errno));
		return 1;
	}
	if (attach(ifindex, BPF_TC_INGRESS, bpf_object__find_program_by_name(obj, ss ? "ss_ingress" : "sp_ingress")) ||
	    attach(ifindex, BPF_TC_EGRESS, bpf_object__find_program_by_name(obj, ss ? "ss_egress" : "sp_egress")))
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("attached\n");
	fflush(stdout);
	while (!stop) {
		sleep(1); /* a signal ends it early */
		if (!stop && renew(obj)) {
			fprintf(stderr, "tcid-load: cannot renew the deadline: %s\n", strerror(errno));
			return 1;
		}
	}
	print_counts(obj, client, service, id, ports, nports);
	bpf_object__close(obj);
	return 0;
}
