#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Time to the first page after an on-demand Authentication (issue 11, section 7), for groups
# of new LAN clients at the same instant (default 1, then 200, then 2,000), on the topology of
# tests/netns/coop-lib.sh: coopnet-authd and coopnet-nfq (queue mode) on the SS and the SP, a
# python page server on the SP (tests/netns/httpd.py, backlog 4096). Each client is its own LAN
# address (198.18.16.0/20, routed via cl) with no session: its first SYN to "http2" is held by
# the SS's coopnet-nfq, authd authenticates it on demand, and the page comes back. Then the same
# clients fetch again with their sessions in place: the baseline of the same run.
# --vswitch: the SP as deployed, its services on a vNIC (macvlan) behind the virtual switch.
#
# The clients of a group are one process (bench/page_load): every socket bound to its own
# address first, then every connect() in one loop, the GET and the answer read with epoll; each
# client timed from its connect() to the last byte of the page. (Before: one curl process per
# client, whose start-up on 2 cores dominated 200 clients and made 2,000 impossible.)
#
#   sudo bench/first_page.sh [--vswitch] [N...]    (each N 1..2000, at most 4,000 in all;
#                                                  default: 1 200 2000)
#
# Lines per group of N: RESULT first-page-N-p50-ms / -p90-ms / -p99-ms / -max-ms,
# RESULT first-page-N-within-1s (clients served within 1 s / N), RESULT first-page-N-wall-ms
# (first connect to last page), RESULT first-page-N-auth-per-s (N / wall: on-demand
# Authentications per second end to end), RESULT first-page-N-connect-spread-ms,
# RESULT first-page-N-retransmits (TCP retransmissions of the clients, SYNs included),
# RESULT warm-page-N-p50-ms / -max-ms / -retransmits (the same clients with their sessions:
# the baseline),
# RESULT first-page-N-ratio (p50 first / p50 warm). A client that gets no page within 30 s,
# or any component that fails, fails the run (exit 1, no figures).
#
# Where the time goes (optional, for the first run of each group):
#   FP_TRACE=1     the stages over time: every 50 ms the session counts and counters of the
#                  SS's and the SP's coopnet-nfq (bench/fp_trace.py), as "# trace-N" lines, and
#                  RESULT first-page-N-ss-sessions-90-ms / -sp-sessions-90-ms (the time until
#                  90 % of the group's sessions were in each data plane)
#   FP_PROFILE=DIR perf record -e cpu-clock -g of each daemon (authd-ss, authd-sp with their
#                  engines, nfq-ss, nfq-sp, the page server) into DIR/NAME-N.data
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
LOAD=$TOP/bench/page_load
VSW=
COUNTS=()
for a in "$@"; do
	case $a in
	--vswitch) VSW=1 ;;
	*) [[ $a =~ ^[0-9]+$ ]] && ((a >= 1 && a <= 2000)) ||
		{ echo "first_page.sh: N \"$a\": 1..2000 (or --vswitch)" >&2; exit 2; }
	   COUNTS+=("$a") ;;
	esac
