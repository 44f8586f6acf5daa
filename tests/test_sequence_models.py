"""nerve.models.sequence and nerve.vision.models.vit: shapes, invariances, PyTorch parity, toy training.

Parity: the model files use only the API nerve shares with PyTorch, so the same source with ``nerve``
replaced by ``torch`` builds a PyTorch twin of every model (``_torch_twin``). The nerve model's state dict is
loaded into the twin and the outputs and parameter gradients are compared in float64.

Training: each model learns a toy task in a few dozen to a few hundred Adam steps at tiny sizes.
"""
from __future__ import annotations

import math
import re
import types

import numpy as np
import pytest
import torch

import nerve
import nerve.nn.functional as F
from nerve.models import (
    GPT,
    BagOfWordsClassifier,
    CharRNN,
    RNNClassifier,
    RNNForecaster,
    Seq2SeqRNN,
    Seq2SeqTransformer,
    TransformerClassifier,
)
from nerve.models import sequence as seq
from nerve.vision.models import VisionTransformer, vit, vit_small

PAD, BOS, EOS = 0, 2, 3


# -------------------------------------------------------------------------------------------- PyTorch twins

class _TorchSinusoidal(torch.nn.Module):
    """Stand-in for nn.SinusoidalPositionalEncoding, which torch.nn lacks (the positional table is compared
    with nerve's in test_sinusoidal_table_matches_the_formula)."""

    def __init__(self, d_model, max_len=5000, dropout=0.1, batch_first=True):
        super().__init__()
        pe = torch.zeros(max_len, d_model, dtype=torch.float64)
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        # built in the default dtype as nerve's, so .double() gives both the same float32-rounded table
        self.register_buffer("pe", pe.to(torch.get_default_dtype()), persistent=False)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.shape[1]].to(x.dtype))


_TWINS = {}


def _torch_twin(module):
    """The model file's source run with torch in place of nerve."""
    if module.__name__ not in _TWINS:
        with open(module.__file__) as f:
            src = f.read()
        src = src.replace("from nerve import nn\n", "nn = _nn\n")
        src = re.sub(r"\bnerve\b", "torch", src)
        ns = types.ModuleType("torch_twin_" + module.__name__)
        ns._nn = types.SimpleNamespace(**{k: getattr(torch.nn, k) for k in dir(torch.nn) if not k.startswith("__")},
                                       SinusoidalPositionalEncoding=_TorchSinusoidal)
        exec(compile(src, f"<torch twin of {module.__file__}>", "exec"), ns.__dict__)  # noqa: S102 (our own source)
        _TWINS[module.__name__] = ns
    return _TWINS[module.__name__]


def _twin_of(model, module, *args, **kwargs):
    """A float64 eval-mode PyTorch twin holding the nerve model's weights."""
    twin = getattr(_torch_twin(module), type(model).__name__)(*args, **kwargs).double().eval()
    sd = {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(sd, strict=False)
    assert not missing, missing
    # nerve's sinusoidal table may be a (non-learned) buffer in the state dict
    assert all(k.startswith("pos.") for k in unexpected), unexpected
    return twin


def _check_parity(model, module, args, kwargs, inputs, rtol=1e-7, atol=1e-9):
    model = model.double().eval()
    twin = _twin_of(model, module, *args, **kwargs)
    out = model(*[nerve.tensor(x) for x in inputs])
    tout = twin(*[torch.from_numpy(x) for x in inputs])
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(0).standard_normal(tuple(out.shape))
    (out * nerve.tensor(w)).sum().backward()
    (tout * torch.from_numpy(w)).sum().backward()
    tparams = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), rtol=1e-6, atol=1e-8, err_msg=name)


def _ids(shape, low=4, high=20, seed=0):
    return np.random.default_rng(seed).integers(low, high, shape).astype(np.int64)


def _padded(lengths, t, low=4, high=20, seed=0):
    x = _ids((len(lengths), t), low, high, seed)
    for i, n in enumerate(lengths):
        x[i, n:] = PAD
    return x


