"""Keras-style training for nerve modules: ``fit``, ``evaluate``, ``predict`` and a thin ``Model`` wrapper.

``fit`` runs the usual PyTorch loop (``zero_grad``, forward, loss, ``backward``, ``step``) with
Keras' conveniences around it: data given as arrays, a Dataset or a DataLoader; losses, optimizers
and metrics by name; validation; callbacks; a progress display; L1/L2 penalties; gradient
clipping; and checkpoints that resume a killed run exactly::

    >>> history = fit(model, (x_train, y_train), validation_split=0.1, loss="cross_entropy",
    ...               optimizer={"name": "adam", "lr": 1e-3}, metrics=["accuracy"], epochs=10,
    ...               callbacks=[EarlyStopping(patience=3)], checkpoint_dir="run/ckpt", checkpoint_every=500)
    >>> history.history["val_accuracy"][-1]

The module stays an ordinary ``nerve.nn.Module``: fit puts it in ``train()`` mode for training and
``eval()`` under ``no_grad`` for validation, and leaves it in ``train()`` mode, as a PyTorch loop
would.

**Exact resume.** With ``checkpoint_dir``, fit writes a checkpoint there every ``checkpoint_every``
optimizer steps and at the end of every epoch (model, optimizer, scheduler, epoch, step in the
epoch, global step, history so far, the epoch's partial loss and metric sums, callback states and
the RNG states). ``fit(..., resume=checkpoint_dir)`` continues from it and ends with the same
weights, bit for bit, as a run that was never interrupted, because:

* each epoch's shuffling order is a function of ``(seed, epoch)`` alone (a generator seeded with
  both, not a continuing stream), so the interrupted epoch is replayed from its first unseen batch;
* the randomness of dropout and friends comes from nerve's default generator, whose state (with
  NumPy's and Python's global ones) is saved and restored;
* for a user-made DataLoader, whose order comes from the default generator, the generator state at
  the start of the epoch is saved too, the order is re-drawn from it, and the batches already seen
  are skipped.
"""
from __future__ import annotations

import math
import os
import random as _pyrandom
import warnings

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.tensor import Tensor, wrap
from ..backend import array_module, device as _device, device_of, to_device
from ..backend import dtypes as _dt
from ..backend.random import Generator, default_generator
from ..nn.modules.module import Module
from ..optim.optimizer import Optimizer
from ..ops import _gemm
from . import metrics as _metrics
from .callbacks import Callback, CallbackList, _jsonable
from .history import History
from .progress import ProgbarLogger

__all__ = ["fit", "evaluate", "predict", "Model", "get_loss", "get_optimizer", "Trainer"]

_FORMAT = "nerve.train.fit"
_VERSION = 1


# ============================================================================ losses and optimizers
def _loss_table():
    from ..nn.modules import loss as L
    return {
        "cross_entropy": L.CrossEntropyLoss, "crossentropy": L.CrossEntropyLoss, "ce": L.CrossEntropyLoss,
        "categorical_crossentropy": L.CrossEntropyLoss, "sparse_categorical_crossentropy": L.CrossEntropyLoss,
        "nll": L.NLLLoss, "nll_loss": L.NLLLoss,
        "mse": L.MSELoss, "mean_squared_error": L.MSELoss, "mse_loss": L.MSELoss,
        "mae": L.L1Loss, "l1": L.L1Loss, "l1_loss": L.L1Loss, "mean_absolute_error": L.L1Loss,
        "bce": L.BCELoss, "binary_crossentropy": L.BCELoss, "binary_cross_entropy": L.BCELoss,
        "bce_with_logits": L.BCEWithLogitsLoss, "binary_cross_entropy_with_logits": L.BCEWithLogitsLoss,
        "huber": L.HuberLoss, "huber_loss": L.HuberLoss, "smooth_l1": L.SmoothL1Loss,
        "smooth_l1_loss": L.SmoothL1Loss, "kl_div": L.KLDivLoss, "kl_divergence": L.KLDivLoss,
    }


_ELEMENTWISE = ("MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "HuberLoss", "SmoothL1Loss")


class _TargetAdapter:
    """A loss chosen by name, fed targets of the output's shape and float dtype (Keras' convenience).

    ``(N,)`` labels against ``(N, 1)`` outputs are reshaped, integer 0/1 labels cast to the output's
    dtype; a loss module given by the user is called exactly as given, as in PyTorch.
    """

    def __init__(self, module):
        self.module = module

    def __call__(self, out, y):
        if isinstance(out, Tensor) and isinstance(y, Tensor):
            if y.shape != out.shape and y.numel() == out.numel():
                y = y.reshape(out.shape)
            if y.dtype != out.dtype and out.is_floating_point():
                y = y.to(out.dtype)
        return self.module(out, y)

    def __repr__(self):
        return repr(self.module)


def get_loss(loss):
    """A loss callable ``loss_fn(output, target) -> scalar Tensor`` from a name, module or function.

    Names: 'cross_entropy' (logits and class indices or probabilities), 'nll', 'mse', 'mae'/'l1',
    'bce' (probabilities), 'bce_with_logits', 'huber', 'smooth_l1', 'kl_div', and Keras' spellings
    ('sparse_categorical_crossentropy', 'binary_crossentropy', 'mean_squared_error', ...), which map
    to the PyTorch loss of the same meaning (cross entropy takes logits, as in PyTorch).
    """
    if isinstance(loss, str):
        table = _loss_table()
        key = loss.lower()
        if key not in table:
            raise ValueError(f"unknown loss '{loss}'; known names: {sorted(table)} (or pass a loss module or "
                             "a function loss_fn(output, target))")
        cls = table[key]
        return _TargetAdapter(cls()) if cls.__name__ in _ELEMENTWISE else cls()
    if isinstance(loss, type):
        raise TypeError(f"loss: got the class {loss.__name__}; pass an instance, e.g. {loss.__name__}()")
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a name, a loss module or a callable, got {type(loss).__name__}")


def _loss_kind(loss_fn):
    """(binary, from_logits) for metrics given by name."""
    mod = loss_fn.module if isinstance(loss_fn, _TargetAdapter) else loss_fn
    name = type(mod).__name__
    if name == "BCEWithLogitsLoss":
        return True, True
    if name == "BCELoss":
        return True, False
    fn = getattr(mod, "__name__", "")
    if fn == "binary_cross_entropy_with_logits":
        return True, True
    if fn == "binary_cross_entropy":
        return True, False
    return False, None


# Keras' default learning rates, since a name is Keras' idiom; the other hyper-parameters keep
# PyTorch's defaults.
_OPT_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}


