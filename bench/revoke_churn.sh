#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Revocation under churn (issue 11, section 5): R rounds of revoke-and-authenticate on the
# topology of tests/netns/coop-lib.sh (coopnet-authd + coopnet-nfq on the SS and the SP, queue
# mode; no virtual switch on this path). Each round: `coopnetctl revoke ID` on the SP, the time
# until the SP's coopnet-nfq no longer holds that ID (drop), then the SS's "authenticate" entry
# authenticates again and the time until the SP's data plane holds the new ID (next).
#
#   sudo bench/revoke_churn.sh [R]        (R 5..1000, default 100)
#
# Lines: RESULT revocations-per-s (rounds / wall time), RESULT revoke-drop-p50-ms / -max-ms
# (all rounds), RESULT revoke-drop-first5-p50-ms (the idle baseline of the same run),
# RESULT revoke-drop-last5-p50-ms, RESULT revoke-drop-ratio (last 5 / first 5),
# RESULT reauth-p50-ms. A round whose ID stays or whose new ID does not come within 10 s fails
# the run (exit 1, no figures). Times include the poll of coopnet-nfq's listing (a python
# client, every ~5 ms).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
R=${1:-100}
[[ $R =~ ^[0-9]+$ ]] && ((R >= 5 && R <= 1000)) || { echo "revoke_churn.sh: R: 5..1000" >&2; exit 2; }
HERE=$TOP/tests/netns
. "$HERE/lib.sh"
. "$HERE/coop-lib.sh"

fail() { echo "revoke_churn.sh: $*: no figures" >&2; exit 1; }
coop_setup >"$NB_RUNDIR/setup.out" 2>&1 || fail "setup failed"
SPQ=$W/nfq-provider.sock
nb_wait_for "first session" 20 has_nfq_session "$SPQ" 8080 >/dev/null 2>&1 || fail "no first session"

# The poller: one python process, so a poll costs a socket round trip, not a process start.
cat >"$W/poll.py" <<'PY'
import json, socket, sys, time
path, client, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def cur():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(2); s.connect(path)
    s.send(b'{"cmd": "sessions"}'); r = json.loads(s.recv(70000)); s.close()
    return next((x['id'] for x in r['sessions'] if x.get('source') == 'authd'
                 and x['port'] == port and x['client'] == client), '')
for line in sys.stdin:            # "gone ID" or "new ID": wait, print ms
    what, sid = line.split(); t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        c = cur()
        if (what == 'gone' and c != sid) or (what == 'new' and c and c != sid):
            print('%.1f %s' % ((time.monotonic() - t0) * 1000, c), flush=True); break
        time.sleep(0.005)
    else:
        print('TIMEOUT', flush=True)
PY
coproc POLL { ip netns exec "$(nb__ns sp)" $PY "$W/poll.py" "$SPQ" "$C4" 8080; }
: >"$W/drop" ; : >"$W/new"
id=$(nfq_id "$SPQ" 8080)
start=$(date +%s%N)
for r in $(seq 1 "$R"); do
	"$CTL" -s "$W/sp/authd.sock" revoke "$id" >/dev/null || fail "round $r: revoke $id refused"
	echo "gone $id" >&"${POLL[1]}"; read -r ms _ <&"${POLL[0]}"
	[ "$ms" != TIMEOUT ] || fail "round $r: $id still in the data plane after 10 s"
	echo "$ms" >>"$W/drop"
	echo "new $id" >&"${POLL[1]}"; read -r ms nid <&"${POLL[0]}"
	[ "$ms" != TIMEOUT ] || fail "round $r: no new session within 10 s"
	echo "$ms" >>"$W/new"
	id=$nid
done
end=$(date +%s%N)
$PY - "$W/drop" "$W/new" "$R" "$(( (end - start) / 1000000 ))" <<'PY'
import sys
d = [float(x) for x in open(sys.argv[1])]; n = [float(x) for x in open(sys.argv[2])]
R, ms = int(sys.argv[3]), int(sys.argv[4])
p50 = lambda v: sorted(v)[len(v) // 2]
print('RESULT revocations-per-s %.1f' % (R / (ms / 1000)))
print('RESULT revoke-drop-p50-ms %.1f' % p50(d))
print('RESULT revoke-drop-max-ms %.1f' % max(d))
print('RESULT revoke-drop-first5-p50-ms %.1f' % p50(d[:5]))
print('RESULT revoke-drop-last5-p50-ms %.1f' % p50(d[-5:]))
print('RESULT revoke-drop-ratio %.2f' % (p50(d[-5:]) / max(p50(d[:5]), 0.1)))
print('RESULT reauth-p50-ms %.1f' % p50(n))
PY
exec {POLL[1]}>&-
kill "$POLL_PID" 2>/dev/null
wait "$POLL_PID" 2>/dev/null
nb_done >/dev/null 2>&1 || true
