#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# CPU per gigabyte of kernel mode against plain forwarding, with enough rounds to resolve a
# few points on a shared machine (issue 11 section 6; docs/performance.md "CPU per gigabyte",
# "Many short rounds").
#
# bench/throughput.sh measures every path in turn and sets each up again per round (rule
# files, workers, a throughput and a latency run), so a round takes tens of seconds and a run
# holds about 7; single rounds of kernel/plain spread by -15 % to +28 %, and the median of 7
# moves by several points between runs. Here every path has a topology of its own (CL -- SS --
# SP in namespaces of its own, the same addresses: bench/dppath.sh), built once, its workers
# running throughout; a round is one transfer of BYTES per path (bench/cpucost.sh cost_run,
# the CPU time of a group holding the path's processes, plus ksoftirqd), the paths in an order
# rotated by one each round, so a round takes a few seconds and a run holds a hundred. The
# ratios to plain are taken per round (the paths of a round saw the same load).
#
#   sudo bench/cpupaths.sh [ROUNDS] [BYTES]      default 100 rounds of 512M
#   env: ONLY (the paths besides plain, from kernel kernel-noguard nft-floor nft-lean tc-bpf;
#        default the first three),
#        COST_AFFINITY (iperf3 -A "client CPU,server CPU", default 0,1: every path's two ends
#        on the same CPUs; empty: not pinned), IDLE_SECS (the sys measure's idle windows
#        around each transfer, default 0.2 s), COOPNET_NFQ (another coopnet-nfq binary),
#        GSO_MAX (bytes, 1280 to 524280: the largest GSO and GRO packet of every path's links,
#        IPv4 included, "BIG TCP", by bench/link_gso; Linux 6.3 or later; default: the
#        kernel's 65536. The same for every path, so the ratios compare like with like)
#
# Paths: plain (routed, no rules); kernel (coopnet-nfq kernel mode as deployed: both workers
# and the rule files, the client's static session); kernel-noguard and nft-floor (the
# measurement paths of bench/throughput.sh: the rule files' guards dormant; one empty base
# chain per hook); nft-lean (only when ONLY names it; a measurement of a floor: one base chain
# per hook holding only the static session's per-segment write and check, no guard, no mark,
# no per-session counters, bench/dppath.sh dp_lean; a segment without the ID is dropped);
# tc-bpf (only when ONLY names it; a measurement of a design, not a mode to
# deploy: kernel mode's per-segment step for a live session as tc programs instead of nftables
# chains, bench/bpf/tcid.bpf.c, loaded by bench/bpf/tcid_load.c; needs clang and libbpf-dev,
# built here into a temporary directory). A transfer through kernel mode or tc-bpf only
# completes when the SS wrote the session's ID and the SP checked it (a segment without it is
# dropped); tc-bpf's counters of written and checked packets are checked at the end too.
#
# Output: the table of bench/cpucost.sh and its RESULT lines, with `RESULT cpu-ratio-ci95
# PATH/plain LOW HIGH (N rounds)`: the 95 % interval of the median ratio (order statistics).
# A failed transfer or setup stops the bench with a message and no figures.
set -uo pipefail
ROUNDS=${1:-100}
COST_BYTES=${2:-512M}
IDLE_SECS=${IDLE_SECS:-0.2}
COST_AFFINITY=${COST_AFFINITY-0,1}
ONLY=${ONLY:-kernel kernel-noguard nft-floor}
BPF_DIR=
TOP=$(cd "$(dirname "$0")/.." && pwd)
NFQ=${COOPNET_NFQ:-$TOP/nfq/coopnet-nfq}
# shellcheck source=/dev/null
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"
nb_require_root
nb_require_cmd iperf3 nft python3 timeout
[ -x "$NFQ" ] || nb__die "$NFQ not built"
[[ $ROUNDS =~ ^[1-9][0-9]{0,3}$ ]] || nb__die "bench: ROUNDS is 1 to 9999, not '$ROUNDS'"
[ -z "${GSO_MAX:-}" ] || [ -x "$TOP/bench/link_gso" ] || nb__die "bench: GSO_MAX needs bench/link_gso (make)"
[[ $COST_BYTES =~ ^[1-9][0-9]{0,5}[KMG]?$ ]] || nb__die "bench: BYTES is a size such as 512M, not '$COST_BYTES'"
# shellcheck source=bench/cpucost.sh
. "$TOP/bench/cpucost.sh"
# shellcheck source=bench/dppath.sh
. "$TOP/bench/dppath.sh"
export COST_AFFINITY
cost_init || nb__die "bench: no cpuacct or cgroup v2 group for the per-process CPU measure"

