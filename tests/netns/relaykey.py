#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Send one key message to coopnet-relay's key socket (lib/confkey.c's frame, 104 bytes).

  relaykey.py SOCKET set CLIENT SERVICE PORT ID PSKHEX IDENTHEX   a SET (IPv4)
  relaykey.py SOCKET raw HEX                                      any bytes (a bad message)
"""
import socket
import struct
import sys


def frame(kind, client, service, port, ident, psk, sid=0):
    c = socket.inet_aton(client) + bytes(12)
    s = socket.inet_aton(service) + bytes(12)
    return (b"CR" + bytes([1, kind, socket.AF_INET, 0]) + struct.pack(">HHHq", port, sid, 0, 0)
            + c + s + ident + psk + bytes(4))


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "set":
        client, service, port, sid = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6], 0)
        msg = frame(1, client, service, port, bytes.fromhex(sys.argv[8]), bytes.fromhex(sys.argv[7]), sid)
    else:
        msg = bytes.fromhex(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(msg)
    s.close()


if __name__ == "__main__":
    main()
