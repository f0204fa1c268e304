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
#   sudo bench/auth_daemon.sh [--deployed[=kernel|queue]] [EXCHANGES] [SECONDS]
#                                                        (default 200000, 20: about a minute)
#   env: AUTH_CLIENTS (policy entries, 1000), AUTH_PER (addresses per entry, 16),
#        AUTH_WINDOW (exchanges in flight, 64), AUTH_SP_CPU (0), AUTH_GEN_CPU (1),
#        COOPNET_AUTHD, COOPNET_NFQ (other coopnet-authd / coopnet-nfq binaries, for a
#        before/after), AUTH_STATUS_MS (the SP's status interval, 60000: see below),
#        PERF_OUT=FILE (perf record -e cpu-clock -g of the SP's processes during the load;
#        PERF_CALLGRAPH=dwarf for call chains through libraries built without frame pointers)
#
# The status application: every live session gets a status report per interval (default 1 s),
# and the load generator runs none, so the SP probes each of its sessions' SSs instead: with
# 16,000 live sessions that is 16,000 datagrams a second beside the Authentications. The bench
# sets a 60 s interval to measure the Authentication path; AUTH_STATUS_MS=1000 measures both
# together (bench/status_daemon.sh measures the status application alone).
#
# First Authentications: after the load, which from its second pass over the client addresses
# on is renewals (an upsert of a live session under a new ID), a second load authenticates
# new clients (policy entries "f<e>" with the addresses 198.19.128.0 + e * PER, 32768 of them
# or 4096 entries, none of which has a session yet), each once: every exchange stores a new
# session, on a provider that holds the first load's sessions. Its rate, engine CPU, per engine core and latency are
# reported apart ("first Authentications"), beside the load's mix.
#
# --deployed (issue 11): the provider as deployed: the policy's vNIC is a macvlan on the SP's
# link (vnic_parent), the virtual switch is on (relay: the SP's address), coopnet-nfq runs in
# kernel mode (default) or queue mode with its rule file and receives every session. Then the
# CPU time of the parent and of coopnet-nfq is reported beside the engine's, the data plane
# must hold exactly the database's sessions after the load (coopnetctl dp-compare, and the
# switch's steer map), and the crash check runs: SIGKILL of coopnet-authd (parent and engine),
# a restart on the same database, and every session the SP acknowledged (its database before
# the kill) must be there and in the data plane again.
#
# The policy uses the test KDF ("kdf": "min" in authd.json, docs/authd.md): with the default
# Argon2id cost the daemon would spend about 80 ms per client entry at start. The KDF runs once
# per client at policy load; it is not part of an exchange, so the figure does not depend on it.
#
# Last lines: RESULT auth-per-s-daemon <n>, RESULT auth-per-engine-core-daemon <n>, RESULT
# auth-engine-parent-nfq-cpu <engine> <parent> <nfq>, RESULT auth-per-engine-core-first <n>
# (first Authentications), RESULT auth-latency-us-daemon <p50>, RESULT auth-per-s-inprocess
# <n>, RESULT auth-daemon-ratio <daemon/in-process>.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

DEPLOYED=
case ${1:-} in
--deployed | --deployed=kernel) DEPLOYED=kernel; shift ;;
--deployed=queue) DEPLOYED=queue; shift ;;
--deployed=*) nb__die "--deployed=kernel or --deployed=queue" ;;
esac
N=${1:-200000}
SECS=${2:-20}
CLIENTS=${AUTH_CLIENTS:-1000}
PER=${AUTH_PER:-16}
WINDOW=${AUTH_WINDOW:-64}
STATUS_MS=${AUTH_STATUS_MS:-60000}
SP_CPU=${AUTH_SP_CPU:-0}
GEN_CPU=${AUTH_GEN_CPU:-1}
AUTHD=${COOPNET_AUTHD:-$TOP/authd/coopnet-authd} # another build: the "before" of a comparison
CTL=$TOP/ctl/coopnetctl
NFQ=${COOPNET_NFQ:-$TOP/nfq/coopnet-nfq} # idem
LOAD=$TOP/bench/auth_load
INPROC=$TOP/bench/auth_bench

