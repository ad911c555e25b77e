#!/bin/sh
# Half blocks in a real terminal: tests/tools/showframe draws a real tile
# with --graphics blocks at a known cell inside tmux (a private server),
# and every cell tmux then holds is checked against the composed frame
# (blocks-check.py): U+2580 in the area with exactly the two pixels'
# 24-bit colours, nothing anywhere else.
: "${top_srcdir:=.}" "${top_builddir:=.}"
for tool in tmux python3; do
	command -v $tool >/dev/null 2>&1 || { echo "no $tool: skipped"; exit 77; }
done
showframe="$top_builddir/tests/tools/showframe"
data="$top_srcdir/tests/data"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/s4lab-blocks.XXXXXX") || exit 1
sock="$tmp/tmux.sock"
cleanup() {
	tmux -S "$sock" kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

tmux -S "$sock" -f /dev/null new-session -d -x 100 -y 40 \
    "env COLORTERM=truecolor LC_ALL=C.UTF-8 '$showframe' -g blocks \
    -o '$tmp' -r 2 -c 3 -t 60 '$data/aerial-256.jpg'" || exit 1
i=0
until [ -e "$tmp/ready" ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "showframe never drew"; exit 1; }
done
sleep 0.3
tmux -S "$sock" capture-pane -p -e -t 0 >"$tmp/capture.txt" || exit 1
cat "$tmp/probe.txt"
grep -q 'renderer=blocks' "$tmp/probe.txt" || { echo "blocks not chosen"; exit 1; }
grep -q 'tmux=1' "$tmp/probe.txt" || { echo "tmux not seen"; exit 1; }
python3 "$top_srcdir/tests/e2e/blocks-check.py" "$tmp/capture.txt" \
    "$tmp/ref.ppm" 2 3
