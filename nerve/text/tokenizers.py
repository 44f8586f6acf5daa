"""Tokenizers: characters, words (regex) and byte-level BPE (via Hugging Face ``tokenizers``).

All share one interface: ``encode(text) -> list[int]``, ``decode(ids) -> str``, ``save(path)`` /
``load(path)`` as JSON, and the fixed special ids of :mod:`nerve.text.vocab`
(``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3).

Example:
    >>> tok = CharTokenizer.from_texts(["hello world"])
    >>> tok.decode(tok.encode("hello"))
    'hello'
    >>> wt = WordTokenizer.from_texts(["Hello, world!"], lower=True)
    >>> wt.tokenize("Hello, world!")
    ['hello', ',', 'world', '!']
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .vocab import BOS_ID, EOS_ID, SPECIAL_TOKENS, Vocab, read_json, write_json_atomic

__all__ = ["WORD_PATTERN", "BPETokenizer", "CharTokenizer", "WordTokenizer", "load_tokenizer"]

# Words (letters, digits, underscores; inner apostrophes as in "don't"), else any single non-space
# character: punctuation becomes its own token.
WORD_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}'\"])")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


class _VocabTokenizer:
    """Shared code of the tokenizers built on a :class:`Vocab`: encode/decode, save/load."""

    def __init__(self, vocab: Vocab | None = None):
        self.vocab = vocab if vocab is not None else Vocab()

    # subclasses define tokenize / detokenize and _config
    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def _config(self) -> dict:
        return {}

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None, **kwargs):
        """A tokenizer whose vocabulary holds the tokens of ``texts`` (see :meth:`Vocab.build`)."""
        tok = cls(**kwargs)
        if isinstance(texts, str):
            texts = [texts]
        tok.vocab = Vocab.build((tok.tokenize(t) for t in texts), min_freq=min_freq, max_size=max_size)
        return tok

    fit = from_texts

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    pad_id, unk_id, bos_id, eos_id = Vocab.pad_id, Vocab.unk_id, Vocab.bos_id, Vocab.eos_id

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids of ``text``; unknown tokens become ``<unk>`` (1); optionally wrapped in ``<bos>``/``<eos>``."""
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}.encode expects a str, got {type(text).__name__}")
        ids = self.vocab.lookup(self.tokenize(text))
        if add_bos:
            ids = [BOS_ID] + ids
        if add_eos:
            ids = ids + [EOS_ID]
        return ids

    def encode_batch(self, texts: Iterable[str], **kwargs) -> list[list[int]]:
        return [self.encode(t, **kwargs) for t in texts]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        """The text of ``ids`` (a list, 1-D tensor or array); special tokens are dropped unless
        ``skip_special_tokens=False`` (then ``<unk>`` etc. appear literally)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, int):
            ids = [ids]
        n = len(SPECIAL_TOKENS)
        if skip_special_tokens:
            ids = [i for i in ids if int(i) >= n]
        return self.detokenize(self.vocab.lookup_tokens(ids))

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        d = {"type": type(self).__name__, "version": 1}
        d.update(self._config())
        d["vocab"] = self.vocab.to_dict()
        return d

    def save(self, path) -> None:
        """Write the tokenizer (settings and vocabulary) as JSON, atomically (temp file, fsync, rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path) -> _VocabTokenizer:
        """Read a tokenizer written by :meth:`save` (plain JSON; nothing is executed)."""
        name = cls.__name__
        d = read_json(path, name)
        if d.get("type") != name:
            raise ValueError(f"{name}.load: {os.fspath(path)} holds a {d.get('type')!r}, not a {name}; use "
                             "nerve.text.load_tokenizer to load any tokenizer")
        return cls._from_dict(d, f"{name}.load({os.fspath(path)!r})")

    @classmethod
    def _from_dict(cls, d: dict, where: str):
        if not isinstance(d.get("vocab"), dict):
            raise ValueError(f"{where}: missing 'vocab'")  # noqa: TRY004 - a malformed file, not a bad argument
        cfg = {k: d[k] for k in cls._config_keys if k in d}
        tok = cls(**cfg)
        tok.vocab = Vocab.from_dict(d["vocab"], where)
        return tok

    _config_keys: tuple = ()

    def __repr__(self) -> str:
        cfg = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}(vocab_size={len(self)}{', ' + cfg if cfg else ''})"


class CharTokenizer(_VocabTokenizer):
    """One token per character; ``decode(encode(s)) == s`` for text whose characters are in the vocabulary.

    Args:
        vocab: the vocabulary (usually built by :meth:`from_texts`).
        lower: lower-case text before tokenizing.
    """

    _config_keys = ("lower",)

    def __init__(self, vocab: Vocab | None = None, lower: bool = False):
        super().__init__(vocab)
        self.lower = bool(lower)

    def _config(self):
        return {"lower": self.lower}

    def tokenize(self, text: str) -> list[str]:
        return list(text.lower() if self.lower else text)

    def detokenize(self, tokens) -> str:
        return "".join(tokens)


