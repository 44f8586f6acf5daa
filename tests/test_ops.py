"""Generic tests run over every op-table entry: forward, backward, gradcheck, gradgradcheck, errors."""
from __future__ import annotations

import zlib

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


def _all_samples(op: OpInfo, dtype):
    # A stable seed per op (str hash() changes between processes), so failures reproduce.
    rng = np.random.default_rng(zlib.crc32(op.name.encode()))
    return list(op.samples(rng, dtype))


def _samples(op: OpInfo, dtype):
    """The samples that should run (error samples are checked by test_errors)."""
    return [s for s in _all_samples(op, dtype) if s.raises is None]


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
        elif isinstance(a, (list, tuple)) and any(isinstance(x, np.ndarray) for x in a):
            # a sequence of tensors (cat, einsum operand lists, ...)
            args.append(type(a)(lib.from_numpy(_clone_layout(x)) if isinstance(x, np.ndarray) else x for x in a))
        else:
            args.append(a)
    return args


def _call(op: OpInfo, lib, args, kwargs):
    fn = op.ref if (lib is torch and op.ref is not None) else op.fn
    return fn(lib, *args, **kwargs)


def _outputs(out):
    if isinstance(out, (tuple, list)) and not isinstance(out, (torch.Size, nerve.Size)):
        res = []
        for o in out:
            res.extend(_outputs(o))
        return res
    return [out]


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)  # force: torch may return a lazy ZeroTensor gradient
    if isinstance(t, nerve.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _compare(a, b, atol, rtol, what):
    """``a`` (nerve) must match ``b`` (torch): same kind of object, shape, dtype and values."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, nerve.Tensor), f"{what}: torch returns a Tensor, nerve a {type(a).__name__}"
    else:
        assert not isinstance(a, nerve.Tensor), f"{what}: torch returns {type(b).__name__}, nerve a Tensor"
        if isinstance(b, (bool, int, float)) and not isinstance(b, np.generic):
            assert type(a) is type(b), f"{what}: torch returns {type(b).__name__}, nerve {type(a).__name__}"
    an, bn = _np(a), _np(b)
    assert an.shape == bn.shape, f"{what}: shape {an.shape} != torch {bn.shape}"
    assert an.dtype == bn.dtype, f"{what}: dtype {an.dtype} != torch {bn.dtype}"
    if bn.dtype.kind in "iub":
        np.testing.assert_array_equal(an, bn, err_msg=what)
    else:
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
        assert len(n_out) == len(t_out), f"{op.name} {s}: {len(n_out)} outputs, torch {len(t_out)}"
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
        gos = [rng.standard_normal(tuple(o.shape)).astype(_np(o).dtype) for o in t_out]
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
    """A function of the differentiable args only, for gradcheck (they are made float64)."""
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
    inputs = tuple(nerve.tensor(s.args[i].astype(np.float64)).requires_grad_(True) for i in idx)
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


def _error_cases():
    out = []
    for op in OPS:
        if "errors" in op.skip:
            continue
        rng = np.random.default_rng(zlib.crc32(op.name.encode()))
        if any(s.raises is not None for s in op.samples(rng, np.dtype(np.float32))):
            out.append(pytest.param(op, id=op.name))
    return out


@pytest.mark.parametrize("op", _error_cases())
def test_errors(op):
    """Error samples: torch raises the expected type (checks the sample), and so does nerve."""
    for s in _all_samples(op, np.dtype(np.float32)):
        if s.raises is None:
            continue
        with pytest.raises(s.raises):
            _call(op, torch, _to_lib(torch, s, False), s.kwargs)
        with pytest.raises(s.raises, match=s.match) as info:
            _call(op, nerve, _to_lib(nerve, s, False), s.kwargs)
        assert str(info.value), f"{op.name} {s}: empty error message"


def test_compare_is_strict():
    """The harness itself: a dtype or type mismatch with torch must fail loudly."""
    with pytest.raises(AssertionError, match="dtype"):
        _compare(nerve.tensor([1.0, 2.0], dtype=nerve.float64), torch.tensor([1.0, 2.0]), 1e-5, 1e-5, "x")
    with pytest.raises(AssertionError, match="dtype"):
        _compare(nerve.tensor([1, 2], dtype=nerve.int32), torch.tensor([1, 2]), 1e-5, 1e-5, "x")
    with pytest.raises(AssertionError):
        _compare(nerve.tensor([1, 2]), torch.tensor([1, 3]), 1e-5, 1e-5, "x")
    with pytest.raises(AssertionError, match="Tensor"):
        _compare(1.0, torch.tensor(1.0), 1e-5, 1e-5, "x")
    with pytest.raises(AssertionError):
        _compare(np.True_, True, 1e-5, 1e-5, "x")
    _compare(nerve.tensor([True]), torch.tensor([True]), 0, 0, "x")


# ---------------------------------------------------------------------------- in-place semantics
def _grads(lib, build):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
    out = build(lib, x, w)
    out.sum().backward()
    return [_np(t.grad) for t in (x, w)]


@pytest.mark.parametrize("build", [
    lambda L, x, w: (x * 1).mul_(w).mul_(w),
    lambda L, x, w: (x * 1).div_(w).add_(w, alpha=2),
    lambda L, x, w: (x * w).pow_(2),
    lambda L, x, w: (x * 1).abs_().log_().sub_(w),
    lambda L, x, w: (x * w).clamp_(-1.0, 1.0),
    lambda L, x, w: (x * 1).sigmoid_() * w,
    lambda L, x, w: L.where(x > 0, (x * 1).tanh_(), w),
], ids=["mul_-chain", "div_-add_", "pow_", "abs_-log_-sub_", "clamp_", "sigmoid_", "tanh_-where"])
def test_inplace_chains_match_torch(build):
    """In-place ops on non-leaf tensors: the gradient flows through the overwritten values correctly."""
    for a, b in zip(_grads(nerve, build), _grads(torch, build)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_inplace_returns_self_and_bumps_version():
    for lib in (nerve, torch):
        y = lib.tensor([1.0, 2.0]) * 1
        v = y._version
        assert y.add_(1) is y and y.mul_(2) is y and y.clamp_(0, 3) is y and y.exp_() is y
        assert y._version == v + 4


def test_inplace_after_save_raises_on_backward():
    for lib in (nerve, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y  # saves y
        y.add_(1.0)
        with pytest.raises(RuntimeError, match="inplace|in-place"):
            z.sum().backward()


def test_inplace_leaf_and_no_grad():
    for lib in (nerve, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            x.add_(1.0)
        with lib.no_grad():
            x.mul_(2.0).add_(1.0)
        assert x.is_leaf and x.requires_grad and x.tolist() == [3.0, 5.0]


def test_inplace_comparison_drops_history():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.gt_(1.5)
    assert y.tolist() == [0.0, 1.0] and y.dtype == nerve.float32 and not y.requires_grad
