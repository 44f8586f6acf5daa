"""Op-table entries: elementwise arithmetic, unary math, comparisons, logic, where/clamp, in-place ops.

Every op in ``nerve.ops.elementwise.__all__`` that PyTorch has is covered, with float32/float64
samples (broadcasting, size-1, size-0, 0-d, non-contiguous) and dtype-promotion samples mixing
int/bool tensors, Python scalars and 0-d tensors, whose result dtype must equal PyTorch's.
"""
import numpy as np

from . import OpInfo, Sample, bools, distinct, ints, make, noncontig, transposed

NAN, INF = float("nan"), float("inf")


def binary_samples(rng, dt, positive_b=False, away=None):
    """Broadcasting, size-1, size-0, scalar and non-contiguous cases for a binary op."""
    mk = lambda *s, **k: make(rng, s, dt, **k)  # noqa: E731
    bk = dict(positive=positive_b)
    return [
        Sample((mk(3, 4), mk(3, 4, **bk)), name="same"),
        Sample((mk(2, 3, 4), mk(4, **bk)), name="broadcast-trailing"),
        Sample((mk(3, 1), mk(1, 4, **bk)), name="broadcast-both"),
        Sample((mk(1), mk(2, 3, **bk)), name="size1"),
        Sample((mk(0, 3), mk(3, **bk)), name="size0"),
        Sample((mk(), mk(3, **bk)), name="0d"),
        Sample((noncontig(mk(3, 4)), transposed(mk(3, 4, **bk))), name="noncontig"),
        Sample((mk(3, 4), 2.5 if not positive_b else 1.5), name="scalar"),
    ]


def unary_samples(rng, dt, **kw):
    mk = lambda *s: make(rng, s, dt, **kw)  # noqa: E731
    return [
        Sample((mk(3, 4),), name="2d"),
        Sample((mk(),), name="0d"),
        Sample((mk(0, 2),), name="size0"),
        Sample((mk(1, 5),), name="size1"),
        Sample((noncontig(mk(2, 3, 4)),), name="noncontig"),
        Sample((transposed(mk(3, 2)),), name="transposed"),
    ]


def unary_int_samples(rng, dt, low=-3, high=4, **kw):
    """unary_samples plus integer and 0-d integer inputs (the result dtype must match PyTorch's)."""
    return unary_samples(rng, dt, **kw) + [
        Sample((ints(rng, (2, 3), low, high),), name="int64"),
        Sample((ints(rng, (4,), low, high, np.int32),), name="int32"),
        Sample((ints(rng, (), low, high),), name="int-0d"),
    ]


def unit_samples(rng, dt):
    """Inputs inside (-1, 1) for asin/acos/atanh/erfinv."""
    return unary_samples(rng, dt, low=-0.9, high=0.9)


def nonint(rng, shape, dt, avoid_half=False):
    """Floats whose fractional part stays away from 0 (and from .5 when ``avoid_half``): for floor/round/%."""
    k = rng.integers(-3, 3, size=shape)
    if avoid_half:
        f = rng.choice([0.15, 0.3, 0.65, 0.8], size=shape) + rng.uniform(0, 0.05, size=shape)
    else:
        f = rng.uniform(0.15, 0.85, size=shape)
    return np.asarray(k + f, dtype=dt)


def rounding_samples(rng, dt, avoid_half=False):
    nk = lambda *s: nonint(rng, s, dt, avoid_half)  # noqa: E731
    return [
        Sample((nk(3, 4),), name="2d"),
        Sample((nk(),), name="0d"),
        Sample((nk(0, 2),), name="size0"),
        Sample((noncontig(nk(2, 3)),), name="noncontig"),
        Sample((ints(rng, (2, 3)),), name="int64"),
    ]


def specials(dt):
    """nan, +-inf, +-0 and ordinary values."""
    return np.array([NAN, INF, -INF, 0.0, -0.0, 1.5, -2.0, 3e38 if dt == np.float32 else 1e300], dtype=dt)


def special_samples(rng, dt):
    return [
        Sample((specials(dt),), name="specials"),
        Sample((specials(dt).reshape(2, 4).T,), name="specials-T"),
        Sample((make(rng, (2, 3), dt),), name="finite"),
        Sample((np.array(NAN, dtype=dt),), name="0d-nan"),
        Sample((ints(rng, (3,)),), name="int"),
        Sample((bools(rng, (3,)),), name="bool"),
    ]


def promo_samples(rng, dt, bool_ok=True, zero_ok=True):
    """Mixed-dtype operands; PyTorch's promotion decides every result dtype.

    Covers int/bool tensors with float tensors and Python scalars, 0-d tensors of another dtype
    (lower priority than dimensioned tensors of the same category) and Python scalars on both sides.
    """
    lo = -3 if zero_ok else 1
    f = lambda *s: make(rng, s, dt, positive=not zero_ok)  # noqa: E731
    i = lambda *s, d=np.int64: ints(rng, s, lo, 4, d) if zero_ok else ints(rng, s, 1, 4, d)  # noqa: E731
    f64_0d = np.asarray(1.75, dtype=np.float64)
    out = [
        Sample((i(2, 3), f(2, 3)), name="int64-float"),
        Sample((f(2, 3), i(3)), name="float-int64"),
        Sample((i(2, 3), i(3)), name="int-int"),
        Sample((i(3, d=np.int32), i(3)), name="int32-int64"),
        Sample((i(3, d=np.int32), i(d=np.int64)), name="int32-int64_0d"),
        Sample((i(3, d=np.uint8) if zero_ok else ints(rng, (3,), 1, 4, np.uint8), i(3, d=np.int16)),
               name="uint8-int16"),
        Sample((make(rng, (3,), np.float32, positive=not zero_ok), f64_0d), name="f32-f64_0d"),
        Sample((f64_0d, make(rng, (3,), np.float32, positive=not zero_ok)), name="f64_0d-f32"),
        Sample((i(3), f64_0d), name="int-f64_0d"),
        Sample((make(rng, (), np.float32, positive=not zero_ok), i(3, d=np.int32)), name="f32_0d-int32"),
        Sample((i(2, 3), 2.5), name="int-pyfloat"),
        Sample((2.5, i(3)), name="pyfloat-int"),
        Sample((i(3, d=np.int32), 2), name="int32-pyint"),
        Sample((3, i(3, d=np.int32)), name="pyint-int32"),
        Sample((f(3), 2), name="float-pyint"),
    ]
    if bool_ok:
        out += [
            Sample((f(3), True), name="float-pybool"),
            Sample((bools(rng, (3,)), bools(rng, (3,)) | (not zero_ok)), name="bool-bool"),
            Sample((bools(rng, (2, 3)), f(3)), name="bool-float"),
            Sample((bools(rng, (3,)), 2), name="bool-pyint"),
            Sample((bools(rng, (3,)), 2.5), name="bool-pyfloat"),
            Sample((i(3), bools(rng, (3,)) | (not zero_ok)), name="int-bool"),
        ]
    return out


