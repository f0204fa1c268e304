#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run coopnet's namespace integration tests: every tests/netns/*.test, or those named.
#
#	tests/netns/run.sh [-j JOBS] [-t SECONDS] [-v] [-l] [NAME...]
#
#	NAME         a test name: "selftest" or "selftest.test" (several allowed)
#	-j JOBS      run up to JOBS tests at once (default $NB_JOBS or 1). Every test has its own
#	             namespace prefix (lib.sh), so tests do not share namespaces, addresses or
#	             files; the longest tests start first.
#	-t SECONDS   time limit per test (default $NB_TEST_TIMEOUT or 300); SIGTERM, then SIGKILL
#	             10 s later. The test's traps clean up on SIGTERM; after a SIGKILL the sweep
#	             below removes its leftovers.
#	-v           show each test's output as it runs (default: only for failures; with -j > 1
#	             the outputs of the tests running at once interleave)
#	-l           list the tests and exit
#
# One line per test as it ends (PASS/FAIL/SKIP and seconds), then
# "# integration: N passed, M failed".
# Exit status: 0 when nothing failed, 1 otherwise, 2 on usage errors. Exit 77 from a test is
# a SKIP. Needs root. NB_KEEP=1 is passed through (tests then keep their namespaces).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
NB_TOP=$(cd "$HERE/../.." && pwd)
export NB_TOP

limit=${NB_TEST_TIMEOUT:-300}
jobs=${NB_JOBS:-1}
verbose=0
list=0
usage() {
	sed -n '4,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}
while getopts "j:t:vlh" opt; do
	case $opt in
	j) jobs=$OPTARG ;;
	t) limit=$OPTARG ;;
	v) verbose=1 ;;
	l) list=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if ! [[ $limit =~ ^[0-9]+$ ]] || ((limit < 1)); then
	echo "run.sh: -t wants a number of seconds, not '$limit'" >&2
	exit 2
fi
if ! [[ $jobs =~ ^[0-9]+$ ]] || ((jobs < 1 || jobs > 16)); then
	echo "run.sh: -j wants a number of tests to run at once (1-16), not '$jobs'" >&2
	exit 2
fi

tests=()
if [ $# -eq 0 ]; then
	for t in "$HERE"/*.test; do
		[ -e "$t" ] && tests+=("$t")
	done
else
	for n in "$@"; do
		n=${n##*/}
		n=${n%.test}
		if [ ! -e "$HERE/$n.test" ]; then
			echo "run.sh: no test '$n' (see: tests/netns/run.sh -l)" >&2
			exit 2
		fi
		tests+=("$HERE/$n.test")
	done
