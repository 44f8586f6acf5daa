"""Padding variable-length sequences into batches, and the matching masks.

Conventions follow PyTorch: ``pad_batch`` returns what ``torch.nn.utils.rnn.pad_sequence`` would
(plus the lengths), and ``padding_mask`` is ``True`` at padded positions, the ``key_padding_mask``
convention of ``nn.MultiheadAttention`` / ``nn.TransformerEncoder``.

Example:
    >>> ids, lengths = pad_batch([[5, 6, 7], [8]])
    >>> ids
    tensor([[5, 6, 7],
            [8, 0, 0]])
    >>> padding_mask(lengths)
    tensor([[False, False, False],
            [False,  True,  True]])
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, wrap
from .vocab import PAD_ID

__all__ = ["PadCollate", "collate", "pad_batch", "padding_mask"]


def _as_int_array(seq, i):
    if isinstance(seq, Tensor):
        a = seq.numpy(force=True)
    else:
        a = np.asarray(seq)
    if a.ndim != 1:
        raise ValueError(f"pad_batch: sequence {i} has shape {tuple(a.shape)}; each sequence must be 1-D (a list "
                         "of token ids)")
    if a.size and a.dtype.kind not in "iub":
        raise TypeError(f"pad_batch: sequence {i} has dtype {a.dtype}; token ids must be integers")
    return a.astype(np.int64, copy=False)


def pad_batch(seqs, padding_value: int = PAD_ID, batch_first: bool = True, max_len: int | None = None,
              padding_side: str = "right"):
    """Pad sequences of token ids to one length: ``(ids, lengths)`` as int64 tensors.

    Args:
        seqs: a list of 1-D sequences (lists, arrays or tensors of ints).
        padding_value: the id written at padded positions (``<pad>`` = 0).
        batch_first: ids of shape ``(B, T)`` if True, else ``(T, B)`` (as ``pad_sequence``).
        max_len: pad (and truncate longer sequences) to exactly this length; default the longest.
        padding_side: ``"right"`` (default) or ``"left"`` (pads first, as for batched generation).

    Returns:
        ``ids``: LongTensor ``(B, T)`` (or ``(T, B)``); ``lengths``: LongTensor ``(B,)`` of the true
        lengths (after truncation to ``max_len``).
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_batch: padding_side must be 'right' or 'left', got {padding_side!r}")
    arrs = [_as_int_array(s, i) for i, s in enumerate(seqs)]
    if max_len is not None:
        if max_len < 0:
            raise ValueError(f"pad_batch: max_len must be >= 0, got {max_len}")
        arrs = [a[:max_len] for a in arrs]
    lengths = np.array([a.size for a in arrs], dtype=np.int64)
    T = int(max_len) if max_len is not None else (int(lengths.max()) if lengths.size else 0)
    out = np.full((len(arrs), T), padding_value, dtype=np.int64)
    for i, a in enumerate(arrs):
        if padding_side == "right":
            out[i, :a.size] = a
        elif a.size:
            out[i, T - a.size:] = a
    if not batch_first:
        out = np.ascontiguousarray(out.T)
    return wrap(out), wrap(lengths)


def padding_mask(lengths, max_len: int | None = None, padding_side: str = "right"):
    """Boolean mask ``(B, max_len)``, ``True`` at padded positions (PyTorch's ``key_padding_mask``).

    ``max_len`` defaults to ``max(lengths)``. Invert it (``~mask``) for a "valid positions" mask.
    """
    if isinstance(lengths, Tensor):
        lens = lengths.numpy(force=True)
    else:
        lens = np.asarray(lengths)
    lens = lens.astype(np.int64).reshape(-1)
    if lens.size and lens.min() < 0:
        raise ValueError(f"padding_mask: lengths must be >= 0, got {lens.tolist()}")
    T = int(max_len) if max_len is not None else (int(lens.max()) if lens.size else 0)
    pos = np.arange(T)[None, :]
    if padding_side == "right":
        mask = pos >= lens[:, None]
    elif padding_side == "left":
        mask = pos < (T - lens)[:, None]
    else:
        raise ValueError(f"padding_mask: padding_side must be 'right' or 'left', got {padding_side!r}")
    return wrap(mask)


class PadCollate:
    """A DataLoader ``collate_fn`` for ``(ids, label)`` samples: pads the ids, stacks the labels.

    Each batch is ``(ids, lengths, labels)``: LongTensor ``(B, T)``, LongTensor ``(B,)`` and the labels
    as a LongTensor ``(B,)`` (ints) or stacked tensor. Samples that are bare id sequences give
    ``(ids, lengths)``. Picklable, so it works with ``num_workers > 0``.
    """

    def __init__(self, padding_value: int = PAD_ID, batch_first: bool = True, max_len: int | None = None):
        self.padding_value = padding_value
        self.batch_first = batch_first
        self.max_len = max_len

    def __call__(self, batch):
        batch = list(batch)
        if not batch:
            raise ValueError("collate: empty batch")
        first = batch[0]
        paired = isinstance(first, (tuple, list)) and len(first) == 2 and not np.isscalar(first[0])
        seqs = [b[0] for b in batch] if paired else batch
        ids, lengths = pad_batch(seqs, self.padding_value, self.batch_first, self.max_len)
        if not paired:
            return ids, lengths
        labels = [b[1] for b in batch]
        if isinstance(labels[0], Tensor):
            from ..ops.join import stack
            labels = stack(labels)
        else:
            labels = wrap(np.asarray(labels, dtype=np.int64 if isinstance(labels[0], (int, np.integer)) else None))
        return ids, lengths, labels


def collate(batch, padding_value: int = PAD_ID, batch_first: bool = True, max_len: int | None = None):
    """Collate ``(ids, label)`` samples into ``(ids, lengths, labels)`` (see :class:`PadCollate`).

    Use ``DataLoader(ds, collate_fn=nerve.text.collate)``, or ``collate_fn=PadCollate(max_len=128)`` for
    other settings.
    """
    return PadCollate(padding_value, batch_first, max_len)(batch)