def get_optimizer(optimizer, params, **kwargs) -> Optimizer:
    """An optimizer from an instance (returned as is), a name, or a dict ``{'name': 'adam', 'lr': ...}``.

    Args:
        optimizer: an ``Optimizer``; 'sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad'; a dict whose
            'name' (or 'type') is one of those and whose other entries are constructor arguments;
            or an Optimizer class (built on ``params`` with ``**kwargs``).
        params: the parameters to optimize (a module's ``parameters()``).
        **kwargs: more constructor arguments (``lr=...``, ``momentum=...``).
    """
    if isinstance(optimizer, Optimizer):
        if kwargs:
            raise ValueError(f"optimizer_kwargs {sorted(kwargs)} given with an optimizer instance: set them when "
                             "building it")
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer([p for p in params if p.requires_grad], **kwargs)
    if isinstance(optimizer, dict):
        d = dict(optimizer)
        name = d.pop("name", None) or d.pop("type", None)
        if name is None:
            raise ValueError(f"an optimizer dict needs a 'name' entry (e.g. {{'name': 'adam', 'lr': 1e-3}}), got "
                             f"{sorted(optimizer)}")
        kwargs = {**d, **kwargs}
        optimizer = name
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a nerve.optim.Optimizer, a name or a dict, got {type(optimizer).__name__}")
    from .. import optim
    classes = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad}
    key = optimizer.lower()
    if key not in classes:
        raise ValueError(f"unknown optimizer '{optimizer}'; known names: {sorted(classes)}")
    if "learning_rate" in kwargs:  # Keras' spelling
        kwargs["lr"] = kwargs.pop("learning_rate")
    kwargs.setdefault("lr", _OPT_LR[key])
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("the model has no parameters that require gradients: nothing to train")
    return classes[key](params, **kwargs)


# ============================================================================ RNG snapshots
def _rng_snapshot(loader_gen=None) -> dict:
    """JSON-serialisable states of nerve's default generator, NumPy's and Python's global RNGs."""
    st = np.random.get_state()
    py = _pyrandom.getstate()
    snap = {"nerve": default_generator.get_state(),
            "numpy": [st[0], st[1].tolist(), int(st[2]), int(st[3]), float(st[4])],
            "python": [py[0], list(py[1]), py[2]]}
    if isinstance(loader_gen, Generator):
        snap["loader"] = loader_gen.get_state()
    return snap


