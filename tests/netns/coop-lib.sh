# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The e2e topology with coopnet-authd and coopnet-nfq (queue mode) on both sides, for the
# tests of a worker restart (dp-restart.test), of the first page after an on-demand
# Authentication (first-page.test) and of spoofed input (spoof.test). Sourced after lib.sh.
#
#   cl 198.18.1.2 ---- ss (router: SS, authd supervisor + nfq supervisor)
#                       198.18.1.1 | 198.18.2.1
#                                  |
#                      sp 198.18.2.2 (header + provider authd, nfq provider,
#                                  |   python3 http.server on 8080 "http" and 8081 "http2")
#                      198.18.3.1  |
#   att 198.18.3.2 ----------------+
#
# "http" is authenticated at start (an "authenticate" entry); "http2" on demand. coop_setup
# starts everything; the helpers below read the state. COOP_LAN: the SS's client address or
# prefix (default: cl's one address). COOP_LAN2: a second LAN prefix behind cl (client "lan2"
# on both sides, routed via cl; bench/first_page.sh gives 198.18.8.0/21 for 2,000 clients).
# COOP_VSWITCH=1: the SP as deployed, a vNIC (macvlan "vnic1", 198.18.2.11, on the SP's link to
# the SS) behind the virtual switch with $S4 as its relay; the page servers listen on the
# vNIC, and each session change also changes the switch (bench/revoke_churn.sh --vswitch).
# COOP_AUTHD_TIMING, COOP_AUTHD_JSON: more members of both authd.json's "timing" and top level,
# each starting with a comma (bench/first_page.sh's comparisons: ', "udp_rcvbuf": 212992').
# COOPNET_AUTHD: another coopnet-authd binary (a before/after of the benchmarks on this
# topology), as in bench/auth_daemon.sh.
nb_require_root
nb_require_cmd ip nft curl python3 tcpdump
AUTHD=${COOPNET_AUTHD:-$TOP/authd/coopnet-authd}
CTL=$TOP/ctl/coopnetctl
NFQ=$TOP/nfq/coopnet-nfq
PY=/usr/bin/python3 # the system python: scapy
NFQCTL="$PY $HERE/nfqctl.py"
[ -x "$AUTHD" ] && [ -x "$CTL" ] && [ -x "$NFQ" ] || nb__die "build first (make)"

C4=198.18.1.2 S4=198.18.2.2 A4=198.18.3.2 SS4=198.18.2.1
V4=198.18.2.11 # the vNIC's address with COOP_VSWITCH=1
# where the SP's services are: the vNIC behind the switch, or the SP's own address
coop_svc4() { if [ -n "${COOP_VSWITCH:-}" ]; then echo $V4; else echo $S4; fi; }

coop_http_start() {
	for p in 8080 8081; do
		nb_bg sp "http$p" $PY "$HERE/httpd.py" "$(coop_svc4)" $p "$W/www"
	done
	for p in 8080 8081; do nb_wait_port sp $p 10; done
}

coop_topology() {
	nb_host cl; nb_router ss; nb_host sp; nb_host att
	nb_link cl ss --v4 $C4/24 198.18.1.1/24
	nb_link ss sp --v4 $SS4/24 $S4/24
	nb_link att sp --v4 $A4/24 198.18.3.1/24
	nb_route cl default 198.18.1.1
	nb_route sp 198.18.1.0/24 $SS4
	nb_route att default 198.18.3.1
	if [ -n "${COOP_LAN2:-}" ]; then
		nb_exec ss ip route add "$COOP_LAN2" via $C4
		nb_exec sp ip route add "$COOP_LAN2" via $SS4
	fi
	W=$(mktemp -d /tmp/cn-coop.XXXXXX)
	chmod 755 "$W"
	nb_at_cleanup rm -rf "$W"
	mkdir -p "$W/www"
	head -c 20000 /dev/urandom | od -An -tx1 -v >"$W/www/page"
	# with the switch, the vNIC's address exists once the SP's authd has made it
	[ -n "${COOP_VSWITCH:-}" ] || coop_http_start
}

coop_nfq_config() { # ROLE ADDRESS
	cat >"$W/nfq-$1.json" <<-JSON
	{ "role": "$1", "mode": "queue", "queue": { "num": 0, "count": 1 },
	  "services": [ { "address": "$2", "port": 8080 }, { "address": "$2", "port": 8081 } ],
	  "sessions": [], "control_socket": "$W/nfq-$1.sock", "miss_hold_ms": 4000 }
	JSON
}

# coop_nfq_start HOST ROLE NAME: start coopnet-nfq and wait until it answers
coop_nfq_start() {
	nb_bg "$1" "$3" "$NFQ" -v --config "$W/nfq-$2.json"
	nb_wait_for "$3" 10 $NFQCTL "$W/nfq-$2.sock" '{"cmd": "status"}'
}

coop_authd_config() { # HOST ROLES LISTEN NFQSOCK
	mkdir -p "$W/$1"
	cat >"$W/$1/authd.json" <<-JSON
	{ "roles": $2, "listen": ["$3"], "policy": "$W/$1/policy.json",
	  "database": "$W/$1/db/authd.db", "control_socket": "$W/$1/authd.sock",
	  "nfq_socket": "$4", "kdf": "min",
	  "timing": { "rto_ms": 300 ${COOP_AUTHD_TIMING:-} } ${COOP_AUTHD_JSON:-} }
	JSON
}

