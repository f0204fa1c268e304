#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coopnet-nfq end to end, real kernel queue, real TCP servers, IPv4 and IPv6.
# Usage: nfq-dataplane.sh queue|kernel|payload (the nfq-*.test files call it); payload is queue
# mode with "rewrite": "payload" (the worker returns the rewritten packet).
set -uo pipefail
MODE=${1:?queue, kernel or payload}
REWRITE=mark
if [ "$MODE" = payload ]; then MODE=queue REWRITE=payload; fi
# kernel mode has its own rule files (no marking chain: docs/nfq.md, "Rules")
RSUF=
if [ "$MODE" = kernel ]; then RSUF=-kernel; fi
# shellcheck source=/dev/null
. "${NB_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=tests/netns/nfq-lib.sh
. "$(dirname "$0")/nfq-lib.sh"
nb_require_root
nb_require_cmd nft tcpdump iperf3 curl

nfq_topology

# --- 2. coopnet on: rules first (marked traffic is dropped by the guards until the workers
# run: fail closed), then the workers
nfq_rules ss supervisor$RSUF.nft overlay4 overlay6 8080 8081 8082 5201
nfq_rules sp provider$RSUF.nft protected4 protected6 8080 8081 8082 5201
SS=$NB_RUNDIR/ss.json SP=$NB_RUNDIR/sp.json
nfq_config supervisor "$MODE" "$SS" 8080 5201
nfq_config provider "$MODE" "$SP" 8080 5201 8082
nb_fail_ok "guards drop overlay traffic before the workers run" nfq_get cl $S4 8080
nb_ok "SS worker starts ($MODE mode)" nfq_start ss nfq-ss "$SS"
nb_ok "SP worker starts ($MODE mode)" nfq_start sp nfq-sp "$SP"
nb_ok "SS worker logs which queue expression it installed" \
	grep -q "queue rule installed .* with the xtables NFQUEUE target (nft compat)\|with the nft queue expression" "$(nb_log nfq-ss)"

nfq_capture_start coop "tcp port 8080"
nfq_capture_start lan "tcp port 8080" cl
nb_ok "IPv4: client reaches the service through SS and SP" nfq_get cl $S4 8080
nb_ok "IPv6: client reaches the service through SS and SP" nfq_get cl $S6 8080
nfq_capture_stop coop
nfq_capture_stop lan
nb_ok "every segment on the SS-SP wire carries the ID, URG clear, both ways" \
	$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/coop.pcap" 8080 id $ID
# The same packets, same lengths, on the client LAN (as without coopnet) and on the SS-SP wire
$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/lan.pcap" 8080 lengths | sort >"$NB_RUNDIR/len.lan"
$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/coop.pcap" 8080 lengths | sort >"$NB_RUNDIR/len.coop"
nb_ok "the LAN capture holds both transfers" test "$(wc -l <"$NB_RUNDIR/len.lan")" -ge 16
nb_ok "each packet on the SS-SP wire has its length on the client LAN" \
	diff "$NB_RUNDIR/len.lan" "$NB_RUNDIR/len.coop"
nb_ok "no ID from the client on its LAN (the SS writes it after routing)" \
	$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/lan.pcap" 8080 none to
nb_ok "SP counted checked segments" nfq_gt "$SP" checked_ok 0
nb_ok "SS counted embedded segments" nfq_gt "$SS" embedded 0
CTL="$NFQ_TOP/ctl/coopnetctl --nfq-socket $NB_RUNDIR/provider.sock"
nb_ok "coopnetctl --json stats: the SP's counters" bash -c "$CTL --json stats |
	$NFQ_PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"checked_ok\"] > 0 and \"queue_overrun\" in d else 1)'"
# the table against the JSON: a title, then "name value" for every counter of the JSON (the
# values are live, so only their form is compared)
stats_table_matches() {
	local table js
	table=$($CTL stats) && js=$($CTL --json stats) || return 1
	$NFQ_PY - "$table" "$js" <<'PY'
import json, sys
table, js = sys.argv[1].splitlines(), json.loads(sys.argv[2])
want = {k: v for k, v in js.items() if isinstance(v, int) and not isinstance(v, bool)}
rows = dict(line.split() for line in table[1:])
sys.exit(0 if "dropped_wrong_id" in want and len(rows) == len(table) - 1
         and set(rows) == set(want) and all(v.isdigit() for v in rows.values()) else 1)
PY
}
nb_ok "coopnetctl stats: one line per counter of --json stats" stats_table_matches
nb_ok "coopnetctl dp-sessions: the static sessions" bash -c "$CTL dp-sessions | grep -c '^config' | grep -qx 6"
if [ "$MODE" = queue ]; then
	# the two downloads of 3,000 bytes on 8080, counted on their sessions (docs/control.md)
	nb_ok "the SP's listing counts each 8080 session's segments and bytes" bash -c "$CTL --json dp-sessions |
		$NFQ_PY -c 'import json,sys
