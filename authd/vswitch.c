/* SPDX-License-Identifier: MIT */
/* The virtual switch: ID steering to the vNICs in nftables (vswitch.h). */
#include "vswitch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "vhost.h"

#define NFT_TIMEOUT_MS 10000

void vswitch_free(struct vswitch *vs)
{
	if (!vs)
		return;
	free(vs->vnics);
	free(vs->svcs);
	free(vs->sess);
	vs->vnics = NULL;
	vs->svcs = NULL;
	vs->sess = NULL;
	vs->n_vnics = vs->n_svcs = vs->n_sess = vs->cap = 0;
}

static void from_coop(struct vswitch_addr *out, const struct cn_coop_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family == CN_FAM_INET ? AF_INET : AF_INET6;
	memcpy(out->addr, a->addr, out->family == AF_INET ? 4 : 16);
}

static void from_vnic(struct vswitch_addr *out, const struct vnic_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->family = a->family;
	memcpy(out->addr, a->addr, a->family == AF_INET ? 4 : 16);
}

static bool addr_eq(const struct vswitch_addr *a, const struct vswitch_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

static void add_addr(struct vswitch_addr *v, size_t *n, const struct vswitch_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (addr_eq(&v[i], a))
			return;
	v[(*n)++] = *a;
}

static void add_svc(struct vswitch_svc *v, size_t *n, const struct vswitch_addr *a, uint16_t port)
{
	for (size_t i = 0; i < *n; i++)
		if (addr_eq(&v[i].a, a) && v[i].port == port)
			return;
	v[*n].a = *a;
	v[(*n)++].port = port;
}

int vswitch_set_policy(struct vswitch *vs, const struct policy *p)
{
	size_t nv = 0, ns = 0, maxv = 0, maxs = 0;
	struct vswitch_addr *vn = NULL;
	struct vswitch_svc *sv = NULL;

	vs->enabled = p->provider && p->n_relay > 0;
	vs->mark = p->queue_mark;
	vs->n_relay = 0;
	for (size_t i = 0; vs->enabled && i < p->n_relay; i++)
		from_coop(&vs->relay[vs->n_relay++], &p->relay[i]);
	for (size_t i = 0; vs->enabled && i < p->n_vnics; i++) {
		maxv += 1 + p->vnics[i].n_addrs;
		maxs += (1 + p->vnics[i].n_addrs + p->n_relay) * p->vnics[i].n_services;
	}
	vn = calloc(maxv + 1, sizeof(*vn));
	sv = calloc(maxs + 1, sizeof(*sv));
	if (!vn || !sv) {
		free(vn);
		free(sv);
		return -1;
	}
	for (size_t i = 0; vs->enabled && i < p->n_vnics; i++) {
		const struct pol_vnic *v = &p->vnics[i];
		struct vswitch_addr a[VNIC_MAX_ADDRS + 1];
		size_t na = 0;
		from_coop(&a[na++], &v->addr);
		for (size_t k = 0; k < v->n_addrs; k++)
			from_vnic(&a[na++], &v->addrs[k]);
		for (size_t k = 0; k < na; k++)
			add_addr(vn, &nv, &a[k]);
		for (size_t s = 0; s < v->n_services; s++) {
			for (size_t k = 0; k < na; k++)
				add_svc(sv, &ns, &a[k], v->services[s].port);
			for (size_t r = 0; r < vs->n_relay; r++)
				add_svc(sv, &ns, &vs->relay[r], v->services[s].port);
		}
	}
	free(vs->vnics);
	free(vs->svcs);
	vs->vnics = vn;
	vs->n_vnics = nv;
	vs->svcs = sv;
	vs->n_svcs = ns;
	return 0;
}

/* --- sessions ------------------------------------------------------------------------------ */

static bool same_key(const struct cn_session *a, const struct cn_session *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && !memcmp(a->client, b->client, len) &&
	       !memcmp(a->service, b->service, len);
}

static int sess_put(struct vswitch *vs, const struct cn_session *s)
{
	for (size_t i = 0; i < vs->n_sess; i++) {
		if (same_key(&vs->sess[i], s)) {
			vs->sess[i] = *s;
			return 0;
		}
	}
	if (vs->n_sess == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 16;
		struct cn_session *n = realloc(vs->sess, cap * sizeof(*n));
		if (!n)
			return -1;
		vs->sess = n;
		vs->cap = cap;
	}
	vs->sess[vs->n_sess++] = *s;
	return 0;
}

static int sess_del(struct vswitch *vs, const struct cn_session *key)
{
	for (size_t i = 0; i < vs->n_sess; i++) {
		if (same_key(&vs->sess[i], key)) {
			vs->sess[i] = vs->sess[--vs->n_sess];
			return 1;
		}
	}
	return 0;
}

/* {client, service, port}: the key of a session-del */
static int parse_key(struct cn_session *k, const json_t *o)
{
	const char *c = json_string_value(json_object_get(o, "client"));
	const char *s = json_string_value(json_object_get(o, "service"));
	json_int_t port = json_integer_value(json_object_get(o, "port"));

	memset(k, 0, sizeof(*k));
	if (!c || !s || port < 1 || port > 65535)
		return -1;
	k->family = strchr(c, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(k->family, c, k->client) != 1 || inet_pton(k->family, s, k->service) != 1)
		return -1;
	k->port = (uint16_t)port;
	return 0;
}

int vswitch_session_req(struct vswitch *vs, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *arr = json_object_get(req, "sessions"), *v;
	struct cn_session s;
	char err[256];
	int changed = 0;
	size_t i;

	if (!cmd || !json_is_array(arr))
		return -1;
	if (!strcmp(cmd, "session-sync"))
		vs->n_sess = 0, changed = 1;
	json_array_foreach(arr, i, v) {
		if (!strcmp(cmd, "session-del")) {
			if (parse_key(&s, v) < 0)
				return -1;
			changed |= sess_del(vs, &s);
			continue;
		}
		if (strcmp(cmd, "session-add") && strcmp(cmd, "session-sync"))
			return -1;
		if (cn_session_from_json(&s, v, err, sizeof(err)) < 0) {
			log_warnx("virtual switch: a session from the engine: %s", err);
			return -1;
		}
		if (sess_put(vs, &s) < 0)
			return -1;
		changed = 1;
	}
	return changed;
}

/* --- rendering ------------------------------------------------------------------------------ */

struct out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

static const char *fmt_addr(const struct vswitch_addr *a, char *buf, size_t size)
{
	return inet_ntop(a->family, a->addr, buf, (socklen_t)size);
}

static bool on_vnic_side(const struct vswitch *vs, const struct cn_session *s)
{
	struct vswitch_addr a = { .family = s->family };

	memcpy(a.addr, s->service, s->family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < vs->n_vnics; i++)
		if (addr_eq(&vs->vnics[i], &a))
			return true;
	return false;
}

/* "set NAME4 { type ipv4_addr; elements = { ... }; }" with the addresses of that family. */
static void render_addr_set(struct out *o, const char *name, int family,
			    const struct vswitch_addr *addrs, size_t n)
{
	const char *v = family == AF_INET ? "4" : "6";
	const char *type = family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	const char *sep = "elements = { ";
	char a[INET6_ADDRSTRLEN];

	put(o, "\tset %s%s { type %s; ", name, v, type);
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family == family)
			put(o, "%s%s", sep, fmt_addr(&addrs[i], a, sizeof(a))), sep = ", ";
	put(o, "%s}\n", strcmp(sep, ", ") ? "" : " }; ");
}

