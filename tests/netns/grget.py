#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""GET / from many client addresses at once (tests/netns/balance.test, inside the client's
namespace): one connection per address, all in parallel, each bound to its source address.

    grget.py HOST FIRST COUNT [TIMEOUT]

Client address i is 198.18.(4 + (i + 10) // 256).((i + 10) % 256) (balance-lib.sh's
gr_client_addr). Prints "i body" (the page's first line) or "i FAILED reason" per address, in
order; exit 0 even when some failed (the caller counts)."""
import socket
import sys
import threading


def addr(i):
    i += 10
    return f"198.18.{4 + i // 256}.{i % 256}"


def get(host, src, timeout):
    try:
        with socket.create_connection((host, 80), timeout=timeout, source_address=(src, 0)) as s:
            s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while len(data) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.0 200"):
            return "FAILED status " + head.split(b"\r\n")[0].decode(errors="replace")
        return body.decode(errors="replace").splitlines()[0] if body else "FAILED empty"
    except OSError as e:
        return f"FAILED {e}"


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    host, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) == 5 else 8.0
    if not (0 <= first and 0 < count <= 1000 and first + count <= 1000 and 0 < timeout <= 60):
        sys.exit("grget.py: FIRST + COUNT within 0..1000, TIMEOUT 0..60")
    out = [None] * count

    def run(k):
        out[k] = get(host, addr(first + k), timeout)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, r in enumerate(out):
        print(first + k, r)


if __name__ == "__main__":
    main()
