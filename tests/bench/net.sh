#!/bin/sh
# The default network at 256px, 2 threads: a CCT training step (4
# labelled + 4 unlabelled real tiles) and inference of every decoder with
# the disagreement score, one tile at a time; in C (tests/bench/bench_net)
# and in PyTorch (model/tpu/s4lab_model.py bench, same tiles, same batch,
# torch.set_num_threads(2)), alternating, ROUNDS rounds (3).  Prints each
# run and the ratios PyTorch / C per round (above 1: C is faster).
: "${top_srcdir:=.}" "${top_builddir:=.}"
rounds=${ROUNDS:-3}
steps=${STEPS:-3}
tiles=${TILES:-16}
threads=${THREADS:-2}
dubai="$top_srcdir/tests/data/dubai"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$top_builddir/tests/tools/netinfer" bench-tiles "$dubai" "$tmp/t.rgb" \
    "$tmp/t.mask" || exit 1
torch=no
for py in python3 /usr/bin/python3; do
	"$py" -c 'import torch' 2>/dev/null && { torch=yes; break; }
done
[ $torch = no ] && echo "(no python3 can import torch: C figures only)"

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
r=1
while [ $r -le "$rounds" ]; do
	c=$(nice "$top_builddir/tests/bench/bench_net" -t "$threads" \
	    -s "$steps" -i "$tiles" "$dubai")
	echo "C       round $r: $c"
	if [ $torch = yes ]; then
		p=$(nice "$py" "$top_srcdir/model/tpu/s4lab_model.py" bench \
		    -t "$threads" -s "$steps" -i "$tiles" "$tmp/t.rgb" \
		    "$tmp/t.mask")
		echo "PyTorch round $r: $p"
		awk -v cs="$(field "$c" train_ms)" -v ps="$(field "$p" train_ms)" \
		    -v ci="$(field "$c" infer_tiles_s)" \
		    -v pi="$(field "$p" infer_tiles_s)" \
		    -v cm="$(field "$c" peak_rss_mb)" \
		    -v pm="$(field "$p" peak_rss_mb)" -v r=$r 'BEGIN {
			printf("ratio   round %d: train step torch/C %.2f, " \
			    "inference C/torch %.2f, peak RSS torch/C %.2f\n",
			    r, ps / cs, ci / pi, pm / cm) }'
	fi
	r=$((r + 1))
done
