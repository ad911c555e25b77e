#!/usr/bin/env python3
"""The mask that s4lab label should store after a sequence of keys.

An independent reading of s4lab(1): the session starts with the cursor at
the centre of the tile (w // 2, h // 2), class 1, brush radius 2, on a tile
with no label.  Keys (one argument each): h j k l (1 pixel), H J K L (16
pixels), Space (pen down or up), Enter (one dab), 0-9 (class), e (eraser),
[ ] (brush), f (fill), u (undo), redo as C-r, and @X,Y: the pointer moved
to tile pixel (X, Y) (a mouse press is "@X,Y Space", a drag "@X,Y", a
release "Space").  Moves are along one axis, so a stroke segment is the run
of pixels between its ends.

Prints "w h" and one line of hex bytes per row, as tests/tools/tuitool does.
"""
import sys

VOID = 255


def main():
    w, h = int(sys.argv[1]), int(sys.argv[2])
    keys = sys.argv[3:]
    mask = [VOID] * (w * h)
    st = {"x": w // 2, "y": h // 2, "r": 2, "cls": 1, "eraser": False,
          "pen": False, "before": None}
    done, undone = [], []

    def ink():
        return VOID if st["eraser"] else st["cls"]

    def stamp(cx, cy):
        r = st["r"]
        for y in range(cy - r, cy + r + 1):
            for x in range(cx - r, cx + r + 1):
                if 0 <= x < w and 0 <= y < h and \
                        (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                    mask[y * w + x] = ink()

    def commit(before):
        if before != mask:
            done.append((before, list(mask)))
            undone.clear()

    def pen_up():
        if st["pen"]:
            st["pen"] = False
            commit(st["before"])

    def move(dx, dy):
        x0, y0 = st["x"], st["y"]
        st["x"] = min(max(x0 + dx, 0), w - 1)
        st["y"] = min(max(y0 + dy, 0), h - 1)
        if st["pen"]:
            n = max(abs(st["x"] - x0), abs(st["y"] - y0))
            sx = (st["x"] > x0) - (st["x"] < x0)
            sy = (st["y"] > y0) - (st["y"] < y0)
            for i in range(n + 1):
                stamp(x0 + i * sx, y0 + i * sy)

    moves = {"h": (-1, 0), "l": (1, 0), "k": (0, -1), "j": (0, 1),
             "H": (-16, 0), "L": (16, 0), "K": (0, -16), "J": (0, 16)}
    for k in keys:
        if k in moves:
            move(*moves[k])
        elif k.startswith("@"):
            x, y = (int(v) for v in k[1:].split(","))
            if st["pen"] and x != st["x"] and y != st["y"]:
                sys.exit("tui-expect: %s is not along one axis" % k)
            move(x - st["x"], y - st["y"])
        elif k == "[":
            st["r"] = max(st["r"] - 1, 0)
        elif k == "]":
            st["r"] = min(st["r"] + 1, 64)
        elif k == "Space":
            if st["pen"]:
                pen_up()
            else:
                st["pen"] = True
                st["before"] = list(mask)
                stamp(st["x"], st["y"])
        else:
            pen_up()
            if k == "Enter":
                before = list(mask)
                stamp(st["x"], st["y"])
                commit(before)
            elif k.isdigit():
                st["cls"], st["eraser"] = int(k), False
            elif k == "e":
                st["eraser"] = not st["eraser"]
            elif k == "f":
                before = list(mask)
                fill(mask, w, h, st["x"], st["y"], ink())
                commit(before)
            elif k == "u" and done:
                before, after = done.pop()
                mask[:] = before
                undone.append((before, after))
            elif k == "C-r" and undone:
                before, after = undone.pop()
                mask[:] = after
                done.append((before, after))
            elif k not in ("u", "C-r"):
                sys.exit("tui-expect: unknown key %s" % k)
    # A stroke still open is never saved.
    if st["pen"]:
        mask[:] = st["before"]
    print(w, h)
    for y in range(h):
        print("".join("%02x" % v for v in mask[y * w:(y + 1) * w]))


def fill(mask, w, h, x, y, v):
    old = mask[y * w + x]
    if old == v:
        return
    todo = [(x, y)]
    while todo:
        x, y = todo.pop()
        if 0 <= x < w and 0 <= y < h and mask[y * w + x] == old:
            mask[y * w + x] = v
            todo += [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)]


main()
