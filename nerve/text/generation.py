"""Sampling text from language models: temperature, top-k and nucleus (top-p) sampling.

``generate`` drives a GPT-style model mapping ids ``(B, T)`` to logits ``(B, T, V)``;
``generate_rnn`` a stateful one, ``model(ids, state) -> (logits, state)``, fed the prompt once and then
one token per step. Both run under ``no_grad`` with the model in eval mode (its mode is restored after),
and are deterministic for a given ``generator`` (a ``nerve.Generator``, or an int seed).

Example:
    >>> g = nerve.Generator().manual_seed(0)
    >>> out = generate(model, tok.encode("Once"), max_new_tokens=100, temperature=0.8, top_k=40, generator=g)
    >>> print(tok.decode(out))
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, wrap
from ..backend.random import Generator, rng

__all__ = ["generate", "generate_rnn", "sample_next", "top_k_top_p_filtering"]


def _numpy_rng(generator) -> np.random.Generator:
    if generator is None or isinstance(generator, Generator):
        return rng(generator)
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)):
        return np.random.Generator(np.random.PCG64(int(generator)))
    raise TypeError(f"generator must be a nerve.Generator, an int seed or None, got {type(generator).__name__}")


def _logits_array(logits) -> np.ndarray:
    if isinstance(logits, Tensor):
        return np.asarray(logits.numpy(force=True), dtype=np.float64)
    return np.asarray(logits, dtype=np.float64)


def _filter(z: np.ndarray, top_k, top_p, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Set logits outside the top-k / nucleus to -inf (rows of a 2-D float64 array; copies)."""
    z = z.copy()
    V = z.shape[-1]
    if top_k is not None and top_k > 0:
        k = min(max(int(top_k), min_tokens_to_keep), V)
        kth = np.partition(z, V - k, axis=-1)[:, V - k:V - k + 1]
        z[z < kth] = -np.inf  # ties with the k-th value are kept, as in HF's top_k_top_p_filtering
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-z, axis=-1, kind="stable")
        zs = np.take_along_axis(z, order, axis=-1)
        m = zs[:, :1]
        p = np.exp(zs - np.where(np.isfinite(m), m, 0.0))
        cum = np.cumsum(p / p.sum(-1, keepdims=True), axis=-1)
        remove = cum > top_p
        # shift right: keep the token that takes the mass past top_p, so the kept set is the smallest
        # one with mass >= top_p; and always at least min_tokens_to_keep tokens
        remove[:, 1:] = remove[:, :-1].copy()
        remove[:, :min_tokens_to_keep] = False
        drop = np.zeros_like(remove)
        np.put_along_axis(drop, order, remove, axis=-1)
        z[drop] = -np.inf
    return z


def top_k_top_p_filtering(logits, top_k: int | None = None, top_p: float | None = None,
                          filter_value: float = -float("inf"), min_tokens_to_keep: int = 1):
    """Logits with everything outside the top-k and the nucleus set to ``filter_value`` (HF's function).

    top-k keeps the ``k`` largest logits (and ties with the k-th); top-p keeps the smallest set of most
    likely tokens whose probability sums to at least ``top_p``. At least ``min_tokens_to_keep`` are kept.
    Works on ``(V,)`` or ``(..., V)``; returns a float tensor of the same shape.
    """
    z = _logits_array(logits)
    shape = z.shape
    out = _filter(z.reshape(-1, shape[-1]), top_k, top_p, min_tokens_to_keep).reshape(shape)
    if filter_value != -float("inf"):
        out = np.where(np.isneginf(out) & ~np.isneginf(z), filter_value, out)
    dt = logits._data.dtype if isinstance(logits, Tensor) and logits._data.dtype.kind == "f" else np.float32
    return wrap(out.astype(dt))


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator=None):
    """Draw one token id per row of ``logits`` (shape ``(V,)`` or ``(..., V)``): a LongTensor of shape ``(...)``.

    ``temperature == 0`` is greedy (argmax, the first on ties); otherwise the logits are divided by
    ``temperature``, filtered by ``top_k`` then ``top_p`` (see :func:`top_k_top_p_filtering`) and a token
    is drawn from their softmax with ``generator`` (a ``nerve.Generator`` or int seed; default the
    global generator).
    """
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 0:
        raise ValueError(f"sample_next: top_k must be >= 0 or None, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"sample_next: top_p must be in (0, 1], got {top_p}")
    z = _logits_array(logits)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"sample_next: logits of shape {tuple(z.shape)}; expected (..., vocab_size) with "
                         "vocab_size >= 1")
    if np.isnan(z).any():
        raise ValueError("sample_next: logits contain NaN")
    lead = z.shape[:-1]
    z = z.reshape(-1, z.shape[-1])
    if temperature == 0:
        out = np.argmax(z, axis=-1)
    else:
        z = _filter(z / temperature, top_k, top_p)
        m = z.max(-1, keepdims=True)
        if not np.isfinite(m).all():
            raise ValueError("sample_next: a row of logits is all -inf or +inf; nothing to sample")
        p = np.exp(z - m)
        cdf = np.cumsum(p, axis=-1)
        u = _numpy_rng(generator).random(z.shape[0]) * cdf[:, -1]
        # token j is drawn when cdf[j-1] <= u < cdf[j]; zero-probability tokens have empty intervals
        out = np.minimum((cdf <= u[:, None]).sum(-1), z.shape[-1] - 1)
    return wrap(out.astype(np.int64).reshape(lead))


