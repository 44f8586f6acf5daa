"""Op-table entries: cat/stack, split/chunk/unbind, narrow/select, flip/roll, repeat/tile, tril/triu,
diagonals, meshgrid. Tuple outputs are compared piece by piece."""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


def _mk(rng, dt):
    return lambda *s, **k: make(rng, s, dt, **k)


def cat_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), mk(1, 3), mk(3, 3)), name="dim0"),
        Sample((mk(2, 1), noncontig(mk(2, 3)), transposed(mk(2, 2))), kwargs={"dim": -1}, name="dim-1-noncontig"),
        Sample((mk(2, 3), mk(0, 3), mk(1, 3)), name="size0-part"),
        Sample((mk(2, 2), mk(0), mk(2, 2)), kwargs={"dim": 1}, name="legacy-empty"),
        Sample((mk(4), mk(1), mk(2)), name="1d"),
        Sample((mk(1, 2, 1), mk(1, 2, 2)), kwargs={"dim": 2}, name="3d"),
    ]


def stack_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), mk(2, 3)), name="dim0"),
        Sample((noncontig(mk(2, 3)), transposed(mk(2, 3)), mk(2, 3)), kwargs={"dim": -1}, name="dim-1"),
        Sample((mk(3), mk(3)), kwargs={"dim": 1}, name="1d"),
        Sample((mk(), mk()), name="0d"),
        Sample((mk(0, 2), mk(0, 2)), kwargs={"dim": 1}, name="size0"),
    ]


def pair_samples(rng, dt):
    """Two tensors of equal small shapes (hstack, vstack, dstack, column_stack)."""
    mk = _mk(rng, dt)
    return [
        Sample((mk(3), mk(3)), name="1d"),
        Sample((mk(2, 3), noncontig(mk(2, 3))), name="2d"),
        Sample((mk(2, 1, 2), mk(2, 1, 2)), name="3d"),
        Sample((mk(), mk()), name="0d"),
    ]


def split_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(5, 2), 2), name="int-uneven"),
        Sample((mk(2, 6), [1, 0, 5]), kwargs={"dim": -1}, name="sizes-with-0"),
        Sample((noncontig(mk(4, 3)), 3), kwargs={"dim": 1}, name="noncontig-exact"),
        Sample((mk(0, 2), 2), name="size0"),
        Sample((mk(3, 1), 1), kwargs={"dim": 1}, name="size1"),
    ]


def chunk_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(5, 2), 3), name="uneven"),
        Sample((mk(2, 6), 4), kwargs={"dim": -1}, name="fewer-pieces"),
        Sample((noncontig(mk(3, 4)), 2), kwargs={"dim": 1}, name="noncontig"),
        Sample((mk(0, 2), 2), name="size0"),
    ]


def tensor_split_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(7), 3), name="sections"),
        Sample((mk(2, 7), [1, 5, 9]), kwargs={"dim": 1}, name="indices-beyond"),
        Sample((mk(5, 2), [3, 1]), name="decreasing"),
        Sample((mk(5, 2), [-2]), name="negative"),
    ]


def unbind_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 2),), name="dim0"),
        Sample((noncontig(mk(2, 3)),), kwargs={"dim": -1}, name="dim-1"),
        Sample((mk(1, 2),), name="size1"),
        Sample((mk(0, 2),), name="size0"),
        Sample((mk(2, 0),), name="size0-other"),
    ]


def narrow_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(4, 3), 0, 1, 2), name="dim0"),
        Sample((noncontig(mk(2, 5)), -1, -3, 3), name="negative"),
        Sample((mk(4, 3), 1, 3, 0), name="empty"),
    ]


def select_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(4, 3), 0, 1), name="dim0"),
        Sample((noncontig(mk(2, 5)), -1, -2), name="negative"),
        Sample((mk(3), 0, 2), name="1d"),
    ]


def flip_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), (0,)), name="dim0"),
        Sample((noncontig(mk(2, 3, 2)), (-1, 0)), name="two-dims"),
        Sample((mk(2, 3), ()), name="no-dims"),
        Sample((mk(0, 2), (0, 1)), name="size0"),
    ]


