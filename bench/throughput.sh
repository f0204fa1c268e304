#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Throughput and latency of the coopnet data plane against its baselines, measured in ONE run on
# the same veth topology (the machine is noisy: only ratios within a run mean anything):
#
#   cl -- ss -- sp          cl: iperf3/sockperf client, ss: router (SS), sp: server (SP)
#
#   plain   routed, no rules
#   vxlan   the ss-sp hop through a VXLAN tunnel (the usual way to build an overlay)
#   queue   coopnet-nfq queue mode: the SS worker writes the ID, the SP worker checks it
#   kernel  coopnet-nfq kernel mode: nft maps written by the workers, the kernel does the work
#   queue-relayon  queue mode with coopnet-relay running on both hops for ANOTHER service
#           (relay rules loaded, the SS's worker on forward+input+output): the plain overlay
#           path with the confidential feature enabled elsewhere
#   confidential   queue mode + coopnet-relay: TLS 1.3 between ss and sp (docs/relay.md), keys
#           pushed to the relays' key sockets as coopnet-authd's engine does
#   confidential-kernel  the same with both workers in kernel mode (the examples' mode; the
#           SP's service in protected4, so its relay's connection over lo meets the guards)
#   kernel-noguard (extra, only when ONLY names it; a measurement of a design, not a mode to
#           deploy): kernel mode with the rule files' guard tables made dormant after the
#           workers start (`flags dormant`: their base chains leave the hooks), so a segment
#           crosses only the worker's chain; what the guard costs per GB
#   nft-floor (extra, only when ONLY names it; a measurement): no worker, no rule file; one
#           empty base chain (policy accept) at each hook kernel mode uses (ss: forward; sp:
#           input, output), the least any nftables design of kernel mode costs
#   (both: docs/performance.md "What the guard costs, and the floor of any nftables design")
#   accept-all (extra, after the RESULT lines the issue specifies): queue mode's ceiling here,
#           every overlay segment queued at both hops to workers that accept it unchanged
#           (coopnet-nfq as a supervisor without sessions, no SYN held, batched verdicts)
#
# Not a test: it prints a table, then `RESULT <path> <gbit/s> <ratio-to-plain>` per path and
# `RESULT latency-us <path> <p50>`. Run as root from a built tree:
#   sudo bench/throughput.sh [SECONDS] [ROUNDS]
#   sudo bench/throughput.sh --short [SECONDS] [ROUNDS]   quick check: 1 s runs, 3 rounds, 512 MB
#                                             cost runs, 0.5 s idle windows
# Default 4 s per iperf3 run and 2 s per sockperf run, 3 rounds; each round measures every
# path in turn and the table shows the median of the rounds (the machine is shared).
#
# The cost of a path (bench/cpucost.sh, docs/performance.md "CPU per gigabyte"): after each
# path's throughput run, a fixed-size transfer (COST_BYTES, iperf3 -n) with the CPU it took:
#   proc  CPU time of the path's processes (a cpuacct or cgroup v2 group holding both iperf3
#         ends, the workers and the relays) plus the ksoftirqd threads: user + system, and the
#         softirq work those processes run in their own context (the veth path: no
#         IRQ_TIME_ACCOUNTING on this kernel; with it, that softirq would be left out)
#   sys   /proc/stat, all cores: user + nice + system + irq + softirq (not steal, not
#         idle/iowait; guest is inside user), minus an idle baseline measured just before and
#         just after (the same busy rate with no transfer, scaled to the transfer's duration)
# both in CPU seconds per GB (1e9 bytes received). `proc` holds on a shared machine; `sys`
# only when the machine has idle time to lend (the baseline's idle share is printed).
# ONLY="plain kernel": measure only these paths (their rows only); PERF_PATH: see measure(); its
# profiles are read at the end by bench/hookshare.py (the share of the samples under the hooks).
set -uo pipefail
if [ "${1:-}" = --short ]; then
	shift
	set -- "${1:-1}" "${2:-3}"
	LAT_SECS=${LAT_SECS:-1}
	COST_BYTES=${COST_BYTES:-512M}
	IDLE_SECS=${IDLE_SECS:-0.5}