class WordTokenizer(_VocabTokenizer):
    """Words and punctuation marks as tokens, split by a regular expression.

    ``tokenize("Don't panic!")`` gives ``["Don't", "panic", "!"]``. :meth:`decode` joins tokens with
    spaces and removes the space before closing punctuation, so ``decode(encode(s))`` equals ``s`` up to
    whitespace (and case when ``lower``); ``encode(decode(encode(s))) == encode(s)``.

    Args:
        vocab: the vocabulary (usually built by :meth:`from_texts`).
        lower: lower-case text before tokenizing.
        pattern: the token regex (default :data:`WORD_PATTERN`).
    """

    _config_keys = ("lower", "pattern")

    def __init__(self, vocab: Vocab | None = None, lower: bool = True, pattern: str = WORD_PATTERN):
        super().__init__(vocab)
        self.lower = bool(lower)
        self.pattern = pattern
        self._re = re.compile(pattern)

    def _config(self):
        return {"lower": self.lower, "pattern": self.pattern}

    def tokenize(self, text: str) -> list[str]:
        return self._re.findall(text.lower() if self.lower else text)

    def detokenize(self, tokens) -> str:
        s = " ".join(tokens)
        return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", s))


def _require_tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ImportError("BPETokenizer needs the Hugging Face 'tokenizers' library: pip install nerve[text] "
                          "(or pip install tokenizers)") from None
    return tokenizers


class BPETokenizer:
    """Byte-level BPE (as GPT-2's) trained with Hugging Face ``tokenizers`` (``pip install nerve[text]``).

    Byte-level means every string can be encoded (no ``<unk>``) and ``decode(encode(s)) == s``.
    The special tokens get ids 0-3 as everywhere in :mod:`nerve.text`.

    Example:
        >>> bpe = BPETokenizer.train(texts, vocab_size=1000)
        >>> ids = bpe.encode("hello world"); bpe.decode(ids)
        'hello world'
    """

    pad_id, unk_id, bos_id, eos_id = Vocab.pad_id, Vocab.unk_id, Vocab.bos_id, Vocab.eos_id

    def __init__(self, tokenizer=None):
        _require_tokenizers()
        self._tok = tokenizer

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 1000, min_frequency: int = 2,
              special_tokens: Iterable[str] = SPECIAL_TOKENS) -> BPETokenizer:
        """Learn merges from ``texts`` until the vocabulary (256 bytes + specials + merges) has ``vocab_size``.

        Args:
            texts: an iterable of strings (a list, or a generator for corpora that do not fit in memory).
            vocab_size: the target vocabulary size.
            min_frequency: a pair must occur this often to be merged.
            special_tokens: tokens never split; the first four must be ``<pad> <unk> <bos> <eos>`` (ids 0-3),
                more may follow.
        """
        tk = _require_tokenizers()
        specials = list(special_tokens)
        if specials[:len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS):
            specials = list(SPECIAL_TOKENS) + [s for s in specials if s not in SPECIAL_TOKENS]
        if isinstance(texts, str):
            texts = [texts]
        tok = tk.Tokenizer(tk.models.BPE(unk_token=SPECIAL_TOKENS[1]))
        tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(vocab_size=int(vocab_size), min_frequency=int(min_frequency),
                                         special_tokens=specials, show_progress=False,
                                         initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    def _check(self, what):
        if self._tok is None:
            raise RuntimeError(f"BPETokenizer.{what}: the tokenizer is not trained; use BPETokenizer.train(...) or "
                               "BPETokenizer.load(path)")

    @property
    def vocab_size(self) -> int:
        self._check("vocab_size")
        return self._tok.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        self._check("encode")
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode expects a str, got {type(text).__name__}")
        ids = self._tok.encode(text, add_special_tokens=False).ids
        return ([BOS_ID] if add_bos else []) + ids + ([EOS_ID] if add_eos else [])

    def encode_batch(self, texts, **kwargs) -> list[list[int]]:
        return [self.encode(t, **kwargs) for t in texts]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        self._check("decode")
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)

    def token_to_id(self, token: str):
        self._check("token_to_id")
        return self._tok.token_to_id(token)

    def id_to_token(self, idx: int):
        self._check("id_to_token")
        return self._tok.id_to_token(int(idx))

    def save(self, path) -> None:
        """Write the tokenizer as ``tokenizers``' JSON format, atomically (temp file, fsync, rename)."""
        import json
        self._check("save")
        write_json_atomic(path, {"type": "BPETokenizer", "version": 1, "tokenizer": json.loads(self._tok.to_str())})

    @classmethod
    def load(cls, path) -> BPETokenizer:
        """Read a tokenizer written by :meth:`save` (or a plain ``tokenizer.json`` of ``tokenizers``)."""
        import json
        tk = _require_tokenizers()
        d = read_json(path, "BPETokenizer")
        inner = d["tokenizer"] if d.get("type") == "BPETokenizer" else d
        try:
            return cls(tk.Tokenizer.from_str(json.dumps(inner)))
        except Exception as e:  # noqa: BLE001 - the library raises a bare Exception for malformed files
            raise ValueError(f"BPETokenizer.load: {os.fspath(path)} is not a valid tokenizer file ({e})") from None

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size if self._tok is not None else None})"


_TYPES = {"CharTokenizer": CharTokenizer, "WordTokenizer": WordTokenizer, "BPETokenizer": BPETokenizer}


def load_tokenizer(path):
    """Load any tokenizer of this module saved with ``save(path)``, picking the class from the file."""
    d = read_json(path, "load_tokenizer")
    kind = d.get("type")
    if kind not in _TYPES:
        raise ValueError(f"load_tokenizer: {os.fspath(path)} holds type {kind!r}; expected one of {sorted(_TYPES)}")
    return _TYPES[kind].load(path)
