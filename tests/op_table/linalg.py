"""Op-table entries: matmul in all its PyTorch shapes, mm/bmm/mv/dot/outer/inner/addmm, and einsum."""
import numpy as np

from . import OpInfo, Sample, ints, make, noncontig, transposed


def _mk(rng, dt):
    return lambda *s: make(rng, s, dt)


def matmul_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample((mk(3), mk(3)), name="1d@1d"),
        Sample((mk(3), mk(3, 4)), name="1d@2d"),
        Sample((mk(2, 3), mk(3)), name="2d@1d"),
        Sample((mk(2, 3), mk(3, 4)), name="2d@2d"),
        Sample((mk(3), mk(2, 3, 4)), name="1d@3d"),
        Sample((mk(2, 3, 4), mk(4)), name="3d@1d"),
        Sample((mk(2, 3, 4), mk(4, 2)), name="3d@2d"),
        Sample((mk(3, 4), mk(2, 4, 2)), name="2d@3d"),
        Sample((mk(2, 1, 3, 4), mk(5, 4, 2)), name="batch-broadcast"),
        Sample((mk(1, 2, 3), mk(3, 3, 2)), name="batch-size1"),
        Sample((mk(0, 3), mk(3, 2)), name="size0-rows"),
        Sample((mk(2, 0), mk(0, 2)), name="size0-inner"),
        Sample((transposed(mk(3, 4)), noncontig(mk(4, 2))), name="noncontig"),
        Sample((mk(2, 3), mk(4, 2)), name="mismatch", raises=RuntimeError),
        Sample((mk(3), mk(4)), name="mismatch-1d", raises=RuntimeError),
        Sample((mk(2, 2, 3), mk(3, 3, 2)), name="batch-mismatch", raises=RuntimeError),
        Sample((mk(), mk(2)), name="0d", raises=RuntimeError),
        Sample((mk(2, 3), make(rng, (3, 2), np.float64 if dt == np.float32 else np.float32)), name="dtypes",
               raises=RuntimeError),
    ]


def einsum_samples(rng, dt):
    mk = _mk(rng, dt)
    return [
        Sample(("ij,jk", mk(2, 3), mk(3, 4)), name="implicit-matmul"),
        Sample(("ij,jk->ik", mk(2, 3), mk(3, 4)), name="explicit-matmul"),
        Sample(("ij,jk->ki", transposed(mk(2, 3)), mk(3, 4)), name="explicit-transposed-out"),
        Sample(("bij,bjk->bik", mk(2, 2, 3), mk(2, 3, 2)), name="batch"),
        Sample(("...ij,...jk->...ik", mk(2, 1, 2, 3), mk(3, 3, 2)), name="ellipsis-broadcast"),
        Sample(("...ij,...jk", mk(2, 3), mk(2, 3, 2)), name="ellipsis-implicit"),
        Sample(("i...->...", mk(2, 3, 2)), name="ellipsis-sum-first"),
        Sample(("ii", mk(3, 3)), name="trace"),
        Sample(("ii->i", mk(3, 3)), name="diagonal"),
        Sample(("iij->ij", mk(2, 2, 3)), name="diagonal-keep"),
        Sample(("ij->", mk(2, 3)), name="sum-all"),
        Sample(("ij->j", mk(2, 3)), name="sum-rows"),
        Sample(("ij->ji", noncontig(mk(2, 3))), name="transpose"),
        Sample(("i,j->ij", mk(3), mk(2)), name="outer"),
        Sample(("i,j", mk(3), mk(2)), name="outer-implicit"),
        Sample(("i,i", mk(3), mk(3)), name="dot"),
        Sample(("i,j->", mk(3), mk(2)), name="sum-of-outer"),
        Sample(("ij,jk,kl->il", mk(2, 3), mk(3, 2), mk(2, 2)), name="3-operands"),
        Sample(("i,i,i->", mk(3), mk(3), mk(3)), name="3-operands-scalar"),
        Sample(("bA,Ba", mk(2, 3), mk(2, 2)), name="upper-case-order"),
        Sample(("ij,ij->ij", mk(2, 1), mk(1, 3)), name="size1-broadcast"),
        Sample(("ii,ij->j", mk(2, 2), mk(2, 3)), name="diagonal-times"),
        Sample(("ij,kl->ijkl", mk(2, 1), mk(1, 2)), name="4d-outer"),
        Sample(("", mk()), name="0d"),
        Sample(("i,i->i", mk(0), mk(0)), name="size0"),
        Sample((" i j , j k -> i k ", mk(2, 3), mk(3, 2)), name="spaces"),
        Sample(("ij,jk", mk(2, 3), mk(4, 2)), name="size-mismatch", raises=RuntimeError, match="ij,jk"),
        Sample(("ij,jk", mk(2, 3)), name="too-few", raises=RuntimeError, match="operand"),
        Sample(("ijk,jk", mk(2, 3), mk(3, 4)), name="rank-mismatch", raises=RuntimeError, match=r"\(2, 3\)"),
        Sample(("i1,jk", mk(2, 3), mk(3, 4)), name="bad-char", raises=RuntimeError, match="subscript"),
        Sample(("ij,jk->iz", mk(2, 3), mk(3, 4)), name="unknown-output", raises=RuntimeError, match="z"),
        Sample(("ij,jk->ii", mk(2, 3), mk(3, 4)), name="repeated-output", raises=RuntimeError),
        Sample(("ii", mk(2, 3)), name="diagonal-mismatch", raises=RuntimeError),
        Sample(("ij..k", mk(2, 3, 4)), name="broken-ellipsis", raises=RuntimeError),
        Sample(("ij,jk", mk(2, 3), make(rng, (3, 2), np.float64 if dt == np.float32 else np.float32)),
               name="dtypes", raises=RuntimeError),
    ]


