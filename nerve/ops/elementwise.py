"""Elementwise ops: arithmetic, unary math, comparisons, logic, clamp, where, in-place variants.

Every derivative is written here with nerve ops, next to its forward, e.g. ``d exp(x) = g * exp(x)``.
Broadcast gradients are reduced by the engine, so binary backward formulas ignore shapes.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import grad_mode as gm
from ..autograd.node import Node
from ..autograd.tensor import Tensor, wrap
from ..backend import dtypes as _dt
from ._helpers import (
    as_tensor_like, attach, binary_operands, broadcast_error, float_operand, register_methods, xp_of,
)

try:  # SciPy's erf is exact and vectorised; NumPy has none
    from scipy.special import erf as _sp_erf, erfinv as _sp_erfinv
except Exception:  # pragma: no cover - SciPy is optional
    _sp_erf = None
    _sp_erfinv = None


def _compute(fn, op, a, b):
    try:
        return fn(a, b)
    except ValueError as e:
        if "broadcast" in str(e):
            raise broadcast_error(op, np.shape(a), np.shape(b)) from None
        raise


# ============================================================================ binary arithmetic
class AddBackward(Node):
    def apply(self, g):
        alpha = self.alpha
        return g if self.next[0] is not None else None, (
            (g if alpha == 1 else g * alpha) if self.next[1] is not None else None)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting. Gradient: (g, alpha * g)."""
    a, b, ad, bd = binary_operands(input, other, "add")
    if alpha != 1:
        bd = bd * alpha
    try:
        r = wrap(ad + bd)
    except ValueError:
        raise broadcast_error("add", np.shape(ad), np.shape(bd)) from None
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = AddBackward(a, b)
        n.alpha = alpha
        attach(r, n)
    return _out(r, out)


