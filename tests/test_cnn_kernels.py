"""The compiled element-wise kernels of a CNN step (nerve/ops/_cnn_numba.py) against PyTorch and NumPy.

BatchNorm (statistics, normalisation, gradients), ReLU's gradient and the tiling max-pool take these
kernels for large float32 arrays; everything else (and installs without numba) keeps the NumPy
composition. Each case runs with the kernels and with them switched off, on float32 arrays large
enough to take them, and compares both with PyTorch; ties and nans in the pooling windows included.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve
from nerve.ops import _helpers

pytestmark = pytest.mark.skipif(_helpers._cnk is None, reason="numba not installed")


@pytest.fixture(params=["kernels", "numpy"])
def impl(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(_helpers, "_cnk", None)
    return request.param


def _pair(shape, seed=0, scale=1.0, offset=0.0):
    x = (np.random.default_rng(seed).standard_normal(shape) * scale + offset).astype(np.float32)
    return nerve.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _close(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape,offset", [((16, 32, 12, 12), 0.0), ((8, 16, 30, 30), 3.0), ((4, 8, 33, 31), 0.0)])
def test_batch_norm_train(impl, shape, offset):
    xn, xt = _pair(shape, offset=offset)
    bn_n, bn_t = nerve.nn.BatchNorm2d(shape[1]), torch.nn.BatchNorm2d(shape[1])
    w = np.random.default_rng(1).standard_normal(shape[1]).astype(np.float32)
    with torch.no_grad():
        bn_t.weight.copy_(torch.tensor(w))
    bn_n.weight.data = nerve.tensor(w)
    yn, yt = bn_n(xn), bn_t(xt)
    _close(yn, yt)
    _close(bn_n.running_mean, bn_t.running_mean)
    _close(bn_n.running_var, bn_t.running_var)
    g = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xn.grad, xt.grad, atol=1e-4)
    _close(bn_n.weight.grad, bn_t.weight.grad, rtol=1e-3, atol=1e-3)
    _close(bn_n.bias.grad, bn_t.bias.grad, rtol=1e-3, atol=1e-3)


def test_batch_norm_badly_conditioned_input(impl):
    """mean^2 >> var: the statistics fall back to the centred two-pass path and stay accurate (here more
    than PyTorch's float32 kernel, 4.5e-3 off): compared with the float64 result."""
    xn, _ = _pair((16, 8, 16, 16), scale=0.01, offset=1000.0)
    x = xn.detach().numpy().astype(np.float64)
    ref = (x - x.mean((0, 2, 3), keepdims=True)) / np.sqrt(x.var((0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(nerve.nn.BatchNorm2d(8)(xn).detach().numpy(), ref, atol=1e-5)


@pytest.mark.parametrize("shape", [(16, 32, 12, 12), (3, 7, 41, 43)])
def test_relu(impl, shape):
    xn, xt = _pair(shape)
    x = xn.detach().numpy().copy()
    x.reshape(-1)[::7] = 0.0          # ties at the threshold: out == 0 gets no gradient
    x.reshape(-1)[::101] = np.nan     # a nan output passes the gradient (PyTorch's threshold_backward)
    xn, xt = nerve.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    x.reshape(-1)[3::53] = -0.0          # relu(-0.0) is -0.0 in PyTorch
    xn, xt = nerve.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    yn, yt = nerve.relu(xn), torch.relu(xt)
    np.testing.assert_array_equal(yn.detach().numpy(), yt.detach().numpy())
    if impl == "kernels":
        np.testing.assert_array_equal(np.signbit(yn.detach().numpy()), np.signbit(yt.detach().numpy()))
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("shape,k", [((16, 32, 12, 12), 2), ((8, 16, 29, 31), 2), ((8, 16, 30, 30), 3),
                                     ((4, 8, 40, 44), (2, 4))])
def test_max_pool_tiles(impl, shape, k):
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, shape).astype(np.float32)   # many ties: the first maximum wins
    x.reshape(-1)[::97] = np.nan                         # the last nan of a window wins
    x.reshape(-1)[5::89] = -np.inf
    xn, xt = nerve.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yn = nerve.nn.functional.max_pool2d(xn, k)
    yt = torch.nn.functional.max_pool2d(xt, k)
    np.testing.assert_array_equal(yn.detach().numpy(), yt.detach().numpy())
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


def test_max_pool_double_backward(impl):
    xn, xt = _pair((16, 8, 16, 16))
    gn, gt = _pair((16, 8, 8, 8), seed=5)
    (dn,) = nerve.autograd.grad(nerve.nn.functional.max_pool2d(xn, 2), xn, gn, create_graph=True)
    (dt,) = torch.autograd.grad(torch.nn.functional.max_pool2d(xt, 2), xt, gt, create_graph=True)
    _close(dn, dt)
    (ggn,) = nerve.autograd.grad((dn * dn).sum(), gn)
    (ggt,) = torch.autograd.grad((dt * dt).sum(), gt)
    _close(ggn, ggt)


def test_kernels_taken():
    """The fast path is the one exercised above: the kernels accept these arrays."""
    a = np.zeros((16, 32, 12, 12), np.float32)
    assert _helpers.cnn_kernels(a) is not None
    assert _helpers.cnn_kernels(a.astype(np.float64)) is None
    assert _helpers.cnn_kernels(a[:, :, ::2]) is None
    assert _helpers.cnn_kernels(np.zeros((2, 3), np.float32)) is None


@pytest.mark.parametrize("n,c,o,h,w,k,padding", [
    (64, 1, 32, 28, 28, 3, 1),       # the benchmark's first layer
    (16, 3, 16, 33, 31, 3, 1),       # RGB, odd sizes
    (96, 1, 8, 24, 20, 5, 2),        # 25 taps: the general tap loop
    (16, 3, 8, 32, 32, 2, "same"),   # even kernel: asymmetric padding
    (64, 2, 4, 17, 19, 3, 0),        # no padding
])
def test_direct_conv(n, c, o, h, w, k, padding):
    """Few-tap stride-1 convolutions take the direct kernels: values and all gradients against PyTorch."""
    from nerve.ops import conv as conv_mod
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt_ = rng.standard_normal((o, c, k, k)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    assert conv_mod._direct(x, wt_.shape, (1, 1), (1, 1), 1) is not None
    xn, wn, bn = (nerve.tensor(a, requires_grad=True) for a in (x, wt_, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, wt_, b))
    yn = nerve.nn.functional.conv2d(xn, wn, bn, padding=padding)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=padding)
    _close(yn, yt, atol=1e-4)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    scale = float(np.abs(wt.grad.numpy()).max())
    np.testing.assert_allclose(wn.grad.numpy(), wt.grad.numpy(), rtol=0, atol=1e-5 * scale)
    _close(xn.grad, xt.grad, atol=1e-4)
    _close(bn.grad, bt.grad, rtol=1e-4, atol=1e-3)


def test_direct_conv_not_for_many_taps_or_strides():
    from nerve.ops import conv as conv_mod
    x = np.zeros((64, 16, 28, 28), np.float32)
    assert conv_mod._direct(x, (32, 16, 3, 3), (1, 1), (1, 1), 1) is None     # 144 taps: Winograd/im2col
    x1 = np.zeros((64, 1, 28, 28), np.float32)
    assert conv_mod._direct(x1, (32, 1, 3, 3), (2, 2), (1, 1), 1) is None     # strided
    assert conv_mod._direct(x1.astype(np.float64), (32, 1, 3, 3), (1, 1), (1, 1), 1) is None
