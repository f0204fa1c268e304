#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# coopnet-nfq's session table through its control socket (bench/sess_bench.c): with N
# sessions present (session-sync, chunked), the latency (p50, p99) and rate of single-session
# session-add and session-del requests, one at a time; the worker's RSS growth per session;
# the time it takes to stop on SIGTERM with N sessions present. The same for a baseline
# coopnet-nfq built from another git revision (default: main) in the same run, where it
# finishes: the baseline rebuilds the whole table per change (O(n^2)), so it gets a deadline
# and a timed-out figure is shown as a lower bound.
#
# Each daemon runs alone in its own network namespace (queue mode, provider, queue rule not
# installed: no packet is involved), as root. The kernel-mode rows (kafter, kbefore: KSIZES)
# run the daemon in kernel mode with its nft tables installed, so each change also updates
# the kernel's session sets (only the changed keys' elements; the baseline refills them all).
#
#   sudo bench/sessions.sh                     (after make; about 5 minutes plus the build)
#   env: BASE_REF (main), COOPNET_NFQ_BASE=BINARY (skip the baseline build),
#        SIZES ("1000 100000 1000000"), BASE_SIZES ("1000 20000 100000"),
#        OPS (2000 requests each way), BASE_DEADLINE (60 s per request),
#        KSIZES ("1000": kernel mode, both builds; a size whose full sync does not fit one
#        nft batch, about 40,000 and up, stops the run with a message, docs/nfq.md)
#
# Exit status 0 with the figures, 1 (and no figures) if a component fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"

NEW=$TOP/nfq/coopnet-nfq
DRIVER=$TOP/bench/sess_bench
SIZES=${SIZES-1000 100000 1000000}
BASE_SIZES=${BASE_SIZES-1000 20000 100000}
OPS=${OPS:-2000}
BASE_DEADLINE=${BASE_DEADLINE:-60}
KSIZES=${KSIZES-1000}
[ -x "$NEW" ] && [ -x "$DRIVER" ] || nb__die "build first: make (nfq/coopnet-nfq, bench/sess_bench)"

# the baseline binary: built from BASE_REF in a scratch copy of the tree
BASE=${COOPNET_NFQ_BASE:-}
if [ -z "$BASE" ]; then
	ref=${BASE_REF:-main}
	src=$NB_RUNDIR/base-src
	mkdir -p "$src"
	nb__info "building the baseline coopnet-nfq from $ref (a few minutes)"
	git -C "$TOP" archive "$ref" | tar -x -C "$src" || nb__die "git archive $ref failed"
	(cd "$src" && autoreconf -fi && ./configure && make -j2 nfq/coopnet-nfq) \
		>"$NB_RUNDIR/base-build.log" 2>&1 || { tail -20 "$NB_RUNDIR/base-build.log"; nb__die "baseline build failed"; }
	BASE=$src/nfq/coopnet-nfq
fi

# run NAME BINARY N K DEADLINE [MODE]: one daemon, one driver run; appends the driver's line and the
# stop time to $OUT
OUT=$NB_RUNDIR/figures
: >"$OUT"
run() {
	local name=$1 bin=$2 n=$3 k=$4 deadline=$5 mode=${6:-queue} host=h$RANDOM sock pid rc t0 t1 i
	local install=false
	[ "$mode" = kernel ] && install=true
	sock=$NB_RUNDIR/$host.sock
	nb_host "$host"
	cat >"$NB_RUNDIR/$host.json" <<JSON
{"role": "provider", "mode": "$mode", "queue": {"num": 0, "count": 1},
 "control_socket": "$sock", "queue_rule": {"install": $install}}
JSON
	nb_bg "$host" "$host" "$bin" --config "$NB_RUNDIR/$host.json"
	nb_wait_for "$name control socket" 10 test -S "$sock" || { cat "$(nb_log "$host")"; nb__die "$name did not start"; }
	pid=$(nb_pid "$host")
	rc=0
	"$DRIVER" "$name" "$sock" "$pid" "$n" "$k" "$deadline" >>"$OUT" || rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || { cat "$(nb_log "$host")" >&2; nb__die "sess_bench failed ($name, $n)"; }
	nb_running "$host" || nb__die "$name died during the run"
	# kernel mode: the sets must hold the table, or the figures are not of a working daemon
	if [ "$mode" = kernel ] && grep -q "does not fit\|not updated" "$(nb_log "$host")"; then
		nb__die "$name ($n sessions): the kernel's session sets were not updated (see $(nb_log "$host"))"
	fi
	# SIGTERM with the sessions present (or while a request still runs, after a timeout)
	t0=$(nb__now_us)
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		nb_running "$host" || break
		sleep 0.1
	done
	t1=$(nb__now_us)
	if nb_running "$host"; then
		echo "$name $n stop >10s" >>"$OUT"
	else
		echo "$name $n stop $(((t1 - t0) / 1000))ms" >>"$OUT"
	fi
	nb_stop "$host"
	return 0
}

