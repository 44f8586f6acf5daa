"""Op-table entries: reductions (sum, prod, var/std, max/min, argmax, logsumexp, norm, cumsum, ...).

Samples cover dim None / int / negative / tuple, keepdim, size-1 and size-0 dims, 0-d inputs,
non-contiguous layouts and integer inputs. Ops with kinks (max, median, norms) get distinct values
for the gradient checks; ties get their own entries without finite differences.
"""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


def distinct(rng, shape, dt, spacing=0.37):
    """Values at least ``spacing`` apart, in random order (no ties, no kink within eps)."""
    n = int(np.prod(shape)) if shape else 1
    v = (rng.permutation(n) - n / 2) * spacing + rng.uniform(-0.05, 0.05, n)
    return np.asarray(v.reshape(shape), dtype=dt)


def ints(rng, shape, low=-5, high=6, dtype=np.int64):
    return rng.integers(low, high, size=shape).astype(dtype)


def dim_samples(rng, dt, mk, empty_reduce=True, zero_d=True, tuple_dims=True):
    """The generic dim/keepdim/shape grid for a reduction whose array comes from ``mk(shape)``."""
    s = [
        Sample((mk((3, 4)),), name="all"),
        Sample((mk((3, 4)),), dict(dim=1), name="dim1"),
        Sample((mk((2, 3, 4)),), dict(dim=-1, keepdim=True), name="neg-keepdim"),
        Sample((mk((2, 3, 2)),), dict(dim=0), name="dim0"),
        Sample((mk((1, 4)),), dict(dim=0), name="size1"),
        Sample((mk((3, 1)),), dict(dim=-1, keepdim=True), name="size1-keepdim"),
        Sample((noncontig(mk((3, 4))),), dict(dim=0), name="noncontig"),
        Sample((transposed(mk((3, 4))),), dict(dim=1, keepdim=True), name="transposed"),
        Sample((mk((0, 3)),), dict(dim=1), name="size0-kept"),
    ]
    if tuple_dims:
        s += [Sample((mk((2, 3, 2)),), dict(dim=(0, 2)), name="tuple"),
              Sample((mk((2, 3, 2)),), dict(dim=(-1, 0), keepdim=True), name="tuple-neg-keepdim")]
    if empty_reduce:
        s += [Sample((mk((0, 3)),), dict(dim=0), name="size0-reduced"), Sample((mk((2, 0)),), name="size0-all")]
    if zero_d:
        s += [Sample((mk(()),), name="0d"), Sample((mk(()),), dict(dim=0), name="0d-dim0")]
    return s


def plain(rng, dt, **kw):
    return dim_samples(rng, dt, lambda sh: make(rng, sh, dt), **kw)


def sum_samples(rng, dt):
    return plain(rng, dt) + [
        Sample((ints(rng, (3, 4)),), dict(dim=1), name="int"),
        Sample((ints(rng, (3, 4), dtype=np.int32),), name="int32-all"),
        Sample((rng.integers(0, 2, (3, 4)).astype(bool),), dict(dim=0), name="bool"),
        Sample((make(rng, (2, 3), dt),), dict(dim=()), name="empty-tuple-all"),
        Sample((make(rng, (2, 3), dt),), dict(dtype="float64"), name="dtype"),
    ]


def _sum_fn(lib, a, dtype=None, **k):
    if dtype is not None:
        k["dtype"] = getattr(lib, dtype)
    return lib.sum(a, **k)


def prod_samples(rng, dt):
    def mk(sh):
        v = rng.uniform(0.5, 1.5, size=sh) * rng.choice([-1.0, 1.0], size=sh)
        return np.asarray(v, dtype=dt)

    def with_zeros(sh, pos):
        a = mk(sh)
        for p in pos:
            a[p] = 0
        return a
    return [
        Sample((mk((3, 4)),), name="all"),
        Sample((mk((3, 4)),), dict(dim=1), name="dim1"),
        Sample((mk((2, 3, 2)),), dict(dim=-2, keepdim=True), name="neg-keepdim"),
        Sample((mk((1, 4)),), dict(dim=0), name="size1"),
        Sample((noncontig(mk((3, 4))),), dict(dim=0), name="noncontig"),
        Sample((mk((0, 3)),), dict(dim=0), name="size0-reduced"),
        Sample((mk((0, 3)),), name="size0-all"),
        Sample((mk(()),), name="0d"),
        Sample((mk(()),), dict(dim=0), name="0d-dim0"),
        Sample((with_zeros((3, 4), [(1, 2)]),), name="one-zero-all"),
        Sample((with_zeros((3, 4), [(1, 2), (2, 0)]),), name="two-zeros-all"),
        Sample((with_zeros((3, 4), [(0, 1), (2, 0), (2, 3)]),), dict(dim=1), name="zeros-dim1"),
        Sample((with_zeros((3, 4), [(0, 1), (1, 1)]),), dict(dim=0, keepdim=True), name="two-zeros-dim0"),
        Sample((ints(rng, (3, 4), -3, 4),), dict(dim=1), name="int"),
    ]