fail() { nb__die "bench: $*: no figures from a partial run"; }

PATHS=(plain)
for p in $ONLY; do
	case $p in
	plain) ;;
	kernel | kernel-noguard | nft-floor | nft-lean | tc-bpf) PATHS+=("$p") ;;
	*) nb__die "bench: unknown path '$p' in ONLY (kernel, kernel-noguard, nft-floor, nft-lean, tc-bpf)" ;;
	esac
done

# tc-bpf: the programs and their loader, built once
bpf_build() {
	nb_require_cmd clang cc || return 1
	[ -f /usr/include/bpf/bpf_helpers.h ] ||
		{ nb__err "tc-bpf needs libbpf's headers (apt-get install libbpf-dev)"; return 1; }
	BPF_DIR=$(mktemp -d /tmp/cpupaths-bpf.XXXXXX) || return 1
	nb_at_cleanup rm -rf "$BPF_DIR"
	clang -O2 -g -target bpf -I"/usr/include/$(gcc -print-multiarch)" \
		-c "$TOP/bench/bpf/tcid.bpf.c" -o "$BPF_DIR/tcid.bpf.o" &&
		cc -O2 -Wall -Wextra -Werror "$TOP/bench/bpf/tcid_load.c" -o "$BPF_DIR/tcid-load" -lbpf
}

# tc-bpf on path i: the loaders (background processes tcid-ss, tcid-sp) attached
bpf_on() { # I
	local ss=s$1 sp=p$1
	nb_bg "$ss" tcid-ss "$BPF_DIR/tcid-load" "$BPF_DIR/tcid.bpf.o" "$(nb_ifname "$ss" "$sp")" ss \
		"$DP_C4" "$DP_S4" "$DP_ID" 5201 || return 1
	nb_bg "$sp" tcid-sp "$BPF_DIR/tcid-load" "$BPF_DIR/tcid.bpf.o" "$(nb_ifname "$sp" "$ss")" sp \
		"$DP_C4" "$DP_S4" "$DP_ID" 5201 || return 1
	local h
	for h in ss sp; do
		nb_wait_for "tcid-$h attached" 10 grep -q attached "$(nb_log "tcid-$h")" ||
			{ cat "$(nb_log "tcid-$h")" >&2; return 1; }
	done
}

# tc-bpf's counters: every transfer's segments written and checked on both hosts
bpf_counted() {
	local h l
	for h in ss sp; do
		kill -TERM "$(nb_pid "tcid-$h")" 2>/dev/null || return 1
		nb_wait_for "tcid-$h's counters" 10 grep -q '^port 5201' "$(nb_log "tcid-$h")" || return 1
		l=$(grep '^port 5201' "$(nb_log "tcid-$h")")
		echo "# tc-bpf $h: $l" >&2
		[[ $l =~ written\ [1-9][0-9]*\ packets.*checked\ [1-9][0-9]*\ packets ]] || return 1
	done
}

# nft-lean on path i: with the ID gone from the SS's map, a connection to the service fails
# (the SP drops what the SS did not write), and with it back, it succeeds
lean_needs_id() { # I
	local el="{ $DP_LEAN_ELEM }"
	nb_exec "s$1" nft delete element ip lean ids "$el" || return 1
	if nb_exec "c$1" timeout 3 iperf3 -c "$DP_S4" -p 5201 -n 1M >/dev/null 2>&1; then
		nb__err "nft-lean: a transfer completed without the ID"
		return 1
	fi
	nb_exec "s$1" nft add element ip lean ids "$el" &&
		nb_exec "c$1" timeout 10 iperf3 -c "$DP_S4" -p 5201 -n 1M >/dev/null
}

