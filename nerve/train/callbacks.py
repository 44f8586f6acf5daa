"""Callbacks for :func:`nerve.train.fit`, with Keras' hook names and semantics.

A callback subclasses :class:`Callback` and overrides any of::

    on_train_begin(logs)            on_train_end(logs)
    on_epoch_begin(epoch, logs)     on_epoch_end(epoch, logs)
    on_train_batch_begin(batch, logs)   on_train_batch_end(batch, logs)   (alias: on_batch_begin/end)
    on_test_begin(logs) / on_test_end(logs) / on_test_batch_begin / on_test_batch_end   (validation)
    on_predict_begin / on_predict_end / on_predict_batch_begin / on_predict_batch_end

``epoch`` and ``batch`` are 0-based. Epoch logs hold the epoch's ``loss``, metrics, ``val_loss``,
``val_`` metrics and ``lr``; batch logs hold running averages over the epoch so far.

While fit runs, every callback has:

* ``self.model``: the module being trained;
* ``self.params``: ``{'epochs': ..., 'steps': ..., 'verbose': ...}`` (``steps`` per epoch, None if unknown);
* ``self.trainer``: the running loop, with ``optimizer``, ``scheduler``, ``loss_fn``, ``epoch``,
  ``global_step`` (optimizer steps taken), ``history``.

**Stopping.** A callback stops training by setting ``self.model.stop_training = True`` (as in
Keras). fit checks the flag after every batch and every epoch: set during a batch, the current
epoch ends there (its validation and ``on_epoch_end`` still run); set in ``on_epoch_end``, no
further epoch starts.

**Resuming.** A callback whose behaviour depends on the past (patience counters, best values)
implements ``state_dict()`` / ``load_state_dict(state)`` with JSON-serialisable values; fit saves
them in its checkpoints and restores them (after ``on_train_begin``) when resuming.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import warnings

import numpy as np

from .metrics import HIGHER_IS_BETTER

__all__ = [
    "Callback", "CallbackList", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
    "LRScheduler", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN",
]


def _print(msg: str) -> None:
    print(msg, file=sys.stdout, flush=True)


class Callback:
    """Base class of callbacks: every hook is a no-op; override the ones you need (see the module doc).

    Example:
        >>> class StopAt(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if logs["val_accuracy"] > 0.9:
        ...             self.model.stop_training = True
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}
        self.trainer = None

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    # ---------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        """Keras' older name: called by ``on_train_batch_begin`` unless that is overridden."""

    def on_batch_end(self, batch, logs=None):
        """Keras' older name: called by ``on_train_batch_end`` unless that is overridden."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    # ---------------------------------------------------------------- resume
    def state_dict(self) -> dict:
        """JSON-serialisable state that fit's checkpoints keep (default: nothing)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (called after ``on_train_begin`` on resume)."""

    def wants_batch_logs(self) -> bool:
        """Whether the next ``on_train_batch_end`` needs filled-in logs (computing them costs a little)."""
        return True


_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(cb, hook: str) -> bool:
    cls = type(cb)
    if hook in cb.__dict__:  # LambdaCallback sets hooks on the instance
        return True
    if getattr(cls, hook) is not getattr(Callback, hook):
        return True
    alias = _ALIASES.get(hook)
    return alias is not None and (alias in cb.__dict__ or getattr(cls, alias) is not getattr(Callback, alias))