class SubBackward(Node):
    def apply(self, g):
        alpha = self.alpha
        return g if self.next[0] is not None else None, (
            (-g if alpha == 1 else g * (-alpha)) if self.next[1] is not None else None)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``. Gradient: (g, -alpha * g)."""
    a, b, ad, bd = binary_operands(input, other, "sub")
    if ad.dtype.kind == "b" if hasattr(ad, "dtype") else False:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        bd = bd * alpha
    try:
        r = wrap(ad - bd)
    except ValueError:
        raise broadcast_error("sub", np.shape(ad), np.shape(bd)) from None
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = SubBackward(a, b)
        n.alpha = alpha
        attach(r, n)
    return _out(r, out)


def rsub(input, other, alpha=1):
    """``other - alpha * input``."""
    return sub(other, input, alpha=alpha)


class MulBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        if a is None:
            a = self.sa
        if b is None:
            b = self.sb
        return (g * b if self.next[0] is not None else None,
                g * a if self.next[1] is not None else None)


def mul(input, other, *, out=None):
    """Elementwise product. Gradient: (g * other, g * input)."""
    a, b, ad, bd = binary_operands(input, other, "mul")
    try:
        r = wrap(ad * bd)
    except ValueError:
        raise broadcast_error("mul", np.shape(ad), np.shape(bd)) from None
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = MulBackward(a, b)
        # Save only what the other input's gradient needs.
        n.save(a if (b is not None and b.requires_grad) else None,
               b if (a is not None and a.requires_grad) else None)
        n.sa, n.sb = (None if a is not None else ad), (None if b is not None else bd)
        attach(r, n)
    return _out(r, out)


class DivBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        if b is None:
            b = self.sb
        ga = g / b if self.next[0] is not None else None
        gb = None
        if self.next[1] is not None:
            if a is None:
                a = self.sa
            gb = -g * a / (b * b)
        return ga, gb


def div(input, other, *, rounding_mode=None, out=None):
    """True division (``rounding_mode=None``), or 'trunc'/'floor' rounding (not differentiable).

    Gradient: (g / other, -g * input / other**2).
    """
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode)
    a, b, ad, bd = binary_operands(input, other, "div")
    if getattr(ad, "dtype", np.dtype("f")).kind != "f":
        ad = ad.astype(_dt.default_np_dtype()) if hasattr(ad, "astype") else float(ad)
    if hasattr(bd, "dtype") and bd.dtype.kind != "f" and not hasattr(ad, "dtype"):
        bd = bd.astype(_dt.default_np_dtype())
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = wrap(ad / bd)
    except ValueError:
        raise broadcast_error("div", np.shape(ad), np.shape(bd)) from None
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = DivBackward(a, b)
        n.save(a if (b is not None and b.requires_grad) else None, b)
        n.sa, n.sb = (None if a is not None else ad), (None if b is not None else bd)
        attach(r, n)
    return _out(r, out)


true_divide = divide = div
multiply = mul
subtract = sub


def _rounded_div(input, other, mode):
    a, b, ad, bd = binary_operands(input, other, "div")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            r = xp.floor_divide(ad, bd)
        elif mode == "trunc":
            q = xp.true_divide(ad, bd)
            r = xp.trunc(q)
            rd = ad.dtype if hasattr(ad, "dtype") else bd.dtype
            r = r.astype(rd) if hasattr(r, "astype") else r
        else:
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{mode}'")
    out = wrap(xp.asarray(r))
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        attach(out, ZeroGradBackward(a, b))
    return out


def floor_divide(input, other):
    """``floor(input / other)`` (PyTorch semantics since 1.13). Gradient: zero."""
    return _rounded_div(input, other, "floor")


class ZeroGradBackward(Node):
    """Piecewise-constant ops (floor, round, sign, ...) pass a zero gradient."""

    def apply(self, g):
        return tuple(None if e is None else g * 0 for e in self.next)


class RemainderBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        gb = None
        if self.next[1] is not None:
            gb = -g * floor_divide(a.detach() if a is not None else self.sa, b.detach())
        return (g if self.next[0] is not None else None), gb


def remainder(input, other):
    """Python-style modulus (sign of the divisor). Gradient: (g, -g * floor(input / other))."""
    a, b, ad, bd = binary_operands(input, other, "remainder")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = wrap(xp.asarray(xp.mod(ad, bd)))
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = RemainderBackward(a, b)
        n.save(a, b)
        n.sa = ad if a is None else None
        attach(r, n)
    return r


def fmod(input, other):
    """C-style remainder (sign of the dividend). Gradient: (g, -g * trunc(input / other))."""
    a, b, ad, bd = binary_operands(input, other, "fmod")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = wrap(xp.asarray(xp.fmod(ad, bd)))
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = FmodBackward(a, b)
        n.save(a, b)
        n.sa = ad if a is None else None
        attach(r, n)
    return r


class FmodBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        gb = None
        if self.next[1] is not None:
            gb = -g * div(a.detach() if a is not None else self.sa, b.detach(), rounding_mode="trunc")
        return (g if self.next[0] is not None else None), gb


class PowBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        ga = gb = None
        if self.next[0] is not None:
            if b is None:
                e = self.sb
                if e == 0:
                    ga = g * 0
                elif e == 1:
                    ga = g
                elif e == 2:
                    ga = g * a * 2
                else:
                    ga = g * e * a ** (e - 1)
            else:
                # where(b == 0, 0, g * b * a^(b-1)) keeps 0 * inf out of the result
                ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        if self.next[1] is not None:
            out = self.saved_output()
            if a is None:
                gb = g * out * (math.log(self.sa) if self.sa > 0 else math.nan)
            else:
                # d/db a^b = a^b log a, defined as 0 where a == 0 and b >= 0 (PyTorch's convention)
                gb = where((a == 0) & (b >= 0), 0.0, g * out * log(a))
        return ga, gb


def pow(input, exponent, *, out=None):  # noqa: A001 - PyTorch's name
    """``input ** exponent``. Gradients: g * e * x^(e-1) and g * x^e * log(x)."""
    a, b, ad, bd = binary_operands(input, exponent, "pow")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    if hasattr(ad, "dtype") and ad.dtype.kind in "iu" and isinstance(bd, int) and bd < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if b is None and bd == 2:
            r = wrap(ad * ad)
        elif b is None and bd == 0.5 and ad.dtype.kind == "f":
            r = wrap(xp.sqrt(ad))
        else:
            r = wrap(xp.asarray(xp.power(ad, bd)))
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = PowBackward(a, b)
        n.save(a, b)
        n.sa, n.sb = (None if a is not None else ad), (None if b is not None else bd)
        if b is not None and b.requires_grad:
            n.save_output(r)
        attach(r, n)
    return _out(r, out)


float_power = pow


def _out(r, out):
    if out is None:
        return r
    if not isinstance(out, Tensor):
        raise TypeError("out= must be a Tensor")
    if r.requires_grad and gm.enabled:
        raise RuntimeError("out= is not supported for ops whose result requires grad")
    if tuple(out.shape) != tuple(r.shape):
        out._data = r._data.astype(out._data.dtype)
    else:
        out._data[...] = r._data
    out._vc[0] += 1
    return out


# ============================================================================ unary math
def _unary(name, forward, backward, save="input", float_only=True, doc=""):
    """Define a unary op ``name`` from a raw forward and a Tensor backward ``(g, x, out) -> grad``."""
    node_cls = type(f"{name.capitalize()}Backward", (Node,), {"__slots__": ()})

    if save == "output":
        def apply(self, g):
            return (backward(g, None, self.saved_output()),)
    elif save == "input":
        def apply(self, g):
            (x,) = self.saved_tensors
            return (backward(g, x, None),)
    else:
        def apply(self, g):
            return (backward(g, None, None),)
    node_cls.apply = apply

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            input = as_tensor_like(input, name=name)
        d = float_operand(input) if float_only else input._data
        xp = xp_of(d)
        with np.errstate(all="ignore"):
            r = wrap(forward(xp, d))
        if gm.enabled and input.requires_grad:
            n = node_cls(input)
            if save == "output":
                n.save_output(r)
            elif save == "input":
                n.save(input)
            attach(r, n)
        return _out(r, out) if out is not None else r

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise ``{name}``."
    op.Backward = node_cls
    return op


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)


def _erf(xp, d):
    if xp is np:
        if _sp_erf is not None:
            return _sp_erf(d).astype(d.dtype, copy=False)
        return np.frompyfunc(math.erf, 1, 1)(d).astype(d.dtype)
    import cupyx.scipy.special as cps  # noqa: PLC0415 - GPU only
    return cps.erf(d)


def _erfinv(xp, d):
    if xp is np:
        if _sp_erfinv is None:
            raise RuntimeError("erfinv needs SciPy (pip install scipy)")
        return _sp_erfinv(d).astype(d.dtype, copy=False)
    import cupyx.scipy.special as cps  # noqa: PLC0415
    return cps.erfinv(d)


exp = _unary("exp", lambda xp, d: xp.exp(d), lambda g, x, o: g * o, "output", doc="e^x. Gradient: g * e^x.")
expm1 = _unary("expm1", lambda xp, d: xp.expm1(d), lambda g, x, o: g * (o + 1), "output",
               doc="e^x - 1. Gradient: g * (out + 1).")
exp2 = _unary("exp2", lambda xp, d: xp.exp2(d), lambda g, x, o: g * o * _LN2, "output")
log = _unary("log", lambda xp, d: xp.log(d), lambda g, x, o: g / x, doc="Natural log. Gradient: g / x.")
log1p = _unary("log1p", lambda xp, d: xp.log1p(d), lambda g, x, o: g / (x + 1),
               doc="log(1 + x). Gradient: g / (1 + x).")
log2 = _unary("log2", lambda xp, d: xp.log2(d), lambda g, x, o: g / (x * _LN2))
log10 = _unary("log10", lambda xp, d: xp.log10(d), lambda g, x, o: g / (x * _LN10))
sqrt = _unary("sqrt", lambda xp, d: xp.sqrt(d), lambda g, x, o: g / (o * 2), "output",
              doc="Square root. Gradient: g / (2 sqrt(x)).")
rsqrt = _unary("rsqrt", lambda xp, d: 1 / xp.sqrt(d), lambda g, x, o: g * o ** 3 * -0.5, "output",
               doc="1 / sqrt(x). Gradient: -g / (2 x^(3/2)).")
sin = _unary("sin", lambda xp, d: xp.sin(d), lambda g, x, o: g * cos(x))
cos = _unary("cos", lambda xp, d: xp.cos(d), lambda g, x, o: -g * sin(x))
tan = _unary("tan", lambda xp, d: xp.tan(d), lambda g, x, o: g * (o * o + 1), "output")
asin = _unary("asin", lambda xp, d: xp.arcsin(d), lambda g, x, o: g * rsqrt(-x * x + 1))
acos = _unary("acos", lambda xp, d: xp.arccos(d), lambda g, x, o: -g * rsqrt(-x * x + 1))
atan = _unary("atan", lambda xp, d: xp.arctan(d), lambda g, x, o: g / (x * x + 1))
sinh = _unary("sinh", lambda xp, d: xp.sinh(d), lambda g, x, o: g * cosh(x))
cosh = _unary("cosh", lambda xp, d: xp.cosh(d), lambda g, x, o: g * sinh(x))
tanh = _unary("tanh", lambda xp, d: xp.tanh(d), lambda g, x, o: g * (1 - o * o), "output",
              doc="Hyperbolic tangent. Gradient: g * (1 - tanh(x)^2).")
asinh = _unary("asinh", lambda xp, d: xp.arcsinh(d), lambda g, x, o: g * rsqrt(x * x + 1))
atanh = _unary("atanh", lambda xp, d: xp.arctanh(d), lambda g, x, o: g / (1 - x * x))
reciprocal = _unary("reciprocal", lambda xp, d: 1 / d, lambda g, x, o: -g * o * o, "output",
                    doc="1 / x. Gradient: -g / x^2.")
erf = _unary("erf", _erf, lambda g, x, o: g * exp(-x * x) * _2_SQRTPI,
             doc="Gauss error function. Gradient: g * 2/sqrt(pi) * exp(-x^2).")
erfc = _unary("erfc", lambda xp, d: 1 - _erf(xp, d), lambda g, x, o: g * exp(-x * x) * -_2_SQRTPI)
erfinv = _unary("erfinv", _erfinv, lambda g, x, o: g * exp(o * o) * (math.sqrt(math.pi) / 2), "output")


def _sigmoid_fwd(xp, d):
    # Split by sign so exp never overflows: sigmoid(x) = 1/(1+e^-x) = e^x/(1+e^x).
    e = xp.exp(-xp.abs(d))
    return xp.where(d >= 0, 1 / (1 + e), e / (1 + e)).astype(d.dtype, copy=False)


sigmoid = _unary("sigmoid", _sigmoid_fwd, lambda g, x, o: g * o * (1 - o), "output",
                 doc="1 / (1 + e^-x), overflow-free. Gradient: g * s * (1 - s).")


def _relu_bwd(g, x, o):
    return g * (o > 0)


relu = _unary("relu", lambda xp, d: xp.maximum(d, 0), _relu_bwd, "output", float_only=False,
              doc="max(x, 0). Gradient: g where x > 0, else 0.")
abs = _unary("abs", lambda xp, d: xp.abs(d), lambda g, x, o: g * sign(x), float_only=False,  # noqa: A001
             doc="|x|. Gradient: g * sign(x) (0 at 0).")
absolute = abs
neg = _unary("neg", lambda xp, d: -d, lambda g, x, o: -g, None, float_only=False,
             doc="-x. Gradient: -g.")
negative = neg
square = _unary("square", lambda xp, d: d * d, lambda g, x, o: g * x * 2, float_only=False)
sign = _unary("sign", lambda xp, d: xp.sign(d), lambda g, x, o: g * 0, None, float_only=False,
              doc="-1, 0 or 1. Gradient: zero.")
sgn = sign
floor = _unary("floor", lambda xp, d: xp.floor(d) if d.dtype.kind == "f" else d.copy(),
               lambda g, x, o: g * 0, None, float_only=False)
ceil = _unary("ceil", lambda xp, d: xp.ceil(d) if d.dtype.kind == "f" else d.copy(),
              lambda g, x, o: g * 0, None, float_only=False)
trunc = _unary("trunc", lambda xp, d: xp.trunc(d) if d.dtype.kind == "f" else d.copy(),
               lambda g, x, o: g * 0, None, float_only=False)
fix = trunc
frac = _unary("frac", lambda xp, d: d - xp.trunc(d), lambda g, x, o: g, None)


def round(input, *, decimals=0):  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch). Gradient: zero."""
    d = input._data
    r = wrap(xp_of(d).round(d, decimals) if d.dtype.kind == "f" else d.copy())
    if gm.enabled and input.requires_grad:
        attach(r, ZeroGradBackward(input))
    return r