def mod_samples(rng, dt):
    """Operands whose quotient stays away from integers (where % jumps)."""
    b = make(rng, (3, 4), dt, positive=True) * np.where(rng.random((3, 4)) < 0.5, -1, 1).astype(dt)
    a = b * nonint(rng, (3, 4), np.float64)
    b2 = make(rng, (4,), dt, positive=True)
    a2 = b2 * nonint(rng, (2, 4), np.float64)
    return [
        Sample((a.astype(dt), b), name="same"),
        Sample((a2.astype(dt), b2), name="broadcast"),
        Sample((np.asarray(2.7, dt), np.asarray(1.1, dt)), name="0d"),
        Sample((nonint(rng, (3,), dt), 1.0), name="scalar"),
        Sample((make(rng, (0, 2), dt), make(rng, (2,), dt, positive=True)), name="size0"),
    ]


def int_div_samples(rng, dt):
    return [Sample((ints(rng, (2, 3), -7, 8), ints(rng, (3,), 1, 4) * np.array([1, -1, 1])), name="int"),
            Sample((ints(rng, (4,), -7, 8, np.int32), 3), name="int32-pyint")]


def where_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((bools(rng, (3, 4)), mk(3, 4), mk(3, 4)), name="same"),
        Sample((bools(rng, (3, 1)), mk(1, 4), mk(3, 4)), name="broadcast"),
        Sample((bools(rng, (2, 3, 4)), mk(4), mk(3, 1)), name="broadcast-cond-largest"),
        Sample((bools(rng, ()), mk(2), mk()), name="0d"),
        Sample((bools(rng, (0, 3)), mk(3), mk(0, 3)), name="size0"),
        Sample((bools(rng, (3, 4)), noncontig(mk(3, 4)), transposed(mk(3, 4))), name="noncontig"),
        Sample((bools(rng, (3,)), mk(3), 0.5), name="scalar-other"),
        Sample((bools(rng, (3,)), -1.0, mk(3)), name="scalar-input"),
        Sample((bools(rng, (3,)), ints(rng, (3,)), mk(3)), name="int-float"),
        Sample((bools(rng, (3,)), make(rng, (3,), np.float32), np.asarray(2.0)), name="f32-f64_0d"),
        Sample((bools(rng, (3,)), ints(rng, (3,)), 2.5), name="int-pyfloat"),
        Sample((bools(rng, (3,)), 1, 0), name="pyint-pyint"),
        Sample((bools(rng, (3,)), 1.0, 0), name="pyfloat-pyint"),
        Sample((bools(rng, (3,)), True, False), name="pybool-pybool"),
        Sample((ints(rng, (3,)), mk(3), mk(3)), name="int-cond", raises=RuntimeError, match="boolean"),
        Sample((bools(rng, (2,)), mk(3), mk(3)), name="bad-shape", raises=RuntimeError),
    ]


def clamp_samples(rng, dt):
    mk = lambda *s, **k: make(rng, s, dt, **k)  # noqa: E731
    # keep inputs 0.1 away from the bounds: the gradient jumps there
    x = lambda *s: np.asarray(np.where(np.abs(np.abs(mk(*s)) - 1.0) < 0.1, 0.3, mk(*s)), dtype=dt)  # noqa: E731
    return [
        Sample((x(3, 4),), dict(min=-1.0, max=1.0), name="both"),
        Sample((x(3, 4),), dict(min=-1.0), name="min-only"),
        Sample((x(3, 4),), dict(max=1.0), name="max-only"),
        Sample((x(),), dict(min=-1.0, max=1.0), name="0d"),
        Sample((x(0, 3),), dict(min=-1.0, max=1.0), name="size0"),
        Sample((noncontig(x(2, 3)),), dict(min=-1, max=1), name="noncontig-int-bounds"),
        Sample((x(3),), dict(min=1.0, max=-1.0), name="min>max"),
        Sample((ints(rng, (2, 3)),), dict(min=-1, max=2), name="int"),
        Sample((ints(rng, (2, 3)),), dict(min=-1.5, max=2.5), name="int-float-bounds"),
        Sample((x(3),), {}, name="no-bounds", raises=RuntimeError),
    ]


def clamp_tensor_samples(rng, dt):
    d = lambda *s: distinct(rng, s, dt, -2.0, 2.0, gap=0.2)  # noqa: E731
    vals = d(3, 12)
    x, lo, hi = vals[0].reshape(3, 4), vals[1].reshape(3, 4) - 1.0, vals[2].reshape(3, 4) + 1.0
    return [
        Sample((x, lo, hi), name="both"),
        Sample((x, lo[0], hi[:, :1]), name="broadcast-bounds"),
        Sample((x, lo, None), name="min-only"),
        Sample((x, None, hi), name="max-only"),
        Sample((np.asarray(x[0, 0]), lo[0], hi[0]), name="0d-input"),
    ]


def lerp_samples(rng, dt):
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4), mk(3, 4), 0.3), name="scalar-weight"),
        Sample((mk(3, 4), mk(4), mk(3, 1)), name="tensor-weight-broadcast"),
        Sample((mk(), mk(2), mk(2)), name="0d"),
        Sample((noncontig(mk(2, 3)), mk(2, 3), 1.5), name="noncontig"),
    ]


def addc_samples(rng, dt, positive_c=False):
    mk = lambda *s, **k: make(rng, s, dt, **k)  # noqa: E731
    c = dict(positive=positive_c)
    return [
        Sample((mk(3, 4), mk(3, 4), mk(3, 4, **c)), name="same"),
        Sample((mk(3, 4), mk(4), mk(3, 1, **c)), dict(value=0.5), name="broadcast-value"),
        Sample((mk(), mk(2), mk(2, **c)), dict(value=-2), name="0d"),
    ]


