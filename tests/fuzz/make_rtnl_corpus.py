#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeds of tests/fuzz/fuzz_rtnl: the kernel's answers as [u16 le length][bytes] reads.

    python3 tests/fuzz/make_rtnl_corpus.py tests/fuzz/corpus/rtnl
"""
import os
import struct
import sys

RTM_NEWLINK, RTM_NEWADDR, NLMSG_ERROR, NLMSG_DONE = 16, 20, 2, 3
NLM_F_MULTI, NLM_F_CAPPED, NLM_F_ACK_TLVS = 2, 0x100, 0x200
IFLA_ADDRESS, IFLA_IFNAME, IFLA_LINK, IFLA_LINKINFO, IFLA_IFALIAS = 1, 3, 5, 18, 20
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_MACVLAN_MODE = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
NLMSGERR_ATTR_MSG = 1


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def attr(t, payload):
    return pad(struct.pack("<HH", 4 + len(payload), t) + payload)


def msg(t, flags, payload, seq=0):
    return pad(struct.pack("<IHHII", 16 + len(payload), t, flags, seq, 0) + payload)


def reads(*chunks):
    return b"".join(struct.pack("<H", len(c)) + c for c in chunks)


def link(index, name, kind=None, parent=0, mac=None, alias=None, up=True):
    p = struct.pack("<BxHiII", 0, 1, index, 1 if up else 0, 0)
    p += attr(IFLA_IFNAME, name.encode() + b"\0")
    if mac:
        p += attr(IFLA_ADDRESS, bytes(mac))
    if parent:
        p += attr(IFLA_LINK, struct.pack("<i", parent))
    if alias:
        p += attr(IFLA_IFALIAS, alias.encode() + b"\0")
    if kind:
        info = attr(IFLA_INFO_KIND, kind.encode() + b"\0")
        if kind == "macvlan":
            info += attr(IFLA_INFO_DATA, attr(IFLA_MACVLAN_MODE, struct.pack("<I", 4)))
        p += attr(IFLA_LINKINFO, info)
    return msg(RTM_NEWLINK, NLM_F_MULTI, p)


def addr4(index, a, plen):
    p = struct.pack("<BBBBI", 2, plen, 0, 0, index)
    p += attr(IFA_LOCAL, bytes(a)) + attr(IFA_ADDRESS, bytes(a))
    return msg(RTM_NEWADDR, NLM_F_MULTI, p)


def addr6(index, a, plen):
    p = struct.pack("<BBBBI", 10, plen, 0x80, 0, index) + attr(IFA_ADDRESS, bytes(a))
    return msg(RTM_NEWADDR, NLM_F_MULTI, p)


def done():
    return msg(NLMSG_DONE, NLM_F_MULTI, struct.pack("<i", 0))


def error(code, text=None):
    p = struct.pack("<i", code) + struct.pack("<IHHII", 16, 18, 5, 0, 0)
    flags = NLM_F_CAPPED
    if text is not None:
        flags |= NLM_F_ACK_TLVS
        p += attr(NLMSGERR_ATTR_MSG, text.encode() + b"\0")
    return msg(NLMSG_ERROR, flags, p)


SEEDS = {
    "dumps": reads(link(1, "lo", up=True) + link(2, "eth0", mac=[2, 0, 0, 0, 0, 1]),
                   link(5, "web1", "macvlan", 2, [2, 0x42, 0, 0, 0, 5], "coopnet") + done(),
                   addr4(2, [198, 18, 0, 1], 24) + addr6(5, [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [5], 64)
                   + done()),
    "ack": reads(error(0), done()),
    "error-extack": reads(error(-22, "Invalid GSO size")),
    "error-plain": reads(error(-1)),
    "split": reads(link(3, "veth0", "veth", 4), done(), done()),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/rtnl"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
