// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * A measurement of a design, not a mode to deploy: kernel mode's per-segment step as tc
 * programs instead of nftables chains (bench/cpupaths.sh path "tc-bpf", docs/performance.md
 * "Many short rounds"). What it does per segment is what kernel mode's hot rules do for a
 * live session, and no more:
 *   write (SS towards the SP, SP towards the SS): the session's ID into the urgent pointer,
 *     URG clear, the checksum updated, the session's packet and byte counters;
 *   check (SP from the SS, SS from the SP): URG clear and the ID of the session in the
 *     urgent pointer, the session's counters;
 *   a segment of a service in `svc` without a session (or with a wrong ID, or URG) dropped,
 *   everything else passed untouched.
 *   fail closed within a few seconds of the loader's death: the loader renews a deadline
 *     (`alive`, CLOCK_MONOTONIC ns) every second to 3 s ahead; past it, every segment of a
 *     service in `svc` is dropped (the programs stay attached when the loader dies).
 * Not done, unlike coopnet-nfq: IPv6, IPv4 options, held SYNs, the previous ID after a
 * renewal, drop counters by reason, fail closed before the loader first attached, IDs and
 * services changed at run time.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* a session: client, service address and port; id 0 in the keys of `ids` */
struct flow {
	__be32 client, service;
	__be16 port, id;
};

struct ident {
	__u64 packets, bytes;
	__be16 id;
	__u16 pad[3];
};

struct count {
	__u64 packets, bytes;
};

struct service {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow);
	__type(value, struct ident);
} ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow);
	__type(value, struct count);
} ok SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service);
	__type(value, __u8);
} svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} alive SEC(".maps");

/* the loader renewed the deadline in time */
static __always_inline int loader_alive(void)
{
	__u32 zero = 0;
	__u64 *deadline = bpf_map_lookup_elem(&alive, &zero);

	return deadline && bpf_ktime_get_ns() < *deadline;
}

#define TCP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define HDRS_LEN (TCP_OFF + sizeof(struct tcphdr))

/* the IPv4 and TCP headers of an IPv4 TCP segment without IP options, or NULL */
static __always_inline struct tcphdr *tcp_of(struct __sk_buff *skb, struct iphdr **ipp)
{
	void *data, *end;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct tcphdr *th;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return NULL;
	if ((void *)(long)skb->data + HDRS_LEN > (void *)(long)skb->data_end &&
	    bpf_skb_pull_data(skb, HDRS_LEN) < 0)
		return NULL;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	th = (void *)(ip + 1);
	if ((void *)(th + 1) > end || ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return NULL;
	*ipp = ip;
	return th;
}

/* no session matched: a segment of a service in `svc` is dropped, any other passes */
static __always_inline int unknown(__be32 addr, __be16 port)
{
	struct service s = { .addr = addr, .port = port };

	return bpf_map_lookup_elem(&svc, &s) ? TC_ACT_SHOT : TC_ACT_OK;
}

static __always_inline int write_id(struct __sk_buff *skb, int to_service)
{
	struct iphdr *ip;
	struct tcphdr *th = tcp_of(skb, &ip);
	struct flow k = { 0 };
	struct ident *v;
	__be16 old, id;

	if (!th)
		return TC_ACT_OK;
	k.client = to_service ? ip->saddr : ip->daddr;
	k.service = to_service ? ip->daddr : ip->saddr;
	k.port = to_service ? th->dest : th->source;
	v = loader_alive() ? bpf_map_lookup_elem(&ids, &k) : NULL;
	if (!v || th->urg)
		return unknown(k.service, k.port);
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, skb->len);
	old = th->urg_ptr;
	id = v->id;
	if (old == id)
		return TC_ACT_OK;
	/* th is invalid after these helpers (they may move the data) */
	if (bpf_l4_csum_replace(skb, TCP_OFF + offsetof(struct tcphdr, check), old, id, sizeof(id)) < 0 ||
	    bpf_skb_store_bytes(skb, TCP_OFF + offsetof(struct tcphdr, urg_ptr), &id, sizeof(id), 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

static __always_inline int check_id(struct __sk_buff *skb, int to_service)
{
	struct iphdr *ip;
	struct tcphdr *th = tcp_of(skb, &ip);
	struct flow k = { 0 };
	struct count *c;

	if (!th)
		return TC_ACT_OK;
	k.client = to_service ? ip->saddr : ip->daddr;
	k.service = to_service ? ip->daddr : ip->saddr;
	k.port = to_service ? th->dest : th->source;
	k.id = th->urg_ptr;
	c = th->urg || !loader_alive() ? NULL : bpf_map_lookup_elem(&ok, &k);
	if (!c)
		return unknown(k.service, k.port);
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int ss_egress(struct __sk_buff *skb) /* SS, towards the SP */
{
	return write_id(skb, 1);
}

SEC("tc")
int ss_ingress(struct __sk_buff *skb) /* SS, from the SP */
{
	return check_id(skb, 0);
}

SEC("tc")
int sp_ingress(struct __sk_buff *skb) /* SP, from the SS */
{
	return check_id(skb, 1);
}

SEC("tc")
int sp_egress(struct __sk_buff *skb) /* SP, towards the SS */
{
	return write_id(skb, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
