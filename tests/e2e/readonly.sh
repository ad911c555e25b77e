#!/bin/sh
# A project that cannot be written: the commands that only read (stats,
# export, queue, models, jobs) work and leave it byte for byte as it was,
# also in a directory where SQLite cannot make its -shm file; import
# refuses once, up front, with a plain reason.  Root ignores file modes,
# so as root the commands run as nobody.
set -u
: "${S4LAB:?}" "${top_srcdir:?}"

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || exit 77
	as_user() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	}
else
	as_user() {
		"$@"
	}
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/readonly.XXXXXX")
trap 'chmod -R u+w "$dir"; rm -rf "$dir"' EXIT
chmod 755 "$dir"
fail=0

check() {
	want=$1
	shift
	as_user "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $* exited $got, wanted $want" >&2
		cat "$dir/out" "$dir/err" >&2
		fail=1
	fi
}

said() {
	if ! grep -qF -- "$1" "$dir/err"; then
		echo "FAIL: stderr lacks \"$1\":" >&2
		cat "$dir/err" >&2
		fail=1
	fi
}

# A project with a few tiles, closed cleanly (no -wal left).
mkdir "$dir/rw" "$dir/ro"
p=$dir/rw/p.s4lab
"$S4LAB" init "$p" >/dev/null || exit 1
"$S4LAB" import "$p" "$top_srcdir/samples/images/tile1_image_part_001.jpg" \
    >/dev/null || exit 1
cp "$p" "$dir/ro/p.s4lab"
cp "$p" "$dir/copy"

# The file is read-only, its directory writable by anyone.
chmod 1777 "$dir/rw"
chmod 444 "$p"
check 0 "$S4LAB" stats "$p"
grep -q "^tiles: 12" "$dir/out" || { echo "FAIL: stats" >&2; fail=1; }
check 0 "$S4LAB" stats --json "$p"
check 0 "$S4LAB" queue "$p"
check 0 "$S4LAB" models "$p"
check 0 "$S4LAB" jobs "$p"
check 0 "$S4LAB" export --all "$p" "$dir/rw/out"
[ -f "$dir/rw/out/ImageSets/Segmentation/train.txt" ] ||
    { echo "FAIL: export wrote no dataset" >&2; fail=1; }
check 1 "$S4LAB" import "$p" "$top_srcdir/samples/images"
said "p.s4lab: cannot write the project: the file is read-only"
[ "$(grep -c . "$dir/err")" = 1 ] ||
    { echo "FAIL: import said more than once:" >&2; cat "$dir/err" >&2;
    fail=1; }
cmp -s "$p" "$dir/copy" || { echo "FAIL: read-only project changed" >&2;
    fail=1; }

# The directory is not writable: no -shm can be made there.
chmod 755 "$dir/ro"
chmod 444 "$dir/ro/p.s4lab"
[ "$(id -u)" = 0 ] || chmod 555 "$dir/ro"
check 0 "$S4LAB" stats "$dir/ro/p.s4lab"
grep -q "^tiles: 12" "$dir/out" || { echo "FAIL: stats in ro" >&2; fail=1; }
check 1 "$S4LAB" import "$dir/ro/p.s4lab" "$top_srcdir/samples/images"
said "cannot write the project"
ls "$dir"/ro/p.s4lab-* >/dev/null 2>&1 &&
    { echo "FAIL: files made in a read-only directory" >&2; fail=1; }
cmp -s "$dir/ro/p.s4lab" "$dir/copy" ||
    { echo "FAIL: project in read-only directory changed" >&2; fail=1; }

exit $fail
