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
    as_tensor_like, attach, binary_operands, broadcast_error, float_operand, needs_grad, register_methods,
    xp_of,
)
from .fused import relu_forward, sigmoid_backward, tanh_backward, threshold_backward
from .shape import cast as _cast

_special = []  # scipy.special once looked up (None if SciPy is absent); imported lazily: it costs 0.2 s


def _scipy_special():
    """SciPy's erf is exact and vectorised; NumPy has none. SciPy is optional."""
    if not _special:
        try:
            import scipy.special as sp  # noqa: PLC0415
        except Exception:  # pragma: no cover - depends on the install
            sp = None
        _special.append(sp)
    return _special[0]

_np_float64 = np.float64
_np_ndarray = np.ndarray


def _is_bool(x) -> bool:
    """Whether operand ``x`` (Tensor or Python value) is boolean."""
    if isinstance(x, Tensor):
        return x._data.dtype == np.bool_
    return isinstance(x, (bool, np.bool_))


def _kind_of(ad, bd) -> str:
    """NumPy kind ('f', 'i', 'u', 'b') of the result of a promoted pair of raw operands."""
    if hasattr(ad, "dtype"):
        return ad.dtype.kind
    if hasattr(bd, "dtype"):
        return bd.dtype.kind
    return "f"


def _float_pair(ad, bd):
    """Cast integer/bool raw operands to the default float dtype (true division, atan2, ...).

    After ``binary_operands`` both arrays share the promoted dtype, so this casts both or neither.
    """
    dfl = _dt.default_np_dtype()
    if hasattr(ad, "dtype") and ad.dtype.kind != "f":
        ad = ad.astype(dfl)
    if hasattr(bd, "dtype") and bd.dtype.kind != "f":
        bd = bd.astype(dfl)
    return ad, bd


def _check_int_divisor(ad, bd, op):
    """Integer division by zero raises in PyTorch (NumPy would return 0 with a warning)."""
    kind = _kind_of(ad, bd)
    if kind not in "iub":
        return
    if kind == "b":
        raise NotImplementedError(f"{op} is not implemented for two bool operands")
    if hasattr(bd, "dtype"):
        if not bd.all():
            raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero (a divisor element is 0)")
    elif bd == 0:
        raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero")


def _scaled(bd, alpha, kind, op):
    """``alpha * other`` for add/sub, with PyTorch's checks on alpha's type."""
    if kind in "iu" and isinstance(alpha, float):
        raise RuntimeError(f"{op}: For integral input tensors, argument alpha must not be a floating point "
                           f"number (got alpha={alpha}).")
    if kind == "b":
        if isinstance(alpha, float):
            raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results (got alpha={alpha}).")
        alpha = bool(alpha)
        return bd & alpha if hasattr(bd, "dtype") else (bool(bd) and alpha)
    return bd * alpha


