"""``Vocab``: a token <-> id table with fixed special tokens, and atomic JSON files.

Special tokens always come first, with fixed ids (the same in every ``Vocab`` and tokenizer of this
package, so padding and masks need no lookup):

====== === =========================================
token  id  use
====== === =========================================
<pad>  0   padding (``pad_batch``'s default value)
<unk>  1   tokens not in the vocabulary
<bos>  2   beginning of sequence
<eos>  3   end of sequence
====== === =========================================
"""
from __future__ import annotations

import collections
import json
import os
import tempfile
from collections.abc import Iterable

__all__ = ["BOS", "BOS_ID", "EOS", "EOS_ID", "PAD", "PAD_ID", "SPECIAL_TOKENS", "UNK", "UNK_ID", "Vocab"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3

_FORMAT_VERSION = 1


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as JSON to ``path``: temp file beside it, flush + fsync, then rename into place.

    A crash never leaves a half-written file under ``path``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path, what: str) -> dict:
    """Read a JSON object written by :func:`write_json_atomic` (plain JSON: loading never runs code)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what}.load: no file at {path}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{what}.load: {path} is not valid JSON ({e}); was it written by {what}.save?") from None
    if not isinstance(obj, dict):  # a malformed file: ValueError, like json's own errors
        raise ValueError(  # noqa: TRY004
            f"{what}.load: {path} holds a JSON {type(obj).__name__}, expected an object written by {what}.save")
    return obj


class Vocab:
    """A vocabulary: tokens <-> ids, with ``<pad>`` ``<unk>`` ``<bos>`` ``<eos>`` at ids 0-3.

    Build one with :meth:`build` (from token lists) or from a list of tokens. Other tokens follow the
    specials by decreasing frequency, ties in alphabetical order, so a vocabulary built from the same
    data is always the same. Unknown tokens map to ``<unk>`` (id 1).

    Args:
        tokens: the non-special tokens in id order (duplicates and special tokens are dropped).
        counts: optional frequency of each of ``tokens`` (kept in :attr:`counts`, e.g. for word2vec's
            noise distribution).

    Attributes:
        itos: list of tokens, index = id.  stoi: dict token -> id.
        counts: list of frequencies aligned with ``itos`` (0 for the specials and unknown counts).

    Example:
        >>> v = Vocab.build([["a", "b", "a"], ["c", "a"]], min_freq=1)
        >>> v.itos
        ['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'b', 'c']
        >>> v.lookup(["a", "zzz"])
        [4, 1]
    """

    pad_id, unk_id, bos_id, eos_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID
    pad_token, unk_token, bos_token, eos_token = PAD, UNK, BOS, EOS
    specials = SPECIAL_TOKENS

    def __init__(self, tokens: Iterable[str] = (), counts: Iterable[int] | None = None):
        tokens = list(tokens)
        cnts = [0] * len(tokens) if counts is None else [int(c) for c in counts]
        if len(cnts) != len(tokens):
            raise ValueError(f"Vocab: {len(tokens)} tokens but {len(cnts)} counts; give one count per token")
        self.itos: list[str] = list(SPECIAL_TOKENS)
        self.counts: list[int] = [0] * len(SPECIAL_TOKENS)
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(SPECIAL_TOKENS)}
        for tok, c in zip(tokens, cnts):
            if not isinstance(tok, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(tok).__name__} ({tok!r})")
            if tok in self.stoi:
                continue
            self.stoi[tok] = len(self.itos)
            self.itos.append(tok)
            self.counts.append(c)

    @classmethod
    def build(cls, token_lists: Iterable[Iterable[str]], min_freq: int = 1, max_size: int | None = None) -> Vocab:
        """A vocabulary of the tokens in ``token_lists`` seen at least ``min_freq`` times.

        Args:
            token_lists: an iterable of token sequences (e.g. tokenized sentences); a plain string counts
                as a sequence of characters.
            min_freq: drop tokens rarer than this.
            max_size: keep at most this many non-special tokens (the most frequent); the vocabulary then
                has ``max_size + 4`` entries, as in torchtext's legacy ``Vocab``.
        """
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"Vocab.build: max_size must be >= 0 or None, got {max_size}")
        counter = collections.Counter()
        for toks in token_lists:
            counter.update(toks)
        for s in SPECIAL_TOKENS:
            counter.pop(s, None)
        items = sorted(((t, c) for t, c in counter.items() if c >= min_freq), key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            items = items[:max_size]
        return cls([t for t, _ in items], [c for _, c in items])

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token`` (``<unk>``'s id for unknown tokens), like torchtext's ``Vocab``."""
        return self.stoi.get(token, UNK_ID)

    def __iter__(self):
        return iter(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={list(SPECIAL_TOKENS)})"

    def lookup(self, tokens):
        """Id(s) of a token or a list of tokens; unknown tokens give ``<unk>``'s id (1)."""
        if isinstance(tokens, str):
            return self.stoi.get(tokens, UNK_ID)
        get = self.stoi.get
        return [get(t, UNK_ID) for t in tokens]

    def lookup_tokens(self, ids) -> list[str]:
        """Tokens of a list of ids (raises IndexError naming the id for ids outside the vocabulary)."""
        n = len(self.itos)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise IndexError(f"Vocab.lookup_tokens: id {i} is out of range for a vocabulary of {n} tokens")
            out.append(self.itos[i])
        return out

    def is_special(self, idx: int) -> bool:
        return 0 <= int(idx) < len(SPECIAL_TOKENS)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        return {"type": "Vocab", "version": _FORMAT_VERSION, "specials": list(SPECIAL_TOKENS),
                "itos": self.itos, "counts": self.counts}

    @classmethod
    def from_dict(cls, d: dict, where: str = "Vocab") -> Vocab:
        itos = d.get("itos")
        if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
            raise ValueError(f"{where}: 'itos' must be a list of strings")
        if list(itos[:len(SPECIAL_TOKENS)]) != list(SPECIAL_TOKENS):
            raise ValueError(f"{where}: the file's first tokens are {itos[:len(SPECIAL_TOKENS)]}, expected the "
                             f"special tokens {list(SPECIAL_TOKENS)}")
        if len(set(itos)) != len(itos):
            raise ValueError(f"{where}: 'itos' has duplicate tokens")
        counts = d.get("counts")
        n = len(SPECIAL_TOKENS)
        return cls(itos[n:], None if counts is None else counts[n:])

    def save(self, path) -> None:
        """Write the vocabulary as JSON (atomically: temp file, fsync, rename)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path) -> Vocab:
        """Read a vocabulary written by :meth:`save` (plain JSON; nothing is executed)."""
        return cls.from_dict(read_json(path, "Vocab"), where=f"Vocab.load({os.fspath(path)!r})")
