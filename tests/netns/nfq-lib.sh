#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shared set-up of the coopnet-nfq integration tests (sourced by nfq-*.test after lib.sh).
#
#   cl (client) -- ss (SS router, coopnet-nfq supervisor) -- sp (SP, coopnet-nfq provider)
#                                                            |
#                                                 att (attacker, direct link to sp)
#
# Services on sp: 8080, 8081, 8082 (HTTP, protected/overlay), 5201 (iperf3, protected/overlay),
# 9090 (HTTP, not overlay).

NFQ_TOP=$(cd "$(dirname "$0")/../.." && pwd)
NFQ_BIN=${COOPNET_NFQ:-$NFQ_TOP/nfq/coopnet-nfq}
NFQ_CTL="/usr/bin/python3 $NFQ_TOP/tests/netns/nfqctl.py"
NFQ_PY=/usr/bin/python3
[ -x "$NFQ_BIN" ] || nb__die "$NFQ_BIN not built (run make first)"

C4=198.18.1.2 S4=198.18.2.2 A4=198.18.3.2
C6=2001:db8:1::2 S6=2001:db8:2::2 A6=2001:db8:3::2
ID=0x6141 # "aA"

nfq_topology() {
	nb_host cl
	nb_router ss
	nb_host sp
	nb_host att
	nb_link cl ss --v4 $C4/24 198.18.1.1/24 --v6 $C6/64 2001:db8:1::1/64
	nb_link ss sp --v4 198.18.2.1/24 $S4/24 --v6 2001:db8:2::1/64 $S6/64
	nb_link att sp --v4 $A4/24 198.18.3.1/24 --v6 $A6/64 2001:db8:3::1/64
	nb_route cl default 198.18.1.1
	nb_route cl default 2001:db8:1::1
	nb_route sp 198.18.1.0/24 198.18.2.1
	nb_route sp 2001:db8:1::/64 2001:db8:2::1
	nb_route att default 198.18.3.1
	nb_route att default 2001:db8:3::1
	# a deterministic body: the same segments with and without coopnet
	mkdir -p "$NB_RUNDIR/www"
	head -c 3000 /dev/zero | tr '\0' x >"$NB_RUNDIR/www/f"
	local p
	for p in 8080 8081 8082 9090; do
		nb_bg sp "http$p" $NFQ_PY -m http.server --bind :: --directory "$NB_RUNDIR/www" "$p"
	done
	nb_bg sp iperf3 iperf3 -s -p 5201
	for p in 8080 8081 8082 9090 5201; do nb_wait_port sp $p 10; done
}

# nfq_sets HOST FILE SET4 SET6 PORT...: load a rule file and fill its sets with sp's services
nfq_rules() {
	local host=$1 file=$2 s4=$3 s6=$4 p
	shift 4
	nb_exec "$host" nft -f "$NFQ_TOP/nft-rules/$file" || return 1
	for p in "$@"; do
		nb_exec "$host" nft add element inet coopnet "$s4" "{ $S4 . $p }" || return 1
		nb_exec "$host" nft add element inet coopnet "$s6" "{ $S6 . $p }" || return 1
	done
}

# nfq_config ROLE MODE FILE PORT...: write a config with sessions for cl on these ports
nfq_config() {
	local role=$1 mode=$2 file=$3 p sep='' svc='' ses=''
	shift 3
	for p in 8080 8081 8082 5201; do
		svc+="$sep{\"address\": \"$S4\", \"port\": $p}, {\"address\": \"$S6\", \"port\": $p}"
		sep=', '
	done
	sep=''
	for p in "$@"; do
		ses+="$sep{\"client\": \"$C4\", \"service\": \"$S4\", \"port\": $p, \"id\": \"aA\"},"
		ses+=" {\"client\": \"$C6\", \"service\": \"$S6\", \"port\": $p, \"id\": \"aA\"}"
		sep=', '
	done
	cat >"$file" <<JSON
{
  "role": "$role",
  "mode": "$mode",
  "queue": {"num": 0, "count": 2},
  "services": [$svc],
  "sessions": [$ses],
  "control_socket": "$NB_RUNDIR/$role.sock",
  "miss_hold_ms": 1500,
  "rewrite": "${REWRITE:-mark}"
}
JSON
}

