#!/bin/sh
# s4lab init and s4lab stats on real files: presets, classes files, the
# refusals and their exit statuses, and pixel counts of stored labels.
set -u
: "${S4LAB:?}" "${top_srcdir:?}"
command -v python3 >/dev/null 2>&1 || exit 77

dir=$(mktemp -d "${TMPDIR:-/tmp}/init-stats.XXXXXX")
trap 'rm -rf "$dir"' EXIT
data="$top_srcdir/tests/data/classes"
fail=0

# Run a command; its exit status must be want.
check() {
	want=$1
	shift
	"$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $* exited $got, wanted $want" >&2
		cat "$dir/out" "$dir/err" >&2
		fail=1
	fi
}

# The last stderr must contain a string.
said() {
	if ! grep -qF -- "$1" "$dir/err"; then
		echo "FAIL: stderr lacks \"$1\":" >&2
		cat "$dir/err" >&2
		fail=1
	fi
}

check 0 "$S4LAB" init "$dir/x.s4lab"
check 1 "$S4LAB" init "$dir/x.s4lab"
said "x.s4lab: already exists"
check 0 "$S4LAB" init --preset rescuenet --tile-size 512 "$dir/r.s4lab"
check 0 "$S4LAB" init --classes "$data/good/samples.txt" "$dir/s.s4lab"
check 0 "$S4LAB" init -c "$data/good/classes-test.json" "$dir/t.s4lab"

# Refusals: nothing is left behind.
check 1 "$S4LAB" init --classes "$data/bad/same-colour.txt" "$dir/b.s4lab"
said "same-colour.txt: line 3:"
check 2 "$S4LAB" init --preset nope "$dir/b.s4lab"
said "unknown preset"
check 2 "$S4LAB" init --tile-size 100 "$dir/b.s4lab"
check 2 "$S4LAB" init --preset xbd --classes "$data/good/samples.txt" \
    "$dir/b.s4lab"
check 2 "$S4LAB" init
check 2 "$S4LAB" stats
check 0 "$S4LAB" init --help
[ -e "$dir/b.s4lab" ] && { echo "FAIL: b.s4lab was left" >&2; fail=1; }

# Stats of an empty project, in both forms.
check 0 "$S4LAB" stats "$dir/r.s4lab"
grep -q "building-total-destruction" "$dir/out" ||
    { echo "FAIL: stats lacks a class" >&2; fail=1; }
check 1 "$S4LAB" stats "$dir/missing.s4lab"
said "missing.s4lab: no such project"

# Tiles and labels written as s4lab(5) says, then counted by stats.
python3 - "$dir/t.s4lab" <<'PY' || fail=1
import sqlite3, sys, zlib
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO sources (id, path, width, height, sha256) "
    "VALUES (1, 'a.jpg', 64, 32, 'aa')")
for i, (split, state) in enumerate([(0, 0), (0, 1), (1, 1), (1, 2)]):
    db.execute("INSERT INTO tiles (id, source_id, x, y, w, h, jpeg, "
        "sha256, split, state) VALUES (?, 1, ?, 0, 16, 8, x'ffd8', ?, ?, ?)",
        (i + 1, 16 * i, "h%d" % i, split, state))
mask = bytes([0] * 40 + [1] * 50 + [3] * 30 + [255] * 8)
db.execute("INSERT INTO labels VALUES (2, ?, 1, 'ann', 0)",
    (zlib.compress(mask),))
db.execute("INSERT INTO labels VALUES (3, ?, 1, 'ann', 0)",
    (zlib.compress(bytes([2] * 128)),))
db.execute("INSERT INTO jobs (state) VALUES ('queued'), ('done'), ('done')")
db.commit()
PY
check 0 "$S4LAB" stats --json "$dir/t.s4lab"
python3 - "$dir/out" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
t = s["tiles"]
assert t["total"] == 4, t
assert t["train"] == {"new": 1, "done": 1, "skipped": 0, "total": 2}, t
assert t["val"] == {"new": 0, "done": 1, "skipped": 1, "total": 2}, t
px = [c["pixels"] for c in s["classes"]]
assert px == [40, 50, 128, 30], px
assert s["labelled_pixels"] == 248 and s["void_pixels"] == 8, s
assert abs(s["classes"][2]["share"] - 128 / 248) < 1e-6, s
assert s["classes"][1]["name"] == "building-intact", s
assert s["jobs"]["done"] == 2 and s["jobs"]["queued"] == 1, s
assert s["models"] == 0
PY
check 0 "$S4LAB" stats "$dir/t.s4lab"
grep -q "water  *30  *12.10%" "$dir/out" ||
    { echo "FAIL: stats table:" >&2; cat "$dir/out" >&2; fail=1; }

# A class name that is not UTF-8 is refused on init; one already stored
# still gives valid JSON.
check 1 "$S4LAB" init --classes "$data/bad/latin1.txt" "$dir/l.s4lab"
said "latin1.txt: line 2: class name is not UTF-8"
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); \
d.execute(\"UPDATE classes SET name = CAST(x'62e274' AS TEXT) \
WHERE idx = 0\"); d.commit()" "$dir/t.s4lab"
check 0 "$S4LAB" stats --json "$dir/t.s4lab"
python3 -c "import json,sys; \
n = json.load(open(sys.argv[1], 'rb'))['classes'][0]['name']; \
assert n == 'b\ufffdt', n" "$dir/out" ||
    { echo "FAIL: stats --json of a bad name" >&2; fail=1; }

# A label that does not unpack is an error naming the tile.
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); \
d.execute(\"UPDATE labels SET mask = x'789c00' WHERE tile_id = 3\"); \
d.commit()" "$dir/t.s4lab"
check 1 "$S4LAB" stats "$dir/t.s4lab"
said "label of tile 3"

# A newer project is refused and left byte for byte as it was.
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); \
d.execute('PRAGMA journal_mode = DELETE'); \
d.execute('PRAGMA user_version = 1000'); d.close()" "$dir/x.s4lab"
cp "$dir/x.s4lab" "$dir/x.copy"
check 1 "$S4LAB" stats "$dir/x.s4lab"
said "newer s4lab"
cmp -s "$dir/x.s4lab" "$dir/x.copy" ||
    { echo "FAIL: newer project changed" >&2; fail=1; }

# An empty file is no project: only init makes one, and nothing is
# written into it or beside it.
: >"$dir/empty.s4lab"
check 1 "$S4LAB" stats "$dir/empty.s4lab"
said "empty.s4lab: not an s4lab project (empty file)"
check 1 "$S4LAB" import "$dir/empty.s4lab" "$top_srcdir/samples/images"
said "empty.s4lab: not an s4lab project (empty file)"
[ -s "$dir/empty.s4lab" ] && { echo "FAIL: empty file written" >&2; fail=1; }
ls "$dir"/empty.s4lab-* >/dev/null 2>&1 &&
    { echo "FAIL: files left beside the empty file" >&2; fail=1; }

# Not a project.
echo "hello" >"$dir/hello.txt"
check 1 "$S4LAB" stats "$dir/hello.txt"
said "hello.txt: not an s4lab project"

exit $fail
