#!/bin/sh
# scripts/scdoc-man.sh IN.scd OUT sysconfdir localstatedir datadir docdir
# A man page from its scdoc source: the paths of this build substituted, then scdoc, then the
# paragraph macros scdoc puts where roff needs none (after .TH/.SH, before .SH/the end) removed,
# the one before .RE moved after it, so that `mandoc -Tlint -W warning` has nothing to say (tests/man.test).
set -eu
in=$1 out=$2
# a path may hold scdoc's markup characters (_inst in make distcheck): escape them
# (for scdoc: \_ \* \\), then for sed's replacement (\ | &)
esc() { printf '%s' "$1" | sed -e 's/[\\_*]/\\&/g' -e 's/[\\|&]/\\&/g'; }
sed -e "s|@SYSCONFDIR@|$(esc "$3")|g" -e "s|@LOCALSTATEDIR@|$(esc "$4")|g" \
	-e "s|@DATADIR@|$(esc "$5")|g" -e "s|@DOCDIR@|$(esc "$6")|g" "$in" >"$out.in-tmp"
${SCDOC:-scdoc} <"$out.in-tmp" >"$out.roff"
rm -f "$out.in-tmp"
awk '
	# hold each .P until the next line says whether roff needs it; a .P just before .RE
	# moves after it (the space between two items of a list)
	/^\.P$/ { if (prev ~ /^\.(TH|SH)/) next; held = 1; next }
	/^\.RE$/ { print; prev = $0; next }
	{
		if (held && $0 !~ /^\.(SH|P)( |$)/) print ".P"
		held = 0; print; prev = $0
	}' "$out.roff" >"$out.tmp"
rm -f "$out.roff"
mv "$out.tmp" "$out"
