"""Op-table entries: tensor[...] get/set, gather/scatter, index_*, masked_*, take, nonzero."""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed

I = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731 - an index array
B = lambda *v: np.array(v, dtype=bool)  # noqa: E731 - a mask


def _setitem(t, idx, v):
    """``t[idx] = v``, returning t, so values and gradients can be compared."""
    t[idx] = v
    return t


def _mk(rng, dt):
    return lambda *s, **k: make(rng, s, dt, **k)


# ---------------------------------------------------------------------------- getitem
def _basic(lib, a):
    return a[1], a[-1, 1:], a[:, ::2], a[..., -1], a[None, 1:3, None], a[0, -1], a[:], a[1:1]


def basic_samples(rng, dt):
    mk = _mk(rng, dt)
    return [Sample((mk(3, 4),), name="2d"), Sample((noncontig(mk(3, 4)),), name="noncontig"),
            Sample((transposed(mk(3, 5)),), name="transposed")]


def _basic3(lib, a):
    return a[1, ..., ::2], a[:, None, 0], a[-2:, 1, None, :], a[..., 1:, 0]


def _adv_fixed(lib, a):
    # repeated indices, lists, negative, int + list (PyTorch applies the int first), broadcast lists
    return (a[[0, 2, 0]], a[[0, 1], [3, 3]], a[:, [1, 1, -1]], a[1:, [0, 0]], a[[[0], [2]], [1, 2, 1]],
            a[-1, [2, 0, 2]], a[[]])


def _adv3(lib, a):
    # non-adjacent index lists put the broadcast dims first; adjacent ones stay in place
    return a[[0, 1], :, [1, 0]], a[:, [0, 2], [1, 1]], a[0, :, [1, 1]], a[[1], 1:, [0, 1]], a[None, [1, 0]]


def adv_samples(rng, dt):
    mk = _mk(rng, dt)
    return [Sample((mk(3, 4),), name="2d"), Sample((noncontig(mk(3, 4)),), name="noncontig")]


def adv3_samples(rng, dt):
    mk = _mk(rng, dt)
    return [Sample((mk(2, 3, 2),), name="3d"), Sample((transposed(mk(2, 3, 2)),), name="transposed")]


def index_tensor_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(4, 3), I(3, 0, 3, -1)), grad=(True, False), name="1d-repeats"),
        Sample((mk(4, 2), I([1, 1], [0, 3])), grad=(True, False), name="2d-index"),
        Sample((mk(3), I(2)), grad=(True, False), name="0d-index-as-int"),
        Sample((mk(0, 3), np.zeros(0, np.int64)), grad=(True, False), name="size0"),
        Sample((noncontig(mk(3, 4)), I(2, 2)), grad=(True, False), name="noncontig"),
    ]


def two_index_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), I(0, 2, 0), I(1, 1, 3)), grad=(True, False, False), name="pairs-repeated"),
        Sample((mk(3, 4), I([0], [2]), I(1, 3)), grad=(True, False, False), name="broadcast"),
        Sample((mk(2, 3, 2), I(1, 0), I(2, 2)), grad=(True, False, False), name="3d"),
    ]


def mask_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), rng.random((3, 4)) > 0.5), grad=(True, False), name="full"),
        Sample((mk(3, 4), B(True, False, True)), grad=(True, False), name="dim0"),
        Sample((mk(2, 3, 2), rng.random((2, 3)) > 0.4), grad=(True, False), name="leading-2"),
        Sample((mk(3, 2), np.zeros((3, 2), bool)), grad=(True, False), name="all-false"),
        Sample((mk(0, 2), np.zeros((0, 2), bool)), grad=(True, False), name="size0"),
        Sample((noncontig(mk(2, 3)), B([True, False, True], [False, False, True])), grad=(True, False),
               name="noncontig"),
    ]


def _mask_mixed(lib, a, m):
    return a[:, m], a[1:, m], a[m.unsqueeze(0).expand(3, 4)], a[[True, False, True]], a[True], a[None, False]


def mask_mixed_samples(rng, dt):
    return [Sample((make(rng, (3, 4), dt), B(True, False, False, True)), grad=(True, False))]


