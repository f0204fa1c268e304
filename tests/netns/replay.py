#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""replay.py PCAP DST PORT: send the UDP payload of the first Auth-REQ among the IPv4 UDP datagrams to port PORT
in PCAP (Ethernet or Linux cooked capture, as tcpdump -w writes) to DST:PORT, unchanged, from
this host. The attacker of tests/netns/auth.test. Exit 1 when the capture holds none."""
import ipaddress
import socket
import struct
import sys


def udp_datagrams(data):
    """(source address, destination port, UDP payload) of every IPv4 and IPv6 UDP datagram
    of a pcap file's bytes (IPv6: without extension headers)."""
    magic = struct.unpack_from("<I", data, 0)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        if linktype == 1:            # Ethernet
            l3, etype = 14, struct.unpack_from("!H", pkt, 12)[0]
        elif linktype == 113:        # Linux cooked v1
            l3, etype = 16, struct.unpack_from("!H", pkt, 14)[0]
        else:
            raise SystemExit("replay.py: link type %d not handled" % linktype)
        ip = pkt[l3:]
        if etype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
            src, udp = ipaddress.IPv4Address(ip[12:16]), ip[(ip[0] & 0x0F) * 4:]
        elif etype == 0x86DD and len(ip) >= 48 and ip[6] == 17:
            src, udp = ipaddress.IPv6Address(ip[8:24]), ip[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        yield src, struct.unpack_from("!H", udp, 2)[0], udp[8:struct.unpack_from("!H", udp, 4)[0]]


def datagrams(data):
    """(destination port, payload) of the IPv4 UDP datagrams."""
    for src, dport, payload in udp_datagrams(data):
        if src.version == 4:
            yield dport, payload


def is_auth_req(p):
    """An Auth-REQ (docs/protocol.md: magic CNCP, control flags req only, cooperative flags
    auth): the SS's status reports go to the same port and may be captured first."""
    return len(p) >= 8 and p[:4] == b"CNCP" and p[5] == 0x01 and p[6:8] == b"\x00\x01"


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    path, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        data = f.read()
    for dport, payload in datagrams(data):
        if dport == port and is_auth_req(payload):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(payload, (dst, port))
            print("replayed %d bytes to %s:%d" % (len(payload), dst, port))
            return 0
    print("replay.py: no Auth-REQ to port %d in %s" % (port, path), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
