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

# run FIRST N OUT WHAT: one group; its PAGES line in OUT
run() {
	nb_exec cl "$LOAD" -t "$S4:8081" -a "$(addr "$1")" -n "$2" -T 30 >"$3" 2>"$3.err" ||
		fail "$2 clients ($4) from $(addr "$1"): $(sed 's/: no figures$//' "$3.err")"
	grep -q '^PAGES served' "$3" || fail "no PAGES line from page_load"
}
val() { sed -n "s/.* $2 \([0-9.]*\).*/\1/p" "$1"; } # FILE KEY

first=1 g=0
for n in "${COUNTS[@]}"; do
	g=$((g + 1))
	run "$first" "$n" "$W/first$g" "new clients"
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
	echo "RESULT first-page-$n-ratio $($PY -c "print('%.2f' % ($(val "$f" p50_ms) / max($(val "$w" p50_ms), 0.001)))")"
done
nb_done >/dev/null 2>&1 || true
