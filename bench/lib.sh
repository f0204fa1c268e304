# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# What the benchmarks of a real coopnet-authd provider share (bench/auth_daemon.sh,
# bench/authd_sessions.sh, bench/status_daemon.sh): the network-namespace library, the
# topology gen ---- veth ---- sp, the work directory with the secrets, coopnet-authd started
# in sp, a process's CPU ticks. Sourced after the script set TOP; the script defines AUTHD (the
# binary), ctl (coopnetctl on $W/authd.sock) and fail (message, no figures, exit 1).
# shellcheck source=../tests/netns/lib.sh
. "${NB_LIB:-$TOP/tests/netns/lib.sh}"

# gen (198.18.0.1) ---- veth ---- sp (198.18.0.2): GEN_IF and SP_IF their ends, SRCS gen's
# source addresses
bench_link() {
	nb_host gen
	nb_host sp
	nb_link gen sp --v4 198.18.0.1/24 198.18.0.2/24
	GEN_IF=$(nb_ifname gen sp)
	# shellcheck disable=SC2034 # the scripts' (policy, rules)
	SP_IF=$(nb_ifname sp gen)
	SRCS=(198.18.0.1)
}

# Four SSes: gen's addresses 198.18.0.11-14 as four more sources (SRCS).
bench_four_sources() {
	local i

	for i in 11 12 13 14; do
		nb_exec gen ip addr add "198.18.0.$i/24" dev "$GEN_IF"
		SRCS+=("198.18.0.$i")
	done
}

# bench_workdir NAME: W, a directory /tmp/NAME.XXXXXX removed at exit, with clients.pass (the
# clients' passcode) and group.key, both mode 600.
bench_workdir() {
	W=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$W"
	nb_at_cleanup rm -rf "$W"
	(umask 077; printf 'bench passcode %s\n' "$RANDOM$RANDOM" >"$W/clients.pass")
	(umask 077; head -c32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$W/group.key")
}

# bench_start_authd NAME SECONDS [PREFIX...]: coopnet-authd -d -f $W/authd.json in
# $BENCH_HOST (default sp) as background process NAME (behind PREFIX, e.g. taskset -c
# CPU), until `ctl status` answers
# (at most SECONDS); sets PARENT and ENGINE.
bench_start_authd() {
	local name=$1 secs=$2

	shift 2
	nb_bg "${BENCH_HOST:-sp}" "$name" "$@" "$AUTHD" -d -f "$W/authd.json"
	nb_wait_for "coopnet-authd control socket" "$secs" ctl status >/dev/null ||
		{ cat "$(nb_log "$name")" >&2; fail "coopnet-authd did not start"; }
	PARENT=$(nb_pid "$name")
	ENGINE=$(awk '{print $1}' "/proc/$PARENT/task/$PARENT/children" 2>/dev/null)
	[ -n "$ENGINE" ] || fail "no engine process under coopnet-authd ($PARENT)"
}

# utime + stime of a pid, in clock ticks
bench_ticks() {
	local s

	s=$(cat "/proc/$1/stat") || fail "process $1 is gone"
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}