static void render_family(const struct vswitch *vs, struct out *o, int family)
{
	const char *v = family == AF_INET ? "4" : "6", *ip = family == AF_INET ? "ip" : "ip6";
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *sep;

	render_addr_set(o, "relay", family, vs->relay, vs->n_relay);
	render_addr_set(o, "vnic", family, vs->vnics, vs->n_vnics);
	put(o, "\tset svc%s { typeof %s daddr . tcp dport; ", v, ip);
	sep = "elements = { ";
	for (size_t i = 0; i < vs->n_svcs; i++)
		if (vs->svcs[i].a.family == family)
			put(o, "%s%s . %u", sep, fmt_addr(&vs->svcs[i].a, a, sizeof(a)),
			    vs->svcs[i].port), sep = ", ";
	put(o, "%s}\n", strcmp(sep, ", ") ? "" : " }; ");
	/* client . ID -> vNIC address; IDs are unique per SP, so a client's IDs never clash */
	put(o, "\tmap steer%s { typeof %s saddr . tcp urgptr : %s daddr; ", v, ip, ip);
	sep = "elements = { ";
	for (size_t i = 0; i < vs->n_sess; i++) {
		const struct cn_session *s = &vs->sess[i];
		if (s->family != family || !on_vnic_side(vs, s))
			continue;
		inet_ntop(family, s->client, a, sizeof(a));
		inet_ntop(family, s->service, b, sizeof(b));
		put(o, "%s%s . %u : %s", sep, a, (unsigned)s->id, b);
		sep = ", ";
	}
	put(o, "%s}\n", strcmp(sep, ", ") ? "" : " }; ");
}

