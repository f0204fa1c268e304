#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""replay.py PCAP DST PORT: send the UDP payload of the first IPv4 UDP datagram to port PORT
in PCAP (Ethernet or Linux cooked capture, as tcpdump -w writes) to DST:PORT, unchanged, from
this host. The attacker of tests/netns/auth.test. Exit 1 when the capture holds none."""
import socket
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
        if linktype == 1:            # Ethernet
            l3 = 14
            if struct.unpack_from("!H", pkt, 12)[0] != 0x0800:
                continue
        elif linktype == 113:        # Linux cooked v1
            l3 = 16
            if struct.unpack_from("!H", pkt, 14)[0] != 0x0800:
                continue
        else:
            raise SystemExit("replay.py: link type %d not handled" % linktype)
        ip = pkt[l3:]
        if len(ip) < 20 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        yield struct.unpack_from("!H", udp, 2)[0], udp[8:struct.unpack_from("!H", udp, 4)[0]]


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    path, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        data = f.read()
    for dport, payload in datagrams(data):
        if dport == port:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(payload, (dst, port))
            print("replayed %d bytes to %s:%d" % (len(payload), dst, port))
            return 0
    print("replay.py: no UDP datagram to port %d in %s" % (port, path), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