fi
SECS=${1:-4}
ROUNDS=${2:-3}
LAT_SECS=${LAT_SECS:-2}
COST_BYTES=${COST_BYTES:-2G}
IDLE_SECS=${IDLE_SECS:-1}
ONLY=${ONLY:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
NFQ=${COOPNET_NFQ:-$TOP/nfq/coopnet-nfq}
RELAY=${COOPNET_RELAY:-$TOP/relay/coopnet-relay}
# shellcheck source=/dev/null
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"
nb_require_root
nb_require_cmd iperf3 sockperf nft python3
[ -z "${PERF_PATH:-}" ] || nb_require_cmd perf
[ -x "$NFQ" ] || nb__die "$NFQ not built"
[ -x "$RELAY" ] || nb__die "$RELAY not built"
# shellcheck source=bench/cpucost.sh
. "$TOP/bench/cpucost.sh"
cost_init || nb__die "bench: no cpuacct or cgroup v2 group for the per-process CPU measure"

# shellcheck source=bench/dppath.sh
. "$TOP/bench/dppath.sh"
C4=$DP_C4 S4=$DP_S4 V4=198.18.9.2
dp_topology cl ss sp || nb__die "bench: the topology could not be built"
# the VXLAN path: sp's address V4 is reached through a tunnel over the ss-sp veth
nb_exec ss ip link add vx0 type vxlan id 42 local 198.18.2.1 remote $S4 dstport 4789 dev "$(nb_ifname ss sp)"
nb_exec sp ip link add vx0 type vxlan id 42 local $S4 remote 198.18.2.1 dstport 4789 dev "$(nb_ifname sp ss)"
nb_exec ss ip addr add 198.18.9.1/24 dev vx0
nb_exec sp ip addr add $V4/24 dev vx0
nb_exec ss ip link set vx0 up
nb_exec sp ip link set vx0 up

nb_bg sp iperf3 iperf3 -s -p 5201
nb_bg sp sockperf sockperf sr --tcp -i 0.0.0.0 -p 11111
nb_wait_port sp 5201 10
nb_wait_port sp 11111 10
cost_add "$(nb_pid iperf3)" || nb__die "bench: cannot put iperf3 into $COST_CG"

cpu_ticks() { # utime + stime of a pid, in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# iperf3 DST -> Gbit/s (receiver side); non-zero when iperf3 failed or moved nothing
run_iperf() {
	nb_exec cl iperf3 -c "$1" -p 5201 -t "$SECS" -O 1 -J 2>/dev/null |
		python3 -c 'import json,sys
g = json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9
print("%.2f" % g); sys.exit(g <= 0)' 2>/dev/null
}

# sockperf ping-pong DST -> p50 round trip in us; non-zero when sockperf gave none
run_lat() {
	{ nb_exec cl sockperf pp --tcp -i "$1" -p 11111 -t "$LAT_SECS" 2>/dev/null || true; } |
		awk '/percentile 50.000/ {print $NF; n++} END {exit n == 0}' | head -1
}

rules_on() { must dp_rules_on ss sp "$@"; } # [kernel]
start_workers() { must dp_start_workers "$1" ss sp "$1"; } # MODE
rules_off() { dp_rules_off ss sp; }

# coopnet-relay on both hops; CONF_PORTS: the confidential service ports (nft sets and keys)
relays_on() { # PORTS...
	local p psk ident
	psk=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	ident=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	nb_exec ss nft -f "$TOP/nft-rules/relay-ss.nft" || return 1
	nb_exec sp nft -f "$TOP/nft-rules/relay-sp.nft" || return 1
	nb_exec ss ip rule add fwmark 0x800000/0x800000 lookup 7450 2>/dev/null
	nb_exec ss ip route replace local 0.0.0.0/0 dev lo table 7450 || return 1
	rm -f "$NB_RUNDIR/relay-ss.sock" "$NB_RUNDIR/relay-sp.sock"
	nb_bg ss relay-ss "$RELAY" --role ss --listen 127.0.0.1:7450 --keys "$NB_RUNDIR/relay-ss.sock" || return 1
	nb_bg sp relay-sp "$RELAY" --role sp --listen 127.0.0.1:7451 --keys "$NB_RUNDIR/relay-sp.sock" --mark 0x800000 || return 1
	nb_wait_for "relays" 10 test -S "$NB_RUNDIR/relay-ss.sock" -a -S "$NB_RUNDIR/relay-sp.sock" || return 1
	for p in "$@"; do
		nb_exec ss nft add element inet coopnet_relay conf4 "{ $S4 . $p }" || return 1
		nb_exec sp nft add element inet coopnet_relay conf4 "{ $S4 . $p }" || return 1
		nb_exec ss python3 "$TOP/tests/netns/relaykey.py" "$NB_RUNDIR/relay-ss.sock" set $C4 $S4 "$p" "$DP_ID" "$psk" "$ident" || return 1
		nb_exec sp python3 "$TOP/tests/netns/relaykey.py" "$NB_RUNDIR/relay-sp.sock" set $C4 $S4 "$p" "$DP_ID" "$psk" "$ident" || return 1
	done
}

relays_off() {
	nb_stop relay-ss
	nb_stop relay-sp
	nb_exec ss nft delete table inet coopnet_relay 2>/dev/null
	nb_exec sp nft delete table inet coopnet_relay 2>/dev/null
	return 0
}

# a path whose figures would be wrong (a component failed): stop, print nothing
must() {
	"$@" || { relays_off; nb__die "bench: '$*' failed: no figures from a partial run"; }
}

# the confidential path with both workers in kernel mode (issue 13): the relays' connections
# through the kernel-mode chains of the SS (input, output) and of the SP (lo, guards)
confidential_kernel() {
	rules_on kernel
	SS_LOCAL_HOOKS=1 start_workers kernel
	must relays_on 5201 11111
	measure confidential-kernel $S4 nfq-ss-kernel nfq-sp-kernel relay-ss relay-sp
	[ "$(nb_exec sp "$RELAY" --keys "$NB_RUNDIR/relay-sp.sock" --stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshake-ok"])')" -ge 2 ] ||
		{ relays_off; nb__die "bench: the confidential-kernel path did not go through the relays' TLS"; }
	relays_off
	dp_stop_workers kernel
	rules_off
}

declare -A GBPS CPU LAT
measure() { # PATH DST [worker names]: appends this round's figures
	local path=$1 dst=$2 t0 t1 hz g c l
	shift 2
	hz=$(getconf CLK_TCK)
	t0=0
	for w in "$@"; do t0=$((t0 + $(cpu_ticks "$(nb_pid "$w")"))); done
	# PERF_PATH=queue PERF_OUT=file: a system-wide profile during that path's iperf3 run in
	# round 1; PERF_PATH="plain kernel": one profile per path, in PERF_OUT.<path>
	local perf_pid="" out
	out=$(profile_of "$path")
	if [[ " ${PERF_PATH:-} " == *" $path "* ]] && [ "$round" = 1 ]; then
		rm -f "$out" # never a profile of an earlier run
		perf record -e cpu-clock -a -g -o "$out" -- sleep "$SECS" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	g=$(run_iperf "$dst") || g=
	if [ -n "$perf_pid" ] && ! wait "$perf_pid"; then
		relays_off
		nb__die "bench: perf record of the $path path failed: no figures from a partial run"
	fi
	[ -n "$g" ] && [ "$g" != 0 ] ||
		{ relays_off; nb__die "bench: iperf3 through the $path path failed: no figures from a partial run"; }
	t1=0
	for w in "$@"; do t1=$((t1 + $(cpu_ticks "$(nb_pid "$w")"))); done
	# worker CPU (cores, both workers) over the run, per Gbit/s
	c=$(python3 -c "g=$g; c=($t1-$t0)/$hz/($SECS+1); print('%.3f' % (c/g) if g > 0 else '-')")
	[ $# -gt 0 ] || c=-
	GBPS[$path]+="$g "
	CPU[$path]+="$c "
	l=$(run_lat "$dst") ||
		{ relays_off; nb__die "bench: sockperf through the $path path failed: no figures from a partial run"; }
	LAT[$path]+="$l "
	echo "# round $round $path: $g Gbit/s" >&2
	for w in "$@"; do must cost_add "$(nb_pid "$w")"; done
	must cost_run "$path" "$dst"
}

want() { # PATH: measured in this run (ONLY; plain always, the base of every ratio; the
	# measurement paths kernel-noguard and nft-floor only when ONLY names them)
	case $1 in kernel-noguard | nft-floor) [[ " $ONLY " == *" $1 "* ]] ;;
	*) [ -z "$ONLY" ] || [ "$1" = plain ] || [[ " $ONLY " == *" $1 "* ]] ;;
	esac
}
# profile_of PATH: the file of PATH's profile (PERF_OUT, or PERF_OUT.PATH when PERF_PATH
# names several paths)
profile_of() {
	local out=${PERF_OUT:-perf.data}
	[[ ${PERF_PATH:-} != *" "* ]] || out+=.$1
	echo "$out"
}
for p in ${PERF_PATH:-}; do
	want "$p" || nb__die "bench: PERF_PATH names $p, which this run does not measure (ONLY)"
