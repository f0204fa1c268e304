# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# An SP group in namespaces (docs/groups.md): used by tests/netns/balance.test and
# bench/failover.sh (source tests/netns/lib.sh first).
#
#   clients 198.18.4.0/22, 2001:db8:4::/64 -- ss (router) -- [wan 198.18.2.0/24, 2001:db8:2::/64]
#       -- h1 (.2), h2 (.6): header SPs with the same group; sp1 (.3), sp2 (.4), sp3 (.5):
#       the same service "web" (Apache on a vNIC .11/.21/.31), weights 50/30/20
#   The clients dial ONE address, 198.19.0.10:80 (web) or [2001:db8:19::10]:80 (web6); the SS
#   DNATs each client's connections to the relay of the SP of its session.
#
#   gr_topology, gr_install, gr_start_sp N, gr_start_header N, gr_start_ss
#   gr_ctl HOST ARGS      coopnetctl against HOST's authd
#   gr_client_addr I      the I-th client address (I = 0..1000; gr_topology adds
#                         0..GR_CLIENT_ADDRS - 1, default 460)
#   gr_get I [URL]        curl from client address I; prints the page ("web on spN")
#   gr_kill_sp N          SIGKILL of sp N's coopnet-authd (parent and engine), coopnet-nfq
#                         and Apache
#   gr_failover N ACTION LABEL   a client of sp N (from $GR_PAGES) connects in a loop, ACTION
#                         after 1 s: checks that new connections move to another SP for good
#
#   GR_SS_NFQ_MODE, GR_SP_NFQ_MODE   kernel | queue (the SS: queue, the SPs: kernel)
#   GR_MEMBERSHIP=1       the group application: each SP signs heartbeats (its services'
#                         health) to both headers, which skip a member down or its vNIC down
#   GR_HEALTH_MS=MS       the web vNIC's HTTP health check every MS ms, one result decides
#   GR_SS_RTO_MS=MS       the SS's timing.rto_ms (default 500): a low one makes exchanges
#                         outlast it, as load does (how the retransmission rule was examined)

GR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GR_AUTHD=$GR_TOP/authd/coopnet-authd
GR_NFQ=$GR_TOP/nfq/coopnet-nfq
GR_CTL=$GR_TOP/ctl/coopnetctl
GR_WEIGHTS=${GR_WEIGHTS:-50 30 20}
GR_SS_NFQ_MODE=${GR_SS_NFQ_MODE:-queue}
GR_SP_NFQ_MODE=${GR_SP_NFQ_MODE:-kernel}
if [ -z "${GR_RUN:-}" ]; then
	GR_RUN=$(mktemp -d /tmp/coopnet-group.XXXXXX)
	chmod 755 "$GR_RUN"
	GR_RUN_OWNED=1
fi
gr_cleanup() {
	local n
	for n in 1 2 3; do
		gr_stop_apache "$n"
	done
	[ -z "${GR_RUN_OWNED:-}" ] || rm -rf "$GR_RUN"
}
nb_at_cleanup gr_cleanup

gr_stop_apache() {
	local pidf=$GR_RUN/sp$1/apache/apache2.pid pid
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidf"
}

gr_client_addr() { # I: 198.18.4.10 + I
	local i=$(($1 + 10))
	echo "198.18.$((4 + i / 256)).$((i % 256))"
}

gr_topology() {
	local n f
	nb_host client || return 1
	nb_router ss || return 1
	nb_host h1 || return 1
	nb_host h2 || return 1
	for n in 1 2 3; do
		nb_host "sp$n" || return 1
	done
	nb_bridge wan || return 1
	nb_link client ss --v4 198.18.4.2/22 198.18.4.1/22 --v6 2001:db8:4::2/64 2001:db8:4::1/64 \
		--ifa lan0 || return 1
	# the client's addresses: one ip batch
	f=$GR_RUN/client-addrs
	for i in $(seq 0 $((${GR_CLIENT_ADDRS:-460} - 1))); do
		echo "addr add $(gr_client_addr "$i")/22 dev lan0"
	done >"$f"
	ip -n "$(nb_ns client)" -batch "$f" || return 1
	nb_bridge_port wan ss --v4 198.18.2.1/24 --v6 2001:db8:2::1/64 || return 1
	nb_bridge_port wan h1 --v4 198.18.2.2/24 || return 1
	nb_bridge_port wan h2 --v4 198.18.2.6/24 || return 1
	for n in 1 2 3; do
		nb_bridge_port wan "sp$n" --v4 "198.18.2.$((n + 2))/24" --v6 "2001:db8:2::$((n + 2))/64" \
			--if wan0 || return 1
		nb_route "sp$n" 198.18.4.0/22 198.18.2.1 || return 1
		nb_route "sp$n" 2001:db8:4::/64 2001:db8:2::1 || return 1
	done
	nb_route client default 198.18.4.1 || return 1
	nb_route client default 2001:db8:4::1 || return 1
	# a virtual service address is routed (to where it is DNATed from): a SYN without a
	# session reaches the forward hook (coopnet-nfq's session-miss), where the SS's guard drops it
	nb_exec ss ip route add 198.19.0.0/24 via 198.18.2.3 &&
		nb_exec ss ip -6 route add 2001:db8:19::/64 via 2001:db8:2::3
}

