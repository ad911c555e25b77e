#!/usr/bin/env python3
"""Read an s4lab export back, independently of s4lab's C code, and check
it against the project file it came from.

usage: read_export.py voc|coco [--all] PROJECT DIR

The project is read with sqlite3 (labels are zlib-compressed w*h bytes,
one class index per pixel, 255 not labelled).  VOC masks are decoded with
PIL; COCO RLE counts are decoded here, in numpy, the way pycocotools does:
the compressed string form (rleFrString) and column-major runs starting
with a run of zeros.  Every exported mask must equal the stored one.

Needs Debian's python3-pil and python3-numpy only.  Exit status 0 when
everything agrees, 1 with a message per disagreement otherwise.
"""
import io
import json
import os
import sqlite3
import sys
import time
import zlib

import numpy as np
from PIL import Image

VOID = 255
STATES = {0: "new", 1: "done", 2: "skipped"}
SPLITS = {0: "train", 1: "val"}

errors = []


def fail(msg):
    errors.append(msg)
    if len(errors) <= 30:
        print("FAIL: " + msg, file=sys.stderr)


def read_project(path):
    """Classes and tiles (with masks) as stored."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    classes = [dict(index=r[0], name=r[1], rgb=(r[2], r[3], r[4]), key=r[5])
               for r in db.execute(
                   "SELECT idx, name, r, g, b, key FROM classes "
                   "ORDER BY idx")]
    tiles = {}
    for r in db.execute(
            "SELECT t.id, s.path, t.x, t.y, t.w, t.h, t.split, t.state, "
            "t.jpeg, l.mask, l.revision, l.author, l.mtime FROM tiles t "
            "JOIN sources s ON s.id = t.source_id "
            "LEFT JOIN labels l ON l.tile_id = t.id"):
        (tid, src, x, y, w, h, split, state, jpeg, packed, rev, author,
         mtime) = r
        if packed is None:
            mask = np.full((h, w), VOID, np.uint8)
        else:
            raw = zlib.decompress(packed)
            if len(raw) != w * h:
                fail("tile %d: stored mask is %d bytes for %dx%d"
                     % (tid, len(raw), w, h))
                raw = (raw + bytes(w * h))[:w * h]
            mask = np.frombuffer(raw, np.uint8).reshape(h, w)
        tiles[tid] = dict(id=tid, source=src, x=x, y=y, w=w, h=h,
                          split=split, state=state, jpeg=bytes(jpeg),
                          mask=mask, revision=rev or 0, author=author,
                          mtime=mtime, labelled=packed is not None)
    db.close()
    return classes, tiles


def rle_from_string(s):
    """pycocotools' rleFrString: the compressed counts string to counts."""
    counts = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = True
        while more:
            c = ord(s[p]) - 48
            if c < 0 or c > 63:
                raise ValueError("bad character %r at %d" % (s[p], p))
            x |= (c & 0x1f) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
            if more and p == len(s):
                raise ValueError("string ends inside a number")
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_decode(counts, h, w):
    """Column-major runs, zeros first, to an h x w array of 0 and 1."""
    if any(c < 0 for c in counts) or sum(counts) != h * w:
        raise ValueError("counts add up to %d, not %d" % (sum(counts),
                                                          h * w))
    flat = np.zeros(h * w, np.uint8)
    pos = 0
    for i, c in enumerate(counts):
        if i % 2 == 1:
            flat[pos:pos + c] = 1
        pos += c
    # Column-major: the first h values are column 0, top to bottom.
    return flat.reshape((w, h)).T


