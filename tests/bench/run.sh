#!/bin/sh
# make bench: every benchmark, each beside its peer where it has one.
# Benchmarks print figures; none fails on time.  Programs that need no
# arguments (tests/bench/bench_*) run as they are; the steps below give
# the others their inputs, and scripts here (*.sh) run last, all but
# learning.sh (see the README).
: "${top_srcdir:=.}" "${top_builddir:=.}"
export top_builddir top_srcdir
data="$top_srcdir/tests/data"
bench="$top_builddir/tests/bench"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s4lab-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

for b in "$bench"/bench_*; do
	[ -x "$b" ] && [ -f "$b" ] || continue
	case "$b" in
	*.c|*.o) continue ;;
	# Driven below, or by a script, with their inputs and peers.
	*/bench_frame|*/bench_net|*/bench_layers) continue ;;
	esac
	echo "== $(basename "$b")"
	nice "$b" || echo "$b: exit $?"
	echo
done

echo "== frame time: compose, sixel and half blocks (ui/)"
nice "$bench/bench_frame" "$data/aerial-256.jpg" "$data/aerial-512.jpg"
echo
echo "== frame time beside img2sixel and chafa, whole processes (ui/)"
# The 256 tile as the TUI shows it at 2x, made once with ImageMagick, and
# a real 512 crop of the same scene (more detail, more colours).
set -- "$data/aerial-256.jpg" "$data/aerial-512.jpg"
if command -v convert >/dev/null 2>&1 &&
    convert "$data/aerial-256.jpg" -filter point -resize 200% \
    "$tmp/aerial-256-x2.png" 2>/dev/null; then
	set -- "$@" "$tmp/aerial-256-x2.png"
fi
nice "$bench/bench_frame" --peers "$@"
echo

for s in "$top_srcdir"/tests/bench/*.sh; do
	[ -f "$s" ] || continue
	# learning.sh trains for half an hour; the README says how to run it.
	case "$(basename "$s")" in run.sh|learning.sh) continue ;; esac
	echo "== $(basename "$s")"
	nice ${SHELL:-/bin/sh} "$s" || echo "$s: exit $?"
	echo
done
