#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sudo ./scripts/demo.sh : the whole coopnet overlay on one machine, step by step.
#
# Installs what is missing (scripts/setup.sh), builds if needed, creates network namespaces
# with the test bed (tests/netns/lib.sh): a LAN client, the Supervisor Server, a header SP,
# two SPs with vNICs and Apache, an attacker; starts every daemon with the configurations of
# examples/, shows each part of the design working, then removes everything (also on
# Ctrl-C or failure). Exits non-zero if any step fails. Addresses: 198.18.0.0/15 only.
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

step "Clean up"
say "namespaces, daemons, Apache, files: removed by the trap (also on failure or Ctrl-C)"
printf '\n%sdemo passed in %d s%s\n' "$G$B" $(($(date +%s) - DEMO_T0)) "$N"
nb_done >/dev/null 2>&1 || true
exit 0
