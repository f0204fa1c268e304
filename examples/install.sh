#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# examples/install.sh RUNDIR: the sample configurations of examples/ into RUNDIR/HOST/, with
# @RUN@ and @TOP@ replaced; data folders; secret files of mode 0600 in RUNDIR/secrets.
# Used by scripts/demo.sh and tests/netns/vnic-e2e.test.
set -euo pipefail
EX=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$EX/.." && pwd)
RUN=${1:?usage: install.sh RUNDIR}
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
chmod 755 "$RUN"
for host in ss header sp1 sp2; do
	mkdir -p "$RUN/$host"
	for f in "$EX/$host"/*; do
		[ -f "$f" ] || continue
		sed -e "s|@RUN@|$RUN|g" -e "s|@TOP@|$TOP|g" "$f" >"$RUN/$host/$(basename "$f")"
	done
	if [ -d "$EX/$host/www" ]; then
		cp -r "$EX/$host/www" "$RUN/$host/"
		mkdir -p "$RUN/$host/vhosts" "$RUN/$host/apache"
	fi
done
# secrets: never in the configuration files, never readable by group or others
mkdir -p "$RUN/secrets"
chmod 700 "$RUN/secrets"
(
	umask 077
	head -c32 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$RUN/secrets/group.key"
	echo >>"$RUN/secrets/group.key"
	printf '%s\n' "correct horse battery staple" >"$RUN/secrets/office.pass"
	printf '%s\n' "branch office, second floor" >"$RUN/secrets/branch.pass"
)
chmod 600 "$RUN/secrets/group.key" "$RUN/secrets/office.pass" "$RUN/secrets/branch.pass"
