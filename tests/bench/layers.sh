#!/bin/sh
# Convolutions and the forward layer sequence of the default network:
# s4lab's kernels beside PyTorch's (oneDNN), alternating runs, the best of
# each.  GFLOP/s per layer (backward: dinp and dweight together), forward
# pass time, and the ratio s4lab / PyTorch (above 1: s4lab is faster).
#	layers.sh [batch] [threads] [runs] [cpu]
# "cpu" counts CPU time, not wall time: with one thread, figures that
# hold on a machine others are using.
# Needs tests/bench/bench_layers built; PyTorch is optional.
batch=${1:-4}
threads=${2:-2}
runs=${3:-3}
cpu=${4:-}
copt=
[ "$cpu" = cpu ] && copt=-c
here=$(dirname "$0")
bench=${top_builddir:-.}/tests/bench/bench_layers
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import torch' 2>/dev/null; then
		py=$p
		break
	fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

i=0
while [ "$i" -lt "$runs" ]; do
	OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
	    "$bench" $copt -b "$batch" -t "$threads" >>"$tmp/c" || exit 1
	if [ -n "$py" ]; then
		"$py" "$here/bench_layers.py" "$batch" "$threads" 5 $cpu \
		    >>"$tmp/t" 2>/dev/null || exit 1
	fi
	i=$((i + 1))
done
[ -f "$tmp/t" ] || : >"$tmp/t"

echo "batch $batch, $threads threads, best of $runs runs alternating" \
    "${cpu:+(CPU time)}"
awk '
FNR == 1 { n[FILENAME] = 0 }
$1 == "conv" {
	k = $2 "x" $3 "@" $4 "." (n[FILENAME]++ % 14)
	if (!(k in order)) { order[k] = ++norder; name[norder] = k }
	if (FILENAME ~ /\/c$/) {
		if ($5 > cf[k]) cf[k] = $5; if ($6 > cb[k]) cb[k] = $6
	} else {
		if ($5 > tf[k]) tf[k] = $5; if ($6 > tb[k]) tb[k] = $6
	}
}
$1 == "net" {
	if (FILENAME ~ /\/c$/) { if (!cn || $2 < cn) cn = $2 }
	else { if (!tn || $2 < tn) tn = $2 }
}
END {
	printf("%-14s %8s %8s %8s %8s %6s %6s\n", "conv C-K@HW", "fwd", "torch",
	    "bwd", "torch", "fwd x", "bwd x")
	for (i = 1; i <= norder; i++) {
		k = name[i]; split(k, a, ".")
		printf("%-14s %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f\n", a[1],
		    cf[k], tf[k], cb[k], tb[k], tf[k] ? cf[k] / tf[k] : 0,
		    tb[k] ? cb[k] / tb[k] : 0)
	}
	printf("forward pass of %d tiles: s4lab %.1f ms, torch %.1f ms, " \
	    "ratio %.2f\n", '"$batch"', cn, tn, cn ? tn / cn : 0)
}' "$tmp/c" "$tmp/t"