def var_samples(rng, dt):
    mk = lambda sh: make(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)),), name="all"),
        Sample((mk((3, 4)),), dict(dim=1), name="dim1"),
        Sample((mk((2, 3, 2)),), dict(dim=(0, 2), keepdim=True), name="tuple-keepdim"),
        Sample((mk((2, 3, 2)),), dict(dim=-1, correction=0), name="correction0"),
        Sample((mk((2, 3, 2)),), dict(dim=(0, -1), correction=2), name="correction2"),
        Sample((mk((3, 4)),), dict(dim=0, unbiased=False), name="unbiased-false"),
        Sample((mk((3, 4)),), dict(dim=1, unbiased=True, keepdim=True), name="unbiased-true"),
        Sample((noncontig(mk((3, 4))),), dict(dim=0), name="noncontig"),
        Sample((mk((3, 1)),), dict(dim=0), name="size1-kept"),
        Sample((mk((0, 3)),), dict(dim=1), name="size0-kept"),
    ]


def std_zero_samples(rng, dt):
    a = np.ones((3, 4), dtype=dt)
    a[0] = make(rng, (4,), dt)
    return [Sample((a,), dict(dim=1), name="const-rows"), Sample((np.full((2, 3), 0.5, dt),), name="const")]


def max_dim_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)), 1), name="dim1"),
        Sample((mk((2, 3, 4)), -1, True), name="neg-keepdim"),
        Sample((mk((2, 3, 2)), 0), name="dim0"),
        Sample((mk((1, 4)), 0), name="size1"),
        Sample((noncontig(mk((3, 4))), 0), name="noncontig"),
        Sample((transposed(mk((3, 4))), 1, True), name="transposed"),
        Sample((mk((0, 3)), 1), name="size0-kept"),
        Sample((mk(()), 0), name="0d"),
        Sample((ints(rng, (3, 4)), 1), name="int"),
    ]


def ties(rng, dt):
    """Repeated values, incl. tied maxima and minima in rows and columns."""
    a = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 0.0], [-1.0, 5.0, -1.0, 5.0]], dtype=dt)
    return a


def max_ties_dim_samples(rng, dt):
    return [Sample((ties(rng, dt), 1), name="ties-dim1"), Sample((ties(rng, dt), 0, True), name="ties-dim0"),
            Sample((np.ones((2, 3), dt), -1), name="all-equal")]


def amax_samples(rng, dt):
    return dim_samples(rng, dt, lambda sh: distinct(rng, sh, dt), empty_reduce=False) + [
        Sample((ints(rng, (3, 4)),), dict(dim=1), name="int"),
        Sample((rng.integers(0, 2, (3, 4)).astype(bool),), dict(dim=0), name="bool"),
    ]


def amax_ties_samples(rng, dt):
    return [Sample((ties(rng, dt),), name="ties-all"), Sample((ties(rng, dt),), dict(dim=1), name="ties-dim1"),
            Sample((ties(rng, dt),), dict(dim=(0, 1), keepdim=True), name="ties-tuple"),
            Sample((np.full((2, 3), 0.5, dt),), dict(dim=0), name="all-equal")]


def full_samples(rng, dt):
    """Whole-tensor value reductions (max(), min(), median()): no dim argument."""
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [Sample((mk((3, 4)),), name="2d"), Sample((mk((2, 3, 2)),), name="3d"), Sample((mk(()),), name="0d"),
            Sample((mk((1, 1)),), name="size1"), Sample((noncontig(mk((3, 4))),), name="noncontig"),
            Sample((ints(rng, (3, 4)),), name="int")]