# path number i: hosts c<i> -- s<i> -- p<i>, the iperf3 server and the path's processes in the
# measured group
declare -A IDX # path -> i
# ss_link_counts SS SP: the packets and bytes SS has sent on its link to SP
ss_link_counts() {
	local d
	d=/sys/class/net/$(nb_ifname "$1" "$2")/statistics || return 1
	nb_exec "$1" cat "$d/tx_packets" "$d/tx_bytes" | paste -sd ' '
}
i=0
for p in "${PATHS[@]}"; do
	i=$((i + 1))
	dp_topology "c$i" "s$i" "p$i" || fail "the topology of $p"
	[ -z "${GSO_MAX:-}" ] || dp_gso_max "c$i" "s$i" "p$i" "$GSO_MAX" || fail "GSO_MAX=$GSO_MAX on the links of $p"
	nb_bg "p$i" "iperf3-$p" iperf3 -s -p 5201 || fail "iperf3 -s of $p"
	nb_wait_port "p$i" 5201 10 || fail "iperf3 -s of $p"
	cost_add "$(nb_pid "iperf3-$p")" || fail "iperf3 -s of $p into $COST_CG"
	case $p in
	kernel | kernel-noguard)
		dp_rules_on "s$i" "p$i" kernel || fail "the rule files of $p"
		dp_start_workers kernel "s$i" "p$i" "$p" || fail "the workers of $p"
		cost_add "$(nb_pid "nfq-ss-$p")" "$(nb_pid "nfq-sp-$p")" || fail "the workers of $p into $COST_CG"
		[ "$p" != kernel-noguard ] || dp_guard_dormant "s$i" "p$i" || fail "the dormant guards of $p"
		;;
	nft-floor) dp_floor "s$i" "p$i" || fail "the base chains of $p" ;;
	nft-lean) { dp_lean "s$i" "p$i" && lean_needs_id "$i"; } || fail "the rules of $p" ;;
	tc-bpf)
		bpf_build || fail "the build of tc-bpf's programs"
		bpf_on "$i" || fail "tc-bpf's programs"
		;;
	esac
	IDX[$p]=$i
done

declare -A LINK0
for p in "${PATHS[@]}"; do
	LINK0[$p]=$(ss_link_counts "s${IDX[$p]}" "p${IDX[$p]}") || fail "the link counters of $p"
done
echo "# $ROUNDS rounds of ${PATHS[*]}, $COST_BYTES each, iperf3 affinity '${COST_AFFINITY:-none}', GSO/GRO limit ${GSO_MAX:-65536 (default)}" >&2
n=${#PATHS[@]}
for ((round = 1; round <= ROUNDS; round++)); do
	for ((j = 0; j < n; j++)); do
		p=${PATHS[$(((round + j) % n))]}
		COST_CLIENT=c${IDX[$p]} cost_run "$p" "$DP_S4" || fail "the transfer of round $round through $p"
	done
done
# the kernel paths' workers must still run: a transfer cannot have bypassed them
for p in "${PATHS[@]}"; do
	case $p in kernel | kernel-noguard)
		if ! { nb_running "nfq-ss-$p" && nb_running "nfq-sp-$p"; }; then
			fail "a worker of $p exited during the run"
		fi
		;;
	esac
done
# the packets each path's SS sent to its SP, and their mean size: the hooks' cost is per packet,
# and a path's packets can grow or shrink with its timing (GSO_MAX allows larger ones). The
# kernel paths: also the packets the SS wrote the ID into
for p in "${PATHS[@]}"; do
	read -r pk0 by0 <<<"${LINK0[$p]}"
	read -r pk1 by1 < <(ss_link_counts "s${IDX[$p]}" "p${IDX[$p]}") || fail "the link counters of $p"
	line="# $p: the SS sent $((pk1 - pk0)) packets to the SP, $(((by1 - by0) / (pk1 - pk0 > 0 ? pk1 - pk0 : 1))) bytes each on average"
	case $p in kernel | kernel-noguard)
		n=$(/usr/bin/python3 "$TOP/tests/netns/nfqctl.py" "$NB_RUNDIR/supervisor-$p.sock" \
			--get stats.stats.embedded) || fail "the counters of $p's SS worker"
		[[ $n =~ ^[1-9][0-9]*$ ]] || fail "$p's SS worker wrote no ID ('$n')"
		line+=", the ID written into $n"
		;;
	esac
	echo "$line" >&2
done
for p in "${PATHS[@]}"; do
	[ "$p" != tc-bpf ] || bpf_counted || fail "tc-bpf's programs did not write and check every transfer's IDs"
done
cost_report "${PATHS[@]}"