def _rng_restore(snap: dict, loader_gen=None) -> None:
    default_generator.set_state(snap["nerve"])
    n = snap["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    p = snap["python"]
    _pyrandom.setstate((p[0], tuple(p[1]), p[2]))
    if isinstance(loader_gen, Generator) and "loader" in snap:
        loader_gen.set_state(snap["loader"])


# ============================================================================ data sources
def _is_array(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) or hasattr(x, "__cuda_array_interface__")


def _raw(x, role: str, float_dtype, who: str):
    """The raw array of one input/target column, NumPy floats cast to the model's dtype, ints to int64."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
    if not _is_array(x):
        raise TypeError(f"{who}: {role} must be a nerve Tensor or an array, got {type(x).__name__}")
    if x.ndim == 0:
        raise ValueError(f"{who}: {role} must have a batch dimension, got a 0-d array")
    if x.dtype.kind == "f" and x.dtype != float_dtype:
        x = x.astype(float_dtype)
    elif x.dtype.kind in "iu" and x.dtype != np.int64:
        x = x.astype(np.int64)
    return x


def _to_dev(t: Tensor, dev):
    if dev is None:
        return t
    d = t._data
    if dev.type == "cpu" and type(d) is np.ndarray:
        return t
    if device_of(d) == dev:
        return t
    return wrap(to_device(d, dev))


def _split_batch(batch, who: str, dev, with_target=True):
    """``(inputs, target)`` from a batch ``(*inputs, target)``; a single Tensor is an input only."""
    if isinstance(batch, Tensor):
        if with_target:
            raise ValueError(f"{who}: batches must be (inputs, target) pairs, got a single Tensor; a dataset "
                             "for training should return (x, y)")
        return [_to_dev(batch, dev)], None
    if isinstance(batch, dict):
        raise TypeError(f"{who}: dict batches are not supported; return (inputs, target) tuples from the dataset")
    if not isinstance(batch, (list, tuple)):
        raise TypeError(f"{who}: a batch must be a Tensor or a tuple (inputs..., target), got {type(batch).__name__}")
    if len(batch) >= 2:
        *xs, y = batch
    elif with_target:
        raise ValueError(f"{who}: batches must be (inputs, target) pairs, got a tuple of length {len(batch)}")
    else:
        xs, y = list(batch), None
    flat = []
    for x in xs:
        if isinstance(x, (list, tuple)):
            flat.extend(x)
        else:
            flat.append(x)
    flat = [_to_dev(x, dev) if isinstance(x, Tensor) else x for x in flat]
    if isinstance(y, Tensor):
        y = _to_dev(y, dev)
    return flat, y


def _batch_len(xs, y) -> int:
    ref = y if isinstance(y, Tensor) else next((x for x in xs if isinstance(x, Tensor)), None)
    if ref is None or ref.ndim == 0:
        return 1
    return ref.shape[0]


class _ArraySource:
    """Batches cut from in-memory arrays, in the order of a ``(seed, epoch)`` permutation."""

    def __init__(self, xs, y, batch_size, shuffle, drop_last, dev, who):
        n = xs[0].shape[0]
        for i, x in enumerate(xs):
            if x.shape[0] != n:
                raise ValueError(f"{who}: inputs have different numbers of samples: {[x.shape[0] for x in xs]}")
        if y is not None and y.shape[0] != n:
            raise ValueError(f"{who}: {n} input samples but {y.shape[0]} targets (x has shape {tuple(xs[0].shape)}, "
                             f"y has shape {tuple(y.shape)})")
        if n == 0:
            raise ValueError(f"{who}: the data has no samples")
        self.xs, self.y = xs, y
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = n // batch_size if drop_last else -(-n // batch_size)
        if self.steps == 0:
            raise ValueError(f"{who}: {n} samples with batch_size={batch_size} and drop_last=True give no batch")
        self.dev = dev
        self.epoch_rng = None
        self._xp_idx = any(type(a) is not np.ndarray for a in xs + ([y] if y is not None else []))

    def slice(self, start, stop):
        """A source over samples [start, stop) (for validation_split)."""
        s = object.__new__(_ArraySource)
        s.__dict__.update(self.__dict__)
        s.xs = [x[start:stop] for x in self.xs]
        s.y = None if self.y is None else self.y[start:stop]
        s.n = stop - start
        s.steps = -(-s.n // self.batch_size)
        return s

    def order(self, epoch, seed):
        if not self.shuffle:
            return None
        return np.random.default_rng([seed, epoch]).permutation(self.n)

    def batches(self, epoch, seed, start=0, epoch_rng=None):
        perm = self.order(epoch, seed)
        bs, dev, xs, y = self.batch_size, self.dev, self.xs, self.y
        # The permutation once per epoch on each array's device, not a host-to-device copy per batch.
        perms = {}
        if perm is not None:
            for a in xs + ([y] if y is not None else []):
                if type(a) is not np.ndarray and id(type(a)) not in perms:
                    perms[id(type(a))] = array_module(a).asarray(perm)

        def take(a, lo):
            if perm is None:
                return a[lo:lo + bs].copy()  # a copy, as a DataLoader's collate makes: in-place ops stay local
            p = perm if type(a) is np.ndarray else perms[id(type(a))]
            return a[p[lo:lo + bs]]

        for b in range(start, self.steps):
            lo = b * bs
            bx = [take(x, lo) for x in xs]
            by = None if y is None else take(y, lo)
            tx = [_to_dev(wrap(a), dev) for a in bx]
            ty = None if by is None else _to_dev(wrap(by), dev)
            yield b, tx, ty, len(bx[0])


class _DatasetSource:
    """Batches of a map-style Dataset, fetched like a DataLoader would, in a ``(seed, epoch)`` order."""

    def __init__(self, dataset, batch_size, shuffle, drop_last, dev, who, with_target=True):
        from ..utils.data._collate import default_collate
        from ..utils.data._worker import create_fetcher
        self.dataset = dataset
        try:
            self.n = len(dataset)
        except TypeError:
            raise TypeError(f"{who}: the dataset has no __len__; wrap it in a DataLoader") from None
        if self.n == 0:
            raise ValueError(f"{who}: the dataset is empty")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = self.n // batch_size if drop_last else -(-self.n // batch_size)
        if self.steps == 0:
            raise ValueError(f"{who}: {self.n} samples with batch_size={batch_size} and drop_last=True give no batch")
        self.fetcher = create_fetcher(False, dataset, True, default_collate, drop_last)
        self.dev = dev
        self.who = who
        self.with_target = with_target
        self.epoch_rng = None

    def order(self, epoch, seed):
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([seed, epoch]).permutation(self.n)

    def batches(self, epoch, seed, start=0, epoch_rng=None):
        perm = self.order(epoch, seed)
        bs = self.batch_size
        for b in range(start, self.steps):
            batch = self.fetcher.fetch(perm[b * bs:(b + 1) * bs].tolist())
            xs, y = _split_batch(batch, self.who, self.dev, self.with_target)
            yield b, xs, y, _batch_len(xs, y)


class _LoaderSource:
    """Batches of a user's DataLoader (or an iterable of batches), in its own order."""

    def __init__(self, loader, dev, who, with_target=True):
        self.loader = loader
        try:
            self.steps = len(loader)
        except TypeError:
            self.steps = None
        self.n = None
        try:
            self.n = len(loader.dataset)
        except (AttributeError, TypeError):
            pass
        self.dev = dev
        self.who = who
        self.with_target = with_target
        self.epoch_rng = None
        self.shuffle = None
        self.batch_size = getattr(loader, "batch_size", None)

    def batches(self, epoch, seed, start=0, epoch_rng=None):
        gen = getattr(self.loader, "generator", None)
        if start and epoch_rng is not None:
            # Re-draw the interrupted epoch's order from the generator state at its start, then
            # put back the state the checkpoint had mid-epoch.
            mid = _rng_snapshot(gen)
            _rng_restore(epoch_rng, gen)
        else:
            self.epoch_rng = _rng_snapshot(gen)
        it = iter(self.loader)
        if start:
            _skip(it, start, self.loader)
            if epoch_rng is not None:
                self.epoch_rng = epoch_rng
                _rng_restore(mid, gen)
        b = start
        for batch in it:
            xs, y = _split_batch(batch, self.who, self.dev, self.with_target)
            yield b, xs, y, _batch_len(xs, y)
            b += 1


def _skip(it, k, loader):
    """Advance a DataLoader iterator by ``k`` batches, without loading them when it can."""
    sampler_iter = getattr(it, "_sampler_iter", None)
    if (sampler_iter is not None and getattr(loader, "num_workers", 1) == 0
            and not getattr(loader, "_is_iterable", True)):
        for _ in range(k):
            next(sampler_iter)
        it._num_yielded += k
        return
    for _ in range(k):
        next(it)


def _model_float_dtype(model):
    for p in model.parameters():
        if p._data.dtype.kind == "f":
            return p._data.dtype
    return _dt.default_np_dtype()


def _make_source(data, *, batch_size, shuffle, drop_last, dev, float_dtype, who, with_target=True):
    from ..utils.data import DataLoader
    from ..utils.data.dataset import Dataset, IterableDataset
    if isinstance(data, DataLoader):
        return _LoaderSource(data, dev, who, with_target)
    if isinstance(data, IterableDataset):
        return _LoaderSource(DataLoader(data, batch_size=batch_size, drop_last=drop_last), dev, who, with_target)
    if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")
                                     and not isinstance(data, (tuple, list, dict)) and not _is_array(data)):
        return _DatasetSource(data, batch_size, shuffle, drop_last, dev, who, with_target)
    if isinstance(data, (tuple, list)) and len(data) in (1, 2) and not (len(data) == 2 and np.isscalar(data[0])):
        x = data[0]
        y = data[1] if len(data) == 2 else None
        xs = list(x) if _multi_input(x) else [x]
        xs = [_raw(e, "x", float_dtype, who) for e in xs]
        yr = None if y is None else _raw(y, "y", float_dtype, who)
        if yr is None and with_target:
            raise ValueError(f"{who}: training data needs targets: pass (x, y)")
        return _ArraySource(xs, yr, batch_size, shuffle, drop_last, dev, who)
    if _is_array(data) and not with_target:
        return _ArraySource([_raw(data, "x", float_dtype, who)], None, batch_size, False, False, dev, who)
    if hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict, tuple, list)) and not _is_array(data):
        return _LoaderSource(data, dev, who, with_target)
    raise TypeError(f"{who}: data must be a tuple (x, y) of Tensors/arrays, a Dataset or a DataLoader, got "
                    f"{type(data).__name__}" + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""))


def _multi_input(x) -> bool:
    """``x`` is a tuple/list of input arrays (a multi-input model), not one input written as a list."""
    return isinstance(x, (tuple, list)) and len(x) > 0 and all(_is_array(e) for e in x)


