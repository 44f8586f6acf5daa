"""Op-table entries: elementwise arithmetic, unary math, comparisons, where/clamp."""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


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
    ]


OPS = [
    OpInfo("add", lambda lib, a, b: lib.add(a, b), binary_samples),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2), lambda r, d: binary_samples(r, d)[:3]),
    OpInfo("sub", lambda lib, a, b: a - b, binary_samples),
    OpInfo("mul", lambda lib, a, b: a * b, binary_samples),
    OpInfo("div", lambda lib, a, b: a / b, lambda r, d: binary_samples(r, d, positive_b=True)),
    OpInfo("rdiv_scalar", lambda lib, a: 2.0 / a, lambda r, d: unary_samples(r, d, positive=True)),
    OpInfo("pow_scalar", lambda lib, a: a ** 3, unary_samples),
    OpInfo("pow_tensor", lambda lib, a, b: a ** b, lambda r, d: [
        Sample((make(r, (3, 4), d, positive=True), make(r, (3, 4), d))),
        Sample((make(r, (2, 3), d, positive=True), make(r, (3,), d)))]),
    OpInfo("exp", lambda lib, a: lib.exp(a), unary_samples),
    OpInfo("log", lambda lib, a: a.log(), lambda r, d: unary_samples(r, d, positive=True)),
    OpInfo("tanh", lambda lib, a: lib.tanh(a), unary_samples),
    OpInfo("sigmoid", lambda lib, a: lib.sigmoid(a), unary_samples),
    OpInfo("sqrt", lambda lib, a: lib.sqrt(a), lambda r, d: unary_samples(r, d, positive=True)),
    OpInfo("relu", lambda lib, a: lib.relu(a), lambda r, d: unary_samples(r, d, away_from=0.0)),
]
