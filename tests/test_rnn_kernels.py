"""The compiled LSTM loop (nerve/ops/_rnn_numba.py) against PyTorch, on 1, 2 and 3 threads.

float32 LSTMs take the compiled loop while nerve's GEMM is the backend: each thread owns a slice of
the hidden units and the threads meet at a barrier once per time step. Each case runs with 1-3 parts
(3 parts on a 2-core machine too: each part has its own thread) and with the NumPy loop, and compares
outputs, final states and every gradient with PyTorch; packed batches, reverse directions and double
backward included. The rational tanh is checked against float64.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn
from nerve.ops import _gemm, rnn

pytestmark = pytest.mark.skipif(rnn._rk is None, reason="numba not installed")
TOL = {"rtol": 3e-4, "atol": 3e-5}


@pytest.fixture(params=[1, 2, 3, "numpy"])
def parts(request, monkeypatch):
    mode = _gemm._mode
    _gemm.set_backend("nerve")
    if request.param == "numpy":
        monkeypatch.setattr(rnn, "_rk", None)
    else:
        monkeypatch.setattr(rnn, "PARTS", request.param)
    yield request.param
    _gemm.set_backend(mode)


def _models(H, **kw):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(12, H, **kw)
    nm = nnn.LSTM(12, H, **kw)
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, nm


def _close(a, b, msg=""):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), err_msg=msg, **TOL)


CASES = [(40, 13, {}), (64, 32, {"num_layers": 2}), (40, 5, {"bidirectional": True, "batch_first": True}),
         (24, 1, {"num_layers": 2, "bidirectional": True}), (16, 40, {"bias": False})]   # 40: two column panels


@pytest.mark.parametrize("H,B,kw", CASES)
def test_lstm_matches_torch(parts, H, B, kw):
    rng = np.random.default_rng(0)
    tm, nm = _models(H, **kw)
    T = 9
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    x = rng.standard_normal((B, T, 12) if kw.get("batch_first") else (T, B, 12)).astype(np.float32)
    h0, c0 = (rng.standard_normal((L, B, H)).astype(np.float32) for _ in range(2))
    lt = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    ln = [nerve.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    yt, (ht, ct) = tm(lt[0], (lt[1], lt[2]))
    yn, (hn, cn) = nm(ln[0], (ln[1], ln[2]))
    ws = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in (yt, ht, ct)]
    sum((o * torch.tensor(w)).sum() for o, w in zip((yt, ht, ct), ws)).backward()
    sum((o * nerve.tensor(w)).sum() for o, w in zip((yn, hn, cn), ws)).backward()
    for a, b, name in zip((yn, hn, cn), (yt, ht, ct), ("output", "h_n", "c_n")):
        _close(a.detach().numpy(), b.detach().numpy(), name)
    for a, b, name in zip(ln, lt, ("x", "h0", "c0")):
        _close(a.grad.numpy(), b.grad.numpy(), f"grad {name}")
    for (k, p), q in zip(tm.named_parameters(), nm.parameters()):
        _close(q.grad.numpy(), p.grad.numpy(), f"grad {k}")


@pytest.mark.parametrize("given_state", [False, True])
def test_packed_lstm_matches_torch(parts, given_state):
    """Rows finish at their own lengths; the reverse direction starts each row from h0 at its last step
    (with a given h0, the weight gradient's previous states must be h0 there)."""
    rng = np.random.default_rng(1)
    tm, nm = _models(40, bidirectional=True)
    lengths = [3, 9, 1, 7, 9, 2]
    x = rng.standard_normal((9, len(lengths), 12)).astype(np.float32)
    hc = [rng.standard_normal((2, len(lengths), 40)).astype(np.float32) for _ in range(2)]
    res = []
    for lib, U, m in ((torch, torch.nn.utils.rnn, tm), (nerve, nnn.utils.rnn, nm)):
        xl = (torch.tensor(x) if lib is torch else nerve.tensor(x)).requires_grad_(True)
        state = tuple(lib.tensor(a) for a in hc) if given_state else None
        out, (h, c) = m(U.pack_padded_sequence(xl, lengths, enforce_sorted=False), state)
        padded, _ = U.pad_packed_sequence(out)
        outs = [padded, h, c]
        sum((o * o.detach().cos()).sum() for o in outs).backward()
        res.append([o.detach().numpy() for o in outs] + [xl.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(res[1], res[0]):
        _close(a, b)


def test_double_backward_after_compiled_forward(parts):
    """create_graph recomputes the recurrence with nerve ops from the inputs, whichever loop ran forward."""
    rng = np.random.default_rng(2)
    tm, nm = _models(40)
    x = rng.standard_normal((6, 4, 12)).astype(np.float32)
    grads = []
    for lib, m in ((torch, tm), (nerve, nm)):
        xl = (torch.tensor(x) if lib is torch else nerve.tensor(x)).requires_grad_(True)
        y, _ = m(xl)
        (g,) = (torch.autograd.grad if lib is torch else nerve.autograd.grad)((y * y).sum(), xl, create_graph=True)
        (g * g).sum().backward()
        grads.append([xl.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(grads[1], grads[0]):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_output_modified_in_place_is_an_error(parts):
    """The weight gradients read the states from the layer's output (as PyTorch's oneDNN LSTM saves its
    output): changing it in place before backward is an error, not a wrong gradient."""
    _, nm = _models(16, batch_first=True)
    out, _ = nm(nerve.tensor(np.ones((3, 4, 12), np.float32), requires_grad=True))
    out.add_(1)
    if parts == "numpy":   # the NumPy loop keeps its own copy of the states
        out.sum().backward()
        return
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_units_split_in_multiples_of_eight():
    for H, n in ((256, 2), (40, 3), (6, 1), (100, 4)):
        u = rnn._units(H, n)
        assert u[0] == 0 and u[-1] == H and len(u) == n + 1
        assert all(b % 8 == 0 for b in u[1:-1]) and all(np.diff(u) > 0)


def test_rational_tanh():
    x = np.concatenate([np.linspace(-12, 12, 200001), [0.0, -0.0, 1e-30, -1e-8, 3e-4]]).astype(np.float32)
    out = np.empty_like(x)
    rnn._rk.tanh_array(x, out)
    ref = np.tanh(x.astype(np.float64))
    ulp = np.abs(out - ref) / np.spacing(np.abs(ref).astype(np.float32))
    assert ulp.max() < 6
    assert np.signbit(out[x.size - 4]) and out[x.size - 5] == 0
    special = np.array([np.nan, np.inf, -np.inf], np.float32)
    rnn._rk.tanh_array(special, out[:3])
    assert np.isnan(out[0]) and abs(out[1] - 1) < 3e-7 and abs(out[2] + 1) < 3e-7


@pytest.mark.parametrize("B,Bn", [(32, 32), (40, 64), (70, 96), (128, 128), (130, 160), (5, 32)])
@pytest.mark.parametrize("reverse", [False, True])
def test_weight_grad_over_steps(B, Bn, reverse):
    """[dW_ih | dW_hh] as one GEMM over the per-step gate-gradient blocks: read in place (padded batch
    32-128) or packed (other widths); the previous states from the output, or h0 where a row was not
    running the step before (packed batches, reverse); C's rows not a multiple of 12 and columns of X
    and of the states not of 32; any split of the row panels."""
    rng = np.random.default_rng(B)
    T, R, I, H = 11, 4 * 25, 45, 37
    bs = np.sort(rng.integers(1, B + 1, T))[::-1].copy()
    bs[0] = B
    Dz = rng.standard_normal((T, R, Bn)).astype(np.float32)
    Dz[:, :, B:] = np.nan   # padding columns must not be read
    X = rng.standard_normal((T, B, I)).astype(np.float32)
    Y = rng.standard_normal((T + 2, B, H)).astype(np.float32)
    h0 = rng.standard_normal((B, H)).astype(np.float32)
    Hp = np.empty((T, B, H), np.float32)
    for t in range(T):
        tp = t + 1 if reverse else t - 1
        for b in range(B):
            Hp[t, b] = Y[tp, b] if 0 <= tp < T and b < bs[tp] else h0[b]
    XH = np.concatenate([X, Hp], 2).astype(np.float64)
    ref = np.einsum("trb,tbn->rn", Dz[:, :, :B].astype(np.float64), XH)
    panels = -(-R // 12)
    for cuts in ((0, panels), (0, 3, panels), (0, 5, 8, panels)):
        C = np.full((R, I + H), np.nan, np.float32)
        for lo, hi in itertools.pairwise(cuts):
            rnn._rk.weight_grad(Dz, X, Y, h0, bs, reverse, C, lo, hi)
        np.testing.assert_allclose(C, ref, rtol=1e-4, atol=1e-4)
