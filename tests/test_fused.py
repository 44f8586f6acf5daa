"""Fused backward primitives match their composites: values, gradients, second derivatives."""
import numpy as np
import pytest

import nerve
from nerve.ops import fused

CASES = [
    ("tanh", fused.tanh_backward, lambda g, o: g * (1 - o * o)),
    ("sigmoid", fused.sigmoid_backward, lambda g, o: g * o * (1 - o)),
    ("relu", fused.threshold_backward, lambda g, o: g * (o > 0).double()),
]


@pytest.mark.parametrize("name,fn,composite", CASES, ids=[c[0] for c in CASES])
def test_fused_matches_composite(name, fn, composite):
    rng = np.random.default_rng(0)
    g = nerve.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    o = nerve.tensor(rng.uniform(-0.9, 0.9, (3, 4)), requires_grad=True)
    a, b = fn(g, o), composite(g, o)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = nerve.tensor(rng.standard_normal((3, 4)))
    ga = nerve.autograd.grad((a * w).sum(), (g, o), allow_unused=True, materialize_grads=True)
    gb = nerve.autograd.grad((b * w).sum(), (g, o), allow_unused=True, materialize_grads=True)
    for x, y in zip(ga, gb):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-12)
    assert nerve.autograd.gradcheck(lambda g_, o_: fn(g_, o_), (g, o))
    assert nerve.autograd.gradgradcheck(lambda g_, o_: fn(g_, o_), (g, o))


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_activation_second_derivative_vs_torch(act):
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(1).uniform(-2, 2, (5,)) + 0.05
    x = nerve.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    (gn,) = nerve.autograd.grad(getattr(nerve, act)(x).pow(3).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(getattr(torch, act)(xt).pow(3).sum(), xt, create_graph=True)
    (hn,) = nerve.autograd.grad(gn.sum(), x)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_allclose(gn.detach().numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(hn.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------- batch norm, pools, relu
# The CNN fast paths (nnops.batch_norm_train, pool's tiling max pool, the ReLU forward) against PyTorch
# on inputs large enough to take them.
def _pair(torch, a, grad=True):
    return nerve.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_steps_match_torch(momentum, affine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    bn_n = nerve.nn.BatchNorm2d(3, momentum=momentum, affine=affine).double()
    bn_t = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine).double()
    if affine:
        w, b = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
        bn_n.load_state_dict({"weight": w, "bias": b}, strict=False)
        with torch.no_grad():
            bn_t.weight.copy_(torch.tensor(w))
            bn_t.bias.copy_(torch.tensor(b))
    for step in range(3):
        a = rng.standard_normal((4, 3, 5, 6)) * 3 + rng.standard_normal((1, 3, 1, 1)) * 5
        g = rng.standard_normal(a.shape)
        xn, xt = _pair(torch, a)
        yn, yt = bn_n(xn), bn_t(xt)
        yn.backward(nerve.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-10)
        if affine:
            np.testing.assert_allclose(bn_n.weight.grad.numpy(), bn_t.weight.grad.numpy(), rtol=1e-9)
            np.testing.assert_allclose(bn_n.bias.grad.numpy(), bn_t.bias.grad.numpy(), rtol=1e-9)
            bn_n.zero_grad()
            bn_t.zero_grad()
        for k in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(bn_n, k).numpy(), getattr(bn_t, k).numpy(), rtol=1e-12, err_msg=k)
    bn_n.eval()
    bn_t.eval()
    a = rng.standard_normal((2, 3, 4, 4))
    xn, xt = _pair(torch, a)
    yn, yt = bn_n(xn), bn_t(xt)
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yn.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_batchnorm_float32_benchmark_shape():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((8, 16, 14, 14)) + 0.5).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    w, b = rng.uniform(0.5, 2, 16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    xn, xt = _pair(torch, a)
    wn, wt = _pair(torch, w)
    bn_, bt = _pair(torch, b)
    yn = nerve.nn.functional.batch_norm(xn, None, None, wn, bn_, training=True)
    yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True)
    assert yn.dtype == nerve.float32
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    for p, q in ((xn, xt), (wn, wt), (bn_, bt)):
        assert p.grad.dtype == nerve.float32
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_batchnorm_create_graph_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal((3, 2, 4)), rng.uniform(0.5, 2, 2)
    xn, xt = _pair(torch, a)
    wn, wt = _pair(torch, w)
    outs = []
    for lib, x, wgt in ((nerve, xn, wn), (torch, xt, wt)):
        y = lib.nn.functional.batch_norm(x, None, None, wgt, None, training=True)
        gx, gw = lib.autograd.grad((y ** 3).sum(), (x, wgt), create_graph=True)
        outs.append(lib.autograd.grad((gx * gx).sum() + gw.sum(), (x, wgt)))
    for p, q in zip(*outs):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("shape,k", [((4, 3, 8, 8), 2), ((2, 3, 7, 9), 2), ((2, 2, 9, 6), 3), ((2, 2, 6, 8), (2, 4)),
                                     ((3, 6, 6), 2)])
def test_tiled_max_pool_ties_match_torch(shape, k):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = np.round(np.maximum(rng.standard_normal(shape), 0) * 2) / 2  # relu'd and rounded: many tied windows
    g = rng.standard_normal(tuple(torch.nn.functional.max_pool2d(torch.tensor(a), k).shape))
    xn, xt = _pair(torch, a)
    yn, yt = nerve.nn.functional.max_pool2d(xn, k), torch.nn.functional.max_pool2d(xt, k)
    np.testing.assert_array_equal(yn.detach().numpy(), yt.detach().numpy())
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())
    # create_graph: the gradient is linear in g and its derivative in g matches
    xn, xt = _pair(torch, a)
    gn, gt = _pair(torch, g)
    (dn,) = nerve.autograd.grad(nerve.nn.functional.max_pool2d(xn, k), xn, gn, create_graph=True)
    (dt,) = torch.autograd.grad(torch.nn.functional.max_pool2d(xt, k), xt, gt, create_graph=True)
    np.testing.assert_array_equal(dn.detach().numpy(), dt.detach().numpy())
    w = rng.standard_normal(a.shape)
    (hn,) = nerve.autograd.grad((dn * nerve.tensor(w)).sum(), gn)
    (ht,) = torch.autograd.grad((dt * torch.tensor(w)).sum(), gt)
    np.testing.assert_allclose(hn.numpy(), ht.numpy(), rtol=1e-12)


