#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Revocation under churn (issue 11, section 5): R rounds of revoke-and-authenticate on the
# topology of tests/netns/coop-lib.sh (coopnet-authd + coopnet-nfq on the SS and the SP, queue
# mode). Each round: `coopnetctl revoke ID` on the SP, the time until the SP's data plane no
# longer holds that ID (drop), then the SS's "authenticate" entry authenticates again and the
# time until the SP's data plane holds the new ID (next).
# Without --vswitch the SP's data plane is its coopnet-nfq (the service on the SP's own address).
# With --vswitch the SP runs as deployed (the demo topology of the issue): the service on a vNIC
# (macvlan) behind the virtual switch, so each round also deletes and adds the session's steer
# element; the data plane has dropped the ID when coopnet-nfq no longer holds it AND the
# switch's map steer4 no longer steers it (read through libnftables in the poller, no process
# per poll), and holds the new one when both have it.
#
#   sudo bench/revoke_churn.sh [--vswitch] [R]        (R 5..1000, default 100)
#
# Lines: RESULT revocations-per-s (rounds / wall time), RESULT revoke-drop-p50-ms / -max-ms
# (all rounds), RESULT revoke-drop-first5-p50-ms (the idle baseline of the same run),
# RESULT revoke-drop-last5-p50-ms, RESULT revoke-drop-ratio (last 5 / first 5),
# RESULT reauth-p50-ms, RESULT revoke-command-p50-ms (the revoke request's round trip on
# coopnet-authd's control socket, part of the drop time); with --vswitch also RESULT revoke-drop-nfq-p50-ms and
# RESULT revoke-drop-switch-p50-ms / -max-ms (each part alone), RESULT steer-elements-end
# (elements left in steer4 for the client: 1 when nothing leaked). A round whose ID stays or
# whose new ID does not come within 10 s fails the run (exit 1, no figures). The poller (one
# python process in the SP's namespace) sends the revoke itself, as `coopnetctl revoke ID` does
# ({"cmd": "revoke"} on coopnet-authd's control socket: no process start in the figure); the
# drop time runs from just before that request to the first poll that no longer finds the ID,
# the re-authentication from the drop to the first poll that finds the new ID. (The SP's data
# plane holds a new session from the Auth-REQ, its database from the Auth-REP's commit: a
# revoke refused with "no session matches" in between is sent again, the time counted from
# the accepted one.) Polls: coopnet-
# nfq's control socket, and libnftables with --vswitch, every ~5 ms.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
VSW=
[ "${1:-}" != --vswitch ] || { VSW=1; shift; }
R=${1:-100}
[[ $R =~ ^[0-9]+$ ]] && ((R >= 5 && R <= 1000)) && (($# <= 1)) ||
	{ echo "revoke_churn.sh: [--vswitch] [R], R: 5..1000" >&2; exit 2; }
HERE=$TOP/tests/netns
. "$HERE/lib.sh"
[ -z "$VSW" ] || export COOP_VSWITCH=1
. "$HERE/coop-lib.sh"

fail() { echo "revoke_churn.sh: $*: no figures" >&2; exit 1; }
coop_setup >"$NB_RUNDIR/setup.out" 2>&1 || fail "setup failed ($(tail -3 "$NB_RUNDIR/setup.out"))"
SPQ=$W/nfq-provider.sock
nb_wait_for "first session" 20 has_nfq_session "$SPQ" 8080 >/dev/null 2>&1 || fail "no first session"

# The poller: one python process, so a poll costs a socket round trip (and a libnftables call),
# not a process start.
cat >"$W/poll.py" <<'PY'
import ctypes, json, re, socket, sys, time
path, client, port, vsw = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == '1'
authd = sys.argv[5]
def revoke(sid):  # what `coopnetctl revoke ID` sends, without a process start; its start time
    # The SP's data plane gets a new session at the Auth-REQ, its database at the Auth-REP's
    # commit a moment later: until then the ID is unknown to the revoke ("no session matches")
    t_end = time.monotonic() + 5
    while True:
        t0 = time.monotonic()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(10)
        s.connect(authd)
        s.send(json.dumps({'cmd': 'revoke', 'id': sid}).encode()); r = json.loads(s.recv(70000))
        s.close()
        if r.get('ok'):
            return t0
        if 'no session matches' not in str(r.get('error')) or time.monotonic() > t_end:
            sys.exit('poll.py: revoke %s refused: %s' % (sid, r.get('error')))
        time.sleep(0.002)
def cur():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(2); s.connect(path)
    s.send(b'{"cmd": "sessions"}'); r = json.loads(s.recv(70000)); s.close()
    return next((x['id'] for x in r['sessions'] if x.get('source') == 'authd'
                 and x['port'] == port and x['client'] == client), '')
if vsw:  # the switch's steer map through libnftables
    L = ctypes.CDLL('libnftables.so.1')
    L.nft_ctx_new.restype = ctypes.c_void_p
    for f in ('nft_ctx_buffer_output', 'nft_ctx_buffer_error', 'nft_ctx_get_output_buffer'):
        getattr(L, f).argtypes = [ctypes.c_void_p]
    L.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
    L.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ctx = L.nft_ctx_new(0); L.nft_ctx_buffer_output(ctx); L.nft_ctx_buffer_error(ctx)
    elem = re.compile(re.escape(client) + r' \. (\d+) \. %d :' % port)
def steer():  # the IDs steer4 steers for (client, port), one per element
    if L.nft_run_cmd_from_buffer(ctx, b'list map inet coopnet_vswitch steer4') != 0:
        sys.exit('poll.py: nft list map inet coopnet_vswitch steer4 failed')
    return [int(x) for x in elem.findall(L.nft_ctx_get_output_buffer(ctx).decode())]
for line in sys.stdin:  # "gone ID" / "new ID": print "ms ID nfq_ms switch_ms command_ms"
    what, sid = line.split(); t0 = time.monotonic(); tn = ts = None; c = ''; tc = 0
    if what == 'gone':  # revoke, then wait until the ID is gone
        t0 = revoke(sid); tc = (time.monotonic() - t0) * 1000
    while time.monotonic() - t0 < 10:
        now = (time.monotonic() - t0) * 1000
        if tn is None:
            c = cur()
            if (what == 'gone' and c != sid) or (what == 'new' and c and c != sid):
                tn = now
        if ts is None:
            if not vsw:
                ts = now
            else:
                st = steer()
                if (what == 'gone' and int(sid, 16) not in st) or \
                   (what == 'new' and tn is not None and int(c, 16) in st):
                    ts = now
        if tn is not None and ts is not None:
            print('%.1f %s %.1f %.1f %.1f' % (max(tn, ts), c or '-', tn, ts, tc), flush=True)
            break
        time.sleep(0.005)
    else:
        print('TIMEOUT', flush=True)
print(len(steer()) if vsw else 0, flush=True)  # at the end: steer4's elements for the client
PY
coproc POLL { ip netns exec "$(nb__ns sp)" $PY "$W/poll.py" "$SPQ" "$C4" 8080 "${VSW:-0}" \
	"$W/sp/authd.sock"; }
: >"$W/drop" ; : >"$W/new"
id=$(nfq_id "$SPQ" 8080)
start=$(date +%s%N)
for r in $(seq 1 "$R"); do
	echo "gone $id" >&"${POLL[1]}"; read -r ms _ mn msw mc <&"${POLL[0]}" ||
		fail "round $r: the poller stopped (revoke $id refused?)"
	[ "$ms" != TIMEOUT ] || fail "round $r: $id still in the data plane after 10 s"
	echo "$ms $mn $msw $mc" >>"$W/drop"
	echo "new $id" >&"${POLL[1]}"; read -r ms nid _ <&"${POLL[0]}" || fail "the poller stopped"
	[ "$ms" != TIMEOUT ] || fail "round $r: no new session within 10 s"
	echo "$ms" >>"$W/new"
	id=$nid
done
end=$(date +%s%N)
exec {POLL[1]}>&-
read -r left <&"${POLL[0]}" && [[ $left =~ ^[0-9]+$ ]] || fail "the poller's last reading"
uptime | sed 's/.*load average/# load average/'
$PY - "$W/drop" "$W/new" "$R" "$(( (end - start) / 1000000 ))" "${VSW:+$left}" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
d = [float(r[0]) for r in rows]; n = [float(x) for x in open(sys.argv[2])]
R, ms, left = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
p50 = lambda v: sorted(v)[len(v) // 2]
print('RESULT revocations-per-s %.1f' % (R / (ms / 1000)))
print('RESULT revoke-drop-p50-ms %.1f' % p50(d))
print('RESULT revoke-drop-max-ms %.1f' % max(d))
print('RESULT revoke-drop-first5-p50-ms %.1f' % p50(d[:5]))
print('RESULT revoke-drop-last5-p50-ms %.1f' % p50(d[-5:]))
print('RESULT revoke-drop-ratio %.2f' % (p50(d[-5:]) / max(p50(d[:5]), 0.1)))
print('RESULT reauth-p50-ms %.1f' % p50(n))
print('RESULT revoke-command-p50-ms %.1f' % p50([float(r[3]) for r in rows]))
if left:
    print('RESULT revoke-drop-nfq-p50-ms %.1f' % p50([float(r[1]) for r in rows]))
    print('RESULT revoke-drop-switch-p50-ms %.1f' % p50([float(r[2]) for r in rows]))
    print('RESULT revoke-drop-switch-max-ms %.1f' % max(float(r[2]) for r in rows))
    print('RESULT steer-elements-end %s' % left)
PY
[ -z "${POLL_PID:-}" ] || wait "$POLL_PID" 2>/dev/null
nb_done >/dev/null 2>&1 || true
