"""Recurrent layers (RNN, LSTM, GRU, cells) and packed sequences against PyTorch.

Each layer is built in both libraries, torch's weights are loaded into nerve through ``state_dict``, and
outputs, final states and the gradients of the input, the initial states and every parameter are compared
(float64 tight, float32 looser). The whole-sequence node (nerve.ops.rnn) is gradchecked and
gradgradchecked in float64 on tiny sizes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn
from nerve.ops.rnn import rnn_sequence

TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-5}, np.float64: {"rtol": 1e-7, "atol": 1e-9}}
T, B, I, H = 5, 3, 4, 6


def _pair(cls, dtype, *args, **kw):
    tm = getattr(torch.nn, cls)(*args, **kw)
    nm = getattr(nnn, cls)(*args, **kw)
    assert list(nm.state_dict()) == list(tm.state_dict())
    if dtype == np.float64:
        tm = tm.double()
        nm = nm.double()
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, nm


def _leaf(lib, a):
    return (torch.tensor(a) if lib is torch else nerve.tensor(a)).requires_grad_(True)


def _flat(out):
    if isinstance(out, (tuple, list)):
        r = []
        for o in out:
            r += _flat(o)
        return r
    if hasattr(out, "batch_sizes"):
        return [out.data]
    return [out]


def _compare(tm, nm, targs, nargs, dtype, rng):
    to, no = tm(*targs), nm(*nargs)
    tl, nl = _flat(to), _flat(no)
    assert len(tl) == len(nl)
    ws = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in tl]
    sum((t * torch.tensor(w)).sum() for t, w in zip(tl, ws)).backward()
    sum((t * nerve.tensor(w)).sum() for t, w in zip(nl, ws)).backward()
    tol = TOL[dtype]
    for a, b in zip(tl, nl):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), **tol)
    for a, b in zip(_flat(list(targs)), _flat(list(nargs))):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), **tol)
    for (k, p), q in zip(tm.named_parameters(), nm.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), err_msg=k, **tol)


LAYER_CASES = [
    ("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"num_layers": 2}), ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("RNN", {"num_layers": 2, "bidirectional": True, "nonlinearity": "relu", "batch_first": True}),
    ("LSTM", {"bias": False}), ("GRU", {"bias": False, "batch_first": True}), ("RNN", {"bias": False}),
    ("LSTM", {"bidirectional": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", [False, True])
@pytest.mark.parametrize("cls,kw", LAYER_CASES, ids=[f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
                                                      for c, kw in LAYER_CASES])
def test_layer_parity(cls, kw, init, dtype):
    rng = np.random.default_rng(0)
    tm, nm = _pair(cls, dtype, I, H, **kw)
    x = rng.standard_normal((B, T, I) if kw.get("batch_first") else (T, B, I)).astype(dtype)
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    targs, nargs = [_leaf(torch, x)], [_leaf(nerve, x)]
    if init:
        hs = [rng.standard_normal((L, B, H)).astype(dtype) for _ in range(2 if cls == "LSTM" else 1)]
        if cls == "LSTM":
            targs.append(tuple(_leaf(torch, h) for h in hs))
            nargs.append(tuple(_leaf(nerve, h) for h in hs))
        else:
            targs.append(_leaf(torch, hs[0]))
            nargs.append(_leaf(nerve, hs[0]))
    _compare(tm, nm, targs, nargs, dtype, rng)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("init", [False, True])
def test_unbatched(cls, init):
    rng = np.random.default_rng(1)
    tm, nm = _pair(cls, np.float64, I, H, num_layers=2, bidirectional=True)
    x = rng.standard_normal((T, I))
    targs, nargs = [_leaf(torch, x)], [_leaf(nerve, x)]
    if init:
        hs = [rng.standard_normal((4, H)) for _ in range(2 if cls == "LSTM" else 1)]
        targs.append(tuple(_leaf(torch, h) for h in hs) if cls == "LSTM" else _leaf(torch, hs[0]))
        nargs.append(tuple(_leaf(nerve, h) for h in hs) if cls == "LSTM" else _leaf(nerve, hs[0]))
    _compare(tm, nm, targs, nargs, np.float64, rng)


CELL_CASES = [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
              ("LSTMCell", {"bias": False}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("init", [False, True])
@pytest.mark.parametrize("cls,kw", CELL_CASES, ids=[f"{c}-{kw}" for c, kw in CELL_CASES])
def test_cell_parity(cls, kw, init, batched, dtype):
    rng = np.random.default_rng(2)
    tm, nm = _pair(cls, dtype, I, H, **kw)
    x = rng.standard_normal((B, I) if batched else (I,)).astype(dtype)
    targs, nargs = [_leaf(torch, x)], [_leaf(nerve, x)]
    if init:
        hs = [rng.standard_normal((B, H) if batched else (H,)).astype(dtype)
              for _ in range(2 if cls == "LSTMCell" else 1)]
        targs.append(tuple(_leaf(torch, h) for h in hs) if cls == "LSTMCell" else _leaf(torch, hs[0]))
        nargs.append(tuple(_leaf(nerve, h) for h in hs) if cls == "LSTMCell" else _leaf(nerve, hs[0]))
    _compare(tm, nm, targs, nargs, dtype, rng)


# ---------------------------------------------------------------------------- packed sequences
@pytest.mark.parametrize("cls,kw", [("LSTM", {}), ("GRU", {"bidirectional": True, "num_layers": 2}),
                                    ("RNN", {"bidirectional": True}), ("LSTM", {"bidirectional": True,
                                                                                "num_layers": 2})])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_parity(cls, kw, enforce_sorted, batch_first):
    rng = np.random.default_rng(3)
    tm, nm = _pair(cls, np.float64, I, H, batch_first=batch_first, **kw)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    Bn = len(lengths)
    x = rng.standard_normal((Bn, T, I) if batch_first else (T, Bn, I))
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hs = [rng.standard_normal((L, Bn, H)) for _ in range(2 if cls == "LSTM" else 1)]
    res = {}
    for lib, U in ((torch, torch.nn.utils.rnn), (nerve, nnn.utils.rnn)):
        xl = _leaf(lib, x)
        hl = [_leaf(lib, h) for h in hs]
        m = tm if lib is torch else nm
        packed = U.pack_padded_sequence(xl, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        out, hn = m(packed, tuple(hl) if cls == "LSTM" else hl[0])
        padded, lens = U.pad_packed_sequence(out, batch_first=batch_first, total_length=T + 1)
        outs = [padded] + (list(hn) if cls == "LSTM" else [hn])
        loss = sum((o * o.detach().sin()).sum() for o in outs)
        loss.backward()
        res[lib.__name__] = ([o.detach().numpy() for o in outs], np.asarray(lens),
                             [xl.grad.numpy()] + [h.grad.numpy() for h in hl] + [p.grad.numpy() for p in m.parameters()],
                             packed.batch_sizes.numpy())
    a, b = res["torch"], res["nerve"]
    np.testing.assert_array_equal(b[1], a[1])
    np.testing.assert_array_equal(b[3], a[3])
    for u, v in zip(a[0] + a[2], b[0] + b[2]):
        np.testing.assert_allclose(v, u, rtol=1e-7, atol=1e-9)


def test_pack_pad_utilities():
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 2)) for n in (4, 2, 3)]
    tU, nU = torch.nn.utils.rnn, nnn.utils.rnn
    tp = tU.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True, padding_value=-1.0)
    np_ = nU.pad_sequence([nerve.tensor(s) for s in seqs], batch_first=True, padding_value=-1.0)
    np.testing.assert_array_equal(np_.numpy(), tp.numpy())
    tps = tU.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    nps = nU.pack_sequence([nerve.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(nps.data.numpy(), tps.data.numpy())
    for f in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        np.testing.assert_array_equal(getattr(nps, f).numpy(), getattr(tps, f).numpy())
    for a, b in zip(tU.unpack_sequence(tps), nU.unpack_sequence(nps)):
        np.testing.assert_array_equal(b.numpy(), a.numpy())
    assert nerve.nn.utils.rnn.pack_padded_sequence is nerve.nn.utils.pack_padded_sequence
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        nU.pack_padded_sequence(nerve.zeros(3, 2), [1, 3])
    with pytest.raises(ValueError, match="total_length"):
        nU.pad_packed_sequence(nps, total_length=2)


# ---------------------------------------------------------------------------- dropout, module API
def test_dropout_between_layers():
    nerve.manual_seed(0)
    m = nnn.LSTM(4, 50, num_layers=2, dropout=0.5)
    x = nerve.randn(3, 2, 4)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, _ = m(x)
    d, _ = m(x)
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    # with p=1 the second layer sees zeros: its output depends on the biases only, equal over batch and
    # input, and the first layer's parameters get no gradient
    m1 = nnn.GRU(4, 5, num_layers=2, dropout=1.0)
    o, _ = m1(nerve.randn(3, 2, 4))
    o2, _ = m1(nerve.randn(3, 2, 4))
    np.testing.assert_allclose(o.detach().numpy(), o2.detach().numpy())
    o.sum().backward()
    assert m1.weight_ih_l0.grad is None or np.all(m1.weight_ih_l0.grad.numpy() == 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nnn.RNN(2, 3, dropout=0.2)


def test_repr_and_api():
    for cls, kw in [("LSTM", {"num_layers": 2, "batch_first": True, "bidirectional": True, "dropout": 0.1}),
                    ("GRU", {"bias": False}), ("RNN", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                    ("RNNCell", {"nonlinearity": "relu", "bias": False})]:
        assert repr(getattr(nnn, cls)(3, 4, **kw)) == repr(getattr(torch.nn, cls)(3, 4, **kw))
    m = nnn.LSTM(3, 4)
    m.flatten_parameters()
    bound = 1 / np.sqrt(4)
    assert all(np.all(np.abs(p.detach().numpy()) <= bound) for p in m.parameters())
    assert len(m.all_weights) == 1 and len(m.all_weights[0]) == 4


def test_errors():
    m = nnn.LSTM(128, 16, batch_first=True)
    with pytest.raises(RuntimeError, match=r"LSTM\(input_size=128\): input of shape \(32, 64, 100\) must have "
                                           r"size 128 in its last dim"):
        m(nerve.zeros(32, 64, 100))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(nerve.zeros(1, 2, 3, 128))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 16\), got \[1, 3, 16\]"):
        m(nerve.zeros(2, 5, 128), (nerve.zeros(1, 3, 16), nerve.zeros(1, 2, 16)))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 16\), got \[1, 2, 16\]"):
        nnn.GRU(128, 16, num_layers=2)(nerve.zeros(5, 2, 128), nerve.zeros(1, 2, 16))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        nnn.GRU(3, 4)(nerve.zeros(5, 3), nerve.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nnn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nnn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nnn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nnn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nnn.GRU(3, 4, proj_size=2)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nnn.LSTM(3, 4, proj_size=2)
    with pytest.raises(RuntimeError, match=r"LSTMCell\(input_size=3\).*must have size 3"):
        nnn.LSTMCell(3, 4)(nerve.zeros(2, 5))
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D"):
        nnn.GRUCell(3, 4)(nerve.zeros(1, 2, 3))


# ---------------------------------------------------------------------------- gradcheck of the fused node
SEQ_CASES = [("LSTM", False, None), ("LSTM", True, None), ("LSTM", False, [3, 2, 1]), ("LSTM", True, [3, 2, 1]),
             ("GRU", False, None), ("GRU", True, [3, 3, 1]), ("RNN_TANH", True, None), ("RNN_RELU", False, [3, 1, 1])]


def _seq_fn(mode, reverse, bs):
    bsa = None if bs is None else np.asarray(bs)

    def f(x, h0, w, *rest):
        c0 = rest[0] if mode == "LSTM" else None
        b = rest[0] if mode == "GRU" else None
        return rnn_sequence(mode, x, w, h0, c0, b, reverse, bsa)
    return f


@pytest.mark.parametrize("mode,reverse,bs", SEQ_CASES)
def test_gradcheck_sequence_node(mode, reverse, bs):
    rng = np.random.default_rng(5)
    Tn, Bn, Hn = 3, 3, 2
    G = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    x = rng.standard_normal((Tn, Bn, G * Hn))
    if mode == "RNN_RELU":
        x += np.sign(x) * 0.3  # away from the kink
    args = [x, rng.standard_normal((Bn, Hn)), rng.standard_normal((G * Hn, Hn)) * 0.5]
    if mode in ("LSTM", "GRU"):
        args.append(rng.standard_normal((Bn, Hn) if mode == "LSTM" else (G * Hn,)))
    inputs = tuple(nerve.tensor(a).requires_grad_(True) for a in args)
    f = _seq_fn(mode, reverse, bs)
    assert nerve.autograd.gradcheck(f, inputs)
    if mode != "RNN_RELU":
        assert nerve.autograd.gradgradcheck(f, inputs)


def test_gradgrad_through_layer():
    """create_graph through a whole LSTM layer matches PyTorch's double backward."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 2))
    tm, nm = _pair("LSTM", np.float64, 2, 3)
    res = []
    for lib, m in ((torch, tm), (nerve, nm)):
        xl = _leaf(lib, x)
        out, _ = m(xl)
        (gx,) = (torch.autograd.grad if lib is torch else nerve.autograd.grad)(out.pow(2).sum(), xl,
                                                                              create_graph=True)
        (gx * gx).sum().backward()
        res.append([xl.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)
