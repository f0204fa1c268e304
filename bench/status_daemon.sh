#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The SP's CPU for N live sessions reporting at the default status interval, measured on a
# real coopnet-authd provider (parent + engine, sqlite database) over real UDP between two
# network namespaces, against the same daemon idle (no session) in the same run; and the
# status traffic per session per minute it sends.
#
#   gen (198.18.0.1, .11-.14) ---- veth ---- sp (198.18.0.2:7447, coopnet-authd provider)
#
#   sudo bench/status_daemon.sh [SESSIONS] [SECONDS]     (default 5000, 60)
#
# 1. idle: the daemon with its policy and no session, SECONDS long: CPU seconds per minute of
#    the parent and the engine (/proc/PID/stat utime + stime).
# 2. SESSIONS real Authentications (bench/auth_load, four SS source addresses, kdf "min" as in
#    bench/auth_daemon.sh): each session then has a status machine that sends info_vNIC to
#    its SS every interval (the default: 1 s, miss limit 2, docs/authd.md). After 12 s of
#    settling (past the unreachable mark, so the probes are steady), SECONDS long:
#    the same CPU figure, and the UDP datagrams and bytes the SP sends from port 7447 (an nft
#    counter in sp's output hook; nothing else is sent from that port once the
#    Authentications are over).
# What is NOT in the figure: the load generator does not run a status application, so no
# info_client comes back; the SP's side of a real exchange also decodes, verifies and stores
# one report per session per interval (the SP then marks the SSs unreachable after miss_limit
# intervals and sends Status-REQ probes instead of Status-REPs: the same count and size).
#
# Lines: RESULT status-sp-cpu-s-per-min <busy>, RESULT status-sp-idle-cpu-s-per-min <idle>,
# RESULT status-sp-cpu-ratio <busy/idle>, RESULT status-sp-datagrams-per-session-min <n>,
# RESULT status-sp-bytes-per-session-min <n>. A component that fails ends the run (exit 1,
# no figures).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

N=${1:-5000}
SECS=${2:-60}
AUTHD=$TOP/authd/coopnet-authd
CTL=$TOP/ctl/coopnetctl
LOAD=$TOP/bench/auth_load
CLIENTS=1000
PER=16

nb_require_root
nb_require_cmd ip nft python3 sqlite3
for b in "$AUTHD" "$CTL" "$LOAD"; do
	[ -x "$b" ] || nb__die "build first (make; make bench/auth_load): $b"
done
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 16000)) || nb__die "SESSIONS: 1..16000"
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 10 && SECS <= 600)) || nb__die "SECONDS: 10..600"

fail() {
	echo "bench/status_daemon.sh: $*: no figures" >&2
	[ ! -f "$(nb_log authd)" ] || tail -5 "$(nb_log authd)" >&2
	exit 1
}

# ---------------------------------------------------------------- topology, configuration
bench_link
bench_four_sources
bench_workdir cn-statusbench
# no "status" key: the default interval and miss limit (docs/authd.md)
cat >"$W/authd.json" <<JSON
{ "roles": ["provider"], "listen": ["198.18.0.2"], "policy": "$W/policy.json",
  "database": "$W/db/authd.db", "control_socket": "$W/authd.sock", "nfq_socket": "",
  "kdf": "min" }
JSON
python3 - "$W" "$CLIENTS" "$PER" <<'PY'
import ipaddress, json, sys
w, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = int(ipaddress.IPv4Address("198.18.128.0"))
clients = [{"name": "c%d" % e, "address": "%s/28" % ipaddress.IPv4Address(base + e * per),
            "services": ["http"], "passcode_file": w + "/clients.pass"} for e in range(n)]
pol = {"group_key_file": w + "/group.key",
       "provider": {"vnics": [{"name": "vnic1", "address": "198.19.0.10",
                               "data_folder": w, "services": [{"name": "http", "port": 80}]}],
                    "clients": clients, "id_lifetime": 3600, "idle_time": 7200}}
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY
# what the SP sends from the cooperative port
nb_exec sp nft -f - <<'NFT' || fail "nft: the traffic counter"
table ip cnbench {
	counter status_out { }
	chain out { type filter hook output priority 0; udp sport 7447 counter name status_out; }
}
NFT

