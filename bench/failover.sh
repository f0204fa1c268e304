#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# SP group failover (docs/groups.md) at the DEFAULT settings (status interval 1 s, miss_limit
# 2, RTO 500 ms), in namespaces with real Apache on three SPs hosting one service and two
# header SPs (tests/netns/balance-lib.sh):
#   - SP failover, ROUNDS times: a client whose session is on sp1 opens a new connection every
#     50 ms (each attempt on its own, 1 s limit); sp1's daemons (coopnet-authd, coopnet-nfq, Apache) get SIGKILL; the time from the
#     kill to the first new connection served by another SP, and the connections that failed
#     in between. sp1 is restarted between rounds and a fresh client authenticated onto it.
#   - header failover, ROUNDS times: the header the SS uses gets SIGKILL; the time of the next
#     Authentication (coopnetctl auth), against the same with both headers up (baseline, same
#     run); the killed header is restarted.
#
#   sudo bench/failover.sh [ROUNDS]      (default 10)
#
# Lines: RESULT failover-ms <median> / failover-max-ms / failed-connections-median / -max,
# RESULT header-failover-ms <median> / header-failover-max-ms / auth-baseline-ms. Anything that
# does not work (a component does not start, no failover within 15 s) ends the run: exit 1,
# no figures.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$TOP/tests/netns/lib.sh"
. "$TOP/tests/netns/balance-lib.sh"

ROUNDS=${1:-10}
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 30)) || nb__die "ROUNDS: 1..30"
nb_require_root
nb_require_cmd ip nft curl apache2 python3
[ -x "$GR_AUTHD" ] && [ -x "$GR_NFQ" ] && [ -x "$GR_CTL" ] || nb__die "build first (make)"

gr_topology >/dev/null || nb__die "topology"
gr_install || nb__die "configurations"
for n in 1 2 3; do
	gr_start_sp "$n" >/dev/null || nb__die "sp$n did not start"
done
gr_start_header 1 >/dev/null || nb__die "h1 did not start"
gr_start_header 2 >/dev/null || nb__die "h2 did not start"
gr_start_ss >/dev/null || nb__die "the SS did not start"

NEXT=0
# a fresh client authenticated onto sp N (tries up to 30 fresh addresses): prints its index
client_on() {
	local n=$1 i page
	for _ in $(seq 30); do
		i=$NEXT
		NEXT=$((NEXT + 1))
		gr_ctl ss auth web "$(gr_client_addr "$i")" >/dev/null || continue
		page=$(gr_get "$i" 2>/dev/null) || continue
		[ "$page" = "web on sp$n" ] && { echo "$i"; return 0; }
	done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# a new connection every 50 ms, each on its own thread (tests/netns/grprobe.py: one
# process, no program started per attempt), until OUT.stop exists: "start_ms end_ms page"
loop() { # I OUT
	nb_exec client python3 "$TOP/tests/netns/grprobe.py" "$(gr_client_addr "$1")" 198.19.0.10 \
		"$2" "$2.stop" 50
}

FO=()
FAILS=()
for r in $(seq "$ROUNDS"); do
	c=$(client_on 1) || nb__die "round $r: no client lands on sp1"
	out=$NB_RUNDIR/round-$r
	loop "$c" "$out" &
	lp=$!
	sleep 0.5
	t_kill=$(now_ms)
	gr_kill_sp 1 "${TAG:-}"
	sleep 7 # the probe writes its file at the end: give the failover time (goal 3 s) and more
	touch "$out.stop"
	wait "$lp"
	awk -v t="$t_kill" '$1 > t && $3 == "web" && $5 != "sp1"' "$out" | grep -q . ||
		nb__die "round $r: no failover within 7 s"
	# the first success through another SP, by its end; the failures: attempts started after
	# the kill and before that one started
	first=$(awk -v t="$t_kill" '$1 > t && $3 == "web" && $5 != "sp1" { print $2, $1 }' "$out" | sort -n | head -n 1)
	first_end=${first% *}
	first_start=${first#* }
	FO+=($((first_end - t_kill)))
	FAILS+=("$(awk -v t="$t_kill" -v f="$first_start" '$1 > t && $1 < f && $3 != "web"' "$out" | wc -l)")
	after=$(awk -v f="$first_end" '$1 >= f && $3 != "web"' "$out" | wc -l)
	[ "$after" -eq 0 ] || nb__die "round $r: $after new connection(s) failed after the failover"
	echo "# round $r: failover ${FO[-1]} ms, ${FAILS[-1]} failed new connection(s)" >&2
	TAG=.r$r
	gr_start_sp 1 "$TAG" >/dev/null || nb__die "round $r: sp1 did not restart"
done

# header failover: kill the header the SS uses (h1 first, then the other), time the next auth
auth_ms() { # I: ms of one coopnetctl auth
	local t0
	t0=$(now_ms)
	gr_ctl ss auth web "$(gr_client_addr "$1")" >/dev/null || return 1
	echo $(($(now_ms) - t0))
}
BASE=()
for _ in $(seq 5); do
	BASE+=("$(auth_ms "$NEXT")") || nb__die "auth with both headers up failed"
	NEXT=$((NEXT + 1))
done
HF=()
use=1
for r in $(seq "$ROUNDS"); do
	kill -KILL -- "-$(nb_pid "authd-h$use${HTAG[$use]:-}")" 2>/dev/null
	ms=$(auth_ms "$NEXT") || nb__die "header round $r: auth with h$use dead failed"
	NEXT=$((NEXT + 1))
	HF+=("$ms")
	echo "# header round $r: h$use killed, next auth $ms ms" >&2
	HTAG[$use]=.r$r
	gr__start_authd "h$use" "authd-h$use.r$r" >/dev/null || nb__die "h$use did not restart"
	use=$((3 - use)) # the SS now uses the other one
done

stats() { python3 -c "import statistics,sys; v=[int(x) for x in sys.argv[1:]]; print(int(statistics.median(v)), max(v))" "$@"; }
read -r fo_med fo_max <<<"$(stats "${FO[@]}")"
read -r f_med f_max <<<"$(stats "${FAILS[@]}")"
read -r h_med h_max <<<"$(stats "${HF[@]}")"
read -r b_med _ <<<"$(stats "${BASE[@]}")"
echo "RESULT failover-ms $fo_med"
echo "RESULT failover-max-ms $fo_max"
echo "RESULT failed-connections-median $f_med"
echo "RESULT failed-connections-max $f_max"
echo "RESULT header-failover-ms $h_med"
echo "RESULT header-failover-max-ms $h_max"
echo "RESULT auth-baseline-ms $b_med"
