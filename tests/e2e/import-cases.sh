#!/bin/sh
# s4lab import on the bad and unusual inputs of tests/data/cases (see its
# README): each file gets the behaviour named there, the good files of the
# same run still import, nothing of a failed file is stored, and the exit
# status says whether everything imported.
set -u
S4LAB=${S4LAB:-src/s4lab}
data=${top_srcdir:-.}/tests/data
cases=$data/cases
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s4lab-import.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# Run s4lab import, keeping stdout, stderr and the exit status.
imp() {
	"$S4LAB" import "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cat "$tmp/out" "$tmp/err" >>"$tmp/log"
}

# The error line for a file must name it and give the reason.
says() {
	grep -F "$1" "$tmp/err" | grep -q -- "$2" ||
	    bad "no error naming $1 with \"$2\""
}

tiles() {
	"$S4LAB" stats "$1" | awk '/^tiles:/ { print $2 }'
}

# Labelled pixels of class $2 (or "(not labelled)") in project $1.
pixels() {
	"$S4LAB" stats "$1" | awk -v c="$2" '
	    c == "(not labelled)" && $1 == "(not" { print $3 }
	    $2 == c && NF >= 4 { print $3 }'
}

p=$tmp/cases.s4lab
"$S4LAB" init --classes "$cases/classes-test.json" "$p" >/dev/null ||
    { echo "FAIL: init" >&2; exit 1; }

# JPEGs: the damaged ones fail with their reason, in one batch with good
# files that import.
imp "$p" "$cases"/C0*.jpg
[ "$rc" -eq 1 ] || bad "a batch with bad files: exit $rc, want 1"
says C06-truncated-half.jpg truncated
says C06-truncated-progressive.jpg truncated
says C06-corrupt-middle.jpg corrupt
says C06-empty.jpg 'empty file'
says C06-png-named-jpg.jpg 'PNG data under a JPEG name'
says C07-bomb-65500x65500.jpg '65500x65500 is 4290.2 megapixels'
says C07-bomb-65500x65500.jpg 'limit of 100.0'
[ "$(grep -c . "$tmp/err")" -eq 6 ] || bad "other errors: $(cat "$tmp/err")"
grep -q 'imported 12 files' "$tmp/out" || bad "good JPEGs: $(cat "$tmp/out")"
grep -q '6 failed' "$tmp/out" || bad "failed count: $(cat "$tmp/out")"
# C03's three codings cut to the same tiles: two are skipped as identical.
# So is C01's YCCK copy, which decodes to the CMYK one's pixels exactly.
grep -q '3 identical tiles skipped' "$tmp/out" ||
    bad "identical tiles: $(cat "$tmp/out")"
# Tiles: C01 1+1-1, C03 1+1+1-2, C08 1+3+3, C09 2+12+6+6 = 35.
n=$(tiles "$p")
[ "$n" = 35 ] || bad "tiles after the JPEG batch: $n, want 35"

# Importing the same files again changes nothing and is no failure.
imp "$p" "$cases"/C01-*.jpg "$cases"/C09-*.jpg
[ "$rc" -eq 0 ] || bad "re-import: exit $rc"
grep -q '6 files already in the project' "$tmp/out" ||
    bad "re-import: $(cat "$tmp/out")"
[ "$(tiles "$p")" = 35 ] || bad "re-import added tiles"

# The pixel limit is the user's, and the header decides.
m=$tmp/limit.s4lab
"$S4LAB" init --classes "$cases/classes-test.json" "$m" >/dev/null
imp --max-pixels 500000 "$m" "$data/import/images/C21-mask-void.jpg" \
    "$cases/C09-gray-scene-1000x700.jpg"
[ "$rc" -eq 1 ] || bad "--max-pixels: exit $rc"
says C09-gray-scene-1000x700.jpg '1000x700 is 0.7 megapixels'
grep -q 'imported 1 file' "$tmp/out" || bad "--max-pixels: $(cat "$tmp/out")"

