#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The time from a vNIC's service dying to the SS's profiled status database showing it down,
# with the DEFAULT settings (no "status" key: interval 1 s, miss_limit 2; HTTP check every 5 s
# with fall 3 and a 2 s time limit), on the overlay of examples/ in namespaces with real Apache: web1's vhost on sp1
# is removed (Apache graceful reload) ROUNDS times, and put back (up again) in between.
#
#   sudo bench/status.sh [ROUNDS]        (default 3)
#
# Baseline, from the same settings: the health-check time, fall x interval (the last of
# `fall` failing checks ends at most that long after the service died; a refused connect ends
# at once). Lines: RESULT status-down-ms <p50>, RESULT status-down-max-ms <max>,
# RESULT status-down-ratio <p50 / (fall x interval)>. A round that does not see the service
# down within 60 s fails the whole run (exit 1, no figures).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$TOP/tests/netns/lib.sh"
. "$TOP/tests/netns/overlay-lib.sh"

ROUNDS=${1:-3}
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 20)) || nb__die "ROUNDS: 1..20"
nb_require_root
nb_require_cmd ip nft curl apache2 python3 sqlite3
[ -x "$OV_AUTHD" ] && [ -x "$OV_NFQ" ] && [ -x "$OV_CTL" ] || nb__die "build first (make)"
HC_INTERVAL=5000 # defaults (docs/policy.md "Health checks")
HC_FALL=3

ov_topology || nb__die "the overlay's topology"
ov_install || nb__die "examples/install.sh into the run folder"
ov_start_sp sp1 >/dev/null || nb__die "sp1 did not start"
ov_start_sp sp2 >/dev/null || nb__die "sp2 did not start"
ov_start_header >/dev/null || nb__die "the header did not start"
ov_start_ss >/dev/null || nb__die "the SS did not start"
SSDB=$OV_RUN/ss/db/authd.db
state() { sqlite3 -readonly "$SSDB" "SELECT vnic_status FROM vnic_status WHERE vnic = 'web1'" 2>/dev/null; }
is() { [ "$(state)" = "$1" ]; }
nb_wait_for "web1 up at the SS" 60 is 1 || nb__die "web1 never showed up at the SS"
VH=$OV_RUN/sp1/vhosts/coopnet-web1.conf
graceful() { nb_exec sp1 apache2 -k graceful -f "$OV_RUN/sp1/apache2.conf"; }

times=()
for r in $(seq "$ROUNDS"); do
	mv "$VH" "$OV_RUN/web1.off"
	graceful || nb__die "apache graceful failed"
	t0=$(date +%s%N)
	nb_wait_for "web1 down (round $r)" 60 is 2 || nb__die "round $r: web1 not down after 60 s"
	t1=$(date +%s%N)
	times+=($(((t1 - t0) / 1000000)))
	echo "# round $r: down after ${times[-1]} ms" >&2
	mv "$OV_RUN/web1.off" "$VH"
	graceful || nb__die "apache graceful failed"
	nb_wait_for "web1 up again (round $r)" 60 is 1 || nb__die "round $r: web1 not up again"
done
p50=$(printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
max=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
echo "RESULT status-down-ms $p50"
echo "RESULT status-down-max-ms $max"
echo "RESULT status-down-ratio $(awk -v a="$p50" -v b=$((HC_FALL * HC_INTERVAL)) 'BEGIN {printf "%.2f", a / b}')"