done
((${#COUNTS[@]})) || COUNTS=(1 200 2000)
total=0
for n in "${COUNTS[@]}"; do total=$((total + n)); done
((total <= 4000)) || { echo "first_page.sh: at most 4,000 clients in all" >&2; exit 2; }
[ -x "$LOAD" ] || { echo "first_page.sh: build first (make bench/page_load)" >&2; exit 2; }
HERE=$TOP/tests/netns
. "$HERE/lib.sh"
export COOP_LAN2=198.18.16.0/20
[ -z "$VSW" ] || export COOP_VSWITCH=1
. "$HERE/coop-lib.sh"

fail() {
	echo "first_page.sh: $*: no figures" >&2
	if [ -n "${FP_DEBUG:-}" ]; then
		for h in ss sp; do ctl $h stats authd >&2; done
		$NFQCTL "$W/nfq-supervisor.sock" '{"cmd": "stats"}' >&2
		$NFQCTL "$W/nfq-provider.sock" '{"cmd": "stats"}' >&2
		grep -v "session-sync\|authenticated\|session 0x" "$(nb_log authd-ss)" | tail -20 >&2
	fi
	exit 1
}
coop_setup >"$NB_RUNDIR/setup.out" 2>&1 || fail "setup failed ($(tail -3 "$NB_RUNDIR/setup.out"))"
CLIF=$(nb_ifname cl ss)
addr() { echo "198.18.$((16 + $1 / 256)).$(($1 % 256))"; } # client I (1..4000) of 198.18.16.0/20
for i in $(seq 1 "$total"); do echo "addr add $(addr "$i")/32 dev $CLIF"; done |
	nb_exec cl ip -batch - || fail "the client addresses"

# pids NAME...: the processes started as NAME (and their children: authd's engine)
pids() {
	local n p
	for n in "$@"; do
		p=$(nb_pid "$n") || continue
		echo "$p"; pgrep -P "$p"
	done | paste -sd,
}
# watch_start N / watch_stop: FP_TRACE and FP_PROFILE around the first run of a group
WATCH=()
watch_start() {
	local n
	if [ -n "${FP_TRACE:-}" ]; then
		$PY "$TOP/bench/fp_trace.py" "$W/nfq-supervisor.sock" "$W/nfq-provider.sock" 50 40 \
			>"$W/trace$1" 2>&1 &
		WATCH+=($!)
		# its first sample before the load: the trace then starts from the sessions before it
		nb_wait_for "the tracer's first sample" 10 test -s "$W/trace$1" ||
			fail "bench/fp_trace.py took no sample: $(head -c 300 "$W/trace$1")"
	fi
	[ -n "${FP_PROFILE:-}" ] || return 0
	mkdir -p "$FP_PROFILE" || fail "FP_PROFILE $FP_PROFILE"
	for n in authd-ss authd-sp nfq-ss nfq-sp http8081; do
		perf record -q -e cpu-clock -g -o "$FP_PROFILE/$n-$1.data" -p "$(pids $n)" \
			>/dev/null 2>&1 &
		WATCH+=($!)
	done
}
watch_stop() {
	local p
	for p in "${WATCH[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${WATCH[@]}"; do wait "$p" 2>/dev/null; done
	WATCH=()
}
nb_at_cleanup watch_stop # a failure between start and stop leaves no tracer or perf behind
# trace_check FILE WALL_MS: the trace is whole (every line a sample of 8 integers: a failed
# control-socket call ends fp_trace.py with a traceback in FILE) and covers the group's run
# (a sample taken WALL_MS after the tracer's start or later)
trace_check() {
	awk -v wall="$2" 'NF != 8 { bad = 1 } { for (i = 1; i <= NF; i++) if ($i !~ /^[0-9]+$/) bad = 1; last = $1 }
		END { exit (bad || NR == 0 || last + 0 < wall + 0) }' "$1"
}
# run FIRST N OUT WHAT: one group; its PAGES line in OUT
run() {
	nb_exec cl "$LOAD" -t "$S4:8081" -a "$(addr "$1")" -n "$2" -T 30 >"$3" 2>"$3.err" ||
		{ watch_stop; fail "$2 clients ($4) from $(addr "$1"): $(sed 's/: no figures$//' "$3.err")"; }
	grep -q '^PAGES served' "$3" || fail "no PAGES line from page_load"
}
val() { sed -n "s/.* $2 \([0-9.]*\).*/\1/p" "$1"; } # FILE KEY

# trace_report N FILE: the timeline (every 4th sample) and the times to 90 % of N sessions
trace_report() {
	awk -v n="$1" 'NR == 1 { s0 = $2; p0 = $3 }
		NR % 4 == 1 { print "# trace-" n ": " $0 }
		!ss && $2 - s0 >= 0.9 * n { ss = $1 } !sp && $3 - p0 >= 0.9 * n { sp = $1 }
		END { print "RESULT first-page-" n "-ss-sessions-90-ms " (ss ? ss : "never");
		      print "RESULT first-page-" n "-sp-sessions-90-ms " (sp ? sp : "never") }' "$2"
}
first=1 g=0
for n in "${COUNTS[@]}"; do
	g=$((g + 1))
	watch_start "$n"
	run "$first" "$n" "$W/first$g" "new clients"
	# the tracer's samples up to past the load's end (its clock started before the load)
	[ -z "${FP_TRACE:-}" ] || nb_wait_for "a sample after the load" 5 \
		trace_check "$W/trace$n" "$(val "$W/first$g" wall_ms)" || true
	watch_stop
	if [ -n "${FP_TRACE:-}" ] && ! trace_check "$W/trace$n" "$(val "$W/first$g" wall_ms)"; then
		sed 's/^/# trace: /' "$W/trace$n" | tail -5 >&2
		fail "the trace of $n clients is cut short or broken"
	fi
	run "$first" "$n" "$W/warm$g" "with sessions"
	first=$((first + n))
done
uptime | sed 's/.*load average/# load average/'
# where the time went: the data planes' non-zero counters (held SYNs, drops) on both sides
for r in supervisor provider; do
	$NFQCTL "$W/nfq-$r.sock" '{"cmd": "stats"}' 2>/dev/null | $PY -c "
import json, sys
s = json.load(sys.stdin)['stats']
print('# $r coopnet-nfq: ' + ' '.join('%s=%s' % kv for kv in sorted(s.items())
      if isinstance(kv[1], int) and kv[1] and kv[0] != 'uptime_s'))" || fail "stats of $r"
done
# and the authds' non-zero counters (exchanges, retransmissions, gates)
for h in ss sp; do
	echo "# $h coopnet-authd: $(ctl $h stats authd | awk 'NF == 2 && $2 != 0 { printf "%s=%s ", $1, $2 }')"
done
# and the UDP drops between them (a full receive buffer loses Authentication datagrams)
for h in ss sp; do
	echo "# $h udp: $(nb_exec $h awk '/^Udp:/ { if (!seen) { seen = split($0, k); next } for (i = 2; i <= NF; i++) if ($i) printf "%s=%s ", k[i], $i }' /proc/net/snmp)"
done
g=0
for n in "${COUNTS[@]}"; do
	g=$((g + 1)); f=$W/first$g; w=$W/warm$g
	for k in p50 p90 p99 max; do echo "RESULT first-page-$n-$k-ms $(val "$f" ${k}_ms)"; done
	echo "RESULT first-page-$n-within-1s $(val "$f" within_1s)/$n"
	echo "RESULT first-page-$n-wall-ms $(val "$f" wall_ms)"
	echo "RESULT first-page-$n-auth-per-s $($PY -c "print('%.0f' % ($n / max($(val "$f" wall_ms), 0.001) * 1000))")"
	echo "RESULT first-page-$n-connect-spread-ms $(val "$f" spread_ms)"
	echo "RESULT first-page-$n-retransmits $(val "$f" retrans)"
	echo "RESULT warm-page-$n-p50-ms $(val "$w" p50_ms)"
	echo "RESULT warm-page-$n-max-ms $(val "$w" max_ms)"
	echo "RESULT warm-page-$n-retransmits $(val "$w" retrans)"
	[ -z "${FP_TRACE:-}" ] || trace_report "$n" "$W/trace$n"
	echo "RESULT first-page-$n-ratio $($PY -c "print('%.2f' % ($(val "$f" p50_ms) / max($(val "$w" p50_ms), 0.001)))")"
done
nb_done >/dev/null 2>&1 || true
