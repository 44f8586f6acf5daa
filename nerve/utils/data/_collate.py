"""Collation: merging a list of samples into a batch (``torch.utils.data._utils.collate``).

``default_collate`` follows PyTorch's rules: tensors and NumPy arrays are stacked along a new
first dim, Python floats become float64 tensors, ints int64 tensors (bools bool tensors), NumPy
scalars keep their dtype, strings and bytes stay as lists, and mappings, namedtuples and sequences
are collated field by field (tuples become lists, as in PyTorch).
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...backend import array_module
from ...backend.dtypes import float64

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "default_collate_err_msg_format"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _as_tensor(x):
    from ...ops.creation import as_tensor
    return as_tensor(x)


def _tensor(x, dtype=None):
    from ...ops.creation import tensor
    return tensor(x, dtype=dtype)


def default_convert(data):
    """Turn NumPy arrays (also inside mappings, namedtuples and sequences) into tensors; leave the rest.

    The DataLoader's collate function when automatic batching is off (``batch_size=None``).
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _check_same_shape(shapes):
    s0 = shapes[0]
    for i, s in enumerate(shapes):
        if s != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                               f"{list(s)} at entry {i}")


def collate_tensor_fn(batch, *, collate_fn_map=None):
    arrays = [t._data for t in batch]
    if any(t.requires_grad for t in batch):
        from ...ops.join import stack  # keeps the graph, like torch.stack
        return stack(list(batch), 0)
    _check_same_shape([a.shape for a in arrays])
    return wrap(array_module(arrays[0]).stack(arrays))


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    _check_same_shape([b.shape for b in batch])
    return _as_tensor(np.stack(batch))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return _tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return _tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` (a list of samples) with per-type functions from ``collate_fn_map``.

    The map is looked up by the first sample's exact type, then by ``isinstance`` in insertion
    order; containers (mappings, namedtuples, sequences) are collated recursively.

    Example:
        >>> def collate_tensor_fn(batch, *, collate_fn_map):
        ...     return nerve.stack(batch, 0)
        >>> collate(samples, collate_fn_map={nerve.Tensor: collate_tensor_fn})
    """
    if len(batch) == 0:
        raise IndexError("collate: the batch is empty (a list of zero samples cannot be collated)")
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch):
    """Merge a list of samples into a batch with an added outer dimension (PyTorch's ``default_collate``).

    * Tensor -> Tensor stacked along a new dim 0 (the graph is kept if a sample requires grad)
    * NumPy array -> Tensor (stacked); NumPy scalar -> Tensor of its dtype
    * float -> float64 Tensor; int -> int64 Tensor; bool -> bool Tensor
    * str / bytes -> the list unchanged
    * Mapping -> Mapping of collated values; namedtuple -> namedtuple of collated fields;
      other sequences -> a list (tuples) or the same sequence type of collated fields

    Example:
        >>> default_collate([(nerve.zeros(2), 0), (nerve.ones(2), 1)])
        [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
