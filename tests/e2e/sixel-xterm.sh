#!/bin/sh
# Sixel in a real terminal: xterm in VT340 mode under Xvfb draws a real
# aerial tile at a known cell (tests/tools/showframe: probe, compose,
# sixel), a screenshot is taken, and the image found in it must match the
# composed frame within a tolerance.
#
# Tolerance: a mean absolute error of 6 levels per channel.  The palette
# (256 colours, median cut over 15-bit bins, stated as percentages in the
# sixel) costs about 2-3 levels on these tiles; a missing, shifted or
# wrongly coloured image costs tens.  The image must also be within 2
# pixels of where its cell puts it.  The screenshot is kept in
# tests/out/sixel-xterm.png (and -mask.png for the one with a mask).
: "${top_srcdir:=.}" "${top_builddir:=.}"
: "${S4LAB:=$top_builddir/src/s4lab}"
for tool in Xvfb xterm import convert; do
	command -v $tool >/dev/null 2>&1 || { echo "no $tool: skipped"; exit 77; }
done
showframe="$top_builddir/tests/tools/showframe"
data="$top_srcdir/tests/data"
out="$top_builddir/tests/out"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s4lab-sixel.XXXXXX") || exit 1
xpid=
tpid=
cleanup() {
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Xvfb picks a free display itself (-displayfd) and says which; no TCP.
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -nolisten inet6 \
    3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xpid=$!
i=0
until [ -s "$tmp/display" ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$tmp/xvfb.log"; echo "Xvfb did not start"; exit 1; }
done
n=$(cat "$tmp/display")
export DISPLAY=:$n
# xterm sets TERM; a tmux the tests run in must not leak into it.
unset TMUX STY

# run NAME SHOT [showframe options]: draw, shoot, compare.
run() {
	name=$1
	shot=$2
	shift 2
	mkdir -p "$tmp/$name"
	xterm -geometry 100x45+0+0 -ti vt340 \
	    -xrm 'XTerm*decTerminalID: vt340' \
	    -xrm 'XTerm*numColorRegisters: 256' \
	    -e "$showframe" -o "$tmp/$name" -r 2 -c 3 -t 60 "$@" &
	tpid=$!
	i=0
	until [ -e "$tmp/$name/ready" ]; do
		sleep 0.1
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "$name: showframe never drew"
			return 1
		fi
	done
	sleep 0.7	# let xterm paint
	import -window root "$out/$shot" || return 1
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	tpid=
	convert "$out/$shot" "$tmp/$name/shot.ppm" || return 1
	echo "$name: $(cat "$tmp/$name/probe.txt")"
	grep -q 'sixel=1 ' "$tmp/$name/probe.txt" ||
	    { echo "$name: DA1 did not announce sixel"; return 1; }
	grep -q 'renderer=sixel' "$tmp/$name/probe.txt" ||
	    { echo "$name: sixel not chosen"; return 1; }
	cw=$(sed 's/.*cell=\([0-9]*\)x.*/\1/' "$tmp/$name/probe.txt")
	ch=$(sed 's/.*cell=[0-9]*x\([0-9]*\) .*/\1/' "$tmp/$name/probe.txt")
	row=$(sed 's/.* at=\([0-9]*\),.*/\1/' "$tmp/$name/probe.txt")
	col=$(sed 's/.* at=[0-9]*,\([0-9]*\)$/\1/' "$tmp/$name/probe.txt")
	[ "$cw" -gt 0 ] && [ "$ch" -gt 0 ] ||
	    { echo "$name: no cell size"; return 1; }
	# Without a window manager xterm's text starts after its 1-pixel
	# window border and 2-pixel inner border.
	"$showframe" -x "$tmp/$name/shot.ppm" "$tmp/$name/ref.ppm" \
	    $((3 + col * cw)) $((3 + row * ch)) 12 6.0 || return 1
}

fail=0
run plain sixel-xterm.png "$data/aerial-256.jpg" || fail=1
run mask sixel-xterm-mask.png -C -s 512 -m "$data/aerial-256-mask.png" \
    "$data/aerial-256.jpg" || fail=1

# An image ending in the row above the last must not scroll the screen:
# it is found where it was put (a scroll would move it up by a cell).
run bottom sixel-xterm-bottom.png -b "$data/aerial-256.jpg" || fail=1

# A small change redrawn alone (sixel_enc_region) lands where the whole
# image has it: the frame around it, 8 pixels each side, matches.
region() {
	run update sixel-xterm-update.png -u 41,53,101,95 \
	    "$data/aerial-256.jpg" || return 1
	set -- $(cat "$tmp/update/region.txt")
	"$showframe" -x "$tmp/update/shot.ppm" "$tmp/update/ref-region.ppm" \
	    $((3 + col * cw + $1)) $((3 + row * ch + $2)) 12 6.0
}
region || fail=1

# The real TUI, where s4lab has label and import: a one-tile project with
# the tile's mask as its label (the sample classes), s4lab label
# --graphics sixel; its sixel log line says where the image went and how
# large the frame was.  The reference is the tile with its mask at the
# TUI's opening opacity, 50%.
tui() {
	if ! "$S4LAB" label --help >/dev/null 2>&1 ||
	    ! "$S4LAB" import --help >/dev/null 2>&1; then
		echo "tui: s4lab has no label or import command yet: skipped"
		return 0
	fi
	mkdir -p "$tmp/tui/masks"
	cp "$data/aerial-256-mask.png" "$tmp/tui/masks/aerial-256.png"
	"$S4LAB" init --classes "$top_srcdir/samples/classes.txt" \
	    "$tmp/tui/p.s4lab" >/dev/null || return 1
	"$S4LAB" import --masks "$tmp/tui/masks" "$tmp/tui/p.s4lab" \
	    "$data/aerial-256.jpg" >/dev/null || return 1
	(cd "$tmp/tui" && exec xterm -geometry 100x45+0+0 -ti vt340 \
	    -xrm 'XTerm*decTerminalID: vt340' \
	    -xrm 'XTerm*numColorRegisters: 256' \
	    -e "$S4LAB" -vsixel label --graphics sixel p.s4lab) &
	tpid=$!
	i=0
	until grep -qs ' at [0-9]*,[0-9]*: ' "$tmp"/tui/s4lab-*.log; do
		sleep 0.1
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "tui: no sixel image was written"
			return 1
		fi
	done
	sleep 1
	import -window root "$out/sixel-xterm-tui.png" || return 1
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	tpid=
	line=$(grep -h ' at [0-9]*,[0-9]*: ' "$tmp"/tui/s4lab-*.log | tail -1)
	echo "tui: $line"
	size=$(echo "$line" | sed 's/.* \([0-9]*x[0-9]*\) at .*/\1/')
	row=$(echo "$line" | sed 's/.* at \([0-9]*\),.*/\1/')
	col=$(echo "$line" | sed 's/.* at [0-9]*,\([0-9]*\):.*/\1/')
	convert "$out/sixel-xterm-tui.png" "$tmp/tui/shot.ppm" || return 1
	"$showframe" -R "$tmp/tui/ref.ppm" "$size" "$data/aerial-256.jpg" \
	    "$data/aerial-256-mask.png" 0.5 || return 1
	# The TUI draws its cursor over the tile: a few pixels more error.
	"$showframe" -x "$tmp/tui/shot.ppm" "$tmp/tui/ref.ppm" \
	    $((3 + col * cw)) $((3 + row * ch)) 12 6.0
}
tui || fail=1

# The check can fail: the plain screen does not hold the masked frame.
if "$showframe" -x "$tmp/plain/shot.ppm" "$tmp/mask/ref.ppm" 21 29 12 6.0
then
	echo "control: a frame that was not drawn was found"
	fail=1
fi
exit $fail
