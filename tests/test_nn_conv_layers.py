"""nerve.nn convolution, pooling, resampling and normalisation layers against PyTorch.

Each case builds the same layer in both libraries (``make(nn)`` with ``nn`` = torch.nn or nerve.nn), checks
that ``repr`` and the state-dict keys agree, copies torch's weights into the nerve layer through
``state_dict``, and compares outputs, input gradients and parameter gradients in float32 and float64.
A small CNN trained for a few SGD steps from the same init ends with the same parameters in both.
"""
from __future__ import annotations

import inspect
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn
import nerve.nn.functional as NF

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@dataclass
class Case:
    id: str
    make: Callable                     # make(nn) -> module
    shape: tuple                       # input shape
    kwargs: dict = field(default_factory=dict)   # extra forward keyword arguments
    train: bool = False                # compare in training mode
    distinct: bool = False             # input values all distinct (max pooling: no ties)


def _c(id, make, shape, **kw):
    return Case(id, make, shape, **kw)


CASES = [
    # ---------------------------------------------------------------- convolutions
    _c("Conv1d", lambda nn: nn.Conv1d(2, 3, 3), (2, 2, 7)),
    _c("Conv1d_stride_pad_dil", lambda nn: nn.Conv1d(2, 4, 3, stride=2, padding=2, dilation=2), (2, 2, 9)),
    _c("Conv1d_groups_nobias", lambda nn: nn.Conv1d(4, 6, 2, groups=2, bias=False), (2, 4, 5)),
    _c("Conv1d_same", lambda nn: nn.Conv1d(2, 3, 4, padding="same"), (2, 2, 6)),
    _c("Conv1d_valid", lambda nn: nn.Conv1d(2, 3, 3, padding="valid"), (2, 2, 6)),
    _c("Conv1d_reflect", lambda nn: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 6)),
    _c("Conv1d_circular", lambda nn: nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 6)),
    _c("Conv1d_unbatched", lambda nn: nn.Conv1d(2, 3, 3, padding=1), (2, 6)),
    _c("Conv2d", lambda nn: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    _c("Conv2d_rect_stride", lambda nn: nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 0)), (2, 2, 6, 5)),
    _c("Conv2d_dilation", lambda nn: nn.Conv2d(1, 2, 3, dilation=(2, 1)), (1, 1, 7, 6)),
    _c("Conv2d_groups_nobias", lambda nn: nn.Conv2d(4, 4, 3, groups=4, bias=False), (2, 4, 5, 5)),
    _c("Conv2d_same_even", lambda nn: nn.Conv2d(2, 3, (4, 2), padding="same", dilation=(1, 2)), (1, 2, 6, 5)),
    _c("Conv2d_reflect", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 5, 4)),
    _c("Conv2d_replicate", lambda nn: nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="replicate"), (1, 2, 4, 4)),
    _c("Conv2d_circular", lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 4, 5)),
    _c("Conv2d_same_reflect", lambda nn: nn.Conv2d(2, 2, 3, padding="same", padding_mode="reflect"), (1, 2, 4, 4)),
    _c("Conv2d_unbatched", lambda nn: nn.Conv2d(2, 3, 3), (2, 5, 5)),
    _c("Conv2d_unbatched_circular", lambda nn: nn.Conv2d(2, 3, 2, padding=(1, 2), padding_mode="circular"),
       (2, 3, 4)),
    _c("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(2, 3, 3), (2, 2, 5)),
    _c("ConvTranspose1d_stride_opad", lambda nn: nn.ConvTranspose1d(2, 4, 3, stride=2, padding=1, output_padding=1,
                                                                    groups=2, dilation=1), (2, 2, 5)),
    _c("ConvTranspose1d_output_size", lambda nn: nn.ConvTranspose1d(2, 3, 3, stride=3, padding=1), (2, 2, 4),
       kwargs=dict(output_size=[12])),
    _c("ConvTranspose1d_unbatched", lambda nn: nn.ConvTranspose1d(2, 3, 2, dilation=2), (2, 5)),
    _c("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
    _c("ConvTranspose2d_stride_pad", lambda nn: nn.ConvTranspose2d(2, 3, (3, 2), stride=2, padding=1,
                                                                   output_padding=1), (2, 2, 3, 4)),
    _c("ConvTranspose2d_groups_dil_nobias", lambda nn: nn.ConvTranspose2d(4, 2, 3, groups=2, dilation=2, bias=False),
       (1, 4, 3, 3)),
    _c("ConvTranspose2d_output_size", lambda nn: nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), (1, 2, 3, 3),
       kwargs=dict(output_size=(1, 2, 6, 5))),
    # ---------------------------------------------------------------- pooling
    _c("MaxPool1d", lambda nn: nn.MaxPool1d(2), (2, 3, 7), distinct=True),
    _c("MaxPool1d_pad_dil_ceil", lambda nn: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
       (2, 2, 8), distinct=True),
    _c("MaxPool1d_indices", lambda nn: nn.MaxPool1d(3, 2, return_indices=True), (2, 2, 7), distinct=True),
    _c("MaxPool2d", lambda nn: nn.MaxPool2d(2), (2, 3, 4, 5), distinct=True),
    _c("MaxPool2d_stride_pad", lambda nn: nn.MaxPool2d((3, 2), stride=(2, 1), padding=1), (1, 2, 5, 4),
       distinct=True),
    _c("MaxPool2d_ceil_dil", lambda nn: nn.MaxPool2d(2, stride=2, dilation=(1, 2), ceil_mode=True), (1, 2, 5, 7),
       distinct=True),
    _c("MaxPool2d_indices_unbatched", lambda nn: nn.MaxPool2d(2, return_indices=True), (2, 4, 4), distinct=True),
    _c("AvgPool1d", lambda nn: nn.AvgPool1d(3, stride=2, padding=1), (2, 2, 7)),
    _c("AvgPool1d_nopad_count_ceil", lambda nn: nn.AvgPool1d(2, padding=1, ceil_mode=True, count_include_pad=False),
       (2, 2, 6)),
    _c("AvgPool2d", lambda nn: nn.AvgPool2d(2), (2, 3, 4, 5)),
    _c("AvgPool2d_pad_ceil", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                     count_include_pad=False), (1, 2, 6, 5)),
    _c("AvgPool2d_divisor", lambda nn: nn.AvgPool2d((2, 3), divisor_override=4), (2, 2, 4, 6)),
    _c("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), (2, 2, 7)),
    _c("AdaptiveAvgPool2d_global", lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 5)),
    _c("AdaptiveAvgPool2d_uneven", lambda nn: nn.AdaptiveAvgPool2d((3, 2)), (2, 2, 5, 7)),
    _c("AdaptiveAvgPool2d_none", lambda nn: nn.AdaptiveAvgPool2d((None, 2)), (1, 2, 3, 4)),
    _c("AdaptiveAvgPool2d_larger", lambda nn: nn.AdaptiveAvgPool2d((5, 4)), (1, 2, 3, 3)),
    _c("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), (2, 2, 7), distinct=True),
    _c("AdaptiveMaxPool1d_indices", lambda nn: nn.AdaptiveMaxPool1d(2, return_indices=True), (2, 5), distinct=True),
    _c("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3)), (2, 2, 5, 7), distinct=True),
    _c("AdaptiveMaxPool2d_indices", lambda nn: nn.AdaptiveMaxPool2d(2, return_indices=True), (1, 2, 4, 4),
       distinct=True),
    # ---------------------------------------------------------------- resampling, fold/unfold
    _c("Upsample_nearest", lambda nn: nn.Upsample(scale_factor=2), (2, 2, 3, 4)),
    _c("Upsample_nearest_size", lambda nn: nn.Upsample(size=(5, 7)), (1, 2, 3, 4)),
    _c("Upsample_nearest_exact", lambda nn: nn.Upsample(size=5, mode="nearest-exact"), (1, 2, 3, 4)),
    _c("Upsample_linear", lambda nn: nn.Upsample(scale_factor=1.5, mode="linear"), (2, 2, 4)),
    _c("Upsample_bilinear", lambda nn: nn.Upsample(scale_factor=(2, 1.5), mode="bilinear"), (1, 2, 3, 4)),
    _c("Upsample_bilinear_corners", lambda nn: nn.Upsample(size=(4, 7), mode="bilinear", align_corners=True),
       (1, 2, 3, 4)),
    _c("Upsample_area", lambda nn: nn.Upsample(size=(2, 3), mode="area"), (1, 2, 5, 7)),
    _c("Upsample_bilinear_recompute", lambda nn: nn.Upsample(scale_factor=1.7, mode="bilinear",
                                                             recompute_scale_factor=True), (1, 1, 3, 4)),
    _c("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 3)),
    _c("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=(5, 6)), (1, 2, 3, 4)),
    _c("Unfold", lambda nn: nn.Unfold(kernel_size=(2, 3)), (2, 2, 4, 5)),
    _c("Unfold_pad_stride_dil", lambda nn: nn.Unfold(2, dilation=2, padding=1, stride=2), (1, 2, 5, 5)),
    _c("Fold", lambda nn: nn.Fold(output_size=(4, 5), kernel_size=(2, 3)), (2, 12, 9)),
    _c("Fold_pad_stride", lambda nn: nn.Fold((5, 5), 2, padding=1, stride=2), (1, 8, 9)),
    # ---------------------------------------------------------------- padding, dropout, normalisation
    _c("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), (1, 2, 3, 3)),
    _c("Dropout2d_eval", lambda nn: nn.Dropout2d(0.5), (2, 3, 2, 2)),
    _c("BatchNorm2d_train", lambda nn: nn.BatchNorm2d(3), (4, 3, 2, 3), train=True),
    _c("BatchNorm2d_train_momentum_none", lambda nn: nn.BatchNorm2d(3, momentum=None), (4, 3, 2, 2), train=True),
    _c("BatchNorm2d_no_running_stats", lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 2)),
    _c("BatchNorm2d_noaffine_train", lambda nn: nn.BatchNorm2d(2, affine=False), (3, 2, 3, 3), train=True),
    _c("BatchNorm2d_eval", lambda nn: nn.BatchNorm2d(3), (2, 3, 2, 2)),
    _c("GroupNorm", lambda nn: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    _c("InstanceNorm2d_affine", lambda nn: nn.InstanceNorm2d(3, affine=True), (2, 3, 3, 4)),
    _c("LayerNorm_chw", lambda nn: nn.LayerNorm((2, 3, 3)), (2, 2, 3, 3)),
]


def _input(case, rng, dtype):
    n = int(np.prod(case.shape))
    if case.distinct:  # a permutation, spaced out: every window has a unique maximum
        a = rng.permutation(n).reshape(case.shape) / n * 4 - 2
    else:
        a = rng.standard_normal(case.shape)
    return a.astype(dtype)


def _np(t):
    return t.detach().numpy()


def _close(a, b, tol, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol)


def _load(nm, tm):
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_torch(case, dtype):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ndt = nerve.float32 if dtype == np.float32 else nerve.float64
    torch.manual_seed(0)
    tm = case.make(torch.nn).to(tdt)
    nm = case.make(nnn).to(ndt)
    assert repr(nm) == repr(tm)
    assert list(nm.state_dict()) == list(tm.state_dict())
    _load(nm, tm)
    tm.train(case.train)
    nm.train(case.train)
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    x = _input(case, rng, dtype)
    tx = torch.tensor(x, requires_grad=True)
    nx = nerve.tensor(x, requires_grad=True)
    tol = TOL[dtype]
    to, no = tm(tx, **case.kwargs), nm(nx, **case.kwargs)
    if isinstance(to, tuple):  # (values, indices)
        assert isinstance(no, tuple) and len(no) == 2
        np.testing.assert_array_equal(no[1].numpy(), to[1].numpy(), err_msg="indices")
        assert no[1].dtype == nerve.int64
        to, no = to[0], no[0]
    _close(_np(no), _np(to), tol, "output")
    assert no.dtype == ndt
    cot = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (to * torch.tensor(cot)).sum().backward()
    (no * nerve.tensor(cot)).sum().backward()
    _close(_np(nx.grad), _np(tx.grad), tol, "input grad")
    tparams = dict(tm.named_parameters())
    assert [n for n, _ in nm.named_parameters()] == list(tparams)
    for name, p in nm.named_parameters():
        _close(_np(p.grad), _np(tparams[name].grad), tol, f"grad of parameter {name}")
    for (name, b), (tname, tb) in zip(nm.named_buffers(), tm.named_buffers()):
        assert name == tname
        _close(_np(b), _np(tb), tol, f"buffer {name}")


# ---------------------------------------------------------------------------- reprs, init, factory kwargs
@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(1, 32, 3, padding=1),
    lambda nn: nn.Conv2d(3, 8, (3, 5), stride=2, padding="valid", dilation=2, groups=1, bias=False),
    lambda nn: nn.Conv1d(4, 8, 3, padding="same", groups=4, padding_mode="circular"),
    lambda nn: nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
    lambda nn: nn.ConvTranspose1d(4, 2, 3, dilation=3, bias=False),
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool2d((2, 3), stride=1, padding=(1, 0), dilation=2, ceil_mode=True),
    lambda nn: nn.MaxPool1d(3, return_indices=True),
    lambda nn: nn.AvgPool1d(3, 1, 1),
    lambda nn: nn.AvgPool2d(2, padding=1, divisor_override=3),
    lambda nn: nn.AdaptiveAvgPool2d((None, 7)),
    lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True),
    lambda nn: nn.Upsample(size=(3, 4), mode="bilinear", align_corners=False),
    lambda nn: nn.Upsample(scale_factor=(2, 3)),
    lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
    lambda nn: nn.Fold(4, 2, stride=2),
    lambda nn: nn.Unfold((2, 2), padding=1),
    lambda nn: nn.Dropout2d(0.3, inplace=True),
    lambda nn: nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(4, 2)),
])
def test_repr_matches_torch(make):
    assert repr(make(nnn)) == repr(make(torch.nn))


