"""``Optimizer``: the base class of every optimizer, with PyTorch's ``torch.optim.Optimizer`` API.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus that group's
hyper-parameters, filled from ``defaults``) and ``state`` (a ``defaultdict(dict)`` keyed by
parameter tensor). ``state_dict()`` replaces the tensors by their index in the groups, exactly
like PyTorch, so ``{'state': {0: {...}}, 'param_groups': [{'lr': ..., 'params': [0, 1]}]}``.

Subclassing works the PyTorch way::

    class MySGD(nerve.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @nerve.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

The built-in optimizers update the raw arrays in place (``p._data``) with preallocated scratch
buffers, so a step allocates nothing per parameter after the first.
"""
from __future__ import annotations

import functools
import types
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import backend
from ..backend import dtypes as _dt
from ..autograd import grad_mode as gm
from ..autograd.tensor import Tensor, wrap

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a hyper-parameter that every param group must give (``defaults=dict(lr=required)``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks: "OrderedDict[int, object]" = OrderedDict()
_global_step_post_hooks: "OrderedDict[int, object]" = OrderedDict()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` takes the hook out."""

    _next_id = 0

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``.

    The hook may return ``(new_args, new_kwargs)`` to replace the arguments of ``step``.
    """
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    return _add_hook(_global_step_post_hooks, hook)


def _hooked_step(func):
    """Wrap a subclass's ``step`` so step hooks run and LR schedulers can see that it was called.

    A subclass whose ``step`` calls ``super().step()`` is wrapped twice; the hooks run only for the
    outermost call.
    """

    @functools.wraps(func)
    def step(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_in_step", False):
            return func(self, *args, **kwargs)
        d["_opt_called"] = True
        pre = d.get("_optimizer_step_pre_hooks")
        if _global_step_pre_hooks or pre:
            for hook in chain(_global_step_pre_hooks.values(), (pre or {}).values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{func.__qualname__}: a step pre-hook must return None or a tuple "
                            f"(new_args, new_kwargs), but got {result!r}")
        d["_in_step"] = True
        try:
            out = func(self, *args, **kwargs)
        finally:
            d["_in_step"] = False
        post = d.get("_optimizer_step_post_hooks")
        if _global_step_post_hooks or post:
            for hook in chain((post or {}).values(), _global_step_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    step._nerve_hooked = True
    return step


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return f"nerve.{type(obj).__name__}"
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _scalar(v) -> float:
    """A hyper-parameter as a Python float (a one-element Tensor ``lr`` is allowed, as in PyTorch)."""
    return v.item() if isinstance(v, Tensor) else v


def scalar_np_dtype():
    """The dtype of ``state['step']``: float64 when the default dtype is float64, else float32 (as torch)."""
    return np.float64 if _dt.default_np_dtype() == np.float64 else np.float32


def new_step_tensor(value: float = 0.0) -> Tensor:
    """A 0-d CPU tensor counting steps, like PyTorch's ``state['step']``."""
    return wrap(np.array(value, dtype=scalar_np_dtype()))


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups:
            ``{'params': [...], 'lr': ...}``; options missing from a group come from ``defaults``).
        defaults: the default value of every optimization option (``lr``, ``momentum``, ...).

    Attributes:
        param_groups: list of dicts, one per group, each with ``'params'`` and the group's options.
        state: ``defaultdict(dict)`` mapping a parameter to its state (``momentum_buffer``, ...).
        defaults: the ``defaults`` given to the constructor.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._init_runtime()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got " + _typename(params))
        if isinstance(params, dict):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got a dict: wrap a single param group in a list, [{'params': ...}]")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_runtime(self) -> None:
        """Attributes that are not part of the pickled state: hooks and scratch buffers."""
        d = self.__dict__
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in d:
                d[name] = OrderedDict()
        d["_scratch_bufs"] = {}
        d["_in_step"] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if isinstance(step, types.FunctionType) and not getattr(step, "_nerve_hooked", False):
            cls.step = _hooked_step(step)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_runtime()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ------------------------------------------------------------------ param groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a param group to ``param_groups`` (e.g. to train layers unfrozen later).

        Args:
            param_group: ``{'params': tensors, <option>: value, ...}``; missing options take the
                optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        if "params" not in param_group:
            raise KeyError("param_group must have a 'params' entry (the tensors to optimize), "
                           f"got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len({id(p) for p in tensors}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this "
                          "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: set ``.grad`` to None (default) instead of filling it with zeros. A None
                gradient makes ``step`` skip the parameter, a zero gradient does not.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad = False
                    g._data.fill(0)
                    g._vc[0] += 1

    def step(self, closure=None):
        """Perform one optimization step (update every parameter that has a gradient).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with gm.enable_grad():
            return closure()

    def _scratch(self, arr, slot: int):
        """A reusable buffer shaped like ``arr`` (same dtype and device); ``slot`` picks one of several.

        One flat buffer per (slot, dtype, device) sized to the largest parameter is shared by all
        parameters, so the update allocates nothing after the first step.
        """
        if type(arr) is np.ndarray:
            key = (slot, arr.dtype)
        else:
            key = (slot, arr.dtype, type(arr), getattr(arr, "device", None))
        n = arr.size
        buf = self._scratch_bufs.get(key)
        if buf is None or buf.size < n:
            xp = np if type(arr) is np.ndarray else backend.array_module(arr)
            buf = xp.empty(max(n, 1), dtype=arr.dtype)
            self._scratch_bufs[key] = buf
        return buf[:n].reshape(arr.shape)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run before ``step``.

        It may return ``(new_args, new_kwargs)`` to replace ``step``'s arguments.
        """
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run before ``state_dict`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)``; a returned dict replaces the state dict."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)`` to run before loading; a returned dict is loaded instead."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict:
        """The optimizer's state as a dict: ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are replaced by their position across all groups (0, 1, ...), as in PyTorch;
        ``'state'`` holds each parameter's buffers (the live tensors, not copies: deep-copy the
        dict to keep a snapshot while training goes on).
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": packed_state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    @staticmethod
    def _cast_state_value(param: Tensor, value: Tensor, key) -> Tensor:
        # 'step' keeps its own dtype and stays on the CPU; floating buffers follow the parameter's
        # dtype and device. Like PyTorch, a tensor that needs no conversion is used as is (shared).
        if key == "step":
            return value
        arr = value._data
        parr = param._data
        dtype = parr.dtype if parr.dtype.kind == "f" and arr.dtype.kind == "f" else arr.dtype
        same_dev = (type(arr) is np.ndarray) == (type(parr) is np.ndarray) and (
            type(parr) is np.ndarray or backend.device_of(arr) == backend.device_of(parr))
        if dtype == arr.dtype and same_dev:
            return value
        if not same_dev:
            arr = backend.to_device(arr, backend.device_of(parr))
        return wrap(arr.astype(dtype))

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the state (buffers and group options) saved by ``state_dict``.

        The optimizer must have been built with the same param groups (same sizes, same order).
        When an LR scheduler is used, build it before calling this, since a new scheduler resets the
        learning rates.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must have the keys 'state' and 'param_groups', got "
                             f"{sorted(state_dict)}")
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(s['params'])} params in the state dict "
                                 f"and {len(g['params'])} in the optimizer")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, np.ndarray):  # e.g. state read back from a NumPy/safetensors file
                value = wrap(value.copy())
            if isinstance(value, Tensor):
                return self._cast_state_value(param, value, key)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def check_not_differentiable(name: str, differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(
            f"{name}(differentiable=True) is not supported: nerve's optimizers update the parameter "
            "arrays in place outside the autograd graph. Write the update with Tensor ops in a custom "
            "Optimizer subclass to differentiate through it.")


def grad_array(opt, p):
    """``p.grad``'s array, checked to have the parameter's shape (a mismatch would broadcast silently)."""
    g = p.grad._data
    if g.shape != p._data.shape:
        raise RuntimeError(
            f"{type(opt).__name__}.step: a parameter of shape {tuple(p._data.shape)} has a .grad of shape "
            f"{tuple(g.shape)}; the gradient must have the parameter's shape")
    return g


def grad_for_update(opt, p, g, weight_decay: float, maximize: bool):
    """The gradient the update uses: ``-g`` if maximizing, plus ``weight_decay * p`` (L2 penalty).

    Returns ``g`` itself when nothing changes (it must then not be written to), else scratch slot 0.
    """
    if not maximize and weight_decay == 0:
        return g
    buf = opt._scratch(g, 0)
    if weight_decay != 0:
        np.multiply(p, weight_decay, out=buf)
        if maximize:
            np.subtract(buf, g, out=buf)
        else:
            np.add(g, buf, out=buf)
    else:
        np.negative(g, out=buf)
    return buf
