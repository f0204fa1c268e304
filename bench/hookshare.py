#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where a data path's CPU goes under the netfilter hooks, from a system-wide profile.

  bench/hookshare.py PERF_DATA...     (perf record -e cpu-clock -a -g, e.g. the PERF_OUT files
                                       of bench/throughput.sh with PERF_PATH="plain kernel")

For each file: the samples of the path's processes (iperf3 and the ksoftirqd threads, whose
context runs the veth path: docs/performance.md "CPU per gigabyte"), and the share of them whose
call chain passes through nf_hook_slow, split by hook (forward: the SS; input, output: the SP)
and by chain (worker: coopnet-nfq's ip/ip6 tables, guard: the rule files' inet table), then the
leaf functions under the hooks. A share is a ratio within one profile, so the load of other jobs
moves it far less than it moves CPU seconds: a path that spends a share s under the hooks costs
at least 1 / (1 - s) times the same path without them, whatever the machine did meanwhile.

Counting is inclusive per sample (a sample counts once for every distinct function on its
chain), so nested rows overlap. perf's `--children` percentages count differently (relative to
the filtered total of every row) and read several times higher; use these.
"""
import collections
import subprocess
import sys

COMMS = ("iperf3",)
HOOKS = (("forward", ("ip_forward", "ip6_forward")),
         ("input", ("ip_local_deliver", "ip6_input")),
         ("output", ("__ip_local_out", "ip_local_out", "__ip6_local_out", "ip6_local_out")))
CHAINS = (("worker", ("nft_do_chain_ipv4", "nft_do_chain_ipv6")), ("guard", ("nft_do_chain_inet",)))


def path_comm(comm):
    return comm in COMMS or comm.startswith("ksoftirqd/")


def samples(fname):
    """[(comm, [leaf, caller, ...])] of the path's processes."""
    try:
        out = subprocess.run(["perf", "script", "-i", fname, "-F", "comm,ip,sym"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("hookshare: cannot read %s with perf script: %s" % (fname, e))
    res, cur = [], None
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line.startswith("\t"):  # a sample's header line: its comm
            if cur:
                res.append(cur)
            cur = (line.strip(), [])
        elif cur is not None:
            parts = line.split()
            cur[1].append(parts[1] if len(parts) > 1 else "?")
    if cur:
        res.append(cur)
    return [s for s in res if path_comm(s[0])]


def classify(frames, table):
    for name, funcs in table:
        if any(f in frames for f in funcs):
            return name
    return "-"


def in_hook(st):
    """(caller of the innermost nf_hook_slow, frames below it), or None: not under a hook, or
    softirq work that a bh-enable inside the hook ran (a counter's local_bh_enable on the
    output path runs the pending receive work: that is not the hook's cost)."""
    if "nf_hook_slow" not in st:
        return None
    i = st.index("nf_hook_slow")
    if any(f in ("handle_softirqs", "__do_softirq", "do_softirq") for f in st[:i]):
        return None
    return (st[i + 1] if i + 1 < len(st) else "?"), st[:i]


def report(fname):
    path = samples(fname)
    n = len(path)
    if n == 0:
        sys.exit("hookshare: %s has no samples of %s or ksoftirqd" % (fname, ", ".join(COMMS)))
    under = [h for h in (in_hook(st) for _, st in path) if h]
    print("%s: %d samples of the path, %.2f %% under nf_hook_slow" % (fname, n, 100.0 * len(under) / n))
    by = collections.Counter((classify([caller], HOOKS), classify(below, CHAINS))
                             for caller, below in under)
    for (h, c), v in sorted(by.items()):
        print("  %-8s %-7s %6.2f %%" % (h, c, 100.0 * v / n))
    leaves = collections.Counter(below[0] if below else "nf_hook_slow" for _, below in under)
    print("  leaf functions under the hooks:")
    for f, v in leaves.most_common(16):
        print("    %-32s %6.2f %%" % (f, 100.0 * v / n))
    if n < 2000:  # the share of a few hundred samples moves by a point or more
        print("# %s: only %d samples: record a longer run for a figure" % (fname, n))
    print("RESULT hook-share %s %.4f" % (fname, len(under) / n))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: hookshare.py PERF_DATA...")
    for f in sys.argv[1:]:
        report(f)


if __name__ == "__main__":
    main()
