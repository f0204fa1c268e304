#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Authentications per second that one real coopnet-authd provider sustains (sqlite database,
# replay cache persisted, each session committed in WAL) over real UDP between two network
# namespaces, and the exchange latency; with the in-process figure of bench/auth_bench measured
# in the same run as the baseline.
#
#   gen (198.18.0.1, .11-.14) ---- veth ---- sp (198.18.0.2:7447, coopnet-authd provider)
#   bench/auth_load, CPU B                   pinned to CPU A (taskset), engine as "nobody"
#
#   sudo bench/auth_daemon.sh [EXCHANGES] [SECONDS]      (default 200000, 20: about a minute)
#   env: AUTH_CLIENTS (policy entries, 1000), AUTH_PER (addresses per entry, 16),
#        AUTH_WINDOW (exchanges in flight, 64), AUTH_SP_CPU (0), AUTH_GEN_CPU (1),
#        PERF_OUT=FILE (perf record -g of the engine during the load)
#
# The policy uses the test KDF ("kdf": "min" in authd.json, docs/authd.md): with the default
# Argon2id cost the daemon would spend about 80 ms per client entry at start. The KDF runs once
# per client at policy load; it is not part of an exchange, so the figure does not depend on it.
#
# Last lines: RESULT auth-per-s-daemon <n>, RESULT auth-latency-us-daemon <p50>,
# RESULT auth-per-s-inprocess <n>, RESULT auth-daemon-ratio <daemon/in-process>.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"

N=${1:-200000}
SECS=${2:-20}
CLIENTS=${AUTH_CLIENTS:-1000}
PER=${AUTH_PER:-16}
WINDOW=${AUTH_WINDOW:-64}
SP_CPU=${AUTH_SP_CPU:-0}
GEN_CPU=${AUTH_GEN_CPU:-1}
AUTHD=$TOP/authd/coopnet-authd
CTL=$TOP/ctl/coopnetctl
LOAD=$TOP/bench/auth_load
INPROC=$TOP/bench/auth_bench

nb_require_root
nb_require_cmd ip taskset python3 sqlite3
for b in "$AUTHD" "$CTL" "$LOAD" "$INPROC"; do
	[ -x "$b" ] || nb__die "build first (make; make bench/auth_load bench/auth_bench): $b"
done
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1000 && N <= 10000000)) || nb__die "EXCHANGES: 1000..10000000"
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 1 && SECS <= 100)) || nb__die "SECONDS: 1..100"
# the policy entry of client e holds the PER addresses 198.18.128.0 + e * PER (a /bits prefix)
case $PER in 1) BITS=32 ;; 2) BITS=31 ;; 4) BITS=30 ;; 8) BITS=29 ;; 16) BITS=28 ;; 32) BITS=27 ;;
*) nb__die "AUTH_PER: 1, 2, 4, 8, 16 or 32" ;; esac
((CLIENTS >= 1 && CLIENTS <= 4096 && CLIENTS * PER <= 32768)) ||
	nb__die "AUTH_CLIENTS * AUTH_PER must stay within 198.18.128.0/17 (32768 addresses)"
NCPU=$(nproc)
((SP_CPU < NCPU && GEN_CPU < NCPU)) || nb__die "CPU $SP_CPU or $GEN_CPU does not exist ($NCPU)"

# ---------------------------------------------------------------- topology
nb_host gen
nb_host sp
nb_link gen sp --v4 198.18.0.1/24 198.18.0.2/24
SRCS=(198.18.0.1)
GEN_IF=$(nb_ifname gen sp)
for i in 11 12 13 14; do # four SSes: four source addresses
	nb_exec gen ip addr add "198.18.0.$i/24" dev "$GEN_IF"
	SRCS+=("198.18.0.$i")
done

