"""Metrics: functions on whole arrays and stateful objects that accumulate over batches.

Every metric takes ``(preds, target)`` in that order (PyTorch's convention; scikit-learn's is
``(y_true, y_pred)``). Inputs may be nerve Tensors, NumPy (or CuPy) arrays or lists; Tensors are read
through their raw arrays, so nothing is recorded by autograd.

Functional forms compute a value from one set of arrays::

    >>> accuracy(logits, labels)                 # (N, C) scores vs (N,) class indices
    >>> f1_score(logits, labels, average=None)   # per-class F1, shape (C,)
    >>> r2_score(preds, target)

Stateful forms accumulate sufficient statistics with ``update(preds, target)`` and give the value
over everything seen so far with ``compute()``; ``reset()`` starts over. This is what
:func:`nerve.train.fit` uses, so an epoch's metric is exact (not an average of batch values)::

    >>> m = Accuracy()
    >>> for x, y in loader:
    ...     m.update(model(x), y)
    >>> m.compute()

How predictions are read (``task``):

* ``'multiclass'``: ``preds`` are scores of shape ``(N, C, ...)`` (logits or probabilities, the
  class along dim 1 as in ``cross_entropy``) or class indices of ``target``'s shape; ``target``
  holds class indices, or is one-hot/soft labels of ``preds``' shape (then its argmax is the class).
* ``'binary'``: every element is a separate yes/no decision (binary and multi-label problems):
  a probability above ``threshold`` is a 1; logits (``from_logits=True``) are passed through a
  sigmoid first. ``from_logits=None`` guesses logits when some value lies outside [0, 1].
* ``None`` (default) infers it: ``(N, C)`` scores with ``(N,)`` targets are multiclass; preds of
  ``target``'s shape are binary when floating with one column (``(N,)`` or ``(N, 1)``), class
  indices when integer, and one-hot multiclass when floating with several columns.

States are float64/int64 sums (0-d arrays on the data's device, so a GPU run does not synchronise
every batch) and ``state_dict()`` gives them as JSON numbers, so a checkpoint restores a
half-finished epoch exactly.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import array_module

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score",
    "ConfusionMatrix", "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError", "R2Score",
    "accuracy", "top_k_accuracy", "precision", "recall", "f1_score", "precision_recall_f1", "confusion_matrix",
    "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "r2_score", "get", "HIGHER_IS_BETTER",
]


# ============================================================================ input handling
def _arr(x, what: str):
    """The raw array of a Tensor / array / list / scalar (never a copy for Tensors and arrays)."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__"):
        return x
    if isinstance(x, (list, tuple, int, float, bool, np.generic)):
        return np.asarray(x)
    raise TypeError(f"{what} must be a nerve Tensor, an array or a list, got {type(x).__name__}")


def _xp(a):
    return np if type(a) is np.ndarray else array_module(a)


def _shape(a) -> str:
    return str(tuple(a.shape))


def _is_float(a) -> bool:
    return a.dtype.kind in "fc"


def _logit(p: float) -> float:
    if p <= 0:
        return -math.inf
    if p >= 1:
        return math.inf
    return math.log(p / (1 - p))


def _infer_task(p, t, who: str) -> str:
    if p.ndim == t.ndim + 1 and p.ndim >= 1:
        # One score column, (N, 1) against (N,): a binary classifier's output, not one class.
        if _is_float(p) and p.shape[1 if p.ndim >= 2 else 0] == 1:
            return "binary"
        return "multiclass"
    if p.shape == t.shape or p.size == t.size:
        if not _is_float(p):
            return "labels"
        if p.ndim == 0 or p.shape[-1] == 1 or p.ndim == 1:
            return "binary"
        return "onehot"
    raise ValueError(f"{who}: preds of shape {_shape(p)} do not fit target of shape {_shape(t)}: expected "
                     f"scores of shape (N, C, ...) with class indices of shape (N, ...), or preds and target "
                     f"of the same shape")


