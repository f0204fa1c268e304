#!/usr/bin/env bash
# scripts/deb-install-check.sh PKG.deb EMPTY-FOLDER: run by scripts/deb-check.sh inside `unshare --mount`.
# Puts overlays (upper layer on a tmpfs) on /etc, /usr and /var of this private mount
# namespace, then: dpkg -i the package (its postinst creates the user "coopnet",
# /var/lib/coopnet 0700 and /etc/coopnet), checks the installed files and runs what an
# administrator would (-n on the installed examples, man -l, systemd-analyze verify);
# dpkg --purge, and checks that everything the package and its scripts created is gone.
# Nothing leaves the namespace. Prints TAP-like "ok"/"not ok" lines; exit 1 on a failure.
set -uo pipefail
deb=$1 scratch=${2:?usage: deb-install-check.sh PKG.deb EMPTY-FOLDER}
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >"$scratch/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/#   /' "$scratch/out" | tail -20; fi; }
gone() { [ ! -e "$1" ] && [ ! -L "$1" ]; }

[ "$(id -u)" = 0 ] || { echo "deb-install-check: run as root (scripts/deb-check.sh does)" >&2; exit 1; }
# a tmpfs on the caller's empty folder (the mount is private to this namespace and goes with
# it): the overlays' upper layers and our files
[ -d "$scratch" ] && [ -z "$(ls -A "$scratch")" ] || { echo "deb-install-check: $scratch: not an empty folder" >&2; exit 1; }
mount -t tmpfs -o mode=0755,size=512m coopnet-deb "$scratch" || exit 1
cp "$deb" "$scratch/pkg.deb"
for d in etc usr var $([ -L /lib ] || echo lib); do
	mkdir -p "$scratch/$d.up" "$scratch/$d.work"
	mount -t overlay "coopnet-$d" \
		-o "lowerdir=/$d,upperdir=$scratch/$d.up,workdir=$scratch/$d.work" "/$d" ||
		{ echo "deb-install-check: cannot put an overlay on /$d" >&2; exit 1; }
done
# the package's scripts must not reach a service manager or this machine's sessions
export SYSTEMD_OFFLINE=1 DEBIAN_FRONTEND=noninteractive

if getent passwd coopnet >/dev/null; then
	echo "ok - # SKIP this machine has a user coopnet already: the user checks would mean nothing"
	had_user=1
fi
check "dpkg -i $(dpkg-deb -f "$scratch/pkg.deb" Package)_$(dpkg-deb -f "$scratch/pkg.deb" Version)" \
	dpkg -i "$scratch/pkg.deb"
check "dpkg: installed" bash -c "dpkg-query -W -f='\${Status}' coopnet | grep -qx 'install ok installed'"
[ -n "${had_user:-}" ] || check "postinst: system user coopnet" \
	bash -c 'u=$(getent passwd coopnet) && [ "$(echo "$u" | cut -d: -f3)" -lt 1000 ]'
check "postinst: /var/lib/coopnet, mode 0700" test "$(stat -c %a /var/lib/coopnet)" = 700
check "postinst: /etc/coopnet" test -d /etc/coopnet
for f in /usr/sbin/coopnet-authd /usr/sbin/coopnet-nfq /usr/sbin/coopnetctl; do
	check "installed: $f" test -x "$f"
done
check "coopnetctl --version (installed)" /usr/sbin/coopnetctl --version
run=$scratch/run
check "examples/install.sh (installed)" bash /usr/share/doc/coopnet/examples/install.sh "$run"
for h in ss header sp1 sp2; do
	check "coopnet-authd -n on the installed $h example" /usr/sbin/coopnet-authd -n -c "$run/$h/authd.json"
done
for h in ss sp1 sp2; do
	check "coopnet-nfq -n on the installed $h example" /usr/sbin/coopnet-nfq -n -c "$run/$h/nfq.json"
done
n=0
for p in /usr/share/man/man[58]/coopnet*; do
	n=$((n + 1))
	check "man -l $(basename "$p") (installed)" bash -c "out=\$(MANWIDTH=80 man --warnings -l '$p' 2>&1 >/dev/null); \
		[ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
check "seven man pages installed" test "$n" = 7
for u in coopnet-authd coopnet-nfq; do
	check "systemd-analyze verify $u.service (installed, real paths)" bash -c \
		"out=\$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no /lib/systemd/system/$u.service 2>&1 |
			grep -v -e ConditionPathExists -e 'bound to inactive'); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
# what the daemon adds at run time, which purge must take away too
echo x >/var/lib/coopnet/authd.db
check "dpkg --purge coopnet" dpkg --purge coopnet
check "dpkg: not installed any more" bash -c "! dpkg-query -W -f='\${Status}' coopnet 2>/dev/null | grep -q installed"
for f in /usr/sbin/coopnet-authd /usr/sbin/coopnet-nfq /usr/sbin/coopnetctl \
	/lib/systemd/system/coopnet-authd.service /lib/systemd/system/coopnet-nfq.service \
	/usr/share/man/man8/coopnet-authd.8.gz /usr/share/coopnet /usr/share/doc/coopnet \
	/var/lib/coopnet /etc/coopnet; do
	check "purged: $f gone" gone "$f"
done
[ -n "${had_user:-}" ] || check "purged: user coopnet gone" bash -c "! getent passwd coopnet"
[ -n "${had_user:-}" ] || check "purged: group coopnet gone" bash -c "! getent group coopnet"
echo "# dpkg -i and --purge ran in a private mount namespace (overlays on /etc /usr /var)"
[ "$fails" = 0 ]
