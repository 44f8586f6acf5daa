"""Global switches of the autograd engine: gradient recording and anomaly detection.

``enabled`` and ``anomaly`` are read by every op on its hot path, so they are plain module globals.
"""
from __future__ import annotations

import functools
import inspect

enabled = True  # record operations for backward
anomaly = False  # check every forward output and backward gradient for NaN/Inf
anomaly_check_nan = True


def is_grad_enabled() -> bool:
    return enabled


def _set(mode: bool) -> None:
    global enabled
    enabled = bool(mode)


class _DecoratorContext:
    """A context manager that also works as a decorator (``@no_grad()`` or ``@no_grad``).

    As a decorator it wraps plain functions and generator functions; for a generator the mode
    holds only while the generator's own code runs, not while the caller consumes its values.
    """

    _bare_ok = True

    def __new__(cls, *args, **kwargs):
        # Bare decorator use: ``@no_grad`` without parentheses.
        if cls._bare_ok and len(args) == 1 and not kwargs and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)

    def __call__(self, fn):
        if inspect.isclass(fn) or not callable(fn):
            raise TypeError(f"{type(self).__name__} decorates functions, got {fn!r}")
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*a, **k):
                gen = fn(*a, **k)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as e:  # forward throw() into the generator
                            with self.clone():
                                response = gen.throw(e)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as e:
                    return e.value
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with self.clone():
                return fn(*a, **k)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContext):
    """Context/decorator under which ops are not recorded for backward (``torch.no_grad``).

    Example:
        >>> with nerve.no_grad():
        ...     w -= lr * w.grad      # an optimizer step, not part of the graph
    """

    def __enter__(self):
        self.prev = enabled
        _set(False)

    def __exit__(self, *exc):
        _set(self.prev)
        return False


class enable_grad(_DecoratorContext):
    """Context/decorator that turns recording back on inside ``no_grad``."""

    def __enter__(self):
        self.prev = enabled
        _set(True)

    def __exit__(self, *exc):
        _set(self.prev)
        return False


class set_grad_enabled(_DecoratorContext):
    """Set gradient recording on or off: as a function, a context manager or a decorator.

    Like PyTorch, calling it switches the mode at once (so ``set_grad_enabled(False)`` alone works);
    used with ``with`` the previous mode comes back on exit, used as a decorator the switch applies
    only inside the decorated function.
    """

    _bare_ok = False

    def __init__(self, mode: bool):
        self.prev = enabled
        self.mode = bool(mode)
        _set(self.mode)

    def __call__(self, fn):
        _set(self.prev)
        return super().__call__(fn)

    def __enter__(self):
        _set(self.mode)

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def clone(self):
        return self.__class__(self.mode)


inference = False  # inside inference_mode(True)


class inference_mode(_DecoratorContext):
    """Like ``no_grad``: nothing inside is recorded (``torch.inference_mode``)."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        global inference
        self.prev = (enabled, inference)
        if self.mode:
            _set(False)
            inference = True

    def __exit__(self, *exc):
        global inference
        _set(self.prev[0])
        inference = self.prev[1]
        return False

    def clone(self):
        return self.__class__(self.mode)


def is_inference_mode_enabled() -> bool:
    return inference


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off globally (``torch.autograd.set_detect_anomaly``)."""
    global anomaly, anomaly_check_nan
    anomaly = bool(mode)
    anomaly_check_nan = bool(check_nan)


def is_anomaly_enabled() -> bool:
    return anomaly


class detect_anomaly(_DecoratorContext):
    """Context/decorator: the first op whose forward or backward makes NaN/Inf raises.

    The error names the op and the line of user code that created it.

    Off by default: then nothing is checked or recorded (no cost). On, every recorded op keeps the
    user stack that created it, forward outputs and backward gradients are checked for nan/inf, and
    the first bad one raises with that location. ``check_nan=False`` records locations only.

    Example:
        >>> with nerve.autograd.detect_anomaly():
        ...     loss = (x.log() * 0).sum()   # x has a 0: log gives -inf -> RuntimeError naming 'log'
        ...     x.sqrt().sum().backward()    # forward fine, gradient inf at 0 -> names SqrtBackward0
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = (anomaly, anomaly_check_nan)
        set_detect_anomaly(True, self.check_nan)

    def __exit__(self, *exc):
        set_detect_anomaly(*self.prev)
        return False

    def clone(self):
        return self.__class__(self.check_nan)
