#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Renewal without loss (issue 9): on the overlay of examples/ with real Apache, sp1's policy
# gives sessions a 10 s lifetime, so the SS's `authenticate` entry for web1 renews every 8 s
# (80 %); a rate-limited download of a 6,000,000-byte file from web1 takes ~24 s and so spans
# at least two renewals. It must arrive whole (sha256), with no `dropped_wrong_id` on either
# side (docs/authd.md, "Renewal of `authenticate` entries"): on the SS, sp1's segments in
# flight with the previous ID are accepted for the renewal grace (docs/nfq.md, "Renewal"), and
# its Auth-REP leaves only once its own data plane writes the new ID (the data-plane gate); on
# sp1, the client's segments the SS writes with the new ID before sp1's commit are accepted
# because sp1's data plane accepts the new ID ahead (session-accept) before its Auth-REP&REQ
# leaves. Both gates are seen at work: sp1's and the SS's `dp-gated` grow with every
# renewal. And sp1's info_client
# for web1 (what the SS's coopnet-nfq counted, reported every second here) grows by the
# file's size within 10 %: the per-session counters survive the renewals (kernel mode: the
# element counters carried into the new elements). Then the attacker forges 5 replies of web1
# with a wrong ID: sp1's info_client for web1 shows them as wrong-ID drops (the SS's
# per-session drops by reason; kernel mode: its set drop_wrong). Run by renewal-queue.test and
# renewal-kernel.test (OV_NFQ_MODE / OV_SS_NFQ_MODE: every coopnet-nfq in that mode).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/overlay-lib.sh"
nb_require_root
nb_require_cmd ip nft curl apache2 python3 sha256sum
[ -x "$OV_AUTHD" ] && [ -x "$OV_NFQ" ] && [ -x "$OV_CTL" ] || nb__die "build first (make)"

LIFETIME=10          # sp1's id_lifetime: renewal at 8 s
SIZE=6000000
RATE=250000          # bytes/s: ~24 s, at least two renewals

ov_topology || nb__die "the overlay's topology"
ov_install || nb__die "examples/install.sh into the run folder"
python3 - "$OV_RUN" "$LIFETIME" <<'PY'
import json, sys
run, life = sys.argv[1], int(sys.argv[2])
for h in ("ss", "header", "sp1", "sp2"):
    f = f"{run}/{h}/authd.json"
    c = json.load(open(f))
    c["status"] = {"interval_ms": 1000, "miss_limit": 3}
    json.dump(c, open(f, "w"), indent=1)
f = f"{run}/sp1/policy.json"
p = json.load(open(f))
p["provider"]["id_lifetime"] = life
p["provider"]["idle_time"] = 600  # idle expiry is not what this test is about
json.dump(p, open(f, "w"), indent=1)
PY
echo "# modes: SS $(ov_nfq_mode ss), sp1 $(ov_nfq_mode sp1)"
nb_ok "sp1 up" ov_start_sp sp1
nb_ok "sp2 up" ov_start_sp sp2
nb_ok "header up" ov_start_header
nb_ok "ss up" ov_start_ss
web1() { ov_ctl ss --json sessions | grep -q '198.18.2.3'; }
nb_ok "the SS authenticated web1" nb_wait_for "web1's session" 30 web1

head -c $SIZE /dev/urandom >"$OV_RUN/sp1/www/web1/blob.bin"
chmod 644 "$OV_RUN/sp1/www/web1/blob.bin"
want=$(sha256sum <"$OV_RUN/sp1/www/web1/blob.bin" | cut -d' ' -f1)