# ============================================================================ binary arithmetic
class AddBackward(Node):
    __slots__ = ("alpha",)

    def apply(self, g):
        alpha = self.alpha
        return g if self.next[0] is not None else None, (
            (g if alpha == 1 else g * alpha) if self.next[1] is not None else None)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting. Gradient: (g, alpha * g)."""
    a, b, ad, bd = binary_operands(input, other, "add")
    if alpha != 1:
        bd = _scaled(bd, alpha, _kind_of(ad, bd), "add")
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
    __slots__ = ("alpha",)

    def apply(self, g):
        alpha = self.alpha
        return g if self.next[0] is not None else None, (
            (-g if alpha == 1 else g * (-alpha)) if self.next[1] is not None else None)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``. Gradient: (g, -alpha * g)."""
    # cheap bool test first: sub is on the hot path
    ba = input._data.dtype.kind == "b" if type(input) is Tensor else isinstance(input, (bool, np.bool_))
    bb = other._data.dtype.kind == "b" if type(other) is Tensor else isinstance(other, (bool, np.bool_))
    if ba or bb:
        if ba and bb:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                               "Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    a, b, ad, bd = binary_operands(input, other, "sub")
    if alpha != 1:
        bd = _scaled(bd, alpha, _kind_of(ad, bd), "sub")
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
    __slots__ = ("sa", "sb")

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
    __slots__ = ("sa", "sb")

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
    ad, bd = _float_pair(ad, bd)
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
    if mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{mode}'")
    a, b, ad, bd = binary_operands(input, other, "div")
    _check_int_divisor(ad, bd, f"div(rounding_mode='{mode}')")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    rd = ad.dtype if hasattr(ad, "dtype") else bd.dtype
    with np.errstate(divide="ignore", invalid="ignore"):
        if mode == "floor":
            r = xp.floor_divide(ad, bd)
        elif rd.kind in "iub":
            # C-style integer division, exact (no detour through float64 for large int64 values)
            q = xp.floor_divide(ad, bd)
            r = q + ((q < 0) & (q * bd != ad))
        else:
            r = xp.trunc(xp.true_divide(ad, bd))
    r = xp.asarray(r)
    if r.dtype != rd:
        r = r.astype(rd)
    out = wrap(r)
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
    _check_int_divisor(ad, bd, "remainder")
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
    _check_int_divisor(ad, bd, "fmod")
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
        # 0 * inf and log(0) appear in branches that where() discards
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._apply(g)

    def _apply(self, g):
        a, b = self.saved_tensors
        ga = gb = None
        rdt = g._data.dtype  # the result dtype: integer/bool operands join the formulas in it
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
                # 0 where b == 0 (even at a == 0, where a^(b-1) is inf); the exponent is made safe
                # there too, so the discarded branch stays finite and second derivatives clean
                bf = b if b._data.dtype.kind == "f" else _cast(b, rdt)
                zb = bf == 0
                ga = where(zb, 0.0, g * bf * a ** where(zb, 0.0, bf - 1))
        if self.next[1] is not None:
            out = self.saved_output()
            if a is None:
                sa = self.sa
                if sa > 0:
                    gb = g * out * math.log(sa)
                elif sa == 0:  # d/db 0^b: 0 for b >= 0, -inf for b < 0 (PyTorch)
                    gb = where(b >= 0, 0.0, g * out * -math.inf)
                else:
                    gb = g * out * math.nan
            else:
                # d/db a^b = a^b log a, defined as 0 where a == 0 and b >= 0 (PyTorch's convention);
                # log's argument is made 1 there so the discarded branch holds no inf
                af = a if a._data.dtype == rdt else _cast(a, rdt)
                mask = (af == 0) & (b >= 0)
                gb = where(mask, 0.0, g * out * log(where(mask, 1.0, af)))
        return ga, gb


