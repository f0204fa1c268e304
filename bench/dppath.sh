# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# The data paths that bench/throughput.sh and bench/cpupaths.sh measure: the topology
# CL -- SS -- SP and, on it, coopnet-nfq's workers and rule files. Sourced after
# tests/netns/lib.sh; the script sets TOP and NFQ (the coopnet-nfq binary).

DP_C4=198.18.1.2 # the client
DP_S4=198.18.2.2 # the server, and the overlay's service address
DP_ID=0x6141     # the client's static session's ID ("aA" in the workers' configuration)
# dp_lean's session (client . service . port : ID), also what cpupaths.sh's check removes
DP_LEAN_ELEM="$DP_C4 . $DP_S4 . 5201 : $DP_ID"

# dp_topology CL SS SP: CL (198.18.1.2) -- SS (router) -- SP (198.18.2.2)
dp_topology() {
	nb_host "$1" && nb_router "$2" && nb_host "$3" &&
		nb_link "$1" "$2" --v4 $DP_C4/24 198.18.1.1/24 &&
		nb_link "$2" "$3" --v4 198.18.2.1/24 $DP_S4/24 &&
		nb_route "$1" default 198.18.1.1 &&
		nb_route "$3" 198.18.1.0/24 198.18.2.1
}

# dp_gso_max CL SS SP BYTES: the largest GSO and GRO packet (IPv4 and IPv6) of the four link ends
dp_gso_max() {
	local cl=$1 ss=$2 sp=$3 bytes=$4 end host peer
	for end in "$cl $ss" "$ss $cl" "$ss $sp" "$sp $ss"; do
		read -r host peer <<<"$end"
		nb_exec "$host" "$TOP/bench/link_gso" "$(nb_ifname "$host" "$peer")" "$bytes" || return 1
	done
}

# dp_workers_cfg MODE ROLE FILE SOCKET: a worker's configuration, the services 5201 (iperf3)
# and 11111 (sockperf) on DP_S4 with one static session of the client (ID "aA"); MODE
# accept-all: a supervisor with no session, which accepts every queued segment unchanged.
# SS_LOCAL_HOOKS=1: the supervisor on forward, input and output (the relays' paths)
dp_workers_cfg() {
	local hooks='"forward"'
	[ "$2" = supervisor ] || hooks='"input", "output"'
	if [ "$1" = accept-all ]; then
		cat >"$3" <<JSON
{"role": "supervisor", "mode": "queue", "queue": {"num": 0, "count": 2},
 "miss_hold_ms": 0, "queue_rule": {"hooks": [$hooks]},
 "control_socket": "$4"}
JSON
		return
	fi
	[ "$2" != supervisor ] || [ -z "${SS_LOCAL_HOOKS:-}" ] || hooks='"forward", "input", "output"'
	cat >"$3" <<JSON
{"role": "$2", "mode": "$1", "queue": {"num": 0, "count": 2}, "queue_rule": {"hooks": [$hooks]},
 "services": [{"address": "$DP_S4", "port": 5201}, {"address": "$DP_S4", "port": 11111}],
 "sessions": [{"client": "$DP_C4", "service": "$DP_S4", "port": 5201, "id": "aA"},
              {"client": "$DP_C4", "service": "$DP_S4", "port": 11111, "id": "aA"}],
 "control_socket": "$4"}
JSON
}

# dp_rules_on SS SP [kernel]: the rule files (kernel: kernel mode's, no marking chain) with
# the two services in the overlay (SS) and protected (SP) sets
dp_rules_on() {
	local suf='' p
	[ "${3:-}" != kernel ] || suf=-kernel
	nb_exec "$1" nft -f "$TOP/nft-rules/supervisor$suf.nft" || return 1
	nb_exec "$2" nft -f "$TOP/nft-rules/provider$suf.nft" || return 1
	for p in 5201 11111; do
		nb_exec "$1" nft add element inet coopnet overlay4 "{ $DP_S4 . $p }" || return 1
		nb_exec "$2" nft add element inet coopnet protected4 "{ $DP_S4 . $p }" || return 1
	done
}

dp_rules_off() { # SS SP
	nb_exec "$1" nft delete table inet coopnet 2>/dev/null
	nb_exec "$2" nft delete table inet coopnet 2>/dev/null
	return 0
}

