"""The graph is freed by reference counting alone: no growth over many training steps, no cycles.

Every check runs with the cyclic garbage collector disabled, so anything kept alive by a reference
cycle would show up as growth (and ``gc.collect()`` afterwards would find it).
"""
from __future__ import annotations

import contextlib
import gc
import tracemalloc
import weakref

import numpy as np

import nerve
from nerve.autograd import Node


@contextlib.contextmanager
def no_cyclic_gc():
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def live_nodes() -> int:
    return sum(1 for o in gc.get_objects() if issubclass(type(o), Node))


def _params(seed=0):
    rng = np.random.default_rng(seed)
    w1 = nerve.tensor(rng.standard_normal((8, 16)).astype(np.float32) * 0.1, requires_grad=True)
    b1 = nerve.zeros(16, requires_grad=True)
    w2 = nerve.tensor(rng.standard_normal((16, 1)).astype(np.float32) * 0.1, requires_grad=True)
    x = nerve.tensor(rng.standard_normal((4, 8)).astype(np.float32))
    return x, [w1, b1, w2]


def _step(x, params, lr=1e-3):
    w1, b1, w2 = params
    h = (x @ w1 + b1).relu()
    loss = ((h @ w2) * (h @ w2)).sum() / 4
    loss.backward()
    with nerve.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
    return loss


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_training_steps_do_not_grow_memory():
    x, params = _params()
    with no_cyclic_gc():
        for _ in range(200):  # warm-up: caches, first .grad buffers
            _step(x, params)
        nodes_before = live_nodes()
        rss_before = _rss()
        prev = None
        for i in range(10_000):
            loss = _step(x, params)
            if prev is not None:
                assert prev() is None, f"step {i}: the previous step's graph is still alive"
            prev = weakref.ref(loss.grad_fn)
            del loss
        assert prev() is None
        rss_growth = _rss() - rss_before
        # exact accounting over a window (tracemalloc is too slow for all 10,000 steps)
        tracemalloc.start()
        try:
            for _ in range(50):
                _step(x, params)
            base, _ = tracemalloc.get_traced_memory()
            for _ in range(1000):
                _step(x, params)
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        nodes_after = live_nodes()
        unreachable = gc.collect()
    assert nodes_after == nodes_before, (nodes_before, nodes_after)
    assert unreachable == 0, f"{unreachable} objects were only freed by the cycle collector"
    # a leak of one small array or node per step would be > 1 MiB over 10,000 steps
    assert rss_growth < 4 * 2 ** 20, f"RSS grew by {rss_growth} bytes over 10,000 steps"
    assert after - base < 16 * 1024, f"traced memory grew by {after - base} bytes over 1,000 steps"
    assert all(p.grad is not None and p.grad_fn is None for p in params)


def test_graph_freed_after_backward():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    with no_cyclic_gc():
        y = (x * 2).exp()
        z = y.sum()
        refs = [weakref.ref(z.grad_fn), weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next[0])]
        z.backward()
        del y, z
        assert all(r() is None for r in refs)
        assert gc.collect() == 0


def test_graph_freed_without_backward():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    with no_cyclic_gc():
        y = (x * x).sin() * x
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
        assert gc.collect() == 0


def test_saved_arrays_released_by_backward():
    # backward frees saved tensors even while the output is still referenced
    x = nerve.tensor(np.ones(1000, dtype=np.float32), requires_grad=True)
    with no_cyclic_gc():
        big = x * 3
        saved = big.exp()  # ExpBackward saves its output
        w = nerve.tensor(np.ones(1000, dtype=np.float32))
        y = saved * w  # MulBackward saves w (for x's gradient)
        node = y.grad_fn
        assert node.saved is not None
        y.sum().backward()
        from nerve.autograd.node import _FREED
        assert node.saved is _FREED
        assert gc.collect() == 0


def test_create_graph_with_autograd_grad_has_no_cycles():
    x = nerve.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with no_cyclic_gc():
        before = live_nodes()
        for _ in range(50):
            (g,) = nerve.autograd.grad((x.exp() * x).sum(), x, create_graph=True)
            penalty = (g * g).sum()
            penalty.backward()
            ref = weakref.ref(g.grad_fn)
            del g, penalty
            assert ref() is None
        x.grad = None
        assert live_nodes() == before
        assert gc.collect() == 0


def test_retain_grad_and_hooks_do_not_leak():
    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    with no_cyclic_gc():
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 1)
        y.grad_fn.register_hook(lambda gi, go: None)
        y.grad_fn.register_prehook(lambda go: None)
        x.register_hook(lambda g: g)
        ref = weakref.ref(y)
        node_ref = weakref.ref(y.grad_fn)
        (y * y).sum().backward()
        assert y.grad is not None
        del y
        assert ref() is None and node_ref() is None
        assert gc.collect() == 0


def test_custom_function_graph_is_freed():
    class Square(nerve.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a * a
            ctx.save_for_backward(a, out)
            return out

        @staticmethod
        def backward(ctx, g):
            a, out = ctx.saved_tensors
            return g * 2 * a

    x = nerve.tensor([1.0, 2.0], requires_grad=True)
    with no_cyclic_gc():
        for _ in range(20):
            y = Square.apply(x)
            ref = weakref.ref(y.grad_fn)
            y.sum().backward()
            del y
            assert ref() is None
        y = Square.apply(x)  # dropped without backward
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
        assert gc.collect() == 0
    np.testing.assert_allclose(x.grad.numpy(), [40.0, 80.0])


def test_inplace_and_views_do_not_leak():
    x = nerve.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
    with no_cyclic_gc():
        before = live_nodes()
        for _ in range(20):
            y = x * 1
            y.mul_(2)
            v = y.view(2, 3)
            y.add_(1)
            ref = weakref.ref(y.grad_fn)
            y.sum().backward()
            del y, v
            assert ref() is None
        assert live_nodes() == before
        assert gc.collect() == 0