def _prompt_array(prompt_ids, where):
    if isinstance(prompt_ids, Tensor):
        a = prompt_ids.numpy(force=True)
    else:
        a = np.asarray(prompt_ids)
    if a.ndim not in (1, 2):
        raise ValueError(f"{where}: prompt_ids must be 1-D (T,) or 2-D (B, T), got shape {tuple(a.shape)}")
    if a.size and a.dtype.kind not in "iu":
        raise TypeError(f"{where}: prompt_ids must be integers, got dtype {a.dtype}")
    a = a.astype(np.int64)
    single = a.ndim == 1
    if single:
        a = a[None]
    if a.shape[1] == 0:
        raise ValueError(f"{where}: the prompt is empty; give at least one token (e.g. <bos> = 2)")
    return a, single


class _EvalMode:
    """Put a module in eval mode for the block and restore its previous mode (plain callables: no-op)."""

    def __init__(self, model):
        self.model = model
        self.was_training = getattr(model, "training", None)

    def __enter__(self):
        if self.was_training is not None and hasattr(self.model, "eval"):
            self.model.eval()

    def __exit__(self, *exc):
        if self.was_training is not None and hasattr(self.model, "train"):
            self.model.train(self.was_training)
        return False


def _model_device(model):
    """The device of the model's first parameter (None for plain callables or CPU models)."""
    params = getattr(model, "parameters", None)
    if params is None:
        return None
    for p in params():
        dev = p.device
        return None if getattr(dev, "type", "cpu") == "cpu" else dev
    return None


def _ids(arr, device):
    t = wrap(np.ascontiguousarray(arr))
    return t if device is None else t.to(device)


def _last_logits(logits, where, B):
    if isinstance(logits, (tuple, list)):
        logits = logits[0]
    z = _logits_array(logits)
    if z.ndim == 3:
        z = z[:, -1]
    elif z.ndim != 2:
        raise ValueError(f"{where}: the model returned logits of shape {tuple(z.shape)}; expected (B, T, V)")
    if z.shape[0] != B:
        raise ValueError(f"{where}: the model returned logits for {z.shape[0]} sequences, the batch has {B}")
    return z


def _run(where, model_step, prompt_ids, max_new_tokens, temperature, top_k, top_p, eos_id, generator, model):
    seqs, single = _prompt_array(prompt_ids, where)
    if max_new_tokens < 0:
        raise ValueError(f"{where}: max_new_tokens must be >= 0, got {max_new_tokens}")
    g = _numpy_rng(generator)
    B = seqs.shape[0]
    done = np.zeros(B, dtype=bool)
    new = []
    with no_grad(), _EvalMode(model):
        step = model_step(seqs)
        for t in range(max_new_tokens):
            z = _last_logits(step(None if t == 0 else new[-1]), where, B)
            nxt = sample_next(z, temperature, top_k, top_p, generator=g)._data
            if eos_id is not None:
                nxt = np.where(done, eos_id, nxt)  # finished sequences are padded with eos
                done |= nxt == eos_id
            new.append(nxt)
            if eos_id is not None and done.all():
                break
    out = np.concatenate([seqs] + [n[:, None] for n in new], axis=1) if new else seqs
    return wrap(out[0] if single else out)


def generate(model, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, eos_id: int | None = None, context_len: int | None = None,
             generator=None):
    """Extend ``prompt_ids`` by up to ``max_new_tokens`` tokens sampled from a GPT-style ``model``.

    Args:
        model: maps ids ``(B, T)`` (LongTensor) to logits ``(B, T, V)``; only the last position is used.
        prompt_ids: ``(T,)`` or ``(B, T)`` ids (list, array or tensor).
        max_new_tokens: number of tokens to add.
        temperature, top_k, top_p: see :func:`sample_next` (``temperature=0``: greedy).
        eos_id: stop when every sequence has produced it (finished ones are padded with it).
        context_len: feed the model at most the last ``context_len`` tokens (its block size).
        generator: a ``nerve.Generator`` or int seed, for reproducible samples.

    Returns:
        LongTensor: the prompt followed by the new tokens, ``(T + n,)`` or ``(B, T + n)`` as the prompt.
    """
    if context_len is not None and context_len < 1:
        raise ValueError(f"generate: context_len must be >= 1 or None, got {context_len}")

    device = _model_device(model)

    def model_step(seqs):
        buf = [seqs]

        def step(last):
            if last is not None:
                buf[0] = np.concatenate([buf[0], last[:, None]], axis=1)
            ctx = buf[0] if context_len is None else buf[0][:, -context_len:]
            return model(_ids(ctx, device))
        return step

    return _run("generate", model_step, prompt_ids, max_new_tokens, temperature, top_k, top_p, eos_id, generator,
                model)


def generate_rnn(model, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, eos_id: int | None = None, state=None, generator=None):
    """Like :func:`generate` for a stateful model ``model(ids, state) -> (logits, state)`` (RNN, LSTM).

    The prompt ``(B, T)`` is fed once with ``state`` (None: the model's initial state), then each new
    token ``(B, 1)`` with the returned state, so a step costs one token, not the whole history.
    ``model`` may be any callable (e.g. a function wrapping an ``nn.LSTM`` and a ``Linear`` head).
    """
    device = _model_device(model)

    def model_step(seqs):
        st = [state]

        def step(last):
            ids = seqs if last is None else last[:, None]
            res = model(_ids(ids, device), st[0])
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                raise TypeError("generate_rnn: the model must return (logits, state), got "
                                f"{type(res).__name__}")
            st[0] = res[1]
            return res[0]
        return step

    return _run("generate_rnn", model_step, prompt_ids, max_new_tokens, temperature, top_k, top_p, eos_id, generator,
                model)