fi
if [ ${#tests[@]} -eq 0 ]; then
	echo "run.sh: no tests in $HERE" >&2
	exit 1
fi
if [ "$list" = 1 ]; then
	for t in "${tests[@]}"; do basename "$t" .test; done
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: integration tests must run as root (they create network namespaces)" >&2
	exit 1
fi
for c in ip timeout; do
	command -v "$c" >/dev/null || { echo "run.sh: '$c' missing (Debian packages iproute2, coreutils; see scripts/setup.sh)" >&2; exit 1; }
done

logdir=$(mktemp -d "${TMPDIR:-/tmp}/coopnet-integration.XXXXXX")
pass=0
fail=0
skip=0
failed=()

# leftovers of earlier runs that were killed (only runs whose creating process is dead)
"$HERE/lib.sh" sweep >/dev/null || echo "# warning: sweeping dead runs failed" >&2

# timeout(1) runs each test in its own process group, so a ^C or a kill of run.sh would not
# reach it: pass the signal on (the tests' traps clean up), wait for them, sweep, and stop.
# running: test name -> start time (ms). Each test runs under timeout(1) in a background
# subshell that writes the timeout's pid to NAME.pid and the test's status to NAME.rc; the
# loop below polls for the .rc files (wait -n loses the status of a job that bash reaped while
# another was being waited for).
declare -A running=()
# shellcheck disable=SC2317 # called from the traps below
forward_signal() {
	local sig=$1 code=$2 name pid
	trap '' INT TERM HUP
	if [ ${#running[@]} -gt 0 ]; then
		echo "# run.sh: SIG$sig, stopping the running tests: ${!running[*]}" >&2
		for name in "${!running[@]}"; do
			pid=$(cat "$logdir/$name.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null || true
		done
		wait || true
	fi
	"$HERE/lib.sh" sweep >/dev/null 2>&1 || true
	echo "# integration: interrupted by SIG$sig ($pass passed, $fail failed so far); logs: $logdir" >&2
	exit "$code"
}
trap 'forward_signal INT 130' INT
trap 'forward_signal TERM 143' TERM
trap 'forward_signal HUP 129' HUP

now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

# With several jobs, the tests marked "alone" run first, one by one, then the others, the
# longest first (tests/netns/durations: seconds each took; a test not listed counts as long),
# so that one long test does not run by itself at the end.
if [ "$jobs" -gt 1 ] && [ -r "$HERE/durations" ]; then
	mapfile -t tests < <(for t in "${tests[@]}"; do
		n=$(basename "$t" .test)
		# the tests that run alone first, while nothing else has started
		s=$(awk -v n="$n" '$1 == n { print ($3 == "alone" ? 100000 + $2 : $2) }' "$HERE/durations")
		echo "${s:-999} $t"
	done | sort -k1,1nr -k2 | cut -d' ' -f2-)
fi

# start_test FILE: the test in the background (so that a signal to run.sh is handled at once)
start_test() {
	local t=$1 name log
	name=$(basename "$t" .test)
	log="$logdir/$name.log"
	running[$name]=$(now_ms)
	(
		if [ ! -x "$t" ]; then
			echo "run.sh: $t is not executable (chmod +x, and commit the mode)" >"$log"
			echo 126 >"$logdir/$name.rc"
			exit 0
		fi
		if [ "$verbose" = 1 ]; then
			timeout -k 10 "$limit" "$t" > >(tee "$log" | sed "s/^/    [$name] /") 2>&1 &
		else
			timeout -k 10 "$limit" "$t" >"$log" 2>&1 &
		fi
		echo $! >"$logdir/$name.pid"
		rc=0
		wait $! || rc=$?
		echo "$rc" >"$logdir/$name.rc.new" && mv "$logdir/$name.rc.new" "$logdir/$name.rc"
	) &
}

# report_test NAME RC: one line for a test that ended
report_test() {
	local name=$1 rc=$2 el secs why log
	log="$logdir/$name.log"
	el=$(($(now_ms) - ${running[$name]}))
	unset "running[$name]"
	secs=$(printf '%d.%01d' $((el / 1000)) $((el % 1000 / 100)))
	case $rc in
	0)
		pass=$((pass + 1))
		printf 'PASS  %-30s %6ss\n' "$name" "$secs"
		;;
	77)
		skip=$((skip + 1))
		printf 'SKIP  %-30s %6ss  %s\n' "$name" "$secs" "$(grep -m1 '^# SKIP' "$log" | sed 's/^# SKIP //')"
		;;
	*)
		fail=$((fail + 1))
		failed+=("$name")
		why="exit $rc"
		case $rc in
		124) why="timed out after ${limit}s (SIGTERM)" ;;
		137) why="timed out after ${limit}s, killed (SIGKILL)" ;;
		126) why="not executable" ;;
		esac
		printf 'FAIL  %-30s %6ss  %s\n' "$name" "$secs" "$why"
		if [ "$verbose" = 0 ]; then
			tail -n 60 "$log" | sed "s/^/#   [$name] /"
		fi
		# a test killed by the time limit may have left namespaces behind (only runs whose
		# creating process is dead are swept: the other running tests keep theirs)
		"$HERE/lib.sh" sweep >/dev/null 2>&1 || true
		;;
	esac
}

# reap: report every test that ended; true when one did
reap() {
	local name rc ended=1
	for name in "${!running[@]}"; do
		[ -f "$logdir/$name.rc" ] || continue
		rc=$(cat "$logdir/$name.rc")
		report_test "$name" "$rc"
		ended=0
	done
	return $ended
}

# A test marked "alone" in tests/netns/durations runs with no other test beside it: its
# assertions hold only when the machine is not also running another test (the renewal window,
# docs/authd.md).
alone() { # FILE: marked alone
	awk -v n="$(basename "$1" .test)" '$1 == n && $3 == "alone" { f = 1 } END { exit !f }' \
		"$HERE/durations" 2>/dev/null
}
for t in "${tests[@]}"; do
	if [ "$jobs" -gt 1 ] && alone "$t"; then
		while [ ${#running[@]} -gt 0 ]; do reap || sleep 0.2; done
		start_test "$t"
		while [ ${#running[@]} -gt 0 ]; do reap || sleep 0.2; done
		continue
	fi
	while [ ${#running[@]} -ge "$jobs" ]; do reap || sleep 0.2; done
	start_test "$t"
done
while [ ${#running[@]} -gt 0 ]; do reap || sleep 0.2; done
wait || true

[ "$skip" -gt 0 ] && echo "# skipped: $skip"
echo "# integration: $pass passed, $fail failed"
if [ "$fail" -gt 0 ]; then
	echo "# logs: $logdir (failed: ${failed[*]})"
	exit 1
fi
rm -rf -- "$logdir"
exit 0
