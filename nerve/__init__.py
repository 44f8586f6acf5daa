"""nerve: a deep-learning framework with PyTorch's API, built on NumPy (CPU) and CuPy (GPU)."""
from . import backend  # noqa: F401
from .backend import (  # noqa: F401
    Generator, bfloat16, bool_ as bool, device, double, dtype, float, float16, float32, float64, get_default_dtype,
    half, int, int8, int16, int32, int64, long, manual_seed, initial_seed, seed, set_default_dtype, short, uint8,
)
from .backend.random import default_generator, get_rng_state, set_rng_state  # noqa: F401
from . import autograd  # noqa: F401
from .autograd import (  # noqa: F401
    Size, Tensor, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
from . import ops  # noqa: F401  (attaches Tensor methods)
from . import nn  # noqa: F401
from .ops import *  # noqa: F401,F403

__version__ = "0.1.0"
