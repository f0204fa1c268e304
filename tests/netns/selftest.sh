#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Self-test of the namespace test bed (tests/netns/lib.sh).
#
#	selftest.sh [topology|kill|all]     (default: all)
#
# topology: a child run builds client -- ss (router) -- sp1 with IPv4 and IPv6, plus a bridged
#   segment sp2/header/attacker, serves a random file over TCP (python3 http.server) and fetches
#   it across the router for both families; checks address validation and the bounded waits.
#   The parent then proves that nothing of the child run is left: no namespace, no veth name,
#   no process in its namespaces, no recorded process, no marker, no run dir.
# kill: a child run is killed midway. SIGTERM and SIGHUP: its traps clean everything up.
#   SIGKILL: its leftovers stay (no trap can run) until the next run's nb_sweep removes them,
#   while a concurrent live run is left alone.
#
# Internal modes: --child-topology STATE, --child-idle STATE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/selftest.sh"

# shellcheck source=lib.sh
. "$HERE/lib.sh"
nb_require_cmd python3 curl stat cmp

# ---------------------------------------------------------------- shared

# record what a run owns, for the parent to check after the run is gone
save_state() {
	local state=$1 h n f
	{
		echo "prefix $NS_PREFIX"
		echo "rundir $NB_RUNDIR"
		for h in $(nb_hosts); do
			n=$(nb_ns "$h")
			echo "ns $n $(stat -L -c %i "/run/netns/$n")"
		done
		for f in "$NB_RUNDIR"/pids/*.pid; do
			[ -f "$f" ] && echo "pid $(cat "$f")"
		done
		[ -f "$NB_RUNDIR/links" ] && awk '{print "ifname " $2; print "ifname " $4}' "$NB_RUNDIR/links"
	} >"$state.tmp"
	mv "$state.tmp" "$state"
}

state_get() {
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$1"
}

# processes whose network namespace (or an open fd) is one of the given nsfs inodes
procs_in_netns() {
	local ino
	local -a expr=()
	for ino in "$@"; do
		[ ${#expr[@]} -gt 0 ] && expr+=(-o)
		expr+=(-lname "net:\\[$ino\\]")
	done
	find /proc/[0-9]*/ns/net /proc/[0-9]*/fd -maxdepth 1 \( "${expr[@]}" \) -print 2>/dev/null |
		while read -r p; do
			p=${p#/proc/}
			proc_gone "${p%%/*}" || echo "${p%%/*} ($p -> $(readlink "/proc/$p" 2>/dev/null))"
		done
}

# everything of a finished run that still exists, one line each; empty output = clean
leftovers() {
	local state=$1 prefix rundir line pid start n ifn
	local -a inos=()
	prefix=$(state_get "$state" prefix)
	rundir=$(state_get "$state" rundir)
	[ -n "$prefix" ] || { echo "state file $state has no prefix"; return 0; }
	ip netns list | awk -v p="$prefix" 'index($1, p) == 1 { print "namespace " $1 }'
	[ -e "$NB_STATEDIR/${prefix%-}" ] && echo "marker $NB_STATEDIR/${prefix%-}"
	[ -e "$rundir" ] && echo "run dir $rundir"
	while read -r pid start; do
		# a zombie has exited and holds nothing; it waits for its (new) parent to reap it
		if [ -d "/proc/$pid" ] && [ "$(nb__starttime "$pid")" = "$start" ] && ! proc_gone "$pid"; then
			echo "process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
		fi
	done < <(state_get "$state" pid)
	while read -r n line; do
		inos+=("$line")
	done < <(state_get "$state" ns)
	[ ${#inos[@]} -gt 0 ] && procs_in_netns "${inos[@]}" | sed 's/^/process /'
	# links were created inside the namespaces; none may show up in the root namespace
	for ifn in $(state_get "$state" ifname); do
		ip link show dev "$ifn" >/dev/null 2>&1 && echo "interface $ifn in the root namespace"
	done
	return 0
}

nothing_left() {
	local out
	out=$(leftovers "$1")
	[ -z "$out" ] && return 0
	echo "$out"
	return 1
}

child_namespaces_exist() {
	local prefix n
	prefix=$(state_get "$1" prefix)
	for n in $(state_get "$1" ns | awk '{print $1}'); do
		[ -e "/run/netns/$n" ] || { echo "missing $n"; return 1; }
	done
	[ -n "$prefix" ]
}

child_server_running() {
	local pid start
	read -r pid start < <(state_get "$1" pid)
	[ -n "$pid" ] && [ "$(nb__starttime "$pid")" = "$start" ]
}

# client -- ss -- sp1 with both families, and a TCP server in sp1
build_triangle() {
	nb_host client
	nb_host ss
	nb_host sp1
	nb_link client ss --v4 198.18.1.2/24 198.18.1.1/24 --v6 2001:db8:1::2/64 2001:db8:1::1/64
	nb_link ss sp1 --v4 198.18.2.1/24 198.18.2.2/24 --v6 2001:db8:2::1/64 2001:db8:2::2/64
	nb_route client default 198.18.1.1
	nb_route client default 2001:db8:1::1
	nb_route sp1 198.18.1.0/24 198.18.2.1
	nb_route sp1 2001:db8:1::/64 2001:db8:2::1
	mkdir -p "$NB_RUNDIR/www"
	head -c 3000 /dev/urandom | base64 >"$NB_RUNDIR/www/data.txt"
	nb_bg sp1 http4 python3 -m http.server --bind 198.18.2.2 --directory "$NB_RUNDIR/www" 8080
	nb_bg sp1 http6 python3 -m http.server --bind 2001:db8:2::2 --directory "$NB_RUNDIR/www" 8086
	nb_wait_port sp1 8080 20
	nb_wait_port sp1 8086 20
}

# fetch URL from HOST and compare with the served file
fetch_same() {
	local host=$1 url=$2 out
	out="$NB_RUNDIR/fetch.$host.out"
	rm -f "$out"
	nb_exec "$host" curl -sS --connect-timeout 3 --max-time 10 -o "$out" "$url" || return 1
	cmp "$out" "$NB_RUNDIR/www/data.txt"
}

count_try() {
	echo x >>"$NB_RUNDIR/tries"
	return 1
}

# ---------------------------------------------------------------- child: topology

child_topology() {
	local state=$1 n tries got
	build_triangle

	# address validation: everything outside 198.18.0.0/15 and 2001:db8::/32 is refused
	for n in 198.18.0.1/24 198.19.255.254/15 198.18.7.7/32 2001:db8::1/64 2001:DB8:0:1::1/128 \
		2001:0db8:ffff::1/32 2001:db8:1:2:3:4:5:6/64; do
		nb_ok "address $n accepted" nb_valid_addr "$n" yes
	done
	for n in 10.0.0.1/24 198.20.0.1/24 198.17.255.1/24 198.18.0.1/14 198.18.0.256/24 8.8.8.8/32 \
		2001:db9::1/64 2001:db8::1/31 fe80::1/64 ::1/128 2001:db8::1::2/64 2001:db8:1:2:3:4:5:6:7/64 \
		::ffff:198.18.0.1/128 2001:db8::g/64 2001:db8::1:/64 :2001:db8::1/64 2001:db8:1:2:3:4:5:/64 "" garbage 198.18.0.1; do
		nb_fail_ok "address '$n' refused" nb_valid_addr "$n" yes
	done
	nb_fail_ok "nb_link refuses an address outside the test ranges" \
		nb_link client sp1 --v4 198.18.9.1/24 10.9.9.9/24
	nb_fail_ok "... and created no link" nb_ifname client sp1
	nb_fail_ok "nb_route refuses a gateway outside the test ranges" nb_route client 198.18.5.0/24 192.0.2.1
	nb_fail_ok "nb_exec refuses an unknown host" nb_exec nosuchhost true

	got=$(ip netns list | awk -v p="$NS_PREFIX" 'index($1, p) == 1 { print substr($1, length(p) + 1) }' | sort | tr '\n' ' ')
	nb_is "namespaces are \${NS_PREFIX}<host>" "$got" "client sp1 ss "
	nb_is "nb_addr sp1 4" "$(nb_addr sp1 4)" 198.18.2.2
	nb_is "nb_addr ss 6 sp1" "$(nb_addr ss 6 sp1)" 2001:db8:2::1
	nb_is "nb_ifname ss client" "$(nb_ifname ss client)" to-client
	nb_is "forwarding off on a host" "$(nb_exec client sysctl -n net.ipv4.ip_forward)" 0

	# ss is a plain host so far: no path from client to sp1
	nb_fail_ok "IPv4 fetch fails while ss does not forward" fetch_same client http://198.18.2.2:8080/data.txt
	nb_fail_ok "IPv6 fetch fails while ss does not forward" fetch_same client "http://[2001:db8:2::2]:8086/data.txt"
	nb_router ss
	nb_is "nb_router turns IPv4 forwarding on" "$(nb_exec ss sysctl -n net.ipv4.ip_forward)" 1
	nb_is "nb_router turns IPv6 forwarding on" "$(nb_exec ss sysctl -n net.ipv6.conf.all.forwarding)" 1
	nb_ok "client fetches the file over IPv4 TCP across the router" fetch_same client http://198.18.2.2:8080/data.txt
	nb_ok "client fetches the file over IPv6 TCP across the router" fetch_same client "http://[2001:db8:2::2]:8086/data.txt"
	nb_ok "sp1 saw the client's own IPv4 address" grep -q '^198\.18\.1\.2 .*GET /data.txt' "$(nb_log http4)"
	nb_ok "sp1 saw the client's own IPv6 address" grep -q '^2001:db8:1::2 .*GET /data.txt' "$(nb_log http6)"
	nb_ok "client routes sp1 via ss (IPv4)" bash -c "ip -n $(nb_ns client) route get 198.18.2.2 | grep -q 'via 198.18.1.1 '"
	nb_ok "client routes sp1 via ss (IPv6)" bash -c "ip -n $(nb_ns client) -6 route get 2001:db8:2::2 | grep -q 'via 2001:db8:1::1 '"

	# a shared segment through a bridge in its own "wire" namespace
	nb_host sp2
	nb_host header
	nb_host attacker
	nb_bridge lan
	nb_bridge_port lan sp2 --v4 198.18.3.2/24 --v6 2001:db8:3::2/64
	nb_bridge_port lan header --v4 198.18.3.3/24 --v6 2001:db8:3::3/64
	nb_bridge_port lan attacker --v4 198.18.3.4/24 --v6 2001:db8:3::4/64
	nb_bg header lanweb6 python3 -m http.server --bind 2001:db8:3::3 --directory "$NB_RUNDIR/www" 8080
	nb_bg header lanweb4 python3 -m http.server --bind 198.18.3.3 --directory "$NB_RUNDIR/www" 8080
	nb_wait_port header 8080 20
	nb_ok "header's IPv4 server up" nb_wait_for "header v4 server" 20 \
		nb_exec header curl -sf -o /dev/null http://198.18.3.3:8080/data.txt
	nb_ok "sp2 fetches from header over the bridge (IPv4)" fetch_same sp2 http://198.18.3.3:8080/data.txt
	nb_ok "sp2 fetches from header over the bridge (IPv6)" fetch_same sp2 "http://[2001:db8:3::3]:8080/data.txt"
	nb_ok "attacker reaches header on the same segment" fetch_same attacker "http://[2001:db8:3::3]:8080/data.txt"
	nb_fail_ok "the segment is not routed to client" fetch_same client http://198.18.3.3:8080/data.txt

	# bounded waits
	nb_fail_ok "nb_wait_port fails on a closed port" nb_wait_port sp1 9 1
	nb_fail_ok "nb_wait_port fails on a port open on another host" nb_wait_port client 8080 1
	nb_ok "nb_wait_port succeeds on an open port" nb_wait_port sp1 8080 1
	rm -f "$NB_RUNDIR/tries"
	nb_fail_ok "nb_wait_for gives up on a command that always fails" nb_wait_for "never" 1 count_try
	tries=$(wc -l <"$NB_RUNDIR/tries")
	nb_ok "... after more than one try ($tries)" test "$tries" -ge 2
	nb_ok "... and at most 11 tries ($tries)" test "$tries" -le 11
	nb_fail_ok "nb_wait_for cuts off a command that blocks" nb_wait_for "blocking" 1 sleep 600
	nb_fail_ok "nb_wait_for refuses an unbounded timeout" nb_wait_for "forever" 0 true

	# nb_stop
	nb_ok "http4 runs" nb_running http4
	nb_ok "nb_stop stops it" nb_stop http4
	nb_fail_ok "http4 no longer runs" nb_running http4
	nb_fail_ok "IPv4 fetch fails once the server is stopped" fetch_same client http://198.18.2.2:8080/data.txt

	# a process started by hand inside a namespace (not recorded): cleanup must still find it
	nb_exec sp2 setsid sleep 600 </dev/null >/dev/null 2>&1 &
	nb_ok "unrecorded process runs in sp2" nb_wait_for "sleep in sp2" 5 \
		bash -c "[ -n \"\$(ip netns pids $(nb_ns sp2))\" ]"
	save_state "$state"
	nb_done
}

# ---------------------------------------------------------------- child: idle (killed by parent)

child_idle() {
	local state=$1 i
	build_triangle
	nb_router ss
	fetch_same client http://198.18.2.2:8080/data.txt
	save_state "$state"
	# bounded idle loop; nb_sleep lets the TERM/HUP traps run at once
	for ((i = 0; i < 300; i++)); do
		nb_sleep 1
	done
	echo "child_idle: not killed within 300 s" >&2
	exit 3
}

# ---------------------------------------------------------------- parent

wait_ready() {
	[ -s "$1" ]
}

proc_gone() {
	! nb__alive "$1"
}

# on the parent's exit (even a failing one): end a child run still going, then sweep it
stop_child() {
	local pid=$1
	[ -d "/proc/$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	nb_wait_for "child $pid exit" 30 proc_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	nb_sweep cn
}

start_idle_child() {
	local state=$1
	"$SELF" --child-idle "$state" >"$state.log" 2>&1 &
	CHILD=$!
	nb_at_cleanup stop_child "$CHILD"
	if ! nb_wait_for "idle child ready" 60 wait_ready "$state"; then
		sed 's/^/#   child: /' "$state.log"
		return 1
	fi
}

parent_topology() {
	local state="$NB_RUNDIR/topology.state" rc=0
	echo "# topology: child run"
	if "$SELF" --child-topology "$state" 2>&1 | sed 's/^/    /'; then rc=0; else rc=$?; fi
	nb_is "topology child run passed" "$rc" 0
	nb_ok "topology child recorded its state" test -s "$state"
	nb_ok "nothing of the topology run remains after it exits" nothing_left "$state"
}

# kill a child with SIG, then expect a clean exit with status CODE
parent_kill_trapped() {
	local sig=$1 code=$2 state="$NB_RUNDIR/kill-$1.state" rc=0
	start_idle_child "$state" || { nb_ok "SIG$sig child started" false; return 0; }
	nb_ok "SIG$sig child: namespaces exist before the kill" child_namespaces_exist "$state"
	nb_ok "SIG$sig child: server runs before the kill" child_server_running "$state"
	kill "-$sig" "$CHILD"
	nb_ok "SIG$sig child exits" nb_wait_for "child exit" 60 proc_gone "$CHILD"
	wait "$CHILD" || rc=$?
	nb_is "SIG$sig child exit status" "$rc" "$code"
	nb_ok "SIG$sig child: nothing remains" nothing_left "$state"
}

parent_kill_9() {
	local a="$NB_RUNDIR/kill-KILL.state" b="$NB_RUNDIR/live.state" rc=0 a_pid b_pid prefix
	start_idle_child "$a" || { nb_ok "SIGKILL child started" false; return 0; }
	a_pid=$CHILD
	start_idle_child "$b" || { nb_ok "live child started" false; return 0; }
	b_pid=$CHILD
	kill -KILL "$a_pid"
	nb_ok "SIGKILL child dies" nb_wait_for "child exit" 30 proc_gone "$a_pid"
	wait "$a_pid" || rc=$?
	nb_is "SIGKILL child exit status" "$rc" 137
	nb_ok "SIGKILL: no trap ran, namespaces remain" child_namespaces_exist "$a"
	nb_ok "SIGKILL: its server still runs" child_server_running "$a"
	nb_fail_ok "SIGKILL: leftovers are visible" nothing_left "$a"

	# the next run sweeps dead runs when it starts
	nb_ok "the next run starts (and sweeps)" bash -c ". '$HERE/lib.sh' && nb_host probe"
	nb_ok "SIGKILL: the next run removed every leftover" nothing_left "$a"
	prefix=$(state_get "$a" prefix)
	nb_is "ip netns list has nothing of the killed run" \
		"$(ip netns list | awk -v p="$prefix" 'index($1, p) == 1' | wc -l)" 0

	# the concurrent live run was not touched, and a sweep now does not touch it either
	nb_ok "live run: namespaces intact after the sweep" child_namespaces_exist "$b"
	nb_ok "live run: server intact after the sweep" child_server_running "$b"
	nb_ok "nb_sweep runs" nb_sweep cn
	nb_ok "live run: still intact after an explicit nb_sweep" child_namespaces_exist "$b"
	nb_ok "live run: still serving" nb_exec_in_state "$b"
	kill -TERM "$b_pid"
	nb_ok "live run exits on SIGTERM" nb_wait_for "live child exit" 60 proc_gone "$b_pid"
	rc=0
	wait "$b_pid" || rc=$?
	nb_is "live run exit status" "$rc" 143
	nb_ok "live run: nothing remains" nothing_left "$b"
}

# fetch through the live child's namespaces (proves its topology still works)
nb_exec_in_state() {
	local prefix rundir
	prefix=$(state_get "$1" prefix)
	rundir=$(state_get "$1" rundir)
	ip netns exec "${prefix}client" curl -sS --max-time 10 -o /dev/null http://198.18.2.2:8080/data.txt &&
		[ -d "$rundir" ]
}

parent_kill() {
	echo "# kill: SIGTERM, SIGHUP, SIGKILL"
	parent_kill_trapped TERM 143
	parent_kill_trapped HUP 129
	parent_kill_9
}

case ${1:-all} in
--child-topology) child_topology "$2" ;;
--child-idle) child_idle "$2" ;;
topology) parent_topology; nb_done ;;
kill) parent_kill; nb_done ;;
all) parent_topology; parent_kill; nb_done ;;
*) echo "usage: $0 [topology|kill|all]" >&2; exit 2 ;;
esac
