#!/bin/sh
# s4lab benchmarks (make bench): each step prints its figures; nothing here
# fails on time.  Steps are appended by whoever owns the code measured.
: "${top_srcdir:=.}" "${top_builddir:=.}"
data="$top_srcdir/tests/data"
bench="$top_builddir/tests/bench"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s4lab-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

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
