"""In-place ops on views of tensors that require grad (PyTorch's CopySlices), compared with PyTorch.

Each case builds ``y = x * 1`` (a non-leaf), writes into a view of it in place, and checks the
values and the gradients of a loss with respect to every leaf against PyTorch.
"""
import numpy as np
import pytest
import torch

import nerve

X = np.arange(1.0, 13.0).reshape(3, 4) / 4


def _leaves(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def _check(fn, arrays, loss=lambda y: (y * y).sum()):
    """Run ``fn(lib, *leaves) -> y`` in nerve and torch; compare y and d loss(y) / d leaves."""
    res = []
    for lib in (nerve, torch):
        leaves = _leaves(lib, arrays)
        y = fn(lib, *leaves)
        grads = lib.autograd.grad(loss(y), leaves, allow_unused=True)
        res.append((y.detach().numpy().copy(),
                    [None if g is None else g.numpy().copy() for g in grads]))
    (yn, gn), (yt, gt) = res
    np.testing.assert_allclose(yn, yt, rtol=1e-12, atol=1e-12)
    for a, b in zip(gn, gt):
        if b is None:
            assert a is None or not np.any(a)
        else:
            assert a is not None
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_getitem_iadd():
    def f(lib, x):
        y = x * 1
        y[0] += 1
        return y
    _check(f, [X])


def test_column_imul_by_tensor():
    def f(lib, x, w):
        y = x * 1
        y[:, 1] *= w
        return y
    _check(f, [X, np.array([2.0, -1.0, 0.5])])


def test_slice_mul_():
    def f(lib, x):
        y = x * 1
        y[1:3].mul_(2)
        return y
    _check(f, [X])


def test_view_of_view_add_():
    def f(lib, x, z):
        y = x * 1
        y.view(-1)[2:4].add_(z)
        return y
    _check(f, [X, np.array([3.0, -2.0])])


def test_transposed_row_zero_():
    def f(lib, x):
        y = x * 2
        y.t()[0].zero_()
        return y
    _check(f, [X])


def test_setitem_on_view_of_view():
    def f(lib, x, v):
        y = x * 1
        y[0][1] = v
        return y
    _check(f, [X, np.array(7.0)])


def test_setitem_constant_on_view():
    def f(lib, x):
        y = x * 2
        y[1][2:] = 5.0
        return y * x
    _check(f, [X])


def test_diagonal_add_():
    def f(lib, x):
        y = x * 1
        y.diagonal().add_(1)
        return y * x
    _check(f, [X])


def test_narrow_copy_():
    def f(lib, x, z):
        y = x * 1
        y.narrow(0, 1, 1).copy_(z)
        return y
    _check(f, [X, np.array([[1.0, -2.0, 3.0, 0.5]])])


def test_narrow_copy_constant():
    def f(lib, x):
        y = x * 1
        y.narrow(1, 1, 2).copy_(lib.zeros(3, 2, dtype=lib.float64))
        return y
    _check(f, [X])


def test_relu_on_slice():
    def f(lib, x):
        y = x - 1.5
        y[:, 1:3].relu_()
        return y
    _check(f, [X])


def test_view_keeps_new_history_and_chains():
    """Later uses of the view and of the base see the in-place op; several writes compose."""
    def f(lib, x, w):
        y = x * 1
        y.t()[2].mul_(3)    # rebase y
        r = y[1]            # a view of the rebased base, overlapping the first write
        r.mul_(w)           # rebase again
        r.add_(w * w)       # and again, through the view's new history
        return y + r.sum()  # r itself differentiates through all three
    _check(f, [X, np.array([1.0, 2.0, -1.0, 0.5])])


def test_permute_reshape_chain():
    def f(lib, x, w):
        y = (x * 1).reshape(2, 3, 2)
        y.permute(2, 0, 1)[1, :, 1:].mul_(w)
        return y
    _check(f, [X, np.array([[2.0, 3.0], [-1.0, 4.0]])])


def test_base_without_grad_gets_history():
    def f(lib, w):
        y = lib.zeros(3, 4, dtype=lib.float64)
        y[1][1:3] = w
        y.t()[0].add_(w.sum())
        return y
    _check(f, [np.array([2.0, -3.0])])


def test_second_derivative_through_copyslices():
    w0 = np.array([0.5, -1.0, 2.0])
    res = []
    for lib in (nerve, torch):
        x, w = _leaves(lib, [X, w0])
        y = x * 1
        y[:, 2].mul_(w * w)
        y.diagonal().add_(w)
        loss = (y ** 3).sum()
        gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gx).sum() + (gw ** 2).sum(), (x, w))
        res.append([t.detach().numpy().copy() for t in (gx, gw, hx, hw)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_gradcheck_inplace_on_view():
    def f(x, w):
        y = x * 1
        y[1:, ::2] *= w
        y.t()[1].sub_(w.sum())
        return y
    x = nerve.tensor(X[:, :3].copy(), dtype=nerve.float64, requires_grad=True)
    w = nerve.tensor([[1.5, -0.5]], dtype=nerve.float64, requires_grad=True)
    assert nerve.autograd.gradcheck(f, (x, w))
    assert nerve.autograd.gradgradcheck(f, (x, w))


def test_inplace_on_view_of_leaf_raises():
    for lib in (nerve, torch):
        x = lib.tensor(X, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                               "in-place operation"):
            x[0].add_(1)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[:, 1].mul_(2)
        with lib.no_grad():
            x[0].add_(1)  # not recorded: allowed


def test_expanded_view_stays_read_only():
    y = nerve.tensor([1.0, 2.0], requires_grad=True) * 1
    e = y.expand(3, 2)
    with pytest.raises(RuntimeError, match="expanded"):
        e.add_(1)
    with pytest.raises(RuntimeError, match="expanded"):
        e[0].mul_(2)
    with pytest.raises(RuntimeError, match="expanded"):
        e[1] = 4.0


def test_saved_view_modified_raises_at_backward():
    for lib in (nerve, torch):
        x = lib.tensor(X, requires_grad=True)
        y = x * 1
        a = y[1]
        b = a * a  # saves a
        y[1].mul_(2)  # same memory: a's version moved on
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()


def test_dtype_view_is_not_replayed():
    y = nerve.tensor([1.0, 2.0], dtype=nerve.float32, requires_grad=True) * 1
    v = y.view(nerve.int32)
    with pytest.raises(RuntimeError):
        v.copy_(nerve.tensor([1.0, 2.0], requires_grad=True) * 1)


def test_sibling_views_on_disjoint_regions():
    """chunk/unbind/select/unsqueeze views, each written in place (disjoint regions).

    PyTorch refuses in-place ops on outputs of multi-view functions (chunk, split, unbind); nerve
    allows them (each piece is a plain slice view), so the reference spells them with narrow/select.
    """
    def f(lib, x, w):
        y = x * 1
        parts = y.chunk(3, dim=0) if lib is nerve else [y.narrow(0, i, 1) for i in range(3)]
        for i, part in enumerate(parts):
            part.mul_(w * (i + 1))
        a, b, c, d = y.unbind(1) if lib is nerve else [y.select(1, i) for i in range(4)]
        b.add_(a.sum().item())
        y.select(1, 3).unsqueeze(0).sub_(w.sum())
        return y
    _check(f, [X, np.array([1.5, -2.0, 0.5, 1.0])])


def test_functional_inplace_activation_on_slice():
    def f(lib, x):
        y = x - 1.6
        lib.nn.functional.relu(y[1:, :2], inplace=True)
        z = x - 1.1
        lib.nn.functional.leaky_relu(z[0], 0.1, inplace=True)
        return y * z
    _check(f, [X])


def test_rebased_graph_is_freed_without_gc():
    """The CopySlices node holds view recipes, not the views: no reference cycle."""
    import gc
    import weakref
    enabled = gc.isenabled()
    gc.disable()
    try:
        x = nerve.ones(3, 4, requires_grad=True)
        y = x * 1
        v = y.view(-1)[2:4]
        v.mul_(2)
        y.t()[1][1:].add_(x[0, :2])
        ry, rn = weakref.ref(y), weakref.ref(y.grad_fn)
        y.sum().backward()
        assert x.grad.tolist() == [[2.0, 2.0, 2.0, 2.0], [1.0] * 4, [1.0] * 4]
        del y, v
        assert ry() is None and rn() is None
    finally:
        if enabled:
            gc.enable()
