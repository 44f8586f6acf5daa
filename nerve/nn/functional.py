"""Stateless neural-network functions (``torch.nn.functional``).

Everything here is a composite of differentiable nerve ops, so gradients (and second derivatives)
come for free; the few numerically delicate pieces (softmax, cross-entropy, BCE with logits,
softplus, layer norm, index picks, padding) are fused primitives in ``nerve.ops.nnops``.

Losses take ``reduction='mean' | 'sum' | 'none'`` (and the deprecated ``size_average``/``reduce``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.tensor import wrap
from ..backend.random import rng as _rng
from ..ops import nnops as _nn
from ..ops._helpers import wrap_dim, xp_of
# Convolution, pooling, fold/unfold and interpolate are ops (nerve.ops.conv, nerve.ops.pool), re-exported here.
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ..ops.elementwise import (
    _check_inplace, abs as _abs, apply_inplace, clamp, erf, exp, expm1, log, mul_, pow as _pow, relu as _relu,
    rsqrt, sigmoid as _sigmoid, sqrt, tanh as _tanh, where,
)
from ..ops.linalg import matmul
from ..ops.pool import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, fold,
    interpolate, max_pool1d, max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, unfold, upsample,
    upsample_bilinear, upsample_nearest,
)
from ..ops.shape import broadcast_tensors, reshape

__all__ = [
    "multi_head_attention_forward",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "alpha_dropout",
    "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "celu", "celu_", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "cosine_embedding_loss",
    "cosine_similarity", "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "elu_", "embedding",
    "feature_alpha_dropout", "fold", "gaussian_nll_loss", "gelu", "glu", "group_norm", "gumbel_softmax", "hardshrink",
    "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "hinge_embedding_loss", "huber_loss", "instance_norm",
    "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_", "linear", "log_softmax",
    "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
    "max_pool2d_with_indices", "mish", "mse_loss", "multi_margin_loss", "multilabel_soft_margin_loss", "nll_loss",
    "normalize", "one_hot", "pad", "pairwise_distance", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_",
    "rms_norm", "rrelu", "rrelu_", "scaled_dot_product_attention", "selu", "selu_", "sigmoid", "silu", "smooth_l1_loss",
    "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold",
    "threshold_", "triplet_margin_loss", "unfold", "upsample", "upsample_bilinear", "upsample_nearest",
]


def _shape(t):
    return tuple(t._data.shape)


def _inplace(input, compute, name):
    """Run ``compute()`` and write the result into ``input`` (PyTorch's ``inplace=True``)."""
    _check_inplace(input, name)
    return apply_inplace(input, compute(), name)


# ============================================================================ linear
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``.

    Shape: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features).
    """
    wd = weight._data
    in_f = wd.shape[-1] if wd.ndim else None
    if wd.ndim not in (1, 2) or input._data.ndim == 0 or input._data.shape[-1] != in_f:
        raise RuntimeError(f"linear: input of shape {_shape(input)} does not match weight of shape {tuple(wd.shape)}: "
                           f"last dim must be {in_f}")
    if wd.ndim == 1:
        out = matmul(input, weight)
        return out + bias if bias is not None else out
    return _nn.linear(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_o = x1^T W_o x2 + b_o`` for weight of shape (out, in1, in2)."""
    o, i1, i2 = weight._data.shape
    s1, s2 = _shape(input1), _shape(input2)
    if s1[-1:] != (i1,) or s2[-1:] != (i2,) or s1[:-1] != s2[:-1]:
        raise RuntimeError(f"bilinear: inputs of shape {s1} and {s2} do not match weight of shape {(o, i1, i2)}: "
                           f"expected (*, {i1}) and (*, {i2}) with the same leading dims")
    w = reshape(weight.permute(1, 0, 2), (i1, o * i2))
    t = reshape(matmul(input1, w), s1[:-1] + (o, i2))
    out = (t * input2.unsqueeze(-2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out


# ============================================================================ activations
def relu(input, inplace=False):
    """max(x, 0). Gradient: g where x > 0."""
    if inplace:
        return relu_(input)
    return _relu(input)


def relu_(input):
    return _inplace(input, lambda: _relu(input), "relu_")


def _hardtanh(input, lo, hi):
    d = input._data
    # Strict bounds: PyTorch passes no gradient at x == min_val or x == max_val.
    return where((d > lo) & (d < hi), input, xp_of(d).clip(d, lo, hi).astype(d.dtype, copy=False))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val). Gradient: g where min_val < x < max_val."""
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _inplace(input, lambda: _hardtanh(input, min_val, max_val), "hardtanh_")


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky(input, slope):
    return where(input > 0, input, input * slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    return _leaky(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _inplace(input, lambda: _leaky(input, negative_slope), "leaky_relu_")


def _elu(input, alpha, scale=1.0, inv_alpha=False):
    # expm1 of clamp(x, max=0): the unused branch never overflows, so its zero gradient is not nan.
    neg = clamp(input, max=0)
    neg = alpha * expm1(neg / alpha if inv_alpha else neg)
    out = where(input > 0, input, neg)
    return out * scale if scale != 1.0 else out


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    if inplace:
        return elu_(input, alpha)
    return _elu(input, alpha)


def elu_(input, alpha=1.0):
    return _inplace(input, lambda: _elu(input, alpha), "elu_")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    if inplace:
        return selu_(input)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE)


def selu_(input):
    return _inplace(input, lambda: _elu(input, _SELU_ALPHA, _SELU_SCALE), "selu_")


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    if inplace:
        return celu_(input, alpha)
    return _elu(input, alpha, inv_alpha=True)


def celu_(input, alpha=1.0):
    return _inplace(input, lambda: _elu(input, alpha, inv_alpha=True), "celu_")


_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def gelu(input, approximate="none"):
    """x * Phi(x); ``approximate='tanh'``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return input * (erf(input * _SQRT1_2) + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * _SQRT_2_PI
        return input * (_tanh(inner) + 1) * 0.5
    raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    if inplace:
        return _inplace(input, lambda: input * _sigmoid(input), "silu_")
    return input * _sigmoid(input)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return _inplace(input, lambda: input * _tanh(_nn.softplus(input, threshold=None)), "mish_")
    return input * _tanh(_nn.softplus(input, threshold=None))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    return _nn.softplus(input, beta, threshold)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (_abs(input) + 1)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6. Gradient: g / 6 where -3 < x < 3."""
    if inplace:
        return _inplace(input, lambda: _hardtanh(input + 3, 0.0, 6.0) / 6, "hardsigmoid_")
    return _hardtanh(input + 3, 0.0, 6.0) / 6


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, lambda: input * (_hardtanh(input + 3, 0.0, 6.0) / 6), "hardswish_")
    return input * (_hardtanh(input + 3, 0.0, 6.0) / 6)


def sigmoid(input):
    return _sigmoid(input)


def tanh(input):
    return _tanh(input)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -_nn.softplus(-input, threshold=None)


def _softmax_dim(name, input, dim, stacklevel):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", stacklevel=stacklevel)
        dim = _nn.implicit_softmax_dim(input._data.ndim)
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along ``dim`` (see ``nerve.softmax``)."""
    return _nn.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Log-softmax along ``dim`` (see ``nerve.log_softmax``)."""
    return _nn.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x)."""
    return _nn.softmax(-input, _softmax_dim("softmin", input, dim, _stacklevel), dtype)


def _threshold(input, threshold, value):
    return where(input > threshold, input, value)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    if inplace:
        return threshold_(input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    return _inplace(input, lambda: _threshold(input, threshold, value), "threshold_")


def _halves(input, dim, op):
    d = input._data
    if d.ndim == 0:
        raise RuntimeError(f"{op} does not support scalars because halving size must be even")
    dim = wrap_dim(dim, d.ndim, op)
    n = d.shape[dim]
    if n % 2:
        raise RuntimeError(f"{op}: halving dimension must be even, but dimension {dim} of input {tuple(d.shape)} "
                           f"is size {n}")
    h = n // 2
    wa = [(0, 0)] * d.ndim
    wb = list(wa)
    wa[dim] = (0, -h)
    wb[dim] = (-h, 0)
    return _nn.pad_constant(input, wa), _nn.pad_constant(input, wb)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    a, b = _halves(input, dim, "glu")
    return a * _sigmoid(b)


def prelu(input, weight):
    """x if x > 0 else weight * x, with one weight per channel (dim 1) or a single shared one."""
    wd = weight._data
    nd = input._data.ndim
    k = wd.size
    if k != 1:
        ch = input._data.shape[1] if nd >= 2 else 1
        if k != ch:
            raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {k} and channel size = {ch} (input of shape {_shape(input)})")
        w = reshape(weight, (k,) + (1,) * (nd - 2))
    else:
        w = reshape(weight, (1,) * nd)
    return where(input > 0, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: slope ~ U(lower, upper) per element when training, else their mean."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def compute():
        d = input._data
        a = _rng().uniform(lower, upper, size=d.shape).astype(d.dtype)
        a = xp_of(d).asarray(a)
        return where(input >= 0, input, input * a)
    if inplace:
        return _inplace(input, compute, "rrelu_")
    return compute()


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def hardshrink(input, lambd=0.5):
    """x if |x| > lambd else 0."""
    return where((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input, lambd=0.5):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def tanhshrink(input):
    """x - tanh(x)."""
    return input - _tanh(input)


# ============================================================================ reductions of losses
def _reduction(size_average, reduce, reduction, extra=()):
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else size_average
        rd = True if reduce is None else reduce
        reduction = "mean" if (sa and rd) else ("sum" if rd else "none")
    if reduction not in ("mean", "sum", "none") + tuple(extra):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if _shape(input) != _shape(target):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", stacklevel=3)


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    """PyTorch's optional elementwise ``weight`` of the regression losses."""
    if _shape(weight) != _shape(input):
        raise ValueError(f"Weights and input must have the same size: weight {_shape(weight)}, input {_shape(input)}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean((x - y)^2)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = d * d
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean(|x - y|)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = _abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    ad = _abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    _size_warning(input, target)
    reduction = _reduction(None, None, reduction)
    d = input - target
    ad = _abs(d)
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, mean_by_weight=False)
    return _reduce(loss, reduction)


# ============================================================================ classification losses
def _class_setup(input, target, weight, ignore_index, op):
    """Validate class-index targets; returns (class dim, C, valid mask, targets with ignored set to 0, w[y])."""
    d = input._data
    if d.ndim == 0:
        raise RuntimeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    cdim = 0 if d.ndim == 1 else 1
    C = d.shape[cdim]
    td = target._data
    if td.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected class-index targets of an integer dtype (int64), got {target.dtype} of "
                           f"shape {tuple(td.shape)}; probability targets must have the input's shape {tuple(d.shape)}")
    expected = d.shape[:1] + d.shape[2:] if d.ndim >= 2 else ()
    if td.shape != expected:
        if d.ndim >= 2 and td.ndim >= 1 and td.shape[0] != d.shape[0]:
            raise ValueError(f"{op}: Expected input batch_size ({d.shape[0]}) to match target batch_size "
                             f"({td.shape[0]}): input of shape {tuple(d.shape)}, target of shape {tuple(td.shape)}")
        raise RuntimeError(f"{op}: input of shape {tuple(d.shape)} and target of shape {tuple(td.shape)} do not match: "
                           f"for {C} classes in dim {cdim}, the target must have shape {expected}")
    xp = xp_of(d)
    valid = td != ignore_index
    bad = valid & ((td < 0) | (td >= C))
    if bool(bad.any()):
        v = int(td[bad].reshape(-1)[0])
        raise IndexError(f"{op}: Target {v} is out of bounds: the input of shape {tuple(d.shape)} has {C} classes "
                         f"(dim {cdim}), so targets must be in [0, {C - 1}] (or ignore_index={ignore_index})")
    safe = xp.where(valid, td, 0)
    if weight is not None:
        wd = weight._data
        if wd.shape != (C,):
            raise RuntimeError(f"{op}: weight tensor should be defined either for all {C} classes or no classes "
                               f"but got weight tensor of shape: {list(wd.shape)}")
        wy = wd.astype(d.dtype, copy=False)[safe] * valid
    else:
        wy = valid.astype(d.dtype)
    return cdim, C, valid, safe, wy


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities.

    Shape: input (N, C) or (N, C, d1, ...) or (C,); target (N,) / (N, d1, ...) / () of class indices.
    ``mean`` divides by the summed weights of the non-ignored targets.
    """
    reduction = _reduction(size_average, reduce, reduction)
    cdim, C, valid, safe, wy = _class_setup(input, target, weight, ignore_index, "nll_loss")
    xp = xp_of(input._data)
    picked = _nn.pick(input, cdim, xp.expand_dims(safe, cdim))
    picked = reshape(picked, safe.shape)
    loss = where(valid, picked * (-wy), 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wy.sum()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between logits and class-index or class-probability targets.

    ``loss = -sum_c w_c t_c log softmax(x)_c`` with ``t`` the one-hot target (or the given
    probabilities), smoothed as ``t (1 - eps) + eps / C``.

    Shape: input (N, C), (N, C, d1, ...) or (C,). Target: class indices (N,) / (N, d1, ...) / () with
    ``ignore_index``; or probabilities of the input's shape. For class indices ``mean`` divides by
    the summed weights of the non-ignored targets; for probabilities by the number of samples.

    Example:
        >>> F.cross_entropy(logits, labels, label_smoothing=0.1)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    d = input._data
    if d.ndim == 0:
        raise RuntimeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    cdim = 0 if d.ndim == 1 else 1
    C = d.shape[cdim]
    xp = xp_of(d)
    bshape = [1] * d.ndim
    bshape[cdim] = C
    eps = float(label_smoothing)
    if target._data.dtype.kind == "f":
        if target._data.shape != d.shape:
            raise RuntimeError(f"cross_entropy: probability targets must have the input's shape: input of shape "
                               f"{tuple(d.shape)}, target of shape {_shape(target)} ({target.dtype}); class-index "
                               "targets must be an int64 tensor")
        if weight is not None and weight._data.shape != (C,):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {C} classes or no "
                               f"classes but got weight tensor of shape: {list(weight._data.shape)}")
        t = target
        if eps > 0:
            t = t * (1 - eps) + eps / C
        if weight is not None:
            t = t * reshape(weight, tuple(bshape))
        if gm.enabled and t.requires_grad:
            loss = -(_nn.log_softmax(input, cdim) * t).sum(cdim)
        else:
            loss = _nn.softmax_cross_entropy(input, cdim, wmat=t._data.astype(d.dtype, copy=False))
        if reduction == "mean":
            return loss.sum() / (d.size // C if C else 0)
        return _reduce(loss, reduction)
    cdim, C, valid, safe, wy = _class_setup(input, target, weight, ignore_index, "cross_entropy")
    idx = xp.expand_dims(safe, cdim)
    if eps:
        onehot = xp.arange(C).reshape(bshape) == idx
        wc = weight._data.astype(d.dtype, copy=False).reshape(bshape) if weight is not None else 1.0
        wmat = onehot * xp.expand_dims(wy * (1 - eps), cdim) + xp.expand_dims(valid, cdim) * (wc * (eps / C))
        loss = _nn.softmax_cross_entropy(input, cdim, wmat=wmat.astype(d.dtype, copy=False))
    else:
        loss = _nn.softmax_cross_entropy(input, cdim, idx=idx, wy=wy)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wy.sum()


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y log x + (1 - y) log(1 - x)), with each log clamped to >= -100 (as PyTorch)."""
    reduction = _reduction(size_average, reduce, reduction)
    if _shape(target) != _shape(input):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    d = input._data
    if d.size and bool(((d < 0) | (d > 1)).any()):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid, "
                           "or use binary_cross_entropy_with_logits on the raw scores)")
    lx = clamp(log(input), min=-100)
    l1x = clamp(log(1 - input), min=-100)
    loss = -(target * lx + (1 - target) * l1x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """BCE on logits: ``(1 - y) x + (1 + (pos_weight - 1) y) log(1 + e^-x)``, stable for any x."""
    reduction = _reduction(size_average, reduce, reduction)
    if _shape(target) != _shape(input):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    loss = _nn.bce_with_logits(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: ``t (log t - x)`` (``exp(t) (t - x)`` with log_target).

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical KL divergence).
    """
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    reduction = _reduction(size_average, reduce, reduction, ("batchmean",))
    if log_target:
        loss = exp(target) * (target - input)
    else:
        # xlogy(t, t): 0 where t == 0, with a finite (zero) gradient there.
        loss = target * log(where(target == 0, 1.0, target)) - target * input
    if reduction == "batchmean":
        s = loss.sum()
        return s / input._data.shape[0] if input._data.ndim else s
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson NLL: ``exp(x) - y x`` (log_input) or ``x - y log(x + eps)``; ``full`` adds Stirling's term."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        big = target > 1
        t = where(big, target, 2.0)  # keep log() finite in the masked-out branch
        stirling = t * log(t) - t + log(t * (2 * math.pi)) * 0.5
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(var) + (x - y)^2 / var) (+ 0.5 log(2 pi) if full); var is clamped to >= eps."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = wrap(xp_of(input._data).full(input._data.shape, float(var), dtype=input._data.dtype))
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    vs, xs = _shape(var), _shape(input)
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif not (len(xs) == len(vs) and sum(b for a, b in zip(xs, vs) if a != b) == 1):
            raise ValueError(f"var is of incorrect size: var {vs}, input {xs}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    vd = var._data
    var = _nn.straight_through(var, xp_of(vd).maximum(vd, eps).astype(vd.dtype, copy=False))
    d = input - target
    loss = (log(var) + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = clamp(margin - input, min=0)
    loss = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(_nn.softplus(-target * input, threshold=None), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y == 1, max(0, cos(x1, x2) - margin) where y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + eps
    m2 = (input2 * input2).sum(-1) + eps
    cos = prod / sqrt(m1 * m2)
    zeros = cos * 0
    loss = where(target == 1, 1 - cos, zeros) + where(target == -1, clamp(cos - margin, min=0), zeros)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance."""
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_s = pairwise_distance(positive, negative, p, eps)
        d_neg = where(d_s < d_neg, d_s, d_neg)
    return _reduce(clamp(d_pos - d_neg + margin, min=0), reduction)


# ============================================================================ distances, normalisation
def _norm(x, p, dim, keepdim):
    """p-norm along ``dim`` whose gradient is 0 (not nan) at a zero vector, like PyTorch's."""
    if p == 2:
        s = (x * x).sum(dim, keepdim=keepdim)
        nz = s._data > 0
        return where(nz, sqrt(where(nz, s, 1.0)), 0.0)
    if p == 1:
        return _abs(x).sum(dim, keepdim=keepdim)
    if p == math.inf or p == -math.inf:
        a = _abs(x)
        ad = a._data
        m = ad.max(axis=dim, keepdims=True) if p > 0 else ad.min(axis=dim, keepdims=True)
        hit = (ad == m).astype(ad.dtype)
        hit /= hit.sum(axis=dim, keepdims=True)  # ties share the gradient, as amax
        return (a * hit).sum(dim, keepdim=keepdim)
    if p == 0:
        return wrap((x._data != 0).sum(axis=dim, keepdims=keepdim).astype(x._data.dtype))
    s = _pow(_abs(x), p).sum(dim, keepdim=keepdim)
    nz = s._data > 0
    return where(nz, _pow(where(nz, s, 1.0), 1.0 / p), 0.0)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (inputs broadcast)."""
    x1, x2 = broadcast_tensors(x1, x2)
    dim = wrap_dim(dim, x1._data.ndim, "cosine_similarity")
    n1 = _norm(x1, 2, dim, True)
    n2 = _norm(x2, 2, dim, True)
    # PyTorch clamps the norms under no_grad: the value changes, the gradient does not.
    n1 = _nn.straight_through(n1, xp_of(n1._data).maximum(n1._data, eps).astype(n1._data.dtype, copy=False))
    n2 = _nn.straight_through(n2, xp_of(n2._data).maximum(n2._data, eps).astype(n2._data.dtype, copy=False))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim."""
    diff = x1 - x2 + eps
    if diff._data.ndim == 0:
        diff = diff.unsqueeze(0)
    return _norm(diff, p, -1 if diff._data.ndim else 0, keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along ``dim``."""
    dim = wrap_dim(dim, input._data.ndim, "normalize")
    denom = clamp(_norm(input, p, dim, True), min=eps)
    return input / denom


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each class index."""
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got {tensor.dtype}")
    xp = xp_of(d)
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if int(d.min()) < 0:
            raise RuntimeError("one_hot: Class values must be non-negative.")
        if int(d.max()) >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}), got "
                               f"{int(d.max())}.")
    return wrap((xp.expand_dims(d, -1) == xp.arange(num_classes)).astype(np.int64))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims: ``(x - mean) / sqrt(var + eps) * w + b``."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    xs = _shape(input)
    k = len(ns)
    if k == 0 or xs[len(xs) - k:] != ns or len(xs) < k:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(xs)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and _shape(t) != ns:
            raise RuntimeError(f"layer_norm: expected {name} of shape {list(ns)} (normalized_shape), got "
                               f"{list(_shape(t))}")
    return _nn.layer_norm(input, k, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * w over the trailing ``normalized_shape`` dims."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    xs = _shape(input)
    k = len(ns)
    if k == 0 or xs[len(xs) - k:] != ns:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(xs)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(len(xs) - k, len(xs)))
    out = input * rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return out * weight if weight is not None else out


def _update_running(running, stat, momentum):
    """``running = (1 - momentum) * running + momentum * stat`` in place, outside the graph."""
    rd = running._data
    rd *= 1 - momentum
    rd += (momentum * stat).astype(rd.dtype, copy=False)
    running._vc[0] += 1


def _channel_view(t, nd):
    return reshape(t, (-1,) + (1,) * (nd - 2))


def _affine(out, weight, bias, nd):
    if weight is not None:
        out = out * _channel_view(weight, nd)
    if bias is not None:
        out = out + _channel_view(bias, nd)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims.

    Training (or no running stats): batch statistics, and ``running_*`` (if given) are updated in
    place with ``momentum`` (running_var with the unbiased variance). Evaluation: running statistics.
    """
    d = input._data
    nd = d.ndim
    if nd < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {_shape(input)}")
    if d.dtype.kind != "f":
        raise NotImplementedError(f'"batch_norm" not implemented for {input.dtype}: pass a floating-point tensor')
    count = d.size // d.shape[1] if d.shape[1] else 0
    if training:
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if training:
        # one fused node (nnops.batch_norm_train): two reductions and two elementwise passes forward
        out, mean, var = _nn.batch_norm_train(input, weight, bias, eps)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var * (count / (count - 1)), momentum)
        return out
    # evaluation: one per-channel affine, x * (w * rstd) + (b - mean * w * rstd)
    scale = rsqrt(running_var.detach() + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.detach() * scale
    if bias is not None:
        shift = shift + bias
    return input * _channel_view(scale, nd) + _channel_view(shift, nd)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) over its spatial dims."""
    d = input._data
    nd = d.ndim
    if nd < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, ...), got {_shape(input)}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = d.size // (d.shape[0] * d.shape[1]) if d.shape[0] * d.shape[1] else 0
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    flat = reshape(input, d.shape[:2] + (spatial,))
    out = reshape(_nn.layer_norm(flat, 1, None, None, eps), d.shape)
    if running_mean is not None or running_var is not None:
        f = flat._data
        if running_mean is not None:
            _update_running(running_mean, f.mean(axis=(0, 2)), momentum)
        if running_var is not None:
            _update_running(running_var, f.var(axis=2, ddof=1).mean(axis=0), momentum)
    return _affine(out, weight, bias, nd)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise over groups of channels (and the spatial dims), then a per-channel affine."""
    d = input._data
    if d.ndim < 2 or d.shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(d.shape)} and num_groups={num_groups}")
    grouped = reshape(input, (d.shape[0], num_groups, -1))
    out = reshape(_nn.layer_norm(grouped, 1, None, None, eps), d.shape)
    return _affine(out, weight, bias, d.ndim)


def multi_head_attention_forward(*args, **kwargs):
    """Multi-head attention with explicit weights, as ``torch.nn.functional.multi_head_attention_forward``
    (see :func:`nerve.nn.modules.attention.multi_head_attention_forward`)."""
    from .modules.attention import multi_head_attention_forward as f  # noqa: PLC0415 - modules import functional
    return f(*args, **kwargs)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(q k^T * scale + mask) v`` over the last two dims (PyTorch's math reference).

    ``attn_mask``: bool (True = attend) or float (added to the scores), broadcast to (..., L, S).
    ``is_causal``: query i attends to keys j <= i (top-left aligned when L != S); not together with
    ``attn_mask`` (PyTorch's math kernel raises too). ``scale`` defaults to ``1/sqrt(E)``. ``enable_gqa``: key/value with fewer heads
    (dim -3) are repeated to the query's head count. Fully masked rows give zeros (and zero
    gradients), as PyTorch on CPU. Computed by one fused node (``nerve.ops.attention``) unless the
    mask itself requires grad.
    Shape: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    Example:
        >>> q = k = v = nerve.randn(2, 4, 16, 8)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        nerve.Size([2, 4, 16, 8])
    """
    from ..ops import attention as _attn_ops  # noqa: PLC0415

    qd, kd, vd = query._data, key._data, value._data
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query {_shape(query)}, key {_shape(key)} and value "
                           f"{_shape(value)} need at least 2 dims (..., L, E)")
    if not (qd.dtype == kd.dtype == vd.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    L, S, E = qd.shape[-2], kd.shape[-2], qd.shape[-1]
    if kd.shape[-1] != E:
        raise RuntimeError(f"scaled_dot_product_attention: query of shape {_shape(query)} and key of shape "
                           f"{_shape(key)} must have the same last dim")
    if vd.shape[-2] != S:
        raise RuntimeError(f"scaled_dot_product_attention: key of shape {_shape(key)} and value of shape "
                           f"{_shape(value)} must have the same sequence length (dim -2)")
    if enable_gqa and qd.ndim >= 3 and kd.ndim >= 3 and kd.shape[-3] != qd.shape[-3]:
        hq, hk, hv = qd.shape[-3], kd.shape[-3], vd.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the query's {hq} heads must be a "
                               f"multiple of the key's {hk} and the value's {hv} (dim -3)")
        key, value = (reshape(t.unsqueeze(-3).expand(_shape(t)[:-2] + (hq // _shape(t)[-3],) + _shape(t)[-2:]),
                              _shape(t)[:-3] + (hq,) + _shape(t)[-2:]) for t in (key, value))
        kd, vd = key._data, value._data
    batch = qd.shape[:-2]
    if kd.shape[:-2] != batch or vd.shape[:-2] != batch:
        try:
            batch = tuple(np.broadcast_shapes(qd.shape[:-2], kd.shape[:-2], vd.shape[:-2]))
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention: the batch dims of query {_shape(query)}, key "
                               f"{_shape(key)} and value {_shape(value)} cannot be broadcast together") from None
        query, key, value = (t if t._data.shape[:-2] == batch else t.expand(batch + _shape(t)[-2:])
                             for t in (query, key, value))
    s = (1.0 / math.sqrt(E)) if scale is None else float(scale)
    md = grad_mask = None
    if attn_mask is not None:
        md = attn_mask._data
        if md.dtype != np.bool_ and md.dtype.kind != "f":
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {attn_mask.dtype} and  query.dtype: {query.dtype} instead.")
        try:
            np.broadcast_shapes(md.shape, batch + (L, S))
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {_shape(attn_mask)} cannot be "
                               f"broadcast to the scores' shape {batch + (L, S)}") from None
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        if md.dtype != np.bool_ and attn_mask.requires_grad:
            grad_mask, md = attn_mask, None
    bias, keep = _attn_ops.mask_bias(md, is_causal, L, S, qd.dtype)
    if dropout_p > 0.0:
        _check_p(dropout_p)
        drop = _keep_mask(qd, batch + (L, S), dropout_p)
        keep = drop if keep is None else keep * drop
    if grad_mask is None:
        return _attn_ops.attention(query, key, value, bias, s, keep)
    # A float mask that requires grad: the composite, so the mask gets its gradient.
    scores = matmul(query * s, key.transpose(-2, -1)) + grad_mask
    if bias is not None:
        scores = scores + wrap(bias)
    attn = _nn.softmax(scores, -1)
    if keep is not None:
        attn = attn * wrap(keep)
    return matmul(attn, value)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Softmax of ``(logits + Gumbel noise) / tau``; ``hard``: one-hot forward, soft gradient."""
    d = logits._data
    g = -np.log(_rng().exponential(size=d.shape)).astype(d.dtype)
    y_soft = _nn.softmax((logits + wrap(xp_of(d).asarray(g))) / tau, dim)
    if not hard:
        return y_soft
    yd = y_soft._data
    dim = wrap_dim(dim, yd.ndim, "gumbel_softmax")
    idx = xp_of(yd).expand_dims(yd.argmax(axis=dim), dim)
    y_hard = wrap(_nn._class_mask(idx, dim, yd.shape[dim]).astype(yd.dtype))
    return y_hard - y_soft.detach() + y_soft


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """mean over classes of -(y log sigmoid(x) + (1 - y) log sigmoid(-x))."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cdim = input._data.ndim - 1
    loss = loss.sum(cdim) / input._data.shape[cdim]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over j != y of max(0, margin - x_y + x_j)^p / C (times weight[y])."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    d = input._data
    cdim = d.ndim - 1
    C = d.shape[cdim]
    td = target._data
    if td.size and (int(td.min()) < 0 or int(td.max()) >= C):
        raise IndexError(f"multi_margin_loss: target {int(td.max()) if int(td.max()) >= C else int(td.min())} is out "
                         f"of bounds for {C} classes (input of shape {tuple(d.shape)})")
    xp = xp_of(d)
    idx = xp.expand_dims(td, -1)
    xy = _nn.pick(input, cdim, idx)
    h = clamp(input - xy + margin, min=0)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * wrap(xp.expand_dims(weight._data.astype(d.dtype, copy=False)[td], -1))
    h = where(_nn._class_mask(idx, cdim, C), 0.0, h)
    return _reduce(h.sum(cdim) / C, reduction)