def pow(input, exponent, *, out=None):  # noqa: A001 - PyTorch's name
    """``input ** exponent``. Gradients: g * e * x^(e-1) and g * x^e * log(x)."""
    if _is_bool(input) and _is_bool(exponent):
        if isinstance(exponent, Tensor) or not isinstance(input, Tensor):
            raise NotImplementedError('"pow" not implemented for \'Bool\' (pow of two bool tensors)')
        # bool ** True == x, bool ** False == True: the result stays bool, as in PyTorch
        d = input._data
        return _out(wrap(d.copy() if exponent else xp_of(d).ones(d.shape, dtype=bool)), out)
    a, b, ad, bd = binary_operands(input, exponent, "pow")
    xp = xp_of(ad if hasattr(ad, "dtype") else bd)
    kind = _kind_of(ad, bd)
    if kind in "iu" and b is None and bd < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if b is None and bd == 2:
            r = wrap(ad * ad)
        elif b is None and bd == 0.5 and ad.dtype.kind == "f":
            r = wrap(xp.sqrt(ad))
        elif kind in "iu" and b is not None and bool((bd < 0).any()):
            # NumPy refuses negative integer exponents; PyTorch gives 1 for base 1, +-1 for base -1
            # and 0 (integer truncation of x^-n) otherwise.
            neg = xp.where(ad == 1, 1, xp.where(ad == -1, 1 - 2 * (bd % 2), 0))
            r = wrap(xp.asarray(xp.where(bd < 0, neg, xp.power(ad, xp.maximum(bd, 0)))).astype(bd.dtype))
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


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 whatever the input dtypes (``torch.float_power``).

    Gradient: that of ``pow`` on the float64 operands (cast back to each input's dtype).
    """
    f64 = np.dtype(np.float64)
    x = _cast(input, f64) if isinstance(input, Tensor) else float(input)
    e = _cast(exponent, f64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(x, Tensor) and not isinstance(e, Tensor):
        raise TypeError("float_power: expected at least one Tensor operand")
    return pow(x, e)


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
_TORCH_NAMES = {"b": "Bool", "i": "Long", "u": "Byte"}


def _unary(name, forward, backward, save="input", float_only=True, doc="", reject=None, quiet=True):
    """Define a unary op ``name`` from a raw forward and a Tensor backward ``(g, x, out) -> grad``.

    ``quiet``: silence NumPy's floating-point warnings (log(0), overflow...), which PyTorch does not
    emit; ops that cannot warn pass False to skip the ~1 us ``errstate`` on their hot path.

    ``reject``: ``(kinds, exception, message)`` for input dtypes PyTorch refuses (e.g. ``("b",
    NotImplementedError, None)``: no bool inputs); the default message names the op and dtype.
    """
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
        if type(input) is not Tensor and not isinstance(input, Tensor):
            input = as_tensor_like(input, name=name)
        d = input._data
        kind = d.dtype.kind
        if reject is not None and kind in reject[0]:
            raise reject[1](reject[2] or f'"{name}" not implemented for '
                                         f"'{_TORCH_NAMES.get(kind)}' ({input.dtype} input)")
        if float_only and kind != "f":
            d = float_operand(input)
        xp = np if type(d) is _np_ndarray else xp_of(d)
        if quiet:
            with np.errstate(all="ignore"):
                r = wrap(forward(xp, d))
        else:
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
        sp = _scipy_special()
        if sp is not None:
            return sp.erf(d).astype(d.dtype, copy=False)
        return np.frompyfunc(math.erf, 1, 1)(d).astype(d.dtype)
    import cupyx.scipy.special as cps  # noqa: PLC0415 - GPU only
    return cps.erf(d)


def _erfinv(xp, d):
    if xp is np:
        sp = _scipy_special()
        if sp is None:
            raise RuntimeError("erfinv needs SciPy (pip install scipy)")
        return sp.erfinv(d).astype(d.dtype, copy=False)
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
tanh = _unary("tanh", lambda xp, d: xp.tanh(d), lambda g, x, o: tanh_backward(g, o), "output", quiet=False,
              doc="Hyperbolic tangent. Gradient: g * (1 - tanh(x)^2).")
asinh = _unary("asinh", lambda xp, d: xp.arcsinh(d), lambda g, x, o: g * rsqrt(x * x + 1))
atanh = _unary("atanh", lambda xp, d: xp.arctanh(d), lambda g, x, o: g / (1 - x * x))
acosh = _unary("acosh", lambda xp, d: xp.arccosh(d), lambda g, x, o: g * rsqrt(x * x - 1),
               doc="Inverse hyperbolic cosine. Gradient: g / sqrt(x^2 - 1).")
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
reciprocal = _unary("reciprocal", lambda xp, d: 1 / d, lambda g, x, o: -g * o * o, "output",
                    doc="1 / x. Gradient: -g / x^2.")
erf = _unary("erf", _erf, lambda g, x, o: g * exp(-x * x) * _2_SQRTPI,
             doc="Gauss error function. Gradient: g * 2/sqrt(pi) * exp(-x^2).")
erfc = _unary("erfc", lambda xp, d: 1 - _erf(xp, d), lambda g, x, o: g * exp(-x * x) * -_2_SQRTPI)
erfinv = _unary("erfinv", _erfinv, lambda g, x, o: g * exp(o * o) * (math.sqrt(math.pi) / 2), "output")


def _sigmoid_fwd(xp, d):
    # sigmoid(x) = (1 + tanh(x / 2)) / 2: one transcendental and no overflow for any x.
    r = d * 0.5
    if d.ndim == 0:
        return xp.tanh(r) * 0.5 + 0.5  # NumPy gives a scalar for 0-d: no out= buffer
    xp.tanh(r, out=r)
    r *= 0.5
    r += 0.5
    return r


sigmoid = _unary("sigmoid", _sigmoid_fwd, lambda g, x, o: sigmoid_backward(g, o), "output", quiet=False,
                 doc="1 / (1 + e^-x), overflow-free. Gradient: g * s * (1 - s).")


relu = _unary("relu", relu_forward, lambda g, x, o: threshold_backward(g, o), "output",
              float_only=False, quiet=False,
              doc="max(x, 0). Gradient: g where x > 0, else 0.",
              reject=("b", RuntimeError, "relu: \"clamp_min\" is not supported for bool tensors"))
abs = _unary("abs", lambda xp, d: xp.abs(d), lambda g, x, o: g * sign(x), float_only=False, quiet=False,  # noqa: A001
             doc="|x|. Gradient: g * sign(x) (0 at 0).", reject=("b", NotImplementedError, None))
absolute = abs
neg = _unary("neg", lambda xp, d: -d, lambda g, x, o: -g, None, float_only=False, quiet=False,
             doc="-x. Gradient: -g.",
             reject=("b", RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you "
                                        "are trying to invert a mask, use the `~` or `logical_not()` operator "
                                        "instead."))
negative = neg


def _square_fwd(xp, d):
    if d.dtype == np.bool_:
        d = d.astype(np.int64)  # PyTorch: square(bool) is pow(x, 2) in int64
    return d * d


square = _unary("square", _square_fwd, lambda g, x, o: g * x * 2, float_only=False,
                doc="x * x. Gradient: 2 g x.")


def _sign_fwd(xp, d):
    if d.dtype == np.bool_:
        return d.copy()
    r = xp.sign(d)
    if d.dtype.kind == "f":
        r = xp.where(xp.isnan(d), 0, r).astype(d.dtype, copy=False)  # PyTorch: sign(nan) == 0
    return r


sign = _unary("sign", _sign_fwd, lambda g, x, o: g * 0, None, float_only=False,
              doc="-1, 0 or 1 (0 for nan, as PyTorch). Gradient: zero.")
sgn = sign
_NO_BOOL = ("b", NotImplementedError, None)
floor = _unary("floor", lambda xp, d: xp.floor(d) if d.dtype.kind == "f" else d.copy(),
               lambda g, x, o: g * 0, None, float_only=False, doc="Round down. Gradient: zero.", reject=_NO_BOOL)
ceil = _unary("ceil", lambda xp, d: xp.ceil(d) if d.dtype.kind == "f" else d.copy(),
              lambda g, x, o: g * 0, None, float_only=False, doc="Round up. Gradient: zero.", reject=_NO_BOOL)
trunc = _unary("trunc", lambda xp, d: xp.trunc(d) if d.dtype.kind == "f" else d.copy(),
               lambda g, x, o: g * 0, None, float_only=False, doc="Round toward zero. Gradient: zero.",
               reject=_NO_BOOL)
fix = trunc
frac = _unary("frac", lambda xp, d: d - xp.trunc(d), lambda g, x, o: g, None, float_only=False,
              doc="x - trunc(x). Gradient: g.", reject=("biu", NotImplementedError, None))


def round(input, *, decimals=0):  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch). Gradient: zero."""
    d = input._data
    if d.dtype == np.bool_:
        raise NotImplementedError('"round" not implemented for \'Bool\'')
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
        try:
            return wrap(xp_of(ad if hasattr(ad, "dtype") else bd).asarray(ufunc(_as_bool(ad), _as_bool(bd))))
        except ValueError:
            raise broadcast_error(name, np.shape(ad), np.shape(bd)) from None
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
            if (hasattr(x, "dtype") and x.dtype.kind == "f") or isinstance(x, float):
                raise NotImplementedError(f'"{name}" not implemented for floating point operands: it is only '
                                          "supported for integer and bool tensors")
        try:
            return wrap(xp_of(ad if hasattr(ad, "dtype") else bd).asarray(ufunc(ad, bd)))
        except ValueError:
            raise broadcast_error(name, np.shape(ad), np.shape(bd)) from None
    op.__name__ = op.__qualname__ = name
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input):
    d = input._data
    if d.dtype.kind == "f":
        raise NotImplementedError('"bitwise_not" not implemented for floating point tensors: it is only '
                                  "supported for integer and bool tensors")
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
        if cond.dtype != np.uint8:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dt.from_numpy_dtype(cond.dtype)}")
        cond = cond.astype(bool)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two Python scalars: a 0-d tensor for one of them gives PyTorch's result dtype
        input = as_tensor_like(input, name="where")
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


