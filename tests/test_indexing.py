"""Targeted tests of indexing, joining and splitting: views and version counters, errors, in-place
writes under autograd, scatter-add paths. Values and gradients are checked against PyTorch."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import nerve


def _pair(a, requires_grad=False):
    a = np.asarray(a)
    n = nerve.tensor(a).requires_grad_(requires_grad) if requires_grad else nerve.tensor(a)
    t = torch.tensor(a, requires_grad=requires_grad)
    return n, t


def _close(n, t, **kw):
    np.testing.assert_allclose(n.detach().numpy(), t.detach().numpy(), **kw)


# ---------------------------------------------------------------------------- views
@pytest.mark.parametrize("index", [1, (slice(None), 1), (slice(1, None), slice(None, None, 2)), (None, 0),
                                   Ellipsis, (0, 1)])
def test_basic_index_is_a_view_sharing_version(index):
    x = nerve.arange(12.).reshape(3, 4)
    v = x[index]
    assert np.shares_memory(v._data, x._data)
    assert v._version == x._version
    before = x._version
    with nerve.no_grad():
        v.add_(100)
    assert x._version == v._version == before + 1
    ref = np.arange(12.).reshape(3, 4)
    ref[index] += 100
    np.testing.assert_array_equal(x.numpy(), ref)


def test_view_of_leaf_modified_under_no_grad_changes_base():
    w = nerve.zeros(2, 3, requires_grad=True)
    with nerve.no_grad():
        w[0].fill_(1.0)
        w[1, 2] = 5.0
    np.testing.assert_array_equal(w.detach().numpy(), [[1, 1, 1], [0, 0, 5]])
    assert w._version == 2


def test_zero_dim_int_tensor_index_acts_as_int():
    x = nerve.arange(6.).reshape(2, 3)
    v = x[nerve.tensor(1)]
    assert tuple(v.shape) == (3,) and np.shares_memory(v._data, x._data)
    assert tuple(x[nerve.tensor(1), :, None].shape) == (3, 1)


def test_advanced_index_copies():
    x = nerve.arange(6.).reshape(2, 3)
    y = x[[0, 1]]
    z = x[x > 2]
    assert not np.shares_memory(y._data, x._data) and not np.shares_memory(z._data, x._data)
    y.zero_()
    assert x.numpy().sum() == 15


def test_split_chunk_unbind_pieces_are_views():
    x = nerve.arange(12.).reshape(4, 3)
    for pieces in (x.split(2), x.chunk(3, 1), x.unbind(1), (x.narrow(0, 1, 2), x.select(1, 0),
                                                             x.diagonal())):
        assert isinstance(pieces, tuple)
        for p in pieces:
            assert np.shares_memory(p._data, x._data) and p._vc is x._vc
    with nerve.no_grad():
        x.diagonal().fill_(-1.0)
    assert x[1, 1].item() == -1.0 and x[2, 2].item() == -1.0


def test_setitem_through_view_under_no_grad():
    x = nerve.zeros(3, 4)
    x[1:][:, [0, 2]] = 7.0  # the advanced write goes into the view's memory (a copy for reads only)
    ref = np.zeros((3, 4))
    ref[1:][:, [0, 2]] = 7.0
    np.testing.assert_array_equal(x.numpy(), ref)


# ---------------------------------------------------------------------------- semantics vs PyTorch
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("index", [
    (0, slice(None), [1, 0]),  # the int applies first: shape (3, 2), not NumPy's (2, 3)
    ([0, 1], slice(None), [1, 0]),  # non-adjacent index lists: broadcast dims in front
    (slice(None), [0, 2], [1, 1]),
    (True, slice(None), [0, 1]),
    (None, Ellipsis, 0),
    ([[0, 1], [1, 0]],),  # a list of lists is read as a tuple (PyTorch's legacy rule)
    ([True, False],),
    (np.array([1, 0]),),
    (slice(-10, 10), -1),
    ([],),
])
def test_getitem_matches_torch(index):
    a = np.arange(24.).reshape(2, 3, 4)
    n, t = _pair(a, True)
    ni = index if len(index) != 1 else index[0]
    rn, rt = n[ni], t[ni]
    assert tuple(rn.shape) == tuple(rt.shape)
    _close(rn, rt)
    g = np.random.default_rng(0).standard_normal(tuple(rt.shape))
    (gn,) = nerve.autograd.grad(rn, n, nerve.tensor(g))
    (gt,) = torch.autograd.grad(rt, t, torch.tensor(g))
    _close(gn, gt)


def test_repeated_indices_accumulate_gradient():
    rng = np.random.default_rng(0)
    # bincount path, sort+reduceat path (wide rows), np.add.at path (few indices into a big tensor)
    for shape, idx_shape in [((50,), (200,)), ((30, 20), (100,)), ((10, 3), (40,)), ((6, 5, 4), (3, 7)),
                             ((70000,), (30,))]:
        a = rng.standard_normal(shape)
        idx = rng.integers(0, shape[0], idx_shape)
        n, t = _pair(a, True)
        g = rng.standard_normal(idx_shape + shape[1:])
        (gn,) = nerve.autograd.grad(n[nerve.tensor(idx)], n, nerve.tensor(g))
        (gt,) = torch.autograd.grad(t[torch.tensor(idx)], t, torch.tensor(g))
        _close(gn, gt, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("compiled", [True, False])
def test_row_scatter_add_matches_add_at(compiled, monkeypatch):
    """Wide rows at repeated (and negative) indices: the compiled pass sums as np.add.at does, the NumPy
    composition to rounding; an index out of range raises."""
    from nerve.ops import index as ix
    if compiled and ix._ixk is None:
        pytest.skip("numba not installed")
    if not compiled:
        monkeypatch.setattr(ix, "_ixk", None)
    rng = np.random.default_rng(3)
    idx = rng.integers(-40, 40, (16, 30))
    vals = rng.standard_normal((30, 16, 24)).astype(np.float32).transpose(1, 0, 2)   # strided, as a batch_first grad
    out = np.zeros((40, 24), np.float32)
    ix._scatter_add_into(out, (idx,), vals)
    ref = np.zeros((40, 24), np.float32)
    np.add.at(ref, idx, vals)
    if compiled:
        np.testing.assert_array_equal(out, ref)
    else:
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(IndexError, match="out of bounds"):
        ix._scatter_add_into(out, (np.array([0, 40]),), np.ones((2, 24), np.float32))


def test_integer_scatter_add_and_index_add():
    x = np.arange(6).reshape(2, 3)
    idx = np.array([[1, 1, 0]])
    src = np.array([[10, 20, 30]])
    n = nerve.tensor(x).scatter_add(0, nerve.tensor(idx), nerve.tensor(src))
    t = torch.tensor(x).scatter_add(0, torch.tensor(idx), torch.tensor(src))
    assert n.tolist() == t.tolist() and n.dtype == nerve.int64
    n = nerve.tensor(x).index_add(1, nerve.tensor([2, 2]), nerve.tensor([[1, 2], [3, 4]]))
    t = torch.tensor(x).index_add(1, torch.tensor([2, 2]), torch.tensor([[1, 2], [3, 4]]))
    assert n.tolist() == t.tolist()


def test_index_double_backward_is_indexing():
    a = np.arange(5.)
    n, t = _pair(a, True)
    idx = [4, 0, 4, 2]
    (gn,) = nerve.autograd.grad((n[idx] ** 3).sum(), n, create_graph=True)
    (gt,) = torch.autograd.grad((t[idx] ** 3).sum(), t, create_graph=True)
    _close(gn, gt)
    (ggn,) = nerve.autograd.grad((gn * gn).sum(), n)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), t)
    _close(ggn, ggt)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("index,exc,msg", [
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -5), IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    ((slice(None), [1, 4]), IndexError, "index 4 is out of bounds for dimension 0 with size 4"),
    (([0, 1], [1, 7]), IndexError, "index 7 is out of bounds for dimension 1 with size 4"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (slice(None, None, 0), ValueError, "slice step cannot be zero"),
    (1.5, IndexError, "only integers, slices"),
    ("a", IndexError, "only integers, slices"),
    ((0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
    (([0, 1], [0, 1, 2]), IndexError, "shape mismatch: indexing tensors could not be broadcast together"),
])
def test_getitem_errors(index, exc, msg):
    x = nerve.zeros(3, 4)
    with pytest.raises(exc, match=re.escape(msg)):
        x[index]


def test_index_tensor_errors():
    x = nerve.zeros(3, 4)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[nerve.tensor([1.0])]
    with pytest.raises(IndexError, match=re.escape("index 3 is out of bounds for dimension 0 with size 3")):
        x[nerve.tensor([0, 3])]
    with pytest.raises(IndexError, match=re.escape("The shape of the mask [2] at index 0 does not match")):
        x[nerve.tensor([True, False])]
    with pytest.raises(IndexError, match="out of bounds"):
        x[0, 7] = 1.0


def test_op_errors_name_the_op():
    x = nerve.zeros(3, 4)
    with pytest.raises(RuntimeError, match="gather.*same number of dimensions"):
        x.gather(0, nerve.tensor([1]))
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x.gather(0, nerve.tensor([[5]]))
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64"):
        x.gather(0, nerve.tensor([[1.0]]))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, nerve.tensor([3]))
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(nerve.ones(3, 4), 1.0)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        nerve.cat([x, nerve.zeros(2, 3)], 1)
    with pytest.raises(RuntimeError, match="zero-dimensional tensor"):
        nerve.cat([nerve.tensor(1.0), nerve.tensor(2.0)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        nerve.stack([x, nerve.zeros(4, 3)])
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 3"):
        x.split([1, 1])
    with pytest.raises(IndexError, match=re.escape("select(): index 5 out of range")):
        x.select(0, 5)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        x.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        nerve.zeros(3).tril()


def test_cat_legacy_empty_and_promotion():
    a = nerve.ones(2, 2)
    r = nerve.cat([a, nerve.zeros(0, dtype=nerve.float64), nerve.zeros(2, 1, dtype=nerve.int64)], 1)
    assert tuple(r.shape) == (2, 3) and r.dtype == nerve.float64
    assert nerve.cat([nerve.ones(1, dtype=nerve.int32), nerve.zeros(1, dtype=nerve.bool)]).dtype == nerve.int32


# ---------------------------------------------------------------------------- setitem under autograd
def test_setitem_mask_on_nonleaf_matches_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    n, t = _pair(a, True)
    yn, yt = n * 2, t * 2
    yn[yn > 0] = 0
    yt[yt > 0] = 0
    ln, lt = (yn * yn.exp()).sum(), (yt * yt.exp()).sum()
    _close(ln, lt)
    ln.backward()
    lt.backward()
    _close(n.grad, t.grad)


def test_setitem_value_gradient_matches_torch():
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    (xn, xt), (vn, vt) = _pair(a, True), _pair(v, True)
    outs = []
    for lib, x, val in ((nerve, xn, vn), (torch, xt, vt)):
        buf = lib.zeros(5, 3, dtype=x.dtype)  # a constant buffer that becomes part of the graph
        buf[1:3] = val
        buf[[0, 4]] = x[:2] * 3
        buf[:, 0] = x[3, 0]
        outs.append((buf * buf).sum())
    _close(outs[0], outs[1])
    outs[0].backward()
    outs[1].backward()
    _close(xn.grad, xt.grad)
    _close(vn.grad, vt.grad)


def test_setitem_on_leaf_requiring_grad_raises():
    x = nerve.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf"):
        x.masked_fill_(nerve.tensor([True, False, False]), 1.0)
    with nerve.no_grad():
        x[0] = 1.0  # allowed: not recorded
    assert x.requires_grad and x.grad_fn is None and x[0].item() == 1.0


def test_setitem_into_view_rebases_the_base():
    # PyTorch's CopySlices: writing through a view records the write on the base (see
    # tests/test_inplace_views.py for the full set of cases).
    v = nerve.ones(2, requires_grad=True)
    buf = nerve.zeros(3, 2)
    buf[0][:] = v * 3
    (gv,) = nerve.autograd.grad(buf.sum(), v)
    assert gv.tolist() == [3.0, 3.0]
    x = nerve.ones(3, 2, requires_grad=True)
    y = x * 2
    y[0][1] = 5.0
    (gx,) = nerve.autograd.grad(y.sum(), x)
    assert gx.tolist() == [[2.0, 0.0], [2.0, 2.0], [2.0, 2.0]]


def test_setitem_overwriting_saved_values_raises_at_backward():
    x = nerve.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()  # saves its output
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = nerve.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y[1:] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_setitem_without_grad_bumps_version_and_casts():
    x = nerve.zeros(3, dtype=nerve.int64)
    v = x._version
    x[1] = 2.7
    x[nerve.tensor([True, False, True])] = nerve.tensor(4)
    assert x.tolist() == [4, 2, 4] and x._version == v + 2
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[:2] = nerve.tensor([1, 2, 3])


def test_inplace_index_ops_record_history():
    rng = np.random.default_rng(2)
    a, s, u = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal((3, 2))
    idx = np.array([[2, 0, 1, 1], [0, 1, 2, 0]])
    (xn, xt), (sn, st), (un, ut) = _pair(a, True), _pair(s, True), _pair(u, True)
    res = []
    for lib, x, src, add in ((nerve, xn, sn, un), (torch, xt, st, ut)):
        r = (x * 1).scatter_(0, lib.tensor(idx), src).masked_fill_(lib.tensor(a > 1), 0.5)
        r = r.index_add_(1, lib.tensor([0, 0]), add).index_fill_(0, lib.tensor([1]), -1.0)
        r = r.scatter_add_(1, lib.tensor([[3], [3], [0]]), add[:, :1])
        (r ** 2).sum().backward()
        res.append(r)
    _close(res[0], res[1])
    for n, t in ((xn, xt), (sn, st), (un, ut)):
        _close(n.grad, t.grad)


# ---------------------------------------------------------------------------- joins
def test_split_gradient_with_unused_pieces():
    a = np.arange(10.)
    n, t = _pair(a, True)
    pn, pt = n.split([3, 3, 4]), t.split([3, 3, 4])
    (pn[0] * 2 + pn[1]).sum().backward()
    (pt[0] * 2 + pt[1]).sum().backward()
    _close(n.grad, t.grad)


def test_flip_and_repeat_copy():
    x = nerve.arange(4.)
    for r in (x.flip(0), x.repeat(1), x.roll(1), x.tile((1,))):
        assert not np.shares_memory(r._data, x._data)


def test_meshgrid_xy_and_cartesian_prod():
    a, b = np.arange(3.), np.arange(2.)
    for ind in ("ij", "xy"):
        gn = nerve.meshgrid(nerve.tensor(a), nerve.tensor(b), indexing=ind)
        gt = torch.meshgrid(torch.tensor(a), torch.tensor(b), indexing=ind)
        for u, v in zip(gn, gt):
            _close(u, v)
    _close(nerve.cartesian_prod(nerve.tensor(a), nerve.tensor(b)), torch.cartesian_prod(torch.tensor(a),
                                                                                          torch.tensor(b)))