# ============================================================================ embedding
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the integer indices ``input``: shape ``input.shape + (embedding_dim,)``.

    Gradients of repeated indices accumulate; the ``padding_idx`` row gets no gradient;
    ``max_norm`` renormalises the looked-up rows of ``weight`` in place.
    """
    idx = input._data
    wd = weight._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected indices of an integer dtype (Long or Int), got {input.dtype}")
    if wd.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(wd.shape)}")
    V, D = wd.shape
    flat = idx.reshape(-1)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= V):
        bad = int(flat.min()) if int(flat.min()) < 0 else int(flat.max())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {V} rows (weight of shape {(V, D)})")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise AssertionError(f"Padding_idx must be within num_embeddings ({V}), got {padding_idx}")
        if padding_idx < 0:
            padding_idx += V
    xp = xp_of(wd)
    if max_norm is not None:
        _embedding_renorm(weight, flat, max_norm, norm_type)
    gscale = None
    if padding_idx is not None or scale_grad_by_freq:
        gs = xp.ones(flat.shape, dtype=wd.dtype)
        if scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=V)
            gs = gs / counts[flat]
        if padding_idx is not None:
            gs = xp.where(flat == padding_idx, 0, gs).astype(wd.dtype)
        gscale = gs.reshape(-1, 1)
    rows = _nn.index_select(weight, 0, flat, gscale)
    return reshape(rows, idx.shape + (D,))


def _embedding_renorm(weight, flat, max_norm, norm_type):
    wd = weight._data
    xp = xp_of(wd)
    rows = xp.unique(flat)
    sel = wd[rows]
    norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(wd.dtype)
    wd[rows] = sel * scale[:, None]
    weight._vc[0] += 1


# ============================================================================ dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(d, shape, p):
    """Bernoulli(1 - p) mask scaled by 1 / (1 - p), drawn from nerve's default generator."""
    dt = d.dtype
    if p == 1:
        m = np.zeros(shape, dtype=dt)
    else:
        u = _rng().random(shape, dtype=np.float32 if dt == np.float32 else np.float64)
        # A bool->float cast and an in-place scale: np.where with scalar branches is ~10x slower.
        m = (u >= p).astype(dt)
        m *= np.asarray(1.0 / (1.0 - p), dtype=dt)
    xp = xp_of(d)
    return m if xp is np else xp.asarray(m)