def test_tiled_max_pool_nan_and_1d_match_torch():
    torch = pytest.importorskip("torch")
    a = np.zeros((1, 1, 4, 4))
    a[0, 0, 0, 0] = a[0, 0, 1, 1] = a[0, 0, 2, 3] = np.nan
    for fn, arr, k in (("max_pool2d", a, 2), ("max_pool1d", np.round(np.random.default_rng(5).standard_normal(
            (2, 3, 11)), 0), 3)):
        xn, xt = _pair(torch, arr)
        yn, yt = getattr(nerve.nn.functional, fn)(xn, k), getattr(torch.nn.functional, fn)(xt, k)
        np.testing.assert_array_equal(yn.detach().numpy(), yt.detach().numpy())
        yn.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("layout", ["contiguous", "noncontig", "small"])
def test_fused_relu_matches_torch(layout):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    a[0, 0, 0, :3] = (np.nan, 0.0, -0.0)
    if layout == "noncontig":
        a = a.transpose(0, 2, 3, 1)
    elif layout == "small":
        a = a[:1, :1, :2]
    xn, xt = _pair(torch, a)
    yn, yt = nerve.nn.functional.relu(xn), torch.nn.functional.relu(xt)
    assert yn.grad_fn.name() == "ReluBackward0"
    np.testing.assert_array_equal(yn.detach().numpy(), yt.detach().numpy())
    g = rng.standard_normal(a.shape).astype(np.float32)
    yn.backward(nerve.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xn.grad.numpy(), xt.grad.numpy())  # g passes where the output is nan