def _split_validation(data, validation_split, who):
    """(train, val) data: the last ``validation_split`` fraction is held out (as Keras does)."""
    if not (isinstance(validation_split, (int, float)) and 0 < validation_split < 1):
        raise ValueError(f"{who}: validation_split must be a float in (0, 1), got {validation_split!r}")
    from ..utils.data import DataLoader
    from ..utils.data.dataset import IterableDataset, Subset
    if isinstance(data, (DataLoader, IterableDataset)):
        raise ValueError(f"{who}: validation_split needs tuple (x, y) data or a map-style Dataset, not a "
                         f"{type(data).__name__}; pass val=... instead")
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{who}: validation_split needs (x, y) data, got a {type(data).__name__} of length "
                             f"{len(data)}")
        x, y = data
        multi = _multi_input(x)
        xs = list(x) if multi else [x if _is_array(x) else np.asarray(x)]
        y = y if _is_array(y) else np.asarray(y)
        n = xs[0].shape[0]
        n_val = int(n * validation_split)
        split = n - n_val
        if n_val == 0 or split == 0:
            raise ValueError(f"{who}: validation_split={validation_split} of {n} samples leaves "
                             f"{split} for training and {n_val} for validation; both must be non-empty")
        tr_x = [e[:split] for e in xs]
        va_x = [e[split:] for e in xs]
        if not multi:
            tr_x, va_x = tr_x[0], va_x[0]
        return (tr_x, y[:split]), (va_x, y[split:])
    n = len(data)
    n_val = int(n * validation_split)
    split = n - n_val
    if n_val == 0 or split == 0:
        raise ValueError(f"{who}: validation_split={validation_split} of {n} samples leaves "
                         f"{split} for training and {n_val} for validation; both must be non-empty")
    return Subset(data, range(split)), Subset(data, range(split, n))


# ============================================================================ helpers
class _WeightedSum:
    """Sum of ``value * n`` and of ``n``; device values are added on the device (no sync per batch)."""

    __slots__ = ("total", "count")

    def __init__(self, total=0.0, count=0):
        self.total = total
        self.count = count

    def add(self, arr, n):
        if type(arr) is np.ndarray or isinstance(arr, (float, np.generic)):
            self.total += float(arr) * n
        else:
            self.total = self.total + arr.astype(np.float64) * n
        self.count += n

    def value(self) -> float:
        return float(self.total) / self.count if self.count else math.nan

    def state(self):
        return [float(self.total), self.count]


def _log_value(v):
    """A metric value for logs and history: float for scalars, a list for arrays."""
    v = _metrics._as_python(v)
    return v.tolist() if isinstance(v, np.ndarray) else v


def _lr_of(opt) -> float:
    lr = opt.param_groups[0]["lr"]
    return float(lr.item() if isinstance(lr, Tensor) else lr)


def _unique_names(metrics, who):
    seen = {"loss", "reg_loss", "lr"}
    out = []
    for m in metrics:
        name = m.name
        if name in ("loss", "reg_loss", "lr"):
            raise ValueError(f"{who}: a metric cannot be named '{name}' (a reserved log key)")
        base, i = name, 1
        while name in seen:
            name = f"{base}_{i}"
            i += 1
        if name != m.name:
            m.name = name
        seen.add(name)
        out.append(m)
    return out


def _make_metrics(metrics, loss_fn, who):
    if isinstance(metrics, (str, _metrics.Metric)) or callable(metrics) and not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    binary, from_logits = _loss_kind(loss_fn) if loss_fn is not None else (False, None)
    ms = []
    for m in metrics:
        if isinstance(m, _metrics.Metric):
            m = m.clone()  # the caller's object is left untouched (and can be passed to several runs)
        else:
            m = _metrics.get(m, binary=binary, from_logits=from_logits)
        ms.append(m)
    return _unique_names(ms, who)


def _resolve_device(model, device):
    if device is None:
        for p in model.parameters():
            return device_of(p._data)
        return None
    dev = _device(device)
    model.to(dev)
    return dev