def _minmax(name, cmp, ignore_nan=False):
    is_max = cmp is np.greater

    def op(input, other, *, out=None):
        a, b, ad, bd = binary_operands(input, other, name)
        xp = xp_of(ad if hasattr(ad, "dtype") else bd)
        if ignore_nan:
            f = xp.fmax if is_max else xp.fmin
        else:
            f = xp.maximum if is_max else xp.minimum
        try:
            r = wrap(xp.asarray(f(ad, bd)))
        except ValueError:
            raise broadcast_error(name, np.shape(ad), np.shape(bd)) from None
        if gm.enabled and ((a is not None and a.requires_grad) or (b is not None and b.requires_grad)):
            n = MaximumBackward(a, b)
            n.save(None, None)
            dt = r._data.dtype
            with np.errstate(invalid="ignore"):
                if ignore_nan:
                    # PyTorch: the whole gradient goes to input where it is chosen (ties included)
                    # or where other is nan, else to other
                    pa = (ad >= bd if is_max else ad <= bd) | xp.isnan(bd)
                    pa = xp.broadcast_to(pa, r._data.shape)
                    n.pick_a, n.pick_b = pa.astype(dt), (~pa).astype(dt)
                    n.tie = xp.zeros((), dtype=dt)
                else:
                    n.pick_a, n.pick_b = cmp(ad, bd).astype(dt), cmp(bd, ad).astype(dt)
                    n.tie = (ad == bd).astype(dt)
            attach(r, n)
        return _out(r, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise {name} of two tensors{' ignoring nan' if ignore_nan else ''}. Gradient goes to "
                  "the chosen input (split on ties).")
    return op


