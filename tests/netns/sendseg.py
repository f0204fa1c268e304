#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Send one crafted TCP SYN (raw IP socket via scapy): SRC DST DPORT SPORT URGPTR."""
import sys

from scapy.all import IP, IPv6, TCP, send  # noqa: E402

src, dst, dport, sport, urg = sys.argv[1:6]
ip = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
send(ip / TCP(sport=int(sport), dport=int(dport), flags="S", seq=1000, urgptr=int(urg, 0)),
     verbose=False)
