"""Small deterministic sequence-to-sequence tasks at the character level, for testing encoder-decoder
models without downloading a corpus:

* :class:`NumberWordsDataset`: English number words to digits,
  ``"three hundred and forty-two thousand one hundred and five"`` -> ``"342105"``;
* :class:`DateFormatDataset`: dates written in various English styles to ISO 8601,
  ``"Nov 21, 2026"`` / ``"saturday, november 21, 2026"`` -> ``"2026-11-21"``.

Samples are ``(source, target)`` strings drawn once from ``seed``; ``split='train' | 'val' | 'test'`` (or
:meth:`~Seq2SeqDataset.split`) gives disjoint parts of that sample (no source or target string is in two
parts). The vocabularies are plain dicts, character -> id, with the special ids of ``nerve.text.Vocab``:
``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3; they depend only on the task, not on the sample.

Example:
    >>> train, val, test = NumberWordsDataset(20000, seed=0).split()
    >>> train[0]
    ('seven hundred and forty-nine thousand two hundred and twelve', '749212')
    >>> src, tgt = train.encode_pair(*train[0])     # int64 (source_len,), (target_len,) = <bos> ... <eos> <pad>...
    >>> loader = DataLoader(train, batch_size=64, shuffle=True, collate_fn=train.collate)
    >>> for src, tgt in loader: ...                 # int64 tensors (B, S), (B, T), padded with 0
    >>> exact_match(train.decode_target(pred_ids), targets)
"""
from __future__ import annotations

import copy
import datetime as _dt
import numbers
import string

import numpy as np

from ..autograd.tensor import Tensor, wrap
from ..utils.data.dataset import Dataset, _index_array

__all__ = [
    "PAD_ID", "UNK_ID", "BOS_ID", "EOS_ID", "SPECIAL_TOKENS", "char_vocab", "number_to_words", "words_to_number",
    "DATE_FORMATS", "format_date", "Seq2SeqDataset", "NumberWordsDataset", "DateFormatDataset", "exact_match",
]

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")


def char_vocab(chars) -> dict:
    """A character vocabulary ``{'<pad>': 0, '<unk>': 1, '<bos>': 2, '<eos>': 3, c1: 4, ...}`` over the
    distinct characters of ``chars``, sorted (so the ids do not depend on the order they were met)."""
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for c in sorted(set(chars)):
        vocab[c] = len(vocab)
    return vocab


# --------------------------------------------------------------------------------------------- numbers

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", "thousand", "million", "billion", "trillion")


def _below_100(n: int) -> str:
    if n < 20:
        return _ONES[n]
    return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")


def _below_1000(n: int, use_and: bool) -> str:
    h, rest = divmod(n, 100)
    words = []
    if h:
        words.append(_ONES[h] + " hundred")
    if rest:
        words.append(("and " if h and use_and else "") + _below_100(rest))
    return " ".join(words)


