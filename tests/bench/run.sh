#!/bin/sh
# s4lab benchmarks (make bench): each step prints its figures; nothing here
# fails on time.  Steps are appended by whoever owns the code measured.
: "${top_srcdir:=.}" "${top_builddir:=.}"
data="$top_srcdir/tests/data"
bench="$top_builddir/tests/bench"

echo "== the network: training step and inference, C and PyTorch (model/)"
top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
    sh "$top_srcdir/tests/bench/net.sh"
echo
