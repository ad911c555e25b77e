#!/bin/sh
# make bench: run every benchmark program (tests/bench/bench_* in the
# build tree) and every other script here (they measure the peers side
# by side).  Benchmarks print figures; none fails on time.
: "${top_builddir:=.}" "${top_srcdir:=.}"
export top_builddir top_srcdir

for b in "$top_builddir"/tests/bench/bench_*; do
	[ -x "$b" ] && [ -f "$b" ] || continue
	case "$b" in *.c|*.o) continue ;; esac
	echo "== $(basename "$b")"
	nice "$b" || echo "$(basename "$b"): exit $?"
	echo
done
for s in "$top_srcdir"/tests/bench/*.sh; do
	[ -f "$s" ] || continue
	[ "$(basename "$s")" = run.sh ] && continue
	echo "== $(basename "$s")"
	nice ${SHELL:-/bin/sh} "$s" || echo "$(basename "$s"): exit $?"
	echo
done