# ============================================================================ comparisons / logic
def _compare(name, ufunc):
    def op(input, other):
        a, b, ad, bd = binary_operands(input, other, name)
        try:
            return wrap(xp_of(ad if hasattr(ad, "dtype") else bd).asarray(ufunc(ad, bd)))
        except ValueError:
            raise broadcast_error(name, np.shape(ad), np.shape(bd)) from None
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (bool result, not differentiable)."
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bool_op(name, ufunc):
    def op(input, other):
        a, b, ad, bd = binary_operands(input, other, name)
        return wrap(np.asarray(ufunc(_as_bool(ad), _as_bool(bd))))
    op.__name__ = op.__qualname__ = name
    return op


def _as_bool(x):
    return x.astype(bool) if hasattr(x, "astype") else bool(x)


logical_and = _bool_op("logical_and", np.logical_and)
logical_or = _bool_op("logical_or", np.logical_or)
logical_xor = _bool_op("logical_xor", np.logical_xor)


def logical_not(input):
    return wrap(xp_of(input._data).logical_not(input._data))


def _bitwise(name, ufunc):
    def op(input, other):
        a, b, ad, bd = binary_operands(input, other, name)
        for x in (ad, bd):
            if hasattr(x, "dtype") and x.dtype.kind == "f":
                raise RuntimeError(f"{name} is only supported for integer and bool tensors, got float")
        return wrap(np.asarray(ufunc(ad, bd)))
    op.__name__ = op.__qualname__ = name
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input):
    d = input._data
    if d.dtype.kind == "f":
        raise RuntimeError("bitwise_not is only supported for integer and bool tensors, got float")
    return wrap(xp_of(d).invert(d))


