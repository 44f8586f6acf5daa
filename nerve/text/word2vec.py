"""word2vec: skip-gram with negative sampling (Mikolov et al. 2013), trained with nerve.

For a center word ``c`` with input vector ``v_c``, a context word ``o`` with output vector ``u_o``
and ``K`` noise words ``k`` drawn from the unigram distribution raised to the power 3/4:

    loss = -log σ(u_o · v_c) - Σ_k log σ(-u_k · v_c)

Frequent words are subsampled (a word of corpus frequency ``f`` is kept with probability
``min(1, (sqrt(f/t) + 1) t/f)``, word2vec's formula for threshold ``t``) and each center uses a
window of random size in ``1..window``, as in the original C code. Training is batched: a step
scores ``batch_size`` (center, context) pairs and their negatives with a few tensor ops.

Example:
    >>> sents = [WordTokenizer().tokenize(t) for t in Fortunes(split="all").texts]
    >>> model, vocab = train_word2vec(sents, dim=64, window=5, epochs=3)
    >>> model.nearest("computer", k=5)
    [('computers', 0.71), ...]
"""
from __future__ import annotations

import time

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor, wrap
from ..nn import functional as F
from .vocab import SPECIAL_TOKENS, Vocab

__all__ = ["SkipGram", "nearest", "noise_distribution", "skipgram_pairs", "train_word2vec"]


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """Negative-sampling distribution: ``counts ** power``, normalised (words never seen get 0)."""
    c = np.asarray(counts, dtype=np.float64)
    p = np.where(c > 0, c, 0.0) ** power
    s = p.sum()
    if s <= 0:
        raise ValueError("noise_distribution: all counts are zero; nothing to sample negatives from")
    return p / s


class SkipGram(nn.Module):
    """Skip-gram word vectors: an input embedding (the word vectors) and an output embedding (contexts).

    Args:
        vocab_size: number of words.
        embedding_dim: vector size.

    ``forward(center, context, negatives)`` takes ids ``(B,)``, ``(B,)`` and ``(B, K)`` and returns the
    mean negative-sampling loss (see the module docstring). Input vectors start uniform in
    ``±0.5/embedding_dim`` and output vectors at zero, as in word2vec.
    """

    def __init__(self, vocab_size: int, embedding_dim: int):
        super().__init__()
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.in_embed = nn.Embedding(vocab_size, embedding_dim)
        self.out_embed = nn.Embedding(vocab_size, embedding_dim)
        self.vocab: Vocab | None = None  # set by train_word2vec, used by nearest()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 0.5 / self.embedding_dim
        nn.init.uniform_(self.in_embed.weight, -bound, bound)
        nn.init.zeros_(self.out_embed.weight)

    def forward(self, center, context, negatives):
        v = self.in_embed(center)                                   # (B, D)
        u_o = self.out_embed(context)                               # (B, D)
        u_k = self.out_embed(negatives)                             # (B, K, D)
        pos = (u_o * v).sum(-1)                                     # (B,)
        neg = (u_k * v.unsqueeze(1)).sum(-1)                        # (B, K)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    @property
    def embeddings(self) -> Tensor:
        """The word vectors ``(vocab_size, embedding_dim)`` (the input embedding's weight, detached)."""
        return self.in_embed.weight.detach()

    def nearest(self, word, k: int = 10, vocab: Vocab | None = None):
        """The ``k`` words most similar to ``word`` by cosine similarity: ``[(word, sim), ...]``."""
        return nearest(self, word, k, vocab=vocab)

    def extra_repr(self) -> str:
        return f"{self.vocab_size}, {self.embedding_dim}"


