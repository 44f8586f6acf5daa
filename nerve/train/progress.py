"""``ProgbarLogger``: fit's progress display.

On a terminal (``verbose=1``), a progress bar per epoch: tqdm's when tqdm is installed, else a
one-line bar redrawn in place at most 10 times a second. When stdout is not a terminal (a log
file, CI) or with ``verbose=2``, exactly one line per epoch::

    epoch 3/10 - 2.1s - loss: 0.4123 - accuracy: 0.8512 - val_loss: 0.4410 - val_accuracy: 0.8390 - lr: 0.001
"""
from __future__ import annotations

import math
import sys
import time

from .callbacks import Callback

__all__ = ["ProgbarLogger", "format_logs"]

_REFRESH = 0.1  # seconds between redraws of a bar


def _fmt(k: str, v) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if k == "lr" or k.endswith("learning_rate"):
        return f"{k}: {v:.4g}"
    if v != 0 and math.isfinite(v) and (abs(v) < 1e-3 or abs(v) >= 1e6):
        return f"{k}: {v:.4e}"
    return f"{k}: {v:.4f}"


def format_logs(logs: dict) -> str:
    """``'loss: 0.4123 - accuracy: 0.8512 - lr: 0.001'`` (non-scalar entries are left out)."""
    parts = [_fmt(k, v) for k, v in (logs or {}).items()]
    return " - ".join(p for p in parts if p is not None)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgbarLogger(Callback):
    """Prints training progress (fit adds one when ``verbose > 0``).

    Args:
        verbose: 1: a progress bar on a terminal, one line per epoch otherwise; 2: one line per epoch.
        use_tqdm: None (default) uses tqdm for the bar when it is installed; False never does.
    """

    def __init__(self, verbose: int = 1, use_tqdm=None):
        super().__init__()
        self.verbose = verbose
        self.use_tqdm = use_tqdm
        self._bar_mode = False
        self._tqdm = None
        self._bar = None
        self._last = 0.0
        self._t0 = 0.0
        self._line_len = 0

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs")
        self.steps = self.params.get("steps")
        self._bar_mode = self.verbose == 1 and _isatty(sys.stdout)
        self._tqdm = None
        if self._bar_mode and self.use_tqdm is not False:
            try:
                from tqdm.auto import tqdm  # optional
                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None

    def wants_batch_logs(self) -> bool:
        return self._bar_mode and time.perf_counter() - self._last >= _REFRESH

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._last = self._t0
        self._epoch = epoch
        if self._bar_mode and self._tqdm is not None:
            self._bar = self._tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", leave=False,
                                   file=sys.stdout, dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if not self._bar_mode:
            return
        now = time.perf_counter()
        if now - self._last < _REFRESH:
            return
        self._last = now
        done = batch + 1
        if self._bar is not None:
            self._bar.n = done
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.refresh()
            return
        total = self.steps
        if total:
            width = 25
            filled = int(width * done / total)
            bar = "=" * max(filled - 1, 0) + (">" if filled < width else "=") + "." * (width - filled)
            head = f"epoch {self._epoch + 1}/{self.epochs} {done}/{total} [{bar}]"
        else:
            head = f"epoch {self._epoch + 1}/{self.epochs} {done}"
        text = f"{head} {now - self._t0:.1f}s"
        if logs:
            text += " - " + format_logs(logs)
        self._write_inline(text)

    def _write_inline(self, text: str) -> None:
        pad = max(self._line_len - len(text), 0)
        sys.stdout.write("\r" + text + " " * pad)
        sys.stdout.flush()
        self._line_len = len(text)

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        line = f"epoch {epoch + 1}/{self.epochs} - {dt:.1f}s"
        body = format_logs(logs or {})
        if body:
            line += " - " + body
        if self._line_len:
            self._write_inline(line)
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._line_len = 0
        else:
            print(line, file=sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
