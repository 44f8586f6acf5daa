"""Datasets (``torch.utils.data.dataset``): map-style and iterable-style datasets and their combinators.

Batch hooks a dataset may define, checked by the DataLoader in this order when it batches samples:

* ``__getbatch__(indices)`` (a nerve extension): return the *collated* batch for a list of indices,
  exactly what ``default_collate([self[i] for i in indices])`` would return, or ``NotImplemented``
  to fall back. Used only when the DataLoader's ``collate_fn`` is ``default_collate``. Array-backed
  datasets (``TensorDataset``, the vision datasets) gather a whole batch with one fancy index here,
  so an epoch costs a few NumPy calls per batch instead of a Python loop over samples.
* ``__getitems__(indices)`` (PyTorch's protocol): return a list of samples; the DataLoader then
  calls ``collate_fn`` on it.
* otherwise ``[self[i] for i in indices]``.
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...backend.random import default_generator, rng

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
    "Subset", "random_split",
]


class Dataset:
    """A map-style dataset: ``__getitem__(index)`` returns one sample, ``__len__`` the number of samples.

    Subclasses override ``__getitem__`` (and usually ``__len__``, which samplers need). They may
    also define ``__getitems__(indices)`` (a list of samples) or ``__getbatch__(indices)`` (an
    already collated batch) so the DataLoader can fetch a batch in one call.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])

    def __class_getitem__(cls, item):  # Dataset[int] in type hints, like torch's Generic Dataset
        return cls


class IterableDataset(Dataset):
    """A dataset that is an iterable of samples (``__iter__``), for streams and generated data.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset; use
    :func:`get_worker_info` inside ``__iter__`` to split the work between workers.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


def _index_array(indices, n: int, where: str) -> np.ndarray:
    """Indices as an intp array, checked against the length ``n`` with PyTorch's IndexError text."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return idx.astype(np.intp)
        raise TypeError(f"{where}: indices must be integers, got an array of dtype {idx.dtype}")
    idx = idx.astype(np.intp, copy=False).reshape(-1)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            bad = hi if hi >= n else lo
            raise IndexError(f"{where}: index {bad} is out of bounds for dimension 0 with size {n}")
    return idx