def isnan(input):
    return wrap(xp_of(input._data).isnan(input._data))


def isinf(input):
    return wrap(xp_of(input._data).isinf(input._data))


def isfinite(input):
    return wrap(xp_of(input._data).isfinite(input._data))


def isposinf(input):
    return wrap(xp_of(input._data).isposinf(input._data))


def isneginf(input):
    return wrap(xp_of(input._data).isneginf(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b, ad, bd = binary_operands(input, other, "isclose")
    return wrap(np.asarray(xp_of(ad).isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return tuple(input.shape) == tuple(other.shape) and bool((input._data == other._data).all())


# ============================================================================ where / clamp / min-max
class WhereBackward(Node):
    def apply(self, g):
        cond = self.cond
        zero = g * 0 if gm.enabled else None
        ga = gb = None
        if self.next[0] is not None:
            ga = where(cond, g, 0.0) if zero is None else where(cond, g, zero)
        if self.next[1] is not None:
            gb = where(cond, 0.0, g) if zero is None else where(cond, zero, g)
        return ga, gb


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other`` (broadcast). Gradient routes g to the chosen side.

    With only ``condition``, returns ``nonzero(condition, as_tuple=True)``.
    """
    if input is None and other is None:
        from .index import nonzero  # noqa: PLC0415 - same layer
        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    a, b, ad, bd = binary_operands(input, other, "where")
    xp = xp_of(cond)
    try:
        r = wrap(xp.asarray(xp.where(cond, ad, bd)))
    except ValueError:
        raise RuntimeError(f"where: condition {tuple(cond.shape)}, input {np.shape(ad)} and other "
                           f"{np.shape(bd)} cannot be broadcast together") from None
    if r._data.dtype != (ad.dtype if hasattr(ad, "dtype") else bd.dtype if hasattr(bd, "dtype") else r._data.dtype):
        r._data = r._data.astype(ad.dtype if hasattr(ad, "dtype") else bd.dtype)
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = WhereBackward(a, b)
        n.cond = cond
        attach(r, n)
    return r


class ClampBackward(Node):
    def apply(self, g):
        return (g * self.mask,)


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002 - PyTorch's names
    """Limit values to [min, max]; bounds may be numbers or tensors.

    Gradient: g where min <= x <= max, else 0 (tensor bounds get g where they are chosen).
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = input
        if min is not None:
            r = maximum(r, min if isinstance(min, Tensor) else as_tensor_like(min, input))
        if max is not None:
            r = minimum(r, max if isinstance(max, Tensor) else as_tensor_like(max, input))
        return _out(r, out)
    d = input._data
    xp = xp_of(d)
    if d.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        d = d.astype(_dt.default_np_dtype())
    r = wrap(xp.clip(d, min, max))
    if gm.enabled and input.requires_grad:
        n = ClampBackward(input)
        mask = xp.ones(d.shape, dtype=bool)
        if min is not None:
            mask &= d >= min
        if max is not None:
            mask &= d <= max
        n.mask = mask
        attach(r, n)
    return _out(r, out)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


class MaximumBackward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        # Ties share the gradient equally (PyTorch's convention).
        ga = gb = None
        if self.next[0] is not None:
            ga = g * (self.pick_a + self.tie * 0.5)
        if self.next[1] is not None:
            gb = g * (self.pick_b + self.tie * 0.5)
        return ga, gb


def _minmax(name, cmp):
    def op(input, other, *, out=None):
        a, b, ad, bd = binary_operands(input, other, name)
        xp = xp_of(ad if hasattr(ad, "dtype") else bd)
        try:
            r = wrap(xp.asarray((xp.maximum if cmp is np.greater else xp.minimum)(ad, bd)))
        except ValueError:
            raise broadcast_error(name, np.shape(ad), np.shape(bd)) from None
        if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
            n = MaximumBackward(a, b)
            n.save(None, None)
            dt = r._data.dtype
            n.pick_a = cmp(ad, bd).astype(dt)
            n.pick_b = cmp(bd, ad).astype(dt)
            n.tie = (ad == bd).astype(dt)
            attach(r, n)
        return _out(r, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} of two tensors. Gradient goes to the chosen input (split on ties)."
    return op


maximum = _minmax("maximum", np.greater)
minimum = _minmax("minimum", np.less)
fmax = maximum
fmin = minimum


def lerp(input, end, weight):
    """``input + weight * (end - input)``."""
    return input + (end - input) * weight


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + tensor1 * tensor2 * value if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + tensor1 / tensor2 * value if value != 1 else input + tensor1 / tensor2


def atan2(input, other):
    """Angle of (other, input). Built from differentiable primitives."""
    a, b, ad, bd = binary_operands(input, other, "atan2")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    r = wrap(xp.asarray(xp.arctan2(ad, bd)))
    if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
        n = Atan2Backward(a, b)
        n.save(a, b)
        n.sa, n.sb = (ad if a is None else None), (bd if b is None else None)
        attach(r, n)
    return r


arctan2 = atan2


class Atan2Backward(Node):
    def apply(self, g):
        a, b = self.saved_tensors
        a = self.sa if a is None else a
        b = self.sb if b is None else b
        den = a * a + b * b
        return (g * b / den if self.next[0] is not None else None,
                -g * a / den if self.next[1] is not None else None)


def hypot(input, other):
    return sqrt(input * input + other * other)


def logaddexp(input, other):
    m = maximum(input, other).detach()
    return m + log(exp(input - m) + exp(other - m))


def xlogy(input, other):
    """``input * log(other)``, 0 where input == 0."""
    a = as_tensor_like(input) if not isinstance(input, Tensor) else input
    return where(a == 0, 0.0, a * log(other))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    d = input._data
    r = wrap(xp_of(d).nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf))
    if gm.enabled and input.requires_grad:
        n = ClampBackward(input)
        n.mask = xp_of(d).isfinite(d)
        attach(r, n)
    return r


# ============================================================================ in-place variants
def _check_inplace(t: Tensor, op: str) -> bool:
    """Whether an in-place op on ``t`` must be recorded; raises PyTorch's errors for illegal cases."""
    if not gm.enabled:
        return False
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in `with nerve.no_grad():` (as optimizers do), or operate on a copy.")
    return True


def apply_inplace(t: Tensor, result: Tensor, op: str) -> Tensor:
    """Write ``result`` (computed out of place, maybe recorded) into ``t``'s memory.

    ``t`` takes over the result's history, so later backward passes go through the in-place op;
    nodes that saved ``t`` see its version bump and refuse to use the overwritten values.
    """
    d = t._data
    rd = result._data
    if rd.shape != d.shape:
        try:
            rd = xp_of(d).broadcast_to(rd, d.shape)
        except ValueError:
            raise RuntimeError(f"{op}: output with shape {tuple(d.shape)} doesn't match the broadcast shape "
                               f"{tuple(rd.shape)}") from None
    if rd.dtype != d.dtype:
        if d.dtype.kind in "iub" and rd.dtype.kind == "f":
            raise RuntimeError(f"{op}: result type {_dt.from_numpy_dtype(rd.dtype)} can't be cast to the "
                               f"desired output type {t.dtype}")
    if not d.flags.writeable:
        raise RuntimeError(f"{op}: unsupported operation: the tensor is an expanded (read-only) view; "
                           "clone() it before writing")
    d[...] = rd
    t._vc[0] += 1
    if result.requires_grad and gm.enabled:
        if t._base is not None and t._base.requires_grad:
            raise RuntimeError(
                f"{op}: in-place modification of a view of a tensor that requires grad is not supported; "
                "compute the new values out of place (e.g. with nerve.where or cat)")
        t.grad_fn = result.grad_fn
        t.requires_grad = True
    return t


def _make_inplace(name, fn, ufunc=None):
    """In-place op from its out-of-place twin; unrecorded cases run as one NumPy ufunc with out=."""
    def op(self, other, *, alpha=None, **kwargs):
        record = _check_inplace(self, name) and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
        if not record and ufunc is not None and not kwargs:
            d = self._data
            od = other._data if isinstance(other, Tensor) else other
            if alpha is not None and alpha != 1:
                od = od * alpha
            try:
                ufunc(d, od, out=d, casting="same_kind")
            except TypeError:
                raise RuntimeError(f"{name}: result type {np.result_type(d, od)} can't be cast to the desired "
                                   f"output type {self.dtype}") from None
            except ValueError as e:
                raise RuntimeError(f"{name}: output with shape {tuple(d.shape)} doesn't match the broadcast "
                                   f"shape of other {np.shape(od)} ({e})") from None
            self._vc[0] += 1
            return self
        if alpha is not None:
            kwargs["alpha"] = alpha
        return apply_inplace(self, fn(self, other, **kwargs), name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place version of ``{name[:-1]}``."
    return op


add_ = _make_inplace("add_", add, np.add)
sub_ = _make_inplace("sub_", sub, np.subtract)
mul_ = _make_inplace("mul_", mul, np.multiply)
div_ = _make_inplace("div_", div, np.true_divide)
pow_ = _make_inplace("pow_", pow)


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place ``clamp``."""
    if not (_check_inplace(self, "clamp_") and self.requires_grad) and not isinstance(min, Tensor) \
            and not isinstance(max, Tensor):
        d = self._data
        xp_of(d).clip(d, min, max, out=d)
        self._vc[0] += 1
        return self
    return apply_inplace(self, clamp(self, min, max), "clamp_")


clip_ = clamp_


def _unary_inplace(name, fn):
    def op(self):
        _check_inplace(self, name)
        return apply_inplace(self, fn(self), name)
    op.__name__ = op.__qualname__ = name
    return op


relu_ = _unary_inplace("relu_", relu)
neg_ = _unary_inplace("neg_", neg)
abs_ = _unary_inplace("abs_", abs)
exp_ = _unary_inplace("exp_", exp)
log_ = _unary_inplace("log_", log)
sqrt_ = _unary_inplace("sqrt_", sqrt)
sigmoid_ = _unary_inplace("sigmoid_", sigmoid)
tanh_ = _unary_inplace("tanh_", tanh)
floor_ = _unary_inplace("floor_", floor)
round_ = _unary_inplace("round_", round)


def _reverse(fn):
    def r(self, other):
        return fn(other, self)
    return r


register_methods({
    "__add__": add, "__radd__": lambda s, o: add(o, s), "__sub__": sub, "__rsub__": _reverse(sub),
    "__mul__": mul, "__rmul__": lambda s, o: mul(o, s), "__truediv__": div, "__rtruediv__": _reverse(div),
    "__floordiv__": floor_divide, "__rfloordiv__": _reverse(floor_divide),
    "__mod__": remainder, "__rmod__": _reverse(remainder), "__pow__": pow, "__rpow__": _reverse(pow),
    "__neg__": neg, "__pos__": lambda s: s, "__abs__": abs,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": lambda s, o: bitwise_and(s, o), "__or__": lambda s, o: bitwise_or(s, o),
    "__xor__": lambda s, o: bitwise_xor(s, o), "__invert__": bitwise_not,
    "__rand__": lambda s, o: bitwise_and(o, s), "__ror__": lambda s, o: bitwise_or(o, s),
    "__rxor__": lambda s, o: bitwise_xor(o, s),
    "__iadd__": lambda s, o: add_(s, o), "__isub__": lambda s, o: sub_(s, o),
    "__imul__": lambda s, o: mul_(s, o), "__itruediv__": lambda s, o: div_(s, o),
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div, "divide": div,
    "true_divide": div, "floor_divide": floor_divide, "remainder": remainder, "fmod": fmod, "pow": pow,
    "float_power": pow, "rsub": rsub,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_, "clamp_": clamp_, "clip_": clamp_,
    "relu_": relu_, "neg_": neg_, "abs_": abs_, "exp_": exp_, "log_": log_, "sqrt_": sqrt_,
    "sigmoid_": sigmoid_, "tanh_": tanh_, "floor_": floor_, "round_": round_,
    "exp": exp, "expm1": expm1, "exp2": exp2, "log": log, "log1p": log1p, "log2": log2, "log10": log10,
    "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos,
    "atan": atan, "arcsin": asin, "arccos": acos, "arctan": atan, "sinh": sinh, "cosh": cosh,
    "tanh": tanh, "asinh": asinh, "atanh": atanh, "reciprocal": reciprocal, "erf": erf, "erfc": erfc,
    "erfinv": erfinv, "sigmoid": sigmoid, "relu": relu, "abs": abs, "absolute": abs, "neg": neg,
    "negative": neg, "square": square, "sign": sign, "sgn": sign, "floor": floor, "ceil": ceil,
    "trunc": trunc, "fix": trunc, "frac": frac, "round": round,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt, "greater_equal": ge,
    "less": lt, "less_equal": le, "not_equal": ne,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not,
    "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "isposinf": isposinf, "isneginf": isneginf,
    "isclose": isclose, "allclose": allclose, "equal": equal,
    "where": lambda s, condition, other: where(condition, s, other),
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum, "fmax": maximum, "fmin": minimum, "lerp": lerp,
    "addcmul": addcmul, "addcdiv": addcdiv, "atan2": atan2, "arctan2": atan2, "hypot": hypot,
    "logaddexp": logaddexp, "xlogy": xlogy, "nan_to_num": nan_to_num,
})

__all__ = [
    "abs", "absolute", "acos", "add", "addcdiv", "addcmul", "allclose", "arctan2", "asin", "asinh", "atan",
    "atan2", "atanh", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "clamp", "clamp_max",
    "clamp_min", "clip", "cos", "cosh", "div", "divide", "eq", "equal", "erf", "erfc", "erfinv", "exp",
    "exp2", "expm1", "fix", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "ge",
    "greater", "greater_equal", "gt", "hypot", "isclose", "isfinite", "isinf", "isnan", "isneginf",
    "isposinf", "le", "lerp", "less", "less_equal", "log", "log10", "log1p", "log2", "logaddexp",
    "logical_and", "logical_not", "logical_or", "logical_xor", "lt", "maximum", "minimum", "mul", "multiply",
    "nan_to_num", "ne", "neg", "negative", "not_equal", "pow", "reciprocal", "relu", "remainder", "round",
    "rsqrt", "rsub", "sgn", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "sub", "subtract", "tan",
    "tanh", "true_divide", "trunc", "where", "xlogy",
]