# A bomb is refused in little memory (not under AddressSanitizer, which
# reserves terabytes of address space).  OpenBLAS and OpenMP start their
# thread pools when the program loads; in 120 MB of address space some of
# those threads cannot start and OpenBLAS may then hang at exit, so this
# check runs them with one thread, under a timeout.
if ! ldd "$S4LAB" 2>/dev/null | grep -q asan; then
	( ulimit -v 120000; OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
	    timeout 60 "$S4LAB" import "$p" \
	    "$cases/C07-bomb-65500x65500.jpg" ) >/dev/null 2>"$tmp/err"
	says C07-bomb limit
fi

# Masks: pictures named after the mask cases, masks matched by name.
q=$tmp/masks.s4lab
"$S4LAB" init --classes "$cases/classes-test.json" "$q" >/dev/null
imp --user tester --masks "$cases" "$q" "$data/import/images"
[ "$rc" -eq 1 ] || bad "masks with bad ones: exit $rc, want 1"
says C16-mask-rgb-unknown-colours.png '4 colours of no class'
says C16-mask-rgb-unknown-colours.png '#8429F6 (768 px, first at x='
says C16-mask-rgb-unknown-colours.png 'make a new project (init --classes)'
says C21-mask-bad-index.png '9 (16 px, first at x='
says C21-mask-bad-index.png '254 (4 px, first at x='
[ "$(grep -c . "$tmp/err")" -eq 2 ] || bad "mask errors: $(cat "$tmp/err")"
grep -q 'imported 6 files: 6 tiles (6 cut losslessly), 5 labelled' \
    "$tmp/out" || bad "masks: $(cat "$tmp/out")"
grep -q '1 without a mask' "$tmp/out" || bad "no mask: $(cat "$tmp/out")"
[ "$(tiles "$q")" = 6 ] || bad "a file with a bad mask left tiles"
# Four C16 masks of 768 px per class, and C21's void one.
[ "$(pixels "$q" background)" = 3840 ] || bad "background pixels"
[ "$(pixels "$q" building-intact)" = 3840 ] || bad "intact pixels"
[ "$(pixels "$q" building-destroyed)" = 3456 ] || bad "destroyed pixels"
[ "$(pixels "$q" water)" = 3072 ] || bad "water pixels"
[ "$(pixels "$q" '(not labelled)')" = 1152 ] || bad "void pixels"

# Real scenes with colour-coded and palette masks.
if [ -d "${top_srcdir:-.}/samples/images" ]; then
	r=$tmp/samples.s4lab
	"$S4LAB" init --classes "${top_srcdir:-.}/samples/classes.txt" \
	    "$r" >/dev/null
	imp --masks "${top_srcdir:-.}/samples/masks" "$r" \
	    "${top_srcdir:-.}/samples/images"
	[ "$rc" -eq 0 ] || bad "samples: exit $rc: $(cat "$tmp/err")"
	grep -q 'imported 12 files: 156 tiles (156 cut losslessly), 156 lab' \
	    "$tmp/out" || bad "samples: $(cat "$tmp/out")"
fi

# Two imports of the same scenes at once: each scene is imported by one of
# them and counted by the other as already in the project.
if [ -d "${top_srcdir:-.}/samples/images" ]; then
	r=$tmp/twice.s4lab
	"$S4LAB" init "$r" >/dev/null
	for k in 1 2; do
		"$S4LAB" import "$r" "${top_srcdir:-.}/samples/images" \
		    >"$tmp/twice$k" 2>&1 &
	done
	wait
	cat "$tmp/twice1" "$tmp/twice2" >>"$tmp/log"
	sed -n 's/^imported \([0-9]*\) file.*/\1/p' "$tmp/twice1" \
	    "$tmp/twice2" >"$tmp/n"
	sed -n 's/.*; \([0-9]*\) files* already.*/\1/p' "$tmp/twice1" \
	    "$tmp/twice2" >>"$tmp/n"
	[ "$(awk '{ s += $1 } END { print s }' "$tmp/n")" = 24 ] ||
	    bad "two imports: $(cat "$tmp/twice1" "$tmp/twice2")"
	[ "$(sed -n 1,2p "$tmp/n" | awk '{ s += $1 } END { print s }')" = 12 ] ||
	    bad "two imports both imported: $(cat "$tmp/twice1" "$tmp/twice2")"
	[ "$(tiles "$r")" = 156 ] || bad "two imports: tiles"
