#!/usr/bin/env python3
"""Check half blocks as tmux holds them against the frame that was drawn.

usage: blocks-check.py capture.txt ref.ppm row col

capture.txt is `tmux capture-pane -p -e`: text with SGR sequences.  Every
cell from (row, col) over the frame's width and half its height must be
U+2580 with the upper pixel as foreground and the lower as background, in
24-bit colour; every other cell must be blank.  Prints the first mismatches
and exits 1 if there is any.
"""
import re
import sys

SGR = re.compile(r'\x1b\[([0-9;:]*)m')


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    if parts[0] != b'P6' or parts[3] != b'255':
        sys.exit('%s: not a P6 PPM' % path)
    w, h = int(parts[1]), int(parts[2])
    return w, h, parts[4][:w * h * 3]


def apply_sgr(params, fg, bg):
    """The colours after one SGR sequence."""
    p = [int(x) if x else 0 for x in re.split('[;:]', params or '0')]
    i = 0
    while i < len(p):
        if p[i] == 0:
            fg = bg = None
        elif p[i] in (38, 48) and i + 1 < len(p) and p[i + 1] == 2:
            c = tuple(p[i + 2:i + 5])
            fg, bg = (c, bg) if p[i] == 38 else (fg, c)
            i += 4
        elif p[i] in (38, 48) and i + 1 < len(p) and p[i + 1] == 5:
            c = ('256', p[i + 2] if i + 2 < len(p) else -1)
            fg, bg = (c, bg) if p[i] == 38 else (fg, c)
            i += 2
        elif p[i] == 39:
            fg = None
        elif p[i] == 49:
            bg = None
        i += 1
    return fg, bg


def grid(text):
    """Rows of (char, fg, bg); the colours run on across lines."""
    fg = bg = None
    rows = []
    for line in text.split('\n'):
        row = []
        pos = 0
        for m in SGR.finditer(line):
            row += [(ch, fg, bg) for ch in line[pos:m.start()]]
            fg, bg = apply_sgr(m.group(1), fg, bg)
            pos = m.end()
        row += [(ch, fg, bg) for ch in line[pos:]]
        rows.append(row)
    return rows


def main():
    cap, ref = sys.argv[1], sys.argv[2]
    row, col = int(sys.argv[3]), int(sys.argv[4])
    w, h, px = read_ppm(ref)
    nrows = h // 2
    with open(cap, encoding='utf-8') as f:
        g = grid(f.read())

    def pixel(x, y):
        i = (y * w + x) * 3
        return tuple(px[i:i + 3])

    bad = []
    seen = 0
    for y, cells in enumerate(g):
        for x, (ch, fg, bg) in enumerate(cells):
            if not (row <= y < row + nrows and col <= x < col + w):
                if ch != ' ':
                    bad.append('(%d,%d) outside the area: %r' % (y, x, ch))
                continue
            seen += 1
            up = pixel(x - col, 2 * (y - row))
            lo = pixel(x - col, 2 * (y - row) + 1)
            if ch != '\u2580' or fg != up or bg != lo:
                bad.append('(%d,%d): %r fg %s bg %s, wanted fg %s bg %s' %
                           (y, x, ch, fg, bg, up, lo))
    for msg in bad[:10]:
        print(msg)
    print('%dx%d cells of half blocks checked, %d wrong, %d missing' %
          (w, nrows, len(bad), w * nrows - seen))
    return 1 if bad or seen != w * nrows else 0


sys.exit(main())