def _check_int(name, v, lo, who):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
        raise ValueError(f"{who}: {name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _output_arrays(out, who):
    if isinstance(out, Tensor):
        return out._data
    raise TypeError(f"{who}: metrics need the model to return one Tensor, got {type(out).__name__}")


def _check_loss(loss, who, shapes):
    if not isinstance(loss, Tensor):
        raise TypeError(f"{who}: the loss function must return a Tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{who}: the loss must be a scalar, got a tensor of shape {tuple(loss.shape)} (output "
                         f"{shapes[0]}, target {shapes[1]}); use reduction='mean' or 'sum'")
    if not loss.requires_grad:
        raise RuntimeError(f"{who}: the loss does not require grad: no parameter of the model contributed to it "
                           "(is the model frozen, or does the loss detach its input?)")


def _resolve_clip(grad_clip, who):
    if grad_clip is None:
        return None
    if isinstance(grad_clip, (int, float)) and not isinstance(grad_clip, bool):
        if grad_clip <= 0:
            raise ValueError(f"{who}: grad_clip must be positive, got {grad_clip}")
        return ("norm", float(grad_clip), 2.0)
    if isinstance(grad_clip, dict):
        d = dict(grad_clip)
        if "clip_value" in d or "value" in d:
            return ("value", float(d.get("clip_value", d.get("value"))), None)
        if "max_norm" in d or "norm" in d:
            return ("norm", float(d.get("max_norm", d.get("norm"))), float(d.get("norm_type", 2.0)))
    raise ValueError(f"{who}: grad_clip must be a positive float (max global L2 norm), {{'max_norm': x, "
                     f"'norm_type': p}} or {{'clip_value': v}}, got {grad_clip!r}")


def _is_batch_scheduler(scheduler) -> bool:
    return type(scheduler).__name__ in ("OneCycleLR", "CyclicLR")


def _checkpoint_exists(path) -> bool:
    from .checkpoint import checkpoint_exists
    return path is not None and checkpoint_exists(path)


# ============================================================================ the loop
class Trainer:
    """The state of one :func:`fit` run; callbacks see it as ``self.trainer``.

    Attributes:
        model, optimizer, scheduler, loss_fn: what is being trained and how.
        epoch: the current epoch (0-based); ``global_step``: optimizer steps taken so far.
        history: the :class:`History` being filled.
        train_metrics, val_metrics: the metric objects (validation ones are named ``val_*``).
        checkpoint_dir: where fit's checkpoints go (None: none are written).
    """

    def __init__(self, model, train_src, val_src, loss_fn, optimizer, scheduler, scheduler_interval, epochs,
                 metrics, callbacks, l1, l2, grad_clip, checkpoint_dir, checkpoint_every, seed, verbose, who):
        self.model = model
        self.train_src = train_src
        self.val_src = val_src
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.epochs = epochs
        self.train_metrics = metrics
        self.val_metrics = [m.clone("val_" + m.name) for m in metrics] if val_src is not None else []
        self.history = History()
        self.user_callbacks = list(callbacks)
        cbs = list(callbacks)
        if verbose:
            cbs.append(ProgbarLogger(verbose=1 if verbose == 1 else 2))
        cbs.append(self.history)
        self.callbacks = CallbackList(cbs)
        self.l1, self.l2 = float(l1), float(l2)
        self.reg_params = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2] if (l1 or l2) else []
        self.grad_clip = grad_clip
        self.clip_params = [p for g in optimizer.param_groups for p in g["params"]] if grad_clip else []
        self.checkpoint_dir = None if checkpoint_dir is None else os.fspath(checkpoint_dir)
        self.checkpoint_every = checkpoint_every
        self.seed = seed
        self.verbose = verbose
        self.who = who
        self.epoch = 0
        self.global_step = 0
        self.batch_in_epoch = 0
        self._loss = _WeightedSum()
        self._reg = _WeightedSum()
        self._checked = False

    # ---------------------------------------------------------------- logs
    def _train_logs(self) -> dict:
        logs = {"loss": self._loss.value()}
        if self.reg_params:
            logs["reg_loss"] = self._reg.value()
        for m in self.train_metrics:
            logs[m.name] = _log_value(m.compute())
        return logs

    # ---------------------------------------------------------------- checkpoints
    def _state(self, epoch, batch) -> dict:
        mid = batch > 0
        return {
            "format": _FORMAT, "version": _VERSION,
            "epoch": epoch, "batch": batch, "global_step": self.global_step, "epochs": self.epochs,
            "gemm": _gemm.decided(),
            "seed": self.seed, "steps_per_epoch": self.train_src.steps, "num_samples": self.train_src.n,
            "stop_training": bool(getattr(self.model, "stop_training", False)),
            "history": _jsonable(self.history.state_dict(), "History"),
            "callbacks": [{"class": type(c).__name__, "state": _jsonable(c.state_dict(), type(c).__name__)}
                          for c in self.user_callbacks],
            "epoch_rng": self.train_src.epoch_rng if mid else None,
            "accum": {"loss": self._loss.state(), "reg": self._reg.state(),
                      "metrics": [m.state_dict() for m in self.train_metrics]} if mid else None,
        }

    def save(self, epoch, batch) -> None:
        """Write fit's checkpoint into ``checkpoint_dir`` (the next batch to run is ``(epoch, batch)``)."""
        from .checkpoint import save_checkpoint
        save_checkpoint(self.checkpoint_dir, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
                        state=self._state(epoch, batch))

    def _load(self, path) -> dict:
        from .checkpoint import load_checkpoint
        path = os.fspath(path)
        if not _checkpoint_exists(path):
            raise FileNotFoundError(f"{self.who}(resume='{path}'): no checkpoint there (expected a directory with "
                                    "checkpoint.json, as written by fit(checkpoint_dir=...))")
        try:
            state = load_checkpoint(path, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler)
        except Exception as e:
            e.add_note(f"(while resuming {self.who} from the checkpoint in '{path}')")
            raise
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"{self.who}(resume='{path}'): this checkpoint was not written by fit's checkpoint_dir "
                             "(it has no training-loop state); load it with nerve.train.checkpoint.load_checkpoint")
        if state.get("version", 0) > _VERSION:
            raise ValueError(f"{self.who}(resume='{path}'): checkpoint format version {state['version']} is newer "
                             f"than this nerve understands ({_VERSION})")
        if state.get("gemm") in ("nerve", "numpy") and _gemm.backend() != state["gemm"]:
            try:
                _gemm.set_backend(state["gemm"])      # the products round as they did before the stop
            except RuntimeError:                      # pragma: no cover - written where numba was installed
                warnings.warn(f"{self.who}: the checkpoint was written with nerve's own GEMM, which needs numba; "
                              "NumPy's BLAS rounds differently, so the resumed run may differ in the last digits")
        steps, n = state.get("steps_per_epoch"), state.get("num_samples")
        if steps is not None and self.train_src.steps is not None and steps != self.train_src.steps:
            raise ValueError(f"{self.who}(resume='{path}'): the checkpoint was written with {steps} steps per epoch "
                             f"({n} samples) but this run has {self.train_src.steps} ({self.train_src.n} samples); "
                             "resume with the same data and batch_size")
        if n is not None and self.train_src.n is not None and n != self.train_src.n:
            raise ValueError(f"{self.who}(resume='{path}'): the checkpoint was written for {n} training samples, "
                             f"this run has {self.train_src.n}")
        return state

    # ---------------------------------------------------------------- one optimizer step
    def _penalize(self):
        """Add the gradients of ``l1 * sum|w| + l2 * sum w**2`` to the weights' grads; returns the penalty.

        Done on the raw arrays after ``backward`` rather than as graph ops added to the loss: the
        same gradient, without a forward and backward pass through extra nodes every step.
        """
        l1, l2 = self.l1, self.l2
        total = 0.0
        seen = set()
        for p in self.reg_params:
            d = p._data
            xp = np if type(d) is np.ndarray else array_module(d)
            flat = d.reshape(-1)
            pg = None
            if l2:
                total = total + l2 * xp.dot(flat, flat)
                pg = d * (2 * l2)
            if l1:
                total = total + l1 * xp.abs(flat).sum()
                pg = l1 * xp.sign(d) if pg is None else pg + l1 * xp.sign(d)
            pg = pg.astype(d.dtype, copy=False)
            g = p.grad
            if g is None:
                p.grad = wrap(pg)
                continue
            gd = g._data
            # In place when the grad array is this parameter's own (writeable, not shared).
            if id(gd) not in seen and gd.shape == d.shape and getattr(gd, "flags", None) is not None \
                    and gd.flags.writeable:
                gd += pg
                seen.add(id(gd))
            else:
                g._data = gd + pg
        return total

    def _clip(self):
        from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
        kind, v, p = self.grad_clip
        if kind == "norm":
            clip_grad_norm_(self.clip_params, v, norm_type=p)
        else:
            clip_grad_value_(self.clip_params, v)

    # ---------------------------------------------------------------- epochs
    def _train_epoch(self, epoch, start, epoch_rng):
        model, loss_fn, opt = self.model, self.loss_fn, self.optimizer
        metrics = self.train_metrics
        cbl = self.callbacks
        begin_hooks = cbl.hooks("on_train_batch_begin")
        end_hooks = cbl.hooks("on_train_batch_end")
        sched_batch = self.scheduler is not None and self.scheduler_interval == "batch"
        reg = bool(self.reg_params)
        every = self.checkpoint_every if self.checkpoint_dir is not None else None
        loss_acc, reg_acc = self._loss, self._reg
        who = self.who
        for b, xs, y, nb in self.train_src.batches(epoch, self.seed, start, epoch_rng):
            for f in begin_hooks:
                f(b, None)
            out = model(*xs)
            loss = loss_fn(out, y)
            if not self._checked:
                _check_loss(loss, who, (tuple(getattr(out, "shape", ())), tuple(getattr(y, "shape", ()))))
                self._checked = True
            opt.zero_grad()
            loss.backward()
            if reg:
                reg_acc.add(self._penalize(), nb)
            if self.grad_clip is not None:
                self._clip()
            opt.step()
            if sched_batch:
                self.scheduler.step()
            loss_acc.add(loss._data, nb)
            if metrics:
                od, yd = _output_arrays(out, who), y._data
                for m in metrics:
                    m.update(od, yd)
            self.global_step += 1
            self.batch_in_epoch = b + 1
            if end_hooks:
                logs = self._train_logs() if cbl.wants_batch_logs() else {}
                for f in end_hooks:
                    f(b, logs)
            if every and self.global_step % every == 0:
                self.save(epoch, b + 1)
            if model.stop_training:
                break

    def _restore_callbacks(self, saved) -> None:
        """Give each callback the saved state of the callback of its class at the same rank among that class."""
        by_class: dict = {}
        for entry in saved:
            by_class.setdefault(entry.get("class"), []).append(entry.get("state") or {})
        for cb in self.user_callbacks:
            states = by_class.get(type(cb).__name__)
            if states:
                st = states.pop(0)
                if st:
                    cb.load_state_dict(st)
            elif type(cb).state_dict is not Callback.state_dict:
                warnings.warn(f"{self.who}: the checkpoint holds no state for callback {type(cb).__name__}; it "
                              "starts afresh", stacklevel=4)

    def _validate(self) -> dict:
        return _run_eval(self.model, self.val_src, self.loss_fn, self.val_metrics, self.callbacks, "val_")

    def run(self, resume=None) -> History:
        model, cbl = self.model, self.callbacks
        model.stop_training = False
        cbl.set_model(model)
        cbl.set_trainer(self)
        cbl.set_params({"epochs": self.epochs, "steps": self.train_src.steps, "verbose": self.verbose})
        self.history.model = model
        self.history.params = {"epochs": self.epochs, "steps": self.train_src.steps, "verbose": self.verbose}
        state = self._load(resume) if resume is not None else None
        if state is not None:
            if self.seed is not None and self.seed != state["seed"]:
                warnings.warn(f"{self.who}: seed={self.seed} differs from the checkpoint's seed {state['seed']}; the "
                              "checkpoint's is used so the shuffling order continues as it was", stacklevel=3)
            self.seed = state["seed"]
            self.global_step = state["global_step"]
            start_epoch, start_batch = state["epoch"], state["batch"]
        else:
            if self.seed is None:
                self.seed = int(default_generator.numpy.integers(0, 2 ** 63 - 1, dtype=np.int64))
            start_epoch, start_batch = 0, 0
        cbl.on_train_begin({})
        if state is not None:
            self.history.load_state_dict(state["history"])
            self._restore_callbacks(state.get("callbacks", []))
            if state.get("stop_training"):
                model.stop_training = True
        epoch_logs = {}
        for epoch in range(start_epoch, self.epochs):
            if model.stop_training:
                break
            self.epoch = epoch
            cbl.on_epoch_begin(epoch, {})
            model.train()
            first, epoch_rng = 0, None
            if state is not None and epoch == start_epoch and start_batch > 0:
                first, epoch_rng = start_batch, state.get("epoch_rng")
                acc = state["accum"]
                self._loss = _WeightedSum(*acc["loss"])
                self._reg = _WeightedSum(*acc["reg"])
                for m, s in zip(self.train_metrics, acc["metrics"]):
                    m.load_state_dict(s)
            else:
                self._loss, self._reg = _WeightedSum(), _WeightedSum()
                for m in self.train_metrics:
                    m.reset()
            self.batch_in_epoch = first
            self._train_epoch(epoch, first, epoch_rng)
            lr = _lr_of(self.optimizer)
            epoch_logs = self._train_logs()
            if self.val_src is not None:
                epoch_logs.update(self._validate())
            epoch_logs["lr"] = lr
            cbl.on_epoch_end(epoch, epoch_logs)
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                if type(self.scheduler).__name__ == "ReduceLROnPlateau":
                    self.scheduler.step(epoch_logs.get("val_loss", epoch_logs["loss"]))
                else:
                    self.scheduler.step()
            if self.checkpoint_dir is not None:
                self.save(epoch + 1, 0)
        cbl.on_train_end(epoch_logs)
        return self.history


