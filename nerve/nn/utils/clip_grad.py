"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` and friends).

The total norm is the ``norm_type``-norm of the per-tensor norms, i.e. the norm of all gradients
concatenated into one vector. Clipping multiplies every gradient in place by
``min(1, max_norm / (total_norm + 1e-6))``.

Example:
    >>> loss.backward()
    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> opt.step()
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np

from ...autograd.tensor import Tensor, wrap
from ...ops._helpers import xp_of

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _vector_norm(xp, a, p):
    """The p-norm of the flattened array ``a`` as a 0-d array of its dtype (accumulated in float64)."""
    dt = a.dtype
    a = xp.abs(a.reshape(-1)).astype(np.float64)
    if a.size == 0:
        r = 0.0
    elif p == math.inf:
        r = a.max()
    elif p == -math.inf:
        r = a.min()
    elif p == 0:
        r = (a != 0).sum()
    elif p == 1:
        r = a.sum()
    elif p == 2:
        r = xp.sqrt((a * a).sum())
    else:
        r = (a ** p).sum() ** (1.0 / p)
    return xp.asarray(r, dtype=np.float64).astype(dt)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` (usually gradients) viewed as one concatenated vector.

    Returns a 0-d tensor (``nerve.tensor(0.)`` for no tensors).

    Raises:
        RuntimeError: when the norm is nan or inf and ``error_if_nonfinite`` is set.
    """
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    else:
        tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return wrap(np.asarray(0.0, dtype=np.float32))
    first = tensors[0]._data
    xp = xp_of(first)
    norms = [_vector_norm(xp_of(t._data), t._data, norm_type) for t in tensors]
    dt = np.result_type(*[n.dtype for n in norms])
    stacked = xp.stack([xp.asarray(n).astype(dt) for n in norms])
    total = _vector_norm(xp, stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm, dtype=np.float32)
    xp = xp_of(tn)
    coef = xp.minimum(xp.asarray(max_norm, dtype=tn.dtype) / (tn + tn.dtype.type(1e-6)), tn.dtype.type(1.0))
    for g in grads:
        d = g._data
        c = coef if xp_of(d) is xp else xp_of(d).asarray(coef.get() if hasattr(coef, "get") else coef)
        d *= c.astype(d.dtype)
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Clip the gradient norm of ``parameters`` (a tensor or an iterable of them) to ``max_norm``, in place.

    Args:
        parameters: tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: the p of the p-norm (``float('inf')`` for the max norm).
        error_if_nonfinite: raise when the total norm is nan or inf.
        foreach: accepted for compatibility.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        g = p.grad
        if g is not None:
            d = g._data
            xp_of(d).clip(d, -clip_value, clip_value, out=d)
            g._vc[0] += 1
