#!/bin/sh
# s4lab label driven in a private tmux server, with the half-block renderer:
# the status line and the help screen read right; keys paint, undo, redo,
# fill and mark done; the stored mask is exactly what the keys paint, as
# tests/e2e/tui-expect.py computes it on its own; reopening shows the tile
# done; kill -9 mid-stroke loses nothing committed; a second TUI sees the
# first one's label; the terminal is given back on quit and on SIGTERM.
set -u

command -v tmux >/dev/null 2>&1 || { echo "no tmux"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }

tool="$top_builddir/tests/tools/tuitool"
expect="$top_srcdir/tests/e2e/tui-expect.py"
scene="$top_srcdir/tests/data/aerial-256.jpg"
tmp=$(mktemp -d)
# The server's socket goes in the scratch folder, so it goes with it.
T="env TMUX_TMPDIR=$tmp tmux -L s4labtest$$ -f /dev/null"
p="$tmp/p.s4lab"

cleanup()
{
	$T kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail()
{
	echo "FAIL: $*"
	echo "--- screen of window ${win:-0}:"
	$T capture-pane -p -t "${win:-0}" 2>/dev/null | sed 's/\xe2\x96\x80/#/g'
	exit 1
}

screen()
{
	$T capture-pane -p -t "$win" 2>/dev/null
}

# Wait (up to 20 s: the machine may be busy) until the screen of $win
# shows a fixed string.
wait_for()
{
	i=0
	while [ $i -lt 200 ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "timed out waiting for: $1"
}

# Wait until the screen of $win no longer shows a fixed string.
wait_gone()
{
	i=0
	while [ $i -lt 200 ]; do
		screen | grep -qF -- "$1" || return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "still shown: $1"
}

# Send keys to $win, one argument each.
keys()
{
	$T send-keys -t "$win" "$@"
}

# Start s4lab label in $win with extra arguments; its pid goes to $tmp/pid.$win.
label()
{
	rm -f "$tmp/pid.$win"
	keys "sh -c 'echo \$\$ > $tmp/pid.$win; exec $S4LAB label" \
	    " --graphics blocks $*'; echo tui-exit=\$?" Enter
	wait_for "? help"
}

check_mask()
{
	"$tool" mask "$p" "$1" > "$tmp/got" || fail "tuitool mask $1"
	shift
	python3 "$expect" 64 64 "$@" > "$tmp/want" || fail "tui-expect"
	if ! cmp -s "$tmp/got" "$tmp/want"; then
		diff "$tmp/want" "$tmp/got" | head -n 20
		fail "stored mask differs from the painted one"
	fi
}

# Restored: no alternate screen, no mouse reporting, a visible cursor,
# the keypad and cursor keys in normal mode.
check_restored()
{
	flags=$($T display -p -t "$win" '#{alternate_on} #{mouse_any_flag}'\
' #{cursor_flag} #{keypad_flag} #{keypad_cursor_flag}')
	[ "$flags" = "0 0 1 0 0" ] || fail "terminal not restored: $flags"
	wait_for "tuitest\$"
}

# A project with sixteen 64x64 tiles cut from a real aerial scene.
"$S4LAB" init "$p" --preset xbd --tile-size 64 >/dev/null || fail "init"
"$S4LAB" import "$p" "$scene" >/dev/null || fail "import"

# A tile id too large for any integer is refused before the terminal.
"$S4LAB" label --tile 99999999999999999999 "$p" > "$tmp/out" 2>&1 < /dev/null
[ $? -eq 2 ] || fail "label --tile 99999999999999999999: not a usage error"
grep -qF "bad tile id: 99999999999999999999" "$tmp/out" ||
    fail "label --tile 99999999999999999999: $(cat "$tmp/out")"

$T new-session -d -x 100 -y 40 "env PS1='tuitest\$ ' sh" || fail "tmux"
win=0
sleep 0.2

# The first tile, its status line, the help screen.
label --user tester "$p"
status=" tile 1  new  saved | [1] no-damage  brush 2  32,32 |"
status="$status aerial-256.jpg +0,0  no label"
screen | grep -qF "$status" || fail "status line"
screen | grep -qF "Queue disagreement    1/16" || fail "side panel queue"
screen | grep -qF "no-damage" || fail "side panel classes"
$T resize-window -t "$win" -x 100 -y 24
keys "?"
wait_for "s4lab label: keys (page 1 of 2"
for k in "C-r" "Space" "0-9" "move the cursor 16 pixels left"; do
	screen | grep -qF "$k" || fail "help lists no $k"
done
screen | grep -qF "$(printf "\342\226\200")" &&
    fail "the image shows through the help"
keys Space
wait_for "page 2 of 2; any key to close"
screen | grep -qF "q C-c      save and quit" || fail "help lists no q"
keys Space
wait_gone "s4lab label: keys"
wait_for "? help"
$T resize-window -t "$win" -x 100 -y 40
wait_for "Queue disagreement    1/16"

# Paint: a dab, two strokes, an erasing stroke, a fill undone, redone and
# undone again, a one-pixel dab of class 4.  Then done, then quit.
set -- Enter l l l l Space l l l l l j j Space 2 H Space K Space \
    e L Space J Space 3 f u C-r u "[" "[" 4 Enter
keys "$@"
wait_for "saved (revision 9)"
screen | grep -qF "aerial-256.jpg +0,0  tester r9" || fail "author and revision"
keys d
wait_for "tile 1 done"
wait_for "tile 2  new  saved"
screen | grep -qF "aerial-256.jpg +64,0  no label" || fail "tile 2 status"
keys q
wait_for "tui-exit=0"
check_restored
check_mask 1 "$@"
[ "$("$tool" info "$p" 1)" = "1 9 tester" ] || fail "tile 1 info"

# Reopen: the head of the queue is tile 2; go to tile 1: it is done.
# Ctrl-C quits.
label --user tester "$p"
screen | grep -qF "tile 2  new" || fail "queue head after done"
keys g
wait_for "go to tile id:"
keys 1 Enter
wait_for "tile 1  done  saved"
screen | grep -qF "aerial-256.jpg +0,0  tester r9" || fail "tile 1 reopened"
keys C-c
wait_for "tui-exit=0"
check_restored

# kill -9 with a stroke open: the two strokes before it are all there.
keys clear Enter
label --user tester "$p"
set -- Enter J Space L Space
keys "$@"
wait_for "saved (revision 2)"
keys Space h h h h
wait_for "tile 2  new  painting"
kill -9 "$(cat "$tmp/pid.$win")"
wait_for "tui-exit=137"
check_mask 2 "$@" Space h h h h
[ "$(sqlite3 "$p" 'pragma integrity_check')" = ok ] || fail "integrity"
$T new-window -d -t 1 "env PS1='tuitest\$ ' sh"
$T kill-window -t 0
win=1
sleep 0.2

# Two experts: A fills tile 3; B, already open, moves to it and sees it.
label --user alice --tile 3 "$p"
$T new-window -d -t 2 "env PS1='tuitest\$ ' sh"
win=2
sleep 0.2
label --user bob --tile 2 "$p"
win=1
keys 0 f
wait_for "fill saved (revision 1)"
win=2
keys n
wait_for "aerial-256.jpg +128,0  alice r1"
screen | grep -qF "background      100.0%" || fail "B sees no fill"
keys Enter
wait_for "saved (revision 2)"
[ "$("$tool" info "$p" 3)" = "0 2 bob" ] || fail "tile 3 info"

# Both on tile 3, each with a view of it the other has since changed: A
# dabs class 3 at (0,0); B, whose view is still revision 1, dabs class 4
# at (48,48); A dabs again at (32,32).  Each save lands on the newest
# revision, so no dab is lost, and each status shows the stored revision.
pixel()
{
	"$tool" mask "$p" 3 | awk -v x="$1" -v y="$2" \
	    'NR == y + 2 { print substr($0, 2 * x + 1, 2) }'
}
win=1
keys 3 H H K K Enter
wait_for "stroke saved (revision 3)"
screen | grep -qF "alice r3" || fail "A's status after revision 3"
win=2
keys 4 L J Enter
wait_for "stroke saved (revision 4)"
screen | grep -qF "bob r4" || fail "B's status is not the stored revision"
win=1
keys L L J J Enter
wait_for "stroke saved (revision 5)"
screen | grep -qF "alice r5" || fail "A's status after revision 5"
[ "$(pixel 0 0)" = 03 ] || fail "A's first dab was lost"
[ "$(pixel 48 48)" = 04 ] || fail "B's dab was lost"
[ "$(pixel 32 32)" = 03 ] || fail "A's second dab is missing"
[ "$(pixel 20 20)" = 00 ] || fail "A's fill was lost"
[ "$(sqlite3 "$p" "SELECT group_concat(revision) FROM (SELECT revision
    FROM label_history WHERE tile_id = 3 ORDER BY revision)")" = 1,2,3,4,5 ] ||
    fail "history of tile 3"
[ "$(sqlite3 "$p" "SELECT count(*) FROM labels l JOIN label_history h
    ON h.tile_id = l.tile_id AND h.revision = l.revision AND
    h.mask = l.mask WHERE l.tile_id = 3")" = 1 ] ||
    fail "the label is not its newest history row"
win=2

# The mouse, as SGR reports: the 64x64 tile is drawn at scale 1 from cell
# (2, 3), so cell (c, r) is tile pixel (c - 2, 2 (r - 3) + 1).  The wheel
# makes the brush smaller; a drag from cell (10, 6) to (20, 6) paints.
keys g 4 Enter
wait_for "aerial-256.jpg +192,0  no label"
keys 2
mouse()
{
	$T send-keys -t "$win" -l "$(printf '\033[<%s' "$1")"
}
mouse "65;11;7M"
wait_for "brush 1"
mouse "0;11;7M"
mouse "32;16;7M"
mouse "32;21;7M"
mouse "0;21;7m"
wait_for "stroke saved (revision 1)"
check_mask 4 2 "[" @8,7 Space @13,7 @18,7 Space
# A fast drag off the right edge, over the panel, paints to the edge.
mouse "0;61;10M"
mouse "32;91;10M"
mouse "0;91;10m"
wait_for "stroke saved (revision 2)"
check_mask 4 2 "[" @8,7 Space @13,7 @18,7 Space @58,13 Space @63,13 Space

# A click on the panel: class 3's row (the list starts on row 1), then the
# queue's row for tile 5 (B's queue is 2 to 16, then 1, from row 10).
mouse "0;75;5M"
mouse "0;75;5m"
wait_for "| [3] major-damage  brush 1"
mouse "0;75;14M"
mouse "0;75;14m"
wait_for "tile 5  new  saved"

# A smaller screen: the layout follows; too narrow, the panel goes.
$T resize-window -t "$win" -x 80 -y 24
i=0
until screen | tail -n 1 | grep -qF "? help"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "status line not at the bottom at 80 columns"
	sleep 0.1
done
screen | grep -qF "Classes" || fail "no panel at 80 columns"
$T resize-window -t "$win" -x 60 -y 20
i=0
until screen | tail -n 1 | grep -qF "? help"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "status line at 60 columns"
	sleep 0.1
done
screen | grep -qF "Classes" && fail "a panel at 60 columns"
# Larger again, then quit: nothing of the image is left on the normal
# screen or in its history.
$T resize-window -t "$win" -x 120 -y 40
wait_for "Classes"
keys q
wait_for "tui-exit=0"
check_restored
$T capture-pane -p -S - -t "$win" | grep -qF "$(printf "\342\226\200")" &&
    fail "the image was left on the normal screen"

# SIGTERM: the terminal is given back.
win=1
kill -TERM "$(cat "$tmp/pid.$win")"
wait_for "tui-exit=143"
check_restored

# The model's side, on a project whose tiles all have labels from a mask
# and a model trained for two steps: v shows the label, the prediction or
# both; a accepts the prediction (the stored label is then exactly it); u
# takes it back; t queues a retrain (no trainer, so it waits) and its
# cancellation shows.
mkdir "$tmp/md"
cp "$top_srcdir/tests/data/aerial-256-mask.png" "$tmp/md/aerial-256.png"
m="$tmp/m.s4lab"
"$S4LAB" init "$m" --tile-size 64 \
    --classes "$top_srcdir/tests/data/classes/good/dubai-aerial.json" \
    >/dev/null || fail "init m"
"$S4LAB" import "$m" "$scene" --masks "$tmp/md" >/dev/null || fail "import m"
nice "$S4LAB" train --wait --steps 2 --threads 1 "$m" >/dev/null 2>&1 ||
    fail "train"
"$tool" mask "$m" 1 > "$tmp/label1" || fail "tuitool mask m"
"$tool" pred "$m" 1 > "$tmp/pred1" || fail "tuitool pred m"
label --user tester --tile 1 --no-trainer "$m"
wait_for "this tile: done"
keys v
wait_for "showing label"
keys v
wait_for "showing prediction"
keys v
wait_for "showing both"
keys a
wait_for "accept saved"
"$tool" mask "$m" 1 > "$tmp/got"
cmp -s "$tmp/got" "$tmp/pred1" || fail "the accepted label is not the prediction"
keys u
wait_for "undo saved"
"$tool" mask "$m" 1 > "$tmp/got"
cmp -s "$tmp/got" "$tmp/label1" || fail "undo of accept"
keys t
wait_for "retrain queued: job 2"
wait_for "train job 2 queued, waiting for a trainer"
"$S4LAB" jobs --cancel 2 "$m" >/dev/null || fail "jobs --cancel"
wait_for "train job 2 cancelled"
keys q
wait_for "tui-exit=0"

# A corrupt label on tile 7: n from tile 6 opens it anyway, read-only,
# with the error on the message line; painting there writes nothing; n
# again moves on.
sqlite3 "$p" "INSERT INTO labels (tile_id, mask, revision, author, mtime)
    VALUES (7, x'0102030405', 1, 'x', 0)" || fail "corrupt label"
label --user tester --tile 6 "$p"
keys n
wait_for "read-only, the label cannot be read: $tmp"
wait_for "tile 7  new  read-only"
keys Enter
wait_for "its label cannot be read; painting is off"
[ "$(sqlite3 "$p" "SELECT hex(mask) || revision FROM labels
    WHERE tile_id = 7")" = 01020304051 ] || fail "the corrupt label changed"
keys n
wait_for "tile 8  new  saved"
# Tile 9 gets the JPEG of a 32x32 tile: refused, with the sizes said.
"$S4LAB" init "$tmp/s.s4lab" --preset xbd --tile-size 32 >/dev/null &&
    "$S4LAB" import "$tmp/s.s4lab" "$scene" >/dev/null || fail "project s"
sqlite3 "$p" "ATTACH '$tmp/s.s4lab' AS s; UPDATE tiles SET jpeg =
    (SELECT jpeg FROM s.tiles WHERE id = 1) WHERE id = 9" || fail "swap"
keys n
wait_for "tile 9: the image is 32x32, the tile 64x64"
# SIGHUP (the terminal went away): the terminal is given back all the same.
kill -HUP "$(cat "$tmp/pid.$win")"
wait_for "tui-exit=129"
check_restored

# Classes whose keys are not their indices (the samples: keys 1-5 for
# classes 0-4): the status line, the panel and the messages name a class by
# its key, and a digit chooses by key, never by index.
"$S4LAB" init "$tmp/k.s4lab" --tile-size 64 \
    --classes "$top_srcdir/samples/classes.txt" >/dev/null || fail "init k"
"$S4LAB" import "$tmp/k.s4lab" "$scene" >/dev/null || fail "import k"
keys "export COLORTERM=truecolor" Enter
label --user tester --tile 1 "$tmp/k.s4lab"
screen | grep -qF "saved | [2] building  brush 2" || fail "status names no key"
# The swatches in the classes' own colours: vegetation #fedd3a, water
# #e2a929 (eight colours would show both as yellow).
sw=$($T capture-pane -e -p -t "$win")
for c in "254;221;58" "226;169;41"; do
	printf '%s' "$sw" | grep -qF "48;2;$c" || fail "no swatch in $c"
done
screen | grep -qE "^.*│ +3 +road " || fail "panel: road's key is not 3"
keys 3
wait_for "class [3] road"
screen | grep -qF "saved | [3] road  brush 2" || fail "3 chose no road"
keys 0
wait_for "no class has the key 0"
keys Enter
wait_for "stroke saved (revision 1)"
[ "$("$tool" mask "$tmp/k.s4lab" 1 | awk 'NR == 34 { print substr($0, 65, 2) }')" = 02 ] ||
    fail "3 painted no road (class 2)"
# The message line follows: n forgets the stroke's message, ] says the
# brush.
keys n
wait_for "tile 2  new  saved"
msgline() { screen | tail -n 2 | head -n 1; }
msgline | grep -qF "stroke saved" && fail "the message outlived n"
keys "]"
i=0
until msgline | grep -q "^brush 3 "; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "] says nothing on the message line"
	sleep 0.1
done
keys q
wait_for "tui-exit=0"

# Sixel (tmux shows none, but s4lab writes it all the same): after the
# first whole image, cursor moves and a dab send only the cells around
# them (the log says what each image cost).
keys "cd $tmp && sh -c 'echo \$\$ > $tmp/pid.$win; exec $S4LAB -vui,sixel" \
    " label --graphics sixel --user tester --tile 1 $tmp/k.s4lab'" \
    "; echo tui-exit=\$?; cd /" Enter
wait_for "? help"
keys l l l l
wait_for "36,32 |"
keys Enter
wait_for "stroke saved (revision 2)"
keys q
wait_for "tui-exit=0"
log=$(ls "$tmp"/s4lab-*.log)
[ "$(grep -c ' part ' "$log")" -ge 5 ] || fail "no partial redraws: $log"
grep ' at [0-9]*,[0-9]*: ' "$log" | sed 's/.*, \([0-9]*\) bytes.*/\1/' |
    awk 'NR == 1 { whole = $1; next }
	$1 * 4 > whole { print "part of " $1 " bytes, whole " whole; bad = 1 }
	END { exit bad || NR < 6 }' || fail "a stroke sent too much"

# A file name with an escape sequence in it shows cleaned, and does not
# set the window title.
evil="$tmp/$(printf 'evil\033]2;pwned\007.jpg')"
cp "$scene" "$evil"
"$S4LAB" init "$tmp/e.s4lab" --tile-size 64 >/dev/null || fail "init e"
"$S4LAB" import "$tmp/e.s4lab" "$evil" >/dev/null 2>&1 || fail "import e"
label "$tmp/e.s4lab"
wait_for "evil?]2;pwned?.jpg +0,0"
case "$($T display -p -t "$win" '#{pane_title}')" in
*pwned*)
	fail "a file name set the window title"
	;;
esac
keys q
wait_for "tui-exit=0"
echo "ok"
exit 0
