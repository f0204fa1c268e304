#!/usr/bin/env bash
# Install every Debian 12 package that coopnet's build, tests and benchmarks need.
# Idempotent: packages already installed are skipped, and `apt-get update` runs at most once.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (try: sudo $0)" >&2
	exit 1
fi

# build
PKGS_BUILD="build-essential autoconf automake libtool pkg-config
 libnetfilter-queue-dev libmnl-dev libnftnl-dev
 libjansson-dev libsqlite3-dev libsodium-dev libseccomp-dev libcmocka-dev scdoc libsystemd-dev libssl-dev
 libmicrohttpd-dev"
# tests: real kernel parts and real peers
PKGS_TEST="iproute2 nftables iptables procps psmisc python3 python3-scapy tcpdump
 iperf3 sqlite3 apache2 curl hping3 bash-completion mandoc man-db prometheus"
# fuzzing, sanitizers, profiling, benchmarks
PKGS_DEV="clang libclang-rt-14-dev libbpf-dev valgrind sockperf wrk"
# the Debian package (scripts/deb-check.sh)
PKGS_DEB="debhelper dh-autoreconf lintian fakeroot dpkg-dev systemd"

missing=()
for p in $PKGS_BUILD $PKGS_TEST $PKGS_DEV $PKGS_DEB; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup.sh: all packages present"
	exit 0
fi

echo "setup.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# apache2 starts itself on install; coopnet's tests run their own instances in namespaces
if [ -d /run/systemd/system ]; then
	systemctl disable --now apache2 >/dev/null 2>&1 || true
else
	apache2ctl stop >/dev/null 2>&1 || true
fi
echo "setup.sh: done"
