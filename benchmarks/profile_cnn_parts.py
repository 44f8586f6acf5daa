"""Forward + backward of the non-convolution parts of the CNN step benchmark, nerve vs PyTorch.

Shapes are those of benchmarks/bench_cnn_step.py: BatchNorm2d (training), ReLU, MaxPool2d(2),
AdaptiveAvgPool2d(1) and the residual add. Each case is one forward and one backward (with a fixed
upstream gradient), timed side by side in one process, alternating runs, medians.

Run: python benchmarks/profile_cnn_parts.py [--rounds N] [--only SUBSTRING] [--threads T]
     [--profile NAME]  (loops the nerve side of one case, for py-spy / pyinstrument)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nerve  # noqa: E402
from benchmarks.common import time_once  # noqa: E402

BN_SHAPES = [(64, 32, 28, 28), (64, 64, 14, 14), (32, 64, 32, 32)]
POOL_SHAPES = [(64, 32, 28, 28), (64, 64, 14, 14)]


def _case(lib, make_mod, shape, two_inputs=False):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    mod = make_mod(lib)
    xt = lib.tensor(x, requires_grad=True)
    yt = lib.tensor(y, requires_grad=True) if two_inputs else None
    with lib.no_grad():
        out_shape = tuple((mod(xt, yt) if two_inputs else mod(xt)).shape)
    g = lib.tensor(rng.standard_normal(out_shape).astype(np.float32))

    def step():
        xt.grad = None
        if two_inputs:
            yt.grad = None
            out = mod(xt, yt)
        else:
            out = mod(xt)
        out.backward(g)
    return step


def cases():
    out = []
    for s in BN_SHAPES:
        out.append((f"BatchNorm2d train {s}", lambda lib, c=s[1]: lib.nn.BatchNorm2d(c), s, False))
    for s in BN_SHAPES:
        out.append((f"ReLU {s}", lambda lib: lib.nn.ReLU(), s, False))
    for s in POOL_SHAPES:
        out.append((f"MaxPool2d(2) {s}", lambda lib: lib.nn.MaxPool2d(2), s, False))
    out.append(("AdaptiveAvgPool2d(1) (32, 64, 32, 32)", lambda lib: lib.nn.AdaptiveAvgPool2d(1),
                (32, 64, 32, 32), False))
    out.append(("x + y (32, 64, 32, 32)", lambda lib: (lambda a, b: a + b), (32, 64, 32, 32), True))
    return out


def compare(nf, tf, rounds, inner, warmup=2):
    """Alternating runs (as benchmarks.common.compare); medians and minima of both sides."""
    for _ in range(warmup):
        nf()
        tf()
    tn, tt = [], []
    for r in range(rounds):
        for f, acc in ((nf, tn), (tf, tt)) if r % 2 == 0 else ((tf, tt), (nf, tn)):
            acc.append(time_once(f, inner))
    return statistics.median(tn), statistics.median(tt), min(tn), min(tt)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--inner", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--profile", default="", help="loop the nerve side of the first case matching this")
    ap.add_argument("--iters", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.profile:
        name, mk, s, two = next(c for c in cases() if args.profile in c[0])
        step = _case(nerve, mk, s, two)
        for _ in range(args.iters):
            step()
        return
    print(f"load average {os.getloadavg()[0]:.2f}; medians (minima in brackets), torch with {args.threads} threads")
    print(f"{'part':40s} {'nerve ms':>15s} {'torch ms':>15s} {'ratio':>11s}")
    for name, mk, s, two in cases():
        if args.only and args.only not in name:
            continue
        mn, mt, nn_, nt = compare(_case(nerve, mk, s, two), _case(torch, mk, s, two), args.rounds, args.inner)
        print(f"{name:40s} {mn * 1e3:6.2f} ({nn_ * 1e3:6.2f}) {mt * 1e3:6.2f} ({nt * 1e3:6.2f}) "
              f"{mn / mt:4.2f} ({nn_ / nt:4.2f})", flush=True)


if __name__ == "__main__":
    main()
