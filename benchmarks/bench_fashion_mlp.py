"""Acceptance run of the main job: `nerve train` (default config fashion-mlp) on full Fashion-MNIST.

Target (issue 3): >= 89.5% test accuracy in <= 3 minutes on this 2-core machine.
Runs the real command in a subprocess, reads the run's summary.json, and records the test
accuracy, the training time and the whole command's wall time in BENCHMARKS.md.

Run: python benchmarks/bench_fashion_mlp.py [--runs N] [--no-write]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import ROOT, cli_command, write_section  # noqa: E402


def run_once(out: str) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "nerve", "train", "--out", out, "--quiet"], cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"nerve train failed:\n{p.stdout}\n{p.stderr}")
    s = json.loads(open(os.path.join(out, "summary.json")).read())
    s["wall_seconds"] = wall
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            s = run_once(os.path.join(d, "run"))
        rows.append(s)
        print(f"run {i + 1}: test_accuracy {s['test_accuracy']:.4f}  training {s['train_seconds']:.1f} s  "
              f"command {s['wall_seconds']:.1f} s  load {os.getloadavg()[0]:.2f}", flush=True)
    table = ("| run | test accuracy | training time (s) | whole command (s) | epochs | target |\n"
             "|---|---|---|---|---|---|\n")
    for i, s in enumerate(rows):
        table += (f"| {i + 1} | **{s['test_accuracy'] * 100:.2f}%** | {s['train_seconds']:.1f} | "
                  f"{s['wall_seconds']:.1f} | {s['epochs_run']} | >= 89.5% in <= 180 s |\n")
    notes = ("`nerve train` with no argument (built-in config `fashion-mlp`, see nerve/configs/fashion-mlp.yaml), "
             "full 60k training set, evaluated on the 10k test set. 'training time' is fit() alone; 'whole "
             "command' includes Python start-up, data loading, test evaluation, plots and report.")
    print(table)
    if not args.no_write:
        write_section("nerve train: fashion-mlp (issue 3)", cli_command(), table, notes)


if __name__ == "__main__":
    main()
