"""nerve.nn layers against PyTorch: load the torch layer's state_dict, compare outputs, gradients, reprs.

Each case builds the same layer in both libraries (``make(nn, T)`` with ``nn`` = torch.nn or nerve.nn
and ``T`` = torch or nerve), copies torch's weights into the nerve layer through ``state_dict``
(as NumPy arrays), runs both on the same inputs and compares the output, the input gradients and the
parameter gradients in float32 and float64.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn

TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


@dataclass
class Case:
    id: str
    make: Callable                     # make(nn, T) -> module
    inputs: Callable                   # inputs(rng) -> list of numpy arrays
    grad: tuple = ()                   # which inputs require grad (default: all floating ones)
    train: bool = False                # compare in training mode (deterministic layers only)
    tol64: dict = field(default_factory=dict)  # float64 tolerance overrides (PyTorch kernels with float constants)


def _randn(*s):
    return lambda r: [r.standard_normal(s)]


def _away(*s, kinks=(0.0,), gap=0.05):
    """Normal samples kept ``gap`` away from the activation's kinks (finite values compare exactly there)."""
    def f(r):
        x = r.standard_normal(s) * 2
        for k in kinks:
            x = np.where(np.abs(x - k) < gap, k + gap * np.sign(x - k + 1e-12), x)
        return [x]
    return f


def _cls(n, c, *extra):
    return lambda r: [r.standard_normal((n, c) + extra), r.integers(0, c, (n,) + extra)]


def _pair(*s, target=None):
    def f(r):
        out = [r.standard_normal(s), r.standard_normal(s)]
        if target == "pm1":
            out[1] = np.where(r.random(s) > 0.5, 1.0, -1.0)
        elif target == "prob":
            out[1] = r.random(s)
        return out
    return f


def _weight(T, v):
    return T.tensor(np.asarray(v, dtype=np.float64)).float()


