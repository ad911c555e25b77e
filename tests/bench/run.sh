#!/bin/sh
# s4lab benchmarks (make bench): each step prints its figures; nothing here
# fails on time.  Steps are appended by whoever owns the code measured.
: "${top_srcdir:=.}" "${top_builddir:=.}"
data="$top_srcdir/tests/data"
bench="$top_builddir/tests/bench"

echo "== frame time: compose, sixel and half blocks (ui/)"
nice "$bench/bench_frame" "$data/aerial-256.jpg" "$data/aerial-512.jpg"
echo
echo "== frame time beside img2sixel and chafa, whole processes (ui/)"
nice "$bench/bench_frame" --peers "$data/aerial-256.jpg" \
    "$data/aerial-512.jpg"
echo
