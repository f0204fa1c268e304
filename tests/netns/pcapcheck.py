#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Check a capture of the SS-SP wire (scapy, no network I/O).

  pcapcheck.py FILE PORT id ID     every TCP segment to or from PORT carries ID in the urgent
                                   pointer with URG clear, at least 3 each way; prints counts
  pcapcheck.py FILE PORT none [to|from]  every such segment (in that direction) has urgent
                                   pointer 0
  pcapcheck.py FILE PORT lengths   one line per segment: direction, flags, IP packet length
  pcapcheck.py FILE PORT count     how many segments to or from PORT
"""
import sys

from scapy.all import IP, IPv6, TCP, rdpcap  # noqa: E402


def segments(path, port):
    for p in rdpcap(path):
        if TCP not in p:
            continue
        t = p[TCP]
        if port not in (t.sport, t.dport):
            continue
        ip = p[IP] if IP in p else p[IPv6]
        length = ip.len if IP in p else ip.plen + 40
        yield ("to" if t.dport == port else "from"), t, length


def main():
    path, port, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    segs = list(segments(path, port))
    if what == "count":
        print(len(segs))
        return 0
    if what == "lengths":
        for d, t, n in segs:
            print(d, t.sprintf("%TCP.flags%"), n)
        return 0
    want = int(sys.argv[4], 0) if what == "id" else 0
    if what == "none" and len(sys.argv) > 4:
        segs = [x for x in segs if x[0] == sys.argv[4]]
    bad = [(d, t.urgptr, t.flags) for d, t, _ in segs if t.urgptr != want or t.flags.U]
    ways = {d: sum(1 for x, _, _ in segs if x == d) for d in ("to", "from")}
    print(f"segments to {ways['to']} from {ways['from']}, bad {len(bad)}: {bad[:5]}")
    if bad:
        return 1
    if what == "id" and (ways["to"] < 3 or ways["from"] < 3):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
