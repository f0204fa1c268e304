#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""groupcap.py PCAP SRC: print in hex the UDP payload of the last group message (cooperative
datagram "CNCP" with the group flag 0x0004) sent from IPv6 address SRC in PCAP (Ethernet or
Linux cooked capture, as tcpdump -w writes). The capture of tests/netns/membership.test's
attacker. Exit 1 when the capture holds none."""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay import udp_datagrams  # noqa: E402 (the pcap reader of tests/netns/replay.py)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    want = ipaddress.IPv6Address(sys.argv[2])
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    last = None
    for src, _, payload in udp_datagrams(data):
        if src == want and payload[:4] == b"CNCP" and payload[6:8] == b"\x00\x04":
            last = payload
    if last is None:
        print("groupcap.py: no group message from %s in %s" % (want, sys.argv[1]), file=sys.stderr)
        return 1
    print(last.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
