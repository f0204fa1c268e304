#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The stages of bench/first_page.sh over time: every INTERVAL ms, the session count and the
counters of the SS's and the SP's coopnet-nfq (their control sockets), until SECONDS pass or
a line arrives on stdin... (the bench kills it). Prints one line per sample:

  T_MS SS_SESSIONS SP_SESSIONS SS_MISS SS_HELD_FULL SS_MISS_TIMEOUT SP_UNKNOWN SP_OVERRUN

  fp_trace.py SS_SOCK SP_SOCK INTERVAL_MS SECONDS
"""
import json
import socket
import sys
import time


def call(path, req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2.0)
    s.connect(path)
    s.send(json.dumps(req).encode())
    rep = json.loads(s.recv(65537).decode())
    s.close()
    return rep


def sample(path):
    n = call(path, {"cmd": "status"})["sessions"]
    st = call(path, {"cmd": "stats"})["stats"]
    return n, st


def main():
    ss, sp, ivl, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        t = time.monotonic()
        a, sa = sample(ss)
        b, sb = sample(sp)
        print("%d %d %d %d %d %d %d %d" % ((t - t0) * 1000, a, b, sa.get("session_miss", 0),
              sa.get("dropped_held_full", 0), sa.get("miss_timeout", 0),
              sb.get("dropped_unknown_flow", 0), sb.get("queue_overrun", 0)), flush=True)
        time.sleep(max(0.0, ivl / 1000 - (time.monotonic() - t)))


if __name__ == "__main__":
    main()
