# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# CPU per gigabyte of a data path, for bench/throughput.sh (sourced; needs tests/netns/lib.sh).
# Two measures of one fixed-size transfer (docs/performance.md, "CPU per gigabyte"):
#   proc  the CPU time of a group holding the path's processes (cgroup v1 cpuacct.usage or
#         v2 cpu.stat usage_usec: the scheduler's run time, user + system, and the softirq
#         work run in those processes' context, which is where the veth path runs when the
#         kernel has no IRQ_TIME_ACCOUNTING) plus the run time of the ksoftirqd threads (the
#         softirq work deferred out of those contexts; they also serve other jobs' traffic)
#   sys   /proc/stat, all cores, user + nice + system + irq + softirq, minus an idle baseline
#         (the busy rate of a window with no transfer just before and just after, times the
#         transfer's duration): everything on the machine, ours or not
# Results per path in COST_P[path] and COST_S[path] (CPU seconds per GB, one value per round),
# the idle share of the baseline windows in COST_IDLE.

declare -A COST_P COST_S
COST_IDLE=
COST_CG=
COST_KIND=

cost_init() {
	local base
	if [ -d /sys/fs/cgroup/cpuacct ] && [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		base=/sys/fs/cgroup/cpuacct COST_KIND=cpuacct
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		base=/sys/fs/cgroup COST_KIND=v2
	elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
		base=/sys/fs/cgroup/unified COST_KIND=v2
	else
		return 1
	fi
	COST_CG=$base/coopnet-bench-$$
	mkdir "$COST_CG" || return 1
	nb_at_cleanup cost_fini "$base"
	[ "$COST_KIND" = cpuacct ] || [ -f "$COST_CG/cpu.stat" ] || return 1
}

# move the group's processes back to the parent, then remove the group
cost_fini() { # BASE
	local p
	[ -n "$COST_CG" ] && [ -d "$COST_CG" ] || return 0
	while read -r p; do echo "$p" >"$1/cgroup.procs" 2>/dev/null; done <"$COST_CG/cgroup.procs"
	rmdir "$COST_CG" 2>/dev/null
	return 0
}

cost_add() { # PID...: into the group (all threads; children follow)
	local p
	for p in "$@"; do
		echo "$p" >"$COST_CG/cgroup.procs" || return 1
	done
}

cost_proc_ns() { # the group's run time plus the ksoftirqd threads', in ns
	local g k t=0 p
	if [ "$COST_KIND" = cpuacct ]; then
		read -r g <"$COST_CG/cpuacct.usage"
	else
		g=$(awk '$1 == "usage_usec" {print $2 * 1000}' "$COST_CG/cpu.stat")
	fi
	for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
		read -r k _ <"/proc/$p/schedstat" 2>/dev/null && t=$((t + k))
	done
	echo $((g + t))
}

cost_sys() { # "busy idle" USER_HZ ticks, all cores, from /proc/stat
	awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8, $5 + $6; exit}' /proc/stat
}

cost_now() { date +%s.%N; }

# one idle window: echo "busy-ticks idle-ticks seconds"
cost_idle_window() {
	local b0 i0 b1 i1 t0 t1
	read -r b0 i0 < <(cost_sys)
	t0=$(cost_now)
	sleep "$IDLE_SECS"
	read -r b1 i1 < <(cost_sys)
	t1=$(cost_now)
	echo "$((b1 - b0)) $((i1 - i0)) $(python3 -c "print($t1 - $t0)")"
}

