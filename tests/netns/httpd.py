#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The page server of tests/netns/coop-lib.sh: python's http.server (one thread per
connection) with a listen backlog of 4096 instead of socketserver's 5, so that many clients
connecting at the same instant (bench/first_page.sh) are queued by the kernel, not dropped
and retransmitted after a second.

  httpd.py ADDRESS PORT FOLDER
"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # 2,000 lines per run are noise
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 4096
    daemon_threads = True


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: httpd.py ADDRESS PORT FOLDER")
    handler = functools.partial(Handler, directory=sys.argv[3])
    with Server((sys.argv[1], int(sys.argv[2])), handler) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    main()