def full_ties_samples(rng, dt):
    return [Sample((ties(rng, dt),), name="ties"), Sample((np.full((2, 3), 0.5, dt),), name="all-equal")]


def arg_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)),), name="flat"),
        Sample((mk((3, 4)),), dict(keepdim=True), name="flat-keepdim"),
        Sample((mk((3, 4)),), dict(dim=1), name="dim1"),
        Sample((mk((2, 3, 4)),), dict(dim=-2, keepdim=True), name="neg-keepdim"),
        Sample((noncontig(mk((3, 4))),), dict(dim=0), name="noncontig"),
        Sample((mk((0, 3)),), dict(dim=1), name="size0-kept"),
        Sample((mk(()),), name="0d"),
        Sample((mk(()),), dict(dim=0), name="0d-dim0"),
        Sample((ints(rng, (3, 4)),), dict(dim=1), name="int"),
        Sample((ints(rng, (3, 4)),), name="int-flat"),
        Sample((ties(rng, dt),), dict(dim=1), name="ties"),
        Sample((ties(rng, dt),), name="ties-flat"),
    ]


def logsumexp_samples(rng, dt):
    mk = lambda sh: make(rng, sh, dt, low=-3, high=3)  # noqa: E731
    big = make(rng, (2, 3), dt) + 500.0
    return [
        Sample((mk((3, 4)), 1)),
        Sample((mk((2, 3, 2)), (0, 2))),
        Sample((mk((2, 3, 2)), -1, True)),
        Sample((mk((2, 3)), (0, 1), True)),
        Sample((noncontig(mk((3, 4))), 0)),
        Sample((mk((1, 3)), 0)),
        Sample((mk(()), 0)),
        Sample((mk((0, 3)), 1)),
        Sample((big, 1), name="large (overflow without the max shift)"),
    ]


def logsumexp_inf_samples(rng, dt):
    a = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0], [np.inf, 0.0, 1.0]], dtype=dt)
    return [Sample((a, 1)), Sample((np.zeros((2, 0), dt), 1)), Sample((ints(rng, (2, 3)), 1), name="int")]


def norm_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)),), name="fro-all"),
        Sample((mk((3, 4)),), dict(dim=1), name="fro-dim"),
        Sample((mk((2, 3, 2)),), dict(p=2, dim=(0, 2), keepdim=True), name="p2-tuple"),
        Sample((mk((3, 4)),), dict(p=1, dim=0), name="p1"),
        Sample((mk((3, 4)),), dict(p=3, dim=-1), name="p3"),
        Sample((mk((3, 4)),), dict(p=1.5, dim=1, keepdim=True), name="p1.5"),
        Sample((mk((3, 4)),), dict(p=0.5, dim=1), name="p0.5"),
        Sample((mk((3, 4)),), dict(p=float("inf"), dim=1), name="inf"),
        Sample((mk((3, 4)),), dict(p=float("-inf")), name="-inf"),
        Sample((mk((3, 4)),), dict(p=0, dim=1), name="p0"),
        Sample((noncontig(mk((3, 4))),), dict(p=2, dim=0), name="noncontig"),
        Sample((mk(()),), name="0d"),
        Sample((mk((0, 3)),), dict(dim=0), name="size0-reduced"),
        Sample((mk((3, 4)),), dict(dim=(0, 1), dtype="float64"), name="dtype"),
    ]


def _norm_fn(lib, a, dtype=None, **k):
    if dtype is not None:
        k["dtype"] = getattr(lib, dtype)
    return lib.norm(a, **k)


def norm_zero_samples(rng, dt):
    a = make(rng, (3, 4), dt, away_from=0.0)
    a[1] = 0
    a[2, 1] = 0
    return [Sample((a,), dict(dim=1), name="p2-zero-row"), Sample((np.zeros((2, 2), dt),), name="p2-all-zero"),
            Sample((a,), dict(p=3, dim=1), name="p3-zero-row"), Sample((a,), dict(p=1.5, dim=1), name="p1.5-zero"),
            Sample((a,), dict(p=1, dim=0), name="p1-zeros")]


def vector_norm_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [Sample((mk((3, 4)),)), Sample((mk((3, 4)), 3.0, 1)), Sample((mk((2, 3, 2)), 2, (0, 1), True)),
            Sample((mk((3, 4)), float("inf"), -1)), Sample((mk((3, 4)), -2.5, 0))]


