#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Live sessions (issue 11), on a deployed provider (ROLE=sp, the default): coopnet-authd
# (parent + engine) with a vNIC (macvlan), the virtual switch and coopnet-nfq (kernel mode); or
# on a supervisor (ROLE=ss): coopnet-authd and coopnet-nfq (kernel mode) of an SS whose
# sessions go to two real SPs (sp1, the group's header, and sp2: coopnet-authd each, in their
# own namespaces over veth). Holding N sessions:
#   - memory: RSS of the parent, the engine and coopnet-nfq with no session and with N, bytes
#     per session = (RSS at N - RSS at 0) / N;
#   - restore: time from the start of coopnet-authd on a database of N sessions until
#     coopnet-nfq holds all of them (its count; then coopnetctl dp-compare must be in step, and
#     the provider's switch must steer them);
#   - full sync: coopnet-nfq's reload at size N (a full sync of the kernel's sets against its
#     table, nfq/kmsync.c), the time until it answers and its CPU;
#   - worker restart: SIGKILL of coopnet-nfq (its tables go with it: fail closed) and a new
#     one, the time until it holds the N sessions again (the parent's standing link ends, it
#     reconnects, the engine re-syncs: issue 11 section 5), then dp-compare in step;
#   - add: ADDS real Authentications on top of the N, rate and exchanges per engine CPU
#     second: ROLE=sp, an SS's exchanges from bench/auth_load over veth; ROLE=ss, the SS's own
#     exchanges toward sp1 and sp2 in turn, started through its control socket as `coopnetctl
#     auth SERVICE CLIENT` does, 16 at a time (bench/ctl_auth.py);
#   - revoke: REVOKES `coopnetctl revoke CLIENT`, one at a time (the time includes starting
#     coopnetctl), then the time until coopnet-nfq's count is the database's (then
#     dp-compare in step; each dp-compare lists both tables, seconds at 100,000). ROLE=sp revokes copies; ROLE=ss revokes
#     sessions of the adds (the SPs know them: the SS's Auth-RST revoked reaches them, and the
#     time until both SPs' databases dropped them is shown too);
#   - expire: EXPIRES of the N sessions expire at one moment: time until the database and the
#     data plane have dropped them;
#   - poll (POLL_S > 0, after the restore): the CPU of the parent, the engine and coopnet-nfq
#     over POLL_S seconds with N idle sessions, per status interval (STATUS_MS): what the
#     per-interval traffic poll costs at size N (docs/performance.md). POLL_ONLY=1 stops
#     after it (no full sync, adds, revocations, expiries).
# The N sessions are copies of sessions made by real Authentications (one per service: the
# provider's one, the SS's one toward each SP), with other client addresses of a /16 policy
# entry and other IDs, written to the database while coopnet-authd is stopped: what a restart
# with N sessions finds. The SPs do not hold the copies (a real SP holds at most 65,535).
#
#   sudo [ROLE=sp|ss] bench/authd_sessions.sh [N]
#        (ROLE=sp: default 50000, at most 60000, see below; ROLE=ss: default 100000, at most
#        131070, half toward each SP)
#   env: ADDS (2000), REVOKES (100; ROLE=ss: at most ADDS), EXPIRES (10000), SESS_CPU (0),
#        GEN_CPU (1), STATUS_MS (the status interval, 60000: polls once a minute; 1000 is
#        the default of a deployment), POLL_S (0: no poll phase), POLL_ONLY (0), IDLE_S (0:
#        none; else the idle_time of the role's policy, provider.idle_time or
#        supervisor.idle_time, so that the poll phase includes the idle expiry's once-a-second
#        tick), BIN (the top directory of the build to run: another one for a
#        before/after in one session, e.g. main's built in a scratch copy), PROFILE (perf
#        record prefix, below)
#
# One provider holds at most 65,535 live sessions: the ID is 16 bits and unique among the
# provider's sessions (docs/database.md, sessions_provider_id), so N + ADDS stays under it
# with room for the random ID choice. 100,000 sessions in one coopnet-authd and one
# coopnet-nfq: ROLE=ss. coopnet-nfq alone at 100,000 and 1,000,000 sessions: bench/sessions.sh.
#
# Exit status 0 with the figures, 1 and no figures when a component fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