nb_require_root
nb_require_cmd ip taskset python3 sqlite3
BINS=("$AUTHD" "$CTL" "$LOAD" "$INPROC")
[ -z "$DEPLOYED" ] || { BINS+=("$NFQ"); nb_require_cmd nft; }
for b in "${BINS[@]}"; do
	[ -x "$b" ] || nb__die "build first (make; make bench/auth_load bench/auth_bench): $b"
done
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1000 && N <= 10000000)) || nb__die "EXCHANGES: 1000..10000000"
[[ $STATUS_MS =~ ^[0-9]+$ ]] && ((STATUS_MS >= 100 && STATUS_MS <= 3600000)) ||
	nb__die "AUTH_STATUS_MS: 100..3600000"
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 1 && SECS <= 100)) || nb__die "SECONDS: 1..100"
# the policy entry of client e holds the PER addresses 198.18.128.0 + e * PER (a /bits prefix)
case $PER in 1) BITS=32 ;; 2) BITS=31 ;; 4) BITS=30 ;; 8) BITS=29 ;; 16) BITS=28 ;; 32) BITS=27 ;;
*) nb__die "AUTH_PER: 1, 2, 4, 8, 16 or 32" ;; esac
((CLIENTS >= 1 && CLIENTS <= 4096 && CLIENTS * PER <= 32768)) ||
	nb__die "AUTH_CLIENTS * AUTH_PER must stay within 198.18.128.0/17 (32768 addresses)"
NCPU=$(nproc)
((SP_CPU < NCPU && GEN_CPU < NCPU)) || nb__die "CPU $SP_CPU or $GEN_CPU does not exist ($NCPU)"

# ---------------------------------------------------------------- topology
bench_link
bench_four_sources # four SSes: four source addresses

# ---------------------------------------------------------------- configuration
bench_workdir cn-authbench
NFQ_SOCK=
[ -z "$DEPLOYED" ] || NFQ_SOCK=$W/nfq.sock
cat >"$W/authd.json" <<JSON
{ "roles": ["provider"], "listen": ["198.18.0.2"], "policy": "$W/policy.json",
  "database": "$W/db/authd.db", "control_socket": "$W/authd.sock", "nfq_socket": "$NFQ_SOCK",
  "kdf": "min", "status": { "interval_ms": $STATUS_MS } }
JSON
F_CLIENTS=$((32768 / PER > 4096 ? 4096 : 32768 / PER)) # the first Authentications' entries
python3 - "$W" "$CLIENTS" "$PER" "$BITS" "$DEPLOYED" "$SP_IF" "$F_CLIENTS" <<'PY'
import ipaddress, json, sys
w, n, per, bits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
deployed, sp_if, nf = sys.argv[5], sys.argv[6], int(sys.argv[7])
base = int(ipaddress.IPv4Address("198.18.128.0"))
fresh = int(ipaddress.IPv4Address("198.19.128.0"))  # the first Authentications' clients
clients = [{"name": "%s%d" % (pre, e),
            "address": "%s/%d" % (ipaddress.IPv4Address(b + e * per), bits),
            "services": ["http"], "passcode_file": w + "/clients.pass"}
           for pre, b, k in (("c", base, n), ("f", fresh, nf)) for e in range(k)]
pol = {"group_key_file": w + "/group.key",
       "provider": {"vnics": [{"name": "vnic1", "address": "198.19.0.10",
                               "data_folder": w, "services": [{"name": "http", "port": 80}]}],
                    "clients": clients, "id_lifetime": 3600}}