def inplace(name, clone=True):
    """``fn`` calling ``t.name_(...)`` on a non-leaf copy of the first arg (so gradients flow through it)."""
    def fn(lib, a, *args, **kwargs):
        x = a.clone() if clone else a.detach().clone()
        r = getattr(x, name)(*args, **kwargs)
        assert r is x, f"{name} must return self"
        return r
    return fn


def logic_samples(rng, dt):
    """Values on a 0.5 grid so that equal elements occur."""
    g = lambda *s: np.asarray(rng.integers(-2, 3, size=s) * 0.5, dtype=dt)  # noqa: E731
    return [
        Sample((g(3, 4), g(3, 4)), name="same"),
        Sample((g(2, 3, 4), g(4)), name="broadcast"),
        Sample((g(), g(3)), name="0d"),
        Sample((g(0, 3), g(3)), name="size0"),
        Sample((noncontig(g(3, 4)), transposed(g(3, 4))), name="noncontig"),
        Sample((g(3, 4), 0.5), name="pyfloat"),
        Sample((g(3, 4), 0), name="pyint"),
        Sample((ints(rng, (2, 3)), g(3)), name="int-float"),
        Sample((ints(rng, (2, 3)), ints(rng, (3,))), name="int-int"),
        Sample((bools(rng, (3,)), bools(rng, (3,))), name="bool-bool"),
        Sample((bools(rng, (3,)), 1), name="bool-pyint"),
        Sample((g(3), np.asarray(0.5)), name="f-f64_0d"),
    ]


def bit_samples(rng, dt):
    return [
        Sample((ints(rng, (3, 4), -8, 8), ints(rng, (3, 4), -8, 8)), name="int"),
        Sample((ints(rng, (2, 3), 0, 8, np.int32), ints(rng, (3,), 0, 8)), name="int32-int64-broadcast"),
        Sample((bools(rng, (3, 4)), bools(rng, (4,))), name="bool"),
        Sample((ints(rng, (3,), 0, 8), 5), name="pyint"),
        Sample((bools(rng, (3,)), True), name="pybool"),
        Sample((bools(rng, (3,)), ints(rng, (3,))), name="bool-int"),
        Sample((make(rng, (3,), dt), make(rng, (3,), dt)), name="float", raises=RuntimeError),
    ]


def binary_fn(op):
    return lambda lib, a, b: getattr(lib, op)(a, b)


def unary_fn(op):
    return lambda lib, a: getattr(lib, op)(a)


def _no_bool(samples):
    return [s for s in samples if "bool" not in s.name]


def _distinct_pair(rng, dt):
    """binary_samples with no ties between the operands (maximum/minimum kinks)."""
    out = []
    for s in binary_samples(rng, dt):
        args = list(s.args)
        if isinstance(args[1], np.ndarray) and isinstance(args[0], np.ndarray):
            a, b = np.broadcast_arrays(args[0], args[1])
            if a.size:
                args[1] = np.asarray(np.where(np.abs(args[0] - args[1]) < 0.1, args[1] + 0.3, args[1]),
                                     dtype=dt) if args[0].shape == args[1].shape else args[1]
        out.append(Sample(tuple(args), s.kwargs, name=s.name))
    # guarantee distinct values: rebuild the broadcast cases from one distinct pool
    pool = distinct(rng, (24,), dt, gap=0.1)
    out[1] = Sample((pool[:24].reshape(2, 3, 4)[:, :, :], pool[[0, 5, 10, 15]] + 0.05), name="broadcast-trailing")
    out[2] = Sample((pool[:3].reshape(3, 1), pool[3:7].reshape(1, 4)), name="broadcast-both")
    out[3] = Sample((pool[7:8], pool[8:14].reshape(2, 3)), name="size1")
    out[5] = Sample((np.asarray(pool[14]), pool[15:18]), name="0d")
    return [s for s in out if s.name != "scalar"]


def _unary_entries():
    # name, samples, kwargs for OpInfo
    u = unary_samples
    ui = unary_int_samples
    return [
        ("exp", ui, {}), ("expm1", ui, {}), ("exp2", ui, {}),
        ("log", lambda r, d: u(r, d, positive=True) + [Sample((ints(r, (3,), 1, 5),), name="int")], {}),
        ("log1p", lambda r, d: u(r, d, positive=True), {}),
        ("log2", lambda r, d: u(r, d, positive=True), {}),
        ("log10", lambda r, d: u(r, d, positive=True), {}),
        ("sqrt", lambda r, d: u(r, d, positive=True) + [Sample((ints(r, (3,), 1, 5),), name="int")], {}),
        ("rsqrt", lambda r, d: u(r, d, positive=True), {}),
        ("sin", ui, {}), ("cos", ui, {}), ("tan", lambda r, d: u(r, d, low=-1.2, high=1.2), {}),
        ("asin", unit_samples, {}), ("acos", unit_samples, {}), ("atan", ui, {}),
        ("arcsin", unit_samples, {}), ("arccos", unit_samples, {}), ("arctan", u, {}),
        ("sinh", ui, {}), ("cosh", ui, {}), ("tanh", ui, {}),
        ("asinh", ui, {}), ("atanh", unit_samples, {}), ("arcsinh", u, {}), ("arctanh", unit_samples, {}),
        ("acosh", lambda r, d: u(r, d, low=1.2, high=3.0), {}),
        ("arccosh", lambda r, d: u(r, d, low=1.2, high=3.0), {}),
        ("sigmoid", lambda r, d: ui(r, d) + [Sample((np.array([-100.0, -20.0, 0.0, 20.0, 100.0], dtype=d),),
                                                   name="large")], {}),
        ("reciprocal", lambda r, d: u(r, d, away_from=0.0), {}),
        ("erf", ui, {}), ("erfc", ui, {}), ("erfinv", unit_samples, {}),
        ("relu", lambda r, d: ui(r, d, away_from=0.0), {}),
        ("abs", lambda r, d: ui(r, d, away_from=0.0), {}),
        ("absolute", lambda r, d: u(r, d, away_from=0.0), {}),
        ("neg", ui, {}), ("negative", u, {}),
        ("square", lambda r, d: ui(r, d) + [Sample((bools(r, (3,)),), name="bool")], {}),
        ("sign", lambda r, d: ui(r, d, away_from=0.0) + [Sample((bools(r, (3,)),), name="bool")], {}),
        ("sgn", lambda r, d: u(r, d, away_from=0.0), {}),
        ("floor", rounding_samples, {}), ("ceil", rounding_samples, {}), ("trunc", rounding_samples, {}),
        ("fix", rounding_samples, {}),
        ("round", lambda r, d: rounding_samples(r, d, avoid_half=True), {}),
        ("frac", lambda r, d: rounding_samples(r, d)[:-1], {}),
    ]


