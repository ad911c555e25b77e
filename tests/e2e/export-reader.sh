#!/bin/sh
# Export read back by an independent reader: a project made from samples/
# with s4lab init and import is exported as VOC and COCO, and
# read_export.py (python3, PIL and numpy; its own RLE decoding) checks
# every mask and picture against the project file.  Then the destination
# rules: a non-empty DIR is refused, --force replaces it, and an export
# that fails or is killed leaves DIR absent or as it was.
set -u
S4LAB=${S4LAB:-src/s4lab}
top_srcdir=${top_srcdir:-.}
samples=$top_srcdir/samples
reader=$top_srcdir/tests/e2e/read_export.py

# Debian's python3 has python3-pil and python3-numpy; a python3 earlier
# in PATH (pyenv, a venv) may not.
py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import numpy, PIL' >/dev/null 2>&1; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "SKIP: no python3 with PIL and numpy" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
exec 3>&2	# FAIL messages, also from where stderr is silenced
bad() {
	echo "FAIL: $*" >&3
	fail=1
}
# A listing of a tree with each file's checksum, to see that it is
# unchanged.
snap() {
	(cd "$1" && find . -type f -exec cksum {} + | sort)
}
# No temporary directory of an export is left beside DIR.
no_temp() {
	ls -a "$tmp" | grep -q '\.export-' &&
	    bad "$1: temporary left: $(ls -a "$tmp")"
	rm -rf "$tmp"/.*.export-*
}

p=$tmp/p.s4lab
"$S4LAB" init --classes "$samples/classes.txt" "$p" >/dev/null ||
    { echo "FAIL: init" >&2; exit 1; }
"$S4LAB" import "$p" "$samples/images" --masks "$samples/masks" \
    >"$tmp/import.out" || { cat "$tmp/import.out"; exit 1; }

# Some tiles not done, one of them without a label: --all must differ.
"$py" - "$p" <<'EOF' || bad "could not change the project"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE tiles SET state = 0 WHERE id IN (2, 3, 40)")
db.execute("DELETE FROM label_history WHERE tile_id = 40")
db.execute("DELETE FROM labels WHERE tile_id = 40")
db.commit()
EOF

# 1. VOC and COCO, done tiles, then every tile.
for fmt in voc coco; do
	"$S4LAB" export --format $fmt "$p" "$tmp/$fmt" >"$tmp/out" 2>&1 ||
	    bad "export $fmt: $(cat "$tmp/out")"
	"$py" "$reader" $fmt "$p" "$tmp/$fmt" || bad "reader $fmt"
	"$S4LAB" export --all --format $fmt "$p" "$tmp/$fmt-all" \
	    >"$tmp/out" 2>&1 || bad "export --all $fmt: $(cat "$tmp/out")"
	"$py" "$reader" $fmt --all "$p" "$tmp/$fmt-all" ||
	    bad "reader $fmt --all"
done
n=$(wc -l <"$tmp/voc/manifest.jsonl")
nall=$(wc -l <"$tmp/voc-all/manifest.jsonl")
[ "$n" -lt "$nall" ] || bad "--all exported $nall tiles, done only $n"
grep -q '"tile": 40,.*"labelled": false' "$tmp/voc-all/manifest.jsonl" ||
    bad "--all: tile 40 not listed as unlabelled"

# The same project exports to the same bytes.
"$S4LAB" export "$p" "$tmp/voc2" >/dev/null 2>&1 || bad "second export"
[ "$(snap "$tmp/voc")" = "$(snap "$tmp/voc2")" ] ||
    bad "two exports of one project differ"

# classes.json is a classes file s4lab init reads.
"$S4LAB" init --classes "$tmp/voc/classes.json" "$tmp/q.s4lab" \
    >/dev/null 2>&1 || bad "init --classes classes.json"

# The reader is not blind: one changed mask pixel is found.
cp -r "$tmp/voc" "$tmp/voc-bad"
"$py" - "$tmp/voc-bad" <<'EOF'
import glob, sys
import numpy as np
from PIL import Image
f = sorted(glob.glob(sys.argv[1] + "/SegmentationClass/*.png"))[0]
im = Image.open(f)
a = np.array(im)
a[0, 0] = (a[0, 0] + 1) % 5
out = Image.fromarray(a, "P")
out.putpalette(im.getpalette())
out.save(f)
EOF
"$py" "$reader" voc "$p" "$tmp/voc-bad" >/dev/null 2>&1 &&
    bad "reader accepted a changed mask"
rm -rf "$tmp/voc-bad"

