"""Array libraries per device, dtypes and random number generation.

This is the lowest layer of nerve: everything above it asks this module which array library
(``numpy`` on ``cpu``, ``cupy`` on ``cuda``) holds a tensor's data, and never imports CuPy itself.
"""
from __future__ import annotations


from .dtypes import (  # noqa: F401
    dtype, float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, bool_,
    half, float, double, short, int, long, from_numpy_dtype, to_numpy_dtype,
    get_default_dtype, set_default_dtype, default_np_dtype, promote_types, is_float_np,
    ALL_DTYPES,
)
from .device import device, array_module, device_of, to_device, cuda_available  # noqa: F401
from .random import Generator, default_generator, manual_seed, seed, initial_seed  # noqa: F401
from .memory import retain_freed_memory  # noqa: F401
from .threads import get_num_threads, set_num_threads  # noqa: F401