# nfq_start HOST NAME CONFIG: start a worker and wait until its control socket answers
nfq_start() {
	nb_bg "$1" "$2" "$NFQ_BIN" -v --config "$3" || return 1
	nb_wait_for "$2 control socket" 10 nfq_ctl "$3" '{"cmd": "status"}'
}

# nfq_ctl CONFIG JSON: one control request to the worker of CONFIG
nfq_ctl() {
	local sock
	sock=$(sed -n 's/.*"control_socket": "\(.*\)".*/\1/p' "$1")
	$NFQ_CTL "$sock" "$2"
}

# nfq_stat CONFIG COUNTER
nfq_stat() {
	local sock
	sock=$(sed -n 's/.*"control_socket": "\(.*\)".*/\1/p' "$1")
	$NFQ_CTL "$sock" --get "stats.stats.$2"
}

# nfq_get HOST ADDR PORT: fetch the test file from sp (3 s at most), compare it
nfq_get() {
	local host=$1 addr=$2 port=$3 url
	if [[ $addr == *:* ]]; then url="http://[$addr]:$port/f"; else url="http://$addr:$port/f"; fi
	nb_exec "$host" curl -sS --max-time 3 -o "$NB_RUNDIR/got" "$url" &&
		cmp -s "$NB_RUNDIR/got" "$NB_RUNDIR/www/f"
}

# nfq_follow_wait MODE: after a change of the rule file's sets, let kernel mode's workers
# copy it (they check the ruleset's generation every 100 ms, KMODE_SVC_FOLLOW_MS; meanwhile
# the guard drops a new service's segments: fail closed)
nfq_follow_wait() {
	if [ "$1" = kernel ]; then nb_sleep 0.3; fi
}

# nfq_event_listeners HOST: netfilter netlink sockets in HOST's namespace that listen to the
# nftables event group (NFNLGRP_NFTABLES = 7, bit 0x40 of /proc/net/netlink's Groups): while
# one does, the kernel builds a notification of every element of every batch
nfq_event_listeners() {
	nb_exec "$1" cat /proc/net/netlink | {
		local n=0 sk eth pid groups rest
		read -r _ || true
		while read -r sk eth pid groups rest; do
			if [ "$eth" = 12 ] && (( 0x$groups & 0x40 )); then n=$((n + 1)); fi
		done
		echo "$n"
	}
}

nfq_no_get() {
	! nfq_get "$@"
}

# nfq_add_static CONFIG CLIENT SERVICE PORT: append a static session to a config file
nfq_add_static() {
	$NFQ_PY - "$@" <<'PY'
import json, sys
path, client, service, port = sys.argv[1:5]
cfg = json.load(open(path))
cfg["sessions"].append({"client": client, "service": service, "port": int(port), "id": "aA"})
json.dump(cfg, open(path, "w"), indent=1)
PY
}

# nfq_capture_start NAME FILTER [PEER] / nfq_capture_stop NAME: tcpdump on ss's interface
# toward PEER (default sp, the SS-SP wire)
nfq_capture_start() {
	local ifn
	ifn=$(nb_ifname ss "${3:-sp}")
	nb_bg ss "$1" tcpdump --immediate-mode -i "$ifn" -U -n -w "$NB_RUNDIR/$1.pcap" "$2" || return 1
	nb_wait_for "tcpdump $1" 10 grep -q "listening on" "$(nb_log "$1")"
}

nfq_capture_stop() {
	sleep 0.3
	nb_stop "$1"
}

# nfq_gt CONFIG COUNTER VALUE: the counter is above VALUE
nfq_gt() {
	local v
	v=$(nfq_stat "$1" "$2") || return 1
	[ "$v" -gt "$3" ]
}
