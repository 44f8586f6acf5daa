"""Text datasets: Debian's ``fortunes`` corpus and character language-modelling windows.

``Fortunes`` reads the plain-text fortune files of the ``fortunes`` package
(``apt-get install fortunes``: about 15,000 quips, quotes and poems in 40-odd topic files under
``/usr/share/games/fortunes``). Each topic file holds fortunes separated by lines holding only
``%``; the ``.dat`` index files, ``.u8`` copies and the ``off/`` (offensive) folder are skipped.
Point ``root=`` at a folder of your own files in the same format to use other text.

Folders searched when ``root`` is None: ``$NERVE_DATA/fortunes``, then ``/usr/share/games/fortunes``,
``/usr/share/games/fortune`` and ``/usr/share/fortune`` (the Debian, Fedora and Arch locations).

Example:
    >>> train = Fortunes(split="train", max_len=300)
    >>> text, topic = train[0]; train.topics[topic]
    >>> train_text, val_text = fortunes_text_split(val_fraction=0.1)
    >>> tok = CharTokenizer.from_texts([train_text])
    >>> ds = CharLMDataset(train_text, tok, seq_len=128)      # (input, target) windows
"""
from __future__ import annotations

import hashlib
import os

import numpy as np

from ..autograd.tensor import Tensor, wrap
from ..utils.data.dataset import Dataset, _index_array

__all__ = ["FORTUNES_DIRS", "CharLMDataset", "Fortunes", "fortunes_text_split", "read_fortune_file"]

FORTUNES_DIRS = ("/usr/share/games/fortunes", "/usr/share/games/fortune", "/usr/share/fortune")
_SKIP_SUFFIXES = (".dat", ".u8", ".pos", ".gz", ".bak", ".swp")
_SPLITS = ("train", "val", "test", "all")


def _strip_overstrike(text: str) -> str:
    """What a terminal shows: each backspace erases the character before it (``___\b\b\bBODY`` -> ``BODY``)."""
    if "\x08" not in text:
        return text
    out = []
    for ch in text:
        if ch == "\x08":
            if out and out[-1] != "\n":
                out.pop()
        else:
            out.append(ch)
    return "".join(out)


