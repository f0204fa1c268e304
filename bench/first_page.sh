#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Time to the first page after an on-demand Authentication (issue 11, section 7), for 1, then
# N LAN clients at the same instant (default 200), on the topology of tests/netns/coop-lib.sh:
# coopnet-authd and coopnet-nfq (queue mode) on the SS and the SP, python http.server on the
# SP (no vNICs or virtual switch on this path: it is the e2e topology). Each client is its own
# LAN address with no session: its first SYN to "http2" is held by the SS's coopnet-nfq,
# authd authenticates it, and the page comes back. Then the same clients fetch again with
# their sessions in place: the baseline of the same run.
#
#   sudo bench/first_page.sh [N]        (N 1..240, default 200)
#
# Lines: RESULT first-page-1-ms, RESULT first-page-N-p50-ms / -p99-ms / -max-ms,
# RESULT first-page-N-within-1s (clients served within 1 s), RESULT warm-page-N-p50-ms,
# RESULT first-page-N-ratio (p50 first / p50 warm), RESULT syn-retransmits-N (SYNs sent beyond
# one per client, from a capture). A client that gets no page fails the run (exit 1, no
# figures).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
N=${1:-200}
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 240)) || { echo "first_page.sh: N: 1..240" >&2; exit 2; }
HERE=$TOP/tests/netns
. "$HERE/lib.sh"
COOP_LAN=198.18.1.0/24
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
for i in $(seq 1 "$N"); do
	nb_exec cl ip addr add "198.18.1.$((9 + i))/24" dev "$CLIF" || fail "address $i"
done

# fetch ADDR...: every client at once; "addr ms" lines, or a failure line
fetch_all() {
	local out=$1 pids=(); shift
	: >"$out"
	for a in "$@"; do
		(t=$(nb_exec cl curl -sS --max-time 10 --interface "$a" -o /dev/null \
			-w '%{time_total}' "http://$S4:8081/page" 2>/dev/null) &&
			echo "$a $t" >>"$out" || echo "$a FAILED" >>"$out") &
		pids+=($!)
	done
	wait "${pids[@]}" # not the daemons nb_bg started
}
stats() { # FILE: p50 p99 max within1s count (ms)
	$PY -c "
import sys
v = sorted(float(l.split()[1]) * 1000 for l in open('$1') if not l.rstrip().endswith('FAILED'))
n = len(v)
q = lambda p: v[min(n - 1, int(p * n))]
print('%.1f %.1f %.1f %d %d' % (q(0.5), q(0.99), v[-1], sum(1 for x in v if x < 1000), n))"
}
syns() {
	$PY -c "
from scapy.all import rdpcap, TCP
print(sum(1 for p in rdpcap('$1') if TCP in p and p[TCP].flags & 0x02 and not p[TCP].flags & 0x10))"
}

nb_bg cl cap tcpdump -n -U --immediate-mode -i "$CLIF" -w "$W/syn.pcap" \
	"tcp dst port 8081 and tcp[tcpflags] & tcp-syn != 0"
nb_wait_for "tcpdump" 10 grep -q "listening on" "$(nb_log cap)" >/dev/null || fail "tcpdump"

# one client, idle
fetch_all "$W/one" 198.18.1.10
grep -q FAILED "$W/one" && fail "the single client got no page"
read -r one _ <<<"$(stats "$W/one")"
# N clients at once (the first is already authenticated: the others are new)
addrs=()
for i in $(seq 2 "$N"); do addrs+=("198.18.1.$((9 + i))"); done
if ((N > 1)); then
	fetch_all "$W/first" "${addrs[@]}"
	nfail=$(grep -c FAILED "$W/first")
	((nfail == 0)) || fail "$nfail of $((N - 1)) clients got no page"
	read -r p50 p99 max within count <<<"$(stats "$W/first")"
	sleep 0.5
	nb_stop cap
	extra=$(( $(syns "$W/syn.pcap") - N ))
	fetch_all "$W/warm" "${addrs[@]}"
	grep -q FAILED "$W/warm" && fail "a warm fetch failed"
	read -r w50 _ <<<"$(stats "$W/warm")"
fi
echo "RESULT first-page-1-ms $one"
if ((N > 1)); then
	echo "RESULT first-page-$((N - 1))-p50-ms $p50"
	echo "RESULT first-page-$((N - 1))-p99-ms $p99"
	echo "RESULT first-page-$((N - 1))-max-ms $max"
	echo "RESULT first-page-$((N - 1))-within-1s $within/$count"
	echo "RESULT warm-page-$((N - 1))-p50-ms $w50"
	echo "RESULT first-page-$((N - 1))-ratio $($PY -c "print('%.2f' % ($p50 / $w50))")"
	echo "RESULT syn-retransmits-$((N - 1)) $extra"
fi
nb_done >/dev/null 2>&1 || true