# PATH DST: idle window, one transfer of COST_BYTES from COST_CLIENT (default cl) to DST:5201
# in the group, idle window. COST_AFFINITY (iperf3 -A "client CPU,server CPU"): both ends
# pinned, the same CPUs for every path. Returns non-zero (nothing recorded) when the transfer
# fails, falls short or outlasts COST_TIMEOUT (300 s).
cost_run() {
	local path=$1 dst=$2 a b p0 p1 b0 b1 t0 t1 out bytes hz p s i
	hz=$(getconf CLK_TCK)
	a=$(cost_idle_window)
	p0=$(cost_proc_ns)
	read -r b0 _ < <(cost_sys)
	t0=$(cost_now)
	# into the group before entering the namespace (ip netns exec mounts its own /sys)
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	out=$(sh -c 'echo $$ >"$0" && exec "$@"' "$COST_CG/cgroup.procs" \
		timeout "${COST_TIMEOUT:-300}" ip netns exec "$(nb__ns "${COST_CLIENT:-cl}")" \
		iperf3 -c "$dst" -p 5201 -n "$COST_BYTES" ${COST_AFFINITY:+-A "$COST_AFFINITY"} -J 2>/dev/null)
	t1=$(cost_now)
	read -r b1 _ < <(cost_sys)
	p1=$(cost_proc_ns)
	b=$(cost_idle_window)
	bytes=$(python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))' \
		<<<"$out" 2>/dev/null) || bytes=0
	[ "${bytes:-0}" -gt 0 ] || { nb__err "cost run of $path: the transfer failed"; return 1; }
	# proc s/GB, sys s/GB (busy minus the baseline rate over the transfer), baseline idle share
	read -r p s i < <(python3 - "$a" "$b" "$p0" "$p1" "$b0" "$b1" "$t0" "$t1" "$bytes" "$hz" <<'PY'
import sys
a, b = [list(map(float, w.split())) for w in sys.argv[1:3]]
p0, p1, b0, b1, t0, t1, nbytes, hz = map(float, sys.argv[3:11])
gb = nbytes / 1e9
rate = (a[0] + b[0]) / (a[2] + b[2]) / hz          # busy cores during the baselines
idle = (a[1] + b[1]) / (a[0] + a[1] + b[0] + b[1]) if a[0] + a[1] + b[0] + b[1] else 0
sysc = (b1 - b0) / hz - rate * (t1 - t0)
print("%.4f %.4f %.3f" % ((p1 - p0) / 1e9 / gb, sysc / gb, idle))
PY
)
	local num='^-?[0-9]+[.][0-9]+$'
	[[ ${p:-} =~ $num && ${s:-} =~ $num && ${i:-} =~ $num ]] ||
		{ nb__err "cost run of $path: no CPU figures from the counters ('${p:-}' '${s:-}' '${i:-}')"; return 1; }
	COST_P[$path]+="$p "
	COST_S[$path]+="$s "
	COST_IDLE+="$i "
	echo "# round ${round:-?} $path: cost $p s/GB (proc), $s s/GB (sys), baseline idle $i" >&2
}

# The table of the cost figures and the RESULT lines, for PATHS...; ratios per round (rounds
# interleave the paths, so a round's paths saw the same load), then median (min..max).
cost_report() { # PATHS...
	local p args=()
	for p in "$@"; do args+=("$p" "${COST_P[$p]:-}" "${COST_S[$p]:-}"); done
	python3 - "$COST_IDLE" "${args[@]}" <<'PY'
import sys, statistics as st
idle = [float(x) for x in sys.argv[1].split()]
a = sys.argv[2:]
P, S, order = {}, {}, []
for i in range(0, len(a), 3):
    order.append(a[i])
    P[a[i]] = [float(x) for x in a[i + 1].split()]
    S[a[i]] = [float(x) for x in a[i + 2].split()]
def spread(v):
    return "%.3f (%.3f..%.3f)" % (st.median(v), min(v), max(v)) if v else "-"
def ratios(d, p, base):
    n = min(len(d.get(p, [])), len(d.get(base, [])))
    return [d[p][i] / d[base][i] for i in range(n) if d[base][i] > 0]
print("\nCPU per GB moved (CPU seconds / 1e9 bytes; median (min..max) of %d rounds)" % len(P[order[0]]))
print("%-14s %26s %26s %24s" % ("path", "proc s/GB", "sys s/GB", "proc ratio to plain"))
for p in order:
    r = ratios(P, p, "plain")
    print("%-14s %26s %26s %24s" % (p, spread(P[p]), spread(S[p]), spread(r)))
print("# baseline idle share (sys is only meaningful when the machine had idle time): %s" % spread(idle))
for p in order:
    r = ratios(P, p, "plain")
    rs = ratios(S, p, "plain")
    print("RESULT cpu-per-gb %s %.4f %s" % (p, st.median(P[p]), "%.3f" % st.median(r) if r else "-"))
    print("RESULT cpu-per-gb-sys %s %.4f %s" % (p, st.median(S[p]), "%.3f" % st.median(rs) if rs else "-"))
def median_ci95(v):
    # distribution-free 95 % interval of the median: the order statistics k and n + 1 - k
    # with P(Binomial(n, 1/2) < k) <= 0.025 (none below 6 values)
    from math import comb
    n, k, below = len(v), 0, 0.0
    while k < n and below + comb(n, k) / 2 ** n <= 0.025:
        below += comb(n, k) / 2 ** n
        k += 1
    v = sorted(v)
    return (v[k - 1], v[n - k]) if k >= 1 else None
for p, base in (("kernel", "plain"), ("kernel-noguard", "plain"), ("nft-floor", "plain"), ("nft-lean", "plain"), ("tc-bpf", "plain"), ("queue", "accept-all")):
    r = ratios(P, p, base)
    if r:
        print("RESULT cpu-ratio %s/%s %.3f %.3f %.3f" % (p, base, st.median(r), min(r), max(r)))
        ci = median_ci95(r)
        if ci:
            print("RESULT cpu-ratio-ci95 %s/%s %.3f %.3f (%d rounds)" % (p, base, ci[0], ci[1], len(r)))
PY
}