def _check_task(task, who):
    if task not in (None, "binary", "multiclass", "multilabel"):
        raise ValueError(f"{who}: task must be None, 'binary', 'multiclass' or 'multilabel', got {task!r}")
    return "binary" if task == "multilabel" else task


def _binary_decisions(p, t, threshold: float, from_logits, who="metric"):
    """(predicted, true) boolean arrays for element-wise yes/no decisions."""
    if p.shape != t.shape:
        if p.size != t.size:
            raise ValueError(f"{who}: binary decisions need preds and target of the same shape (or size), got "
                             f"preds {_shape(p)} and target {_shape(t)}")
        p = p.reshape(t.shape)
    if _is_float(p):
        if from_logits is None:
            from_logits = bool(p.size) and bool((p.min() < 0) | (p.max() > 1))
        pred = p > (_logit(threshold) if from_logits else threshold)
    else:
        pred = p != 0
    true = t > 0.5 if _is_float(t) else t != 0
    return pred, true


def _class_labels(p, t, task, threshold, from_logits, who):
    """(predicted, true) integer class labels, flattened; ``task`` resolved (None: inferred)."""
    p = _arr(p, f"{who}: preds")
    t = _arr(t, f"{who}: target")
    kind = _infer_task(p, t, who) if task is None else task
    if kind == "binary":
        pred, true = _binary_decisions(p, t, threshold, from_logits, who)
        return pred.reshape(-1).astype(np.int64), true.reshape(-1).astype(np.int64), 2
    if kind == "multiclass" and p.ndim == t.ndim + 1:
        if _is_float(t):
            raise ValueError(f"{who}: class-index targets must be integers, got dtype {t.dtype} of shape "
                             f"{_shape(t)} with preds of shape {_shape(p)}")
        if p.shape[:1] + p.shape[2:] != t.shape and not (p.ndim == 1 and t.ndim == 0):
            raise ValueError(f"{who}: scores of shape {_shape(p)} need class indices of shape "
                             f"{(p.shape[:1] + p.shape[2:])}, got target of shape {_shape(t)}")
        axis = 1 if p.ndim >= 2 else 0
        return p.argmax(axis=axis).reshape(-1), t.reshape(-1).astype(np.int64), p.shape[axis]
    if kind in ("onehot", "multiclass") and p.shape == t.shape and _is_float(p) and p.ndim >= 1:
        axis = 1 if p.ndim >= 2 else 0
        tt = t.argmax(axis=axis) if p.ndim >= 1 and (t.ndim == p.ndim) else t
        return p.argmax(axis=axis).reshape(-1), tt.reshape(-1).astype(np.int64), p.shape[axis]
    if kind in ("labels", "multiclass"):
        if p.size != t.size:
            raise ValueError(f"{who}: predicted labels of shape {_shape(p)} do not match target of shape {_shape(t)}")
        if _is_float(p) or _is_float(t):
            raise ValueError(f"{who}: class labels must be integers, got preds {p.dtype} and target {t.dtype}; "
                             f"pass scores of shape (N, C) or use task='binary' for probabilities")
        return p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64), None
    raise ValueError(f"{who}: cannot read preds of shape {_shape(p)} ({p.dtype}) against target of shape "
                     f"{_shape(t)} ({t.dtype}) as task {task!r}")


def _regression_pair(p, t, who):
    p = _arr(p, f"{who}: preds")
    t = _arr(t, f"{who}: target")
    if p.shape != t.shape:
        if p.size != t.size:
            raise ValueError(f"{who}: preds of shape {_shape(p)} and target of shape {_shape(t)} must have the same "
                             "shape (or the same number of elements, e.g. (N, 1) and (N,))")
        p = p.reshape(t.shape)
    return p, t


def _as_python(v):
    """A metric value for logs: a Python float for scalars, a NumPy array otherwise."""
    if isinstance(v, (float, int)):
        return float(v)
    a = v.get() if hasattr(v, "get") and not isinstance(v, np.ndarray) else np.asarray(v)
    if a.ndim == 0:
        return float(a)
    return a


