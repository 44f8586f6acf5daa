"""nerve: a deep-learning framework with PyTorch's API, built on NumPy (CPU) and CuPy (GPU)."""
from __future__ import annotations

import builtins as _builtins

from . import backend  # noqa: F401
from .backend import (  # noqa: F401
    Generator, bfloat16, bool_ as bool, device, double, dtype, float, float16, float32, float64, get_default_dtype,
    half, int, int8, int16, int32, int64, long, manual_seed, initial_seed, seed, set_default_dtype, short, uint8,
)
from .backend import cuda  # noqa: F401
from .backend.dtypes import can_cast, finfo, iinfo, promote_types  # noqa: F401
from .backend import random  # noqa: F401  (nerve.random.fork_rng, manual_seed, ... as torch.random)
from .backend.random import default_generator, get_rng_state, set_rng_state  # noqa: F401
from .backend.threads import get_num_threads, set_num_threads  # noqa: F401
from .ops._gemm import backend as gemm_backend, set_backend as set_gemm_backend  # noqa: F401
from . import autograd  # noqa: F401
from .autograd import (  # noqa: F401
    Size, Tensor, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .autograd.grad_mode import is_anomaly_enabled, is_inference_mode_enabled  # noqa: F401
from .autograd.printing import get_printoptions, printoptions, set_printoptions  # noqa: F401
from . import ops  # noqa: F401  (attaches Tensor methods)
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import data, text, utils, vision  # noqa: F401
from . import train  # noqa: F401
from .ops import *  # noqa: F401,F403
from .serialization import save, load  # noqa: F401

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a nerve Tensor (or a subclass such as Parameter)."""
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:  # noqa: A002 - PyTorch's argument name
    """Whether ``input``'s dtype is a floating type."""
    return input.is_floating_point()


def is_complex(input) -> bool:  # noqa: A002
    return False


def numel(input) -> int:  # noqa: A002
    """The number of elements of ``input``."""
    return input.numel()


def is_nonzero(input) -> bool:  # noqa: A002
    """Whether a one-element tensor is nonzero (raises for other sizes, as PyTorch)."""
    n = input.numel()
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0 else
                           "Boolean value of Tensor with more than one value is ambiguous")
    return input.item() != 0


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives ``tensor1 <op> tensor2`` (tensors or Python scalars)."""
    from .backend.dtypes import from_numpy_dtype
    from .ops._helpers import _scalar_np_dtype, result_dtype, scalar_result_dtype
    a, b = tensor1, tensor2
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return from_numpy_dtype(result_dtype(a._data, b._data))
    if isinstance(a, Tensor):
        return from_numpy_dtype(scalar_result_dtype(a._data.dtype, b))
    if isinstance(b, Tensor):
        return from_numpy_dtype(scalar_result_dtype(b._data.dtype, a))
    return from_numpy_dtype(promote_types(_scalar_np_dtype(a), _scalar_np_dtype(b)))


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted for compatibility: nerve's kernels are deterministic already."""
    global _deterministic
    _deterministic = _builtins.bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic


_deterministic = False
