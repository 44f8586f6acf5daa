"""The Winograd F(4x4, 3x3) convolution path, checked like every op: against PyTorch and by gradcheck.

``nerve.ops.conv.ALGO`` picks the formulation ("auto" uses Winograd for 3x3 stride-1 convolutions
with enough channels). Here the whole conv op table runs again with Winograd forced wherever it
applies (values, gradients, gradcheck and gradgradcheck), and larger float32 cases that "auto"
sends to Winograd are compared with PyTorch, odd sizes and paddings included.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve
import test_ops
from nerve.ops import _winograd
from nerve.ops import conv as conv_mod

CONV_OPS = [op for op in test_ops.OPS if op.name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")]


@pytest.fixture(params=["numba", "numpy"] if _winograd._nbk is not None else ["numpy"])
def winograd(request, monkeypatch):
    """Winograd forced, with its transforms as Numba kernels and as the NumPy fallback."""
    monkeypatch.setattr(conv_mod, "ALGO", "winograd")
    monkeypatch.setattr(_winograd, "USE_NUMBA", request.param == "numba")
    monkeypatch.setattr(_winograd, "NUMBA_MIN_SIZE", 0)


@pytest.fixture(params=["numba", "numpy"] if _winograd._nbk is not None else ["numpy"])
def winograd_impl(request, monkeypatch):
    monkeypatch.setattr(_winograd, "USE_NUMBA", request.param == "numba")
    monkeypatch.setattr(_winograd, "NUMBA_MIN_SIZE", 0)


def _params(test):
    return [c for c in test_ops._cases(test) if c.values[0] in CONV_OPS]


@pytest.mark.parametrize("op,dtype", _params("forward"))
def test_forward_winograd(winograd, op, dtype):
    test_ops.test_forward(op, dtype)


@pytest.mark.parametrize("op,dtype", _params("backward"))
def test_backward_winograd(winograd, op, dtype):
    test_ops.test_backward(op, dtype)


@pytest.mark.parametrize("op,dtype", _params("gradgrad"))
def test_gradgradcheck_winograd(winograd, op, dtype, request):
    if request.node.callspec.params["winograd"] == "numba":
        # Same composition as the NumPy transforms (checked here); the kernels' values and gradients
        # are checked in float64 above, and thousands of tiny parallel calls would take minutes.
        pytest.skip("transform kernels covered by the forward/backward tests")
    test_ops.test_gradcheck(op, dtype)
    test_ops.test_gradgradcheck(op, dtype)


@pytest.mark.parametrize("n,c,o,h,w,padding", [
    (2, 16, 24, 8, 8, 1),        # whole tiles
    (3, 16, 16, 9, 7, 1),        # partial tiles on both axes
    (1, 32, 16, 6, 13, 0),       # 'valid': output smaller than the input
    (2, 16, 16, 5, 6, 2),        # padding wider than the kernel's reach
    (2, 16, 16, 7, 7, "same"),
    (2, 16, 16, 10, 9, (2, 0)),
])
def test_auto_uses_winograd_and_matches_torch(winograd_impl, monkeypatch, n, c, o, h, w, padding):
    calls = []
    real = _winograd.conv
    monkeypatch.setattr(_winograd, "conv", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    nx, nw, nb = (nerve.tensor(a, requires_grad=True) for a in (x, wt, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    ny = nerve.nn.functional.conv2d(nx, nw, nb, padding=padding)
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=padding)
    assert calls, "auto should pick the Winograd path for this shape"
    scale = float(ty.abs().max())
    np.testing.assert_allclose(ny.detach().numpy(), ty.detach().numpy(), atol=2e-5 * scale, rtol=1e-4)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ny.backward(nerve.tensor(g))
    ty.backward(torch.from_numpy(g))
    for a, t in ((nx, tx), (nw, tw), (nb, tb)):
        ref = t.grad.numpy()
        np.testing.assert_allclose(a.grad.numpy(), ref, atol=2e-5 * float(np.abs(ref).max()), rtol=1e-4)


def test_conv_transpose_stride1_uses_winograd(winograd_impl, monkeypatch):
    calls = []
    real = _winograd.conv_t
    monkeypatch.setattr(_winograd, "conv_t", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, 7, 9)).astype(np.float32)
    wt = (rng.standard_normal((16, 20, 3, 3)) / 12).astype(np.float32)
    ny = nerve.nn.functional.conv_transpose2d(nerve.tensor(x), nerve.tensor(wt), padding=1)
    ty = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(wt), padding=1)
    assert calls
    np.testing.assert_allclose(ny.numpy(), ty.numpy(), atol=2e-5 * float(ty.abs().max()), rtol=1e-4)


def test_im2col_forced_skips_winograd(monkeypatch):
    monkeypatch.setattr(conv_mod, "ALGO", "im2col")
    monkeypatch.setattr(_winograd, "conv", lambda *a, **k: pytest.fail("Winograd used under ALGO='im2col'"))
    x = nerve.randn(2, 16, 8, 8)
    w = nerve.randn(16, 16, 3, 3)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x.numpy()), torch.from_numpy(w.numpy()), padding=1)
    out = nerve.nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-4, rtol=1e-4)


def _conv_sum(_):
    x = nerve.ones(2, 16, 8, 8)
    w = nerve.ones(16, 16, 3, 3)
    return float(nerve.nn.functional.conv2d(x, w, padding=1).sum())


@pytest.mark.skipif(_winograd._nbk is None, reason="numba not installed")
def test_kernel_threads_survive_fork(monkeypatch):
    """DataLoader workers fork the process; the kernels' thread pool must be re-made in the child."""
    import multiprocessing as mp

    monkeypatch.setattr(_winograd, "NUMBA_MIN_SIZE", 0)
    monkeypatch.setattr(_winograd._nbk, "THREADS", 2)
    expected = _conv_sum(None)                      # starts the parent's pool
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.map_async(_conv_sum, [0]).get(timeout=60)
    assert got == [expected]


