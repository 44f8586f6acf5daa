"""Run reports: training-curve and confusion-matrix PNGs and a short human-readable summary.

Plots need matplotlib (optional extra ``nerve[train]``); without it the PNGs are skipped and the
report says so. Every file is written atomically (temp file, fsync, rename).
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np

from ..serialization import atomic_write


def atomic_write_text(path, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


def write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415 - optional extra
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    return plt


def _save_fig(fig, path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, buf.getvalue())


def plot_history(history: dict, path) -> bool:
    """Loss and metric curves per epoch (train and validation). Returns False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    keys = [k for k in history if not k.startswith("val_") and k not in ("lr", "epoch") and history[k]]
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(5 * max(1, len(keys)), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], marker="o", ms=3, label=f"train {key}")
        if history.get(f"val_{key}"):
            ax.plot(np.arange(1, len(history[f"val_{key}"]) + 1), history[f"val_{key}"], marker="o", ms=3,
                    label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save_fig(fig, path)
    plt.close(fig)
    return True


def plot_confusion_matrix(cm, class_names, path, title="Confusion matrix (test set)") -> bool:
    """A row-normalised confusion matrix with counts in each cell."""
    plt = _pyplot()
    if plt is None:
        return False
    cm = np.asarray(cm)
    rows = cm.sum(axis=1, keepdims=True)
    norm = cm / np.maximum(rows, 1)
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * n, 0.8 + 0.65 * n))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels=class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    _save_fig(fig, path)
    plt.close(fig)
    return True


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def _augment_names(spec):
    """Transform names from ``data.augment`` (a list of names/mappings, or a name -> args mapping)."""
    if not spec:
        return []
    if isinstance(spec, dict):
        return [str(k) for k in spec]
    return [str(e.get("name")) if isinstance(e, dict) else str(e) for e in spec]


def write_report(path, *, name: str, summary: dict, config: dict, class_names=None, per_class=None,
                 files=(), notes=()) -> None:
    """A short Markdown report: what ran, how long, and how well it did (``notes``: the task's own lines)."""
    lines = [f"# Run report: {name}", ""]
    desc = config.get("description")
    if desc:
        lines += [desc, ""]
    m = config.get("model", {})
    t = config.get("train", {})
    opt = t.get("optimizer", {})
    sch = t.get("scheduler", {})
    lines += [
        "## Setup",
        f"- data: {config.get('data', {}).get('dataset')} (validation split {config.get('data', {}).get('validation_split')})",
        "- model: " + " ".join([str(m.get("type", "mlp"))] + [f"{k}={v}" for k, v in m.items() if k != "type"]),
        "- augmentation: " + (", ".join(_augment_names(config.get("data", {}).get("augment"))) or "none"),
        f"- training: {summary.get('epochs_run')} of {t.get('epochs')} epochs, batch {t.get('batch_size')}, "
        f"{opt.get('name')} lr={opt.get('lr')} momentum={opt.get('momentum')} weight_decay={opt.get('weight_decay')}, "
        f"schedule {sch.get('name')}, seed {t.get('seed')}",
        f"- parameters: {summary.get('parameters')}",
        f"- training time: {summary.get('train_seconds', float('nan')):.1f} s",
        "",
        "## Test results",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for k, v in summary.items():
        if k.startswith("test_"):
            lines.append(f"| {k} | {_fmt(v)} |")
    if per_class and class_names:
        lines += ["", "## Per class (test set)", "", "| class | precision | recall | F1 |", "|---|---|---|---|"]
        for i, c in enumerate(class_names):
            lines.append(f"| {c} | {per_class['precision'][i]:.3f} | {per_class['recall'][i]:.3f} | "
                         f"{per_class['f1'][i]:.3f} |")
    if notes:
        lines += [""] + list(notes)
    if files:
        lines += ["", "## Files", ""] + [f"- `{f}`" for f in files]
    atomic_write_text(path, "\n".join(lines) + "\n")