def roll_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4), 1), kwargs={"dims": 0}, name="dim0"),
        Sample((noncontig(mk(2, 3)), (-1, 5)), kwargs={"dims": (1, 0)}, name="tuple"),
        Sample((mk(3, 2), 2), kwargs={"dims": None}, name="flattened"),
        Sample((mk(0, 2), 1), kwargs={"dims": 1}, name="size0"),
    ]


def repeat_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), (2, 1)), name="2d"),
        Sample((noncontig(mk(2, 2)), (2, 1, 3)), name="extra-dims"),
        Sample((mk(3), (1,)), name="ones"),
        Sample((mk(), (2, 2)), name="0d"),
        Sample((mk(2), (0, 2)), name="zero"),
    ]


def tile_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), (2,)), name="short-dims"),
        Sample((noncontig(mk(2, 2)), (1, 2, 2)), name="extra-dims"),
    ]


def repeat_interleave_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), 2), name="int-flat"),
        Sample((noncontig(mk(2, 3)), 2), kwargs={"dim": -1}, name="int-dim"),
        Sample((mk(3, 2), np.array([1, 0, 2], np.int64)), kwargs={"dim": 0}, name="tensor-counts"),
        Sample((mk(2), np.array([3], np.int64)), kwargs={"dim": 0}, name="one-count"),
        Sample((mk(0, 2), 3), kwargs={"dim": 0}, name="size0"),
    ]


def tri_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4),), name="2d"),
        Sample((mk(2, 3, 3),), kwargs={"diagonal": 1}, name="batched-above"),
        Sample((noncontig(mk(3, 3)),), kwargs={"diagonal": -1}, name="below"),
        Sample((transposed(mk(4, 2)),), kwargs={"diagonal": -5}, name="far"),
        Sample((mk(0, 3),), name="size0"),
    ]


def diag_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3),), name="1d"),
        Sample((mk(2),), kwargs={"diagonal": 1}, name="1d-above"),
        Sample((mk(3),), kwargs={"diagonal": -2}, name="1d-below"),
        Sample((mk(3, 4),), name="2d"),
        Sample((noncontig(mk(3, 4)),), kwargs={"diagonal": 2}, name="2d-above"),
        Sample((mk(3, 2),), kwargs={"diagonal": -1}, name="2d-below"),
        Sample((mk(0),), name="size0"),
    ]


def diagonal_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 4),), name="2d"),
        Sample((noncontig(mk(3, 4)),), kwargs={"offset": 1}, name="above"),
        Sample((mk(2, 3, 4),), kwargs={"offset": -1, "dim1": 2, "dim2": 1}, name="3d-dims"),
        Sample((transposed(mk(2, 3, 2)),), kwargs={"offset": 0, "dim1": -1, "dim2": 0}, name="3d-transposed"),
        Sample((mk(3, 3),), kwargs={"offset": 5}, name="empty"),
    ]


def diag_embed_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3),), name="batched"),
        Sample((mk(3),), kwargs={"offset": 1}, name="above"),
        Sample((noncontig(mk(2, 2)),), kwargs={"offset": -1, "dim1": 0, "dim2": 2}, name="dims"),
    ]


def meshgrid_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3), mk(2)), name="2"),
        Sample((mk(2), mk(1), mk(3)), name="3"),
        Sample((mk(), mk(2)), name="0d"),
        Sample((mk(0), mk(2)), name="size0"),
    ]


def _pieces(fn):
    """A split-like op returns a tuple; gradients flow through every piece."""
    return lambda lib, *a, **k: tuple(fn(lib, *a, **k))