# The configurations, generated (python3: JSON, no hand-written quoting).
gr_install() {
	mkdir -p "$GR_RUN/secrets" && chmod 700 "$GR_RUN/secrets" || return 1
	(
		umask 077
		head -c32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$GR_RUN/secrets/group.key"
		printf '%s\n' "correct horse battery staple" >"$GR_RUN/secrets/office.pass"
	) || return 1
	local n
	if [ -n "${GR_MEMBERSHIP:-}" ]; then
		for n in 1 2 3; do
			mkdir -p "$GR_RUN/sp$n"
			"$GR_CTL" membership keygen "$GR_RUN/secrets/sp$n.sign" >"$GR_RUN/secrets/sp$n.pub" || return 1
		done
	fi
	GR_MEMBERSHIP=${GR_MEMBERSHIP:-} GR_HEALTH_MS=${GR_HEALTH_MS:-} GR_SS_RTO_MS=${GR_SS_RTO_MS:-} \
		python3 - "$GR_RUN" "$GR_SS_NFQ_MODE" "$GR_SP_NFQ_MODE" $GR_WEIGHTS <<'PY'
import json, os, sys
run, ss_mode, sp_mode = sys.argv[1:4]
weights = [int(w) for w in sys.argv[4:7]]
membership = bool(os.environ["GR_MEMBERSHIP"])
health_ms = int(os.environ["GR_HEALTH_MS"] or 0)
def pub(h):
    return open(f"{run}/secrets/{h}.pub").read().strip()
def put(host, name, obj):
    os.makedirs(f"{run}/{host}/db", exist_ok=True)
    with open(f"{run}/{host}/{name}", "w") as f:
        json.dump(obj, f, indent=1)
def authd(host, roles, listen, nfq=True, timing=None):
    put(host, "authd.json", {"roles": roles, "listen": [listen], "policy": f"{run}/{host}/policy.json",
        "database": f"{run}/{host}/db/authd.db", "control_socket": f"{run}/{host}/authd.sock",
        "nfq_socket": f"{run}/{host}/nfq.sock" if nfq else "", "kdf": "interactive",
        **({"timing": timing} if timing else {})})
pw = f"{run}/secrets/office.pass"
sps = [(n, f"198.18.2.{n + 2}", f"2001:db8:2::{n + 2}") for n in (1, 2, 3)]
# SS: one virtual address per family, the three SPs as members
rto = int(os.environ["GR_SS_RTO_MS"] or 0)
authd("ss", ["supervisor"], "198.18.2.1", timing={"rto_ms": rto} if rto else None)
put("ss", "policy.json", {"supervisor": {
    "headers": [{"address": "198.18.2.2"}, {"address": "198.18.2.6"}],
    "services": [
        {"name": "web", "address": "198.19.0.10", "port": 80,
         "members": [{"sp": a4} for _, a4, _ in sps]},
        {"name": "web6", "address": "2001:db8:19::10", "port": 80,
         "members": [{"sp": a4, "address": a6} for _, a4, a6 in sps]}],
    "clients": [
        {"name": "office", "address": "198.18.4.0/22", "services": ["web"], "passcode_file": pw},
        {"name": "office6", "address": "2001:db8:4::/64", "services": ["web6"], "passcode_file": pw}]}})
put("ss", "nfq.json", {"role": "supervisor", "mode": ss_mode, "queue": {"num": 0, "count": 1},
    "services": [{"address": "198.19.0.10", "port": 80}, {"address": "2001:db8:19::10", "port": 80}]
              + [{"address": a, "port": 80} for _, a4, a6 in sps for a in (a4, a6)],
    "strip": True, "control_socket": f"{run}/ss/nfq.sock", "miss_hold_ms": 3000})
# headers: the same group
for h, addr in (("h1", "198.18.2.2"), ("h2", "198.18.2.6")):
    authd(h, ["header"], addr, nfq=False)
    group = [{"address": a4, "weight": w, "services": ["web", "web6"]}
             for (_, a4, _), w in zip(sps, weights)]
    if membership:
        for (n, _, _), m in zip(sps, group):
            m.update(name=f"sp{n}", public_key=pub(f"sp{n}"))
    put(h, "policy.json", {"group_key_file": f"{run}/secrets/group.key", "header": {
        "balance": "weighted", "group": group}})
for n, a4, a6 in sps:
    h = f"sp{n}"
    v4, v6 = f"198.18.2.{n}1", f"2001:db8:2::{n}1"
    authd(h, ["provider"], a4)
    os.makedirs(f"{run}/{h}/www/web", exist_ok=True)
    os.makedirs(f"{run}/{h}/vhosts", exist_ok=True)
    os.makedirs(f"{run}/{h}/apache", exist_ok=True)
    with open(f"{run}/{h}/www/web/index.html", "w") as f:
        f.write(f"web on {h}\n")
    with open(f"{run}/{h}/apache2.conf", "w") as f:
        f.write(f'''ServerRoot "/etc/apache2"
ServerName {h}.group.invalid
PidFile "{run}/{h}/apache/apache2.pid"
DefaultRuntimeDir "{run}/{h}/apache"
Mutex file:{run}/{h}/apache default
ErrorLog "{run}/{h}/apache/error.log"
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
DirectoryIndex index.html
<Directory />
	AllowOverride None
	Require all denied
</Directory>
IncludeOptional "{run}/{h}/vhosts/coopnet-*.conf"
''')
    web = {"name": "web", "port": 80, "apache": True}
    if health_ms:
        web["health"] = {"check": "http", "interval_ms": health_ms, "timeout_ms": health_ms * 4 // 5,
                         "rise": 1, "fall": 1}
    provider = {"membership": {"name": h, "interval_ms": 200, "signing_key_file": f"{run}/secrets/{h}.sign",
                               "headers": [{"address": "198.18.2.2"}, {"address": "198.18.2.6"}]}} \
        if membership else {}
    put(h, "policy.json", {"group_key_file": f"{run}/secrets/group.key", "provider": {**provider,
        "vnic_parent": "wan0", "relay": [a4, a6],
        "apache": {"vhost_dir": f"{run}/{h}/vhosts", "config": f"{run}/{h}/apache2.conf",
                   "log_dir": f"{run}/{h}/apache"},
        "vnics": [{"name": "web", "address": f"{v4}/24", "addresses": [f"{v6}/64"],
                   "data_folder": f"{run}/{h}/www/web",
                   "services": [web, {"name": "web6", "port": 80}]}],
        "clients": [
            {"name": "office", "address": "198.18.4.0/22", "services": ["web"], "passcode_file": pw},
            {"name": "office6", "address": "2001:db8:4::/64", "services": ["web6"], "passcode_file": pw}],
        "id_lifetime": 3600}})
    put(h, "nfq.json", {"role": "provider", "mode": sp_mode, "queue": {"num": 0, "count": 1},
        "services": [{"address": v4, "port": 80}, {"address": v6, "port": 80}],
        "control_socket": f"{run}/{h}/nfq.sock"})
PY
	chmod 600 "$GR_RUN/secrets/group.key" "$GR_RUN/secrets/office.pass"
	chmod -R a+rX "$GR_RUN"/sp*/www
}