def _host(v) -> np.ndarray:
    """``v`` as a float64 NumPy array (copied from the GPU if needed)."""
    if hasattr(v, "get") and not isinstance(v, np.ndarray):
        v = v.get()
    return np.asarray(v, dtype=np.float64)


def _to_json(v):
    if isinstance(v, (int, float, bool)) or v is None:
        return v
    a = v.get() if hasattr(v, "get") and not isinstance(v, np.ndarray) else np.asarray(v)
    if a.ndim == 0:
        return a.item()
    return {"__array__": a.tolist(), "dtype": str(a.dtype)}


def _from_json(v):
    if isinstance(v, dict) and "__array__" in v:
        return np.asarray(v["__array__"], dtype=v["dtype"])
    return v


# ============================================================================ base classes
class Metric:
    """Base class of stateful metrics: ``update(preds, target)``, ``compute()``, ``reset()``.

    Subclasses list their accumulators in ``_state_names`` and set them in ``reset()``; the
    default ``state_dict``/``load_state_dict`` then save and restore them (JSON-serialisable).

    Attributes:
        name: the key under which :func:`fit` logs the metric (``val_`` + name for validation).
        higher_is_better: the direction ``EarlyStopping(mode='auto')`` and friends use.
    """

    higher_is_better: bool | None = True
    _state_names: tuple = ()

    def __init__(self, name: str | None = None):
        self.name = name or _snake(type(self).__name__)
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        raise NotImplementedError

    def update(self, preds, target) -> None:
        """Accumulate one batch."""
        raise NotImplementedError

    def compute(self):
        """The metric over everything accumulated since the last ``reset()``."""
        raise NotImplementedError

    def __call__(self, preds, target):
        """Accumulate ``(preds, target)`` and return the running value (Keras' ``metric(...)``)."""
        self.update(preds, target)
        return self.compute()

    def result(self):
        """Keras' name for :meth:`compute`."""
        return self.compute()

    def reset_state(self) -> None:
        """Keras' name for :meth:`reset`."""
        self.reset()

    def state_dict(self) -> dict:
        """The accumulators as JSON-serialisable values."""
        return {k: _to_json(getattr(self, k)) for k in self._state_names}

    def load_state_dict(self, state: dict) -> None:
        """Restore accumulators saved by :meth:`state_dict`."""
        for k in self._state_names:
            if k not in state:
                raise KeyError(f"{type(self).__name__}.load_state_dict: missing entry '{k}' (got {sorted(state)})")
            setattr(self, k, _from_json(state[k]))

    def clone(self, name: str | None = None) -> Metric:
        """A fresh metric with the same configuration (and ``name`` if given)."""
        import copy
        m = copy.copy(self)
        m.__dict__ = {k: (copy.copy(v) if isinstance(v, (list, dict)) else v) for k, v in self.__dict__.items()}
        if name is not None:
            m.name = name
        m.reset()
        return m

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        return f"{type(self).__name__}(name={self.name!r}{', ' + extra if extra else ''})"


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s).lower()


class Mean(Metric):
    """The (weighted) mean of the values given to ``update(values, weight=1)``; e.g. a running loss."""

    higher_is_better = None
    _state_names = ("total", "count")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update(self, values, weight=1.0) -> None:
        v = _arr(values, f"{self.name}: values")
        if v.ndim == 0:
            self.total = self.total + v.astype(np.float64) * weight
            self.count = self.count + weight
        else:
            self.total = self.total + v.astype(np.float64).sum() * weight
            self.count = self.count + v.size * weight

    def compute(self):
        return _as_python(self.total) / self.count if self.count else math.nan