def _run_eval(model, src, loss_fn, metrics, cbl, prefix) -> dict:
    """Loss and metrics over ``src`` with the model in eval mode under no_grad (restores the mode)."""
    was_training = model.training
    model.eval()
    acc = _WeightedSum()
    for m in metrics:
        m.reset()
    begin = cbl.hooks("on_test_batch_begin") if cbl is not None else []
    end = cbl.hooks("on_test_batch_end") if cbl is not None else []
    if cbl is not None:
        cbl.on_test_begin({})
    try:
        with gm.no_grad():
            for b, xs, y, nb in src.batches(0, 0, 0):
                for f in begin:
                    f(b, None)
                out = model(*xs)
                if loss_fn is not None:
                    acc.add(loss_fn(out, y)._data, nb)
                if metrics:
                    od, yd = _output_arrays(out, "evaluate"), y._data
                    for m in metrics:
                        m.update(od, yd)
                if end:
                    logs = {prefix + "loss": acc.value()} if loss_fn is not None else {}
                    for f in end:
                        f(b, logs)
    finally:
        model.train(was_training)
    logs = {prefix + "loss": acc.value()} if loss_fn is not None else {}
    for m in metrics:
        logs[m.name if m.name.startswith(prefix) else prefix + m.name] = _log_value(m.compute())
    if cbl is not None:
        cbl.on_test_end(logs)
    return logs