ROLE=${ROLE:-sp}
case $ROLE in
sp) N=${1:-50000} NMAX=60000 ;;
ss) N=${1:-100000} NMAX=131070 ;;
*) echo "bench/authd_sessions.sh: ROLE: sp or ss" >&2; exit 2 ;;
esac
ADDS=${ADDS:-2000}
REVOKES=${REVOKES:-100}
EXPIRES=${EXPIRES:-10000}
SP_CPU=${SESS_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
STATUS_MS=${STATUS_MS:-60000}
POLL_S=${POLL_S:-0}
POLL_ONLY=${POLL_ONLY:-0}
IDLE_S=${IDLE_S:-0}
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
# coopnet-nfq during each phase, into PREFIX.restore.data, PREFIX.poll.data,
# PREFIX.fullsync.data, PREFIX.add.data, PREFIX.revoke.data and PREFIX.expire.data; the worker
# restart's and the restore's record the whole machine (-a: the new process has no PID yet;
# read them with perf report --comm coopnet-authd,coopnet-nfq)
PROFILE=${PROFILE:-}
[ -z "$PROFILE" ] || nb_require_cmd perf
for v in N ADDS REVOKES EXPIRES STATUS_MS POLL_S POLL_ONLY IDLE_S; do [[ ${!v} =~ ^[0-9]+$ ]] || nb__die "$v: a number"; done
((N >= 1000 && N <= NMAX)) || nb__die "N: 1000..$NMAX (16-bit IDs, unique per provider)"
((ADDS >= 64 && ADDS <= 4096 && REVOKES >= 1 && REVOKES <= 1000)) ||
	nb__die "ADDS 64..4096, REVOKES 1..1000"
((STATUS_MS >= 100 && STATUS_MS <= 600000 && POLL_S <= 3600)) ||
	nb__die "STATUS_MS 100..600000, POLL_S 0..3600"
((EXPIRES >= 1 && EXPIRES + REVOKES < N)) || nb__die "EXPIRES + REVOKES must stay under N"
[ "$ROLE" = sp ] || ((REVOKES <= ADDS)) || nb__die "ROLE=ss: REVOKES at most ADDS"

fail() {
	echo "bench/authd_sessions.sh: $*: no figures" >&2
	for l in authd authd2 nfq authd-sp1 authd-sp2; do [ ! -f "$(nb_log $l)" ] || tail -5 "$(nb_log $l)" >&2; done
	exit 1
}

# ---------------------------------------------------------------- topology and configuration
# The measured coopnet-authd and coopnet-nfq run in namespace $BENCH_HOST, with $W/authd.json,
# $W/nfq.json, $W/db/authd.db and the sockets $W/authd.sock, $W/nfq.sock.
setup_sp() {
	BENCH_HOST=sp
	bench_link
	bench_workdir cn-sessbench
	authd_json '["provider"]' 198.18.0.2 >"$W/authd.json"
	# 256 entries of a /28 for the load (4,096 addresses), one /16 for the copies
	IDLE_S=$IDLE_S python3 - "$W" "$SP_IF" <<'PY'
import ipaddress, json, os, sys
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
if int(os.environ["IDLE_S"]):
    pol["provider"]["idle_time"] = int(os.environ["IDLE_S"])
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY
	nfq_json provider kernel '{ "address": "198.18.0.20", "port": 80 }' >"$W/nfq.json"
	nb_exec sp nft -f "$TOP/nft-rules/provider-kernel.nft" || nb__die "nft -f provider-kernel.nft"
	nb_exec sp nft add element inet coopnet protected4 '{ 198.18.0.20 . 80 }' || nb__die "nft: protected4"
}

# ROLE=ss: sp1 (198.18.0.2: header of the group and provider of "http1") and sp2
# (198.18.1.2: provider of "http2"), each on its own link to ss (198.18.0.1, 198.18.1.1; ss
# routes between them: sp1 forwards the REQs for http2 to sp2, which answers the SS). The SPs
# run coopnet-authd without a data plane; the SS runs coopnet-authd (supervisor) and
# coopnet-nfq (kernel mode, supervisor-kernel.nft).
setup_ss() {
	local sp

	BENCH_HOST=ss
	nb_router ss
	nb_host sp1
	nb_host sp2
	nb_link ss sp1 --v4 198.18.0.1/24 198.18.0.2/24
	nb_link ss sp2 --v4 198.18.1.1/24 198.18.1.2/24
	nb_route sp1 198.18.1.0/24 198.18.0.1
	nb_route sp2 198.18.0.0/24 198.18.1.1
	bench_workdir cn-sessbench
	authd_json '["supervisor"]' 198.18.0.1 "$W/nfq.sock" >"$W/authd.json"
	mkdir -p "$W/sp1" "$W/sp2"
	authd_json '["header", "provider"]' 198.18.0.2 "" sp1 >"$W/sp1/authd.json"
	authd_json '["provider"]' 198.18.1.2 "" sp2 >"$W/sp2/authd.json"
	IDLE_S=$IDLE_S python3 - "$W" <<'PY'
import json, os, sys
w = sys.argv[1]
sps = {"sp1": ("198.18.0.2", "http1"), "sp2": ("198.18.1.2", "http2")}
def clients(svcs):  # the adds' clients (a /19) and the copies' (a /16)
    return [{"name": n, "address": a, "services": svcs, "passcode_file": w + "/clients.pass"}
            for n, a in (("lan", "198.18.128.0/19"), ("bulk", "198.19.0.0/16"))]
for sp, (addr, svc) in sps.items():
    pol = {"group_key_file": w + "/group.key",
           "provider": {"vnics": [{"name": "vnic1", "address": addr, "data_folder": w,
                                   "services": [{"name": svc, "port": 80}]}],
                        "clients": clients([svc]), "id_lifetime": 3600}}
    if sp == "sp1":
        pol["header"] = {"group": [{"address": a, "services": [s]} for a, s in sps.values()]}
    json.dump(pol, open("%s/%s/policy.json" % (w, sp), "w"), indent=1)
pol = {"supervisor": {"headers": [{"address": sps["sp1"][0]}],
                      "services": [{"name": s, "address": a, "port": 80} for a, s in sps.values()],
                      "clients": clients([s for _, s in sps.values()])}}
if int(os.environ["IDLE_S"]):
    pol["supervisor"]["idle_time"] = int(os.environ["IDLE_S"])
json.dump(pol, open(w + "/policy.json", "w"), indent=1)
PY
	nfq_json supervisor kernel '{ "address": "198.18.0.2", "port": 80 }, { "address": "198.18.1.2", "port": 80 }' >"$W/nfq.json"
	nb_exec ss nft -f "$TOP/nft-rules/supervisor-kernel.nft" || nb__die "nft -f supervisor-kernel.nft"
	nb_exec ss nft add element inet coopnet overlay4 '{ 198.18.0.2 . 80, 198.18.1.2 . 80 }' ||
		nb__die "nft: overlay4"
	for sp in sp1 sp2; do
		nb_bg "$sp" "authd-$sp" "$AUTHD" -d -f "$W/$sp/authd.json"
		nb_wait_for "coopnet-authd on $sp" 60 "$CTL" -s "$W/$sp/authd.sock" status >/dev/null ||
			fail "coopnet-authd did not start on $sp"
	done
}

# authd_json ROLES LISTEN [NFQ_SOCKET [DIR]]: coopnet-authd's configuration, its files in
# $W[/DIR]; a status interval of 60 s (the status exchanges are not what is measured)
authd_json() {
	local d=$W${4:+/$4}
	cat <<JSON
{ "roles": $1, "listen": ["$2"], "policy": "$d/policy.json",
  "database": "$d/db/authd.db", "control_socket": "$d/authd.sock", "nfq_socket": "${3-$W/nfq.sock}",
  "kdf": "min", "status": { "interval_ms": $STATUS_MS } }
JSON
}
nfq_json() { # ROLE MODE SERVICES
	cat <<JSON
{ "role": "$1", "mode": "$2", "queue": { "num": 0, "count": 1 },
  "services": [ $3 ], "control_socket": "$W/nfq.sock" }
JSON
}
"setup_$ROLE"

ctl() { "$CTL" --timeout 60000 -s "$W/authd.sock" --nfq-socket "$W/nfq.sock" "$@"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" || fail "no process $1"; }
ticks() { bench_ticks "$@"; }
db_count() { sqlite3 "$W/db/authd.db" "SELECT count(*) FROM sessions$1" || fail "sqlite3: sessions"; }
dp_in_step() { ctl dp-compare >/dev/null 2>&1; }
# dp_wait COUNT SECONDS: until coopnet-nfq's status (no listing, cheap at any size) says COUNT
# sessions (the timed steps), one
# process asking every 50 ms, bounded by SECONDS. A python process started for each try (through
# pyenv's shims) took 1.2 CPU s of the 2.7 s a worker restart at 60,000 lasted on this 2-core
# machine, beside the processes being measured (profile, fourteenth session).
dp_wait() {
	/usr/bin/python3 - "$W/nfq.sock" "$1" "$2" <<'PY'
import json, socket, sys, time
path, want, end = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(max(0.1, end - time.monotonic()))
            s.connect(path)
            s.send(b'{"cmd": "status"}')
            if json.loads(s.recv(65536))["sessions"] == want:
                sys.exit(0)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not up yet, or busy: ask again
    time.sleep(0.05)
print("gave up waiting for coopnet-nfq to hold %d sessions after %s s" % (want, sys.argv[3]),
      file=sys.stderr)
sys.exit(1)
PY
}
nfq_sessions() { ctl --json dp-compare | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_plane"])'; }
now_ms() { echo $(($(nb__now_us) / 1000)); }
start_authd() { bench_start_authd "$1" 120 taskset -c "$SP_CPU"; } # NAME: sets PARENT, ENGINE
PERF_PID=
prof_start() { # PHASE [all]: the three processes, or (all) the whole machine
	[ -n "$PROFILE" ] || return 0
	local who=(-p "$PARENT,$ENGINE,$NFQPID")
	[ "${2:-}" != all ] || who=(-a)
	perf record -q -e cpu-clock -F 400 --call-graph dwarf,8192 "${who[@]}" -o "$PROFILE.$1.data" \
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
# ss_auth FIRST COUNT: COUNT supervisor Authentications (ROLE=ss) of the clients FIRST,
# FIRST + 1, ... toward http1 and http2 in turn, 16 at a time, through the control socket
# (bench/ctl_auth.py: what `coopnetctl auth SERVICE CLIENT` sends); sets LOADLINE
ss_auth() {
	LOADLINE=$(nb_exec ss taskset -c "$GEN_CPU" python3 "$HERE/ctl_auth.py" "$W/authd.sock" "$1" "$2" \
		16 300 http1 http2 | grep '^LOAD ') || fail "bench/ctl_auth.py failed"
}

# The role's steps: the template sessions (real Authentications at 0 sessions), the adds at
# size N (sets LOADLINE), the client of revocation I (0..REVOKES-1), the check after the
# restore, what the revocations leave (a WHERE clause and its count), the table's title.
template_sp() {
	load 64
	[ "$(db_count " WHERE role = 'provider'")" -ge 1 ] || fail "no session after an Authentication"
}
template_ss() {
	ss_auth 198.18.128.1 2
	read -r _ _ _ _ f _ <<<"$LOADLINE"
	if [ "$f" -ne 0 ] || [ "$(db_count " WHERE role = 'supervisor'")" -ne 2 ]; then
		fail "no session after the Authentications toward sp1 and sp2"
	fi
}
adds_sp() { load "$ADDS"; }
adds_ss() { ss_auth 198.18.136.0 "$ADDS"; }
# revoke: copies of the provider; the SS's real added sessions (the SPs know them: the SS's
# Auth-RST revoked is acknowledged, and the SP drops its copy)
revoked_sp() { echo "198.19.$((((1 + $1) >> 8) & 255)).$(((1 + $1) & 255))"; }
revoked_ss() { echo "198.18.$((136 + ($1 >> 8))).$(($1 & 255))"; }
restored_sp() {
	STEER=$(nb_exec sp nft -j list map inet coopnet_vswitch steer4 | python3 -c '
import json, sys
print(sum(len(o["map"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "map" in o))') ||
		fail "nft: the steer map"
	[ "$STEER" -eq "$N" ] || fail "the switch steers $STEER sessions, not $N"
}
restored_ss() {
	local q

	q=$(nfq_sessions) || fail "coopnetctl dp-compare"
	[ "$q" -eq "$N" ] || fail "the SS's coopnet-nfq holds $q sessions, not $N"
}
case $ROLE in
sp) REV_WHERE=" WHERE client LIKE '198.19.%'" REV_LEFT=$((N - REVOKES))
    COPIES_LEFT=$((N - REVOKES - EXPIRES))
    TITLE="deployed provider (vNIC, switch, coopnet-nfq kernel mode)" ;;
ss) REV_WHERE=" WHERE client LIKE '198.18.1%'" REV_LEFT=$((ADDS - REVOKES))
    COPIES_LEFT=$((N - EXPIRES))
    TITLE="supervisor toward two providers (coopnet-nfq kernel mode)" ;;
esac
# the SPs' databases (ROLE=ss): sessions they hold
sp_sessions() { # a failed read fails (a sum missing one SP would look like dropped sessions)
	local a b
	a=$(sqlite3 -cmd '.timeout 2000' "$W/sp1/db/authd.db" "SELECT count(*) FROM sessions") &&
		b=$(sqlite3 -cmd '.timeout 2000' "$W/sp2/db/authd.db" "SELECT count(*) FROM sessions") &&
		[[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] || return 1
	echo $((a + b))
}

nb_bg "$BENCH_HOST" nfq taskset -c "$SP_CPU" "$NFQ" --config "$W/nfq.json"
nb_wait_for "coopnet-nfq control socket" 20 test -S "$W/nfq.sock" || fail "coopnet-nfq did not start"
NFQPID=$(nb_pid nfq)

# ---------------------------------------------------------------- 0 sessions
start_authd authd
nb_wait_for "the data plane link" 20 sh -c "'$CTL' -s '$W/authd.sock' status | grep -qi 'data plane: up'" ||
	fail "coopnet-authd does not reach coopnet-nfq"
sleep 2 # settle: the first session-sync, the switch
P0=$(rss_kb "$PARENT") && E0=$(rss_kb "$ENGINE") && Q0=$(rss_kb "$NFQPID") ||
	fail "a daemon is gone before the sessions were added (RSS at 0)"
# real sessions: the templates of the copies
"template_$ROLE"
stop_authd authd

# ---------------------------------------------------------------- N copies, written offline
NOW=$(date +%s)
EXP_AT=$((NOW + 3600))
# One template per service (the provider: one; the SS: one toward each SP), the copies spread
# over them in turn: copy i is client 198.19.0.1 + i / T of template i % T, with ID 1 + i / T
# (unique among each SP's sessions, as the SP's allocator makes them).
python3 - "$W/db/authd.db" "$N" <<'PY' || fail "writing the copies"
import ipaddress, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
cols = [r[1] for r in c.execute("PRAGMA table_info(sessions)")]
tpl = [dict(zip(cols, t)) for t in
       c.execute("SELECT * FROM sessions GROUP BY role, service, port ORDER BY service")]
c.execute("DELETE FROM sessions")
c.execute("DELETE FROM client_status")
base = int(ipaddress.IPv4Address("198.19.0.0"))
far = int(time.time()) + 3600
rows = []
for i in range(n):
    r = dict(tpl[i % len(tpl)])
    r["client"] = str(ipaddress.IPv4Address(base + 1 + i // len(tpl)))
    r["client_name"] = "bulk"
    r["id"] = 1 + i // len(tpl)
    r["expires"] = far
    rows.append(tuple(r[k] for k in cols))
c.executemany("INSERT INTO sessions(%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))), rows)
c.commit()
PY
[ "$(db_count "")" -eq "$N" ] || fail "the database does not hold the $N copies"

# ---------------------------------------------------------------- N sessions: restore, memory
prof_start restore all # before the start: the engine's reading of its database included
t0=$(now_ms)
start_authd authd2
dp_wait "$N" 300 || fail "coopnet-nfq does not reach $N sessions"
t1=$(now_ms)
nb_wait_for "the data plane in step" 300 dp_in_step || fail "dp-compare: not in step with $N sessions"
prof_stop
RESTORE_MS=$((t1 - t0))
"restored_$ROLE"
sleep 2
P1=$(rss_kb "$PARENT") && E1=$(rss_kb "$ENGINE") && Q1=$(rss_kb "$NFQPID") ||
	fail "a daemon is gone after the sessions were added (RSS at N)"

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
	# printed with the other figures at the end (or now, with POLL_ONLY): a later failure
	# prints none
	POLL_TXT=$(cat <<EOF

| $N idle sessions ($ROLE), status interval $STATUS_MS ms, $POLL_S s | value |
|---|---|
| CPU ms per status interval: engine / parent / coopnet-nfq | $POLL_LINE |
| RSS at 0 / at N, kB: parent, engine, coopnet-nfq | $P0 / $P1, $E0 / $E1, $Q0 / $Q1 |
| restore | $RESTORE_MS ms |
| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
	)
	POLL_TXT+=$'\n'"RESULT authd-sessions $N poll-cpu-ms-per-interval engine/parent/nfq $POLL_LINE"
	if ((POLL_ONLY != 0)); then
		printf '%s\n' "$POLL_TXT"
		exit 0
	fi
fi

# ---------------------------------------------------------------- full sync at size N
# coopnet-nfq's reload (its control command; SIGHUP does the same): a full sync of the
# kernel's sets against the table in one main-loop turn (nfq/kmsync.c), answered after it
prof_start fullsync
q0=$(ticks "$NFQPID")
FULL_MS=$(python3 - "$W/nfq.sock" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(600)
s.connect(sys.argv[1])
t = time.monotonic()
s.send(b'{"cmd": "reload"}')
r = json.loads(s.recv(65536))
if not r.get("ok"):
    sys.exit("reload: %s" % r.get("error"))
print(int((time.monotonic() - t) * 1000))
PY
) || fail "coopnet-nfq's reload"
q1=$(ticks "$NFQPID")
prof_stop
FULL_CPU=$(python3 -c "print('%.2f' % (($q1 - $q0) / $(getconf CLK_TCK)))")
nb_wait_for "the data plane in step after the reload" 300 dp_in_step || fail "dp-compare after the reload"

# ---------------------------------------------------------------- worker restart at size N
prof_start restart all
kill -KILL "$NFQPID"
t0=$(now_ms)
# the new worker binds the same queue: only once the old one has released it (its last thread
# exited; systemd's Restart= waits for the whole service to end too)
nb_wait_for "the killed coopnet-nfq's queue released" 20 nb_exec "$BENCH_HOST" sh -c \
	"! grep -qE '^ *0 ' /proc/net/netfilter/nfnetlink_queue" ||
	fail "coopnet-nfq's queue still bound after SIGKILL"
t_up=$(now_ms) # the kernel let the old worker go: from here, the new one's own time
nb_bg "$BENCH_HOST" nfq2 taskset -c "$SP_CPU" "$NFQ" --config "$W/nfq.json"
dp_wait "$N" 300 ||
	fail "the restarted coopnet-nfq does not reach $N sessions"
t1=$(now_ms)
RESTART_MS=$((t1 - t0)) RESTART_NEW_MS=$((t1 - t_up))
prof_stop
NFQPID=$(nb_pid nfq2)
nb_wait_for "the data plane in step after the worker's restart" 300 dp_in_step ||
	fail "dp-compare after the worker's restart"

# ---------------------------------------------------------------- add at size N
prof_start add
e0=$(ticks "$ENGINE") p0=$(ticks "$PARENT") q0=$(ticks "$NFQPID")
"adds_$ROLE"
e1=$(ticks "$ENGINE") p1=$(ticks "$PARENT") q1=$(ticks "$NFQPID")
prof_stop
read -r _ _ ADDED _ AFAILED _ ASECS _ ARATE _ AP50 _ AP99 _ <<<"$LOADLINE"
[ "$AFAILED" -eq 0 ] || fail "$AFAILED Authentications failed at $N sessions"
nb_wait_for "the data plane with the added sessions" 120 dp_in_step || fail "dp-compare after the adds"
HZ=$(getconf CLK_TCK)
ADD_ENGINE=$(python3 -c "print('%.0f' % ($ADDED / (($e1 - $e0) / $HZ)) if $e1 > $e0 else 'n/a')")

# ---------------------------------------------------------------- revoke at size N
SPS0=
[ "$ROLE" != ss ] || SPS0=$(sp_sessions) || fail "sqlite3: the SPs' sessions"
prof_start revoke
t0=$(now_ms)
for ((i = 0; i < REVOKES; i++)); do
	"$CTL" -s "$W/authd.sock" revoke "$("revoked_$ROLE" "$i")" >/dev/null || fail "coopnetctl revoke failed"
done
t1=$(now_ms)
dp_wait "$(db_count "")" 120 ||
	fail "coopnet-nfq does not drop the revoked sessions"
t2=$(now_ms)
prof_stop
REV_MS=$((t1 - t0)) REV_DP_MS=$((t2 - t0))
REV_SP=
if [ "$ROLE" = ss ]; then # the SPs learn of the revocations (Auth-RST revoked, acknowledged)
	sps_dropped() { [ "$(sp_sessions)" -le $((SPS0 - REVOKES)) ]; }
	nb_wait_for "the SPs without the revoked sessions" 60 sps_dropped ||
		fail "the SPs hold $(sp_sessions) sessions, not $((SPS0 - REVOKES))"
	REV_SP="; the SPs dropped them after $(($(now_ms) - t0)) ms"
fi
nb_wait_for "the data plane in step" 120 dp_in_step || fail "dp-compare after the revocations"
LEFT=$(db_count "$REV_WHERE")
[ "$LEFT" -eq "$REV_LEFT" ] || fail "$LEFT sessions left after $REVOKES revocations (not $REV_LEFT)"

# ---------------------------------------------------------------- expire at size N
# EXPIRES sessions get an expiry 3 s ahead through the daemon's own database connection's
# view: written while it runs (WAL), as an operator's tool would; the engine's one-second tick
# finds them (db_session_expire).
EXP_AT=$(($(date +%s) + 3))
prof_start expire
sqlite3 "$W/db/authd.db" "PRAGMA busy_timeout = 5000; UPDATE sessions SET expires = $EXP_AT WHERE rowid IN
	(SELECT rowid FROM sessions WHERE client LIKE '198.19.%' ORDER BY id DESC LIMIT $EXPIRES)" >/dev/null ||
	fail "sqlite3: setting the expiries"
expired() { [ "$(db_count " WHERE client LIKE '198.19.%'")" -le "$COPIES_LEFT" ]; }
nb_wait_for "the expired sessions gone from the database" 120 expired || fail "the sessions did not expire"
t1=$(now_ms)
dp_wait "$(db_count "")" 120 ||
	fail "coopnet-nfq does not drop the expired sessions"
t2=$(now_ms)
nb_wait_for "the data plane in step" 120 dp_in_step || fail "dp-compare after the expiry"
prof_stop
EXP_DB_MS=$((t1 - EXP_AT * 1000)) EXP_DP_MS=$((t2 - EXP_AT * 1000))
FINAL=$(db_count "")
DP_FINAL=$(nfq_sessions) || fail "coopnetctl dp-sessions"
[ "$DP_FINAL" -eq "$FINAL" ] || fail "coopnet-nfq holds $DP_FINAL sessions, the database $FINAL"
kill -0 "$PARENT" "$ENGINE" "$NFQPID" 2>/dev/null || fail "a daemon exited during the run"
# db-errors, and every live session in the status application (up to 262,144 per role)
read -r ERRS UNREP < <(ctl --json stats authd | python3 -c 'import json, sys
j = json.load(sys.stdin); print(j.get("db-errors", 0), j.get("status-unreported", -1))') ||
	fail "coopnetctl stats authd"
[ "$UNREP" = 0 ] || fail "the status application left $UNREP sessions unreported (status-unreported)"

[ -z "${POLL_TXT:-}" ] || printf '%s\n' "$POLL_TXT"
RNAME=authd-sessions
[ "$ROLE" = sp ] || RNAME+=-$ROLE
bps() { python3 -c "print('%.0f' % (($2 - $1) * 1024 / $N))"; }
cat <<EOF

| $N live sessions, $TITLE | value |
|---|---|
| RSS at 0 / at N, kB: parent | $P0 / $P1 ($(bps "$P0" "$P1") bytes per session) |
| RSS at 0 / at N, kB: engine | $E0 / $E1 ($(bps "$E0" "$E1") bytes per session) |
| RSS at 0 / at N, kB: coopnet-nfq | $Q0 / $Q1 ($(bps "$Q0" "$Q1") bytes per session) |
| restore: start of coopnet-authd on N sessions -> coopnet-nfq holds them (then dp-compare in step) | $RESTORE_MS ms |
| full sync at size N: coopnet-nfq reload, answered after / its CPU s | $FULL_MS ms / $FULL_CPU |
| worker restart at size N: SIGKILL of coopnet-nfq and a new one -> it holds N again | $RESTART_MS ms ($RESTART_NEW_MS ms from the new worker's start, once the kernel released the old one's queue) |
| add at size N: $ADDED Authentications, completed/s (wall) | $ARATE |
| add at size N: exchanges per engine CPU second; engine / parent / nfq CPU s | $ADD_ENGINE; $(python3 -c "print('%.2f / %.2f / %.2f' % (($e1-$e0)/$HZ, ($p1-$p0)/$HZ, ($q1-$q0)/$HZ))") |
| add at size N: latency p50 / p99 (us) | $AP50 / $AP99 |
| revoke at size N: $REVOKES revocations one at a time (coopnetctl each) | $REV_MS ms ($((REV_MS / REVOKES)) ms each); coopnet-nfq dropped them after $REV_DP_MS ms$REV_SP |
| expire at size N: $EXPIRES sessions at one second -> gone from the database / data plane | $EXP_DB_MS / $EXP_DP_MS ms |
| sessions at the end: database / coopnet-nfq; db-errors; status-unreported | $FINAL / $DP_FINAL; $ERRS; $UNREP |
| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
echo "RESULT $RNAME $N bytes-per-session parent $(bps "$P0" "$P1") engine $(bps "$E0" "$E1") nfq $(bps "$Q0" "$Q1")"
echo "RESULT $RNAME $N restore-ms $RESTORE_MS full-sync-ms $FULL_MS worker-restart-ms $RESTART_MS from-start-ms $RESTART_NEW_MS revoke-ms-each $((REV_MS / REVOKES)) expire-ms $EXP_DP_MS"
