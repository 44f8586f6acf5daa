"""nerve.nn.init: gains and fans equal PyTorch's; distributions have PyTorch's bounds and moments."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import nerve
from nerve.nn import init


def arr(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3),
                                      ("selu", None), ("conv_transpose3d", None)])
def test_calculate_gain_matches_torch(nl, param):
    assert init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 1, 2)])
def test_fan_in_and_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(nerve.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(nerve.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(nerve.empty(3, 3), mode="fan_avg")


def _uniform_check(a, lo, hi):
    assert a.min() >= lo and a.max() <= hi
    width = hi - lo
    assert a.min() < lo + 0.01 * width and a.max() > hi - 0.01 * width
    assert abs(a.mean() - (lo + hi) / 2) < 0.02 * width
    assert abs(a.std() - width / math.sqrt(12)) < 0.02 * width


def _normal_check(a, mean, std):
    assert abs(a.mean() - mean) < 0.02 * std + 1e-12
    assert abs(a.std() - std) < 0.02 * std


SHAPE = (300, 200)  # fan_in 200, fan_out 300


def test_uniform_normal_constant():
    w = nerve.empty(SHAPE)
    assert init.uniform_(w, -2.0, 3.0) is w
    _uniform_check(arr(w), -2.0, 3.0)
    assert init.normal_(w, 1.0, 0.5) is w
    _normal_check(arr(w), 1.0, 0.5)
    assert np.all(arr(init.constant_(w, 0.3)) == np.float32(0.3))
    assert np.all(arr(init.ones_(w)) == 1) and np.all(arr(init.zeros_(w)) == 0)


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    w = nerve.empty(SHAPE)
    std = gain * math.sqrt(2.0 / (200 + 300))
    init.xavier_uniform_(w, gain=gain)
    _uniform_check(arr(w), -math.sqrt(3) * std, math.sqrt(3) * std)
    init.xavier_normal_(w, gain=gain)
    _normal_check(arr(w), 0.0, std)


@pytest.mark.parametrize("a,mode,nl", [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                        (0, "fan_out", "relu"), (0.1, "fan_out", "leaky_relu"),
                                        (0, "fan_in", "tanh")])
def test_kaiming(a, mode, nl):
    w = nerve.empty(SHAPE)
    fan = 200 if mode == "fan_in" else 300
    std = torch.nn.init.calculate_gain(nl, a) / math.sqrt(fan)
    init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nl)
    _uniform_check(arr(w), -math.sqrt(3) * std, math.sqrt(3) * std)
    init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nl)
    _normal_check(arr(w), 0.0, std)


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_uniform_(nerve.empty(0, 3))


def test_trunc_normal_matches_torch_distribution():
    w = nerve.empty(SHAPE)
    assert init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.5) is w
    a = arr(w)
    t = torch.nn.init.trunc_normal_(torch.empty(SHAPE), mean=0.5, std=1.0, a=-1.0, b=1.5).numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    assert abs(a.mean() - t.mean()) < 0.02 and abs(a.std() - t.std()) < 0.02
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(nerve.empty(3), mean=10.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 2.0), ((3, 2, 2), 1.0)])
def test_orthogonal(shape, gain):
    w = nerve.empty(shape)
    assert init.orthogonal_(w, gain=gain) is w
    m = arr(w).reshape(shape[0], -1)
    rows, cols = m.shape
    g = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(g, gain ** 2 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(nerve.empty(3))


def test_eye_and_dirac_match_torch():
    np.testing.assert_array_equal(arr(init.eye_(nerve.empty(3, 5))), torch.nn.init.eye_(torch.empty(3, 5)).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(nerve.empty(2, 2, 2))
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)]:
        np.testing.assert_array_equal(arr(init.dirac_(nerve.empty(shape), groups)),
                                      torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_sparse():
    w = nerve.empty(100, 30)
    init.sparse_(w, sparsity=0.3, std=0.05)
    a = arr(w)
    assert np.all((a == 0).sum(axis=0) >= 30)
    assert abs(a[a != 0].std() - 0.05) < 0.005


def test_generator_reproducible_and_independent():
    g1 = nerve.Generator().manual_seed(7)
    g2 = nerve.Generator().manual_seed(7)
    a = init.kaiming_uniform_(nerve.empty(4, 5), generator=g1)
    b = init.kaiming_uniform_(nerve.empty(4, 5), generator=g2)
    np.testing.assert_array_equal(arr(a), arr(b))
    for fn in (init.normal_, init.uniform_, init.xavier_normal_, init.trunc_normal_, init.orthogonal_):
        x = fn(nerve.empty(4, 5), generator=nerve.Generator().manual_seed(1))
        y = fn(nerve.empty(4, 5), generator=nerve.Generator().manual_seed(1))
        np.testing.assert_array_equal(arr(x), arr(y))


def test_init_on_parameter_that_requires_grad():
    p = nerve.nn.Parameter(nerve.empty(3, 4))
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_,
               init.zeros_, init.ones_, init.trunc_normal_, init.eye_):
        assert fn(p) is p
        assert p.requires_grad and p.grad_fn is None
    v = p._version
    init.constant_(p, 2.0)
    assert p._version > v


def test_float64_tensor_keeps_dtype():
    w = nerve.empty(10, 10, dtype=nerve.float64)
    init.xavier_uniform_(w)
    init.trunc_normal_(w)
    assert w.dtype == nerve.float64


def test_deprecated_aliases_warn():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        init.xavier_uniform(nerve.empty(2, 2))
    assert any("deprecated" in str(r.message) for r in rec)