def check_manifest(d, tiles, expect, classes, fmt):
    names = {}
    seen = set()
    path = os.path.join(d, "manifest.jsonl")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = json.loads(line)
            tid = m["tile"]
            if tid not in tiles:
                fail("manifest line %d: no tile %r in project" % (n, tid))
                continue
            if tid in seen:
                fail("manifest line %d: tile %d twice" % (n, tid))
            seen.add(tid)
            t = tiles[tid]
            name = m["name"]
            if "/" in name or any(ord(ch) < 32 for ch in name) or \
                    name.startswith("."):
                fail("tile %d: bad name %r" % (tid, name))
            if name in names.values():
                fail("tile %d: name %r not unique" % (tid, name))
            names[tid] = name
            for k in ("source", "x", "y", "w", "h", "revision"):
                if m[k] != t[k]:
                    fail("tile %d: manifest %s %r, project %r"
                         % (tid, k, m[k], t[k]))
            if m["split"] != SPLITS[t["split"]]:
                fail("tile %d: manifest split %r" % (tid, m["split"]))
            if m["state"] != STATES[t["state"]]:
                fail("tile %d: manifest state %r" % (tid, m["state"]))
            if m["labelled"] != t["labelled"]:
                fail("tile %d: manifest labelled %r" % (tid, m["labelled"]))
            if t["labelled"] and m["author"] != t["author"]:
                fail("tile %d: manifest author %r" % (tid, m["author"]))
            when = None
            if t["labelled"]:
                when = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                     time.gmtime(t["mtime"]))
            if m["time"] != when:
                fail("tile %d: manifest time %r, label's %r"
                     % (tid, m["time"], when))
            img = "%s/%s.jpg" % ("JPEGImages" if fmt == "voc" else "images",
                                 name)
            if m["image"] != img:
                fail("tile %d: manifest image %r" % (tid, m["image"]))
            if fmt == "voc" and m["mask"] != \
                    "SegmentationClass/%s.png" % name:
                fail("tile %d: manifest mask %r" % (tid, m["mask"]))
    if seen != expect:
        fail("manifest has %d tiles, expected %d (missing %s, extra %s)"
             % (len(seen), len(expect), sorted(expect - seen)[:5],
                sorted(seen - expect)[:5]))
    return names


def check_jpeg(d, sub, t, name):
    path = os.path.join(d, sub, name + ".jpg")
    with open(path, "rb") as f:
        data = f.read()
    if data != t["jpeg"]:
        fail("%s: not the tile's stored bytes" % path)
    im = Image.open(io.BytesIO(data))
    im.load()
    if im.size != (t["w"], t["h"]):
        fail("%s: decodes to %s, tile is %dx%d" % (path, im.size, t["w"],
                                                   t["h"]))


def check_classes_json(d, classes):
    with open(os.path.join(d, "classes.json"), encoding="utf-8") as f:
        cj = json.load(f)
    got = [(c["index"], c["name"], c["color"]) for c in cj["classes"]]
    want = [(c["index"], c["name"], "#%02x%02x%02x" % c["rgb"])
            for c in classes]
    if got != want:
        fail("classes.json: %r, project %r" % (got, want))
    if cj.get("ignore_index") != VOID:
        fail("classes.json: ignore_index %r" % cj.get("ignore_index"))


def check_voc(d, tiles, names, classes):
    for tid, name in names.items():
        t = tiles[tid]
        check_jpeg(d, "JPEGImages", t, name)
        path = os.path.join(d, "SegmentationClass", name + ".png")
        im = Image.open(path)
        if im.mode != "P":
            fail("%s: mode %s, not a palette PNG" % (path, im.mode))
            continue
        pal = im.getpalette()
        for c in classes:
            if tuple(pal[3 * c["index"]:3 * c["index"] + 3]) != c["rgb"]:
                fail("%s: palette entry %d is not class %s's colour"
                     % (path, c["index"], c["name"]))
        got = np.array(im)
        if got.shape != t["mask"].shape:
            fail("%s: %s, tile mask %s" % (path, got.shape,
                                           t["mask"].shape))
        elif not np.array_equal(got, t["mask"]):
            fail("%s: %d pixels differ from the stored mask"
                 % (path, int((got != t["mask"]).sum())))
    split = {}
    for s in ("train", "val"):
        path = os.path.join(d, "ImageSets", "Segmentation", s + ".txt")
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines[-1] != "":
            fail("%s: no newline at the end" % path)
        for line in lines[:-1]:
            if line in split:
                fail("%s: %r listed twice" % (path, line))
            split[line] = s
    for tid, name in names.items():
        if split.get(name) != SPLITS[tiles[tid]["split"]]:
            fail("tile %d (%s): in %r, stored split %s"
                 % (tid, name, split.get(name),
                    SPLITS[tiles[tid]["split"]]))
    if len(split) != len(names):
        fail("split files list %d names, %d tiles" % (len(split),
                                                      len(names)))
    with open(os.path.join(d, "labelmap.txt"), encoding="utf-8") as f:
        lm = [line for line in f.read().splitlines()
              if not line.startswith("#")]
    want = ["%s:%d,%d,%d::" % ((c["name"],) + c["rgb"]) for c in classes]
    if lm != want:
        fail("labelmap.txt: %r, expected %r" % (lm, want))


