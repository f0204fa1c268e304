#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sudo ./scripts/demo.sh : the whole coopnet overlay on one machine, step by step.
#
# Installs what is missing (scripts/setup.sh), builds if needed, creates network namespaces
# with the test bed (tests/netns/lib.sh): a LAN client, the Supervisor Server, a header SP,
# two SPs with vNICs and Apache, an attacker; starts every daemon with the configurations of
# examples/, shows each part of the design working (a restart of sp1's data-plane worker; at
# the end an SP group: the service shop on both SPs, balanced, then a failover when sp2 is
# killed, and sp2 back), then removes
# everything (also on Ctrl-C or failure). Exits non-zero if any step fails. Addresses: 198.18.0.0/15 only.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
DEMO_T0=$(date +%s)

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else B='' G='' R='' D='' N=''; fi
STEP=0
step() { STEP=$((STEP + 1)); printf '\n%s== %d. %s ==%s\n' "$B" "$STEP" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
show() { sed 's/^/   | /'; }
ok() { printf '   %s[ok]%s %s\n' "$G" "$N" "$*"; }
die() {
	printf '\n   %s[FAILED]%s %s\n' "$R" "$N" "$*" >&2
	if [ -n "${NB_RUNDIR:-}" ]; then
		for f in "$NB_RUNDIR"/*.log; do
			[ -f "$f" ] || continue
			printf '%s--- %s (last lines)%s\n' "$D" "$(basename "$f")" "$N" >&2
			tail -n 8 "$f" >&2
		done
	fi
	exit 1
}
check() { # DESC CMD...: CMD must succeed
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else die "$desc"; fi
}
check_fails() { # DESC CMD...: CMD must fail
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then die "$desc (it succeeded)"; else ok "$desc"; fi
}

[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }

step "Install what is missing and build"
"$TOP/scripts/setup.sh" >/dev/null || die "scripts/setup.sh"
ok "packages (scripts/setup.sh)"
if [ ! -x "$TOP/authd/coopnet-authd" ] || [ ! -x "$TOP/nfq/coopnet-nfq" ] || [ ! -x "$TOP/ctl/coopnetctl" ]; then
	say "building (autoreconf, configure, make -j2): a minute or two"
	(cd "$TOP" && { [ -x configure ] || autoreconf -fi; } && { [ -f Makefile ] || ./configure; } &&
		make -j2) >/tmp/coopnet-demo-build.log 2>&1 || die "build (see /tmp/coopnet-demo-build.log)"
fi
ok "coopnet-authd, coopnet-nfq, coopnetctl built"

# the test bed: namespaces named cn<pid>-..., removed by its EXIT/INT/TERM trap
. "$TOP/tests/netns/lib.sh"
. "$TOP/tests/netns/overlay-lib.sh"

step "Network: client - SS - wan (header SP, SP1, SP2, attacker)"
ov_topology >/dev/null || die "namespaces"
cat <<'EOF' | show
client 198.18.1.2 --LAN-- ss (Supervisor Server, router) --wan 198.18.2.0/24--+-- header 198.18.2.2
                                                                               +-- sp1    198.18.2.3 (relay)
                                                                               +-- sp2    198.18.2.4 (relay)
the group service shop: 198.19.0.10:8000 (virtual, DNATed by the SS) -> vNIC shop1 on sp1 or shop2 on sp2
                                                                               +-- attacker 198.18.2.9
EOF
ov_install || die "examples/install.sh"
ok "sample configurations of examples/ in $OV_RUN (secrets mode $(stat -c %a "$OV_RUN/secrets/office.pass"))"

step "Service Providers: coopnet-authd creates the vNICs (macvlan), the Apache vhosts, the virtual switch"
ov_start_sp sp1 || die "start sp1"
ov_start_sp sp2 || die "start sp2"
say "sp1# ip -d link show type macvlan   (created over rtnetlink, marked with the alias coopnet:vnic)"
nb_exec sp1 ip -br -d link show type macvlan | show
nb_exec sp1 ip -d link show web1 | grep -E "macvlan|alias" | sed 's/^ *//' | show
say "sp1# coopnetctl vnics"
ov_ctl sp1 vnics | show
check "Apache serves the vNICs of sp1 and sp2 (vhost files from the policy)" \
	nb_wait_for apache 10 test -s "$OV_RUN/sp2/apache/apache2.pid"

step "Header SP and Supervisor Server"
ov_start_header || die "start header"
ov_start_ss || die "start ss"
ok "coopnet-authd (header) on 198.18.2.2, coopnet-nfq ($(ov_nfq_mode ss) mode) + coopnet-authd (supervisor) on the SS"

step "Authentication: SS -> header SP -> SP (Auth-REQ, Auth-REP&REQ, Auth-REP) over UDP 7447"
have_all() { [ "$(ov_ctl ss --json sessions | grep -o '"id"' | wc -l)" -ge 3 ]; }
nb_wait_for "three sessions on the SS" 30 have_all >/dev/null 2>&1 || die "the SS got no IDs"
say "ss: coopnet-authd log"
grep -E "authenticated|session-sync" "$(nb_log authd-ss)" | sed 's/^coopnet-authd: //' | show
say "sp1: coopnet-authd log"
grep -E "session 0x" "$(nb_log authd-sp1)" | sed 's/^coopnet-authd: //' | show
say "ss# coopnetctl sessions   (the ID of each service, received in Auth-REP&REQ)"
ov_ctl ss sessions | show
ID1=$(ov_ctl ss --json sessions | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s.get("name")=="web1" or s.get("service")=="198.18.2.3"][0])' 2>/dev/null)
[ -n "$ID1" ] || die "no ID for web1"
ok "ID of web1 for client 198.18.1.2: $ID1"

step "The client fetches pages from three vNICs on two SPs through the overlay (it knows nothing of coopnet)"
ov_ifwan=$(nb_ifname ss wan)
ov_iflan=$(nb_ifname ss client)
nb_bg ss cap-wan tcpdump --immediate-mode -i "$ov_ifwan" -U -n -w "$NB_RUNDIR/wan.pcap" tcp port 80 || die tcpdump
nb_bg ss cap-lan tcpdump --immediate-mode -i "$ov_iflan" -U -n -w "$NB_RUNDIR/lan.pcap" tcp port 80 || die tcpdump
nb_wait_for "tcpdump" 10 grep -q "listening on" "$(nb_log cap-wan)" || die tcpdump
nb_wait_for "tcpdump" 10 grep -q "listening on" "$(nb_log cap-lan)" || die tcpdump
say "client# curl http://198.18.2.3/   (SP1's relay address)"
P1=$(ov_get client http://198.18.2.3/) || die "client -> web1"
grep '<h1>' <<<"$P1" | show
say "client# curl http://198.18.2.4/   (SP2's relay address)"
P2=$(ov_get client http://198.18.2.4/) || die "client -> web2"
grep '<h1>' <<<"$P2" | show
grep -q "vNIC web1 on sp1" <<<"$P1" || die "web1's page from sp1"
grep -q "vNIC web2 on sp2" <<<"$P2" || die "web2's page from sp2"
say "client# curl http://198.18.2.3:8080/   (SP1's relay again: the ID of docs steers to another vNIC)"
P3=$(ov_get client http://198.18.2.3:8080/) || die "client -> docs"
grep '<h1>' <<<"$P3" | show
grep -q "vNIC docs on sp1" <<<"$P3" || die "docs's page from sp1"
ok "each page comes from its vNIC's data folder"
say "sp1# nft list map inet coopnet_vswitch steer4   (client . ID -> vNIC: the virtual switch)"
nb_exec sp1 nft list map inet coopnet_vswitch steer4 | grep -E "elements|:" | sed 's/^\s*//' | show
nb_sleep 0.5
nb_stop cap-wan
nb_stop cap-lan

step "On the wire: the ID in the TCP urgent pointer, URG clear, packet size unchanged"
say "capture on the SS's LAN side (as without coopnet):"
python3 "$TOP/tests/netns/urgdump.py" "$NB_RUNDIR/lan.pcap" 4 | show
say "the same segments on the SS-SP wire (the overlay):"
python3 "$TOP/tests/netns/urgdump.py" "$NB_RUNDIR/wan.pcap" 4 | show
nseg() { python3 "$TOP/tests/netns/urgdump.py" "$1" | wc -l; }
check "both captures hold the two transfers (>= 16 segments each)" \
	test "$(nseg "$NB_RUNDIR/lan.pcap")" -ge 16 -a "$(nseg "$NB_RUNDIR/wan.pcap")" -ge 16
lens() { python3 "$TOP/tests/netns/urgdump.py" "$1" | sed 's/.*\(ip length [0-9]*\).*/\1/' | sort; }
check "every packet has the same size on the LAN and on the overlay" diff <(lens "$NB_RUNDIR/lan.pcap") <(lens "$NB_RUNDIR/wan.pcap")
check "every segment to and from SP1 carries web1's ID $ID1" \
	bash -c "python3 '$TOP/tests/netns/urgdump.py' '$NB_RUNDIR/wan.pcap' | grep 198.18.2.3 | grep -v 'ID $ID1' | grep -q . && exit 1 || exit 0"
check "no segment on the LAN carries an ID" \
	bash -c "! python3 '$TOP/tests/netns/urgdump.py' '$NB_RUNDIR/lan.pcap' | grep -q '(ID '"

step "The attacker (198.18.2.9, on the SPs' own segment) is dropped"
say "attacker# curl http://198.18.2.11/   (web1's vNIC address, directly)"
check_fails "direct access to a vNIC address: dropped (virtual switch guard)" ov_get attacker http://198.18.2.11/
say "attacker# curl http://198.18.2.3/   (SP1's relay, no ID)"
check_fails "the relay without an ID: dropped" ov_get attacker http://198.18.2.3/
say "attacker# curl http://198.18.2.3/ with the stolen ID $ID1 in the urgent pointer"
nb_exec attacker nft -f - <<EOF || die "attacker rule"
table ip forge {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 80 tcp urgptr set $ID1
	}
}
EOF
check_fails "a stolen ID from another address: dropped (the switch and the SP check client . ID)" \
	ov_get attacker http://198.18.2.3/
nb_exec sp1 nft list chain inet coopnet_vswitch guard | grep -E "counter" | sed 's/^\s*//' | show
say "sp1# coopnetctl stats nfq"
ov_ctl sp1 stats nfq | grep -E "checked|drop|embedded|passed" | show

step "coopnetctl status and stats"
say "ss# coopnetctl status"
ov_ctl ss status | show
say "ss# coopnetctl stats nfq"
ov_ctl ss stats nfq | grep -vE " 0$" | show
say "sp1# coopnetctl status"
ov_ctl sp1 status | show
say "sp1# coopnetctl stats authd"
ov_ctl sp1 stats authd | grep -vE " 0$" | show

step "Status application: SP1 reports its vNICs' health to the SS (info_vNIC), the SS its traffic (info_client)"
say "ss# coopnetctl vnics   (the vNICs of the SPs, as their last info_vNIC said)"
ov_ctl ss vnics | show
say "sp1# coopnetctl clients   (info_client: what the SS's data plane saw per session)"
ov_ctl sp1 clients | show
web1_status() {
	ov_ctl ss --json vnics | python3 -c '
import json, sys
print(" ".join(r["status"] for r in json.load(sys.stdin) if r.get("vnic") == "web1"))'
}
web1_is() { [ "$(web1_status)" = "$1" ]; }
graceful() { nb_exec sp1 apache2 -k graceful -f "$OV_RUN/sp1/apache2.conf"; }
VH=$OV_RUN/sp1/vhosts/coopnet-web1.conf
say "sp1# stop web1's Apache vhost (the default HTTP check: every 5 s, down after 3 failures)"
mv "$VH" "$OV_RUN/web1.vhost.off" && graceful >/dev/null 2>&1 || die "could not stop web1's vhost"
t0=$(date +%s)
check "the SS sees web1 down (sp1 sends the change at once)" nb_wait_for "web1 down" 40 web1_is down
say "after $(($(date +%s) - t0)) s:"
ov_ctl ss vnics | show
mv "$OV_RUN/web1.vhost.off" "$VH" && graceful >/dev/null 2>&1 || die "could not start web1's vhost"
check "... and up again once its vhost is back" nb_wait_for "web1 up" 40 web1_is up
ov_ctl ss vnics | show

step "The data plane's worker restarts: SIGKILL of sp1's coopnet-nfq, then a new one"
dp_of() { ov_ctl "$1" status | sed -n 's/^data plane: //p'; }
dp_is() { [ "$(dp_of "$1")" = "$2" ]; }
say "sp1# kill -KILL <coopnet-nfq>   (its tables go with it: sp1's overlay traffic is dropped, fail closed)"
kill -KILL "$(nb_pid nfq-sp1)" 2>/dev/null || die "no coopnet-nfq on sp1"
nb_stop nfq-sp1 2>/dev/null # reaped: no "Killed" line from this shell
check "coopnetctl status on sp1 says \"data plane: down\" (coopnet-authd's standing link ended)" \
	nb_wait_for "sp1's data plane down" 5 dp_is sp1 down
check_fails "meanwhile web1's page does not come through (fail closed)" ov_get client http://198.18.2.3/
t0=$(date +%s%N)
if [ "$(ov_nfq_mode sp1)" = kernel ]; then RF=provider-kernel.nft; else RF=provider.nft; fi
ov_start_nfq sp1 "$RF" -2 || die "restart coopnet-nfq on sp1"
check "coopnet-authd re-syncs the new worker from its database (coopnetctl dp-compare in step)" \
	nb_wait_for "sp1 re-synced" 10 ov_ctl sp1 dp-compare
say "the new worker held sp1's sessions $(( ($(date +%s%N) - t0) / 1000000 )) ms after it was started"
check "coopnetctl status on sp1 says \"data plane: up\"" nb_wait_for "sp1's data plane up" 5 dp_is sp1 up
P1=$(ov_get client http://198.18.2.3/) || die "client -> web1 after the worker's restart"
grep '<h1>' <<<"$P1" | show
grep -q "vNIC web1 on sp1" <<<"$P1" || die "web1's page from sp1 after the worker's restart"
same_id() { ov_ctl ss --json sessions | grep -q "\"$ID1\""; }
check "web1's page through the overlay again, with the same ID $ID1 (no new Authentication)" same_id

step "An SP group: the service shop on sp1 and sp2 (weights 60/40), one address for the clients"
say "header policy: \"balance\": \"weighted\", sp1 weight 60, sp2 weight 40, both host shop"
say "ss policy: shop = 198.19.0.10:8000 (a virtual address), members sp1 and sp2 (the SS DNATs to them)"
LANIF=$(nb_exec client ip -o -4 addr show | awk '$4 == "198.18.1.2/24" { print $2; exit }')
[ -n "$LANIF" ] || die "the client's LAN interface"
for i in $(seq 16 31); do
	nb_exec client ip addr add "198.18.1.$i/24" dev "$LANIF" || die "client address 198.18.1.$i"
done
ok "the LAN client \"branch\" has 16 addresses 198.18.1.16-31 (one client each for the SS)"
shop_get() { # I: the page's <h1> from client address 198.18.1.I, or FAILED
	nb_exec client curl -sS --max-time "${2:-8}" --interface "198.18.1.$1" http://198.19.0.10:8000/ 2>/dev/null |
		sed -n 's|.*<h1>coopnet group service \(shop on sp[12]\)</h1>.*|\1|p' | grep . || echo FAILED
}
shop_round() { # FIRST LAST: each client address fetches once, in parallel; "I page" per line
	local i
	for i in $(seq "$1" "$2"); do
		(echo "$i $(shop_get "$i")") >"$NB_RUNDIR/shop.$i" &
	done
	wait
	for i in $(seq "$1" "$2"); do cat "$NB_RUNDIR/shop.$i"; done
}
say "client# curl --interface 198.18.1.I http://198.19.0.10:8000/   (I = 16..25, at once; no session yet:"
say "        each first SYN is a session-miss, the SS authenticates the client through the header)"
SHOP=$(shop_round 16 25)
awk '{ printf "198.18.1.%s -> %s %s %s\n", $1, $2, $3, $4 }' <<<"$SHOP" | show
N1=$(grep -c ' shop on sp1$' <<<"$SHOP")
N2=$(grep -c ' shop on sp2$' <<<"$SHOP")
check "all 10 clients got the page through the one address 198.19.0.10" test $((N1 + N2)) -eq 10
check "sessions spread over both SPs: sp1 $N1, sp2 $N2 (weights 60/40)" test "$N1" -ge 1 -a "$N2" -ge 1
say "header# coopnetctl balance"
ov_ctl header balance | show
say "ss# nft list map inet coopnet_ssnat dnat4   (client . virtual address . port -> the SP's relay)"
nb_exec ss nft list map inet coopnet_ssnat dnat4 | grep -E ' : ' | sed 's/^\s*//; s/, /,\n/g' | sed 's/^\s*//' | show

step "Failover: SIGKILL of sp2's coopnet daemons (and its Apache stopped) while a client of sp2 connects"
C=$(awk '$4 == "sp2" { print $1; exit }' <<<"$SHOP")
say "client 198.18.1.$C (on sp2) opens new connections one after another (200 ms apart); sp2 is killed 1 s in"
T0=$(date +%s%N)
: >"$NB_RUNDIR/failover"
(
	end=$((T0 + 15000000000))
	ok_after=0
	while [ "$(date +%s%N)" -lt "$end" ] && [ "$ok_after" -lt 4 ]; do
		t=$((($(date +%s%N) - T0) / 1000000))
		r=$(shop_get "$C" 1)
		echo "$t $r" >>"$NB_RUNDIR/failover"
		[ -e "$NB_RUNDIR/killed" ] && [ "$r" = "shop on sp1" ] && ok_after=$((ok_after + 1))
		sleep 0.2
	done
) &
LOOP=$!
sleep 1
TK=$((($(date +%s%N) - T0) / 1000000))
for p in authd-sp2 nfq-sp2; do
	pid=$(nb_pid "$p")
	disown "$pid" 2>/dev/null # no "Killed" line from this shell
	kill -KILL -- "-$pid" 2>/dev/null # its process group: the parent and the engine
done
touch "$NB_RUNDIR/killed"
ov_stop_apache sp2 # and its Apache (TERM: its children go too)
wait "$LOOP"
awk -v tk="$TK" '{ t = $1 - tk; a = t < 0 ? -t : t
	printf "t%s%d.%d s  %s\n", t < 0 ? "-" : "+", int(a / 1000), int((a % 1000) / 100), substr($0, index($0, " ") + 1) }' \
	"$NB_RUNDIR/failover" | show
FIRST=$(awk -v tk="$TK" '$1 > tk && $0 ~ /shop on sp1$/ { print $1 - tk; exit }' "$NB_RUNDIR/failover")
FAILED=$(awk -v tk="$TK" '$1 > tk && $2 == "FAILED"' "$NB_RUNDIR/failover" | wc -l)
[ -n "$FIRST" ] || die "no page from sp1 after sp2 died"
say "SIGKILL at t+0.0 s; first new connection through sp1 after ${FIRST} ms; ${FAILED} new connection(s) failed in between"
check "after the failover every new connection succeeds, none goes to sp2" \
	bash -c "! awk -v t=$((TK + FIRST)) '\$1 >= t && \$0 !~ /shop on sp1\$/' '$NB_RUNDIR/failover' | grep -q ."
ss_failovers() { ov_ctl ss --json stats authd | python3 -c 'import json,sys; print(json.load(sys.stdin)["failovers"])'; }
on_sp1() { ! shop_round 16 25 | grep -v ' shop on sp1$' | grep -q .; }
check "all 10 clients get the page, now all from sp1 (the SS moved sp2's clients)" \
	nb_wait_for "all on sp1" 20 on_sp1
say "ss# coopnetctl stats authd | grep failovers"
say "failovers $(ss_failovers)"

step "sp2 comes back and takes new load"
ov_start_sp sp2 .2 || die "restart sp2"
check "sp2's coopnet-authd, coopnet-nfq and Apache run again" \
	nb_wait_for "sp2's Apache" 30 test -s "$OV_RUN/sp2/apache/apache2.pid"
say "client# curl --interface 198.18.1.I http://198.19.0.10:8000/   (I = 26..31: new clients)"
NEW=$(shop_round 26 31)
awk '{ printf "198.18.1.%s -> %s %s %s\n", $1, $2, $3, $4 }' <<<"$NEW" | show
check "the 6 new clients got the page" test "$(grep -c ' shop on sp' <<<"$NEW")" -eq 6
check "sp2 takes new clients again ($(grep -c ' shop on sp2$' <<<"$NEW") of 6)" \
	test "$(grep -c ' shop on sp2$' <<<"$NEW")" -ge 1
say "the clients moved to sp1 stay there (sessions are sticky) until they authenticate again"

step "Clean up"
say "namespaces, daemons, Apache, files: removed by the trap (also on failure or Ctrl-C)"
printf '\n%sdemo passed in %d s%s\n' "$G$B" $(($(date +%s) - DEMO_T0)) "$N"
nb_done >/dev/null 2>&1 || true
exit 0