# ---------------------------------------------------------------------------- setitem
def setitem_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), mk(4)), name="row-broadcast"),
        Sample((mk(3, 4), mk(2)), kwargs={"idx": (slice(1, 3), 0)}, name="slice-int"),
        Sample((mk(3, 4), mk()), kwargs={"idx": (Ellipsis, slice(None, None, 2))}, name="0d-value"),
        Sample((mk(3, 4), mk(1, 2)), kwargs={"idx": (-1, slice(-2, None))}, name="leading-1-value"),
        Sample((mk(3, 4), mk(2, 4)), kwargs={"idx": ([0, 2],)}, name="adv-rows"),
        Sample((mk(3, 4), mk(3)), kwargs={"idx": ([0, 1, 2], [3, 0, 3])}, name="adv-pairs"),
        Sample((noncontig(mk(3, 4)), mk(3, 1)), kwargs={"idx": (slice(None), [1, 2])}, name="noncontig"),
        Sample((mk(0, 4), mk(4)), kwargs={"idx": (slice(None),)}, name="size0"),
    ]


def _set_row(lib, a, v, idx=(1,)):
    return _setitem(a * 1, idx, v)


def set_mask_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), rng.random((3, 4)) > 0.5), grad=(True, False), name="full"),
        Sample((mk(3, 4), B(False, True, True)), grad=(True, False), name="rows"),
        Sample((mk(2, 3), np.zeros((2, 3), bool)), grad=(True, False), name="none"),
    ]


def set_index_tensor_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(4, 3), I(3, 0, -2), mk(3, 3)), grad=(True, False, True), name="rows"),
        Sample((mk(4, 3), I(1, 2), mk(3)), grad=(True, False, True), name="broadcast"),
    ]


def set_into_constant_samples(rng, dt):
    mk = _mk(rng, dt)
    return [Sample((mk(3),), name="col"), Sample((mk(1),), name="broadcast")]


# ---------------------------------------------------------------------------- gather / scatter
def gather_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I([0, 2, 2, 1], [2, 2, 0, 0])), name="dim0-repeats"),
        Sample((mk(3, 4), -1, I([3, 0], [1, 1], [0, 0])), name="dim-1-narrower"),
        Sample((mk(3, 4), 1, I([1], [0])), name="smaller"),
        Sample((mk(2, 3, 2), 1, I([[0, 2], [1, 1]], [[2, 2], [0, 1]])), name="3d"),
        Sample((mk(3, 4), 0, np.zeros((0, 4), np.int64)), name="size0-index"),
        Sample((noncontig(mk(3, 4)), 1, I([0, 3], [1, 1], [2, 0])), name="noncontig"),
        Sample((mk(), 0, I(0)), name="0d"),
    ]


def scatter_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I([2, 0, 1, 1], [0, 1, 2, 0]), mk(2, 4)), name="dim0"),
        Sample((noncontig(mk(3, 4)), 1, I([0], [3], [1]), transposed(mk(3, 1))), name="noncontig"),
        Sample((mk(3, 4), 0, np.zeros((0, 4), np.int64), mk(0, 4)), name="size0-index"),
    ]


def scatter_src_larger_samples(rng, dt):
    """src larger than index: only its leading block is used. PyTorch's backward rejects these
    (its src gradient has index's shape), so they are compared forward only and gradchecked."""
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), -1, I([3, 1], [0, 2]), mk(2, 3)), name="src-larger"),
        Sample((noncontig(mk(3, 4)), 1, I([0], [3], [1]), transposed(mk(3, 2))), name="noncontig"),
        Sample((mk(2, 3), 0, I([1, 0, 1]), mk(3, 4)), name="one-row"),
    ]


def scatter_add_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I([2, 0, 2, 2], [2, 1, 2, 0]), mk(2, 4)), name="dim0-repeats"),
        Sample((mk(3, 4), -1, I([3, 3, 3], [0, 2, 0]), mk(2, 3)), name="dim-1"),
        Sample((noncontig(mk(2, 3)), 1, I([0, 0], [1, 2]), mk(2, 2)), name="noncontig"),
        Sample((mk(4), 0, I(1, 1, 3, 1, 0, 1), mk(6)), name="1d-many-repeats"),
    ]


