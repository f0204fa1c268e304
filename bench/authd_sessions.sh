#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Live sessions on a deployed provider (issue 11): coopnet-authd (parent + engine) with a vNIC
# (macvlan), the virtual switch and coopnet-nfq (kernel mode), holding N sessions:
#   - memory: RSS of the parent, the engine and coopnet-nfq with no session and with N, bytes
#     per session = (RSS at N - RSS at 0) / N;
#   - restore: time from the start of coopnet-authd on a database of N sessions until the
#     switch and coopnet-nfq hold all of them (coopnetctl dp-compare in step);
#   - add: ADDS real Authentications (bench/auth_load over veth) on top of the N, rate and
#     exchanges per engine CPU second;
#   - revoke: REVOKES `coopnetctl revoke CLIENT`, one at a time (the time includes starting
#     coopnetctl), then the data plane in step;
#   - expire: EXPIRES of the N sessions expire at one moment: time until the database and the
#     data plane have dropped them;
#   - poll (POLL_S > 0, after the restore): the CPU of the parent, the engine and coopnet-nfq
#     over POLL_S seconds with N idle sessions, per status interval (STATUS_MS): what the
#     per-interval traffic poll costs at size N (docs/performance.md). POLL_ONLY=1 stops
#     after it (no adds, revocations, expiries).
# The N sessions are copies of one session made by a real Authentication (other client
# addresses of a /16 policy entry, other IDs), written to the database while the daemon is
# stopped: what a restart of a provider with N sessions finds.
#
#   sudo bench/authd_sessions.sh [N]          (default 50000; at most 60000, see below)
#   env: ADDS (2000), REVOKES (100), EXPIRES (10000), SESS_CPU (0), GEN_CPU (1),
#        STATUS_MS (the status interval, 60000: polls once a minute; 1000 is the default of a
#        deployment), POLL_S (0: no poll phase), POLL_ONLY (0),
#        BIN (the top directory of the build to run: another one for a before/after in one
#        session, e.g. main's built in a scratch copy), PROFILE (perf record prefix, below)
#
# One provider holds at most 65,535 live sessions: the ID is 16 bits and unique among the
# provider's sessions (docs/database.md, sessions_provider_id), so N + ADDS stays under it
# with room for the random ID choice. coopnet-nfq alone at 100,000 and 1,000,000 sessions:
# bench/sessions.sh.
#
# Exit status 0 with the figures, 1 and no figures when a component fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