# ============================================================================ public API
def fit(model, train, val=None, *, validation_split=None, loss, optimizer, epochs: int = 1, batch_size: int = 32,
        shuffle: bool = True, metrics=(), callbacks=(), scheduler=None, l1: float = 0.0, l2: float = 0.0,
        resume=None, checkpoint_dir=None, checkpoint_every=None, seed=None, verbose=1, device=None,
        grad_clip=None, optimizer_kwargs=None, scheduler_interval=None, drop_last: bool = False,
        validation_batch_size=None) -> History:
    """Train ``model`` Keras-style; returns a :class:`History`.

    Args:
        model: a ``nerve.nn.Module``; called as ``model(*inputs)``.
        train: a tuple ``(x, y)`` of Tensors or NumPy arrays (``x`` may be a tuple of inputs), a
            map-style Dataset of ``(*inputs, target)`` samples, or a DataLoader (used as is: its own
            batch size and order). NumPy floats are cast to the model's dtype and NumPy integers
            to int64; Tensors are used as they are.
        val: validation data in the same forms (no shuffling).
        validation_split: hold out the LAST fraction of ``train`` for validation (Keras'
            behaviour; ignored when ``val`` is given). Not for DataLoaders.
        loss: a loss module, ``fn(output, target)``, or a name ('cross_entropy', 'mse', 'mae',
            'bce', 'bce_with_logits', 'huber', 'nll', ...; see :func:`get_loss`).
        optimizer: an ``Optimizer``, a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'; Keras'
            default lr) or a dict ``{'name': 'adam', 'lr': 3e-4}``.
        epochs: number of epochs to train to (a resumed run continues up to it).
        batch_size: samples per batch (not used for a DataLoader).
        shuffle: reshuffle the training data each epoch; epoch ``e``'s order is a permutation drawn
            from a generator seeded with ``(seed, e)``.
        metrics: names ('accuracy', 'top5_accuracy', 'precision', 'recall', 'f1', 'mae', 'rmse',
            'r2', ...), :class:`~nerve.train.metrics.Metric` objects, or functions ``f(output, target)``.
            With a binary loss ('bce', 'bce_with_logits') accuracy-like names read outputs element-wise.
        callbacks: :class:`~nerve.train.callbacks.Callback` objects. A callback stops training by
            setting ``self.model.stop_training = True``.
        scheduler: an LR scheduler on ``optimizer``, stepped once per epoch after ``on_epoch_end``
            (``OneCycleLR``/``CyclicLR``: after every batch; ``ReduceLROnPlateau``: with
            ``val_loss``, else ``loss``). ``scheduler_interval`` ('epoch'/'batch') overrides.
        l1, l2: penalties ``l1 * sum|w| + l2 * sum w**2`` over the weights (parameters with
            ``ndim >= 2``: not biases or norm scales), added to the loss's gradient. The epoch's
            mean penalty is logged as ``reg_loss``; ``loss`` is the data loss alone.
        resume: a checkpoint directory written by fit (``checkpoint_dir``) to continue from, or
            True to continue from ``checkpoint_dir`` when it holds one (and start fresh otherwise).
        checkpoint_dir: directory for fit's resumable checkpoint (overwritten each time).
        checkpoint_every: also write it every this many optimizer steps (default: epoch ends only).
        seed: the shuffling seed; None draws one from nerve's default generator (so
            ``nerve.manual_seed`` before fit makes the run reproducible).
        verbose: 0 silent; 1 a progress bar on a terminal, else one line per epoch; 2 one line per epoch.
        device: move the model (and each batch) to this device first.
        grad_clip: clip the global L2 norm of the gradients to this value before each step (or a
            dict ``{'max_norm': x, 'norm_type': p}`` / ``{'clip_value': v}``).
        optimizer_kwargs: constructor arguments for an optimizer given by name.
        drop_last: drop the last incomplete batch of each epoch.
        validation_batch_size: batch size for validation (default ``batch_size``).

    Returns:
        History: ``history.history['loss']``, ``['val_loss']``, each metric and ``val_`` metric,
        ``['lr']`` (the learning rate used in the epoch), one value per epoch; ``history.epoch``.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        >>> h = fit(model, (x, y), validation_split=0.1, loss="cross_entropy", optimizer="adam",
        ...         metrics=["accuracy"], epochs=5, batch_size=64)
    """
    who = "fit"
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a nerve.nn.Module, got {type(model).__name__}")
    epochs = _check_int("epochs", epochs, 0, who)
    batch_size = _check_int("batch_size", batch_size, 1, who)
    if checkpoint_every is not None:
        checkpoint_every = _check_int("checkpoint_every", checkpoint_every, 1, who)
        if checkpoint_dir is None:
            raise ValueError("fit: checkpoint_every needs checkpoint_dir (where to write the checkpoints)")
    if l1 < 0 or l2 < 0:
        raise ValueError(f"fit: l1 and l2 must be >= 0, got l1={l1}, l2={l2}")
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    if scheduler_interval not in (None, "epoch", "batch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {scheduler_interval!r}")
    if resume is True:
        if checkpoint_dir is None:
            raise ValueError("fit: resume=True continues from checkpoint_dir, which is not given")
        resume = checkpoint_dir if _checkpoint_exists(checkpoint_dir) else None
    elif resume is False:
        resume = None
    clip = _resolve_clip(grad_clip, who)
    dev = _resolve_device(model, device)
    fdt = _model_float_dtype(model)
    if val is None and validation_split:
        train, val = _split_validation(train, validation_split, who)
    train_src = _make_source(train, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, dev=dev,
                             float_dtype=fdt, who=who)
    val_src = None
    if val is not None:
        val_src = _make_source(val, batch_size=validation_batch_size or batch_size, shuffle=False, drop_last=False,
                               dev=dev, float_dtype=fdt, who="fit (validation data)")
    loss_fn = get_loss(loss)
    opt = get_optimizer(optimizer, model.parameters(), **(optimizer_kwargs or {}))
    if scheduler is not None:
        if getattr(scheduler, "optimizer", opt) is not opt:
            raise ValueError("fit: the scheduler was built on a different optimizer than the one fit uses; build it "
                             "on the optimizer you pass (an optimizer given by name cannot have a scheduler)")
        interval = scheduler_interval or ("batch" if _is_batch_scheduler(scheduler) else "epoch")
        interval = "batch" if interval == "step" else interval
    else:
        interval = None
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be nerve.train.callbacks.Callback instances, got "
                            f"{type(cb).__name__} (wrap a function with LambdaCallback)")
    ms = _make_metrics(metrics, loss_fn, who)
    trainer = Trainer(model, train_src, val_src, loss_fn, opt, scheduler, interval, epochs, ms, callbacks, l1, l2,
                      clip, checkpoint_dir, checkpoint_every, seed, verbose, who)
    return trainer.run(resume)