coop_setup() {
	coop_topology
	nb_exec ss nft -f "$TOP/nft-rules/supervisor.nft"
	nb_exec sp nft -f "$TOP/nft-rules/provider.nft"
	for p in 8080 8081; do
		nb_exec ss nft add element inet coopnet overlay4 "{ $S4 . $p }"
		nb_exec sp nft add element inet coopnet protected4 "{ $(coop_svc4) . $p }"
	done
	coop_nfq_config supervisor $S4
	coop_nfq_config provider "$(coop_svc4)"
	nb_ok "the SS's coopnet-nfq answers" coop_nfq_start ss supervisor nfq-ss
	nb_ok "the SP's coopnet-nfq answers" coop_nfq_start sp provider nfq-sp
	(umask 077
	 head -c32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$W/group.key"
	 printf '%s\n' "a coop-lib passcode" >"$W/lan1.pass")
	coop_authd_config ss '["supervisor"]' $SS4 "$W/nfq-supervisor.sock"
	coop_authd_config sp '["header", "provider"]' $S4 "$W/nfq-provider.sock"
	cat >"$W/ss/policy.json" <<-JSON
	{ "supervisor": {
	    "headers": [ { "address": "$S4" } ],
	    "services": [ { "name": "http", "address": "$S4", "port": 8080 },
	                  { "name": "http2", "address": "$S4", "port": 8081 } ],
	    "clients": [ { "name": "lan1", "address": "${COOP_LAN:-$C4}", "services": ["http", "http2"],
	                   "passcode_file": "$W/lan1.pass" } $(coop_lan2_entry) ],
	    "authenticate": [ { "service": "http", "client": "$C4" } ] } }
	JSON
	cat >"$W/sp/policy.json" <<-JSON
	{ "group_key_file": "$W/group.key",
	  "header": { "group": [ { "address": "$S4", "services": ["http", "http2"] } ] },
	  "provider": {
	    $(coop_sp_vnic)
	    "clients": [ { "name": "lan1", "address": "198.18.1.0/24", "services": ["http", "http2"],
	                   "passcode_file": "$W/lan1.pass" } $(coop_lan2_entry) ],
	    "id_lifetime": 3600 } }
	JSON
	nb_bg sp authd-sp env ${COOP_AUTHD_ENV:-} "$AUTHD" -d -v -f "$W/sp/authd.json"
	nb_ok "the SP's authd answers" nb_wait_for "authd-sp" 15 "$CTL" -s "$W/sp/authd.sock" status
	if [ -n "${COOP_VSWITCH:-}" ]; then
		nb_ok "the SP's vNIC is up" nb_wait_for "vnic1" 15 nb_exec sp ip -br addr show vnic1
		coop_http_start
	fi
	nb_bg ss authd-ss env ${COOP_AUTHD_ENV:-} "$AUTHD" -d -v -f "$W/ss/authd.json"
	nb_ok "the SS's authd answers" nb_wait_for "authd-ss" 15 "$CTL" -s "$W/ss/authd.sock" status
}

coop_lan2_entry() {
	[ -n "${COOP_LAN2:-}" ] || return 0
	printf ', { "name": "lan2", "address": "%s", "services": ["http", "http2"], "passcode_file": "%s" }' \
		"$COOP_LAN2" "$W/lan1.pass"
}
coop_sp_vnic() { # the provider's vNIC: external at $S4, or a macvlan behind the switch
	local svc='"services": [ { "name": "http", "port": 8080 }, { "name": "http2", "port": 8081 } ]'
	if [ -n "${COOP_VSWITCH:-}" ]; then
		printf '"vnic_parent": "%s", "relay": ["%s"], "vnics": [ { "name": "vnic1", "address": "%s/24", "data_folder": "%s", %s } ],' \
			"$(nb_ifname sp ss)" $S4 $V4 "$W/www" "$svc"
	else
		printf '"vnics": [ { "name": "vnic1", "address": "%s", "data_folder": "%s", %s } ],' \
			$S4 "$W/www" "$svc"
	fi
}
ctl() { local h=$1; shift; "$CTL" -s "$W/$h/authd.sock" -q "$W/nfq-$([ "$h" = ss ] && echo supervisor || echo provider).sock" "$@"; }
# nfq_id SOCK PORT: the ID of the authd session for PORT in coopnet-nfq's table, or nothing
nfq_id() {
	$NFQCTL "$1" '{"cmd": "sessions"}' 2>/dev/null | $PY -c "
import json, sys
for s in json.load(sys.stdin)['sessions']:
    if s.get('source') == 'authd' and s['port'] == $2 and s['client'] == '$C4':
        print(s['id'])"
}
has_nfq_session() { [ -n "$(nfq_id "$1" "$2")" ]; }
authd_id() { # HOST PORT: the ID coopnetctl lists
	ctl "$1" --json sessions | $PY -c "
import json, sys
for s in json.load(sys.stdin):
    if s['port'] == $2 and s['client'] == '$C4':
        print(s['id'])"
}
fetch() { # HOST PORT [MAX]: fetch the page from the SP, compare it
	nb_exec "$1" curl -sS --max-time "${3:-3}" -o "$W/got-$1" "http://$S4:$2/page" &&
		cmp -s "$W/got-$1" "$W/www/page"
}
dp_status() { ctl "$1" status | sed -n 's/^data plane: //p'; }