def read_fortune_file(path, clean: bool = True) -> list[str]:
    """The fortunes of one file: blocks separated by lines holding only ``%``, stripped, empty ones dropped.

    With ``clean``, the overstrike sequences of old fortunes (``_\\bw`` for an underlined ``w``) are
    reduced to the printed character and trailing spaces on each line are removed.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # some user files are Latin-1
        text = raw.decode("latin-1")
    text = text.replace("\r\n", "\n")
    out, block = [], []
    for line in text.split("\n"):
        if line.rstrip() == "%":
            out.append("\n".join(block))
            block = []
        else:
            block.append(line)
    out.append("\n".join(block))
    res = []
    for f_ in out:
        if clean:
            f_ = _strip_overstrike(f_)
            f_ = "\n".join(ln.rstrip() for ln in f_.split("\n"))
        f_ = f_.strip("\n")
        if f_.strip():
            res.append(f_)
    return res


def _is_topic_file(folder, name) -> bool:
    if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
        return False
    ext = os.path.splitext(name)[1]
    if ext not in ("", ".txt"):
        return False
    return os.path.isfile(os.path.join(folder, name))


def _topic_names(folder) -> list[str]:
    return sorted(os.path.splitext(n)[0] for n in os.listdir(folder) if _is_topic_file(folder, n))


def _split_of(seed: int, topic: str, text: str, fractions) -> int:
    """0/1/2 (train/val/test) from a hash of (seed, topic, text): a fortune's split never depends on which
    other fortunes are loaded, so changing ``topics`` or length limits cannot leak test text into training."""
    h = hashlib.blake2b(f"{seed}\x00{topic}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    u = int.from_bytes(h, "little") / 2.0 ** 64
    if u < fractions[0]:
        return 0
    if u < fractions[0] + fractions[1]:
        return 1
    return 2


class Fortunes(Dataset):
    """Fortunes from Debian's ``fortunes`` package: items ``(text, topic_index)``.

    Args:
        root: a folder of fortune files (one topic per file, fortunes separated by ``%`` lines); None
            searches ``$NERVE_DATA/fortunes`` and the system folders (see the module docstring).
        split: ``"train"``, ``"val"``, ``"test"`` or ``"all"``.
        split_fractions: fractions of (train, val, test); each fortune's split is fixed by a hash of
            ``(seed, topic, text)``, so the split is deterministic and independent of the other options
            (the sizes are close to, not exactly, these fractions).
        seed: changes the split.
        topics: names of the topics to load (default all); unknown names raise ValueError listing the
            available ones.
        min_len, max_len: keep fortunes with ``min_len <= len(text) <= max_len`` characters.
        clean: drop overstrike sequences and trailing spaces (see :func:`read_fortune_file`).
        transform: applied to each text (e.g. a tokenizer's ``encode``).
        target_transform: applied to each topic index.

    Attributes:
        topics: topic names (sorted); a target ``t`` is ``topics[t]``.  texts: the fortunes.
        targets: their topic indices.  root: the folder read.
    """

    def __init__(self, root=None, split: str = "train", split_fractions=(0.8, 0.1, 0.1), seed: int = 0,
                 topics=None, min_len: int = 0, max_len: int | None = None, clean: bool = True,
                 transform=None, target_transform=None):
        if split not in _SPLITS:
            raise ValueError(f"Fortunes: split must be one of {_SPLITS}, got {split!r}")
        fr = tuple(float(x) for x in split_fractions)
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-6:
            raise ValueError(f"Fortunes: split_fractions must be three non-negative numbers summing to 1 "
                             f"(train, val, test), got {split_fractions}")
        self.root = self._find_root(root)
        self.split, self.split_fractions, self.seed = split, fr, int(seed)
        self.min_len, self.max_len = int(min_len), max_len
        self.transform, self.target_transform = transform, target_transform
        available = _topic_names(self.root)
        if not available:
            raise RuntimeError(f"Fortunes: {self.root} holds no fortune files (plain files without an extension, "
                               "fortunes separated by lines holding only '%')")
        if topics is None:
            chosen = available
        else:
            chosen = [topics] if isinstance(topics, str) else list(topics)
            bad = [t for t in chosen if t not in available]
            if bad:
                raise ValueError(f"Fortunes: unknown topic(s) {bad} in {self.root}; available: {available}")
            chosen = sorted(set(chosen))
        self.topics: list[str] = chosen
        want = None if split == "all" else _SPLITS.index(split)
        texts, targets = [], []
        for ti, topic in enumerate(chosen):
            path = os.path.join(self.root, topic)
            if not os.path.isfile(path):
                path += ".txt"
            for text in read_fortune_file(path, clean=clean):
                n = len(text)
                if n < self.min_len or (max_len is not None and n > max_len):
                    continue
                if want is not None and _split_of(self.seed, topic, text, fr) != want:
                    continue
                texts.append(text)
                targets.append(ti)
        self.texts: list[str] = texts
        self.targets: list[int] = targets

    @staticmethod
    def _search_dirs(root):
        if root is not None:
            return [os.path.expanduser(os.fspath(root))]
        dirs = []
        env = os.environ.get("NERVE_DATA")
        if env:
            dirs.append(os.path.join(os.path.expanduser(env), "fortunes"))
        return dirs + list(FORTUNES_DIRS)

    @classmethod
    def _find_root(cls, root):
        dirs = cls._search_dirs(root)
        for d in dirs:
            if os.path.isdir(d):
                return d
        looked = "\n".join(f"  - {d} (does not exist)" for d in dirs)
        hint = ("pass root= a folder of fortune files (fortunes separated by lines holding only '%')" if root is not None
                else "on Debian/Ubuntu: apt-get install fortunes (installs /usr/share/games/fortunes), or pass "
                     "root= a folder of your own fortune files, or set NERVE_DATA to a folder with a fortunes/ "
                     "subfolder")
        raise RuntimeError(f"Dataset not found: Fortunes. Looked in:\n{looked}\nTo get the data: {hint}")

    @property
    def class_to_idx(self) -> dict:
        return {t: i for i, t in enumerate(self.topics)}

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index):
        n = len(self.texts)
        i = int(index)
        if not -n <= i < n:
            raise IndexError(f"Fortunes: index {i} is out of range for a dataset of {n} fortunes")
        text, target = self.texts[i], self.targets[i]
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return text, target

    def text(self, separator: str = "\n\n") -> str:
        """All fortunes of this dataset joined by ``separator`` (for language modelling)."""
        return separator.join(self.texts)

    def __repr__(self) -> str:
        return (f"Dataset Fortunes\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n"
                f"    Split: {self.split}\n    Topics: {len(self.topics)}")


def fortunes_text_split(root=None, val_fraction: float = 0.1, seed: int = 0, separator: str = "\n\n",
                        **kwargs) -> tuple[str, str]:
    """``(train_text, val_text)``: the fortunes corpus split by fortune (never inside one), joined.

    A fortune is in the validation text with probability ``val_fraction`` (fixed per fortune by
    ``seed``, see :class:`Fortunes`). ``kwargs`` go to :class:`Fortunes` (``topics``, ``min_len``,
    ``max_len``, ``clean``).
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"fortunes_text_split: val_fraction must be in [0, 1], got {val_fraction}")
    fr = (1.0 - val_fraction, val_fraction, 0.0)
    train = Fortunes(root, split="train", split_fractions=fr, seed=seed, **kwargs)
    val = Fortunes(root, split="val", split_fractions=fr, seed=seed, **kwargs)
    return train.text(separator), val.text(separator)


