#!/bin/sh
# The C engine and its PyTorch twin (model/tpu/s4lab_model.py) on the same
# weights and the same real tiles.
#
# Inference: random weights of the default network (5 classes, width 16,
# depth 4, 4 aux, 256px) with BN scales, shifts and running statistics far
# from their initial values, two real tiles; for the main decoder, each
# auxiliary decoder and the disagreement scores, max|c - torch| /
# max(1e-6, max|torch|) over the whole tensor must be at most 1e-4.  The
# tensors are softmax probabilities (max about 1), so this is in effect
# an absolute bound of 1e-4 on every probability.
#
# Training: one CCT step (1 labelled + 1 unlabelled tile, no
# perturbation, no augmentation, no clipping, AdamW): both losses within
# 1e-4 relative, every parameter gradient within 5e-3 of its tensor's
# largest magnitude (float sums over 65536 pixels in another order; a BN
# bias gradient is such a sum with heavy cancellation, whose result can be
# a thousand times smaller than its terms), and the
# updated BN running statistics within 1e-4.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
# Debian's python3-torch is for /usr/bin/python3; a python3 earlier on
# PATH (pyenv, a venv) may lack it.
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import torch' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "torch-parity: no python3 can import torch; skipped"
	exit 77
fi
twin="$top_srcdir/model/tpu/s4lab_model.py"
netinfer="$top_builddir/tests/tools/netinfer"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

"$netinfer" random "$tmp/w.st" 5 16 4 4 256 11 || exit 1
"$netinfer" tiles "$top_srcdir/tests/data/dubai" 256 2 "$tmp/t.rgb" \
    "$tmp/t.mask" || exit 1

echo "== inference (tolerance 1e-4)"
"$netinfer" infer "$tmp/w.st" "$tmp/t.rgb" 2 "$tmp/c.st" || exit 1
"$py" "$twin" infer "$tmp/w.st" "$tmp/t.rgb" 2 "$tmp/p.st" || exit 1
"$py" "$twin" compare "$tmp/c.st" "$tmp/p.st" 1e-4 || fail=1

echo "== one training step"
"$netinfer" train "$tmp/w.st" "$tmp/t.rgb" "$tmp/t.mask" 2 "$tmp/ct.st" ||
    exit 1
"$py" "$twin" train "$tmp/w.st" "$tmp/t.rgb" "$tmp/t.mask" 2 \
    "$tmp/pt.st" || exit 1
"$py" "$twin" compare "$tmp/ct.st" "$tmp/pt.st" 1e-4 '^loss$' || fail=1
"$py" "$twin" compare "$tmp/ct.st" "$tmp/pt.st" 5e-3 '^grad\.' || fail=1
"$py" "$twin" compare "$tmp/ct.st" "$tmp/pt.st" 1e-4 '^after\..*running' ||
    fail=1
exit $fail