authd_stat() { ov_ctl "$1" --json stats authd | python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"; }
nfq_stat() { ov_ctl "$1" --json stats nfq | python3 -c "
import json, sys
d = json.load(sys.stdin)
d = d.get('counters', d)
print(d['$2'])"; }
# the largest bytes service -> client of web1's sessions in sp1's info_client (a renewal
# starts a row for the new ID, which carries the counts on)
s2c() { ov_ctl sp1 --json clients | python3 -c '
import json, sys
rows = [c["bytes_s2c"] for c in json.load(sys.stdin) if c.get("role") == "session" and c.get("service") == "web1"]
print(max(rows) if rows else -1)'; }
ren0=$(authd_stat ss sessions-renewed)
before=$(s2c)
gated_sp0=$(authd_stat sp1 dp-gated)
gated_ss0=$(authd_stat ss dp-gated)
wrong_sp0=$(nfq_stat sp1 dropped_wrong_id)
wrong_ss0=$(nfq_stat ss dropped_wrong_id)
ids0=$(ov_ctl ss --json sessions | python3 -c '
import json, sys
print(sorted(s["id"] for s in json.load(sys.stdin) if s.get("service", "").startswith("198.18.2.3") and s.get("port") == 80))')
# a 64 KiB receive window: the client's reading paces sp1's sending, so segments are on the
# wire during the renewals (else the file would cross in one burst into the socket buffer)
nb_exec client sysctl -qw net.ipv4.tcp_rmem="4096 32768 65536"
got=$(nb_exec client curl -sS --max-time 90 --limit-rate $RATE http://198.18.2.3/blob.bin | sha256sum | cut -d' ' -f1)
ren1=$(authd_stat ss sessions-renewed)
ids1=$(ov_ctl ss --json sessions | python3 -c '
import json, sys
print(sorted(s["id"] for s in json.load(sys.stdin) if s.get("service", "").startswith("198.18.2.3") and s.get("port") == 80))')
gated_sp=$(($(authd_stat sp1 dp-gated) - gated_sp0))
gated_ss=$(($(authd_stat ss dp-gated) - gated_ss0))
wrong_sp=$(($(nfq_stat sp1 dropped_wrong_id) - wrong_sp0))
wrong_ss=$(($(nfq_stat ss dropped_wrong_id) - wrong_ss0))
echo "# renewals during the download: $((ren1 - ren0)); sp1's IDs before $ids0, after $ids1"
echo "# dropped_wrong_id during the download: sp1 $wrong_sp, SS $wrong_ss"
echo "# sp1 renewal lines: $(grep -c -i "renew" "$(nb_log authd-ss)")"
echo "# gated behind the data plane during the download: sp1 $gated_sp REP&REQ(s), SS $gated_ss Auth-REP(s); gate time-outs sp1 $(authd_stat sp1 dp-gate-timeouts), SS $(authd_stat ss dp-gate-timeouts)"
nb_ok "the download spans at least two renewals ($((ren1 - ren0)))" test $((ren1 - ren0)) -ge 2
nb_ok "web1's session ID changed" test "$ids0" != "$ids1"
nb_is "the file arrived whole (sha256)" "$got" "$want"
# The SS's side: sp1's replies sent with the previous ID, still in flight when the SS
# switched, are accepted for the grace; sp1 writes the new ID only after the SS's Auth-REP,
# which left once the SS's data plane had it.
nb_is "the SS's coopnet-nfq: no wrong-ID drop during the download" "$wrong_ss" 0
# sp1's side: the client's segments the SS writes with the NEW ID from its receipt of the
# Auth-REP&REQ on are accepted: sp1's data plane accepted that ID ahead before it left.
nb_is "sp1's coopnet-nfq: no wrong-ID drop during the download" "$wrong_sp" 0
nb_ok "sp1's renewal REP&REQs waited for its data plane ($gated_sp)" \
	test "$gated_sp" -ge $((ren1 - ren0))
nb_ok "the SS's Auth-REPs waited for its data plane ($gated_ss)" test "$gated_ss" -ge $((ren1 - ren0))
# (polled for up to 60 s: one poll took 15 s on a 2-core machine at load 25; right after a
# renewal the new ID's first report can carry zeros until the SS's next poll
# of its coopnet-nfq: the largest value seen counts)
last=0
grown() {
	local v
	v=$(s2c)
	[[ $v =~ ^[0-9]+$ ]] && ((v > last)) && last=$v
	[ $((last - before)) -ge $((SIZE * 9 / 10)) ]
}
nb_ok "sp1's info_client for web1 grew by the download (reported by the SS)" \
	nb_wait_for "info_client bytes" 60 grown
delta=$((last - before))
echo "# info_client on sp1: $delta bytes service -> client for a $SIZE-byte file over $((ren1 - ren0)) renewals (SS $(ov_nfq_mode ss) mode)"
nb_ok "within 10% of the file's size: $delta" test "$delta" -le $((SIZE * 11 / 10))

# --- drops by reason per session (both modes; kernel mode: the drop rules' set drop_wrong):
# the attacker forges 5 replies of web1 (198.18.2.3:80 -> the client) with an ID that is
# neither web1's current nor its previous one; the SS drops them as wrong-ID on web1's session,
# and its info_client brings the count to sp1's `coopnetctl clients`.
FORGED=5
wrong_rows() { ov_ctl sp1 --json clients | python3 -c '
import json, sys
rows = [c["drops"]["wrong-id"] for c in json.load(sys.stdin) if c.get("role") == "session" and c.get("service") == "web1"]
print(max(rows) if rows else -1)'; }
wrong_info0=$(wrong_rows)
wrong_ss0=$(nfq_stat ss dropped_wrong_id)
bad=$(ov_ctl ss --json sessions | python3 -c '
import json, sys
used = {int(s["id"], 16) for s in json.load(sys.stdin)}  # (a previous ID: 1 in 65,535)
print(next(i for i in range(0x0101, 0xffff) if i not in used))')
nb_exec attacker ip route replace 198.18.1.0/24 via 198.18.2.1
nb_exec attacker python3 - "$FORGED" "$bad" <<'PY'
import socket, struct, sys
n, urg = int(sys.argv[1]), int(sys.argv[2])
src, dst = socket.inet_aton("198.18.2.3"), socket.inet_aton("198.18.1.2")
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(n):
    tcp = struct.pack("!HHIIBBHHH", 80, 40000 + i, 1000 + i, 1, 5 << 4, 0x10, 65535, 0, urg)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i, 0, 64, 6, 0, src, dst)
    s.sendto(ip + tcp, ("198.18.1.2", 0))
PY
forged_seen() {
	local v
	v=$(wrong_rows)
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge $((wrong_info0 + FORGED)) ]
}
nb_ok "sp1's info_client for web1 counts the $FORGED forged wrong-ID segments the SS dropped ($(ov_nfq_mode ss) mode)" \
	nb_wait_for "info_client wrong-id drops" 15 forged_seen
echo "# web1's wrong-ID drops in sp1's info_client: $wrong_info0 -> $(wrong_rows); the SS's dropped_wrong_id: $wrong_ss0 -> $(nfq_stat ss dropped_wrong_id) (forged ID $bad)"
nb_done
