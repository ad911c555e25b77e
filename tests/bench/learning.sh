#!/bin/sh
# Learning, measured: validation mIoU on scene 5 of tests/data/dubai for
# (a) supervised training on NLAB labelled tiles of scenes 1-3, (b) the
# same plus the consistency loss on the other tiles of scenes 1-3, and
# the majority class of the labelled pixels.  Each run prints its own
# line (tests/tools/learn.c says how it trains).  Long: run it niced.
#
#   tests/bench/learning.sh [STEPS [WIDTH [NLAB [SEED]]]]
: "${top_srcdir:=.}" "${top_builddir:=.}"
steps=${1:-200}
width=${2:-8}
nlab=${3:-32}
seed=${4:-1}
learn="$top_builddir/tests/tools/learn"
dubai="$top_srcdir/tests/data/dubai"
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OMP_WAIT_POLICY
nice -n 10 "$learn" -n "$steps" -W "$width" -l "$nlab" -S "$seed" \
    "$dubai" || exit 1
nice -n 10 "$learn" -c -n "$steps" -W "$width" -l "$nlab" -S "$seed" \
    "$dubai" | grep -v '^majority' || exit 1
