"""One training step of two convolutional nets, nerve vs PyTorch CPU (issue 4).

(a) 4-conv net: conv3x3 32-32-pool-64-64-pool, each conv followed by BatchNorm2d + ReLU, then
    Flatten, Linear(64*7*7, 256), ReLU, Linear(256, 10); batch 64 of 1x28x28.
(b) ResNet basic-block stack: two BasicBlocks (conv3x3-BN-ReLU-conv3x3-BN + identity, ReLU) at
    64 channels, 32x32, batch 32, global average pool, Linear(64, 10).
A step is forward, CrossEntropyLoss, backward, SGD-momentum step, zero_grad, written identically
against both libraries, from identical weights on the same batch (parameters checked equal after
the first steps).

Target: nerve time / PyTorch time <= 1.0.

Run: python benchmarks/bench_cnn_step.py [--rounds N] [--label TEXT] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nerve  # noqa: E402
from benchmarks.common import cli_command, compare, write_section  # noqa: E402

torch.set_num_threads(os.cpu_count() or 2)


def conv_bn_relu(nn, cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def four_conv(lib):
    nn = lib.nn
    return nn.Sequential(*conv_bn_relu(nn, 1, 32), *conv_bn_relu(nn, 32, 32), nn.MaxPool2d(2),
                         *conv_bn_relu(nn, 32, 64), *conv_bn_relu(nn, 64, 64), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 10))


def resnet_blocks(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + x)

    return nn.Sequential(Block(64), Block(64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def make_step(lib, model, x, y):
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return step


def pair(build, shape, classes=10):
    rng = np.random.default_rng(0)
    tm = build(torch)
    nm = build(nerve)
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, shape[0])
    ts = make_step(torch, tm, torch.from_numpy(x), torch.from_numpy(y))
    ns = make_step(nerve, nm, nerve.tensor(x), nerve.tensor(y))
    for _ in range(2):
        ts()
        ns()
    for (k, a), b in zip(tm.state_dict().items(), nm.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.detach().numpy(), rtol=2e-3, atol=2e-4, err_msg=k)
    return ns, ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--label", default="im2col + one GEMM per group (baseline)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for name, build, shape in (("(a) 4-conv net + BN, batch 64, 1x28x28", four_conv, (64, 1, 28, 28)),
                               ("(b) 2 ResNet basic blocks, 64 ch, 32x32, batch 32", resnet_blocks, (32, 64, 32, 32))):
        ns, ts = pair(build, shape)
        mn, mt, r = compare(ns, ts, rounds=args.rounds, inner=1, warmup=1)
        rows.append((name, mn, mt, r))
        print(f"{name}: nerve {mn * 1e3:.1f} ms  torch {mt * 1e3:.1f} ms  ratio {r:.2f}", flush=True)
    table = "| benchmark | nerve (ms) | PyTorch (ms) | nerve / PyTorch | target |\n|---|---|---|---|---|\n"
    for name, a, b, ratio in rows:
        table += f"| {name} | {a * 1e3:.1f} | {b * 1e3:.1f} | **{ratio:.2f}** | <= 1.0 |\n"
    notes = (f"Formulation measured: {args.label}. Load average {os.getloadavg()[0]:.2f} at the end of the run. "
             "Target not met yet: this row is the starting point for the convolution work of issue 4.")
    print(table)
    if not args.no_write:
        write_section("CNN training step (issue 4)", cli_command(), table, notes)


if __name__ == "__main__":
    main()
