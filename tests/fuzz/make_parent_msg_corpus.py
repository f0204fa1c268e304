#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of tests/fuzz/fuzz_parent_msg: sequences of engine -> parent
messages (authd/imsg.h, x86-64 layout) framed as the target reads them (2-byte length, then
the message), valid ones of the target's policy and a few refused ones.

    python3 tests/fuzz/make_parent_msg_corpus.py tests/fuzz/corpus/parent_msg
"""
import os
import socket
import struct
import sys

ADD, DEL, BEGIN, PART, END, RELOAD, APPLIED, PROBE, BARRIER, ACCEPT, WITHDRAW = range(1, 12)


def session(client, service="198.19.0.10", port=80, sid=0x6141, vnic=b"vnic1", name=b"http",
            expires=1795000000, key_only=False):
    fam = socket.AF_INET6 if ":" in client else socket.AF_INET
    c = socket.inet_pton(fam, client).ljust(16, b"\0")
    s = socket.inet_pton(fam, service).ljust(16, b"\0")
    if key_only:
        sid, vnic, name, expires = 0, b"", b"", 0
    return struct.pack("<BBHHH16s16s16s32sQ", fam, 0, port, sid, 0, c, s, vnic, name, expires)


def msg(t, items=b"", n=None):
    if n is None:
        n = len(items) // 96 if items else 0
    return struct.pack("<II", t, n) + items


def frame(*msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


def main(d):
    os.makedirs(d, exist_ok=True)
    a = session("198.18.1.2")
    b = session("198.18.1.3", sid=0x22)
    v6 = session("2001:db8:1::2", service="2001:db8::10")
    seeds = {
        "add": frame(msg(ADD, a)),
        "add-del": frame(msg(ADD, a + b), msg(DEL, session("198.18.1.2", key_only=True))),
        "sync": frame(msg(BEGIN), msg(PART, a + v6), msg(PART, b), msg(END)),
        "v6": frame(msg(ADD, v6)),
        "outside": frame(msg(ADD, session("198.18.9.9")), msg(ADD, session("198.18.1.2", port=81))),
        "reload-applied": frame(msg(RELOAD),
                                msg(APPLIED, struct.pack("<B3xi512s", 1, 2, b""), 1)),
        "bad": frame(msg(99), msg(ADD, a, 2), msg(PART, a), msg(END)),
        # a renewal ahead: accepted, withdrawn; one for a key never added (refused)
        "accept": frame(msg(ADD, a), msg(ACCEPT, session("198.18.1.2", sid=0x4242)),
                        msg(WITHDRAW, session("198.18.1.2", sid=0x4242)),
                        msg(ACCEPT, session("198.18.1.3", sid=0x4343))),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/parent_msg")
