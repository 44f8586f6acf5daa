"""Helpers shared by the tabular modules: sample counts, row selection, seeds, labels."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, wrap
from ..backend.random import Generator, default_generator
from .table import Table, is_missing


def num_samples(a, where: str) -> int:
    """The number of rows (samples) of an array, Tensor, Table, dataset or sequence."""
    if isinstance(a, (Table, Tensor, np.ndarray)):
        if isinstance(a, (Tensor, np.ndarray)) and a.ndim == 0:
            raise TypeError(f"{where}: expected arrays with a first (sample) dimension, got a 0-d array")
        return len(a) if isinstance(a, Table) else int(a.shape[0])
    if hasattr(a, "shape") and hasattr(a, "iloc"):  # pandas
        return int(a.shape[0])
    try:
        return len(a)
    except TypeError:
        raise TypeError(f"{where}: expected an array, Tensor, Table, dataset or sequence, got "
                        f"{type(a).__name__}") from None


def take(a, idx: np.ndarray):
    """The rows ``idx`` of ``a``, as the same kind of container (a dataset gives a ``Subset``)."""
    if isinstance(a, Table):
        return a.take(idx)
    if isinstance(a, np.ndarray):
        return a[idx]
    if isinstance(a, Tensor):
        return a[wrap(idx.astype(np.int64))]
    if hasattr(a, "iloc"):
        return a.iloc[idx]
    from ..utils.data.dataset import Dataset, Subset  # noqa: PLC0415
    if isinstance(a, Dataset):
        return Subset(a, idx.tolist())
    if isinstance(a, tuple):
        return tuple(a[i] for i in idx.tolist())
    return [a[i] for i in idx.tolist()]


def numpy_rng(seed, where: str) -> np.random.Generator:
    """A NumPy generator for ``seed``: an int, a nerve/NumPy Generator, or None (nerve's default generator)."""
    if seed is None:
        return default_generator.numpy
    if isinstance(seed, Generator):
        return seed.numpy
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
    raise TypeError(f"{where}: seed must be an int, a nerve.Generator or None, got {type(seed).__name__}")


def as_labels(y, where: str, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D NumPy array of labels (a Tensor, list, array or Table column), without missing values."""
    if isinstance(y, Tensor):
        y = y.numpy(force=True)
    if isinstance(y, Table):
        if len(y.columns) != 1:
            raise ValueError(f"{where}: {name} must be one column, got a Table of {len(y.columns)} columns")
        y = y[y.columns[0]]
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{where}: {name} should be a 1d array, got an array of shape {tuple(arr.shape)} instead.")
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    miss = is_missing(arr)
    if miss.any():
        raise ValueError(f"{where}: {name} has {int(miss.sum())} missing labels (at rows "
                         f"{np.flatnonzero(miss)[:5].tolist()}); drop those rows first")
    return arr


def encode_labels(arr: np.ndarray, where: str):
    """``(classes, codes)``: the sorted distinct labels and each label's index into them."""
    try:
        classes, codes = np.unique(arr, return_inverse=True)
    except TypeError:
        raise TypeError(f"{where}: the labels mix types that cannot be compared (e.g. strings and numbers)") from None
    return classes, codes.reshape(-1).astype(np.intp)
