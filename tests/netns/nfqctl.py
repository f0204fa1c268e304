#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tiny control-socket client for the integration tests (docs/control.md).

  nfqctl.py SOCKET JSON              send one request, print the reply, exit 0 if "ok"
  nfqctl.py SOCKET --get KEY.PATH    {"cmd": "stats"} style: print one field of the reply
  nfqctl.py SOCKET --responder ID    subscribe; answer every session-miss with session-add
                                     (what coopnet-authd does after authenticating)
"""
import json
import socket
import sys


def call(path, req, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    s.send(json.dumps(req).encode())
    rep = json.loads(s.recv(65536 + 1).decode())
    s.close()
    return rep


def responder(path, ident):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(json.dumps({"cmd": "subscribe"}).encode())
    print(s.recv(65537).decode(), flush=True)
    while True:
        msg = s.recv(65537)
        if not msg:
            return 0
        ev = json.loads(msg.decode())
        print(json.dumps(ev), flush=True)
        if ev.get("event") != "session-miss":
            continue
        sess = {"client": ev["client"], "service": ev["service"], "port": ev["port"],
                "id": ident}
        print(json.dumps(call(path, {"cmd": "session-add", "sessions": [sess]})), flush=True)


def main():
    path = sys.argv[1]
    if sys.argv[2] == "--responder":
        return responder(path, sys.argv[3])
    if sys.argv[2] == "--get":
        cmd, _, keypath = sys.argv[3].partition(".")
        rep = call(path, {"cmd": cmd})
        for k in keypath.split("."):
            rep = rep[k]
        print(rep)
        return 0
    rep = call(path, json.loads(sys.argv[2]))
    print(json.dumps(rep))
    return 0 if rep.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