class CallbackList:
    """Calls a hook on every callback that overrides it (no-op hooks cost nothing per batch)."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be nerve.train.callbacks.Callback instances, got "
                                f"{type(c).__name__} (wrap a function with LambdaCallback)")
        self._bound = {h: [getattr(c, h) for c in self.callbacks if _overrides(c, h)] for h in _HOOKS}
        self._batch_end_cbs = [c for c in self.callbacks if _overrides(c, "on_train_batch_end")]

    def append(self, cb) -> None:
        self.__init__(self.callbacks + [cb])

    def hooks(self, name: str) -> list:
        """The bound methods to call for hook ``name`` (empty when no callback overrides it)."""
        return self._bound[name]

    def wants_batch_logs(self) -> bool:
        for c in self._batch_end_cbs:
            if c.wants_batch_logs():
                return True
        return False

    def set_model(self, model):
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        for c in self.callbacks:
            c.set_params(params)

    def set_trainer(self, trainer):
        for c in self.callbacks:
            c.set_trainer(trainer)

    def _call(self, name, *args):
        for f in self._bound[name]:
            f(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


# ============================================================================ helpers
def _monitor_mode(monitor: str, mode: str, who: str, unknown: str | None = None) -> str:
    """'min' or 'max' for ``monitor`` (``mode='auto'`` decides from the metric's name).

    A name of unknown direction gives ``unknown`` ('min' for ReduceLROnPlateau and ModelCheckpoint,
    as in Keras) or an error (EarlyStopping, as in Keras 3).
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    name = monitor.removeprefix("val_")
    if name in HIGHER_IS_BETTER:
        return "max" if HIGHER_IS_BETTER[name] else "min"
    if "acc" in name or name.startswith(("f1", "precision", "recall", "auc", "r2", "top_")):
        return "max"
    if "loss" in name or "error" in name or name in ("lr",):
        return "min"
    if unknown is not None:
        return unknown
    raise ValueError(f"{who}: cannot tell whether '{monitor}' should be minimized or maximized; pass "
                     "mode='min' or mode='max'")


def _scalar(v):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _optimizer(cb, who: str):
    trainer = cb.trainer
    opt = getattr(trainer, "optimizer", None)
    if opt is None:
        raise RuntimeError(f"{who} needs the optimizer: use it inside nerve.train.fit (self.trainer.optimizer)")
    return opt


def _lr_value(lr) -> float:
    return float(lr.item() if hasattr(lr, "item") else lr)


def _get_lr(opt) -> float:
    return _lr_value(opt.param_groups[0]["lr"])


def _set_lr(opt, new_lrs) -> None:
    for g, lr in zip(opt.param_groups, new_lrs):
        if hasattr(g["lr"], "fill_"):
            g["lr"].fill_(lr)
        else:
            g["lr"] = lr


def _json_number(x):
    """A float for JSON (inf stays inf: Python's json writes Infinity)."""
    return None if x is None else float(x)


# ============================================================================ callbacks
class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_batch_begin, on_batch_end: ``f(batch, logs)`` (training batches).
        on_train_begin, on_train_end: ``f(logs)``.
        **kwargs: any other hook by name (``on_test_batch_end=...``).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        funcs = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_batch_begin=on_batch_begin,
                     on_batch_end=on_batch_end, on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs)
        for name, f in funcs.items():
            if f is None:
                continue
            if name not in _HOOKS and name not in ("on_batch_begin", "on_batch_end"):
                raise TypeError(f"LambdaCallback: unknown hook '{name}'; hooks are {list(_HOOKS)}")
            if not callable(f):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {type(f).__name__}")
            setattr(self, name, f)


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras semantics).

    After each epoch (from ``start_from_epoch`` on), the count of epochs without improvement grows;
    an improvement (better than the best by more than ``min_delta``, and better than ``baseline`` if
    given) resets it. When it reaches ``patience``, ``model.stop_training`` is set.

    Args:
        monitor: key of the epoch logs, e.g. 'val_loss' (default) or 'val_accuracy'.
        min_delta: smallest absolute change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a message when stopping / restoring.
        mode: 'min', 'max' or 'auto' (from the name: accuracy-like names are maximized).
        baseline: training stops if the model does not beat this value within ``patience`` epochs.
        restore_best_weights: at the end, load the weights of the best epoch. They are kept in
            memory only: when fit resumes from a checkpoint, the counters and the best value carry
            over but weights from before the interruption do not, so the weights restored come
            from an epoch after it.
        start_from_epoch: epochs to wait before monitoring starts (warm-up).
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline=None, restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference) -> bool:
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = _scalar((logs or {}).get(self.monitor))
        if current is None:
            warnings.warn(f"EarlyStopping is conditioned on '{self.monitor}', which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def _weights(self) -> dict:
        return {k: v.clone() for k, v in self.model.state_dict().items()}

    def state_dict(self) -> dict:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": _json_number(self.best),
                "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a monitored quantity stops improving (Keras semantics).

    Args:
        monitor: key of the epoch logs (default 'val_loss').
        factor: new_lr = lr * factor (must be < 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints a message on each reduction.
        mode: 'min', 'max' or 'auto'.
        min_delta: an improvement must beat the best by more than this (absolute).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound on the learning rate.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:  # Keras' old name
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode, "ReduceLROnPlateau", unknown="min")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _better(self, a, b) -> bool:
        return a < b - self.min_delta if self.mode == "min" else a > b + self.min_delta

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = _scalar((logs or {}).get(self.monitor))
        if current is None:
            warnings.warn(f"ReduceLROnPlateau is conditioned on '{self.monitor}', which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                opt = _optimizer(self, "ReduceLROnPlateau")
                old = [_lr_value(g["lr"]) for g in opt.param_groups]
                new = [max(lr * self.factor, self.min_lr) if lr > self.min_lr else lr for lr in old]
                if new != old:
                    _set_lr(opt, new)
                    if self.verbose > 0:
                        _print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new[0]:.4g}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def state_dict(self) -> dict:
        return {"best": _json_number(self.best), "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]
        self.wait = state["wait"]
        self.cooldown_counter = state["cooldown_counter"]


class LRScheduler(Callback):
    """Step a ``nerve.optim.lr_scheduler`` scheduler from fit, once per epoch or once per batch.

    Args:
        scheduler: any nerve LR scheduler built on fit's optimizer.
        interval: 'epoch' (default; after ``on_epoch_end``'s logs are made) or 'batch' (after every
            optimizer step; for OneCycleLR/CyclicLR).
        monitor: for ``ReduceLROnPlateau`` schedulers: the epoch-log key passed to ``step(metric)``
            (default 'val_loss', falling back to 'loss' when there is no validation).

    Example:
        >>> opt = nerve.optim.SGD(model.parameters(), lr=0.1)
        >>> sched = nerve.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * steps)
        >>> fit(model, data, loss="cross_entropy", optimizer=opt, callbacks=[LRScheduler(sched, "batch")])
    """

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss"):
        super().__init__()
        if interval not in ("epoch", "batch", "step"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        if not hasattr(scheduler, "step") or not hasattr(scheduler, "state_dict"):
            raise TypeError(f"LRScheduler needs a nerve.optim.lr_scheduler scheduler, got {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.interval = "batch" if interval == "step" else interval
        self.monitor = monitor
        from ..optim.lr_scheduler import ReduceLROnPlateau as _Plateau
        self._plateau = isinstance(scheduler, _Plateau)
        if self._plateau and self.interval == "batch":
            raise ValueError("LRScheduler: a ReduceLROnPlateau scheduler steps once per epoch (interval='epoch')")

    def wants_batch_logs(self) -> bool:
        return False

    def on_train_batch_end(self, batch, logs=None):
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.interval != "epoch":
            return
        if self._plateau:
            logs = logs or {}
            key = self.monitor if self.monitor in logs else "loss"
            value = _scalar(logs.get(key))
            if value is None:
                raise RuntimeError(f"LRScheduler: ReduceLROnPlateau monitors '{self.monitor}', which is not in "
                                   f"the epoch logs {sorted(logs)}")
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {"scheduler": _jsonable(self.scheduler.state_dict(), "LRScheduler")}

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state["scheduler"])


def _jsonable(obj, who):
    """``obj`` with tuples as lists and NumPy scalars as Python numbers; raises for anything else JSON can't hold."""
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, str) else k: _jsonable(v, who) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, who) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "item") and getattr(obj, "numel", lambda: 0)() == 1:
        return obj.item()
    raise TypeError(f"{who}: cannot store a {type(obj).__name__} in a checkpoint (JSON numbers, strings, lists "
                    "and dicts only)")


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)`` (Keras' callback).

    Args:
        schedule: ``f(epoch, lr) -> new_lr`` (or ``f(epoch)``), epoch 0-based.
        verbose: 1 prints the new rate.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = _optimizer(self, "LearningRateScheduler")
        lr = _get_lr(opt)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(new.item() if hasattr(new, "item") else new)
        if not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: the schedule returned {new} for epoch {epoch}")
        _set_lr(opt, [new] * len(opt.param_groups))
        if self.verbose > 0:
            _print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new:.4g}.")


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = _scalar((logs or {}).get("loss"))
        if loss is not None and not math.isfinite(loss):
            _print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (columns: ``epoch`` then the log keys, sorted).

    Args:
        filename: path of the CSV file.
        separator: column separator.
        append: append to an existing file (no second header) instead of overwriting it. When fit
            resumes from a checkpoint, rows written after that checkpoint are dropped first, so the
            file holds each epoch once.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None
        self._rows = 0

    def on_train_begin(self, logs=None):
        d = os.path.dirname(self.filename)
        if d:
            os.makedirs(d, exist_ok=True)
        self.keys = None
        self._rows = 0
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                rows = list(csv.reader(f, delimiter=self.sep))
            if rows:
                self.keys = rows[0][1:]
                self._rows = len(rows) - 1
            self._file = open(self.filename, "a", newline="")
        else:
            self._file = open(self.filename, "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + list(self.keys), delimiter=self.sep,
                                          extrasaction="ignore")
            if self._rows == 0 and self._file.tell() == 0:
                self._writer.writeheader()
        row = {"epoch": epoch}
        for k in self.keys:
            v = logs.get(k, "NA")
            if isinstance(v, (list, tuple, np.ndarray)):
                v = "[" + ", ".join(map(str, np.asarray(v).reshape(-1).tolist())) + "]"
            row[k] = v
        self._writer.writerow(row)
        self._file.flush()
        self._rows += 1

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None

    def state_dict(self) -> dict:
        return {"rows": self._rows}

    def load_state_dict(self, state: dict) -> None:
        keep = int(state["rows"])
        if self._file is None or not os.path.exists(self.filename) or self._rows <= keep:
            return
        self._file.close()
        with open(self.filename, newline="") as f:
            rows = list(csv.reader(f, delimiter=self.sep))
        with open(self.filename, "w", newline="") as f:
            csv.writer(f, delimiter=self.sep).writerows(rows[:keep + 1])
        self._rows = keep
        self._file = open(self.filename, "a", newline="")
        self._writer = None


