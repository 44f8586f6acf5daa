"""Sequence models: language models, text classifiers, seq2seq translators and forecasters.

Every model is built only from ``nerve.nn`` layers and nerve tensor ops, with PyTorch's module tree and
parameter names (``rnn.weight_ih_l0``, ``blocks.0.self_attn.in_proj_weight`` ...), so the same code runs
on PyTorch and state dicts move between the two.

===============================  =====================================  ==============================
model                            input                                  output
===============================  =====================================  ==============================
``CharRNN``                      ids (B, T)                             logits (B, T, V)
``GPT``                          ids (B, T), T <= context_len           logits (B, T, V)
``RNNClassifier``                padded ids (B, T)                      logits (B, C)
``TransformerClassifier``        padded ids (B, T), T <= max_len        logits (B, C)
``BagOfWordsClassifier``         padded ids (B, T)                      logits (B, C)
``Seq2SeqRNN``                   src (B, S), tgt_in (B, T)              logits (B, T, V_tgt)
``Seq2SeqTransformer``           src (B, S), tgt_in (B, T)              logits (B, T, V_tgt)
``RNNForecaster``                x (B, L, F)                            (B, horizon, output_size)
===============================  =====================================  ==============================

Padded inputs carry ``padding_idx`` (0 by default) after the tokens of each row; the classifiers and the
seq2seq encoders use the true lengths, so appending more padding does not change their outputs.
"""
from __future__ import annotations

import math

import nerve
from nerve import nn
from nerve.nn import functional as F

__all__ = [
    "GPT",
    "BagOfWordsClassifier",
    "CharRNN",
    "RNNClassifier",
    "RNNForecaster",
    "Seq2SeqRNN",
    "Seq2SeqTransformer",
    "TransformerClassifier",
]


def _rnn_class(owner: str, cell: str, allowed=("lstm", "gru", "rnn")):
    classes = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
    if cell not in allowed:
        raise ValueError(f"{owner}: unknown cell {cell!r} (choose from {list(allowed)})")
    return classes[cell]


def _check_ids(owner: str, ids, max_len=None, max_name="max_len"):
    if ids.dim() != 2:
        raise ValueError(f"{owner}: expected token ids of shape (batch, seq_len), got {tuple(ids.shape)}")
    if max_len is not None and ids.shape[1] > max_len:
        raise ValueError(f"{owner}: sequence length {ids.shape[1]} exceeds {max_name}={max_len}; "
                         f"truncate the input or build the model with a larger {max_name}")


def _lengths(ids, padding_idx):
    """True lengths of right-padded rows (at least 1, so an all-padding row still packs)."""
    return (ids != padding_idx).sum(1).clamp(min=1).cpu()


def _source_padding(src, padding_idx):
    """(B, S) bool mask of source pads; an all-padding row keeps its first position visible, so attention over
    it stays finite instead of a softmax over nothing (NaN)."""
    pad = src == padding_idx
    first = nerve.zeros(pad.shape, dtype=nerve.bool, device=src.device)
    first[:, 0] = True
    return pad & ~(first & pad.all(1, keepdim=True))


def _causal_mask(t: int, device):
    """(t, t) bool mask, True above the diagonal: position i may not attend to j > i."""
    return nerve.ones(t, t, dtype=nerve.bool, device=device).triu(1)


def _last_layer_hidden(h_n, num_layers: int, num_directions: int):
    """Final hidden states of the top layer, directions concatenated: (B, num_directions * H)."""
    h = h_n.view(num_layers, num_directions, h_n.shape[1], h_n.shape[2])[-1]
    return h.transpose(0, 1).reshape(h_n.shape[1], num_directions * h_n.shape[2])


# ------------------------------------------------------------------------------------------ language models

