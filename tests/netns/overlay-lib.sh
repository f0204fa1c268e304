# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The whole overlay of examples/ in namespaces: used by scripts/demo.sh and
# tests/netns/vnic-e2e.test (source tests/netns/lib.sh first).
#
#   client 198.18.1.2 -- ss (router) -- [wan bridge 198.18.2.0/24] -- header, sp1, sp2, attacker
#
#   ov_topology          namespaces, links, routes
#   ov_install           examples/install.sh into $OV_RUN (configs, data folders, secrets 0600)
#   ov_start_sp HOST     rules, coopnet-nfq, coopnet-authd (which creates the vNICs, writes the
#                        vhosts and starts Apache, and loads the virtual switch)
#   ov_start_header, ov_start_ss
#   ov_ctl HOST ARGS     coopnetctl against HOST's authd
#   ov_get HOST URL      curl with a short timeout, body on stdout

OV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OV_AUTHD=${COOPNET_AUTHD:-$OV_TOP/authd/coopnet-authd} # another build: a before/after
OV_NFQ=$OV_TOP/nfq/coopnet-nfq
OV_CTL=$OV_TOP/ctl/coopnetctl
# Apache (www-data) reads the data folders: the run directory must be traversable by others
if [ -z "${OV_RUN:-}" ]; then
	OV_RUN=$(mktemp -d /tmp/coopnet-overlay.XXXXXX)
	chmod 755 "$OV_RUN"
	OV_RUN_OWNED=1
fi
ov_cleanup() {
	local h
	for h in sp1 sp2; do
		ov_stop_apache "$h"
	done
	[ -z "${OV_RUN_OWNED:-}" ] || rm -rf "$OV_RUN"
}
nb_at_cleanup ov_cleanup

# The SS as a bridge (docs/deployment.md, "Bridged"): client -- [ss: br0 = lan0 + wan0,
# 198.18.1.250] -- gw (the LAN's router, 198.18.1.1 | 198.18.2.1) -- wan. The SS's authd
# listens on br0's address; bridged IPv4 meets the ip/inet hooks through br_netfilter.
ov_topology_bridged() {
	local ns
	nb_host client || return 1
	nb_host ss || return 1
	nb_router gw || return 1
	nb_host header || return 1
	nb_host sp1 || return 1
	nb_host sp2 || return 1
	nb_host attacker || return 1
	nb_bridge wan || return 1
	nb_link client ss --v4 198.18.1.2/24 198.18.1.250/24 --ifb lan0 || return 1
	nb_link ss gw --ifa wan0 --v4 198.18.1.251/24 198.18.1.1/24 || return 1
	ns=$(nb_ns ss)
	ip -n "$ns" addr flush dev lan0 && ip -n "$ns" addr flush dev wan0 &&
		ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0 &&
		ip -n "$ns" link set lan0 master br0 && ip -n "$ns" link set wan0 master br0 &&
		ip -n "$ns" link set br0 up && ip -n "$ns" addr add 198.18.1.250/24 dev br0 &&
		ip -n "$ns" route add default via 198.18.1.1 || return 1
	# per namespace since Linux 5.3: bridged IPv4/IPv6 traverse the ip, ip6 and inet hooks
	ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
		net.bridge.bridge-nf-call-ip6tables=1 || return 1
	nb_bridge_port wan gw --v4 198.18.2.1/24 || return 1
	nb_bridge_port wan header --v4 198.18.2.2/24 || return 1
	# IPv4 only through the bridged SS; the SPs keep IPv6 subnets for their dual-stack vNICs
	nb_bridge_port wan sp1 --v4 198.18.2.3/24 --v6 2001:db8:2::3/64 --if wan0 || return 1
	nb_bridge_port wan sp2 --v4 198.18.2.4/24 --v6 2001:db8:2::4/64 --if wan0 || return 1
	nb_bridge_port wan attacker --v4 198.18.2.9/24 || return 1
	nb_route client default 198.18.1.1 || return 1
	local h
	for h in header sp1 sp2; do
		nb_route "$h" 198.18.1.0/24 198.18.2.1 || return 1
	done
}

ov_topology() {
	if [ -n "${OV_SS_BRIDGED:-}" ]; then
		ov_topology_bridged
		return
	fi
	nb_host client || return 1
	nb_router ss || return 1
	nb_host header || return 1
	nb_host sp1 || return 1
	nb_host sp2 || return 1
	nb_host attacker || return 1
	nb_bridge wan || return 1
	nb_link client ss --v4 198.18.1.2/24 198.18.1.1/24 --v6 2001:db8:1::2/64 2001:db8:1::1/64 ||
		return 1
	nb_bridge_port wan ss --v4 198.18.2.1/24 --v6 2001:db8:2::1/64 || return 1
	nb_bridge_port wan header --v4 198.18.2.2/24 || return 1
	nb_bridge_port wan sp1 --v4 198.18.2.3/24 --v6 2001:db8:2::3/64 --if wan0 || return 1
	nb_bridge_port wan sp2 --v4 198.18.2.4/24 --v6 2001:db8:2::4/64 --if wan0 || return 1
	nb_bridge_port wan attacker --v4 198.18.2.9/24 --v6 2001:db8:2::9/64 || return 1
	nb_route client default 198.18.1.1 || return 1
	nb_route client default 2001:db8:1::1 || return 1
	local h
	for h in header sp1 sp2; do
		nb_route "$h" 198.18.1.0/24 198.18.2.1 || return 1
	done
	for h in sp1 sp2; do
		nb_route "$h" 2001:db8:1::/64 2001:db8:2::1 || return 1
	done
	# the group service shop's virtual address (docs/groups.md): routed, so that a SYN without
	# a session reaches the forward hook (session-miss), where the SS's guard drops it
	nb_exec ss ip route add 198.19.0.0/24 via 198.18.2.3
}