def _vector_norm(lib, *args):
    import nerve.ops.reduce as r  # noqa: PLC0415 - nerve has no linalg namespace yet
    return r.vector_norm(*args)


def cum_samples(rng, dt):
    mk = lambda sh: make(rng, sh, dt, low=0.5, high=1.5)  # noqa: E731
    return [
        Sample((mk((3, 4)), 1)),
        Sample((mk((2, 3, 2)), -2)),
        Sample((mk((2, 3)), 0)),
        Sample((noncontig(mk((3, 4))), 0)),
        Sample((transposed(mk((3, 4))), 1)),
        Sample((mk((1, 4)), 0)),
        Sample((mk((4,)), -1)),
        Sample((mk(()), 0)),
        Sample((mk((0, 3)), 0)),
        Sample((ints(rng, (3, 4), -3, 4), 1), name="int"),
    ]


def cumprod_zero_samples(rng, dt):
    a = make(rng, (4, 5), dt, low=0.5, high=1.5)
    a[0, 0] = 0          # zero first
    a[1, 2] = 0          # zero in the middle
    a[2, 1] = a[2, 3] = 0  # two zeros
    a[3, 4] = 0          # zero last
    b = make(rng, (3, 2), dt, low=0.5, high=1.5)
    b[1, 0] = 0
    return [Sample((a, 1), name="zeros-dim1"), Sample((b, 0), name="zero-dim0")]


def cumext_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 5)), 1)),
        Sample((mk((2, 3, 2)), -2)),
        Sample((noncontig(mk((3, 4))), 0)),
        Sample((mk((1, 4)), 0)),
        Sample((mk(()), 0)),
        Sample((mk((0, 3)), 0)),
        Sample((ints(rng, (3, 5)), 1), name="int-ties"),
    ]


def cumext_ties_samples(rng, dt):
    return [Sample((ties(rng, dt), 1), name="ties"), Sample((ties(rng, dt), 0), name="ties-dim0"),
            Sample((np.array([1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan], dt), 0), name="nan")]


def logical_samples(rng, dt):
    f = make(rng, (3, 4), dt)
    f[0, 1] = 0
    f[2] = 0
    b = rng.integers(0, 2, (3, 4)).astype(bool)
    b[1] = True
    return [
        Sample((f,), name="float"),
        Sample((f,), dict(dim=1), name="dim1"),
        Sample((b,), dict(dim=0, keepdim=True), name="bool"),
        Sample((b,), dict(dim=(0, 1)), name="tuple"),
        Sample((ints(rng, (2, 3, 2), 0, 2),), dict(dim=-1), name="int"),
        Sample((np.zeros((0, 3), dt),), name="empty"),
        Sample((np.zeros((0, 3), dt),), dict(dim=0), name="empty-dim"),
        Sample((np.asarray(2.0, dt),), name="0d"),
        Sample((noncontig(b),), dict(dim=1), name="noncontig"),
    ]


def count_nonzero_samples(rng, dt):
    f = make(rng, (3, 4), dt)
    f[0, 1] = f[2, 2] = 0
    return [Sample((f,)), Sample((f,), dict(dim=1)), Sample((f,), dict(dim=(0, 1))),
            Sample((ints(rng, (3, 4), 0, 2),), dict(dim=-1)), Sample((np.zeros((0, 2), dt),), dict(dim=0))]


def nan_samples(rng, dt):
    a = make(rng, (3, 4), dt)
    a[0, 1] = a[2, 0] = a[2, 3] = np.nan
    b = make(rng, (2, 3), dt)
    b[1] = np.nan
    return [
        Sample((a,), name="all"),
        Sample((a,), dict(dim=1), name="dim1"),
        Sample((a,), dict(dim=0, keepdim=True), name="dim0-keepdim"),
        Sample((b,), dict(dim=(0, 1)), name="tuple"),
        Sample((noncontig(a),), dict(dim=-1), name="noncontig"),
    ]


def nansum_samples(rng, dt):
    return nan_samples(rng, dt) + [Sample((ints(rng, (3, 4)),), dict(dim=1), name="int"),
                                   Sample((make(rng, (0, 3), dt),), dict(dim=0), name="size0")]