def _unary_ops():
    ops = []
    for name, samples, kw in _unary_entries():
        ops.append(OpInfo(name, unary_fn(name), samples, **kw))
        ops.append(OpInfo(f"Tensor.{name}", lambda lib, a, _n=name: getattr(a, _n)(),
                          lambda r, d, _s=samples: _s(r, d)[:2], **kw))
    return ops


def pow_samples(rng, dt):
    p = lambda *s: make(rng, s, dt, positive=True)  # noqa: E731
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((p(3, 4), mk(3, 4)), name="same"),
        Sample((p(2, 3), mk(3)), name="broadcast"),
        Sample((p(), mk(2, 2)), name="0d-base"),
        Sample((p(0, 2), mk(2)), name="size0"),
        Sample((noncontig(p(3, 4)), transposed(mk(3, 4))), name="noncontig"),
        Sample((mk(3, 4), ints(rng, (3, 4), 0, 4)), name="float-int-exponent"),
        Sample((ints(rng, (3, 4), -3, 4), ints(rng, (3, 4), 0, 4)), name="int-int"),
        Sample((ints(rng, (8,), -2, 3), np.array([-1, -2, -3, 0, 1, 2, -1, -2])), name="int-negative-exponent"),
        Sample((ints(rng, (3,), 1, 4, np.int32), ints(rng, (3,), 0, 3)), name="int32-int64"),
        Sample((ints(rng, (3,), 1, 4), 2.5), name="int-pyfloat"),
        Sample((ints(rng, (3,), 1, 4), p(3)), name="int-float"),
        Sample((p(3), np.asarray(2.0)), name="f-f64_0d"),
        Sample((bools(rng, (3,)), True), name="bool-pybool"),
        Sample((bools(rng, (3,)), False), name="bool-pybool-false"),
        Sample((bools(rng, (3,)), 2), name="bool-pyint"),
        Sample((ints(rng, (3,), 1, 4), -1), name="int-neg-pyint", raises=RuntimeError, match="negative"),
    ]


def pow_scalar_samples(rng, dt):
    p = lambda *s: make(rng, s, dt, positive=True)  # noqa: E731
    mk = lambda *s: make(rng, s, dt)  # noqa: E731
    return [
        Sample((mk(3, 4), 3), name="int3"),
        Sample((mk(3, 4), 2), name="square"),
        Sample((mk(2, 3), 0), name="zero"),
        Sample((mk(2, 3), 1), name="one"),
        Sample((p(2, 3), 0.5), name="sqrt"),
        Sample((p(2, 3), -1.5), name="neg-float"),
        Sample((mk(3), -2), name="neg-int"),
        Sample((p(), 2.5), name="0d"),
        Sample((noncontig(p(2, 3)), 1.7), name="noncontig"),
        Sample((p(0, 3), 3.0), name="size0"),
    ]


def _promo(op, fn, bool_ok=True, zero_ok=True, **kw):
    return OpInfo(f"{op}_promote", fn, lambda r, d: promo_samples(r, d, bool_ok=bool_ok, zero_ok=zero_ok), **kw)