done

# kernel mode's workers and rule files; PATH kernel-noguard: the guard tables made dormant
measure_kernel() { # PATH
	rules_on kernel
	start_workers kernel
	[ "$1" != kernel-noguard ] || must dp_guard_dormant ss sp
	measure "$1" $S4 nfq-ss-kernel nfq-sp-kernel
	dp_stop_workers kernel
	rules_off
}

median() { # values... -> median (non-numbers ignored), "-" when none
	python3 -c 'import sys,statistics
v=[float(x) for x in sys.argv[1:] if x.replace(".","",1).isdigit()]
print(("%.3f" % statistics.median(v)).rstrip("0").rstrip(".") if v else "-")' "$@"
}

for ((round = 1; round <= ROUNDS; round++)); do
	rules_off
	measure plain $S4
	! want vxlan || measure vxlan $V4
	if want queue; then
		rules_on
		start_workers queue
		measure queue $S4 nfq-ss-queue nfq-sp-queue
		dp_stop_workers queue
		rules_off
	fi
	! want kernel || measure_kernel kernel
	! want kernel-noguard || measure_kernel kernel-noguard
	if want nft-floor; then
		must dp_floor ss sp
		measure nft-floor $S4
		rules_off
	fi
	if want queue-relayon || want confidential; then
		rules_on
		SS_LOCAL_HOOKS=1 start_workers queue
		if want queue-relayon; then
			must relays_on 5202 11112
			measure queue-relayon $S4 nfq-ss-queue nfq-sp-queue
			relays_off
		fi
		if want confidential; then
			must relays_on 5201 11111
			measure confidential $S4 nfq-ss-queue nfq-sp-queue relay-ss relay-sp
			[ "$(nb_exec sp "$RELAY" --keys "$NB_RUNDIR/relay-sp.sock" --stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["handshake-ok"])')" -ge 2 ] ||
				{ relays_off; nb__die "bench: the confidential path did not go through the relays' TLS"; }
			relays_off
		fi
		dp_stop_workers queue
		rules_off
	fi
	! want confidential-kernel || confidential_kernel
	if want accept-all; then
		rules_on
		start_workers accept-all
		measure accept-all $S4 nfq-ss-accept-all nfq-sp-accept-all
		dp_stop_workers accept-all
	fi
