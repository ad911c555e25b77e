#!/usr/bin/env python3
"""s4lab's network in PyTorch: the twin of model/net.c (see model/ARCH.md).

The module's state_dict keys are the safetensors names the C engine reads
and writes (enc.{i}.conv1.weight, dec.{i}.bn2.running_var, head.bias,
aux.{k}.weight, ...), so either side loads what the other saved.  The
safetensors reader and writer below need only the standard library and
torch; the `safetensors` package is used by nobody here.

Commands (the parity test and the benchmark drive them):

  s4lab_model.py infer WEIGHTS TILES N OUT
      eval-mode inference of every decoder on N raw HWC tiles; OUT holds
      "main", "aux.K" (softmax probabilities) and "disagreement".
  s4lab_model.py train WEIGHTS TILES MASKS N OUT
      one CCT step as tests/tools/netinfer.c's "train": the first N/2
      tiles labelled, the rest unlabelled, no perturbation, no clipping,
      w_cons 1, AdamW lr 1e-3 wd 1e-2; OUT holds "loss", "grad.NAME" and
      "after.NAME".
  s4lab_model.py compare A B [TOL] [REGEX]
      for every tensor of B whose name matches REGEX: max|a-b| /
      max(1e-6, max|b|); exit 1 when one is over TOL (needs no torch).
  s4lab_model.py bench [-t THREADS] [-s STEPS] [-i TILES] TILES.raw
      the default network at 256px: a training step of 4 labelled + 4
      unlabelled tiles, inference of all decoders one tile at a time.
"""

import array
import json
import struct
import sys
import time

MAX_HEADER = 100 * 1024 * 1024


# ---------------------------------------------------------------------
# safetensors, F32 only, without the safetensors package.

