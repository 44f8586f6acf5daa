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