s=[x for x in json.load(sys.stdin) if x[\"port\"] == 8080]
ok=len(s) == 2 and all(x[\"traffic\"][\"segments\"][\"in\"] > 0 and x[\"traffic\"][\"bytes\"][\"out\"] >= 3000 and x[\"last_seen\"] > 0 for x in s)
sys.exit(0 if ok else 1)'"
fi

# --- 3. the attacker, with no session, cannot reach the protected service
nb_fail_ok "IPv4 attacker connection dropped" nfq_get att $S4 8080
nb_fail_ok "IPv6 attacker connection dropped" nfq_get att $S6 8080
nb_ok "SP counted the attacker as unknown flow" nfq_gt "$SP" dropped_unknown_flow 0
nb_ok "the attacker reaches the non-overlay service" nfq_get att $S4 9090

# --- 4. a wrong ID from the right client address is dropped
nfq_capture_start wrong "tcp port 8080 and (port 40001 or port 40002)"
w0=$(nfq_stat "$SP" dropped_wrong_id)
nb_exec ss $NFQ_PY "$NFQ_TOP/tests/netns/sendseg.py" $C4 $S4 8080 40001 0x4242
nb_exec ss $NFQ_PY "$NFQ_TOP/tests/netns/sendseg.py" $C6 $S6 8080 40002 0x4242
nb_ok "SP counted two wrong-ID segments" nb_wait_for "wrong-id count" 5 nfq_gt "$SP" dropped_wrong_id $((w0 + 1))
# per session (kernel mode: the set drop_wrong's element counters), on the two 8080 sessions
wrong_per_session() {
	$CTL --json dp-sessions | $NFQ_PY -c 'import json,sys
s=[x for x in json.load(sys.stdin) if x["port"] == 8080]
sys.exit(0 if len(s) == 2 and all(x["traffic"]["drops"]["wrong_id"] >= 1 for x in s) else 1)'
}
nb_ok "the SP's listing counts them on their sessions (drops.wrong_id)" \
	nb_wait_for "per-session wrong-id drops" 10 wrong_per_session
nfq_capture_stop wrong
nb_is "no answer to the wrong-ID SYNs" \
	"$($NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/wrong.pcap" 8080 lengths | grep -c '^from' || true)" 0

# --- 5. non-overlay traffic passes untouched
nfq_capture_start plain "tcp port 9090"
nb_ok "IPv4 non-overlay service through the SS" nfq_get cl $S4 9090
nb_ok "IPv6 non-overlay service through the SS" nfq_get cl $S6 9090
nfq_capture_stop plain
nb_ok "non-overlay segments carry no ID" \
	$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/plain.pcap" 9090 none

# --- 5b. `nft add element` / `delete element` on the rule files' sets while the workers run
# changes what is overlay traffic (kernel mode: the workers follow the sets by the ruleset's
# generation, nfq_follow_wait). 8081 has no session yet.
if [ "$MODE" = kernel ]; then
	nb_is "no socket listens to the nftables events on the SS (no notification per element)" \
		"$(nfq_event_listeners ss)" 0
	nb_is "none on the SP either" "$(nfq_event_listeners sp)" 0
fi
nb_exec sp nft delete element inet coopnet protected4 "{ $S4 . 8081 }"
nfq_follow_wait "$MODE"
nb_ok "8081 removed from protected4: the attacker reaches it" nfq_get att $S4 8081
u0=$(nfq_stat "$SP" dropped_unknown_flow)
nb_exec sp nft add element inet coopnet protected4 "{ $S4 . 8081 }"
nfq_follow_wait "$MODE"
nb_fail_ok "8081 added back: the attacker is dropped" nfq_get att $S4 8081
nb_ok "the SP counted it as unknown flow" nfq_gt "$SP" dropped_unknown_flow "$u0"
m0=$(nfq_stat "$SS" session_miss)
nb_exec ss nft delete element inet coopnet overlay6 "{ $S6 . 8081 }"
nfq_follow_wait "$MODE"
nb_fail_ok "8081 not overlay on the SS: no ID, the SP drops it" nfq_get cl $S6 8081
nb_is "8081 not overlay on the SS: no session miss" "$(nfq_stat "$SS" session_miss)" "$m0"
nb_exec ss nft add element inet coopnet overlay6 "{ $S6 . 8081 }"
nfq_follow_wait "$MODE"
nb_fail_ok "8081 overlay again on the SS, still no session: dropped" nfq_get cl $S6 8081
nb_ok "the SS held the first SYN (session miss)" nfq_gt "$SS" session_miss "$m0"

# --- 6. a session added while an iperf3 stream runs takes effect, the stream is not hurt
nb_fail_ok "no session for 8081 yet: dropped at the SP" nfq_get cl $S4 8081
d0=$(( $(nfq_stat "$SP" dropped_wrong_id) + $(nfq_stat "$SP" dropped_no_id) ))
nb_bg cl iperf iperf3 -c $S4 -p 5201 -t 4 --connect-timeout 3000
nb_sleep 1.5
SESS="{\"client\": \"$C4\", \"service\": \"$S4\", \"port\": 8081, \"id\": \"aA\"}"
nb_ok "session-add on the SP during the stream" nfq_ctl "$SP" "{\"cmd\": \"session-add\", \"sessions\": [$SESS]}"
nb_ok "session-add on the SS during the stream" nfq_ctl "$SS" "{\"cmd\": \"session-add\", \"sessions\": [$SESS]}"
nb_ok "the new session takes effect at once" nfq_get cl $S4 8081
nb_ok "the iperf3 stream finished" nb_wait_for "iperf3 end" 15 bash -c "! kill -0 $(nb_pid iperf) 2>/dev/null"
nb_ok "the iperf3 stream succeeded" grep -q "iperf Done" "$(nb_log iperf)"
nb_is "no segment of the stream dropped for its ID" \
	$(( $(nfq_stat "$SP" dropped_wrong_id) + $(nfq_stat "$SP" dropped_no_id) )) $d0

# --- 7. session miss: the SS holds the first SYN until "authd" adds the session
nb_bg ss responder $NFQ_CTL "$NB_RUNDIR/supervisor.sock" --responder aA
nb_wait_for "responder subscribed" 5 grep -q '"ok": *true' "$(nb_log responder)"
nb_ok "IPv4: held SYN continues with the ID once the session is added" nfq_get cl $S4 8082
nb_ok "IPv6: held SYN continues with the ID once the session is added" nfq_get cl $S6 8082
nb_ok "the SS emitted session-miss events" grep -q '"event": "session-miss"' "$(nb_log responder)"
nb_stop responder

# --- 8. reloading the rule files while the workers run never leaves traffic unqueued
nfq_capture_start reload "tcp port 8080"
reload_ok=1
for i in 1 2 3 4 5 6 7 8; do
	nb_exec ss nft -f "$NFQ_TOP/nft-rules/supervisor$RSUF.nft" &
	r1=$!
	nb_exec sp nft -f "$NFQ_TOP/nft-rules/provider$RSUF.nft" &
	r2=$!
	nfq_get cl $S4 8080 || reload_ok=0
	wait $r1 $r2 || reload_ok=0
done
nfq_capture_stop reload
nb_is "transfers during 8 rule reloads all succeeded" $reload_ok 1
nb_ok "every segment during the reloads carried the ID" \
	$NFQ_PY "$NFQ_TOP/tests/netns/pcapcheck.py" "$NB_RUNDIR/reload.pcap" 8080 id $ID

# --- 9. SIGHUP reload of the config: a static session appears
nfq_add_static "$SS" $C6 $S6 8081
nfq_add_static "$SP" $C6 $S6 8081
kill -HUP "$(nb_pid nfq-ss)" "$(nb_pid nfq-sp)"
nb_ok "after SIGHUP the new static session works" nb_wait_for "sighup" 5 nfq_get cl $S6 8081

# --- 10. fail closed: no worker, no overlay traffic; the bridge still passes the rest
kill -KILL "$(nb_pid nfq-sp)"
nb_ok "SP worker killed: the kernel removed its tables (owner flag)" nb_wait_for "tables gone" 5 bash -c "! ip netns exec $(nb_ns sp) nft list table ip coopnet_nfq"
nb_fail_ok "SP worker killed: overlay traffic stops (guard)" nfq_get cl $S4 8080
nb_ok "non-overlay traffic still passes" nfq_get cl $S4 9090
nb_stop nfq-sp
nb_ok "SP worker restarts" nfq_start sp nfq-sp2 "$SP"
nb_ok "SP worker restarted: overlay traffic flows again" nfq_get cl $S4 8080
nb_stop nfq-ss
nb_ok "SS worker stopped: its queue rule is removed" bash -c "! ip netns exec $(nb_ns ss) nft list table ip coopnet_nfq"
nb_fail_ok "SS worker stopped: overlay traffic stops (guard)" nfq_get cl $S4 8080
nb_ok "SS worker stopped: non-overlay traffic still passes" nfq_get cl $S4 9090

nb_done
