#!/bin/sh
# The command line and the man page agree: every command answers --help,
# exits 2 on a bad option, and is documented in man/s4lab.1 with each of
# its long options.
set -u
S4LAB=${S4LAB:-src/s4lab}
man=${top_srcdir:-.}/man/s4lab.1
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

"$S4LAB" --version | grep -q '^s4lab [0-9]' || bad "--version"
"$S4LAB" --help >/dev/null || bad "--help exit status"
"$S4LAB" >/dev/null 2>&1; [ $? -eq 2 ] || bad "no command: exit 2"
"$S4LAB" no-such-command >/dev/null 2>&1; [ $? -eq 2 ] ||
    bad "unknown command: exit 2"

cmds=$("$S4LAB" --help | awk '/^commands:/ { on = 1; next }
    on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || bad "--help lists no commands"
for c in $cmds; do
	"$S4LAB" "$c" --help >/dev/null || bad "$c --help"
	"$S4LAB" "$c" --help | grep -q "^usage: s4lab $c" ||
	    bad "$c --help has no usage line"
	grep -q "^\.Tg $c$" "$man" ||
	    bad "man page has no entry for command $c"
	for o in $("$S4LAB" "$c" --help | grep -o -- '--[a-z][a-z-]*' |
	    sort -u); do
		[ "$o" = --help ] && continue
		grep -q "Fl -${o#--}\( \|$\)" "$man" ||
		    bad "man page lacks $c option $o"
	done
done
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -W warning "$man" || bad "mandoc -Tlint $man"
fi
exit $fail
