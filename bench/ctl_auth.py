#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Supervisor Authentications triggered through coopnet-authd's control socket, WINDOW at a time:
# what `coopnetctl auth SERVICE CLIENT` sends ({"cmd": "auth", ...} on a SOCK_SEQPACKET
# connection, one per request), without a process start per Authentication. For
# bench/authd_sessions.sh (ROLE=ss).
#
#   ctl_auth.py SOCKET FIRST_CLIENT COUNT WINDOW TIMEOUT_S SERVICE...
#
# Client i (0..COUNT-1) is FIRST_CLIENT + i, its service SERVICE[i % len]. Prints one line in
# bench/auth_load's format:
#   LOAD completed C failed F seconds S per_s R p50_us P p99_us Q
# Exit 1 (with a message) when the arguments are bad or the control socket cannot be reached.
import ipaddress
import json
import selectors
import socket
import sys
import time


def main():
    if len(sys.argv) < 7:
        sys.exit("usage: ctl_auth.py SOCKET FIRST_CLIENT COUNT WINDOW TIMEOUT_S SERVICE...")
    path, first = sys.argv[1], int(ipaddress.ip_address(sys.argv[2]))
    count, window, timeout = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    services = sys.argv[6:]
    if not (1 <= count <= 65536 and 1 <= window <= 30 and 1 <= timeout <= 600):
        sys.exit("ctl_auth.py: COUNT 1..65536, WINDOW 1..30 (the daemon takes 32 connections), "
                 "TIMEOUT_S 1..600")
    sel = selectors.DefaultSelector()
    lat, failed, nxt = [], 0, 0
    t0 = time.monotonic()
    deadline = t0 + timeout

    def start(i):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        req = {"cmd": "auth", "service": services[i % len(services)],
               "client": str(ipaddress.ip_address(first + i))}
        s.send(json.dumps(req).encode())
        sel.register(s, selectors.EVENT_READ, time.monotonic())

    while nxt < count and nxt < window:
        start(nxt)
        nxt += 1
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            failed += len(sel.get_map())
            break
        for key, _ in sel.select(min(left, 1.0)):
            s = key.fileobj
            try:
                r = json.loads(s.recv(65536) or b"{}")
            except (OSError, ValueError):
                r = {}
            sel.unregister(s)
            s.close()
            if r.get("ok") and r.get("session"):
                lat.append(time.monotonic() - key.data)
            else:
                failed += 1
                if failed <= 3:
                    print("ctl_auth.py: %s" % (r.get("error") or "no reply"), file=sys.stderr)
            if nxt < count:
                start(nxt)
                nxt += 1
    secs = time.monotonic() - t0
    failed += count - nxt
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6 if lat else 0.0

    print("LOAD completed %d failed %d seconds %.3f per_s %.0f p50_us %.1f p99_us %.1f" %
          (len(lat), failed, secs, len(lat) / secs if secs > 0 else 0, pct(0.5), pct(0.99)))


if __name__ == "__main__":
    main()
