#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpus for tests/fuzz/fuzz_group: join, heartbeat (two services) and leave inside a
group datagram (docs/protocol.md, "The group application"). The signatures are zero: the
fuzzer explores the decoder; the real signatures are the unit tests' (tests/unit/test_group.c)."""
import os
import struct
import sys

from coopgram import dgram


def payload(kind, services=(), seq=1, name=b"sp1", load=3, interval=500):
    p = struct.pack(">BBBBIQ", 1, kind, len(services), 0, interval, seq)
    p += name.ljust(16, b"\0") + struct.pack(">II", load, 0)
    for svc, status in services:
        p += svc.ljust(32, b"\0") + bytes([status])
    return p + bytes(64)


seeds = {
    "join": payload(1, [(b"web", 1)]),
    "heartbeat": payload(2, [(b"web", 1), (b"db", 2)], seq=9),
    "leave": payload(3),
}
out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/group"
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(dgram(1, 4, nss=bytes(16), dev=data))