class TensorDataset(Dataset):
    """A dataset of tensors sharing their first dimension: sample ``i`` is ``tuple(t[i] for t in tensors)``.

    Batches are gathered with one fancy index per tensor (``__getbatch__``), so a DataLoader over a
    ``TensorDataset`` costs a few array copies per batch.

    Example:
        >>> ds = TensorDataset(nerve.randn(100, 3), nerve.arange(100))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = [t.shape[0] if getattr(t, "ndim", 1) else None for t in tensors]
        if any(s is None for s in sizes):
            raise ValueError("TensorDataset: every tensor must have at least one dimension, got a 0-d tensor")
        if any(s != sizes[0] for s in sizes):
            raise AssertionError(f"Size mismatch between tensors: their sizes along dim 0 are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __getitems__(self, indices):
        return [tuple(t[i] for t in self.tensors) for i in indices]

    def __getbatch__(self, indices):
        if not all(type(t) is Tensor and not t.requires_grad for t in self.tensors):
            return NotImplemented  # the generic path keeps autograd and handles other array types
        idx = _index_array(indices, len(self), "TensorDataset")
        out = []
        for t in self.tensors:
            d = t._data
            out.append(wrap(d[idx] if type(d) is np.ndarray else d[_to_xp(d, idx)]))
        return out

    def __len__(self):
        return self.tensors[0].shape[0]


def _to_xp(arr, idx):
    from ...backend import array_module
    return array_module(arr).asarray(idx)


class StackDataset(Dataset):
    """Several datasets of equal length zipped together: samples are tuples (``*args``) or dicts (``**kwargs``).

    Example:
        >>> ds = StackDataset(images=images_ds, texts=texts_ds)
        >>> ds[0]   # {'images': ..., 'texts': ...}
    """

    def __init__(self, *args, **kwargs):
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or ``dict``- (via ``kwargs``) like "
                                 "input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(d) for d in args):
                raise ValueError(f"Size mismatch between datasets: lengths {[len(d) for d in args]}")
            self.datasets = args
        elif kwargs:
            tmp = list(kwargs.values())
            self._length = len(tmp[0])
            if any(self._length != len(d) for d in tmp):
                raise ValueError(f"Size mismatch between datasets: lengths { {k: len(d) for k, d in kwargs.items()} }")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def _column(self, dataset, indices):
        getitems = getattr(dataset, "__getitems__", None)
        if callable(getitems):
            items = getitems(indices)
            if len(items) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
            return items
        return [dataset[i] for i in indices]

    def __getitems__(self, indices):
        if isinstance(self.datasets, dict):
            cols = {k: self._column(d, indices) for k, d in self.datasets.items()}
            return [{k: cols[k][j] for k in cols} for j in range(len(indices))]
        cols = [self._column(d, indices) for d in self.datasets]
        return [tuple(c[j] for c in cols) for j in range(len(indices))]

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """Datasets concatenated end to end; ``cumulative_sizes[i]`` is the total length up to dataset ``i``."""

    @staticmethod
    def cumsum(sequence):
        r, s = [], 0
        for e in sequence:
            n = len(e)
            r.append(n + s)
            s += n
        return r

    def __init__(self, datasets):
        super().__init__()
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return dataset_idx, sample_idx

    def __getitem__(self, idx):
        dataset_idx, sample_idx = self._locate(idx)
        if dataset_idx >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of length {len(self)}")
        return self.datasets[dataset_idx][sample_idx]

    def __getbatch__(self, indices):
        # Fast only when the whole batch falls in one member that has a batch hook itself.
        idx = _index_array(indices, len(self), "ConcatDataset")
        if idx.size == 0:
            return NotImplemented
        idx = np.where(idx < 0, idx + len(self), idx)
        which = np.searchsorted(np.asarray(self.cumulative_sizes), idx, side="right")
        d = int(which[0])
        if (which != d).any():
            return NotImplemented
        hook = getattr(self.datasets[d], "__getbatch__", None)
        if hook is None:
            return NotImplemented
        offset = self.cumulative_sizes[d - 1] if d else 0
        return hook((idx - offset).tolist())


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after the other (lazily)."""

    def __init__(self, datasets):
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order).

    Example:
        >>> first_hundred = Subset(ds, range(100))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._idx_cache = (None, None)
        if type(self).__getitem__ is not Subset.__getitem__ and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When subclassing Subset and "
                "overriding __getitem__, you must also override __getitems__ to ensure DataLoader works correctly "
                "with your custom logic. A simple implementation:\n\n"
                "def __getitems__(self, indices):\n    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def _index_map(self) -> np.ndarray:
        # Cached so a batch maps its indices with one fancy index instead of a loop over a Python list.
        key, arr = self._idx_cache
        ind = self.indices
        if key is not ind or arr is None or len(arr) != len(ind):
            arr = np.asarray(ind.numpy() if isinstance(ind, Tensor) else ind, dtype=np.intp).reshape(-1)
            self._idx_cache = (ind, arr)
        return arr

    def __getbatch__(self, indices):
        hook = getattr(self.dataset, "__getbatch__", None)
        if hook is None or (type(self).__getitems__ is not Subset.__getitems__):
            return NotImplemented  # a subclass with its own __getitems__ decides what a sample is
        mapping = self._index_map()
        idx = _index_array(indices, len(mapping), "Subset")
        return hook(mapping[idx].tolist())

    def __len__(self):
        return len(self.indices)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_idx_cache"] = (None, None)
        return state


def random_split(dataset, lengths, generator=default_generator):
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of the given lengths.

    ``lengths`` are sizes that sum to ``len(dataset)``, or fractions that sum to 1: each split then
    gets ``floor(frac * len(dataset))`` samples and the remainder is handed out one by one, round robin.

    Example:
        >>> train, val = random_split(ds, [0.8, 0.2], generator=nerve.Generator().manual_seed(42))
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(math.floor(n * frac))
        remainder = n - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset! "
                         f"(lengths {lengths} sum to {sum(lengths)}, the dataset has {n} samples)")
    if any(not float(x).is_integer() or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    lengths = [int(x) for x in lengths]
    indices = rng(generator).permutation(n).tolist()
    return [Subset(dataset, indices[offset - length: offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
