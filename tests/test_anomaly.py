"""Anomaly mode: the first op whose forward or backward makes nan/inf raises, naming the op and the
line of user code that created it."""
from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import nerve
from nerve import autograd


THIS_FILE = re.escape(__file__.replace(".pyc", ".py").rsplit("/", 1)[-1])


def _line_of(fn, needle):
    """The absolute line number of the first line of ``fn``'s source containing ``needle``."""
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if needle in line:
            return start + i
    raise AssertionError(f"{needle!r} not in {fn.__name__}")


@pytest.fixture(autouse=True)
def _anomaly_off_after():
    yield
    autograd.set_detect_anomaly(False)


def _model(x):
    h = x * 2
    bad = h.log()  # log(0) = -inf
    return (bad * 0).sum()


def test_forward_nan_names_op_and_user_line():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            _model(x)
    msg = str(info.value)
    assert "'log'" in msg and "forward" in msg
    assert re.search(rf'{THIS_FILE}", line {_line_of(_model, "h.log()")}, in _model', msg), msg
    assert "bad = h.log()" in msg
    # the call stack includes the caller (this test) as well
    assert "test_forward_nan_names_op_and_user_line" in msg


def test_forward_first_bad_op_wins():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x * 3  # fine
        with pytest.raises(RuntimeError, match="'div'"):
            y / y  # 0 / 0 = nan
        with pytest.raises(RuntimeError, match="'exp'"):
            (y * 1000).exp()  # overflow to inf


def test_backward_inf_names_backward_node_and_forward_line():
    x = nerve.tensor([0.0, 4.0], requires_grad=True)

    def f(t):
        r = t.sqrt()  # d sqrt(t)/dt = inf at 0
        return (r * 2).sum()

    with autograd.detect_anomaly():
        loss = f(x)  # sqrt(0) = 0: the forward is finite
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Function 'SqrtBackward0' returned inf values in its 0th output" in msg
    assert "'sqrt'" in msg and "1 +inf among 2 values" in msg
    assert "the gradient flowing into it was finite" in msg
    assert re.search(rf'{THIS_FILE}", line {_line_of(f, "t.sqrt()")}, in f', msg), msg
    assert "r = t.sqrt()" in msg


def test_backward_nan_from_zero_times_inf():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.pow(0.5) * 0  # forward finite; backward 0 * inf = nan in PowBackward
        with pytest.raises(RuntimeError, match=r"PowBackward0' returned (nan|inf) values") as info:
            y.sum().backward()
    assert "x.pow(0.5)" in str(info.value)


def test_decorator_and_global_switch():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)

    @autograd.detect_anomaly()
    def run():
        assert autograd.is_anomaly_enabled()
        return x.log()

    with pytest.raises(RuntimeError, match="'log'"):
        run()
    assert not autograd.is_anomaly_enabled()
    assert not nerve.is_anomaly_enabled()

    autograd.set_detect_anomaly(True)
    assert autograd.is_anomaly_enabled()
    with pytest.raises(RuntimeError, match="'log'"):
        x.log()
    autograd.set_detect_anomaly(False)
    x.log()  # no error once off


def test_context_restores_previous_state():
    with autograd.detect_anomaly():
        with autograd.detect_anomaly(check_nan=False):
            assert autograd.is_anomaly_enabled()
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()
    with pytest.raises(ValueError):
        with autograd.detect_anomaly():
            raise ValueError
    assert not autograd.is_anomaly_enabled()


def test_check_nan_false_records_traces_but_does_not_raise():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly(check_nan=False):
        y = x.log()
        assert y.grad_fn.trace  # locations are still recorded
        (y * 1).sum().backward()
    assert math.isinf(x.grad.tolist()[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's -inf * 0 warning from mul
def test_anomaly_off_no_error_no_trace():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    y = x.log() * 0
    assert y.grad_fn.trace is None and y.grad_fn.next[0].trace is None
    y.sum().backward()
    assert np.isnan(x.grad.numpy()[0])
    z = nerve.tensor([0.0], requires_grad=True)
    z.sqrt().sum().backward()
    assert np.isinf(z.grad.numpy()[0])


def test_graph_built_before_anomaly_mode_says_so():
    x = nerve.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="built before anomaly detection was turned on"):
            y.sum().backward()


def test_custom_function_forward_and_backward_anomalies():
    class BadGrad(nerve.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            return g / 0.0

    class BadForward(nerve.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t / 0.0

        @staticmethod
        def backward(ctx, g):
            return g

    x = nerve.tensor([1.0], requires_grad=True)
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            BadGrad.apply(x).sum().backward()
        assert "BadGradBackward" in str(info.value) and "BadGrad.apply(x)" in str(info.value)
        with pytest.raises(RuntimeError, match="BadForward") as info:
            BadForward.apply(x)
        assert "BadForward.apply(x)" in str(info.value)


def test_anomaly_mode_does_not_change_results():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    grads = []
    for on in (False, True):
        x = nerve.tensor(a, requires_grad=True)
        with autograd.set_grad_enabled(True):
            autograd.set_detect_anomaly(on)
            ((x.exp() * x.sin()).sum() / 3).backward()
            autograd.set_detect_anomaly(False)
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