CASES = [
    # ---------------------------------------------------------------- linear / shape
    Case("Identity", lambda nn, T: nn.Identity(3, unused=1), _randn(4, 3)),
    Case("Linear", lambda nn, T: nn.Linear(5, 3), _randn(4, 5)),
    Case("Linear_nobias", lambda nn, T: nn.Linear(5, 3, bias=False), _randn(4, 5)),
    Case("Linear_3d", lambda nn, T: nn.Linear(5, 3), _randn(2, 4, 5)),
    Case("Linear_1d", lambda nn, T: nn.Linear(5, 3), _randn(5)),
    Case("Bilinear", lambda nn, T: nn.Bilinear(4, 3, 2), lambda r: [r.standard_normal((5, 4)),
                                                                    r.standard_normal((5, 3))]),
    Case("Flatten", lambda nn, T: nn.Flatten(), _randn(2, 3, 4)),
    Case("Flatten_0_1", lambda nn, T: nn.Flatten(0, 1), _randn(2, 3, 4)),
    Case("Unflatten", lambda nn, T: nn.Unflatten(1, (2, 3)), _randn(4, 6)),
    # ---------------------------------------------------------------- activations
    Case("ReLU", lambda nn, T: nn.ReLU(), _away(3, 4)),
    Case("ReLU6", lambda nn, T: nn.ReLU6(), _away(3, 4, kinks=(0.0, 6.0))),
    Case("LeakyReLU", lambda nn, T: nn.LeakyReLU(0.2), _away(3, 4)),
    Case("PReLU", lambda nn, T: nn.PReLU(), _away(3, 4)),
    Case("PReLU_channels", lambda nn, T: nn.PReLU(3, init=0.1), _away(2, 3, 4)),
    Case("ELU", lambda nn, T: nn.ELU(alpha=0.5), _away(3, 4)),
    Case("SELU", lambda nn, T: nn.SELU(), _away(3, 4)),
    Case("CELU", lambda nn, T: nn.CELU(alpha=1.5), _away(3, 4)),
    Case("GELU", lambda nn, T: nn.GELU(), _randn(3, 4)),
    Case("GELU_tanh", lambda nn, T: nn.GELU(approximate="tanh"), _randn(3, 4)),
    Case("SiLU", lambda nn, T: nn.SiLU(), _randn(3, 4)),
    Case("Mish", lambda nn, T: nn.Mish(), _randn(3, 4)),
    Case("Softplus", lambda nn, T: nn.Softplus(beta=2.0, threshold=3.0), _away(3, 4, kinks=(1.5,))),
    Case("Sigmoid", lambda nn, T: nn.Sigmoid(), _randn(3, 4)),
    Case("Tanh", lambda nn, T: nn.Tanh(), _randn(3, 4)),
    Case("Hardtanh", lambda nn, T: nn.Hardtanh(-0.5, 0.5), _away(3, 4, kinks=(-0.5, 0.5))),
    # PyTorch's hardsigmoid/hardswish backward multiply by the float32 constant 1.0f / 6.0f.
    Case("Hardsigmoid", lambda nn, T: nn.Hardsigmoid(), _away(3, 4, kinks=(-3.0, 3.0)), tol64=dict(rtol=1e-7)),
    Case("Hardswish", lambda nn, T: nn.Hardswish(), _away(3, 4, kinks=(-3.0, 3.0)), tol64=dict(rtol=1e-7)),
    Case("LogSigmoid", lambda nn, T: nn.LogSigmoid(), _randn(3, 4)),
    Case("Softmax", lambda nn, T: nn.Softmax(dim=1), _randn(3, 4)),
    Case("Softmax2d", lambda nn, T: nn.Softmax2d(), _randn(2, 3, 2, 2)),
    Case("LogSoftmax", lambda nn, T: nn.LogSoftmax(dim=-1), _randn(3, 4)),
    Case("Softmin", lambda nn, T: nn.Softmin(dim=0), _randn(3, 4)),
    Case("Softsign", lambda nn, T: nn.Softsign(), _randn(3, 4)),
    Case("Tanhshrink", lambda nn, T: nn.Tanhshrink(), _randn(3, 4)),
    Case("Threshold", lambda nn, T: nn.Threshold(0.1, 20.0), _away(3, 4, kinks=(0.1,))),
    Case("GLU", lambda nn, T: nn.GLU(), _randn(3, 4)),
    Case("GLU_dim0", lambda nn, T: nn.GLU(dim=0), _randn(4, 3)),
    Case("Hardshrink", lambda nn, T: nn.Hardshrink(0.3), _away(3, 4, kinks=(-0.3, 0.3))),
    Case("Softshrink", lambda nn, T: nn.Softshrink(0.3), _away(3, 4, kinks=(-0.3, 0.3))),
    Case("RReLU_eval", lambda nn, T: nn.RReLU(0.1, 0.3), _away(3, 4)),
    Case("Dropout_eval", lambda nn, T: nn.Dropout(0.3), _randn(3, 4)),
    Case("Dropout_p0_train", lambda nn, T: nn.Dropout(0.0), _randn(3, 4), train=True),
    # ---------------------------------------------------------------- normalisation / embedding
    Case("LayerNorm", lambda nn, T: nn.LayerNorm((4, 5)), _randn(3, 4, 5)),
    Case("LayerNorm_nobias", lambda nn, T: nn.LayerNorm(5, eps=1e-3, bias=False), _randn(3, 5)),
    Case("LayerNorm_noaffine", lambda nn, T: nn.LayerNorm(5, elementwise_affine=False), _randn(3, 5)),
    Case("RMSNorm", lambda nn, T: nn.RMSNorm(5, eps=1e-6), _randn(3, 5)),
    Case("GroupNorm", lambda nn, T: nn.GroupNorm(2, 4), _randn(3, 4, 5)),
    Case("BatchNorm1d_train", lambda nn, T: nn.BatchNorm1d(3), _randn(6, 3), train=True),
    Case("BatchNorm1d_3d_train", lambda nn, T: nn.BatchNorm1d(3, momentum=None), _randn(4, 3, 5), train=True),
    Case("BatchNorm2d_train", lambda nn, T: nn.BatchNorm2d(3, affine=False), _randn(2, 3, 4, 4), train=True),
    Case("BatchNorm2d_eval", lambda nn, T: nn.BatchNorm2d(3), _randn(2, 3, 4, 4)),
    Case("BatchNorm3d_train", lambda nn, T: nn.BatchNorm3d(2), _randn(2, 2, 3, 3, 3), train=True),
    Case("InstanceNorm1d", lambda nn, T: nn.InstanceNorm1d(3), _randn(2, 3, 5)),
    Case("InstanceNorm2d_affine_nobatch", lambda nn, T: nn.InstanceNorm2d(3, affine=True), _randn(3, 4, 4)),
    Case("InstanceNorm3d_running_train", lambda nn, T: nn.InstanceNorm3d(2, track_running_stats=True),
         _randn(2, 2, 3, 3, 3), train=True),
    Case("Embedding", lambda nn, T: nn.Embedding(10, 4), lambda r: [r.integers(0, 10, (3, 5))]),
    Case("Embedding_padding", lambda nn, T: nn.Embedding(10, 4, padding_idx=0),
         lambda r: [np.array([[0, 1, 2], [0, 9, 9]])]),
    # ---------------------------------------------------------------- padding
    Case("ZeroPad2d", lambda nn, T: nn.ZeroPad2d((1, 0, 2, 1)), _randn(2, 3, 4)),
    Case("ConstantPad1d", lambda nn, T: nn.ConstantPad1d(2, 3.5), _randn(2, 3, 4)),
    Case("ConstantPad3d", lambda nn, T: nn.ConstantPad3d((1, 0, 0, 1, 1, 1), -1.0), _randn(1, 2, 2, 2, 2)),
    Case("ReflectionPad1d", lambda nn, T: nn.ReflectionPad1d((2, 1)), _randn(2, 3, 4)),
    Case("ReflectionPad2d", lambda nn, T: nn.ReflectionPad2d(1), _randn(1, 2, 3, 4)),
    Case("ReplicationPad2d", lambda nn, T: nn.ReplicationPad2d((0, 2, 1, 0)), _randn(1, 2, 3, 4)),
    Case("ReplicationPad3d", lambda nn, T: nn.ReplicationPad3d(1), _randn(1, 1, 2, 2, 2)),
    Case("CircularPad1d", lambda nn, T: nn.CircularPad1d(2), _randn(2, 3, 4)),
    Case("CircularPad2d", lambda nn, T: nn.CircularPad2d((1, 1, 0, 2)), _randn(1, 2, 3, 4)),
    # ---------------------------------------------------------------- losses
    Case("MSELoss", lambda nn, T: nn.MSELoss(), _pair(3, 4)),
    Case("MSELoss_sum", lambda nn, T: nn.MSELoss(reduction="sum"), _pair(3, 4)),
    Case("MSELoss_none", lambda nn, T: nn.MSELoss(reduction="none"), _pair(3, 4)),
    Case("L1Loss", lambda nn, T: nn.L1Loss(), _pair(3, 4)),
    Case("SmoothL1Loss", lambda nn, T: nn.SmoothL1Loss(beta=0.5), _pair(3, 4)),
    Case("HuberLoss", lambda nn, T: nn.HuberLoss(delta=0.7, reduction="sum"), _pair(3, 4)),
    Case("CrossEntropyLoss", lambda nn, T: nn.CrossEntropyLoss(), _cls(6, 4)),
    Case("CrossEntropyLoss_weighted", lambda nn, T: nn.CrossEntropyLoss(
        weight=_weight(T, [1.0, 2.0, 0.5, 1.5]), ignore_index=1, label_smoothing=0.1), _cls(8, 4)),
    Case("CrossEntropyLoss_2d_none", lambda nn, T: nn.CrossEntropyLoss(reduction="none"), _cls(2, 3, 4)),
    Case("CrossEntropyLoss_probs", lambda nn, T: nn.CrossEntropyLoss(label_smoothing=0.2),
         lambda r: [r.standard_normal((5, 3)), np.full((5, 3), 1 / 3) + r.standard_normal((5, 3)) * 0.01]),
    Case("NLLLoss", lambda nn, T: nn.NLLLoss(weight=_weight(T, [0.2, 1.0, 3.0])), _cls(6, 3)),
    Case("NLLLoss_sum", lambda nn, T: nn.NLLLoss(reduction="sum", ignore_index=0), _cls(6, 3)),
    Case("BCELoss", lambda nn, T: nn.BCELoss(weight=_weight(T, [1.0, 2.0, 0.5])),
         lambda r: [r.uniform(0.05, 0.95, (4, 3)), r.random((4, 3))], grad=(True, False)),
    Case("BCEWithLogitsLoss", lambda nn, T: nn.BCEWithLogitsLoss(weight=_weight(T, [1.0, 2.0, 0.5]),
                                                                 pos_weight=_weight(T, [3.0, 1.0, 0.5])),
         _pair(4, 3, target="prob")),
    Case("KLDivLoss", lambda nn, T: nn.KLDivLoss(reduction="batchmean"),
         lambda r: [np.log(r.dirichlet(np.ones(4), 3)), r.dirichlet(np.ones(4), 3)]),
    Case("KLDivLoss_logtarget", lambda nn, T: nn.KLDivLoss(reduction="sum", log_target=True),
         lambda r: [np.log(r.dirichlet(np.ones(4), 3)), np.log(r.dirichlet(np.ones(4), 3))]),
    Case("CosineEmbeddingLoss", lambda nn, T: nn.CosineEmbeddingLoss(margin=0.1),
         lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), np.array([1, -1, 1, -1, -1])]),
    Case("MarginRankingLoss", lambda nn, T: nn.MarginRankingLoss(margin=0.2),
         lambda r: [r.standard_normal(6), r.standard_normal(6), np.array([1.0, -1, 1, -1, 1, 1])]),
    Case("HingeEmbeddingLoss", lambda nn, T: nn.HingeEmbeddingLoss(margin=0.5), _pair(4, 3, target="pm1")),
    Case("SoftMarginLoss", lambda nn, T: nn.SoftMarginLoss(), _pair(4, 3, target="pm1"), grad=(True, False)),
    Case("MultiLabelSoftMarginLoss", lambda nn, T: nn.MultiLabelSoftMarginLoss(),
         lambda r: [r.standard_normal((4, 3)), (r.random((4, 3)) > 0.5).astype(np.float64)]),
    Case("MultiMarginLoss", lambda nn, T: nn.MultiMarginLoss(p=2, margin=0.5), _cls(5, 4)),
    Case("TripletMarginLoss", lambda nn, T: nn.TripletMarginLoss(margin=2.0),
         lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    Case("TripletMarginWithDistanceLoss", lambda nn, T: nn.TripletMarginWithDistanceLoss(margin=2.0, swap=True),
         lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    Case("PoissonNLLLoss", lambda nn, T: nn.PoissonNLLLoss(), lambda r: [r.standard_normal((4, 3)),
                                                                         r.poisson(2.0, (4, 3)).astype(float)],
         grad=(True, False)),
    Case("GaussianNLLLoss", lambda nn, T: nn.GaussianNLLLoss(),
         lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.uniform(0.5, 2, (4, 3))]),
    Case("PairwiseDistance", lambda nn, T: nn.PairwiseDistance(p=3.0), _pair(4, 5)),
    Case("CosineSimilarity", lambda nn, T: nn.CosineSimilarity(dim=1), _pair(4, 5)),
]


