"""Op-table entries: reshape/view, flatten, squeeze, expand, transposes, clone/contiguous and dtype casts.

Views are also checked to be views (they share memory with their input, as in PyTorch) by the
``*_shares`` entries, which write through the view and return the base.
"""
import numpy as np

from . import OpInfo, Sample, make, noncontig, transposed


def _mk(rng, dt):
    return lambda *s: make(rng, s, dt)


def reshape_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3, 4), (6, 4)), name="merge"),
        Sample((mk(2, 3, 4), (-1,)), name="flat"),
        Sample((mk(2, 3, 4), (4, -1, 2)), name="infer-middle"),
        Sample((mk(6), (1, 2, 1, 3)), name="size1-dims"),
        Sample((mk(), (1, 1)), name="0d-to-2d"),
        Sample((mk(1, 1), ()), name="to-0d"),
        Sample((mk(0, 3), (3, 0)), name="size0"),
        Sample((mk(0, 3), (2, 0, 3)), name="size0-3d"),
        Sample((mk(2, 3, 4), (2, 3, 4)), name="same-shape"),
        Sample((transposed(mk(3, 4)), (12,)), name="noncontig-copy"),
        Sample((noncontig(mk(2, 6)), (3, 4)), name="strided-copy"),
        Sample((mk(2, 3, 4), (5, -1)), name="bad-size", raises=RuntimeError, match="invalid"),
        Sample((mk(2, 3, 4), (-1, -1)), name="two-inferred", raises=RuntimeError, match="one dimension"),
        Sample((mk(2, 3), (-2, 3)), name="negative-size", raises=RuntimeError),
    ]


def view_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3, 4), (6, 4)), name="merge"),
        Sample((mk(2, 3, 4), (-1,)), name="flat"),
        Sample((mk(24), (2, -1, 3)), name="split"),
        Sample((mk(), (1,)), name="0d"),
        Sample((mk(0, 4), (2, 0, 2)), name="size0"),
        # a transposed tensor can be viewed when only its contiguous dims are merged or split
        Sample((transposed(mk(3, 4)), (3, 2, 2)), name="noncontig-split-ok"),
        Sample((transposed(mk(3, 4)), (12,)), name="noncontig", raises=RuntimeError, match="reshape"),
        Sample((noncontig(mk(2, 6)), (3, 4)), name="uniformly-strided-ok"),
        Sample((transposed(mk(2, 3, 4)), (6, 4)), name="transposed-3d", raises=RuntimeError),
        Sample((mk(2, 3), (4, -1)), name="bad-size", raises=RuntimeError),
    ]


def squeeze_samples(rng, dt):
    mk = _mk(rng, dt)
    x = mk(1, 3, 1, 2)
    return [
        Sample((x,), name="all"),
        Sample((x, 0), name="dim0"),
        Sample((x, -2), name="neg-dim"),
        Sample((x, 1), name="non1-dim-kept"),
        Sample((x, (0, 2)), name="tuple"),
        Sample((x, (0, 1, -2)), name="tuple-with-non1"),
        Sample((mk(), ), name="0d"),
        Sample((mk(), 0), name="0d-dim0"),
        Sample((mk(1, 0, 1), ), name="size0"),
        Sample((noncontig(mk(1, 3, 1, 4)), 2), name="noncontig"),
        Sample((mk(1, 1),), name="all-ones"),
        Sample((x, 4), name="bad-dim", raises=IndexError),
        Sample((x, (0, 0)), name="repeated", raises=RuntimeError, match="multiple"),
    ]


def unsqueeze_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3), 0), name="front"),
        Sample((mk(2, 3), 2), name="back"),
        Sample((mk(2, 3), -1), name="neg-back"),
        Sample((mk(2, 3), -3), name="neg-front"),
        Sample((mk(2, 3), 1), name="middle"),
        Sample((mk(), 0), name="0d"),
        Sample((mk(), -1), name="0d-neg"),
        Sample((mk(0, 2), 1), name="size0"),
        Sample((transposed(mk(3, 4)), 1), name="noncontig"),
        Sample((mk(2, 3), 3), name="bad-dim", raises=IndexError),
        Sample((mk(2, 3), -4), name="bad-neg-dim", raises=IndexError),
    ]


