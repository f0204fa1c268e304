#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# coopnet network-namespace test bed.
#
# Sourced by the integration tests in tests/netns/*.test:
#
#	. "$(dirname "$0")/lib.sh"
#	nb_host client; nb_router ss; nb_host sp1
#	nb_link client ss --v4 198.18.1.2/24 198.18.1.1/24 --v6 2001:db8:1::2/64 2001:db8:1::1/64
#	...
#	nb_done
#
# Sourcing it starts a "run": a per-run namespace name prefix (NS_PREFIX, "cn<pid>-<hex4>-"),
# a run directory (NB_RUNDIR) for logs and pid files, a marker in $NB_STATEDIR naming the
# creating process, and EXIT/INT/TERM/HUP traps that remove everything the run created.
# A run killed with SIGKILL cannot clean up: the next run's nb_sweep (called on start) removes
# the leftovers of runs whose creating process is dead, and never touches a live run.
#
# Executed directly it is a small admin tool:
#	tests/netns/lib.sh list            runs on this machine, live / dead / kept
#	tests/netns/lib.sh sweep [PREFIX]  remove leftovers of dead runs (PREFIX defaults to "cn")
#	tests/netns/lib.sh purge PREFIX    remove one run, even a kept (NB_KEEP=1) one, if its
#	                                   creating process is dead
#
# Every helper is safe under `set -euo pipefail`. Only addresses in 198.18.0.0/15 and
# 2001:db8::/32 are accepted, and links are created directly inside the run's namespaces
# (`ip -n A link add ... peer ... netns B`), so nothing ever appears in the root namespace.

if [ -n "${NB__LOADED:-}" ]; then
	# shellcheck disable=SC2317 # reached when executed rather than sourced
	return 0 2>/dev/null || exit 0
fi
NB__LOADED=1

NB_STATEDIR=${NB_STATEDIR:-/run/coopnet-netns}
NB_PASS=0
NB_FAIL=0
NB__TESTNO=0
NB__DONE=0
NB__CLEANUP_HOOKS=()

# Namespace names of a run: cn<pid>-<4 hex>-<host>. The pid is the creating shell ($$), which
# nb_sweep checks (together with its start time, against pid reuse) before removing anything.
NB__NAME_RE='^(cn([0-9]+)-([0-9a-f]{4}))-'

# ---------------------------------------------------------------- messages

nb__err() {
	echo "nb: ERROR: $*" >&2
	return 1
}

nb__info() {
	echo "# $*" >&2
}

# fatal: print and exit the test (the EXIT trap cleans up)
nb__die() {
	echo "nb: FATAL: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- requirements

# Debian package providing a command (for the error message of nb_require_cmd).
nb__pkg_of() {
	case $1 in
	ip | ss | bridge) echo iproute2 ;;
	nft) echo nftables ;;
	iptables | ip6tables) echo iptables ;;
	sysctl | pkill | pgrep | ps) echo procps ;;
	killall | fuser) echo psmisc ;;
	python3) echo python3 ;;
	tcpdump) echo tcpdump ;;
	iperf3) echo iperf3 ;;
	sqlite3) echo sqlite3 ;;
	apache2 | apache2ctl | apachectl) echo apache2 ;;
	curl) echo curl ;;
	hping3) echo hping3 ;;
	sockperf) echo sockperf ;;
	wrk) echo wrk ;;
	timeout | mktemp | stat | sleep | date) echo coreutils ;;
	setsid | unshare | nsenter) echo util-linux ;;
	nc) echo netcat-openbsd ;;
	socat) echo socat ;;
	shellcheck) echo shellcheck ;;
	*) echo "unknown (not in scripts/setup.sh)" ;;
	esac
}

# nb_require_root: the test bed needs CAP_NET_ADMIN and CAP_SYS_ADMIN in the root namespace.
nb_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		nb__die "integration tests must run as root (try: sudo tests/netns/run.sh)"
	fi
}

# nb_require_cmd CMD...: fail loudly (exit 1, not a skip) naming the Debian package.
nb_require_cmd() {
	local c missing=0
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "nb: FATAL: command '$c' not found: install Debian package '$(nb__pkg_of "$c")'" \
				"(scripts/setup.sh installs the packages coopnet needs)" >&2
			missing=1
		fi
	done
	[ "$missing" -eq 0 ] || exit 1
}

# nb_have CMD: true when CMD is installed (for optional tools; then nb_skip if needed).
nb_have() {
	command -v "$1" >/dev/null 2>&1
}

# nb_skip REASON: end the test as skipped (exit 77, cleanup runs). Only for optional tools or
# kernel features, never for a package scripts/setup.sh installs.
nb_skip() {
	echo "# SKIP $*"
	exit 77
}

# ---------------------------------------------------------------- small utilities

# microseconds since the epoch, without forking
nb__now_us() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo "$t"
}

