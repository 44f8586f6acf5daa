"""The Tensor object compared with torch.Tensor: attributes, conversions, printing, copying,
pickling, dtypes, devices, RNG and the names nerve exports at top level."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import nerve


def pair(data, dtype=None, requires_grad=False):
    a = np.array(data) if dtype is None else np.array(data, dtype=dtype)
    return nerve.from_numpy(a.copy()).requires_grad_(requires_grad), \
        torch.from_numpy(a.copy()).requires_grad_(requires_grad)


def same_repr(n, t):
    assert repr(n) == repr(t).replace("torch.", "nerve."), f"\nnerve: {n!r}\ntorch: {t!r}"
    assert str(n) == str(t).replace("torch.", "nerve.")


# ============================================================================ repr
REPR_CASES = [
    [1.0, 2.0, 3.0],
    [[1.0, 2.0], [3.0, 4.5]],
    [[-1.5, 2.25], [3.0, -4.0]],
    [0.1, 0.25, 100.0],
    [1 / 3, 2 / 3],
    [1e-5, 1.0],
    [1e10, 1.0],
    [1.0, 2000.0],
    [0.001, 2.0],
    [0.0, 100.0],
    [0.0, 0.0],
    [1.0, float("inf")],
    [float("nan"), 1.5, -float("inf")],
    [-0.0, 1.0],
    3.5,
    0.0,
    -2.0,
    1e-8,
    float("nan"),
    [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]],
    [123456.789, 1.0],
    [[1e-3, 1e3], [1.0, 2.0]],
]


@pytest.mark.parametrize("data", REPR_CASES, ids=[str(i) for i in range(len(REPR_CASES))])
def test_repr_floats(data):
    for dt in (np.float32, np.float64):
        n, t = pair(data, dt)
        same_repr(n, t)


def test_repr_ints_bools_and_dtypes():
    for data, dt in (([1, 2, 3], np.int64), ([1, -20, 300], np.int32), ([[1, 2], [3, 4]], np.int8),
                     ([0, 255], np.uint8), ([True, False], np.bool_), (7, np.int64), (True, np.bool_),
                     ([1.5, 2.0], np.float16), ([1, 2], np.int16)):
        n, t = pair(data, dt)
        same_repr(n, t)


def test_repr_random_and_long():
    rng = np.random.default_rng(0)
    for shape in ((5,), (3, 4), (2, 3, 4), (30,), (7, 13), (2000,), (40, 40), (12, 3, 40), (1, 1)):
        a = rng.standard_normal(shape).astype(np.float32)
        same_repr(nerve.from_numpy(a.copy()), torch.from_numpy(a.copy()))
        same_repr(nerve.from_numpy(a * 1000), torch.from_numpy(a * 1000))
    same_repr(nerve.arange(2000), torch.arange(2000))
    same_repr(nerve.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4))


def test_repr_empty():
    for shape, dt in (((0,), np.float32), ((2, 0), np.float32), ((0,), np.int64), ((0, 3), np.float64),
                      ((0,), np.bool_)):
        a = np.zeros(shape, dtype=dt)
        same_repr(nerve.from_numpy(a.copy()), torch.from_numpy(a.copy()))


def test_repr_autograd_suffixes():
    n, t = pair([1.0, 2.0], np.float32, requires_grad=True)
    same_repr(n, t)
    same_repr(n * 2, t * 2)
    same_repr(n + 2, t + 2)
    same_repr(n.exp(), t.exp())
    same_repr(n.sum(), t.sum())
    same_repr((n * n).mean(), (t * t).mean())
    n64, t64 = pair([1.0, 2.0], np.float64, requires_grad=True)
    same_repr(n64 * 3, t64 * 3)
    same_repr(n.detach(), t.detach())
    # a long first line pushes the suffix onto a new line
    a = np.arange(12, dtype=np.float64).reshape(2, 6) + 0.5
    same_repr(nerve.tensor(a, requires_grad=True) * 1, torch.tensor(a, requires_grad=True) * 1)


def test_grad_fn_names_look_like_torch():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 2, x + 1, x - 1, x / 2, x.exp(), x.sum(), x.sin(), x.reshape(2, 1), x.clone()):
        name = y.grad_fn.name()
        assert name.endswith("Backward0"), name
        assert repr(y).endswith(f"grad_fn=<{name}>)")


def test_set_printoptions():
    try:
        for kw in ({"precision": 2}, {"threshold": 5}, {"sci_mode": True}, {"linewidth": 20},
                   {"edgeitems": 1, "threshold": 3}, {"profile": "short"}, {"sci_mode": False}):
            nerve.set_printoptions(**kw)
            torch.set_printoptions(**kw)
            for data in ([1.12345, 2.5, 1e-6], list(range(10)), [[1.5] * 7] * 4):
                n, t = pair(data, np.float32 if isinstance(data[0], float) or isinstance(data[0], list) else None)
                same_repr(n, t)
            nerve.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    finally:
        nerve.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    with nerve.printoptions(precision=1):
        assert repr(nerve.tensor([1.25, 2.0])) == "tensor([1.2, 2.0])"
    assert repr(nerve.tensor([1.25, 2.0])) == "tensor([1.2500, 2.0000])"
    assert nerve.get_printoptions()["precision"] == 4


def test_repr_default_dtype_change():
    try:
        nerve.set_default_dtype(nerve.float64)
        torch.set_default_dtype(torch.float64)
        same_repr(nerve.tensor([1.5, 2.0]), torch.tensor([1.5, 2.0]))
        same_repr(nerve.tensor([1.5, 2.0], dtype=nerve.float32), torch.tensor([1.5, 2.0], dtype=torch.float32))
        assert nerve.tensor([1.5]).dtype == nerve.float64
    finally:
        nerve.set_default_dtype(nerve.float32)
        torch.set_default_dtype(torch.float32)
    assert nerve.tensor([1.5]).dtype == nerve.float32


def test_format():
    for lib in (nerve, torch):
        assert f"{lib.tensor(2.5):.2f}" == "2.50"
        assert f"{lib.tensor(3)}" == "3"


# ============================================================================ attributes
def test_basic_attributes_match_torch():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    n, t = nerve.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert tuple(n.shape) == tuple(t.shape) and n.ndim == t.ndim and n.dim() == t.dim()
    assert n.size() == t.size() and isinstance(n.size(), nerve.Size) and isinstance(n.shape, tuple)
    assert n.size(1) == t.size(1) and n.size(-1) == t.size(-1)
    assert n.numel() == t.numel() == 24 and n.nelement() == 24
    assert n.element_size() == t.element_size() and n.nbytes == t.nbytes
    assert n.stride() == t.stride() and n.stride(0) == t.stride(0) and n.stride(-1) == t.stride(-1)
    assert n.is_contiguous() and t.is_contiguous()
    assert repr(n.dtype) == "nerve.float32" and n.dtype == nerve.float32
    assert n.device == nerve.device("cpu") and str(n.device) == "cpu" and n.is_cpu and not n.is_cuda
    assert n.is_leaf and not n.requires_grad and n.grad is None and n.grad_fn is None
    assert n.is_floating_point() and not nerve.tensor([1]).is_floating_point()
    with pytest.raises(IndexError):
        n.size(3)
    with pytest.raises(IndexError):
        t.size(3)


def test_requires_grad_and_leaf_flags():
    x = nerve.ones(2)
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        nerve.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        torch.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    assert nerve.tensor([1.0], requires_grad=True).requires_grad
    assert nerve.zeros(2, requires_grad=True).requires_grad


def test_strides_and_contiguity_like_torch():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    n, t = nerve.from_numpy(a.copy()), torch.from_numpy(a.copy())
    for fn in (lambda x: x.transpose(0, 2), lambda x: x.permute(1, 2, 0), lambda x: x.t() if x.ndim == 2 else x,
               lambda x: x.reshape(6, 4).t(), lambda x: x.unsqueeze(1)):
        nv, tv = fn(n), fn(t)
        assert nv.is_contiguous() == tv.is_contiguous()
        assert nv.stride() == tv.stride(), (nv.stride(), tv.stride())
        nc, tc = nv.contiguous(), tv.contiguous()
        assert nc.is_contiguous() and nc.stride() == tc.stride()
        np.testing.assert_array_equal(nc.numpy(), tc.numpy())
    c = n.contiguous()
    assert c is n  # contiguous() of a contiguous tensor is the tensor itself, as in torch
    assert t.contiguous() is t


def test_clone_copies_and_records():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.grad_fn.name() == "CloneBackward0"
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    d = x.detach().clone()
    d.add_(1)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])


def test_detach_shares_memory():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d.mul_(10)
    np.testing.assert_array_equal(y.detach().numpy(), [20.0, 40.0])
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    assert y._version == 1  # the in-place write is seen by autograd through the shared counter


def test_detach_inplace():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y and not y.requires_grad and y.grad_fn is None


def test_data_attribute():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    x.data = nerve.tensor([5.0, 6.0])
    np.testing.assert_array_equal(x.detach().numpy(), [5.0, 6.0])
    assert x.requires_grad


# ============================================================================ conversions
def test_item_and_tolist():
    for lib in (nerve, torch):
        assert lib.tensor(2.5).item() == 2.5 and isinstance(lib.tensor(2.5).item(), float)
        assert lib.tensor([7]).item() == 7 and isinstance(lib.tensor([7]).item(), int)
        assert lib.tensor(True).item() is True
        assert lib.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
        assert lib.tensor(3).tolist() == 3
        with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
            lib.tensor([1.0, 2.0]).item()
    assert nerve.tensor([1.5, 2.5], requires_grad=True).tolist() == [1.5, 2.5]
    assert nerve.tensor([1.5], requires_grad=True).item() == 1.5


def test_numpy_shares_memory_and_refuses_requires_grad():
    x = nerve.tensor([1.0, 2.0])
    a = x.numpy()
    a[0] = 9
    assert x.tolist() == [9.0, 2.0]
    w = nerve.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        w.numpy()
    assert w.numpy(force=True)[0] == 1.0
    assert w.detach().numpy()[0] == 1.0
    # from_numpy shares the other way
    b = np.zeros(3, dtype=np.float32)
    t = nerve.from_numpy(b)
    b[1] = 5
    assert t.tolist() == [0.0, 5.0, 0.0]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's __array__ lacks copy=
def test_array_protocol():
    for lib in (nerve, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        a = np.asarray(x)
        assert a.dtype == np.float32 and a.shape == (2, 2)
        assert np.asarray(x, dtype=np.float64).dtype == np.float64
        assert np.array(x).sum() == 10


def test_index_bool_len_iteration():
    for lib in (nerve, torch):
        assert [10, 20, 30][lib.tensor(1)] == 20
        assert list(range(lib.tensor(3))) == [0, 1, 2]
        assert "abcd"[lib.tensor(2):] == "cd"
        with pytest.raises(TypeError):
            [1, 2][lib.tensor(1.0)]
        assert bool(lib.tensor([0.0])) is False and bool(lib.tensor(2)) is True
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(lib.tensor([1.0, 2.0]))
        assert len(lib.zeros(3, 2)) == 3
        with pytest.raises(TypeError):
            len(lib.tensor(1.0))
        with pytest.raises(TypeError):
            iter(lib.tensor(1.0))
        assert int(lib.tensor(3.7)) == 3 and float(lib.tensor(2)) == 2.0
        assert [v.item() for v in lib.tensor([4, 5, 6])] == [4, 5, 6]
        rows = list(lib.tensor([[1, 2], [3, 4]]))
        assert len(rows) == 2 and rows[1].tolist() == [3, 4]


def test_iteration_is_differentiable():
    x = nerve.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = None
    for i, v in enumerate(x):
        total = v * (i + 1) if total is None else total + v * (i + 1)
    total.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_to_dtype_and_device():
    x = nerve.tensor([1.5, -2.5], requires_grad=True)
    assert x.to(nerve.float32) is x  # no-op returns self, as torch
    assert x.to("cpu") is x and x.to(nerve.device("cpu")) is x and x.cpu() is x
    y = x.to(nerve.float64)
    assert y.dtype == nerve.float64 and y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.dtype == nerve.float32
    assert x.to(device="cpu", dtype=nerve.int32).tolist() == [1, -2]
    assert x.to(nerve.zeros(1, dtype=nerve.float64)).dtype == nerve.float64
    assert x.double().dtype == nerve.float64 and x.float().dtype == nerve.float32
    assert x.half().dtype == nerve.float16 and x.long().dtype == nerve.int64 and x.int().dtype == nerve.int32
    assert x.bool().dtype == nerve.bool
    c = x.to(nerve.float32, copy=True)
    assert c is not x


def test_cuda_without_cupy_is_a_clear_error():
    if nerve.backend.cuda_available():
        pytest.skip("a GPU is available here")
    with pytest.raises(RuntimeError, match="CuPy"):
        nerve.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        nerve.ones(2).cuda()
    with pytest.raises(RuntimeError, match="CuPy"):
        nerve.ones(2, device="cuda")


# ============================================================================ pickling and copying
def test_pickle_round_trip():
    for t in (nerve.tensor([1.0, 2.0], requires_grad=True), nerve.arange(6).reshape(2, 3),
              nerve.tensor([True, False]), nerve.tensor(3.5, dtype=nerve.float64),
              nerve.arange(12.0).reshape(3, 4).t()):
        s = pickle.dumps(t)
        u = pickle.loads(s)
        assert type(u) is nerve.Tensor
        assert u.dtype == t.dtype and tuple(u.shape) == tuple(t.shape) and u.requires_grad == t.requires_grad
        np.testing.assert_array_equal(u.detach().numpy(), t.detach().numpy())
        assert u.is_leaf and u.grad is None


def test_pickle_drops_graph_and_grad_like_torch():
    for lib in (nerve, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = pickle.loads(pickle.dumps(x * 2))  # a non-leaf pickles as a leaf that requires grad
        assert y.is_leaf and y.requires_grad and y.tolist() == [2.0, 4.0]
        (x * 1).sum().backward()
        assert pickle.loads(pickle.dumps(x)).grad is None


def test_deepcopy_of_leaves():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    y.detach().add_(1)
    assert x.tolist() == [1.0, 2.0]
    # deepcopy of a container keeps shared tensors shared
    d = copy.deepcopy({"a": x, "b": x})
    assert d["a"] is d["b"]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
    z = copy.copy(x)
    assert z is not None


# ============================================================================ dtypes, Size, device
def test_dtype_objects():
    for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"):
        n, t = getattr(nerve, name), getattr(torch, name)
        assert repr(n) == repr(t).replace("torch.", "nerve.")
        assert n.is_floating_point == t.is_floating_point
        assert n.itemsize == t.itemsize
        assert n.is_signed == t.is_signed
        assert n.is_complex == t.is_complex
    assert nerve.float is nerve.float32 and nerve.double is nerve.float64 and nerve.long is nerve.int64
    assert nerve.half is nerve.float16 and nerve.int is nerve.int32 and nerve.short is nerve.int16
    assert pickle.loads(pickle.dumps(nerve.float64)) is nerve.float64
    assert copy.deepcopy(nerve.int8) is nerve.int8
    assert nerve.promote_types(nerve.int64, nerve.float32) == nerve.float32
    assert nerve.promote_types(nerve.uint8, nerve.int8) == nerve.int16
    assert isinstance(nerve.float32, nerve.dtype)
    assert {nerve.float32: 1}[nerve.float32] == 1


def test_set_default_dtype():
    try:
        nerve.set_default_dtype(nerve.float64)
        assert nerve.get_default_dtype() is nerve.float64
        assert nerve.tensor([1.0]).dtype == nerve.float64
        assert nerve.zeros(2).dtype == nerve.float64
        assert nerve.tensor([1]).dtype == nerve.int64
        with pytest.raises(TypeError):
            nerve.set_default_dtype(nerve.int32)
    finally:
        nerve.set_default_dtype(nerve.float32)
    assert nerve.ones(1).dtype == nerve.float32


def test_size():
    n, t = nerve.Size([2, 3, 4]), torch.Size([2, 3, 4])
    assert repr(n) == repr(t).replace("torch.", "nerve.")
    assert n == t == (2, 3, 4) and n.numel() == t.numel() == 24
    assert isinstance(n[1:], nerve.Size) and n[1:] == (3, 4)
    assert isinstance(n + (5,), nerve.Size) == isinstance(t + (5,), torch.Size)
    assert n[0] == 2 and len(n) == 3 and list(n) == [2, 3, 4]
    assert nerve.Size([]) == () and nerve.Size([]).numel() == 1
    assert pickle.loads(pickle.dumps(n)) == n
    assert repr(nerve.zeros(2, 3).shape) == "nerve.Size([2, 3])"
    assert str(nerve.Size([1])) == "nerve.Size([1])"


def test_device_objects():
    for lib in (nerve, torch):
        d = lib.device("cpu")
        assert d.type == "cpu" and d.index is None and str(d) == "cpu"
        assert repr(d) == "device(type='cpu')"
        assert d == lib.device("cpu")
        c = lib.device("cuda:1")
        assert c.type == "cuda" and c.index == 1 and str(c) == "cuda:1"
        assert lib.device("cuda", 0) == lib.device("cuda:0")
        with pytest.raises(RuntimeError):
            lib.device("gpu")


# ============================================================================ RNG
def test_manual_seed_reproducible():
    nerve.manual_seed(123)
    a = nerve.randn(5)
    nerve.manual_seed(123)
    b = nerve.randn(5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert nerve.initial_seed() == 123
    assert isinstance(nerve.manual_seed(1), nerve.Generator)


def test_generator_state_round_trip():
    g = nerve.Generator().manual_seed(7)
    assert g.initial_seed() == 7
    nerve.rand(3, generator=g)
    state = g.get_state()
    a = nerve.rand(4, generator=g)
    g.set_state(state)
    b = nerve.rand(4, generator=g)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # global RNG state helpers
    st = nerve.get_rng_state()
    x = nerve.randn(3)
    nerve.set_rng_state(st)
    np.testing.assert_array_equal(x.numpy(), nerve.randn(3).numpy())
    # a generator does not disturb the default one
    nerve.manual_seed(0)
    u = nerve.randn(2)
    nerve.manual_seed(0)
    nerve.randn(2, generator=nerve.Generator().manual_seed(5))
    np.testing.assert_array_equal(u.numpy(), nerve.randn(2).numpy() * 0 + u.numpy())
    nerve.manual_seed(0)
    nerve.randn(2, generator=nerve.Generator().manual_seed(5))
    np.testing.assert_array_equal(u.numpy(), nerve.randn(2).numpy())
    with pytest.raises(TypeError):
        g.set_state("garbage")


def test_generator_state_is_a_plain_value():
    g = nerve.Generator().manual_seed(3)
    s1 = g.get_state()
    nerve.rand(2, generator=g)
    assert g.get_state() != s1  # get_state is a snapshot, not a live view
    g2 = nerve.Generator().set_state(copy.deepcopy(s1))
    g.set_state(s1)
    np.testing.assert_array_equal(nerve.rand(3, generator=g).numpy(), nerve.rand(3, generator=g2).numpy())


# ============================================================================ top-level names
TOP_LEVEL = [
    "Tensor", "Size", "dtype", "device", "Generator", "tensor", "as_tensor", "from_numpy", "is_tensor",
    "is_floating_point", "is_nonzero", "numel", "set_printoptions", "get_printoptions", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "manual_seed", "seed",
    "initial_seed", "get_rng_state", "set_rng_state", "default_generator", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "can_cast", "float32", "float64", "float16", "bfloat16", "int8", "int16",
    "int32", "int64", "uint8", "bool", "float", "double", "half", "long", "int", "short", "autograd",
    "zeros", "ones", "empty", "arange", "randn", "rand",
]


def test_top_level_names_exist():
    missing = [n for n in TOP_LEVEL if not hasattr(nerve, n)]
    assert not missing, missing


def test_top_level_helpers_match_torch():
    for lib in (nerve, torch):
        x = lib.zeros(2, 3)
        assert lib.is_tensor(x) and not lib.is_tensor([1])
        assert lib.is_floating_point(x) and not lib.is_floating_point(lib.tensor([1]))
        assert lib.numel(x) == 6
        assert lib.is_nonzero(lib.tensor([1.5])) and not lib.is_nonzero(lib.tensor(0))
        with pytest.raises(RuntimeError):
            lib.is_nonzero(lib.tensor([1, 2]))
    assert nerve.result_type(nerve.tensor([1]), 1.0) == nerve.float32
    assert nerve.result_type(nerve.tensor([1], dtype=nerve.int8), nerve.tensor([1], dtype=nerve.int16)) == nerve.int16
    assert nerve.can_cast(nerve.int32, nerve.float32) and not nerve.can_cast(nerve.float32, nerve.int32)
    assert torch.can_cast(torch.int32, torch.float32) and not torch.can_cast(torch.float32, torch.int32)


def test_tensor_constructor_class():
    t = nerve.Tensor([1, 2])
    assert t.dtype == nerve.float32 and t.tolist() == [1.0, 2.0]
    assert tuple(nerve.Tensor(2, 3).shape) == (2, 3)
    assert isinstance(nerve.tensor(1.0), nerve.Tensor)


def test_fork_rng_and_random_module():
    nerve.random.manual_seed(4)
    with nerve.random.fork_rng():
        a = nerve.rand(3)
    b = nerve.rand(3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert nerve.Generator().device == nerve.device("cpu")


def test_finfo_iinfo_match_torch():
    for name in ("float16", "float32", "float64"):
        n, t = nerve.finfo(getattr(nerve, name)), torch.finfo(getattr(torch, name))
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(n, attr) == getattr(t, attr), (name, attr)
        assert repr(n) == repr(t)
    assert nerve.finfo().dtype == "float32"
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        n, t = nerve.iinfo(getattr(nerve, name)), torch.iinfo(getattr(torch, name))
        assert (n.bits, n.min, n.max, n.dtype) == (t.bits, t.min, t.max, t.dtype)
        assert repr(n) == repr(t)
    with pytest.raises(TypeError):
        nerve.finfo(nerve.int32)
    with pytest.raises(TypeError):
        nerve.iinfo(nerve.float32)


def test_can_cast_matrix_matches_torch():
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            assert nerve.can_cast(getattr(nerve, a), getattr(nerve, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


def test_promote_types_matrix_matches_torch():
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            n = nerve.promote_types(getattr(nerve, a), getattr(nerve, b))
            t = torch.promote_types(getattr(torch, a), getattr(torch, b))
            assert repr(n) == repr(t).replace("torch.", "nerve."), (a, b)


def test_cuda_module_without_gpu():
    if nerve.cuda.is_available():
        pytest.skip("a GPU is available here")
    assert nerve.cuda.is_available() is False and nerve.cuda.device_count() == 0
    nerve.cuda.manual_seed(0)
    nerve.cuda.manual_seed_all(0)
    nerve.cuda.empty_cache()
    device = "cuda" if nerve.cuda.is_available() else "cpu"
    assert nerve.ones(2).to(device).device == nerve.device("cpu")


def test_deterministic_flag():
    nerve.use_deterministic_algorithms(True)
    assert nerve.are_deterministic_algorithms_enabled()
    nerve.use_deterministic_algorithms(False)
    assert not nerve.are_deterministic_algorithms_enabled()
