"""Packed and padded batches of variable-length sequences (``torch.nn.utils.rnn``).

A ``PackedSequence`` stores the time steps of a batch sorted by decreasing length one after the other:
``data`` holds the rows of step 0 (all ``batch_sizes[0]`` sequences), then those of step 1 (the
``batch_sizes[1]`` sequences still running), and so on. Packing and padding are index gathers, so
gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor, wrap

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def invert_permutation(permutation):
    """The inverse of a permutation given as an int64 tensor (None passes through)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return wrap(inv.astype(np.int64))


def _as_index(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x
    return wrap(np.asarray(x, dtype=np.int64))


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Holds the data and the list of ``batch_sizes`` of a packed sequence (see the module docstring).

    Made by ``pack_padded_sequence`` / ``pack_sequence``; not meant to be built by hand.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required")
        return super().__new__(cls, data, _as_index(batch_sizes), _as_index(sorted_indices),
                               _as_index(unsorted_indices))

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    def half(self):
        return self._with_data(self.data.half())

    def long(self):
        return self._with_data(self.data.long())

    def int(self):
        return self._with_data(self.data.int())

    def short(self):
        return self._with_data(self.data.short())

    def char(self):
        return self._with_data(self.data.char())

    def byte(self):
        return self._with_data(self.data.byte())

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _packed_rows(batch_sizes, B):
    """Row indices into a time-major (T*B) flattening of the padded batch, in packed order."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    T = bs.size
    rows = np.arange(T, dtype=np.int64)[:, None] * B + np.arange(B, dtype=np.int64)[None, :]
    keep = np.arange(B)[None, :] < bs[:, None]
    return rows[keep]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of the given lengths.

    ``enforce_sorted``: lengths must be in decreasing order; otherwise the batch is sorted here and the
    permutation is kept in ``sorted_indices`` (``pad_packed_sequence`` restores the order).
    """
    if isinstance(lengths, Tensor):
        lens = np.asarray(lengths._data).astype(np.int64).reshape(-1)
    else:
        lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    bdim = 0 if batch_first else 1
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: input of shape {tuple(input.shape)} must have at least 2 dims "
                           "(time and batch)")
    B = input.shape[bdim]
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={B})")
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        perm = np.argsort(-lens, kind="stable")
        lens = lens[perm]
        sorted_indices = wrap(perm.astype(np.int64))
        input = ops.index_select(input, bdim, sorted_indices)
    if B and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    T = int(lens[0]) if B else 0
    if T > input.shape[1 - bdim]:
        raise RuntimeError(f"pack_padded_sequence: lengths up to {T} but the input of shape {tuple(input.shape)} "
                           f"has only {input.shape[1 - bdim]} time steps")
    if batch_first:
        input = input.transpose(0, 1)
    batch_sizes = (lens[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)
    flat = input.reshape((-1,) + tuple(input.shape[2:]))
    data = flat[_packed_rows(batch_sizes, B)]
    return PackedSequence(data, wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: returns ``(padded, lengths)`` in the original batch order."""
    data = sequence.data
    bs = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    T = bs.size
    B = int(bs[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
    else:
        total_length = T
    tail = tuple(data.shape[1:])
    # a row of padding_value after the data; padded positions gather it
    pad_row = ops.full((1,) + tail, padding_value, dtype=data.dtype)
    ext = ops.cat([data, pad_row], 0)
    idx = np.full(total_length * B, data.shape[0], dtype=np.int64)
    idx[_packed_rows(bs, B)] = np.arange(data.shape[0], dtype=np.int64)
    padded = ext[idx].reshape((total_length, B) + tail)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = ops.index_select(padded, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices._data)]
    return padded, wrap(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (``batch_first``: (B, max L, *)), padded."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(ops.unbind(sequences, 0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    L = max(s.shape[0] for s in sequences)
    out = []
    for s in sequences:
        extra = L - s.shape[0]
        if extra:
            pad = ops.full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype)
            s = ops.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        out.append(s)
    return ops.stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of the given lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths, dtype=np.int64).reshape(-1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors of shapes (L_i, *) (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo ``pack_sequence``: the list of tensors in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