@pytest.mark.skipif(_winograd._nbk is None, reason="numba not installed")
@pytest.mark.parametrize("n,c,o,h,w,padding", [
    (64, 32, 32, 28, 28, 1),     # the CNN benchmark's layer: 3136 tiles, 49 blocks
    (5, 20, 17, 9, 11, 1),       # outputs not a multiple of the micro-kernel's 12 rows, a ragged last block
    (3, 16, 40, 13, 6, (2, 0)),  # cropped tiles at the bottom and right
    (2, 16, 16, 5, 7, (0, 2)),   # input windows past every edge
])
@pytest.mark.parametrize("block", [32, 64])
def test_fused_products_and_output_transform(monkeypatch, request, n, c, o, h, w, padding, block):
    """gemm_output (block-wise products + output transform on a kept V) and conv_blocks (the whole convolution
    block by block, V never stored) give the unfused path's numbers exactly."""
    monkeypatch.setattr(_winograd, "NUMBA_MIN_SIZE", 0)
    from nerve.ops import _gemm
    before = _gemm._mode
    _gemm.set_backend("nerve")    # the fused kernels run only with nerve's GEMM as the backend
    request.addfinalizer(lambda: _gemm.set_backend(before))
    monkeypatch.setattr(_winograd, "BLOCK_TILES", block)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    out_hw = (h + 2 * ph - 2, w + 2 * pw - 2)
    v = _winograd.input_transform(x, ph, pw, out_hw)
    assert _winograd._fused_ok(v)
    fused = _winograd.conv(x, wt, ph, pw, out_hw, b, v)
    blocks = _winograd.conv(x, wt, ph, pw, out_hw, b)
    monkeypatch.setattr(_winograd, "_fused_ok", lambda a, planes=True: False)
    unfused = _winograd.conv(x, wt, ph, pw, out_hw, b, v)
    np.testing.assert_array_equal(fused, unfused)
    np.testing.assert_array_equal(blocks, unfused)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(wt), torch.tensor(b), padding=padding).numpy()
    np.testing.assert_allclose(fused, ref, atol=2e-5 * float(np.abs(ref).max()), rtol=1e-4)
