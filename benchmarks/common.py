"""Side-by-side timing against PyTorch: one process, alternating runs, medians.

The machine is shared and noisy, so absolute times drift; alternating nerve and PyTorch runs and
comparing medians makes the ratio robust to that drift.
"""
from __future__ import annotations

import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_MD = ROOT / "BENCHMARKS.md"


def time_once(fn, inner: int, settle: bool = False) -> float:
    if settle:
        # One untimed run first: the other library's idle worker threads (OpenBLAS's spin-yield,
        # PyTorch's OpenMP spin) stop competing for the cores before the clock starts.
        fn()
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def compare(nerve_fn, torch_fn, *, rounds: int = 15, inner: int = 5, warmup: int = 3, settle: bool = False):
    """Alternate nerve and torch runs; return (nerve_median_s, torch_median_s, ratio).

    ``settle``: each timing starts with one untimed run (see ``time_once``).
    """
    for _ in range(warmup):
        nerve_fn()
        torch_fn()
    tn, tt = [], []
    for r in range(rounds):
        # Alternate which goes first so neither always runs on a warmer cache.
        if r % 2 == 0:
            tn.append(time_once(nerve_fn, inner, settle))
            tt.append(time_once(torch_fn, inner, settle))
        else:
            tt.append(time_once(torch_fn, inner, settle))
            tn.append(time_once(nerve_fn, inner, settle))
    mn, mt = statistics.median(tn), statistics.median(tt)
    return mn, mt, mn / mt


def machine() -> str:
    import numpy as np
    import torch
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, PyTorch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def write_section(name: str, command: str, table: str, notes: str = "") -> None:
    """Replace (or add) the section ``## name`` in BENCHMARKS.md."""
    text = BENCH_MD.read_text() if BENCH_MD.exists() else "# Benchmarks\n\nnerve vs PyTorch (CPU), measured side by side in one process, alternating runs, medians.\n"
    stamp = time.strftime("%Y-%m-%d")
    section = (f"## {name}\n\nCommand: `{command}`  \nMeasured {stamp} on {machine()}.\n\n{table.rstrip()}\n"
               + (f"\n{notes.strip()}\n" if notes else ""))
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = BENCH_MD.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip("\n") + "\n")
    os.replace(tmp, BENCH_MD)


def cli_command() -> str:
    """The command that ran this benchmark, quoted so that it can be pasted back into a shell."""
    return "python " + shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])
