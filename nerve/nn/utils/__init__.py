"""Utilities for modules and their parameters (``torch.nn.utils``)."""
from . import rnn
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .rnn import (
    PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence, unpack_sequence,
    unpad_sequence,
)

__all__ = ["PackedSequence", "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "parameters_to_vector", "rnn", "unpack_sequence", "unpad_sequence", "vector_to_parameters"]
