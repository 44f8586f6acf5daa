"""Positional encodings for sequence models (nerve's own API; PyTorch has none built in).

- ``SinusoidalPositionalEncoding``: the fixed sines and cosines of Vaswani et al. (2017).
- ``LearnedPositionalEmbedding``: one learned vector per position (BERT, GPT-2).

Both add a (L, d_model) table to inputs of shape (N, L, d_model) (``batch_first=True``, the default)
or (L, N, d_model).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import wrap
from ...backend import dtypes as _dt
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LearnedPositionalEmbedding", "SinusoidalPositionalEncoding"]


def _check_input(mod, x, max_len, d_model, batch_first):
    s = tuple(x._data.shape)
    if len(s) not in (2, 3):
        raise ValueError(f"{type(mod).__name__}{mod._path_suffix()} expects input of shape "
                         f"{'(N, L, d_model)' if batch_first else '(L, N, d_model)'} or (L, d_model), got {s}")
    if s[-1] != d_model:
        raise ValueError(f"{type(mod).__name__}(d_model={d_model}){mod._path_suffix()} got input of shape {s}: "
                         f"last dim must be {d_model}")
    L = s[1] if (len(s) == 3 and batch_first) else s[0]
    if L > max_len:
        raise ValueError(f"{type(mod).__name__}(max_len={max_len}){mod._path_suffix()} got input of shape {s}: "
                         f"sequence length {L} exceeds max_len {max_len}")
    return L, len(s)


class SinusoidalPositionalEncoding(Module):
    r"""Adds the fixed sinusoidal position table of "Attention Is All You Need", then dropout.

    .. math::
        PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d}),\qquad PE_{(pos, 2i+1)} = \cos(pos / 10000^{2i/d})

    ``out = dropout(x + PE[:L])`` for a sequence of length ``L``.

    Args:
        d_model: feature size ``d`` (odd sizes work: the last column is a sine).
        max_len: longest sequence supported (rows of the table).
        dropout: dropout probability applied after the addition (training only).
        batch_first: input (N, L, d_model) if True (default), (L, N, d_model) otherwise; an unbatched
            (L, d_model) input also works.

    Attributes:
        pe: the (max_len, d_model) table, a *non-persistent* buffer: it is a function of the
            constructor arguments, so it stays out of ``state_dict`` (checkpoints do not grow with
            ``max_len``, and loading one into a model built with another ``max_len`` works). It
            follows ``.to()``/``.double()`` like any buffer.

    Example:
        >>> pos = nn.SinusoidalPositionalEncoding(d_model=64, max_len=512)
        >>> x = nn.Embedding(1000, 64)(nerve.randint(0, 1000, (8, 100)))
        >>> pos(x).shape
        nerve.Size([8, 100, 64])
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        if d_model <= 0 or max_len <= 0:
            raise ValueError(f"SinusoidalPositionalEncoding: d_model and max_len must be positive, got "
                             f"d_model={d_model} and max_len={max_len}")
        self.d_model = d_model
        self.max_len = max_len
        self.batch_first = batch_first
        self.dropout = dropout
        dt = _dt.default_np_dtype() if dtype is None else _dt.to_numpy_dtype(dtype)
        self.register_buffer("pe", wrap(self._table(max_len, d_model).astype(dt)), persistent=False)
        if device is not None:
            self.pe = self.pe.to(device)

    @staticmethod
    def _table(max_len, d_model):
        pos = np.arange(max_len, dtype=np.float64)[:, None]
        div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div[:d_model // 2])
        return pe

    def forward(self, input):
        L, nd = _check_input(self, input, self.max_len, self.d_model, self.batch_first)
        pe = self.pe[:L]
        if nd == 3 and not self.batch_first:
            pe = pe.unsqueeze(1)
        return F.dropout(input + pe, self.dropout, self.training)

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")


class LearnedPositionalEmbedding(Module):
    r"""Adds a learned vector per position: ``out = x + weight[:L]``.

    Args:
        max_len: number of positions (rows of ``weight``).
        d_model: feature size.
        batch_first: input (N, L, d_model) if True (default), (L, N, d_model) otherwise; an unbatched
            (L, d_model) input also works.

    Attributes:
        weight: (max_len, d_model) Parameter, initialised N(0, 1) like ``nn.Embedding``.

    Gradient: ``d weight[p] = sum over the batch of g[:, p]`` for ``p < L``, zero for unused rows.

    Example:
        >>> pos = nn.LearnedPositionalEmbedding(max_len=512, d_model=64)
        >>> pos(nerve.randn(8, 100, 64)).shape
        nerve.Size([8, 100, 64])
    """

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if d_model <= 0 or max_len <= 0:
            raise ValueError(f"LearnedPositionalEmbedding: max_len and d_model must be positive, got "
                             f"max_len={max_len} and d_model={d_model}")
        self.max_len = max_len
        self.d_model = d_model
        self.batch_first = batch_first
        self.weight = Parameter(empty((max_len, d_model), device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)

    def forward(self, input):
        L, nd = _check_input(self, input, self.max_len, self.d_model, self.batch_first)
        w = self.weight[:L]
        if nd == 3 and not self.batch_first:
            w = w.unsqueeze(1)
        return input + w

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"