class ModelCheckpoint(Callback):
    """Save the model (or a full checkpoint) after every epoch, or only when the monitored value improves.

    Args:
        filepath: where to save; formatted with ``epoch`` (1-based) and the epoch logs, e.g.
            ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}"``.
        monitor: the epoch-log key compared by ``save_best_only``.
        verbose: 1 prints a line on each save.
        save_best_only: save only when ``monitor`` improves on the best value so far (so a
            constant ``filepath`` always holds the best model).
        mode: 'min', 'max' or 'auto'.
        save_weights_only: True writes ``model.state_dict()`` with ``nerve.save`` into one
            safetensors file; False (default) writes a checkpoint directory with
            ``nerve.train.checkpoint.save_checkpoint`` (model, optimizer, scheduler, epoch and logs),
            which ``load_checkpoint(path, model=...)`` reads back.
        save_freq: 'epoch' or a number of batches between saves.
        initial_value_threshold: with ``save_best_only``, only values better than this are saved.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = False, save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _monitor_mode(monitor, mode, "ModelCheckpoint", unknown="min")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive integer, got {save_freq!r}")
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            math.inf if self.mode == "min" else -math.inf)
        self._batches = 0
        self._epoch = 0

    def _better(self, a, b) -> bool:
        return a < b if self.mode == "min" else a > b

    def wants_batch_logs(self) -> bool:
        return self.save_freq != "epoch" and (self._batches + 1) % self.save_freq == 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save(self._epoch, logs or {}, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _path(self, epoch, logs, batch=None) -> str:
        scalars = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
        try:
            return self.filepath.format(epoch=epoch + 1, batch=(batch + 1) if batch is not None else 0, **scalars)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath '{self.filepath}' uses {e}, which is not in the logs "
                           f"{sorted(logs)} (available: epoch, batch and the log keys)") from None

    def _save(self, epoch, logs, batch=None):
        path = self._path(epoch, logs, batch)
        if self.save_best_only:
            current = _scalar(logs.get(self.monitor))
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save best model only with '{self.monitor}' available, "
                              f"skipping (logs have {sorted(logs)})", stacklevel=2)
                return
            if not self._better(current, self.best):
                if self.verbose > 0:
                    _print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                _print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                       f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            _print(f"Epoch {epoch + 1}: saving model to {path}")
        self._write(path, epoch, logs)

    def _write(self, path, epoch, logs):
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        if self.save_weights_only:
            from ..serialization import save
            save(self.model.state_dict(), path)
            return
        from .checkpoint import save_checkpoint
        trainer = self.trainer
        scalars = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
        save_checkpoint(path, model=self.model, optimizer=getattr(trainer, "optimizer", None),
                        scheduler=getattr(trainer, "scheduler", None),
                        state={"epoch": epoch + 1, "logs": scalars, "saved_by": "ModelCheckpoint"})

    def state_dict(self) -> dict:
        return {"best": _json_number(self.best), "batches": self._batches}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]
        self._batches = state.get("batches", 0)
