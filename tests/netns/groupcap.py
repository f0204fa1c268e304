#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""groupcap.py PCAP SRC: print in hex the UDP payload of the last group message (cooperative
datagram "CNCP" with the group flag 0x0004) sent from IPv6 address SRC in PCAP (Ethernet or
Linux cooked capture, as tcpdump -w writes). The capture of tests/netns/group.test's
attacker. Exit 1 when the capture holds none."""
import ipaddress
import struct
import sys


def datagrams(data):
    magic = struct.unpack_from("<I", data, 0)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            l3, etype = 14, struct.unpack_from("!H", pkt, 12)[0]
        elif linktype == 113:
            l3, etype = 16, struct.unpack_from("!H", pkt, 14)[0]
        else:
            raise SystemExit("groupcap.py: link type %d not handled" % linktype)
        ip = pkt[l3:]
        if etype != 0x86DD or len(ip) < 48 or ip[6] != 17:
            continue
        src = ipaddress.IPv6Address(ip[8:24])
        udp = ip[40:]
        yield src, udp[8:struct.unpack_from("!H", udp, 4)[0]]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    want = ipaddress.IPv6Address(sys.argv[2])
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    last = None
    for src, payload in datagrams(data):
        if src == want and payload[:4] == b"CNCP" and payload[6:8] == b"\x00\x04":
            last = payload
    if last is None:
        print("groupcap.py: no group message from %s in %s" % (want, sys.argv[1]), file=sys.stderr)
        return 1
    print(last.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
