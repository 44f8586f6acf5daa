"""Tensor creation, dtype inference, conversions, fills and random sampling, checked against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()


def assert_same(n, t, exact=True):
    """nerve tensor ``n`` equals torch tensor ``t``: shape, dtype and values."""
    assert isinstance(n, nerve.Tensor), type(n)
    a, b = _np(n), _np(t)
    assert a.shape == b.shape, f"shape {a.shape} != torch {b.shape}"
    assert a.dtype == b.dtype, f"dtype {a.dtype} != torch {b.dtype}"
    if exact or a.dtype.kind != "f":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.fixture
def default_float64():
    """Run a test with float64 as the default dtype in both libraries, then restore float32."""
    nerve.set_default_dtype(nerve.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        nerve.set_default_dtype(nerve.float32)
        torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------- tensor(): dtype inference
INFER = {
    "float-list": [1.0, 2.5],
    "int-list": [1, 2],
    "bool-list": [True, False],
    "int-float-mix": [1, 2.5],
    "bool-int-mix": [True, 2],
    "float-scalar": 2.5,
    "int-scalar": 3,
    "bool-scalar": True,
    "nested": [[1, 2], [3, 4]],
    "nested-float": [[1.0], [2.0]],
    "tuple": (1.0, 2.0),
    "empty": [],
    "empty-nested": [[], []],
    "nan-inf": [float("nan"), float("inf")],
    "big-int": [2 ** 40, -(2 ** 40)],
    "f64-ndarray": np.array([1.0, 2.0]),
    "f32-ndarray": np.array([1.0, 2.0], dtype=np.float32),
    "i32-ndarray": np.array([1, 2], dtype=np.int32),
    "u8-ndarray": np.array([1, 2], dtype=np.uint8),
    "bool-ndarray": np.array([True, False]),
    "f64-ndarray-2d-T": np.arange(6.0).reshape(2, 3).T,
    "np-float64-scalar": np.float64(1.5),
    "np-float32-scalar": np.float32(1.5),
    "list-of-np-float64": [np.float64(1.5), np.float64(2.0)],
    "list-np-float64-and-float": [np.float64(1.5), 2.0],
    "list-np-float32-and-float": [np.float32(1.5), 2.0],
}


@pytest.mark.parametrize("name", list(INFER))
def test_tensor_dtype_inference(name):
    data = INFER[name]
    assert_same(nerve.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name", ["float-list", "int-list", "nested", "f64-ndarray", "bool-list"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "uint8"])
def test_tensor_dtype_argument(name, dtype):
    data = INFER[name]
    assert_same(nerve.tensor(data, dtype=getattr(nerve, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_of_tensors_and_copies():
    assert_same(nerve.tensor([nerve.tensor(1.0), nerve.tensor(2.0)]),
                torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))
    src = nerve.tensor([1.0, 2.0])
    t = nerve.tensor(src)
    t.add_(1)
    np.testing.assert_array_equal(src.numpy(), [1.0, 2.0])  # tensor() always copies
    a = np.array([1.0, 2.0])
    t = nerve.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1.0


def test_tensor_requires_grad_and_errors():
    t = nerve.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    for bad, exc in [(lambda L: L.tensor([1, 2], requires_grad=True), RuntimeError),
                     (lambda L: L.tensor([[1, 2], [3]]), ValueError),
                     (lambda L: L.tensor("abc"), TypeError),
                     (lambda L: L.ones(2, dtype=L.int64, requires_grad=True), RuntimeError)]:
        with pytest.raises(exc):
            bad(torch)
        with pytest.raises(exc):
            bad(nerve)


def test_python_type_dtypes():
    """dtype=float means float64 (not the default dtype), as in PyTorch."""
    for py in (float, int, bool):
        assert_same(nerve.zeros(2, dtype=py), torch.zeros(2, dtype=py))
        assert_same(nerve.tensor([1.5, 0.0], dtype=py), torch.tensor([1.5, 0.0], dtype=py))
        assert_same(nerve.tensor([1, 0]).to(py), torch.tensor([1, 0]).to(py))


# ---------------------------------------------------------------------------- memory sharing
def test_as_tensor_shares_memory():
    a = np.array([1.0, 2.0])
    t = nerve.as_tensor(a)
    assert t.dtype == nerve.float64
    a[0] = 7.0
    assert t.numpy()[0] == 7.0
    t2 = nerve.as_tensor(a, dtype=nerve.float64)  # same dtype: still shared
    t2.add_(1.0)
    assert a[0] == 8.0
    t3 = nerve.as_tensor(a, dtype=nerve.float32)  # another dtype: a copy
    t3.add_(1.0)
    assert a[0] == 8.0 and t3.dtype == nerve.float32
    x = nerve.tensor([1, 2])
    assert nerve.as_tensor(x) is x
    assert_same(nerve.as_tensor(x, dtype=nerve.float32), torch.as_tensor(torch.tensor([1, 2]), dtype=torch.float32))
    assert_same(nerve.as_tensor([1, 2.5]), torch.as_tensor([1, 2.5]))
    assert_same(nerve.asarray([True]), torch.asarray([True]))


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = nerve.from_numpy(a)
    assert t.dtype == nerve.float64 and tuple(t.shape) == (2, 3)
    a[0, 0] = 10.0
    assert t.numpy()[0, 0] == 10.0
    t.mul_(2.0)
    assert a[0, 0] == 20.0
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    at = a.T
    tt = nerve.from_numpy(at)
    assert tt.stride() == torch.from_numpy(at).stride() and not tt.is_contiguous()
    for dt in (np.float32, np.int64, np.int32, np.uint8, np.bool_, np.int16):
        assert_same(nerve.from_numpy(np.ones(3, dtype=dt)), torch.from_numpy(np.ones(3, dtype=dt)))
    with pytest.raises(TypeError):
        nerve.from_numpy([1, 2])
    with pytest.raises(TypeError):
        nerve.from_numpy(np.array(["a"]))


def test_numpy_shares_memory():
    t = nerve.zeros(3)
    t.numpy()[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0]


# ---------------------------------------------------------------------------- factories vs torch
FACTORIES = {
    "zeros": lambda L: L.zeros(2, 3),
    "zeros-tuple": lambda L: L.zeros((2, 3)),
    "zeros-list": lambda L: L.zeros([2, 3]),
    "zeros-size-kw": lambda L: L.zeros(size=(2, 3)),
    "zeros-0d": lambda L: L.zeros(()),
    "zeros-size0": lambda L: L.zeros(0, 3),
    "zeros-int": lambda L: L.zeros(2, dtype=L.int64),
    "zeros-bool": lambda L: L.zeros(2, dtype=L.bool),
    "zeros-Size": lambda L: L.zeros(L.ones(2, 3).shape),
    "ones": lambda L: L.ones(2, 3),
    "ones-int32": lambda L: L.ones(3, dtype=L.int32),
    "ones-f64": lambda L: L.ones(1, 2, dtype=L.float64),
    "full-float": lambda L: L.full((2, 3), 1.5),
    "full-int": lambda L: L.full((2, 3), 7),
    "full-bool": lambda L: L.full((2,), True),
    "full-dtype": lambda L: L.full((2,), 7, dtype=L.float64),
    "full-int-dtype-float-value": lambda L: L.full((2,), 1.5, dtype=L.int64),
    "full-list": lambda L: L.full([2], -1.0),
    "arange": lambda L: L.arange(5),
    "arange-start-end": lambda L: L.arange(2, 7),
    "arange-float": lambda L: L.arange(0, 1, 0.25),
    "arange-float-end": lambda L: L.arange(2.5),
    "arange-neg-step": lambda L: L.arange(5, 0, -1),
    "arange-neg-float-step": lambda L: L.arange(1.0, 0.0, -0.3),
    "arange-dtype": lambda L: L.arange(5, dtype=L.float64),
    "arange-float-bounds-int-dtype": lambda L: L.arange(0.5, 5.0, 1.5, dtype=L.int64),
    "arange-empty": lambda L: L.arange(0),
    "arange-tensor": lambda L: L.arange(L.tensor(3)),
    "arange-0.1": lambda L: L.arange(1, 2, 0.1),
    "linspace": lambda L: L.linspace(0, 1, 5),
    "linspace-1": lambda L: L.linspace(0, 1, 1),
    "linspace-0": lambda L: L.linspace(0, 1, 0),
    "linspace-f64": lambda L: L.linspace(-1, 1, 4, dtype=L.float64),
    "linspace-int": lambda L: L.linspace(-1, 10, 4, dtype=L.int64),
    "linspace-tensors": lambda L: L.linspace(L.tensor(0.0), L.tensor(1.0), 3),
    "logspace": lambda L: L.logspace(0, 2, 3),
    "logspace-base": lambda L: L.logspace(0, 2, 3, base=2),
    "eye": lambda L: L.eye(3),
    "eye-nm": lambda L: L.eye(2, 3),
    "eye-int": lambda L: L.eye(2, dtype=L.int64),
    "eye-0": lambda L: L.eye(0),
    "zeros_like": lambda L: L.zeros_like(L.tensor([1, 2])),
    "zeros_like-dtype": lambda L: L.zeros_like(L.tensor([1, 2]), dtype=L.float32),
    "ones_like": lambda L: L.ones_like(L.tensor([[1.5]])),
    "ones_like-f64": lambda L: L.ones_like(L.tensor([1.5], dtype=L.float64)),
    "full_like": lambda L: L.full_like(L.tensor([1, 2]), 2.7),
    "full_like-float": lambda L: L.full_like(L.tensor([1.0, 2.0]), 7),
    "new_zeros": lambda L: L.tensor([1.0], dtype=L.float64).new_zeros(2, 3),
    "new_ones": lambda L: L.tensor([1]).new_ones((2,)),
    "new_full": lambda L: L.tensor([1]).new_full((2,), 3.5),
    "new_tensor": lambda L: L.tensor([1.0], dtype=L.float64).new_tensor([1, 2]),
    "Tensor-list": lambda L: L.Tensor([1, 2]),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factory(name):
    fn = FACTORIES[name]
    assert_same(fn(nerve), fn(torch), exact=False)


@pytest.mark.parametrize("fn", [
    lambda L: L.empty(2, 3), lambda L: L.empty((4,), dtype=L.int64), lambda L: L.empty_like(L.ones(2, 1)),
    lambda L: L.empty_like(L.tensor([1, 2]), dtype=L.float64), lambda L: L.ones(2).new_empty(3),
    lambda L: L.empty(size=(2,)), lambda L: L.Tensor(2, 3)])
def test_empty_shape_dtype(fn):
    n, t = fn(nerve), fn(torch)
    assert tuple(n.shape) == tuple(t.shape) and _np(n).dtype == _np(t).dtype


def test_like_keeps_layout():
    base = nerve.zeros(2, 3).t()
    tbase = torch.zeros(2, 3).t()
    for f in ("zeros_like", "ones_like", "empty_like"):
        assert getattr(nerve, f)(base).stride() == getattr(torch, f)(tbase).stride()


@pytest.mark.parametrize("bad", [
    lambda L: L.zeros(-1), lambda L: L.arange(0, 5, -1), lambda L: L.arange(0, 5, 0), lambda L: L.linspace(0, 1, -1),
    lambda L: L.randint(5, 5, (3,)), lambda L: L.normal(0.0, -1.0, (2,)), lambda L: L.bernoulli(L.tensor([1.5])),
    lambda L: L.normal(L.zeros(2), L.tensor([1.0, -1.0]))])
def test_factory_errors(bad):
    with pytest.raises(RuntimeError):
        bad(torch)
    with pytest.raises(RuntimeError):
        bad(nerve)


def test_random_integer_dtype_errors():
    for fn in (lambda L: L.rand(2, dtype=L.int64), lambda L: L.randn(2, dtype=L.int64)):
        with pytest.raises(NotImplementedError):
            fn(torch)
        with pytest.raises(NotImplementedError):
            fn(nerve)


# ---------------------------------------------------------------------------- default dtype
def test_default_dtype_is_float32():
    assert nerve.get_default_dtype() == nerve.float32
    assert nerve.tensor([1.0]).dtype == nerve.float32


DEFAULT_DEPENDENT = {
    "tensor-float": lambda L: L.tensor([1.0, 2.0]),
    "tensor-int": lambda L: L.tensor([1, 2]),
    "zeros": lambda L: L.zeros(2),
    "full-float": lambda L: L.full((2,), 1.5),
    "arange-float": lambda L: L.arange(0.5),
    "linspace": lambda L: L.linspace(0, 1, 3),
    "int+float": lambda L: L.tensor([1, 2]) + 2.5,
    "int/int": lambda L: L.tensor([1, 2]) / L.tensor([2, 2]),
    "exp-int": lambda L: L.exp(L.tensor([0, 1])),
    "Tensor": lambda L: L.Tensor([1, 2]),
    "eye": lambda L: L.eye(2),
    "as_tensor-list": lambda L: L.as_tensor([1.5]),
    "where-scalars": lambda L: L.where(L.tensor([True, False]), 1.0, 0.0),
}


@pytest.mark.parametrize("name", list(DEFAULT_DEPENDENT))
def test_set_default_dtype(name, default_float64):
    assert nerve.get_default_dtype() == nerve.float64
    fn = DEFAULT_DEPENDENT[name]
    assert_same(fn(nerve), fn(torch), exact=False)
    assert nerve.rand(2).dtype == nerve.float64 and nerve.randn(2).dtype == nerve.float64


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError):
        nerve.set_default_dtype(nerve.int64)
    assert nerve.get_default_dtype() == nerve.float32


# ---------------------------------------------------------------------------- conversions
def _nonneg(L, x):
    """Casting negative floats to uint8 is undefined behaviour in C: keep the values >= 0."""
    return x if x.dtype == L.bool else x.abs()


CONVERSIONS = {
    "to-f64": lambda L, x: x.to(L.float64),
    "to-f32": lambda L, x: x.to(L.float32),
    "to-int64": lambda L, x: x.to(L.int64),
    "to-int32": lambda L, x: x.to(L.int32),
    "to-bool": lambda L, x: x.to(L.bool),
    "to-uint8": lambda L, x: _nonneg(L, x).to(L.uint8),
    "to-dtype-kw": lambda L, x: x.to(dtype=L.float64),
    "to-other": lambda L, x: x.to(L.zeros(1, dtype=L.int32)),
    "to-device-dtype": lambda L, x: x.to("cpu", L.float64),
    "to-float-type": lambda L, x: x.to(float),
    "to-int-type": lambda L, x: x.to(int),
    "float": lambda L, x: x.float(),
    "double": lambda L, x: x.double(),
    "half": lambda L, x: x.half(),
    "long": lambda L, x: x.long(),
    "int": lambda L, x: x.int(),
    "short": lambda L, x: x.short(),
    "bool": lambda L, x: x.bool(),
    "byte": lambda L, x: _nonneg(L, x).byte(),
    "type-dtype": lambda L, x: x.type(L.float64),
    "type-int": lambda L, x: x.type(L.int32),
    "type-str": lambda L, x: x.type(f"{L.__name__}.LongTensor"),
    "type-short-str": lambda L, x: x.type("torch.DoubleTensor" if L is torch else "nerve.DoubleTensor"),
    "type_as": lambda L, x: x.type_as(L.tensor([1], dtype=L.int16)),
}


@pytest.mark.parametrize("src", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversion(name, src):
    data = {"float32": np.array([-2.7, -0.5, 0.0, 0.5, 2.7], dtype=np.float32),
            "float64": np.array([-2.7, 0.0, 3.5]), "int64": np.array([-3, 0, 4]),
            "bool": np.array([True, False])}[src]
    fn = CONVERSIONS[name]
    assert_same(fn(nerve, nerve.from_numpy(data.copy())), fn(torch, torch.from_numpy(data.copy())))


def test_type_name_and_noop_conversions():
    x = nerve.zeros(2)
    assert x.type() == "nerve.FloatTensor" and nerve.tensor([1]).type() == "nerve.LongTensor"
    assert x.to(nerve.float32) is x and x.float() is x and x.to("cpu") is x
    y = x.to(nerve.float32, copy=True)
    assert y is not x
    y.add_(1.0)
    assert x.tolist() == [0.0, 0.0]


def test_conversion_gradients():
    for L in (nerve, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x.double() * L.tensor([3.0, 4.0], dtype=L.float64)).sum()
        y.backward()
        assert x.grad.dtype == L.float32
        np.testing.assert_array_equal(_np(x.grad), [3.0, 4.0])
        assert not x.long().requires_grad  # integer results leave the graph


# ---------------------------------------------------------------------------- in-place fills
def test_fill_zero_copy():
    pairs = [
        (lambda L: L.zeros(3).fill_(2.5)),
        (lambda L: L.zeros(3, dtype=L.int64).fill_(2.7)),
        (lambda L: L.zeros(2, 2).fill_(L.tensor(1.5))),
        (lambda L: L.ones(3).zero_()),
        (lambda L: L.zeros(2, 3).copy_(L.tensor([1.0, 2.0, 3.0]))),
        (lambda L: L.zeros(3).copy_(L.tensor([1, 2, 3]))),
        (lambda L: L.zeros(3, dtype=L.int64).copy_(L.tensor([1.7, -2.7, 3.2]))),
        (lambda L: L.zeros(3).copy_(L.tensor([1.0, 2, 3], dtype=L.float64))),
        (lambda L: L.zeros(2, 3).t().copy_(L.ones(3, 2))),
        (lambda L: L.zeros(2, dtype=L.bool).fill_(True)),
    ]
    for fn in pairs:
        assert_same(fn(nerve), fn(torch))


def test_fill_returns_self_and_bumps_version():
    x = nerve.zeros(3)
    v = x._version
    for op in (lambda t: t.fill_(1.0), lambda t: t.zero_(), lambda t: t.normal_(), lambda t: t.uniform_(),
               lambda t: t.copy_(nerve.ones(3))):
        assert op(x) is x
        assert x._version > v
        v = x._version


def test_fill_on_leaf_requiring_grad():
    x = nerve.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.fill_(1.0)
    with pytest.raises(RuntimeError):
        torch.zeros(3, requires_grad=True).fill_(1.0)
    with nerve.no_grad():
        x.fill_(2.0)
        x.normal_()
        x.uniform_(-1, 1)
    assert x.requires_grad and x.is_leaf


def test_copy_is_differentiable_and_checks_shapes():
    for L in (nerve, torch):
        src = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        dst = L.zeros(2, 3).copy_(src)
        (dst * L.tensor([[1.0], [2.0]])).sum().backward()
        np.testing.assert_array_equal(_np(src.grad), [3.0, 3.0, 3.0])
        with pytest.raises(RuntimeError):
            L.zeros(3).copy_(L.zeros(2))


# ---------------------------------------------------------------------------- random sampling
RANDOM = {
    "rand": lambda L, **g: L.rand(2, 3, **g),
    "rand-tuple-f64": lambda L, **g: L.rand((4,), dtype=L.float64, **g),
    "randn": lambda L, **g: L.randn(3, 2, **g),
    "randn-size-kw": lambda L, **g: L.randn(size=(5,), **g),
    "randint": lambda L, **g: L.randint(0, 5, (3, 4), **g),
    "randint-high": lambda L, **g: L.randint(5, (6,), **g),
    "randint-dtype": lambda L, **g: L.randint(5, (6,), dtype=L.float32, **g),
    "randint-neg": lambda L, **g: L.randint(-3, 3, (20,), **g),
    "randperm": lambda L, **g: L.randperm(7, **g),
    "randperm-dtype": lambda L, **g: L.randperm(4, dtype=L.float32, **g),
    "randperm-0": lambda L, **g: L.randperm(0, **g),
    "normal-scalars": lambda L, **g: L.normal(2.0, 3.0, (2, 3), **g),
    "normal-mean-tensor": lambda L, **g: L.normal(L.zeros(3), 1.0, **g),
    "normal-std-tensor": lambda L, **g: L.normal(0.0, L.ones(2, 3), **g),
    "normal-both": lambda L, **g: L.normal(L.zeros(3, 1), L.ones(2), **g),
    "normal-f64": lambda L, **g: L.normal(L.zeros(3, dtype=L.float64), 1.0, **g),
    "bernoulli": lambda L, **g: L.bernoulli(L.full((4,), 0.5), **g),
    "bernoulli-f64": lambda L, **g: L.bernoulli(L.full((4,), 0.5, dtype=L.float64), **g),
    "bernoulli-p": lambda L, **g: L.bernoulli(L.zeros(3), p=0.3, **g),
    "rand_like": lambda L, **g: L.rand_like(L.zeros(2, dtype=L.float64), **g),
    "randn_like": lambda L, **g: L.randn_like(L.zeros(2, 3), **g),
    "randint_like": lambda L, **g: L.randint_like(L.zeros(2), 5, **g),
    "randint_like-low-high": lambda L, **g: L.randint_like(L.zeros(2, dtype=L.int32), 3, 5, **g),
}
_NO_GENERATOR_KW = {"rand_like", "randn_like", "randint_like", "randint_like-low-high"}  # torch has none


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_shape_dtype_and_seed(name):
    fn = RANDOM[name]
    t = fn(torch)
    nerve.manual_seed(123)
    a = fn(nerve)
    assert tuple(a.shape) == tuple(t.shape) and _np(a).dtype == _np(t).dtype
    nerve.manual_seed(123)
    np.testing.assert_array_equal(_np(fn(nerve)), _np(a))  # same seed, same numbers
    if name in _NO_GENERATOR_KW:
        return
    g = nerve.Generator().manual_seed(7)
    b = fn(nerve, generator=g)
    nerve.manual_seed(0)  # the global seed does not affect an explicit generator
    c = fn(nerve, generator=nerve.Generator().manual_seed(7))
    np.testing.assert_array_equal(_np(b), _np(c))


def test_different_seeds_differ_and_state_round_trip():
    nerve.manual_seed(1)
    a = nerve.rand(100)
    nerve.manual_seed(2)
    b = nerve.rand(100)
    assert not np.array_equal(a.numpy(), b.numpy())
    state = nerve.get_rng_state()
    c = nerve.randn(5)
    nerve.set_rng_state(state)
    np.testing.assert_array_equal(nerve.randn(5).numpy(), c.numpy())
    g = nerve.Generator().manual_seed(3)
    assert g.initial_seed() == 3
    gs = g.get_state()
    d = nerve.randint(0, 100, (10,), generator=g)
    g.set_state(gs)
    np.testing.assert_array_equal(nerve.randint(0, 100, (10,), generator=g).numpy(), d.numpy())
    assert nerve.manual_seed(5) is not None and nerve.initial_seed() == 5


def test_random_ranges_and_statistics():
    nerve.manual_seed(0)
    u = nerve.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    z = nerve.randn(20000).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    n = nerve.normal(2.0, 3.0, (20000,)).numpy()
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1
    m = nerve.normal(nerve.full((20000,), -1.0), nerve.full((20000,), 0.5)).numpy()
    assert abs(m.mean() + 1.0) < 0.02 and abs(m.std() - 0.5) < 0.02
    r = nerve.randint(-3, 3, (5000,)).numpy()
    assert r.min() == -3 and r.max() == 2
    p = nerve.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))
    x = nerve.empty(20000).uniform_(2.0, 5.0).numpy()
    assert x.min() >= 2.0 and x.max() < 5.0 and abs(x.mean() - 3.5) < 0.05
    y = nerve.empty(20000, dtype=nerve.float64).normal_(1.0, 2.0).numpy()
    assert abs(y.mean() - 1.0) < 0.1 and abs(y.std() - 2.0) < 0.1
    bern = nerve.bernoulli(nerve.full((20000,), 0.25)).numpy()
    assert set(np.unique(bern).tolist()) <= {0.0, 1.0} and abs(bern.mean() - 0.25) < 0.02


def test_bernoulli_deterministic_probabilities():
    probs = [0.0, 1.0, 1.0, 0.0]
    assert_same(nerve.bernoulli(nerve.tensor(probs)), torch.bernoulli(torch.tensor(probs)))
    assert_same(nerve.bernoulli(nerve.zeros(3), p=1.0), torch.bernoulli(torch.zeros(3), p=1.0))


def test_random_does_not_track_grad_unless_asked():
    assert not nerve.rand(2).requires_grad
    x = nerve.randn(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf
