"""nerve.nn.functional beyond the op table: dropout statistics, errors, extreme values, second derivatives."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import nerve
import nerve.nn.functional as F
from op_table import nn as nn_table

_gc = sys.modules["nerve.autograd.gradcheck"]


def n(a, grad=False):
    return nerve.tensor(np.asarray(a)).requires_grad_(grad) if grad else nerve.tensor(np.asarray(a))


def t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def close(a, b, atol=1e-6, rtol=1e-5):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True)


# ---------------------------------------------------------------------------- second derivatives
def _numerical_jacobian_with_grad(fn, inputs, diff_idx, eps):
    """Central differences of ``fn`` evaluated with grad mode on (a vjp needs its graph)."""
    outs0 = _gc._flat_outputs(fn, inputs)
    jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for i in diff_idx] for o in outs0]
    for col, i in enumerate(diff_idx):
        x = inputs[i]._data
        for j, idx in enumerate(np.ndindex(x.shape)):
            orig = x[idx].copy()
            x[idx] = orig + eps
            plus = [o._data.astype(np.float64).ravel().copy() for o in _gc._flat_outputs(fn, inputs)]
            x[idx] = orig - eps
            minus = [o._data.astype(np.float64).ravel().copy() for o in _gc._flat_outputs(fn, inputs)]
            x[idx] = orig
            for k in range(len(outs0)):
                jac[k][col][j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _gradgrad_cases():
    out = []
    for op in nn_table.OPS:
        if op.supports_grad and op.supports_gradgrad and op.gradcheck:
            out.append(pytest.param(op, id=op.name))
    return out


@pytest.mark.parametrize("op", _gradgrad_cases())
def test_gradgradcheck_nn(op, monkeypatch):
    """Second derivatives of the nn entries.

    NOTE: nerve.autograd.gradgradcheck evaluates its numerical Jacobian under no_grad, where the inner
    vjp records no graph and returns no outputs, so the comparison is empty and always passes. This
    test runs it with the numerical Jacobian taken with grad mode on.
    """
    import test_ops  # noqa: PLC0415 - shares the harness's sample plumbing

    monkeypatch.setattr(_gc, "_numerical_jacobian", _numerical_jacobian_with_grad)
    for s in test_ops._samples(op, np.float64):
        f, inputs = test_ops._diff_fn(op, s)
        if not inputs or sum(i.numel() for i in inputs) == 0:
            continue
        assert _gc.gradgradcheck(f, inputs, atol=op.gradcheck_atol, rtol=op.gradcheck_rtol), f"{op.name} {s}"


def test_second_derivative_matches_torch():
    """Hessian-vector products through the fused primitives, against PyTorch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5))
    y = np.array([1, 4, 0])
    w = rng.standard_normal((5,))
    v = rng.standard_normal((3, 5))
    res = []
    for lib, mk in ((nerve, n), (torch, t)):
        Fl = lib.nn.functional
        xx = mk(x, True)
        loss = (Fl.cross_entropy(xx, mk(y), label_smoothing=0.1)
                + Fl.layer_norm(xx, (5,), mk(w)).pow(3).sum()
                + Fl.binary_cross_entropy_with_logits(xx, lib.sigmoid(mk(v))).mul(2)
                + lib.log_softmax(xx, 1).exp().pow(2).sum()
                + Fl.softplus(xx, beta=2.0).sum() + Fl.embedding(mk(np.array([0, 2, 2])), xx).pow(2).sum())
        (g,) = lib.autograd.grad(loss, xx, create_graph=True)
        (h,) = lib.autograd.grad((g * mk(v)).sum(), xx)
        res.append((g, h))
    close(res[0][0], res[1][0], atol=1e-9)
    close(res[0][1], res[1][1], atol=1e-9)


# ---------------------------------------------------------------------------- dropout
def test_dropout_statistics():
    nerve.manual_seed(0)
    x = nerve.ones(200, 500)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        zero = (y == 0).mean()
        assert abs(zero - p) < 0.01, (p, zero)
        assert abs(y.mean() - 1.0) < 0.03, (p, y.mean())
        assert np.allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
        assert y.dtype == np.float32


def test_dropout_reproducible_and_gradient():
    nerve.manual_seed(123)
    a = F.dropout(nerve.ones(64), 0.5).numpy()
    nerve.manual_seed(123)
    x = nerve.ones(64, requires_grad=True)
    y = F.dropout(x, 0.5)
    np.testing.assert_array_equal(a, y.detach().numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a)  # gradient is the scaled mask
    b = F.dropout(nerve.ones(64), 0.5).numpy()
    assert not np.array_equal(a, b)


def test_dropout_edge_cases():
    x = nerve.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.0) is x or np.array_equal(F.dropout(x, 0.0).detach().numpy(), x.detach().numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.7, training=False).detach().numpy(), x.detach().numpy())
    z = F.dropout(x, 1.0)
    assert (z.detach().numpy() == 0).all() and z.requires_grad
    z.sum().backward()
    assert (x.grad.numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)


def test_dropout_inplace():
    nerve.manual_seed(1)
    x = nerve.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    leaf = nerve.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(leaf, 0.5, inplace=True)
    h = leaf * 1
    F.dropout(h, 0.5, inplace=True).sum().backward()
    assert set(np.unique(leaf.grad.numpy())) <= {0.0, 2.0}


def test_feature_dropout_zeroes_whole_channels():
    nerve.manual_seed(2)
    y = F.dropout2d(nerve.ones(8, 16, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    y1 = F.dropout1d(nerve.ones(6, 5), 0.5).numpy()  # unbatched (C, L)
    assert ((y1 == 0).all(-1) | (y1 == 2).all(-1)).all()
    with pytest.raises(RuntimeError, match="dropout1d"):
        F.dropout1d(nerve.ones(2, 3, 4, 5), 0.5)


def test_alpha_dropout_keeps_selu_statistics():
    nerve.manual_seed(3)
    x = nerve.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    alpha, p = 1.7580993408473766, 0.2
    dropped = -alpha * (1 - p) / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    assert abs(np.isclose(y, dropped, rtol=1e-6, atol=0).mean() - p) < 0.01  # dropped values share one value
    np.testing.assert_array_equal(F.alpha_dropout(x, 0.2).numpy(), x.numpy())  # training=False default


def test_rrelu_training_slopes():
    nerve.manual_seed(4)
    x = -nerve.ones(1000)
    y = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert (y <= -0.1 + 1e-6).all() and (y >= -0.3 - 1e-6).all() and y.std() > 0.03


# ---------------------------------------------------------------------------- extreme values
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_match_torch(dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [5.0, 1e4, 1e4]], dtype=dtype)
    y = np.array([2, 0, 1])
    tgt = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.0]], dtype=dtype)
    cases = [
        lambda lib, a: lib.softmax(a, 1),
        lambda lib, a: lib.log_softmax(a, 1),
        lambda lib, a: lib.log_softmax(a, 0),
        lambda lib, a: lib.nn.functional.cross_entropy(a, (n if lib is nerve else t)(y), reduction="none"),
        lambda lib, a: lib.nn.functional.cross_entropy(a, (n if lib is nerve else t)(y), label_smoothing=0.2),
        lambda lib, a: lib.nn.functional.binary_cross_entropy_with_logits(a, (n if lib is nerve else t)(tgt),
                                                                          reduction="none"),
        lambda lib, a: lib.nn.functional.binary_cross_entropy_with_logits(
            a, (n if lib is nerve else t)(tgt), pos_weight=(n if lib is nerve else t)(np.array([2.0, 1, 3], dtype))),
        lambda lib, a: lib.nn.functional.logsigmoid(a),
        lambda lib, a: lib.nn.functional.softplus(a),
    ]
    for i, fn in enumerate(cases):
        xn, xt = n(x, True), t(x, True)
        on, ot = fn(nerve, xn), fn(torch, xt)
        assert np.isfinite(on.detach().numpy()).all(), i
        close(on, ot, atol=1e-5 * (1 if dtype == np.float64 else 10))
        on.sum().backward()
        ot.sum().backward()
        assert np.isfinite(xn.grad.numpy()).all(), i
        close(xn.grad, xt.grad, atol=1e-6)


def test_masked_softmax_rows():
    x = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [2.0, 1.0, -np.inf]])
    g = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [0.5, -1.0, 2.0]])
    for fn in (lambda lib, a: lib.softmax(a, -1), lambda lib, a: lib.log_softmax(a, -1)):
        xn, xt = n(x, True), t(x, True)
        on, ot = fn(nerve, xn), fn(torch, xt)
        close(on, ot)
        assert np.isnan(on.detach().numpy()[1]).all()  # a fully masked row is nan, as PyTorch
        on.backward(n(g))
        ot.backward(t(g))
        close(xn.grad, xt.grad)


def test_cross_entropy_with_masked_logits():
    """-inf logits of non-target classes (masked actions/vocab) give a finite loss and gradient."""
    x = np.array([[0.5, -np.inf, 1.0, 0.2], [-np.inf, 2.0, 1.0, -np.inf]])
    y = np.array([2, 1])
    xn, xt = n(x, True), t(x, True)
    ln, lt = F.cross_entropy(xn, n(y)), TF.cross_entropy(xt, t(y))
    close(ln, lt)
    ln.backward()
    lt.backward()
    close(xn.grad, xt.grad)


def test_softmax_implicit_dim_and_method():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning):
        ref = TF.softmax(t(x))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        close(F.softmax(n(x)), ref)
    close(nerve.softmax(n(x)), ref)  # nerve.softmax picks the same dim without a warning
    close(F.softmin(n(x), dim=2), TF.softmin(t(x), dim=2))
    close(n(x).softmax(-1), t(x).softmax(-1))
    close(n(x).log_softmax(dim=0), t(x).log_softmax(dim=0))
    close(nerve.softmax(n(x), 1, dtype=nerve.float32), torch.softmax(t(x), 1, dtype=torch.float32))
    with pytest.raises(NotImplementedError):
        nerve.softmax(nerve.tensor([1, 2]), 0)
    with pytest.raises(IndexError):
        nerve.softmax(n(x), 3)


def test_cross_entropy_fused_matches_composite():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4, 3))
    y = rng.integers(0, 4, (6, 3))
    y[0, 0] = -100
    w = rng.random(4)
    a = n(x, True)
    b = n(x, True)
    la = F.cross_entropy(a, n(y), weight=n(w))
    lb = F.nll_loss(nerve.log_softmax(b, 1), n(y), weight=n(w))
    close(la, lb, atol=1e-12)
    la.backward()
    lb.backward()
    close(a.grad, b.grad, atol=1e-12)


# ---------------------------------------------------------------------------- other behaviour vs torch
def test_normalize_and_cosine_zero_vectors_have_finite_gradients():
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, -1.0]])
    for fn in (lambda lib, a: lib.nn.functional.normalize(a, dim=1),
               lambda lib, a: lib.nn.functional.cosine_similarity(a, a.flip(0) if lib is torch else
                                                                 nerve.tensor(x[::-1].copy()), dim=1),
               lambda lib, a: lib.nn.functional.pairwise_distance(a, a * 0, eps=0.0)):
        xn, xt = n(x, True), t(x, True)
        on, ot = fn(nerve, xn), fn(torch, xt)
        close(on, ot)
        on.sum().backward()
        ot.sum().backward()
        assert np.isfinite(xn.grad.numpy()).all()


def test_gaussian_nll_clamped_variance_matches_torch():
    x, y = np.array([[0.5, 1.0], [2.0, -1.0]]), np.array([[0.0, 1.5], [1.0, 0.0]])
    v = np.array([[1e-9, 0.5], [2.0, 1e-8]])
    vn, vt = n(v, True), t(v, True)
    ln, lt = F.gaussian_nll_loss(n(x), n(y), vn), TF.gaussian_nll_loss(t(x), t(y), vt)
    close(ln, lt)
    ln.backward()
    lt.backward()
    close(vn.grad, vt.grad, rtol=1e-6)
    close(F.gaussian_nll_loss(n(x), n(y), 0.5, full=True), TF.gaussian_nll_loss(t(x), t(y), 0.5, full=True))


def test_embedding_max_norm_renormalises_weight():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((6, 4)) * 3
    idx = np.array([[0, 2], [2, 5]])
    wn, wt = n(w, True), t(w, True)
    on = F.embedding(n(idx), wn, max_norm=1.5)
    ot = TF.embedding(t(idx), wt, max_norm=1.5)
    close(on, ot)
    close(wn, wt)  # rows 0, 2, 5 renormalised in place, the others untouched
    on.pow(2).sum().backward()
    ot.pow(2).sum().backward()
    close(wn.grad, wt.grad)


def test_embedding_padding_row_gets_no_gradient():
    w = n(np.random.default_rng(0).standard_normal((4, 2)), True)
    F.embedding(n(np.array([0, 1, 1, 3, 1])), w, padding_idx=1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [0, 0], [0, 0], [1, 1]])


def test_bce_with_logits_pos_weight_gradient():
    """PyTorch has no gradient for pos_weight; nerve's is checked by finite differences."""
    rng = np.random.default_rng(7)
    x, y, pw = rng.standard_normal((3, 4)), rng.random((3, 4)), rng.random(4) + 0.5
    inputs = (n(x, True), n(y, True), n(pw, True))
    assert nerve.autograd.gradcheck(
        lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c, reduction="sum"), inputs)


def test_inplace_activations():
    x = nerve.tensor([-1.0, 0.5, 2.0])
    assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.5, 2.0])
    x = nerve.tensor([-1.0, 0.5, 2.0])
    F.elu_(x)
    np.testing.assert_allclose(x.numpy(), [math.expm1(-1.0), 0.5, 2.0], rtol=1e-6)
    leaf = nerve.tensor([1.0], requires_grad=True)
    for fn in (F.relu_, F.leaky_relu_, F.hardtanh_, F.selu_, F.celu_):
        with pytest.raises(RuntimeError, match="leaf"):
            fn(leaf)


def test_legacy_reduction_arguments():
    x, y = np.random.default_rng(8).standard_normal((2, 3, 4))
    close(F.mse_loss(n(x), n(y), size_average=False), TF.mse_loss(t(x), t(y), size_average=False))
    close(F.l1_loss(n(x), n(y), reduce=False), TF.l1_loss(t(x), t(y), reduce=False))


def test_pad_negative_and_value():
    x = np.arange(24.0).reshape(2, 3, 4)
    close(F.pad(n(x), (-1, 2, 1, -2), value=-7.0), TF.pad(t(x), (-1, 2, 1, -2), value=-7.0))
    close(F.pad(n(x), (-1, -1), mode="reflect"), TF.pad(t(x), (-1, -1), mode="reflect"))


def test_one_hot_values():
    out = F.one_hot(nerve.tensor([[0, 3], [1, 1]]))
    ref = TF.one_hot(torch.tensor([[0, 3], [1, 1]]))
    assert out.dtype == nerve.int64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


# ---------------------------------------------------------------------------- errors users can act on
def test_linear_shape_error():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(64, 512\) does not match weight of shape "
                                           r"\(10, 784\): last dim must be 784"):
        F.linear(nerve.zeros(64, 512), nerve.zeros(10, 784))


def test_cross_entropy_errors():
    x = nerve.zeros(3, 4)
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds.*4 classes.*\[0, 3\]"):
        F.cross_entropy(x, nerve.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, nerve.tensor([0, 1, -3]))
    with pytest.raises(ValueError, match=r"batch_size \(3\).*batch_size \(2\).*\(3, 4\).*\(2,\)"):
        F.cross_entropy(x, nerve.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\).*\(2, 3\).*\(2, 4\)"):
        F.cross_entropy(nerve.zeros(2, 3, 4), nerve.tensor([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(RuntimeError, match=r"probability targets.*\(3, 4\).*\(3, 5\)"):
        F.cross_entropy(x, nerve.zeros(3, 5))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        F.cross_entropy(x, nerve.tensor([0, 1, 2]), weight=nerve.ones(3))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, nerve.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, nerve.tensor([0, 1, 2]), label_smoothing=1.5)
    # ignored targets may be out of range
    assert np.isfinite(F.cross_entropy(x, nerve.tensor([0, -100, 2])).item())


def test_other_errors():
    with pytest.raises(IndexError, match=r"index 7 is out of range for a table of 5 rows"):
        F.embedding(nerve.tensor([7]), nerve.zeros(5, 2))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[3\].*\[\*, 3\].*\[3, 4\]"):
        F.layer_norm(nerve.zeros(3, 4), (3,))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(nerve.tensor([1.5]), nerve.tensor([1.0]))
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(nerve.zeros(3), nerve.zeros(4))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(nerve.tensor([-1]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(nerve.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="dimension 1.*size 5"):
        F.glu(nerve.zeros(3, 5))
    with pytest.raises(RuntimeError, match=r"Padding size should be less than.*\(3, 3\)"):
        F.pad(nerve.zeros(1, 2, 3), (3, 3), mode="reflect")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(nerve.zeros(1, 2, 3), (1,))
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(nerve.zeros(2, 3), (-2, -2))
    with pytest.raises(RuntimeError, match="parameter numbers = 4 and channel size = 3"):
        F.prelu(nerve.zeros(2, 3), nerve.ones(4))
    with pytest.raises(RuntimeError, match=r"bilinear: inputs of shape \(2, 3\) and \(2, 4\)"):
        F.bilinear(nerve.zeros(2, 3), nerve.zeros(2, 4), nerve.zeros(5, 3, 3))


# ---------------------------------------------------------------------------- normalisation layers' functions
def test_batch_and_instance_norm_running_stats_match_torch():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    for fn in (lambda lib, a, rm, rv: lib.nn.functional.batch_norm(a, rm, rv, training=True, momentum=0.3),
               lambda lib, a, rm, rv: lib.nn.functional.instance_norm(a, rm, rv, momentum=0.3)):
        rmn, rvn = nerve.zeros(3), nerve.ones(3)
        rmt, rvt = torch.zeros(3), torch.ones(3)
        close(fn(nerve, n(x), rmn, rvn), fn(torch, t(x), rmt, rvt), atol=1e-5)
        close(rmn, rmt)
        close(rvn, rvt)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(nerve.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined"):
        F.batch_norm(nerve.zeros(2, 3), None, None)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(nerve.zeros(2, 6, 4), 4)


def test_attention_fully_masked_row_is_zero_like_torch():
    rng = np.random.default_rng(10)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    mask = np.array([[True, False, True], [False, False, False], [True, True, True]])
    ins_n = [n(a, True) for a in (q, k, v)]
    ins_t = [t(a, True) for a in (q, k, v)]
    on = F.scaled_dot_product_attention(*ins_n, attn_mask=n(mask))
    ot = TF.scaled_dot_product_attention(*ins_t, attn_mask=t(mask))
    close(on, ot)
    on.sum().backward()
    ot.sum().backward()
    for a, b in zip(ins_n, ins_t):
        close(a.grad, b.grad)


def test_gumbel_softmax():
    nerve.manual_seed(11)
    logits = nerve.tensor(np.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(-1), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(-1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)  # samples follow softmax(logits)
    (hard * nerve.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.isfinite(logits.grad.numpy()).all() and np.abs(logits.grad.numpy()).sum() > 0
