#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""urgdump.py FILE.pcap [N]: one line per IPv4 TCP segment: addresses, flags, IP length and
the urgent pointer field (the coopnet ID when URG is clear). N limits the lines (default all).
Exit 1 when the file holds no TCP segment."""
import struct
import sys


def segments(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:        # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            pkt = pkt[14:]
        elif linktype == 113:    # Linux cooked
            pkt = pkt[16:]
        if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 15) * 4
        tcp = pkt[ihl:]
        if len(tcp) < 20:
            continue
        yield pkt, tcp


def main():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else None
    count = 0
    for ip, tcp in segments(sys.argv[1]):
        src = ".".join(map(str, ip[12:16]))
        dst = ".".join(map(str, ip[16:20]))
        sport, dport = struct.unpack(">HH", tcp[:4])
        flags = tcp[13]
        names = "".join(c for c, b in zip("FSRPAU", range(6)) if flags & (1 << b))
        urg = struct.unpack(">H", tcp[18:20])[0]
        iplen = struct.unpack(">H", ip[2:4])[0]
        idtxt = "no ID" if urg == 0 else "ID 0x%04x" % urg
        if urg and flags & 0x20:
            idtxt = "urgent data (URG set)"
        print("%s:%d > %s:%d  flags [%s]  URG flag %s  ip length %d  urgent pointer 0x%04x  (%s)" %
              (src, sport, dst, dport, names, "set" if flags & 0x20 else "clear", iplen, urg, idtxt))
        count += 1
        if n and count >= n:
            break
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
