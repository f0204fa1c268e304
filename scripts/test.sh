#!/usr/bin/env bash
# coopnet's test command (README): installs what is missing, builds with warnings as errors,
# runs the cmocka unit tests (make check) and the network-namespace integration tests.
#
#   sudo ./scripts/test.sh                 everything
#   sudo ./scripts/test.sh --unit          build + unit tests only
#   sudo ./scripts/test.sh --integration [NAME...]   integration tests only (after a build)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

run_unit=1
run_integration=1
case "${1:-}" in
--unit) run_integration=0; shift ;;
--integration) run_unit=0; shift ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: must run as root (network namespaces, nftables): sudo $0" >&2
	exit 1
fi

section() { printf '\n==== %s ====\n' "$*"; }
failures=()

section "packages"
./scripts/setup.sh || { echo "test.sh: setup.sh failed" >&2; exit 1; }

section "build"
build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f Makefile ]; then
		autoreconf -fi && ./configure --enable-werror || return 1
	fi
	make -j"$(nproc)" && make -j"$(nproc)" check TESTS=
}
if ! build > "$top/build.log" 2>&1; then
	tail -n 60 "$top/build.log"
	echo "test.sh: build failed (full log: build.log)" >&2
	exit 1
fi
echo "build ok (log: build.log)"

if [ "$run_unit" = 1 ]; then
	section "unit tests (make check)"
	if make check > "$top/check.log" 2>&1; then
		unit_ok=1
	else
		unit_ok=0
		failures+=("unit")
	fi
	# cmocka's per-suite summaries, then automake's totals
	for log in tests/unit/*.log; do
		[ -f "$log" ] || continue
		printf '%-28s %s\n' "$(basename "$log" .log)" \
			"$(grep -h -E '^\[  (PASSED|FAILED|SKIPPED) +\]' "$log" | tr '\n' ' ')"
	done
	grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' check.log
	if [ "$unit_ok" = 0 ]; then
		# the full output of each failed test (automake's .trs: ":test-result: FAIL")
		for log in tests/unit/*.log; do
			grep -q -E '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null &&
				{ echo "---- $log"; cat "$log"; }
		done
	fi
fi

if [ "$run_unit" = 1 ] && [ "${COOPNET_SKIP_SANITIZERS:-0}" != 1 ]; then
	section "unit tests under ASan and UBSan"
	# A second build of the tracked files in a scratch directory, so the main build stays
	# as it is; a sanitizer report fails the run (-fno-sanitize-recover).
	asan_dir=$(mktemp -d /tmp/coopnet-asan.XXXXXX)
	if git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$asan_dir" &&
		(cd "$asan_dir" && autoreconf -fi && ./configure --enable-werror --enable-sanitizers &&
			make -j"$(nproc)" check) > "$top/check-asan.log" 2>&1; then
		grep -E '^# (TOTAL|PASS|FAIL|ERROR):' "$top/check-asan.log"
	else
		tail -n 60 "$top/check-asan.log"
		failures+=("unit-asan")
	fi
	rm -rf "$asan_dir"
fi

if [ "$run_unit" = 1 ] && [ "${COOPNET_SKIP_FUZZ:-0}" != 1 ]; then
	fuzz_seconds=${COOPNET_FUZZ_SECONDS:-10}
	section "fuzz targets (clang, libFuzzer + ASan/UBSan, ${fuzz_seconds} s each)"
	# The whole tree builds with clang -Werror too, and every target runs clean for a while.
	fuzz_dir=$(mktemp -d /tmp/coopnet-fuzz.XXXXXX)
	if git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$fuzz_dir" &&
		(cd "$fuzz_dir" && autoreconf -fi &&
			./configure --enable-werror --enable-fuzzing CC=clang && make -j"$(nproc)" &&
			make fuzz-smoke FUZZ_SECONDS="$fuzz_seconds") > "$top/fuzz.log" 2>&1; then
		grep -E '^(fuzz-smoke:|Done)' "$top/fuzz.log"
	else
		tail -n 60 "$top/fuzz.log"
		failures+=("fuzz")
	fi
	rm -rf "$fuzz_dir"
fi

if [ "$run_unit" = 1 ]; then
	section "bench programs outside the build (compile only)"
	# bench/cpupaths.sh's tc-bpf path builds these when it runs; compiled here so that they
	# do not rot between runs of the bench
	bpf_dir=$(mktemp -d /tmp/coopnet-bpf.XXXXXX)
	if clang -O2 -g -target bpf -I"/usr/include/$(gcc -print-multiarch)" -c bench/bpf/tcid.bpf.c \
		-o "$bpf_dir/tcid.bpf.o" && cc -O2 -Wall -Wextra -Werror bench/bpf/tcid_load.c \
		-o "$bpf_dir/tcid-load" -lbpf; then
		echo "bench/bpf: ok"
	else
		failures+=("bench-bpf")
	fi
	rm -rf "$bpf_dir"
fi

if [ "$run_unit" = 1 ] && [ "${COOPNET_SKIP_DEB:-0}" != 1 ]; then
	section "Debian package (build, lintian, unpack, check what it installs)"
	# scripts/deb-check.sh: dpkg-buildpackage from make dist's tarball, lintian, dpkg -x into a
	# scratch root, -n on the installed examples, man -l, systemd-analyze verify (~4 min)
	if scripts/deb-check.sh > "$top/deb.log" 2>&1; then
		grep -E '^(ok - dpkg|ok - lintian|# package)' "$top/deb.log"
	else
		grep -E '^not ok|^#   ' "$top/deb.log" | head -n 40; tail -n 5 "$top/deb.log"
		failures+=("deb")
	fi
fi

if [ "$run_integration" = 1 ]; then
	section "integration tests (network namespaces)"
	# two at a time: most tests wait on timers and daemons (docs/testing.md)
	if ! tests/netns/run.sh -j "${COOPNET_TEST_JOBS:-2}" "$@"; then
		failures+=("integration")
	fi
fi

section "summary"
if [ ${#failures[@]} -eq 0 ]; then
	echo "test.sh: all tests passed"
	exit 0
fi
echo "test.sh: FAILED: ${failures[*]}"
exit 1
