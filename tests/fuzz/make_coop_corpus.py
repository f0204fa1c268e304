#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpus for tests/fuzz/fuzz_coop: one valid datagram of each kind (docs/protocol.md)."""
import os
import sys

from coopgram import addr, dgram

client = addr(4, [198, 18, 1, 2], 0) + b"alice".ljust(16, b"\0") + bytes(4)
vnic = addr(6, [0x20, 1, 0xd, 0xb8] + [0] * 11 + [1], 80) + b"vnic1".ljust(16, b"\0") + bytes(4)
P = b"\x5a" * 32
seeds = {
    "auth-req": dgram(1, 1, skind=1, sender=client, service=b"http", proof=P),
    "auth-req-fwd": dgram(1, 1, skind=1, sender=client, service=b"http", proof=P,
                          fwd=addr(4, [198, 18, 0, 1], 4500), mac=P),
    "auth-repreq": dgram(3, 1, ident=0x6141, nsp=b"\x22" * 16, skind=2, vst=1, sender=vnic,
                         service=b"http", proof=P),
    "auth-rep": dgram(2, 1, ident=0x6141, nsp=b"\x22" * 16, service=b"http", proof=P),
    "auth-rst": dgram(12, 1, err=1),
    "auth-rst-revoked": dgram(12, 1, ident=0x6141, err=9, service=b"http", proof=P),
    "auth-reprst": dgram(6, 1, ident=0x6141, service=b"http", proof=P),
    "status-rep": dgram(2, 2, nsp=b"\x22" * 16, skind=2, vst=3, sender=vnic, mac=P),
    "dev": dgram(1, 0x0100, ident=7, dev=b"\x01\x02hi"),
    "auth-rst-released": dgram(12, 1, nsp=b"\x22" * 16, err=11, service=b"http", proof=P),
}
out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/coop"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