for n in $SIZES; do run after "$NEW" "$n" "$OPS" 30; done
for n in $BASE_SIZES; do
	# fewer requests where each one rebuilds a large table
	k=$OPS
	[ "$n" -le 1000 ] || k=20
	[ "$n" -le 20000 ] || k=3
	run before "$BASE" "$n" "$k" "$BASE_DEADLINE"
	# a baseline that timed out at this size will not finish at a larger one
	if grep -q "^before $n timeout" "$OUT"; then break; fi
done

for n in $KSIZES; do
	run kafter "$NEW" "$n" "$OPS" 30 kernel
	k=$OPS
	[ "$n" -le 1000 ] || k=3 # the baseline refills every element per change
	run kbefore "$BASE" "$n" "$k" "$BASE_DEADLINE" kernel
done

# the report: only from a complete run (every component above succeeded)
python3 - "$OUT" "$BASE_DEADLINE" <<'PY'
import sys
rows, stops, timeouts = {}, {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[2] == "stop":
        stops[(f[0], int(f[1]))] = f[3]
    elif f[2] == "timeout":
        timeouts[(f[0], int(f[1]))] = (f[3], float(f[4]))
    else:
        rows[(f[0], int(f[1]))] = dict(zip(
            "sync_s add_rate add_p50 add_p99 del_rate del_p50 del_p99 bytes".split(),
            map(float, f[2:])))
print("%-7s %9s %8s %9s %9s %9s %9s %9s %9s %9s %8s" % (
    "build", "sessions", "sync_s", "add/s", "add_p50us", "add_p99us", "del/s", "del_p50us",
    "del_p99us", "B/session", "stop"))
for (name, n) in sorted(set(rows) | set(timeouts), key=lambda k: (k[0], k[1])):
    stop = stops.get((name, n), "?")
    if (name, n) in timeouts:
        what, s = timeouts[(name, n)]
        print("%-7s %9d   %s did not answer within %.0f s; stop %s" % (name, n, what, s, stop))
        continue
    r = rows[(name, n)]
    print("%-7s %9d %8.2f %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.1f %8s" % (
        name, n, r["sync_s"], r["add_rate"], r["add_p50"], r["add_p99"], r["del_rate"],
        r["del_p50"], r["del_p99"], r["bytes"], stop))
print()
for (name, n), b in sorted(rows.items()):
    if name not in ("before", "kbefore"):
        continue
    # the nearest "after" size at or above n (same mode)
    an = "after" if name == "before" else "kafter"
    ups = sorted(m for (nm, m) in rows if nm == an and m >= n)
    if not ups:
        continue
    a = rows[(an, ups[0])]
    for f in ("add_p50", "del_p50", "sync_s"):
        print("RESULT ratio %s %s(%d)/%s(%d) %.1f" % (f, name, n, an, ups[0], b[f] / a[f]))
for (name, n), (what, s) in sorted(timeouts.items()):
    ups = sorted(m for (nm, m) in rows if nm == "after" and m >= n)
    if name == "before" and ups:
        a = rows[("after", ups[0])]
        print("RESULT ratio add_p50 before(%d)/after(%d) > %.0f (%s timed out at %.0f s)" % (
            n, ups[0], s * 1e6 / a["add_p50"], what, s))
PY