def nanmean_all_nan_samples(rng, dt):
    b = make(rng, (2, 3), dt)
    b[1] = np.nan
    return [Sample((b,), dict(dim=1), name="all-nan-row"), Sample((b[1:],), name="all-nan")]


def median_dim_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)), 1), name="even"),
        Sample((mk((3, 5)), -1, True), name="odd-keepdim"),
        Sample((mk((2, 3, 2)), 0), name="dim0"),
        Sample((noncontig(mk((3, 4))), 0), name="noncontig"),
        Sample((mk((1, 4)), 0), name="size1"),
        Sample((mk(()), 0), name="0d"),
        Sample((mk((0, 3)), 1), name="size0-kept"),
        Sample((ints(rng, (3, 4)), 1), name="int"),
    ]


def median_nan_samples(rng, dt):
    a = distinct(rng, (3, 4), dt)
    a[1, 2] = np.nan
    return [Sample((a, 1), name="nan-row")]


def median_all_nan_samples(rng, dt):
    a = distinct(rng, (3, 4), dt)
    a[1, 2] = np.nan
    return [Sample((a,), name="nan")]


def nanmedian_samples(rng, dt):
    a = distinct(rng, (3, 5), dt)
    a[0, 1] = a[2, 0] = a[2, 4] = np.nan
    return [Sample((a,), name="all"), Sample((a, 1), name="dim1"), Sample((a, 0, True), name="dim0-keepdim")]


def mode_samples(rng, dt):
    a = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [4.0, 4.0, 0.0, 0.0, 4.0], [5.0, -1.0, 2.0, 7.0, 3.0]], dtype=dt)
    return [Sample((a,), name="last-dim"), Sample((a, 0), name="dim0"), Sample((a, 1, True), name="keepdim"),
            Sample((ints(rng, (3, 6), 0, 3), 1), name="int"), Sample((np.asarray(2.0, dt),), name="0d")]


def aminmax_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [Sample((mk((3, 4)),)), Sample((mk((3, 4)),), dict(dim=1)), Sample((mk((2, 3, 2)),), dict(dim=-1, keepdim=True)),
            Sample((mk((3, 4)),), dict(keepdim=True)), Sample((noncontig(mk((3, 4))),), dict(dim=0)),
            Sample((ints(rng, (3, 4)),), dict(dim=0), name="int")]


def err(args, kwargs=None, raises=RuntimeError, name=""):
    """An error sample: nerve and torch must both raise ``raises``."""
    return Sample(args, kwargs or {}, raises=raises, name=name or raises.__name__)


def with_errors(samples, *errors):
    return lambda r, d: samples(r, d) + list(errors)


E03 = np.zeros((0, 3), np.float32)