LAYERS = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Fold", "Unfold", "MaxPool1d", "MaxPool2d",
          "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
          "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Dropout1d", "Dropout2d", "ZeroPad2d"]


@pytest.mark.parametrize("name", LAYERS)
def test_signatures_match_torch(name):
    """Constructor and forward argument names (and so keyword calls) are PyTorch's."""
    n, t = getattr(nnn, name), getattr(torch.nn, name)
    assert list(inspect.signature(n).parameters) == list(inspect.signature(t).parameters)
    assert list(inspect.signature(n.forward).parameters) == list(inspect.signature(t.forward).parameters)


def _bound_stats(w):
    a = np.asarray(w.detach().numpy(), dtype=np.float64)
    return a.min(), a.max(), a.std()


@pytest.mark.parametrize("make,fan_in", [
    (lambda nn: nn.Conv2d(16, 64, 3), 16 * 9),
    (lambda nn: nn.Conv1d(12, 300, 5, groups=3), 4 * 5),
    (lambda nn: nn.ConvTranspose2d(64, 16, 3, groups=2), 8 * 9),
])
def test_default_init_is_torchs(make, fan_in):
    nerve.manual_seed(0)
    m = make(nnn)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    for name in ("weight", "bias"):
        lo, hi, std = _bound_stats(getattr(m, name))
        assert -bound <= lo and hi <= bound, name
        if name == "weight":
            assert lo < -0.97 * bound and hi > 0.97 * bound
            assert abs(std - bound / math.sqrt(3)) < 0.05 * bound
    t = make(torch.nn)
    assert tuple(m.weight.shape) == tuple(t.weight.shape) and tuple(m.bias.shape) == tuple(t.bias.shape)
    assert m.weight.dtype == nerve.float32
    m.reset_parameters()


