"""Generic tests run over every op-table entry: forward, backward, gradcheck, gradgradcheck."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve
from op_table import OpInfo, Sample, all_ops, noncontig

OPS = all_ops()


def _cases(test):
    out = []
    for op in OPS:
        if test in op.skip:
            continue
        dtypes = op.dtypes if test in ("forward", "backward") else (np.float64,)
        for dt in dtypes:
            out.append(pytest.param(op, np.dtype(dt), id=f"{op.name}-{np.dtype(dt).name}"))
    return out


def _samples(op: OpInfo, dtype):
    rng = np.random.default_rng(abs(hash(op.name)) % (2 ** 32))
    return op.samples(rng, dtype)


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _grad_mask(s: Sample):
    if s.grad is not None:
        return s.grad
    return tuple(_is_float(a) for a in s.args)


def _clone_layout(a: np.ndarray) -> np.ndarray:
    """A private copy of ``a`` with the same kind of memory layout (C, Fortran or strided)."""
    if a.flags.c_contiguous:
        return a.copy()
    if a.flags.f_contiguous:
        return a.copy(order="F")
    return noncontig(np.ascontiguousarray(a))


def _to_lib(lib, s: Sample, requires_grad: bool):
    mask = _grad_mask(s)
    args = []
    for a, g in zip(s.args, mask):
        if isinstance(a, np.ndarray):
            t = lib.from_numpy(_clone_layout(a))
            if requires_grad and g:
                t = t.requires_grad_(True)
            args.append(t)
        else:
            args.append(a)
    return args


def _call(op: OpInfo, lib, args, kwargs):
    fn = op.ref if (lib is torch and op.ref is not None) else op.fn
    return fn(lib, *args, **kwargs)


def _outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_outputs(o))
        return res
    return [out]


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, nerve.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _compare(a, b, atol, rtol, what):
    an, bn = _np(a), _np(b)
    assert an.shape == bn.shape, f"{what}: shape {an.shape} != torch {bn.shape}"
    if bn.dtype.kind in "iub":
        np.testing.assert_array_equal(an, bn, err_msg=what)
    else:
        assert an.dtype == bn.dtype, f"{what}: dtype {an.dtype} != torch {bn.dtype}"
        np.testing.assert_allclose(an, bn, atol=atol, rtol=rtol, equal_nan=True, err_msg=what)


def _tol(op, dtype):
    if dtype == np.float32:
        return max(op.atol, 1e-5), max(op.rtol, 1e-5)
    return op.atol, op.rtol


@pytest.mark.parametrize("op,dtype", _cases("forward"))
def test_forward(op, dtype):
    for s in _samples(op, dtype):
        n_out = _outputs(_call(op, nerve, _to_lib(nerve, s, False), s.kwargs))
        t_out = _outputs(_call(op, torch, _to_lib(torch, s, False), s.kwargs))
        assert len(n_out) == len(t_out)
        atol, rtol = _tol(op, dtype)
        for i, (a, b) in enumerate(zip(n_out, t_out)):
            _compare(a, b, atol, rtol, f"{op.name} {s} output {i}")


@pytest.mark.parametrize("op,dtype", [c for c in _cases("backward") if c.values[0].supports_grad])
def test_backward(op, dtype):
    for s in _samples(op, dtype):
        n_args = _to_lib(nerve, s, True)
        t_args = _to_lib(torch, s, True)
        n_out = [o for o in _outputs(_call(op, nerve, n_args, s.kwargs)) if isinstance(o, nerve.Tensor)
                 and o.requires_grad]
        t_out = [o for o in _outputs(_call(op, torch, t_args, s.kwargs)) if isinstance(o, torch.Tensor)
                 and o.requires_grad]
        assert len(n_out) == len(t_out), f"{op.name} {s}: differentiable outputs differ"
        if not t_out:
            continue
        rng = np.random.default_rng(1)
        gos = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_out]
        n_in = [a for a in n_args if isinstance(a, nerve.Tensor) and a.requires_grad]
        t_in = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
        n_g = nerve.autograd.grad(n_out, n_in, [nerve.tensor(g) for g in gos], allow_unused=True)
        t_g = torch.autograd.grad(t_out, t_in, [torch.from_numpy(g) for g in gos], allow_unused=True)
        scale = 10 if dtype == np.float32 else 1
        for i, (a, b) in enumerate(zip(n_g, t_g)):
            if b is None:
                assert a is None or np.allclose(_np(a), 0), f"{op.name} {s}: grad {i} should be None/zero"
                continue
            assert a is not None, f"{op.name} {s}: grad {i} missing"
            _compare(a, b, op.grad_atol * scale, op.grad_rtol * scale, f"{op.name} {s} grad {i}")


def _diff_fn(op, s):
    """A function of the differentiable args only, for gradcheck."""
    mask = _grad_mask(s)
    base = _to_lib(nerve, s, False)
    idx = [i for i, (a, g) in enumerate(zip(s.args, mask)) if isinstance(a, np.ndarray) and g]

    def f(*diff):
        args = list(base)
        for i, d in zip(idx, diff):
            args[i] = d
        outs = [o for o in _outputs(_call(op, nerve, args, s.kwargs))
                if isinstance(o, nerve.Tensor) and o.dtype.is_floating_point]
        return tuple(outs)
    inputs = tuple(nerve.tensor(s.args[i]).requires_grad_(True) for i in idx)
    return f, inputs


@pytest.mark.parametrize("op,dtype", [c for c in _cases("gradcheck") if c.values[0].supports_grad
                                      and c.values[0].gradcheck])
def test_gradcheck(op, dtype):
    for s in _samples(op, np.float64):
        f, inputs = _diff_fn(op, s)
        if not inputs or sum(i.numel() for i in inputs) == 0:
            continue
        assert nerve.autograd.gradcheck(f, inputs, atol=op.gradcheck_atol, rtol=op.gradcheck_rtol), f"{op.name} {s}"


@pytest.mark.parametrize("op,dtype", [c for c in _cases("gradgrad") if c.values[0].supports_gradgrad
                                      and c.values[0].supports_grad and c.values[0].gradcheck])
def test_gradgradcheck(op, dtype):
    for s in _samples(op, np.float64):
        f, inputs = _diff_fn(op, s)
        if not inputs or sum(i.numel() for i in inputs) == 0:
            continue
        assert nerve.autograd.gradgradcheck(f, inputs, atol=op.gradcheck_atol, rtol=op.gradcheck_rtol), \
            f"{op.name} {s}"