int vswitch_render(const struct vswitch *vs, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };

	put(&o, "table inet %s {}\ndelete table inet %s\n", VSWITCH_TABLE, VSWITCH_TABLE);
	if (!vs->enabled)
		goto done;
	put(&o, "table inet %s {\n", VSWITCH_TABLE);
	render_family(vs, &o, AF_INET);
	render_family(vs, &o, AF_INET6);
	if (vs->mark) {
		/* before coopnet-nfq's queue rule and before NAT: relay and vNIC services alike */
		put(&o, "\tchain mark_in {\n\t\ttype filter hook prerouting priority -200; policy accept;\n"
			"\t\tip daddr . tcp dport @svc4 meta mark set meta mark | 0x%x\n"
			"\t\tip6 daddr . tcp dport @svc6 meta mark set meta mark | 0x%x\n\t}\n",
		    vs->mark, vs->mark);
		put(&o, "\tchain mark_out {\n\t\ttype filter hook output priority -200; policy accept;\n"
			"\t\tip saddr . tcp sport @svc4 meta mark set meta mark | 0x%x\n"
			"\t\tip6 saddr . tcp sport @svc6 meta mark set meta mark | 0x%x\n\t}\n",
		    vs->mark, vs->mark);
	}
	/* the switch: only the first segment of a connection reaches a nat chain */
	put(&o, "\tchain steer {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tip daddr @relay4 tcp flags & urg == 0 dnat ip to ip saddr . tcp urgptr map @steer4\n"
		"\t\tip6 daddr @relay6 tcp flags & urg == 0 dnat ip6 to ip6 saddr . tcp urgptr map @steer6\n"
		"\t}\n");
	/* reachable only through the switch; the host itself (lo) may still use them */
	put(&o, "\tchain guard {\n\t\ttype filter hook input priority -150; policy accept;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\tip daddr @relay4 ip daddr . tcp dport @svc4 ct status & dnat == 0 counter drop comment \"no session steers it\"\n"
		"\t\tip6 daddr @relay6 ip6 daddr . tcp dport @svc6 ct status & dnat == 0 counter drop comment \"no session steers it\"\n"
		"\t\tip daddr @vnic4 ct status & dnat == 0 counter drop comment \"vNIC not through the switch\"\n"
		"\t\tip6 daddr @vnic6 ct status & dnat == 0 counter drop comment \"vNIC not through the switch\"\n"
		"\t}\n}\n");
done:
	if (o.overflow)
		return -1;
	return (int)o.len;
}

/* --- loading ------------------------------------------------------------------------------- */

int vswitch_apply(struct vswitch *vs, char *err, size_t size)
{
	char path[] = "/run/coopnet-vswitch.XXXXXX", out[2048];
	size_t cap = 65536 + 160 * (vs->n_sess + vs->n_svcs + vs->n_vnics);
	char *buf = malloc(cap);
	int fd, len, st;

	if (!buf) {
		snprintf(err, size, "virtual switch: out of memory");
		return -1;
	}
	len = vswitch_render(vs, buf, cap);
	if (len < 0) {
		free(buf);
		snprintf(err, size, "virtual switch: rule set larger than %zu bytes", cap);
		return -1;
	}
	fd = mkstemp(path);
	if (fd < 0 || write(fd, buf, (size_t)len) != len) {
		snprintf(err, size, "virtual switch: %s: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		free(buf);
		vs->failed++;
		return -1;
	}
	close(fd);
	free(buf);
	{
		char *argv[] = { vs->nft[0] ? vs->nft : (char *)"/usr/sbin/nft", (char *)"-f", path, NULL };
		st = vhost_run(argv, out, sizeof(out), NFT_TIMEOUT_MS);
	}
	unlink(path);
	if (st != 0) {
		vs->failed++;
		snprintf(err, size, "virtual switch: nft -f refused the table (the previous one "
			 "stays): %s", out[0] ? out : "(no output)");
		return -1;
	}
	vs->applied++;
	return 0;
}
