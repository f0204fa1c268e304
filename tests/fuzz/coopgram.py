# SPDX-License-Identifier: MIT
"""The cooperative datagram (docs/protocol.md) for the seed-corpus scripts."""
import struct


def addr(fam, a, port):
    raw = bytes(a) + bytes(16 - len(a))
    return struct.pack(">BBH", fam, 0, port) + raw

def dgram(ctl, coop, ident=0, err=0, vst=0, skind=0, nss=b"\x11" * 16, nsp=bytes(16),
          sender=None, service=b"", proof=bytes(32), fwd=None, dev=b"", mac=bytes(32)):
    length = 216 + len(dev)
    h = b"CNCP" + struct.pack(">BBHHHHBB", 1, ctl, coop, length, ident, err, vst, skind)
    h += struct.pack(">Q", 1795000000123) + nss + nsp
    h += sender if sender else bytes(40)
    h += service.ljust(32, b"\0") + proof
    h += fwd if fwd else bytes(20)
    h += struct.pack(">HH", len(dev), 0) + dev + mac
    assert len(h) == length
    return h
