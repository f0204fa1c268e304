#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where one process's CPU goes, by user-space library and by system call, from a profile.

  bench/cpushare.py PERF_DATA PID      (perf record -e cpu-clock -g, e.g. the PERF_OUT file of
                                        bench/auth_daemon.sh; PID: the "engine pid" it prints)

Each sample of PID is put in one row: "user: <library>" when it was taken in user space (its
leaf is not a kernel address), else the outermost system call on its kernel stack
("sys: sendmmsg"), "+ peer's receive" added when that stack also runs a receiving network
stack (process_backlog: on veth the sender's system call delivers the datagram into the other
namespace's socket, in the sender's context), or "kernel, no system call" (interrupts, page
faults, the system-call entry and exit). A share is a ratio within one profile, so the load of
other jobs moves it far less than it moves CPU seconds.
"""
import collections
import subprocess
import sys


def samples(fname, pid):
    """[[(ip, sym, dso), ...]] leaf first, of the samples of pid."""
    try:
        out = subprocess.run(["perf", "script", "-i", fname, "--pid", str(pid), "-F",
                              "ip,sym,dso"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("cpushare.py: perf script -i %s: %s" % (fname, e))
    res, cur = [], []
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            if cur:
                res.append(cur)
            cur = []
            continue
        cur.append((parts[0], parts[1] if len(parts) > 2 else "?", parts[-1].strip("()")))
    if cur:
        res.append(cur)
    return res


def row(chain):
    ip, _, dso = chain[0]
    if not ip.startswith("ffff"):
        return "user: " + dso.rsplit("/", 1)[-1]
    syms = [s for _, s, _ in chain]
    calls = [s for s in syms if s.startswith(("__x64_sys_", "__do_sys_"))]
    if not calls:
        return "kernel, no system call"
    name = calls[-1].replace("__x64_sys_", "").replace("__do_sys_", "")
    return "sys: " + name + (" + peer's receive" if "process_backlog" in syms else "")


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: bench/cpushare.py PERF_DATA PID")
    s = samples(sys.argv[1], int(sys.argv[2]))
    if not s:
        sys.exit("cpushare.py: no sample of pid %s in %s" % (sys.argv[2], sys.argv[1]))
    count = collections.Counter(row(c) for c in s)
    print("| where (pid %s, %d samples) | share |" % (sys.argv[2], len(s)))
    print("|---|---|")
    for k, v in count.most_common():
        if v * 1000 >= len(s):  # rows of 0.1 % and more
            print("| %s | %.1f %% |" % (k, 100.0 * v / len(s)))


if __name__ == "__main__":
    main()