# The examples run coopnet-nfq in kernel mode (the kernel writes and checks the ID from the
# worker's nft maps). OV_NFQ_MODE=queue|kernel sets the SPs' mode, OV_SS_NFQ_MODE the SS's.
ov_install() {
	"$OV_TOP/examples/install.sh" "$OV_RUN" || return 1
	local h
	if [ -n "${OV_NFQ_MODE:-}" ]; then
		for h in sp1 sp2; do
			sed -i "s/\"mode\": \"[a-z]*\"/\"mode\": \"$OV_NFQ_MODE\"/" "$OV_RUN/$h/nfq.json" || return 1
		done
	fi
	if [ -n "${OV_SS_BRIDGED:-}" ]; then
		sed -i 's/"listen": \["198.18.2.1"\]/"listen": ["198.18.1.250"]/' "$OV_RUN/ss/authd.json" || return 1
	fi
	if [ -n "${OV_SS_NFQ_MODE:-}" ]; then
		sed -i "s/\"mode\": \"[a-z]*\"/\"mode\": \"$OV_SS_NFQ_MODE\"/" "$OV_RUN/ss/nfq.json" || return 1
	fi
}

# ov_nfq_mode HOST: the mode of HOST's installed nfq.json (queue when it names none)
ov_nfq_mode() {
	local m
	m=$(sed -n 's/.*"mode": *"\([a-z]*\)".*/\1/p' "$OV_RUN/$1/nfq.json" | head -n 1)
	echo "${m:-queue}"
}

# Apache daemonizes (coopnet-authd starts it with its graceful reload): stop it by its pid file.
ov_stop_apache() {
	local host=$1 pidf=$OV_RUN/$1/apache/apache2.pid pid
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

ov_start_nfq() { # HOST RULEFILE [TAG]: TAG names a restart's process (nb_bg names are used once)
	local host=$1
	nb_exec "$host" nft -f "$OV_TOP/nft-rules/$2" || return 1
	rm -f "$OV_RUN/$host/nfq.sock"
	nb_bg "$host" "nfq-$host${3:-}" "$OV_NFQ" -v --config "$OV_RUN/$host/nfq.json" || return 1
	nb_wait_for "coopnet-nfq on $host" 10 test -S "$OV_RUN/$host/nfq.sock"
}

ov_start_authd() { # HOST [TAG]
	local host=$1
	nb_bg "$host" "authd-$host${2:-}" "$OV_AUTHD" -d -f "$OV_RUN/$host/authd.json" || return 1
	nb_wait_for "coopnet-authd on $host" 20 ov_ctl "$host" status >/dev/null
}

ov_start_sp() { # HOST [nonfq|TAG]: TAG names a restart's processes
	local host=$1 tag=
	[ "${2:-nonfq}" = nonfq ] || tag=$2
	if [ "${2:-}" != nonfq ]; then
		# kernel mode has its own rule file (no marking chain: docs/nfq.md, "Rules")
		if [ "$(ov_nfq_mode "$host")" = kernel ]; then
			ov_start_nfq "$host" provider-kernel.nft "$tag" || return 1
		else
			ov_start_nfq "$host" provider.nft "$tag" || return 1
		fi
	fi
	ov_start_authd "$host" "$tag"
}

ov_start_header() {
	ov_start_authd header
}

ov_start_ss() {
	if [ "$(ov_nfq_mode ss)" = kernel ]; then
		ov_start_nfq ss supervisor-kernel.nft || return 1
	else
		ov_start_nfq ss supervisor.nft || return 1
	fi
	# with shop, the group service: its virtual address and its members (docs/groups.md)
	nb_exec ss nft add element inet coopnet overlay4 '{ 198.18.2.3 . 80, 198.18.2.3 . 8080, 198.18.2.4 . 80,
		198.19.0.10 . 8000, 198.18.2.3 . 8000, 198.18.2.4 . 8000 }' || return 1
	if [ -z "${OV_SS_BRIDGED:-}" ]; then
		nb_exec ss nft add element inet coopnet overlay6 '{ 2001:db8:2::4 . 80 }' || return 1
	fi
	ov_start_authd ss
}

ov_ctl() { # HOST ARGS...
	local host=$1
	shift
	"$OV_CTL" --socket "$OV_RUN/$host/authd.sock" --nfq-socket "$OV_RUN/$host/nfq.sock" "$@"
}

ov_get() { # HOST URL
	nb_exec "$1" curl -sS --max-time 4 "$2"
}