def flatten_samples(rng, dt):
    mk = _mk(rng, dt)
    x = mk(2, 3, 2, 2)
    return [
        Sample((x,), name="all"),
        Sample((x, 1), name="start1"),
        Sample((x, 0, 1), name="0-1"),
        Sample((x, -3, -2), name="neg"),
        Sample((x, 2, 2), name="single-dim"),
        Sample((mk(),), name="0d"),
        Sample((mk(2, 0, 3), 1), name="size0"),
        Sample((transposed(mk(3, 4)),), name="noncontig"),
        Sample((noncontig(mk(2, 3, 4)), 1), name="strided"),
        Sample((x, 2, 1), name="start-after-end", raises=RuntimeError),
        Sample((x, 0, 4), name="bad-dim", raises=IndexError),
    ]


def unflatten_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 12), 1, (3, 4)), name="split"),
        Sample((mk(2, 12), -1, (2, -1, 3)), name="infer"),
        Sample((mk(6, 2), 0, (1, 6)), name="size1"),
        Sample((mk(12), 0, [2, 2, 3]), name="list"),
        Sample((transposed(mk(4, 6)), 0, (2, 2)), name="noncontig"),
        Sample((mk(2, 12), 1, (5, -1)), name="bad", raises=RuntimeError),
    ]


def expand_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 1), (3, 4)), name="size1-dim"),
        Sample((mk(3, 1), (-1, 4)), name="keep-with-minus1"),
        Sample((mk(3, 1), (2, 3, 4)), name="new-leading"),
        Sample((mk(4), (2, 3, 4)), name="1d"),
        Sample((mk(), (2, 3)), name="0d"),
        Sample((mk(1, 3), (0, 3)), name="to-size0"),
        Sample((mk(2, 3), (2, 3)), name="same"),
        Sample((noncontig(mk(3, 1, 2)), (3, 4, 2)), name="noncontig"),
        Sample((mk(3, 1), (4, 4)), name="bad-size", raises=RuntimeError, match="must match"),
        Sample((mk(3, 1), (4,)), name="too-few", raises=RuntimeError),
        Sample((mk(3, 1), (-1, 3, 4)), name="minus1-leading", raises=RuntimeError),
    ]


def permute_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3, 4), (2, 0, 1)), name="3d"),
        Sample((mk(2, 3, 4), (-1, 0, -2)), name="neg"),
        Sample((mk(2, 3), (1, 0)), name="2d"),
        Sample((mk(2, 1, 3, 2), (3, 1, 0, 2)), name="4d-size1"),
        Sample((mk(), ()), name="0d"),
        Sample((mk(0, 3), (1, 0)), name="size0"),
        Sample((noncontig(mk(2, 3, 4)), (1, 2, 0)), name="noncontig"),
        Sample((mk(2, 3, 4), (0, 1)), name="too-few", raises=RuntimeError),
        Sample((mk(2, 3, 4), (0, 1, 1)), name="repeated", raises=RuntimeError),
    ]


def transpose_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3, 4), 0, 2), name="3d"),
        Sample((mk(2, 3, 4), -1, -2), name="neg"),
        Sample((mk(2, 3), 0, 1), name="2d"),
        Sample((mk(3), 0, 0), name="1d-noop"),
        Sample((mk(), 0, -1), name="0d"),
        Sample((mk(0, 3), 0, 1), name="size0"),
        Sample((transposed(mk(3, 4)), 0, 1), name="noncontig"),
        Sample((mk(2, 3), 0, 2), name="bad-dim", raises=IndexError),
    ]


def movedim_samples(rng, dt):
    mk = _mk(rng, dt)
    x = mk(2, 3, 4, 1)
    return [
        Sample((x, 0, -1), name="int"),
        Sample((x, -1, 1), name="neg"),
        Sample((x, (0, 1), (2, 0)), name="tuple"),
        Sample((x, [3, 0], [0, 3]), name="swap-list"),
        Sample((mk(3), 0, 0), name="1d"),
        Sample((noncontig(mk(2, 3, 4)), 2, 0), name="noncontig"),
        Sample((x, (0, 1), (2,)), name="length-mismatch", raises=RuntimeError),
        Sample((x, (0, 0), (1, 2)), name="repeated", raises=RuntimeError),
        Sample((x, 4, 0), name="bad-dim", raises=IndexError),
    ]