N=${1:-50000}
ADDS=${ADDS:-2000}
REVOKES=${REVOKES:-100}
EXPIRES=${EXPIRES:-10000}
SP_CPU=${SESS_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
STATUS_MS=${STATUS_MS:-60000}
POLL_S=${POLL_S:-0}
POLL_ONLY=${POLL_ONLY:-0}
# BIN: another build's top directory (e.g. main's, for a before/after in one run)
BIN=${BIN:-$TOP}
AUTHD=$BIN/authd/coopnet-authd
CTL=$BIN/ctl/coopnetctl
LOAD=$BIN/bench/auth_load
NFQ=$BIN/nfq/coopnet-nfq

nb_require_root
nb_require_cmd ip taskset python3 sqlite3 nft
for b in "$AUTHD" "$CTL" "$LOAD" "$NFQ"; do
	[ -x "$b" ] || nb__die "build first (make; make bench/auth_load): $b"
done
# PROFILE=PREFIX: perf record (cpu-clock, DWARF call graphs) of the parent, the engine and
# coopnet-nfq during each phase, into PREFIX.restore.data, PREFIX.poll.data, PREFIX.add.data,
# PREFIX.revoke.data and PREFIX.expire.data
PROFILE=${PROFILE:-}
[ -z "$PROFILE" ] || nb_require_cmd perf
for v in N ADDS REVOKES EXPIRES STATUS_MS POLL_S POLL_ONLY; do [[ ${!v} =~ ^[0-9]+$ ]] || nb__die "$v: a number"; done
((N >= 1000 && N <= 60000)) || nb__die "N: 1000..60000 (16-bit IDs, unique per provider)"
((ADDS >= 64 && ADDS <= 4096 && REVOKES >= 1 && REVOKES <= 1000)) ||
	nb__die "ADDS 64..4096, REVOKES 1..1000"
((STATUS_MS >= 100 && STATUS_MS <= 600000 && POLL_S <= 3600)) ||
	nb__die "STATUS_MS 100..600000, POLL_S 0..3600"
((EXPIRES >= 1 && EXPIRES + REVOKES < N)) || nb__die "EXPIRES + REVOKES must stay under N"

fail() {
	echo "bench/authd_sessions.sh: $*: no figures" >&2
	for l in authd authd2 nfq; do [ ! -f "$(nb_log $l)" ] || tail -5 "$(nb_log $l)" >&2; done
	exit 1
}

# ---------------------------------------------------------------- topology and configuration
bench_link
bench_workdir cn-sessbench
cat >"$W/authd.json" <<JSON
{ "roles": ["provider"], "listen": ["198.18.0.2"], "policy": "$W/policy.json",
  "database": "$W/db/authd.db", "control_socket": "$W/authd.sock", "nfq_socket": "$W/nfq.sock",
  "kdf": "min", "status": { "interval_ms": $STATUS_MS } }
JSON
# 256 entries of a /28 for the load (4,096 addresses), one /16 for the copies
python3 - "$W" "$SP_IF" <<'PY'
import ipaddress, json, sys
w, sp_if = sys.argv[1], sys.argv[2]
base = int(ipaddress.IPv4Address("198.18.128.0"))
clients = [{"name": "c%d" % e, "address": "%s/28" % ipaddress.IPv4Address(base + e * 16),
            "services": ["http"], "passcode_file": w + "/clients.pass"} for e in range(256)]
clients.append({"name": "bulk", "address": "198.19.0.0/16", "services": ["http"],
                "passcode_file": w + "/clients.pass"})
pol = {"group_key_file": w + "/group.key",
       "provider": {"vnic_parent": sp_if, "relay": ["198.18.0.2"],
                    "vnics": [{"name": "vnic1", "address": "198.18.0.20/24", "data_folder": w,
                               "services": [{"name": "http", "port": 80}]}],
                    "clients": clients, "id_lifetime": 3600}}
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY
cat >"$W/nfq.json" <<JSON
{ "role": "provider", "mode": "kernel", "queue": { "num": 0, "count": 1 },
  "services": [ { "address": "198.18.0.20", "port": 80 } ], "control_socket": "$W/nfq.sock" }
JSON
nb_exec sp nft -f "$TOP/nft-rules/provider-kernel.nft" || nb__die "nft -f provider-kernel.nft"
nb_exec sp nft add element inet coopnet protected4 '{ 198.18.0.20 . 80 }' || nb__die "nft: protected4"

ctl() { "$CTL" --timeout 60000 -s "$W/authd.sock" --nfq-socket "$W/nfq.sock" "$@"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" || fail "no process $1"; }
ticks() { bench_ticks "$@"; }
db_count() { sqlite3 "$W/db/authd.db" "SELECT count(*) FROM sessions$1" || fail "sqlite3: sessions"; }
dp_in_step() { ctl dp-compare >/dev/null 2>&1; }
nfq_sessions() { ctl --json dp-compare | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_plane"])'; }
now_ms() { echo $(($(nb__now_us) / 1000)); }
start_authd() { bench_start_authd "$1" 120 taskset -c "$SP_CPU"; } # NAME: sets PARENT, ENGINE
PERF_PID=
prof_start() { # PHASE
	[ -n "$PROFILE" ] || return 0
	perf record -q -e cpu-clock -F 400 --call-graph dwarf,8192 -p "$PARENT,$ENGINE,$NFQPID" -o "$PROFILE.$1.data" \
		>/dev/null 2>&1 &
	PERF_PID=$!
	nb_at_cleanup prof_stop
}
prof_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
}
stop_authd() { # NAME
	nb_stop "$1"
	nb_wait_for "coopnet-authd gone" 20 sh -c "! test -S '$W/authd.sock' || ! '$CTL' -s '$W/authd.sock' status" >/dev/null 2>&1 || true
}
load() { # COUNT: real Authentications for the /28 entries; sets LOADLINE
	LOADLINE=$(nb_exec gen taskset -c "$GEN_CPU" "$LOAD" -t 198.18.0.2 -b 198.18.0.1 -a 198.18.128.0 \
		-c 256 -A 16 -p "$W/clients.pass" -n "$1" -w 32 -T 120 | grep '^LOAD ') ||
		fail "bench/auth_load failed"
}

nb_bg sp nfq taskset -c "$SP_CPU" "$NFQ" --config "$W/nfq.json"
nb_wait_for "coopnet-nfq control socket" 20 test -S "$W/nfq.sock" || fail "coopnet-nfq did not start"
NFQPID=$(nb_pid nfq)

# ---------------------------------------------------------------- 0 sessions
start_authd authd
nb_wait_for "the data plane link" 20 sh -c "'$CTL' -s '$W/authd.sock' status | grep -qi 'data plane: up'" ||
	fail "coopnet-authd does not reach coopnet-nfq"
sleep 2 # settle: the first session-sync, the switch
P0=$(rss_kb "$PARENT") E0=$(rss_kb "$ENGINE") Q0=$(rss_kb "$NFQPID")
# one real session: the template of the copies
load 64
[ "$(db_count " WHERE role = 'provider'")" -ge 1 ] || fail "no session after an Authentication"
stop_authd authd

# ---------------------------------------------------------------- N copies, written offline
NOW=$(date +%s)
EXP_AT=$((NOW + 3600))
python3 - "$W/db/authd.db" "$N" "$EXPIRES" "$REVOKES" <<'PY' || fail "writing the copies"
import ipaddress, sqlite3, sys, time
db, n, nexp, nrev = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = sqlite3.connect(db)
cols = [r[1] for r in c.execute("PRAGMA table_info(sessions)")]
t = c.execute("SELECT * FROM sessions WHERE role = 'provider' LIMIT 1").fetchone()
row = dict(zip(cols, t))
c.execute("DELETE FROM sessions")
c.execute("DELETE FROM client_status")
base = int(ipaddress.IPv4Address("198.19.0.0"))
far = int(time.time()) + 3600
rows = []
for i in range(n):
    r = dict(row)
    r["client"] = str(ipaddress.IPv4Address(base + 1 + i))
    r["client_name"] = "bulk"
    r["id"] = i + 1
    r["expires"] = far
    rows.append(tuple(r[k] for k in cols))
c.executemany("INSERT INTO sessions(%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))), rows)
c.commit()
PY
[ "$(db_count "")" -eq "$N" ] || fail "the database does not hold the $N copies"

# ---------------------------------------------------------------- N sessions: restore, memory
t0=$(now_ms)
start_authd authd2
prof_start restore
nb_wait_for "the data plane holding $N sessions" 300 dp_in_step || fail "dp-compare: not in step with $N sessions"
t1=$(now_ms)
prof_stop
RESTORE_MS=$((t1 - t0))
STEER=$(nb_exec sp nft -j list map inet coopnet_vswitch steer4 | python3 -c '
import json, sys
print(sum(len(o["map"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "map" in o))') ||
	fail "nft: the steer map"
[ "$STEER" -eq "$N" ] || fail "the switch steers $STEER sessions, not $N"
sleep 2
P1=$(rss_kb "$PARENT") E1=$(rss_kb "$ENGINE") Q1=$(rss_kb "$NFQPID")

# ---------------------------------------------------------------- the traffic poll at size N
# CPU ticks of each process over POLL_S seconds of N idle sessions, per status interval
if ((POLL_S > 0)); then
	HZ=$(getconf CLK_TCK)
	sleep 2
	prof_start poll
	e0=$(ticks "$ENGINE") p0=$(ticks "$PARENT") q0=$(ticks "$NFQPID")
	sleep "$POLL_S"
	e1=$(ticks "$ENGINE") p1=$(ticks "$PARENT") q1=$(ticks "$NFQPID")
	prof_stop
	kill -0 "$PARENT" "$ENGINE" "$NFQPID" 2>/dev/null || fail "a daemon exited during the poll phase"
	POLL_LINE=$(python3 -c "
n = $POLL_S * 1000 / $STATUS_MS
print('%.1f / %.1f / %.1f' % tuple(1000.0 * d / $HZ / n for d in ($e1 - $e0, $p1 - $p0, $q1 - $q0)))")
	cat <<EOF

| $N idle sessions, status interval $STATUS_MS ms, $POLL_S s | value |
|---|---|
| CPU ms per status interval: engine / parent / coopnet-nfq | $POLL_LINE |
| RSS at 0 / at N, kB: parent, engine, coopnet-nfq | $P0 / $P1, $E0 / $E1, $Q0 / $Q1 |
| restore | $RESTORE_MS ms |
| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
	echo "RESULT authd-sessions $N poll-cpu-ms-per-interval engine/parent/nfq $POLL_LINE"
	((POLL_ONLY == 0)) || exit 0
fi

# ---------------------------------------------------------------- add at size N
prof_start add
e0=$(ticks "$ENGINE") p0=$(ticks "$PARENT") q0=$(ticks "$NFQPID")
load "$ADDS"
e1=$(ticks "$ENGINE") p1=$(ticks "$PARENT") q1=$(ticks "$NFQPID")
prof_stop
read -r _ _ ADDED _ AFAILED _ ASECS _ ARATE _ AP50 _ AP99 _ <<<"$LOADLINE"
[ "$AFAILED" -eq 0 ] || fail "$AFAILED Authentications failed at $N sessions"
nb_wait_for "the data plane with the added sessions" 120 dp_in_step || fail "dp-compare after the adds"
HZ=$(getconf CLK_TCK)
ADD_ENGINE=$(python3 -c "print('%.0f' % ($ADDED / (($e1 - $e0) / $HZ)) if $e1 > $e0 else 'n/a')")

# ---------------------------------------------------------------- revoke at size N
prof_start revoke
t0=$(now_ms)
for ((i = 0; i < REVOKES; i++)); do
	"$CTL" -s "$W/authd.sock" revoke "198.19.$((((i + 1) >> 8) & 255)).$(((i + 1) & 255))" >/dev/null ||
		fail "coopnetctl revoke failed"
done
t1=$(now_ms)
nb_wait_for "the data plane without the revoked sessions" 120 dp_in_step || fail "dp-compare after the revocations"
t2=$(now_ms)
prof_stop
REV_MS=$((t1 - t0)) REV_DP_MS=$((t2 - t0))
LEFT=$(db_count " WHERE client LIKE '198.19.%'")
[ "$LEFT" -eq $((N - REVOKES)) ] || fail "$LEFT copies left after $REVOKES revocations of $N"

# ---------------------------------------------------------------- expire at size N
# EXPIRES sessions get an expiry 3 s ahead through the daemon's own database connection's
# view: written while it runs (WAL), as an operator's tool would; the engine's one-second tick
# finds them (db_session_expire).
EXP_AT=$(($(date +%s) + 3))
prof_start expire
sqlite3 "$W/db/authd.db" "PRAGMA busy_timeout = 5000; UPDATE sessions SET expires = $EXP_AT WHERE rowid IN
	(SELECT rowid FROM sessions WHERE client LIKE '198.19.%' ORDER BY id DESC LIMIT $EXPIRES)" ||
	fail "sqlite3: setting the expiries"
expired() { [ "$(db_count " WHERE client LIKE '198.19.%'")" -le $((N - REVOKES - EXPIRES)) ]; }
nb_wait_for "the expired sessions gone from the database" 120 expired || fail "the sessions did not expire"
t1=$(now_ms)
nb_wait_for "the data plane without the expired sessions" 120 dp_in_step || fail "dp-compare after the expiry"
t2=$(now_ms)
prof_stop
EXP_DB_MS=$((t1 - EXP_AT * 1000)) EXP_DP_MS=$((t2 - EXP_AT * 1000))
FINAL=$(db_count "")
DP_FINAL=$(nfq_sessions) || fail "coopnetctl dp-sessions"
[ "$DP_FINAL" -eq "$FINAL" ] || fail "coopnet-nfq holds $DP_FINAL sessions, the database $FINAL"
kill -0 "$PARENT" "$ENGINE" "$NFQPID" 2>/dev/null || fail "a daemon exited during the run"
ERRS=$(ctl --json stats authd | python3 -c 'import json,sys; print(json.load(sys.stdin).get("db-errors", 0))')

bps() { python3 -c "print('%.0f' % (($2 - $1) * 1024 / $N))"; }
cat <<EOF

| $N live sessions, deployed provider (vNIC, switch, coopnet-nfq kernel mode) | value |
|---|---|
| RSS at 0 / at N, kB: parent | $P0 / $P1 ($(bps "$P0" "$P1") bytes per session) |
| RSS at 0 / at N, kB: engine | $E0 / $E1 ($(bps "$E0" "$E1") bytes per session) |
| RSS at 0 / at N, kB: coopnet-nfq | $Q0 / $Q1 ($(bps "$Q0" "$Q1") bytes per session) |
| restore: start of coopnet-authd on N sessions -> switch and coopnet-nfq hold them | $RESTORE_MS ms |
| add at size N: $ADDED Authentications, completed/s (wall) | $ARATE |
| add at size N: exchanges per engine CPU second; engine / parent / nfq CPU s | $ADD_ENGINE; $(python3 -c "print('%.2f / %.2f / %.2f' % (($e1-$e0)/$HZ, ($p1-$p0)/$HZ, ($q1-$q0)/$HZ))") |
| add at size N: latency p50 / p99 (us) | $AP50 / $AP99 |
| revoke at size N: $REVOKES revocations one at a time (coopnetctl each) | $REV_MS ms ($((REV_MS / REVOKES)) ms each); data plane in step after $REV_DP_MS ms |
| expire at size N: $EXPIRES sessions at one second -> gone from the database / data plane | $EXP_DB_MS / $EXP_DP_MS ms |
| sessions at the end: database / coopnet-nfq; db-errors | $FINAL / $DP_FINAL; $ERRS |
| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
echo "RESULT authd-sessions $N bytes-per-session parent $(bps "$P0" "$P1") engine $(bps "$E0" "$E1") nfq $(bps "$Q0" "$Q1")"
echo "RESULT authd-sessions $N restore-ms $RESTORE_MS revoke-ms-each $((REV_MS / REVOKES)) expire-ms $EXP_DP_MS"
