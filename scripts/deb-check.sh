#!/usr/bin/env bash
# scripts/deb-check.sh: build the Debian package from `make dist`'s tarball, lintian it, unpack
# it into a scratch root (dpkg -x: this machine is shared, nothing is installed into /) and
# check what it installed: the daemons' -n on the installed example configurations, man -l on
# the installed pages, systemd-analyze verify on the installed units, the maintainer scripts'
# user and folders; then installs it for real (dpkg -i) and purges it in a private mount
# namespace (scripts/deb-install-check.sh). Run from a configured tree (scripts/test.sh does);
# about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
tmp=$(mktemp -d /tmp/coopnet-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/#   /' "$tmp/out" | tail -20; fi; }

make -s dist >/dev/null
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' config.h)
tar -xzf "coopnet-$version.tar.gz" -C "$tmp"
rm -f "coopnet-$version.tar.gz"
src=$tmp/coopnet-$version
[ -d "$src/debian" ] || { echo "deb-check: the tarball has no debian/" >&2; exit 1; }
# the unit tests ran already (make check); the package build skips them
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
	>"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log"
	echo "deb-check: dpkg-buildpackage failed" >&2
	exit 1
fi
deb=$(ls "$tmp"/coopnet_*.deb)
ok "dpkg-buildpackage -us -uc -b: $(basename "$deb")"
check "lintian: no error" lintian --fail-on error --suppress-tags \
	initial-upload-closes-no-bugs "$deb"
lintian --no-tag-display-limit "$deb" 2>/dev/null | sed 's/^/# lintian: /' || true

root=$tmp/root
dpkg -x "$deb" "$root"
for f in usr/sbin/coopnet-authd usr/sbin/coopnet-nfq usr/sbin/coopnetctl \
	lib/systemd/system/coopnet-authd.service lib/systemd/system/coopnet-nfq.service \
	usr/share/coopnet/schemas/authd.schema.json usr/share/coopnet/schemas/policy.schema.json \
	usr/share/coopnet/schemas/nfq.schema.json usr/share/coopnet/nft-rules/supervisor-kernel.nft \
	usr/share/coopnet/nft-rules/provider.nft usr/share/doc/coopnet/examples/install.sh \
	usr/share/doc/coopnet/policy/provider.json usr/share/doc/coopnet/authd.md.gz \
	usr/share/bash-completion/completions/coopnetctl; do
	[ -e "$root/$f" ] && ok "installs /$f" || bad "installs /$f"
done
check "coopnet-authd --version" "$root/usr/sbin/coopnet-authd" --version
check "default configuration under /etc" \
	bash -c "'$root/usr/sbin/coopnet-nfq' --help | grep -q '(default /etc/coopnet/nfq.json)'"

# the installed examples, filled in as examples/README.md says
run=$tmp/run
check "examples/install.sh" bash "$root/usr/share/doc/coopnet/examples/install.sh" "$run"
for h in ss header sp1 sp2; do
	check "coopnet-authd -n on the installed $h example" \
		"$root/usr/sbin/coopnet-authd" -n -c "$run/$h/authd.json"
done
for h in ss sp1 sp2; do
	check "coopnet-nfq -n on the installed $h example" \
		"$root/usr/sbin/coopnet-nfq" -n -c "$run/$h/nfq.json"
done

for p in "$root"/usr/share/man/man[58]/*; do
	n=$(basename "$p")
	check "man -l $n" bash -c "out=\$(MANWIDTH=80 man --warnings -l '$p' 2>&1 >/dev/null); \
		[ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
n=$(find "$root"/usr/share/man -name '*.[58].gz' | wc -l)
[ "$n" = 7 ] && ok "seven man pages" || bad "seven man pages (found $n)"

# verify checks that ExecStart= is executable: our binaries from the scratch root, the rest
# (nft, kill) from this machine
for u in coopnet-authd coopnet-nfq; do
	sed -E "s#^(Exec[A-Za-z]*=)(/usr/sbin/coopnet-)#\1$root\2#" \
		"$root/lib/systemd/system/$u.service" >"$tmp/$u.service"
	check "systemd-analyze verify $u.service (installed)" bash -c \
		"out=\$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no '$tmp/$u.service' 2>&1 |
			grep -v -e ConditionPathExists -e 'bound to inactive'); \
		[ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
dpkg-deb -I "$deb" postinst | grep -q 'adduser --system' && ok "postinst in the package" ||
	bad "postinst in the package"
dpkg-deb -I "$deb" postrm | grep -q 'rm -rf /var/lib/coopnet' && ok "postrm purges /var/lib/coopnet" ||
	bad "postrm purges /var/lib/coopnet"

# A real install and purge (dpkg -i, dpkg --purge) with the maintainer scripts, in a private
# mount namespace whose /etc, /usr and /var are overlays on a tmpfs: everything dpkg and the
# scripts write (the binaries, /etc/passwd, /var/lib/dpkg, /var/lib/coopnet) lands in the
# overlay and goes with the namespace; the machine (shared with other tests) is untouched.
if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
	cp "$deb" "$tmp/pkg.deb"
	mkdir "$tmp/installroot"
	if unshare --mount --propagation private bash "$top/scripts/deb-install-check.sh" \
		"$tmp/pkg.deb" "$tmp/installroot" >"$tmp/install.log" 2>&1; then
		grep -E '^(ok|# )' "$tmp/install.log"
	else
		cat "$tmp/install.log"
		bad "dpkg -i / dpkg --purge (scripts/deb-install-check.sh)"
	fi
else
	echo "ok - # SKIP dpkg -i / --purge: needs root and unshare"
fi
echo "# package: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version), $(du -k "$deb" | cut -f1) KiB"
[ "$fails" = 0 ]
