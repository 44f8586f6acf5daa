"""Samplers (``torch.utils.data.sampler``): the order in which a DataLoader visits a dataset's indices.

Random samplers draw from a ``nerve.Generator``. With ``generator=None``, ``RandomSampler`` seeds a
private generator from nerve's default generator each epoch, so ``nerve.manual_seed(s)`` fixes the
order of every epoch. The index sequences are not PyTorch's (the generators differ), but a seed
always gives the same sequence.
"""
from __future__ import annotations

import itertools

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...backend.random import Generator, rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _draw_seed(generator=None) -> int:
    """A fresh 63-bit seed from ``generator`` (nerve's default generator when None)."""
    return int(rng(generator).integers(0, 2 ** 63 - 1, dtype=np.int64, endpoint=True))


class Sampler:
    """Base class of samplers: ``__iter__`` yields indices (or lists of indices); ``__len__`` is optional."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def __class_getitem__(cls, item):
        return cls


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source))


class RandomSampler(Sampler):
    """Indices in random order: a shuffle (``replacement=False``) or ``num_samples`` uniform draws.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per epoch (default ``len(data_source)``); without replacement,
            more than ``len(data_source)`` concatenates several shuffles.
        generator: a ``nerve.Generator``; None draws a seed from nerve's default generator each epoch.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _index_array(self) -> np.ndarray:
        n = len(self.data_source)
        gen = self.generator if self.generator is not None else Generator().manual_seed(_draw_seed())
        r = gen.numpy
        m = self.num_samples
        if self.replacement:
            return r.integers(0, n, size=m, dtype=np.int64)
        if n == 0:
            raise ValueError("RandomSampler: cannot sample without replacement from an empty dataset")
        parts = [r.permutation(n) for _ in range(m // n)]
        parts.append(r.permutation(n)[: m % n])
        return np.concatenate(parts)

    def __iter__(self):
        yield from self._index_array().tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order (a fresh shuffle each epoch)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probability proportional to ``weights``.

    Args:
        weights: non-negative weights (need not sum to one), a 1-d sequence.
        num_samples: how many indices per epoch.
        replacement: draw with replacement (default); without it, an index appears at most once.
        generator: a ``nerve.Generator`` (nerve's default generator when None).

    Example:
        >>> # oversample the rare class: weight each sample by 1 / (its class frequency)
        >>> sampler = WeightedRandomSampler(1.0 / counts[labels], num_samples=len(labels))
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights.numpy(force=True) if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = wrap(w)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        w = self.weights.numpy(force=True)
        if w.size == 0:
            raise RuntimeError("WeightedRandomSampler: cannot sample from an empty weights sequence")
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution "
                               "(weights must be finite and non-negative)")
        total = w.sum()
        if total <= 0:
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > int((w > 0).sum()):
            raise RuntimeError(f"WeightedRandomSampler: cannot sample num_samples={self.num_samples} indices without "
                               f"replacement from {int((w > 0).sum())} non-zero weights")
        idx = rng(self.generator).choice(w.size, size=self.num_samples, replace=self.replacement, p=w / total)
        yield from idx.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``).

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        bs = self.batch_size
        fast = getattr(self.sampler, "_index_array", None)
        # Built-in samplers hand over the whole epoch as one array: slicing it beats a Python loop
        # over 60k indices. A subclass that overrides __iter__ keeps its own order.
        if fast is not None and type(self.sampler).__iter__ in (SequentialSampler.__iter__, RandomSampler.__iter__):
            arr = fast()
            stop = len(arr) - len(arr) % bs if self.drop_last else len(arr)
            for i in range(0, stop, bs):
                yield arr[i:i + bs].tolist()
            return
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*([sampler_iter] * bs)):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, bs)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, bs)]

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
