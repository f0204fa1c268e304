#!/bin/sh
# SPDX-License-Identifier: MIT
# Authentication benchmark: in-process SP throughput and, over UDP on 127.0.0.1, the exchange
# latency. Usage: bench/auth.sh [EXCHANGES]   (default 50000; keep it short on shared hosts)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/bench/auth_bench"
[ -x "$bin" ] || { echo "bench/auth.sh: build first: make bench/auth_bench" >&2; exit 1; }
# auth_bench prints its figures only when every part succeeded; a failure is a message here too
"$bin" -n "${1:-50000}" -u || { rc=$?; echo "bench/auth.sh: auth_bench failed (status $rc): no figures" >&2; exit 1; }