fi

# A project that stays busy: the files that found it busy, and the ones
# not tried after three of them, are named; the summary is printed.
if [ -d "${top_srcdir:-.}/samples/images" ] &&
    python3 -c 'import sqlite3' 2>/dev/null; then
	r=$tmp/busy.s4lab
	"$S4LAB" init "$r" >/dev/null
	python3 -c '
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(20)
db.execute("COMMIT")' "$r" "$tmp/locked" &
	locker=$!
	n=0
	while [ ! -e "$tmp/locked" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	S4LAB_BUSY_TIMEOUT=1 imp "$r" "${top_srcdir:-.}/samples/images"
	kill "$locker" 2>/dev/null
	wait "$locker" 2>/dev/null
	[ "$rc" -eq 1 ] || bad "busy project: exit $rc"
	grep -q 'imported 0 files.*; 12 failed' "$tmp/out" ||
	    bad "busy project: summary: $(cat "$tmp/out")"
	[ "$(grep -c 'image_part_0[0-9]*\.jpg: not imported: .*busy' \
	    "$tmp/err")" = 12 ] || bad "busy project: $(cat "$tmp/err")"
	grep -q 'another s4lab' "$tmp/err" && bad "busy: blames s4lab"
	[ "$(tiles "$r")" = 0 ] || bad "busy project: tiles"
fi

# The command line.
"$S4LAB" import "$p" >/dev/null 2>&1
[ $? -eq 2 ] || bad "no PATH: exit 2"
"$S4LAB" import --max-pixels 0 "$p" "$cases" >/dev/null 2>&1
[ $? -eq 2 ] || bad "--max-pixels 0: exit 2"
"$S4LAB" import --masks "$tmp/none" "$p" "$cases" >/dev/null 2>&1
[ $? -eq 2 ] || bad "--masks of no directory: exit 2"
imp "$tmp/missing.s4lab" "$cases/C08-1x1.jpg"
[ "$rc" -eq 1 ] || bad "missing project: exit $rc"
[ -e "$tmp/missing.s4lab" ] && bad "import created a project"
imp "$p" "$tmp/no-such-file.jpg"
[ "$rc" -eq 1 ] || bad "missing file: exit $rc"
says no-such-file.jpg 'No such file'

# A short-palette mask whose colours are not the project's class colours
# is read by index, and the user is told so; in the right project, not.
scene=$top_srcdir/samples/images/tile2_image_part_002.jpg
"$S4LAB" init "$tmp/xbd.s4lab" >/dev/null
imp "$tmp/xbd.s4lab" --masks "$top_srcdir/samples/masks" "$scene"
[ "$rc" -eq 0 ] || bad "palette read by index: exit $rc"
says tile2_image_part_002.png 'read as class indices'
"$S4LAB" init --classes "$top_srcdir/samples/classes.txt" \
    "$tmp/dubai.s4lab" >/dev/null
imp "$tmp/dubai.s4lab" --masks "$top_srcdir/samples/masks" "$scene"
[ "$rc" -eq 0 ] || bad "palette read by colour: exit $rc"
[ -s "$tmp/err" ] && bad "palette read by colour: $(cat "$tmp/err")"

[ $fail -eq 0 ] || { echo "--- output of the runs:" >&2; cat "$tmp/log" >&2; }
exit $fail