gr_ctl() { # HOST ARGS...
	local host=$1
	shift
	"$GR_CTL" --socket "$GR_RUN/$host/authd.sock" --nfq-socket "$GR_RUN/$host/nfq.sock" "$@"
}

gr__start_nfq() { # HOST RULEFILE NAME
	nb_exec "$1" nft -f "$GR_TOP/nft-rules/$2" || return 1
	rm -f "$GR_RUN/$1/nfq.sock"
	nb_bg "$1" "$3" "$GR_NFQ" -v --config "$GR_RUN/$1/nfq.json" || return 1
	nb_wait_for "coopnet-nfq on $1" 10 test -S "$GR_RUN/$1/nfq.sock"
}

gr__start_authd() { # HOST NAME
	nb_bg "$1" "$2" "$GR_AUTHD" -d -f "$GR_RUN/$1/authd.json" || return 1
	nb_wait_for "coopnet-authd on $1" 20 gr_ctl "$1" status >/dev/null
}

# gr_start_sp N [TAG]: TAG names a restart's processes (nb_bg names are used once)
gr_start_sp() {
	local h=sp$1 tag=${2:-}
	if [ "$GR_SP_NFQ_MODE" = kernel ]; then
		gr__start_nfq "$h" provider-kernel.nft "nfq-$h$tag" || return 1
	else
		gr__start_nfq "$h" provider.nft "nfq-$h$tag" || return 1
	fi
	gr__start_authd "$h" "authd-$h$tag"
}

