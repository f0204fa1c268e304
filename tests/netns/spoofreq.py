#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""spoofreq.py PCAP SRC DST PORT COUNT MODE: the off-path spoofer of tests/netns/spoof.test.
Takes the first Auth-REQ (docs/protocol.md: magic CNCP, control flags req only, cooperative
flags auth) among the IPv4 UDP datagrams to PORT in PCAP (the SS's periodic status reports go to
the same port and may come first) and
sends COUNT forgeries of it to DST:PORT with the source address SRC (scapy, raw IP), each with
a fresh timestamp (within the window) and a random nonce_ss, so that none is a replay:
  MODE proof   the proof no longer verifies (bad-proof)
  MODE client  the client's name is changed too: a client the SP does not know
Prints how many were sent."""
import os
import struct
import sys
import time

from scapy.all import IP, UDP, conf, send  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay import datagrams, is_auth_req  # noqa: E402


def forge(req, i, mode):
    b = bytearray(req)
    struct.pack_into("!Q", b, 16, int(time.time() * 1000))  # timestamp
    b[24:40] = os.urandom(16)                                 # nonce_ss
    if mode == "client":
        name = ("nobody%d" % (i % 100000)).encode()[:15]
        b[76:92] = name + bytes(16 - len(name))
    return bytes(b)


def main():
    if len(sys.argv) != 7 or sys.argv[6] not in ("proof", "client"):
        raise SystemExit(__doc__)
    path, src, dst, port, count, mode = sys.argv[1:7]
    port, count = int(port), int(count)
    with open(path, "rb") as f:
        data = f.read()
    req = next((p for d, p in datagrams(data) if d == port and is_auth_req(p)), None)
    if req is None or len(req) < 184:
        raise SystemExit("spoofreq.py: no Auth-REQ to port %d in %s" % (port, path))
    conf.verb = 0
    pkts = [IP(src=src, dst=dst) / UDP(sport=port, dport=port) / forge(req, i, mode)
            for i in range(count)]
    send(pkts, verbose=0)
    print("sent %d forged Auth-REQs (%s) from %s to %s:%d" % (count, mode, src, dst, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