# ---------------------------------------------------------------- configuration
W=$(mktemp -d /tmp/cn-authbench.XXXXXX)
chmod 755 "$W"
nb_at_cleanup rm -rf "$W"
(umask 077; printf 'bench passcode %s\n' "$RANDOM$RANDOM" >"$W/clients.pass")
(umask 077; head -c32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$W/group.key")
cat >"$W/authd.json" <<JSON
{ "roles": ["provider"], "listen": ["198.18.0.2"], "policy": "$W/policy.json",
  "database": "$W/db/authd.db", "control_socket": "$W/authd.sock", "nfq_socket": "",
  "kdf": "min" }
JSON
python3 - "$W" "$CLIENTS" "$PER" "$BITS" <<'PY'
import ipaddress, json, sys
w, n, per, bits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = int(ipaddress.IPv4Address("198.18.128.0"))
clients = [{"name": "c%d" % e,
            "address": "%s/%d" % (ipaddress.IPv4Address(base + e * per), bits),
            "services": ["http"], "passcode_file": w + "/clients.pass"} for e in range(n)]
pol = {"group_key_file": w + "/group.key",
       "provider": {"vnics": [{"name": "vnic1", "address": "198.19.0.10",
                               "data_folder": w, "services": [{"name": "http", "port": 80}]}],
                    "clients": clients, "id_lifetime": 3600}}
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY

ctl() { "$CTL" -s "$W/authd.sock" "$@"; }
# a component that fails ends the run with a message and no figures (never a partial table)
fail() {
	echo "bench/auth_daemon.sh: $*: no figures" >&2
	[ ! -f "$(nb_log authd)" ] || tail -5 "$(nb_log authd)" >&2
	exit 1
}
stat_of() {
	local j
	j=$(ctl --json stats authd) || fail "coopnetctl stats failed (is coopnet-authd still running?)"
	python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))" <<<"$j" ||
		fail "coopnetctl stats: unreadable answer"
}
daemon_alive() {
	kill -0 "$PARENT" 2>/dev/null && kill -0 "$ENGINE" 2>/dev/null ||
		fail "coopnet-authd (parent $PARENT, engine $ENGINE) exited during the run"
}
ticks() { # utime + stime of a pid, in clock ticks
	local s
	s=$(cat "/proc/$1/stat")
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

t0=$(date +%s.%N)
nb_bg sp authd taskset -c "$SP_CPU" "$AUTHD" -d -f "$W/authd.json"
nb_wait_for "coopnet-authd control socket" 60 ctl status >/dev/null ||
	{ cat "$(nb_log authd)" >&2; nb__die "coopnet-authd did not start"; }
t1=$(date +%s.%N)
PARENT=$(nb_pid authd)
ENGINE=$(cat "/proc/$PARENT/task/$PARENT/children" 2>/dev/null | awk '{print $1}')
[ -n "$ENGINE" ] || nb__die "no engine process under coopnet-authd ($PARENT)"
echo "# coopnet-authd provider up in $(python3 -c "print('%.1f' % ($t1 - $t0))") s with $CLIENTS client entries (kdf min), engine pid $ENGINE on CPU $SP_CPU"

# ---------------------------------------------------------------- baseline: in-process
# The SP state machine with an in-memory replay cache and no database, on the daemon's CPU.
inproc=$(nb_exec gen taskset -c "$SP_CPU" "$INPROC" -n 50000) ||
	fail "bench/auth_bench (the in-process baseline) failed with status $?"
echo "$inproc" | sed 's/^/# auth_bench: /'
INPROC_RATE=$(awk '$1 == "RESULT" && $2 == "auth-per-s" { print $3 }' <<<"$inproc")
INPROC_P50=$(awk '$1 == "RESULT" && $2 == "auth-latency-us" { print $3 }' <<<"$inproc")
[ -n "$INPROC_RATE" ] && [ -n "$INPROC_P50" ] || fail "bench/auth_bench printed no RESULT lines"

# ---------------------------------------------------------------- the load
udp_drops() { nb_exec sp awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
ok0=$(stat_of auth-ok)
drop0=$(udp_drops)
eng0=$(ticks "$ENGINE")
if [ -n "${PERF_OUT:-}" ]; then
	nb_require_cmd perf
	perf record -g -p "$ENGINE" -o "$PERF_OUT" -- sleep "$((SECS < 8 ? SECS : 8))" >/dev/null 2>&1 &
	PERF_PID=$!
fi
BOPTS=()
for s in "${SRCS[@]}"; do BOPTS+=(-b "$s"); done
set +e
load=$(nb_exec gen taskset -c "$GEN_CPU" "$LOAD" -t 198.18.0.2 "${BOPTS[@]}" -a 198.18.128.0 \
	-c "$CLIENTS" -A "$PER" -p "$W/clients.pass" -n "$N" -w "$WINDOW" -T "$SECS")
load_rc=$?
set -e
eng1=$(ticks "$ENGINE")
[ -z "${PERF_PID:-}" ] || wait "$PERF_PID" || true
echo "$load" | grep -v '^LOAD ' | sed 's/^/# /'
daemon_alive
[ "$load_rc" -eq 0 ] || fail "bench/auth_load failed with status $load_rc"
grep -q '^LOAD ' <<<"$load" || fail "bench/auth_load printed no LOAD line"
read -r _ _ COMPLETED _ FAILED _ LSECS _ RATE _ P50 _ P99 _ RST _ RETRANS _ LATE <<<"$(grep '^LOAD ' <<<"$load")"
# every completed exchange must be committed by the SP (its last Auth-REPs may still queue)
committed() { [ $(($(stat_of auth-ok) - ok0)) -ge "$COMPLETED" ]; }
nb_wait_for "the SP committed every completed exchange" 10 committed || true
COMMITTED=$(($(stat_of auth-ok) - ok0))
DROPS=$(($(udp_drops) - drop0))
HZ=$(getconf CLK_TCK)
ENG_CPU=$(python3 -c "print('%.2f' % (($eng1 - $eng0) / $HZ / $LSECS))")
PER_CORE=$(python3 -c "c = $ENG_CPU; print('%.0f' % ($RATE / c if c > 0 else 0))")
SESSIONS=$(sqlite3 "$W/db/authd.db" "SELECT count(*) FROM sessions") || fail "sqlite3: sessions"
REPLAY=$(sqlite3 "$W/db/authd.db" "SELECT count(*) FROM replay") || fail "sqlite3: replay"
DB_ERR=$(stat_of db-errors)
RATIO=$(python3 -c "print('%.3f' % ($RATE / $INPROC_RATE))")
daemon_alive
if [ "$FAILED" -ne 0 ] || [ "$COMMITTED" -lt "$COMPLETED" ]; then
	fail "$FAILED exchanges failed, $COMMITTED of $COMPLETED committed (see $(nb_log authd))"
fi

cat <<EOF

| measure | value |
|---|---|
| coopnet-authd provider, completed exchanges/s (window $WINDOW, ${#SRCS[@]} SS addresses, $((CLIENTS * PER)) client addresses in $CLIENTS policy entries) | $RATE |
| exchanges completed / failed / committed by the SP | $COMPLETED / $FAILED / $COMMITTED |
| latency REQ sent -> REP&REQ received, p50 / p99 (us) | $P50 / $P99 |
| Auth-RST / REQ resent / late datagrams | $RST / $RETRANS / $LATE |
| datagrams the SP's UDP socket dropped (receive buffer full, /proc/net/snmp RcvbufErrors) | $DROPS |
| engine CPU (cores busy during the load) | $ENG_CPU |
| exchanges/s per engine core (rate / engine CPU) | $PER_CORE |
| sessions / replay digests in the database after the run | $SESSIONS / $REPLAY |
| database errors (stats db-errors) | $DB_ERR |
| in-process SP state machine, no database (bench/auth_bench, same CPU) | $INPROC_RATE/s, p50 $INPROC_P50 us |
| daemon / in-process | $RATIO |
EOF
[ -z "${PERF_OUT:-}" ] || echo "# profile of the engine: perf report -i $PERF_OUT --no-children"
echo "RESULT auth-per-s-daemon $RATE"
echo "RESULT auth-latency-us-daemon $P50"
echo "RESULT auth-per-s-inprocess $INPROC_RATE"
echo "RESULT auth-daemon-ratio $RATIO"
