"""Op-table entries: sort, argsort, msort, topk, kthvalue, searchsorted, bucketize, unique.

Gradient samples use distinct values (see ``distinct``), so the selection does not flip within
finite-difference steps; ties get forward/backward-only entries (sorting is stable in both).
"""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed
from .reduce import distinct, err, ints, ties, with_errors

E03 = np.zeros((0, 3), np.float32)


def sort_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 4)),), name="default"),
        Sample((mk((3, 4)),), dict(dim=0), name="dim0"),
        Sample((mk((2, 3, 2)),), dict(dim=-2, descending=True), name="neg-desc"),
        Sample((mk((5,)),), dict(descending=True, stable=True), name="1d-stable-desc"),
        Sample((mk((3, 4)),), dict(stable=True), name="stable"),
        Sample((noncontig(mk((3, 4))),), dict(dim=1), name="noncontig"),
        Sample((transposed(mk((3, 4))),), dict(dim=0, descending=True), name="transposed"),
        Sample((mk((1, 4)),), dict(dim=0), name="size1"),
        Sample((mk((0, 3)),), dict(dim=1), name="size0"),
        Sample((mk((2, 0)),), name="size0-sorted-dim"),
        Sample((mk(()),), name="0d"),
        Sample((ints(rng, (3, 5)),), dict(dim=1, stable=True), name="int-ties"),
        Sample((ints(rng, (3, 5)),), dict(dim=1, descending=True, stable=True), name="int-ties-desc"),
    ]


def sort_ties_samples(rng, dt):
    return [Sample((ties(rng, dt),), dict(stable=True), name="ties"),
            Sample((ties(rng, dt),), dict(dim=0, descending=True, stable=True), name="ties-desc"),
            Sample((np.array([1.0, np.nan, 0.0, np.nan, 2.0], dt),), dict(stable=True), name="nan"),
            Sample((np.array([1.0, np.nan, 0.0, np.nan, 2.0], dt),), dict(descending=True, stable=True),
                   name="nan-desc")]


def topk_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 5)), 2), name="k2"),
        Sample((mk((3, 5)), 2), dict(largest=False), name="smallest"),
        Sample((mk((4, 3)), 3, 0), name="dim0-all"),
        Sample((mk((2, 3, 4)), 1), dict(dim=-2), name="neg-dim"),
        Sample((mk((2, 20)), 2), name="partition-path"),
        Sample((mk((2, 20)), 2), dict(largest=False), name="partition-path-smallest"),
        Sample((noncontig(mk((3, 5))), 3), name="noncontig"),
        Sample((mk((3, 4)), 0), name="k0"),
        Sample((mk((0, 4)), 2), name="size0"),
        Sample((mk(()), 1), name="0d"),
        Sample((np.stack([rng.permutation(40) - 20 for _ in range(3)]), 3), name="int"),
    ]


def kthvalue_samples(rng, dt):
    mk = lambda sh: distinct(rng, sh, dt)  # noqa: E731
    return [
        Sample((mk((3, 5)), 2), name="k2"),
        Sample((mk((3, 5)), 1), dict(dim=0), name="k1-dim0"),
        Sample((mk((3, 5)), 5, -1, True), name="kmax-keepdim"),
        Sample((mk((2, 3, 4)), 2, 1), name="3d"),
        Sample((noncontig(mk((3, 4))), 3), name="noncontig"),
        Sample((mk((0, 4)), 2), name="size0"),
        Sample((mk(()), 1), name="0d"),
        Sample((np.stack([rng.permutation(6) for _ in range(3)]), 3), name="int"),
    ]


def kth_ties_samples(rng, dt):
    return [Sample((ties(rng, dt), 2), name="ties"), Sample((ties(rng, dt), 2, 0, True), name="ties-dim0")]


def searchsorted_samples(rng, dt):
    seq = np.sort(distinct(rng, (6,), dt))
    vals = np.concatenate([seq[[0, 2, 5]], make(rng, (5,), dt, low=-3, high=3)]).reshape(2, 4)
    seq2 = np.sort(distinct(rng, (2, 5), dt), axis=-1)
    vals2 = np.concatenate([seq2[:, :2], make(rng, (2, 3), dt, low=-3, high=3)], axis=1)
    perm = rng.permutation(6)
    return [
        Sample((seq, vals), name="1d"),
        Sample((seq, vals), dict(right=True), name="right"),
        Sample((seq, vals), dict(side="right"), name="side-right"),
        Sample((seq, vals), dict(side="left", out_int32=True), name="int32"),
        Sample((seq2, vals2), name="nd"),
        Sample((seq2, vals2), dict(right=True), name="nd-right"),
        Sample((seq, 0.25), name="scalar"),
        Sample((seq[perm], vals), dict(sorter=perm), name="sorter"),
        Sample((np.arange(0, 10, 2), ints(rng, (3,), 0, 10)), name="int"),
        Sample((seq, np.zeros((0,), dt)), name="empty"),
        Sample((noncontig(seq2), noncontig(vals2)), name="noncontig"),
        err((seq, vals), dict(side="left", right=True), name="side-conflict"),
        err((seq2, make(rng, (3, 4), dt)), name="bad-leading-dims"),
    ]


def _searchsorted(lib, seq, v, sorter=None, **k):
    if sorter is not None:
        k["sorter"] = lib.tensor(sorter)
    return lib.searchsorted(seq, v, **k)


def bucketize_samples(rng, dt):
    b = np.sort(distinct(rng, (5,), dt))
    x = np.concatenate([b[[1, 3]], make(rng, (4,), dt, low=-3, high=3)]).reshape(2, 3)
    return [
        Sample((x, b), name="default"),
        Sample((x, b), dict(right=True), name="right"),
        Sample((x, b), dict(out_int32=True), name="int32"),
        Sample((1.0, b), name="scalar"),
        Sample((ints(rng, (3, 2), 0, 10), np.array([1, 3, 5, 7])), name="int"),
        Sample((noncontig(x), b), name="noncontig"),
        err((x, b.reshape(1, 5)), name="2d-boundaries"),
    ]