def nearest(model, word, k: int = 10, vocab: Vocab | None = None, exclude_specials: bool = True):
    """The ``k`` nearest words to ``word`` by cosine similarity, most similar first: ``[(word, sim)]``.

    Args:
        model: a :class:`SkipGram` (its word vectors and, unless ``vocab`` is given, its ``vocab``), or a
            ``(V, D)`` tensor / array of word vectors.
        word: a word (str) of the vocabulary, or its id.
        k: number of neighbours (fewer when the vocabulary is smaller); the word itself is excluded.
        vocab: the vocabulary of the vectors.
        exclude_specials: leave out ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``.
    """
    if isinstance(model, SkipGram):
        emb = model.embeddings.numpy(force=True)
        vocab = vocab if vocab is not None else model.vocab
    elif isinstance(model, Tensor):
        emb = model.numpy(force=True)
    else:
        emb = np.asarray(model)
    if vocab is None:
        raise ValueError("nearest: no vocabulary; pass vocab= (or use the model returned by train_word2vec)")
    if emb.ndim != 2 or emb.shape[0] != len(vocab):
        raise ValueError(f"nearest: word vectors of shape {tuple(emb.shape)} do not match a vocabulary of "
                         f"{len(vocab)} words")
    if isinstance(word, str):
        if word not in vocab.stoi:
            raise KeyError(f"nearest: {word!r} is not in the vocabulary ({len(vocab)} words)")
        idx = vocab.stoi[word]
    else:
        idx = int(word)
        if not 0 <= idx < len(vocab):
            raise IndexError(f"nearest: id {idx} is out of range for a vocabulary of {len(vocab)} words")
    e = emb.astype(np.float64)
    norms = np.linalg.norm(e, axis=1)
    sims = e @ e[idx] / np.maximum(norms * norms[idx], 1e-12)
    sims = np.clip(sims, -1.0, 1.0)
    sims[idx] = -np.inf
    if exclude_specials:
        sims[:len(SPECIAL_TOKENS)] = -np.inf
    order = np.argsort(-sims, kind="stable")
    order = [i for i in order[:k] if np.isfinite(sims[i])]
    return [(vocab.itos[i], float(sims[i])) for i in order]


def _flatten(token_ids):
    """(ids, sentence index) arrays from a 1-D sequence of ids or a list of sequences."""
    if isinstance(token_ids, Tensor):
        token_ids = token_ids.numpy(force=True)
    if isinstance(token_ids, np.ndarray):
        if token_ids.ndim != 1:
            raise ValueError(f"skipgram_pairs: token_ids must be 1-D or a list of sequences, got shape "
                             f"{token_ids.shape}")
        return token_ids.astype(np.int64), np.zeros(token_ids.size, dtype=np.int64)
    seqs = list(token_ids)
    if not seqs or np.isscalar(seqs[0]):
        a = np.asarray(seqs, dtype=np.int64)
        return a, np.zeros(a.size, dtype=np.int64)
    arrs = [np.asarray(s.numpy(force=True) if isinstance(s, Tensor) else s, dtype=np.int64).reshape(-1)
            for s in seqs]
    lens = np.array([a.size for a in arrs], dtype=np.int64)
    ids = np.concatenate(arrs) if arrs else np.zeros(0, dtype=np.int64)
    return ids, np.repeat(np.arange(len(arrs)), lens)


def _keep_probs(counts, threshold):
    c = np.asarray(counts, dtype=np.float64)
    f = c / max(c.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(f / threshold) + 1.0) * threshold / f
    return np.where(f > 0, np.minimum(p, 1.0), 1.0)


def skipgram_pairs(token_ids, window: int = 5, subsample: float | None = 1e-3, shrink_window: bool = True,
                   batch_size: int | None = None, shuffle: bool = True, seed=None, counts=None):
    """Yield (center, context) id pairs of a corpus as int64 arrays ``(centers, contexts)``.

    Args:
        token_ids: a 1-D sequence of ids, or a list of sequences (sentences; windows never cross them).
        window: the largest distance between center and context.
        subsample: word2vec's subsampling threshold ``t`` (None or 0: keep every word); frequent words are
            dropped before windows are taken, which widens the effective window, as in word2vec.
        shrink_window: each center uses a window drawn uniformly from ``1..window`` (closer words get
            more weight), as word2vec does.
        batch_size: yield the pairs in chunks of this size (None: all in one chunk).
        shuffle: shuffle the pairs (otherwise ordered by distance, then position).
        seed: int or ``numpy.random.Generator`` for subsampling, window sizes and shuffling.
        counts: word frequencies by id for subsampling (default: counted in ``token_ids``).
    """
    if window < 1:
        raise ValueError(f"skipgram_pairs: window must be >= 1, got {window}")
    g = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    ids, sent = _flatten(token_ids)
    if ids.size and ids.min() < 0:
        raise ValueError("skipgram_pairs: token ids must be >= 0")
    if subsample:
        cnt = np.bincount(ids, minlength=0) if counts is None else np.asarray(counts)
        if ids.size and ids.max() >= len(cnt):
            raise ValueError(f"skipgram_pairs: id {int(ids.max())} has no entry in counts (length {len(cnt)})")
        keep = g.random(ids.size) < _keep_probs(cnt, subsample)[ids]
        ids, sent = ids[keep], sent[keep]
    n = ids.size
    b = g.integers(1, window + 1, size=n) if shrink_window else np.full(n, window)
    cs, xs = [], []
    for d in range(1, window + 1):
        if d >= n:
            break
        same = sent[:-d] == sent[d:]
        fwd = same & (b[:-d] >= d)   # center i, context i + d
        bwd = same & (b[d:] >= d)    # center i + d, context i
        cs += [ids[:-d][fwd], ids[d:][bwd]]
        xs += [ids[d:][fwd], ids[:-d][bwd]]
    centers = np.concatenate(cs) if cs else np.zeros(0, dtype=np.int64)
    contexts = np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64)
    if shuffle and centers.size:
        perm = g.permutation(centers.size)
        centers, contexts = centers[perm], contexts[perm]
    if batch_size is None:
        yield centers, contexts
        return
    for s in range(0, centers.size, int(batch_size)):
        yield centers[s:s + batch_size], contexts[s:s + batch_size]