def matrix_like_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3),), name="2d"),
        Sample((mk(2, 3, 4),), name="3d"),
        Sample((mk(1, 4),), name="size1"),
        Sample((mk(0, 3),), name="size0"),
        Sample((transposed(mk(3, 4)),), name="noncontig"),
    ]


def t_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3),), name="2d"),
        Sample((mk(3),), name="1d"),
        Sample((mk(),), name="0d"),
        Sample((mk(0, 3),), name="size0"),
        Sample((transposed(mk(3, 4)),), name="noncontig"),
        Sample((mk(2, 3, 4),), name="3d", raises=RuntimeError),
    ]


def copy_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(2, 3),), name="2d"),
        Sample((mk(),), name="0d"),
        Sample((mk(0, 3),), name="size0"),
        Sample((transposed(mk(3, 4)),), name="transposed"),
        Sample((noncontig(mk(2, 3, 4)),), name="strided"),
    ]


def broadcast_pair_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3, 1), mk(1, 4)), name="both"),
        Sample((mk(4), mk(2, 3, 1)), name="rank"),
        Sample((mk(), mk(2, 2)), name="0d"),
        Sample((mk(0, 1), mk(3)), name="size0"),
        Sample((mk(2, 3), mk(3, 2)), name="bad", raises=RuntimeError),
    ]


def shares(name, view, samples):
    """An entry that writes through ``view(x)`` and returns ``x``: nerve must share memory like torch."""
    def fn(lib, a, *args):
        x = a.detach().clone()
        v = view(x, *args)
        v.add_(1.0)
        return x, v
    return OpInfo(name, fn, samples, supports_grad=False)


def layout_fn(lib, a):
    """The memory-layout facts PyTorch users rely on."""
    c = a.clone()
    return (a.is_contiguous(), a.contiguous().is_contiguous(), c.is_contiguous(), c.stride(),
            a.t().is_contiguous() if a.ndim == 2 else True)