def number_to_words(n: int, *, use_and: bool = True) -> str:
    """An integer in ``[0, 10**15)`` in English words, British style: ``"and"`` before the tens and units
    (``101`` -> ``"one hundred and one"``, ``1001`` -> ``"one thousand and one"``), hyphens inside 21-99
    (``"forty-two"``), no commas. ``use_and=False`` gives the American style (``"one hundred one"``).

    Example:
        >>> number_to_words(342105)
        'three hundred and forty-two thousand one hundred and five'
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"number_to_words: expected an int, got {type(n).__name__}")
    n = int(n)
    if not 0 <= n < 1000 ** len(_SCALES):
        raise ValueError(f"number_to_words: {n} is out of range [0, {1000 ** len(_SCALES) - 1}]")
    if n == 0:
        return "zero"
    groups = []
    rest = n
    while rest:
        rest, g = divmod(rest, 1000)
        groups.append(g)
    words = []
    for k in range(len(groups) - 1, -1, -1):
        g = groups[k]
        if not g:
            continue
        w = _below_1000(g, use_and)
        if k == 0 and g < 100 and n >= 1000 and use_and:
            w = "and " + w
        words.append(w + (" " + _SCALES[k] if k else ""))
    return " ".join(words)


_WORD_VALUES = {w: i for i, w in enumerate(_ONES)}
_WORD_VALUES.update({w: 10 * i for i, w in enumerate(_TENS) if i >= 2})


def words_to_number(text: str) -> int:
    """The inverse of :func:`number_to_words` (``"and"`` optional; case and extra spaces ignored).

    Raises:
        ValueError: a word that is not a number word.
    """
    total = current = 0
    tokens = text.lower().replace("-", " ").split()
    if not tokens:
        raise ValueError("words_to_number: empty text")
    for tok in tokens:
        if tok == "and":
            continue
        if tok in _WORD_VALUES:
            current += _WORD_VALUES[tok]
        elif tok == "hundred":
            current *= 100
        elif tok in _SCALES[1:]:
            total += current * 1000 ** _SCALES.index(tok)
            current = 0
        else:
            raise ValueError(f"words_to_number: {tok!r} in {text!r} is not a number word")
    return total + current


# --------------------------------------------------------------------------------------------- dates

_MONTHS = ("January February March April May June July August September October November December").split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

#: The source styles of :class:`DateFormatDataset`: ``(pattern, case)``. Pattern fields: ``{d}`` the day
#: (no leading zero), ``{dd}`` the day with two digits, ``{B}`` / ``{b}`` the month's name / first three
#: letters, ``{A}`` / ``{a}`` the weekday's name / first three letters, ``{Y}`` the year (four digits).
#: English names always (no locale). Each is unambiguous, and parses back with ``datetime.strptime``
#: (pattern with ``%d %B %b %A %a %Y``).
DATE_FORMATS = (
    ("{d} {B} {Y}", "title"),             # 21 November 2026
    ("{b} {d}, {Y}", "title"),            # Nov 21, 2026
    ("{A}, {B} {d}, {Y}", "lower"),       # saturday, november 21, 2026
    ("{B} {d}, {Y}", "title"),            # November 21, 2026
    ("{dd} {b} {Y}", "title"),            # 21 Nov 2026 / 01 Nov 2026
    ("{a}, {d} {b} {Y}", "title"),        # Sat, 21 Nov 2026
    ("{A} {d} {B} {Y}", "title"),         # Saturday 21 November 2026
    ("{B} {d} {Y}", "upper"),             # NOVEMBER 21 2026
    ("{d} {b} {Y}", "lower"),             # 21 nov 2026
)


def format_date(date, pattern: str = "{d} {B} {Y}", case: str = "title") -> str:
    """A date in words (see :data:`DATE_FORMATS` for the pattern fields); ``case``: ``'title'``, ``'lower'``
    or ``'upper'``.

    Example:
        >>> format_date(datetime.date(2026, 11, 21), "{A}, {B} {d}, {Y}", "lower")
        'saturday, november 21, 2026'
    """
    if isinstance(date, str):
        date = _dt.date.fromisoformat(date)
    month, weekday = _MONTHS[date.month - 1], _WEEKDAYS[date.weekday()]
    text = pattern.format(d=date.day, dd=f"{date.day:02d}", B=month, b=month[:3], A=weekday, a=weekday[:3],
                          Y=f"{date.year:04d}")
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case != "title":
        raise ValueError(f"format_date: case must be 'title', 'lower' or 'upper', got {case!r}")
    return text


# --------------------------------------------------------------------------------------------- datasets

def _as_ids(ids) -> np.ndarray:
    if isinstance(ids, Tensor):
        return ids.numpy(force=True)
    return np.asarray(ids)


class Seq2SeqDataset(Dataset):
    """Pairs of strings ``(source, target)`` with character vocabularies; the base of the tasks below.

    Sample ``i`` is the pair of strings; encode batches with :meth:`collate` (a DataLoader ``collate_fn``),
    or single pairs with :meth:`encode_pair`. Targets get ``<bos>`` in front and ``<eos>`` behind; sources
    get neither. Padding is ``PAD_ID = 0`` on the right.

    Attributes:
        pairs: the list of ``(source, target)`` of this part; ``sources``, ``targets``.
        source_vocab, target_vocab: dicts character -> id (special tokens first: pad 0, unk 1, bos 2, eos 3);
            ``source_itos``, ``target_itos`` the lists id -> token.
        source_len, target_len: the padded lengths of :meth:`encode_pair` and :attr:`tensors`: the longest
            source, and the longest target plus 2, over the whole sample (all parts), so every part encodes
            to the same shapes.
        part: ``'train'``, ``'val'``, ``'test'`` or ``'all'``.
    """

    def __init__(self, pairs, source_vocab: dict, target_vocab: dict, *, part: str = "all", source_len=None,
                 target_len=None):
        self.pairs = [(str(s), str(t)) for s, t in pairs]
        self.source_vocab = dict(source_vocab)
        self.target_vocab = dict(target_vocab)
        self.source_itos = _itos(self.source_vocab)
        self.target_itos = _itos(self.target_vocab)
        self.part = part
        self.source_len = source_len if source_len is not None else max((len(s) for s, _ in self.pairs), default=0)
        self.target_len = target_len if target_len is not None else \
            max((len(t) for _, t in self.pairs), default=0) + 2
        self._parts = None

    # ---- samples
    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.item()
        i = int(_index_array([index], len(self.pairs), type(self).__name__)[0])
        return self.pairs[i]

    @property
    def sources(self) -> list:
        return [s for s, _ in self.pairs]

    @property
    def targets(self) -> list:
        return [t for _, t in self.pairs]

    # ---- splitting
    def _set_parts(self, n_val: int, n_test: int):
        n = len(self.pairs)
        a, b = n - n_val - n_test, n - n_test
        self._parts = {"train": (0, a), "val": (a, b), "test": (b, n)}

    def _keep_part(self, split, n_val: int, n_test: int):
        """Fix the parts of the whole sample; with ``split`` given, become that part."""
        self._set_parts(n_val, n_test)
        if split is not None:
            self.__dict__.update(self._subset(split).__dict__)

    def _subset(self, part: str):
        if part in (None, "all"):
            return self
        if self._parts is None or part not in self._parts:
            raise ValueError(f"{type(self).__name__}: split must be 'train', 'val', 'test' or None, got {part!r}")
        lo, hi = self._parts[part]
        out = copy.copy(self)
        out.pairs = self.pairs[lo:hi]
        out.part = part
        out._parts = None
        out._on_subset(lo, hi)
        return out

    def _on_subset(self, lo, hi):
        """Hook for subclasses holding per-sample arrays beside ``pairs``."""

    def split(self):
        """``(train, val, test)``: the disjoint parts of the whole sample (call on a dataset built with
        ``split=None``)."""
        if self._parts is None:
            raise ValueError(f"{type(self).__name__}: split() needs the whole sample (split=None); this dataset "
                             f"is the {self.part!r} part")
        return tuple(self._subset(p) for p in ("train", "val", "test"))

    # ---- encoding
    def encode_source(self, text, length=None) -> np.ndarray:
        """int64 ids of a source string (``(length,)``, default :attr:`source_len`) or of a list of them
        (``(N, length)``, default the longest), right-padded with PAD_ID; unknown characters give UNK_ID."""
        return _encode(text, self.source_vocab, length, self.source_len, False, "encode_source")

    def encode_target(self, text, length=None) -> np.ndarray:
        """Like :meth:`encode_source`, with ``<bos>`` first and ``<eos>`` after the last character."""
        return _encode(text, self.target_vocab, length, self.target_len, True, "encode_target")

    def encode_pair(self, source: str, target: str, source_len=None, target_len=None):
        """``(source_ids, target_ids)``: int64 arrays padded to :attr:`source_len` / :attr:`target_len` (or the
        lengths given); the target is ``<bos> t1 ... tn <eos> <pad> ...``."""
        return self.encode_source(source, source_len), self.encode_target(target, target_len)

    def collate(self, batch):
        """A DataLoader ``collate_fn``: a list of pairs as int64 tensors ``(B, S)``, ``(B, T)``, padded to the
        longest in the batch."""
        sources = [s for s, _ in batch]
        targets = [t for _, t in batch]
        return wrap(self.encode_source(sources)), wrap(self.encode_target(targets))

    @property
    def tensors(self) -> tuple:
        """The whole part encoded: int64 tensors ``(N, source_len)``, ``(N, target_len)``."""
        return (wrap(self.encode_source(self.sources, self.source_len)),
                wrap(self.encode_target(self.targets, self.target_len)))

    def decode_source(self, ids):
        """Ids back to a string (``(L,)``) or a list of strings (``(N, L)``); see :meth:`decode_target`."""
        return _decode(ids, self.source_itos)

    def decode_target(self, ids):
        """Ids (e.g. a model's argmax) back to a string (``(L,)``) or a list of strings (``(N, L)``): stops at
        the first ``<eos>``, skips ``<pad>`` and ``<bos>``; ``<unk>`` reads as U+FFFD."""
        return _decode(ids, self.target_itos)

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} pairs, part={self.part!r}, source vocab {len(self.source_vocab)}"
                f", target vocab {len(self.target_vocab)}, source_len={self.source_len}, "
                f"target_len={self.target_len})")


def _itos(vocab: dict) -> list:
    itos = [None] * len(vocab)
    for tok, i in vocab.items():
        if not 0 <= i < len(vocab) or itos[i] is not None:
            raise ValueError("Seq2SeqDataset: a vocabulary must map its tokens to the distinct ids 0..len-1")
        itos[i] = tok
    if tuple(itos[:4]) != SPECIAL_TOKENS:
        raise ValueError(f"Seq2SeqDataset: a vocabulary must start with {SPECIAL_TOKENS} (ids 0-3), got {itos[:4]}")
    return itos


def _encode(text, vocab, length, default_length, specials, where):
    single = isinstance(text, str)
    texts = [text] if single else list(text)
    if any(not isinstance(t, str) for t in texts):
        raise TypeError(f"{where}: expected a string or a list of strings")
    extra = 2 if specials else 0
    longest = max((len(t) for t in texts), default=0) + extra
    if length is None:
        length = default_length if single else longest
    if longest > length:
        raise ValueError(f"{where}: a string of {longest - extra} characters does not fit in length {length}"
                         f"{' (with <bos> and <eos>)' if specials else ''}; pass a larger length=")
    out = np.full((len(texts), length), PAD_ID, dtype=np.int64)
    for r, t in enumerate(texts):
        ids = [vocab.get(c, UNK_ID) for c in t]
        if specials:
            ids = [BOS_ID, *ids, EOS_ID]
        out[r, :len(ids)] = ids
    return out[0] if single else out


def _decode(ids, itos):
    arr = _as_ids(ids)
    if arr.ndim == 2:
        return [_decode(row, itos) for row in arr]
    if arr.ndim != 1:
        raise ValueError(f"decode: expected ids of shape (L,) or (N, L), got {tuple(arr.shape)}")
    chars = []
    for i in arr.tolist():
        if i == EOS_ID:
            break
        if i in (PAD_ID, BOS_ID):
            continue
        chars.append(itos[i] if 4 <= i < len(itos) else "\ufffd")
    return "".join(chars)


def _split_counts(n, val_fraction, test_fraction, where):
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(f, bool) or not isinstance(f, numbers.Real) or not 0 <= f < 1:
            raise ValueError(f"{where}: {name} must be a fraction in [0, 1), got {f!r}")
    n_val, n_test = int(round(n * val_fraction)), int(round(n * test_fraction))
    if n - n_val - n_test <= 0:
        raise ValueError(f"{where}: {n} pairs with val_fraction={val_fraction}, test_fraction={test_fraction} "
                         "leave no training pairs")
    return n_val, n_test


def _check_n(n, where):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{where}: n must be a positive int, got {n!r}")
    return int(n)


class NumberWordsDataset(Seq2SeqDataset):
    """English number words -> digits: ``("three hundred and forty-two thousand one hundred and five",
    "342105")``, for ``n`` distinct integers drawn uniformly from ``[0, max_value]`` with ``seed``.

    Spelling: :func:`number_to_words` (British ``"and"``, hyphens in 21-99). Source characters: lowercase
    letters, space and hyphen; target characters: the digits.

    Args:
        n: the number of pairs in the whole sample (at most ``max_value + 1``).
        max_value: the largest integer (default 999999).
        seed: the sample (the same seed always gives the same pairs, in the same order).
        split: None for the whole sample, or ``'train'`` / ``'val'`` / ``'test'``: the first
            ``1 - val_fraction - test_fraction`` of the sample, the next ``val_fraction``, the last
            ``test_fraction`` (each integer is in one part only).
        val_fraction, test_fraction: the parts' shares (rounded to whole pairs).

    Attributes:
        numbers: the integers of this part (int64), in sample order.
    """

    SOURCE_CHARS = string.ascii_lowercase + " -"
    TARGET_CHARS = string.digits

    def __init__(self, n: int = 10000, max_value: int = 999999, seed: int = 0, *, split=None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1, use_and: bool = True):
        where = "NumberWordsDataset"
        n = _check_n(n, where)
        if isinstance(max_value, bool) or not isinstance(max_value, numbers.Integral) or \
                not 0 <= max_value < 1000 ** len(_SCALES):
            raise ValueError(f"{where}: max_value must be an int in [0, 10**15), got {max_value!r}")
        if n > max_value + 1:
            raise ValueError(f"{where}: cannot draw n={n} distinct integers from [0, {max_value}]; lower n or raise "
                             "max_value")
        rng = np.random.default_rng(seed)
        self.numbers = rng.choice(int(max_value) + 1, size=n, replace=False).astype(np.int64)
        self.max_value = int(max_value)
        self.seed = seed
        pairs = [(number_to_words(int(v), use_and=use_and), str(int(v))) for v in self.numbers]
        super().__init__(pairs, char_vocab(self.SOURCE_CHARS), char_vocab(self.TARGET_CHARS))
        self._keep_part(split, *_split_counts(n, val_fraction, test_fraction, where))

    def _on_subset(self, lo, hi):
        self.numbers = self.numbers[lo:hi]


class DateFormatDataset(Seq2SeqDataset):
    """Dates in words -> ISO 8601: ``("21 November 2026", "2026-11-21")``, ``("Nov 21, 2026", ...)``,
    ``("saturday, november 21, 2026", ...)``: ``n`` distinct days drawn uniformly from ``[start, end]`` with
    ``seed``, each written in one style of :data:`DATE_FORMATS` drawn at random (weekdays are the true ones).

    Because every day occurs once, the parts share no source and no target string.

    Args:
        n: the number of pairs (at most the number of days in the range).
        seed: the sample.
        start, end: the range of days, inclusive (ISO strings or ``datetime.date``; default 1950-01-01 to
            2049-12-31).
        formats: a subset of :data:`DATE_FORMATS` (``(pattern, case)`` pairs) to draw from.
        split, val_fraction, test_fraction: as for :class:`NumberWordsDataset`.

    Attributes:
        dates: the ``datetime.date`` of each pair of this part; ``format_ids``: the index of each pair's style
            in ``formats``.
    """

    SOURCE_CHARS = string.ascii_letters + string.digits + " ,"
    TARGET_CHARS = string.digits + "-"

    def __init__(self, n: int = 10000, seed: int = 0, *, start="1950-01-01", end="2049-12-31", formats=None,
                 split=None, val_fraction: float = 0.1, test_fraction: float = 0.1):
        where = "DateFormatDataset"
        n = _check_n(n, where)
        start = _dt.date.fromisoformat(start) if isinstance(start, str) else start
        end = _dt.date.fromisoformat(end) if isinstance(end, str) else end
        days = (end - start).days + 1
        if days < 1:
            raise ValueError(f"{where}: end {end} is before start {start}")
        if n > days:
            raise ValueError(f"{where}: cannot draw n={n} distinct days from {start} to {end} ({days} days)")
        self.formats = tuple(DATE_FORMATS if formats is None else (tuple(f) for f in formats))
        if not self.formats:
            raise ValueError(f"{where}: formats is empty")
        rng = np.random.default_rng(seed)
        offsets = rng.choice(days, size=n, replace=False)
        self.format_ids = rng.integers(len(self.formats), size=n).astype(np.int64)
        self.dates = [start + _dt.timedelta(days=int(o)) for o in offsets]
        self.seed = seed
        pairs = [(format_date(d, *self.formats[f]), d.isoformat()) for d, f in zip(self.dates, self.format_ids)]
        super().__init__(pairs, char_vocab(self.SOURCE_CHARS), char_vocab(self.TARGET_CHARS))
        self._keep_part(split, *_split_counts(n, val_fraction, test_fraction, where))

    def _on_subset(self, lo, hi):
        self.dates = self.dates[lo:hi]
        self.format_ids = self.format_ids[lo:hi]


def exact_match(pred_strings, target_strings) -> float:
    """The fraction of predictions equal to their target, character for character (a Python float)."""
    if isinstance(pred_strings, str):
        pred_strings = [pred_strings]
    if isinstance(target_strings, str):
        target_strings = [target_strings]
    preds, targets = list(pred_strings), list(target_strings)
    if len(preds) != len(targets):
        raise ValueError(f"exact_match: {len(preds)} predictions for {len(targets)} targets")
    if not targets:
        raise ValueError("exact_match: no predictions")
    return sum(p == t for p, t in zip(preds, targets)) / len(targets)