ctl() { "$CTL" -s "$W/authd.sock" "$@"; }
both() { echo $(($(bench_ticks "$PARENT") + $(bench_ticks "$ENGINE"))); }
alive() {
	kill -0 "$PARENT" 2>/dev/null && kill -0 "$ENGINE" 2>/dev/null ||
		fail "coopnet-authd (parent $PARENT, engine $ENGINE) exited during the run"
}
out_counter() { # packets bytes
	nb_exec sp nft list counter ip cnbench status_out |
		awk '/packets/ { for (i = 1; i <= NF; i++) { if ($i == "packets") p = $(i+1); if ($i == "bytes") b = $(i+1) } } END { print p, b }'
}
HZ=$(getconf CLK_TCK)
per_min() { python3 -c "print('%.3f' % ($1 / $HZ * 60 / $2))"; }

bench_start_authd authd 60
sleep 2

# ---------------------------------------------------------------- 1. idle
echo "# idle: $SECS s, no session"
c0=$(both); t0=$(date +%s.%N)
sleep "$SECS"
c1=$(both); t1=$(date +%s.%N)
alive
IDLE=$(per_min $((c1 - c0)) "$(python3 -c "print($t1 - $t0)")")

# ---------------------------------------------------------------- 2. N sessions
BOPTS=()
for s in "${SRCS[@]}"; do BOPTS+=(-b "$s"); done
set +e
load=$(nb_exec gen "$LOAD" -t 198.18.0.2 "${BOPTS[@]}" -a 198.18.128.0 -c "$CLIENTS" -A "$PER" \
	-p "$W/clients.pass" -n "$N" -w 64 -T 60)
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "bench/auth_load failed with status $rc"
read -r _ _ COMPLETED _ FAILED _ <<<"$(grep '^LOAD ' <<<"$load")" || fail "bench/auth_load printed no LOAD line"
LIVE=$(sqlite3 -readonly "$W/db/authd.db" "SELECT count(*) FROM sessions") || fail "sqlite3: sessions"
[ "$FAILED" -eq 0 ] && [ "$LIVE" -ge "$N" ] ||
	fail "$COMPLETED exchanges completed, $FAILED failed, $LIVE sessions stored (want $N)"
echo "# $LIVE live sessions from real Authentications; settling 12 s"
sleep 12
alive
read -r p0 b0 <<<"$(out_counter)"
c0=$(both); t0=$(date +%s.%N)
sleep "$SECS"
c1=$(both); t1=$(date +%s.%N)
read -r p1 b1 <<<"$(out_counter)"
alive
[ -n "$p0" ] && [ -n "$p1" ] || fail "the nft traffic counter could not be read"
DT=$(python3 -c "print($t1 - $t0)")
BUSY=$(per_min $((c1 - c0)) "$DT")
LIVE=$(sqlite3 -readonly "$W/db/authd.db" "SELECT count(*) FROM sessions") || fail "sqlite3: sessions"
DGM=$(python3 -c "print('%.2f' % (($p1 - $p0) * 60 / $DT / $LIVE))")
BYT=$(python3 -c "print('%.0f' % (($b1 - $b0) * 60 / $DT / $LIVE))")
RATIO=$(python3 -c "i = $IDLE; print('%.1f' % ($BUSY / i) if i > 0 else 'inf')")
SENT=$(ctl --json stats authd | python3 -c "import json, sys; d = json.load(sys.stdin); print(d.get('status-sent', 0), d.get('status-probe-sent', 0))") || fail "coopnetctl stats"
[ "$((p1 - p0))" -gt 0 ] || fail "the SP sent no status datagram in $SECS s"

cat <<EOF

| measure ($LIVE live sessions, default status interval, real coopnet-authd provider) | value |
|---|---|
| SP CPU, parent + engine, idle (no session), CPU s per minute | $IDLE |
| SP CPU, parent + engine, $LIVE sessions reporting, CPU s per minute | $BUSY |
| busy / idle | $RATIO |
| status datagrams sent per session per minute (IP packets, nft counter) | $DGM |
| status bytes sent per session per minute (IP packets) | $BYT |
| status-sent, status-probe-sent (coopnetctl stats authd) | $SENT |
EOF
echo "RESULT status-sp-cpu-s-per-min $BUSY"
echo "RESULT status-sp-idle-cpu-s-per-min $IDLE"
echo "RESULT status-sp-cpu-ratio $RATIO"
echo "RESULT status-sp-datagrams-per-session-min $DGM"
echo "RESULT status-sp-bytes-per-session-min $BYT"