def check_coco(d, tiles, names, classes):
    with open(os.path.join(d, "annotations.json"), encoding="utf-8") as f:
        coco = json.load(f)
    cat = {}
    for c in coco["categories"]:
        cat[c["id"]] = c
    want = {c["index"] + 1: (c["name"], list(c["rgb"])) for c in classes}
    got = {k: (c["name"], c["color"]) for k, c in cat.items()}
    if got != want:
        fail("categories %r, expected %r" % (got, want))
    images = {im["id"]: im for im in coco["images"]}
    if set(images) != set(names):
        fail("images %d, manifest %d" % (len(images), len(names)))
    for tid, im in images.items():
        t = tiles.get(tid)
        if t is None:
            fail("image %r: no such tile" % tid)
            continue
        if (im["width"], im["height"]) != (t["w"], t["h"]):
            fail("image %d: %dx%d, tile %dx%d" % (tid, im["width"],
                                                 im["height"], t["w"],
                                                 t["h"]))
        if im["file_name"] != names.get(tid, "") + ".jpg":
            fail("image %d: file_name %r" % (tid, im["file_name"]))
        check_jpeg(d, "images", t, names[tid])

    # Paint every annotation back; each pixel at most once.
    painted = {tid: np.full((t["h"], t["w"]), VOID, np.uint8)
               for tid, t in tiles.items() if tid in images}
    ids = set()
    for a in coco["annotations"]:
        tid = a["image_id"]
        if a["id"] in ids:
            fail("annotation id %r twice" % a["id"])
        ids.add(a["id"])
        if tid not in painted or a["category_id"] not in cat:
            fail("annotation %r: bad image or category" % a["id"])
            continue
        t = tiles[tid]
        h, w = a["segmentation"]["size"]
        if (h, w) != (t["h"], t["w"]):
            fail("annotation %r: size %r for a %dx%d tile"
                 % (a["id"], [h, w], t["w"], t["h"]))
            continue
        counts = a["segmentation"]["counts"]
        try:
            if isinstance(counts, str):
                counts = rle_from_string(counts)
            bit = rle_decode(counts, h, w).astype(bool)
        except ValueError as e:
            fail("annotation %r: %s" % (a["id"], e))
            continue
        idx = cat[a["category_id"]]["index"]
        if (painted[tid][bit] != VOID).any():
            fail("annotation %r overlaps another" % a["id"])
        painted[tid][bit] = idx
        if a["area"] != int(bit.sum()):
            fail("annotation %r: area %r, %d pixels" % (a["id"], a["area"],
                                                        int(bit.sum())))
        ys, xs = np.nonzero(bit)
        if len(xs) == 0:
            fail("annotation %r: empty" % a["id"])
            continue
        bbox = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                int(ys.max() - ys.min() + 1)]
        if a["bbox"] != bbox:
            fail("annotation %r: bbox %r, pixels %r" % (a["id"], a["bbox"],
                                                        bbox))
    for tid, p in painted.items():
        m = tiles[tid]["mask"].copy()
        m[m >= len(classes)] = VOID
        if not np.array_equal(p, m):
            fail("tile %d: annotations differ from the stored mask in %d "
                 "pixels" % (tid, int((p != m).sum())))


def main():
    args = sys.argv[1:]
    every = "--all" in args
    args = [a for a in args if a != "--all"]
    if len(args) != 3 or args[0] not in ("voc", "coco"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    fmt, project, d = args
    classes, tiles = read_project(project)
    expect = {tid for tid, t in tiles.items() if every or t["state"] == 1}
    names = check_manifest(d, tiles, expect, classes, fmt)
    check_classes_json(d, classes)
    if fmt == "voc":
        check_voc(d, tiles, names, classes)
    else:
        check_coco(d, tiles, names, classes)
    labelled = sum(1 for tid in names if tiles[tid]["labelled"])
    print("%s %s: %d tiles (%d labelled) checked, %d problems"
          % (fmt, d, len(names), labelled, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