def evaluate(model, data, loss=None, metrics=(), batch_size: int = 32, *, device=None, callbacks=(),
             verbose: int = 0) -> dict:
    """Loss and metrics of ``model`` on ``data`` (eval mode, no_grad); returns ``{'loss': ..., name: ...}``.

    Args:
        data: ``(x, y)``, a Dataset or a DataLoader, as for :func:`fit`.
        loss: as for :func:`fit`; None reports metrics only.
        metrics: as for :func:`fit`.
        batch_size: samples per batch (not used for a DataLoader).
        callbacks: their ``on_test_*`` hooks are called.
    """
    if not isinstance(model, Module):
        raise TypeError(f"evaluate: model must be a nerve.nn.Module, got {type(model).__name__}")
    batch_size = _check_int("batch_size", batch_size, 1, "evaluate")
    dev = _resolve_device(model, device)
    src = _make_source(data, batch_size=batch_size, shuffle=False, drop_last=False, dev=dev,
                       float_dtype=_model_float_dtype(model), who="evaluate")
    loss_fn = get_loss(loss) if loss is not None else None
    ms = _make_metrics(metrics, loss_fn, "evaluate")
    cbl = CallbackList(callbacks)
    cbl.set_model(model)
    logs = _run_eval(model, src, loss_fn, ms, cbl, "")
    if verbose:
        from .progress import format_logs
        print(format_logs(logs), flush=True)
    return logs


def predict(model, data, batch_size: int = 32, *, device=None, callbacks=()):
    """The model's outputs on ``data``, concatenated along dim 0 (eval mode, no_grad).

    Args:
        data: inputs as a Tensor/array, a tuple ``(x,)`` or ``(x, y)`` (``y`` ignored), a Dataset or
            a DataLoader (batches ``(*inputs, target)`` have their target ignored; a single Tensor
            batch is the input).
        batch_size: samples per batch (not used for a DataLoader).

    Returns:
        Tensor (or a tuple of Tensors when the model returns a tuple).
    """
    if not isinstance(model, Module):
        raise TypeError(f"predict: model must be a nerve.nn.Module, got {type(model).__name__}")
    batch_size = _check_int("batch_size", batch_size, 1, "predict")
    dev = _resolve_device(model, device)
    src = _make_source(data, batch_size=batch_size, shuffle=False, drop_last=False, dev=dev,
                       float_dtype=_model_float_dtype(model), who="predict", with_target=False)
    cbl = CallbackList(callbacks)
    cbl.set_model(model)
    cbl.on_predict_begin({})
    outs = []
    was_training = model.training
    model.eval()
    try:
        with gm.no_grad():
            for b, xs, _y, _nb in src.batches(0, 0, 0):
                cbl.on_predict_batch_begin(b, None)
                out = model(*xs)
                outs.append(out)
                cbl.on_predict_batch_end(b, {"outputs": out})
    finally:
        model.train(was_training)
    cbl.on_predict_end({})
    if not outs:
        raise ValueError("predict: the data produced no batches")
    if isinstance(outs[0], Tensor):
        return _concat([o._data for o in outs])
    if isinstance(outs[0], (tuple, list)):
        return tuple(_concat([o[i]._data for o in outs]) for i in range(len(outs[0])))
    raise TypeError(f"predict: the model returned {type(outs[0]).__name__}; expected a Tensor or a tuple of Tensors")


def _concat(arrs):
    xp = np if type(arrs[0]) is np.ndarray else array_module(arrs[0])
    return wrap(xp.concatenate(arrs, axis=0) if arrs[0].ndim else xp.stack(arrs))


# ============================================================================ Keras-style wrapper
class Model:
    """A Keras-style wrapper over a nerve Module: ``compile`` once, then ``fit``/``evaluate``/``predict``.

    The module stays first-class: ``model.module`` is the ``nn.Module`` (state dicts, hooks, calls),
    and the wrapper forwards calls and attribute lookups to it.

    Example:
        >>> m = Model(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3)))
        >>> m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
        >>> m.fit(x, y, epochs=5, validation_split=0.2)
        >>> m.evaluate(x_test, y_test)
        {'loss': 0.31..., 'accuracy': 0.90...}
    """

    def __init__(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Model wraps a nerve.nn.Module, got {type(module).__name__}")
        self.module = module
        self.optimizer = None
        self.loss = None
        self.metrics = ()
        self._fit_kwargs = {}
        self.history = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=(), *, optimizer_kwargs=None, scheduler=None,
                l1: float = 0.0, l2: float = 0.0, grad_clip=None):
        """Choose the optimizer (built now, so its state carries over between fit calls), loss and metrics."""
        if loss is None:
            raise ValueError("Model.compile: loss is required")
        self.optimizer = get_optimizer(optimizer, self.module.parameters(), **(optimizer_kwargs or {}))
        self.loss = loss
        self.metrics = metrics
        self._fit_kwargs = dict(scheduler=scheduler, l1=l1, l2=l2, grad_clip=grad_clip)
        return self

    def _need_compile(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"Model.{what}: call compile(optimizer=..., loss=...) first")

    @staticmethod
    def _data(x, y, who):
        if y is None:
            return x
        return (x, y)

    def fit(self, x=None, y=None, batch_size: int = 32, epochs: int = 1, verbose=1, callbacks=(),
            validation_split=None, validation_data=None, shuffle: bool = True, **kwargs) -> History:
        """Keras' ``fit(x, y, ...)``; ``x`` may also be a Dataset or DataLoader (then ``y`` is None)."""
        self._need_compile("fit")
        self.history = fit(self.module, self._data(x, y, "fit"), validation_data, validation_split=validation_split,
                           loss=self.loss, optimizer=self.optimizer, epochs=epochs, batch_size=batch_size,
                           shuffle=shuffle, metrics=self.metrics, callbacks=callbacks, verbose=verbose,
                           **{**self._fit_kwargs, **kwargs})
        return self.history

    def evaluate(self, x=None, y=None, batch_size: int = 32, verbose=0, callbacks=()) -> dict:
        self._need_compile("evaluate")
        return evaluate(self.module, self._data(x, y, "evaluate"), self.loss, self.metrics, batch_size,
                        callbacks=callbacks, verbose=verbose)

    def predict(self, x, batch_size: int = 32, callbacks=()):
        return predict(self.module, x, batch_size, callbacks=callbacks)

    def __call__(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def __getattr__(self, name):
        if name == "module":
            raise AttributeError(name)
        return getattr(self.module, name)

    def __repr__(self):
        return f"Model({self.module!r})"