class MeanMetricWrapper(Metric):
    """Averages ``fn(preds, target)`` over batches, weighting each batch by its size (Keras semantics).

    Args:
        fn: a callable returning a scalar (a float, 0-d array or one-element Tensor) for one batch.
        name: defaults to ``fn.__name__``.
    """

    higher_is_better = None
    _state_names = ("total", "count")

    def __init__(self, fn, name: str | None = None, higher_is_better: bool | None = None):
        self.fn = fn
        self.higher_is_better = higher_is_better
        super().__init__(name or getattr(fn, "__name__", type(fn).__name__))

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, preds, target) -> None:
        v = self.fn(preds, target)
        v = _as_python(v._data if isinstance(v, Tensor) else v)
        t = _arr(target, f"{self.name}: target")
        n = t.shape[0] if t.ndim else 1
        self.total = self.total + float(v) * n
        self.count = self.count + n

    def compute(self):
        return self.total / self.count if self.count else math.nan


# ============================================================================ classification
class Accuracy(Metric):
    """Fraction of correct predictions (see the module docstring for how ``preds`` are read).

    Args:
        task: None (infer), 'multiclass', 'binary' or 'multilabel' (same as 'binary': element-wise).
        threshold: decision threshold on probabilities for binary decisions.
        from_logits: binary scores are logits (None: guess from the values of each batch).

    Example:
        >>> m = Accuracy()
        >>> m.update(nerve.tensor([[2., 1.], [0., 3.]]), nerve.tensor([0, 0]))
        >>> m.compute()
        0.5
    """

    _state_names = ("correct", "total")

    def __init__(self, task=None, threshold: float = 0.5, from_logits=None, name: str | None = None):
        self.task = _check_task(task, "Accuracy")
        self.threshold = threshold
        self.from_logits = from_logits
        super().__init__(name or "accuracy")

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds, target) -> None:
        pred, true, _ = _class_labels(preds, target, self.task, self.threshold, self.from_logits, self.name)
        self.correct = self.correct + (pred == true).sum()
        self.total = self.total + true.size

    def compute(self):
        return float(self.correct) / self.total if self.total else math.nan

    def extra_repr(self) -> str:
        return f"task={self.task!r}"