class CharLMDataset(Dataset):
    """Windows of a token stream for (character) language modelling: items ``(input, target)``.

    ``input = ids[s : s + seq_len]`` and ``target = ids[s + 1 : s + seq_len + 1]`` (the next token at
    each position), both LongTensors of shape ``(seq_len,)``, with ``s = i * stride``.

    Args:
        text: a string (encoded with ``tokenizer``) or a sequence / array / tensor of token ids.
        tokenizer: anything with ``encode(str) -> list[int]``; needed when ``text`` is a string.
        seq_len: window length.
        stride: step between window starts (default ``seq_len``: non-overlapping windows).

    Example:
        >>> ds = CharLMDataset("hello world", CharTokenizer.from_texts(["hello world"]), seq_len=4)
        >>> x, y = ds[0]      # ids of "hell", ids of "ello"
    """

    def __init__(self, text, tokenizer=None, seq_len: int = 128, stride: int | None = None):
        if isinstance(text, str):
            if tokenizer is None:
                raise ValueError("CharLMDataset: a string text needs a tokenizer (e.g. CharTokenizer.from_texts"
                                 "([text])); or pass the token ids")
            ids = np.asarray(tokenizer.encode(text), dtype=np.int64)
        elif isinstance(text, Tensor):
            ids = text.numpy(force=True).astype(np.int64).reshape(-1)
        else:
            ids = np.asarray(text, dtype=np.int64).reshape(-1)
        if seq_len < 1:
            raise ValueError(f"CharLMDataset: seq_len must be >= 1, got {seq_len}")
        stride = seq_len if stride is None else int(stride)
        if stride < 1:
            raise ValueError(f"CharLMDataset: stride must be >= 1, got {stride}")
        self.ids, self.seq_len, self.stride, self.tokenizer = ids, int(seq_len), stride, tokenizer
        n = ids.size - self.seq_len  # the last window needs seq_len + 1 tokens
        self._n = 0 if n < 1 else (n - 1) // stride + 1

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        n = self._n
        i = int(index)
        if not -n <= i < n:
            raise IndexError(f"CharLMDataset: index {i} is out of range for {n} windows of length {self.seq_len} "
                             f"(text of {self.ids.size} tokens)")
        s = (i % n) * self.stride
        chunk = self.ids[s:s + self.seq_len + 1]
        return wrap(chunk[:-1].copy()), wrap(chunk[1:].copy())

    def __getbatch__(self, indices):
        """The batch ``[inputs (B, seq_len), targets (B, seq_len)]`` in one gather."""
        idx = _index_array(indices, self._n, "CharLMDataset")
        starts = (idx % max(self._n, 1)) * self.stride
        win = self.ids[starts[:, None] + np.arange(self.seq_len + 1)[None, :]]
        return [wrap(np.ascontiguousarray(win[:, :-1])), wrap(np.ascontiguousarray(win[:, 1:]))]
