#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpus for tests/fuzz/fuzz_status: the two status payloads alone and inside a
Status-REP (docs/protocol.md, "The status application")."""
import os
import struct
import sys

from coopgram import addr, dgram


def hdr(kind, flags=0, interval=10000, seq=1):
    return struct.pack(">BBBBIQ", 1, kind, flags, 0, interval, seq)

info_client = hdr(1) + struct.pack(">QQQQQ", 1795000000999, 11, 1111, 22, 2222) + \
    struct.pack(">IIII", 1, 2, 3, 4)
info_vnic = hdr(2, flags=1, seq=7) + struct.pack(">BBBBHHIIQII", 1, 2, 2, 0, 500, 100, 7,
                                                 0xffffffff, 123456, 12, 3)
assert len(info_client) == 72 and len(info_vnic) == 48
client = addr(4, [198, 18, 1, 2], 0) + b"alice".ljust(16, b"\0") + bytes(4)
vnic = addr(4, [198, 18, 2, 1], 80) + b"vnic1".ljust(16, b"\0") + bytes(4)
P = b"\x5a" * 32
seeds = {
    "info-client": info_client,
    "info-vnic": info_vnic,
    "status-rep-client": dgram(2, 2, ident=0x4242, skind=1, sender=client, service=b"www",
                               proof=P, dev=info_client),
    "status-req-vnic": dgram(1, 2, ident=0x4242, skind=2, vst=2, sender=vnic, service=b"www",
                             proof=P, dev=info_vnic),
}
out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/status"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