# start time (clock ticks since boot) of a pid, empty if gone: pid + start time names a process
# uniquely, so a recycled pid is never mistaken for ours
nb__starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	# fields after "comm) ": state is field 3 of stat(5), starttime is field 22
	# shellcheck disable=SC2086 # split into fields
	set -- $stat
	echo "${20:-}"
}

nb__alive() {
	local pid=$1 start=${2:-} stat
	[ -n "$pid" ] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split into fields
	set -- $stat
	# a zombie (Z) or dying (X) process has exited: it holds no namespace, and when its parent
	# was killed too it may wait a long time for init to reap it
	case $1 in Z | X) return 1 ;; esac
	[ -z "$start" ] || [ "${20:-}" = "$start" ]
}

# nb_sleep SECONDS: a sleep that lets the INT/TERM traps run at once (bash defers traps while a
# foreground child runs, but not while it is in `wait`).
nb_sleep() {
	local p
	sleep "$1" &
	p=$!
	wait "$p" 2>/dev/null || true
}

# kill a list of pids: TERM, wait (bounded), then KILL, wait (bounded)
nb__kill_pids() {
	local sig i p left
	[ $# -gt 0 ] || return 0
	for sig in TERM KILL; do
		for p in "$@"; do
			kill "-$sig" "$p" 2>/dev/null || true
		done
		for ((i = 0; i < 30; i++)); do
			left=0
			for p in "$@"; do
				if nb__alive "$p"; then
					left=1
				fi
			done
			[ "$left" -eq 0 ] && return 0
			sleep 0.1
		done
	done
	nb__err "processes still alive after SIGKILL: $*"
}

# ---------------------------------------------------------------- address validation

nb__valid_v4() {
	local a=$1 need_len=$2 re='^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(/([0-9]{1,2}))?$'
	local o1 o2 o3 o4 len
	[[ $a =~ $re ]] || return 1
	o1=$((10#${BASH_REMATCH[1]}))
	o2=$((10#${BASH_REMATCH[2]}))
	o3=$((10#${BASH_REMATCH[3]}))
	o4=$((10#${BASH_REMATCH[4]}))
	len=${BASH_REMATCH[6]}
	((o3 <= 255 && o4 <= 255)) || return 1
	# 198.18.0.0/15 = 198.18.x.x and 198.19.x.x
	((o1 == 198 && (o2 == 18 || o2 == 19))) || return 1
	if [ "$need_len" = yes ]; then
		[ -n "$len" ] || return 1
	elif [ "$need_len" = no ]; then
		[ -z "$len" ] || return 1
	fi
	# a prefix shorter than /15 would reach outside the range
	[ -z "$len" ] || (((10#$len) >= 15 && (10#$len) <= 32))
}

# expand an IPv6 address (no prefix length) into 8 groups of 4 hex digits, or fail
nb__expand_v6() {
	local a=${1,,} head tail n i g
	local -a hg=() tg=() grp=()
	[[ $a =~ ^[0-9a-f:]+$ ]] || return 1
	case $a in *:::*) return 1 ;; esac
	# a single colon may neither start nor end an address
	[[ $a == :* && $a != ::* ]] && return 1
	[[ $a == *: && $a != *:: ]] && return 1
	if [[ $a == *::* ]]; then
		head=${a%%::*}
		tail=${a#*::}
		[[ $tail == *::* ]] && return 1
		[ -n "$head" ] && IFS=: read -r -a hg <<<"$head"
		[ -n "$tail" ] && IFS=: read -r -a tg <<<"$tail"
		n=$((8 - ${#hg[@]} - ${#tg[@]}))
		((n >= 1)) || return 1
		grp=("${hg[@]}")
		for ((i = 0; i < n; i++)); do grp+=(0); done
		grp+=("${tg[@]}")
	else
		IFS=: read -r -a grp <<<"$a"
	fi
	[ ${#grp[@]} -eq 8 ] || return 1
	for g in "${grp[@]}"; do
		[[ $g =~ ^[0-9a-f]{1,4}$ ]] || return 1
	done
	printf '%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x\n' \
		$((16#${grp[0]})) $((16#${grp[1]})) $((16#${grp[2]})) $((16#${grp[3]})) \
		$((16#${grp[4]})) $((16#${grp[5]})) $((16#${grp[6]})) $((16#${grp[7]}))
}

nb__valid_v6() {
	local a=$1 need_len=$2 addr len='' full
	addr=${a%%/*}
	if [[ $a == */* ]]; then
		len=${a#*/}
		[[ $len =~ ^[0-9]{1,3}$ ]] || return 1
		# a prefix shorter than /32 would reach outside 2001:db8::/32
		(((10#$len) >= 32 && (10#$len) <= 128)) || return 1
	fi
	if [ "$need_len" = yes ]; then
		[ -n "$len" ] || return 1
	elif [ "$need_len" = no ]; then
		[ -z "$len" ] || return 1
	fi
	full=$(nb__expand_v6 "$addr") || return 1
	[[ $full == 2001:0db8:* ]]
}

# nb_valid_addr ADDR [yes|no|any]: ADDR (with /len when "yes", without when "no") is inside
# 198.18.0.0/15 or 2001:db8::/32. Everything else is refused: tests never talk to real networks.
nb_valid_addr() {
	local a=$1 need_len=${2:-any}
	if [[ $a == *:* ]]; then
		nb__valid_v6 "$a" "$need_len"
	else
		nb__valid_v4 "$a" "$need_len"
	fi
}

nb__check_addr() {
	local a=$1 need_len=$2 what=$3
	if ! nb_valid_addr "$a" "$need_len"; then
		local hint="with a prefix length, e.g. 198.18.1.1/24 or 2001:db8:1::1/64"
		[ "$need_len" = no ] && hint="without a prefix length, e.g. 198.18.1.1 or 2001:db8:1::1"
		nb__err "$what: '$a' refused: test addresses must be inside 198.18.0.0/15 or 2001:db8::/32, $hint"
		return 1
	fi
}

# ---------------------------------------------------------------- namespaces and hosts

nb__ns() {
	echo "${NS_PREFIX}$1"
}

nb__ns_exists() {
	[ -e "/run/netns/${NS_PREFIX}$1" ]
}

nb__need_host() {
	nb__ns_exists "$1" || nb__err "no host '$1' in this run (create it with nb_host $1)"
}

# all namespace names (first word of `ip netns list`)
nb__all_ns() {
	ip netns list 2>/dev/null | while read -r n _; do echo "$n"; done
}

# namespaces whose name starts with a given run prefix
nb__ns_of_prefix() {
	local p=$1 n
	for n in $(nb__all_ns); do
		[[ $n == "$p"* ]] && echo "$n"
	done
	return 0
}

nb__sysctl() {
	local host=$1
	shift
	ip netns exec "$(nb__ns "$host")" sysctl -q -w "$@" >/dev/null ||
		nb__err "sysctl $* failed in host '$host'"
}

# nb_host NAME: a host namespace with lo up, forwarding off and IPv6 DAD off (addresses are
# usable at once, tests never wait for DAD).
nb_host() {
	local name=$1 ns
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$ ]] ||
		{ nb__err "nb_host: bad host name '$name' (letters, digits, _ . -, at most 32)"; return 1; }
	ns=$(nb__ns "$name")
	nb__ns_exists "$name" && { nb__err "nb_host: host '$name' exists already"; return 1; }
	ip netns add "$ns" || { nb__err "nb_host: ip netns add $ns failed"; return 1; }
	echo "$name" >>"$NB_RUNDIR/hosts"
	ip -n "$ns" link set lo up || return 1
	nb__sysctl "$name" net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 \
		net.ipv6.conf.default.forwarding=0 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.accept_ra=0
}

# nb_router NAME: turn IPv4 and IPv6 forwarding on (creates the host if needed).
nb_router() {
	local name=$1
	nb__ns_exists "$name" || nb_host "$name" || return 1
	nb__sysctl "$name" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.default.forwarding=1
}

# nb_forwarding NAME on|off: switch forwarding of an existing host.
nb_forwarding() {
	local v
	case $2 in on) v=1 ;; off) v=0 ;; *) nb__err "nb_forwarding: on or off, not '$2'"; return 1 ;; esac
	nb__need_host "$1" || return 1
	nb__sysctl "$1" net.ipv4.ip_forward=$v net.ipv6.conf.all.forwarding=$v \
		net.ipv6.conf.default.forwarding=$v
}

# nb_hosts: the hosts of this run, one per line
nb_hosts() {
	[ -f "$NB_RUNDIR/hosts" ] && cat "$NB_RUNDIR/hosts"
	return 0
}

# nb_ns HOST: the namespace name of a host (for tools that take one, e.g. `ip -n`).
nb_ns() {
	nb__need_host "$1" || return 1
	nb__ns "$1"
}

# nb_exec HOST CMD...: run CMD inside HOST.
nb_exec() {
	local host=$1
	shift
	nb__need_host "$host" || return 1
	ip netns exec "$(nb__ns "$host")" "$@"
}

# ---------------------------------------------------------------- links

# a free interface name (<= 15 chars) in HOST, derived from WANT
nb__free_ifname() {
	local host=$1 want=$2 cand i
	cand=${want:0:15}
	for ((i = 1; i < 100; i++)); do
		if ! ip -n "$(nb__ns "$host")" link show dev "$cand" >/dev/null 2>&1; then
			echo "$cand"
			return 0
		fi
		cand="${want:0:12}$i"
		cand=${cand:0:15}
	done
	nb__err "no free interface name like '$want' in host '$host'"
}

nb__addr_add() {
	local host=$1 ifname=$2 peer=$3 addr=$4 fam=4
	local -a extra=()
	if [[ $addr == *:* ]]; then
		fam=6
		extra=(nodad)
	fi
	ip -n "$(nb__ns "$host")" -"$fam" addr add "$addr" dev "$ifname" "${extra[@]}" ||
		{ nb__err "cannot add $addr to $ifname in host '$host'"; return 1; }
	echo "$host $peer $fam $addr $ifname" >>"$NB_RUNDIR/addrs"
}

# nb_link A B [--v4 ADDR_A ADDR_B] [--v6 ADDR_A ADDR_B] [--ifa NAME] [--ifb NAME]
# A veth pair between hosts A and B, both ends up. Interface names default to "to-<peer>"
# (shortened to 15 chars, a digit added if taken); nb_ifname A B prints them.
nb_link() {
	local a=${1:-} b=${2:-} ifa='' ifb='' nsa nsb x
	local -a v4=() v6=()
	shift 2 || { nb__err "usage: nb_link A B [--v4 A_ADDR B_ADDR] [--v6 A_ADDR B_ADDR]"; return 1; }
	while [ $# -gt 0 ]; do
		case $1 in
		--v4 | --v6)
			[ $# -ge 3 ] || { nb__err "nb_link: $1 needs two addresses (A's and B's)"; return 1; }
			for x in "$2" "$3"; do
				nb__check_addr "$x" yes "nb_link $a $b $1" || return 1
				if [ "$1" = --v4 ] && [[ $x == *:* ]]; then
					nb__err "nb_link: --v4 given an IPv6 address '$x'"; return 1
				fi
				if [ "$1" = --v6 ] && [[ $x != *:* ]]; then
					nb__err "nb_link: --v6 given an IPv4 address '$x'"; return 1
				fi
			done
			if [ "$1" = --v4 ]; then v4+=("$2" "$3"); else v6+=("$2" "$3"); fi
			shift 3
			;;
		--ifa) ifa=${2:-}; shift 2 || return 1 ;;
		--ifb) ifb=${2:-}; shift 2 || return 1 ;;
		*) nb__err "nb_link: unknown argument '$1'"; return 1 ;;
		esac
	done
	nb__need_host "$a" || return 1
	nb__need_host "$b" || return 1
	[ "$a" != "$b" ] || { nb__err "nb_link: a host cannot link to itself ($a)"; return 1; }
	nsa=$(nb__ns "$a")
	nsb=$(nb__ns "$b")
	[ -n "$ifa" ] || ifa=$(nb__free_ifname "$a" "to-$b") || return 1
	[ -n "$ifb" ] || ifb=$(nb__free_ifname "$b" "to-$a") || return 1
	for x in "$ifa" "$ifb"; do
		[[ $x =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { nb__err "nb_link: bad interface name '$x'"; return 1; }
	done
	# created inside A with its peer directly in B: the names never exist in the root namespace
	ip -n "$nsa" link add name "$ifa" type veth peer name "$ifb" netns "$nsb" ||
		{ nb__err "nb_link: cannot create veth $a:$ifa <-> $b:$ifb"; return 1; }
	echo "$a $ifa $b $ifb" >>"$NB_RUNDIR/links"
	ip -n "$nsa" link set "$ifa" up || return 1
	ip -n "$nsb" link set "$ifb" up || return 1
	if [ ${#v4[@]} -gt 0 ]; then
		nb__addr_add "$a" "$ifa" "$b" "${v4[0]}" || return 1
		nb__addr_add "$b" "$ifb" "$a" "${v4[1]}" || return 1
	fi
	if [ ${#v6[@]} -gt 0 ]; then
		nb__addr_add "$a" "$ifa" "$b" "${v6[0]}" || return 1
		nb__addr_add "$b" "$ifb" "$a" "${v6[1]}" || return 1
	fi
}

# nb_ifname HOST PEER: the interface in HOST of its (first) link to PEER (a host or a bridge)
nb_ifname() {
	local h=$1 p=$2 a ia b ib
	[ -f "$NB_RUNDIR/links" ] || { nb__err "nb_ifname: no links yet"; return 1; }
	while read -r a ia b ib; do
		if [ "$a" = "$h" ] && [ "$b" = "$p" ]; then echo "$ia"; return 0; fi
		if [ "$b" = "$h" ] && [ "$a" = "$p" ]; then echo "$ib"; return 0; fi
	done <"$NB_RUNDIR/links"
	nb__err "nb_ifname: no link between '$h' and '$p'"
}

# nb_addr HOST [4|6] [PEER]: HOST's first address of that family (default 4), or the one on its
# link to PEER, without the prefix length.
nb_addr() {
	local h=$1 f=${2:-4} p=${3:-} host peer fam addr ifn
	[ -f "$NB_RUNDIR/addrs" ] || { nb__err "nb_addr: no addresses yet"; return 1; }
	while read -r host peer fam addr ifn; do
		[ "$host" = "$h" ] || continue
		[ "$fam" = "$f" ] || continue
		[ -z "$p" ] || [ "$peer" = "$p" ] || continue
		echo "${addr%/*}"
		return 0
	done <"$NB_RUNDIR/addrs"
	nb__err "nb_addr: host '$h' has no IPv$f address${p:+ toward $p}"
}

# nb_bridge NAME: a "wire" namespace NAME holding bridge br0 (STP off, no forward delay, no
# multicast snooping, its own IPv6 stack off) so several hosts share one Ethernet segment.
nb_bridge() {
	local name=$1 ns
	nb_host "$name" || return 1
	ns=$(nb__ns "$name")
	nb__sysctl "$name" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 ||
		{ nb__err "nb_bridge: cannot create bridge in '$name'"; return 1; }
	ip -n "$ns" link set br0 up || return 1
	echo "$name" >>"$NB_RUNDIR/bridges"
}

# nb_bridge_port BRIDGE HOST [--v4 ADDR] [--v6 ADDR] [--if NAME]: plug HOST into the segment.
nb_bridge_port() {
	local br=${1:-} host=${2:-} ifn='' x wire
	local -a addrs=() linkopt=()
	shift 2 || { nb__err "usage: nb_bridge_port BRIDGE HOST [--v4 ADDR] [--v6 ADDR] [--if NAME]"; return 1; }
	grep -qx "$br" "$NB_RUNDIR/bridges" 2>/dev/null || { nb__err "nb_bridge_port: no bridge '$br' (nb_bridge $br)"; return 1; }
	while [ $# -gt 0 ]; do
		case $1 in
		--v4 | --v6)
			x=${2:-}
			nb__check_addr "$x" yes "nb_bridge_port $br $host $1" || return 1
			addrs+=("$x")
			shift 2
			;;
		--if) ifn=${2:-}; shift 2 || return 1 ;;
		*) nb__err "nb_bridge_port: unknown argument '$1'"; return 1 ;;
		esac
	done
	[ -n "$ifn" ] && linkopt=(--ifa "$ifn")
	nb_link "$host" "$br" "${linkopt[@]}" || return 1
	wire=$(nb_ifname "$br" "$host") || return 1
	ifn=$(nb_ifname "$host" "$br") || return 1
	ip -n "$(nb__ns "$br")" link set "$wire" master br0 || { nb__err "cannot enslave $wire to br0"; return 1; }
	for x in "${addrs[@]}"; do
		nb__addr_add "$host" "$ifn" "$br" "$x" || return 1
	done
}

# nb_route HOST PREFIX VIA: a route in HOST. PREFIX is a test prefix or "default" (harmless: a
# run's namespaces have no path out of the test bed).
nb_route() {
	local host=$1 prefix=$2 via=$3 fam=4
	nb__need_host "$host" || return 1
	nb__check_addr "$via" no "nb_route $host $prefix via" || return 1
	[ "$prefix" = default ] || nb__check_addr "$prefix" any "nb_route $host prefix" || return 1
	[[ $via == *:* ]] && fam=6
	if [ "$prefix" != default ] && [ "$fam" = 6 ] && [[ $prefix != *:* ]]; then
		nb__err "nb_route: IPv4 prefix '$prefix' via IPv6 gateway '$via'"; return 1
	fi
	ip -n "$(nb__ns "$host")" -"$fam" route add "$prefix" via "$via" ||
		{ nb__err "nb_route: cannot add $prefix via $via in host '$host'"; return 1; }
}

# ---------------------------------------------------------------- processes

# nb_bg HOST NAME CMD...: start CMD in HOST in the background, in its own session, output in
# $NB_RUNDIR/NAME.log. Sets NB_LAST_PID. nb_cleanup stops it (and anything else in the run's
# namespaces).
nb_bg() {
	local host=$1 name=$2 pid
	shift 2 || { nb__err "usage: nb_bg HOST NAME CMD..."; return 1; }
	[ $# -gt 0 ] || { nb__err "nb_bg: no command"; return 1; }
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { nb__err "nb_bg: bad name '$name'"; return 1; }
	[ ! -e "$NB_RUNDIR/pids/$name.pid" ] || { nb__err "nb_bg: '$name' already started"; return 1; }
	nb__need_host "$host" || return 1
	setsid ip netns exec "$(nb__ns "$host")" "$@" </dev/null >>"$NB_RUNDIR/$name.log" 2>&1 &
	pid=$!
	echo "$pid $(nb__starttime "$pid")" >"$NB_RUNDIR/pids/$name.pid"
	# shellcheck disable=SC2034 # for the tests
	NB_LAST_PID=$pid
}

# nb_pid NAME: pid of a process started by nb_bg
nb_pid() {
	local pid _
	read -r pid _ <"$NB_RUNDIR/pids/$1.pid" 2>/dev/null || { nb__err "nb_pid: no process '$1'"; return 1; }
	echo "$pid"
}

# nb_running NAME: true while the nb_bg process NAME runs
nb_running() {
	local pid start
	read -r pid start <"$NB_RUNDIR/pids/$1.pid" 2>/dev/null || return 1
	nb__alive "$pid" "$start"
}

# nb_log NAME: path of the log of an nb_bg process
nb_log() {
	echo "$NB_RUNDIR/$1.log"
}

# nb_stop NAME: stop an nb_bg process (TERM, then KILL), its session too
nb_stop() {
	local pid start
	read -r pid start <"$NB_RUNDIR/pids/$1.pid" 2>/dev/null || { nb__err "nb_stop: no process '$1'"; return 1; }
	if nb__alive "$pid" "$start"; then
		kill -TERM -- "-$pid" 2>/dev/null || true
		nb__kill_pids "$pid" || return 1
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	rm -f "$NB_RUNDIR/pids/$1.pid"
}

# ---------------------------------------------------------------- waiting

# nb_wait_for DESC TIMEOUT CMD...: run CMD every 0.1 s until it succeeds; give up after TIMEOUT
# seconds or 10*TIMEOUT+1 tries. An external CMD is itself cut off at the deadline (timeout(1));
# a shell function must not block.
nb_wait_for() {
	local desc=$1 t=$2 deadline now tries=0 max rem
	shift 2 || { nb__err "usage: nb_wait_for DESC TIMEOUT CMD..."; return 1; }
	if ! [[ $t =~ ^[0-9]+$ ]] || ((t < 1 || t > 3600)); then
		nb__err "nb_wait_for: timeout '$t' must be 1..3600 seconds"
		return 1
	fi
	max=$((t * 10 + 1))
	deadline=$(($(nb__now_us) + t * 1000000))
	while ((tries < max)); do
		now=$(nb__now_us)
		rem=$((deadline - now))
		((rem > 0)) || break
		tries=$((tries + 1))
		if declare -F "$1" >/dev/null; then
			"$@" >/dev/null 2>&1 && return 0
		else
			timeout -k 1 "$((rem / 1000000)).$(printf %06d $((rem % 1000000)))" "$@" \
				>/dev/null 2>&1 && return 0
		fi
		sleep 0.1
	done
	nb__info "gave up waiting for $desc after ${t}s ($tries tries)"
	return 1
}

nb__port_listening() {
	local host=$1 port=$2 proto=$3 opt=-Hltn
	[ "$proto" = udp ] && opt=-Hlun
	[ -n "$(ip netns exec "$(nb__ns "$host")" ss $opt "sport = :$port" 2>/dev/null)" ]
}

# nb_wait_port HOST PORT [TIMEOUT [tcp|udp]]: wait (default 10 s) until a socket listens on PORT
nb_wait_port() {
	local host=$1 port=$2 t=${3:-10} proto=${4:-tcp}
	nb__need_host "$host" || return 1
	if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
		nb__err "nb_wait_port: bad port '$port'"
		return 1
	fi
	case $proto in tcp | udp) ;; *) nb__err "nb_wait_port: tcp or udp, not '$proto'"; return 1 ;; esac
	nb_wait_for "$proto port $port listening in $host" "$t" nb__port_listening "$host" "$port" "$proto"
}

# ---------------------------------------------------------------- TAP-ish assertions

nb__report() {
	local ok=$1 desc=$2 out=$3 rc=$4
	NB__TESTNO=$((NB__TESTNO + 1))
	if [ "$ok" = 1 ]; then
		NB_PASS=$((NB_PASS + 1))
		echo "ok $NB__TESTNO - $desc"
	else
		NB_FAIL=$((NB_FAIL + 1))
		echo "not ok $NB__TESTNO - $desc (exit $rc)"
		[ -s "$out" ] && sed -n '1,40s/^/#   /p' "$out"
	fi
	return 0
}

# nb_ok DESC CMD...: CMD must succeed. Runs in the current shell; its output is shown on failure.
nb_ok() {
	local desc=$1 out rc=0
	shift
	out="$NB_RUNDIR/.nb_ok.out"
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then nb__report 1 "$desc" "$out" 0; else nb__report 0 "$desc" "$out" "$rc"; fi
	[ "$rc" -eq 0 ]
}

# nb_fail_ok DESC CMD...: CMD must fail (exit 1..125; "not found"/"cannot execute" do not count).
nb_fail_ok() {
	local desc=$1 out rc=0
	shift
	out="$NB_RUNDIR/.nb_ok.out"
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 126 ]; then
		nb__report 1 "$desc" "$out" "$rc"
		return 0
	fi
	[ "$rc" -eq 0 ] && echo "command succeeded but was expected to fail" >>"$out"
	nb__report 0 "$desc" "$out" "$rc"
	return 1
}

# nb_is DESC GOT WANT: string equality
nb_is() {
	local out="$NB_RUNDIR/.nb_ok.out"
	if [ "$2" = "$3" ]; then
		: >"$out"
		nb__report 1 "$1" "$out" 0
	else
		printf 'got:  %s\nwant: %s\n' "$2" "$3" >"$out"
		nb__report 0 "$1" "$out" 1
		return 1
	fi
}

# nb_done: print "# PASS n FAIL m"; non-zero if anything failed or nothing was asserted.
nb_done() {
	NB__DONE=1
	echo "# PASS $NB_PASS FAIL $NB_FAIL"
	if [ "$NB_FAIL" -gt 0 ]; then return 1; fi
	if [ "$NB_PASS" -eq 0 ]; then echo "# no assertion ran"; return 1; fi
	return 0
}

# ---------------------------------------------------------------- cleanup and sweeping

# nb_at_cleanup CMD...: run CMD first in nb_cleanup (tests must not replace the EXIT trap).
nb_at_cleanup() {
	local q
	printf -v q '%q ' "$@"
	NB__CLEANUP_HOOKS+=("$q")
}

nb__marker_get() {
	local file=$1 key=$2 k v
	[ -f "$file" ] || return 0
	while IFS='=' read -r k v; do
		[ "$k" = "$key" ] && { echo "$v"; return 0; }
	done <"$file"
	return 0
}

# remove a run dir, only if it looks like one of ours (markers are not trusted blindly)
nb__rm_rundir() {
	local d=$1
	[ -n "$d" ] && [ -d "$d" ] || return 0
	case ${d##*/} in coopnet-netns.??????*) ;; *) nb__err "not removing '$d': not a run dir"; return 1 ;; esac
	[ -f "$d/prefix" ] || { nb__err "not removing '$d': no prefix file"; return 1; }
	rm -rf -- "$d"
}

# remove everything of one run prefix (no liveness check here): processes in its namespaces,
# the namespaces, its marker and run dir. Returns non-zero if a namespace is left.
nb__purge() {
	local -
	set +e
	local prefix=$1 rundir=$2 n pids left=0
	local -a nss=()
	mapfile -t nss < <(nb__ns_of_prefix "$prefix")
	for n in "${nss[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		# shellcheck disable=SC2086 # word splitting of the pid list is wanted
		[ -n "$pids" ] && nb__kill_pids $pids
	done
	for n in "${nss[@]}"; do
		# a concurrent sweeper may have deleted it already: only the final state counts
		ip netns del "$n" 2>/dev/null
	done
	[ -z "$(nb__ns_of_prefix "$prefix")" ] || left=1
	rm -f "$NB_STATEDIR/${prefix%-}"
	[ -n "$rundir" ] && nb__rm_rundir "$rundir"
	[ "$left" -eq 0 ] || nb__err "namespaces of run $prefix remain: $(nb__ns_of_prefix "$prefix" | tr '\n' ' ')"
}

# nb_cleanup: stop the run's processes, delete its namespaces, marker and run dir. Idempotent.
# With NB_KEEP=1 everything stays (for debugging) and the run is marked kept, so nb_sweep of
# other runs leaves it alone; remove it later with `tests/netns/lib.sh purge PREFIX`.
nb_cleanup() {
	local -
	set +e
	local h f pid start
	[ -n "${NS_PREFIX:-}" ] || return 0
	if [ "${NB_KEEP:-0}" = 1 ]; then
		if [ -f "$NB_STATEDIR/${NS_PREFIX%-}" ] && ! grep -qx 'keep=1' "$NB_STATEDIR/${NS_PREFIX%-}"; then
			echo "keep=1" >>"$NB_STATEDIR/${NS_PREFIX%-}"
			nb__info "NB_KEEP=1: kept namespaces $(nb__ns_of_prefix "$NS_PREFIX" | tr '\n' ' ')"
			nb__info "NB_KEEP=1: kept run dir $NB_RUNDIR"
			nb__info "remove with: tests/netns/lib.sh purge $NS_PREFIX"
		fi
		return 0
	fi
	for h in "${NB__CLEANUP_HOOKS[@]}"; do
		eval "$h" || nb__err "cleanup hook failed: $h"
	done
	NB__CLEANUP_HOOKS=()
	# recorded processes first (their whole session), then whatever else runs in the namespaces
	if [ -d "$NB_RUNDIR/pids" ]; then
		for f in "$NB_RUNDIR"/pids/*.pid; do
			[ -f "$f" ] || continue
			read -r pid start <"$f"
			if nb__alive "$pid" "$start"; then
				kill -TERM -- "-$pid" 2>/dev/null
				nb__kill_pids "$pid"
				kill -KILL -- "-$pid" 2>/dev/null
			fi
			wait "$pid" 2>/dev/null
			rm -f "$f"
		done
	fi
	nb__purge "$NS_PREFIX" "$NB_RUNDIR"
}

# marker names as run prefixes
nb__markers() {
	local m
	for m in "$NB_STATEDIR"/cn*; do
		[ -f "$m" ] && echo "${m##*/}-"
	done
	return 0
}

# nb_sweep [--kept] [PREFIX]: remove leftovers of dead runs whose names start with PREFIX
# (default "cn"). A run is dead when the pid in its name is gone or now names another process
# (start time differs from the marker). Live runs are never touched, kept runs (NB_KEEP=1) only
# with --kept. Namespaces not named like a run (cn<pid>-<hex4>-...) are ignored.
nb_sweep() {
	local -
	set +e
	local kept=0 pat n prefix pid m start rundir swept=0 rc=0
	local -A seen=()
	[ "${1:-}" = --kept ] && { kept=1; shift; }
	pat=${1:-cn}
	for n in $(nb__all_ns) $(nb__markers); do
		[[ $n == "$pat"* ]] || continue
		[[ $n =~ $NB__NAME_RE ]] || continue
		prefix="${BASH_REMATCH[1]}-"
		pid=${BASH_REMATCH[2]}
		[ -n "${seen[$prefix]:-}" ] && continue
		seen[$prefix]=1
		[ "$prefix" = "${NS_PREFIX:-}" ] && continue
		m="$NB_STATEDIR/${prefix%-}"
		start=$(nb__marker_get "$m" start)
		if [ -f "$m" ]; then
			nb__alive "$pid" "$start" && continue
		else
			# no marker: only the pid tells; a live pid may be a run, leave it
			nb__alive "$pid" && continue
		fi
		if [ "$(nb__marker_get "$m" keep)" = 1 ] && [ "$kept" -eq 0 ]; then
			continue
		fi
		rundir=$(nb__marker_get "$m" rundir)
		nb__info "sweeping leftovers of dead run $prefix (pid $pid)"
		nb__purge "$prefix" "$rundir" || rc=1
		swept=$((swept + 1))
	done
	NB_SWEPT=$swept
	return $rc
}

# nb_runs: list runs on this machine with their state
nb_runs() {
	local -
	set +e
	local n prefix pid m state
	local -A seen=()
	for n in $(nb__all_ns) $(nb__markers); do
		[[ $n =~ $NB__NAME_RE ]] || continue
		prefix="${BASH_REMATCH[1]}-"
		pid=${BASH_REMATCH[2]}
		[ -n "${seen[$prefix]:-}" ] && continue
		seen[$prefix]=1
		m="$NB_STATEDIR/${prefix%-}"
		if nb__alive "$pid" "$(nb__marker_get "$m" start)"; then state=live; else state=dead; fi
		[ "$(nb__marker_get "$m" keep)" = 1 ] && state="$state,kept"
		echo "$prefix $state rundir=$(nb__marker_get "$m" rundir) ns=$(nb__ns_of_prefix "$prefix" | wc -l)"
	done
}

nb__on_exit() {
	local rc=$?
	trap '' INT TERM HUP
	if [ "$NB__DONE" = 0 ] && [ "$NB__TESTNO" -gt 0 ]; then
		echo "# PASS $NB_PASS FAIL $NB_FAIL (ended early, exit $rc)"
	fi
	nb_cleanup || { [ "$rc" -eq 0 ] && rc=1; }
	trap - EXIT
	exit "$rc"
}

nb__on_signal() {
	local sig=$1 code
	case $sig in INT) code=130 ;; HUP) code=129 ;; *) code=143 ;; esac
	trap '' INT TERM HUP
	nb__info "caught SIG$sig, cleaning up"
	[ "$NB__DONE" = 0 ] && [ "$NB__TESTNO" -gt 0 ] && echo "# PASS $NB_PASS FAIL $NB_FAIL (killed by SIG$sig)"
	nb_cleanup
	trap - EXIT
	exit "$code"
}

# start a run: prefix, marker, run dir, traps, sweep of dead runs
nb__init() {
	local start
	nb_require_root
	nb_require_cmd ip ss sysctl setsid timeout mktemp
	start=$(nb__starttime $$)
	NS_PREFIX=$(printf 'cn%d-%04x-' "$$" "$((RANDOM ^ (${EPOCHREALTIME//[!0-9]/} & 0x7fff)))")
	mkdir -p "$NB_STATEDIR" || nb__die "cannot create $NB_STATEDIR"
	NB_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/coopnet-netns.XXXXXXXX") || nb__die "mktemp -d failed"
	mkdir "$NB_RUNDIR/pids"
	echo "$NS_PREFIX" >"$NB_RUNDIR/prefix"
	printf 'pid=%s\nstart=%s\nrundir=%s\n' "$$" "$start" "$NB_RUNDIR" >"$NB_STATEDIR/${NS_PREFIX%-}"
	export NS_PREFIX NB_RUNDIR
	trap nb__on_exit EXIT
	trap 'nb__on_signal INT' INT
	trap 'nb__on_signal TERM' TERM
	trap 'nb__on_signal HUP' HUP
	[ "${NB_NO_SWEEP:-0}" = 1 ] || nb_sweep cn || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# executed: admin commands, no run is started
	set -u
	case ${1:-} in
	list) nb_runs ;;
	sweep) shift; nb_require_root; nb_sweep "$@"; echo "# swept $NB_SWEPT run(s)" ;;
	purge)
		nb_require_root
		[ -n "${2:-}" ] || { echo "usage: $0 purge PREFIX" >&2; exit 2; }
		p=${2%-}-
		[[ $p =~ $NB__NAME_RE ]] || { echo "$0: '$2' is not a run prefix (cn<pid>-<hex4>-)" >&2; exit 2; }
		nb_sweep --kept "${BASH_REMATCH[1]}-"
		echo "# swept $NB_SWEPT run(s)"
		;;
	*) echo "usage: $0 list | sweep [PREFIX] | purge PREFIX" >&2; exit 2 ;;
	esac
	exit $?
fi

nb__init