PARITY = {
    "charrnn_lstm": (CharRNN, (20, 8, 12, 2), {"cell": "lstm"}, lambda: [_ids((2, 5))]),
    "charrnn_gru_tied": (CharRNN, (20, 8, 12, 1), {"cell": "gru", "tie_weights": True}, lambda: [_ids((2, 5))]),
    "charrnn_rnn": (CharRNN, (20, 8, 8, 2), {"cell": "rnn", "tie_weights": True}, lambda: [_ids((2, 5))]),
    "gpt": (GPT, (20, 8, 16, 2, 2), {}, lambda: [_ids((2, 6))]),
    "rnn_classifier_gru": (RNNClassifier, (20, 3, 8, 6), {}, lambda: [_padded([5, 2, 4], 6)]),
    "rnn_classifier_lstm2": (RNNClassifier, (20, 3, 8, 6, 2), {"cell": "lstm"}, lambda: [_padded([5, 2, 4], 6)]),
    "transformer_classifier_cls": (TransformerClassifier, (20, 3, 8, 16, 2, 2), {}, lambda: [_padded([5, 2, 4], 6)]),
    "transformer_classifier_mean": (TransformerClassifier, (20, 3, 8, 16, 1, 2), {"pooling": "mean"},
                                    lambda: [_padded([5, 2, 4], 6)]),
    "bag_of_words": (BagOfWordsClassifier, (20, 3), {}, lambda: [_padded([5, 2, 4], 6)]),
    "bag_of_words_binary": (BagOfWordsClassifier, (20, 3), {"binary": True}, lambda: [_padded([5, 2, 4], 6)]),
    "seq2seq_bahdanau_lstm": (Seq2SeqRNN, (16, 18, 8, 10), {"num_layers": 2},
                              lambda: [_padded([5, 3], 5, high=16), _padded([4, 2], 4, high=18, seed=1)]),
    "seq2seq_luong_gru": (Seq2SeqRNN, (16, 18, 8, 10), {"cell": "gru", "attention": "luong"},
                          lambda: [_padded([5, 3], 5, high=16), _padded([4, 2], 4, high=18, seed=1)]),
    "seq2seq_none_unidir": (Seq2SeqRNN, (16, 18, 8, 10), {"attention": "none", "bidirectional_encoder": False},
                            lambda: [_padded([5, 3], 5, high=16), _padded([4, 2], 4, high=18, seed=1)]),
    "seq2seq_transformer": (Seq2SeqTransformer, (16, 18, 16, 2, 1, 1, 32), {},
                            lambda: [_padded([5, 3], 5, high=16), _padded([4, 2], 4, high=18, seed=1)]),
    "forecaster": (RNNForecaster, (3, 8, 2, 4), {"output_size": 2},
                   lambda: [np.random.default_rng(0).standard_normal((2, 6, 3))]),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_with_pytorch(name):
    cls, args, kwargs, inputs = PARITY[name]
    nerve.manual_seed(0)
    _check_parity(cls(*args, **kwargs), seq, args, kwargs, inputs())


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_vit_parity_with_pytorch(pool):
    nerve.manual_seed(0)
    kwargs = {"image_size": 8, "patch_size": 4, "in_channels": 2, "num_classes": 3, "d_model": 16, "depth": 2,
              "n_heads": 2, "mlp_dim": 24, "pool": pool}
    x = np.random.default_rng(0).standard_normal((2, 2, 8, 8))
    _check_parity(VisionTransformer(**kwargs), vit, (), kwargs, [x], rtol=1e-7, atol=1e-9)


def test_sinusoidal_table_matches_the_formula():
    """The torch twins stand in for nn.SinusoidalPositionalEncoding with the formula of Vaswani et al."""
    pos = nerve.nn.SinusoidalPositionalEncoding(6, 10, 0.0, batch_first=True).double()
    x = np.zeros((1, 10, 6))
    np.testing.assert_allclose(pos(nerve.tensor(x)).numpy(), _TorchSinusoidal(6, 10, 0.0)(torch.from_numpy(x)).numpy(),
                               rtol=1e-6, atol=1e-7)


# -------------------------------------------------------------------------------------------------- shapes

def test_shapes_and_errors():
    nerve.manual_seed(0)
    ids = nerve.tensor(_padded([4, 2, 3], 5))
    assert CharRNN(20, 8, 12)(ids).shape == (3, 5, 20)
    assert GPT(20, 8, 16, 1, 2)(ids).shape == (3, 5, 20)
    assert RNNClassifier(20, 4, 8, 8)(ids).shape == (3, 4)
    assert TransformerClassifier(20, 4, 8, 16, 1, 2)(ids).shape == (3, 4)
    assert BagOfWordsClassifier(20, 4)(ids).shape == (3, 4)
    assert Seq2SeqRNN(20, 11, 8, 8)(ids, ids[:, :4] % 11).shape == (3, 4, 11)
    assert Seq2SeqTransformer(20, 11, 16, 2, 1, 1, 16)(ids, ids[:, :4] % 11).shape == (3, 4, 11)
    assert RNNForecaster(3, 8, horizon=5)(nerve.randn(2, 7, 3)).shape == (2, 5, 3)
    assert RNNForecaster(3, 8, horizon=2, output_size=1, cell="gru")(nerve.randn(2, 7, 3)).shape == (2, 2, 1)
    assert vit_small(10, 1)(nerve.randn(2, 1, 28, 28)).shape == (2, 10)
    assert vit_small(5, 3, image_size=32, patch_size=4, depth=1)(nerve.randn(1, 3, 32, 32)).shape == (1, 5)
    with pytest.raises(ValueError, match="context_len=8"):
        GPT(20, 8, 16, 1, 2)(nerve.zeros(1, 9, dtype=nerve.long))
    with pytest.raises(ValueError, match="max_len=8"):
        TransformerClassifier(20, 4, 8, 16, 1, 2)(nerve.zeros(1, 9, dtype=nerve.long))
    with pytest.raises(ValueError, match="patch_size=5"):
        VisionTransformer(image_size=28, patch_size=5)
    with pytest.raises(ValueError, match="expected images"):
        vit_small()(nerve.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="unknown cell"):
        CharRNN(10, cell="transformer")
    with pytest.raises(ValueError, match="unknown attention"):
        Seq2SeqRNN(10, 10, attention="dot")


DEFAULTS = {
    "charrnn": lambda: (CharRNN(30, dropout=0.2), (nerve.randint(0, 30, (2, 6)),)),
    "charrnn_gru_tied": lambda: (CharRNN(30, cell="gru", tie_weights=True, dropout=0.2),
                                 (nerve.randint(0, 30, (2, 6)),)),
    "gpt": lambda: (GPT(30), (nerve.randint(0, 30, (2, 6)),)),
    "rnn_classifier": lambda: (RNNClassifier(30, 3, dropout=0.2), (nerve.tensor(_padded([4, 6], 6, high=30)),)),
    "rnn_classifier_lstm": lambda: (RNNClassifier(30, 3, cell="lstm", num_layers=2, dropout=0.2),
                                    (nerve.tensor(_padded([4, 6], 6, high=30)),)),
    "transformer_classifier": lambda: (TransformerClassifier(30, 3), (nerve.tensor(_padded([4, 6], 6, high=30)),)),
    "bag_of_words": lambda: (BagOfWordsClassifier(30, 3), (nerve.tensor(_padded([4, 6], 6, high=30)),)),
    "seq2seq_rnn": lambda: (Seq2SeqRNN(30, 25, num_layers=2, dropout=0.2),
                            (nerve.tensor(_padded([4, 6], 6, high=30)), nerve.tensor(_padded([5, 3], 5, high=25)))),
    "seq2seq_transformer": lambda: (Seq2SeqTransformer(30, 25), (nerve.tensor(_padded([4, 6], 6, high=30)),
                                                                nerve.tensor(_padded([5, 3], 5, high=25)))),
    "forecaster": lambda: (RNNForecaster(3, dropout=0.2, horizon=3), (nerve.randn(2, 10, 3),)),
    "vit_small": lambda: (vit_small(), (nerve.randn(2, 1, 28, 28),)),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_default_configs_train_and_fill_every_gradient(name):
    nerve.manual_seed(0)
    model, inputs = DEFAULTS[name]()
    model.train()
    out = model(*inputs)
    assert np.isfinite(out.detach().numpy()).all()
    out.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), pname
    if getattr(model, "tie_weights", False):
        head, emb = (model.head, model.embedding) if isinstance(model, CharRNN) else (model.head, model.tok_emb)
        assert head.weight is emb.weight


# ---------------------------------------------------------------------------------------------- invariances

@pytest.mark.parametrize("make", [
    lambda: RNNClassifier(20, 3, 8, 8),
    lambda: RNNClassifier(20, 3, 8, 8, num_layers=2, cell="lstm", bidirectional=False),
    lambda: TransformerClassifier(20, 3, 16, 16, 2, 2),
    lambda: TransformerClassifier(20, 3, 16, 16, 1, 2, pooling="mean"),
    lambda: BagOfWordsClassifier(20, 3),
    lambda: BagOfWordsClassifier(20, 3, binary=True),
], ids=["rnn_gru", "rnn_lstm_uni", "transformer_cls", "transformer_mean", "bow", "bow_binary"])
def test_classifiers_ignore_extra_padding(make):
    nerve.manual_seed(0)
    model = make().eval()
    x = _padded([5, 1, 3, 4], 5)
    more = np.concatenate([x, np.zeros((4, 6), np.int64)], 1)
    np.testing.assert_allclose(model(nerve.tensor(more)).detach().numpy(), model(nerve.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_seq2seq_ignores_extra_source_padding():
    nerve.manual_seed(0)
    src, tgt = _padded([5, 2], 5, high=16), _padded([4, 3], 4, high=16, seed=1)
    more = np.concatenate([src, np.zeros((2, 3), np.int64)], 1)
    for model in (Seq2SeqRNN(16, 16, 8, 8), Seq2SeqRNN(16, 16, 8, 8, cell="gru", attention="luong"),
                  Seq2SeqTransformer(16, 16, 16, 2, 1, 1, 16)):
        model.eval()
        np.testing.assert_allclose(model(nerve.tensor(more), nerve.tensor(tgt)).detach().numpy(),
                                   model(nerve.tensor(src), nerve.tensor(tgt)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_seq2seq_all_padding_source_stays_finite():
    nerve.manual_seed(0)
    src = nerve.tensor(np.array([[5, 6, 0], [0, 0, 0]]))
    tgt = nerve.tensor(np.array([[BOS, 4], [BOS, 5]]))
    for model in (Seq2SeqRNN(16, 16, 8, 8), Seq2SeqRNN(16, 16, 8, 8, attention="luong"),
                  Seq2SeqTransformer(16, 16, 16, 2, 1, 1, 16)):
        assert np.isfinite(model.eval()(src, tgt).detach().numpy()).all()


def test_gpt_is_causal():
    nerve.manual_seed(0)
    model = GPT(20, 10, 16, 2, 2).eval()
    a, b = _ids((2, 10)), _ids((2, 10), seed=1)
    b[:, :6] = a[:, :6]
    la, lb = model(nerve.tensor(a)).detach().numpy(), model(nerve.tensor(b)).detach().numpy()
    np.testing.assert_allclose(la[:, :6], lb[:, :6], rtol=1e-5, atol=1e-6)
    assert np.abs(la[:, 6:] - lb[:, 6:]).max() > 1e-3


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_charrnn_forward_equals_step_by_step(cell):
    nerve.manual_seed(0)
    model = CharRNN(20, 8, 12, 2, cell=cell).eval()
    ids = nerve.tensor(_ids((3, 6)))
    full = model(ids).detach().numpy()
    state, steps = None, []
    for t in range(6):
        logits, state = model.step(ids[:, t], state)
        steps.append(logits.detach().numpy())
    np.testing.assert_allclose(np.stack(steps, 1), full, rtol=1e-5, atol=1e-6)
    logits, state2 = model.step(ids[:, :4], None)  # a chunk, then the rest from the carried state
    rest, _ = model.step(ids[:, 4:], state2)
    np.testing.assert_allclose(np.concatenate([logits.detach().numpy(), rest.detach().numpy()], 1), full,
                               rtol=1e-5, atol=1e-6)
    assert model.generate(ids[:, :2], 4).shape == (3, 4)


@pytest.mark.parametrize("make", [
    lambda: Seq2SeqRNN(16, 16, 8, 12),
    lambda: Seq2SeqRNN(16, 16, 8, 12, num_layers=2, cell="gru", attention="luong"),
    lambda: Seq2SeqRNN(16, 16, 8, 12, attention="none", bidirectional_encoder=False),
    lambda: Seq2SeqTransformer(16, 16, 16, 2, 1, 1, 16),
], ids=["bahdanau_lstm", "luong_gru2", "none", "transformer"])
def test_greedy_decode_is_argmax_of_teacher_forcing(make):
    nerve.manual_seed(0)
    model = make().eval()
    src = nerve.tensor(_padded([5, 3, 4], 5, high=16))
    out = model.greedy_decode(src, max_len=6)
    assert out.dtype == nerve.long and out.shape[0] == 3 and 1 <= out.shape[1] <= 6
    tgt_in = nerve.cat([nerve.full((3, 1), BOS, dtype=nerve.long), out[:, :-1]], 1)
    again = model(src, tgt_in).argmax(-1).numpy()
    out = out.numpy()
    for row, ref in zip(out, again):  # after a row's EOS the output holds padding
        n = list(row).index(EOS) + 1 if EOS in row else len(row)
        np.testing.assert_array_equal(row[:n], ref[:n])
        assert (row[n:] == PAD).all()
    if isinstance(model, Seq2SeqRNN):
        _, attn = model.greedy_decode(src, max_len=6, return_attention=True)
        if model.attention == "none":
            assert attn is None
        else:
            a = attn.numpy()
            assert a.shape == (3, out.shape[1], 5)
            np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
            assert (a[1, :, 3:] == 0).all()  # source pads get no attention
    else:
        tokens, attn = model.greedy_decode(src, max_len=6, return_attention=True)
        np.testing.assert_array_equal(tokens.numpy(), out)
        a = attn.numpy()
        assert a.shape == (3, out.shape[1], 5)
        np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
        assert (a[1, :, 3:] == 0).all()
        # the mask is causal: each step's weights are the teacher-forced pass's at that position
        mha = model.transformer.decoder.layers[-1].multihead_attn
        calls = []
        handle = mha.register_forward_hook(lambda m, args, kw, o: calls.append((args, kw)), with_kwargs=True)
        with nerve.no_grad():
            model(src, tgt_in)
        handle.remove()
        args, kw = calls[0]
        with nerve.no_grad():
            full = mha(*args, key_padding_mask=kw["key_padding_mask"], need_weights=True)[1].numpy()
        for i, row in enumerate(out):
            n = list(row).index(EOS) + 1 if EOS in row else len(row)
            np.testing.assert_allclose(a[i, :n], full[i, :n], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------- toy training

def _train(model, batches, loss_fn, lr):
    opt = nerve.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for batch in batches:
        loss = loss_fn(model, *batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return loss.item()


TEXT = "hello nerve! "


def _lm_batches(steps, ctx=16, batch=16, seed=0):
    chars = sorted(set(TEXT))
    data = np.array([chars.index(c) for c in TEXT * 8])
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        off = rng.integers(0, len(data) - ctx - 1, batch)
        x = np.stack([data[o:o + ctx] for o in off])
        y = np.stack([data[o + 1:o + ctx + 1] for o in off])
        yield nerve.tensor(x), nerve.tensor(y)


def _lm_loss(model, x, y):
    # the first two positions are ambiguous ('e' is followed by 'l', 'r' and ' '), the rest is determined
    logits = model(x)[:, 2:]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:, 2:].reshape(-1))


def _memorised(model, generate):
    chars = sorted(set(TEXT))
    prefix = nerve.tensor([[chars.index(c) for c in "hello"]])
    out = generate(prefix, 20, greedy=True)[0].tolist()
    return "".join(chars[i] for i in out) == (TEXT * 3)[5:25]


def test_charrnn_memorises_a_string():
    nerve.manual_seed(0)
    model = CharRNN(len(set(TEXT)), 16, 32, 1)
    assert _train(model, _lm_batches(60), _lm_loss, 0.05) < 0.1
    assert _memorised(model, model.generate)


def test_gpt_memorises_a_string():
    nerve.manual_seed(0)
    model = GPT(len(set(TEXT)), 16, 32, 2, 2, dropout=0.0)
    assert _train(model, _lm_batches(80), _lm_loss, 0.01) < 0.1
    assert _memorised(model, model.generate)


def _cls_batches(steps, n=32, t=8, seed=0):
    """Class 1 rows hold token 5 somewhere, class 0 rows token 4; the rest is noise (6..19) and padding."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        lengths = rng.integers(2, t + 1, n)
        x = rng.integers(6, 20, (n, t))
        y = rng.integers(0, 2, n)
        x[np.arange(n), (rng.random(n) * lengths).astype(int)] = 4 + y
        x[np.arange(t)[None] >= lengths[:, None]] = PAD
        yield nerve.tensor(x), nerve.tensor(y)


@pytest.mark.parametrize("make", [
    lambda: RNNClassifier(20, 2, 16, 16),
    lambda: TransformerClassifier(20, 2, 8, 16, 1, 2, dropout=0.0),
    lambda: BagOfWordsClassifier(20, 2),
], ids=["rnn", "transformer", "bow"])
def test_classifiers_learn_a_keyword_task(make):
    nerve.manual_seed(0)
    model = make()
    _train(model, _cls_batches(60), lambda m, x, y: F.cross_entropy(m(x), y), 0.03)
    x, y = next(_cls_batches(1, n=200, seed=1))
    assert (model(x).argmax(-1) == y).float().mean().item() >= 0.95


def _reverse_batch(n, rng, lo=3, hi=6):
    """Digit strings (tokens 4..13) of length lo..hi and their reversals framed by BOS/EOS."""
    lengths = rng.integers(lo, hi + 1, n)
    digits = rng.integers(4, 14, (n, hi))
    ar = np.arange(hi)[None]
    src = np.where(ar < lengths[:, None], digits, PAD)
    rev = np.where(ar < lengths[:, None], np.take_along_axis(digits, np.clip(lengths[:, None] - 1 - ar, 0, None), 1),
                   PAD)
    tgt = np.zeros((n, hi + 2), np.int64)
    tgt[:, 0], tgt[:, 1:hi + 1] = BOS, rev
    tgt[np.arange(n), lengths + 1] = EOS
    return nerve.tensor(src), nerve.tensor(tgt)


def _seq2seq_loss(model, src, tgt):
    logits = model(src, tgt[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1), ignore_index=PAD)


def _exact_match(model, seed=1):
    src, tgt = _reverse_batch(200, np.random.default_rng(seed))
    out = model.greedy_decode(src, max_len=7).numpy()
    expected = tgt.numpy()[:, 1:1 + out.shape[1]]
    return ((out == expected) | (expected == PAD)).all(1).mean()


@pytest.mark.parametrize("make,steps,lr", [
    (lambda: Seq2SeqRNN(14, 14, 16, 32, cell="gru", attention="luong"), 200, 0.01),
    (lambda: Seq2SeqRNN(14, 14, 16, 32, cell="gru", attention="bahdanau"), 100, 0.01),
    (lambda: Seq2SeqTransformer(14, 14, 32, 4, 1, 1, 64, dropout=0.0, max_len=16), 200, 0.003),
], ids=["rnn_luong", "rnn_bahdanau", "transformer"])
def test_seq2seq_learns_to_reverse_digits(make, steps, lr):
    nerve.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make()
    _train(model, (_reverse_batch(64, rng) for _ in range(steps)), _seq2seq_loss, lr)
    assert _exact_match(model) >= 0.9


def test_forecaster_fits_sine_waves():
    nerve.manual_seed(0)
    t = np.arange(400) * 0.1
    series = np.stack([np.sin(t), np.cos(0.5 * t)], -1).astype(np.float32)
    rng = np.random.default_rng(0)

    def batches(steps):
        for _ in range(steps):
            off = rng.integers(0, 400 - 24, 32)
            yield (nerve.tensor(np.stack([series[o:o + 20] for o in off])),
                   nerve.tensor(np.stack([series[o + 20:o + 24] for o in off])))

    model = RNNForecaster(2, 32, 1, horizon=4)
    assert _train(model, batches(100), lambda m, x, y: F.mse_loss(m(x), y), 0.01) < 0.01


def test_vit_overfits_random_images():
    nerve.manual_seed(0)
    rng = np.random.default_rng(0)
    x = nerve.tensor(rng.random((64, 1, 28, 28), dtype=np.float32))
    y = nerve.tensor(rng.integers(0, 10, 64))
    model = VisionTransformer(d_model=32, depth=2, n_heads=2, mlp_dim=64, dropout=0.0)
    _train(model, [(x, y)] * 60, lambda m, a, b: F.cross_entropy(m(a), b), 0.003)
    assert (model(x).argmax(-1) == y).float().mean().item() == 1.0


@pytest.mark.parametrize("module", [seq, vit], ids=["sequence", "vit"])
def test_docstring_examples(module):
    import doctest
    nerve.manual_seed(0)
    globs = {"nerve": nerve, **{k: getattr(module, k) for k in module.__all__}}
    result = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