OPS = [
    # ------------------------------------------------------------------ reshape / view
    OpInfo("reshape", lambda lib, a, s: a.reshape(s), reshape_samples),
    OpInfo("reshape_varargs", lambda lib, a, s: a.reshape(*s), lambda r, d: [
        x for x in reshape_samples(r, d)[:4] if x.raises is None]),
    OpInfo("torch.reshape", lambda lib, a, s: lib.reshape(a, s), lambda r, d: reshape_samples(r, d)[:3]),
    OpInfo("reshape_as", lambda lib, a, b: a.reshape_as(b), lambda r, d: [
        Sample((make(r, (2, 6), d), make(r, (3, 4), d)), grad=(True, False)),
        Sample((transposed(make(r, (3, 4), d)), make(r, (12,), d)), grad=(True, False), name="noncontig")]),
    OpInfo("view", lambda lib, a, s: a.view(s), view_samples),
    OpInfo("view_varargs", lambda lib, a, s: a.view(*s), lambda r, d: view_samples(r, d)[:3]),
    OpInfo("view_as", lambda lib, a, b: a.view_as(b), lambda r, d: [
        Sample((make(r, (2, 6), d), make(r, (3, 4), d)), grad=(True, False))]),
    shares("view_shares", lambda x, s: x.view(s), lambda r, d: view_samples(r, d)[:3]),
    shares("reshape_shares", lambda x, s: x.reshape(s), lambda r, d: [
        x for x in reshape_samples(r, d) if x.raises is None]),
    OpInfo("flatten", lambda lib, a, *dims: a.flatten(*dims), flatten_samples),
    OpInfo("torch.flatten", lambda lib, a, *dims: lib.flatten(a, *dims), lambda r, d: flatten_samples(r, d)[:3]),
    shares("flatten_shares", lambda x, *dims: x.flatten(*dims), lambda r, d: flatten_samples(r, d)[:4]),
    OpInfo("unflatten", lambda lib, a, dim, sizes: a.unflatten(dim, sizes), unflatten_samples),
    OpInfo("torch.unflatten", lambda lib, a, dim, sizes: lib.unflatten(a, dim, sizes),
           lambda r, d: unflatten_samples(r, d)[:2]),
    # ------------------------------------------------------------------ squeeze / unsqueeze
    OpInfo("squeeze", lambda lib, a, *dim: a.squeeze(*dim), squeeze_samples),
    OpInfo("torch.squeeze", lambda lib, a, *dim: lib.squeeze(a, *dim), lambda r, d: squeeze_samples(r, d)[:5]),
    shares("squeeze_shares", lambda x, *dim: x.squeeze(*dim), lambda r, d: squeeze_samples(r, d)[:5]),
    OpInfo("unsqueeze", lambda lib, a, dim: a.unsqueeze(dim), unsqueeze_samples),
    OpInfo("torch.unsqueeze", lambda lib, a, dim: lib.unsqueeze(a, dim), lambda r, d: unsqueeze_samples(r, d)[:4]),
    shares("unsqueeze_shares", lambda x, dim: x.unsqueeze(dim), lambda r, d: unsqueeze_samples(r, d)[:4]),
    # ------------------------------------------------------------------ expand / broadcast
    OpInfo("expand", lambda lib, a, s: a.expand(s), expand_samples),
    OpInfo("expand_varargs", lambda lib, a, s: a.expand(*s), lambda r, d: expand_samples(r, d)[:4]),
    OpInfo("expand_as", lambda lib, a, b: a.expand_as(b), lambda r, d: [
        Sample((make(r, (3, 1), d), make(r, (2, 3, 4), d)), grad=(True, False)),
        Sample((make(r, (), d), make(r, (2,), d)), grad=(True, False), name="0d")]),
    OpInfo("broadcast_to", lambda lib, a, s: lib.broadcast_to(a, s), lambda r, d: expand_samples(r, d)[:5]),
    OpInfo("Tensor.broadcast_to", lambda lib, a, s: a.broadcast_to(s), lambda r, d: expand_samples(r, d)[:3]),
    OpInfo("expand_then_op", lambda lib, a: a.expand(3, 2, 4) * 2.0, lambda r, d: [
        Sample((make(r, (2, 1), d),))]),
    OpInfo("broadcast_tensors", lambda lib, a, b: lib.broadcast_tensors(a, b), broadcast_pair_samples),
    OpInfo("broadcast_shapes", lambda lib, *shapes: lib.broadcast_shapes(*shapes), lambda r, d: [
        Sample(((2, 1), (3,)), name="two"), Sample(((1,), (4, 1, 2), (3, 1)), name="three"),
        Sample((3, (2, 1)), name="int"), Sample(((),), name="empty"),
        Sample(((2, 1), (3, 3)), name="bad", raises=RuntimeError)], supports_grad=False),
    OpInfo("sum_to_size", lambda lib, a, s: a.sum_to_size(s), lambda r, d: [
        Sample((make(r, (2, 3, 4), d), (3, 1)), name="trailing"),
        Sample((make(r, (2, 3, 4), d), (1, 3, 1)), name="keep-rank"),
        Sample((make(r, (2, 3), d), (2, 3)), name="same")]),
    # ------------------------------------------------------------------ transposes
    OpInfo("permute", lambda lib, a, dims: a.permute(dims), permute_samples),
    OpInfo("permute_varargs", lambda lib, a, dims: a.permute(*dims), lambda r, d: permute_samples(r, d)[:4]),
    OpInfo("torch.permute", lambda lib, a, dims: lib.permute(a, dims), lambda r, d: permute_samples(r, d)[:2]),
    shares("permute_shares", lambda x, dims: x.permute(dims), lambda r, d: permute_samples(r, d)[:3]),
    OpInfo("transpose", lambda lib, a, d0, d1: a.transpose(d0, d1), transpose_samples),
    OpInfo("torch.transpose", lambda lib, a, d0, d1: lib.transpose(a, d0, d1),
           lambda r, d: transpose_samples(r, d)[:2]),
    OpInfo("swapaxes", lambda lib, a, d0, d1: lib.swapaxes(a, d0, d1), lambda r, d: transpose_samples(r, d)[:2]),
    OpInfo("swapdims", lambda lib, a, d0, d1: a.swapdims(d0, d1), lambda r, d: transpose_samples(r, d)[:2]),
    shares("transpose_shares", lambda x, d0, d1: x.transpose(d0, d1), lambda r, d: transpose_samples(r, d)[:3]),
    OpInfo("t", lambda lib, a: a.t(), t_samples),
    OpInfo("torch.t", lambda lib, a: lib.t(a), lambda r, d: t_samples(r, d)[:2]),
    OpInfo("T", lambda lib, a: a.T, lambda r, d: [matrix_like_samples(r, d)[i] for i in (0, 2, 3, 4)]),
    OpInfo("mT", lambda lib, a: a.mT, lambda r, d: matrix_like_samples(r, d) + [
        Sample((make(r, (3,), d),), name="1d", raises=RuntimeError)]),
    OpInfo("mH", lambda lib, a: a.mH, lambda r, d: matrix_like_samples(r, d)[:2]),
    OpInfo("H", lambda lib, a: a.H, lambda r, d: [
        Sample((make(r, (2, 3), d),)), Sample((transposed(make(r, (3, 2), d)),), name="noncontig"),
        Sample((make(r, (2, 3, 4), d),), name="3d", raises=RuntimeError)]),
    OpInfo("adjoint", lambda lib, a: a.adjoint(), lambda r, d: matrix_like_samples(r, d)[:2]),
    OpInfo("movedim", lambda lib, a, s, t: a.movedim(s, t), movedim_samples),
    OpInfo("torch.movedim", lambda lib, a, s, t: lib.movedim(a, s, t), lambda r, d: movedim_samples(r, d)[:3]),
    OpInfo("moveaxis", lambda lib, a, s, t: lib.moveaxis(a, s, t), lambda r, d: movedim_samples(r, d)[:3]),
    # ------------------------------------------------------------------ copies, layout and casts
    OpInfo("contiguous", lambda lib, a: a.contiguous(), copy_samples),
    OpInfo("clone", lambda lib, a: a.clone(), copy_samples),
    OpInfo("torch.clone", lambda lib, a: lib.clone(a), lambda r, d: copy_samples(r, d)[:2]),
    OpInfo("clone_is_copy", lambda lib, a: (lambda x, c: (c.add_(1.0), x)[1])(a.detach(), a.detach().clone()),
           copy_samples, supports_grad=False),
    OpInfo("layout", layout_fn, copy_samples, supports_grad=False),
    OpInfo("to_float64", lambda lib, a: a.to(lib.float64), copy_samples),
    OpInfo("to_float32", lambda lib, a: a.to(lib.float32) * 2, lambda r, d: [
        Sample((make(r, (2, 3), np.float64),), name="from-f64"), Sample((make(r, (3,), np.float32),), name="same")],
        gradcheck=False),  # float32 round trip: too coarse for finite differences
    OpInfo("to_dtype_kw", lambda lib, a: a.to(dtype=lib.float64), lambda r, d: copy_samples(r, d)[:2]),
    OpInfo("to_other", lambda lib, a, b: a.to(b), lambda r, d: [
        Sample((make(r, (2, 3), d), make(r, (1,), np.float64)), grad=(True, False))]),
    OpInfo("double_float", lambda lib, a: (a.double(), a.float(), a.double().float()), copy_samples,
           gradcheck=False),
    OpInfo("type_dtype", lambda lib, a: a.type(lib.float64), lambda r, d: copy_samples(r, d)[:2]),
    OpInfo("type_as", lambda lib, a, b: a.type_as(b), lambda r, d: [
        Sample((make(r, (2, 3), d), make(r, (1,), np.float64)), grad=(True, False)),
        Sample((make(r, (2, 3), d), np.zeros(1, dtype=np.int64)), grad=(False, False), name="to-int")]),
    OpInfo("to_int_cast", lambda lib, a: (a.long(), a.int(), a.bool(), a.to(lib.int16), a.to(lib.uint8)),
           lambda r, d: [Sample((np.array([-2.7, -0.5, 0.0, 0.5, 2.7, 3.0], dtype=d),)),
                         Sample((np.array([0.0, 1.9, 200.2], dtype=d),), name="positive")], supports_grad=False),
    OpInfo("to_from_int", lambda lib, a: (a.float(), a.double(), a.bool(), a.to(lib.int32)), lambda r, d: [
        Sample((np.array([-2, 0, 3]),)), Sample((np.array([True, False]),), name="bool")], supports_grad=False),
    OpInfo("to_same_is_self", lambda lib, a: (a.to(a.dtype) is a, a.float() is a if a.dtype == lib.float32 else
                                              a.double() is a, a.to(a.dtype, copy=True) is a),
           lambda r, d: copy_samples(r, d)[:1], supports_grad=False),
]
