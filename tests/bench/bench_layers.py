# The PyTorch side of bench_layers: the same convolutions and the same
# forward layer sequence, printed in the same format.
#	python3 bench_layers.py [batch] [threads] [reps] [cpu]
# With "cpu", the process's CPU time is counted instead of wall time (as
# bench_layers -c).
import sys
import time

import torch
import torch.nn.functional as F

N = int(sys.argv[1]) if len(sys.argv) > 1 else 4
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
clock = time.process_time if len(sys.argv) > 4 and sys.argv[4] == "cpu" \
    else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(1)

CONVS = [(3, 16, 256), (16, 16, 256), (16, 32, 128), (32, 32, 128),
         (32, 64, 64), (64, 64, 64), (64, 128, 32), (128, 128, 32),
         (192, 64, 64), (64, 64, 64), (96, 32, 128), (32, 32, 128),
         (48, 16, 256), (16, 16, 256)]


def best(f):
    b = 1e30
    for _ in range(reps):
        t = clock()
        f()
        b = min(b, clock() - t)
    return b


for C, K, H in CONVS:
    x = torch.rand(N, C, H, H) * 2 - 1
    w = torch.rand(K, C, 3, 3) * 2 - 1
    flops = 2.0 * N * C * K * 9 * H * H
    with torch.no_grad():
        tf = best(lambda: F.conv2d(x, w, padding=1))
    xg = x.clone().requires_grad_()
    wg = w.clone().requires_grad_()
    out = F.conv2d(xg, wg, padding=1)
    g = torch.rand_like(out)

    def bwd():
        torch.autograd.grad(out, (xg, wg), g, retain_graph=True)
    tb = best(bwd)
    print("conv %d %d %d %.1f %.1f" % (C, K, H, flops / tf * 1e-9,
                                        2 * flops / tb * 1e-9), flush=True)


def block(c, k):
    return torch.nn.Sequential(torch.nn.Conv2d(c, k, 3, padding=1,
                                               bias=False),
                               torch.nn.BatchNorm2d(k), torch.nn.ReLU())


enc = [torch.nn.Sequential(block(3 if i == 0 else 8 << i, 16 << i),
                           block(16 << i, 16 << i)) for i in range(4)]
dec = [torch.nn.Sequential(block(48 << i, 16 << i), block(16 << i, 16 << i))
       for i in range(3)]
head = torch.nn.Conv2d(16, 6, 1)
aux = [torch.nn.Conv2d(128, 6, 1) for _ in range(4)]
for m in enc + dec:
    m.eval()
x = torch.rand(N, 3, 256, 256) * 2 - 1


def net():
    skips = []
    cur = x
    for i in range(4):
        if i > 0:
            cur = F.max_pool2d(cur, 2)
        cur = enc[i](cur)
        skips.append(cur)
    z = cur
    for i in (2, 1, 0):
        cur = F.interpolate(cur, scale_factor=2, mode='nearest')
        cur = dec[i](torch.cat([cur, skips[i]], 1))
    F.softmax(head(cur), 1)
    for a in aux:
        F.softmax(F.interpolate(a(z), scale_factor=8, mode='bilinear',
                                align_corners=False), 1)


with torch.no_grad():
    print("net %.2f" % (best(net) * 1e3))