gr_start_header() { gr__start_authd "h$1" "authd-h$1"; }

gr_start_ss() {
	local a
	if [ "$GR_SS_NFQ_MODE" = kernel ]; then
		gr__start_nfq ss supervisor-kernel.nft nfq-ss || return 1
	else
		gr__start_nfq ss supervisor.nft nfq-ss || return 1
	fi
	# the overlay: the virtual addresses (session-miss) and the members (the sessions)
	a="198.19.0.10 . 80, 198.18.2.3 . 80, 198.18.2.4 . 80, 198.18.2.5 . 80"
	nb_exec ss nft add element inet coopnet overlay4 "{ $a }" || return 1
	a="2001:db8:19::10 . 80, 2001:db8:2::3 . 80, 2001:db8:2::4 . 80, 2001:db8:2::5 . 80"
	nb_exec ss nft add element inet coopnet overlay6 "{ $a }" || return 1
	gr__start_authd ss authd-ss
}

gr_get() { # I [URL]: the page, from client address I
	nb_exec client curl -sS --max-time "${GR_CURL_TIMEOUT:-3}" --interface "$(gr_client_addr "$1")" \
		"${2:-http://198.19.0.10/}"
}

# gr_kill_sp N: SIGKILL of the SP's daemons (authd's parent and engine, nfq) and Apache
gr_kill_sp() {
	local h=sp$1 tag=${2:-} p
	for p in "authd-$h$tag" "nfq-$h$tag"; do
		# nb_bg starts each in its own session and process group: the group, by its id
		kill -KILL -- "-$(nb_pid "$p")" 2>/dev/null || true
	done
	gr_stop_apache "$1"
}

# gr_failover N ACTION LABEL: a client of sp N (the first in $GR_PAGES, "i web on spN" lines)
# opens a new connection every 100 ms for 6 s ("ms_since_start page|FAILED" in
# $NB_RUNDIR/loop-LABEL); ACTION runs after 1 s. Fails unless a page came from another SP
# after ACTION, and from then on no new connection failed and none went to sp N. The timing
# goes to $NB_RUNDIR/loop-LABEL.summary.
gr__loop() { # I SECONDS T0FILE
	local i=$1 t0 end now
	t0=$(date +%s%N)
	echo "$t0" >"$3"
	end=$((t0 + $2 * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		now=$((($(date +%s%N) - t0) / 1000000))
		echo "$now $(nb_exec client curl -sS --max-time 1 --interface "$(gr_client_addr "$i")" http://198.19.0.10/ 2>/dev/null || echo FAILED)"
		sleep 0.1
	done
}
gr_failover() {
	local n=$1 action=$2 label=$3 c out lp first fails t_act
	c=$(awk -v n="sp$n" '$4 == n { print $1; exit }' <<<"$GR_PAGES")
	[ -n "$c" ] || { echo "no client on sp$n"; return 1; }
	out=$NB_RUNDIR/loop-$label
	gr__loop "$c" "${GR_LOOP_S:-6}" "$out.t0" >"$out" &
	lp=$!
	sleep 1
	t_act=$((($(date +%s%N) - $(cat "$out.t0")) / 1000000))
	$action
	wait "$lp"
	first=$(awk -v t="$t_act" '$1 > t && $2 == "web" && $4 != "sp'"$n"'" { print $1; exit }' "$out")
	[ -n "$first" ] || { echo "no page from another SP"; cat "$out"; return 1; }
	fails=$(awk -v t="$t_act" '$1 > t && $2 == "FAILED"' "$out" | wc -l)
	echo "$label: client $(gr_client_addr "$c") on sp$n: first page from another SP about $((first - t_act)) ms after, $fails new connection(s) failed before" >"$out.summary"
	if awk -v t="$first" '$1 >= t && $2 != "web"' "$out" | grep -q .; then
		echo "a new connection failed after the failover"; cat "$out"; return 1
	fi
	if awk -v t="$first" '$1 >= t' "$out" | grep -q "sp$n\$"; then
		echo "sp$n got a connection after the failover"; cat "$out"; return 1
	fi
}
