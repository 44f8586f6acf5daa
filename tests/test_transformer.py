"""nerve.nn MultiheadAttention, Transformer layers and positional encodings against PyTorch.

Each case builds the same module in both libraries, checks the state-dict keys agree, loads torch's
weights into nerve through ``state_dict``, and compares the outputs (and attention weights), the
gradients of the inputs and of every parameter, in float64 (tight) and float32.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

import nerve
import nerve.nn as nnn

TOL = {np.float64: dict(rtol=1e-7, atol=1e-9), np.float32: dict(rtol=2e-4, atol=2e-5)}
DTYPES = [np.float64, np.float32]
TDT = {np.float64: torch.float64, np.float32: torch.float32}
E, H, L, S, N = 8, 2, 5, 6, 3


def _load(nm, tm):
    assert list(nm.state_dict().keys()) == list(tm.state_dict().keys())
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


def _t(a, dt, lib, grad):
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        a = a.astype(dt)
    if lib is torch:
        return torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return nerve.tensor(a, requires_grad=grad and a.dtype.kind == "f")


def _compare(make, inputs, kwargs=None, dt=np.float64, *, shared=None, train=False, out_index=None, seed=0):
    """Run ``make(torch.nn)`` and ``make(nerve.nn)`` on the same inputs and weights; compare everything.

    ``inputs``: arrays passed positionally (float ones get gradients); ``shared``: indices of inputs
    that are the same tensor as an earlier one (self-attention: (0, 0, 0)); ``kwargs``: arrays become
    masks (no gradient), other values pass through. ``out_index``: the forward returns a tuple.
    """
    torch.manual_seed(seed)
    tm = make(torch.nn).to(TDT[dt])
    nm = make(nnn).to(nerve.float64 if dt == np.float64 else nerve.float32)
    _load(nm, tm)
    tm.train(train)
    nm.train(train)
    kwargs = kwargs or {}
    res = {}
    for lib, m in ((torch, tm), (nerve, nm)):
        leaves = [_t(a, dt, lib, True) for a in inputs]
        args = [leaves[i] for i in shared] if shared else leaves
        kw = {k: (_t(v, dt, lib, False) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        out = m(*args, **kw)
        outs = list(out) if isinstance(out, tuple) else [out]
        outs = [o for o in outs if o is not None]
        rng = np.random.default_rng(seed + 1)
        loss = 0
        for o in outs:
            w = rng.standard_normal(tuple(o.shape)).astype(dt)
            loss = loss + (o * lib.tensor(w)).sum()
        loss.backward()
        res[lib] = ([o.detach().numpy() for o in outs], [x.grad.numpy() if x.grad is not None else None
                                                         for x in leaves],
                    {k: p.grad.numpy() for k, p in m.named_parameters() if p.grad is not None})
    tol = TOL[dt]
    (to, tg, tp), (no, ng, npg) = res[torch], res[nerve]
    assert len(to) == len(no)
    for a, b in zip(no, to):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol, err_msg="output")
    for i, (a, b) in enumerate(zip(ng, tg)):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, **tol, err_msg=f"grad of input {i}")
    assert set(npg) == set(tp), (set(npg) ^ set(tp))
    for k in tp:
        np.testing.assert_allclose(npg[k], tp[k], **tol, err_msg=f"grad of {k}")
    return res


# float64 in both layouts, float32 batch-first (the layout code is dtype-independent; keeps the file fast)
LAYOUTS = [pytest.param(False, np.float64, id="seq-first-f64"), pytest.param(True, np.float64, id="batch-first-f64"),
           pytest.param(True, np.float32, id="batch-first-f32")]


def _r(seed=0):
    return np.random.default_rng(seed)


def _seq(bf, length, feat=E, n=N, r=None):
    r = r or _r(length * 7 + feat)
    return r.standard_normal((n, length, feat) if bf else (length, n, feat))


def _kpm(r, n=N, s=S):
    m = r.random((n, s)) > 0.6
    m[:, 0] = False
    return m


def _bool_attn(r, l=L, s=S):
    m = r.random((l, s)) > 0.7
    m[:, 1] = False
    return m


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


# ============================================================================ MultiheadAttention
R = _r(1)
MHA_CASES = {
    # id: (constructor kwargs, forward kwargs, ("self" | "cross" | (kdim, vdim)))
    "self": ({}, {}, "self"),
    "self-no-weights": ({}, {"need_weights": False}, "self"),
    "self-per-head-weights": ({}, {"average_attn_weights": False}, "self"),
    "cross": ({}, {}, "cross"),
    "kpm-bool": ({}, {"key_padding_mask": _kpm(R)}, "cross"),
    "kpm-bool-no-weights": ({}, {"key_padding_mask": _kpm(R), "need_weights": False}, "cross"),
    "kpm-self-no-weights": ({}, {"key_padding_mask": _kpm(R, s=L), "need_weights": False}, "self"),
    "kpm-float": ({}, {"key_padding_mask": R.standard_normal((N, S))}, "cross"),
    "attn-bool": ({}, {"attn_mask": _bool_attn(R)}, "cross"),
    "attn-bool-no-weights": ({}, {"attn_mask": _bool_attn(R), "need_weights": False}, "cross"),
    "attn-float-3d": ({}, {"attn_mask": R.standard_normal((N * H, L, S))}, "cross"),
    "attn-float-3d-no-weights": ({}, {"attn_mask": R.standard_normal((N * H, L, S)), "need_weights": False}, "cross"),
    "attn-and-kpm": ({}, {"attn_mask": R.standard_normal((L, S)), "key_padding_mask": R.standard_normal((N, S))},
                     "cross"),
    "attn-and-kpm-self-no-weights": ({}, {"attn_mask": _bool_attn(R, L, L), "key_padding_mask": _kpm(R, s=L),
                                          "need_weights": False}, "self"),
    "causal-hint": ({}, {"attn_mask": _causal(L), "is_causal": True, "need_weights": False}, "self"),
    "causal-hint-weights": ({}, {"attn_mask": _causal(L), "is_causal": True}, "self"),
    "kdim-vdim": ({"kdim": 5, "vdim": 7}, {"key_padding_mask": _kpm(R)}, (5, 7)),
    "kdim-vdim-no-weights": ({"kdim": 5, "vdim": 3}, {"need_weights": False}, (5, 3)),
    "bias-kv": ({"add_bias_kv": True}, {"attn_mask": _bool_attn(R), "key_padding_mask": _kpm(R)}, "cross"),
    "bias-kv-self": ({"add_bias_kv": True}, {"need_weights": False}, "self"),
    "zero-attn": ({"add_zero_attn": True}, {"attn_mask": _bool_attn(R), "key_padding_mask": _kpm(R)}, "cross"),
    "bias-kv-zero-attn": ({"add_bias_kv": True, "add_zero_attn": True}, {"average_attn_weights": False}, "self"),
    "no-bias": ({"bias": False}, {}, "self"),
    "no-bias-no-weights": ({"bias": False}, {"need_weights": False}, "self"),
}


@pytest.mark.parametrize("bf,dt", LAYOUTS)
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention(case, bf, dt):
    ctor, fwd, kind = MHA_CASES[case]
    r = _r(2)
    if kind == "self":
        inputs, shared = [_seq(bf, L, r=r)], (0, 0, 0)
    elif kind == "cross":
        inputs, shared = [_seq(bf, L, r=r), _seq(bf, S, r=r), _seq(bf, S, r=r)], None
    else:
        inputs, shared = [_seq(bf, L, r=r), _seq(bf, S, kind[0], r=r), _seq(bf, S, kind[1], r=r)], None
    _compare(lambda nn: nn.MultiheadAttention(E, H, batch_first=bf, **ctor), inputs, fwd, dt, shared=shared)


@pytest.mark.parametrize("fwd", [{}, {"need_weights": False, "key_padding_mask": np.array([False] * 5 + [True])},
                                 {"attn_mask": np.zeros((H, L, S), dtype=bool)}], ids=["plain", "kpm", "attn3d"])
def test_multihead_attention_unbatched(fwd):
    r = _r(3)
    _compare(lambda nn: nn.MultiheadAttention(E, H, batch_first=True), [r.standard_normal((L, E)),
             r.standard_normal((S, E)), r.standard_normal((S, E))], fwd)


def test_multihead_attention_layout_and_init():
    m = nnn.MultiheadAttention(E, H)
    tm = torch.nn.MultiheadAttention(E, H)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert repr(m) == repr(tm)
    assert isinstance(m.out_proj, nnn.Linear) and type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    bound = math.sqrt(6 / (E + 3 * E))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    m2 = nnn.MultiheadAttention(E, H, kdim=3, vdim=4, add_bias_kv=True, bias=False)
    tm2 = torch.nn.MultiheadAttention(E, H, kdim=3, vdim=4, add_bias_kv=True, bias=False)
    assert [(k, tuple(v.shape)) for k, v in m2.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm2.state_dict().items()]
    assert m2.in_proj_weight is None and m2.in_proj_bias is None and m2.out_proj.bias is None


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nnn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nnn.MultiheadAttention(0, 2)
    m = nnn.MultiheadAttention(E, H)
    x = nerve.randn(L, N, E)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(4, 5\), but should be \(5, 5\)"):
        m(x, x, x, attn_mask=nerve.zeros(4, 5))
    with pytest.raises(RuntimeError, match=r"3D attn_mask is \(2, 5, 5\), but should be \(6, 5, 5\)"):
        m(x, x, x, attn_mask=nerve.zeros(2, 5, 5))
    with pytest.raises(AssertionError, match="key_padded_mask.shape\\[1\\] to be 5, but got 4"):
        m(x, x, x, key_padding_mask=nerve.zeros(N, 4, dtype=nerve.bool))
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask"):
        m(x, x, x, key_padding_mask=nerve.zeros(N, L, dtype=nerve.int64))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match=r"MultiheadAttention\(embed_dim=8\) got query of shape \(5, 3, 6\)"):
        m(nerve.randn(L, N, 6), x, x)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, nerve.randn(L, E), nerve.randn(L, E))
    with pytest.raises(AssertionError, match="received 4-D query"):
        m(nerve.randn(1, L, N, E), x, x)


def test_multihead_attention_fully_masked_rows():
    """A query with every key masked: nan weights with need_weights (as torch), zeros via SDPA."""
    r = _r(4)
    kpm = np.zeros((N, S), dtype=bool)
    kpm[1] = True
    res = _compare(lambda nn: nn.MultiheadAttention(E, H), [_seq(False, L, r=r), _seq(False, S, r=r),
                   _seq(False, S, r=r)], {"key_padding_mask": kpm, "need_weights": False})
    assert np.isfinite(res[nerve][0][0]).all()


def test_multihead_attention_dropout_eval_deterministic():
    r = _r(5)
    x = _seq(True, L, r=r)
    res = _compare(lambda nn: nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True), [x],
                   {"need_weights": False}, shared=(0, 0, 0))
    m = nnn.MultiheadAttention(E, H, dropout=0.5, batch_first=True).eval()
    xt = nerve.tensor(x.astype(np.float32))
    np.testing.assert_array_equal(m(xt, xt, xt)[0].detach().numpy(), m(xt, xt, xt)[0].detach().numpy())
    # training: dropout acts on the attention weights, and the expectation is kept
    m.train()
    a, b = (m(xt, xt, xt, need_weights=False)[0].detach().numpy() for _ in range(2))
    assert not np.allclose(a, b)
    assert res[nerve][0][0].shape == (N, L, E)


def test_multihead_attention_gradgradcheck():
    r = _r(6)
    m = nnn.MultiheadAttention(4, 2, batch_first=True).double()
    x = nerve.tensor(r.standard_normal((2, 3, 4)), requires_grad=True)
    kv = nerve.tensor(r.standard_normal((2, 4, 4)), requires_grad=True)
    kpm = nerve.tensor(np.array([[False, False, True], [False, False, False]]))
    assert nerve.autograd.gradgradcheck(lambda x: m(x, x, x, need_weights=False, key_padding_mask=kpm)[0], (x,))
    assert nerve.autograd.gradgradcheck(lambda x, kv: sum(t.sum() for t in m(x, kv, kv)), (x, kv))
    w, b = m.in_proj_weight, m.in_proj_bias
    f = nnn.functional.multi_head_attention_forward if hasattr(nnn.functional, "multi_head_attention_forward") \
        else __import__("nerve.nn.modules.attention", fromlist=["x"]).multi_head_attention_forward
    xs = x.detach().transpose(0, 1)
    assert nerve.autograd.gradgradcheck(
        lambda w, b: f(xs, xs, xs, 4, 2, w, b, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias,
                       need_weights=False)[0], (w, b))


# ============================================================================ Transformer layers
ENC_CASES = {
    "default": ({}, {}),
    "norm-first": ({"norm_first": True}, {}),
    "gelu": ({"activation": "gelu"}, {}),
    "callable-activation": ({"activation": "tanh"}, {}),
    "no-bias": ({"bias": False}, {}),
    "eps": ({"layer_norm_eps": 1e-3, "norm_first": True}, {}),
    "src-mask-bool": ({}, {"src_mask": _bool_attn(R, L, L)}),
    "src-mask-float": ({"norm_first": True}, {"src_mask": R.standard_normal((L, L))}),
    "src-mask-3d": ({}, {"src_mask": R.standard_normal((N * H, L, L))}),
    "kpm": ({}, {"src_key_padding_mask": _kpm(R, s=L)}),
    "kpm-and-mask": ({"activation": "gelu"}, {"src_key_padding_mask": _kpm(R, s=L), "src_mask": _bool_attn(R, L, L)}),
    "causal": ({}, {"src_mask": _causal(L), "is_causal": True}),
}


def _act(nn, spec):
    if spec.get("activation") == "tanh":
        spec = dict(spec, activation=(torch.tanh if nn is torch.nn else nerve.tanh))
    return spec


@pytest.mark.parametrize("bf,dt", LAYOUTS)
@pytest.mark.parametrize("case", list(ENC_CASES))
def test_encoder_layer(case, bf, dt):
    ctor, fwd = ENC_CASES[case]
    _compare(lambda nn: nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=bf, **_act(nn, ctor)),
             [_seq(bf, L)], fwd, dt)


def test_encoder_layer_unbatched():
    _compare(lambda nn: nn.TransformerEncoderLayer(E, H, 16, dropout=0.1, batch_first=True),
             [_r(7).standard_normal((L, E))], {"src_key_padding_mask": np.array([False] * 4 + [True])})


DEC_CASES = {
    "default": ({}, {}),
    "norm-first-gelu": ({"norm_first": True, "activation": "gelu"}, {}),
    "no-bias": ({"bias": False}, {}),
    "tgt-causal": ({}, {"tgt_mask": _causal(L), "tgt_is_causal": True}),
    "memory-masks": ({}, {"memory_mask": _bool_attn(R), "memory_key_padding_mask": _kpm(R)}),
    "all-masks": ({"norm_first": True}, {"tgt_mask": R.standard_normal((L, L)), "memory_mask": R.standard_normal(
        (L, S)), "tgt_key_padding_mask": R.standard_normal((N, L)), "memory_key_padding_mask": R.standard_normal(
        (N, S))}),
}


@pytest.mark.parametrize("bf,dt", LAYOUTS)
@pytest.mark.parametrize("case", list(DEC_CASES))
def test_decoder_layer(case, bf, dt):
    ctor, fwd = DEC_CASES[case]
    _compare(lambda nn: nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, batch_first=bf, **ctor),
             [_seq(bf, L), _seq(bf, S)], fwd, dt)


@pytest.mark.parametrize("bf,dt", LAYOUTS)
def test_encoder_stack(bf, dt):
    def make(nn):
        layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=bf)
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E), enable_nested_tensor=False)
    _compare(make, [_seq(bf, L)], {"mask": _causal(L), "src_key_padding_mask": _kpm(_r(8), s=L)}, dt)
    _compare(make, [_seq(bf, L)], {"mask": _causal(L)}, dt)  # causal mask detected (is_causal=None)


@pytest.mark.parametrize("dt", DTYPES, ids=["f64", "f32"])
def test_decoder_stack(dt):
    def make(nn):
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, 16, dropout=0.0), 2, norm=nn.LayerNorm(E))
    _compare(make, [_seq(False, L), _seq(False, S)], {"tgt_mask": _causal(L), "memory_key_padding_mask": _kpm(_r(9))},
             dt)


@pytest.mark.parametrize("bf,dt", LAYOUTS)
def test_transformer(bf, dt):
    def make(nn):
        return nn.Transformer(E, H, 2, 1, 16, dropout=0.1, batch_first=bf, norm_first=bf, activation="gelu")
    _compare(make, [_seq(bf, S), _seq(bf, L)], {"tgt_mask": nnn.Transformer.generate_square_subsequent_mask(L).numpy(),
                                                "src_key_padding_mask": _kpm(_r(10)), "memory_mask": _bool_attn(_r(11))},
             dt)


def test_transformer_custom_and_checks():
    enc = nnn.TransformerEncoder(nnn.TransformerEncoderLayer(E, H, 16), 1)
    m = nnn.Transformer(E, H, custom_encoder=enc, num_decoder_layers=1, dim_feedforward=16)
    assert m.encoder is enc
    tm = torch.nn.Transformer(E, H, 1, 1, 16)
    assert list(nnn.Transformer(E, H, 1, 1, 16).state_dict()) == list(tm.state_dict())
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        m(nerve.randn(L, 2, E), nerve.randn(L, 3, E))
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal to d_model"):
        m(nerve.randn(L, 2, E), nerve.randn(L, 2, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not swish"):
        nnn.TransformerEncoderLayer(E, H, activation="swish")
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
        nnn.TransformerEncoder(nnn.TransformerEncoderLayer(E, H), 1)
    layer = nnn.TransformerEncoderLayer(E, H, 16)
    stack = nnn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    ws = [lay.linear1.weight for lay in stack.layers]
    assert len({id(w) for w in ws}) == 3 and all(np.array_equal(w.detach().numpy(), layer.linear1.weight.detach().numpy()) for w in ws)


def test_generate_square_subsequent_mask():
    m = nnn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert m.dtype == nerve.float32
    assert nnn.Transformer.generate_square_subsequent_mask(3, dtype=nerve.float64).dtype == nerve.float64


@pytest.mark.parametrize("bf", [False, True])
def test_eval_dropout_deterministic_and_fast_path(bf):
    """Eval mode: dropout off (deterministic), and under no_grad torch's fast paths give the same values
    (including its nested-tensor path that zeroes padded positions of TransformerEncoder)."""
    def make(nn):
        layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.3, batch_first=bf)
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E), enable_nested_tensor=True)
    torch.manual_seed(0)
    with pytest.warns(UserWarning) if not bf else _nullcontext():
        tm = make(torch.nn).double().eval()
    with pytest.warns(UserWarning) if not bf else _nullcontext():
        nm = make(nnn).double().eval()
    _load(nm, tm)
    x = _seq(bf, L, r=_r(12))
    kpm = np.zeros((N, L), dtype=bool)
    kpm[0, 3:] = True
    kpm[2, 4:] = True
    with torch.no_grad():
        to = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    with nerve.no_grad():
        no = nm(nerve.tensor(x), src_key_padding_mask=nerve.tensor(kpm)).numpy()
        no2 = nm(nerve.tensor(x), src_key_padding_mask=nerve.tensor(kpm)).numpy()
    np.testing.assert_array_equal(no, no2)
    np.testing.assert_allclose(no, to, rtol=1e-7, atol=1e-9)
    layer_t, layer_n = tm.layers[0], nm.layers[0]
    with torch.no_grad():
        to = layer_t(torch.tensor(x), src_mask=torch.tensor(_causal(L))).numpy()
    with nerve.no_grad():
        no = layer_n(nerve.tensor(x), src_mask=nerve.tensor(_causal(L))).numpy()
    np.testing.assert_allclose(no, to, rtol=1e-7, atol=1e-9)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_training_step_matches_torch():
    """A few Adam steps of a small encoder from the same init end with the same parameters."""
    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16, dropout=0.0,
                                                                              batch_first=True), 2,
                                                   enable_nested_tensor=False), nn.Linear(E, 3))
    torch.manual_seed(0)
    tm, nm = make(torch).double(), make(nerve).double()
    _load(nm, tm)
    x = _seq(True, L, r=_r(13))
    y = _r(14).integers(0, 3, (N, L))
    for lib, m in ((torch, tm), (nerve, nm)):
        opt = lib.optim.Adam(m.parameters(), lr=1e-2)
        for _ in range(3):
            loss = lib.nn.functional.cross_entropy(m(lib.tensor(x)).reshape(-1, 3), lib.tensor(y).reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad()
    for (k, a), b in zip(tm.state_dict().items(), nm.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-8, err_msg=k)


def test_deepcopy_and_double():
    layer = nnn.TransformerDecoderLayer(E, H, 16)
    c = copy.deepcopy(layer).double()
    assert c.self_attn.in_proj_weight.dtype == nerve.float64
    assert layer.self_attn.in_proj_weight.dtype == nerve.float32


# ============================================================================ positional encodings
def _sinusoid(max_len, d):
    pe = np.zeros((max_len, d))
    for pos in range(max_len):
        for i in range(d):
            angle = pos / 10000 ** ((i - i % 2) / d)
            pe[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    return pe


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_positional_encoding(d):
    m = nnn.SinusoidalPositionalEncoding(d, max_len=20)
    np.testing.assert_allclose(m.pe.numpy(), _sinusoid(20, d), rtol=1e-6, atol=1e-6)
    assert "pe" not in m.state_dict() and "pe" in dict(m.named_buffers())
    x = np.random.default_rng(0).standard_normal((3, 9, d)).astype(np.float32)
    out = m(nerve.tensor(x))
    np.testing.assert_allclose(out.numpy(), x + _sinusoid(9, d), rtol=1e-5, atol=1e-5)
    m2 = nnn.SinusoidalPositionalEncoding(d, max_len=20, batch_first=False)
    xs = x.transpose(1, 0, 2)
    np.testing.assert_allclose(m2(nerve.tensor(xs)).numpy(), xs + _sinusoid(9, d)[:, None], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m(nerve.tensor(x[0])).numpy(), x[0] + _sinusoid(9, d), rtol=1e-5, atol=1e-5)
    xt = nerve.tensor(x, requires_grad=True)
    m(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), np.ones_like(x))
    assert m.double().pe.dtype == nerve.float64
    with pytest.raises(ValueError, match="sequence length 21 exceeds max_len 20"):
        m(nerve.randn(1, 21, d))
    with pytest.raises(ValueError, match="last dim must be"):
        m(nerve.randn(1, 5, d + 1))


def test_sinusoidal_positional_encoding_dropout():
    m = nnn.SinusoidalPositionalEncoding(8, max_len=16, dropout=0.5)
    x = nerve.zeros(4, 16, 8)
    out = m(x).numpy()
    assert (out == 0).any() and np.allclose(out[out != 0], 2 * np.broadcast_to(m.pe.numpy(), out.shape)[out != 0])
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), np.broadcast_to(m.pe.numpy(), (4, 16, 8)))


def test_learned_positional_embedding():
    m = nnn.LearnedPositionalEmbedding(10, 4)
    assert list(m.state_dict()) == ["weight"] and tuple(m.weight.shape) == (10, 4)
    x = np.random.default_rng(1).standard_normal((2, 6, 4)).astype(np.float32)
    xt = nerve.tensor(x, requires_grad=True)
    out = m(xt)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), x + w[:6], rtol=1e-6)
    out.sum().backward()
    g = m.weight.grad.numpy()
    np.testing.assert_allclose(g[:6], 2.0)
    assert not g[6:].any()
    m2 = nnn.LearnedPositionalEmbedding(10, 4, batch_first=False)
    m2.load_state_dict(m.state_dict())
    xs = x.transpose(1, 0, 2)
    np.testing.assert_allclose(m2(nerve.tensor(xs)).detach().numpy(), xs + w[:6, None], rtol=1e-6)
    with pytest.raises(ValueError, match="exceeds max_len 10"):
        m(nerve.randn(2, 11, 4))
