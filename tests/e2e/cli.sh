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
# Every message of a command starts "s4lab COMMAND: ", getopt's too; a
# bad option or a missing project gives one.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
for c in $cmds; do
	[ "$c" = version ] && continue
	"$S4LAB" "$c" --no-such-option "$tmp/none.s4lab" >/dev/null \
	    2>"$tmp/err"
	[ $? -eq 2 ] || bad "$c --no-such-option: exit 2"
	head -n 1 "$tmp/err" |
	    grep -q "^s4lab $c: \(unrecognized\|invalid\) option" ||
	    bad "$c: getopt's message: $(head -n 1 "$tmp/err")"
done
for c in stats export queue models jobs import train predict trainer; do
	x=
	case $c in export|import) x=$tmp/x ;; esac
	"$S4LAB" "$c" "$tmp/none.s4lab" $x >/dev/null 2>"$tmp/err"
	grep -v '^usage:' "$tmp/err" | head -n 1 |
	    grep -q "^s4lab $c: .*none.s4lab" ||
	    bad "$c: message prefix: $(cat "$tmp/err")"
done

# Arguments that look almost right are refused.
"$S4LAB" init --tile-size ' 64' "$tmp/p.s4lab" 2>/dev/null
[ $? -eq 2 ] || bad "init --tile-size ' 64': exit 2"
"$S4LAB" import --user '' "$tmp/p.s4lab" "$tmp" 2>/dev/null
[ $? -eq 2 ] || bad "import --user '': exit 2"
"$S4LAB" import --max-pixels ' 5' "$tmp/p.s4lab" "$tmp" 2>/dev/null
[ $? -eq 2 ] || bad "import --max-pixels ' 5': exit 2"
printf 'only #ff0000\n' >"$tmp/one.txt"
"$S4LAB" init --classes "$tmp/one.txt" "$tmp/p.s4lab" | grep -q ': 1 class (' ||
    bad "init: one class"
"$S4LAB" import --max-pixels 100 "$tmp/p.s4lab" \
    "${top_srcdir:-.}/samples/images/tile1_image_part_001.jpg" \
    >/dev/null 2>"$tmp/err"
grep -q 'more than the limit of 100 pixels' "$tmp/err" ||
    bad "--max-pixels 100: $(cat "$tmp/err")"

if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -W warning "$man" || bad "mandoc -Tlint $man"
fi
exit $fail