def scatter_reduce_samples(rng, dt, reduce):
    mk = _mk(rng, dt)
    pos = reduce == "prod"
    kw = lambda include_self: {"reduce": reduce, "include_self": include_self}  # noqa: E731
    # distinct values so amax/amin have no ties (finite differences stay valid)
    x = (rng.permutation(12).reshape(3, 4) * 0.37 + 0.5).astype(dt)
    s = (rng.permutation(8).reshape(2, 4) * 0.41 + 0.7).astype(dt)
    return [
        Sample((x, 0, I([2, 0, 2, 2], [2, 1, 2, 0]), s), kwargs=kw(True), name="self"),
        Sample((x, 0, I([2, 0, 2, 2], [2, 1, 2, 0]), s), kwargs=kw(False), name="no-self"),
        Sample((mk(4, positive=pos), 0, I(1, 1, 3), mk(3, positive=pos) + 3), kwargs=kw(False), name="1d"),
    ]


# ---------------------------------------------------------------------------- index_*
def index_select_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I(2, 0, 2)), name="dim0-repeats"),
        Sample((mk(3, 4), -1, I(3, 3, 1, 0)), name="dim-1"),
        Sample((mk(2, 3, 2), 1, I(1)), name="3d"),
        Sample((mk(3, 2), 0, np.array(1, np.int64)), name="0d-index"),
        Sample((mk(3, 2), 1, np.zeros(0, np.int64)), name="size0-index"),
        Sample((noncontig(mk(3, 4)), 1, I(0, 0)), name="noncontig"),
    ]


def index_add_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I(2, 0, 2), mk(3, 4)), name="dim0-repeats"),
        Sample((mk(3, 4), -1, I(1, 1), mk(3, 2)), kwargs={"alpha": 2}, name="alpha"),
        Sample((noncontig(mk(2, 3)), 1, I(0), mk(2, 1)), name="noncontig"),
    ]


def index_copy_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I(2, 0), mk(2, 4)), name="dim0"),
        Sample((mk(3, 4), -1, I(3, 1, 0), transposed(mk(3, 3))), name="dim-1"),
    ]


def index_fill_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 0, I(2, 0, 2), -1.5), name="number-repeats"),
        Sample((mk(3, 4), -1, I(1), mk()), name="0d-tensor-value"),
        Sample((noncontig(mk(2, 3)), 1, np.array(-1, np.int64), 2.0), name="0d-index"),
    ]


def index_put_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), I(0, 2, 0), I(1, 1, 1), mk(3)), kwargs={"accumulate": True}, name="accumulate-repeats"),
        Sample((mk(3, 4), I(0, 2), I(1, 3), mk(1)), kwargs={"accumulate": False}, name="overwrite-broadcast"),
        Sample((mk(3, 4), I(2, 2), I(0, 0), mk(2)), kwargs={"accumulate": True}, name="accumulate-pairs"),
    ]


# ---------------------------------------------------------------------------- masked_*
def masked_fill_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), rng.random((3, 4)) > 0.5, -2.0), name="number"),
        Sample((mk(3, 4), B([True, False, False, True])), kwargs={}, name="broadcast-mask"),
        Sample((mk(3, 4), rng.random((3, 1)) > 0.3, mk()), name="0d-tensor-value"),
        Sample((mk(4), rng.random((2, 4)) > 0.5, 1.0), name="mask-broadcasts-input"),
        Sample((noncontig(mk(2, 3)), B([True, False, True], [False, False, True]), 0.5), name="noncontig"),
        Sample((mk(0, 2), np.zeros((0, 2), bool), 1.0), name="size0"),
    ]


def masked_select_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), rng.random((3, 4)) > 0.5), name="same"),
        Sample((mk(3, 1), rng.random((3, 4)) > 0.5), name="input-broadcasts"),
        Sample((mk(2, 3), B(True, False, True)), name="mask-broadcasts"),
        Sample((noncontig(mk(2, 3)), np.zeros((2, 3), bool)), name="none"),
        Sample((mk(), np.array(True)), name="0d"),
    ]


def masked_scatter_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), rng.random((3, 4)) > 0.5, mk(3, 4)), name="same"),
        Sample((mk(2, 3), B(False, True, True), mk(10)), name="broadcast-longer-source"),
        Sample((noncontig(mk(2, 3)), np.ones((2, 3), bool), mk(2, 3)), name="all"),
    ]


def take_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), I(0, 11, -1, 5, 5)), name="repeats-negative"),
        Sample((noncontig(mk(2, 3)), I([0, 1], [2, 3])), name="2d-index"),
        Sample((mk(3), np.array(1, np.int64)), name="0d-index"),
    ]


