#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The time for one session change on the virtual switch (authd/vswitch.c) of a provider
# holding N sessions, in a private network namespace, for N in SIZES; and, measured in the same
# run as the baseline, one `nft -f` of the whole switch table as `nft list` prints it (the
# work the parent did per change before the switch changed by element).
#
#   sudo bench/vswitch.sh [ROUNDS] [SIZES...]          (default 50, sizes 0 1000 10000)
#
# Lines: RESULT vswitch-change-us-<N> <p50>, RESULT vswitch-nft-f-us-<N> <p50 of nft -f>,
# RESULT vswitch-ratio-<N> <nft -f / change>.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"

ROUNDS=${1:-50}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(0 1000 10000)
BENCH=$TOP/bench/vswitch_bench

nb_require_root
nb_require_cmd ip nft python3
[ -x "$BENCH" ] || nb__die "build first (make bench/vswitch_bench): $BENCH"
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 1000)) || nb__die "ROUNDS: 1..1000"

nb_host sp
W=$(mktemp -d /tmp/cn-vsbench.XXXXXX)
nb_at_cleanup rm -rf "$W"

# p50 of the microsecond figures on stdin
p50() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print 0}'; }

for n in "${SIZES[@]}"; do
	[[ $n =~ ^[0-9]+$ ]] && ((n <= 60000)) || nb__die "SIZES: 0..60000, not '$n'"
done
# the RESULT lines wait for the last size: a failure at any size prints no figures
RESULTS=()
for n in "${SIZES[@]}"; do
	out=$(nb_exec sp "$BENCH" "$n" "$ROUNDS") || nb__die "vswitch_bench $n $ROUNDS failed"
	change=$(awk '{print $4}' <<<"$out")
	# the baseline: the whole table through nft -f, as the parent loaded it per change (the
	# steer maps, keyed by client . ID . port, declared with typeof, as the text had them: nft
	# needs it to check the urgent pointer against the map's key)
	{ echo "table inet coopnet_vswitch {}"; echo "delete table inet coopnet_vswitch"
	  nb_exec sp nft list table inet coopnet_vswitch |
		sed -e 's/type ipv4_addr \. inet_service \. inet_service : ipv4_addr/typeof ip saddr . tcp urgptr . tcp dport : ip daddr/' \
		    -e 's/type ipv6_addr \. inet_service \. inet_service : ipv6_addr/typeof ip6 saddr . tcp urgptr . tcp dport : ip6 daddr/'
	} >"$W/table.nft" || nb__die "nft list of the switch table failed"
	: >"$W/nftf.us"
	for ((r = 0; r < ROUNDS; r++)); do # not in a pipeline: nb__die must end the bench
		t0=$(date +%s%N)
		nb_exec sp nft -f "$W/table.nft" || nb__die "nft -f of the listed table failed"
		echo $((($(date +%s%N) - t0) / 1000)) >>"$W/nftf.us"
	done
	nftf=$(p50 <"$W/nftf.us")
	[[ $change =~ ^[0-9]+$ ]] || nb__die "vswitch_bench $n printed no change time: '$out'"
	nb_exec sp nft delete table inet coopnet_vswitch || nb__die "nft delete of the switch table failed"
	echo "sessions $n: one change p50 ${change} us ($out); nft -f of the table p50 ${nftf} us"
	RESULTS+=("RESULT vswitch-change-us-$n $change" "RESULT vswitch-nft-f-us-$n $nftf"
		"$(python3 -c "import sys; print('RESULT vswitch-ratio-%s %.1f' % (sys.argv[1], int(sys.argv[2]) / max(1, int(sys.argv[3]))))" "$n" "$nftf" "$change")")
done
printf '%s\n' "${RESULTS[@]}"