class TopKAccuracy(Metric):
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Args:
        k: how many top scores count (default 5). Ties at the k-th score are broken by class index.
    """

    _state_names = ("correct", "total")

    def __init__(self, k: int = 5, name: str | None = None):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive integer, got {k!r}")
        self.k = k
        super().__init__(name or f"top_{k}_accuracy")

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds, target) -> None:
        p = _arr(preds, f"{self.name}: preds")
        t = _arr(target, f"{self.name}: target")
        if p.ndim != 2 or t.shape not in ((p.shape[0],), (p.shape[0], 1)):
            if p.ndim == 2 and t.shape == p.shape:  # one-hot targets
                t = t.argmax(axis=1)
            else:
                raise ValueError(f"{self.name}: expected scores of shape (N, C) and class indices of shape (N,), "
                                 f"got preds {_shape(p)} and target {_shape(t)}")
        t = t.reshape(-1).astype(np.int64)
        n, c = p.shape
        if self.k >= c:
            self.correct = self.correct + n
        else:
            xp = _xp(p)
            # Rank of the true class = number of classes scoring strictly higher (plus ties before it).
            true_score = xp.take_along_axis(p, t[:, None], axis=1)
            higher = (p > true_score).sum(axis=1)
            ties_before = ((p == true_score) & (xp.arange(c)[None, :] < t[:, None])).sum(axis=1)
            self.correct = self.correct + ((higher + ties_before) < self.k).sum()
        self.total = self.total + n

    def compute(self):
        return float(self.correct) / self.total if self.total else math.nan

    def extra_repr(self) -> str:
        return f"k={self.k}"


class ConfusionMatrix(Metric):
    """Counts ``cm[true, pred]`` (rows: true classes, as scikit-learn).

    Args:
        num_classes: number of classes; None grows the matrix to the largest label seen (or takes
            ``C`` from scores of shape (N, C)).
        task, threshold, from_logits: as for :class:`Accuracy` (binary gives a 2 x 2 matrix).
        normalize: None (counts), 'true' (rows sum to 1), 'pred' (columns sum to 1) or 'all'.
    """

    higher_is_better = None
    _state_names = ("matrix",)

    def __init__(self, num_classes: int | None = None, task=None, threshold: float = 0.5, from_logits=None,
                 normalize=None, name: str | None = None):
        if normalize not in (None, "true", "pred", "all"):
            raise ValueError(f"ConfusionMatrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
        self.num_classes = num_classes
        self.task = _check_task(task, "ConfusionMatrix")
        self.threshold = threshold
        self.from_logits = from_logits
        self.normalize = normalize
        super().__init__(name or "confusion_matrix")

    def reset(self) -> None:
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), dtype=np.int64)

    def update(self, preds, target) -> None:
        pred, true, c = _class_labels(preds, target, self.task, self.threshold, self.from_logits, self.name)
        xp = _xp(pred)
        n = max(self.matrix.shape[0], c or 0)
        if pred.size:
            lo = int(min(pred.min(), true.min()))
            if lo < 0:
                raise ValueError(f"{self.name}: class labels must be >= 0, got {lo}")
            hi = int(max(pred.max(), true.max())) + 1
            if hi > n:
                if self.num_classes is not None:
                    raise ValueError(f"{self.name}: label {hi - 1} is out of range for num_classes="
                                     f"{self.num_classes}")
                n = hi
        if n > self.matrix.shape[0]:
            m = xp.zeros((n, n), dtype=np.int64)
            k = self.matrix.shape[0]
            m[:k, :k] = xp.asarray(self.matrix)
            self.matrix = m
        elif type(self.matrix) is not type(pred) and xp is not np:
            self.matrix = xp.asarray(self.matrix)
        if pred.size:
            self.matrix = self.matrix + xp.bincount(true * n + pred, minlength=n * n).reshape(n, n)

    def _counts(self) -> np.ndarray:
        m = self.matrix
        return m.get() if hasattr(m, "get") and not isinstance(m, np.ndarray) else np.asarray(m)

    def compute(self):
        return _normalize_cm(self._counts(), self.normalize)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"


def _normalize_cm(cm: np.ndarray, normalize):
    if normalize is None:
        return cm
    cm = cm.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        else:
            cm = cm / cm.sum()
    return np.nan_to_num(cm)


_AVERAGES = ("macro", "micro", "weighted", "binary", None)


def _prf_from_cm(cm: np.ndarray, average, which: str, pos_label: int = 1):
    """Precision, recall or F1 from a confusion matrix, with scikit-learn's conventions.

    Per-class values whose denominator is 0 are 0 (scikit-learn's ``zero_division`` default).
    'macro' and 'weighted' average over the classes present in the target or the predictions.
    """
    tp = np.diag(cm).astype(np.float64)
    pred_pos = cm.sum(axis=0).astype(np.float64)
    true_pos = cm.sum(axis=1).astype(np.float64)
    if which == "precision":
        num, den = tp, pred_pos
    elif which == "recall":
        num, den = tp, true_pos
    else:
        num, den = 2 * tp, pred_pos + true_pos
    if average == "micro":
        present = (pred_pos + true_pos) > 0
        n, d = num[present].sum(), den[present].sum()
        return float(n / d) if d else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    if average is None:
        return per_class
    if average == "binary":
        if cm.shape[0] > 2:
            raise ValueError(f"average='binary' needs two classes, got {cm.shape[0]}; use average='macro', "
                             "'micro', 'weighted' or None")
        return float(per_class[pos_label]) if pos_label < len(per_class) else 0.0
    present = (pred_pos + true_pos) > 0
    if not present.any():
        return 0.0
    if average == "macro":
        return float(per_class[present].mean())
    w = true_pos[present]
    return float((per_class[present] * w).sum() / w.sum()) if w.sum() else 0.0


class _PRF(ConfusionMatrix):
    _which = ""

    def __init__(self, average="macro", num_classes=None, task=None, threshold: float = 0.5, from_logits=None,
                 pos_label: int = 1, name: str | None = None):
        if average not in _AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {_AVERAGES}, got {average!r}")
        self.average = average
        self.pos_label = pos_label
        super().__init__(num_classes=num_classes, task=task, threshold=threshold, from_logits=from_logits,
                         name=name or self._which)
        self.higher_is_better = True

    def compute(self):
        return _prf_from_cm(self._counts(), self.average, self._which, self.pos_label)

    def extra_repr(self) -> str:
        return f"average={self.average!r}"


class Precision(_PRF):
    """Precision ``tp / (tp + fp)`` per class, averaged as ``average`` says.

    Args:
        average: 'macro' (mean over classes present in target or preds, default), 'micro'
            (pooled counts), 'weighted' (by support), 'binary' (class ``pos_label`` only) or None
            (per-class array over ``range(num_classes)``).
        num_classes, task, threshold, from_logits: as for :class:`ConfusionMatrix`.
    """

    _which = "precision"


class Recall(_PRF):
    """Recall ``tp / (tp + fn)`` per class, averaged as ``average`` says (see :class:`Precision`)."""

    _which = "recall"


class F1Score(_PRF):
    """F1 ``2 tp / (2 tp + fp + fn)`` per class, averaged as ``average`` says (see :class:`Precision`).

    Macro F1 is the mean of the per-class F1 scores (scikit-learn's definition), not the harmonic
    mean of macro precision and macro recall.
    """

    _which = "f1"

    def __init__(self, average="macro", num_classes=None, task=None, threshold: float = 0.5, from_logits=None,
                 pos_label: int = 1, name: str | None = None):
        super().__init__(average, num_classes, task, threshold, from_logits, pos_label, name or "f1_score")


# ============================================================================ regression
class _SumMetric(Metric):
    higher_is_better = False
    _state_names = ("total", "count")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def _term(self, d):
        raise NotImplementedError

    def update(self, preds, target) -> None:
        p, t = _regression_pair(preds, target, self.name)
        d = p.astype(np.float64) - t.astype(np.float64)
        self.total = self.total + self._term(d).sum()
        self.count = self.count + d.size

    def compute(self):
        return float(self.total) / self.count if self.count else math.nan


class MeanAbsoluteError(_SumMetric):
    """Mean of ``|preds - target|`` over all elements."""

    def __init__(self, name: str | None = None):
        super().__init__(name or "mean_absolute_error")

    def _term(self, d):
        return abs(d)


class MeanSquaredError(_SumMetric):
    """Mean of ``(preds - target)**2`` over all elements."""

    def __init__(self, name: str | None = None):
        super().__init__(name or "mean_squared_error")

    def _term(self, d):
        return d * d


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error over everything accumulated."""

    def __init__(self, name: str | None = None):
        super().__init__(name or "root_mean_squared_error")

    def compute(self):
        v = super().compute()
        return v if math.isnan(v) else math.sqrt(v)


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot``, per output column then averaged.

    Accumulates per column the count, the target mean and sum of squared deviations (merged with
    Chan's parallel formula, so no catastrophic cancellation), and the residual sum of squares.
    Like scikit-learn, a constant target gives 1.0 for a perfect fit and 0.0 otherwise.

    Args:
        multioutput: 'uniform_average' (default), 'variance_weighted' or 'raw_values' for 2-D targets.
    """

    _state_names = ("n", "mean", "m2", "ss_res")

    def __init__(self, multioutput: str = "uniform_average", name: str | None = None):
        if multioutput not in ("uniform_average", "variance_weighted", "raw_values"):
            raise ValueError("R2Score: multioutput must be 'uniform_average', 'variance_weighted' or 'raw_values', "
                             f"got {multioutput!r}")
        self.multioutput = multioutput
        super().__init__(name or "r2_score")

    def reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.ss_res = 0.0

    def update(self, preds, target) -> None:
        p, t = _regression_pair(preds, target, self.name)
        t = t.astype(np.float64)
        p = p.astype(np.float64)
        if t.ndim <= 1:
            t = t.reshape(-1, 1)
            p = p.reshape(-1, 1)
        elif t.ndim > 2:
            t = t.reshape(t.shape[0], -1)
            p = p.reshape(p.shape[0], -1)
        nb = t.shape[0]
        if nb == 0:
            return
        bmean = t.mean(axis=0)
        bm2 = ((t - bmean) ** 2).sum(axis=0)
        res = ((t - p) ** 2).sum(axis=0)
        na = self.n
        if na == 0:
            self.mean, self.m2, self.ss_res = bmean, bm2, res
        else:
            n = na + nb
            delta = bmean - self.mean
            self.mean = self.mean + delta * (nb / n)
            self.m2 = self.m2 + bm2 + delta * delta * (na * nb / n)
            self.ss_res = self.ss_res + res
        self.n = na + nb

    def compute(self):
        if self.n < 2:
            return math.nan
        ss_tot = np.atleast_1d(_host(self.m2))
        ss_res = np.atleast_1d(_host(self.ss_res))
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                          np.where(ss_res == 0, 1.0, 0.0))
        if self.multioutput == "raw_values":
            return r2 if r2.size > 1 else float(r2[0])
        if self.multioutput == "variance_weighted" and ss_tot.sum() > 0:
            return float((r2 * ss_tot).sum() / ss_tot.sum())
        return float(r2.mean())

    def extra_repr(self) -> str:
        return f"multioutput={self.multioutput!r}"


# ============================================================================ functional forms
def accuracy(preds, target, *, task=None, threshold: float = 0.5, from_logits=None, top_k: int = 1) -> float:
    """Fraction of correct predictions (``top_k > 1``: the true class among the ``top_k`` best scores).

    Example:
        >>> accuracy(nerve.tensor([[0.1, 0.9], [0.8, 0.2]]), nerve.tensor([1, 1]))
        0.5
    """
    if top_k != 1:
        return top_k_accuracy(preds, target, k=top_k)
    return Accuracy(task=task, threshold=threshold, from_logits=from_logits)(preds, target)


def top_k_accuracy(preds, target, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest of ``preds`` (N, C)."""
    return TopKAccuracy(k)(preds, target)


def confusion_matrix(preds, target, num_classes: int | None = None, *, task=None, threshold: float = 0.5,
                     from_logits=None, normalize=None) -> np.ndarray:
    """The ``(C, C)`` matrix of counts ``cm[true, pred]`` (a NumPy int64 array; float if normalized).

    Example:
        >>> confusion_matrix(nerve.tensor([0, 1, 1]), nerve.tensor([0, 0, 1]))
        array([[1, 1],
               [0, 1]])
    """
    return ConfusionMatrix(num_classes, task, threshold, from_logits, normalize)(preds, target)


def precision(preds, target, *, average="macro", num_classes=None, task=None, threshold: float = 0.5,
              from_logits=None, pos_label: int = 1):
    """Precision ``tp / (tp + fp)``; see :class:`Precision` for ``average``."""
    return Precision(average, num_classes, task, threshold, from_logits, pos_label)(preds, target)


def recall(preds, target, *, average="macro", num_classes=None, task=None, threshold: float = 0.5,
           from_logits=None, pos_label: int = 1):
    """Recall ``tp / (tp + fn)``; see :class:`Precision` for ``average``."""
    return Recall(average, num_classes, task, threshold, from_logits, pos_label)(preds, target)


def f1_score(preds, target, *, average="macro", num_classes=None, task=None, threshold: float = 0.5,
             from_logits=None, pos_label: int = 1):
    """F1 ``2 tp / (2 tp + fp + fn)``; see :class:`Precision` for ``average``."""
    return F1Score(average, num_classes, task, threshold, from_logits, pos_label)(preds, target)


def precision_recall_f1(preds, target, *, average="macro", num_classes=None, task=None, threshold: float = 0.5,
                        from_logits=None, pos_label: int = 1) -> tuple:
    """``(precision, recall, f1)`` from one confusion matrix."""
    cm = ConfusionMatrix(num_classes, task, threshold, from_logits)(preds, target)
    return tuple(_prf_from_cm(cm, average, w, pos_label) for w in ("precision", "recall", "f1"))


def mean_absolute_error(preds, target) -> float:
    """Mean of ``|preds - target|``."""
    return MeanAbsoluteError()(preds, target)


def mean_squared_error(preds, target) -> float:
    """Mean of ``(preds - target)**2``."""
    return MeanSquaredError()(preds, target)


def root_mean_squared_error(preds, target) -> float:
    """Square root of the mean squared error."""
    return RootMeanSquaredError()(preds, target)


def r2_score(preds, target, *, multioutput: str = "uniform_average"):
    """Coefficient of determination ``1 - sum((t - p)**2) / sum((t - mean(t))**2)`` (see :class:`R2Score`)."""
    return R2Score(multioutput)(preds, target)


# ============================================================================ names
HIGHER_IS_BETTER = {
    "accuracy": True, "acc": True, "binary_accuracy": True, "categorical_accuracy": True,
    "sparse_categorical_accuracy": True, "precision": True, "recall": True, "f1": True, "f1_score": True,
    "r2": True, "r2_score": True, "auc": True, "top_k_accuracy": True,
    "loss": False, "mae": False, "mse": False, "rmse": False, "mean_absolute_error": False,
    "mean_squared_error": False, "root_mean_squared_error": False,
}

_NAMES = {
    "accuracy": lambda: Accuracy(), "acc": lambda: Accuracy(),
    "binary_accuracy": lambda: Accuracy(task="binary"),
    "categorical_accuracy": lambda: Accuracy(task="multiclass"),
    "sparse_categorical_accuracy": lambda: Accuracy(task="multiclass"),
    "top_k_accuracy": lambda: TopKAccuracy(5),
    "precision": lambda: Precision(), "recall": lambda: Recall(), "f1": lambda: F1Score(),
    "f1_score": lambda: F1Score(), "confusion_matrix": lambda: ConfusionMatrix(),
    "mae": lambda: MeanAbsoluteError(), "mean_absolute_error": lambda: MeanAbsoluteError(),
    "mse": lambda: MeanSquaredError(), "mean_squared_error": lambda: MeanSquaredError(),
    "rmse": lambda: RootMeanSquaredError(), "root_mean_squared_error": lambda: RootMeanSquaredError(),
    "r2": lambda: R2Score(), "r2_score": lambda: R2Score(),
}
_BINARY_OK = {"accuracy", "acc", "binary_accuracy", "precision", "recall", "f1", "f1_score", "confusion_matrix"}


def get(identifier, *, binary: bool = False, from_logits=None) -> Metric:
    """A metric object from a name ('accuracy', 'top5_accuracy', 'f1', 'mae', ...), a Metric or a callable.

    Args:
        identifier: a metric name, a :class:`Metric` (used as is) or ``fn(preds, target) -> scalar``
            (averaged over batches by :class:`MeanMetricWrapper`).
        binary: the loss is a binary/multi-label one (``bce``), so accuracy-like names read the
            outputs element-wise (``task='binary'``).
        from_logits: for ``binary``: the outputs are logits (``bce_with_logits``) or probabilities.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        m = re.fullmatch(r"(?:sparse_)?top_?(\d+)_?(?:categorical_)?acc(?:uracy)?", key)
        if m:
            return TopKAccuracy(int(m.group(1)), name=identifier)
        if key not in _NAMES:
            raise ValueError(f"unknown metric '{identifier}'; known names: {sorted(_NAMES)} and 'top<k>_accuracy'")
        metric = _NAMES[key]()
        if binary and key in _BINARY_OK and key not in ("categorical_accuracy", "sparse_categorical_accuracy"):
            metric.task = "binary"
            metric.from_logits = from_logits
            if isinstance(metric, _PRF) and metric.average == "macro":
                metric.average = "binary"
        metric.name = identifier
        return metric
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"a metric must be a name, a nerve.train.metrics.Metric or a callable, got "
                    f"{type(identifier).__name__}")