if deployed:  # a macvlan vNIC on the SP's link, the virtual switch on (relay)
    pol["provider"]["vnic_parent"] = sp_if
    pol["provider"]["relay"] = ["198.18.0.2"]
    pol["provider"]["vnics"][0]["address"] = "198.18.0.20/24"
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY
if [ -n "$DEPLOYED" ]; then
	cat >"$W/nfq.json" <<JSON
{ "role": "provider", "mode": "$DEPLOYED", "queue": { "num": 0, "count": 1 },
  "services": [ { "address": "198.18.0.20", "port": 80 } ], "control_socket": "$W/nfq.sock" }
JSON
	RULES=provider.nft
	[ "$DEPLOYED" = queue ] || RULES=provider-kernel.nft
	nb_exec sp nft -f "$TOP/nft-rules/$RULES" || nb__die "nft -f nft-rules/$RULES failed"
	nb_exec sp nft add element inet coopnet protected4 '{ 198.18.0.20 . 80 }' ||
		nb__die "nft: the service in protected4"
fi

ctl() { "$CTL" -s "$W/authd.sock" "$@"; }
# a component that fails ends the run with a message and no figures (never a partial table)
fail() {
	echo "bench/auth_daemon.sh: $*: no figures" >&2
	[ ! -f "$(nb_log authd)" ] || tail -5 "$(nb_log authd)" >&2
	[ ! -f "$(nb_log authd2)" ] || tail -5 "$(nb_log authd2)" >&2
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
ticks() { bench_ticks "$@"; }
# csw PID: the context switches of process PID so far, voluntary and not, all its threads
csw() {
	local n=0 t v
	for t in /proc/"$1"/task/*/status; do
		v=$(awk '/ctxt_switches:/ { s += $2 } END { print s + 0 }' "$t" 2>/dev/null) || v=0
		n=$((n + v))
	done
	echo "$n"
}

# start_authd NAME: coopnet-authd on the SP's CPU; sets PARENT and ENGINE
start_authd() { bench_start_authd "$1" 60 taskset -c "$SP_CPU"; }
NFQPID=
if [ -n "$DEPLOYED" ]; then
	nb_bg sp nfq taskset -c "$SP_CPU" "$NFQ" --config "$W/nfq.json"
	nb_wait_for "coopnet-nfq control socket" 20 test -S "$W/nfq.sock" ||
		{ cat "$(nb_log nfq)" >&2; nb__die "coopnet-nfq did not start"; }
	NFQPID=$(nb_pid nfq)
fi
# --deployed: the data plane holds what the database holds; then the crash check
dp_in_step() { "$CTL" -s "$W/authd.sock" --nfq-socket "$W/nfq.sock" dp-compare >/dev/null 2>&1; }
steer_count() { # elements of the virtual switch's IPv4 steer map
	nb_exec sp nft -j list map inet coopnet_vswitch steer4 | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    if "map" in o:
        print(len(o["map"].get("elem", [])))'
}
db_sessions() { sqlite3 "$W/db/authd.db" "SELECT count(*) FROM sessions" || fail "sqlite3: sessions"; }
deployed_checks() {
	local naddr=$((CLIENTS * PER)) expect='' killed after
	# exchanges the load left unfinished take their prepared sessions out again
	nb_wait_for "the data plane holding the database's sessions" 60 dp_in_step ||
		fail "coopnetctl dp-compare: coopnet-nfq does not hold the database's sessions"
	DP_SESSIONS=$(db_sessions)
	STEER=$(steer_count) || fail "nft: the switch's steer map"
	[ "$STEER" -eq "$DP_SESSIONS" ] ||
		fail "the virtual switch steers $STEER sessions, the database holds $DP_SESSIONS"
	# distinct client addresses that completed an exchange: the load takes them in order and
	# skips a busy one only after it wrapped around; the first Authentications' addresses
	# each once (no wrap)
	if ((COMPLETED <= naddr)); then expect=$COMPLETED
	elif ((COMPLETED >= naddr + WINDOW)); then expect=$naddr; fi
	if [ -n "$expect" ]; then expect=$((expect + F_COMPLETED)); else expect=$DP_SESSIONS; fi
	[ "$DP_SESSIONS" -eq "$expect" ] ||
		fail "the database holds $DP_SESSIONS sessions, $expect client addresses completed an exchange"
	# crash: SIGKILL of both processes, a restart on the same database
	kill -KILL "$ENGINE" "$PARENT" 2>/dev/null || fail "SIGKILL of coopnet-authd"
	wait "$PARENT" 2>/dev/null || true # reaped here: no "Killed" line from the shell
	killed=$expect
	start_authd authd2
	after=$(db_sessions)
	[ "$after" -eq "$killed" ] ||
		fail "after SIGKILL and restart the database holds $after sessions, $killed were acknowledged"
	nb_wait_for "the data plane in step after the restart" 60 dp_in_step ||
		fail "after the restart coopnet-nfq does not hold the database's sessions"
	STEER_AFTER=$(steer_count) || fail "nft: the switch's steer map"
	[ "$STEER_AFTER" -eq "$after" ] ||
		fail "after the restart the switch steers $STEER_AFTER sessions, the database holds $after"
	CRASH="$killed acknowledged, $after in the database after SIGKILL + restart, data plane and switch in step"
}

t0=$(date +%s.%N)
start_authd authd
t1=$(date +%s.%N)
echo "# coopnet-authd provider up in $(python3 -c "print('%.1f' % ($t1 - $t0))") s with $CLIENTS + $F_CLIENTS client entries (kdf min), engine pid $ENGINE on CPU $SP_CPU"
if [ -n "$DEPLOYED" ]; then
	# the vNIC and the switch are the parent's work at start: both must be there
	nb_exec sp ip -br addr show | grep -q '198\.18\.0\.20/24' || fail "the vNIC (macvlan) is missing"
	nb_exec sp nft list map inet coopnet_vswitch steer4 >/dev/null ||
		fail "the virtual switch (table inet coopnet_vswitch) is missing"
	nb_wait_for "coopnet-authd reaching coopnet-nfq" 20 \
		sh -c "'$CTL' -s '$W/authd.sock' status | grep -qi 'data plane: up'" ||
		fail "coopnet-authd does not reach coopnet-nfq"
	echo "# deployed: vNIC macvlan 198.18.0.20 on $SP_IF, virtual switch on, coopnet-nfq ($DEPLOYED mode) pid $NFQPID on CPU $SP_CPU"
fi

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
par0=$(ticks "$PARENT")
nfq0=0
[ -z "$NFQPID" ] || nfq0=$(ticks "$NFQPID")
csw_eng0=$(csw "$ENGINE")
csw_par0=$(csw "$PARENT")
csw_nfq0=0
[ -z "$NFQPID" ] || csw_nfq0=$(csw "$NFQPID")
if [ -n "${PERF_OUT:-}" ]; then
	nb_require_cmd perf
	PIDS=$ENGINE,$PARENT
	[ -z "$NFQPID" ] || PIDS=$PIDS,$NFQPID
	rm -f "$PERF_OUT" # never a profile of an earlier run
	perf record -e cpu-clock --call-graph "${PERF_CALLGRAPH:-fp}" -p "$PIDS" -o "$PERF_OUT" -- sleep "$((SECS < 8 ? SECS : 8))" >/dev/null 2>&1 &
	PERF_PID=$!
	perf_stop() { kill -TERM "$PERF_PID" 2>/dev/null || true; } # gone unless the bench failed
	nb_at_cleanup perf_stop
fi
BOPTS=()
for s in "${SRCS[@]}"; do BOPTS+=(-b "$s"); done
# run_load FIRST PREFIX ENTRIES N: one run of bench/auth_load from the SS addresses, for the
# client addresses FIRST + i of the policy entries PREFIX<e> (PER each); its output in
# LOAD_OUT, its status in LOAD_RC. load_result LABEL: its lines as comments, then LOAD_LINE,
# its result; a failed run ends the bench. Apart, so that the CPU is read right after the run.
run_load() {
	set +e
	LOAD_OUT=$(nb_exec gen taskset -c "$GEN_CPU" "$LOAD" -t 198.18.0.2 "${BOPTS[@]}" -a "$1" \
		-P "$2" -c "$3" -A "$PER" -p "$W/clients.pass" -n "$4" -w "$WINDOW" -T "$SECS")
	LOAD_RC=$?
	set -e
}
load_result() {
	echo "$LOAD_OUT" | grep -v '^LOAD ' | sed "s/^/# $1/"
	daemon_alive
	[ "$LOAD_RC" -eq 0 ] || fail "bench/auth_load ($1) failed with status $LOAD_RC"
	LOAD_LINE=$(grep '^LOAD ' <<<"$LOAD_OUT") || fail "bench/auth_load ($1) printed no LOAD line"
}
# committed_since VAR OK0 N: wait until the SP committed N exchanges since auth-ok was OK0 (its
# last Auth-REPs may still queue); VAR, how many it did
committed_at_least() { [ $(($(stat_of auth-ok) - $1)) -ge "$2" ]; }
committed_since() {
	nb_wait_for "the SP committed every completed exchange" 10 committed_at_least "$2" "$3" || true
	printf -v "$1" '%d' $(($(stat_of auth-ok) - $2))
}
run_load 198.18.128.0 c "$CLIENTS" "$N"
eng1=$(ticks "$ENGINE")
par1=$(ticks "$PARENT")
nfq1=0
[ -z "$NFQPID" ] || nfq1=$(ticks "$NFQPID")
csw_eng1=$(csw "$ENGINE")
csw_par1=$(csw "$PARENT")
csw_nfq1=0
[ -z "$NFQPID" ] || csw_nfq1=$(csw "$NFQPID")
[ -z "${PERF_PID:-}" ] || wait "$PERF_PID" || fail "perf record failed (PERF_OUT=$PERF_OUT)"
load_result "the load: "
read -r _ _ COMPLETED _ FAILED _ LSECS _ RATE _ P50 _ P99 _ RST _ RETRANS _ LATE <<<"$LOAD_LINE"
# every completed exchange must be committed by the SP
committed_since COMMITTED "$ok0" "$COMPLETED"
DROPS=$(($(udp_drops) - drop0))
HZ=$(getconf CLK_TCK)
ENG_CPU=$(python3 -c "print('%.2f' % (($eng1 - $eng0) / $HZ / $LSECS))")
PAR_CPU=$(python3 -c "print('%.2f' % (($par1 - $par0) / $HZ / $LSECS))")
NFQ_CPU=$(python3 -c "print('%.2f' % (($nfq1 - $nfq0) / $HZ / $LSECS))")
ALL_PER_CORE=$(python3 -c "c = $ENG_CPU + $PAR_CPU + $NFQ_CPU; print('%.0f' % ($RATE / c if c > 0 else 0))")
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
# context switches per completed exchange: the processes share the SP's core, so fewer
# switches per exchange is more work per wake-up (the bench's rate follows it)
CSW=$(python3 -c "n = max($COMPLETED, 1); print('%.2f / %.2f / %.2f' % (($csw_eng1 - $csw_eng0) / n, ($csw_par1 - $csw_par0) / n, ($csw_nfq1 - $csw_nfq0) / n))")
PER_CORE=$(python3 -c "c = $ENG_CPU; print('%.0f' % ($RATE / c if c > 0 else 0))")

# ---------------------------------------------------------------- first Authentications
# new clients, each once (see the top)
NFRESH=$((F_CLIENTS * PER))
ok0=$(stat_of auth-ok)
eng0=$(ticks "$ENGINE")
run_load 198.19.128.0 f "$F_CLIENTS" "$NFRESH"
eng1=$(ticks "$ENGINE")
load_result "first Authentications: "
read -r _ _ F_COMPLETED _ F_FAILED _ F_SECS _ F_RATE _ F_P50 _ F_P99 _ <<<"$LOAD_LINE"
committed_since F_COMMITTED "$ok0" "$F_COMPLETED"
F_ENG_CPU=$(python3 -c "print('%.2f' % (($eng1 - $eng0) / $HZ / $F_SECS))")
F_PER_CORE=$(python3 -c "c = $F_ENG_CPU; print('%.0f' % ($F_RATE / c if c > 0 else 0))")
if [ "$F_FAILED" -ne 0 ] || [ "$F_COMMITTED" -lt "$F_COMPLETED" ]; then
	fail "first Authentications: $F_FAILED failed, $F_COMMITTED of $F_COMPLETED committed (see $(nb_log authd))"
fi
SESSIONS=$(sqlite3 "$W/db/authd.db" "SELECT count(*) FROM sessions") || fail "sqlite3: sessions"
REPLAY=$(sqlite3 "$W/db/authd.db" "SELECT count(*) FROM replay") || fail "sqlite3: replay"
DB_ERR=$(stat_of db-errors)
# the engine's counters that moved (retransmissions, gate, drops: where an exchange waited)
ctl --json stats authd | python3 -c '
import json, sys
print("# coopnet-authd counters:", " ".join("%s=%s" % (k, v) for k, v in sorted(json.load(sys.stdin).items())
      if isinstance(v, int) and v))' || fail "coopnetctl stats authd"
RATIO=$(python3 -c "print('%.3f' % ($RATE / $INPROC_RATE))")
daemon_alive
if [ "$FAILED" -ne 0 ] || [ "$COMMITTED" -lt "$COMPLETED" ]; then
	fail "$FAILED exchanges failed, $COMMITTED of $COMPLETED committed (see $(nb_log authd))"
fi
[ -z "$DEPLOYED" ] || deployed_checks

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
| parent CPU / coopnet-nfq CPU (cores busy during the load) | $PAR_CPU / $NFQ_CPU |
| exchanges/s per core of engine + parent + coopnet-nfq | $ALL_PER_CORE |
| first Authentications (new clients, after the load): completed / exchanges/s / engine CPU / per engine core | $F_COMPLETED / $F_RATE / $F_ENG_CPU / $F_PER_CORE |
| first Authentications: latency p50 / p99 (us) | $F_P50 / $F_P99 |
| context switches per exchange: engine / parent / coopnet-nfq (threads summed) | $CSW |
| load average of the machine at the end (1, 5, 15 min) | $LOADAVG |
| the SP's status interval (AUTH_STATUS_MS) | $STATUS_MS ms |
EOF
[ -z "$DEPLOYED" ] || cat <<EOF
| deployed: coopnet-nfq mode / sessions in the database, in coopnet-nfq, steered by the switch | $DEPLOYED / $DP_SESSIONS, in step, $STEER |
| deployed: crash check | $CRASH |
EOF
cat <<EOF
| sessions / replay digests in the database after the run | $SESSIONS / $REPLAY |
| database errors (stats db-errors) | $DB_ERR |
| in-process SP state machine, no database (bench/auth_bench, same CPU) | $INPROC_RATE/s, p50 $INPROC_P50 us |
| daemon / in-process | $RATIO |
EOF
[ -z "${PERF_OUT:-}" ] || echo "# profile of the engine: perf report -i $PERF_OUT --no-children"
echo "RESULT auth-per-s-daemon $RATE"
echo "RESULT auth-per-engine-core-daemon $PER_CORE"
echo "RESULT auth-engine-parent-nfq-cpu $ENG_CPU $PAR_CPU $NFQ_CPU"
echo "RESULT auth-per-engine-core-first $F_PER_CORE"
[ -z "$DEPLOYED" ] || echo "RESULT auth-deployed $DEPLOYED"
echo "RESULT auth-latency-us-daemon $P50"
echo "RESULT auth-per-s-inprocess $INPROC_RATE"
echo "RESULT auth-daemon-ratio $RATIO"
