# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# balance.test's first phase (sourced by it; its helpers: pages, count_sessions, within,
# decisions, sum, counters_of, sp_web_sessions, sps_released): sp1 (weight 50) stalled during a
# burst of $M new clients (addresses 400..), before any client has a session (a stall of an SP
# that holds sessions would also be a failover: its status reports stop).
#
# coopnet-authd of sp1 (parent and engine) gets SIGSTOP, the burst starts, and sp1 stays
# stopped until every client of the burst has its session on the SS (at most 31 s), then
# SIGCONT. What an administrator checks (docs/groups.md, "Plural header SPs"):
#   - each REQ a header sent to sp1 went out again (`retransmit` >= sp1's decisions > 0: the
#     test fails when no retransmission happened); one kept at its header (`header-kept`) went
#     to another SP (`balance-retry-avoided` at least as many): every client got its page, none
#     from sp1; the live SPs share the burst as their weights (within 20% of M * weight / the
#     live SPs' weights);
#   - the headers made one decision per REQ (M + the retransmissions);
#   - sp1's late answers were released: `released` on the SS and the SPs agree, sp1 counts at
#     least one, has no exchange pending, no session and nothing in its data plane that its
#     database does not have (dp-compare); it gave none up (`timeout` unchanged);
#   - each client of the burst has exactly one session on the SS and one on exactly one SP, the
#     SP the SS's session names; no daemon died.
M=${GR_STALL_CLIENTS:-60} # more than 60: GR_CLIENT_ADDRS=$((400 + M)) too
STALL_FIRST=400
# shellcheck disable=SC2034 # balance.test joins the pages with it
NL=$'\n'

stall_pgid=$(nb_pid authd-sp1)
stall_cont() { kill -CONT -- "-$stall_pgid" 2>/dev/null || true; }
nb_at_cleanup stall_cont # a stopped process takes no SIGTERM
procs() { # the processes of each daemon's process group (nb_bg: one per daemon)
	local p
	for p in "$NB_RUNDIR"/pids/{authd,nfq}-*.pid; do
		echo "$(basename "$p" .pid) $(pgrep -c -g "$(nb_pid "$(basename "$p" .pid)")")"
	done
}
# shellcheck disable=SC2034 # a is the caller's array
snap() { # ARRAY: the group's counters (grstat.py) into the associative array ARRAY
	local -n a=$1
	local k v out
	out=$(python3 "$HERE/grstat.py" "$GR_RUN" "$GR_CTL") || return 1
	while read -r k v; do a["$k"]=$v; done <<<"$out"
}
declare -A B A # before, after
PROCS0=$(procs)
snap B || nb__die "grstat.py failed"

at "stall: before"
kill -STOP -- "-$stall_pgid"
pages "$STALL_FIRST" "$M" >"$NB_RUNDIR/stall-pages" &
STALL_GET=$!
all_in() { [ "$(count_sessions)" -ge $((B[ss_sessions] + M)) ]; }
nb_ok "sp1 stopped: all $M clients of the burst got a session (through the live SPs)" \
	nb_wait_for "$M sessions with sp1 stopped" $((25 + M / 10)) all_in
# every session exists: what sp1 answers from now on is late
at "stall: $M sessions"
stall_cont
wait "$STALL_GET"
STALL_PAGES=$(cat "$NB_RUNDIR/stall-pages")
nb_is "every client of the burst got a page" "$(grep -c ' web on sp' <<<"$STALL_PAGES")" "$M"
nb_is "none from the stalled sp1" "$(grep -c ' web on sp1$' <<<"$STALL_PAGES")" 0

# sp1 answers its queued REQs now: each answer is released (Auth-RST released)
released_agree() {
	snap A &&
		[ $((A[ss_released] - B[ss_released])) -gt 0 ] && [ "${A[sp1_pending]}" -eq 0 ] &&
		[ $((A[ss_released] - B[ss_released])) -eq \
			$((A[sp1_released] + A[sp2_released] + A[sp3_released] - B[sp1_released] - B[sp2_released] - B[sp3_released])) ]
}
nb_ok "sp1's late answers released: released on the SS and the SPs agree, sp1 has none pending" \
	nb_wait_for "releases" 20 released_agree