def take_along_dim_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), I([0, 2], [1, 1], [3, 0])), kwargs={"dim": 1}, name="dim1"),
        Sample((mk(3, 4), I([2, 0, 2, 1])), kwargs={"dim": 0}, name="broadcast-index"),
        Sample((mk(3, 1), I([2, 0, 2, 1])), kwargs={"dim": 0}, name="broadcast-both"),
        Sample((mk(3, 4), I([0, 11], [5, 5])), kwargs={"dim": None}, name="flat"),
    ]


def nonzero_samples(rng, dt):
    a = make(rng, (3, 4), dt)
    a[a < 0] = 0
    return [Sample((a,), name="2d"), Sample((np.zeros((2, 0), dt),), name="size0"),
            Sample((np.array(1.5, dt),), name="0d"), Sample((noncontig(a),), name="noncontig")]


OPS = [
    # getitem
    OpInfo("getitem_basic", _basic, basic_samples),
    OpInfo("getitem_basic_3d", _basic3, lambda r, d: [Sample((make(r, (3, 2, 3), d),)),
                                                      Sample((noncontig(make(r, (3, 2, 3), d)),))]),
    OpInfo("getitem_adv_lists", _adv_fixed, adv_samples),
    OpInfo("getitem_adv_3d", _adv3, adv3_samples),
    OpInfo("getitem_index_tensor", lambda lib, a, i: a[i], index_tensor_samples),
    OpInfo("getitem_index_tensor_dim1", lambda lib, a, i: a[..., i],
           lambda r, d: [Sample((make(r, (2, 3), d), I(2, 0, 2, -1))),
                         Sample((noncontig(make(r, (2, 4), d)), I([1], [3])))]),
    OpInfo("getitem_two_index_tensors", lambda lib, a, i, j: a[i, j], two_index_samples),
    OpInfo("getitem_index_tensors_split", lambda lib, a, i, j: a[i, ..., j],
           lambda r, d: [Sample((make(r, (2, 3, 2), d), I(1, 0), I(1, 1)), grad=(True, False, False))]),
    OpInfo("getitem_mask", lambda lib, a, m: a[m], mask_samples),
    OpInfo("getitem_mask_mixed", _mask_mixed, mask_mixed_samples),
    # setitem
    OpInfo("setitem", _set_row, setitem_samples),
    OpInfo("setitem_number", lambda lib, a: _setitem(a * 1, (slice(None), [0, 2]), 2.5),
           lambda r, d: [Sample((make(r, (3, 4), d),)), Sample((noncontig(make(r, (2, 3), d)),))]),
    OpInfo("setitem_mask", lambda lib, a, m: _setitem(a * 1, m, 0.0), set_mask_samples),
    OpInfo("setitem_mask_tensor_value", lambda lib, a, m, v: _setitem(a * 1, m, v),
           lambda r, d: [Sample((make(r, (3, 4), d), B(False, True, True), make(r, (4,), d)),
                                grad=(True, False, True))]),
    OpInfo("setitem_index_tensor", lambda lib, a, i, v: _setitem(a * 1, i, v), set_index_tensor_samples),
    # Repeated indices: one write wins, but (as in PyTorch) every copy of the value gets g there, which is
    # not the finite-difference derivative: compare with torch only.
    OpInfo("setitem_repeated_index", lambda lib, a, i, v: _setitem(a * 1, i, v),
           lambda r, d: [Sample((make(r, (4, 3), d), I(1, 1), make(r, (3,), d)), grad=(True, False, True))],
           gradcheck=False),
    OpInfo("setitem_into_constant", lambda lib, v: _setitem(lib.zeros(2, 3, dtype=v.dtype), (slice(None), 1), v),
           lambda r, d: [Sample((make(r, (2,), d),)), Sample((make(r, (1,), d),))]),
    OpInfo("setitem_twice", lambda lib, a, v: _setitem(_setitem(a * 1, (0,), v * 2), (slice(None), 1), v[:3]),
           lambda r, d: [Sample((make(r, (3, 4), d), make(r, (4,), d)))]),
    # gather / scatter
    OpInfo("gather", lambda lib, a, dim, i: lib.gather(a, dim, i), gather_samples),
    OpInfo("scatter", lambda lib, a, dim, i, s: a.scatter(dim, i, s), scatter_samples),
    OpInfo("scatter_value", lambda lib, a, dim, i: lib.scatter(a, dim, i, 1.5),
           lambda r, d: [Sample(s.args[:3], name=s.name) for s in scatter_samples(r, d)]),
    OpInfo("scatter_", lambda lib, a, dim, i, s: (a * 1).scatter_(dim, i, s), scatter_samples),
    OpInfo("scatter_add", lambda lib, a, dim, i, s: lib.scatter_add(a, dim, i, s), scatter_add_samples),
    OpInfo("scatter_src_larger", lambda lib, a, dim, i, s: (a.scatter(dim, i, s), a.scatter_add(dim, i, s)),
           scatter_src_larger_samples, skip=("backward",)),
    OpInfo("scatter_add_", lambda lib, a, dim, i, s: (a * 1).scatter_add_(dim, i, s), scatter_add_samples),
    OpInfo("scatter_reduce_sum", lambda lib, a, dim, i, s, **k: a.scatter_reduce(dim, i, s, **k),
           lambda r, d: scatter_reduce_samples(r, d, "sum")),
    OpInfo("scatter_reduce_mean", lambda lib, a, dim, i, s, **k: a.scatter_reduce(dim, i, s, **k),
           lambda r, d: scatter_reduce_samples(r, d, "mean")),
    OpInfo("scatter_reduce_amax", lambda lib, a, dim, i, s, **k: a.scatter_reduce(dim, i, s, **k),
           lambda r, d: scatter_reduce_samples(r, d, "amax")),
    OpInfo("scatter_reduce_amin", lambda lib, a, dim, i, s, **k: lib.scatter_reduce(a, dim, i, s, **k),
           lambda r, d: scatter_reduce_samples(r, d, "amin")),
    OpInfo("scatter_reduce_prod", lambda lib, a, dim, i, s, **k: a.scatter_reduce(dim, i, s, **k),
           lambda r, d: scatter_reduce_samples(r, d, "prod")),
    # index_*
    OpInfo("index_select", lambda lib, a, dim, i: lib.index_select(a, dim, i), index_select_samples),
    OpInfo("index_add", lambda lib, a, dim, i, s, **k: a.index_add(dim, i, s, **k), index_add_samples),
    OpInfo("index_add_", lambda lib, a, dim, i, s, **k: (a * 1).index_add_(dim, i, s, **k), index_add_samples),
    OpInfo("index_copy", lambda lib, a, dim, i, s: lib.index_copy(a, dim, i, s), index_copy_samples),
    OpInfo("index_fill", lambda lib, a, dim, i, v: a.index_fill(dim, i, v), index_fill_samples),
    OpInfo("index_fill_", lambda lib, a, dim, i, v: (a * 1).index_fill_(dim, i, v), index_fill_samples),
    OpInfo("index_put", lambda lib, a, i, j, v, **k: lib.index_put(a, (i, j), v, **k), index_put_samples),
    OpInfo("index_put_", lambda lib, a, i, j, v, **k: (a * 1).index_put_((i, j), v, **k), index_put_samples),
    # masked_*
    OpInfo("masked_fill", lambda lib, a, m, v=3.0: a.masked_fill(m, v), masked_fill_samples),
    OpInfo("masked_fill_", lambda lib, a, m, v=3.0: (a * 1).masked_fill_(m, v),
           lambda r, d: [s for s in masked_fill_samples(r, d) if s.name != "mask-broadcasts-input"]),
    OpInfo("masked_select", lambda lib, a, m: lib.masked_select(a, m), masked_select_samples),
    OpInfo("masked_scatter", lambda lib, a, m, s: a.masked_scatter(m, s), masked_scatter_samples),
    OpInfo("take", lambda lib, a, i: lib.take(a, i), take_samples),
    OpInfo("take_along_dim", lambda lib, a, i, dim: lib.take_along_dim(a, i, dim=dim),
           lambda r, d: [Sample(s.args + (s.kwargs["dim"],), name=s.name) for s in take_along_dim_samples(r, d)]),
    OpInfo("nonzero", lambda lib, a: (lib.nonzero(a), a.nonzero(as_tuple=True), lib.argwhere(a)), nonzero_samples,
           supports_grad=False),
]
