#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of tests/fuzz/fuzz_packet: a handful of small valid IPv4/IPv6 TCP
packets with correct checksums (and one CHECKSUM_PARTIAL-style packet).

    python3 tests/fuzz/make_corpus.py tests/fuzz/corpus/packet

Deterministic: the same files every run. Addresses from 198.18.0.0/15 and 2001:db8::/32.
"""
import os
import struct
import sys


def csum_sum(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def fold(s):
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def tcp(sport, dport, flags, urg, opts=b"", payload=b""):
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 0x01020304, 0x05060708, doff << 4, flags,
                      65535, 0, urg)
    return bytearray(hdr + opts + payload)


def pseudo4(src, dst, seg_len):
    return csum_sum(src + dst + struct.pack("!BBH", 0, 6, seg_len))


def pseudo6(src, dst, seg_len):
    return csum_sum(src + dst + struct.pack("!IxxxB", seg_len, 6))


def set_check(seg, pseudo, partial=False):
    seg[16:18] = b"\0\0"
    if partial:
        value = fold(pseudo)  # th->check = ~csum_tcpudp_magic(...): pseudo sum, not complemented
    else:
        value = ~fold(pseudo + csum_sum(bytes(seg))) & 0xFFFF
    seg[16:18] = struct.pack("!H", value)
    return bytes(seg)


def ipv4(seg, opts=b"", frag=0x4000, pad=b"", partial=False):
    src, dst = bytes([198, 18, 0, 1]), bytes([198, 19, 0, 2])
    seg = set_check(seg, pseudo4(src, dst, len(seg)), partial)
    ihl = (20 + len(opts)) // 4
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(seg),
                                0x1234, frag, 64, 6, 0, src, dst) + opts)
    hdr[10:12] = struct.pack("!H", ~fold(csum_sum(bytes(hdr))) & 0xFFFF)
    return bytes(hdr) + seg + pad


def ipv6(seg, exts=b"", first_nh=6, final_dst=None, partial=False):
    src = bytes.fromhex("20010db8000100000000000000000001")
    dst = bytes.fromhex("20010db8000200000000000000000002")
    seg = set_check(seg, pseudo6(src, final_dst or dst, len(seg)), partial)
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(exts) + len(seg), first_nh, 64, src, dst)
    return hdr + exts + seg


def ext_chain():
    """hop-by-hop -> routing (SRH, 1 segment left) -> dest opts -> fragment -> AH -> TCP"""
    final = bytes.fromhex("20010db8000900000000000000000009")
    hop = struct.pack("!BB6x", 43, 0)
    srh = struct.pack("!BBBBBBH", 60, 4, 4, 1, 1, 0, 0) + final + \
        bytes.fromhex("20010db8000200000000000000000002")
    dst = struct.pack("!BB6x", 44, 0)
    frag = struct.pack("!BBHI", 51, 0, 0x0001, 0xCAFE)  # offset 0, more fragments
    ah = struct.pack("!BBHII", 6, 4, 0, 0x100, 1) + bytes(12)  # 24 bytes
    return hop + srh + dst + frag + ah, final


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/packet"
    os.makedirs(out, exist_ok=True)
    mss_sack_ts = bytes.fromhex("020405b4" "0402080a" "0000000100000000" "01030307")
    chain, final = ext_chain()
    packets = {
        "v4-syn": ipv4(tcp(40000, 80, 0x02, 0, mss_sack_ts)),
        "v4-id-payload": ipv4(tcp(40001, 443, 0x18, 0x6141, b"", b"GET / HTTP/1.1\r\n\r\n")),
        "v4-ipopts-odd": ipv4(tcp(40002, 80, 0x10, 0x3078, b"\x01\x01\x01\x00", b"odd"),
                              opts=b"\x01\x01\x01\x00\x94\x04\x00\x00"),
        "v4-urg": ipv4(tcp(40003, 23, 0x30, 1, b"", b"!")),
        "v4-first-frag": ipv4(tcp(40004, 80, 0x10, 0x4142, b"", b"x" * 24), frag=0x2000),
        "v4-padded": ipv4(tcp(40005, 80, 0x11, 0), pad=bytes(6)),
        "v4-partial": ipv4(tcp(40006, 80, 0x18, 0, b"", b"hello"), partial=True),
        "v6-syn": ipv6(tcp(40010, 80, 0x02, 0, mss_sack_ts)),
        "v6-partial": ipv6(tcp(40011, 80, 0x18, 0x6141, b"", b"hello!"), partial=True),
        "v6-ext-chain": ipv6(tcp(40012, 80, 0x10, 0x7a7a, b"", b"payload"), chain, 0, final),
    }
    for name, data in packets.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