OPS = [
    # ------------------------------------------------------------------ arithmetic
    OpInfo("add", lambda lib, a, b: lib.add(a, b), binary_samples),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2), lambda r, d: binary_samples(r, d)[:3]),
    OpInfo("add_alpha_float", lambda lib, a, b: lib.add(a, b, alpha=0.5), lambda r, d: binary_samples(r, d)[:3] + [
        Sample((ints(r, (3,)), ints(r, (3,))), name="int-float-alpha", raises=RuntimeError, match="alpha")]),
    OpInfo("add_operator", lambda lib, a, b: a + b, lambda r, d: binary_samples(r, d) + [
        Sample((make(r, (3,), d), make(r, (4,), d)), name="bad-broadcast", raises=RuntimeError, match="broadcast"),
        Sample((make(r, (2, 3), d), make(r, (3, 2), d)), name="bad-broadcast-2d", raises=RuntimeError)]),
    OpInfo("radd_scalar", lambda lib, a: 2.5 + a, unary_int_samples),
    OpInfo("radd_int", lambda lib, a: 3 + a, unary_int_samples),
    _promo("add", lambda lib, a, b: a + b),
    OpInfo("add_bool_alpha", lambda lib, a, b: lib.add(a, b, alpha=2), lambda r, d: [
        Sample((bools(r, (3,)), bools(r, (3,))), name="bool-bool"),
        Sample((bools(r, (3,)), True), name="bool-pybool")], supports_grad=False),
    OpInfo("sub", lambda lib, a, b: lib.sub(a, b), binary_samples),
    OpInfo("sub_operator", lambda lib, a, b: a - b, lambda r, d: binary_samples(r, d) + [
        Sample((bools(r, (3,)), bools(r, (3,))), name="bool-bool", raises=RuntimeError, match="bool"),
        Sample((make(r, (3,), d), bools(r, (3,))), name="float-bool", raises=RuntimeError, match="bool"),
        Sample((bools(r, (3,)), 1), name="bool-pyint", raises=RuntimeError, match="bool")]),
    OpInfo("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), lambda r, d: binary_samples(r, d)[:4]),
    OpInfo("subtract", binary_fn("subtract"), lambda r, d: binary_samples(r, d)[:2]),
    OpInfo("rsub_scalar", lambda lib, a: 2.0 - a, unary_int_samples),
    OpInfo("rsub_int", lambda lib, a: 3 - a, unary_int_samples),
    OpInfo("rsub", lambda lib, a, b: lib.rsub(a, b), lambda r, d: binary_samples(r, d)[:3]),
    OpInfo("rsub_alpha", lambda lib, a, b: lib.rsub(a, b, alpha=2), lambda r, d: binary_samples(r, d)[:3]),
    _promo("sub", lambda lib, a, b: a - b, bool_ok=False),
    OpInfo("mul", lambda lib, a, b: a * b, binary_samples),
    OpInfo("multiply", binary_fn("multiply"), lambda r, d: binary_samples(r, d)[:2]),
    OpInfo("mul_self", lambda lib, a: a * a, unary_samples),
    OpInfo("rmul_scalar", lambda lib, a: 3 * a, unary_int_samples),
    _promo("mul", lambda lib, a, b: a * b),
    OpInfo("div", lambda lib, a, b: a / b, lambda r, d: binary_samples(r, d, positive_b=True)),
    OpInfo("divide", binary_fn("divide"), lambda r, d: binary_samples(r, d, positive_b=True)[:2]),
    OpInfo("true_divide", binary_fn("true_divide"), lambda r, d: binary_samples(r, d, positive_b=True)[:2]),
    OpInfo("rdiv_scalar", lambda lib, a: 2.0 / a, lambda r, d: unary_samples(r, d, positive=True)),
    OpInfo("rdiv_int", lambda lib, a: 2 / a, lambda r, d: unary_int_samples(r, d, positive=True, low=1, high=5)),
    _promo("div", lambda lib, a, b: a / b, zero_ok=False),
    OpInfo("div_by_zero_float", lambda lib, a, b: a / b, lambda r, d: [
        Sample((np.array([1.0, -1.0, 0.0], dtype=d), np.zeros(3, dtype=d)), name="float"),
        Sample((np.array([1, -1, 0]), np.zeros(3, dtype=np.int64)), name="int")], supports_grad=False),
    OpInfo("div_floor", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), lambda r, d: mod_samples(r, d) + [
        *int_div_samples(r, d)]),
    OpInfo("div_trunc", lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), lambda r, d: mod_samples(r, d)
           + int_div_samples(r, d) + [
               Sample((np.array([-7, 7, -9, 9, 6]), np.array([2, 2, -4, -4, -3])), name="int-signs")]),
    OpInfo("div_bad_mode", lambda lib, a, b: lib.div(a, b, rounding_mode="round"), lambda r, d: [
        Sample((make(r, (3,), d), make(r, (3,), d)), raises=RuntimeError, match="rounding_mode")]),
    OpInfo("floor_divide", lambda lib, a, b: a // b, lambda r, d: mod_samples(r, d) + int_div_samples(r, d) + [
        Sample((ints(r, (3,)), np.array([1, 0, 2])), name="int-zero", raises=RuntimeError, match="ZeroDivision"),
        Sample((ints(r, (3,)), 0), name="int-pyzero", raises=RuntimeError, match="ZeroDivision")],
        supports_grad=False),
    OpInfo("rfloordiv", lambda lib, a: 7 // a, lambda r, d: [Sample((ints(r, (4,), 1, 5),), name="int"),
                                                              Sample((nonint(r, (4,), d),), name="float")],
           supports_grad=False),
    _promo("floor_divide", lambda lib, a, b: lib.floor_divide(a, b), bool_ok=False, zero_ok=False,
           supports_grad=False),
    OpInfo("remainder", lambda lib, a, b: lib.remainder(a, b), lambda r, d: mod_samples(r, d) + int_div_samples(r, d)
           + [Sample((ints(r, (3,)), np.array([1, 0, 2])), name="int-zero", raises=RuntimeError)]),
    OpInfo("mod_operator", lambda lib, a, b: a % b, mod_samples),
    OpInfo("rmod", lambda lib, a: 7.5 % a, lambda r, d: [  # PyTorch has no derivative for it
        Sample((np.asarray([2.0, -3.1, 1.7, 4.1], dtype=d),), name="float"),
        Sample((ints(r, (4,), 1, 5),), name="int")], supports_grad=False),
    _promo("remainder", lambda lib, a, b: lib.remainder(a, b), bool_ok=False, zero_ok=False),
    OpInfo("fmod", lambda lib, a, b: lib.fmod(a, b), lambda r, d: mod_samples(r, d) + int_div_samples(r, d) + [
        Sample((ints(r, (3,)), 0), name="int-pyzero", raises=RuntimeError)]),
    OpInfo("fmod_promote", binary_fn("fmod"), lambda r, d: [  # torch.fmod takes no scalar first operand
        s for s in promo_samples(r, d, bool_ok=False, zero_ok=False) if not s.name.startswith("py")]),
    OpInfo("pow_scalar", lambda lib, a, e: a ** e, pow_scalar_samples),
    OpInfo("pow_tensor", lambda lib, a, b: a ** b, pow_samples),
    OpInfo("pow_fn", lambda lib, a, b: lib.pow(a, b), lambda r, d: pow_samples(r, d)[:3]),
    OpInfo("rpow", lambda lib, a: 3 ** a, unary_int_samples),
    OpInfo("rpow_float", lambda lib, a: 2.5 ** a, lambda r, d: unary_int_samples(r, d, low=0, high=4)),
    OpInfo("pow_promote", lambda lib, a, b: a ** b, lambda r, d: [
        s for s in promo_samples(r, d, zero_ok=False) if s.name not in ("bool-bool", "int-bool")]),
    OpInfo("float_power", lambda lib, a, b: lib.float_power(a, b), lambda r, d: pow_samples(r, d)[:6] + [
        Sample((make(r, (3,), d, positive=True), 2), name="pyint"),
        Sample((ints(r, (3,), 1, 4), ints(r, (3,), -2, 3)), name="int-int"),
        Sample((2.5, make(r, (3,), d)), name="pyfloat-base")]),
    OpInfo("Tensor.float_power", lambda lib, a: a.float_power(2), lambda r, d: unary_samples(r, d)[:2]),
    # ------------------------------------------------------------------ unary math
    *_unary_ops(),
    OpInfo("round_decimals", lambda lib, a: lib.round(a, decimals=2),
           lambda r, d: [Sample((np.array([1.2345, -2.5678, 0.125, 3.0], dtype=d) + 0.0001,), name="1d")],
           supports_grad=True),
    OpInfo("round_half_even", lambda lib, a: lib.round(a),
           lambda r, d: [Sample((np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], dtype=d),), name="halves")],
           supports_grad=False),
    OpInfo("neg_operator", lambda lib, a: -a, lambda r, d: unary_int_samples(r, d) + [
        Sample((bools(r, (3,)),), name="bool", raises=RuntimeError, match="bool")]),
    OpInfo("pos_operator", lambda lib, a: +a, unary_samples),
    OpInfo("abs_operator", lambda lib, a: abs(a), lambda r, d: unary_int_samples(r, d, away_from=0.0)),
    OpInfo("unary_bool_errors", lambda lib, op, a: getattr(lib, op)(a), lambda r, d: [
        Sample((op, bools(r, (3,))), name=op, raises=RuntimeError)
        for op in ("abs", "floor", "ceil", "trunc", "round", "frac", "relu")] + [
        Sample(("frac", ints(r, (3,))), name="frac-int", raises=RuntimeError)]),
    OpInfo("special_values", lambda lib, op, a: getattr(lib, op)(a), lambda r, d: [
        Sample((op, specials(d)), name=op) for op in (
            "exp", "log", "sqrt", "sigmoid", "tanh", "abs", "neg", "floor", "ceil", "round", "trunc", "relu",
            "reciprocal", "rsqrt", "expm1", "log1p", "erf", "square", "sign", "frac", "atan", "exp2")],
        supports_grad=False),
    # ------------------------------------------------------------------ binary math
    OpInfo("atan2", binary_fn("atan2"), lambda r, d: binary_samples(r, d, positive_b=True)[:7] + [
        Sample((ints(r, (3,)), ints(r, (3,), 1, 4)), name="int-int"),
        Sample((ints(r, (3,)), make(r, (3,), d, positive=True)), name="int-float")]),
    OpInfo("arctan2", binary_fn("arctan2"), lambda r, d: binary_samples(r, d, positive_b=True)[:2]),
    OpInfo("Tensor.atan2", lambda lib, a, b: a.atan2(b), lambda r, d: binary_samples(r, d, positive_b=True)[:2]),
    OpInfo("hypot", binary_fn("hypot"), lambda r, d: binary_samples(r, d, positive_b=True)[:7]),
    OpInfo("logaddexp", binary_fn("logaddexp"), lambda r, d: binary_samples(r, d)[:7] + [
        Sample((np.array([30.0, -30.0, 0.0], dtype=d), np.array([-30.0, 30.0, 0.0], dtype=d)), name="far")]),
    OpInfo("logaddexp_inf", binary_fn("logaddexp"), lambda r, d: [
        Sample((np.array([INF, -INF, INF, NAN, 1.0], dtype=d), np.array([INF, -INF, 1.0, 1.0, -INF], dtype=d)))],
        supports_grad=False),
    OpInfo("xlogy", binary_fn("xlogy"), lambda r, d: [
        Sample((make(r, (3, 4), d, away_from=0.0), make(r, (3, 4), d, positive=True)), name="same"),
        Sample((make(r, (2, 3), d, away_from=0.0), make(r, (3,), d, positive=True)), name="broadcast"),
        Sample((make(r, (), d, away_from=0.0), make(r, (2,), d, positive=True)), name="0d"),
        Sample((2.0, make(r, (3,), d, positive=True)), name="pyfloat-x"),
        Sample((make(r, (3,), d), ints(r, (3,), 1, 4)), name="float-int")]),
    OpInfo("xlogy_zeros", binary_fn("xlogy"), lambda r, d: [
        Sample((np.array([0.0, 0.0, 1.0, 0.0], dtype=d), np.array([0.0, NAN, 2.0, INF], dtype=d))),
        Sample((np.asarray(1.5), ints(r, (3,), 1, 4)), name="f64_0d-int")], supports_grad=False),
    OpInfo("maximum", binary_fn("maximum"), _distinct_pair),
    OpInfo("minimum", binary_fn("minimum"), _distinct_pair),
    OpInfo("Tensor.maximum", lambda lib, a, b: a.maximum(b), lambda r, d: _distinct_pair(r, d)[:2]),
    OpInfo("maximum_promote", binary_fn("maximum"), lambda r, d: [
        s for s in promo_samples(r, d) if not any(isinstance(x, (int, float)) for x in s.args)]),
    OpInfo("minimum_promote", binary_fn("minimum"), lambda r, d: [
        s for s in promo_samples(r, d) if not any(isinstance(x, (int, float)) for x in s.args)]),
    OpInfo("maximum_nan", binary_fn("maximum"), lambda r, d: [
        Sample((np.array([NAN, 1.0, NAN, 2.0], dtype=d), np.array([0.0, NAN, NAN, 1.0], dtype=d)))],
        supports_grad=False),
    OpInfo("fmax", binary_fn("fmax"), _distinct_pair),
    OpInfo("fmin", binary_fn("fmin"), _distinct_pair),
    OpInfo("fmax_nan", binary_fn("fmax"), lambda r, d: [
        Sample((np.array([NAN, 1.0, NAN, 2.0, 1.0], dtype=d), np.array([0.0, NAN, NAN, 1.0, 1.0], dtype=d)))],
        gradcheck=False),
    OpInfo("fmin_nan", binary_fn("fmin"), lambda r, d: [
        Sample((np.array([NAN, 1.0, NAN, 2.0, 1.0], dtype=d), np.array([0.0, NAN, NAN, 3.0, 1.0], dtype=d)))],
        gradcheck=False),
    OpInfo("lerp", lambda lib, a, b, w: lib.lerp(a, b, w), lerp_samples),
    OpInfo("Tensor.lerp", lambda lib, a, b, w: a.lerp(b, w), lambda r, d: lerp_samples(r, d)[:2]),
    OpInfo("addcmul", lambda lib, a, b, c, **k: lib.addcmul(a, b, c, **k), addc_samples),
    OpInfo("addcdiv", lambda lib, a, b, c, **k: lib.addcdiv(a, b, c, **k),
           lambda r, d: addc_samples(r, d, positive_c=True)),
    OpInfo("Tensor.addcmul", lambda lib, a, b, c, **k: a.addcmul(b, c, **k), lambda r, d: addc_samples(r, d)[1:2]),
    # ------------------------------------------------------------------ where / clamp
    OpInfo("where", lambda lib, c, a, b: lib.where(c, a, b), where_samples),
    OpInfo("Tensor.where", lambda lib, c, a, b: a.where(c, b), lambda r, d: where_samples(r, d)[:3]),
    OpInfo("clamp", lambda lib, a, **k: lib.clamp(a, **k), clamp_samples),
    OpInfo("clip", lambda lib, a, **k: lib.clip(a, **k), lambda r, d: clamp_samples(r, d)[:3]),
    OpInfo("Tensor.clamp", lambda lib, a, **k: a.clamp(**k), lambda r, d: clamp_samples(r, d)[:3]),
    OpInfo("clamp_positional", lambda lib, a: lib.clamp(a, -1.0, 1.0),
           lambda r, d: [Sample(s.args, name=s.name) for s in clamp_samples(r, d)[:5]]),
    OpInfo("clamp_nan", lambda lib, a: lib.clamp(a, -1.0, 1.0), lambda r, d: [
        Sample((np.array([NAN, 0.5, -3.0, INF, -INF], dtype=d),))], gradcheck=False),
    OpInfo("clamp_min", lambda lib, a: lib.clamp_min(a, -0.5), lambda r, d: unary_samples(r, d, away_from=-0.5)),
    OpInfo("clamp_max", lambda lib, a: lib.clamp_max(a, 0.5), lambda r, d: unary_samples(r, d, away_from=0.5)),
    OpInfo("clamp_tensor", lambda lib, a, lo, hi: lib.clamp(a, lo, hi), clamp_tensor_samples),
    OpInfo("clamp_tensor_promote", lambda lib, a, lo: lib.clamp(a, min=lo), lambda r, d: [
        Sample((ints(r, (3,)), np.full(3, 0.5, dtype=d)), name="int-float-bound"),
        Sample((make(r, (3,), d), np.zeros(3, dtype=np.int64)), name="float-int-bound"),
        Sample((make(r, (3,), np.float32), np.asarray(0.0)), name="f32-f64_0d")], supports_grad=False),
    # ------------------------------------------------------------------ comparisons and logic
    *[OpInfo(op, binary_fn(op), logic_samples, supports_grad=False) for op in (
        "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal")],
    *[OpInfo(op, binary_fn(op), lambda r, d: [s for s in logic_samples(r, d) if not s.name.startswith("py")
                                              and s.name != "bool-pyint"], supports_grad=False)
      for op in ("logical_and", "logical_or", "logical_xor")],
    OpInfo("compare_operators", lambda lib, a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b), logic_samples,
           supports_grad=False),
    OpInfo("compare_reflected", lambda lib, a: (0.5 < a, 0 == a, 1 >= a),
           lambda r, d: [Sample((s.args[0],), name=s.name) for s in logic_samples(r, d)[:6]], supports_grad=False),
    OpInfo("logical_not", unary_fn("logical_not"), lambda r, d: [
        Sample((make(r, (3, 4), d, away_from=0.0),), name="float"), Sample((bools(r, (3,)),), name="bool"),
        Sample((ints(r, (4,)),), name="int"), Sample((np.zeros(0, dtype=d),), name="size0")],
        supports_grad=False),
    *[OpInfo(op, binary_fn(op), bit_samples, supports_grad=False) for op in (
        "bitwise_and", "bitwise_or", "bitwise_xor")],
    OpInfo("bit_operators", lambda lib, a, b: (a & b, a | b, a ^ b), lambda r, d: bit_samples(r, d)[:-1],
           supports_grad=False),
    OpInfo("bitwise_not", unary_fn("bitwise_not"), lambda r, d: [
        Sample((ints(r, (3, 4), -8, 8),), name="int"), Sample((bools(r, (4,)),), name="bool"),
        Sample((ints(r, (3,), 0, 8, np.uint8),), name="uint8"),
        Sample((make(r, (3,), d),), name="float", raises=RuntimeError)], supports_grad=False),
    OpInfo("invert_operator", lambda lib, a: ~a, lambda r, d: [
        Sample((ints(r, (3, 4), -8, 8),), name="int"), Sample((bools(r, (4,)),), name="bool")], supports_grad=False),
    *[OpInfo(op, unary_fn(op), special_samples, supports_grad=False) for op in (
        "isnan", "isinf", "isfinite", "isposinf", "isneginf")],
    OpInfo("isclose", lambda lib, a, b, **k: lib.isclose(a, b, **k), lambda r, d: [
        Sample((np.array([1.0, 2.0, NAN, INF, 1.0], dtype=d), np.array([1.0 + 1e-7, 2.1, NAN, INF, 1.001], dtype=d))),
        Sample((np.array([1.0, NAN], dtype=d), np.array([1.0, NAN], dtype=d)), dict(equal_nan=True), name="equal_nan"),
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.05, 2.5], dtype=d)), dict(rtol=0.1, atol=0.0),
               name="rtol"),
        Sample((ints(r, (3,)), ints(r, (3,))), name="int")], supports_grad=False),
    OpInfo("allclose", lambda lib, a, b, **k: lib.allclose(a, b, **k), lambda r, d: [
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.0, 2.0 + 1e-7], dtype=d)), name="close"),
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.0, 2.1], dtype=d)), name="far"),
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.0, 2.1], dtype=d)), dict(atol=0.2), name="atol")],
        supports_grad=False),
    OpInfo("equal", lambda lib, a, b: lib.equal(a, b), lambda r, d: [
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.0, 2.0], dtype=d)), name="same"),
        Sample((np.array([1.0, 2.0], dtype=d), np.array([1.0, 3.0], dtype=d)), name="differ"),
        Sample((np.array([1.0, 2.0], dtype=d), np.array([[1.0, 2.0]], dtype=d)), name="shape")],
        supports_grad=False),
    OpInfo("nan_to_num", lambda lib, a, **k: lib.nan_to_num(a, **k), lambda r, d: [
        Sample((specials(d),), name="default"),
        Sample((specials(d),), dict(nan=1.0, posinf=2.0, neginf=-2.0), name="values"),
        Sample((make(r, (2, 3), d),), name="finite"),
        Sample((ints(r, (3,)),), name="int")], gradcheck=False),
    OpInfo("nan_to_num_inf", lambda lib, a, **k: lib.nan_to_num(a, **k), lambda r, d: [
        Sample((np.array([INF, -INF, 0.5, -1.5], dtype=d),), dict(posinf=2.0, neginf=-2.0))]),
    # ------------------------------------------------------------------ in-place variants (on non-leaf copies)
    OpInfo("add_", inplace("add_"), lambda r, d: [s for s in binary_samples(r, d) if s.name not in (
        "size1", "0d", "broadcast-both")] + [
        Sample((make(r, (3,), d), make(r, (2, 3), d)), name="grow", raises=RuntimeError),
        Sample((ints(r, (3,)), 1.5), name="int-float", raises=RuntimeError)]),
    OpInfo("add_alpha_", inplace("add_"), lambda r, d: [Sample((make(r, (3, 4), d), make(r, (4,), d)),
                                                                dict(alpha=-2))]),
    OpInfo("add_int_", inplace("add_"), lambda r, d: [Sample((ints(r, (3,)), ints(r, (3,))), name="int"),
                                                       Sample((ints(r, (3,), dtype=np.int32), 2), name="int32"),
                                                       Sample((make(r, (3,), d), ints(r, (3,))), name="float-int")]),
    OpInfo("sub_", inplace("sub_"), lambda r, d: binary_samples(r, d)[:2] + [
        Sample((make(r, (3,), d), make(r, (3,), d)), dict(alpha=0.5), name="alpha")]),
    OpInfo("mul_", inplace("mul_"), lambda r, d: binary_samples(r, d)[:2] + binary_samples(r, d)[6:]),
    OpInfo("mul_other_only_", inplace("mul_", clone=False), lambda r, d: [
        Sample((make(r, (3, 4), d), make(r, (3, 4), d)), grad=(False, True))]),
    OpInfo("div_", inplace("div_"), lambda r, d: binary_samples(r, d, positive_b=True)[:2] + [
        Sample((ints(r, (3,)), ints(r, (3,), 1, 3)), name="int", raises=RuntimeError)]),
    OpInfo("div_floor_", inplace("div_"), lambda r, d: [Sample(s.args, dict(rounding_mode="floor"), name=s.name)
                                                         for s in mod_samples(r, d)[:2]], supports_grad=False),
    OpInfo("pow_", inplace("pow_"), lambda r, d: [Sample((make(r, (3, 4), d, positive=True), 2.5)),
                                                   Sample((make(r, (3,), d, positive=True), make(r, (3,), d)),
                                                          name="tensor")]),
    OpInfo("remainder_", inplace("remainder_"), lambda r, d: mod_samples(r, d)[:2]),
    OpInfo("fmod_", inplace("fmod_"), lambda r, d: mod_samples(r, d)[:2]),
    OpInfo("floor_divide_", inplace("floor_divide_"), lambda r, d: mod_samples(r, d)[:2], supports_grad=False),
    OpInfo("atan2_", inplace("atan2_"), lambda r, d: binary_samples(r, d, positive_b=True)[:2]),
    OpInfo("lerp_", inplace("lerp_"), lambda r, d: lerp_samples(r, d)[:2]),
    OpInfo("addcmul_", inplace("addcmul_"), lambda r, d: addc_samples(r, d)[:2]),
    OpInfo("addcdiv_", inplace("addcdiv_"), lambda r, d: addc_samples(r, d, positive_c=True)[:2]),
    OpInfo("clamp_", inplace("clamp_"), lambda r, d: clamp_samples(r, d)[:3] + [
        Sample((ints(r, (3,)),), dict(min=0.5), name="int-float", raises=RuntimeError)]),
    OpInfo("clamp_nograd_", lambda lib, a, **k: a.detach().clone().clamp_(**k), lambda r, d: clamp_samples(r, d)[:3],
           supports_grad=False),
    OpInfo("clamp_tensor_", inplace("clamp_"), lambda r, d: clamp_tensor_samples(r, d)[:2]),
    OpInfo("clip_", inplace("clip_"), lambda r, d: clamp_samples(r, d)[:1]),
    OpInfo("clamp_min_", lambda lib, a: a.clone().clamp_min_(0.5), lambda r, d: unary_samples(r, d, away_from=0.5)[:2]),
    OpInfo("clamp_max_", lambda lib, a: a.clone().clamp_max_(0.5), lambda r, d: unary_samples(r, d, away_from=0.5)[:2]),
    OpInfo("nan_to_num_", inplace("nan_to_num_"), lambda r, d: [Sample((specials(d),))], gradcheck=False),
    *[OpInfo(f"{op}_", inplace(f"{op}_"), lambda r, d, _kw=kw: unary_samples(r, d, **_kw)[:2]) for op, kw in [
        ("relu", dict(away_from=0.0)), ("neg", {}), ("abs", dict(away_from=0.0)), ("exp", {}), ("expm1", {}),
        ("log", dict(positive=True)), ("log1p", dict(positive=True)), ("log2", dict(positive=True)),
        ("sqrt", dict(positive=True)), ("rsqrt", dict(positive=True)), ("sin", {}), ("cos", {}), ("tan", dict(
            low=-1, high=1)), ("atan", {}), ("sinh", {}), ("cosh", {}), ("tanh", {}), ("sigmoid", {}),
        ("reciprocal", dict(away_from=0.0)), ("erf", {}), ("square", {}), ("sign", dict(away_from=0.0)),
        ("asin", dict(low=-0.9, high=0.9)), ("acos", dict(low=-0.9, high=0.9))]],
    *[OpInfo(f"{op}_", inplace(f"{op}_"), lambda r, d, _ah=(op == "round"): rounding_samples(r, d, _ah)[:2])
      for op in ("floor", "ceil", "trunc", "round", "frac")],
    *[OpInfo(f"{op}_", lambda lib, a, b, _op=op: getattr(a.detach().clone(), f"{_op}_")(b), lambda r, d: [
        s for s in logic_samples(r, d) if np.broadcast_shapes(np.shape(s.args[0]), np.shape(s.args[1]))
        == np.shape(s.args[0])], supports_grad=False) for op in ("eq", "ne", "lt", "le", "gt", "ge")],
    OpInfo("logical_not_", lambda lib, a: a.clone().logical_not_(), lambda r, d: [Sample((bools(r, (3,)),))],
           supports_grad=False),
    OpInfo("inplace_operators", lambda lib, a, b: _augmented(a.clone(), b), lambda r, d: [
        Sample((make(r, (3, 4), d), make(r, (3, 4), d, positive=True))),
        Sample((make(r, (3, 4), d), make(r, (4,), d, positive=True)), name="broadcast")]),
    OpInfo("inplace_int_operators", lambda lib, a, b: _int_augmented(a.clone(), b), lambda r, d: [
        Sample((ints(r, (3, 4)), ints(r, (3, 4), 1, 4))), Sample((ints(r, (3,)), 2), name="pyint")],
        supports_grad=False),
    OpInfo("inplace_leaf_error", lambda lib, a, b: a.requires_grad_().add_(b), lambda r, d: [
        Sample((make(r, (3,), d), make(r, (3,), d)), raises=RuntimeError, match="leaf")]),
]


def _augmented(x, y):
    x += y
    x -= y * 0.5
    x *= y
    x /= y
    x **= 2
    return x


def _int_augmented(x, y):
    x += y
    x -= 1
    x *= y
    x //= y
    x %= 5
    x |= 1
    x &= 7
    x ^= 2
    return x
