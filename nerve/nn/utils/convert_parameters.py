"""Flatten parameters into one vector and back (``torch.nn.utils.parameters_to_vector``)."""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops.join import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_param_device):
    dev = param.device
    if old_param_device is None:
        return dev
    if dev != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_param_device


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened ``parameters`` into one 1-D tensor (differentiable)."""
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (each takes a view of ``vec``'s memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected nerve.Tensor, but got: {type(vec).__name__}")
    param_device = None
    pointer = 0
    total = vec.numel()
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        if pointer + num_param > total:
            raise RuntimeError(f"vector_to_parameters: vec has {total} elements, fewer than the parameters need "
                               f"(at least {pointer + num_param})")
        param.data = vec._data[pointer:pointer + num_param].reshape(tuple(param.shape))
        pointer += num_param