done
PATHS=()
for p in plain vxlan queue kernel kernel-noguard nft-floor queue-relayon confidential confidential-kernel accept-all; do
	! want "$p" || PATHS+=("$p")
done
for p in "${PATHS[@]}"; do
	# shellcheck disable=SC2086 # word splitting wanted
	{ GBPS[$p]=$(median ${GBPS[$p]}); CPU[$p]=$(median ${CPU[$p]}); LAT[$p]=$(median ${LAT[$p]}); }
done

# the profiles' share of the path's samples under the netfilter hooks (bench/hookshare.py):
# a ratio within one profile, which the load of other jobs moves far less than CPU seconds;
# read before any figure is printed, so that a profile it cannot read stops the bench first
HOOKSHARE=
if [ -n "${PERF_PATH:-}" ]; then
	for p in ${PERF_PATH}; do
		out=$(profile_of "$p")
		[ -f "$out" ] || nb__die "bench: no profile $out of the $p path"
		HOOKSHARE+=$(python3 "$TOP/bench/hookshare.py" "$out") ||
			nb__die "bench: bench/hookshare.py could not read $out"
		HOOKSHARE+=$'\n'
	done
fi
printf '\n%-14s %10s %8s %22s %14s\n' path Gbit/s ratio "worker CPU/(Gbit/s)" "p50 RTT (us)"
for p in "${PATHS[@]}"; do
	r=$(python3 -c "print('%.3f' % (${GBPS[$p]}/${GBPS[plain]}) if ${GBPS[plain]} > 0 else 0)")
	printf '%-14s %10s %8s %22s %14s\n' "$p" "${GBPS[$p]}" "$r" "${CPU[$p]}" "${LAT[$p]:-?}"