class CharRNN(nn.Module):
    """A recurrent language model: Embedding -> LSTM/GRU/RNN (num_layers) -> Dropout -> Linear.

    With ``tie_weights=True`` the output layer shares the embedding matrix (Press & Wolf, 2017); when
    ``hidden_size != embed_dim`` a bias-free ``proj`` Linear maps hidden states to ``embed_dim`` first.

    Args:
        vocab_size: number of tokens V (characters for a char-level model).
        embed_dim: embedding width.
        hidden_size: recurrent state width.
        num_layers: stacked recurrent layers.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'`` (tanh).
        dropout: dropout after the embedding, between recurrent layers and before the output layer.
        tie_weights: share the embedding and output matrices.

    Shape: ids (B, T) -> logits (B, T, V). ``state`` is the recurrent state, ``(h, c)`` for an LSTM
    (each (num_layers, B, hidden_size)) and ``h`` otherwise.

    Example:
        >>> model = CharRNN(65, embed_dim=32, hidden_size=64)
        >>> model(nerve.randint(0, 65, (4, 20))).shape
        nerve.Size([4, 20, 65])
        >>> logits, state = model.step(nerve.tensor([1, 2, 3, 4]), None)   # one step per row: (4, 65)
    """

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_size: int = 256, num_layers: int = 2,
                 cell: str = "lstm", dropout: float = 0.0, tie_weights: bool = False) -> None:
        super().__init__()
        rnn_cls = _rnn_class("CharRNN", cell)
        self.vocab_size, self.cell, self.tie_weights = vocab_size, cell, tie_weights
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = rnn_cls(embed_dim, hidden_size, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        out_dim = hidden_size
        if tie_weights and hidden_size != embed_dim:
            self.proj = nn.Linear(hidden_size, embed_dim, bias=False)
            out_dim = embed_dim
        else:
            self.proj = None
        self.head = nn.Linear(out_dim, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight

    def _run(self, ids, state):
        out, state = self.rnn(self.drop(self.embedding(ids)), state)
        out = self.drop(out)
        if self.proj is not None:
            out = self.proj(out)
        return self.head(out), state

    def forward(self, ids, state=None):
        _check_ids("CharRNN", ids)
        return self._run(ids, state)[0]

    def step(self, ids, state=None):
        """Advance the model: ids (B,) -> (logits (B, V), state), or ids (B, T) -> (logits (B, T, V), state).

        Feeding a sequence token by token through ``step`` (carrying ``state``) gives the same logits as one
        ``forward`` over the whole sequence.
        """
        if ids.dim() == 1:
            logits, state = self._run(ids.unsqueeze(1), state)
            return logits[:, 0], state
        _check_ids("CharRNN.step", ids)
        return self._run(ids, state)

    @nerve.no_grad()
    def generate(self, prefix, n: int, temperature: float = 1.0, greedy: bool = False, generator=None):
        """Continue ``prefix`` (B, T0) by ``n`` tokens, sampling from softmax(logits / temperature).

        Returns the new tokens only, a LongTensor (B, n).
        """
        logits, state = self.step(prefix, None)
        logits = logits[:, -1]
        out = []
        for _ in range(n):
            if greedy:
                nxt = logits.argmax(-1)
            else:
                probs = F.softmax(logits / temperature, dim=-1)
                nxt = nerve.multinomial(probs, 1, generator=generator)[:, 0]
            out.append(nxt)
            logits, state = self.step(nxt, state)
        return nerve.stack(out, 1)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, tie_weights={self.tie_weights}"


class GPT(nn.Module):
    """A decoder-only Transformer language model (GPT-2 layout, Radford et al., 2019).

    ``tok_emb(ids) + pos_emb(positions)`` -> Dropout -> ``n_layers`` pre-norm blocks
    (``nn.TransformerEncoderLayer(norm_first=True, activation='gelu')`` under a causal mask) ->
    ``ln_f`` LayerNorm -> ``head`` Linear (bias-free, sharing ``tok_emb.weight`` when ``tie_weights``).
    Weights start from N(0, 0.02), biases from 0, as GPT-2.

    Args:
        vocab_size: number of tokens V.
        context_len: longest sequence the learned positions cover.
        d_model: residual stream width.
        n_layers: number of blocks.
        n_heads: attention heads per block (must divide d_model).
        d_ff: hidden width of each block's MLP (default 4 * d_model).
        dropout: dropout on embeddings, attention weights and residual branches.
        tie_weights: share the token embedding and output matrices.

    Shape: ids (B, T) with T <= context_len -> logits (B, T, V); logits at t depend on ids[:, :t+1] only.

    Example:
        >>> model = GPT(100, context_len=32, d_model=64, n_layers=2, n_heads=4)
        >>> model(nerve.randint(0, 100, (2, 32))).shape
        nerve.Size([2, 32, 100])
    """

    def __init__(self, vocab_size: int, context_len: int = 128, d_model: int = 128, n_layers: int = 4,
                 n_heads: int = 4, d_ff=None, dropout: float = 0.1, tie_weights: bool = True) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"GPT: d_model={d_model} must be divisible by n_heads={n_heads}")
        self.vocab_size, self.context_len, self.tie_weights = vocab_size, context_len, tie_weights
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tok_emb.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids):
        _check_ids("GPT", ids, self.context_len, "context_len")
        t = ids.shape[1]
        pos = nerve.arange(t, device=ids.device)
        x = self.drop(self.tok_emb(ids) + self.pos_emb(pos))
        mask = _causal_mask(t, ids.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(x))

    @nerve.no_grad()
    def generate(self, prefix, n: int, temperature: float = 1.0, greedy: bool = False, generator=None):
        """Continue ``prefix`` (B, T0) by ``n`` tokens (the window slides over the last context_len ids).

        Returns the new tokens only, a LongTensor (B, n).
        """
        ids, out = prefix, []
        for _ in range(n):
            logits = self(ids[:, -self.context_len:])[:, -1]
            if greedy:
                nxt = logits.argmax(-1)
            else:
                nxt = nerve.multinomial(F.softmax(logits / temperature, dim=-1), 1, generator=generator)[:, 0]
            out.append(nxt)
            ids = nerve.cat([ids, nxt.unsqueeze(1)], 1)
        return nerve.stack(out, 1)

    def extra_repr(self) -> str:
        return f"context_len={self.context_len}, tie_weights={self.tie_weights}"