at "stall: released"
snap A
d() { echo $((A[$1] - B[$1])); } # KEY: how much it grew
RETX=$(d ss_retransmit) D1=$(d dec_sp1) SP1REL=$(d sp1_released)
echo "# stall: ss retransmit $RETX, header-kept $(d ss_header_kept), header-next $(d ss_header_next);" \
	"decisions sp1 $D1, sp2 $(d dec_sp2), sp3 $(d dec_sp3); retry-avoided $(d avoided)"
echo "# stall: ss released $(d ss_released); sp1 released $SP1REL of its $D1 decisions," \
	"sp2 $(d sp2_released), sp3 $(d sp3_released)"
nb_ok "retransmissions happened: each REQ sent to sp1 went out again ($RETX >= $D1 > 0)" \
	test "$D1" -gt 0 -a "$RETX" -ge "$D1"
# a retransmission kept at its header reaches the header that chose sp1 for it: another SP
nb_ok "each retransmission kept at its header went to another SP (balance-retry-avoided >= header-kept > 0)" \
	test "$(d ss_header_kept)" -gt 0 -a "$(d avoided)" -ge "$(d ss_header_kept)"
nb_is "the headers made one decision per REQ: $M clients + $RETX retransmissions" \
	"$(($(d dec_sp1) + $(d dec_sp2) + $(d dec_sp3)))" "$((M + RETX))"
for n in 2 3; do
	w=$(eval echo "\$W$n")
	got=$(grep -c " web on sp$n\$" <<<"$STALL_PAGES")
	echo "# stall: sp$n served $got of $M clients (weight $w of the live SPs' $((W2 + W3)))"
	nb_ok "sp$n's share within 20% of its weight among the live SPs" \
		within "$got" "$(python3 -c "print($M * $w / ($W2 + $W3))")"
done
# a REQ can reach sp1 twice (a retransmission through the other header, which chooses anew):
# one exchange at sp1, one release
nb_ok "sp1 released at least one answer, at most one per decision for it" \
	test "$SP1REL" -ge 1 -a "$SP1REL" -le "$D1"
nb_is "sp1 gave no exchange up (timeout)" "$(d sp1_timeout)" 0
nb_is "sp1 holds no session of the burst" "$(d sp1_web)" 0
nb_ok "sp1's data plane holds what its database holds (dp-compare)" gr_ctl sp1 dp-compare
one_each() { # every client of the burst: one session on the SS, one on exactly that SP
	local f=$NB_RUNDIR/stall-sessions
	{
		gr_ctl ss --json sessions && for n in 1 2 3; do gr_ctl "sp$n" --json sessions; done
	} >"$f" || return 1
	python3 - "$f" "$STALL_FIRST" "$M" <<'PY'
import json, sys
f, first, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dec = json.JSONDecoder()
text, docs, i = open(f).read(), [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    d, i = dec.raw_decode(text, i)
    docs.append(d)
ss, sps = docs[0], docs[1:]
def addr(k):
    k += 10
    return f"198.18.{4 + k // 256}.{k % 256}"
bad = []
for k in range(first, first + m):
    c = addr(k)
    rows = [s for s in ss if s["client"] == c and s["service_name"] == "web"]
    at = [n + 1 for n, sp in enumerate(sps) for s in sp if s["client"] == c and s["service_name"] == "web"]
    if len(rows) != 1 or len(at) != 1 or rows[0]["service"] != f"198.18.2.{at[0] + 2}":
        bad.append(f"{c}: SS {[r['service'] for r in rows]}, SPs {at}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
nb_ok "each client of the burst: one session on the SS, one on exactly its SP" one_each
for h in ss sp2 sp3; do
	nb_ok "$h's data plane holds what its database holds (dp-compare)" gr_ctl "$h" dp-compare
done
nb_is "no daemon died (processes per daemon as before the stall)" "$(procs)" "$PROCS0"