def unique_samples(rng, dt):
    a = ints(rng, (3, 4), 0, 4).astype(dt)
    m = np.array([[1, 2], [0, 5], [1, 2], [0, 5], [3, 3]], dtype=np.int64)
    return [
        Sample((a,), name="default"),
        Sample((a,), dict(return_inverse=True), name="inverse"),
        Sample((a,), dict(return_counts=True), name="counts"),
        Sample((a,), dict(return_inverse=True, return_counts=True, sorted=True), name="both"),
        Sample((m,), dict(dim=0, return_inverse=True, return_counts=True), name="dim0"),
        Sample((m.T.copy(),), dict(dim=1, return_inverse=True), name="dim1"),
        Sample((m,), dict(dim=-1), name="dim-neg"),
        Sample((noncontig(a),), dict(return_inverse=True), name="noncontig"),
        Sample((np.zeros((0,), dt),), dict(return_counts=True), name="empty"),
        Sample((np.asarray(3.0, dt),), dict(return_inverse=True), name="0d"),
        Sample((rng.integers(0, 2, 6).astype(bool),), dict(return_counts=True), name="bool"),
    ]


def unique_consecutive_samples(rng, dt):
    a = np.array([1, 1, 2, 2, 3, 1, 1, 2], dtype=dt)
    m = np.array([[1, 2], [1, 2], [0, 5], [1, 2]], dtype=np.int64)
    return [
        Sample((a,), name="1d"),
        Sample((a.reshape(2, 4),), dict(return_inverse=True, return_counts=True), name="2d-flat"),
        Sample((m,), dict(dim=0, return_inverse=True, return_counts=True), name="dim0"),
        Sample((m.T.copy(),), dict(dim=1), name="dim1"),
        Sample((np.zeros((0,), dt),), dict(return_counts=True), name="empty"),
    ]


OPS = [
    OpInfo("sort", lambda lib, a, **k: lib.sort(a, **k), sort_samples),
    OpInfo("sort_method", lambda lib, a, **k: a.sort(**k), lambda r, d: sort_samples(r, d)[:3]),
    OpInfo("sort_fields", lambda lib, a: (lib.sort(a).values, lib.sort(a, descending=True).indices),
           lambda r, d: [Sample((distinct(r, (2, 3), d),))]),
    OpInfo("sort_ties", lambda lib, a, **k: lib.sort(a, **k), sort_ties_samples, gradcheck=False),
    OpInfo("argsort", lambda lib, a, **k: lib.argsort(a, **k), with_errors(
        lambda r, d: sort_samples(r, d) + sort_ties_samples(r, d), err((E03,), dict(dim=2), IndexError)),
        supports_grad=False),
    OpInfo("argsort_method", lambda lib, a, **k: a.argsort(**k), lambda r, d: sort_samples(r, d)[:4],
           supports_grad=False),
    OpInfo("msort", lambda lib, a: lib.msort(a), lambda r, d: [
        Sample((distinct(r, (3, 4), d),)), Sample((distinct(r, (4,), d),)), Sample((noncontig(distinct(r, (3, 2), d)),))]),
    OpInfo("topk", lambda lib, a, *args, **k: lib.topk(a, *args, **k), with_errors(
        topk_samples, err((distinct(np.random.default_rng(0), (3, 4), np.float32), 5), name="k-too-big"),
        err((distinct(np.random.default_rng(0), (3, 4), np.float32), -1), name="k-negative"))),
    OpInfo("topk_method", lambda lib, a, *args, **k: a.topk(*args, **k), lambda r, d: topk_samples(r, d)[:3]),
    # PyTorch leaves the order of tied indices to the kernel: compare values only.
    OpInfo("topk_ties", lambda lib, a, *args, **k: lib.topk(a, *args, **k).values, lambda r, d: [
        Sample((ties(r, d), 2)), Sample((ties(r, d), 2), dict(largest=False)), Sample((ties(r, d), 3, 0))],
        supports_grad=False),
    OpInfo("kthvalue", lambda lib, a, *args, **k: lib.kthvalue(a, *args, **k), with_errors(
        kthvalue_samples, err((distinct(np.random.default_rng(0), (3, 4), np.float32), 5), name="k-too-big"),
        err((distinct(np.random.default_rng(0), (3, 4), np.float32), 0), name="k-zero"))),
    OpInfo("kthvalue_method", lambda lib, a, *args, **k: a.kthvalue(*args, **k),
           lambda r, d: kthvalue_samples(r, d)[:3]),
    # Which of several equal elements PyTorch's selection kernel reports is unspecified: values only.
    OpInfo("kthvalue_ties", lambda lib, a, *args: lib.kthvalue(a, *args).values, kth_ties_samples,
           supports_grad=False),
    OpInfo("searchsorted", _searchsorted, searchsorted_samples, supports_grad=False),
    OpInfo("bucketize", lambda lib, a, b, **k: lib.bucketize(a, b, **k), bucketize_samples, supports_grad=False),
    OpInfo("unique", lambda lib, a, **k: lib.unique(a, **k), unique_samples, supports_grad=False),
    OpInfo("unique_method", lambda lib, a, **k: a.unique(**k), lambda r, d: unique_samples(r, d)[:5],
           supports_grad=False),
    OpInfo("unique_consecutive", lambda lib, a, **k: lib.unique_consecutive(a, **k), unique_consecutive_samples,
           supports_grad=False),
]