maximum = _minmax("maximum", np.greater)
minimum = _minmax("minimum", np.less)
fmax = _minmax("fmax", np.greater, ignore_nan=True)
fmin = _minmax("fmin", np.less, ignore_nan=True)


def lerp(input, end, weight):
    """``input + weight * (end - input)``."""
    return input + (end - input) * weight


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + tensor1 * tensor2 * value if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + tensor1 / tensor2 * value if value != 1 else input + tensor1 / tensor2


def atan2(input, other):
    """Angle of the point (other, input). Gradient: (g * other / r^2, -g * input / r^2)."""
    a, b, ad, bd = binary_operands(input, other, "atan2")
    ad, bd = _float_pair(ad, bd)
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


def _floatbinary_operands(input, other, op):
    """Both operands as Tensors of their promoted floating dtype (for composite binary ops)."""
    a, b, ad, bd = binary_operands(input, other, op)
    ad, bd = _float_pair(ad, bd)
    rd = ad.dtype if hasattr(ad, "dtype") else bd.dtype
    a = _cast(a, rd) if a is not None else wrap(xp_of(bd).asarray(ad, dtype=rd))
    b = _cast(b, rd) if b is not None else wrap(xp_of(ad).asarray(bd, dtype=rd))
    return a, b


def hypot(input, other):
    """sqrt(input^2 + other^2). Gradient: (g * input / out, g * other / out)."""
    a, b = _floatbinary_operands(input, other, "hypot")
    return sqrt(a * a + b * b)


def logaddexp(input, other):
    """log(e^input + e^other), without overflow. Gradient: (g * softmax weights)."""
    a, b = _floatbinary_operands(input, other, "logaddexp")
    m = maximum(a, b).detach()
    # shift by a finite max only: logaddexp(inf, inf) = inf and logaddexp(-inf, -inf) = -inf
    m = where(isfinite(m), m, 0.0)
    return m + log(exp(a - m) + exp(b - m))


def xlogy(input, other):
    """``input * log(other)``, 0 where input == 0 (nan where other is nan)."""
    a, b = _floatbinary_operands(input, other, "xlogy")
    with np.errstate(invalid="ignore"):  # 0 * log(0) = nan is expected: where() replaces it
        return where((a == 0) & ~isnan(b), 0.0, a * log(b))


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
    if t.requires_grad:
        if t.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with nerve.no_grad():` (as optimizers do), or operate on a copy.")
        b = t._base
        if b is not None and b.grad_fn is None and b.requires_grad:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with nerve.no_grad():`, or operate on a clone() of the leaf.")
    return True