def _apply_mask(input, mask, inplace, name):
    if inplace:
        return mul_(input, wrap(mask))
    return input * wrap(mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (when training)."""
    _check_p(p)
    if not training or p == 0:
        return input
    d = input._data
    return _apply_mask(input, _keep_mask(d, d.shape, p), inplace, "dropout_")


def _feature_dropout(input, p, training, inplace, batched):
    _check_p(p)
    if not training or p == 0:
        return input
    d = input._data
    lead = d.shape[:2] if batched else d.shape[:1]
    shape = lead + (1,) * (d.ndim - len(lead))
    return _apply_mask(input, _keep_mask(d, shape, p), inplace, "feature_dropout_")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input of shape "
                           f"{_shape(input)}")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs (a 3-D input is treated as (N, C, L), as PyTorch)."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim != 1)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim != 4)


_ALPHA_DROP = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    d = input._data
    if p == 1:
        return _apply_mask(input, np.zeros(d.shape, d.dtype) if xp_of(d) is np else xp_of(d).zeros(d.shape, d.dtype),
                           inplace, "alpha_dropout_")
    shape = (d.shape[:2] + (1,) * (d.ndim - 2)) if feature else d.shape
    keep = (_rng().random(shape) >= p).astype(d.dtype)
    a = 1.0 / math.sqrt((_ALPHA_DROP * _ALPHA_DROP * p + 1) * (1 - p))
    b = (keep - 1) * (_ALPHA_DROP * a) + _ALPHA_DROP * a * p
    keep = keep * a
    xp = xp_of(d)
    keep, b = xp.asarray(keep.astype(d.dtype)), xp.asarray(b.astype(d.dtype))
    if inplace:
        return _inplace(input, lambda: input * wrap(keep) + wrap(b), "alpha_dropout_")
    return input * wrap(keep) + wrap(b)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the mean and variance of SELU activations."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)


# ============================================================================ padding
def _pad_index(n, a, b, mode, dim, shape, pad):
    xp = np
    i = xp.arange(-a, n + b)
    if mode == "reflect":
        if a >= n or b >= n:
            raise RuntimeError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                               f"padding ({a}, {b}) at dimension {dim} of input {list(shape)} (mode='reflect')")
        period = 2 * (n - 1) if n > 1 else 1
        i = xp.abs(i) % period if n > 1 else i * 0
        i = xp.where(i >= n, period - i, i)
    elif mode == "replicate":
        if n == 0:
            raise RuntimeError(f"pad: cannot replicate-pad the empty dimension {dim} of input {list(shape)}")
        i = xp.clip(i, 0, n - 1)
    elif mode == "circular":
        if a > n or b > n:
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once: padding ({a}, {b}) at "
                               f"dimension {dim} of input {list(shape)} (mode='circular')")
        i = i % n
    else:
        raise NotImplementedError(f"pad: unsupported padding mode {mode!r}: use 'constant', 'reflect', 'replicate' "
                                  "or 'circular'")
    return i


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative widths, crop) the last ``len(pad) // 2`` dims.

    ``pad = (left, right, top, bottom, ...)`` starts at the last dim. Modes: 'constant' (with
    ``value``), 'reflect', 'replicate', 'circular'.

    Example:
        >>> F.pad(x, (1, 1, 2, 0))          # last dim +1 on each side, second-last +2 before
    """
    pad = [int(p) for p in pad]
    nd = input._data.ndim
    shape = _shape(input)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)} values")
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {nd}")
    widths = [(0, 0)] * nd
    for j in range(k):
        widths[nd - 1 - j] = (pad[2 * j], pad[2 * j + 1])
    if mode == "constant":
        return _nn.pad_constant(input, widths, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    out = input
    xp = xp_of(input._data)
    for dim in range(nd - k, nd):
        a, b = widths[dim]
        if a == 0 and b == 0:
            continue
        idx = _pad_index(shape[dim], a, b, mode, dim, shape, pad)
        out = _nn.index_select(out, dim, idx if xp is np else xp.asarray(idx))
    return out if out is not input else _nn.pad_constant(input, widths)
