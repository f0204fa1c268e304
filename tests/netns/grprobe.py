#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A new connection every INTERVAL ms from SRC to HOST:80 (GET /), each in its own thread
with a 1 s limit, until STOPFILE exists (at most 30 s): one process, so that the start of an
attempt is not delayed by starting a program (bench/failover.sh, inside the client's
namespace). Writes "start_ms end_ms body-first-line|FAILED" per attempt to OUT, wall-clock
milliseconds (comparable with `date +%s%N`).

    grprobe.py SRC HOST OUT STOPFILE [INTERVAL_MS]"""
import os
import socket
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


def attempt(src, host, lines, lock):
    t0 = now_ms()
    r = "FAILED"
    try:
        with socket.create_connection((host, 80), timeout=1.0, source_address=(src, 0)) as s:
            s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while len(data) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if b" 200 " in head.split(b"\r\n")[0] and body:
            r = body.decode(errors="replace").splitlines()[0]
    except OSError:
        pass
    with lock:
        lines.append(f"{t0} {now_ms()} {r}")


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    src, host, out, stop = sys.argv[1:5]
    interval = int(sys.argv[5]) if len(sys.argv) == 6 else 50
    if not 10 <= interval <= 1000:
        sys.exit("grprobe.py: INTERVAL_MS 10..1000")
    lines, lock, threads = [], threading.Lock(), []
    end = time.time() + 30
    while not os.path.exists(stop) and time.time() < end:
        t = threading.Thread(target=attempt, args=(src, host, lines, lock))
        t.start()
        threads.append(t)
        time.sleep(interval / 1000)
    for t in threads:
        t.join()
    with open(out, "w") as f:
        f.write("\n".join(sorted(lines, key=lambda x: int(x.split()[0]))) + "\n")


if __name__ == "__main__":
    main()
