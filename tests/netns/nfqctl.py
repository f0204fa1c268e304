#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tiny control-socket client for the integration tests (docs/control.md).

  nfqctl.py SOCKET JSON              send one request, print the reply, exit 0 if "ok"
  nfqctl.py SOCKET --get KEY.PATH    {"cmd": "stats"} style: print one field of the reply
  nfqctl.py SOCKET --responder ID    subscribe; answer every session-miss with session-add
                                     (what coopnet-authd does after authenticating)
  nfqctl.py SOCKET --sync N CLIENT SERVICE PORT ID
                                     a chunked session-sync of N sessions: N-1 made up
                                     (clients 198.19.0.0 + i, same service and port), then
                                     CLIENT's, last; print the final reply, exit 0 if "ok"
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


def sync(path, n, client, service, port, ident):
    sess = [{"client": "198.19.%d.%d" % (i >> 8, i & 255), "service": service, "port": port,
             "id": ident} for i in range(n - 1)]
    sess.append({"client": client, "service": service, "port": port, "id": ident})
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(60.0)
    s.connect(path)
    for at in range(0, n, 400):  # a message holds at most 64 KiB (docs/control.md)
        req = {"cmd": "session-sync", "sessions": sess[at:at + 400]}
        if at + 400 < n:
            req["more"] = True
        s.send(json.dumps(req).encode())
        rep = json.loads(s.recv(65537).decode())
        if not rep.get("ok"):
            break
    s.close()
    print(json.dumps(rep))
    return 0 if rep.get("ok") else 1


def main():
    path = sys.argv[1]
    if sys.argv[2] == "--responder":
        return responder(path, sys.argv[3])
    if sys.argv[2] == "--sync":
        n, client, service, port, ident = sys.argv[3:8]
        if not 1 <= int(n) <= 65537:
            sys.exit("--sync: 1 to 65,537 sessions (198.19.0.0/16 for the made-up clients)")
        return sync(path, int(n), client, service, int(port), ident)
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