def st_read(path):
    """Return (tensors, metadata): name -> (shape, array('f')), dict."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (hlen,) = struct.unpack("<Q", buf[:8])
    if hlen > MAX_HEADER or 8 + hlen > len(buf):
        raise ValueError("%s: bad header length %d" % (path, hlen))
    try:
        header = json.loads(buf[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("%s: bad header: %s" % (path, e))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not an object" % path)
    meta = header.pop("__metadata__", {}) or {}
    data = buf[8 + hlen:]
    ranges = []
    out = {}
    for name, d in header.items():
        if d.get("dtype") != "F32":
            raise ValueError("%s: %s: dtype %s is not F32" %
                             (path, name, d.get("dtype")))
        shape = list(d["shape"])
        begin, end = d["data_offsets"]
        n = 1
        for s in shape:
            n *= s
        if not (0 <= begin <= end <= len(data)) or end - begin != 4 * n:
            raise ValueError("%s: %s: bad data_offsets" % (path, name))
        a = array.array("f")
        a.frombytes(data[begin:end])
        if sys.byteorder != "little":
            a.byteswap()
        out[name] = (shape, a)
        ranges.append((begin, end))
    at = 0
    for begin, end in sorted(ranges):
        if begin != at:
            raise ValueError("%s: overlap or hole in the data" % path)
        at = end
    if at != len(data):
        raise ValueError("%s: trailing bytes" % path)
    return out, meta


def st_write(path, tensors, meta=None):
    """Write name -> (shape, array('f')) atomically."""
    import os
    header = {}
    if meta:
        header["__metadata__"] = {str(k): str(v) for k, v in meta.items()}
    at = 0
    blobs = []
    for name, (shape, a) in tensors.items():
        b = array.array("f", a)
        if sys.byteorder != "little":
            b.byteswap()
        b = b.tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [at, at + len(b)]}
        at += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def compare(a_path, b_path, tol, pattern=""):
    """Print max|a-b| / max(1e-6, max|b|) per tensor of b whose name
    matches the regular expression; True if all pass."""
    import re
    a, _ = st_read(a_path)
    b, _ = st_read(b_path)
    ok = True
    for name in sorted(b):
        if not re.search(pattern, name):
            continue
        if name not in a or a[name][0] != b[name][0]:
            print("%-34s missing or shape differs" % name)
            ok = False
            continue
        va, vb = a[name][1], b[name][1]
        diff = max((abs(x - y) for x, y in zip(va, vb)), default=0.0)
        scale = max((abs(y) for y in vb), default=0.0)
        rel = diff / max(1e-6, scale)
        bad = not (rel <= tol)
        ok = ok and not bad
        print("%-34s max|diff| %.3g  max|ref| %.3g  rel %.3g%s" %
              (name, diff, scale, rel, "  FAIL" if bad else ""))
    return ok


# ---------------------------------------------------------------------
# The network.

def _torch():
    import torch
    return torch


def build(classes, width=16, depth=4, aux=4, tile=256):
    """The network of model/ARCH.md as a torch.nn.Module."""
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class BN(nn.BatchNorm2d):
        """BatchNorm2d without num_batches_tracked (not stored)."""

        def __init__(self, c):
            super().__init__(c, eps=1e-5, momentum=0.1)
            self.register_buffer("num_batches_tracked", None)

        def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                                  *args):
            # Version 2 and later do not invent num_batches_tracked.
            local_metadata = dict(local_metadata, version=2)
            super()._load_from_state_dict(state_dict, prefix,
                                          local_metadata, *args)

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            self.bn1 = BN(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = BN(cout)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.classes, self.width, self.depth = classes, width, depth
            self.naux, self.tile = aux, tile
            c = [width << i for i in range(depth)]
            self.enc = nn.ModuleList(
                Block(3 if i == 0 else c[i - 1], c[i])
                for i in range(depth))
            self.dec = nn.ModuleList(
                Block(c[i + 1] + c[i], c[i]) for i in range(depth - 1))
            self.head = nn.Conv2d(c[0], classes, 1)
            self.aux = nn.ModuleList(
                nn.Conv2d(c[-1], classes, 1) for _ in range(aux))
            self.perturb = [k % 4 for k in range(aux)]

        def encode(self, x):
            skips = []
            for i, blk in enumerate(self.enc):
                if i > 0:
                    x = F.max_pool2d(x, 2)
                x = blk(x)
                skips.append(x)
            return skips

        def decode(self, skips):
            x = skips[-1]
            for i in range(self.depth - 2, -1, -1):
                x = F.interpolate(x, scale_factor=2, mode="nearest")
                x = torch.cat([x, skips[i]], 1)
                x = self.dec[i](x)
            return self.head(x)

        def aux_logits(self, k, z):
            return F.interpolate(self.aux[k](z),
                                 scale_factor=2 ** (self.depth - 1),
                                 mode="bilinear", align_corners=False)

        def forward(self, x):
            skips = self.encode(x)
            return self.decode(skips), [self.aux_logits(k, skips[-1])
                                        for k in range(self.naux)]

        def meta(self):
            return {"format": "s4lab", "classes": self.classes,
                    "width": self.width, "depth": self.depth,
                    "aux": self.naux, "tile": self.tile}

    return Net()


def perturb(z, kind):
    """One of ARCH.md's perturbations of the bottleneck z (N,C,h,w)."""
    torch = _torch()
    F = torch.nn.functional
    n, _, h, w = z.shape
    if kind == 0:
        return z * (1 + (torch.rand_like(z) * 0.6 - 0.3))
    if kind == 1:
        a = z.mean(1, keepdim=True)
        mn = a.amin(dim=(2, 3), keepdim=True)
        mx = a.amax(dim=(2, 3), keepdim=True)
        a = torch.where(mx > mn, (a - mn) / (mx - mn).clamp_min(1e-30),
                        torch.zeros_like(a))
        t = 0.6 + 0.3 * torch.rand(n, 1, 1, 1, device=z.device)
        return z * (a <= t).to(z.dtype)
    if kind == 2:
        return F.dropout2d(z, 0.5, training=True)
    if kind == 3:
        mask = torch.ones(n, 1, h, w, device=z.device, dtype=z.dtype)
        for i in range(n):
            rh = int(torch.randint(max(1, h // 4), max(1, h // 2) + 1, ()))
            rw = int(torch.randint(max(1, w // 4), max(1, w // 2) + 1, ()))
            y0 = int(torch.randint(0, h - rh + 1, ()))
            x0 = int(torch.randint(0, w - rw + 1, ()))
            mask[i, :, y0:y0 + rh, x0:x0 + rw] = 0
        return z * mask
    return z


def train_step(net, opt, xl, yl, xu, w_cons, use_perturb=True, clip=5.0):
    """One CCT step; returns (sup, cons) as floats."""
    torch = _torch()
    F = torch.nn.functional
    net.train()
    opt.zero_grad()
    loss = torch.zeros(())
    sup = cons = torch.zeros(())
    if xl is not None and len(xl) > 0:
        sup = F.cross_entropy(net.decode(net.encode(xl)), yl,
                              ignore_index=255)
        loss = loss + sup
    if xu is not None and len(xu) > 0 and net.naux > 0 and w_cons > 0:
        skips = net.encode(xu)
        with torch.no_grad():
            target = F.softmax(net.decode(skips), 1)
        z = skips[-1]
        terms = []
        for k in range(net.naux):
            zk = perturb(z, net.perturb[k]) if use_perturb else z
            p = F.softmax(net.aux_logits(k, zk), 1)
            terms.append(F.mse_loss(p, target))
        cons = sum(terms) / net.naux
        loss = loss + w_cons * cons
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
    opt.step()
    return float(sup), float(cons)


def infer(net, x):
    """Softmax of every decoder and the disagreement of each tile."""
    torch = _torch()
    F = torch.nn.functional
    net.eval()
    with torch.no_grad():
        logits, aux = net(x)
        main = F.softmax(logits, 1)
        probs = [F.softmax(a, 1) for a in aux]
        if probs:
            dis = sum(((p - main) ** 2).mean(dim=(1, 2, 3))
                      for p in probs) / len(probs)
        else:
            dis = torch.zeros(x.shape[0])
    return main, probs, dis


# ---------------------------------------------------------------------
# Weights and tiles on disk.

def load(path):
    torch = _torch()
    tensors, meta = st_read(path)
    if meta.get("format") != "s4lab":
        raise ValueError("%s: not s4lab weights" % path)
    net = build(int(meta["classes"]), int(meta["width"]),
                int(meta["depth"]), int(meta["aux"]), int(meta["tile"]))
    sd = net.state_dict()
    if set(sd) != set(tensors):
        raise ValueError("%s: tensor names differ: %s" %
                         (path, sorted(set(sd) ^ set(tensors))))
    new = {}
    for name, (shape, a) in tensors.items():
        t = torch.tensor(a.tolist(), dtype=torch.float32).reshape(shape)
        if list(sd[name].shape) != list(shape):
            raise ValueError("%s: %s has the wrong shape" % (path, name))
        new[name] = t
    net.load_state_dict(new, strict=True)
    return net


def _flat(t):
    return array.array("f", t.detach().cpu().float().reshape(-1).tolist())


def save(net, path):
    st_write(path, {k: (list(v.shape), _flat(v))
                    for k, v in net.state_dict().items()}, net.meta())


def read_tiles(path, n, tile):
    """n raw HWC tiles as the network's input (N,3,T,T)."""
    torch = _torch()
    with open(path, "rb") as f:
        raw = f.read(n * tile * tile * 3)
    if len(raw) != n * tile * tile * 3:
        raise ValueError("%s: too short" % path)
    t = torch.tensor(list(raw), dtype=torch.uint8)
    t = t.reshape(n, tile, tile, 3).permute(0, 3, 1, 2).contiguous()
    return t.float() / 127.5 - 1.0


def read_masks(path, n, tile):
    torch = _torch()
    with open(path, "rb") as f:
        raw = f.read(n * tile * tile)
    return torch.tensor(list(raw), dtype=torch.long).reshape(n, tile, tile)


# ---------------------------------------------------------------------
# Commands.

def cmd_infer(argv):
    weights, tiles, n, out = argv[0], argv[1], int(argv[2]), argv[3]
    torch = _torch()
    torch.set_num_threads(2)
    net = load(weights)
    main, probs, dis = infer(net, read_tiles(tiles, n, net.tile))
    res = {"main": (list(main.shape), _flat(main)),
           "disagreement": ([n], _flat(dis))}
    for k, p in enumerate(probs):
        res["aux.%d" % k] = (list(p.shape), _flat(p))
    st_write(out, res)
    return 0


def cmd_train(argv):
    weights, tiles, masks = argv[0], argv[1], argv[2]
    n, out = int(argv[3]), argv[4]
    torch = _torch()
    torch.set_num_threads(2)
    net = load(weights)
    x = read_tiles(tiles, n, net.tile)
    y = read_masks(masks, n, net.tile)
    nl = n // 2
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999),
                            eps=1e-8, weight_decay=1e-2)
    sup, cons = train_step(net, opt, x[:nl], y[:nl], x[nl:], 1.0,
                           use_perturb=False, clip=0)
    res = {"loss": ([2], array.array("f", [sup, cons]))}
    params = dict(net.named_parameters())
    for name, t in net.state_dict().items():
        res["after." + name] = (list(t.shape), _flat(t))
        if name in params:
            g = params[name].grad
            res["grad." + name] = (list(t.shape), _flat(g))
    st_write(out, res)
    return 0


def cmd_compare(argv):
    tol = float(argv[2]) if len(argv) > 2 else 1e-4
    pattern = argv[3] if len(argv) > 3 else ""
    return 0 if compare(argv[0], argv[1], tol, pattern) else 1


def cmd_bench(argv):
    import getopt
    torch = _torch()
    opts, args = getopt.getopt(argv, "t:s:i:")
    o = dict(opts)
    threads = int(o.get("-t", 2))
    steps = int(o.get("-s", 3))
    ntiles = int(o.get("-i", 16))
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    T = 256
    x = read_tiles(args[0], 16, T)
    y = read_masks(args[1], 16, T) if len(args) > 1 else \
        torch.zeros(16, T, T, dtype=torch.long)
    net = build(6)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    train_step(net, opt, x[:4], y[:4], x[4:8], 1.0)
    t0 = time.perf_counter()
    for i in range(steps):
        j = (i % 2) * 8
        train_step(net, opt, x[j:j + 4], y[j:j + 4], x[j + 4:j + 8], 1.0)
    step = (time.perf_counter() - t0) / steps
    infer(net, x[:1])
    t0 = time.perf_counter()
    for i in range(ntiles):
        infer(net, x[i % 16:i % 16 + 1])
    tps = ntiles / (time.perf_counter() - t0)
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("train_ms=%.1f infer_tiles_s=%.2f peak_rss_mb=%.0f torch=%s" %
          (step * 1000, tps, rss, torch.__version__))
    return 0


def main(argv):
    cmds = {"infer": (cmd_infer, 4), "train": (cmd_train, 5),
            "compare": (cmd_compare, 2), "bench": (cmd_bench, 1)}
    if len(argv) < 2 or argv[1] not in cmds or \
            len(argv) - 2 < cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    try:
        return cmds[argv[1]][0](argv[2:])
    except (OSError, ValueError) as e:
        sys.stderr.write("s4lab_model: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