def test_factory_dtype():
    m = nnn.Conv2d(2, 3, 3, dtype=nerve.float64)
    assert m.weight.dtype == nerve.float64 and m.bias.dtype == nerve.float64
    assert nnn.ConvTranspose1d(2, 3, 3, bias=False, dtype=nerve.float64).weight.dtype == nerve.float64


# ---------------------------------------------------------------------------- errors
def test_constructor_errors_match_torch():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nnn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nnn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nnn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nnn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nnn.Conv1d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nnn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


def test_shape_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"^Conv2d\(in_channels=3\) got input of shape \(2, 1, 5, 5\): "
                                           r"expected \(N, 3, H, W\) or \(3, H, W\)$"):
        nnn.Conv2d(3, 4, 3)(nerve.randn(2, 1, 5, 5))
    model = nnn.Sequential(nnn.Conv1d(2, 4, 3), nnn.ReLU(), nnn.Conv1d(2, 4, 3))
    with pytest.raises(RuntimeError, match=r"^Conv1d\(in_channels=2\) in model\.2 got input of shape \(1, 4, 5\)"):
        model(nerve.randn(1, 2, 7))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(in_channels=2\) got input of shape \(2, 2\)"):
        nnn.ConvTranspose2d(2, 1, 3)(nerve.randn(2, 2))
    model = nnn.Sequential(nnn.Flatten(), nnn.MaxPool2d(2))
    with pytest.raises(RuntimeError, match=r"MaxPool2d\(kernel_size=2, .*\) in model\.1 got input of shape \(2, 12\)"):
        model(nerve.randn(2, 3, 4))