def apply_inplace(t: Tensor, result: Tensor, op: str) -> Tensor:
    """Write ``result`` (computed out of place, maybe recorded) into ``t``'s memory.

    ``t`` takes over the result's history, so later backward passes go through the in-place op;
    nodes that saved ``t`` see its version bump and refuse to use the overwritten values. When
    ``t`` is a view of a base that requires grad (or the result does), the base's history is
    rebased instead (``rebase_view``, PyTorch's CopySlices).
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
        if (d.dtype.kind in "iub" and rd.dtype.kind == "f") or (d.dtype.kind == "b" and rd.dtype.kind in "iu"):
            raise RuntimeError(f"{op}: result type {_dt.from_numpy_dtype(rd.dtype)} can't be cast to the "
                               f"desired output type {t.dtype}")
    if not d.flags.writeable:
        raise RuntimeError(f"{op}: unsupported operation: the tensor is an expanded (read-only) view; "
                           "clone() it before writing")
    base = t._base
    if base is not None and gm.enabled and (result.requires_grad or base.requires_grad):
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with nerve.no_grad():`, or operate on a clone() of the leaf.")
        if t._view_fn is None:
            raise RuntimeError(
                f"{op}: in-place modification of this kind of view (made by an op that cannot be replayed on "
                "its base, e.g. a dtype view) is not supported when autograd records it; compute the new "
                "values out of place (e.g. with nerve.where or cat)")
        d[...] = rd
        t._vc[0] += 1
        rebase_view(t, result)
        return t
    d[...] = rd
    t._vc[0] += 1
    if gm.enabled:
        if result.requires_grad:
            t.grad_fn = result.grad_fn
            t.requires_grad = True
        elif t.grad_fn is not None:
            # the new values (a comparison, a fill, ...) no longer depend on the old history
            t.grad_fn = None
            t.requires_grad = False
    return t


class CopySlicesBackward(Node):
    """The base of a view after an in-place op on the view (PyTorch's ``CopySlices``).

    Inputs: the base's previous history and the view's new values. Gradient: the base's old
    history gets ``g`` with the view's region zeroed (``g * mask``), the new values get the view of
    ``g`` (the view recipe replayed on ``g``). Both are nerve ops, so double backward works.
    """

    __slots__ = ("view_fn",)

    def apply(self, g):
        gb = g * wrap(_outside_view(self.view_fn, g._data)) if self.next[0] is not None else None
        gv = _replay(self.view_fn, g) if self.next[1] is not None else None
        return gb, gv


def _replay(steps, t):
    """Apply the view recipes ``steps`` ((fn, arg), root first) to ``t``."""
    for fn, arg in steps:
        t = fn(t, arg)
    return t


def _outside_view(view_fn, like):
    """A constant array shaped like ``like``: 1 outside the region the view covers, 0 inside.

    The view is replayed on element positions, which is right even where a replayed reshape copies.
    Built at backward time, so the graph holds no base-sized array per in-place op.
    """
    xp = xp_of(like)
    with gm.no_grad():
        pos = _replay(view_fn, wrap(xp.arange(like.size).reshape(like.shape)))._data
    mask = xp.ones(like.size, dtype=like.dtype)
    mask[pos.ravel()] = 0
    return mask.reshape(like.shape)


def rebase_view(t: Tensor, result: Tensor) -> None:
    """Record that view ``t`` of a base now holds ``result``'s values (already written).

    The base takes a ``CopySlicesBackward`` node over its old history and ``result``; the view
    (and each view it was taken from, e.g. ``h`` in ``h = y.view(...); h[0].mul_(w)``) takes a
    fresh view node of the rebased base, so later uses of them differentiate through the in-place op.

    NOTE: other views of the same base made before the in-place op (siblings such as ``a`` in
    ``a = y[0]; y[0:2].mul_(w)``) keep their old ``grad_fn`` (PyTorch regenerates it lazily on a
    version mismatch). Their values are current, and nodes that saved them before the write still
    raise the in-place version error at backward, but a gradient flowing through such a stale view
    is routed into the base's pre-write history. Take the view again after the write.
    """
    base = t._base
    if base.grad_fn is None and base.requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in `with nerve.no_grad():`, or operate on a clone() of the leaf.")
    chain = []  # the view and the views it was taken from, root side first
    v = t
    while v is not None:
        chain.append(v)
        v = v._view_fn[2]
    chain.reverse()
    n = CopySlicesBackward(base, result)
    # (fn, arg) pairs, not the view tensors: the node must not keep the views (and so itself) alive
    n.view_fn = tuple(v._view_fn[:2] for v in chain)
    attach(base, n)
    # They all become views of the rebased base.
    cur = base
    for v in chain:
        fn, arg, _ = v._view_fn
        cur = fn(cur, arg)
        v.grad_fn = cur.grad_fn
        v.requires_grad = True


def reset_history(t: Tensor, op: str) -> None:
    """After raw values (a fill, a copy of a constant) were written into ``t`` under grad mode.

    ``t``'s old history no longer describes its values: a plain tensor is cut from the graph; a
    view of a base that requires grad rebases the base (the view's region then gets no gradient).
    """
    b = t._base
    if b is not None and b.requires_grad:
        if t._view_fn is None:
            raise RuntimeError(
                f"{op}: in-place modification of this kind of view (made by an op that cannot be replayed on "
                "its base, e.g. a dtype view) is not supported when autograd records it")
        rebase_view(t, wrap(t._data))
    elif t.grad_fn is not None:
        t.grad_fn = None
        t.requires_grad = False


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t`` standing for its value before an in-place update (PyTorch's ``original_self``).

    Ops whose backward reads their input (mul, div, log, ...) save this copy, so overwriting ``t``
    does not invalidate their own graph node.
    """
    s = wrap(t._data.copy())
    s.requires_grad = t.requires_grad
    s.grad_fn = t.grad_fn
    return s


def _inplace_of(name, fn, snapshot=False):
    """The in-place twin ``t.name(*args)`` of op ``fn``: computed out of place, then written into ``t``."""
    def op(self, *args, **kwargs):
        src = self
        if _check_inplace(self, name) and snapshot and needs_grad(
                self, *[a for a in args if isinstance(a, Tensor)]):
            src = _snapshot(self)
        return apply_inplace(self, fn(src, *args, **kwargs), name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place version of ``{fn.__name__}``."
    return op


def _make_inplace(name, fn, ufunc=None, snapshot=False, no_bool=False):
    """In-place arithmetic; unrecorded cases run as one NumPy ufunc with out= (optimizer hot path).

    Whatever the ufunc refuses (a cast PyTorch forbids, a read-only or too small output) goes to
    the general path, which raises PyTorch's error.
    """
    slow = _inplace_of(name, fn, snapshot)

    def op(self, other, *, alpha=1, **kwargs):
        if type(other) is Tensor:
            od = other._data
            record = gm.enabled and (self.requires_grad or other.requires_grad) and _check_inplace(self, name)
            skip = no_bool and od.dtype.kind == "b"
        else:
            od = other
            record = gm.enabled and self.requires_grad and _check_inplace(self, name)
            skip = no_bool and isinstance(od, (bool, np.bool_))
        if not record and ufunc is not None and not kwargs and not skip:
            d = self._data
            if type(od) is _np_float64:
                od = float(od)
            if alpha != 1:
                od = od * alpha
            try:
                ufunc(d, od, out=d, casting="same_kind")
            except (TypeError, ValueError):
                pass  # let the general path raise PyTorch's error
            else:
                self._vc[0] += 1
                return self
        if alpha != 1:
            kwargs["alpha"] = alpha
        return slow(self, other, **kwargs)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"In-place version of ``{fn.__name__}``."
    return op


add_ = _make_inplace("add_", add, np.add)
sub_ = _make_inplace("sub_", sub, np.subtract, no_bool=True)
mul_ = _make_inplace("mul_", mul, np.multiply, snapshot=True)
div_ = _make_inplace("div_", div, np.true_divide, snapshot=True)
pow_ = _inplace_of("pow_", pow, snapshot=True)
float_power_ = _inplace_of("float_power_", float_power, snapshot=True)
remainder_ = _inplace_of("remainder_", remainder, snapshot=True)
fmod_ = _inplace_of("fmod_", fmod, snapshot=True)
floor_divide_ = _inplace_of("floor_divide_", floor_divide)
atan2_ = _inplace_of("atan2_", atan2, snapshot=True)
hypot_ = _inplace_of("hypot_", hypot, snapshot=True)
xlogy_ = _inplace_of("xlogy_", xlogy, snapshot=True)
lerp_ = _inplace_of("lerp_", lerp)
addcmul_ = _inplace_of("addcmul_", addcmul)
addcdiv_ = _inplace_of("addcdiv_", addcdiv)
clamp_min_ = _inplace_of("clamp_min_", clamp_min)
clamp_max_ = _inplace_of("clamp_max_", clamp_max)
nan_to_num_ = _inplace_of("nan_to_num_", nan_to_num)


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place ``clamp``."""
    d = self._data
    if not (_check_inplace(self, "clamp_") and self.requires_grad) and d.dtype.kind == "f" \
            and d.flags.writeable and (min is not None or max is not None) \
            and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        xp_of(d).clip(d, min, max, out=d)
        self._vc[0] += 1
        return self
    return apply_inplace(self, clamp(self, min, max), "clamp_")


clip_ = clamp_

_UNARY_INPLACE = {
    # name: (op, whether its backward reads the input)
    "relu_": (relu, False), "neg_": (neg, False), "negative_": (neg, False), "abs_": (abs, True),
    "absolute_": (abs, True), "exp_": (exp, False), "expm1_": (expm1, False), "exp2_": (exp2, False),
    "log_": (log, True), "log1p_": (log1p, True), "log2_": (log2, True), "log10_": (log10, True),
    "sqrt_": (sqrt, False), "rsqrt_": (rsqrt, False), "sin_": (sin, True), "cos_": (cos, True),
    "tan_": (tan, False), "asin_": (asin, True), "acos_": (acos, True), "atan_": (atan, True),
    "arcsin_": (asin, True), "arccos_": (acos, True), "arctan_": (atan, True), "sinh_": (sinh, True),
    "cosh_": (cosh, True), "tanh_": (tanh, False), "asinh_": (asinh, True), "atanh_": (atanh, True),
    "acosh_": (acosh, True), "arcsinh_": (asinh, True), "arctanh_": (atanh, True), "arccosh_": (acosh, True),
    "sigmoid_": (sigmoid, False), "reciprocal_": (reciprocal, False), "erf_": (erf, True),
    "erfc_": (erfc, True), "erfinv_": (erfinv, False), "square_": (square, True), "sign_": (sign, False),
    "sgn_": (sign, False), "floor_": (floor, False), "ceil_": (ceil, False), "trunc_": (trunc, False),
    "fix_": (trunc, False), "frac_": (frac, False), "round_": (round, False),
    "logical_not_": (logical_not, False), "bitwise_not_": (bitwise_not, False),
}
_BINARY_INPLACE = {
    "eq_": eq, "ne_": ne, "lt_": lt, "le_": le, "gt_": gt, "ge_": ge, "greater_": gt, "greater_equal_": ge,
    "less_": lt, "less_equal_": le, "not_equal_": ne, "logical_and_": logical_and, "logical_or_": logical_or,
    "logical_xor_": logical_xor, "bitwise_and_": bitwise_and, "bitwise_or_": bitwise_or,
    "bitwise_xor_": bitwise_xor,
}
_inplace_methods = {n: _inplace_of(n, f, snap) for n, (f, snap) in _UNARY_INPLACE.items()}
_inplace_methods.update({n: _inplace_of(n, f) for n, f in _BINARY_INPLACE.items()})
relu_ = _inplace_methods["relu_"]
neg_ = _inplace_methods["neg_"]
abs_ = _inplace_methods["abs_"]
exp_ = _inplace_methods["exp_"]
log_ = _inplace_methods["log_"]
sqrt_ = _inplace_methods["sqrt_"]
sigmoid_ = _inplace_methods["sigmoid_"]
tanh_ = _inplace_methods["tanh_"]
floor_ = _inplace_methods["floor_"]
round_ = _inplace_methods["round_"]


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
    "__ifloordiv__": lambda s, o: floor_divide_(s, o), "__imod__": lambda s, o: remainder_(s, o),
    "__ipow__": lambda s, o: pow_(s, o), "__iand__": lambda s, o: _inplace_methods["bitwise_and_"](s, o),
    "__ior__": lambda s, o: _inplace_methods["bitwise_or_"](s, o),
    "__ixor__": lambda s, o: _inplace_methods["bitwise_xor_"](s, o),
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div, "divide": div,
    "true_divide": div, "floor_divide": floor_divide, "remainder": remainder, "fmod": fmod, "pow": pow,
    "float_power": float_power, "rsub": rsub,
    "add_": add_, "sub_": sub_, "subtract_": sub_, "mul_": mul_, "multiply_": mul_, "div_": div_,
    "divide_": div_, "true_divide_": div_, "pow_": pow_, "float_power_": float_power_, "remainder_": remainder_,
    "fmod_": fmod_, "floor_divide_": floor_divide_, "atan2_": atan2_, "arctan2_": atan2_, "hypot_": hypot_,
    "xlogy_": xlogy_, "lerp_": lerp_, "addcmul_": addcmul_, "addcdiv_": addcdiv_, "clamp_": clamp_,
    "clip_": clamp_, "clamp_min_": clamp_min_, "clamp_max_": clamp_max_, "nan_to_num_": nan_to_num_,
    **_inplace_methods,
    "exp": exp, "expm1": expm1, "exp2": exp2, "log": log, "log1p": log1p, "log2": log2, "log10": log10,
    "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos,
    "atan": atan, "arcsin": asin, "arccos": acos, "arctan": atan, "acosh": acosh, "arccosh": acosh,
    "arcsinh": asinh, "arctanh": atanh, "sinh": sinh, "cosh": cosh,
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
    "maximum": maximum, "minimum": minimum, "fmax": fmax, "fmin": fmin, "lerp": lerp,
    "addcmul": addcmul, "addcdiv": addcdiv, "atan2": atan2, "arctan2": atan2, "hypot": hypot,
    "logaddexp": logaddexp, "xlogy": xlogy, "nan_to_num": nan_to_num,
})

__all__ = [
    "abs", "absolute", "acos", "acosh", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctanh", "addcdiv", "addcmul", "allclose", "arctan2", "asin", "asinh", "atan",
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