done
echo
for p in "${PATHS[@]}"; do
	[ "$p" != accept-all ] || continue # extra, below
	r=$(python3 -c "print('%.3f' % (${GBPS[$p]}/${GBPS[plain]}) if ${GBPS[plain]} > 0 else 0)")
	echo "RESULT $p ${GBPS[$p]} $r"
done
if want queue; then
	echo "# added p50 round trip per queued hop (SS and SP: 2 hops): $(python3 -c "
try: print('%.1f us' % ((float('${LAT[queue]}') - float('${LAT[plain]}')) / 2))
except ValueError: print('?')")"
fi
if want confidential && want vxlan && want queue; then
	echo "# confidential vs vxlan: $(python3 -c "print('%.3f' % (${GBPS[confidential]}/${GBPS[vxlan]}) if ${GBPS[vxlan]} > 0 else '?')") of its throughput; added p50 round trip vs queue: $(python3 -c "
try: print('%.1f us' % (float('${LAT[confidential]}') - float('${LAT[queue]}')))
except ValueError: print('?')")"
fi
if want confidential-kernel && want kernel; then
	echo "# confidential-kernel vs kernel: $(python3 -c "print('%.3f' % (${GBPS[confidential-kernel]}/${GBPS[kernel]}) if ${GBPS[kernel]} > 0 else '?')") of its throughput; added p50 round trip vs kernel: $(python3 -c "
try: print('%.1f us' % (float('${LAT[confidential-kernel]}') - float('${LAT[kernel]}')))
except ValueError: print('?')")"
fi
for p in "${PATHS[@]}"; do
	[ "$p" != accept-all ] || continue
	echo "RESULT latency-us $p ${LAT[$p]:-0}"
done
if want accept-all; then
	# extra information (not one of the issue's paths): queue mode's ceiling on this machine
	r=$(python3 -c "print('%.3f' % (${GBPS[accept-all]}/${GBPS[plain]}) if ${GBPS[plain]} > 0 else 0)")
	echo "RESULT accept-all ${GBPS[accept-all]} $r"
	echo "RESULT latency-us accept-all ${LAT[accept-all]:-0}"
fi
cost_report "${PATHS[@]}"
[ -z "$HOOKSHARE" ] || printf '%s' "$HOOKSHARE"
