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
    """A context manager that also works as a decorator (``@no_grad()`` or ``@no_grad``)."""

    def __new__(cls, *args, **kwargs):
        # Bare decorator use: ``@no_grad`` without parentheses.
        if len(args) == 1 and not kwargs and callable(args[0]) and cls._bare_ok:
            return cls()(args[0])
        return super().__new__(cls)

    _bare_ok = True

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*a, **k):
                gen = fn(*a, **k)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        with self.clone():
                            request = yield response
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
    """Context/decorator under which ops are not recorded for backward (``torch.no_grad``)."""

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
    """Set gradient recording on or off; works as a function, context manager or decorator."""

    _bare_ok = False

    def __init__(self, mode: bool):
        self.prev = enabled
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContext):
    """Like ``no_grad``: nothing inside is recorded (``torch.inference_mode``)."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = enabled
        if self.mode:
            _set(False)

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def clone(self):
        return self.__class__(self.mode)


def is_inference_mode_enabled() -> bool:
    return not enabled


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

    Example:
        >>> with nerve.autograd.detect_anomaly():
        ...     loss = (x.log() * 0).sum()   # log(0) * 0 = nan -> RuntimeError naming 'mul'
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
