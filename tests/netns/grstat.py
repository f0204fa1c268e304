#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The counters of balance-lib.sh's group in one go (tests/netns/balance-stall.sh): one Python
start instead of one per figure (a machine under load takes a second or more each).

    grstat.py RUN CTL

RUN is $GR_RUN (the hosts' control sockets), CTL coopnetctl. Prints "key value" lines:
ss_<counter> and spN_<counter> for the counters below, dec_spN (both headers' decisions for
member N), avoided (both headers' balance-retry-avoided), ss_sessions, spN_web (spN's sessions
of web), spN_pending (its exchanges pending). Exit 1 when a daemon does not answer."""
import json
import subprocess
import sys

SS_KEYS = ("retransmit", "header-kept", "header-next", "released")
SP_KEYS = ("released", "timeout")


def ctl(run, exe, host, *args):
    out = subprocess.run([exe, "--json", "--socket", f"{run}/{host}/authd.sock", *args],
                         check=True, capture_output=True, timeout=10).stdout
    return json.loads(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run, exe = sys.argv[1:]
    out = {}
    try:
        ss = ctl(run, exe, "ss", "stats", "authd")
        out.update({f"ss_{k.replace('-', '_')}": ss[k] for k in SS_KEYS})
        out["ss_sessions"] = len(ctl(run, exe, "ss", "sessions"))
        dec = [0, 0, 0]
        out["avoided"] = 0
        for h in ("h1", "h2"):
            members = ctl(run, exe, h, "group")["header"]["members"]
            dec = [a + m["decisions"] for a, m in zip(dec, members)]
            out["avoided"] += ctl(run, exe, h, "stats", "authd")["balance-retry-avoided"]
        for n in (1, 2, 3):
            sp = f"sp{n}"
            st = ctl(run, exe, sp, "stats", "authd")
            out.update({f"{sp}_{k}": st[k] for k in SP_KEYS})
            out[f"{sp}_web"] = sum(1 for s in ctl(run, exe, sp, "sessions")
                                   if s["service_name"] == "web")
            out[f"{sp}_pending"] = ctl(run, exe, sp, "status")["pending_sp"]
            out[f"dec_{sp}"] = dec[n - 1]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        sys.exit(f"grstat.py: {e}")
    for k, v in out.items():
        print(k, int(v))


if __name__ == "__main__":
    main()