OPS = [
    OpInfo("cat", lambda lib, *ts, dim=0: lib.cat(ts, dim), cat_samples),
    OpInfo("cat_promote", lambda lib, a, b: lib.cat([a, b.double()], 0),
           lambda r, d: [Sample((make(r, (2, 2), d), make(r, (1, 2), d)))]),
    OpInfo("concat", lambda lib, a, b: lib.concat((a, b), dim=-2),
           lambda r, d: [Sample((make(r, (1, 2), d), make(r, (2, 2), d)))]),
    OpInfo("stack", lambda lib, *ts, dim=0: lib.stack(ts, dim), stack_samples),
    OpInfo("hstack", lambda lib, *ts: lib.hstack(ts), pair_samples),
    OpInfo("vstack", lambda lib, *ts: lib.vstack(ts), pair_samples),
    OpInfo("dstack", lambda lib, *ts: lib.dstack(ts), pair_samples),
    OpInfo("column_stack", lambda lib, *ts: lib.column_stack(ts), lambda r, d: pair_samples(r, d)[:2]),
    OpInfo("split", _pieces(lambda lib, a, s, dim=0: lib.split(a, s, dim)), split_samples),
    OpInfo("split_method", _pieces(lambda lib, a, s, dim=0: a.split(s, dim=dim)), lambda r, d: split_samples(r, d)[:3]),
    OpInfo("chunk", _pieces(lambda lib, a, n, dim=0: a.chunk(n, dim)), chunk_samples),
    OpInfo("tensor_split", _pieces(lambda lib, a, s, dim=0: lib.tensor_split(a, s, dim)), tensor_split_samples),
    OpInfo("unbind", _pieces(lambda lib, a, dim=0: lib.unbind(a, dim)), unbind_samples),
    OpInfo("narrow", lambda lib, a, dim, start, length: a.narrow(dim, start, length), narrow_samples),
    OpInfo("select", lambda lib, a, dim, i: lib.select(a, dim, i), select_samples),
    OpInfo("flip", lambda lib, a, dims: lib.flip(a, dims), flip_samples),
    OpInfo("flip_method", lambda lib, a: a.flip(0, 1), lambda r, d: [Sample((make(r, (2, 3), d),))]),
    OpInfo("fliplr_flipud", lambda lib, a: (lib.fliplr(a), lib.flipud(a)),
           lambda r, d: [Sample((make(r, (2, 3), d),)), Sample((noncontig(make(r, (3, 2, 2), d)),))]),
    OpInfo("roll", lambda lib, a, s, dims: lib.roll(a, s, dims), roll_samples),
    OpInfo("repeat", lambda lib, a, sizes: a.repeat(*sizes), repeat_samples),
    OpInfo("tile", lambda lib, a, dims: lib.tile(a, dims), tile_samples),
    OpInfo("repeat_interleave", lambda lib, a, r, dim=None: lib.repeat_interleave(a, r, dim=dim),
           repeat_interleave_samples),
    OpInfo("tril", lambda lib, a, diagonal=0: lib.tril(a, diagonal), tri_samples),
    OpInfo("triu", lambda lib, a, diagonal=0: a.triu(diagonal), tri_samples),
    OpInfo("tril_", lambda lib, a, diagonal=0: (a * 1).tril_(diagonal), lambda r, d: tri_samples(r, d)[:3]),
    OpInfo("triu_", lambda lib, a, diagonal=0: (a * 1).triu_(diagonal), lambda r, d: tri_samples(r, d)[:3]),
    OpInfo("diag", lambda lib, a, diagonal=0: lib.diag(a, diagonal), diag_samples),
    OpInfo("diagonal", lambda lib, a, **k: lib.diagonal(a, **k), diagonal_samples),
    OpInfo("diag_embed", lambda lib, a, **k: lib.diag_embed(a, **k), diag_embed_samples),
    OpInfo("trace", lambda lib, a: lib.trace(a),
           lambda r, d: [Sample((make(r, (3, 3), d),)), Sample((noncontig(make(r, (2, 4), d)),)),
                         Sample((make(r, (0, 2), d),))]),
    OpInfo("meshgrid_ij", lambda lib, *ts: lib.meshgrid(*ts, indexing="ij"), meshgrid_samples),
    OpInfo("meshgrid_xy", lambda lib, *ts: lib.meshgrid(ts, indexing="xy"), meshgrid_samples),
    OpInfo("cartesian_prod", lambda lib, *ts: lib.cartesian_prod(*ts), lambda r, d: meshgrid_samples(r, d)[:2]),
    # a * 1: atleast_* may return the input itself, which gradgradcheck mishandles (see report)
    OpInfo("atleast_nd", lambda lib, a: (lib.atleast_1d(a * 1), lib.atleast_2d(a * 1), lib.atleast_3d(a * 1)),
           lambda r, d: [Sample((make(r, (), d),)), Sample((make(r, (3,), d),)), Sample((make(r, (2, 3), d),))]),
]
