"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameters, their names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate order (LSTM i, f, g, o;
GRU r, z, n) and default init U(-1/sqrt(hidden), 1/sqrt(hidden)) are PyTorch's, so state dicts load
either way. Each layer and direction computes its input projection for all time steps in one GEMM and
runs the recurrence as one autograd node (``nerve.ops.rnn.rnn_sequence``).
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...ops.creation import empty
from ...ops.rnn import lstm_layer, rnn_sequence
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _packed_rows
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _shape(t):
    return tuple(t.shape)


class RNNBase(Module):
    """Base class of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``nn.RNNBase``)."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0:
            raise NotImplementedError(f"{mode}: proj_size > 0 (LSTM with projections, weight_hr_l*) is not "
                                      "implemented in nerve yet; use proj_size=0 or add an nn.Linear after the LSTM")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                w_ih = Parameter(empty((gate_size, layer_input_size), device=device, dtype=dtype))
                w_hh = Parameter(empty((gate_size, hidden_size), device=device, dtype=dtype))
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                params = [w_ih, w_hh]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    params += [Parameter(empty(gate_size, device=device, dtype=dtype)),
                               Parameter(empty(gate_size, device=device, dtype=dtype))]
                for name, p in zip(names, params):
                    setattr(self, name, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's init: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op (PyTorch packs the weights for cuDNN; nerve's layout needs nothing)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _name(self):
        return f"{type(self).__name__}(input_size={self.input_size}){self._path_suffix()}"

    # ------------------------------------------------------------------ checks
    def check_input(self, input, batch_sizes):
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        self._check_last(input)

    def _check_last(self, input):
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"{self._name()}: input of shape {_shape(input)} must have size {self.input_size} "
                               f"in its last dim (input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]})")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first else input.shape[1]
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if _shape(hx) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.shape)))

    def _check_dims(self, input, hx):
        name = type(self).__name__
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
        is_batched = input.dim() == 3
        if hx is not None:
            hs = hx if isinstance(hx, (tuple, list)) else (hx,)
            want = 3 if is_batched else 2
            if any(h.dim() != want for h in hs):
                what = "hx and cx" if isinstance(hx, (tuple, list)) else "hx"
                dims = ", ".join(f"{h.dim()}-D" for h in hs)
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got ({dims}) "
                                   f"tensor{'s' if len(hs) > 1 else ''}")
        return is_batched

    # ------------------------------------------------------------------ forward
    def _run(self, input, hx, batch_sizes):
        """input: time-major (T, B, I) tensor; hx: list of (L*D, B, H) tensors (h, and c for LSTM)."""
        mode = self.mode
        D = 2 if self.bidirectional else 1
        T = input.shape[0]
        layer_in = input
        hn, cn = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                names = self._all_weights[layer * D + d]
                w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
                b_ih = getattr(self, names[2]) if self.bias else None
                b_hh = getattr(self, names[3]) if self.bias else None
                idx = layer * D + d
                if mode == "GRU":
                    xp = F.linear(layer_in, w_ih, b_ih)
                    Y = rnn_sequence(mode, xp, w_hh, hx[0][idx], None, b_hh, d == 1, batch_sizes)
                elif mode == "LSTM":
                    Y = lstm_layer(layer_in, w_ih, w_hh, b_ih, b_hh, hx[0][idx], hx[1][idx], d == 1, batch_sizes)
                else:
                    xp = F.linear(layer_in, w_ih, None if b_ih is None else b_ih + b_hh)
                    Y = rnn_sequence(mode, xp, w_hh, hx[0][idx], None, None, d == 1, batch_sizes)
                outs.append(Y[:T])
                hn.append(Y[T])
                if mode == "LSTM":
                    cn.append(Y[T + 1])
            layer_in = outs[0] if D == 1 else ops.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        h = ops.stack(hn, 0)
        return layer_in, (h, ops.stack(cn, 0)) if mode == "LSTM" else h

    def forward(self, input, hx=None):
        mode = self.mode
        is_lstm = mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            bs = np.asarray(batch_sizes_t._data, dtype=np.int64)
            self.check_input(data, bs)
            B = int(bs[0])
            T = bs.size
            # gather the packed rows into a zero-padded time-major batch (index T*B: the zero row)
            idx = np.full(T * B, data.shape[0], dtype=np.int64)
            idx[_packed_rows(bs, B)] = np.arange(data.shape[0], dtype=np.int64)
            ext = ops.cat([data, ops.zeros((1, data.shape[1]), dtype=data.dtype)], 0)
            x = ext[idx].reshape(T, B, data.shape[1])
            is_batched = True
        else:
            is_batched = self._check_dims(input, hx)
            bs = sorted_indices = unsorted_indices = None
            x = input
            if not is_batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
            self._check_last(input)
            B = x.shape[1]
        D = 2 if self.bidirectional else 1
        expected = (self.num_layers * D, B, self.hidden_size)
        if hx is None:
            z = ops.zeros(expected, dtype=x.dtype)
            states = [z, z] if is_lstm else [z]
        else:
            states = list(hx) if is_lstm else [hx]
            if is_lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
            if not is_batched:
                states = [s.unsqueeze(1) for s in states]
            if sorted_indices is not None:
                states = [ops.index_select(s, 1, sorted_indices) for s in states]
            if is_lstm:
                self.check_hidden_size(states[0], expected, "Expected hidden[0] size {}, got {}")
                self.check_hidden_size(states[1], expected, "Expected hidden[1] size {}, got {}")
            else:
                self.check_hidden_size(states[0], expected)
        out, hidden = self._run(x, states, bs)
        hs = list(hidden) if is_lstm else [hidden]
        if packed:
            flat = out.reshape(-1, out.shape[2])
            out = PackedSequence(flat[_packed_rows(bs, B)], batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                hs = [ops.index_select(h, 1, unsorted_indices) for h in hs]
        elif not is_batched:
            out = out.squeeze(1)
            hs = [h.squeeze(1) for h in hs]
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (tuple(hs) if is_lstm else hs[0])

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU), stacked ``num_layers``.

    Shape: input (T, B, input_size) (``batch_first``: (B, T, input_size)), or (T, input_size) unbatched,
    or a PackedSequence; h_0 (num_layers * D, B, hidden_size). Returns (output, h_n).

    Example:
        >>> rnn = nn.RNN(10, 20, 2)
        >>> out, hn = rnn(nerve.randn(5, 3, 10))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        self.nonlinearity = nonlinearity
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o): ``c' = f c + i g``, ``h' = o tanh(c')``.

    Shape: input as ``RNN``; hx a tuple (h_0, c_0) of (num_layers * D, B, hidden_size).
    Returns (output, (h_n, c_n)).

    Example:
        >>> lstm = nn.LSTM(10, 20, 2, batch_first=True)
        >>> out, (hn, cn) = lstm(nerve.randn(3, 5, 10))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n): ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``,
    ``h' = (1 - z) n + z h``.

    Shape and returns as ``RNN``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


# ============================================================================ cells
class RNNCellBase(Module):
    """Base class of the single-step cells (parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``)."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _prepare(self, input, hx, n_states):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, not {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        hs = None if hx is None else (list(hx) if n_states == 2 else [hx])
        if hs is not None:
            for h in hs:
                if h.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            if hs is not None:
                hs = [h.unsqueeze(0) for h in hs]
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{name}(input_size={self.input_size}){self._path_suffix()}: input of shape "
                               f"{_shape(input)} must have size {self.input_size} in its last dim (input has "
                               f"inconsistent input_size: got {input.shape[1]} expected {self.input_size})")
        B = input.shape[0]
        if hs is None:
            z = ops.zeros((B, self.hidden_size), dtype=input.dtype)
            hs = [z] * n_states
        for i, h in enumerate(hs):
            if _shape(h) != (B, self.hidden_size):
                label = "hx" if n_states == 1 else f"hx[{i}]"
                raise RuntimeError(f"{name}: {label} of shape {_shape(h)} must be ({B}, {self.hidden_size}) "
                                   f"for input of shape {_shape(input)} (Input batch size {B} doesn't match "
                                   f"hidden{i if n_states > 1 else ''} batch size {h.shape[0]})")
        return input, hs, batched

    def _step(self, mode, input, hs):
        if mode == "GRU":
            xp = F.linear(input, self.weight_ih, self.bias_ih)
            b_hh = self.bias_hh
        else:
            xp = F.linear(input, self.weight_ih, None if self.bias_ih is None else self.bias_ih + self.bias_hh)
            b_hh = None
        Y = rnn_sequence(mode, xp.unsqueeze(0), self.weight_hh, hs[0], hs[1] if mode == "LSTM" else None, b_hh)
        return Y


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, hs, batched = self._prepare(input, hx, 1)
        h = self._step(mode, input, hs)[1]
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hs, batched = self._prepare(input, hx, 2)
        Y = self._step("LSTM", input, hs)
        h, c = Y[1], Y[2]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hs, batched = self._prepare(input, hx, 1)
        h = self._step("GRU", input, hs)[1]
        return h if batched else h.squeeze(0)