def _einsum(lib, eq, *ops):
    return lib.einsum(eq, *ops)


OPS = [
    OpInfo("matmul", lambda lib, a, b: lib.matmul(a, b), matmul_samples),
    OpInfo("matmul_operator", lambda lib, a, b: a @ b, lambda r, d: matmul_samples(r, d)[:9]),
    OpInfo("Tensor.matmul", lambda lib, a, b: a.matmul(b), lambda r, d: matmul_samples(r, d)[3:5]),
    OpInfo("matmul_int", lambda lib, a, b: a @ b, lambda r, d: [
        Sample((ints(r, (2, 3)), ints(r, (3, 4)))), Sample((ints(r, (3,)), ints(r, (2, 3, 2))), name="1d@3d")],
        supports_grad=False),
    OpInfo("mm", lambda lib, a, b: lib.mm(a, b), lambda r, d: [
        Sample((make(r, (2, 3), d), make(r, (3, 4), d))),
        Sample((transposed(make(r, (3, 2), d)), make(r, (2, 1), d)), name="noncontig"),
        Sample((make(r, (0, 3), d), make(r, (3, 2), d)), name="size0"),
        Sample((make(r, (2, 3), d), make(r, (3,), d)), name="1d", raises=RuntimeError),
        Sample((make(r, (2, 3), d), make(r, (2, 3), d)), name="mismatch", raises=RuntimeError)]),
    OpInfo("Tensor.mm", lambda lib, a, b: a.mm(b), lambda r, d: [Sample((make(r, (2, 3), d), make(r, (3, 4), d)))]),
    OpInfo("bmm", lambda lib, a, b: lib.bmm(a, b), lambda r, d: [
        Sample((make(r, (2, 2, 3), d), make(r, (2, 3, 4), d))),
        Sample((make(r, (1, 3, 2), d), transposed(make(r, (1, 2, 2), d))), name="batch1-noncontig"),
        Sample((make(r, (2, 2, 3), d), make(r, (3, 3, 4), d)), name="batch-mismatch", raises=RuntimeError),
        Sample((make(r, (2, 3), d), make(r, (3, 4), d)), name="2d", raises=RuntimeError)]),
    OpInfo("mv", lambda lib, a, b: lib.mv(a, b), lambda r, d: [
        Sample((make(r, (2, 3), d), make(r, (3,), d))),
        Sample((transposed(make(r, (3, 2), d)), make(r, (2,), d)), name="noncontig"),
        Sample((make(r, (2, 3), d), make(r, (4,), d)), name="mismatch", raises=RuntimeError)]),
    OpInfo("dot", lambda lib, a, b: lib.dot(a, b), lambda r, d: [
        Sample((make(r, (3,), d), make(r, (3,), d))),
        Sample((noncontig(make(r, (4,), d)), make(r, (4,), d)), name="noncontig"),
        Sample((make(r, (0,), d), make(r, (0,), d)), name="size0"),
        Sample((make(r, (3,), d), make(r, (4,), d)), name="mismatch", raises=RuntimeError),
        Sample((make(r, (2, 3), d), make(r, (3,), d)), name="2d", raises=RuntimeError)]),
    OpInfo("vdot", lambda lib, a, b: lib.vdot(a, b), lambda r, d: [Sample((make(r, (3,), d), make(r, (3,), d)))]),
    OpInfo("inner", lambda lib, a, b: lib.inner(a, b), lambda r, d: [
        Sample((make(r, (3,), d), make(r, (3,), d)), name="1d"),
        Sample((make(r, (2, 3), d), make(r, (4, 3), d)), name="2d"),
        Sample((make(r, (2, 2, 3), d), make(r, (3,), d)), name="3d-1d"),
        Sample((make(r, (), d), make(r, (2, 3), d)), name="0d")]),
    OpInfo("outer", lambda lib, a, b: lib.outer(a, b), lambda r, d: [
        Sample((make(r, (3,), d), make(r, (2,), d))),
        Sample((make(r, (1,), d), noncontig(make(r, (4,), d))), name="size1-noncontig"),
        Sample((make(r, (0,), d), make(r, (2,), d)), name="size0"),
        Sample((make(r, (3,), d), ints(r, (2,))), name="float-int"),
        Sample((make(r, (3,), d), make(r, (2, 2), d)), name="2d", raises=RuntimeError)]),
    OpInfo("ger", lambda lib, a, b: lib.ger(a, b), lambda r, d: [Sample((make(r, (3,), d), make(r, (2,), d)))]),
    OpInfo("addmm", lambda lib, c, a, b, **k: lib.addmm(c, a, b, **k), lambda r, d: [
        Sample((make(r, (2, 4), d), make(r, (2, 3), d), make(r, (3, 4), d)), name="full"),
        Sample((make(r, (4,), d), make(r, (2, 3), d), make(r, (3, 4), d)), dict(beta=0.5, alpha=2.0),
               name="bias-broadcast"),
        Sample((make(r, (2, 1), d), transposed(make(r, (2, 3), d)), make(r, (3, 4), d)), dict(alpha=-1),
               name="column-noncontig"),
        Sample((make(r, (3, 4), d), make(r, (2, 3), d), make(r, (3, 4), d)), name="bad-input",
               raises=RuntimeError)]),
    OpInfo("einsum", _einsum, einsum_samples),
    OpInfo("einsum_list", lambda lib, eq, a, b: lib.einsum(eq, [a, b]), lambda r, d: [
        Sample(("ij,jk->ik", make(r, (2, 3), d), make(r, (3, 2), d)))], supports_grad=False),
    OpInfo("einsum_sublist", lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), lambda r, d: [
        Sample((make(r, (2, 3), d), make(r, (3, 2), d)))]),
    OpInfo("einsum_sublist_ellipsis", lambda lib, a: lib.einsum(a, [Ellipsis, 0], [Ellipsis]), lambda r, d: [
        Sample((make(r, (2, 3), d),))]),
    OpInfo("einsum_int", _einsum, lambda r, d: [
        Sample(("ij,jk", ints(r, (2, 3)), ints(r, (3, 2)))), Sample(("ii", ints(r, (3, 3))), name="trace")],
        supports_grad=False),
]