OPS = [
    OpInfo("sum", _sum_fn, with_errors(
        sum_samples, err((E03,), dict(dim=2), IndexError, "bad-dim"), err((E03,), dict(dim=(0, 0)), name="repeated-dim"))),
    OpInfo("sum_method", lambda lib, a, **k: a.sum(**k), lambda r, d: plain(r, d)[:4]),
    OpInfo("mean", lambda lib, a, **k: lib.mean(a, **k), with_errors(
        plain, err((np.zeros((2, 3), np.int64),), name="int"))),
    OpInfo("prod", lambda lib, a, **k: lib.prod(a, **k), with_errors(
        prod_samples, err((E03,), dict(dim=(0, 1)), TypeError, "tuple-dim"), err((E03,), dict(dim=-3), IndexError))),
    OpInfo("prod_method", lambda lib, a, **k: a.prod(**k), lambda r, d: prod_samples(r, d)[:2]),
    OpInfo("var", lambda lib, a, **k: lib.var(a, **k), with_errors(
        var_samples, err((np.zeros((2, 3), np.int64),), name="int"),
        err((E03,), dict(unbiased=True, correction=0), TypeError, "unbiased-and-correction"))),
    OpInfo("var_legacy", lambda lib, a: (a.var(0, False), a.var(1, True, True), lib.var(a, False)),
           lambda r, d: [Sample((make(r, (3, 4), d),))]),
    OpInfo("std", lambda lib, a, **k: lib.std(a, **k), var_samples),
    OpInfo("std_method", lambda lib, a, **k: a.std(**k), lambda r, d: var_samples(r, d)[:4]),
    OpInfo("std_zero", lambda lib, a, **k: lib.std(a, **k), std_zero_samples, gradcheck=False),
    OpInfo("var_mean", lambda lib, a, **k: lib.var_mean(a, **k), lambda r, d: var_samples(r, d)[:7]),
    OpInfo("std_mean", lambda lib, a, **k: lib.std_mean(a, **k), lambda r, d: var_samples(r, d)[:7]),
    OpInfo("max_all", lambda lib, a: lib.max(a), with_errors(full_samples, err((E03,), name="empty"))),
    OpInfo("max_all_ties", lambda lib, a: a.max(), full_ties_samples, gradcheck=False),
    OpInfo("min_all", lambda lib, a: a.min(), full_samples),
    OpInfo("min_all_ties", lambda lib, a: lib.min(a), full_ties_samples, gradcheck=False),
    OpInfo("max_dim", lambda lib, a, *args: lib.max(a, *args), with_errors(
        max_dim_samples, err((E03, 0), raises=IndexError, name="empty-dim"), err((E03, 2), raises=IndexError))),
    OpInfo("max_dim_kw", lambda lib, a: (a.max(dim=1), lib.max(a, dim=0, keepdim=True).values),
           lambda r, d: [Sample((distinct(r, (3, 4), d),))]),
    OpInfo("max_dim_unpack", lambda lib, a: tuple(lib.max(a, 1)) + (lib.max(a, 1).indices,),
           lambda r, d: [Sample((distinct(r, (2, 3), d),))]),
    OpInfo("max_dim_ties", lambda lib, a, *args: lib.max(a, *args), max_ties_dim_samples, gradcheck=False),
    OpInfo("min_dim", lambda lib, a, *args: a.min(*args), max_dim_samples),
    OpInfo("min_dim_ties", lambda lib, a, *args: lib.min(a, *args), max_ties_dim_samples, gradcheck=False),
    OpInfo("max_other", lambda lib, a, b: lib.max(a, b), lambda r, d: [
        Sample((distinct(r, (3, 4), d), distinct(r, (3, 4), d) + 0.1)),
        Sample((distinct(r, (3, 4), d), distinct(r, (4,), d) + 0.1), name="broadcast")]),
    OpInfo("min_other", lambda lib, a, b: a.min(b), lambda r, d: [
        Sample((distinct(r, (3, 4), d), distinct(r, (3, 4), d) + 0.1))]),
    OpInfo("amax", lambda lib, a, **k: lib.amax(a, **k), with_errors(
        amax_samples, err((E03,), dict(dim=0), IndexError, "empty-dim"), err((E03,), name="empty-all"))),
    OpInfo("amin", lambda lib, a, **k: a.amin(**k), with_errors(
        amax_samples, err((E03,), dict(dim=(1, 0)), IndexError, "empty-dim"))),
    OpInfo("amax_ties", lambda lib, a, **k: a.amax(**k), amax_ties_samples, gradcheck=False),
    OpInfo("amin_ties", lambda lib, a, **k: lib.amin(a, **k), amax_ties_samples, gradcheck=False),
    OpInfo("aminmax", lambda lib, a, **k: lib.aminmax(a, **k), with_errors(
        aminmax_samples, err((E03,), name="empty"))),
    OpInfo("aminmax_ties", lambda lib, a, **k: a.aminmax(**k), lambda r, d: [
        Sample((ties(r, d),), dict(dim=1)), Sample((ties(r, d),))], gradcheck=False),
    OpInfo("argmax", lambda lib, a, **k: lib.argmax(a, **k), with_errors(
        arg_samples, err((E03,), raises=IndexError, name="empty"), err((np.ones(3, bool),), name="bool")),
           supports_grad=False),
    OpInfo("argmin", lambda lib, a, **k: a.argmin(**k), with_errors(
        arg_samples, err((E03,), dict(dim=0), IndexError, "empty-dim")), supports_grad=False),
    OpInfo("logsumexp", lambda lib, a, *args: lib.logsumexp(a, *args), logsumexp_samples),
    OpInfo("logsumexp_method", lambda lib, a, *args: a.logsumexp(*args), lambda r, d: logsumexp_samples(r, d)[:2]),
    OpInfo("logsumexp_inf", lambda lib, a, *args: lib.logsumexp(a, *args), logsumexp_inf_samples,
           supports_grad=False),
    OpInfo("norm", _norm_fn, with_errors(
        norm_samples, err((E03,), dict(p=float("inf")), name="inf-empty"),
        err((np.zeros((2, 3), np.int64),), name="int"))),
    OpInfo("norm_method", lambda lib, a, **k: a.norm(**k), lambda r, d: norm_samples(r, d)[:5]),
    OpInfo("norm_zero", lambda lib, a, **k: lib.norm(a, **k), norm_zero_samples, gradcheck=False),
    OpInfo("vector_norm", _vector_norm, vector_norm_samples,
           ref=lambda torch, *args: torch.linalg.vector_norm(*args)),
    OpInfo("cumsum", lambda lib, a, d: lib.cumsum(a, d), with_errors(cum_samples, err((E03, 2), raises=IndexError))),
    OpInfo("cumsum_method", lambda lib, a, d: a.cumsum(dim=d), lambda r, dt: cum_samples(r, dt)[:3]),
    OpInfo("cumprod", lambda lib, a, d: lib.cumprod(a, d), cum_samples),
    OpInfo("cumprod_zeros", lambda lib, a, d: a.cumprod(d), cumprod_zero_samples),
    OpInfo("cummax", lambda lib, a, d: lib.cummax(a, d), cumext_samples),
    OpInfo("cummin", lambda lib, a, d: a.cummin(d), cumext_samples),
    OpInfo("cummax_ties", lambda lib, a, d: a.cummax(d), cumext_ties_samples, gradcheck=False),
    OpInfo("cummin_ties", lambda lib, a, d: lib.cummin(a, d), cumext_ties_samples, gradcheck=False),
    OpInfo("axis_alias", lambda lib, a: (
        lib.max(a, axis=1), a.argmax(axis=0), lib.var(a, axis=1), lib.cumsum(a, axis=0), lib.logsumexp(a, axis=1),
        a.amax(axis=0), lib.median(a, axis=1), a.prod(axis=0), lib.std(a, axis=0, keepdim=True), a.max(axis=0),
        lib.sort(a, axis=0), a.topk(2, axis=0), lib.all(a, axis=1), lib.nansum(a, axis=1)),
        lambda r, d: [Sample((distinct(r, (3, 4), d),))]),
    OpInfo("all", lambda lib, a, **k: lib.all(a, **k), logical_samples, supports_grad=False),
    OpInfo("any", lambda lib, a, **k: a.any(**k), logical_samples, supports_grad=False),
    OpInfo("count_nonzero", lambda lib, a, **k: lib.count_nonzero(a, **k), count_nonzero_samples,
           supports_grad=False),
    OpInfo("nansum", lambda lib, a, **k: lib.nansum(a, **k), nansum_samples),
    OpInfo("nanmean", lambda lib, a, **k: a.nanmean(**k), nan_samples),
    OpInfo("nanmean_all_nan", lambda lib, a, **k: lib.nanmean(a, **k), nanmean_all_nan_samples, gradcheck=False),
    OpInfo("median_all", lambda lib, a: lib.median(a), full_samples),
    OpInfo("median_all_ties", lambda lib, a: a.median(), lambda r, d: full_ties_samples(r, d) + [
        Sample((np.array([3.0, 1.0, 3.0, 1.0], d),), name="even-ties")], gradcheck=False),
    OpInfo("median_all_nan", lambda lib, a: a.median(), median_all_nan_samples, gradcheck=False),
    OpInfo("median_dim", lambda lib, a, *args: lib.median(a, *args), with_errors(
        median_dim_samples, err((E03, 0), raises=IndexError, name="empty-dim"))),
    # PyTorch's index among equal medians is unspecified (its quickselect decides): values only.
    OpInfo("median_dim_ties", lambda lib, a, *args: lib.median(a, *args).values, max_ties_dim_samples,
           supports_grad=False),
    OpInfo("median_dim_nan", lambda lib, a, *args: a.median(*args), median_nan_samples, supports_grad=False),
    OpInfo("nanmedian", lambda lib, a, *args: lib.nanmedian(a, *args), nanmedian_samples),
    OpInfo("mode", lambda lib, a, *args: lib.mode(a, *args), mode_samples, gradcheck=False),
]