# dp_start_workers MODE SS SP TAG: the background processes nfq-ss-TAG and nfq-sp-TAG, up
# when both control sockets are
dp_start_workers() {
	local mode=$1 ss=$2 sp=$3 tag=$4
	local sss="$NB_RUNDIR/supervisor-$tag.sock" sps="$NB_RUNDIR/provider-$tag.sock"
	rm -f "$sss" "$sps"
	dp_workers_cfg "$mode" supervisor "$NB_RUNDIR/ss-$tag.json" "$sss"
	dp_workers_cfg "$mode" provider "$NB_RUNDIR/sp-$tag.json" "$sps"
	nb_bg "$ss" "nfq-ss-$tag" "$NFQ" --config "$NB_RUNDIR/ss-$tag.json" || return 1
	nb_bg "$sp" "nfq-sp-$tag" "$NFQ" --config "$NB_RUNDIR/sp-$tag.json" || return 1
	nb_wait_for "workers ($tag)" 10 test -S "$sss" -a -S "$sps" || return 1
	sleep 0.5
}

dp_stop_workers() { # TAG
	nb_stop "nfq-ss-$1"
	nb_stop "nfq-sp-$1"
}

# dp_floor SS SP: no worker, no rule file; one empty base chain (policy accept) at each hook
# kernel mode uses (SS: forward; SP: input, output), the least any nftables design of kernel
# mode costs
dp_floor() {
	nb_exec "$1" nft add table inet coopnet &&
		nb_exec "$1" nft add chain inet coopnet f '{ type filter hook forward priority 0; policy accept; }' &&
		nb_exec "$2" nft add table inet coopnet &&
		nb_exec "$2" nft add chain inet coopnet i '{ type filter hook input priority 0; policy accept; }' &&
		nb_exec "$2" nft add chain inet coopnet o '{ type filter hook output priority 0; policy accept; }'
}

# dp_guard_dormant SS SP: the rule files' guard tables made dormant (their base chains leave
# the hooks): kernel-noguard, a measurement of a design, not a mode to deploy
dp_guard_dormant() {
	nb_exec "$1" nft add table inet coopnet '{ flags dormant; }' &&
		nb_exec "$2" nft add table inet coopnet '{ flags dormant; }'
}

# dp_lean SS SP: no worker, no rule file, no guard; one base chain per hook (SS: forward; SP:
# input, output) holding only the per-segment step of the client's static session, IPv4: the
# SS writes the ID into the client's segments and checks it on the replies, the SP checks it
# on the client's segments and writes it into the replies (`tcp flags & urg == 0`, one map or
# set lookup, the write with its checksum update); a segment of the service that is not the
# session's with its ID is dropped, so a transfer completes only if every segment was
# written and checked. No "decided" mark, no per-session counters, no IPv6, no held SYN, no
# previous ID, no drop reasons: the least a per-segment nftables design costs, a measurement
# of a floor, not a mode to deploy (docs/performance.md "The least a per-segment write and
# check costs")
dp_lean() {
	local f=$NB_RUNDIR/lean.nft sets
	# both hosts: the session's ID by (client . service . port), and the key with its ID (the
	# element types only: each rule loads the key from its own side of the segment)
	sets="map ids { typeof ip saddr . ip daddr . tcp dport : tcp urgptr; elements = { $DP_LEAN_ELEM } }
	set ok { typeof ip saddr . ip daddr . tcp dport . tcp urgptr; elements = { ${DP_LEAN_ELEM/ : / . } } }"
	cat >"$f.ss" <<NFT || return 1
table ip lean {
	$sets
	chain f {
		type filter hook forward priority 0; policy accept;
		tcp flags & urg == 0 tcp urgptr set ip saddr . ip daddr . tcp dport map @ids accept
		tcp flags & urg == 0 ip daddr . ip saddr . tcp sport . tcp urgptr @ok accept
		ip daddr . tcp dport { $DP_S4 . 5201 } drop
		ip saddr . tcp sport { $DP_S4 . 5201 } drop
	}
}
NFT
	cat >"$f.sp" <<NFT || return 1
table ip lean {
	$sets
	chain i {
		type filter hook input priority 0; policy accept;
		tcp flags & urg == 0 ip saddr . ip daddr . tcp dport . tcp urgptr @ok accept
		ip daddr . tcp dport { $DP_S4 . 5201 } drop
	}
	chain o {
		type filter hook output priority 0; policy accept;
		tcp flags & urg == 0 tcp urgptr set ip daddr . ip saddr . tcp sport map @ids accept
		ip saddr . tcp sport { $DP_S4 . 5201 } drop
	}
}
NFT
	nb_exec "$1" nft -f "$f.ss" && nb_exec "$2" nft -f "$f.sp"
}