def _to_lib(arrays, lib, dtype, grad):
    out = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        if floating:
            a = a.astype(dtype)
        t = lib.tensor(a)
        if floating and (grad[i] if grad else True):
            t.requires_grad_(True)
        out.append(t)
    return out


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy()


def _close(a, b, tol, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_torch(case, dtype):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ndt = nerve.float32 if dtype == np.float32 else nerve.float64
    torch.manual_seed(0)
    tm = case.make(torch.nn, torch).to(tdt)
    nm = case.make(nnn, nerve).to(ndt)
    assert repr(nm) == repr(tm).replace("torch.", "nerve.")
    assert list(nm.state_dict()) == list(tm.state_dict())
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    tm.train(case.train)
    nm.train(case.train)
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    arrays = case.inputs(rng)
    ti = _to_lib(arrays, torch, dtype, case.grad)
    ni = _to_lib(arrays, nerve, dtype, case.grad)
    tol = dict(TOL[dtype], **(case.tol64 if dtype == np.float64 else {}))
    to, no = tm(*ti), nm(*ni)
    _close(_np(no), _np(to), tol, "output")
    assert no.dtype == ndt or no.dtype == nerve.int64
    if not to.requires_grad:
        return
    cot = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (to * torch.tensor(cot)).sum().backward()
    (no * nerve.tensor(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(ti, ni)):
        if a.requires_grad:
            assert (a.grad is None) == (b.grad is None), f"input {i} grad presence"
            if a.grad is not None:
                _close(_np(b.grad), _np(a.grad), tol, f"grad of input {i}")
    tparams = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        tg = tparams[name].grad
        assert (p.grad is None) == (tg is None), f"grad presence of {name}"
        if tg is not None:
            _close(_np(p.grad), _np(tg), tol, f"grad of parameter {name}")
    # Buffers updated in training mode (BatchNorm running statistics) agree too.
    for (name, b), (tname, tb) in zip(nm.named_buffers(), tm.named_buffers()):
        assert name == tname
        _close(_np(b), _np(tb), tol, f"buffer {name}")


# ---------------------------------------------------------------------------- default initialisation
def _stats(w):
    a = np.asarray(w.detach().numpy(), dtype=np.float64)
    return a.min(), a.max(), a.mean(), a.std()


@pytest.mark.parametrize("name,make,attr,kind,scale", [
    ("Linear", lambda nn: nn.Linear(400, 300), "weight", "uniform", 1 / math.sqrt(400)),
    ("Linear_bias", lambda nn: nn.Linear(400, 3000), "bias", "uniform", 1 / math.sqrt(400)),
    ("Bilinear", lambda nn: nn.Bilinear(50, 20, 100), "weight", "uniform", 1 / math.sqrt(50)),
    ("Embedding", lambda nn: nn.Embedding(1000, 100), "weight", "normal", 1.0),
])
def test_default_init_statistics(name, make, attr, kind, scale):
    nerve.manual_seed(0)
    torch.manual_seed(0)
    n_lo, n_hi, n_mean, n_std = _stats(getattr(make(nnn), attr))
    t_lo, t_hi, t_mean, t_std = _stats(getattr(make(torch.nn), attr))
    if kind == "uniform":
        assert -scale <= n_lo < -0.98 * scale and 0.98 * scale < n_hi <= scale
        assert abs(n_std - scale / math.sqrt(3)) < 0.03 * scale
    else:
        assert abs(n_std - scale) < 0.02 * scale
    assert abs(n_std - t_std) < 0.04 * t_std
    assert abs(n_mean) < 0.05 * scale and abs(t_mean) < 0.05 * scale


def test_default_init_constants():
    assert np.all(nnn.PReLU(3).weight.detach().numpy() == np.float32(0.25))
    ln = nnn.LayerNorm((2, 3))
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    bn = nnn.BatchNorm1d(4)
    assert np.all(bn.running_var.numpy() == 1) and np.all(bn.running_mean.numpy() == 0)
    assert bn.num_batches_tracked.dtype == nerve.int64 and bn.num_batches_tracked.item() == 0
    emb = nnn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4 and np.all(emb.weight.detach().numpy()[4] == 0)


def test_factory_kwargs_dtype():
    m = nnn.Linear(3, 2, dtype=nerve.float64)
    assert m.weight.dtype == nerve.float64 and m.bias.dtype == nerve.float64
    assert nnn.Embedding(4, 2, dtype=nerve.float64).weight.dtype == nerve.float64
    assert nnn.LayerNorm(3, dtype=nerve.float64).weight.dtype == nerve.float64


# ---------------------------------------------------------------------------- behaviour
def test_dropout_train_eval():
    nerve.manual_seed(0)
    d = nnn.Dropout(0.25)
    x = nerve.ones(200, 200)
    y = d(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nnn.Dropout(1.5)


def test_dropout_inside_model_follows_train_eval():
    m = nnn.Sequential(nnn.Linear(4, 4), nnn.Dropout(0.9))
    x = nerve.randn(64, 4)
    m.eval()
    a, b = m(x), m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    assert (m(x).detach().numpy() == 0).mean() > 0.5


def test_embedding_padding_gets_no_grad_and_from_pretrained():
    emb = nnn.Embedding(5, 3, padding_idx=1)
    out = emb(nerve.tensor([[1, 2], [1, 1]]))
    out.sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[1] == 0) and np.all(g[2] == 1)
    w = nerve.randn(4, 2)
    pre = nnn.Embedding.from_pretrained(w)
    assert not pre.weight.requires_grad and repr(pre) == "Embedding(4, 2)"
    with pytest.raises(IndexError, match=r"Embedding\(5, 3\) got index 7"):
        emb(nerve.tensor([7]))


def test_batchnorm_running_stats_and_eval_match_torch():
    torch.manual_seed(0)
    tb, nb = torch.nn.BatchNorm1d(3, momentum=0.3), nnn.BatchNorm1d(3, momentum=0.3)
    nb.load_state_dict(tb.state_dict())
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((8, 3)).astype(np.float32) * 3 + 1
        tb(torch.tensor(x))
        nb(nerve.tensor(x))
    for k, v in tb.state_dict().items():
        np.testing.assert_allclose(nb.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    tb.eval()
    nb.eval()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(nb(nerve.tensor(x)).detach().numpy(), tb(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expected 4D input"):
        nnn.BatchNorm2d(3)(nerve.randn(2, 3))


def test_batchnorm_loads_old_checkpoint_without_num_batches_tracked():
    bn = nnn.BatchNorm1d(2)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


def test_shape_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=4\) got input of shape \(2, 3\): last dim must be 4$"):
        nnn.Linear(4, 2)(nerve.randn(2, 3))
    m = nnn.Sequential(nnn.Linear(3, 3), nnn.LayerNorm(5))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(5,\)\) in model\.1 got input of shape \(2, 3\)"):
        m(nerve.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"Bilinear\(in1_features=2, in2_features=3\) got inputs"):
        nnn.Bilinear(2, 3, 1)(nerve.randn(4, 2), nerve.randn(4, 2))


def test_loss_weight_is_a_buffer():
    w = nerve.tensor([1.0, 2.0])
    ce = nnn.CrossEntropyLoss(weight=w)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert list(nnn.CrossEntropyLoss().state_dict()) == []
    bce = nnn.BCEWithLogitsLoss(pos_weight=w)
    assert list(bce.state_dict()) == ["pos_weight"]
    ce.double()
    assert ce.weight.dtype == nerve.float64
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nnn.MSELoss(size_average=False).reduction == "sum"
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nnn.HuberLoss(delta="1")


def test_inplace_activation():
    x = nerve.randn(3, 4)
    y = nnn.ReLU(inplace=True)(x)
    assert y is x and (x.numpy() >= 0).all()
    assert repr(nnn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nnn.LeakyReLU(0.1, inplace=True)) == "LeakyReLU(negative_slope=0.1, inplace=True)"


def test_unflatten_requires_ints():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nnn.Unflatten(1, 6)


def test_hardtanh_checks_range():
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        nnn.Hardtanh(1.0, 0.0)
