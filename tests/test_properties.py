"""Property tests (Hypothesis): broadcasting and reductions over random shapes, against NumPy and PyTorch.

For random broadcast-compatible shapes the forward of ``+ * / maximum where`` must equal NumPy's
and PyTorch's, and the gradient with respect to each input must have that input's shape and equal
PyTorch's (the engine sums broadcast gradients back). Reductions ``sum``/``mean`` over random dims
(negative ones included) with and without ``keepdim`` are checked the same way.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nerve

SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DTYPES = st.sampled_from([np.float32, np.float64])


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def _array(draw, shape, dtype, low=-3.0, high=3.0, away_from_zero=False):
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=32)
    a = draw(hnp.arrays(np.float64, shape, elements=elements)).astype(dtype)
    if away_from_zero:
        a = np.where(np.abs(a) < 0.5, np.where(a < 0, -0.5, 0.5), a).astype(dtype)
    return a


def _check(n_out, t_out, np_out, n_in, t_in, dtype, seed):
    """Forward vs NumPy and torch, then gradients vs torch (shape = input shape)."""
    tol = _tol(dtype)
    assert tuple(n_out.shape) == tuple(t_out.shape) == np.shape(np_out)
    assert n_out.numpy(force=True).dtype == t_out.detach().numpy().dtype
    np.testing.assert_allclose(n_out.numpy(force=True), np_out, **tol)
    np.testing.assert_allclose(n_out.numpy(force=True), t_out.detach().numpy(), **tol)
    if not n_out.requires_grad:
        return
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(dtype)
    n_g = nerve.autograd.grad([n_out], n_in, [nerve.tensor(g)], allow_unused=True)
    t_g = torch.autograd.grad([t_out], t_in, [torch.from_numpy(g)], allow_unused=True)
    for i, (a, b, x) in enumerate(zip(n_g, t_g, n_in)):
        if b is None:
            assert a is None or not a.numpy().any()
            continue
        assert a is not None, f"grad {i} missing"
        assert tuple(a.shape) == tuple(x.shape), f"grad {i} shape {tuple(a.shape)} != input {tuple(x.shape)}"
        assert a.numpy().dtype == b.numpy().dtype
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


BINARY = {
    "add": (lambda L, a, b: a + b, np.add),
    "mul": (lambda L, a, b: a * b, np.multiply),
    "div": (lambda L, a, b: a / b, np.divide),
    "sub_alpha": (lambda L, a, b: L.sub(a, b, alpha=2), lambda a, b: a - 2 * b),
    "maximum": (lambda L, a, b: L.maximum(a, b), np.maximum),
    "minimum": (lambda L, a, b: L.minimum(a, b), np.minimum),
}


@pytest.mark.parametrize("op", list(BINARY))
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                                                 max_side=3), dtype=DTYPES)
def test_broadcast_binary(op, data, shapes, dtype):
    fn, ref = BINARY[op]
    sa, sb = shapes.input_shapes
    a = _array(data.draw, sa, dtype)
    b = _array(data.draw, sb, dtype, away_from_zero=(op == "div"))
    n_in = [nerve.tensor(a, requires_grad=True), nerve.tensor(b, requires_grad=True)]
    t_in = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    n_out, t_out = fn(nerve, *n_in), fn(torch, *t_in)
    assert tuple(n_out.shape) == shapes.result_shape
    _check(n_out, t_out, ref(a, b), n_in, t_in, dtype, seed=len(sa) * 7 + len(sb))


@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=0,
                                                                 max_side=3), dtype=DTYPES)
def test_broadcast_where(data, shapes, dtype):
    sc, sa, sb = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a = _array(data.draw, sa, dtype)
    b = _array(data.draw, sb, dtype)
    n_in = [nerve.tensor(a, requires_grad=True), nerve.tensor(b, requires_grad=True)]
    t_in = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    n_out = nerve.where(nerve.tensor(cond), *n_in)
    t_out = torch.where(torch.tensor(cond), *t_in)
    _check(n_out, t_out, np.where(cond, a, b), n_in, t_in, dtype, seed=3)


@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                                                                 max_side=3), dtype=DTYPES)
def test_broadcast_mixed_dtype_and_scalar(data, shapes, dtype):
    """A float tensor meeting an int tensor, a 0-d tensor and a Python scalar: dtype and grad vs torch."""
    sa, sb = shapes.input_shapes
    a = _array(data.draw, sa, dtype)
    b = data.draw(hnp.arrays(np.int64, sb, elements=st.integers(-3, 3)))
    s = data.draw(st.floats(-2, 2, width=32))
    z = np.asarray(data.draw(st.floats(-2, 2, width=32)), dtype=np.float64)
    n_a, t_a = nerve.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    n_out = (n_a * nerve.tensor(b) + s) * nerve.tensor(z)
    t_out = (t_a * torch.tensor(b) + s) * torch.tensor(z)
    ref = ((a * b.astype(dtype) + dtype(s)) * dtype(z)).astype(dtype)
    _check(n_out, t_out, ref, [n_a], [t_a], dtype, seed=5)


def _dims(draw, ndim):
    """None, one dim or a tuple of distinct dims, each maybe negative."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in picked)


@pytest.mark.parametrize("op", ["sum", "mean"])
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3), dtype=DTYPES,
       keepdim=st.booleans())
def test_reduction(op, data, shape, dtype, keepdim):
    a = _array(data.draw, shape, dtype)
    dim = _dims(data.draw, len(shape))
    n_x, t_x = nerve.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    if dim is None:
        n_out, t_out = getattr(nerve, op)(n_x), getattr(torch, op)(t_x)
        ref = getattr(np, op)(a) if a.size or op == "sum" else np.nan
    else:
        n_out = getattr(nerve, op)(n_x, dim, keepdim=keepdim)
        t_out = getattr(torch, op)(t_x, dim, keepdim=keepdim)
        np_dim = dim if len(shape) else None
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an empty slice is nan, as in torch
            ref = getattr(np, op)(a, axis=np_dim, keepdims=keepdim and len(shape) > 0)
    ref = np.asarray(ref, dtype=dtype)
    with np.errstate(invalid="ignore"):
        _check(n_out, t_out, ref, [n_x], [t_x], dtype, seed=len(shape))


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), dtype=DTYPES)
def test_reduction_method_and_integer_sum(data, shape, dtype):
    """Tensor.sum/mean methods with dim= keyword, and int64 accumulation of integer sums."""
    a = _array(data.draw, shape, dtype)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n_x, t_x = nerve.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _check(n_x.sum(dim=dim), t_x.sum(dim=dim), a.sum(axis=dim), [n_x], [t_x], dtype, seed=1)
    _check(n_x.mean(dim=dim, keepdim=True), t_x.mean(dim=dim, keepdim=True), a.mean(axis=dim, keepdims=True),
           [n_x], [t_x], dtype, seed=2)
    ints = data.draw(hnp.arrays(np.int32, shape, elements=st.integers(-100, 100)))
    ns, ts = nerve.tensor(ints).sum(dim), torch.tensor(ints).sum(dim)
    assert ns.dtype == nerve.int64 and ts.dtype == torch.int64
    np.testing.assert_array_equal(ns.numpy(), ts.numpy())