def test_conv_transpose_output_size_errors():
    m = nnn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    x = nerve.randn(1, 1, 3, 3)
    assert tuple(m(x, output_size=[6, 6]).shape) == (1, 1, 6, 6)
    assert tuple(m(x[0], output_size=(1, 5, 6)).shape) == (1, 5, 6)
    with pytest.raises(ValueError, match=r"requested an output size of \[7, 5\], but valid sizes range from "
                                         r"\[5, 5\] to \[6, 6\]"):
        m(x, output_size=[7, 5])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        m(x, output_size=[7])


# ---------------------------------------------------------------------------- behaviour
def test_dropout2d_zeroes_whole_channels():
    nerve.manual_seed(0)
    d = nnn.Dropout2d(0.5)
    y = d(nerve.ones(64, 8, 3, 3)).numpy()
    per_channel = y.reshape(64, 8, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.1
    d.eval()
    x = nerve.randn(2, 3, 2, 2)
    assert d(x) is x


def test_batchnorm2d_running_stats_match_torch_over_steps():
    """Running averages over several batches: exponential (momentum 0.3) and cumulative (momentum=None)."""
    rng = np.random.default_rng(1)
    for momentum in (0.3, None):
        torch.manual_seed(0)
        tb, nb = torch.nn.BatchNorm2d(3, momentum=momentum), nnn.BatchNorm2d(3, momentum=momentum)
        _load(nb, tb)
        for _ in range(4):
            x = (rng.standard_normal((4, 3, 2, 3)) * 2 + 1).astype(np.float32)
            np.testing.assert_allclose(nb(nerve.tensor(x)).detach().numpy(), tb(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-4, atol=1e-5)
        for k, v in tb.state_dict().items():
            np.testing.assert_allclose(nb.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
        tb.eval()
        nb.eval()
        x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
        np.testing.assert_allclose(nb(nerve.tensor(x)).detach().numpy(), tb(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_functional_reexports():
    for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
                 "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
                 "adaptive_max_pool2d", "unfold", "fold", "interpolate", "pad", "dropout1d", "dropout2d",
                 "dropout3d"):
        assert callable(getattr(NF, name)) and name in NF.__all__, name
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 2, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(NF.conv2d(nerve.tensor(x), nerve.tensor(w), padding=1).numpy(),
                               torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy(),
                               rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- a small CNN, trained
def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(6 * 2 * 2, 3),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_small_cnn_trains_like_torch(dtype):
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ndt = nerve.float32 if dtype == np.float32 else nerve.float64
    torch.manual_seed(0)
    tm = _cnn(torch.nn).to(tdt)
    nm = _cnn(nnn).to(ndt)
    assert list(nm.state_dict()) == list(tm.state_dict())
    _load(nm, tm)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    nopt = nerve.optim.SGD(nm.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    for step in range(3):
        x = rng.standard_normal((8, 1, 8, 8)).astype(dtype)
        y = rng.integers(0, 3, 8)
        topt.zero_grad()
        tl = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        tl.backward()
        topt.step()
        nopt.zero_grad()
        nl = NF.cross_entropy(nm(nerve.tensor(x)), nerve.tensor(y))
        nl.backward()
        nopt.step()
        np.testing.assert_allclose(nl.item(), tl.item(), err_msg=f"loss at step {step}", **tol)
    tsd = tm.state_dict()
    for k, v in nm.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tsd[k].numpy(), err_msg=k, **tol)
    tm.eval()
    nm.eval()
    x = rng.standard_normal((2, 1, 8, 8)).astype(dtype)
    np.testing.assert_allclose(nm(nerve.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), **tol)


def test_gradient_penalty_through_conv_layers_matches_torch():
    """Second derivatives through the layers (create_graph=True), as a WGAN-GP gradient penalty uses them."""
    def net(nn):
        return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.Tanh(), nn.AvgPool2d(2),
                             nn.ConvTranspose2d(3, 2, 2, stride=2), nn.Upsample(scale_factor=2, mode="bilinear"))
    torch.manual_seed(0)
    tm, nm = net(torch.nn).double(), net(nnn).double()
    _load(nm, tm)
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4))
    tx, nx = torch.tensor(x, requires_grad=True), nerve.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((tm(tx) ** 2).sum(), tx, create_graph=True)
    (ng,) = nerve.autograd.grad((nm(nx) ** 2).sum(), nx, create_graph=True)
    np.testing.assert_allclose(ng.detach().numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    (tg ** 2).sum().backward()
    (ng ** 2).sum().backward()
    tparams = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