# --------------------------------------------------------------------------------------------- classifiers

class RNNClassifier(nn.Module):
    """A recurrent text classifier: Embedding -> packed (bi)GRU/LSTM -> final hidden states -> Linear.

    The rows are packed with their true lengths (``pack_padded_sequence(enforce_sorted=False)``), so the
    final states are those after each row's last real token; with ``bidirectional`` the forward and
    backward final states of the top layer are concatenated.

    Args:
        vocab_size: number of tokens.
        num_classes: number of classes C.
        embed_dim: embedding width.
        hidden_size: recurrent state width per direction.
        num_layers: stacked recurrent layers.
        cell: ``'gru'`` or ``'lstm'``.
        bidirectional: run a backward direction too.
        dropout: dropout after the embedding, between layers and before the classifier.
        padding_idx: the padding token (appended after each row's tokens).

    Shape: ids (B, T) -> logits (B, C).

    Example:
        >>> model = RNNClassifier(1000, 2, embed_dim=32, hidden_size=32)
        >>> model(nerve.tensor([[5, 6, 7, 0], [8, 9, 0, 0]])).shape
        nerve.Size([2, 2])
    """

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 128, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "gru", bidirectional: bool = True, dropout: float = 0.0,
                 padding_idx: int = 0) -> None:
        super().__init__()
        rnn_cls = _rnn_class("RNNClassifier", cell, ("gru", "lstm", "rnn"))
        self.cell, self.padding_idx = cell, padding_idx
        self.num_layers, self.num_directions = num_layers, 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.rnn = rnn_cls(embed_dim, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(self.num_directions * hidden_size, num_classes)

    def forward(self, ids):
        _check_ids("RNNClassifier", ids)
        emb = self.drop(self.embedding(ids))
        packed = nn.utils.rnn.pack_padded_sequence(emb, _lengths(ids, self.padding_idx), batch_first=True,
                                                   enforce_sorted=False)
        _, state = self.rnn(packed)
        h_n = state[0] if isinstance(state, tuple) else state
        return self.fc(self.drop(_last_layer_hidden(h_n, self.num_layers, self.num_directions)))


class TransformerClassifier(nn.Module):
    """A BERT-style encoder classifier: [CLS] + tokens + learned positions -> pre-norm encoder -> head.

    A learned ``cls_token`` is prepended to the embedded tokens, learned positions (``pos_emb``, max_len + 1
    of them, position 0 for [CLS]) are added, ``n_layers`` ``nn.TransformerEncoderLayer(norm_first=True,
    activation='gelu')`` run with a key padding mask hiding the pads, a final LayerNorm, and a Linear reads
    the [CLS] vector (``pooling='cls'``) or the mean over the real tokens (``pooling='mean'``).

    Args:
        vocab_size: number of tokens.
        num_classes: number of classes C.
        max_len: longest input (tokens, without [CLS]).
        d_model: width.
        n_layers: encoder layers.
        n_heads: attention heads.
        d_ff: feed-forward width (default 4 * d_model).
        dropout: dropout in the encoder and on the embeddings.
        padding_idx: the padding token.
        pooling: ``'cls'`` or ``'mean'``.

    Shape: ids (B, T) with T <= max_len -> logits (B, C).

    Example:
        >>> model = TransformerClassifier(1000, 4, max_len=64, d_model=32, n_heads=4)
        >>> model(nerve.tensor([[5, 6, 7, 0], [8, 9, 0, 0]])).shape
        nerve.Size([2, 4])
    """

    def __init__(self, vocab_size: int, num_classes: int, max_len: int = 256, d_model: int = 128,
                 n_layers: int = 2, n_heads: int = 4, d_ff=None, dropout: float = 0.1, padding_idx: int = 0,
                 pooling: str = "cls") -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise ValueError(f"TransformerClassifier: unknown pooling {pooling!r} (choose from ['cls', 'mean'])")
        if d_model % n_heads:
            raise ValueError(f"TransformerClassifier: d_model={d_model} must be divisible by n_heads={n_heads}")
        self.max_len, self.padding_idx, self.pooling = max_len, padding_idx, pooling
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.tok_emb = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        self.cls_token = nn.Parameter(nerve.zeros(1, 1, d_model))
        self.pos_emb = nn.Embedding(max_len + 1, d_model)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.cls_token, 0.0, 0.02)
        nn.init.normal_(self.pos_emb.weight, 0.0, 0.02)

    def forward(self, ids):
        _check_ids("TransformerClassifier", ids, self.max_len)
        b, t = ids.shape
        pad = ids == self.padding_idx
        x = nerve.cat([self.cls_token.expand(b, 1, self.cls_token.shape[-1]), self.tok_emb(ids)], 1)
        x = self.drop(x + self.pos_emb(nerve.arange(t + 1, device=ids.device)))
        key_padding_mask = nerve.cat([nerve.zeros(b, 1, dtype=nerve.bool, device=ids.device), pad], 1)
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=key_padding_mask)
        x = self.norm(x)
        if self.pooling == "cls":
            pooled = x[:, 0]
        else:
            keep = (~pad).to(x.dtype).unsqueeze(-1)
            pooled = (x[:, 1:] * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return self.fc(pooled)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, padding_idx={self.padding_idx}, pooling={self.pooling!r}"


class BagOfWordsClassifier(nn.Module):
    """Multinomial logistic regression on bag-of-words features: ``fc(features(ids))``.

    The features are built inside ``forward`` from the padded ids: per-row token counts (a
    ``scatter_add`` into a (B, vocab_size) matrix, padding ignored) divided by the row's length (term
    frequencies), or with ``binary=True`` 0/1 presence indicators.

    Args:
        vocab_size: number of tokens (feature dimension).
        num_classes: number of classes C.
        padding_idx: token ignored when counting (None counts every token).
        binary: presence indicators instead of term frequencies.

    Shape: ids (B, T) -> logits (B, C).

    Example:
        >>> model = BagOfWordsClassifier(1000, 2)
        >>> model(nerve.tensor([[5, 6, 5, 0], [8, 9, 0, 0]])).shape
        nerve.Size([2, 2])
    """

    def __init__(self, vocab_size: int, num_classes: int, padding_idx=0, binary: bool = False) -> None:
        super().__init__()
        self.vocab_size, self.padding_idx, self.binary = vocab_size, padding_idx, binary
        self.fc = nn.Linear(vocab_size, num_classes)

    def features(self, ids):
        """(B, T) ids -> (B, vocab_size) term frequencies (or presence indicators)."""
        _check_ids("BagOfWordsClassifier", ids)
        dtype = self.fc.weight.dtype
        if self.padding_idx is None:
            keep = nerve.ones(ids.shape, dtype=dtype, device=ids.device)
        else:
            keep = (ids != self.padding_idx).to(dtype)
        counts = nerve.zeros(ids.shape[0], self.vocab_size, dtype=dtype, device=ids.device)
        counts = counts.scatter_add(1, ids, keep)
        if self.binary:
            return (counts > 0).to(dtype)
        return counts / keep.sum(1, keepdim=True).clamp(min=1.0)

    def forward(self, ids):
        return self.fc(self.features(ids))

    def extra_repr(self) -> str:
        return f"padding_idx={self.padding_idx}, binary={self.binary}"


# ------------------------------------------------------------------------------------------------- seq2seq

class Seq2SeqRNN(nn.Module):
    """An RNN encoder-decoder with attention (Bahdanau et al., 2015; Luong et al., 2015).

    Encoder: Embedding -> packed (bi)LSTM/GRU over the true source lengths -> outputs ``H`` (B, S, C) with
    C = hidden_size * directions. The decoder's initial state is ``tanh(bridge(final encoder states))``
    (per layer, directions concatenated). Decoder, per target step t with previous state s_{t-1}:

    * ``'bahdanau'`` (additive): a_t = softmax_j(v . tanh(W_q s_{t-1} + W_k H_j)), c_t = sum_j a_tj H_j,
      s_t = RNN([emb(y_{t-1}); c_t], s_{t-1}), out_t = tanh(W_c [s_t; c_t]).
    * ``'luong'`` (general score, no input feeding): s_t = RNN(emb(y_{t-1}), s_{t-1}),
      a_t = softmax_j(s_t . W_a H_j), c_t = sum_j a_tj H_j, out_t = tanh(W_c [s_t; c_t]).
    * ``'none'``: s_t = RNN(emb(y_{t-1}), s_{t-1}), out_t = s_t.

    logits_t = ``out(dropout(out_t))``. Attention is masked at source pads. With Luong or no attention the
    teacher-forced decoder runs as one RNN call over all steps; Bahdanau's runs step by step.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        embed_dim: embedding width (source and target).
        hidden_size: recurrent width (per encoder direction; the decoder's width).
        num_layers: layers in encoder and decoder.
        cell: ``'lstm'`` or ``'gru'``.
        attention: ``'bahdanau'``, ``'luong'`` or ``'none'``.
        dropout: dropout on embeddings, between layers and before the output layer.
        bidirectional_encoder: run the encoder in both directions.
        padding_idx: padding token of source and target.

    Shape: src (B, S), tgt_in (B, T) -> logits (B, T, tgt_vocab). ``tgt_in`` is the target shifted right
    (starting with BOS); train with ``cross_entropy(logits, tgt_out, ignore_index=padding_idx)``.

    Example:
        >>> model = Seq2SeqRNN(20, 20, embed_dim=16, hidden_size=32)
        >>> src = nerve.tensor([[5, 6, 7, 0], [8, 9, 4, 5]])
        >>> model(src, nerve.tensor([[2, 7, 6], [2, 5, 4]])).shape
        nerve.Size([2, 3, 20])
        >>> tokens, attn = model.greedy_decode(src, max_len=6, return_attention=True)   # (2, <=6), (2, <=6, 4)
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "lstm", attention: str = "bahdanau", dropout: float = 0.0,
                 bidirectional_encoder: bool = True, padding_idx: int = 0) -> None:
        super().__init__()
        rnn_cls = _rnn_class("Seq2SeqRNN", cell, ("lstm", "gru"))
        if attention not in ("bahdanau", "luong", "none"):
            raise ValueError(f"Seq2SeqRNN: unknown attention {attention!r} (choose from "
                             "['bahdanau', 'luong', 'none'])")
        self.cell, self.attention, self.padding_idx = cell, attention, padding_idx
        self.num_layers, self.hidden_size = num_layers, hidden_size
        self.num_directions = 2 if bidirectional_encoder else 1
        layer_dropout = dropout if num_layers > 1 else 0.0
        enc_dim = self.num_directions * hidden_size
        self.src_emb = nn.Embedding(src_vocab, embed_dim, padding_idx=padding_idx)
        self.tgt_emb = nn.Embedding(tgt_vocab, embed_dim, padding_idx=padding_idx)
        self.encoder = rnn_cls(embed_dim, hidden_size, num_layers, batch_first=True,
                               bidirectional=bidirectional_encoder, dropout=layer_dropout)
        self.bridge = nn.Linear(enc_dim, hidden_size)
        self.bridge_c = nn.Linear(enc_dim, hidden_size) if cell == "lstm" else None
        dec_in = embed_dim + enc_dim if attention == "bahdanau" else embed_dim
        self.decoder = rnn_cls(dec_in, hidden_size, num_layers, batch_first=True, dropout=layer_dropout)
        if attention == "bahdanau":
            self.attn_query = nn.Linear(hidden_size, hidden_size, bias=False)
            self.attn_key = nn.Linear(enc_dim, hidden_size)
            self.attn_v = nn.Linear(hidden_size, 1, bias=False)
        elif attention == "luong":
            self.attn_key = nn.Linear(enc_dim, hidden_size, bias=False)
        if attention != "none":
            self.combine = nn.Linear(hidden_size + enc_dim, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, tgt_vocab)

    # -- encoder -------------------------------------------------------------------------------------
    def _bridge(self, h_n, linear):
        """(layers * dirs, B, H) encoder final states -> (layers, B, H) decoder initial states."""
        layers, b, h = self.num_layers, h_n.shape[1], h_n.shape[2]
        h = h_n.view(layers, self.num_directions, b, h).permute(0, 2, 1, 3).reshape(layers, b,
                                                                                   self.num_directions * h)
        return nerve.tanh(linear(h))

    def encode(self, src):
        """src (B, S) -> (enc_out (B, S, C), pad mask (B, S), decoder initial state)."""
        _check_ids("Seq2SeqRNN", src)
        pad = _source_padding(src, self.padding_idx)
        packed = nn.utils.rnn.pack_padded_sequence(self.drop(self.src_emb(src)), _lengths(src, self.padding_idx),
                                                   batch_first=True, enforce_sorted=False)
        out, state = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        if self.cell == "lstm":
            state = (self._bridge(state[0], self.bridge), self._bridge(state[1], self.bridge_c))
        else:
            state = self._bridge(state, self.bridge)
        return out, pad, state

    # -- attention -----------------------------------------------------------------------------------
    def _attend(self, query, enc_out, keys, pad):
        """query (B, T, H) -> (context (B, T, C), weights (B, T, S)), pads get weight 0."""
        if self.attention == "bahdanau":
            scores = self.attn_v(nerve.tanh(self.attn_query(query).unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)
        else:
            scores = nerve.bmm(query, keys.transpose(1, 2))
        weights = F.softmax(scores.masked_fill(pad.unsqueeze(1), float("-inf")), dim=-1)
        return nerve.bmm(weights, enc_out), weights

    def _top_hidden(self, state):
        h = state[0] if self.cell == "lstm" else state
        return h[-1].unsqueeze(1)

    def _decode(self, tgt_in, state, enc_out, keys, pad):
        """Teacher-forced decoding of tgt_in (B, T) -> (logits (B, T, V), state, weights (B, T, S) | None)."""
        emb = self.drop(self.tgt_emb(tgt_in))
        if self.attention == "bahdanau":
            outs, weights = [], []
            for t in range(tgt_in.shape[1]):
                context, w = self._attend(self._top_hidden(state), enc_out, keys, pad)
                s, state = self.decoder(nerve.cat([emb[:, t:t + 1], context], -1), state)
                outs.append(nerve.tanh(self.combine(nerve.cat([s, context], -1))))
                weights.append(w)
            out, weights = nerve.cat(outs, 1), nerve.cat(weights, 1)
        else:
            s, state = self.decoder(emb, state)
            if self.attention == "luong":
                context, weights = self._attend(s, enc_out, keys, pad)
                out = nerve.tanh(self.combine(nerve.cat([s, context], -1)))
            else:
                out, weights = s, None
        return self.out(self.drop(out)), state, weights

    def _keys(self, enc_out):
        return self.attn_key(enc_out) if self.attention != "none" else None

    def forward(self, src, tgt_in):
        _check_ids("Seq2SeqRNN", tgt_in)
        enc_out, pad, state = self.encode(src)
        return self._decode(tgt_in, state, enc_out, self._keys(enc_out), pad)[0]

    @nerve.no_grad()
    def greedy_decode(self, src, max_len: int, bos_id: int = 2, eos_id: int = 3, return_attention: bool = False):
        """Greedy decoding: feed back the argmax token until every row has emitted ``eos_id`` or max_len.

        Returns a LongTensor (B, L <= max_len) of generated tokens (BOS excluded, EOS included; positions
        after a row's EOS hold ``padding_idx``), and with ``return_attention`` also the attention weights
        (B, L, S) (None for ``attention='none'``). Call ``model.eval()`` first, or dropout stays on.
        """
        enc_out, pad, state = self.encode(src)
        keys = self._keys(enc_out)
        b = src.shape[0]
        y = nerve.full((b, 1), bos_id, dtype=nerve.long, device=src.device)
        done = nerve.zeros(b, dtype=nerve.bool, device=src.device)
        tokens, weights = [], []
        for _ in range(max_len):
            logits, state, w = self._decode(y, state, enc_out, keys, pad)
            nxt = logits[:, -1].argmax(-1)
            tokens.append(nxt.masked_fill(done, self.padding_idx))
            weights.append(w)
            done = done | (nxt == eos_id)
            if bool(done.all()):
                break
            y = nxt.unsqueeze(1)
        tokens = nerve.stack(tokens, 1)
        if not return_attention:
            return tokens
        return tokens, (nerve.cat(weights, 1) if self.attention != "none" else None)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, attention={self.attention!r}, padding_idx={self.padding_idx}"


class _LastRowWeights:
    """A forward hook for a MultiheadAttention called with need_weights=False: reruns it with weights and
    keeps the last query row's head-averaged weights (B, 1, S)."""

    def __init__(self, out):
        self.out, self.busy = out, False

    def __call__(self, module, args, kwargs, output):
        if self.busy:
            return None
        self.busy = True
        try:
            w = module(*args, attn_mask=kwargs.get("attn_mask"), key_padding_mask=kwargs.get("key_padding_mask"),
                       need_weights=True)[1]
        finally:
            self.busy = False
        self.out.append(w[:, -1:])
        return None


class Seq2SeqTransformer(nn.Module):
    """An encoder-decoder Transformer translator (Vaswani et al., 2017) on ``nn.Transformer``.

    ``src_emb(src) * sqrt(d_model)`` and ``tgt_emb(tgt_in) * sqrt(d_model)`` get sinusoidal positions
    (``nn.SinusoidalPositionalEncoding``, with dropout) and enter ``nn.Transformer(batch_first=True)``
    with a causal target mask and key padding masks for source, target and memory; a Linear ``generator``
    maps the decoder output to target logits. Embeddings start from N(0, 1/d_model) (fairseq's init), so
    after the sqrt(d_model) scale they are as large as the positional vectors.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout: as nn.Transformer.
        max_len: longest source or target sequence.
        padding_idx: padding token of source and target.

    Shape: src (B, S), tgt_in (B, T) -> logits (B, T, tgt_vocab).

    Example:
        >>> model = Seq2SeqTransformer(20, 20, d_model=32, nhead=4, dim_feedforward=64)
        >>> src = nerve.tensor([[5, 6, 7, 0], [8, 9, 4, 5]])
        >>> model(src, nerve.tensor([[2, 7, 6], [2, 5, 4]])).shape
        nerve.Size([2, 3, 20])
        >>> model.greedy_decode(src, max_len=6).shape[1] <= 6
        True
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 128, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2, dim_feedforward: int = 256,
                 dropout: float = 0.1, max_len: int = 128, padding_idx: int = 0) -> None:
        super().__init__()
        self.d_model, self.max_len, self.padding_idx = d_model, max_len, padding_idx
        self.src_emb = nn.Embedding(src_vocab, d_model, padding_idx=padding_idx)
        self.tgt_emb = nn.Embedding(tgt_vocab, d_model, padding_idx=padding_idx)
        self.pos = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout, batch_first=True)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # N(0, 1/d_model) as fairseq: after the sqrt(d_model) scale the embeddings have unit size, like the
        # positions (N(0, 1) embeddings would drown them, and position-dependent tasks learn slowly).
        for emb in (self.src_emb, self.tgt_emb):
            nn.init.normal_(emb.weight, 0.0, self.d_model ** -0.5)
            if self.padding_idx is not None:
                with nerve.no_grad():
                    emb.weight[self.padding_idx].fill_(0)

    def encode(self, src):
        """src (B, S) -> (memory (B, S, d_model), source pad mask (B, S))."""
        _check_ids("Seq2SeqTransformer", src, self.max_len)
        pad = _source_padding(src, self.padding_idx)
        x = self.pos(self.src_emb(src) * math.sqrt(self.d_model))
        return self.transformer.encoder(x, src_key_padding_mask=pad), pad

    def decode(self, tgt_in, memory, src_pad):
        """tgt_in (B, T) -> logits (B, T, tgt_vocab) given the encoder memory."""
        _check_ids("Seq2SeqTransformer", tgt_in, self.max_len)
        t = tgt_in.shape[1]
        y = self.pos(self.tgt_emb(tgt_in) * math.sqrt(self.d_model))
        y = self.transformer.decoder(y, memory, tgt_mask=_causal_mask(t, tgt_in.device),
                                     tgt_key_padding_mask=tgt_in == self.padding_idx,
                                     memory_key_padding_mask=src_pad)
        return self.generator(y)

    def forward(self, src, tgt_in):
        memory, pad = self.encode(src)
        return self.decode(tgt_in, memory, pad)

    @nerve.no_grad()
    def greedy_decode(self, src, max_len: int, bos_id: int = 2, eos_id: int = 3, return_attention: bool = False):
        """Greedy decoding, as :meth:`Seq2SeqRNN.greedy_decode` (the decoder reruns on the whole prefix).

        Returns a LongTensor (B, L <= max_len), and with ``return_attention`` also the last decoder
        layer's cross-attention weights (averaged over heads) of each generated token over the source,
        (B, L, S). ``nn.Transformer`` computes its attention without weights; they are taken by a forward
        hook on that layer's ``multihead_attn`` that reruns it with ``need_weights=True``.
        """
        if max_len > self.max_len:  # the decoder sees BOS + max_len - 1 tokens at the last step
            raise ValueError(f"Seq2SeqTransformer.greedy_decode: max_len={max_len} exceeds the model's "
                             f"max_len={self.max_len}")
        weights, handle = [], None
        if return_attention:
            handle = self.transformer.decoder.layers[-1].multihead_attn.register_forward_hook(
                _LastRowWeights(weights), with_kwargs=True)
        try:
            tokens = self._greedy(src, max_len, bos_id, eos_id)
        finally:
            if handle is not None:
                handle.remove()
        return (tokens, nerve.cat(weights, 1)) if return_attention else tokens

    def _greedy(self, src, max_len, bos_id, eos_id):
        memory, pad = self.encode(src)
        b = src.shape[0]
        ys = nerve.full((b, 1), bos_id, dtype=nerve.long, device=src.device)
        done = nerve.zeros(b, dtype=nerve.bool, device=src.device)
        tokens = []
        for _ in range(max_len):
            nxt = self.decode(ys, memory, pad)[:, -1].argmax(-1)
            tokens.append(nxt.masked_fill(done, self.padding_idx))
            done = done | (nxt == eos_id)
            if bool(done.all()):
                break
            ys = nerve.cat([ys, nxt.unsqueeze(1)], 1)
        return nerve.stack(tokens, 1)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, padding_idx={self.padding_idx}"


# ----------------------------------------------------------------------------------------------- forecaster

class RNNForecaster(nn.Module):
    """A multi-step time-series forecaster: LSTM/GRU over the window -> last hidden state -> Linear.

    The top layer's hidden state after the last time step is mapped by one Linear to all ``horizon``
    future steps at once (direct multi-output forecasting).

    Args:
        input_size: features per time step F.
        hidden_size: recurrent width.
        num_layers: stacked recurrent layers.
        horizon: number of future steps predicted.
        output_size: features predicted per step (default input_size).
        cell: ``'lstm'`` or ``'gru'``.
        dropout: dropout between recurrent layers and before the head.

    Shape: x (B, L, F) -> (B, horizon, output_size).

    Example:
        >>> model = RNNForecaster(3, hidden_size=16, horizon=5)
        >>> model(nerve.randn(8, 24, 3)).shape
        nerve.Size([8, 5, 3])
    """

    def __init__(self, input_size: int, hidden_size: int = 64, num_layers: int = 2, horizon: int = 1,
                 output_size=None, cell: str = "lstm", dropout: float = 0.0) -> None:
        super().__init__()
        rnn_cls = _rnn_class("RNNForecaster", cell, ("lstm", "gru", "rnn"))
        self.input_size, self.horizon = input_size, horizon
        self.output_size = input_size if output_size is None else output_size
        self.rnn = rnn_cls(input_size, hidden_size, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, horizon * self.output_size)

    def forward(self, x):
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"RNNForecaster: expected input of shape (batch, window, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        out, _ = self.rnn(x)
        y = self.head(self.drop(out[:, -1]))
        return y.view(x.shape[0], self.horizon, self.output_size)

    def extra_repr(self) -> str:
        return f"horizon={self.horizon}, output_size={self.output_size}"