# 2. A non-empty DIR is refused and left alone.
before=$(snap "$tmp/voc")
"$S4LAB" export --all "$p" "$tmp/voc" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] || bad "non-empty DIR: exit $rc, not 1"
grep -q 'voc: directory is not empty (--force replaces it)' "$tmp/out" ||
    bad "non-empty DIR: message: $(cat "$tmp/out")"
[ "$(snap "$tmp/voc")" = "$before" ] || bad "refused export changed DIR"
no_temp "refused export"
: >"$tmp/file"
"$S4LAB" export "$p" "$tmp/file" >"$tmp/out" 2>&1 &&
    bad "a file as DIR was accepted"
grep -q 'not a directory' "$tmp/out" || bad "file as DIR: $(cat "$tmp/out")"
mkdir "$tmp/empty"
"$S4LAB" export "$p" "$tmp/empty" >/dev/null 2>&1 ||
    bad "an empty DIR was refused"
[ -f "$tmp/empty/manifest.jsonl" ] || bad "empty DIR not filled"

# 3. --force replaces it, with nothing of the old dataset left.
touch "$tmp/voc/stale-file"
"$S4LAB" export --force --all "$p" "$tmp/voc" >"$tmp/out" 2>&1 ||
    bad "--force: $(cat "$tmp/out")"
[ -e "$tmp/voc/stale-file" ] && bad "--force kept a file of the old DIR"
"$py" "$reader" voc --all "$p" "$tmp/voc" || bad "reader after --force"
no_temp "--force"

# 4. Interrupted exports.
# a. Files may not grow past about 40 KB: more than the project's -shm
#    (32 KB) and any tile, less than manifest.jsonl (60 KB) and
#    annotations.json (400 KB), which outgrow it half way through.
#    ulimit -f counts blocks of 512 or 1024 bytes, depending on the shell.
(ulimit -f 1; trap '' XFSZ; head -c 2048 /dev/zero >"$tmp/unit") 2>/dev/null
blocks=$((40000 / $(wc -c <"$tmp/unit")))
rm -f "$tmp/unit"
for fmt in voc coco; do
	(ulimit -f $blocks && exec "$S4LAB" export --format $fmt "$p" \
	    "$tmp/new") >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] || bad "$fmt over the size limit: exit $rc"
	grep -q 'too large' "$tmp/out" || bad "size limit: $(cat "$tmp/out")"
	[ -e "$tmp/new" ] && bad "$fmt: failed export left $tmp/new"
	no_temp "failed $fmt export"
done
before=$(snap "$tmp/voc")
(ulimit -f $blocks && exec "$S4LAB" export --force "$p" "$tmp/voc") \
    >/dev/null 2>&1 && bad "--force over the size limit succeeded"
[ "$(snap "$tmp/voc")" = "$before" ] || bad "failed --force changed DIR"
no_temp "failed --force export"

# b. A label that cannot be read (the last tile's) fails the export late.
cp "$p" "$tmp/broken.s4lab"
"$py" - "$tmp/broken.s4lab" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE labels SET mask = x'00112233' WHERE tile_id = "
           "(SELECT max(tile_id) FROM labels)")
db.commit()
EOF
"$S4LAB" export "$tmp/broken.s4lab" "$tmp/new" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] || bad "corrupt label: exit $rc"
grep -q 'label of tile [0-9]*: mask data is corrupt' "$tmp/out" ||
    bad "corrupt label: $(cat "$tmp/out")"
[ -e "$tmp/new" ] && bad "corrupt label: export left $tmp/new"
no_temp "corrupt label"

# c. SIGTERM and SIGKILL at staggered moments: DIR is either complete or
#    absent (SIGTERM also removes the temporary; SIGKILL cannot).
whole=0
cut=0
for sig in TERM KILL; do
	for d in 0.02 0.05 0.1 0.2 0.4; do
		rm -rf "$tmp/new" "$tmp"/.new.export-*
		"$S4LAB" export --format coco "$p" "$tmp/new" \
		    >/dev/null 2>&1 &
		pid=$!
		sleep $d
		kill -$sig $pid 2>/dev/null
		wait $pid
		rc=$?
		if [ -e "$tmp/new" ]; then
			whole=$((whole + 1))
			[ $rc -eq 0 ] || bad "$sig after $d s: exit $rc and DIR"
			"$py" "$reader" coco "$p" "$tmp/new" >/dev/null ||
			    bad "$sig after $d s: DIR incomplete"
		elif [ $sig = TERM ]; then
			# 143: it came before the handler; nothing was written.
			cut=$((cut + 1))
			[ $rc -eq 1 ] || [ $rc -eq 143 ] ||
			    bad "TERM after $d s: exit $rc"
			no_temp "TERM after $d s"
		else
			cut=$((cut + 1))
		fi
	done
done 2>/dev/null
echo "killed exports: $cut cut short, $whole complete"
exit $fail