def train_word2vec(corpus_tokens, dim: int = 50, window: int = 5, negatives: int = 5, epochs: int = 5,
                   lr: float = 0.01, batch_size: int = 1024, seed: int = 0, min_count: int = 1,
                   max_vocab: int | None = None, subsample: float | None = 1e-3, verbose: bool = False):
    """Train skip-gram word vectors with negative sampling on ``corpus_tokens``: ``(model, vocab)``.

    Args:
        corpus_tokens: an iterable of sentences, each a list of word strings (e.g. from
            ``WordTokenizer().tokenize``); context windows never cross sentences.
        dim: vector size.  window: largest center-context distance.  negatives: noise words per pair.
        epochs: passes over the corpus (new subsampling, windows and order each time).
        lr: Adam's learning rate (Adam copes with the batched updates better than word2vec's plain SGD).
        batch_size: pairs per step.  seed: makes the whole run reproducible.
        min_count, max_vocab: vocabulary limits (rarer words are dropped from the corpus, as in word2vec).
        subsample: subsampling threshold (None: off).
        verbose: print the mean loss of each epoch.

    Returns:
        ``model``: a :class:`SkipGram` with ``model.vocab`` set and ``model.loss_history`` (mean loss of
        each epoch); ``vocab``: the :class:`Vocab` (ids 0-3 are the unused special tokens).
    """
    from ..backend.random import fork_rng, manual_seed
    from ..optim import Adam

    sents = [list(s) for s in corpus_tokens]
    vocab = Vocab.build(sents, min_freq=min_count, max_size=max_vocab)
    if len(vocab) <= len(SPECIAL_TOKENS):
        raise ValueError(f"train_word2vec: no word occurs at least min_count={min_count} times")
    stoi = vocab.stoi
    id_sents = [[stoi[w] for w in s if w in stoi] for s in sents]
    counts = np.asarray(vocab.counts, dtype=np.float64)
    noise_cdf = np.cumsum(noise_distribution(counts))
    noise_cdf[-1] = 1.0
    g = np.random.default_rng(seed)
    with fork_rng():
        manual_seed(seed)
        model = SkipGram(len(vocab), dim)
    model.vocab = vocab
    opt = Adam(model.parameters(), lr=lr)
    model.loss_history = []
    for epoch in range(epochs):
        t0, total, steps = time.perf_counter(), 0.0, 0
        for c, o in skipgram_pairs(id_sents, window, subsample, batch_size=batch_size, seed=g, counts=counts):
            neg = np.searchsorted(noise_cdf, g.random((c.size, negatives)), side="right")
            loss = model(wrap(c), wrap(o), wrap(neg.astype(np.int64)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.item())
            steps += 1
        model.loss_history.append(total / max(steps, 1))
        if verbose:
            print(f"word2vec epoch {epoch + 1}/{epochs}: loss {model.loss_history[-1]:.4f} "
                  f"({steps} steps, {time.perf_counter() - t0:.1f}s)")
    return model, vocab
